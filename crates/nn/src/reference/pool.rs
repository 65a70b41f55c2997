//! Max and average pooling over windows and global mean pooling over all pixels, on NHWC
//! tensors.

use super::to_f32;
use crate::geometry::WindowGeometry;

/// Max pooling: (y, argmax), both `[batch, out_h, out_w, channels]`, where `argmax[i]` is the
/// flat NHWC index into `x` of the input output i took.
///
/// Window taps in the padding are ignored (never chosen, unlike a zero), and on ties the
/// first maximum in scan order (tap row, then tap column) wins: a later tap replaces the
/// current choice only when strictly greater.
pub fn max_pool_forward(g: &WindowGeometry, x: &[f32]) -> (Vec<f32>, Vec<u32>) {
    assert_eq!(g.out_channels, g.in_channels, "pooling keeps the channels");
    assert_eq!(x.len(), g.input_len(), "pool input length");
    let c_count = g.in_channels;
    let mut y = Vec::with_capacity(g.output_len());
    let mut argmax = Vec::with_capacity(g.output_len());
    for n in 0..g.batch {
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                for c in 0..c_count {
                    let mut best: Option<usize> = None;
                    for kh in 0..g.window_height {
                        for kw in 0..g.window_width {
                            let Some((ih, iw)) = g.input_position(oh, ow, kh, kw) else {
                                continue;
                            };
                            let i = ((n * g.in_height + ih) * g.in_width + iw) * c_count + c;
                            if best.is_none_or(|b| x[i] > x[b]) {
                                best = Some(i);
                            }
                        }
                    }
                    let best = best.expect("every pooling window overlaps the image");
                    y.push(x[best]);
                    argmax.push(u32::try_from(best).expect("input index fits in u32"));
                }
            }
        }
    }
    (y, argmax)
}

/// Gradient of [`max_pool_forward`]: `dx[argmax[i]] += dy[i]`, zero elsewhere (an input
/// chosen by several overlapping windows sums their gradients).
pub fn max_pool_backward(g: &WindowGeometry, argmax: &[u32], dy: &[f32]) -> Vec<f32> {
    assert_eq!(argmax.len(), g.output_len(), "pool argmax length");
    assert_eq!(dy.len(), g.output_len(), "pool output gradient length");
    let mut dx = vec![0.0f64; g.input_len()];
    for (&i, &d) in argmax.iter().zip(dy) {
        dx[i as usize] += f64::from(d);
    }
    to_f32(&dx)
}

/// The input positions of output (oh, ow)'s window that lie inside the image.
fn window_inside(g: &WindowGeometry, oh: usize, ow: usize) -> Vec<(usize, usize)> {
    (0..g.window_height)
        .flat_map(|kh| (0..g.window_width).map(move |kw| (kh, kw)))
        .filter_map(|(kh, kw)| g.input_position(oh, ow, kh, kw))
        .collect()
}

/// Average pooling as TensorFlow's `avg_pool` (and Keras's AveragePooling2D) computes it:
/// each output is the mean of its window's taps that lie inside the image, so padding is
/// left out of the count (a SAME 3x3 window at a corner averages 4 values, not 9).
pub fn avg_pool_forward(g: &WindowGeometry, x: &[f32]) -> Vec<f32> {
    assert_eq!(g.out_channels, g.in_channels, "pooling keeps the channels");
    assert_eq!(x.len(), g.input_len(), "pool input length");
    let c_count = g.in_channels;
    let mut y = Vec::with_capacity(g.output_len());
    for n in 0..g.batch {
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                let inside = window_inside(g, oh, ow);
                for c in 0..c_count {
                    let sum: f64 = inside
                        .iter()
                        .map(|&(ih, iw)| {
                            f64::from(x[((n * g.in_height + ih) * g.in_width + iw) * c_count + c])
                        })
                        .sum();
                    y.push((sum / inside.len() as f64) as f32);
                }
            }
        }
    }
    y
}

/// Gradient of [`avg_pool_forward`]: each output's gradient spread evenly over the inputs
/// it averaged.
pub fn avg_pool_backward(g: &WindowGeometry, dy: &[f32]) -> Vec<f32> {
    assert_eq!(dy.len(), g.output_len(), "pool output gradient length");
    let c_count = g.in_channels;
    let mut dx = vec![0.0f64; g.input_len()];
    for n in 0..g.batch {
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                let inside = window_inside(g, oh, ow);
                let share = 1.0 / inside.len() as f64;
                for c in 0..c_count {
                    let d =
                        f64::from(dy[((n * g.out_height + oh) * g.out_width + ow) * c_count + c]);
                    for &(ih, iw) in &inside {
                        dx[((n * g.in_height + ih) * g.in_width + iw) * c_count + c] += d * share;
                    }
                }
            }
        }
    }
    to_f32(&dx)
}

/// y[n, c] = mean over the pixels p of x[n, p, c]; `x` is [batch, pixels, channels].
pub fn global_mean_pool_forward(
    x: &[f32],
    batch: usize,
    pixels: usize,
    channels: usize,
) -> Vec<f32> {
    assert_eq!(
        x.len(),
        batch * pixels * channels,
        "global pool input length"
    );
    let mut y = Vec::with_capacity(batch * channels);
    for n in 0..batch {
        for c in 0..channels {
            let sum: f64 = (0..pixels)
                .map(|p| f64::from(x[(n * pixels + p) * channels + c]))
                .sum();
            y.push((sum / pixels as f64) as f32);
        }
    }
    y
}

/// Gradient of [`global_mean_pool_forward`]: dx[n, p, c] = dy[n, c] / pixels.
pub fn global_mean_pool_backward(
    dy: &[f32],
    batch: usize,
    pixels: usize,
    channels: usize,
) -> Vec<f32> {
    assert_eq!(
        dy.len(),
        batch * channels,
        "global pool output gradient length"
    );
    let mut dx = Vec::with_capacity(batch * pixels * channels);
    for n in 0..batch {
        let row = &dy[n * channels..(n + 1) * channels];
        for _ in 0..pixels {
            dx.extend(row.iter().map(|&d| (f64::from(d) / pixels as f64) as f32));
        }
    }
    dx
}
