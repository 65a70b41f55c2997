//! The CPU reference's backward passes checked by central finite differences, so the
//! specification the GPU kernels are held to is itself right. All in f64 via small
//! shapes; the loss L = sum(dy * y) turns a layer's output into a scalar.

use shatter_nn::reference;
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
