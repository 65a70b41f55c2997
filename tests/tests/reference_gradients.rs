//! The CPU reference's backward passes checked by central finite differences, so the
//! specification the GPU kernels are held to is itself right. All in f64 via small
//! shapes; the loss L = sum(dy * y) turns a layer's output into a scalar.

use rand::seq::SliceRandom;
use shatter_nn::reference::{self, LrnParams};
use shatter_nn::{Padding, WindowGeometry};
use shatter_tests::{random_values, rng};

const H: f32 = 1e-2;

/// Central difference of `f` at every coordinate of `x`.
fn numeric_grad(x: &[f32], f: impl Fn(&[f32]) -> f64) -> Vec<f32> {
    (0..x.len())
        .map(|i| {
            let mut plus = x.to_vec();
            let mut minus = x.to_vec();
            plus[i] += H;
            minus[i] -= H;
            ((f(&plus) - f(&minus)) / (2.0 * f64::from(H))) as f32
        })
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

fn assert_grad(what: &str, analytic: &[f32], numeric: &[f32]) {
    for (i, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            (a - n).abs() <= 2e-3 * (1.0 + n.abs()),
            "{what}[{i}]: analytic {a}, numeric {n}"
        );
    }
}

#[test]
fn dense_backward_matches_finite_differences() {
    let mut r = rng(1);
    let (rows, inputs, outputs) = (3, 4, 5);
    let x = random_values(&mut r, rows * inputs);
    let w = random_values(&mut r, inputs * outputs);
    let b = random_values(&mut r, outputs);
    let dy = random_values(&mut r, rows * outputs);
    let (dx, dw, db) = reference::dense_backward(&x, &w, &dy, rows, inputs, outputs);
    let loss = |x: &[f32], w: &[f32], b: &[f32]| {
        dot(&dy, &reference::dense_forward(x, w, b, rows, inputs, false))
    };
    assert_grad("dx", &dx, &numeric_grad(&x, |x| loss(x, &w, &b)));
    assert_grad("dW", &dw, &numeric_grad(&w, |w| loss(&x, w, &b)));
    assert_grad("db", &db, &numeric_grad(&b, |b| loss(&x, &w, b)));
}

#[test]
fn relu_backward_matches_finite_differences_away_from_zero() {
    let mut r = rng(2);
    // Keep inputs away from the kink, where the derivative is not defined.
    let x: Vec<f32> = random_values(&mut r, 50)
        .iter()
        .map(|v| if v.abs() < 0.1 { v + 0.3 } else { *v })
        .collect();
    let dy = random_values(&mut r, 50);
    let analytic = reference::relu_backward(&dy, &reference::relu_forward(&x));
    assert_grad(
        "relu dx",
        &analytic,
        &numeric_grad(&x, |x| dot(&dy, &reference::relu_forward(x))),
    );
}

#[test]
fn softmax_xent_gradient_matches_finite_differences_with_masked_rows() {
    let mut r = rng(3);
    let (rows, classes, valid) = (6, 4, 4);
    let logits: Vec<f32> = random_values(&mut r, rows * classes)
        .iter()
        .map(|v| v * 3.0)
        .collect();
    let labels = [0, 3, 1, 2, 2, 0];
    let analytic = reference::softmax_xent(&logits, &labels, classes, valid).grad;
    // The gradient is of the mean loss over the valid rows.
    let mean_loss =
        |z: &[f32]| reference::softmax_xent(z, &labels, classes, valid).loss_sum / valid as f64;
    assert_grad("dlogits", &analytic, &numeric_grad(&logits, mean_loss));
    assert!(
        analytic[valid * classes..].iter().all(|&g| g == 0.0),
        "masked rows get no gradient"
    );
}

#[test]
fn softmax_xent_counts_argmax_with_first_index_on_ties() {
    let logits = [1.0, 1.0, 0.0, 0.0, 2.0, 2.0];
    let out = reference::softmax_xent(&logits, &[0, 2], 3, 2);
    assert_eq!(
        out.correct, 1,
        "row 0 ties at classes 0 and 1 and picks 0; row 1 ties at 1 and 2 and picks 1"
    );
    let e = std::f64::consts::E;
    let row0 = (e + e + 1.0).ln() - 1.0;
    let row1 = (1.0 + e * e + e * e).ln() - 2.0;
    assert!(
        (out.loss_sum - (row0 + row1)).abs() < 1e-6,
        "loss {} expected {}",
        out.loss_sum,
        row0 + row1
    );
}

