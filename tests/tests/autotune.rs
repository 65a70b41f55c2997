//! The autotune cache: shape keys, the choice rule, the file's reading, merging and
//! failure modes, and (on an adapter) that tuning fills it and later plans follow it.

use shatter::autotune::{TuneCache, adapter_key, pick};
use shatter_nn::{
    CONV_BLOCKS, ConvLoads, ConvPass, ConvPlan, ConvProblem, ConvVariant, GemmPlan, GemmShape,
    GemmVariant, KernelPlan, LayerSpec, MAX_GEMM_SPLITS, Network, NetworkShape, PRUNE_FACTOR,
    Padding, WindowGeometry, contenders, gemm_candidates, tiled_k_splits,
};
use shatter_tests::gpu;

fn shape(m: usize, n: usize, k: usize, trans_a: bool, trans_b: bool) -> GemmShape {
    GemmShape {
        m,
        n,
        k,
        trans_a,
        trans_b,
    }
}

#[test]
fn shape_keys_round_trip_and_reject_malformed_keys() {
    let cases = [
        (shape(128, 512, 2352, false, false), "128x512x2352"),
        (shape(2352, 512, 128, true, false), "2352x512x128-ta"),
        (shape(128, 2352, 512, false, true), "128x2352x512-tb"),
        (shape(4, 4, 4, true, true), "4x4x4-ta-tb"),
    ];
    for (s, key) in cases {
        assert_eq!(s.key(), key);
        assert_eq!(GemmShape::from_key(key), Some(s), "{key}");
    }
    for bad in [
        "",
        "128x512",
        "1x2x3x4",
        "axbxc",
        "1x2x3-tc",
        "1x2x3-",
        "1x2x3-tb-ta",
    ] {
        assert_eq!(GemmShape::from_key(bad), None, "{bad:?} must not parse");
    }
}

#[test]
fn variant_names_round_trip() {
    for variant in GemmVariant::all() {
        assert_eq!(GemmVariant::from_name(&variant.name()), Some(variant));
    }
    assert_eq!(
        GemmVariant::from_name("vec4"),
        Some(GemmVariant::default_vec4())
    );
    assert_eq!(GemmVariant::from_name("vec4-3x3"), None);
    assert_eq!(
        GemmVariant::from_name("subgroup-8x64"),
        Some(GemmVariant::Subgroup { rows: 8, cols: 64 })
    );
    assert_eq!(
        GemmVariant::from_name("subgroup-texels-4x32"),
        Some(GemmVariant::SubgroupTexels { rows: 4, cols: 32 })
    );
    assert_eq!(GemmVariant::from_name("subgroup-8x8"), None);
    assert_eq!(GemmVariant::from_name("subgroup-texels-8x8"), None);
}

/// CPU adapters run the subgroup GEMM (reading texel mirrors) untuned only where they
/// have 8-wide subgroups (lavapipe); elsewhere the texel tile, which needs nothing of the
/// device.
#[test]
fn the_untuned_gemm_suits_the_adapter() {
    let Some(gpu) = gpu() else { return };
    let named = std::env::var("SHATTER_GEMM")
        .ok()
        .and_then(|name| GemmVariant::from_name(&name));
    let expected = named.unwrap_or(match (gpu.is_cpu(), gpu.subgroup_width()) {
        (true, Some(8)) => GemmVariant::SubgroupTexels { rows: 4, cols: 32 },
        (true, _) => GemmVariant::Texels { rows: 8, cols: 8 },
        (false, _) => GemmVariant::Tiled,
    });
    assert_eq!(GemmVariant::for_adapter(gpu), expected);
}

