//! Image folders: classes from the training sub-folders, images resized on the shorter
//! side and centre-cropped, and one clear line for each fault.

use std::path::Path;

use image::{Rgb, RgbImage};
use shatter_data::{DataError, DatasetSpec, load_image_folder, load_spec};

/// A `w` x `h` image, red on its left half and blue on its right half.
fn write_png(path: &Path, w: u32, h: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let img = RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    img.save(path).unwrap();
}

fn make_folder(root: &Path) {
    for (split, n) in [("train", 3), ("val", 1)] {
        for class in ["cats", "dogs"] {
            for i in 0..n {
                write_png(&root.join(format!("{split}/{class}/{i}.png")), 64, 40);
            }
        }
    }
    std::fs::write(root.join("train/cats/notes.txt"), "not an image").unwrap();
}

#[test]
fn loads_classes_in_name_order_resized_and_centre_cropped() {
    let dir = tempfile::tempdir().unwrap();
    make_folder(dir.path());
    let d = load_image_folder(dir.path(), 8).unwrap();
    assert_eq!((d.classes, d.channels, d.height, d.width), (2, 3, 8, 8));
    assert_eq!(
        d.train.labels,
        vec![0, 0, 0, 1, 1, 1],
        "cats then dogs; notes.txt skipped"
    );
    assert_eq!(d.test.labels, vec![0, 1], "val/ serves as the test split");
    // 64x40 -> 13x8 (shorter side 8), centre crop 8x8: red on the left, blue on the right.
    let image = d.train.image(0, 3 * 64);
    let (red, blue) = (&image[..64], &image[128..]);
    assert!(red[0] > 200 && blue[0] < 50, "left edge is red");
    assert!(red[7] < 50 && blue[7] > 200, "right edge is blue");
}

#[test]
fn folder_spec_parses_and_loads_at_cifar_size() {
    let dir = tempfile::tempdir().unwrap();
    make_folder(dir.path());
    let spec: DatasetSpec = format!("folder:{}", dir.path().display()).parse().unwrap();
    let d = load_spec(&spec, Path::new("unused"), None).unwrap();
    assert_eq!((d.height, d.width, d.train.len()), (32, 32, 6));
    let err = "folder:".parse::<DatasetSpec>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "dataset 'folder:': give the folder, as folder:PATH"
    );
}

#[test]
fn an_unreadable_image_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    make_folder(dir.path());
    let bad = dir.path().join("train/dogs/broken.png");
    std::fs::write(&bad, b"not a png at all").unwrap();
    let err = load_image_folder(dir.path(), 8).unwrap_err();
    assert!(matches!(err, DataError::Format { .. }));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}: cannot decode image: ", bad.display())),
        "{text}"
    );
    assert!(!text.contains('\n'));
}

#[test]
fn a_folder_without_splits_says_what_it_expects() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_image_folder(dir.path(), 8).unwrap_err();
    assert!(matches!(err, DataError::Missing { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "image folder {0}: expected {0}/train and {0}/test (or val/), each with one sub-folder of JPEG or PNG images per class",
            dir.path().display()
        )
    );
}

#[test]
fn a_test_class_unknown_to_training_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    make_folder(dir.path());
    write_png(&dir.path().join("val/birds/0.png"), 10, 10);
    let text = load_image_folder(dir.path(), 8).unwrap_err().to_string();
    assert!(
        text.ends_with("birds: class 'birds' is not among the training classes (cats, dogs)"),
        "{text}"
    );
}

#[test]
fn a_training_class_missing_from_the_test_split_is_named() {
    let dir = tempfile::tempdir().unwrap();
    make_folder(dir.path());
    std::fs::remove_dir_all(dir.path().join("val/dogs")).unwrap();
    let err = load_image_folder(dir.path(), 8).unwrap_err();
    assert!(matches!(err, DataError::Format { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "{0}/val: training class 'dogs' has no folder here; every class of {0}/train needs one",
            dir.path().display()
        )
    );
}

#[test]
fn a_class_without_images_and_a_folder_without_classes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    make_folder(dir.path());
    std::fs::create_dir_all(dir.path().join("train/emus")).unwrap();
    std::fs::create_dir_all(dir.path().join("val/emus")).unwrap();
    assert_eq!(
        load_image_folder(dir.path(), 8).unwrap_err().to_string(),
        format!(
            "{}/train/emus: no .jpg, .jpeg or .png images in this class folder",
            dir.path().display()
        )
    );
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(empty.path().join("train")).unwrap();
    std::fs::create_dir_all(empty.path().join("test")).unwrap();
    assert_eq!(
        load_image_folder(empty.path(), 8).unwrap_err().to_string(),
        format!(
            "{}/train: 0 class folders; shatter takes 1 to 65536, one sub-folder of images per class",
            empty.path().display()
        )
    );
}

