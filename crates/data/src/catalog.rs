//! Dataset names and where their files are found.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::cifar::load_cifar10;
use crate::dataset::{Dataset, Label, Split};
use crate::error::DataError;
use crate::folder::{FOLDER_IMAGE_SIZE, FolderIndex, folder_dataset_name};
use crate::idx::{IdxImages, parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels};
use crate::imagenet_mini::{
    IMAGENET_MINI_CROP, IMAGENET_MINI_DIR, IMAGENET_MINI_IMAGE_SIZE, ensure_imagenet_mini,
};
use crate::streamed::StreamedDataset;

/// The datasets shatter knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// The bundled subset of Fashion-MNIST: its first 10,000 training and 2,000 test images.
    FashionMnistMini,
    /// Fashion-MNIST: 60,000 training and 10,000 test images.
    FashionMnist,
    /// MNIST: 60,000 training and 10,000 test images.
    Mnist,
    /// CIFAR-10 (binary version): 50,000 training and 10,000 test images, 3x32x32.
    Cifar10,
}

impl DatasetName {
    pub const ALL: [DatasetName; 4] = [
        Self::FashionMnistMini,
        Self::FashionMnist,
        Self::Mnist,
        Self::Cifar10,
    ];

    /// [channels, height, width] of every image, and the number of classes.
    pub fn image_shape(&self) -> ([usize; 3], usize) {
        match self {
            Self::Cifar10 => ([3, 32, 32], 10),
            Self::FashionMnistMini | Self::FashionMnist | Self::Mnist => ([1, SIDE, SIDE], CLASSES),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::FashionMnistMini => "fashion-mnist-mini",
            Self::FashionMnist => "fashion-mnist",
            Self::Mnist => "mnist",
            Self::Cifar10 => "cifar10",
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, DataError> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(DatasetName::as_str).collect();
                DataError::Config {
                    message: format!(
                        "unknown dataset '{s}': expected one of {}",
                        names.join(", ")
                    ),
                }
            })
    }
}

/// Where downloaded datasets live: `$SHATTER_DATA` when set and non-empty, else `./data`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("SHATTER_DATA")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("data"))
}

const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";
const DEBIAN_FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";
const BUNDLED_DIR: &str = "assets/fashion-mnist-mini";
/// MNIST and Fashion-MNIST: ten classes of 28x28 grey images.
const CLASSES: usize = 10;
const SIDE: usize = 28;

macro_rules! bundled {
    ($file:literal) => {
        include_bytes!(concat!("../../../assets/fashion-mnist-mini/", $file, ".gz"))
    };
}

/// One split from its IDX files, checked: as many labels as images, every label a class,
/// 28x28 images.
fn split(
    images: IdxImages,
    labels: Vec<u8>,
    images_path: &Path,
    labels_path: &Path,
) -> Result<Split, DataError> {
    if images.count != labels.len() {
        return Err(DataError::format(
            labels_path,
            format!(
                "{} labels but {} holds {} images",
                labels.len(),
                images_path.display(),
                images.count
            ),
        ));
    }
    if let Some((i, bad)) = labels
        .iter()
        .enumerate()
        .find(|(_, l)| usize::from(**l) >= CLASSES)
    {
        return Err(DataError::format(
            labels_path,
            format!(
                "label {bad} of image {i} is not a class 0..={}",
                CLASSES - 1
            ),
        ));
    }
    if (images.rows, images.cols) != (SIDE, SIDE) {
        return Err(DataError::format(
            images_path,
            format!(
                "images are {}x{}, expected {SIDE}x{SIDE}",
                images.rows, images.cols
            ),
        ));
    }
    let labels = labels.into_iter().map(Label::from).collect();
    Ok(Split::from_u8(images.pixels, labels))
}

fn dataset(name: DatasetName, train: Split, test: Split) -> Dataset {
    Dataset {
        name: name.as_str().into(),
        classes: CLASSES,
        channels: 1,
        height: SIDE,
        width: SIDE,
        train,
        test,
    }
}

/// The four files of an IDX dataset in `dir` (each gzipped or raw), if all are there.
fn locate(dir: &Path) -> Option<[PathBuf; 4]> {
    let find = |stem: &str| {
        [format!("{stem}.gz"), stem.to_owned()]
            .into_iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file())
    };
    Some([
        find(TRAIN_IMAGES)?,
        find(TRAIN_LABELS)?,
        find(TEST_IMAGES)?,
        find(TEST_LABELS)?,
    ])
}

fn load_files(name: DatasetName, [ti, tl, vi, vl]: [PathBuf; 4]) -> Result<Dataset, DataError> {
    let train = split(read_idx_images(&ti)?, read_idx_labels(&tl)?, &ti, &tl)?;
    let test = split(read_idx_images(&vi)?, read_idx_labels(&vl)?, &vi, &vl)?;
    Ok(dataset(name, train, test))
}

