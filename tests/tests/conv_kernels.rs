//! The implicit-GEMM convolution kernels (shaders/_conv2d.wgsl with every load variant:
//! scalar, mixed and 16-byte, from buffers or texel mirrors, a first layer's channels
//! padded in its mirrors; and the workgroup-memory tiles of shaders/conv2d_tiled.wgsl,
//! which GPUs run) against the CPU reference: forward with
//! bias and ReLU into a channel slice, backward-data (overwriting and accumulating) and
//! backward-filter, over strides 1 and 2, SAME and VALID padding, kernels 1, 3 and 5,
//! batch 1 and larger, and sizes that are no multiple of any block.
//!
//! Tolerance: f32 accumulation against the f64 reference over a depth K (taps x channels,
//! or batch x output pixels for the filter gradient): |error| <= 2e-6 * K + 1e-5, plus
//! 1e-4 relative.

use shatter_gpu::Gpu;
use shatter_nn::reference;
use shatter_nn::{
    CONV_BLOCKS, ChannelSlice, ConvLoads, ConvPass, ConvVariant, MirrorSet, Padding,
    WindowGeometry, conv_gemm_shape, conv2d_backward_data, conv2d_backward_filter, conv2d_forward,
    gpu_k_splits,
};
use shatter_tests::{assert_close, gpu, random_values, rng};

/// (batch, [h, w, c], filters, [window height, window width], stride, padding)
type Case = (usize, [usize; 3], usize, [usize; 2], usize, Padding);

/// Case i runs block shape CONV_BLOCKS[i % 5]: cases 4 and 9 the 32-column blocks, on
/// 40 output channels (forward, filter gradient) and 40 input channels (input gradient),
/// so the second block of 32 columns is cut by the edge.
const CASES: [Case; 19] = [
    (1, [5, 7, 3], 5, [3, 3], 1, Padding::Same),
    (2, [9, 6, 4], 8, [3, 3], 2, Padding::Same),
    (3, [8, 8, 8], 16, [1, 1], 1, Padding::Same),
    (2, [7, 7, 4], 8, [5, 5], 1, Padding::Same),
    (2, [6, 6, 8], 40, [3, 3], 1, Padding::Same),
    (2, [11, 10, 8], 8, [5, 5], 2, Padding::Valid),
    (1, [6, 9, 1], 7, [3, 3], 2, Padding::Valid),
    (2, [7, 7, 12], 24, [3, 3], 2, Padding::Same),
    (4, [3, 3, 2], 3, [1, 1], 2, Padding::Same),
    (2, [5, 5, 40], 12, [3, 3], 2, Padding::Same),
    (2, [14, 14, 16], 12, [3, 3], 1, Padding::Same),
    (1, [10, 10, 3], 64, [5, 5], 1, Padding::Same),
    // First layers whose channels are padded to whole texels: 1 channel, strided, VALID;
    // 3 channels, strided, SAME, a batch.
    (2, [9, 7, 1], 8, [3, 3], 2, Padding::Valid),
    (3, [8, 6, 3], 16, [5, 5], 2, Padding::Same),
    // Inception V3's factorized windows, each axis padded by its own: 1x7 and 7x1, 1x3 and
    // 3x1 (SAME, stride 1), and a 3x1 strided VALID.
    (2, [9, 10, 8], 12, [1, 7], 1, Padding::Same),
    (2, [10, 9, 12], 8, [7, 1], 1, Padding::Same),
    (1, [6, 7, 16], 8, [1, 3], 1, Padding::Same),
    (3, [7, 5, 8], 16, [3, 1], 1, Padding::Same),
    (2, [11, 8, 4], 8, [3, 1], 2, Padding::Valid),
];

/// Texel loads copy A and B into their mirrors before the convolution; a kernel that
/// fell back to buffer reads would pass the value checks without testing the mirrors.
fn assert_mirrors_used(what: &str, loads: ConvLoads, dispatches: &[shatter_gpu::Dispatch]) {
    let expected = if matches!(
        loads,
        ConvLoads::Texels
            | ConvLoads::PaddedTexels
            | ConvLoads::SharedTexels
            | ConvLoads::SharedPaddedTexels
    ) {
        3
    } else {
        1
    };
    assert_eq!(dispatches.len(), expected, "{what}: dispatches");
}

fn tolerance(depth: usize) -> f32 {
    2e-6 * depth as f32 + 1e-5
}

