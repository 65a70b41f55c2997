//! Every WGSL file in shaders/ is parsed and validated by naga and translated to SPIR-V,
//! MSL, HLSL and GLSL for each entry point, so a change that would break Vulkan, Metal,
//! DX12 or GL fails here, on a machine that has none of them but one.

use std::path::PathBuf;

use naga::back::PipelineConstants;
use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};
use shatter_gpu::SHADERS;

fn shader_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shaders")
}

/// Kernels that use subgroup operations; the host runs them only on devices that have
/// them. Every other kernel must validate without.
const SUBGROUP_KERNELS: &[&str] = &[
    "conv2d_texels_shared",
    "gemm_subgroup",
    "gemm_subgroup_texels",
];

fn validate(name: &str, module: &naga::Module) -> ModuleInfo {
    let mut validator = if SUBGROUP_KERNELS.contains(&name) {
        let mut validator = Validator::new(ValidationFlags::all(), Capabilities::SUBGROUP);
        validator
            .subgroup_stages(naga::valid::ShaderStages::COMPUTE)
            .subgroup_operations(naga::valid::SubgroupOperationSet::all());
        validator
    } else {
        Validator::new(ValidationFlags::all(), Capabilities::empty())
    };
    validator
        .validate(module)
        .unwrap_or_else(|e| panic!("{name}: naga validation failed: {e:?}"))
}

fn translate(name: &str, module: &naga::Module, info: &ModuleInfo, constants: &PipelineConstants) {
    for entry in &module.entry_points {
        let stage = entry.stage;
        let ep = entry.name.clone();
        let what = format!("{name}::{ep} with {constants:?}");
        let (module, info) = naga::back::pipeline_constants::process_overrides(
            module,
            info,
            Some((stage, &ep)),
            constants,
        )
        .unwrap_or_else(|e| panic!("{what}: overrides: {e:?}"));

        let spv = naga::back::spv::write_vec(
            &module,
            &info,
            &naga::back::spv::Options::default(),
            Some(&naga::back::spv::PipelineOptions {
                shader_stage: stage,
                entry_point: ep.clone(),
            }),
        )
        .unwrap_or_else(|e| panic!("{what}: SPIR-V: {e:?}"));
        assert_eq!(spv[0], 0x0723_0203, "{what}: SPIR-V magic");

        let msl_pipeline = naga::back::msl::PipelineOptions {
            entry_point: Some((stage, ep.clone())),
            ..Default::default()
        };
        // MSL 1.2, the first with textures a kernel both reads and writes
        // (sgd_vec4_texel_state); every Mac wgpu runs on has a later one.
        let msl_options = naga::back::msl::Options {
            lang_version: (1, 2),
            ..Default::default()
        };
        let (msl, _) = naga::back::msl::write_string(&module, &info, &msl_options, &msl_pipeline)
            .unwrap_or_else(|e| panic!("{what}: MSL: {e:?}"));
        assert!(msl.contains("kernel void"), "{what}: MSL has no kernel");

        let mut hlsl = String::new();
        let hlsl_options = naga::back::hlsl::Options::default();
        let hlsl_pipeline = naga::back::hlsl::PipelineOptions {
            entry_point: Some((stage, ep.clone())),
        };
        naga::back::hlsl::Writer::new(&mut hlsl, &hlsl_options, &hlsl_pipeline)
            .write(&module, &info, None)
            .unwrap_or_else(|e| panic!("{what}: HLSL: {e:?}"));
        assert!(
            hlsl.contains("[numthreads("),
            "{what}: HLSL has no compute entry"
        );

        let mut glsl = String::new();
        let glsl_options = naga::back::glsl::Options {
            version: naga::back::glsl::Version::Embedded {
                version: 310,
                is_webgl: false,
            },
            ..Default::default()
        };
        let glsl_pipeline = naga::back::glsl::PipelineOptions {
            shader_stage: stage,
            entry_point: ep.clone(),
            multiview: None,
        };
        naga::back::glsl::Writer::new(
            &mut glsl,
            &module,
            &info,
            &glsl_options,
            &glsl_pipeline,
            naga::proc::BoundsCheckPolicies::default(),
        )
        .and_then(|mut w| w.write())
        .unwrap_or_else(|e| panic!("{what}: GLSL: {e:?}"));
        assert!(
            glsl.contains("layout(local_size_x"),
            "{what}: GLSL has no compute layout"
        );
    }
}

