//! `imagenet-mini`: a small generated image folder in ILSVRC 2012's layout
//! (`train/<wnid>/*.JPEG`, `val/<wnid>/*.JPEG`) that exercises the ImageNet path end to
//! end (folder listing, JPEG decoding, resizing, streaming, Inception V3, top-5) on any
//! machine, in seconds, with nothing to download.
//!
//! Each class is a colour and a stripe direction; each image a noisy, randomly sized photo
//! of its class's pattern (so the sizes differ, as ImageNet's do, and the resize is
//! exercised), JPEG-compressed. True labels are learnable; every image differs, so random
//! labels can be memorized.

use std::io::BufWriter;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::DataError;

/// The folder under the data directory.
pub const IMAGENET_MINI_DIR: &str = "imagenet-mini";
/// Its shape: classes, training and validation images per class. 40 training images are
/// one batch that Inception V3's batch norm is stable with at 75x75 (tests/inception_v3.rs),
/// and few enough that CI fits random labels in minutes on a CPU adapter.
pub const IMAGENET_MINI_CLASSES: usize = 10;
pub const IMAGENET_MINI_TRAIN_PER_CLASS: usize = 4;
pub const IMAGENET_MINI_VAL_PER_CLASS: usize = 2;
/// The side it loads at unless asked otherwise, and the crop the network sees: Inception
/// V3's smallest input, cropped from 86 as ImageNet's 299 is from 342 (87.5%).
pub const IMAGENET_MINI_IMAGE_SIZE: usize = 86;
pub const IMAGENET_MINI_CROP: usize = 75;
const SEED: u64 = 2012;

/// Class `c`'s folder name, shaped like a WordNet id.
fn wnid(class: usize) -> String {
    format!("n{:08}", 1_440_764 + class)
}

fn class_image(class: usize, rng: &mut ChaCha8Rng) -> RgbImage {
    let (w, h) = (rng.random_range(80..140u32), rng.random_range(80..140u32));
    let hue = class as f64 / IMAGENET_MINI_CLASSES as f64 * std::f64::consts::TAU;
    let colour = [0.0, 2.1, 4.2].map(|shift: f64| 128.0 + 100.0 * (hue + shift).cos());
    let angle = (class % 4) as f64 * std::f64::consts::FRAC_PI_4;
    let (dx, dy) = (angle.cos(), angle.sin());
    let period = 8.0 + (class / 4) as f64 * 6.0;
    let phase = rng.random_range(0.0..period);
    RgbImage::from_fn(w, h, |x, y| {
        let along = f64::from(x) * dx + f64::from(y) * dy + phase;
        let stripe = if (along / period).fract() < 0.5 {
            1.0
        } else {
            0.45
        };
        Rgb(colour.map(|c| (c * stripe + rng.random_range(-40.0..40.0)).clamp(0.0, 255.0) as u8))
    })
}

fn io(path: &Path, what: &str) -> impl FnOnce(std::io::Error) -> DataError {
    let path = path.to_owned();
    let what = what.to_owned();
    move |e| DataError::io(&path, &what, &e)
}

/// Write imagenet-mini to `<data_dir>/imagenet-mini/` unless it is there. It is made
/// under a temporary name and renamed into place whole, so a failure leaves nothing that
/// looks like the dataset.
pub fn ensure_imagenet_mini(data_dir: &Path) -> Result<std::path::PathBuf, DataError> {
    let root = data_dir.join(IMAGENET_MINI_DIR);
    if root.is_dir() {
        return Ok(root);
    }
    std::fs::create_dir_all(data_dir).map_err(io(data_dir, "create the folder"))?;
    let partial = data_dir.join(format!(
        ".{IMAGENET_MINI_DIR}.partial-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&partial);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    for (split, per_class) in [
        ("train", IMAGENET_MINI_TRAIN_PER_CLASS),
        ("val", IMAGENET_MINI_VAL_PER_CLASS),
    ] {
        for class in 0..IMAGENET_MINI_CLASSES {
            let dir = partial.join(split).join(wnid(class));
            std::fs::create_dir_all(&dir).map_err(io(&dir, "create the folder"))?;
            for i in 0..per_class {
                let path = dir.join(format!("{}_{i}.JPEG", wnid(class)));
                let file = std::fs::File::create(&path).map_err(io(&path, "create"))?;
                JpegEncoder::new_with_quality(BufWriter::new(file), 90)
                    .encode_image(&class_image(class, &mut rng))
                    .map_err(|e| DataError::format(&path, format!("cannot encode: {e}")))?;
            }
        }
    }
    match std::fs::rename(&partial, &root) {
        Ok(()) => Ok(root),
        // Another process made it meanwhile: theirs is the same.
        Err(_) if root.is_dir() => {
            let _ = std::fs::remove_dir_all(&partial);
            Ok(root)
        }
        Err(e) => Err(DataError::io(
            &root,
            "move the generated folder into place",
            &e,
        )),
    }
}
