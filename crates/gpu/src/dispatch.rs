//! Prebuilt dispatches. A layer builds its dispatches once (pipeline, bind group,
//! workgroup counts); a training step only records them, so nothing is created or
//! allocated in steady state.

use std::sync::Arc;

use crate::device::Gpu;
use crate::error::GpuError;
use crate::pipeline::Kernel;

/// How a kernel sees one buffer or texture; the binding index is its position in the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BindingKind {
    /// The kernel's parameters (shapes, hyper-parameters), written once at build time.
    /// Bound as a read-only storage buffer rather than a uniform buffer: lavapipe inlines
    /// the uniforms a kernel loops or branches on and, where that shrinks the kernel or
    /// unrolls a loop, compiles it again at every bind (no cache of those variants in the
    /// Mesa of Debian 12): with Mesa's shader cache off an MLP's steps took 2.4-3.6x as
    /// long, and with it on each bind still paid for the inlining and a cache lookup. Each
    /// kernel copies them into a private variable as it starts, so that later reads are
    /// registers rather than bounds-checked loads.
    Params,
    Read,
    Write,
    /// A [`crate::TexelMirror`] read with `textureLoad` (`texture_2d<f32>`).
    Texels,
    /// A [`crate::TexelMirror`] written with `textureStore`
    /// (`texture_storage_2d<rgba32float, write>`).
    WriteTexels,
    /// A [`crate::TexelMirror`] both loaded and stored
    /// (`texture_storage_2d<rgba32float, read_write>`), where
    /// [`Gpu::read_write_texels`] says the adapter allows it.
    ReadWriteTexels,
}

/// One buffer or texture bound to a kernel.
#[derive(Clone, Copy)]
pub struct Binding<'a> {
    kind: BindingKind,
    resource: Resource<'a>,
}

#[derive(Clone, Copy)]
enum Resource<'a> {
    Buffer(&'a wgpu::Buffer),
    Texture(&'a wgpu::TextureView),
}

impl<'a> Binding<'a> {
    pub fn params(buffer: &'a wgpu::Buffer) -> Self {
        Self {
            kind: BindingKind::Params,
            resource: Resource::Buffer(buffer),
        }
    }
    pub fn read(buffer: &'a wgpu::Buffer) -> Self {
        Self {
            kind: BindingKind::Read,
            resource: Resource::Buffer(buffer),
        }
    }
    pub fn write(buffer: &'a wgpu::Buffer) -> Self {
        Self {
            kind: BindingKind::Write,
            resource: Resource::Buffer(buffer),
        }
    }
    pub fn texels(mirror: &'a crate::TexelMirror) -> Self {
        Self {
            kind: BindingKind::Texels,
            resource: Resource::Texture(&mirror.view),
        }
    }
    pub fn read_write_texels(mirror: &'a crate::TexelMirror) -> Self {
        Self {
            kind: BindingKind::ReadWriteTexels,
            resource: Resource::Texture(&mirror.view),
        }
    }
    pub fn write_texels(mirror: &'a crate::TexelMirror) -> Self {
        Self {
            kind: BindingKind::WriteTexels,
            resource: Resource::Texture(&mirror.view),
        }
    }
}

/// A kernel with its buffers bound and its grid fixed, ready to record. Cloning shares
/// the pipeline and the bind group.
#[derive(Clone)]
pub struct Dispatch {
    pub label: String,
    pipeline: Arc<wgpu::ComputePipeline>,
    bind_group: wgpu::BindGroup,
    pub workgroups: [u32; 3],
}

/// Workgroup counts covering `invocations` in x with `per_group` each, folded into y
/// where x would pass the 65,535 a dimension allows (kernels rebuild the flat index
/// from `num_workgroups`).
pub fn workgroups_for(invocations: usize, per_group: u32) -> [u32; 3] {
    let groups = invocations.div_ceil(per_group as usize).max(1) as u64;
    if groups <= 65_535 {
        [groups as u32, 1, 1]
    } else {
        let y = groups.div_ceil(65_535);
        [groups.div_ceil(y) as u32, y as u32, 1]
    }
}

impl Gpu {
    /// Build a dispatch of `kernel` over `workgroups` with `bindings` at 0, 1, 2, ...
    pub fn dispatch(
        &self,
        label: &str,
        kernel: &Kernel,
        bindings: &[Binding<'_>],
        workgroups: [u32; 3],
    ) -> Result<Dispatch, GpuError> {
        let limit = self.limits().max_compute_workgroups_per_dimension;
        if workgroups.iter().any(|&n| n > limit) {
            return Err(GpuError::Limits(format!(
                "dispatch '{label}' needs {workgroups:?} workgroups; adapter '{}' allows {limit} per dimension",
                self.adapter().name
            )));
        }
        let signature: Vec<BindingKind> = bindings.iter().map(|b| b.kind).collect();
        let (pipeline, layout) = self.pipeline(kernel, &signature)?;
        let entries: Vec<wgpu::BindGroupEntry> = bindings
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: match b.resource {
                    Resource::Buffer(buffer) => buffer.as_entire_binding(),
                    Resource::Texture(view) => wgpu::BindingResource::TextureView(view),
                },
            })
            .collect();
        let bind_group = self.scoped(&format!("binding buffers of '{label}'"), || {
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &layout,
                entries: &entries,
            })
        })?;
        Ok(Dispatch {
            label: label.to_owned(),
            pipeline,
            bind_group,
            workgroups,
        })
    }

    /// Record `dispatches` in order into one compute pass of `encoder`.
    pub fn record<'d>(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        dispatches: impl IntoIterator<Item = &'d Dispatch>,
    ) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        for d in dispatches {
            d.record(&mut pass);
        }
    }

    /// Record, submit and wait: for tests and one-off work, not for the training loop.
    pub fn run<'d>(
        &self,
        dispatches: impl IntoIterator<Item = &'d Dispatch>,
    ) -> Result<(), GpuError> {
        let mut encoder = self.device.create_command_encoder(&Default::default());
        self.record(&mut encoder, dispatches);
        self.submit(encoder.finish());
        self.wait("running kernels")
    }
}

impl Dispatch {
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }
}
