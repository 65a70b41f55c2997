//! shatter-data: the datasets of the randomization tests, on the CPU only.
//!
//! - [`read_idx_images`] and friends: the IDX format of MNIST and Fashion-MNIST, gzipped or raw.
//! - [`load_dataset`]: datasets by name; `fashion-mnist-mini` is embedded in the binary.
//! - [`apply_corruption`]: the paper's randomizations of the training data (section 2.1),
//!   drawn once from a seed, with a report of what they changed.
//! - [`per_image_standardization`]: the preprocessing recipe, the CPU spec of the GPU
//!   batch kernel.
//! - [`make_fashion_mnist_mini`]: makes the bundled subset.
//!
//! It knows nothing of the GPU: the trainer uploads a [`Dataset`] as it is (u8 pixels).
//! Every failure is a [`DataError`] whose message is one line naming the file and fault.
//!
//! How the crates fit together, a training step's data flow and where each kernel lives:
//! docs/architecture.md in the repository.

mod catalog;
mod cifar;
mod corruption;
mod dataset;
mod decode;
mod error;
mod folder;
mod idx;
mod imagenet_mini;
mod pixels;
mod source;
mod standardize;
mod stream;
mod streamed;
mod subset;
mod synthetic;

pub use catalog::{
    DatasetName, DatasetSpec, IMAGENET_CROP, IMAGENET_DIR, IMAGENET_IMAGE_SIZE, default_data_dir,
    load_dataset, load_spec,
};
pub use cifar::{
    CIFAR10_DIR, RECORD_BYTES, TEST_FILE, TRAIN_FILES, load_cifar10, parse_cifar_records,
};
pub use corruption::{Corruption, CorruptionReport, MAX_CLASSES, apply_corruption};
pub use dataset::{Dataset, Label, Split};
pub use decode::{MAX_DECODED_SIDE, decode_image};
pub use error::DataError;
pub use folder::{FOLDER_IMAGE_SIZE, FileList, FolderIndex, load_image, load_image_folder};
pub use idx::{
    IdxImages, parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels,
    write_idx_images, write_idx_labels,
};
pub use imagenet_mini::{
    IMAGENET_MINI_CLASSES, IMAGENET_MINI_CROP, IMAGENET_MINI_DIR, IMAGENET_MINI_IMAGE_SIZE,
    IMAGENET_MINI_TRAIN_PER_CLASS, IMAGENET_MINI_VAL_PER_CLASS, ensure_imagenet_mini,
};
pub use source::{LoadPlan, Residence, RunDataset, images_per_binding, load_run_dataset};
pub use standardize::{per_image_standardization, per_image_standardization_f32};
pub use stream::{
    DecodeRecipe, DecodedBatch, ImageStream, QUEUED_BATCHES_PER_WORKER, default_decode_threads,
};
pub use streamed::StreamedDataset;
pub use subset::make_fashion_mnist_mini;
pub use synthetic::write_synthetic_cifar10;
