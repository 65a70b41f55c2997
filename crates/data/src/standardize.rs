//! The paper's per-image preprocessing (appendix A), as the CPU specification that the
//! GPU batch kernel is tested against.

/// TensorFlow's `per_image_standardization`: with x = p / 255 over all n values of the
/// image (every channel), return (x - mean) / max(std, 1/sqrt(n)), where std is the
/// population standard deviation. The 1/sqrt(n) floor keeps a flat image finite: it
/// comes out all zeros.
///
/// Computed in f64 and in pixel units, (p - mean_p) / max(std_p, 255/sqrt(n)), which is
/// the same quantity: the integer sum makes the mean exact to one rounding, so a constant
/// image gives exactly 0.0 rather than rounding noise amplified by the floor.
pub fn per_image_standardization(pixels: &[u8]) -> Vec<f32> {
    if pixels.is_empty() {
        return Vec::new();
    }
    let n = pixels.len() as f64;
    let sum: u64 = pixels.iter().map(|&p| u64::from(p)).sum();
    let mean = sum as f64 / n;
    let variance = pixels
        .iter()
        .map(|&p| (f64::from(p) - mean).powi(2))
        .sum::<f64>()
        / n;
    let scale = variance.sqrt().max(255.0 / n.sqrt());
    pixels
        .iter()
        .map(|&p| ((f64::from(p) - mean) / scale) as f32)
        .collect()
}

/// The same standardization for real-valued images already on the u8 / 255 scale (the
/// Gaussian randomization): (x - mean) / max(std, 1/sqrt(n)), computed in f64.
pub fn per_image_standardization_f32(values: &[f32]) -> Vec<f32> {
    if values.is_empty() {
        return Vec::new();
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let variance = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    let scale = variance.sqrt().max(1.0 / n.sqrt());
    values
        .iter()
        .map(|&v| ((f64::from(v) - mean) / scale) as f32)
        .collect()
}
