//! A whole network's backward on the GPU against central finite differences of its loss,
//! on a small graph that holds every layer kind of the zoo: conv modules with and without
//! batch norm (training mode), a downsample module (stride-2 conv beside max pooling) and
//! an Inception module, both concatenated on channels, LRN, global mean pooling, dense
//! and logits. It checks what the per-kernel tests cannot: the wiring (slices of the
//! concatenations, gradients added where a tensor feeds two branches, the order of the
//! backward) and that batch norm's gradient accounts for its batch statistics. A second
//! graph holds Inception V3's parts: convolutions without bias over 1x3, 3x1 and VALID
//! windows, VALID max pooling, a branch that starts with average pooling, a concatenation
//! that ends a branch of another (written into the outer one's slice), and dropout.
//!
//! The loss is read back in f32, so the step is large enough for f32 differences
//! (h = 1e-3) and the tolerance is 1e-3 + 2% of the gradient. Up to three coordinates of
//! every parameter tensor are checked, largest gradients first, skipping those where the
//! step crosses a kink of ReLU or max pooling.

use shatter_gpu::Gpu;
use shatter_nn::reference::LrnParams;
use shatter_nn::{
    ConvInit, GemmPlan, GemmShape, GemmVariant, KernelPlan, LayerSpec, Network, NetworkShape,
    Padding, StepCursor, WeightInit,
};
use shatter_tests::{gpu, random_values, rng};

const H: f32 = 1e-3;

fn layers() -> Vec<LayerSpec> {
    vec![
        LayerSpec::conv(4, 3, 1, true),
        LayerSpec::Concat(vec![
            vec![LayerSpec::conv(4, 3, 2, true)],
            vec![LayerSpec::max_pool(3, 2)],
        ]),
        LayerSpec::Concat(vec![
            vec![LayerSpec::conv(4, 1, 1, false)],
            vec![LayerSpec::conv(3, 3, 1, false)],
        ]),
        LayerSpec::Lrn(LrnParams {
            depth_radius: 2,
            bias: 1.0,
            alpha: 0.3,
            beta: 0.75,
        }),
        LayerSpec::Concat(vec![vec![LayerSpec::conv(8, 3, 1, true)]]),
        LayerSpec::GlobalMeanPool,
        LayerSpec::Dense {
            units: 6,
            relu: true,
        },
        LayerSpec::Logits,
    ]
}

fn inception_v3_parts() -> Vec<LayerSpec> {
    use Padding::{Same, Valid};
    let conv = |filters, window: [usize; 2]| LayerSpec::conv_bn(filters, window, 1, Same);
    vec![
        LayerSpec::conv_bn(4, [3, 3], 1, Valid),
        LayerSpec::Concat(vec![
            vec![LayerSpec::conv_bn(4, [3, 3], 2, Valid)],
            vec![LayerSpec::MaxPool {
                window: 3,
                stride: 2,
                padding: Valid,
            }],
        ]),
        LayerSpec::Concat(vec![
            vec![
                LayerSpec::AvgPool {
                    window: 3,
                    stride: 1,
                    padding: Same,
                },
                conv(3, [1, 1]),
            ],
            vec![
                conv(3, [1, 1]),
                LayerSpec::Concat(vec![vec![conv(2, [1, 3])], vec![conv(2, [3, 1])]]),
            ],
            vec![conv(2, [3, 1]), conv(3, [1, 3])],
        ]),
        LayerSpec::GlobalMeanPool,
        LayerSpec::Dropout { rate: 0.3 },
        LayerSpec::Logits,
    ]
}

/// The mean loss of one forward pass in training mode.
fn loss(
    gpu: &Gpu,
    net: &Network,
    loss: &shatter_gpu::Dispatch,
    metrics: &shatter_gpu::Tensor,
) -> f64 {
    gpu.run(net.forward().chain([loss])).unwrap();
    f64::from(gpu.read_f32(metrics).unwrap()[0]) / net.batch as f64
}

#[test]
fn network_backward_matches_finite_differences_of_the_loss() {
    let Some(gpu) = gpu() else { return };
    let total = check_gradients(gpu, "every-layer", &layers(), [2, 7, 6]);
    // 5 conv layers (filter and bias; 3 also batch norm's scale and shift), dense, logits.
    assert!(
        total >= 2 * (5 * 2 + 3 + 2 + 2),
        "only {total} coordinates checked"
    );
}

/// An MLP built with the GEMM plan GPUs get untuned, on whatever adapter runs the test:
/// its first layer's forward (3 x 600 x 768) and the second's (3 x 300 x 600) split K
/// into 3 and 2 ranges (the input gradient of the second, K = 300, stays whole).
#[test]
fn dense_layers_split_over_k_as_on_a_gpu_match_finite_differences_of_the_loss() {
    let Some(gpu) = gpu() else { return };
    let layers = [
        LayerSpec::Dense {
            units: 600,
            relu: true,
        },
        LayerSpec::Dense {
            units: 300,
            relu: true,
        },
        LayerSpec::Logits,
    ];
    let plan = KernelPlan {
        gemm: GemmPlan::gpu_default(),
        ..KernelPlan::for_adapter(gpu)
    };
    let split = |m, n, k| plan.gemm.variant(shape(m, n, k));
    assert_eq!(split(3, 600, 768), GemmVariant::TiledSplit { splits: 3 });
    assert_eq!(split(3, 300, 600), GemmVariant::TiledSplit { splits: 2 });
    let total = check_gradients_with(gpu, "split-mlp", &layers, [3, 16, 16], &plan);
    assert!(total >= 2 * 3, "only {total} coordinates checked");
}

