//! 2-D convolution (cross-correlation, as in TensorFlow) on NHWC tensors.

use super::to_f32;
use crate::geometry::WindowGeometry;

fn assert_conv_lengths(g: &WindowGeometry, x: &[f32], w: &[f32]) {
    assert_eq!(x.len(), g.input_len(), "conv input length");
    assert_eq!(w.len(), g.filter_len(), "conv filter length");
}

/// `y[n, oh, ow, oc] = b[oc]` + sum over the window taps inside the image (the padding
/// reads 0) and input channels of x[n, ih, iw, c] * w[kh, kw, c, oc].
///
/// `x` is `[batch, in_h, in_w, in_c]`, `w` is `[kh, kw, in_c, out_c]`, `b` is `[out_c]`; the
/// result is [batch, out_h, out_w, out_c].
pub fn conv2d_forward(g: &WindowGeometry, x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    assert_conv_lengths(g, x, w);
    assert_eq!(b.len(), g.out_channels, "conv bias length");
    let (c_in, c_out) = (g.in_channels, g.out_channels);
    let mut y = vec![0.0f32; g.output_len()];
    let mut acc = vec![0.0f64; c_out];
    for n in 0..g.batch {
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                for (a, &bias) in acc.iter_mut().zip(b) {
                    *a = f64::from(bias);
                }
                for kh in 0..g.window_height {
                    for kw in 0..g.window_width {
                        let Some((ih, iw)) = g.input_position(oh, ow, kh, kw) else {
                            continue;
                        };
                        let x_base = ((n * g.in_height + ih) * g.in_width + iw) * c_in;
                        for c in 0..c_in {
                            let xv = f64::from(x[x_base + c]);
                            let w_base = ((kh * g.window_width + kw) * c_in + c) * c_out;
                            for (a, &wv) in acc.iter_mut().zip(&w[w_base..w_base + c_out]) {
                                *a += xv * f64::from(wv);
                            }
                        }
                    }
                }
                let y_base = ((n * g.out_height + oh) * g.out_width + ow) * c_out;
                for (yv, &a) in y[y_base..y_base + c_out].iter_mut().zip(&acc) {
                    *yv = a as f32;
                }
            }
        }
    }
    y
}

/// Exact gradients of [`conv2d_forward`] given dy (the output's shape): (dx, dw, db).
///
/// Every (output pixel, tap inside the image) pair contributes dy * w to dx and
/// dy * x to dw; db is dy summed over the batch and the output pixels.
pub fn conv2d_backward(
    g: &WindowGeometry,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert_conv_lengths(g, x, w);
    assert_eq!(dy.len(), g.output_len(), "conv output gradient length");
    let (c_in, c_out) = (g.in_channels, g.out_channels);
    let mut dx = vec![0.0f64; x.len()];
    let mut dw = vec![0.0f64; w.len()];
    let mut db = vec![0.0f64; c_out];
    for n in 0..g.batch {
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                let y_base = ((n * g.out_height + oh) * g.out_width + ow) * c_out;
                let dy_pixel = &dy[y_base..y_base + c_out];
                for (d, &v) in db.iter_mut().zip(dy_pixel) {
                    *d += f64::from(v);
                }
                for kh in 0..g.window_height {
                    for kw in 0..g.window_width {
                        let Some((ih, iw)) = g.input_position(oh, ow, kh, kw) else {
                            continue;
                        };
                        let x_base = ((n * g.in_height + ih) * g.in_width + iw) * c_in;
                        for c in 0..c_in {
                            let xv = f64::from(x[x_base + c]);
                            let w_base = ((kh * g.window_width + kw) * c_in + c) * c_out;
                            let mut sum = 0.0f64;
                            for oc in 0..c_out {
                                let d = f64::from(dy_pixel[oc]);
                                sum += d * f64::from(w[w_base + oc]);
                                dw[w_base + oc] += d * xv;
                            }
                            dx[x_base + c] += sum;
                        }
                    }
                }
            }
        }
    }
    (to_f32(&dx), to_f32(&dw), to_f32(&db))
}
