//! The IDX format of MNIST and Fashion-MNIST: a big-endian magic (0x0803 images,
//! 0x0801 labels), the dimensions, then the bytes. Files may be gzipped; gzip is
//! recognized by its magic bytes, not by the file name.

use std::io::{Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::error::DataError;

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Images of an IDX file: `count` images of `rows` x `cols` bytes, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::io(path, "read", &e))
}

/// The raw IDX bytes, un-gzipped when the data starts with gzip's magic.
fn decompress<'a>(bytes: &'a [u8], path: &Path) -> Result<std::borrow::Cow<'a, [u8]>, DataError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| DataError::format(path, format!("bad gzip data: {e}")))?;
        Ok(out.into())
    } else {
        Ok(bytes.into())
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn header(
    data: &[u8],
    path: &Path,
    magic: u32,
    what: &str,
    dims: usize,
) -> Result<Vec<usize>, DataError> {
    let header_len = 4 + 4 * dims;
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
    if data.len() < header_len {
        return Err(DataError::format(
            path,
            format!(
                "truncated: {} bytes, too short for the {what} header",
                data.len()
            ),
        ));
    }
    Ok((0..dims)
        .map(|d| be_u32(data, 4 + 4 * d) as usize)
        .collect())
}

fn check_body(
    data: &[u8],
    path: &Path,
    header_len: usize,
    expected: usize,
    what: &str,
) -> Result<(), DataError> {
    let body = data.len() - header_len;
    if body < expected {
        return Err(DataError::format(
            path,
            format!("truncated: header says {what} ({expected} bytes) but the file holds {body}"),
        ));
    }
    if body > expected {
        return Err(DataError::format(
            path,
            format!(
                "{} unexpected bytes after {what} ({expected} bytes)",
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
    let expected = count * rows * cols;
    check_body(
        &data,
        path,
        16,
        expected,
        &format!("{count} images of {rows}x{cols}"),
    )?;
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels: data[16..].to_vec(),
    })
}

/// Parse IDX label bytes (gzip or raw).
pub fn parse_idx_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    let data = decompress(bytes, path)?;
    let dims = header(&data, path, LABELS_MAGIC, "labels", 1)?;
    check_body(&data, path, 8, dims[0], &format!("{} labels", dims[0]))?;
    Ok(data[8..].to_vec())
}

pub fn read_idx_images(path: &Path) -> Result<IdxImages, DataError> {
    parse_idx_images(&read_file(path)?, path)
}

pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    parse_idx_labels(&read_file(path)?, path)
}

/// Write through `<path>.tmp` and a rename, so an interrupted write never leaves a
/// file that looks complete.
fn write_atomic(path: &Path, raw: &[u8], gzip: bool) -> Result<(), DataError> {
    let bytes = if gzip {
        // GzEncoder writes mtime 0: the same data always gives the same file.
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder
            .write_all(raw)
            .map_err(|e| DataError::io(path, "compress", &e))?;
        encoder
            .finish()
            .map_err(|e| DataError::io(path, "compress", &e))?
    } else {
        raw.to_vec()
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, &bytes).map_err(|e| DataError::io(&tmp, "write", &e))?;
    std::fs::rename(&tmp, path).map_err(|e| DataError::io(path, "rename into place", &e))
}

pub fn write_idx_images(path: &Path, images: &IdxImages, gzip: bool) -> Result<(), DataError> {
    let mut raw = Vec::with_capacity(16 + images.pixels.len());
    for v in [
        IMAGES_MAGIC,
        images.count as u32,
        images.rows as u32,
        images.cols as u32,
    ] {
        raw.extend_from_slice(&v.to_be_bytes());
    }
    raw.extend_from_slice(&images.pixels);
    write_atomic(path, &raw, gzip)
}

pub fn write_idx_labels(path: &Path, labels: &[u8], gzip: bool) -> Result<(), DataError> {
    let mut raw = Vec::with_capacity(8 + labels.len());
    raw.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
    raw.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    raw.extend_from_slice(labels);
    write_atomic(path, &raw, gzip)
}
