//! A run's lasting state on the GPU (weights, optimizer velocities, running statistics, the
//! metrics of an epoch under way), read back and written again as a whole: what a
//! checkpoint holds. Parts live in buffers or in texel textures (a velocity kept beside a
//! weight's texel mirror); both are read and written in tensor order.

use crate::device::Gpu;
use crate::error::GpuError;
use crate::tensor::Tensor;
use crate::texels::{TEXELS_PER_ROW, TexelMirror};

/// wgpu's alignment for a texture copy's rows and a safe one for every copy's offset.
const COPY_ALIGNMENT: u64 = wgpu::COPY_BYTES_PER_ROW_ALIGNMENT as u64;

/// One piece of lasting state.
#[derive(Clone, Copy)]
pub enum StatePart<'a> {
    Buffer(&'a Tensor),
    /// A texture in a texel mirror's layout holding state of its own (see
    /// [`Gpu::texel_state`]).
    Texels(&'a TexelMirror),
}

impl StatePart<'_> {
    pub fn name(&self) -> &str {
        match self {
            StatePart::Buffer(t) => &t.name,
            StatePart::Texels(m) => &m.name,
        }
    }

    /// Values it holds.
    pub fn len(&self) -> usize {
        match self {
            StatePart::Buffer(t) => t.len(),
            StatePart::Texels(m) => m.texels * 4,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes it takes in a copy: a texture is copied whole, rows of 16-byte texels.
    fn copy_bytes(&self) -> u64 {
        match self {
            StatePart::Buffer(t) => (t.len().max(1) * 4) as u64,
            StatePart::Texels(m) => {
                (TEXELS_PER_ROW * 16) as u64 * u64::from(m.texture.size().height)
            }
        }
    }
}

impl Gpu {
    /// Every part's values, in tensor order, after all submitted work: one submission
    /// through one staging buffer made for the call (a checkpoint is occasional, so the
    /// buffer is not held for the whole run).
    pub fn read_state(&self, parts: &[StatePart<'_>]) -> Result<Vec<Vec<f32>>, GpuError> {
        let mut offsets = Vec::with_capacity(parts.len());
        let mut total = 0u64;
        for part in parts {
            offsets.push(total);
            total += part.copy_bytes().next_multiple_of(COPY_ALIGNMENT);
        }
        let bytes = crate::tensor::block_on_readback(self.read_back(
            "run state",
            total as usize,
            |encoder, staging| {
                for (part, &offset) in parts.iter().zip(&offsets) {
                    match part {
                        StatePart::Buffer(t) => encoder.copy_buffer_to_buffer(
                            &t.buffer,
                            0,
                            staging,
                            offset,
                            part.copy_bytes(),
                        ),
                        StatePart::Texels(m) => encoder.copy_texture_to_buffer(
                            m.texture.as_image_copy(),
                            wgpu::TexelCopyBufferInfo {
                                buffer: staging,
                                layout: wgpu::TexelCopyBufferLayout {
                                    offset,
                                    bytes_per_row: Some((TEXELS_PER_ROW * 16) as u32),
                                    rows_per_image: None,
                                },
                            },
                            m.texture.size(),
                        ),
                    }
                }
            },
        ))?;
        Ok(parts
            .iter()
            .zip(&offsets)
            .map(|(part, &offset)| {
                let start = offset as usize;
                bytemuck::cast_slice(&bytes[start..start + part.len() * 4]).to_vec()
            })
            .collect())
    }

    /// Overwrite every part with `values` (in tensor order, one slice per part), staged by
    /// the queue ahead of the next submission.
    pub fn write_state(&self, parts: &[StatePart<'_>], values: &[Vec<f32>]) {
        assert_eq!(
            parts.len(),
            values.len(),
            "one set of values per state part"
        );
        for (part, values) in parts.iter().zip(values) {
            assert_eq!(part.len(), values.len(), "'{}': length", part.name());
            match part {
                StatePart::Buffer(t) => {
                    if !values.is_empty() {
                        self.queue
                            .write_buffer(&t.buffer, 0, bytemuck::cast_slice(values));
                    }
                }
                StatePart::Texels(m) => {
                    // Whole rows, the unused end of the last one zero as a new texture's is.
                    let size = m.texture.size();
                    let mut rows = vec![0.0f32; TEXELS_PER_ROW * 4 * size.height as usize];
                    rows[..values.len()].copy_from_slice(values);
                    self.queue.write_texture(
                        m.texture.as_image_copy(),
                        bytemuck::cast_slice(&rows),
                        wgpu::TexelCopyBufferLayout {
                            offset: 0,
                            bytes_per_row: Some((TEXELS_PER_ROW * 16) as u32),
                            rows_per_image: None,
                        },
                        size,
                    );
                }
            }
        }
    }
}
