//! The IDX reader and writer: round trips, and one clear line for every kind of bad file.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use shatter_data::{
    DataError, IdxImages, parse_idx_images, read_idx_images, read_idx_labels, write_idx_images,
    write_idx_labels,
};

fn sample_images() -> IdxImages {
    let (count, rows, cols) = (3, 4, 5);
    IdxImages {
        count,
        rows,
        cols,
        pixels: (0..count * rows * cols)
            .map(|i| (i * 7 % 256) as u8)
            .collect(),
    }
}

/// A raw IDX images file with the given header and `body` bytes of pixels.
fn raw_images(magic: u32, count: u32, rows: u32, cols: u32, body: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for v in [magic, count, rows, cols] {
        bytes.extend_from_slice(&v.to_be_bytes());
    }
    bytes.extend(std::iter::repeat_n(9u8, body));
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn format_message(err: DataError) -> String {
    assert!(matches!(err, DataError::Format { .. }), "{err:?}");
    err.to_string()
}

#[test]
fn images_and_labels_round_trip_gzipped_and_raw() {
    let dir = tempfile::tempdir().unwrap();
    let images = sample_images();
    let labels = vec![0u8, 9, 3];
    for gzip in [true, false] {
        let ip = dir.path().join(format!("images-{gzip}"));
        let lp = dir.path().join(format!("labels-{gzip}"));
        write_idx_images(&ip, &images, gzip).unwrap();
        write_idx_labels(&lp, &labels, gzip).unwrap();
        let written = std::fs::read(&ip).unwrap();
        assert_eq!(written.starts_with(&[0x1f, 0x8b]), gzip);
        assert_eq!(read_idx_images(&ip).unwrap(), images);
        assert_eq!(read_idx_labels(&lp).unwrap(), labels);
        // The temporary file of the atomic write is gone.
        assert!(!dir.path().join(format!("images-{gzip}.tmp")).exists());
    }
    // Raw: exactly the IDX layout, big-endian.
    let raw = std::fs::read(dir.path().join("labels-false")).unwrap();
    assert_eq!(raw, [0, 0, 8, 1, 0, 0, 0, 3, 0, 9, 3]);
}

#[test]
fn gzip_is_detected_by_content_not_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let raw_named_gz = dir.path().join("labels.gz");
    let gz_named_raw = dir.path().join("labels");
    write_idx_labels(&raw_named_gz, &[1, 2], false).unwrap();
    write_idx_labels(&gz_named_raw, &[1, 2], true).unwrap();
    assert_eq!(read_idx_labels(&raw_named_gz).unwrap(), [1, 2]);
    assert_eq!(read_idx_labels(&gz_named_raw).unwrap(), [1, 2]);
}

#[test]
fn gzip_output_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write_idx_images(&a, &sample_images(), true).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write_idx_images(&b, &sample_images(), true).unwrap();
    let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert_eq!(a, b);
    // gzip's MTIME field (bytes 4..8) is zero.
    assert_eq!(a[4..8], [0, 0, 0, 0]);
}

#[test]
fn writing_replaces_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("labels");
    write_idx_labels(&p, &[1, 2, 3], false).unwrap();
    write_idx_labels(&p, &[4], false).unwrap();
    assert_eq!(read_idx_labels(&p).unwrap(), [4]);
}

#[test]
fn wrong_magic_names_file_found_and_expected() {
    let path = Path::new("data/fashion-mnist/train-images-idx3-ubyte.gz");
    let err = parse_idx_images(&raw_images(0, 1, 2, 2, 4), path).unwrap_err();
    assert_eq!(
        format_message(err),
        "data/fashion-mnist/train-images-idx3-ubyte.gz: wrong IDX magic 0x00000000 \
         (expected 0x00000803 for images)"
    );
    // A labels file handed to the images reader is the same fault.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("labels");
    write_idx_labels(&p, &[1], true).unwrap();
    let text = format_message(read_idx_images(&p).unwrap_err());
    assert!(
        text.ends_with("wrong IDX magic 0x00000801 (expected 0x00000803 for images)"),
        "{text}"
    );
    let p = dir.path().join("images");
    write_idx_images(&p, &sample_images(), false).unwrap();
    let text = format_message(read_idx_labels(&p).unwrap_err());
    assert!(
        text.ends_with("wrong IDX magic 0x00000803 (expected 0x00000801 for labels)"),
        "{text}"
    );
}

