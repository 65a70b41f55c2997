//! Image folders, for ImageNet subsets and a user's own pictures: `ROOT/train/<class>/`
//! and `ROOT/test/<class>/` (or `ROOT/val/<class>/`) of JPEG or PNG files. Classes are the
//! training sub-folders in name order; each image is resized so its shorter side is
//! `size`, centre-cropped to `size` x `size`, and kept as RGB bytes.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use crate::dataset::{Dataset, Split};
use crate::error::DataError;

/// The side of folder images when nothing else is asked: CIFAR-10's, so the batch kernel's
/// 28x28 crop and the paper's models apply unchanged.
pub const FOLDER_IMAGE_SIZE: usize = 32;

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let read = std::fs::read_dir(dir).map_err(|e| DataError::Io {
        path: dir.to_owned(),
        message: format!("cannot read: {e}"),
    })?;
    let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    Ok(entries)
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
}

/// One image file as `size` x `size` RGB, channel-major.
fn load_image(path: &Path, size: usize) -> Result<Vec<u8>, DataError> {
    let decoded = image::open(path)
        .map_err(|e| DataError::Format {
            path: path.to_owned(),
            message: format!("cannot decode image: {e}"),
        })?
        .to_rgb8();
    let (w, h) = decoded.dimensions();
    let scale = size as f64 / f64::from(w.min(h));
    let (nw, nh) = (
        ((f64::from(w) * scale).round() as u32).max(size as u32),
        ((f64::from(h) * scale).round() as u32).max(size as u32),
    );
    let resized = image::imageops::resize(&decoded, nw, nh, FilterType::Triangle);
    let (left, top) = ((nw - size as u32) / 2, (nh - size as u32) / 2);
    let mut chw = vec![0u8; 3 * size * size];
    for y in 0..size {
        for x in 0..size {
            let p = resized.get_pixel(left + x as u32, top + y as u32);
            for c in 0..3 {
                chw[(c * size + y) * size + x] = p[c];
            }
        }
    }
    Ok(chw)
}

fn load_split(dir: &Path, classes: &[String], size: usize) -> Result<Split, DataError> {
    let mut split = Split::default();
    for entry in sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()) {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(label) = classes.iter().position(|c| *c == name) else {
            return Err(DataError::Format {
                path: entry,
                message: format!(
                    "class '{name}' is not among the training classes ({})",
                    classes.join(", ")
                ),
            });
        };
        for file in sorted_entries(&entry)?.into_iter().filter(|p| is_image(p)) {
            split.images.extend(load_image(&file, size)?);
            split.labels.push(label as u8);
        }
    }
    Ok(split)
}

/// Load `ROOT/train/` and `ROOT/test/` (or `ROOT/val/`) with images of `size` x `size`.
pub fn load_image_folder(root: &Path, size: usize) -> Result<Dataset, DataError> {
    let train_dir = root.join("train");
    let test_dir = ["test", "val"]
        .iter()
        .map(|d| root.join(d))
        .find(|d| d.is_dir());
    let (true, Some(test_dir)) = (train_dir.is_dir(), test_dir) else {
        return Err(DataError::Missing {
            message: format!(
                "image folder {}: expected {} and {} (or val/), each with one sub-folder of JPEG or PNG images per class",
                root.display(),
                train_dir.display(),
                root.join("test").display()
            ),
        });
    };
    let classes: Vec<String> = sorted_entries(&train_dir)?
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if classes.is_empty() || classes.len() > 256 {
        return Err(DataError::Format {
            path: train_dir,
            message: format!("{} class folders; shatter takes 1 to 256", classes.len()),
        });
    }
    let train = load_split(&train_dir, &classes, size)?;
    if train.is_empty() {
        return Err(DataError::Format {
            path: train_dir,
            message: "no .jpg, .jpeg or .png images in the class folders".into(),
        });
    }
    let test = load_split(&test_dir, &classes, size)?;
    Ok(Dataset {
        name: format!("folder:{}", root.display()),
        classes: classes.len(),
        channels: 3,
        height: size,
        width: size,
        train,
        test,
    })
}
