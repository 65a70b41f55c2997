//! The batch kernel (shaders/batch.wgsl) and its CPU reference.

use shatter_data::Split;
use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, U32Buffer};

use crate::resident::ResidentSplit;

/// Geometry of one batch: stored image size and the network's input size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchShape {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub crop_height: usize,
    pub crop_width: usize,
}

impl BatchShape {
    pub fn input_values(&self) -> usize {
        self.channels * self.crop_height * self.crop_width
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct BatchParams {
    images: u32,
    batch: u32,
    channels: u32,
    height: u32,
    width: u32,
    crop_height: u32,
    crop_width: u32,
    images_per_chunk: u32,
    sequential: u32,
    float_pixels: u32,
    _pad: [u32; 2],
}

/// Build the gather dispatch. `order` is the epoch's permutation (ignored when `sequential`,
/// which evaluation uses to walk the split in order).
#[allow(clippy::too_many_arguments)]
pub fn gather_batch(
    gpu: &Gpu,
    label: &str,
    shape: BatchShape,
    split: &ResidentSplit,
    order: &U32Buffer,
    sequential: bool,
    cursor: &shatter_gpu::wgpu::Buffer,
    x: &Tensor,
    y: &U32Buffer,
) -> Result<Dispatch, GpuError> {
    assert_eq!(
        x.len(),
        shape.batch * shape.input_values(),
        "{label}: input tensor size"
    );
    assert_eq!(y.len, shape.batch, "{label}: label buffer size");
    assert_eq!(
        split.image_values,
        shape.channels * shape.height * shape.width,
        "{label}: image size"
    );
    let params = BatchParams {
        images: split.images as u32,
        batch: shape.batch as u32,
        channels: shape.channels as u32,
        height: shape.height as u32,
        width: shape.width as u32,
        crop_height: shape.crop_height as u32,
        crop_width: shape.crop_width as u32,
        images_per_chunk: split.images_per_chunk as u32,
        sequential: u32::from(sequential),
        float_pixels: u32::from(split.float_pixels),
        _pad: [0; 2],
    };
    let params = gpu.uniform(&format!("{label}.params"), &params);
    gpu.dispatch(
        label,
        &Kernel::new("batch", "gather_batch"),
        &[
            Binding::uniform(&params),
            Binding::read(cursor),
            Binding::read(&order.buffer),
            Binding::read(&split.labels.buffer),
            Binding::read(&split.chunks[0].buffer),
            Binding::read(&split.chunks[1].buffer),
            Binding::read(&split.chunks[2].buffer),
            Binding::write(&x.buffer),
            Binding::write(&y.buffer),
        ],
        [shape.batch as u32, 1, 1],
    )
}

/// CPU reference of one gathered batch from `split`: rows `step * batch ..` of `order`
/// (or of 0..n when `order` is None), centre-cropped and standardized per image; rows past
/// the end are zeros with label 0.
pub fn reference_batch(
    shape: BatchShape,
    split: &Split,
    order: Option<&[u32]>,
    step: usize,
) -> (Vec<f32>, Vec<u32>) {
    let image_values = shape.channels * shape.height * shape.width;
    let values = shape.input_values();
    let mut x = vec![0.0; shape.batch * values];
    let mut y = vec![0; shape.batch];
    let top = (shape.height - shape.crop_height) / 2;
    let left = (shape.width - shape.crop_width) / 2;
    // Offsets in the stored image of the cropped image's values, in order.
    let mut offsets = Vec::with_capacity(values);
    for c in 0..shape.channels {
        for r in 0..shape.crop_height {
            for q in 0..shape.crop_width {
                offsets.push((c * shape.height + r + top) * shape.width + q + left);
            }
        }
    }
    for row in 0..shape.batch {
        let slot = step * shape.batch + row;
        if slot >= split.len() {
            continue;
        }
        let image = order.map_or(slot, |o| o[slot] as usize);
        let start = image * image_values;
        let standardized = match &split.float_images {
            Some(float) => {
                let cropped: Vec<f32> = offsets.iter().map(|&o| float[start + o]).collect();
                shatter_data::per_image_standardization_f32(&cropped)
            }
            None => {
                let cropped: Vec<u8> = offsets.iter().map(|&o| split.images[start + o]).collect();
                shatter_data::per_image_standardization(&cropped)
            }
        };
        x[row * values..(row + 1) * values].copy_from_slice(&standardized);
        y[row] = u32::from(split.labels[image]);
    }
    (x, y)
}
