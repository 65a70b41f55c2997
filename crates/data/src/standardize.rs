/// TensorFlow's per_image_standardization, the paper's preprocessing, as the CPU
/// specification of the batch kernel: x = p / 255, then (x - mean) / max(std, 1/sqrt(n))
/// with the population standard deviation over all n values of the image.
pub fn per_image_standardization(pixels: &[u8]) -> Vec<f32> {
    let n = pixels.len() as f64;
    let values: Vec<f64> = pixels.iter().map(|&p| f64::from(p) / 255.0).collect();
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let scale = variance.sqrt().max(1.0 / n.sqrt());
    values.iter().map(|v| ((v - mean) / scale) as f32).collect()
}
