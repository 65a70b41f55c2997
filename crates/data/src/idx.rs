//! The IDX format of MNIST and Fashion-MNIST: a big-endian magic (0x00000803 for images,
//! 0x00000801 for labels), one big-endian u32 per dimension, then the bytes.
//!
//! Files may be gzipped. Gzip is recognized by its magic bytes (1f 8b), not by the file
//! name, because mirrors and browsers are known to un-gzip a download and keep the `.gz`
//! name (or the reverse). An IDX file itself starts with 00 00, so the two never collide.

use std::borrow::Cow;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::error::DataError;

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The images of an IDX file: `count` images of `rows` x `cols` bytes, one after another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    /// `count * rows * cols` bytes, row-major per image.
    pub pixels: Vec<u8>,
}

fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::io(path, "read", &e))
}

/// The raw IDX bytes, un-gzipped when the data starts with gzip's magic.
fn decompress<'a>(bytes: &'a [u8], path: &Path) -> Result<Cow<'a, [u8]>, DataError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| DataError::format(path, format!("bad gzip data: {e}")))?;
    Ok(Cow::Owned(out))
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Check the magic and return the `dims` dimensions that follow it.
fn header(
    data: &[u8],
    path: &Path,
    magic: u32,
    what: &str,
    dims: usize,
) -> Result<Vec<usize>, DataError> {
    if data.len() < 4 {
        return Err(DataError::format(
            path,
            format!(
                "truncated: {} bytes, too short for an IDX header",
                data.len()
            ),
        ));
    }
    let found = be_u32(data, 0);
    if found != magic {
        return Err(DataError::format(
            path,
            format!("wrong IDX magic 0x{found:08x} (expected 0x{magic:08x} for {what})"),
        ));
    }
    let header_len = 4 + 4 * dims;
    if data.len() < header_len {
        return Err(DataError::format(
            path,
            format!(
                "truncated: {} bytes, too short for the {header_len}-byte {what} header",
                data.len()
            ),
        ));
    }
    Ok((0..dims)
        .map(|d| be_u32(data, 4 + 4 * d) as usize)
        .collect())
}

/// Check that the body after the header holds exactly `expected` bytes: fewer means a
/// cut download, more means the file is not what its header says.
fn check_body(
    data: &[u8],
    path: &Path,
    header_len: usize,
    expected: usize,
    what: &str,
    unit: &str,
) -> Result<(), DataError> {
    let body = data.len() - header_len;
    if body < expected {
        return Err(DataError::format(
            path,
            format!(
                "truncated: header says {what} ({expected} bytes) but the file holds {body} bytes of {unit}"
            ),
        ));
    }
    if body > expected {
        return Err(DataError::format(
            path,
            format!(
                "{} trailing bytes: header says {what} ({expected} bytes) but the file holds {body} bytes of {unit}",
                body - expected
            ),
        ));
    }
    Ok(())
}

/// Parse IDX image bytes (gzip or raw); `path` names the source in errors.
pub fn parse_idx_images(bytes: &[u8], path: &Path) -> Result<IdxImages, DataError> {
    let data = decompress(bytes, path)?;
    let dims = header(&data, path, IMAGES_MAGIC, "images", 3)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    let what = format!("{count} images of {rows}x{cols}");
    // A corrupt header can claim more than usize holds; that is a format error, not a panic.
    let expected = count
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .ok_or_else(|| DataError::format(path, format!("impossible header: {what}")))?;
    check_body(&data, path, 16, expected, &what, "pixels")?;
    let pixels = match data {
        Cow::Owned(mut all) => {
            all.drain(..16);
            all
        }
        Cow::Borrowed(all) => all[16..].to_vec(),
    };
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels,
    })
}

/// Parse IDX label bytes (gzip or raw); `path` names the source in errors.
pub fn parse_idx_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    let data = decompress(bytes, path)?;
    let count = header(&data, path, LABELS_MAGIC, "labels", 1)?[0];
    check_body(&data, path, 8, count, &format!("{count} labels"), "labels")?;
    Ok(data[8..].to_vec())
}

/// Read an IDX images file (magic 0x00000803), gzipped or raw.
pub fn read_idx_images(path: &Path) -> Result<IdxImages, DataError> {
    parse_idx_images(&read_file(path)?, path)
}

/// Read an IDX labels file (magic 0x00000801), gzipped or raw.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    parse_idx_labels(&read_file(path)?, path)
}

/// Write through `<path>.tmp` and a rename, so an interrupted write never leaves a file
/// that looks complete and never destroys the file already there.
fn write_atomic(path: &Path, raw: &[u8], gzip: bool) -> Result<(), DataError> {
    let bytes = if gzip {
        // flate2 writes mtime 0 and no file name in the gzip header, so the same data gives
        // the same bytes every time (for one flate2 backend: the default, miniz_oxide).
        let mut encoder = GzEncoder::new(Vec::with_capacity(raw.len() / 4), Compression::best());
        let compressed = encoder
            .write_all(raw)
            .and_then(|()| encoder.finish())
            .map_err(|e| DataError::io(path, "compress", &e))?;
        Cow::Owned(compressed)
    } else {
        Cow::Borrowed(raw)
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    if let Err(e) = std::fs::write(&tmp, &bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(DataError::io(&tmp, "write", &e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        DataError::io(path, "rename into place", &e)
    })
}

fn too_big(path: &Path, what: &str, value: usize) -> DataError {
    DataError::format(
        path,
        format!("cannot write {what} {value}: IDX dimensions are 32-bit"),
    )
}

/// Write an IDX images file, gzipped (deterministically) or raw, atomically.
pub fn write_idx_images(path: &Path, images: &IdxImages, gzip: bool) -> Result<(), DataError> {
    let expected = images
        .count
        .saturating_mul(images.rows)
        .saturating_mul(images.cols);
    if images.pixels.len() != expected {
        return Err(DataError::format(
            path,
            format!(
                "cannot write {} images of {}x{} ({expected} bytes) from {} bytes of pixels",
                images.count,
                images.rows,
                images.cols,
                images.pixels.len()
            ),
        ));
    }
    let mut raw = Vec::with_capacity(16 + images.pixels.len());
    raw.extend_from_slice(&IMAGES_MAGIC.to_be_bytes());
    for (what, v) in [
        ("count", images.count),
        ("rows", images.rows),
        ("cols", images.cols),
    ] {
        let v = u32::try_from(v).map_err(|_| too_big(path, what, v))?;
        raw.extend_from_slice(&v.to_be_bytes());
    }
    raw.extend_from_slice(&images.pixels);
    write_atomic(path, &raw, gzip)
}

/// Write an IDX labels file, gzipped (deterministically) or raw, atomically.
pub fn write_idx_labels(path: &Path, labels: &[u8], gzip: bool) -> Result<(), DataError> {
    let count = u32::try_from(labels.len()).map_err(|_| too_big(path, "count", labels.len()))?;
    let mut raw = Vec::with_capacity(8 + labels.len());
    raw.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
    raw.extend_from_slice(&count.to_be_bytes());
    raw.extend_from_slice(labels);
    write_atomic(path, &raw, gzip)
}
