//! Which kernel variants a timing keeps timing after its first round.
//!
//! Autotune compiles and times every variant that runs a GEMM shape or a convolution.
//! On CPU adapters the slowest take much of that time: a `tiled` GEMM of mlp1x512's
//! first layer runs 150 ms on lavapipe where the fastest kernel runs 7-9. A variant
//! whose first timed round is far behind the fastest keeps that one time instead of
//! getting as many rounds as the contenders; mlp1x512 then tuned in 7.6-8.2 s instead
//! of 18.7-19.8 s, and the plans tuned either way ran at the same speed (README, Speed).

/// How much slower than the fastest a variant's first timed round may be for it to be
/// timed again. Noise between two rounds of one kernel stayed within 2x on a noisy
/// 2-core VM with lavapipe, so a variant cut at 1.5x is unlikely, though not certain,
/// to have been the fastest.
pub const PRUNE_FACTOR: f64 = 1.5;

/// The variants of `timings` (seconds per run) within [`PRUNE_FACTOR`] of the fastest,
/// in their order.
pub fn contenders<V: Copy>(timings: &[(V, f64)]) -> Vec<V> {
    let fastest = timings
        .iter()
        .map(|&(_, seconds)| seconds)
        .fold(f64::INFINITY, f64::min);
    timings
        .iter()
        .filter(|&&(_, seconds)| seconds <= fastest * PRUNE_FACTOR)
        .map(|&(variant, _)| variant)
        .collect()
}
