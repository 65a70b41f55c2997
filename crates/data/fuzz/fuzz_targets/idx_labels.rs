#![no_main]
//! Any bytes, raw or gzip: the IDX label parser returns a value or an error, never panics.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shatter_data::parse_idx_labels(data, std::path::Path::new("fuzz"));
});
