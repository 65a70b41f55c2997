//! Dataset names and where their files are found.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::dataset::{Dataset, Split};
use crate::error::DataError;
use crate::idx::{IdxImages, parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetName {
    /// The bundled subset of Fashion-MNIST: 10,000 training and 2,000 test images.
    FashionMnistMini,
    FashionMnist,
    Mnist,
}

impl DatasetName {
    pub const ALL: [DatasetName; 3] = [Self::FashionMnistMini, Self::FashionMnist, Self::Mnist];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::FashionMnistMini => "fashion-mnist-mini",
            Self::FashionMnist => "fashion-mnist",
            Self::Mnist => "mnist",
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
        Self::ALL.into_iter().find(|d| d.as_str() == s).ok_or_else(|| DataError::Config {
            message: format!("unknown dataset '{s}': expected one of fashion-mnist-mini, fashion-mnist, mnist"),
        })
    }
}

/// `$SHATTER_DATA` when set, else `./data`.
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

macro_rules! bundled {
    ($file:literal) => {
        include_bytes!(concat!("../../../assets/fashion-mnist-mini/", $file, ".gz"))
    };
}

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
    if let Some((i, bad)) = labels.iter().enumerate().find(|(_, l)| **l >= 10) {
        return Err(DataError::format(
            labels_path,
            format!("label {bad} of image {i} is not a class 0..9"),
        ));
    }
    if (images.rows, images.cols) != (28, 28) {
        return Err(DataError::format(
            images_path,
            format!("images are {}x{}, expected 28x28", images.rows, images.cols),
        ));
    }
    Ok(Split {
        images: images.pixels,
        labels,
    })
}

fn dataset(name: DatasetName, train: Split, test: Split) -> Dataset {
    Dataset {
        name: name.as_str().into(),
        classes: 10,
        channels: 1,
        height: 28,
        width: 28,
        train,
        test,
    }
}

/// The file `stem`, gzipped or raw, in `dir`.
fn find(dir: &Path, stem: &str) -> Option<PathBuf> {
    [format!("{stem}.gz"), stem.to_owned()]
        .into_iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

fn load_folder(name: DatasetName, dir: &Path) -> Result<Dataset, DataError> {
    let path = |stem: &str| find(dir, stem).expect("checked by the caller");
    let (ti, tl, vi, vl) = (
        path(TRAIN_IMAGES),
        path(TRAIN_LABELS),
        path(TEST_IMAGES),
        path(TEST_LABELS),
    );
    let train = split(read_idx_images(&ti)?, read_idx_labels(&tl)?, &ti, &tl)?;
    let test = split(read_idx_images(&vi)?, read_idx_labels(&vl)?, &vi, &vl)?;
    Ok(dataset(name, train, test))
}

fn complete(dir: &Path) -> bool {
    [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]
        .iter()
        .all(|stem| find(dir, stem).is_some())
}

/// Load a dataset. The bundled one is embedded in the binary; the others come from
/// `<data_dir>/<name>/` (Fashion-MNIST also from Debian's /usr/share/datasets/fashion-mnist).
pub fn load_dataset(name: DatasetName, data_dir: &Path) -> Result<Dataset, DataError> {
    match name {
        DatasetName::FashionMnistMini => {
            let p = |f: &str| PathBuf::from(format!("assets/fashion-mnist-mini/{f}.gz"));
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
            Ok(dataset(name, train, test))
        }
        DatasetName::FashionMnist | DatasetName::Mnist => {
            let local = data_dir.join(name.as_str());
            let mut places = vec![local];
            if name == DatasetName::FashionMnist {
                places.push(PathBuf::from("/usr/share/datasets/fashion-mnist"));
            }
            match places.iter().find(|dir| complete(dir)) {
                Some(dir) => load_folder(name, dir),
                None => {
                    let looked: Vec<String> =
                        places.iter().map(|p| p.display().to_string()).collect();
                    let mut how = format!("run `cargo xtask download {name}`");
                    if name == DatasetName::FashionMnist {
                        how.push_str(" or `apt-get install dataset-fashion-mnist`");
                    }
                    Err(DataError::Missing {
                        message: format!(
                            "dataset {name} not found (looked in {} for {TRAIN_IMAGES}.gz and the other three IDX files): {how}",
                            looked.join(" and ")
                        ),
                    })
                }
            }
        }
    }
}
