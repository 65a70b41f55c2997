//! CIFAR-10's binary format: files of 3,073-byte records, a label byte then 3,072 pixel
//! bytes (the 1,024 red values of a 32x32 image, then green, then blue: channel-major,
//! the layout shatter keeps in memory).

use std::path::{Path, PathBuf};

use crate::dataset::{Dataset, Split};
use crate::error::DataError;

pub const SIDE: usize = 32;
pub const CHANNELS: usize = 3;
pub const IMAGE_BYTES: usize = CHANNELS * SIDE * SIDE;
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
const CLASSES: usize = 10;

/// The folder the published archive unpacks to, inside the data directory.
pub const CIFAR10_DIR: &str = "cifar-10-batches-bin";
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
pub const TEST_FILE: &str = "test_batch.bin";

/// Parse the records of one file into `split`. `path` names the file in errors.
pub fn parse_cifar_records(bytes: &[u8], path: &Path, split: &mut Split) -> Result<(), DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD_BYTES) {
        return Err(DataError::Format {
            path: path.to_owned(),
            message: format!(
                "wrong record size: {} bytes is not a whole number of {RECORD_BYTES}-byte CIFAR-10 records (truncated or not a CIFAR-10 batch)",
                bytes.len()
            ),
        });
    }
    for (i, record) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        let label = record[0];
        if usize::from(label) >= CLASSES {
            return Err(DataError::Format {
                path: path.to_owned(),
                message: format!("record {i} has label {label}, not a class 0..9"),
            });
        }
        split.labels.push(label.into());
        split.images.extend_from_slice(&record[1..]);
    }
    Ok(())
}

fn read_into(path: &Path, split: &mut Split) -> Result<(), DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::Io {
        path: path.to_owned(),
        message: format!("cannot read: {e}"),
    })?;
    parse_cifar_records(&bytes, path, split)
}

/// Load `<data_dir>/cifar-10-batches-bin/`: 50,000 training images from the five data
/// batches and 10,000 test images.
pub fn load_cifar10(data_dir: &Path) -> Result<Dataset, DataError> {
    let dir = data_dir.join(CIFAR10_DIR);
    let files: Vec<PathBuf> = TRAIN_FILES
        .iter()
        .chain([&TEST_FILE])
        .map(|f| dir.join(f))
        .collect();
    if let Some(absent) = files.iter().find(|f| !f.is_file()) {
        return Err(DataError::Missing {
            message: format!(
                "dataset cifar10 not found: {} is missing (expected data_batch_1..5.bin and test_batch.bin in {}); run `cargo xtask download cifar10`",
                absent.display(),
                dir.display()
            ),
        });
    }
    let mut train = Split::default();
    for file in &files[..TRAIN_FILES.len()] {
        read_into(file, &mut train)?;
    }
    let mut test = Split::default();
    read_into(&files[TRAIN_FILES.len()], &mut test)?;
    Ok(Dataset {
        name: "cifar10".into(),
        classes: CLASSES,
        channels: CHANNELS,
        height: SIDE,
        width: SIDE,
        train,
        test,
    })
}