/// Where a downloadable dataset is looked for, in order.
fn places(name: DatasetName, data_dir: &Path) -> Vec<PathBuf> {
    let mut places = vec![data_dir.join(name.as_str())];
    if name == DatasetName::FashionMnist {
        // Debian and Ubuntu package it (`dataset-fashion-mnist`), so no download is needed.
        places.push(PathBuf::from(DEBIAN_FASHION_MNIST));
    }
    places
}

/// Load from the first of `places` that holds all four files.
fn load_from(name: DatasetName, places: &[PathBuf]) -> Result<Dataset, DataError> {
    match places.iter().find_map(|dir| locate(dir)) {
        Some(files) => load_files(name, files),
        None => Err(missing(name, places)),
    }
}

fn missing(name: DatasetName, places: &[PathBuf]) -> DataError {
    let looked: Vec<String> = places.iter().map(|p| p.display().to_string()).collect();
    let mut how = format!("run `cargo xtask download {name}`");
    if name == DatasetName::FashionMnist {
        how.push_str(" or `apt-get install dataset-fashion-mnist`");
    }
    DataError::Missing {
        message: format!(
            "dataset {name} not found: looked in {} for {TRAIN_IMAGES}(.gz), {TRAIN_LABELS}(.gz), \
             {TEST_IMAGES}(.gz) and {TEST_LABELS}(.gz); {how}",
            looked.join(" and ")
        ),
    }
}

fn load_bundled() -> Result<Dataset, DataError> {
    // Errors name the asset as it sits in the source tree, the only place it can be fixed.
    let p = |stem: &str| PathBuf::from(format!("{BUNDLED_DIR}/{stem}.gz"));
    let train = split(
        parse_idx_images(bundled!("train-images-idx3-ubyte"), &p(TRAIN_IMAGES))?,
        parse_idx_labels(bundled!("train-labels-idx1-ubyte"), &p(TRAIN_LABELS))?,
        &p(TRAIN_IMAGES),
        &p(TRAIN_LABELS),
    )?;
    let test = split(
        parse_idx_images(bundled!("t10k-images-idx3-ubyte"), &p(TEST_IMAGES))?,
        parse_idx_labels(bundled!("t10k-labels-idx1-ubyte"), &p(TEST_LABELS))?,
        &p(TEST_IMAGES),
        &p(TEST_LABELS),
    )?;
    Ok(dataset(DatasetName::FashionMnistMini, train, test))
}

