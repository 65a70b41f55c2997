//! A dataset split resident on the GPU, in u32 words: u8 pixels packed four to a word, or
//! (after the Gaussian randomization) one f32 per word. The words are split into at most
//! three chunks of whole images so each chunk fits one storage binding; labels are u32.

use anyhow::{Result, bail};
use shatter_data::Split;
use shatter_gpu::{Gpu, U32Buffer};

/// Chunks the batch kernel can address (bindings 4, 5, 6 of shaders/batch.wgsl).
pub const MAX_CHUNKS: usize = 3;

pub struct ResidentSplit {
    pub images: usize,
    /// Values per image (channels * height * width).
    pub image_values: usize,
    /// Whether the words hold f32 values rather than packed u8 pixels.
    pub float_pixels: bool,
    pub images_per_chunk: usize,
    /// Always MAX_CHUNKS buffers; unused ones hold one word.
    pub chunks: Vec<U32Buffer>,
    pub labels: U32Buffer,
}

impl ResidentSplit {
    /// Upload with chunks as large as the adapter's storage bindings allow.
    pub fn upload(gpu: &Gpu, name: &str, split: &Split, image_values: usize) -> Result<Self> {
        let limits = gpu.limits();
        let binding =
            (limits.max_storage_buffer_binding_size as usize).min(limits.max_buffer_size as usize);
        Self::upload_chunked(gpu, name, split, image_values, binding)
    }

    /// Upload in chunks of at most `binding` bytes (tests use small chunks to cover the split).
    pub fn upload_chunked(
        gpu: &Gpu,
        name: &str,
        split: &Split,
        image_values: usize,
        binding: usize,
    ) -> Result<Self> {
        let images = split.len();
        let float_pixels = split.float_images.is_some();
        let image_bytes = image_values * if float_pixels { 4 } else { 1 };
        match &split.float_images {
            Some(values) => assert_eq!(
                values.len(),
                images * image_values,
                "{name}: values and labels disagree"
            ),
            None => assert_eq!(
                split.images.len(),
                images * image_values,
                "{name}: pixels and labels disagree"
            ),
        }
        // Whole images per chunk, a multiple of 4 so every u8 chunk starts on a word boundary.
        let per_chunk = (binding / image_bytes.max(1)) / 4 * 4;
        if per_chunk == 0 {
            bail!(
                "{name}: one image of {image_bytes} bytes does not fit a storage binding of {binding} bytes"
            );
        }
        let per_chunk = per_chunk.min(images.next_multiple_of(4).max(4));
        let needed = images.div_ceil(per_chunk);
        if needed > MAX_CHUNKS {
            bail!(
                "{name}: {images} images of {image_bytes} bytes need {needed} storage bindings of {binding} bytes on adapter '{}', but shatter's batch kernel addresses {MAX_CHUNKS}",
                gpu.adapter().name
            );
        }
        let mut chunks = Vec::with_capacity(MAX_CHUNKS);
        for c in 0..MAX_CHUNKS {
            let start = (c * per_chunk).min(images) * image_values;
            let end = ((c + 1) * per_chunk).min(images) * image_values;
            let words = match &split.float_images {
                Some(values) => values[start..end].iter().map(|v| v.to_bits()).collect(),
                None => pack_words(&split.images[start..end]),
            };
            chunks.push(gpu.u32_buffer(&format!("{name}.pixels{c}"), &words)?);
        }
        let labels: Vec<u32> = split.labels.iter().map(|&l| u32::from(l)).collect();
        Ok(Self {
            images,
            image_values,
            float_pixels,
            images_per_chunk: per_chunk,
            chunks,
            labels: gpu.u32_buffer(&format!("{name}.labels"), &labels)?,
        })
    }
}

/// Little-endian packing: byte i of the slice is bits 8*(i%4).. of word i/4.
fn pack_words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks(4)
        .map(|c| {
            let mut word = [0u8; 4];
            word[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(word)
        })
        .collect()
}