#[test]
fn sgd_reference_is_momentum_sgd_with_weight_decay() {
    let mut w = vec![1.0f32];
    let mut v = vec![0.5f32];
    reference::sgd_momentum(&mut w, &mut v, &[2.0], 0.1, 0.9, 0.01);
    // g' = 2 + 0.01 * 1 = 2.01; v = 0.45 + 2.01 = 2.46; w = 1 - 0.246
    assert!(
        (v[0] - 2.46).abs() < 1e-6 && (w[0] - 0.754).abs() < 1e-6,
        "w {w:?} v {v:?}"
    );
}

/// One convolution or pooling case: (batch, [h, w, c], out_c, window, stride, padding).
type Case = (usize, [usize; 3], usize, usize, usize, Padding);

fn case_name(&(batch, hwc, out_c, k, s, padding): &Case) -> String {
    format!("batch {batch} in {hwc:?} out_c {out_c} window {k} stride {s} {padding:?}")
}

/// (batch, [h, w, c], out channels, [window height, window width], stride, padding)
type RectangleCase = (usize, [usize; 3], usize, [usize; 2], usize, Padding);

#[test]
fn conv2d_backward_matches_finite_differences() {
    let cases: [Case; 10] = [
        (1, [5, 7, 3], 4, 3, 1, Padding::Same),
        (2, [5, 7, 3], 4, 3, 2, Padding::Same),
        (1, [5, 7, 3], 4, 3, 1, Padding::Valid),
        (2, [6, 5, 2], 3, 3, 2, Padding::Valid),
        (1, [5, 7, 3], 4, 1, 1, Padding::Same),
        (2, [4, 6, 2], 3, 1, 2, Padding::Valid),
        (1, [6, 7, 2], 3, 5, 1, Padding::Same),
        (2, [7, 5, 2], 2, 5, 2, Padding::Same),
        (1, [5, 7, 3], 2, 5, 1, Padding::Valid),
        (1, [8, 8, 1], 2, 3, 2, Padding::Same),
    ];
    // Inception V3's factorized windows: 1x7 and 7x1 SAME, 3x1 strided VALID.
    let rectangles: [RectangleCase; 3] = [
        (1, [5, 9, 2], 3, [1, 7], 1, Padding::Same),
        (2, [9, 4, 2], 2, [7, 1], 1, Padding::Same),
        (1, [7, 5, 3], 2, [3, 1], 2, Padding::Valid),
    ];
    let geometries = cases
        .iter()
        .map(|case| {
            let (batch, hwc, out_c, k, s, padding) = *case;
            (case_name(case), WindowGeometry::new(batch, hwc, out_c, k, s, padding))
        })
        .chain(rectangles.iter().map(|&(batch, hwc, out_c, window, s, padding)| {
            (
                format!("batch {batch} in {hwc:?} out_c {out_c} window {window:?} stride {s} {padding:?}"),
                WindowGeometry::rectangle(batch, hwc, out_c, window, s, padding),
            )
        }));
    let mut r = rng(10);
    for (name, g) in geometries {
        let out_c = g.out_channels;
        let x = random_values(&mut r, g.input_len());
        let w = random_values(&mut r, g.filter_len());
        let b = random_values(&mut r, out_c);
        let dy = random_values(&mut r, g.output_len());
        let (dx, dw, db) = reference::conv2d_backward(&g, &x, &w, &dy);
        assert_eq!(
            (dx.len(), dw.len(), db.len()),
            (x.len(), w.len(), b.len()),
            "{name}"
        );
        let loss =
            |x: &[f32], w: &[f32], b: &[f32]| dot(&dy, &reference::conv2d_forward(&g, x, w, b));
        assert_grad(
            &format!("{name} dx"),
            &dx,
            &numeric_grad(&x, |x| loss(x, &w, &b)),
        );
        assert_grad(
            &format!("{name} dw"),
            &dw,
            &numeric_grad(&w, |w| loss(&x, w, &b)),
        );
        assert_grad(
            &format!("{name} db"),
            &db,
            &numeric_grad(&b, |b| loss(&x, &w, b)),
        );
    }
}

