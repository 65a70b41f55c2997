//! Texel mirrors: a copy of a tensor in an rgba32float texture, refreshed by a dispatch
//! in the same compute pass, for kernels that read through `textureLoad`.
//!
//! Why: on CPU adapters (llvmpipe, lavapipe) every storage-buffer load is issued lane by
//! lane with a bounds check per component, while a texel fetch is one branch-free gather.
//! A GEMM reading its operands from mirrors ran about 1.5x faster there, and copying the
//! operands in costs a few percent of that. See shaders/_texels.wgsl for the layout.

use crate::device::Gpu;
use crate::dispatch::{Binding, Dispatch, workgroups_for};
use crate::error::GpuError;
use crate::pipeline::Kernel;
use crate::tensor::Tensor;

/// The texels in one row of a mirror; shaders/_texels.wgsl holds the same number.
pub const TEXELS_PER_ROW: usize = 1024;

pub(crate) const TEXEL_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba32Float;

/// A tensor's values, four to a texel, in rows of [`TEXELS_PER_ROW`] texels.
pub struct TexelMirror {
    pub name: String,
    /// Texels that hold values (the last row may be partly unused).
    pub texels: usize,
    pub texture: wgpu::Texture,
    pub view: wgpu::TextureView,
}

impl TexelMirror {
    /// The label of the dispatch that copies the tensor into this mirror.
    fn pack_label(&self) -> String {
        format!("{}.pack", self.name)
    }

    /// Whether `dispatch` is the one that copies the tensor into this mirror.
    pub fn is_filled_by(&self, dispatch: &Dispatch) -> bool {
        dispatch.label.strip_suffix(".pack") == Some(self.name.as_str())
    }
}

/// A tensor viewed as [outer, channels, inner] whose mirror pads the channels to
/// `padded` with zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChannelPadding {
    pub outer: usize,
    pub channels: usize,
    pub padded: usize,
    pub inner: usize,
}

impl ChannelPadding {
    /// Values in the padded view.
    pub fn padded_len(&self) -> usize {
        self.outer * self.padded * self.inner
    }
}

/// Rows of a mirror of `texels` texels: enough to hold them, and never a power of two.
///
/// Why: llvmpipe compiles a kernel once per combination of its textures' static state,
/// which records whether each dimension is a power of two. Mirrors of mixed heights made
/// the same convolution kernel compile twice (1.25 s each on lavapipe) in the first step;
/// one kind of height lets every layer share one compiled variant. The rows added cost at
/// most two rows of memory.
fn mirror_rows(texels: usize) -> usize {
    let rows = texels.div_ceil(TEXELS_PER_ROW).max(3);
    if rows.is_power_of_two() {
        rows + 1
    } else {
        rows
    }
}

impl Gpu {
    /// Whether a tensor of `elements` values can have a mirror on this adapter: a whole
    /// number of texels, in no more rows than a texture may have.
    pub fn fits_texel_mirror(&self, elements: usize) -> bool {
        let rows = mirror_rows(elements.div_ceil(4));
        let limit = self.limits().max_texture_dimension_2d as usize;
        elements.is_multiple_of(4) && elements > 0 && rows <= limit && TEXELS_PER_ROW <= limit
    }

    /// A mirror of `tensor` and the dispatch that copies the tensor into it. Record the
    /// dispatch before every kernel that reads the mirror, after the tensor is written.
    pub fn texel_mirror(&self, tensor: &Tensor) -> Result<(TexelMirror, Dispatch), GpuError> {
        let mirror = self.mirror_texture(tensor, tensor.len(), "texels")?;
        let pack = self.dispatch(
            &mirror.pack_label(),
            &Kernel::new("pack_texels", "pack_texels"),
            &[
                Binding::read(&tensor.buffer),
                Binding::write_texels(&mirror),
            ],
            workgroups_for(mirror.texels, 64),
        )?;
        Ok((mirror, pack))
    }