#[test]
fn truncated_pixels_say_how_many_were_expected_and_found() {
    let path = Path::new("t10k-images-idx3-ubyte");
    let bytes = raw_images(0x803, 10000, 28, 28, 1234);
    let expected = "t10k-images-idx3-ubyte: truncated: header says 10000 images of 28x28 \
                    (7840000 bytes) but the file holds 1234 bytes of pixels";
    assert_eq!(
        format_message(parse_idx_images(&bytes, path).unwrap_err()),
        expected
    );
    // The same, gzipped.
    assert_eq!(
        format_message(parse_idx_images(&gzip(&bytes), path).unwrap_err()),
        expected
    );
}

#[test]
fn truncated_header_and_cut_gzip_stream_are_format_errors() {
    let path = Path::new("x");
    let text = format_message(parse_idx_images(&[0, 0], path).unwrap_err());
    assert_eq!(text, "x: truncated: 2 bytes, too short for an IDX header");
    let text = format_message(parse_idx_images(&[0, 0, 8, 3, 0, 0, 0, 1], path).unwrap_err());
    assert_eq!(
        text,
        "x: truncated: 8 bytes, too short for the 16-byte images header"
    );
    let full = gzip(&raw_images(0x803, 2, 3, 3, 18));
    let text = format_message(parse_idx_images(&full[..full.len() / 2], path).unwrap_err());
    assert!(text.starts_with("x: bad gzip data: "), "{text}");
}

#[test]
fn truncated_labels_file_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train-labels-idx1-ubyte");
    write_idx_labels(&p, &[1, 2, 3, 4], false).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 3]).unwrap();
    let text = format_message(read_idx_labels(&p).unwrap_err());
    assert_eq!(
        text,
        format!(
            "{}: truncated: header says 4 labels (4 bytes) but the file holds 1 bytes of labels",
            p.display()
        )
    );
}

#[test]
fn trailing_bytes_are_a_format_error() {
    let path = Path::new("train-images-idx3-ubyte.gz");
    let bytes = gzip(&raw_images(0x803, 2, 2, 2, 8 + 5));
    assert_eq!(
        format_message(parse_idx_images(&bytes, path).unwrap_err()),
        "train-images-idx3-ubyte.gz: 5 trailing bytes: header says 2 images of 2x2 (8 bytes) \
         but the file holds 13 bytes of pixels"
    );
}

#[test]
fn absurd_header_is_an_error_not_a_panic() {
    let bytes = raw_images(0x803, u32::MAX, u32::MAX, u32::MAX, 4);
    let text = format_message(parse_idx_images(&bytes, Path::new("x")).unwrap_err());
    assert!(text.starts_with("x: "), "{text}");
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope-idx1-ubyte.gz");
    let err = read_idx_labels(&p).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}: cannot read: ", p.display())),
        "{text}"
    );
    assert!(!text.contains('\n'));
}

#[test]
fn writing_into_a_missing_directory_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("no/such/dir/labels");
    let err = write_idx_labels(&p, &[1], true).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot write"), "{err}");
}

#[test]
fn pixels_that_disagree_with_the_shape_are_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("images");
    let mut images = sample_images();
    images.pixels.pop();
    let err = write_idx_images(&p, &images, false).unwrap_err();
    assert!(matches!(err, DataError::Format { .. }), "{err:?}");
    assert!(!p.exists());
}