#[test]
fn conv2d_forward_sums_the_window_inside_the_image() {
    // A 3x3 kernel of ones over a 1-channel 3x3 image, SAME, stride 1: the centre output
    // sees all nine inputs, a corner four, an edge six.
    let g = WindowGeometry::new(1, [3, 3, 1], 1, 3, 1, Padding::Same);
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let y = reference::conv2d_forward(&g, &x, &[1.0; 9], &[0.5]);
    assert_eq!(
        y,
        [12.5, 21.5, 16.5, 27.5, 45.5, 33.5, 24.5, 39.5, 28.5],
        "3x3 box filter plus bias 0.5"
    );
}

#[test]
fn conv2d_forward_is_cross_correlation_with_tf_padding() {
    // A filter with a single 1 at tap (0, 0) reads the input one up and one left of the
    // output position (SAME pads one row and column above and left for a 3x3 window).
    let g = WindowGeometry::new(1, [3, 4, 1], 1, 3, 1, Padding::Same);
    let x: Vec<f32> = (1..=12).map(|v| v as f32).collect();
    let mut w = [0.0f32; 9];
    w[0] = 1.0;
    let y = reference::conv2d_forward(&g, &x, &w, &[0.0]);
    assert_eq!(
        y,
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 5.0, 6.0, 7.0],
        "tap (0, 0) is the top-left neighbour"
    );
    // A 1x4 image, window 3 stride 2 SAME: 2 output columns with the one padding column
    // on the right (pad_left 0), and the single row padded one above and one below, so
    // tap row 0 always reads padding and tap row 1 reads the image.
    let g = WindowGeometry::new(1, [1, 4, 1], 1, 3, 2, Padding::Same);
    assert_eq!((g.out_width, g.pad_left, g.pad_top), (2, 0, 1));
    let y = reference::conv2d_forward(&g, &[1.0, 2.0, 3.0, 4.0], &w, &[0.0]);
    assert_eq!(y, [0.0, 0.0], "tap row 0 is in the padding");
    let mut w = [0.0f32; 9];
    w[3] = 1.0; // tap (1, 0)
    let y = reference::conv2d_forward(&g, &[1.0, 2.0, 3.0, 4.0], &w, &[0.0]);
    assert_eq!(y, [1.0, 3.0], "stride 2 reads input columns 0 and 2");
}

#[test]
fn conv2d_with_a_1x1_window_is_a_dense_layer_over_channels() {
    // Checks the filter layout [kh, kw, in_c, out_c] against dense's [inputs, outputs].
    let mut r = rng(11);
    let g = WindowGeometry::new(2, [3, 5, 4], 3, 1, 1, Padding::Valid);
    let x = random_values(&mut r, g.input_len());
    let w = random_values(&mut r, g.filter_len());
    let b = random_values(&mut r, 3);
    let conv = reference::conv2d_forward(&g, &x, &w, &b);
    let dense = reference::dense_forward(&x, &w, &b, 2 * 3 * 5, 4, false);
    shatter_tests::assert_close("1x1 conv vs dense", &conv, &dense, 1e-6, 1e-6);
}

#[test]
fn window_geometry_follows_tensorflow_padding() {
    let g = WindowGeometry::new(1, [28, 28, 1], 1, 3, 2, Padding::Same);
    assert_eq!(
        (g.out_height, g.out_width, g.pad_top, g.pad_left),
        (14, 14, 0, 0)
    );
    assert_eq!(g.input_position(0, 0, 0, 0), Some((0, 0)));
    assert_eq!(g.input_position(13, 13, 1, 1), Some((27, 27)));
    assert_eq!(
        g.input_position(13, 0, 2, 0),
        None,
        "the extra row is below"
    );
    let g = WindowGeometry::new(1, [28, 28, 1], 1, 5, 1, Padding::Same);
    assert_eq!(
        (g.out_height, g.out_width, g.pad_top, g.pad_left),
        (28, 28, 2, 2)
    );
    assert_eq!(g.input_position(0, 0, 1, 2), None);
    assert_eq!(g.input_position(0, 0, 2, 2), Some((0, 0)));
    let g = WindowGeometry::new(1, [7, 7, 1], 1, 3, 2, Padding::Same);
    assert_eq!(
        (g.out_height, g.out_width, g.pad_top, g.pad_left),
        (4, 4, 1, 1)
    );
    let g = WindowGeometry::new(1, [7, 9, 1], 1, 3, 2, Padding::Valid);
    assert_eq!(
        (g.out_height, g.out_width, g.pad_top, g.pad_left),
        (3, 4, 0, 0)
    );
}

