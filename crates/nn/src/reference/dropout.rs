//! Inverted dropout with the mask that shaders/dropout.wgsl draws: a hash of the seed, the
//! sample's place in the run and the value's index in its row.

/// PCG's output permutation of a 32-bit state (as `pcg_hash` in the shader).
fn pcg_hash(input: u32) -> u32 {
    let state = input.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// Values whose hash falls below this are dropped: `rate` x 2^32.
pub fn dropout_threshold(rate: f64) -> u32 {
    assert!(
        (0.0..1.0).contains(&rate),
        "dropout rate {rate} outside [0, 1)"
    );
    (rate * 4_294_967_296.0).round().min(f64::from(u32::MAX)) as u32
}

/// The scale of each value of `rows` rows of `row_len`, for a batch whose first row is
/// sample `first_sample` of the run: 0 where dropped, 1 / (1 - rate) where kept.
pub fn dropout_mask(
    rate: f64,
    seed: u32,
    first_sample: u32,
    rows: usize,
    row_len: usize,
) -> Vec<f32> {
    let threshold = dropout_threshold(rate);
    let scale = (1.0 / (1.0 - rate)) as f32;
    (0..rows * row_len)
        .map(|i| {
            let sample = first_sample.wrapping_add((i / row_len) as u32);
            let h = pcg_hash((i % row_len) as u32 ^ pcg_hash(sample ^ pcg_hash(seed)));
            if h < threshold { 0.0 } else { scale }
        })
        .collect()
}

/// y = x * mask (training); the gradient is dy * mask, the same mask.
pub fn dropout_forward(x: &[f32], mask: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), mask.len(), "dropout input and mask lengths");
    x.iter().zip(mask).map(|(a, m)| a * m).collect()
}
