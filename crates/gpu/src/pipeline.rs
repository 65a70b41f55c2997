//! The pipeline cache: a compute pipeline is built once per (shader, entry point,
//! override constants, binding signature) and shared by every dispatch that uses it,
//! so building a second model of the same shapes creates no new pipelines.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::device::Gpu;
use crate::dispatch::BindingKind;
use crate::error::GpuError;
use crate::shaders::shader;

/// A kernel: an entry point of a shader, specialized by WGSL `override` constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub shader: &'static str,
    pub entry: &'static str,
    pub constants: Vec<(&'static str, f64)>,
}

impl Kernel {
    pub fn new(shader: &'static str, entry: &'static str) -> Self {
        Self {
            shader,
            entry,
            constants: Vec::new(),
        }
    }

    /// Set an override constant (booleans as 0.0 / 1.0).
    pub fn with(mut self, name: &'static str, value: f64) -> Self {
        self.constants.push((name, value));
        self
    }

    fn key(&self, signature: &[BindingKind]) -> String {
        format!(
            "{}:{}:{:?}:{:?}",
            self.shader, self.entry, self.constants, signature
        )
    }
}

/// The layout entry type of one binding kind.
fn binding_type(kind: BindingKind) -> wgpu::BindingType {
    let buffer = |ty| wgpu::BindingType::Buffer {
        ty,
        has_dynamic_offset: false,
        min_binding_size: None,
    };
    match kind {
        BindingKind::Params | BindingKind::Read => {
            buffer(wgpu::BufferBindingType::Storage { read_only: true })
        }
        BindingKind::Write => buffer(wgpu::BufferBindingType::Storage { read_only: false }),
        BindingKind::Texels => wgpu::BindingType::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable: false },
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        BindingKind::WriteTexels => wgpu::BindingType::StorageTexture {
            access: wgpu::StorageTextureAccess::WriteOnly,
            format: crate::texels::TEXEL_FORMAT,
            view_dimension: wgpu::TextureViewDimension::D2,
        },
        BindingKind::ReadWriteTexels => wgpu::BindingType::StorageTexture {
            access: wgpu::StorageTextureAccess::ReadWrite,
            format: crate::texels::TEXEL_FORMAT,
            view_dimension: wgpu::TextureViewDimension::D2,
        },
    }
}

/// A built pipeline and the bind-group layout its dispatches bind with.
type CachedPipeline = (Arc<wgpu::ComputePipeline>, Arc<wgpu::BindGroupLayout>);

#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<&'static str, Arc<wgpu::ShaderModule>>>,
    layouts: Mutex<HashMap<Vec<BindingKind>, Arc<wgpu::BindGroupLayout>>>,
    pipelines: Mutex<HashMap<String, CachedPipeline>>,
}

impl Gpu {
    /// Compile the kernel file `name` (of [`crate::SHADERS`]) with the device's own WGSL
    /// compiler, as its first pipeline would, and keep it for them. In a browser the
    /// compiler's verdict arrives with [`Gpu::settle`].
    pub fn compile_shader(&self, name: &'static str) -> Result<(), GpuError> {
        self.module(name).map(|_| ())
    }

    fn module(&self, name: &'static str) -> Result<Arc<wgpu::ShaderModule>, GpuError> {
        let mut modules = self
            .pipelines
            .modules
            .lock()
            .expect("pipeline cache poisoned");
        if let Some(module) = modules.get(name) {
            return Ok(module.clone());
        }
        let source = shader(name).source;
        let module = self.scoped(&format!("compiling shaders/{name}.wgsl"), || {
            self.device
                .create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(name),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                })
        })?;
        let module = Arc::new(module);
        modules.insert(name, module.clone());
        Ok(module)
    }

    fn layout(&self, signature: &[BindingKind]) -> Arc<wgpu::BindGroupLayout> {
        let mut layouts = self
            .pipelines
            .layouts
            .lock()
            .expect("pipeline cache poisoned");
        layouts
            .entry(signature.to_vec())
            .or_insert_with(|| {
                let entries: Vec<wgpu::BindGroupLayoutEntry> = signature
                    .iter()
                    .enumerate()
                    .map(|(i, kind)| wgpu::BindGroupLayoutEntry {
                        binding: i as u32,
                        visibility: wgpu::ShaderStages::COMPUTE,
                        ty: binding_type(*kind),
                        count: None,
                    })
                    .collect();
                Arc::new(
                    self.device
                        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                            label: None,
                            entries: &entries,
                        }),
                )
            })
            .clone()
    }

    /// The pipeline for `kernel` with bindings of `signature`, built on first use.
    pub(crate) fn pipeline(
        &self,
        kernel: &Kernel,
        signature: &[BindingKind],
    ) -> Result<CachedPipeline, GpuError> {
        let key = kernel.key(signature);
        if let Some(found) = self
            .pipelines
            .pipelines
            .lock()
            .expect("pipeline cache poisoned")
            .get(&key)
        {
            return Ok(found.clone());
        }
        let module = self.module(kernel.shader)?;
        let layout = self.layout(signature);
        let pipeline = self.scoped(
            &format!(
                "building kernel {}::{} {:?}",
                kernel.shader, kernel.entry, kernel.constants
            ),
            || {
                let pipeline_layout =
                    self.device
                        .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                            label: None,
                            bind_group_layouts: &[Some(&layout)],
                            immediate_size: 0,
                        });
                self.device
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(kernel.entry),
                        layout: Some(&pipeline_layout),
                        module: &module,
                        entry_point: Some(kernel.entry),
                        compilation_options: wgpu::PipelineCompilationOptions {
                            constants: &kernel.constants,
                            zero_initialize_workgroup_memory: false,
                        },
                        cache: None,
                    })
            },
        )?;
        let entry = (Arc::new(pipeline), layout);
        self.pipelines
            .pipelines
            .lock()
            .expect("pipeline cache poisoned")
            .insert(key, entry.clone());
        Ok(entry)
    }
}