#[test]
fn imagenet_layout_needs_val_and_loads_at_342_for_a_299_crop_by_default() {
    let dir = tempfile::tempdir().unwrap();
    make_folder(dir.path());
    let spec: DatasetSpec = format!("imagenet:{}", dir.path().display())
        .parse()
        .unwrap();
    assert_eq!(spec.default_image_size(), Some(342));
    assert_eq!(spec.default_crop(), Some(299));
    let d = load_spec(&spec, Path::new("unused"), Some(8)).unwrap();
    assert_eq!(d.name, format!("imagenet:{}", dir.path().display()));
    assert_eq!((d.train.len(), d.test.len()), (6, 2));
    // ILSVRC 2012 keeps its validation images in val/: a test/ folder is not taken.
    std::fs::rename(dir.path().join("val"), dir.path().join("test")).unwrap();
    assert_eq!(
        load_spec(&spec, Path::new("unused"), Some(8))
            .unwrap_err()
            .to_string(),
        format!(
            "image folder {0}: expected {0}/train and {0}/val, each with one sub-folder of JPEG or PNG images per class",
            dir.path().display()
        )
    );
    assert_eq!(
        "imagenet:".parse::<DatasetSpec>().unwrap_err().to_string(),
        "dataset 'imagenet:': give the folder, as imagenet:PATH"
    );
}

#[test]
fn a_header_claiming_a_huge_image_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.png");
    RgbImage::new(shatter_data::MAX_DECODED_SIDE + 1, 1)
        .save(&path)
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(shatter_data::decode_image(&bytes, 8).is_err());
    let fine = RgbImage::new(shatter_data::MAX_DECODED_SIDE, 1);
    fine.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(shatter_data::decode_image(&bytes, 1).unwrap().len(), 3);
}

#[test]
fn plain_imagenet_is_looked_for_in_the_data_directory() {
    let data = tempfile::tempdir().unwrap();
    let spec: DatasetSpec = "imagenet".parse().unwrap();
    assert_eq!(
        load_spec(&spec, data.path(), Some(8))
            .unwrap_err()
            .to_string(),
        format!(
            "dataset imagenet not found: looked for {0}/imagenet/train/<wnid>/ and {0}/imagenet/val/<wnid>/; \
             ILSVRC 2012 cannot be downloaded without an account at image-net.org: \
             put it there (docs/imagenet.md) or give --dataset imagenet:PATH",
            data.path().display()
        )
    );
    make_folder(&data.path().join("imagenet"));
    let d = load_spec(&spec, data.path(), Some(8)).unwrap();
    assert_eq!((d.name.as_str(), d.classes), ("imagenet", 2));
}

#[test]
fn a_file_that_crashes_the_jpeg_decoder_is_an_error_naming_it() {
    // Found by the image_decode fuzz target: zune-jpeg 0.5.15 panics on it in its AVX2
    // inverse DCT (CPUs without AVX2 take another path, which may decode it or refuse it).
    let bytes = include_bytes!("data/zune-jpeg-avx2-panic.jpg");
    if let Err(reason) = shatter_data::decode_image(bytes, 10) {
        assert!(!reason.contains('\n'), "{reason}");
    }
    let dir = tempfile::tempdir().unwrap();
    make_folder(dir.path());
    let bad = dir.path().join("train/cats/crash.jpg");
    std::fs::write(&bad, bytes).unwrap();
    if std::arch::is_x86_feature_detected!("avx2") {
        assert_eq!(
            load_image_folder(dir.path(), 10).unwrap_err().to_string(),
            format!(
                "{}: cannot decode image: the JPEG decoder (zune-jpeg) crashed on this file's damaged data; re-encode or remove it",
                bad.display()
            )
        );
    }
}