fn check_case(gpu: &Gpu, case: Case, seed: u64) {
    let (batch, shape, filters, window, stride, padding) = case;
    let g = WindowGeometry::rectangle(batch, shape, filters, window, stride, padding);
    let what = format!("{g:?}");
    let mut r = rng(seed);
    let x = random_values(&mut r, g.input_len());
    let w = random_values(&mut r, g.filter_len());
    let b = random_values(&mut r, filters);
    let dz = random_values(&mut r, g.output_len());
    let prior = random_values(&mut r, g.input_len());
    let up = |name: &str, v: &[f32]| gpu.tensor(name, &[v.len()], v).unwrap();
    let (x_t, w_t, b_t, dz_t) = (up("x", &x), up("w", &w), up("b", &b), up("dz", &dz));

    // The reference: y, and the gradients for the output gradient dz.
    let y_want = reference::conv2d_forward(&g, &x, &w, &b);
    let (dx_want, dw_want, _) = reference::conv2d_backward(&g, &x, &w, &dz);
    let (_, _, k_forward) = conv_gemm_shape(ConvPass::Forward, &g);
    let (_, _, k_data) = conv_gemm_shape(ConvPass::BackwardData, &g);
    let (_, _, k_filter) = conv_gemm_shape(ConvPass::BackwardFilter, &g);

    for pass in [
        ConvPass::Forward,
        ConvPass::BackwardData,
        ConvPass::BackwardFilter,
    ] {
        // Every load width that fits, at a block shape that rotates with the case (see
        // CASES); a workgroup of 64 in a quarter of the cases, 8 in the rest (each
        // combination is a kernel to compile, seconds each on a CPU adapter).
        let variants: Vec<ConvVariant> = ConvLoads::ALL
            .into_iter()
            .filter(|loads| loads.fits(pass, &g))
            .map(|loads| match loads {
                // Its tile and workgroup are fixed.
                ConvLoads::Tiled => ConvVariant::tiled(),
                _ => ConvVariant {
                    loads,
                    block_rows: CONV_BLOCKS[seed as usize % CONV_BLOCKS.len()].0,
                    block_cols: CONV_BLOCKS[seed as usize % CONV_BLOCKS.len()].1,
                    workgroup: if seed % 4 == 3 { 64 } else { 8 },
                },
            })
            .collect();
        for variant in variants {
            let loads = variant.loads;
            let what = format!("{pass:?} {} {what}", variant.name());
            match pass {
                ConvPass::Forward => {
                    // Into channels [2, 2 + filters) of a wider tensor, with ReLU; the
                    // channels around the slice must stay as they were.
                    let total = filters + 5;
                    let pixels = g.output_pixels();
                    let around = vec![-7.0; pixels * total];
                    let y_t = gpu
                        .tensor("y", &[batch, g.out_height, g.out_width, total], &around)
                        .unwrap();
                    let slice = ChannelSlice {
                        tensor: &y_t,
                        offset: 2,
                        channels: filters,
                    };
                    let d = conv2d_forward(
                        gpu,
                        "conv",
                        &g,
                        &x_t,
                        &w_t,
                        &b_t,
                        true,
                        slice,
                        variant,
                        &mut MirrorSet::default(),
                    )
                    .unwrap();
                    assert_mirrors_used(&what, loads, &d);
                    gpu.run(&d).unwrap();
                    let got = gpu.read_f32(&y_t).unwrap();
                    let mut want = around.clone();
                    for p in 0..pixels {
                        for f in 0..filters {
                            want[p * total + 2 + f] = y_want[p * filters + f].max(0.0);
                        }
                    }
                    assert_close(&what, &got, &want, 1e-4, tolerance(k_forward));
                }
                ConvPass::BackwardData => {
                    for accumulate in [false, true] {
                        let dims = [batch, shape[0], shape[1], shape[2]];
                        let dx_t = gpu.tensor("dx", &dims, &prior).unwrap();
                        let d = conv2d_backward_data(
                            gpu,
                            "dx",
                            &g,
                            &dz_t,
                            &w_t,
                            &dx_t,
                            accumulate,
                            variant,
                            &mut MirrorSet::default(),
                        )
                        .unwrap();
                        assert_mirrors_used(&what, loads, &d);
                        gpu.run(&d).unwrap();
                        let want: Vec<f32> = if accumulate {
                            dx_want.iter().zip(&prior).map(|(a, b)| a + b).collect()
                        } else {
                            dx_want.clone()
                        };
                        let what = format!("{what} accumulate {accumulate}");
                        let got = gpu.read_f32(&dx_t).unwrap();
                        assert_close(&what, &got, &want, 1e-4, tolerance(k_data));
                    }
                }
                ConvPass::BackwardFilter => {
                    // K whole, or cut into 2 or 5 ranges summed after (GPUs split a
                    // first layer's filter gradient); on a filter tensor that holds
                    // garbage, so every value must be written.
                    let k_splits = [1, 2, 5][(seed as usize + loads as usize) % 3];
                    let what = format!("{what} k_splits {k_splits}");
                    let garbage = vec![-7.0; g.filter_len()];
                    let dw_t = gpu
                        .tensor("dw", &[window[0], window[1], shape[2], filters], &garbage)
                        .unwrap();
                    let d = conv2d_backward_filter(
                        gpu,
                        "dw",
                        &g,
                        &x_t,
                        &dz_t,
                        &dw_t,
                        variant,
                        Some(k_splits),
                        &mut MirrorSet::default(),
                    )
                    .unwrap();
                    // A split product ends with the sum of its ranges.
                    let product = if k_splits > 1 {
                        assert_eq!(d.last().unwrap().label, "dw.split_sum", "{what}");
                        &d[..d.len() - 1]
                    } else {
                        &d[..]
                    };
                    assert_mirrors_used(&what, loads, product);
                    gpu.run(&d).unwrap();
                    let got = gpu.read_f32(&dw_t).unwrap();
                    assert_close(&what, &got, &dw_want, 1e-4, tolerance(k_filter));
                }
            }
        }
    }
}