#[test]
fn pick_keeps_the_default_unless_another_is_clearly_faster() {
    let default = GemmVariant::Vec4 { rows: 8, cols: 8 };
    let small = GemmVariant::Vec4 { rows: 16, cols: 16 };
    // 10% faster: within the margin, so the default stays.
    let close = [(GemmVariant::Register, 5.0), (default, 1.0), (small, 0.9)];
    assert_eq!(pick(&close, default), default);
    // 20% faster: it wins.
    let clear = [(GemmVariant::Register, 5.0), (default, 1.0), (small, 0.8)];
    assert_eq!(pick(&clear, small), small);
    assert_eq!(pick(&clear, default), small);
    // A default that does not run the shape is not there to keep.
    let without_default = [(GemmVariant::Register, 2.0), (GemmVariant::Tiled, 3.0)];
    assert_eq!(pick(&without_default, default), GemmVariant::Register);
}

#[test]
fn only_variants_near_the_fastest_first_round_are_timed_again() {
    let fastest = GemmVariant::Subgroup { rows: 8, cols: 64 };
    let near = GemmVariant::SubgroupTexels { rows: 4, cols: 32 };
    let at_the_limit = GemmVariant::Texels { rows: 16, cols: 16 };
    let behind = GemmVariant::Vec4 { rows: 8, cols: 8 };
    assert_eq!(PRUNE_FACTOR, 1.5);
    let first_round = [
        (GemmVariant::Register, 70.0),
        (behind, 12.5),
        (near, 9.0),
        (at_the_limit, 12.0),
        (GemmVariant::Tiled, 150.0),
        (fastest, 8.0),
    ];
    // In their order, the fastest included; 1.5x the fastest is still in, just past it out.
    assert_eq!(contenders(&first_round), vec![near, at_the_limit, fastest]);
    assert_eq!(
        contenders(&[(behind, 12.5)]),
        vec![behind],
        "a lone variant contends"
    );
    assert!(contenders::<GemmVariant>(&[]).is_empty());
}

#[test]
fn plans_use_their_choices_and_the_default_elsewhere() {
    let default = GemmVariant::Vec4 { rows: 16, cols: 16 };
    let tuned = shape(128, 512, 2352, false, false);
    let other = shape(64, 64, 64, true, false);
    let mut plan = GemmPlan::fixed(default);
    plan.choose(tuned, GemmVariant::Register);
    assert_eq!(plan.variant(tuned), GemmVariant::Register);
    assert_eq!(plan.variant(other), default);
    assert_eq!(plan.spec(other).variant, default);
    assert_eq!(
        plan.summary(&[tuned, other, tuned]),
        "register, vec4-16x16 (1 of 2 shapes tuned)"
    );
}

/// GPUs split K where the `tiled` kernel's 64x64 tiles of C are too few to fill the
/// device and K is long: the dense layers' forward products. Other shapes, fixed plans
/// and plans for CPU adapters never split.
#[test]
fn gpu_plans_split_long_k_products_and_other_plans_never_do() {
    let forward = shape(128, 512, 2352, false, false);
    let inception_dense = shape(128, 384, 3136, false, false);
    let weight_grad = shape(2352, 512, 128, true, false);
    let input_grad = shape(128, 2352, 512, false, true);
    let square = shape(4096, 4096, 4096, false, false);
    assert_eq!(tiled_k_splits(128, 512, 2352), 9, "16 tiles; K / 256 = 9");
    assert_eq!(tiled_k_splits(128, 384, 3136), 12, "12 tiles; K / 256 = 12");
    assert_eq!(tiled_k_splits(2352, 512, 128), 1, "K too short to split");
    assert_eq!(tiled_k_splits(128, 2352, 512), 2, "74 tiles; K / 256 = 2");
    assert_eq!(
        tiled_k_splits(4096, 4096, 4096),
        1,
        "4,096 tiles fill a GPU"
    );
    assert_eq!(tiled_k_splits(1, 1, 1_000_000), MAX_GEMM_SPLITS);

    let gpu_plan = GemmPlan::gpu_default();
    let split = |splits| GemmVariant::TiledSplit { splits };
    assert_eq!(gpu_plan.variant(forward), split(9));
    assert_eq!(gpu_plan.variant(inception_dense), split(12));
    assert_eq!(gpu_plan.variant(weight_grad), GemmVariant::Tiled);
    assert_eq!(gpu_plan.variant(input_grad), split(2));
    assert_eq!(gpu_plan.variant(square), GemmVariant::Tiled);
    let mut tuned = gpu_plan.clone();
    tuned.choose(forward, GemmVariant::Tiled);
    assert_eq!(
        tuned.variant(forward),
        GemmVariant::Tiled,
        "a tuned choice wins"
    );

    let fixed = GemmPlan::fixed(GemmVariant::Tiled);
    assert_eq!(fixed.variant(forward), GemmVariant::Tiled);

    let Some(gpu) = gpu() else { return };
    if gpu.is_cpu() {
        let plan = GemmPlan::for_adapter(gpu);
        for s in [forward, inception_dense, input_grad] {
            assert!(
                !matches!(plan.variant(s), GemmVariant::TiledSplit { .. }),
                "{}: a CPU adapter splits no product",
                s.key()
            );
            assert!(
                !gemm_candidates(gpu, s)
                    .iter()
                    .any(|v| matches!(v, GemmVariant::TiledSplit { .. })),
                "{}: a CPU adapter times no split product",
                s.key()
            );
        }
    }
}

