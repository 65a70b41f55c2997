//! A dataset split resident on the GPU: u8 pixels packed four to a u32 word, split into
//! at most three chunks of whole images so each chunk fits one storage binding, and the
//! labels as u32.

use anyhow::{Result, bail};
use shatter_gpu::{Gpu, U32Buffer};

/// Chunks the batch kernel can address (bindings 4, 5, 6 of shaders/batch.wgsl).
pub const MAX_CHUNKS: usize = 3;

pub struct ResidentSplit {
    pub images: usize,
    pub image_bytes: usize,
    pub images_per_chunk: usize,
    /// Always MAX_CHUNKS buffers; unused ones hold one word.
    pub chunks: Vec<U32Buffer>,
    pub labels: U32Buffer,
}

impl ResidentSplit {
    /// Upload with chunks as large as the adapter's storage bindings allow.
    pub fn upload(
        gpu: &Gpu,
        name: &str,
        pixels: &[u8],
        labels: &[u8],
        image_bytes: usize,
    ) -> Result<Self> {
        let limits = gpu.limits();
        let binding =
            (limits.max_storage_buffer_binding_size as usize).min(limits.max_buffer_size as usize);
        Self::upload_chunked(gpu, name, pixels, labels, image_bytes, binding)
    }

    /// Upload in chunks of at most `binding` bytes (tests use small chunks to cover the split).
    pub fn upload_chunked(
        gpu: &Gpu,
        name: &str,
        pixels: &[u8],
        labels: &[u8],
        image_bytes: usize,
        binding: usize,
    ) -> Result<Self> {
        let images = labels.len();
        assert_eq!(
            pixels.len(),
            images * image_bytes,
            "{name}: pixels and labels disagree"
        );
        // Whole images per chunk, a multiple of 4 so every chunk starts on a word boundary.
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
            let start = (c * per_chunk).min(images) * image_bytes;
            let end = ((c + 1) * per_chunk).min(images) * image_bytes;
            let words = pack_words(&pixels[start..end]);
            chunks.push(gpu.u32_buffer(&format!("{name}.pixels{c}"), &words)?);
        }
        let labels: Vec<u32> = labels.iter().map(|&l| u32::from(l)).collect();
        Ok(Self {
            images,
            image_bytes,
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
