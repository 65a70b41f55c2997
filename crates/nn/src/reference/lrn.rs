//! Local response normalization across channels, as TensorFlow defines it
//! (`tf.nn.local_response_normalization`).

/// The constants of a local response normalization.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrnParams {
    /// Channels on each side of the centre that enter the sum of squares.
    pub depth_radius: usize,
    pub bias: f32,
    pub alpha: f32,
    pub beta: f32,
}

impl LrnParams {
    /// The TensorFlow CIFAR-10 tutorial's values, used by the small AlexNet.
    pub const PAPER: LrnParams = LrnParams {
        depth_radius: 4,
        bias: 1.0,
        alpha: 0.001 / 9.0,
        beta: 0.75,
    };
}

/// s[c] = bias + alpha * sum of x[c']^2 over c' in [c - r, c + r] clipped to the channels,
/// for one pixel.
fn scale(x: &[f64], p: LrnParams) -> Vec<f64> {
    let channels = x.len();
    (0..channels)
        .map(|c| {
            let lo = c.saturating_sub(p.depth_radius);
            let hi = (c + p.depth_radius + 1).min(channels);
            let sqr_sum: f64 = x[lo..hi].iter().map(|v| v * v).sum();
            f64::from(p.bias) + f64::from(p.alpha) * sqr_sum
        })
        .collect()
}

fn widen(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| f64::from(v)).collect()
}

/// `y[c] = x[c] * s[c]^(-beta)` at every pixel, where `s[c]` = bias + alpha * (sum of the
/// squares of x over the channels within `depth_radius` of c, clipped to the channels).
/// `x` is [pixels, channels].
pub fn lrn_forward(x: &[f32], channels: usize, p: LrnParams) -> Vec<f32> {
    assert!(channels > 0, "LRN needs channels");
    assert_eq!(
        x.len() % channels,
        0,
        "LRN input length is a multiple of channels"
    );
    let beta = f64::from(p.beta);
    let mut y = Vec::with_capacity(x.len());
    for pixel in x.chunks_exact(channels) {
        let xv = widen(pixel);
        let s = scale(&xv, p);
        y.extend(xv.iter().zip(&s).map(|(v, s)| (v * s.powf(-beta)) as f32));
    }
    y
}

/// Exact gradient of [`lrn_forward`]: every `x[c]` enters its own output directly and the
/// neighbouring outputs' sums of squares, so
/// `dx[c] = dy[c] s[c]^(-beta) - 2 alpha beta x[c] sum_{|c'-c| <= r} dy[c'] x[c'] s[c']^(-beta-1)`.
pub fn lrn_backward(x: &[f32], dy: &[f32], channels: usize, p: LrnParams) -> Vec<f32> {
    assert!(channels > 0, "LRN needs channels");
    assert_eq!(
        x.len() % channels,
        0,
        "LRN input length is a multiple of channels"
    );
    assert_eq!(dy.len(), x.len(), "LRN output gradient length");
    let (alpha, beta) = (f64::from(p.alpha), f64::from(p.beta));
    let mut dx = Vec::with_capacity(x.len());
    for (pixel, dy_pixel) in x.chunks_exact(channels).zip(dy.chunks_exact(channels)) {
        let xv = widen(pixel);
        let dyv = widen(dy_pixel);
        let s = scale(&xv, p);
        // t[c'] = dy[c'] x[c'] s[c']^(-beta-1), the part of the neighbour sum per channel.
        let t: Vec<f64> = (0..channels)
            .map(|c| dyv[c] * xv[c] * s[c].powf(-beta - 1.0))
            .collect();
        for c in 0..channels {
            let lo = c.saturating_sub(p.depth_radius);
            let hi = (c + p.depth_radius + 1).min(channels);
            let neighbours: f64 = t[lo..hi].iter().sum();
            let d = dyv[c] * s[c].powf(-beta) - 2.0 * alpha * beta * xv[c] * neighbours;
            dx.push(d as f32);
        }
    }
    dx
}