/// Distinct values at least 0.05 apart in random order, so no two inputs of a pooling
/// window come within the finite-difference step of a tie.
fn separated_values(r: &mut rand_chacha::ChaCha8Rng, n: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n).map(|i| i as f32 * 0.05 - n as f32 * 0.025).collect();
    v.shuffle(r);
    v
}

#[test]
fn max_pool_backward_matches_finite_differences() {
    let cases: [Case; 4] = [
        (2, [7, 7, 2], 2, 3, 2, Padding::Same),
        (1, [6, 5, 3], 3, 3, 2, Padding::Same),
        (2, [7, 6, 2], 2, 3, 2, Padding::Valid),
        (1, [5, 5, 2], 2, 2, 1, Padding::Valid),
    ];
    let mut r = rng(12);
    for case in &cases {
        let (batch, hwc, c, k, s, padding) = *case;
        let name = case_name(case);
        let g = WindowGeometry::new(batch, hwc, c, k, s, padding);
        let x = separated_values(&mut r, g.input_len());
        let dy = random_values(&mut r, g.output_len());
        let (y, argmax) = reference::max_pool_forward(&g, &x);
        for (i, (&v, &a)) in y.iter().zip(&argmax).enumerate() {
            assert_eq!(v, x[a as usize], "{name}: y[{i}] is x[argmax[{i}]]");
        }
        let dx = reference::max_pool_backward(&g, &argmax, &dy);
        let numeric = numeric_grad(&x, |x| dot(&dy, &reference::max_pool_forward(&g, x).0));
        assert_grad(&format!("{name} dx"), &dx, &numeric);
    }
}

#[test]
fn avg_pool_backward_matches_finite_differences() {
    let cases: [Case; 3] = [
        (2, [5, 6, 2], 2, 3, 1, Padding::Same),
        (1, [7, 7, 3], 3, 3, 2, Padding::Valid),
        (2, [6, 5, 2], 2, 3, 2, Padding::Same),
    ];
    let mut r = rng(13);
    for case in &cases {
        let (batch, hwc, c, k, s, padding) = *case;
        let name = case_name(case);
        let g = WindowGeometry::new(batch, hwc, c, k, s, padding);
        let x = random_values(&mut r, g.input_len());
        let dy = random_values(&mut r, g.output_len());
        let dx = reference::avg_pool_backward(&g, &dy);
        let numeric = numeric_grad(&x, |x| dot(&dy, &reference::avg_pool_forward(&g, x)));
        assert_grad(&format!("{name} dx"), &dx, &numeric);
    }
}

#[test]
fn avg_pool_leaves_padding_out_of_the_count_as_tensorflow_does() {
    // A 3x3 image of ones but for a 10 in the middle; 3x3 SAME stride 1: the corner output
    // averages its 4 taps inside the image, an edge output 6, the centre 9.
    let g = WindowGeometry::new(1, [3, 3, 1], 1, 3, 1, Padding::Same);
    let x = [1.0, 1.0, 1.0, 1.0, 10.0, 1.0, 1.0, 1.0, 1.0];
    let y = reference::avg_pool_forward(&g, &x);
    assert_eq!(y[0], 13.0 / 4.0, "corner");
    assert_eq!(y[1], 15.0 / 6.0, "edge");
    assert_eq!(y[4], 18.0 / 9.0, "centre");
}

