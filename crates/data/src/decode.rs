//! One image file's bytes to the square RGB image a folder dataset holds: decode (JPEG or
//! PNG), take the centred square of the shorter side and resize it to `size` x `size` (a
//! triangle filter, which averages the pixels a shrink covers), and store channel-major.
//!
//! The resize is fast_image_resize's (SIMD convolution): on 500x375 JPEGs going to 342 it
//! took 1.1 ms an image where the image crate's triangle filter took 9-11 ms, four times the
//! decoding itself, for values within one level of each other.
//!
//! The same function serves the resident and the streamed paths, so both see the same
//! bytes. It takes the file's bytes, not its path, so a fuzz target can drive it.

use std::cell::Cell;
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
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
    let decoded = match decode_catching_panics(reader) {
        Ok(Ok(image)) => image.into_rgb8(),
        Ok(Err(e)) => return Err(one_line(&e)),
        Err(()) => {
            return Err(
                "the JPEG decoder (zune-jpeg) crashed on this file's damaged data; re-encode or remove it"
                    .into(),
            );
        }
    };
    let (w, h) = decoded.dimensions();
    if w == 0 || h == 0 {
        return Err(format!("image is {w}x{h}"));
    }
    let side = size as u32;
    let source =
        Image::from_vec_u8(w, h, decoded.into_raw(), PixelType::U8x3).map_err(|e| e.to_string())?;
    let mut square = Image::new(side, side, PixelType::U8x3);
    // The centred square of the shorter side, resized: the shorter side scaled to `size`
    // and centre-cropped.
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
        .fit_into_destination(None);
    Resizer::new()
        .resize(&source, &mut square, &options)
        .map_err(|e| e.to_string())?;
    let plane = size * size;
    let mut chw = vec![0u8; 3 * plane];
    for (i, pixel) in square.buffer().chunks_exact(3).enumerate() {
        for (c, &value) in pixel.iter().enumerate() {
            chw[c * plane + i] = value;
        }
    }
    Ok(chw)
}

thread_local! {
    /// Whether this thread is inside a decoder, where a panic is a damaged file's error.
    static DECODING: Cell<bool> = const { Cell::new(false) };
}

/// Decode, turning a panic inside the decoder into `Err(())`. zune-jpeg 0.5.15 (image's
/// JPEG decoder) panics on some damaged files (an unwrap in its AVX2 inverse DCT, found by
/// shatter's fuzz target and reported upstream as zune-image issue 409); one bad photo in
/// a million must be that photo's error, not the end of the run. The panic's message is
/// kept off stderr: the caller reports the file instead.
fn decode_catching_panics(
    reader: ImageReader<Cursor<&[u8]>>,
) -> Result<image::ImageResult<image::DynamicImage>, ()> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !DECODING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    DECODING.with(|d| d.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| reader.decode()));
    DECODING.with(|d| d.set(false));
    result.map_err(|_| ())
}

fn one_line(error: &image::ImageError) -> String {
    error.to_string().replace('\n', " ")
}