#[test]
fn split_variant_names_round_trip_within_their_range() {
    let nine = GemmVariant::TiledSplit { splits: 9 };
    assert_eq!(nine.name(), "tiled-split-9");
    assert_eq!(GemmVariant::from_name("tiled-split-9"), Some(nine));
    assert_eq!(
        GemmVariant::from_name("tiled-split-64"),
        Some(GemmVariant::TiledSplit { splits: 64 })
    );
    for bad in [
        "tiled-split-1",
        "tiled-split-0",
        "tiled-split-65",
        "tiled-split-x",
        "tiled-split-",
    ] {
        assert_eq!(GemmVariant::from_name(bad), None, "{bad}");
    }
}

#[test]
fn a_missing_cache_is_empty_and_a_broken_one_is_ignored_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("autotune.json");
    let missing = TuneCache::load(&path);
    assert_eq!(missing.ignored, None);

    std::fs::write(&path, "{ not json").unwrap();
    let broken = TuneCache::load(&path);
    let reason = broken.ignored.expect("a malformed file is reported");
    assert!(
        reason.starts_with(&format!("{}: key must be a string", path.display())),
        "{reason}"
    );

    std::fs::write(&path, r#"{"format": 99, "adapters": {}}"#).unwrap();
    let other = TuneCache::load(&path);
    assert_eq!(
        other.ignored.as_deref(),
        Some(format!("{}: format 99 (this build reads 1)", path.display()).as_str())
    );
}

#[test]
fn saving_merges_with_entries_another_process_wrote_meanwhile() {
    let Some(gpu) = gpu() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("autotune.json");
    let mut cache = TuneCache::load(&path);
    // Another process saves an entry after this one loaded.
    let written = format!(
        r#"{{"format": 1, "adapters": {{"other adapter | vulkan | x | y": {{"8x8x8": "register"}},
            "{}": {{"4x4x4": "vec4-32x16", "8x8x8": "no-such-kernel"}}}}}}"#,
        adapter_key(gpu)
    );
    std::fs::write(&path, written).unwrap();
    let tiny = shape(4, 8, 4, false, false);
    let timed = cache.tune(gpu, &[tiny, tiny], |_| {}).unwrap();
    assert_eq!(timed.len(), 1, "a repeated shape is timed once");
    assert!(timed[0].timings.iter().all(|&(_, ms)| ms > 0.0));
    cache.save().unwrap();

    let reread = TuneCache::load(&path);
    assert_eq!(reread.ignored, None);
    let plan = reread.plan(gpu);
    assert_eq!(plan.gemm.variant(tiny), timed[0].best, "the new entry");
    assert_eq!(
        plan.gemm.variant(shape(4, 4, 4, false, false)),
        GemmVariant::Vec4 { rows: 32, cols: 16 },
        "the other process's entry"
    );
    assert_eq!(
        plan.gemm.variant(shape(8, 8, 8, false, false)),
        GemmVariant::for_adapter(gpu),
        "an unknown kernel name falls back to the default"
    );
    assert_eq!(plan.gemm.chosen_count(), 2);
    assert!(reread.missing(gpu, &[tiny]).is_empty());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("other adapter | vulkan | x | y"), "{text}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// The AlexNet's second convolution at batch 128 (5x5, 64 -> 64 channels on 14x14).
