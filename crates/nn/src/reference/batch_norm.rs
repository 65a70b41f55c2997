//! Batch normalization over the rows of a [rows, channels] matrix, where
//! rows = batch * height * width for a convolution's NHWC output.

use super::to_f32;

fn statistics_f64(z: &[f32], rows: usize, channels: usize) -> (Vec<f64>, Vec<f64>) {
    assert!(rows > 0, "batch norm needs rows");
    assert_eq!(z.len(), rows * channels, "batch norm input length");
    let mut mean = vec![0.0f64; channels];
    for row in z.chunks_exact(channels) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    for m in &mut mean {
        *m /= rows as f64;
    }
    let mut variance = vec![0.0f64; channels];
    for row in z.chunks_exact(channels) {
        for ((s, &v), m) in variance.iter_mut().zip(row).zip(&mean) {
            let d = f64::from(v) - m;
            *s += d * d;
        }
    }
    for s in &mut variance {
        *s /= rows as f64;
    }
    (mean, variance)
}

/// Per-channel (mean, biased variance = mean squared deviation) of `z` [rows, channels],
/// computed in two passes in f64 so that a large mean does not cancel the variance.
pub fn batch_norm_statistics(z: &[f32], rows: usize, channels: usize) -> (Vec<f32>, Vec<f32>) {
    let (mean, variance) = statistics_f64(z, rows, channels);
    (to_f32(&mean), to_f32(&variance))
}

/// y = gamma (z - mean) / sqrt(variance + epsilon) + beta per channel; `z` is
/// [rows, channels]. Training passes the batch's statistics, evaluation the running ones.
pub fn batch_norm_forward(
    z: &[f32],
    channels: usize,
    mean: &[f32],
    variance: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f32,
) -> Vec<f32> {
    assert!(channels > 0, "batch norm needs channels");
    assert_eq!(z.len() % channels, 0, "batch norm input length");
    for (what, v) in [
        ("mean", mean),
        ("variance", variance),
        ("gamma", gamma),
        ("beta", beta),
    ] {
        assert_eq!(v.len(), channels, "batch norm {what} length");
    }
    let scale: Vec<f64> = (0..channels)
        .map(|c| f64::from(gamma[c]) / (f64::from(variance[c]) + f64::from(epsilon)).sqrt())
        .collect();
    z.chunks_exact(channels)
        .flat_map(|row| {
            row.iter().enumerate().map(|(c, &v)| {
                (scale[c] * (f64::from(v) - f64::from(mean[c])) + f64::from(beta[c])) as f32
            })
        })
        .collect()
}

/// Gradients (dz, dgamma, dbeta) of [`batch_norm_forward`] in training mode, where the
/// mean and the biased variance are themselves functions of `z`:
/// with xhat = (z - mean) invstd, dbeta = sum dy, dgamma = sum dy xhat and
/// dz = gamma invstd / rows (rows dy - dbeta - xhat dgamma).
pub fn batch_norm_backward(
    z: &[f32],
    dy: &[f32],
    rows: usize,
    channels: usize,
    gamma: &[f32],
    epsilon: f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert_eq!(dy.len(), z.len(), "batch norm output gradient length");
    assert_eq!(gamma.len(), channels, "batch norm gamma length");
    let (mean, variance) = statistics_f64(z, rows, channels);
    let invstd: Vec<f64> = variance
        .iter()
        .map(|v| 1.0 / (v + f64::from(epsilon)).sqrt())
        .collect();
    let xhat = |r: usize, c: usize| (f64::from(z[r * channels + c]) - mean[c]) * invstd[c];
    let mut dgamma = vec![0.0f64; channels];
    let mut dbeta = vec![0.0f64; channels];
    for r in 0..rows {
        for c in 0..channels {
            let d = f64::from(dy[r * channels + c]);
            dbeta[c] += d;
            dgamma[c] += d * xhat(r, c);
        }
    }
    let n = rows as f64;
    let mut dz = Vec::with_capacity(z.len());
    for r in 0..rows {
        for c in 0..channels {
            let d = f64::from(dy[r * channels + c]);
            let k = f64::from(gamma[c]) * invstd[c] / n;
            dz.push((k * (n * d - dbeta[c] - xhat(r, c) * dgamma[c])) as f32);
        }
    }
    (dz, to_f32(&dgamma), to_f32(&dbeta))
}

/// running = momentum running + (1 - momentum) batch, elementwise.
///
/// shatter keeps running statistics with momentum 0.9 (PyTorch's default), and the
/// variance kept is the unbiased one: the caller passes variance * rows / (rows - 1).
pub fn running_average(running: &mut [f32], batch: &[f32], momentum: f32) {
    assert_eq!(running.len(), batch.len(), "running statistics length");
    let m = f64::from(momentum);
    for (r, &b) in running.iter_mut().zip(batch) {
        *r = (m * f64::from(*r) + (1.0 - m) * f64::from(b)) as f32;
    }
}
