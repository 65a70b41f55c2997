//! Shared helpers of shatter's cross-crate tests: the adapter every GPU test runs on,
//! deterministic random data, and comparisons with a tolerance that say where they fail.
//!
//! How the crates fit together, a training step's data flow and where each kernel lives:
//! docs/architecture.md in the repository.

pub mod fixtures;
mod gemm_check;
pub mod image_folder;
pub mod webdriver;

pub use gemm_check::check_gemm;

use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shatter_gpu::Gpu;

/// The test adapter, chosen like every shatter command (WGPU_BACKEND, WGPU_ADAPTER_NAME).
/// With no adapter, a GPU test fails when SHATTER_REQUIRE_ADAPTER=1 (CI) and otherwise
/// skips, saying so on stderr; a skip is never counted as a pass in a report.
pub fn gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    let gpu = GPU.get_or_init(|| match Gpu::new(None) {
        Ok(gpu) => Some(gpu),
        Err(error) => {
            if std::env::var("SHATTER_REQUIRE_ADAPTER").as_deref() == Ok("1") {
                panic!("SHATTER_REQUIRE_ADAPTER=1 but no adapter could be opened: {error}");
            }
            None
        }
    });
    if gpu.is_none() {
        eprintln!("SKIPPED: no GPU adapter (set SHATTER_REQUIRE_ADAPTER=1 to make this a failure)");
    }
    gpu.as_ref()
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Uniform values in [-1, 1).
pub fn random_values(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// Assert |got - want| <= atol + rtol * |want| elementwise, naming the first failure.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], rtol: f32, atol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs();
        assert!(
            err <= atol + rtol * w.abs() && g.is_finite(),
            "{what}: element {i} is {g}, expected {w} (error {err}, tolerance {})",
            atol + rtol * w.abs()
        );
    }
}
