//! Makes the bundled dataset, assets/fashion-mnist-mini (`cargo xtask make-mini`).

use std::path::Path;

use crate::error::DataError;
use crate::idx::{IdxImages, read_idx_images, read_idx_labels, write_idx_images, write_idx_labels};

const SPLITS: [(&str, &str); 2] = [
    ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
];

/// The first `keep` images and labels of one split of `source_dir`.
fn first(
    source_dir: &Path,
    (images_name, labels_name): (&str, &str),
    keep: usize,
) -> Result<(IdxImages, Vec<u8>), DataError> {
    let images_path = source_dir.join(images_name);
    let labels_path = source_dir.join(labels_name);
    let mut images = read_idx_images(&images_path)?;
    let mut labels = read_idx_labels(&labels_path)?;
    if labels.len() != images.count {
        return Err(DataError::format(
            &labels_path,
            format!(
                "{} labels but {} holds {} images",
                labels.len(),
                images_path.display(),
                images.count
            ),
        ));
    }
    if keep == 0 || keep > images.count {
        return Err(DataError::Config {
            message: format!(
                "{}: cannot keep {keep} images: it holds {}, so the subset must be 1 to {1}",
                images_path.display(),
                images.count,
            ),
        });
    }
    images.pixels.truncate(keep * images.rows * images.cols);
    images.count = keep;
    labels.truncate(keep);
    Ok((images, labels))
}

/// Make the bundled dataset: the first `train` training and first `test` test images of
/// the Fashion-MNIST gzip files in `source_dir`, written under the original names in
/// `dest_dir`, gzipped deterministically so that remaking it changes no byte.
///
/// Everything is read and checked before anything is written, so a bad source leaves
/// `dest_dir` as it was.
pub fn make_fashion_mnist_mini(
    source_dir: &Path,
    dest_dir: &Path,
    train: usize,
    test: usize,
) -> Result<(), DataError> {
    let subsets = [
        first(source_dir, SPLITS[0], train)?,
        first(source_dir, SPLITS[1], test)?,
    ];
    std::fs::create_dir_all(dest_dir)
        .map_err(|e| DataError::io(dest_dir, "create directory", &e))?;
    for ((images_name, labels_name), (images, labels)) in SPLITS.into_iter().zip(&subsets) {
        write_idx_images(&dest_dir.join(images_name), images, true)?;
        write_idx_labels(&dest_dir.join(labels_name), labels, true)?;
    }
    Ok(())
}
