#![no_main]
//! Any bytes: the CIFAR-10 record parser accepts whole records with labels 0..9 and
//! rejects everything else, never panics.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut split = shatter_data::Split::default();
    if shatter_data::parse_cifar_records(data, std::path::Path::new("fuzz"), &mut split).is_ok() {
        assert_eq!(split.images.len(), split.labels.len() * 3072);
        assert!(split.labels.iter().all(|&l| l < 10));
    }
});
