//! Streamed folders: the batches a stream hands over are the images the resident path
//! decodes, in the pass's order, with the same randomizations; a bad image ends the
//! stream with one line naming it.

use std::path::Path;
use std::sync::Arc;

use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shatter_data::{
    Corruption, DataError, FolderIndex, ImageStream, StreamedDataset, apply_corruption,
};

/// Three classes of noisy images of differing sizes: `train` and `val` images a class.
fn noisy_folder(root: &Path, train: usize, val: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for (split, n) in [("train", train), ("val", val)] {
        for class in ["a", "b", "c"] {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                let (w, h) = (rng.random_range(10..30), rng.random_range(10..30));
                let image = RgbImage::from_fn(w, h, |_, _| Rgb(rng.random()));
                let ext = if i % 2 == 0 { "png" } else { "jpg" };
                image.save(dir.join(format!("{i}.{ext}"))).unwrap();
            }
        }
    }
}

fn streamed(root: &Path, size: usize) -> StreamedDataset {
    let index = FolderIndex::scan(root, false).unwrap();
    StreamedDataset::new(index, "folder:test".into(), size)
}

/// Every batch of a stream over `sequence`, concatenated.
fn drain(mut stream: ImageStream) -> (Vec<u8>, Vec<u16>, Vec<usize>) {
    let (mut pixels, mut labels, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(batch) = stream.next_batch() {
        let batch = batch.unwrap();
        sizes.push(batch.labels.len());
        pixels.extend(batch.pixels);
        labels.extend(batch.labels);
    }
    (pixels, labels, sizes)
}

#[test]
fn a_stream_hands_over_the_resident_images_in_the_pass_order() {
    let dir = tempfile::tempdir().unwrap();
    noisy_folder(dir.path(), 7, 2);
    let folder = streamed(dir.path(), 9);
    let whole = folder.load_whole().unwrap();
    let n = whole.train.len();
    assert_eq!(n, 21);
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.reverse();
    order.swap(3, 17);
    for threads in [1, 3, 8] {
        let stream = ImageStream::start(
            Arc::new(folder.train.clone()),
            Arc::new(folder.recipe.clone()),
            order.clone(),
            4,
            threads,
        );
        assert_eq!(stream.batches(), 6);
        let (pixels, labels, sizes) = drain(stream);
        assert_eq!(sizes, [4, 4, 4, 4, 4, 1], "{threads} threads");
        let bytes = whole.image_bytes();
        for (row, &image) in order.iter().enumerate() {
            let image = image as usize;
            assert_eq!(
                &pixels[row * bytes..(row + 1) * bytes],
                whole.train.image(image, bytes),
                "row {row} is image {image} ({threads} threads)"
            );
            assert_eq!(labels[row], whole.train.labels[image]);
        }
    }
}

#[test]
fn streamed_randomizations_draw_what_the_resident_ones_draw() {
    let dir = tempfile::tempdir().unwrap();
    noisy_folder(dir.path(), 7, 2);
    for corruption in ["labels:0.5", "random-labels", "shuffled-pixels"] {
        let corruption: Corruption = corruption.parse().unwrap();
        let mut folder = streamed(dir.path(), 6);
        let mut whole = folder.load_whole().unwrap();
        let resident = apply_corruption(&mut whole, &corruption, 11);
        let report = folder.apply_corruption(&corruption, 11).unwrap();
        assert_eq!(report, resident, "{corruption}");
        assert_eq!(folder.train.labels, whole.train.labels, "{corruption}");
        for (split, held) in [(&folder.train, &whole.train), (&folder.test, &whole.test)] {
            let sequence = (0..split.len() as u32).collect();
            let stream = ImageStream::start(
                Arc::new(split.clone()),
                Arc::new(folder.recipe.clone()),
                sequence,
                5,
                2,
            );
            assert_eq!(drain(stream).0, held.images, "{corruption}");
        }
    }
    let mut folder = streamed(dir.path(), 6);
    let shuffled = folder
        .apply_corruption(&Corruption::ShuffledPixels, 1)
        .unwrap();
    assert_eq!(shuffled.pixel_permutations, 1);
    for refused in ["random-pixels", "gaussian"] {
        let err = folder
            .apply_corruption(&refused.parse().unwrap(), 1)
            .unwrap_err();
        assert!(matches!(err, DataError::Config { .. }));
        assert_eq!(
            err.to_string(),
            format!(
                "corruption {refused} needs every image in memory, but folder:test is streamed from disk: \
                 use a folder small enough to load whole (a smaller --image-size or --subset), \
                 or one of none, labels:P, random-labels, shuffled-pixels"
            )
        );
    }
}

#[test]
fn an_unreadable_image_ends_the_stream_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    noisy_folder(dir.path(), 4, 1);
    let bad = dir.path().join("train/b/2.png");
    std::fs::write(&bad, b"\x89PNG but truncated").unwrap();
    let folder = streamed(dir.path(), 6);
    let mut stream = ImageStream::start(
        Arc::new(folder.train.clone()),
        Arc::new(folder.recipe.clone()),
        (0..12).collect(),
        3,
        2,
    );
    // Batches 0 and 1 (a/0..3, b/0..1) are whole; batch 2 holds b/2.
    assert!(stream.next_batch().unwrap().is_ok());
    assert!(stream.next_batch().unwrap().is_ok());
    let err = stream.next_batch().unwrap().unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}: cannot decode image: ", bad.display())),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
    assert!(
        stream.next_batch().is_none(),
        "the stream ends at the fault"
    );
}

