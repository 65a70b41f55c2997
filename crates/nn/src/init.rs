use rand::Rng;

/// Glorot (Xavier) uniform initialization, U(-l, l) with l = sqrt(6 / (fan_in + fan_out)):
/// the default of the Keras/TensorFlow dense layers the paper's MLPs were built with.
pub fn glorot_uniform(rng: &mut impl Rng, fan_in: usize, fan_out: usize) -> Vec<f32> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    (0..fan_in * fan_out)
        .map(|_| rng.random_range(-limit..limit) as f32)
        .collect()
}

/// Glorot uniform for a conv filter [kernel, kernel, in_channels, out_channels]: fan-in
/// kernel^2 * in_channels, fan-out kernel^2 * out_channels, as Keras/TensorFlow count them.
pub fn glorot_uniform_filter(
    rng: &mut impl Rng,
    kernel: usize,
    in_channels: usize,
    out_channels: usize,
) -> Vec<f32> {
    let (fan_in, fan_out) = (
        kernel * kernel * in_channels,
        kernel * kernel * out_channels,
    );
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    (0..kernel * kernel * in_channels * out_channels)
        .map(|_| rng.random_range(-limit..limit) as f32)
        .collect()
}
