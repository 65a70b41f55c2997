//! Image folders, for ImageNet and a user's own pictures: `ROOT/train/<class>/` and
//! `ROOT/test/<class>/` (or `ROOT/val/<class>/`, ILSVRC 2012's layout) of JPEG or PNG
//! files. Classes are the training sub-folders in name order; files are taken in name
//! order within each class, so an index (and every randomization drawn over it) is the
//! same on every machine.
//!
//! [`FolderIndex::scan`] lists the files without opening them; a dataset that fits is then
//! decoded whole ([`load_image_folder`]), a larger one streamed (crate::stream).

use std::path::{Path, PathBuf};

use crate::corruption::MAX_CLASSES;
use crate::dataset::{Dataset, Label, Split};
use crate::decode::decode_image;
use crate::error::DataError;
use crate::streamed::StreamedDataset;

/// The side of folder images when nothing else is asked: CIFAR-10's, so the batch kernel's
/// 28x28 crop and the paper's models apply unchanged.
pub const FOLDER_IMAGE_SIZE: usize = 32;

/// The files of one split and their labels (true as listed; a randomization changes
/// them), in the index's order: what a streamed split decodes from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileList {
    pub files: Vec<PathBuf>,
    pub labels: Vec<Label>,
}

impl FileList {
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// An image folder's classes and files, listed but not read.
#[derive(Clone, Debug, PartialEq)]
pub struct FolderIndex {
    pub classes: Vec<String>,
    pub train: FileList,
    pub test: FileList,
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let read = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, "read the folder", &e))?;
    let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    Ok(entries)
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn class_dirs(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    Ok(sorted_entries(dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .collect())
}

fn images_in(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    Ok(sorted_entries(dir)?
        .into_iter()
        .filter(|p| is_image(p))
        .collect())
}

impl FolderIndex {
    /// List `ROOT/train/` and the test split: `ROOT/test/` or `ROOT/val/`, or only `val/`
    /// when `val_only` (ILSVRC 2012's layout). Every fault is one line naming the folder:
    /// no class folders, a class with no training images, a test class unknown to
    /// training, a training class missing from the test split.
    pub fn scan(root: &Path, val_only: bool) -> Result<Self, DataError> {
        let train_dir = root.join("train");
        let test_names: &[&str] = if val_only { &["val"] } else { &["test", "val"] };
        let test_dir = test_names.iter().map(|d| root.join(d)).find(|d| d.is_dir());
        let (true, Some(test_dir)) = (train_dir.is_dir(), test_dir) else {
            let test = if val_only {
                root.join("val").display().to_string()
            } else {
                format!("{} (or val/)", root.join("test").display())
            };
            return Err(DataError::Missing {
                message: format!(
                    "image folder {}: expected {} and {test}, each with one sub-folder of JPEG or PNG images per class",
                    root.display(),
                    train_dir.display(),
                ),
            });
        };
        let class_paths = class_dirs(&train_dir)?;
        let classes: Vec<String> = class_paths.iter().map(|p| file_name(p)).collect();
        if classes.is_empty() || classes.len() > MAX_CLASSES {
            return Err(DataError::format(
                &train_dir,
                format!(
                    "{} class folders; shatter takes 1 to {MAX_CLASSES}, one sub-folder of images per class",
                    classes.len()
                ),
            ));
        }
        let mut train = FileList::default();
        for (label, dir) in class_paths.iter().enumerate() {
            let files = images_in(dir)?;
            if files.is_empty() {
                return Err(DataError::format(
                    dir,
                    "no .jpg, .jpeg or .png images in this class folder",
                ));
            }
            train
                .labels
                .extend(std::iter::repeat_n(label as Label, files.len()));
            train.files.extend(files);
        }
        let mut test = FileList::default();
        let mut seen = vec![false; classes.len()];
        for dir in class_dirs(&test_dir)? {
            let name = file_name(&dir);
            let Some(label) = classes.iter().position(|c| *c == name) else {
                return Err(DataError::format(
                    &dir,
                    format!(
                        "class '{name}' is not among the training classes ({})",
                        list_classes(&classes)
                    ),
                ));
            };
            seen[label] = true;
            let files = images_in(&dir)?;
            test.labels
                .extend(std::iter::repeat_n(label as Label, files.len()));
            test.files.extend(files);
        }
        if let Some(missing) = seen.iter().position(|s| !s) {
            return Err(DataError::format(
                &test_dir,
                format!(
                    "training class '{}' has no folder here; every class of {} needs one",
                    classes[missing],
                    train_dir.display()
                ),
            ));
        }
        Ok(Self {
            classes,
            train,
            test,
        })
    }
}

/// The class names for a message: all of them where few, else the first and last few.
fn list_classes(classes: &[String]) -> String {
    if classes.len() <= 12 {
        classes.join(", ")
    } else {
        format!(
            "{}, ... {} more ..., {}",
            classes[..3].join(", "),
            classes.len() - 6,
            classes[classes.len() - 3..].join(", ")
        )
    }
}

/// Read and decode one image file to `size` x `size` RGB, channel-major; errors name it.
pub fn load_image(path: &Path, size: usize) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, "read the image", &e))?;
    decode_image(&bytes, size)
        .map_err(|reason| DataError::format(path, format!("cannot decode image: {reason}")))
}

/// Decode `files` at `size` on all cores into one split labelled `labels`.
pub(crate) fn load_split(
    files: &[PathBuf],
    labels: &[Label],
    size: usize,
) -> Result<Split, DataError> {
    let image_bytes = 3 * size * size;
    let mut images = vec![0u8; files.len() * image_bytes];
    let threads = crate::stream::default_decode_threads();
    let per_thread = files.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let jobs: Vec<_> = images
            .chunks_mut(per_thread * image_bytes)
            .zip(files.chunks(per_thread))
            .map(|(out, files)| {
                scope.spawn(move || {
                    for (slot, file) in out.chunks_exact_mut(image_bytes).zip(files) {
                        slot.copy_from_slice(&load_image(file, size)?);
                    }
                    Ok::<(), DataError>(())
                })
            })
            .collect();
        // The first fault in file order, whichever thread met it.
        jobs.into_iter()
            .try_for_each(|job| job.join().expect("decoding thread panicked"))
    })?;
    Ok(Split::from_u8(images, labels.to_vec()))
}

/// The name a folder dataset carries in records: `folder:PATH` or `imagenet:PATH`.
pub fn folder_dataset_name(root: &Path, imagenet: bool) -> String {
    let kind = if imagenet { "imagenet" } else { "folder" };
    format!("{kind}:{}", root.display())
}

/// Load `ROOT/train/` and `ROOT/test/` (or `ROOT/val/`) whole, with images of `size` x `size`.
pub fn load_image_folder(root: &Path, size: usize) -> Result<Dataset, DataError> {
    let index = FolderIndex::scan(root, false)?;
    StreamedDataset::new(index, folder_dataset_name(root, false), size).load_whole()
}
