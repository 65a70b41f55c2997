//! The batch kernel (shaders/batch.wgsl) and its CPU reference.

use shatter_data::Split;
use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, U32Buffer};

use crate::resident::ResidentSplit;

/// Geometry of one batch: stored image size and the network's input size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchShape {
    pub batch: usize,
    /// Crop at a random offset per sample (seeded) instead of the centre.
    pub random_crop: Option<u32>,
    /// Mirror left-right, each sample with probability 1/2 (seeded).
    pub random_flip: Option<u32>,
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
    pixel_format: u32,
    random_crop: u32,
    crop_seed: u32,
    random_flip: u32,
    flip_seed: u32,
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
        pixel_format: split.pixel_format.shader_code(),
        random_crop: u32::from(shape.random_crop.is_some()),
        crop_seed: shape.random_crop.unwrap_or(0),
        random_flip: u32::from(shape.random_flip.is_some()),
        flip_seed: shape.random_flip.unwrap_or(0),
    };
    let params = gpu.params(&format!("{label}.params"), &params);
    gpu.dispatch(
        label,
        &Kernel::new("batch", "gather_batch"),
        &[
            Binding::params(&params),
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

fn pcg_hash(input: u32) -> u32 {
    let state = input.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// The (top, left) of a sample's crop: the centre, or with random crops a position drawn
/// from the sample's index in the run (`images_seen` before it) and the seed. The same
/// arithmetic as `crop_origin` in shaders/batch.wgsl.
pub fn crop_origin(shape: &BatchShape, sample: u32) -> (usize, usize) {
    let spare_rows = (shape.height - shape.crop_height) as u32;
    let spare_cols = (shape.width - shape.crop_width) as u32;
    match shape.random_crop {
        None => ((spare_rows / 2) as usize, (spare_cols / 2) as usize),
        Some(seed) => {
            let h = pcg_hash(sample ^ pcg_hash(seed));
            (
                ((h & 0xffff) % (spare_rows + 1)) as usize,
                ((h >> 16) % (spare_cols + 1)) as usize,
            )
        }
    }
}

/// Whether a sample is mirrored left-right: the same arithmetic as `flipped` in
/// shaders/batch.wgsl.
pub fn flipped(shape: &BatchShape, sample: u32) -> bool {
    shape
        .random_flip
        .is_some_and(|seed| pcg_hash(sample ^ pcg_hash(seed)) & 1 == 1)
}

/// CPU reference of one gathered batch from `split`: rows `step * batch ..` of `order`
/// (or of 0..n when `order` is None), cropped (see [`crop_origin`]; `images_seen` is the
/// cursor's count before the step), mirrored (see [`flipped`]) and standardized per image; rows past the end are
/// zeros with label 0.
pub fn reference_batch(
    shape: BatchShape,
    split: &Split,
    order: Option<&[u32]>,
    step: usize,
    images_seen: u32,
) -> (Vec<f32>, Vec<u32>) {
    let image_values = shape.channels * shape.height * shape.width;
    let values = shape.input_values();
    let mut x = vec![0.0; shape.batch * values];
    let mut y = vec![0; shape.batch];
    for row in 0..shape.batch {
        let slot = step * shape.batch + row;
        if slot >= split.len() {
            continue;
        }
        let image = order.map_or(slot, |o| o[slot] as usize);
        let start = image * image_values;
        let (top, left) = crop_origin(&shape, images_seen + row as u32);
        let flip = flipped(&shape, images_seen + row as u32);
        let mut offsets = Vec::with_capacity(values);
        // Stored channel-major; the input is NHWC.
        for r in 0..shape.crop_height {
            for q in 0..shape.crop_width {
                let q = if flip { shape.crop_width - 1 - q } else { q };
                for c in 0..shape.channels {
                    offsets.push((c * shape.height + r + top) * shape.width + q + left);
                }
            }
        }
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