#[test]
fn max_pool_forward_ignores_padding_and_keeps_the_first_maximum() {
    // One 3x4 image with two channels; window 3 stride 2 SAME gives a 2x2 output with
    // padding 2 rows (one above, one below) and 1 column (on the right).
    let g = WindowGeometry::new(1, [3, 4, 2], 2, 3, 2, Padding::Same);
    assert_eq!(
        (g.out_height, g.out_width, g.pad_top, g.pad_left),
        (2, 2, 1, 0)
    );
    // Channel 0 all negative (a zero from the padding must not win); channel 1 with ties.
    #[rustfmt::skip]
    let ch0 = [
        -5.0, -4.0, -9.0, -7.0,
        -6.0, -8.0, -3.0, -2.0,
        -1.5, -9.5, -8.5, -6.5,
    ];
    #[rustfmt::skip]
    let ch1 = [
        1.0, 7.0, 7.0, 2.0,
        7.0, 0.0, 3.0, 3.0,
        4.0, 5.0, 3.0, 3.0,
    ];
    let x: Vec<f32> = ch0.iter().zip(&ch1).flat_map(|(&a, &b)| [a, b]).collect();
    let (y, argmax) = reference::max_pool_forward(&g, &x);
    let at = |row: usize, col: usize, c: usize| ((row * 4 + col) * 2 + c) as u32;
    // Output (0, 0) covers rows 0..=1 (row -1 is padding), cols 0..=2; (0, 1) rows 0..=1,
    // cols 2..=3 (col 4 is padding); (1, 0) rows 1..=2 (row 3 is padding), cols 0..=2;
    // (1, 1) rows 1..=2, cols 2..=3.
    assert_eq!(y, [-3.0, 7.0, -2.0, 7.0, -1.5, 7.0, -2.0, 3.0]);
    assert_eq!(
        argmax,
        [
            at(1, 2, 0),
            at(0, 1, 1), // 7 at (0,1), (0,2) and (1,0): the first in scan order
            at(1, 3, 0),
            at(0, 2, 1),
            at(2, 0, 0),
            at(1, 0, 1),
            at(1, 3, 0),
            at(1, 2, 1), // 3 at (1,2), (1,3), (2,2) and (2,3)
        ]
    );
    // Overlapping windows that chose the same input sum their gradients.
    let dy = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let dx = reference::max_pool_backward(&g, &argmax, &dy);
    assert_eq!(dx[at(1, 3, 0) as usize], 10.0);
    assert_eq!(dx.iter().sum::<f32>(), 36.0);
}

#[test]
fn global_mean_pool_matches_finite_differences_and_values() {
    let mut r = rng(13);
    let (batch, pixels, channels) = (2, 5, 3);
    let x = random_values(&mut r, batch * pixels * channels);
    let dy = random_values(&mut r, batch * channels);
    let dx = reference::global_mean_pool_backward(&dy, batch, pixels, channels);
    let numeric = numeric_grad(&x, |x| {
        dot(
            &dy,
            &reference::global_mean_pool_forward(x, batch, pixels, channels),
        )
    });
    assert_grad("global mean pool dx", &dx, &numeric);
    let y =
        reference::global_mean_pool_forward(&[1.0, 10.0, 3.0, 20.0, 2.0, 0.0, 6.0, 0.0], 2, 2, 2);
    assert_eq!(y, [2.0, 15.0, 4.0, 0.0]);
}

#[test]
fn lrn_backward_matches_finite_differences() {
    let strong = LrnParams {
        depth_radius: 2,
        bias: 1.0,
        alpha: 0.5,
        beta: 0.75,
    };
    let mut r = rng(14);
    for (name, p, channels) in [
        ("strong", strong, 7),
        ("strong, radius past the channels", strong, 2),
        ("paper", LrnParams::PAPER, 12),
    ] {
        let pixels = 4;
        let x: Vec<f32> = random_values(&mut r, pixels * channels)
            .iter()
            .map(|v| v * 2.0)
            .collect();
        let dy = random_values(&mut r, pixels * channels);
        let dx = reference::lrn_backward(&x, &dy, channels, p);
        let numeric = numeric_grad(&x, |x| dot(&dy, &reference::lrn_forward(x, channels, p)));
        assert_grad(&format!("lrn {name} dx"), &dx, &numeric);
    }
}

#[test]
fn lrn_forward_values() {
    let p = LrnParams {
        depth_radius: 1,
        bias: 1.0,
        alpha: 1.0,
        beta: 0.5,
    };
    let y = reference::lrn_forward(&[1.0, 2.0, 3.0, -2.0, 0.0, 0.0], 3, p);
    // Pixel 0: sums 1+4, 1+4+9, 4+9; pixel 1: 4, 4, 0.
    let want = [
        1.0 / 6.0f32.sqrt(),
        2.0 / 15.0f32.sqrt(),
        3.0 / 14.0f32.sqrt(),
        -2.0 / 5.0f32.sqrt(),
        0.0,
        0.0,
    ];
    shatter_tests::assert_close("lrn forward", &y, &want, 1e-6, 1e-7);
    assert_eq!(LrnParams::PAPER.depth_radius, 4);
    assert!((LrnParams::PAPER.alpha - 0.001 / 9.0).abs() < 1e-12);
}

