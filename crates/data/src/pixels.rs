//! The paper's pixel randomizations (section 2.1), applied to the training and the test
//! set alike. A "pixel" is a position of the image: its values in every channel move
//! together, so a permuted colour image keeps its colours (a CHOICE; for one-channel
//! datasets it makes no difference).

use rand::Rng;
use rand::seq::SliceRandom;

use crate::dataset::Dataset;

/// Apply `positions` (a permutation of 0..height*width) to every channel plane of `image`:
/// the value at position `positions[i]` moves to position `i`.
pub(crate) fn permute_image(image: &mut [u8], positions: &[usize], scratch: &mut Vec<u8>) {
    let plane = positions.len();
    for channel in image.chunks_exact_mut(plane) {
        scratch.clear();
        scratch.extend(positions.iter().map(|&p| channel[p]));
        channel.copy_from_slice(scratch);
    }
}

fn identity(dataset: &Dataset) -> Vec<usize> {
    (0..dataset.height * dataset.width).collect()
}

/// The shuffled-pixels permutation of an image of `plane` positions: one draw, the
/// same for the resident and the streamed paths.
pub(crate) fn draw_pixel_permutation(plane: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..plane).collect();
    positions.shuffle(rng);
    positions
}

/// Shuffled pixels: one permutation of pixel positions, drawn once, applied to every
/// image of both splits.
pub(crate) fn shuffle_pixels(dataset: &mut Dataset, rng: &mut impl Rng) {
    let positions = draw_pixel_permutation(dataset.height * dataset.width, rng);
    let bytes = dataset.image_bytes();
    let mut scratch = Vec::with_capacity(positions.len());
    for split in [&mut dataset.train, &mut dataset.test] {
        for image in split.images.chunks_exact_mut(bytes) {
            permute_image(image, &positions, &mut scratch);
        }
    }
}

/// Random pixels: an independent permutation for each image of both splits (training
/// images first, then test images, in order).
pub(crate) fn randomize_pixels(dataset: &mut Dataset, rng: &mut impl Rng) {
    let mut positions = identity(dataset);
    let bytes = dataset.image_bytes();
    let mut scratch = Vec::with_capacity(positions.len());
    for split in [&mut dataset.train, &mut dataset.test] {
        for image in split.images.chunks_exact_mut(bytes) {
            positions.shuffle(rng);
            permute_image(image, &positions, &mut scratch);
        }
    }
}

/// A standard normal draw (Box-Muller), from two uniform draws of `rng`.
fn standard_normal(rng: &mut impl Rng) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Per-channel mean and variance of the training images, on the scale of u8 / 255.
fn channel_statistics(dataset: &Dataset) -> (Vec<f64>, Vec<f64>) {
    let plane = dataset.height * dataset.width;
    let bytes = dataset.image_bytes();
    let mut sums = vec![(0.0f64, 0.0f64); dataset.channels];
    for image in dataset.train.images.chunks_exact(bytes) {
        for (c, channel) in image.chunks_exact(plane).enumerate() {
            for &p in channel {
                let x = f64::from(p) / 255.0;
                sums[c].0 += x;
                sums[c].1 += x * x;
            }
        }
    }
    let count = (dataset.train.len() * plane).max(1) as f64;
    let mean: Vec<f64> = sums.iter().map(|s| s.0 / count).collect();
    let variance = sums
        .iter()
        .zip(&mean)
        .map(|(s, m)| (s.1 / count - m * m).max(0.0))
        .collect();
    (mean, variance)
}

/// Gaussian: every value of every image, training and test, drawn from a Gaussian with
/// the mean and variance of its channel over the original training images (a CHOICE of
/// PAPER.md: per channel, before per-image standardization). The images become f32.
/// Returns the per-channel (mean, variance) used.
pub(crate) fn gaussian_pixels(dataset: &mut Dataset, rng: &mut impl Rng) -> (Vec<f64>, Vec<f64>) {
    let (mean, variance) = channel_statistics(dataset);
    let plane = dataset.height * dataset.width;
    let values = dataset.image_bytes();
    for split in [&mut dataset.train, &mut dataset.test] {
        let float: Vec<f32> = (0..split.len() * values)
            .map(|i| {
                let c = (i % values) / plane;
                (mean[c] + variance[c].sqrt() * standard_normal(rng)) as f32
            })
            .collect();
        split.images = Vec::new();
        split.float_images = Some(float);
    }
    (mean, variance)
}