fn alexnet_conv2(pass: ConvPass) -> ConvProblem {
    ConvProblem {
        pass,
        geometry: WindowGeometry::new(128, [14, 14, 64], 64, 5, 1, Padding::Same),
    }
}

#[test]
fn conv_variant_names_round_trip_and_reject_malformed_names() {
    // The tiled kernel's block and workgroup are fixed: only its own name parses.
    let tiled = ConvVariant::tiled();
    assert_eq!(tiled.name(), "tiled-64x64-wg256");
    assert_eq!(ConvVariant::from_name("tiled-64x64-wg256"), Some(tiled));
    for bad in ["tiled-16x16-wg8", "tiled-64x64-wg64", "texels-64x64-wg256"] {
        assert_eq!(ConvVariant::from_name(bad), None, "{bad:?} must not parse");
    }
    assert!(tiled.other_blocks().is_empty());
    for loads in ConvLoads::ALL
        .into_iter()
        .filter(|&l| l != ConvLoads::Tiled)
    {
        for (block_rows, block_cols) in CONV_BLOCKS {
            for workgroup in [8, 32, 64, 256] {
                let variant = ConvVariant {
                    loads,
                    block_rows,
                    block_cols,
                    workgroup,
                };
                assert_eq!(ConvVariant::from_name(&variant.name()), Some(variant));
            }
        }
    }
    let padded = ConvVariant {
        loads: ConvLoads::PaddedTexels,
        block_rows: 16,
        block_cols: 8,
        workgroup: 8,
    };
    assert_eq!(padded.name(), "padded-texels-16x8-wg8");
    for bad in [
        "",
        "texels",
        "texels-16x8",
        "texels-12x8-wg8",
        "texels-16x4-wg8",
        "texels-16x32-wg8",
        "texels-16x16x8-wg8",
        "texels-16x8-wg0",
        "texels-16x8-wgx",
        "quads-16x8-wg8",
        "texels-16-wg8",
    ] {
        assert_eq!(ConvVariant::from_name(bad), None, "{bad:?} must not parse");
    }
}

#[test]
fn conv_keys_name_the_pass_and_geometry_and_are_no_gemm_shapes() {
    let forward = alexnet_conv2(ConvPass::Forward);
    assert_eq!(
        forward.key(),
        "conv-forward-128x14x14x64-5x5s1p2x2-14x14x64"
    );
    assert_eq!(
        alexnet_conv2(ConvPass::BackwardData).key(),
        "conv-data-128x14x14x64-5x5s1p2x2-14x14x64"
    );
    assert_eq!(
        alexnet_conv2(ConvPass::BackwardFilter).key(),
        "conv-filter-128x14x14x64-5x5s1p2x2-14x14x64"
    );
    let strided = ConvProblem {
        pass: ConvPass::Forward,
        geometry: WindowGeometry::new(8, [9, 7, 3], 16, 3, 2, Padding::Valid),
    };
    assert_eq!(strided.key(), "conv-forward-8x9x7x3-3x3s2p0x0-4x3x16");
    // SAME padding with no padding above or left of the image, and VALID: the same
    // input, window, stride and top-left padding, but another output size.
    let same = ConvProblem {
        pass: ConvPass::Forward,
        geometry: WindowGeometry::new(8, [8, 8, 3], 16, 3, 2, Padding::Same),
    };
    let valid = ConvProblem {
        pass: ConvPass::Forward,
        geometry: WindowGeometry::new(8, [8, 8, 3], 16, 3, 2, Padding::Valid),
    };
    assert_eq!(same.key(), "conv-forward-8x8x8x3-3x3s2p0x0-4x4x16");
    assert_eq!(valid.key(), "conv-forward-8x8x8x3-3x3s2p0x0-3x3x16");
    assert!(ConvProblem::is_conv_key(&forward.key()));
    assert!(!ConvProblem::is_conv_key("128x512x2352"));
    assert_eq!(GemmShape::from_key(&forward.key()), None);
}

