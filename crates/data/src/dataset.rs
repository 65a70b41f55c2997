//! A dataset in memory: u8 images (f32 after the Gaussian randomization) and labels, the
//! form it is uploaded to the GPU in.

use crate::error::DataError;

/// A class index. u16: ImageNet's 1,000 classes and any folder of up to 65,536.
pub type Label = u16;

/// One split (training or test): the images and their labels, in the same order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Split {
    /// `len()` images of `Dataset::image_bytes()` each, channel-major (CHW) per image.
    /// Empty when `float_images` holds the images instead.
    pub images: Vec<u8>,
    /// One class index per image, below `Dataset::classes`.
    pub labels: Vec<Label>,
    /// The images as real values on the scale of u8 / 255, when a randomization made them
    /// real-valued (the Gaussian mode); None for u8 images.
    pub float_images: Option<Vec<f32>>,
}

impl Split {
    /// A split of u8 images.
    pub fn from_u8(images: Vec<u8>, labels: Vec<Label>) -> Self {
        Self {
            images,
            labels,
            float_images: None,
        }
    }

    /// The number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i`'s bytes. Panics when `i >= len()`.
    pub fn image(&self, i: usize, image_bytes: usize) -> &[u8] {
        &self.images[i * image_bytes..(i + 1) * image_bytes]
    }
}

/// A classification dataset of images all of one shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub classes: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub train: Split,
    pub test: Split,
}

impl Dataset {
    /// Bytes per image: channels * height * width.
    pub fn image_bytes(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Keep the first `n` training images (the paper's smaller-scale runs; the first `n`
    /// rather than a random draw, so a subset is the same whatever the seed).
    pub fn subset_train(&mut self, n: usize) -> Result<(), DataError> {
        let values = self.image_bytes();
        keep_first(&self.name, "training", &mut self.train, n, values)
    }

    /// Keep the first `n` test images: a faster evaluation on slow adapters, at the cost
    /// of a noisier test accuracy.
    pub fn subset_test(&mut self, n: usize) -> Result<(), DataError> {
        let values = self.image_bytes();
        keep_first(&self.name, "test", &mut self.test, n, values)
    }
}

fn keep_first(
    dataset: &str,
    which: &str,
    split: &mut Split,
    n: usize,
    values: usize,
) -> Result<(), DataError> {
    let have = split.len();
    if n == 0 || n > have {
        return Err(DataError::Config {
            message: keep_first_message(dataset, which, n, have),
        });
    }
    split.images.truncate(n * values);
    if let Some(float) = &mut split.float_images {
        float.truncate(n * values);
    }
    split.labels.truncate(n);
    Ok(())
}

/// Why a subset of `n` of a split's `have` images cannot be kept.
pub(crate) fn keep_first_message(dataset: &str, which: &str, n: usize, have: usize) -> String {
    format!(
        "cannot keep {n} {which} images: {dataset} has {have}, so the subset must be 1 to {have}"
    )
}