    /// A mirror of `tensor` viewed as [outer, channels, inner], with the channels padded
    /// to `padding.padded` by zeros, and the dispatch that fills it (see
    /// shaders/pack_texels_padded.wgsl).
    pub fn texel_mirror_padded(
        &self,
        tensor: &Tensor,
        padding: ChannelPadding,
    ) -> Result<(TexelMirror, Dispatch), GpuError> {
        assert_eq!(
            padding.outer * padding.channels * padding.inner,
            tensor.len(),
            "'{}': {padding:?}",
            tensor.name
        );
        let mirror = self.mirror_texture(tensor, padding.padded_len(), "padded_texels")?;
        let layout = self.params(
            &format!("{}.layout", mirror.name),
            &[
                padding.outer as u32,
                padding.channels as u32,
                padding.padded as u32,
                padding.inner as u32,
            ],
        );
        let pack = self.dispatch(
            &mirror.pack_label(),
            &Kernel::new("pack_texels_padded", "pack_texels_padded"),
            &[
                Binding::params(&layout),
                Binding::read(&tensor.buffer),
                Binding::write_texels(&mirror),
            ],
            workgroups_for(mirror.texels, 64),
        )?;
        Ok((mirror, pack))
    }

    /// The values a mirror holds, in the order of the tensor it mirrors (its texels'
    /// values, without the unused end of the last row), for tests.
    pub fn read_texel_mirror(&self, mirror: &TexelMirror) -> Result<Vec<f32>, GpuError> {
        let size = mirror.texture.size();
        let row_bytes = TEXELS_PER_ROW * 16;
        let bytes = crate::tensor::block_on_readback(self.read_back(
            &mirror.name,
            row_bytes * size.height as usize,
            |encoder, staging| {
                encoder.copy_texture_to_buffer(
                    mirror.texture.as_image_copy(),
                    wgpu::TexelCopyBufferInfo {
                        buffer: staging,
                        layout: wgpu::TexelCopyBufferLayout {
                            offset: 0,
                            bytes_per_row: Some(row_bytes as u32),
                            rows_per_image: None,
                        },
                    },
                    size,
                );
            },
        ))?;
        let values: &[f32] = bytemuck::cast_slice(&bytes);
        Ok(values[..mirror.texels * 4].to_vec())
    }

    /// A texture of `elements` zeros in a mirror's layout, holding state of its own rather
    /// than a copy of a tensor (the SGD update's velocity, see
    /// shaders/sgd_vec4_texel_state.wgsl).
    pub fn texel_state(&self, name: &str, elements: usize) -> Result<TexelMirror, GpuError> {
        // wgpu clears a texture before its first use.
        self.texel_texture(name.to_owned(), name, elements)
    }

    /// The texture of a mirror of `elements` values for `tensor`, named `tensor.suffix`.
    fn mirror_texture(
        &self,
        tensor: &Tensor,
        elements: usize,
        suffix: &str,
    ) -> Result<TexelMirror, GpuError> {
        self.texel_texture(format!("{}.{suffix}", tensor.name), &tensor.name, elements)
    }

    /// A texture named `name` in a mirror's layout for `elements` values of `what`.
    fn texel_texture(
        &self,
        name: String,
        what: &str,
        elements: usize,
    ) -> Result<TexelMirror, GpuError> {
        if !self.fits_texel_mirror(elements) {
            return Err(GpuError::Limits(format!(
                "'{what}' ({elements} values) cannot have a texel mirror on adapter '{}': it needs a multiple of 4 values in at most {} rows of {TEXELS_PER_ROW} texels",
                self.adapter().name,
                self.limits().max_texture_dimension_2d
            )));
        }
        let texels = elements / 4;
        let rows = mirror_rows(texels);
        let size = wgpu::Extent3d {
            width: TEXELS_PER_ROW as u32,
            height: rows as u32,
            depth_or_array_layers: 1,
        };
        self.count_allocation((TEXELS_PER_ROW * rows * 16) as u64);
        let texture = self.scoped(&format!("allocating '{name}'"), || {
            self.device.create_texture(&wgpu::TextureDescriptor {
                label: Some(&name),
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: TEXEL_FORMAT,
                usage: wgpu::TextureUsages::TEXTURE_BINDING
                    | wgpu::TextureUsages::STORAGE_BINDING
                    | wgpu::TextureUsages::COPY_SRC
                    // A checkpoint writes texel state back.
                    | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            })
        })?;
        let view = texture.create_view(&Default::default());
        Ok(TexelMirror {
            name,
            texels,
            texture,
            view,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_rows_hold_the_texels_and_are_never_a_power_of_two() {
        for texels in 1..=40 * TEXELS_PER_ROW {
            let rows = mirror_rows(texels);
            assert!(
                rows * TEXELS_PER_ROW >= texels,
                "{texels} texels in {rows} rows"
            );
            assert!(!rows.is_power_of_two(), "{texels} texels gave {rows} rows");
            assert!(
                rows <= texels.div_ceil(TEXELS_PER_ROW) + 2,
                "{texels} texels gave {rows} rows"
            );
        }
    }
}