/// Autotune times the workgroup-memory tiles on GPUs only, and never in other block or
/// workgroup sizes; the untuned choice is unchanged by them everywhere.
#[test]
fn only_gpus_time_the_tiled_convolution() {
    let Some(gpu) = gpu() else { return };
    for pass in [
        ConvPass::Forward,
        ConvPass::BackwardData,
        ConvPass::BackwardFilter,
    ] {
        let problem = alexnet_conv2(pass);
        let candidates = ConvVariant::load_candidates(gpu, &problem);
        let timed = candidates.iter().any(|v| v.loads == ConvLoads::Tiled);
        assert_eq!(timed, !gpu.is_cpu(), "{}: {candidates:?}", problem.key());
        assert_ne!(
            ConvVariant::default_for(gpu, &problem).loads,
            ConvLoads::Tiled
        );
    }
    assert!(ConvVariant::tiled().other_workgroups(gpu).is_empty());
}

#[test]
fn conv_plans_use_their_fitting_choices_and_the_default_elsewhere() {
    let Some(gpu) = gpu() else { return };
    let forward = alexnet_conv2(ConvPass::Forward);
    let data = alexnet_conv2(ConvPass::BackwardData);
    let first = ConvProblem {
        pass: ConvPass::Forward,
        geometry: WindowGeometry::new(128, [28, 28, 3], 64, 5, 1, Padding::Same),
    };
    let chosen = ConvVariant {
        loads: ConvLoads::Scalar,
        block_rows: 16,
        block_cols: 8,
        workgroup: 32,
    };
    let mut plan = ConvPlan::default();
    plan.choose(forward.key(), chosen);
    // Vec4 loads cannot read a first layer's 3 channels: the choice is not used.
    plan.choose(
        first.key(),
        ConvVariant {
            loads: ConvLoads::Vec4,
            ..chosen
        },
    );
    assert_eq!(plan.variant(gpu, &forward), chosen);
    assert!(plan.is_tuned(&forward));
    assert_eq!(
        plan.variant(gpu, &data),
        ConvVariant::default_for(gpu, &data)
    );
    assert!(!plan.is_tuned(&data));
    assert_eq!(
        plan.variant(gpu, &first),
        ConvVariant::default_for(gpu, &first)
    );
    // Nor is a workgroup bigger than the adapter allows.
    let limit = gpu.limits().max_compute_invocations_per_workgroup;
    let mut oversized = plan.clone();
    oversized.choose(
        forward.key(),
        ConvVariant {
            workgroup: limit + 1,
            ..chosen
        },
    );
    assert_eq!(
        oversized.variant(gpu, &forward),
        ConvVariant::default_for(gpu, &forward)
    );
    let default = ConvVariant::default_for(gpu, &data).name();
    assert_eq!(
        plan.summary(gpu, &[forward, data, forward]),
        format!("scalar-16x8-wg32, {default} (1 of 2 convolutions tuned)")
    );
    assert_eq!(plan.summary(gpu, &[]), "");
}

