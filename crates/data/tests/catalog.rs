//! Dataset names, the bundled subset, and loading from a data directory.

use std::path::Path;

use shatter_data::{
    DataError, DatasetName, IdxImages, load_dataset, write_idx_images, write_idx_labels,
};

fn class_counts(labels: &[u16]) -> [usize; 10] {
    let mut counts = [0; 10];
    for &l in labels {
        counts[usize::from(l)] += 1;
    }
    counts
}

#[test]
fn names_round_trip_and_unknown_names_list_the_known_ones() {
    for name in DatasetName::ALL {
        assert_eq!(name.as_str().parse::<DatasetName>().unwrap(), name);
        assert_eq!(name.to_string(), name.as_str());
    }
    let err = "xyz".parse::<DatasetName>().unwrap_err();
    assert!(matches!(err, DataError::Config { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "unknown dataset 'xyz': expected one of fashion-mnist-mini, fashion-mnist, mnist, cifar10"
    );
    // Names are exact: no case folding, no trimming.
    assert!("MNIST".parse::<DatasetName>().is_err());
    assert!(" mnist".parse::<DatasetName>().is_err());
}

#[test]
fn bundled_subset_is_embedded_and_has_the_documented_shape() {
    // A data directory that does not exist: the bundled set needs no files at run time.
    let d = load_dataset(DatasetName::FashionMnistMini, Path::new("/nonexistent")).unwrap();
    assert_eq!(d.name, "fashion-mnist-mini");
    assert_eq!((d.classes, d.channels, d.height, d.width), (10, 1, 28, 28));
    assert_eq!(d.image_bytes(), 784);
    assert_eq!((d.train.len(), d.test.len()), (10_000, 2_000));
    assert_eq!(d.train.images.len(), 10_000 * 784);
    assert_eq!(d.test.images.len(), 2_000 * 784);
    // The class counts README.md reports; a changed asset must update both.
    assert_eq!(
        class_counts(&d.train.labels),
        [942, 1027, 1016, 1019, 974, 989, 1021, 1022, 990, 1000]
    );
    assert_eq!(
        class_counts(&d.test.labels),
        [200, 203, 214, 190, 219, 195, 197, 200, 194, 188]
    );
    // The first training image of Fashion-MNIST (an ankle boot, class 9).
    assert_eq!(d.train.labels[0], 9);
    let first: u32 = d.train.image(0, 784).iter().map(|&p| u32::from(p)).sum();
    assert_eq!(first, 76247);
}

/// Write a tiny MNIST-shaped dataset: `train` and `test` images, train images raw and the
/// rest gzipped, so that both spellings are found.
fn write_tiny(dir: &Path, train: usize, test: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for (prefix, n, gzip) in [("train", train, false), ("t10k", test, true)] {
        let ext = if gzip { ".gz" } else { "" };
        let images = IdxImages {
            count: n,
            rows: 28,
            cols: 28,
            pixels: (0..n * 784).map(|i| (i % 251) as u8).collect(),
        };
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        write_idx_images(
            &dir.join(format!("{prefix}-images-idx3-ubyte{ext}")),
            &images,
            gzip,
        )
        .unwrap();
        write_idx_labels(
            &dir.join(format!("{prefix}-labels-idx1-ubyte.gz")),
            &labels,
            true,
        )
        .unwrap();
    }
}

#[test]
fn mnist_loads_from_the_data_directory_gzipped_or_raw() {
    let data = tempfile::tempdir().unwrap();
    write_tiny(&data.path().join("mnist"), 30, 20);
    let d = load_dataset(DatasetName::Mnist, data.path()).unwrap();
    assert_eq!(d.name, "mnist");
    assert_eq!((d.train.len(), d.test.len()), (30, 20));
    assert_eq!((d.classes, d.channels, d.height, d.width), (10, 1, 28, 28));
    assert_eq!(d.train.labels[13], 3);
    assert_eq!(d.test.image(1, 784)[0], (784 % 251) as u8);
}

#[test]
fn fashion_mnist_prefers_the_data_directory() {
    let data = tempfile::tempdir().unwrap();
    write_tiny(&data.path().join("fashion-mnist"), 12, 7);
    let d = load_dataset(DatasetName::FashionMnist, data.path()).unwrap();
    assert_eq!((d.train.len(), d.test.len()), (12, 7));
}

#[test]
fn missing_mnist_says_where_it_looked_and_how_to_get_it() {
    let data = tempfile::tempdir().unwrap();
    let err = load_dataset(DatasetName::Mnist, data.path()).unwrap_err();
    assert!(matches!(err, DataError::Missing { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&data.path().join("mnist").display().to_string()),
        "{text}"
    );
    assert!(text.contains("train-images-idx3-ubyte(.gz)"), "{text}");
    assert!(text.ends_with("run `cargo xtask download mnist`"), "{text}");
    assert!(!text.contains('\n'));
}

#[test]
fn an_incomplete_directory_is_missing() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("mnist");
    write_tiny(&dir, 3, 2);
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let err = load_dataset(DatasetName::Mnist, data.path()).unwrap_err();
    assert!(matches!(err, DataError::Missing { .. }), "{err:?}");
}

#[test]
fn images_and_labels_that_disagree_in_count_are_a_format_error() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("mnist");
    write_tiny(&dir, 5, 2);
    let labels = dir.join("train-labels-idx1-ubyte.gz");
    write_idx_labels(&labels, &[1, 2, 3, 4], true).unwrap();
    let err = load_dataset(DatasetName::Mnist, data.path()).unwrap_err();
    assert!(matches!(err, DataError::Format { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: 4 labels but {} holds 5 images",
            labels.display(),
            dir.join("train-images-idx3-ubyte").display()
        )
    );
}

#[test]
fn a_label_outside_the_classes_is_a_format_error() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("mnist");
    write_tiny(&dir, 2, 3);
    let labels = dir.join("t10k-labels-idx1-ubyte.gz");
    write_idx_labels(&labels, &[0, 10, 1], true).unwrap();
    let err = load_dataset(DatasetName::Mnist, data.path()).unwrap_err();
    assert!(matches!(err, DataError::Format { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: label 10 of image 1 is not a class 0..=9",
            labels.display()
        )
    );
}

#[test]
fn a_corrupt_file_is_reported_not_skipped() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("fashion-mnist");
    write_tiny(&dir, 2, 2);
    let images = dir.join("train-images-idx3-ubyte");
    std::fs::write(&images, [0u8; 20]).unwrap();
    // Not a fallback to /usr/share/datasets: the user's broken file is the news.
    let err = load_dataset(DatasetName::FashionMnist, data.path()).unwrap_err();
    assert!(matches!(err, DataError::Format { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: wrong IDX magic", images.display())),
        "{err}"
    );
}

#[test]
fn subset_train_keeps_the_first_images_and_rejects_bad_sizes() {
    let mut d = load_dataset(DatasetName::FashionMnistMini, Path::new("data")).unwrap();
    let first = d.train.image(99, 784).to_vec();
    let first_labels = d.train.labels[..100].to_vec();
    for bad in [0, 10_001] {
        let err = d.clone().subset_train(bad).unwrap_err();
        assert!(matches!(err, DataError::Config { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot keep {bad} training images: fashion-mnist-mini has 10000, \
                 so the subset must be 1 to 10000"
            )
        );
    }
    d.subset_train(100).unwrap();
    assert_eq!(d.train.len(), 100);
    assert_eq!(d.train.images.len(), 100 * 784);
    assert_eq!(d.train.image(99, 784), first);
    assert_eq!(d.train.labels, first_labels);
    assert_eq!(d.test.len(), 2_000, "the test split is untouched");
    d.subset_train(100).unwrap();
    assert_eq!(d.train.len(), 100);
}
