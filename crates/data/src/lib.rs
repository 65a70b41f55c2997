//! shatter-data: datasets as the paper uses them, on the CPU only: file formats, the
//! bundled Fashion-MNIST subset, the preprocessing recipe's reference, and the paper's
//! randomizations of labels and pixels. It knows nothing of the GPU.

mod catalog;
mod corruption;
mod dataset;
mod error;
mod idx;
mod standardize;
mod subset;

pub use catalog::{DatasetName, default_data_dir, load_dataset};
pub use corruption::{Corruption, CorruptionReport, apply_corruption};
pub use dataset::{Dataset, Split};
pub use error::DataError;
pub use idx::{
    IdxImages, parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels,
    write_idx_images, write_idx_labels,
};
pub use standardize::per_image_standardization;
pub use subset::make_fashion_mnist_mini;