#[test]
fn tuning_a_convolution_fills_the_cache_and_later_plans_follow_it() {
    let Some(gpu) = gpu() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("autotune.json");
    let unknown = ConvProblem {
        pass: ConvPass::BackwardFilter,
        geometry: WindowGeometry::new(2, [6, 5, 4], 8, 3, 1, Padding::Same),
    };
    std::fs::write(
        &path,
        format!(
            r#"{{"format": 1, "adapters": {{"{}": {{"{}": "no-such-kernel"}}}}}}"#,
            adapter_key(gpu),
            unknown.key()
        ),
    )
    .unwrap();
    let mut cache = TuneCache::load(&path);
    let tiny = ConvProblem {
        pass: ConvPass::Forward,
        geometry: WindowGeometry::new(2, [6, 5, 4], 8, 3, 1, Padding::Same),
    };
    let timed = cache.tune_convs(gpu, &[tiny, tiny], |_| {}).unwrap();
    assert_eq!(timed.len(), 1, "a repeated convolution is timed once");
    let mut names: Vec<String> = timed[0].timings.iter().map(|(v, _)| v.name()).collect();
    // Every load width that fits 4 -> 8 channels (scalar, mixed, vec4, texels, and
    // shared-texels where the adapter has 8-wide subgroups), the fastest of them at the 4
    // other block shapes, and the fastest then in the 2 other workgroup sizes, each
    // timed once in the result.
    let widths = 4 + usize::from(ConvLoads::SharedTexels.runs_on(gpu));
    assert_eq!(names.len(), widths + 4 + 2, "{names:?}");
    assert!(names.contains(&timed[0].best.name()), "{names:?}");
    names.sort();
    names.dedup();
    assert_eq!(names.len(), widths + 4 + 2, "{names:?}");
    assert!(timed[0].timings.iter().all(|&(_, ms)| ms > 0.0));
    cache.save().unwrap();

    let reread = TuneCache::load(&path);
    let plan = reread.plan(gpu);
    assert_eq!(plan.conv.variant(gpu, &tiny), timed[0].best);
    assert!(plan.conv.is_tuned(&tiny));
    assert_eq!(
        plan.conv.variant(gpu, &unknown),
        ConvVariant::default_for(gpu, &unknown),
        "an unknown kernel name falls back to the default"
    );
    assert!(!plan.conv.is_tuned(&unknown));
    assert_eq!(plan.gemm.chosen_count(), 0, "conv keys are no GEMM shapes");
    assert!(reread.missing_convs(gpu, &[tiny]).is_empty());
    assert_eq!(reread.missing_convs(gpu, &[unknown, tiny]), vec![]);
}

#[test]
fn a_network_runs_the_convolution_kernel_its_plan_chose() {
    let Some(gpu) = gpu() else { return };
    let cursor = gpu.u32_buffer("cursor", &[0; 4]).unwrap();
    let shape = NetworkShape {
        input: [4, 6, 6],
        classes: 3,
        batch: 2,
    };
    let layers = [
        LayerSpec::conv(8, 3, 1, false),
        LayerSpec::Flatten,
        LayerSpec::Logits,
    ];
    let build = |plan: &KernelPlan| {
        Network::from_layers(
            gpu,
            "one-conv",
            &layers,
            shape,
            shatter_nn::WeightInit {
                seed: 1,
                conv: shatter_nn::ConvInit::He,
            },
            plan,
            &cursor.buffer,
        )
        .unwrap()
    };
    let untuned = build(&KernelPlan::for_adapter(gpu));
    let forward = untuned.conv_problems[0];
    assert_eq!(forward.pass, ConvPass::Forward);
    let default = ConvVariant::default_for(gpu, &forward);
    // The other side of the texel question: mirrored loads copy A and B first, two more
    // dispatches, so the network's forward shows which kernel it runs.
    let mirrored = |v: ConvVariant| match v.loads {
        ConvLoads::Texels | ConvLoads::SharedTexels => 3,
        _ => 1,
    };
    let other = if mirrored(default) == 3 {
        ConvVariant::new(gpu, ConvLoads::Vec4)
    } else {
        ConvVariant::new(gpu, ConvLoads::Texels)
    };
    let mut plan = KernelPlan::for_adapter(gpu);
    plan.conv.choose(forward.key(), other);
    let tuned = build(&plan);
    assert_eq!(untuned.layers[0].forward.len(), mirrored(default));
    assert_eq!(tuned.layers[0].forward.len(), mirrored(other));
    assert_eq!(
        tuned.plan.conv.summary(gpu, &tuned.conv_problems),
        format!(
            "{}, {} (1 of 2 convolutions tuned)",
            other.name(),
            default.name()
        ),
        "forward tuned; the filter gradient not (a first layer has no input gradient)"
    );
}
