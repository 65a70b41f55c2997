use std::path::Path;

use crate::error::DataError;
use crate::idx::{IdxImages, read_idx_images, read_idx_labels, write_idx_images, write_idx_labels};

/// Make the bundled dataset: the first `train` training and first `test` test images of
/// Fashion-MNIST in `source_dir`, written gzipped under the original names in `dest_dir`.
pub fn make_fashion_mnist_mini(
    source_dir: &Path,
    dest_dir: &Path,
    train: usize,
    test: usize,
) -> Result<(), DataError> {
    std::fs::create_dir_all(dest_dir)
        .map_err(|e| DataError::io(dest_dir, "create directory", &e))?;
    for (images_name, labels_name, keep) in [
        (
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            train,
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            test,
        ),
    ] {
        let images_path = source_dir.join(images_name);
        let images = read_idx_images(&images_path)?;
        let labels = read_idx_labels(&source_dir.join(labels_name))?;
        if keep > images.count || keep > labels.len() {
            return Err(DataError::Config {
                message: format!(
                    "{}: asked for {keep} images but it holds {}",
                    images_path.display(),
                    images.count
                ),
            });
        }
        let bytes = images.rows * images.cols;
        let subset = IdxImages {
            count: keep,
            rows: images.rows,
            cols: images.cols,
            pixels: images.pixels[..keep * bytes].to_vec(),
        };
        write_idx_images(&dest_dir.join(images_name), &subset, true)?;
        write_idx_labels(&dest_dir.join(labels_name), &labels[..keep], true)?;
    }
    Ok(())
}
