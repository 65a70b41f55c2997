#![no_main]
//! The image-folder decoding path (JPEG or PNG bytes to a square RGB image): any bytes give
//! an image of the asked size or an error, never a panic, a hang or an allocation the
//! header talked it into.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the side (1 to 64), the rest is the file.
    let Some((&side, file)) = data.split_first() else {
        return;
    };
    let size = usize::from(side % 64) + 1;
    if let Ok(pixels) = shatter_data::decode_image(file, size) {
        assert_eq!(pixels.len(), 3 * size * size);
    }
});