#[test]
fn batch_norm_backward_matches_finite_differences() {
    let mut r = rng(15);
    let (rows, channels, epsilon) = (6, 3, 1e-3);
    let z = random_values(&mut r, rows * channels);
    let gamma: Vec<f32> = random_values(&mut r, channels)
        .iter()
        .map(|v| v + 1.5)
        .collect();
    let beta = random_values(&mut r, channels);
    let dy = random_values(&mut r, rows * channels);
    let (dz, dgamma, dbeta) =
        reference::batch_norm_backward(&z, &dy, rows, channels, &gamma, epsilon);
    // Training mode: the statistics move with z.
    let loss = |z: &[f32], gamma: &[f32], beta: &[f32]| {
        let (mean, variance) = reference::batch_norm_statistics(z, rows, channels);
        dot(
            &dy,
            &reference::batch_norm_forward(z, channels, &mean, &variance, gamma, beta, epsilon),
        )
    };
    assert_grad(
        "batch norm dz",
        &dz,
        &numeric_grad(&z, |z| loss(z, &gamma, &beta)),
    );
    assert_grad(
        "batch norm dgamma",
        &dgamma,
        &numeric_grad(&gamma, |g| loss(&z, g, &beta)),
    );
    assert_grad(
        "batch norm dbeta",
        &dbeta,
        &numeric_grad(&beta, |b| loss(&z, &gamma, b)),
    );
    // dz sums to zero per channel: shifting a channel's inputs changes nothing.
    for c in 0..channels {
        let sum: f32 = (0..rows).map(|r| dz[r * channels + c]).sum();
        assert!(sum.abs() < 1e-5, "channel {c}: dz sums to {sum}");
    }
}

#[test]
fn batch_norm_forward_normalizes_to_beta_and_gamma() {
    let (mean, variance) = reference::batch_norm_statistics(&[1.0, 2.0, 3.0, 6.0], 2, 2);
    assert_eq!((mean, variance), (vec![2.0, 4.0], vec![1.0, 4.0]));

    let mut r = rng(16);
    let (rows, channels) = (40, 3);
    let z: Vec<f32> = random_values(&mut r, rows * channels)
        .iter()
        .enumerate()
        .map(|(i, v)| v * (1.0 + (i % channels) as f32) + 10.0)
        .collect();
    let gamma = [0.5, 2.0, -1.5];
    let beta = [0.25, -1.0, 3.0];
    let (mean, variance) = reference::batch_norm_statistics(&z, rows, channels);
    let y = reference::batch_norm_forward(&z, channels, &mean, &variance, &gamma, &beta, 0.0);
    let (y_mean, y_variance) = reference::batch_norm_statistics(&y, rows, channels);
    for c in 0..channels {
        assert!(
            (y_mean[c] - beta[c]).abs() < 1e-5,
            "channel {c}: mean {}",
            y_mean[c]
        );
        assert!(
            (y_variance[c] - gamma[c] * gamma[c]).abs() < 1e-4,
            "channel {c}: variance {}",
            y_variance[c]
        );
    }
}

#[test]
fn running_average_moves_toward_the_batch() {
    let mut running = vec![1.0f32, -2.0];
    reference::running_average(&mut running, &[3.0, 0.0], 0.9);
    shatter_tests::assert_close("running", &running, &[1.2, -1.8], 1e-6, 1e-6);
}

#[test]
fn dropout_backward_matches_finite_differences() {
    // With the step's mask fixed, dropout is y = x * mask: its gradient is dy * mask.
    let mut r = rng(14);
    let mask = reference::dropout_mask(0.3, 5, 640, 3, 11);
    let x = random_values(&mut r, mask.len());
    let dy = random_values(&mut r, mask.len());
    let dx = reference::dropout_forward(&dy, &mask);
    let numeric = numeric_grad(&x, |x| dot(&dy, &reference::dropout_forward(x, &mask)));
    assert_grad("dropout dx", &dx, &numeric);
    assert!(mask.contains(&0.0) && mask.iter().any(|&m| m > 1.0));
}
