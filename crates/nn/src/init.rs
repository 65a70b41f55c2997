use rand::Rng;

/// Glorot (Xavier) uniform initialization, U(-l, l) with l = sqrt(6 / (fan_in + fan_out)):
/// the default of the Keras/TensorFlow dense layers the paper's MLPs were built with.
pub fn glorot_uniform(rng: &mut impl Rng, fan_in: usize, fan_out: usize) -> Vec<f32> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    (0..fan_in * fan_out)
        .map(|_| rng.random_range(-limit..limit) as f32)
        .collect()
}
