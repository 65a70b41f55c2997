//! A readback of several tensors at once through one staging buffer made at build time:
//! one copy, one map, one wait. The trainer reads its per-epoch metrics this way, so the
//! epoch loop allocates nothing on the GPU.

use crate::device::Gpu;
use crate::error::GpuError;
use crate::tensor::Tensor;

pub struct Readback {
    staging: wgpu::Buffer,
    /// (byte offset in staging, byte length) of each tensor, in order.
    layout: Vec<(u64, u64)>,
}

impl Readback {
    /// A staging buffer that holds every tensor of `tensors`.
    pub fn new(gpu: &Gpu, name: &str, tensors: &[&Tensor]) -> Result<Self, GpuError> {
        let mut layout = Vec::with_capacity(tensors.len());
        let mut offset = 0u64;
        for t in tensors {
            let len = (t.len().max(1) * 4) as u64;
            layout.push((offset, len));
            // Copies need 4-byte alignment; map offsets need 8 (wgpu::MAP_ALIGNMENT).
            offset += len.next_multiple_of(8);
        }
        gpu.count_allocation(offset.max(8));
        let staging = gpu.scoped(&format!("allocating readback '{name}'"), || {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(name),
                size: offset.max(8),
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        })?;
        Ok(Self { staging, layout })
    }

    /// Copy `tensors` (the same ones, in the same order, as at `new`) back to the host.
    /// Blocks until the GPU has finished all submitted work.
    pub fn read(&self, gpu: &Gpu, tensors: &[&Tensor]) -> Result<Vec<Vec<f32>>, GpuError> {
        crate::tensor::block_on_readback(self.read_async(gpu, tensors))
    }

    /// [`Readback::read`] without blocking: what a browser must use.
    pub async fn read_async(
        &self,
        gpu: &Gpu,
        tensors: &[&Tensor],
    ) -> Result<Vec<Vec<f32>>, GpuError> {
        assert_eq!(
            tensors.len(),
            self.layout.len(),
            "readback: tensor count changed"
        );
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        for (t, &(offset, len)) in tensors.iter().zip(&self.layout) {
            assert_eq!(
                (t.len().max(1) * 4) as u64,
                len,
                "readback: size of '{}' changed",
                t.name
            );
            encoder.copy_buffer_to_buffer(&t.buffer, 0, &self.staging, offset, len);
        }
        gpu.submit(encoder.finish());
        gpu.map_read(&self.staging, "reading back metrics", |view| {
            tensors
                .iter()
                .zip(&self.layout)
                .map(|(t, &(offset, _))| {
                    let bytes = &view[offset as usize..offset as usize + t.len() * 4];
                    bytemuck::cast_slice(bytes).to_vec()
                })
                .collect()
        })
        .await
        .map_err(|message| GpuError::Readback {
            name: "metrics".into(),
            message,
        })?
    }
}