#[test]
fn dropping_a_stream_mid_pass_stops_its_workers() {
    let dir = tempfile::tempdir().unwrap();
    noisy_folder(dir.path(), 7, 1);
    let folder = streamed(dir.path(), 6);
    let mut stream = ImageStream::start(
        Arc::new(folder.train.clone()),
        Arc::new(folder.recipe.clone()),
        (0..21).collect(),
        1,
        2,
    );
    assert!(stream.next_batch().unwrap().is_ok());
    // Drop joins the workers: this returns only once both have stopped, with 19 of the
    // 21 batches never taken (each worker blocked on its full channel).
    drop(stream);
}

#[test]
fn imagenet_mini_is_made_once_in_the_ilsvrc_layout() {
    let dir = tempfile::tempdir().unwrap();
    let root = shatter_data::ensure_imagenet_mini(dir.path()).unwrap();
    assert_eq!(root, dir.path().join("imagenet-mini"));
    let index = FolderIndex::scan(&root, true).unwrap();
    assert_eq!(index.classes.len(), shatter_data::IMAGENET_MINI_CLASSES);
    assert_eq!(index.classes[0], "n01440764");
    assert_eq!(index.train.len(), 40);
    assert_eq!(index.test.len(), 20);
    assert!(index.train.files[0].to_string_lossy().ends_with(".JPEG"));
    // Made once: a second call finds it and leaves it as it is.
    let first = std::fs::read(&index.train.files[5]).unwrap();
    shatter_data::ensure_imagenet_mini(dir.path()).unwrap();
    assert_eq!(std::fs::read(&index.train.files[5]).unwrap(), first);
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no partial folder left behind");
    let d = shatter_data::load_spec(&"imagenet-mini".parse().unwrap(), dir.path(), None).unwrap();
    assert_eq!(
        (d.height, d.classes, d.name.as_str()),
        (86, 10, "imagenet-mini")
    );
}

#[test]
fn a_folder_streams_where_a_split_outgrows_the_bindings() {
    use shatter_data::{LoadPlan, Residence, RunDataset, load_run_dataset};
    let dir = tempfile::tempdir().unwrap();
    noisy_folder(dir.path(), 7, 2);
    let spec = format!("folder:{}", dir.path().display()).parse().unwrap();
    // Three bindings of 1,000 bytes: 8 images of 3x6x6 (108 bytes) a binding, 24 in all,
    // hold the 21 training images; 4 of 3x8x8 (192 bytes), 12 in all, do not.
    let plan = |size| LoadPlan {
        image_size: Some(size),
        subset: None,
        test_subset: None,
        residence: Residence::Fit {
            binding_bytes: 1000,
            bindings: 3,
        },
    };
    let small = load_run_dataset(&spec, Path::new("unused"), &plan(6)).unwrap();
    assert!(matches!(small, RunDataset::Resident(_)));
    let large = load_run_dataset(&spec, Path::new("unused"), &plan(8)).unwrap();
    assert!(large.is_streamed());
    assert_eq!((large.train_len(), large.test_len()), (21, 6));
    assert_eq!(large.image_shape(), [3, 8, 8]);
    // A subset small enough to hold is held.
    let subset = LoadPlan {
        subset: Some(12),
        ..plan(8)
    };
    let cut = load_run_dataset(&spec, Path::new("unused"), &subset).unwrap();
    assert!(!cut.is_streamed());
    assert_eq!(cut.train_len(), 12);
}