#[test]
fn conv2d_forward_and_backward_agree_with_the_reference() {
    let Some(gpu) = gpu() else { return };
    if gpu.is_cpu() && gpu.adapter().backend == "vulkan" {
        // lavapipe has 8-wide subgroups: shared-texels must run its own kernel here, not
        // the plain texel kernel it falls back to elsewhere.
        assert!(ConvLoads::SharedTexels.runs_on(gpu));
        assert!(ConvLoads::SharedPaddedTexels.runs_on(gpu));
    }
    for (i, case) in CASES.into_iter().enumerate() {
        check_case(gpu, case, 100 + i as u64);
    }
}

#[test]
fn vec4_loads_are_chosen_where_the_channels_allow_them() {
    let g = |c, f| WindowGeometry::new(2, [8, 8, c], f, 3, 1, Padding::Same);
    // A first layer: 3 channels rule out vec4 reads of the image, not of the filter or dz.
    assert_eq!(
        ConvLoads::best(ConvPass::Forward, &g(3, 64), false),
        ConvLoads::Mixed
    );
    assert_eq!(
        ConvLoads::best(ConvPass::BackwardFilter, &g(1, 64), false),
        ConvLoads::Mixed
    );
    assert_eq!(
        ConvLoads::best(ConvPass::Forward, &g(3, 12), false),
        ConvLoads::Scalar
    );
    assert_eq!(
        ConvLoads::best(ConvPass::Forward, &g(64, 64), false),
        ConvLoads::Vec4
    );
    assert_eq!(
        ConvLoads::best(ConvPass::Forward, &g(64, 12), false),
        ConvLoads::Scalar
    );
    assert_eq!(
        ConvLoads::best(ConvPass::BackwardData, &g(3, 12), false),
        ConvLoads::Vec4
    );
    assert_eq!(
        ConvLoads::best(ConvPass::BackwardFilter, &g(96, 32), false),
        ConvLoads::Vec4
    );
    // Every layer of the paper's convolutional models past the first gets 16-byte loads.
    assert_eq!(
        ConvLoads::best(ConvPass::BackwardFilter, &g(80, 80), false),
        ConvLoads::Vec4
    );
    // Where texel mirrors are preferred, they replace the 16-byte buffer reads.
    assert_eq!(
        ConvLoads::best(ConvPass::BackwardFilter, &g(80, 80), true),
        ConvLoads::Texels
    );
    // A first layer's channels are padded to whole texels in its mirrors, except for the
    // input gradient, which a first layer never computes.
    assert_eq!(
        ConvLoads::best(ConvPass::Forward, &g(3, 64), true),
        ConvLoads::PaddedTexels
    );
    assert_eq!(
        ConvLoads::best(ConvPass::BackwardFilter, &g(1, 64), true),
        ConvLoads::PaddedTexels
    );
    assert_eq!(
        ConvLoads::best(ConvPass::BackwardData, &g(3, 64), true),
        ConvLoads::Texels
    );
    assert_eq!(
        ConvLoads::best(ConvPass::Forward, &g(64, 12), true),
        ConvLoads::Scalar
    );
}

