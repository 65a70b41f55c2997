//! The CPU reference: plain Rust with f64 accumulation. It is the specification every
//! GPU kernel is tested against, and its backward passes are themselves checked by
//! finite differences in the test suite.

mod batch_norm;
mod conv;
mod dropout;
mod lrn;
mod pool;

pub use batch_norm::*;
pub use conv::*;
pub use dropout::*;
pub use lrn::*;
pub use pool::*;

/// Rounds f64 accumulators to the f32 the reference returns.
fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&a| a as f32).collect()
}

/// C[m, n] = op(A) op(B); A is [m, k] (or [k, m] when `trans_a`), B is [k, n] (or [n, k]).
pub fn gemm(
    a: &[f32],
    b: &[f32],
    m: usize,
    n: usize,
    k: usize,
    trans_a: bool,
    trans_b: bool,
) -> Vec<f32> {
    assert_eq!(a.len(), m * k);
    assert_eq!(b.len(), k * n);
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut sum = 0.0f64;
            for p in 0..k {
                let av = if trans_a { a[p * m + i] } else { a[i * k + p] };
                let bv = if trans_b { b[j * k + p] } else { b[p * n + j] };
                sum += f64::from(av) * f64::from(bv);
            }
            c[i * n + j] = sum as f32;
        }
    }
    c
}

/// y = x W + b (then ReLU when `relu`); x [rows, inputs], W [inputs, outputs].
pub fn dense_forward(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    rows: usize,
    inputs: usize,
    relu: bool,
) -> Vec<f32> {
    let outputs = b.len();
    let mut y = gemm(x, w, rows, outputs, inputs, false, false);
    for r in 0..rows {
        for j in 0..outputs {
            let v = y[r * outputs + j] + b[j];
            y[r * outputs + j] = if relu { v.max(0.0) } else { v };
        }
    }
    y
}

/// Gradients of a dense layer without activation, given dy: (dx, dW, db).
pub fn dense_backward(
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let dx = gemm(dy, w, rows, inputs, outputs, false, true);
    let dw = gemm(x, dy, inputs, outputs, rows, true, false);
    let db = column_sum(dy, rows, outputs);
    (dx, dw, db)
}

pub fn column_sum(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols)
        .map(|j| (0..rows).map(|r| f64::from(m[r * cols + j])).sum::<f64>() as f32)
        .collect()
}

pub fn relu_forward(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| v.max(0.0)).collect()
}

/// dx = dy where the forward output y is positive.
pub fn relu_backward(dy: &[f32], y: &[f32]) -> Vec<f32> {
    dy.iter()
        .zip(y)
        .map(|(&d, &v)| if v > 0.0 { d } else { 0.0 })
        .collect()
}

/// What softmax cross-entropy gives for one batch.
#[derive(Clone, Debug, PartialEq)]
pub struct XentOutput {
    /// Loss summed over the first `valid` rows.
    pub loss_sum: f64,
    /// Rows whose argmax (first index on ties) equals the label.
    pub correct: usize,
    /// Rows whose label is among the five highest logits, ties ranked by class index.
    pub top5: usize,
    /// dL/dlogits of the mean loss over the valid rows; zero for the other rows.
    pub grad: Vec<f32>,
}

/// Softmax cross-entropy of `logits` [rows, classes] against `labels`, over the first `valid` rows.
pub fn softmax_xent(logits: &[f32], labels: &[u32], classes: usize, valid: usize) -> XentOutput {
    let rows = labels.len();
    let mut grad = vec![0.0f32; rows * classes];
    let mut loss_sum = 0.0;
    let mut correct = 0;
    let mut top5 = 0;
    for r in 0..valid {
        let z = &logits[r * classes..(r + 1) * classes];
        let label = labels[r] as usize;
        let mut best = 0;
        for j in 1..classes {
            if z[j] > z[best] {
                best = j;
            }
        }
        let max = f64::from(z[best]);
        let total: f64 = z.iter().map(|&v| (f64::from(v) - max).exp()).sum();
        loss_sum += total.ln() - (f64::from(z[label]) - max);
        correct += usize::from(best == label);
        top5 += usize::from(label_rank(z, label) < 5);
        for j in 0..classes {
            let p = (f64::from(z[j]) - max).exp() / total;
            let target = if j == label { 1.0 } else { 0.0 };
            grad[r * classes + j] = ((p - target) / valid as f64) as f32;
        }
    }
    XentOutput {
        loss_sum,
        correct,
        top5,
        grad,
    }
}

/// How many classes rank ahead of `label` in `logits`: those with a higher logit, and those
/// with the same logit and a lower index (the argmax's rule for ties). Top-k accuracy counts
/// the rows where this is below k.
pub fn label_rank(logits: &[f32], label: usize) -> usize {
    let target = logits[label];
    logits
        .iter()
        .enumerate()
        .filter(|&(j, &z)| z > target || (z == target && j < label))
        .count()
}

/// One momentum-SGD step in place: g' = g + wd w; v = m v + g'; w -= lr v.
pub fn sgd_momentum(
    weight: &mut [f32],
    velocity: &mut [f32],
    grad: &[f32],
    lr: f64,
    momentum: f64,
    weight_decay: f64,
) {
    for ((w, v), &g) in weight.iter_mut().zip(velocity.iter_mut()).zip(grad) {
        let g = f64::from(g) + weight_decay * f64::from(*w);
        let new_v = momentum * f64::from(*v) + g;
        *v = new_v as f32;
        *w = (f64::from(*w) - lr * new_v) as f32;
    }
}
