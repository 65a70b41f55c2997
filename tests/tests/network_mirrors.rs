//! Texel mirrors shared across a network's layers: a tensor that several layers' forward
//! products read (an Inception-style module's input, read by each branch) is copied once
//! a step, and a mirror first made for a backward product is never read by a product
//! that runs before its copy. The plans here choose the convolution kernels, so the
//! tests hold on any adapter.

use shatter_gpu::Gpu;
use shatter_nn::{
    ConvInit, ConvLoads, ConvPass, ConvProblem, ConvVariant, KernelPlan, LayerSpec, Network,
    NetworkShape, StepCursor, WeightInit,
};
use shatter_tests::{assert_close, gpu, random_values, rng};

const BATCH: usize = 2;

/// A convolution, then two branches that both read its output, concatenated.
fn layers() -> Vec<LayerSpec> {
    vec![
        LayerSpec::conv(8, 3, 1, false),
        LayerSpec::Concat(vec![
            vec![LayerSpec::conv(8, 1, 1, false)],
            vec![LayerSpec::conv(8, 3, 1, false)],
        ]),
        LayerSpec::Flatten,
        LayerSpec::Logits,
    ]
}

fn build(gpu: &Gpu, plan: &KernelPlan, cursor: &shatter_gpu::U32Buffer) -> Network {
    let shape = NetworkShape {
        input: [4, 5, 5],
        classes: 3,
        batch: BATCH,
    };
    let init = WeightInit {
        seed: 7,
        conv: ConvInit::He,
    };
    Network::from_layers(
        gpu,
        "branches",
        &layers(),
        shape,
        init,
        plan,
        &cursor.buffer,
    )
    .unwrap()
}

fn cursor(gpu: &Gpu) -> shatter_gpu::U32Buffer {
    let at = StepCursor {
        rows: BATCH as u32,
        ..StepCursor::at(0, 0)
    };
    gpu.u32_buffer("cursor", bytemuck::cast_slice(&[at]))
        .unwrap()
}

/// The convolution problems of the network, built untuned.
fn problems(gpu: &Gpu) -> Vec<ConvProblem> {
    build(gpu, &KernelPlan::for_adapter(gpu), &cursor(gpu)).conv_problems
}

/// A plan running every convolution with `loads`, except where `choose` says otherwise.
fn plan_with(
    gpu: &Gpu,
    loads: ConvLoads,
    choose: impl Fn(&ConvProblem) -> Option<ConvLoads>,
) -> KernelPlan {
    let mut plan = KernelPlan::for_adapter(gpu);
    for problem in problems(gpu) {
        let chosen = choose(&problem).unwrap_or(loads);
        assert!(chosen.fits(problem.pass, &problem.geometry), "{problem:?}");
        plan.conv
            .choose(problem.key(), ConvVariant::new(gpu, chosen));
    }
    plan
}

/// Every parameter gradient after one training step on fixed data.
fn gradients(gpu: &Gpu, plan: &KernelPlan) -> Vec<Vec<f32>> {
    let cursor = cursor(gpu);
    let net = build(gpu, plan, &cursor);
    gpu.write_f32(&net.input, &random_values(&mut rng(31), net.input.len()));
    gpu.write_u32(&net.labels, 0, &[2, 0]);
    let metrics = gpu.zeros("metrics", &[1, 4]).unwrap();
    let loss = net
        .loss(gpu, "loss", BATCH, &cursor.buffer, &metrics)
        .unwrap();
    gpu.run(net.forward().chain([&loss]).chain(net.backward()))
        .unwrap();
    net.layers
        .iter()
        .flat_map(|l| &l.parameters)
        .map(|p| gpu.read_f32(&p.grad).unwrap())
        .collect()
}

