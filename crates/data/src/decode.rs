//! One image file's bytes to the square RGB image a folder dataset holds: decode (JPEG or
//! PNG), resize so the shorter side is `size` (a triangle filter, which averages the
//! pixels a shrink covers), centre-crop to `size` x `size`, and store channel-major.
//!
//! The same function serves the resident and the streamed paths, so both see the same
//! bytes. It takes the file's bytes, not its path, so a fuzz target can drive it.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{ImageReader, Limits};

/// The largest side a decoded image may have: ImageNet's largest photos are a few
/// thousand pixels, so a header claiming more is a damaged or hostile file, refused before
/// its pixels are allocated.
pub const MAX_DECODED_SIDE: u32 = 16_384;

/// Decode `bytes` (JPEG or PNG, told apart by content) and return `size` x `size` RGB
/// values, channel-major (CHW). The error is the decoder's reason, one line; the caller
/// names the file.
pub fn decode_image(bytes: &[u8], size: usize) -> Result<Vec<u8>, String> {
    assert!(size > 0, "decode_image: size 0");
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| one_line(&e))?.into_rgb8();
    let (w, h) = decoded.dimensions();
    if w == 0 || h == 0 {
        return Err(format!("image is {w}x{h}"));
    }
    let side = size as u32;
    let scale = f64::from(side) / f64::from(w.min(h));
    let (nw, nh) = (
        ((f64::from(w) * scale).round() as u32).max(side),
        ((f64::from(h) * scale).round() as u32).max(side),
    );
    let resized = if (nw, nh) == (w, h) {
        decoded
    } else {
        image::imageops::resize(&decoded, nw, nh, FilterType::Triangle)
    };
    let (left, top) = ((nw - side) / 2, (nh - side) / 2);
    let mut chw = vec![0u8; 3 * size * size];
    let plane = size * size;
    for y in 0..size {
        for x in 0..size {
            let p = resized.get_pixel(left + x as u32, top + y as u32);
            for c in 0..3 {
                chw[c * plane + y * size + x] = p[c];
            }
        }
    }
    Ok(chw)
}

fn one_line(error: &image::ImageError) -> String {
    error.to_string().replace('\n', " ")
}
