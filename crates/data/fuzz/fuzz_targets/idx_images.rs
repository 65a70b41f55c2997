#![no_main]
//! Any bytes, raw or gzip: the IDX image parser returns a value or an error, never panics,
//! and what it returns is consistent with its header.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(images) = shatter_data::parse_idx_images(data, std::path::Path::new("fuzz")) {
        assert_eq!(images.pixels.len(), images.count * images.rows * images.cols);
    }
});
