//! CIFAR-10's binary batches: reading files the test writes, and one clear error per fault.

use std::path::Path;

use shatter_data::{
    CIFAR10_DIR, DataError, DatasetName, RECORD_BYTES, TEST_FILE, TRAIN_FILES, load_dataset,
};

/// A record whose label is `label` and whose pixels all equal `value`.
fn record(label: u8, value: u8) -> Vec<u8> {
    let mut r = vec![value; RECORD_BYTES];
    r[0] = label;
    r
}

/// Write the six files with `per_file` records each; record j of file f has label
/// (f + j) % 10 and pixels 10 f + j.
fn write_cifar(data_dir: &Path, per_file: usize) {
    let dir = data_dir.join(CIFAR10_DIR);
    std::fs::create_dir_all(&dir).unwrap();
    for (f, name) in TRAIN_FILES.iter().chain([&TEST_FILE]).enumerate() {
        let bytes: Vec<u8> = (0..per_file)
            .flat_map(|j| record(((f + j) % 10) as u8, (10 * f + j) as u8))
            .collect();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn reads_the_five_training_batches_in_order_and_the_test_batch() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar(dir.path(), 3);
    let d = load_dataset(DatasetName::Cifar10, dir.path()).unwrap();
    assert_eq!((d.channels, d.height, d.width, d.classes), (3, 32, 32, 10));
    assert_eq!((d.train.len(), d.test.len()), (15, 3));
    assert_eq!(
        d.train.labels,
        vec![0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6]
    );
    assert_eq!(d.test.labels, vec![5, 6, 7]);
    // Image 4 is record 1 of file 1: every pixel 11.
    assert!(d.train.image(4, 3072).iter().all(|&p| p == 11));
    assert!(d.test.image(2, 3072).iter().all(|&p| p == 52));
}

fn error_of(setup: impl FnOnce(&Path)) -> (DataError, String) {
    let dir = tempfile::tempdir().unwrap();
    write_cifar(dir.path(), 2);
    setup(&dir.path().join(CIFAR10_DIR));
    let err = load_dataset(DatasetName::Cifar10, dir.path()).unwrap_err();
    let text = err.to_string();
    (err, text)
}

#[test]
fn a_truncated_batch_names_the_file_and_the_record_size() {
    let (err, text) = error_of(|d| {
        let path = d.join("data_batch_3.bin");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    });
    assert!(matches!(err, DataError::Format { .. }));
    assert!(text.ends_with(
        "data_batch_3.bin: wrong record size: 6046 bytes is not a whole number of 3073-byte CIFAR-10 records (truncated or not a CIFAR-10 batch)"
    ), "{text}");
}

#[test]
fn a_label_out_of_range_names_the_record() {
    let (_, text) = error_of(|d| {
        let mut bytes = record(3, 0);
        bytes.extend(record(12, 0));
        std::fs::write(d.join(TEST_FILE), bytes).unwrap();
    });
    assert!(
        text.ends_with("test_batch.bin: record 1 has label 12, not a class 0..9"),
        "{text}"
    );
}

#[test]
fn a_missing_batch_says_which_and_how_to_get_the_dataset() {
    let (err, text) = error_of(|d| std::fs::remove_file(d.join("data_batch_5.bin")).unwrap());
    assert!(matches!(err, DataError::Missing { .. }));
    assert!(text.starts_with("dataset cifar10 not found: "), "{text}");
    assert!(text.contains("data_batch_5.bin is missing"), "{text}");
    assert!(
        text.ends_with("run `cargo xtask download cifar10`"),
        "{text}"
    );
}