#[test]
fn every_shader_validates_and_translates_to_all_four_targets() {
    assert!(
        SHADERS.len() >= 9,
        "expected shatter's kernel modules, found {}",
        SHADERS.len()
    );
    for shader in SHADERS {
        let (name, source) = (shader.name, shader.source);
        let module = naga::front::wgsl::parse_str(source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        assert!(!module.entry_points.is_empty(), "{name}: no entry point");
        let info = validate(name, &module);
        translate(name, &module, &info, &PipelineConstants::default());
        // Every override flipped on as well: each specialization must translate too.
        let mut all_on = PipelineConstants::default();
        for (_, o) in module.overrides.iter() {
            if let Some(n) = &o.name {
                all_on.insert(n.clone(), 1.0);
            }
        }
        if !all_on.is_empty() {
            translate(name, &module, &info, &all_on);
        }
        // Integer overrides select among more than two paths (conv2d's MODE 0, 1, 2).
        let mut integers_at_two = all_on.clone();
        let mut any_integer = false;
        for (_, o) in module.overrides.iter() {
            let is_u32 = matches!(
                module.types[o.ty].inner,
                naga::TypeInner::Scalar(naga::Scalar::U32)
            );
            if let (true, Some(n)) = (is_u32, &o.name) {
                integers_at_two.insert(n.clone(), 2.0);
                any_integer = true;
            }
        }
        if any_integer {
            translate(name, &module, &info, &integers_at_two);
        }
    }
}

/// The WGSL files' names (without `.wgsl`) in `dir`, sorted.
fn wgsl_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wgsl"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// (kernels, fragments) written by people in shaders/, and the generated kernels in
/// shaders/generated/.
fn files_on_disk() -> (Vec<String>, Vec<String>, Vec<String>) {
    let (kernels, fragments) = wgsl_names(&shader_dir())
        .into_iter()
        .partition(|n| !n.starts_with('_'));
    (
        kernels,
        fragments,
        wgsl_names(&shader_dir().join("generated")),
    )
}

fn read(name: &str) -> String {
    let path = shader_dir().join(format!("{name}.wgsl"));
    let path = if path.exists() {
        path
    } else {
        shader_dir().join("generated").join(format!("{name}.wgsl"))
    };
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_embedded_shaders_are_the_folder_composed_as_listed() {
    let (kernels, fragments, generated) = files_on_disk();
    let listed = |generated: bool| -> Vec<String> {
        let mut names: Vec<String> = SHADERS
            .iter()
            .filter(|s| s.generated == generated)
            .map(|s| s.name.to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        listed(false),
        kernels,
        "crates/gpu/src/shaders.rs must list every kernel file in shaders/"
    );
    assert_eq!(
        listed(true),
        generated,
        "crates/gpu/src/shaders.rs must mark every file in shaders/generated/ `generated`"
    );
    for name in &generated {
        assert!(
            read(name).starts_with("// GENERATED by `cargo xtask gen-gemm`"),
            "shaders/generated/{name}.wgsl must say in its first line that it is generated"
        );
    }
    for fragment in &fragments {
        assert!(
            SHADERS
                .iter()
                .any(|s| s.fragments.contains(&fragment.as_str())),
            "{fragment}.wgsl is used by no kernel"
        );
    }
    for shader in SHADERS {
        let mut expected: String = shader.fragments.iter().map(|f| read(f)).collect();
        expected.push_str(&read(shader.name));
        assert_eq!(
            shader.source, expected,
            "{}: embedded source is stale",
            shader.name
        );
    }
}

/// The name `X` of a module's parameters, declared as `var<storage, read> X_buffer: T;`
/// with its private copy `var<private> X: T;` (see `BindingKind::Params`).
fn parameters_name(name: &str, source: &str) -> Option<String> {
    let declared = source
        .lines()
        .find(|line| line.starts_with("@group(0) @binding(0) var<storage, read> "))?;
    let buffer = declared.split_whitespace().nth(4)?.trim_end_matches(':');
    let copy = buffer.strip_suffix("_buffer")?;
    let private = format!("var<private> {copy}: ");
    assert!(
        source.contains(&private),
        "{name}: {buffer} has no private copy `{private}..`"
    );
    Some(copy.to_owned())
}

#[test]
fn kernels_read_parameters_from_storage_copied_once() {
    let mut with_parameters = 0;
    for shader in SHADERS {
        let (name, source) = (shader.name, shader.source);
        // lavapipe compiles a kernel again at each bind when it loops or branches on a
        // uniform, so no kernel has one.
        assert!(
            !source.contains("var<uniform>"),
            "{name}: declares a uniform buffer; kernel parameters are read-only storage"
        );
        let Some(copy) = parameters_name(name, source) else {
            continue;
        };
        with_parameters += 1;
        let first_line = format!("    {copy} = {copy}_buffer;");
        for (at, _) in source.match_indices("@compute") {
            let body = at + source[at..].find("{\n").unwrap() + 2;
            assert!(
                source[body..].starts_with(&first_line),
                "{name}: an entry point does not start with `{}`",
                first_line.trim()
            );
        }
    }
    assert!(
        with_parameters >= 20,
        "expected most kernels to take parameters, found {with_parameters}"
    );
}
