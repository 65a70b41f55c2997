//! A dataset split resident on the GPU, in u32 words: u8 pixels packed four to a word, or
//! (after the Gaussian randomization) one f32 per word, or two f16 per word where f32 would
//! need more bindings than the batch kernel has. The words are split into at most three
//! chunks of whole images so each chunk fits one storage binding; labels are u32.

use anyhow::{Result, bail};
use shatter_data::{Split, images_per_binding};
use shatter_gpu::{Gpu, U32Buffer};

/// Chunks the batch kernel can address (bindings 4, 5, 6 of shaders/batch.wgsl).
pub const MAX_CHUNKS: usize = 3;

/// How a resident split's words hold its values (the batch kernel's `pixel_format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    /// Four u8 pixels a word, the first in the lowest byte.
    U8,
    /// One f32 a word (Gaussian images).
    F32,
    /// Two f16 a word, the first in the low half: Gaussian images too large for f32 in three
    /// bindings (CIFAR-10's 50,000 at 128 MiB a binding). f16 keeps 11 significant bits,
    /// an error below 0.05% of a value, far finer than the 256 levels of the true images.
    F16,
}

impl PixelFormat {
    fn bytes_per_value(self) -> usize {
        match self {
            PixelFormat::U8 => 1,
            PixelFormat::F32 => 4,
            PixelFormat::F16 => 2,
        }
    }

    /// Its code in shaders/batch.wgsl.
    pub fn shader_code(self) -> u32 {
        match self {
            PixelFormat::U8 => 0,
            PixelFormat::F32 => 1,
            PixelFormat::F16 => 2,
        }
    }

    /// `value` as this format holds it (values of f32 formats; u8 pixels are exact).
    pub fn round(self, value: f32) -> f32 {
        match self {
            PixelFormat::F16 => half::f16::from_f32(value).to_f32(),
            _ => value,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::U8 => "u8",
            PixelFormat::F32 => "f32",
            PixelFormat::F16 => "f16",
        }
    }
}

pub struct ResidentSplit {
    pub images: usize,
    /// Values per image (channels * height * width).
    pub image_values: usize,
    pub pixel_format: PixelFormat,
    pub images_per_chunk: usize,
    /// Always MAX_CHUNKS buffers; unused ones hold one word.
    pub chunks: Vec<U32Buffer>,
    pub labels: U32Buffer,
}

impl ResidentSplit {
    /// Upload with chunks as large as the adapter's storage bindings allow.
    pub fn upload(gpu: &Gpu, name: &str, split: &Split, image_values: usize) -> Result<Self> {
        Self::upload_chunked(gpu, name, split, image_values, binding_bytes(gpu))
    }

    /// The GPU side of a streamed split: a window of `window_images` u8 images in one
    /// chunk, which the host refills before each group of steps (see crate::stream_feed),
    /// standing for a split of `images` images: the batch kernel and the loss count rows
    /// against `images`, and the pass's order maps each row to its place in the window.
    pub fn window(
        gpu: &Gpu,
        name: &str,
        images: usize,
        image_values: usize,
        window_images: usize,
    ) -> Result<Self> {
        let words = (window_images * image_values).div_ceil(4);
        let mut chunks = Vec::with_capacity(MAX_CHUNKS);
        chunks.push(gpu.u32_buffer(&format!("{name}.window"), &vec![0; words])?);
        for c in 1..MAX_CHUNKS {
            chunks.push(gpu.u32_buffer(&format!("{name}.pixels{c}"), &[0])?);
        }
        Ok(Self {
            images,
            image_values,
            pixel_format: PixelFormat::U8,
            // Every place of the window lies in the first chunk.
            images_per_chunk: window_images.next_multiple_of(4),
            chunks,
            labels: gpu.u32_buffer(&format!("{name}.labels"), &vec![0; window_images])?,
        })
    }

    /// Upload in chunks of at most `binding` bytes (tests use small chunks to cover the
    /// split): u8 pixels as they are; float values as f32 where they fit, else as f16.
    pub fn upload_chunked(
        gpu: &Gpu,
        name: &str,
        split: &Split,
        image_values: usize,
        binding: usize,
    ) -> Result<Self> {
        let format = match split.float_images {
            None => PixelFormat::U8,
            Some(_) => {
                let f32_images = images_per_binding(binding, image_values * 4);
                if f32_images > 0 && split.len().div_ceil(f32_images) <= MAX_CHUNKS {
                    PixelFormat::F32
                } else {
                    PixelFormat::F16
                }
            }
        };
        Self::upload_as(gpu, name, split, image_values, binding, format)
    }

    /// Upload in `format` (float values as F32 or F16, u8 pixels as U8).
    pub fn upload_as(
        gpu: &Gpu,
        name: &str,
        split: &Split,
        image_values: usize,
        binding: usize,
        format: PixelFormat,
    ) -> Result<Self> {
        let images = split.len();
        assert_eq!(
            split.float_images.is_some(),
            format != PixelFormat::U8,
            "{name}: {format:?} for this split's values"
        );
        let image_bytes = image_values * format.bytes_per_value();
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
        let per_chunk = images_per_binding(binding, image_bytes);
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
            let words = match (&split.float_images, format) {
                (Some(values), PixelFormat::F16) => pack_halves(&values[start..end]),
                (Some(values), _) => values[start..end].iter().map(|v| v.to_bits()).collect(),
                (None, _) => pack_words(&split.images[start..end]),
            };
            chunks.push(gpu.u32_buffer(&format!("{name}.pixels{c}"), &words)?);
        }
        let labels: Vec<u32> = split.labels.iter().map(|&l| u32::from(l)).collect();
        Ok(Self {
            images,
            image_values,
            pixel_format: format,
            images_per_chunk: per_chunk,
            chunks,
            labels: gpu.u32_buffer(&format!("{name}.labels"), &labels)?,
        })
    }
}

/// The largest storage binding the adapter allows.
pub fn binding_bytes(gpu: &Gpu) -> usize {
    let limits = gpu.limits();
    (limits.max_storage_buffer_binding_size as usize).min(limits.max_buffer_size as usize)
}

/// Two f16 a word: value i is the low half of word i/2 when i is even, the high half when
/// odd (what WGSL's unpack2x16float reads as components 0 and 1).
fn pack_halves(values: &[f32]) -> Vec<u32> {
    values
        .chunks(2)
        .map(|pair| {
            let half = |v: f32| u32::from(half::f16::from_f32(v).to_bits());
            half(pair[0]) | pair.get(1).map_or(0, |&v| half(v) << 16)
        })
        .collect()
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
