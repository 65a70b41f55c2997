//! make_fashion_mnist_mini, which makes assets/fashion-mnist-mini.

use std::path::Path;

use shatter_data::{
    DataError, IdxImages, make_fashion_mnist_mini, read_idx_images, read_idx_labels,
    write_idx_images, write_idx_labels,
};

const FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// A source folder shaped like Debian's: four gzip files, `train` and `test` images of 3x3.
fn write_source(dir: &Path, train: usize, test: usize) {
    for (prefix, n) in [("train", train), ("t10k", test)] {
        let images = IdxImages {
            count: n,
            rows: 3,
            cols: 3,
            pixels: (0..n * 9).map(|i| i as u8).collect(),
        };
        let labels: Vec<u8> = (0..n).map(|i| (i * 3 % 10) as u8).collect();
        write_idx_images(
            &dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
            &images,
            true,
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

fn read_all(dir: &Path) -> Vec<Vec<u8>> {
    FILES
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect()
}

#[test]
fn keeps_the_first_images_of_each_split() {
    let (src, dest) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_source(src.path(), 20, 8);
    let out = dest.path().join("mini");
    make_fashion_mnist_mini(src.path(), &out, 5, 2).unwrap();
    let train = read_idx_images(&out.join(FILES[0])).unwrap();
    assert_eq!((train.count, train.rows, train.cols), (5, 3, 3));
    assert_eq!(train.pixels, (0..45).map(|i| i as u8).collect::<Vec<_>>());
    assert_eq!(
        read_idx_labels(&out.join(FILES[1])).unwrap(),
        [0, 3, 6, 9, 2]
    );
    assert_eq!(read_idx_images(&out.join(FILES[2])).unwrap().count, 2);
    assert_eq!(read_idx_labels(&out.join(FILES[3])).unwrap(), [0, 3]);
    // Gzipped, like the originals.
    assert!(read_all(&out).iter().all(|b| b.starts_with(&[0x1f, 0x8b])));
}

#[test]
fn remaking_gives_identical_bytes() {
    let src = tempfile::tempdir().unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_source(src.path(), 20, 8);
    make_fashion_mnist_mini(src.path(), a.path(), 10, 4).unwrap();
    make_fashion_mnist_mini(src.path(), b.path(), 10, 4).unwrap();
    assert_eq!(read_all(a.path()), read_all(b.path()));
}

#[test]
fn asking_for_too_many_images_writes_nothing() {
    let (src, dest) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_source(src.path(), 20, 8);
    make_fashion_mnist_mini(src.path(), dest.path(), 10, 4).unwrap();
    let before = read_all(dest.path());
    // The training split is fine; the test split is short. Nothing may change.
    let err = make_fashion_mnist_mini(src.path(), dest.path(), 12, 9).unwrap_err();
    assert!(matches!(err, DataError::Config { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: cannot keep 9 images: it holds 8, so the subset must be 1 to 8",
            src.path().join(FILES[2]).display()
        )
    );
    assert_eq!(read_all(dest.path()), before);
    let err = make_fashion_mnist_mini(src.path(), dest.path(), 0, 1).unwrap_err();
    assert!(matches!(err, DataError::Config { .. }), "{err:?}");
}

#[test]
fn a_missing_source_is_an_io_error() {
    let (src, dest) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let err = make_fashion_mnist_mini(src.path(), &dest.path().join("mini"), 1, 1).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&src.path().join(FILES[0]).display().to_string())
    );
    assert!(!dest.path().join("mini").exists());
}

/// The bundled asset is exactly what `cargo xtask make-mini` makes from Debian's
/// `dataset-fashion-mnist` (which .ci/run installs). Without that package this test says
/// SKIPPED on stderr and checks nothing.
#[test]
fn bundled_asset_is_reproducible_from_the_full_dataset() {
    let source = Path::new("/usr/share/datasets/fashion-mnist");
    if !source.join(FILES[0]).is_file() {
        eprintln!(
            "SKIPPED: {} is not installed (apt-get install dataset-fashion-mnist)",
            source.display()
        );
        return;
    }
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fashion-mnist-mini");
    let remade = tempfile::tempdir().unwrap();
    make_fashion_mnist_mini(source, remade.path(), 10_000, 2_000).unwrap();
    assert_eq!(
        read_all(remade.path()),
        read_all(&bundled),
        "assets/fashion-mnist-mini differs from a fresh make-mini"
    );
}