#[test]
fn a_tensor_that_two_branches_read_is_copied_into_its_mirror_once_a_step() {
    let Some(gpu) = gpu() else { return };
    let net = build(
        gpu,
        &plan_with(gpu, ConvLoads::Texels, |_| None),
        &cursor(gpu),
    );
    let step: Vec<&str> = net
        .forward()
        .chain(net.backward())
        .map(|d| d.label.as_str())
        .collect();
    let packs: Vec<&str> = step
        .iter()
        .copied()
        .filter(|l| l.ends_with(".texels.pack"))
        .collect();
    let mut distinct = packs.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        packs.len(),
        distinct.len(),
        "a tensor copied twice: {packs:?}"
    );
    // The first convolution's output feeds both branches: copied by the first branch's
    // forward and read by the second's forward and both backward passes.
    let shared = packs.iter().filter(|&&l| l == "conv1.output.texels.pack");
    assert_eq!(shared.count(), 1, "{packs:?}");
    // Per step: the input, 3 filters and the first convolution's output in the forward.
    // The backward copies nothing: each ReLU backward fills its pre-activation
    // gradient's mirror as it writes the gradient.
    assert_eq!(packs.len(), 5, "{packs:?}");
}

#[test]
fn the_relu_backward_fills_the_mirror_its_layer_products_read() {
    let Some(gpu) = gpu() else { return };
    let texels = plan_with(gpu, ConvLoads::Texels, |_| None);
    let net = build(gpu, &texels, &cursor(gpu));
    let backward: Vec<&str> = net.backward().map(|d| d.label.as_str()).collect();
    assert!(
        !backward.iter().any(|l| l.contains("pre_activation_grad")),
        "{backward:?}"
    );
    // Every parameter gradient as the buffer kernels (which read dz itself) find it.
    let want = gradients(gpu, &plan_with(gpu, ConvLoads::Vec4, |_| None));
    let got = gradients(gpu, &texels);
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_close(&format!("parameter {i}"), g, w, 1e-4, 1e-5);
    }
}

#[test]
fn a_mirror_made_for_a_backward_product_is_not_read_by_an_earlier_forward() {
    let Some(gpu) = gpu() else { return };
    // The first branch's forward reads buffers and its filter gradient a mirror of the
    // branches' input; the second branch's forward runs before that backward, so it
    // must copy the input itself rather than read the backward's copy.
    let first_branch = |p: &ConvProblem| p.geometry.window_height == 1;
    let second_branch =
        |p: &ConvProblem| p.geometry.window_height == 3 && p.geometry.in_channels == 8;
    let mixed = plan_with(gpu, ConvLoads::Vec4, |p| match p.pass {
        ConvPass::Forward if first_branch(p) => Some(ConvLoads::Vec4),
        ConvPass::BackwardFilter if first_branch(p) => Some(ConvLoads::Texels),
        ConvPass::Forward if second_branch(p) => Some(ConvLoads::Texels),
        _ => None,
    });
    let buffers = plan_with(gpu, ConvLoads::Vec4, |_| None);
    let want = gradients(gpu, &buffers);
    let got = gradients(gpu, &mixed);
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_close(&format!("parameter {i}"), g, w, 1e-4, 1e-5);
    }
}

/// The workgroup-memory tiles GPUs may run, for every convolution of a network with
/// branches (forward into channel slices, input gradients that accumulate where two
/// branches read one tensor), give the gradients of the register-blocked kernels.
#[test]
fn workgroup_tiled_convolutions_give_the_gradients_of_the_other_kernels() {
    let Some(gpu) = gpu() else { return };
    let tiled = plan_with(gpu, ConvLoads::Tiled, |_| None);
    let summary = tiled.conv.summary(gpu, &problems(gpu));
    assert!(
        summary.starts_with("tiled-64x64-wg256 ("),
        "every convolution runs the tiles: {summary}"
    );
    let want = gradients(gpu, &plan_with(gpu, ConvLoads::Vec4, |_| None));
    let got = gradients(gpu, &tiled);
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_close(&format!("parameter {i}"), g, w, 1e-4, 1e-5);
    }
}