/// Load a dataset, with true labels and pixels.
///
/// `fashion-mnist-mini` is embedded in the binary, so it works offline with no files at
/// run time. The IDX datasets come from `<data_dir>/<name>/` with the original file names,
/// each gzipped or raw (Fashion-MNIST also from Debian's `/usr/share/datasets/fashion-mnist`);
/// CIFAR-10 from `<data_dir>/cifar-10-batches-bin/`, as its archive unpacks.
pub fn load_dataset(name: DatasetName, data_dir: &Path) -> Result<Dataset, DataError> {
    match name {
        DatasetName::FashionMnistMini => load_bundled(),
        DatasetName::FashionMnist | DatasetName::Mnist => load_from(name, &places(name, data_dir)),
        DatasetName::Cifar10 => load_cifar10(data_dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The integration tests cannot make Fashion-MNIST missing where Debian's package is
    // installed, so its message is checked here.
    #[test]
    fn fashion_mnist_missing_names_both_places_and_both_remedies() {
        let name = DatasetName::FashionMnist;
        let places = places(name, Path::new("/nonexistent/data"));
        let err = missing(name, &places);
        assert!(matches!(err, DataError::Missing { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "dataset fashion-mnist not found: looked in /nonexistent/data/fashion-mnist and \
             /usr/share/datasets/fashion-mnist for train-images-idx3-ubyte(.gz), \
             train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz) and \
             t10k-labels-idx1-ubyte(.gz); run `cargo xtask download fashion-mnist` or \
             `apt-get install dataset-fashion-mnist`"
        );
    }

    #[test]
    fn mnist_is_looked_for_only_in_the_data_directory() {
        assert_eq!(
            places(DatasetName::Mnist, Path::new("d")),
            [PathBuf::from("d/mnist")]
        );
    }
}

/// What `--dataset` names: one of the known datasets, an image folder (`folder:PATH`), or
/// ILSVRC 2012 in its usual layout (`imagenet:PATH`: `train/<wnid>/` and `val/<wnid>/`; plain
/// `imagenet` looks in `<data_dir>/imagenet`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatasetSpec {
    Named(DatasetName),
    Folder(PathBuf),
    /// ILSVRC 2012 at the path, or in the data directory where None.
    ImageNet(Option<PathBuf>),
    /// The generated ImageNet-layout folder (crate::imagenet_mini), made in the data
    /// directory on first use.
    ImageNetMini,
}

/// The side ImageNet images load at unless asked otherwise, and the crop Inception V3
/// sees: TensorFlow's Inception evaluation takes the central 87.5% of an image and resizes
/// it to 299, that is, a 299 crop of the image at 342 (299 / 0.875). Augmented runs crop
/// at random offsets of the same 342 (crate docs: docs/imagenet.md).
pub const IMAGENET_IMAGE_SIZE: usize = 342;
pub const IMAGENET_CROP: usize = 299;
/// Where plain `imagenet` is looked for in the data directory.
pub const IMAGENET_DIR: &str = "imagenet";

impl DatasetSpec {
    /// The side a folder's images load at when no image size is given; None for the named
    /// datasets, whose images have their own size.
    pub fn default_image_size(&self) -> Option<usize> {
        match self {
            Self::Named(_) => None,
            Self::Folder(_) => Some(FOLDER_IMAGE_SIZE),
            Self::ImageNet(_) => Some(IMAGENET_IMAGE_SIZE),
            Self::ImageNetMini => Some(IMAGENET_MINI_IMAGE_SIZE),
        }
    }

    /// The crop the network sees when none is given: Inception V3's for the ImageNet
    /// folders; None where the caller's default (the paper's 28) applies.
    pub fn default_crop(&self) -> Option<usize> {
        match self {
            Self::ImageNet(_) => Some(IMAGENET_CROP),
            Self::ImageNetMini => Some(IMAGENET_MINI_CROP),
            Self::Named(_) | Self::Folder(_) => None,
        }
    }

    /// The image folder it names, its name in records, and whether it has ILSVRC 2012's
    /// layout; None for the named datasets. imagenet-mini is generated here when missing.
    pub fn folder(&self, data_dir: &Path) -> Result<Option<(PathBuf, String, bool)>, DataError> {
        Ok(match self {
            Self::Named(_) => None,
            Self::Folder(root) => Some((root.clone(), folder_dataset_name(root, false), false)),
            Self::ImageNet(Some(root)) => {
                Some((root.clone(), folder_dataset_name(root, true), true))
            }
            Self::ImageNet(None) => {
                let root = data_dir.join(IMAGENET_DIR);
                if !root.join("train").is_dir() || !root.join("val").is_dir() {
                    return Err(DataError::Missing {
                        message: format!(
                            "dataset imagenet not found: looked for {0}/train/<wnid>/ and {0}/val/<wnid>/; \
                             ILSVRC 2012 cannot be downloaded without an account at image-net.org: \
                             put it there (docs/imagenet.md) or give --dataset imagenet:PATH",
                            root.display()
                        ),
                    });
                }
                Some((root, IMAGENET_DIR.to_owned(), true))
            }
            Self::ImageNetMini => Some((
                ensure_imagenet_mini(data_dir)?,
                IMAGENET_MINI_DIR.to_owned(),
                true,
            )),
        })
    }
}

impl FromStr for DatasetSpec {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, DataError> {
        for (prefix, make) in [
            ("folder:", Self::Folder as fn(PathBuf) -> Self),
            ("imagenet:", |path| Self::ImageNet(Some(path))),
        ] {
            if let Some(path) = s.strip_prefix(prefix) {
                if path.is_empty() {
                    return Err(DataError::Config {
                        message: format!("dataset '{prefix}': give the folder, as {prefix}PATH"),
                    });
                }
                return Ok(make(PathBuf::from(path)));
            }
        }
        if s == IMAGENET_MINI_DIR {
            return Ok(Self::ImageNetMini);
        }
        if s == IMAGENET_DIR {
            return Ok(Self::ImageNet(None));
        }
        s.parse::<DatasetName>().map(Self::Named).map_err(|_| {
            let names: Vec<&str> = DatasetName::ALL.iter().map(DatasetName::as_str).collect();
            DataError::Config {
                message: format!(
                    "unknown dataset '{s}': expected one of {}, {IMAGENET_DIR}, {IMAGENET_MINI_DIR}, folder:PATH, imagenet:PATH",
                    names.join(", ")
                ),
            }
        })
    }
}

/// Load what `spec` names whole (see [`load_dataset`]); folders at `folder_size` x
/// `folder_size` (default: [`DatasetSpec::default_image_size`]).
pub fn load_spec(
    spec: &DatasetSpec,
    data_dir: &Path,
    folder_size: Option<usize>,
) -> Result<Dataset, DataError> {
    match (spec, spec.folder(data_dir)?) {
        (DatasetSpec::Named(name), _) => load_dataset(*name, data_dir),
        (_, Some((root, name, imagenet))) => {
            let size = folder_size
                .or(spec.default_image_size())
                .unwrap_or(FOLDER_IMAGE_SIZE);
            let index = FolderIndex::scan(&root, imagenet)?;
            StreamedDataset::new(index, name, size).load_whole()
        }
        (_, None) => unreachable!("every spec but a named dataset is a folder"),
    }
}