/// A layer's products share their texel mirrors: the forward copies x and w, the filter
/// gradient only dz (x is the forward's copy), the input gradient nothing (dz and w are
/// copies already). Run in that order, all three still match the reference.
#[test]
fn a_layers_products_copy_each_operand_into_a_mirror_once() {
    let Some(gpu) = gpu() else { return };
    let (batch, shape, filters) = (2, [7, 7, 4], 8);
    let g = WindowGeometry::new(batch, shape, filters, 5, 1, Padding::Same);
    let mut r = rng(150);
    let x = random_values(&mut r, g.input_len());
    let w = random_values(&mut r, g.filter_len());
    let b = random_values(&mut r, filters);
    let dz = random_values(&mut r, g.output_len());
    let up = |name: &str, v: &[f32]| gpu.tensor(name, &[v.len()], v).unwrap();
    let (x_t, w_t, b_t, dz_t) = (up("x", &x), up("w", &w), up("b", &b), up("dz", &dz));
    let y_t = gpu
        .zeros("y", &[batch, g.out_height, g.out_width, filters])
        .unwrap();
    let dw_t = gpu.zeros("dw", &[5, 5, shape[2], filters]).unwrap();
    let dx_t = gpu
        .zeros("dx", &[batch, shape[0], shape[1], shape[2]])
        .unwrap();
    let loads = ConvVariant::new(gpu, ConvLoads::Texels);
    let mut mirrors = MirrorSet::default();
    let y = ChannelSlice::whole(&y_t);
    let forward = conv2d_forward(
        gpu,
        "y",
        &g,
        &x_t,
        &w_t,
        &b_t,
        false,
        y,
        loads,
        &mut mirrors,
    )
    .unwrap();
    let filter =
        conv2d_backward_filter(gpu, "dw", &g, &x_t, &dz_t, &dw_t, loads, None, &mut mirrors)
            .unwrap();
    let data = conv2d_backward_data(
        gpu,
        "dx",
        &g,
        &dz_t,
        &w_t,
        &dx_t,
        false,
        loads,
        &mut mirrors,
    )
    .unwrap();
    assert_eq!(
        [forward.len(), filter.len(), data.len()],
        [3, 2, 1],
        "dispatches of forward, filter gradient, input gradient"
    );
    gpu.run(forward.iter().chain(&filter).chain(&data)).unwrap();
    let (dx_want, dw_want, _) = reference::conv2d_backward(&g, &x, &w, &dz);
    let depth = |pass| conv_gemm_shape(pass, &g).2;
    let y_want = reference::conv2d_forward(&g, &x, &w, &b);
    let got = |t| gpu.read_f32(t).unwrap();
    let tol = |pass| tolerance(depth(pass));
    assert_close("y", &got(&y_t), &y_want, 1e-4, tol(ConvPass::Forward));
    assert_close(
        "dw",
        &got(&dw_t),
        &dw_want,
        1e-4,
        tol(ConvPass::BackwardFilter),
    );
    assert_close(
        "dx",
        &got(&dx_t),
        &dx_want,
        1e-4,
        tol(ConvPass::BackwardData),
    );
}

/// A GPU splits a product's K where its blocks are too few to fill the device: the
/// AlexNet's first filter gradient (104 blocks of 8x8, K = 128 x 28 x 28 in 25,088 groups
/// of 4) into the most ranges, 256; its second (1,600 blocks) into 21; never a K too short
/// for ranges of 32 groups, nor a product with blocks enough already.
#[test]
fn gpus_split_a_filter_gradients_k_where_its_blocks_are_few() {
    assert_eq!(gpu_k_splits(128 * 28 * 7, 104), 256);
    assert_eq!(gpu_k_splits(128 * 14 * 4, 1600), 21);
    assert_eq!(gpu_k_splits(2 * 7 * 2, 5), 1);
    assert_eq!(gpu_k_splits(128 * 28 * 7, 40_000), 1);
}