fn shape(m: usize, n: usize, k: usize) -> GemmShape {
    GemmShape {
        m,
        n,
        k,
        trans_a: false,
        trans_b: false,
    }
}

#[test]
fn inception_v3_parts_backward_matches_finite_differences_of_the_loss() {
    let Some(gpu) = gpu() else { return };
    let total = check_gradients(gpu, "inception-v3-parts", &inception_v3_parts(), [2, 11, 9]);
    // 8 convolutions without bias (filter, batch norm's scale and shift) and the logits
    // (weights and bias): every tensor had at least one smooth coordinate, most three.
    assert!(total >= 2 * (8 * 2 + 2), "only {total} coordinates checked");
}

/// Check every parameter tensor of the network `layers` describe, for 3 images of `input`
/// [channels, height, width] and 5 classes; the number of coordinates checked.
fn check_gradients(gpu: &Gpu, name: &str, layers: &[LayerSpec], input: [usize; 3]) -> usize {
    check_gradients_with(gpu, name, layers, input, &KernelPlan::for_adapter(gpu))
}

/// [`check_gradients`] with the kernels of `plan`.
fn check_gradients_with(
    gpu: &Gpu,
    name: &str,
    layers: &[LayerSpec],
    input: [usize; 3],
    plan: &KernelPlan,
) -> usize {
    let (batch, classes) = (3, 5);
    let cursor = gpu
        .u32_buffer(
            "cursor",
            bytemuck::cast_slice(&[StepCursor {
                rows: batch as u32,
                ..StepCursor::at(0, 0)
            }]),
        )
        .unwrap();
    let shape = NetworkShape {
        input,
        classes,
        batch,
    };
    let init = WeightInit {
        seed: 5,
        conv: ConvInit::He,
    };
    let net = Network::from_layers(gpu, name, layers, shape, init, plan, &cursor.buffer).unwrap();
    let mut r = rng(400);
    gpu.write_f32(&net.input, &random_values(&mut r, net.input.len()));
    gpu.write_u32(&net.labels, 0, &[1, 4, 0]);
    let metrics = gpu.zeros("metrics", &[1, 4]).unwrap();
    let loss_dispatch = net
        .loss(gpu, "loss", batch, &cursor.buffer, &metrics)
        .unwrap();
    gpu.run(net.forward().chain([&loss_dispatch]).chain(net.backward()))
        .unwrap();

    let base = loss(gpu, &net, &loss_dispatch, &metrics);
    let mut skipped = 0;
    let mut total = 0;
    for layer in &net.layers {
        for p in &layer.parameters {
            let grad = gpu.read_f32(&p.grad).unwrap();
            let value = gpu.read_f32(&p.value).unwrap();
            // The coordinates with the largest gradients first (where a wrong factor
            // shows), then the rest in order.
            let mut order: Vec<usize> = (0..grad.len()).collect();
            order.sort_by(|&a, &b| grad[b].abs().total_cmp(&grad[a].abs()));
            let mut checked = 0;
            for &i in order.iter().take(12) {
                let at = |v: f32| {
                    let mut nudged = value.clone();
                    nudged[i] = v;
                    gpu.write_f32(&p.value, &nudged);
                    loss(gpu, &net, &loss_dispatch, &metrics)
                };
                let (plus, minus) = (at(value[i] + H), at(value[i] - H));
                gpu.write_f32(&p.value, &value);
                // ReLU and max pooling make the loss piecewise smooth: where the two
                // one-sided slopes disagree, the step crossed a kink and the central
                // difference means nothing there.
                let h = f64::from(H);
                let (right, left) = ((plus - base) / h, (base - minus) / h);
                if (right - left).abs() > 2e-3 + 0.02 * right.abs().max(left.abs()) {
                    skipped += 1;
                    continue;
                }
                let numeric = ((plus - minus) / (2.0 * h)) as f32;
                let analytic = grad[i];
                assert!(
                    (analytic - numeric).abs() <= 1e-3 + 0.02 * numeric.abs(),
                    "{}[{i}]: backward {analytic}, finite difference {numeric}",
                    p.value.name
                );
                checked += 1;
                if checked == 3 {
                    break;
                }
            }
            // A bias moves every pixel of its channel at once, so all of a small layer's
            // biases can sit near a kink; one smooth coordinate is the least accepted.
            assert!(checked >= 1, "{}: no smooth coordinate", p.value.name);
            total += checked;
        }
    }
    assert!(skipped < 20, "{name}: {skipped} coordinates sat on kinks");
    total
}
