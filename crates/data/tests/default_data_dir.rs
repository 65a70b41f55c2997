//! `default_data_dir` reads the environment, so it has this test binary to itself: no
//! other thread reads or writes the environment while it runs.

use std::path::PathBuf;

use shatter_data::default_data_dir;

#[test]
fn shatter_data_overrides_the_default_unless_empty() {
    // SAFETY: the only test in this binary, so no other thread touches the environment.
    unsafe { std::env::remove_var("SHATTER_DATA") };
    assert_eq!(default_data_dir(), PathBuf::from("data"));
    unsafe { std::env::set_var("SHATTER_DATA", "") };
    assert_eq!(default_data_dir(), PathBuf::from("data"));
    unsafe { std::env::set_var("SHATTER_DATA", "/srv/datasets") };
    assert_eq!(default_data_dir(), PathBuf::from("/srv/datasets"));
}
