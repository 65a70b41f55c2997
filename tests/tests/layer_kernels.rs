//! The pooling, normalization and slice kernels against the CPU reference: max and average
//! pooling (forward into a channel slice, argmax, backward overwriting and accumulating), global
//! mean pooling, dropout (the reference's mask, new each step and seed), LRN, batch normalization (training statistics over the batch's valid
//! rows, running averages, evaluation mode, backward through the fused ReLU) and the
//! ReLU backward that reads a concatenation's slice (and fills its result's texel mirror).
//!
//! Tolerances: pooling and slices are exact (no arithmetic, or one division); LRN 1e-5
//! (pow differs slightly between drivers); batch norm 1e-4 (f32 sums over the rows).

use shatter_gpu::{Gpu, Tensor};
use shatter_nn::reference::{self, LrnParams};
use shatter_nn::{
    BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM, BatchNorm, ChannelSlice, Dropout, NormTensors,
    Padding, StepCursor, WindowGeometry, avg_pool_backward, avg_pool_forward, batch_norm_chunks,
    dropout_backward, dropout_forward, lrn_backward, lrn_forward, lrn_vec4_fits, max_pool_backward,
    max_pool_forward, mean_pool_backward, mean_pool_forward, relu_backward_slice,
    relu_backward_slice_mirrored,
};
use shatter_tests::{assert_close, gpu, random_values, rng};

fn nhwc(gpu: &Gpu, name: &str, dims: [usize; 4], values: &[f32]) -> Tensor {
    gpu.tensor(name, &dims, values).unwrap()
}

/// Columns [offset, offset + channels) of a [pixels, stride] matrix.
fn columns(m: &[f32], stride: usize, offset: usize, channels: usize) -> Vec<f32> {
    m.chunks(stride)
        .flat_map(|row| row[offset..offset + channels].to_vec())
        .collect()
}

#[test]
fn max_pooling_agrees_with_the_reference() {
    let Some(gpu) = gpu() else { return };
    // (batch, input, window, stride, padding, slice offset): offsets 4 with channels a
    // multiple of 4 take the four-channel kernel (pool_vec4.wgsl), the rest pool.wgsl.
    let cases = [
        (2, [28, 28, 3], 3, 2, Padding::Same, 1),
        (1, [7, 7, 5], 3, 2, Padding::Same, 1),
        (3, [9, 6, 2], 3, 2, Padding::Valid, 1),
        (2, [5, 8, 4], 2, 1, Padding::Same, 1),
        (2, [5, 8, 4], 2, 1, Padding::Same, 4),
        (2, [9, 9, 8], 3, 2, Padding::Same, 4),
        (1, [6, 7, 12], 3, 2, Padding::Valid, 4),
    ];
    let mut four_channel_cases = 0;
    for (i, (batch, shape, window, stride, padding, offset)) in cases.into_iter().enumerate() {
        let g = WindowGeometry::new(batch, shape, shape[2], window, stride, padding);
        let what = format!("{g:?} into channels from {offset}");
        let mut r = rng(300 + i as u64);
        let x = random_values(&mut r, g.input_len());
        let (y_want, argmax_want) = reference::max_pool_forward(&g, &x);
        let dims = [batch, g.out_height, g.out_width];
        // The output goes to channels [offset, offset + c) of a concatenation c + 2 offset wide.
        let c = shape[2];
        let total = c + 2 * offset;
        let around = random_values(&mut r, g.output_pixels() * total);
        let y_t = nhwc(gpu, "y", [dims[0], dims[1], dims[2], total], &around);
        let argmax = gpu.u32_buffer("argmax", &vec![0; g.output_len()]).unwrap();
        let x_t = nhwc(gpu, "x", [batch, shape[0], shape[1], c], &x);
        let slice = |t| ChannelSlice {
            tensor: t,
            offset,
            channels: c,
        };
        if slice(&y_t).whole_quads() {
            four_channel_cases += 1;
        }
        let d = max_pool_forward(gpu, "pool", &g, &x_t, &argmax, slice(&y_t)).unwrap();
        gpu.run([&d]).unwrap();
        let got = gpu.read_f32(&y_t).unwrap();
        assert_eq!(columns(&got, total, offset, c), y_want, "{what}: y");
        assert_eq!(
            columns(&got, total, 0, offset),
            columns(&around, total, 0, offset),
            "{what}: left of the slice"
        );
        assert_eq!(
            columns(&got, total, offset + c, offset),
            columns(&around, total, offset + c, offset),
            "{what}: right of the slice"
        );
        assert_eq!(
            gpu.read_u32(&argmax).unwrap(),
            argmax_want,
            "{what}: argmax"
        );

        // Backward from the gradient of the whole concatenation, sliced alike.
        let dy_all = random_values(&mut r, g.output_pixels() * total);
        let dy_t = nhwc(gpu, "dy", [dims[0], dims[1], dims[2], total], &dy_all);
        let dx_want =
            reference::max_pool_backward(&g, &argmax_want, &columns(&dy_all, total, offset, c));
        let prior = random_values(&mut r, g.input_len());
        for accumulate in [false, true] {
            let dx_t = nhwc(gpu, "dx", [batch, shape[0], shape[1], c], &prior);
            let d = max_pool_backward(
                gpu,
                "pool_back",
                &g,
                slice(&dy_t),
                &argmax,
                &dx_t,
                accumulate,
            )
            .unwrap();
            gpu.run([&d]).unwrap();
            let want: Vec<f32> = if accumulate {
                dx_want.iter().zip(&prior).map(|(a, b)| a + b).collect()
            } else {
                dx_want.clone()
            };
            let got = gpu.read_f32(&dx_t).unwrap();
            assert_close(
                &format!("{what} dx accumulate {accumulate}"),
                &got,
                &want,
                1e-6,
                1e-6,
            );
        }
    }
    assert_eq!(
        four_channel_cases, 3,
        "the four-channel kernel ran in 3 cases"
    );
}

#[test]
fn average_pooling_agrees_with_the_reference() {
    let Some(gpu) = gpu() else { return };
    // (batch, input, window, stride, padding, slice offset): Inception V3's 3x3 stride 1
    // SAME inside its modules and its 3x3 stride 2 VALID, odd sizes, a slice of a
    // concatenation.
    let cases = [
        (2, [7, 7, 5], 3, 1, Padding::Same, 0),
        (1, [9, 8, 3], 3, 2, Padding::Valid, 2),
        (2, [6, 5, 4], 3, 2, Padding::Same, 1),
        (3, [4, 4, 2], 2, 1, Padding::Same, 3),
    ];
    for (i, (batch, shape, window, stride, padding, offset)) in cases.into_iter().enumerate() {
        let g = WindowGeometry::new(batch, shape, shape[2], window, stride, padding);
        let what = format!("{g:?} into channels from {offset}");
        let mut r = rng(320 + i as u64);
        let x = random_values(&mut r, g.input_len());
        let y_want = reference::avg_pool_forward(&g, &x);
        let dims = [batch, g.out_height, g.out_width];
        let c = shape[2];
        let total = c + 2 * offset;
        let around = random_values(&mut r, g.output_pixels() * total);
        let y_t = nhwc(gpu, "y", [dims[0], dims[1], dims[2], total], &around);
        let x_t = nhwc(gpu, "x", [batch, shape[0], shape[1], c], &x);
        let slice = |t| ChannelSlice {
            tensor: t,
            offset,
            channels: c,
        };
        let d = avg_pool_forward(gpu, "avg", &g, &x_t, slice(&y_t)).unwrap();
        gpu.run([&d]).unwrap();
        let got = gpu.read_f32(&y_t).unwrap();
        assert_close(
            &format!("{what}: y"),
            &columns(&got, total, offset, c),
            &y_want,
            1e-6,
            1e-6,
        );
        assert_eq!(
            columns(&got, total, 0, offset),
            columns(&around, total, 0, offset),
            "{what}: left of the slice"
        );
        let dy_all = random_values(&mut r, g.output_pixels() * total);
        let dy_t = nhwc(gpu, "dy", [dims[0], dims[1], dims[2], total], &dy_all);
        let dx_want = reference::avg_pool_backward(&g, &columns(&dy_all, total, offset, c));
        let prior = random_values(&mut r, g.input_len());
        for accumulate in [false, true] {
            let dx_t = nhwc(gpu, "dx", [batch, shape[0], shape[1], c], &prior);
            let d =
                avg_pool_backward(gpu, "avg_back", &g, slice(&dy_t), &dx_t, accumulate).unwrap();
            gpu.run([&d]).unwrap();
            let want: Vec<f32> = if accumulate {
                dx_want.iter().zip(&prior).map(|(a, b)| a + b).collect()
            } else {
                dx_want.clone()
            };
            assert_close(
                &format!("{what} dx accumulate {accumulate}"),
                &gpu.read_f32(&dx_t).unwrap(),
                &want,
                1e-6,
                1e-6,
            );
        }
    }
}

#[test]
fn global_mean_pooling_agrees_with_the_reference() {
    let Some(gpu) = gpu() else { return };
    let (batch, pixels, channels) = (3, 49, 11);
    let mut r = rng(310);
    let x = random_values(&mut r, batch * pixels * channels);
    let dy = random_values(&mut r, batch * channels);
    let x_t = gpu.tensor("x", &[x.len()], &x).unwrap();
    let y_t = gpu.zeros("y", &[batch, channels]).unwrap();
    let dy_t = gpu.tensor("dy", &[dy.len()], &dy).unwrap();
    let dx_t = gpu.zeros("dx", &[x.len()]).unwrap();
    let dims = [batch, pixels, channels];
    let f = mean_pool_forward(gpu, "mean", dims, &x_t, &y_t).unwrap();
    let b = mean_pool_backward(gpu, "mean_back", dims, &dy_t, &dx_t).unwrap();
    gpu.run([&f, &b]).unwrap();
    let y_want = reference::global_mean_pool_forward(&x, batch, pixels, channels);
    let dx_want = reference::global_mean_pool_backward(&dy, batch, pixels, channels);
    assert_close(
        "mean pool y",
        &gpu.read_f32(&y_t).unwrap(),
        &y_want,
        1e-5,
        1e-6,
    );
    assert_close(
        "mean pool dx",
        &gpu.read_f32(&dx_t).unwrap(),
        &dx_want,
        1e-6,
        1e-7,
    );
}

#[test]
fn local_response_normalization_agrees_with_the_reference() {
    let Some(gpu) = gpu() else { return };
    let strong = LrnParams {
        depth_radius: 2,
        bias: 1.0,
        alpha: 0.5,
        beta: 0.75,
    };
    let radius = |depth_radius| LrnParams {
        depth_radius,
        ..strong
    };
    // Four channels per invocation (lrn_vec4.wgsl) for the paper's 64 channels and every
    // radius it takes; one per invocation (lrn.wgsl) for the rest.
    let cases = [
        (LrnParams::PAPER, 64, true),
        (radius(1), 4, true),
        (radius(4), 8, true),
        (radius(3), 12, true),
        (radius(5), 12, false),
        (strong, 7, false),
        (strong, 3, false),
    ];
    for (i, (params, channels, vec4)) in cases.into_iter().enumerate() {
        assert_eq!(
            lrn_vec4_fits(channels, params),
            vec4,
            "{params:?} {channels}"
        );
        let pixels = 37;
        let mut r = rng(320 + i as u64);
        // The paper's alpha is small: scale x up so the normalization is visible.
        let x: Vec<f32> = random_values(&mut r, pixels * channels)
            .iter()
            .map(|v| v * 4.0)
            .collect();
        let dy = random_values(&mut r, x.len());
        let t = |name: &str, v: &[f32]| gpu.tensor(name, &[pixels, channels], v).unwrap();
        let (x_t, dy_t) = (t("x", &x), t("dy", &dy));
        let scale = gpu.zeros("scale", &[pixels, channels]).unwrap();
        let y_t = gpu.zeros("y", &[pixels, channels]).unwrap();
        let dx_t = gpu.zeros("dx", &[pixels, channels]).unwrap();
        let f = lrn_forward(gpu, "lrn", channels, params, &x_t, &scale, &y_t).unwrap();
        let b = lrn_backward(
            gpu, "lrn_back", channels, params, &x_t, &dy_t, &scale, &dx_t,
        )
        .unwrap();
        gpu.run([&f, &b]).unwrap();
        let what = format!("{params:?} over {channels} channels");
        let y_want = reference::lrn_forward(&x, channels, params);
        let dx_want = reference::lrn_backward(&x, &dy, channels, params);
        assert_close(
            &format!("{what}: y"),
            &gpu.read_f32(&y_t).unwrap(),
            &y_want,
            1e-5,
            1e-5,
        );
        assert_close(
            &format!("{what}: dx"),
            &gpu.read_f32(&dx_t).unwrap(),
            &dx_want,
            1e-5,
            1e-5,
        );
    }
}

#[test]
fn relu_backward_reads_its_slice_of_the_concatenation() {
    let Some(gpu) = gpu() else { return };
    // (pixels, stride, offset, channels, whole quads): scalar, then four channels per
    // invocation (channel_slice_vec4.wgsl), from a slice and from the whole tensor
    // (which skips the divisions). Whole quads also run the kernel that fills dz's
    // texel mirror (channel_slice_vec4_mirrored.wgsl).
    let cases = [
        (23, 9, 4, 3, false),
        (23, 16, 4, 8, true),
        (23, 16, 8, 8, true),
        (5, 8, 0, 8, true),
        (300, 8, 0, 8, true),
    ];
    for (i, (pixels, stride, offset, channels, quads)) in cases.into_iter().enumerate() {
        let mut r = rng(330 + i as u64);
        let dy = random_values(&mut r, pixels * stride);
        let y = random_values(&mut r, pixels * stride);
        let dy_t = gpu.tensor("dy", &[pixels, stride], &dy).unwrap();
        let y_t = gpu.tensor("y", &[pixels, stride], &y).unwrap();
        let dz_t = gpu.zeros("dz", &[pixels, channels]).unwrap();
        let slice = ChannelSlice {
            tensor: &y_t,
            offset,
            channels,
        };
        assert_eq!(
            slice.whole_quads(),
            quads,
            "{channels} at {offset} of {stride}"
        );
        let d = relu_backward_slice(gpu, "relu_slice", &dy_t, slice, &dz_t).unwrap();
        gpu.run([&d]).unwrap();
        let want = reference::relu_backward(
            &columns(&dy, stride, offset, channels),
            &columns(&y, stride, offset, channels),
        );
        let what = format!("{channels} channels at {offset} of {stride}");
        assert_eq!(gpu.read_f32(&dz_t).unwrap(), want, "{what}");
        if !quads || !gpu.fits_texel_mirror(dz_t.len()) {
            continue;
        }
        // The mirror is first filled with 7s, so a texel the kernel missed would show.
        let stale = gpu.tensor("stale", &[pixels, channels], &vec![7.0; dz_t.len()]);
        let (mirror, fill) = gpu.texel_mirror(&stale.unwrap()).unwrap();
        let dz_t = gpu.zeros("dz", &[pixels, channels]).unwrap();
        let d = relu_backward_slice_mirrored(gpu, "relu_slice", &dy_t, slice, &dz_t, &mirror);
        gpu.run([&fill, &d.unwrap()]).unwrap();
        assert_eq!(gpu.read_f32(&dz_t).unwrap(), want, "{what}, mirrored");
        assert_eq!(
            gpu.read_texel_mirror(&mirror).unwrap(),
            want,
            "{what}: the mirror"
        );
    }
}

/// Batch norm on layers whose rows make one chunk (the kernels' partial sums), three (the
/// last partly valid, or two past the valid rows) and the most the adapter cuts a layer
/// into; one channel per invocation, over channels that fill one group of 32 lanes or
/// spill 5 into a second, and four (vec4) where the channels and the slice are whole
/// quads, over 34 quads (two groups) or 2.
#[test]
fn batch_normalization_agrees_with_the_reference_in_both_modes() {
    let Some(gpu) = gpu() else { return };
    let most = if gpu.is_cpu() { 8 } else { 125 };
    for (images, valid, pixels, channels, offset, chunks, lane_width) in [
        (5, 3, 6, 7, 3, 1, 1),
        (6, 5, 120, 37, 3, 3, 1),
        (6, 2, 120, 37, 3, 3, 1),
        (2, 1, 20_000, 3, 3, most, 1),
        // Whole quads of channels, but the slice starts mid-quad.
        (6, 5, 120, 8, 2, 3, 1),
        (6, 5, 120, 136, 4, 3, 4),
        (6, 2, 120, 136, 4, 3, 4),
        (2, 1, 20_000, 8, 4, most, 4),
    ] {
        assert_eq!(batch_norm_chunks(gpu, images * pixels).1, chunks);
        check_batch_norm(gpu, images, valid, pixels, channels, offset, lane_width);
    }
}

/// One batch-norm layer on [images, pixels, channels] of which `valid` images are real,
/// output into a slice of a wider concatenation at `offset`, run with `lane_width`
/// channels per invocation.
fn check_batch_norm(
    gpu: &Gpu,
    images: usize,
    valid: usize,
    pixels: usize,
    channels: usize,
    offset: usize,
    lane_width: usize,
) {
    let total = offset + channels + 4;
    let rows = images * pixels;
    let valid_rows = valid * pixels;
    let mut r = rng(340 + rows as u64 + channels as u64);
    // A mean far from 0, as conv outputs can have: the statistics must not cancel.
    let z: Vec<f32> = random_values(&mut r, rows * channels)
        .iter()
        .map(|v| 30.0 + 2.0 * v)
        .collect();
    let dy_all = random_values(&mut r, rows * total);
    let cursor = gpu
        .u32_buffer(
            "cursor",
            bytemuck::cast_slice(&[StepCursor {
                rows: valid as u32,
                ..StepCursor::at(0, 0)
            }]),
        )
        .unwrap();
    let bn = BatchNorm::new(gpu, "bn", channels, rows).unwrap();
    let affine = BatchNorm::affine(gpu, "bn.affine", channels).unwrap();
    let gamma: Vec<f32> = random_values(&mut r, channels)
        .iter()
        .map(|v| 1.0 + 0.5 * v)
        .collect();
    let beta = random_values(&mut r, channels);
    gpu.write_f32(&affine.value, &[gamma.clone(), beta.clone()].concat());
    let z_t = gpu.tensor("z", &[images, pixels, channels], &z).unwrap();
    let y_t = gpu.zeros("y", &[images, pixels, total]).unwrap();
    let dy_t = gpu.tensor("dy", &[images, pixels, total], &dy_all).unwrap();
    let dz_t = gpu.zeros("dz", &[images, pixels, channels]).unwrap();
    let norm = NormTensors {
        affine: &affine,
        cursor: &cursor.buffer,
        images,
        z: &z_t,
        y: ChannelSlice {
            tensor: &y_t,
            offset,
            channels,
        },
        relu: true,
    };
    assert_eq!(BatchNorm::lane_width(&norm), lane_width);
    let forward = bn.forward_train(gpu, "bn", norm).unwrap();
    let backward = bn.backward(gpu, "bn", norm, &dy_t, &dz_t).unwrap();
    gpu.run(forward.iter().chain(&backward)).unwrap();

    // Training mode: statistics over the valid rows only.
    let z_valid = &z[..valid_rows * channels];
    let (mean, variance) = reference::batch_norm_statistics(z_valid, valid_rows, channels);
    let normalized = reference::batch_norm_forward(
        z_valid,
        channels,
        &mean,
        &variance,
        &gamma,
        &beta,
        BATCH_NORM_EPSILON,
    );
    let y_want = reference::relu_forward(&normalized);
    let y_got = columns(&gpu.read_f32(&y_t).unwrap(), total, offset, channels);
    assert_close(
        "training y",
        &y_got[..valid_rows * channels],
        &y_want,
        1e-4,
        1e-4,
    );

    // Backward through the ReLU; rows without an image get no gradient.
    let g = reference::relu_backward(
        &columns(&dy_all, total, offset, channels)[..valid_rows * channels],
        &y_want,
    );
    let (dz_want, dgamma, dbeta) = reference::batch_norm_backward(
        z_valid,
        &g,
        valid_rows,
        channels,
        &gamma,
        BATCH_NORM_EPSILON,
    );
    let dz_got = gpu.read_f32(&dz_t).unwrap();
    assert_close("dz", &dz_got[..valid_rows * channels], &dz_want, 1e-3, 1e-4);
    assert!(
        dz_got[valid_rows * channels..].iter().all(|&v| v == 0.0),
        "rows without images must get dz = 0"
    );
    let affine_grad = gpu.read_f32(&affine.grad).unwrap();
    assert_close(
        "dgamma, dbeta",
        &affine_grad,
        &[dgamma, dbeta].concat(),
        1e-4,
        1e-4,
    );

    // Running averages after one step from (0, 1), the variance unbiased.
    let mut running_mean = vec![0.0; channels];
    let mut running_var = vec![1.0; channels];
    let unbiased: Vec<f32> = variance
        .iter()
        .map(|v| v * valid_rows as f32 / (valid_rows - 1) as f32)
        .collect();
    reference::running_average(&mut running_mean, &mean, BATCH_NORM_MOMENTUM);
    reference::running_average(&mut running_var, &unbiased, BATCH_NORM_MOMENTUM);
    let running = gpu.read_f32(&bn.running).unwrap();
    assert_close(
        "running averages",
        &running,
        &[running_mean.clone(), running_var.clone()].concat(),
        1e-4,
        1e-4,
    );

    // Evaluation mode: the running averages, for every row; nothing updated.
    let eval = bn.forward_eval(gpu, "bn", norm).unwrap();
    gpu.run([&eval]).unwrap();
    let y_eval = columns(&gpu.read_f32(&y_t).unwrap(), total, offset, channels);
    let want = reference::relu_forward(&reference::batch_norm_forward(
        &z,
        channels,
        &running_mean,
        &running_var,
        &gamma,
        &beta,
        BATCH_NORM_EPSILON,
    ));
    assert_close("evaluation y", &y_eval, &want, 1e-4, 1e-4);
    assert_eq!(
        gpu.read_f32(&bn.running).unwrap(),
        running,
        "evaluation must not move the running averages"
    );
    // The slice's neighbours were never written.
    assert!(
        columns(&gpu.read_f32(&y_t).unwrap(), total, 0, offset)
            .iter()
            .all(|&v| v == 0.0)
    );
}

#[test]
fn dropout_draws_the_reference_mask_and_evaluation_is_the_identity() {
    let Some(gpu) = gpu() else { return };
    let (rows, row_len) = (37, 129);
    let mut r = rng(340);
    let x = random_values(&mut r, rows * row_len);
    let dy = random_values(&mut r, rows * row_len);
    let x_t = gpu.tensor("x", &[rows, row_len], &x).unwrap();
    let dy_t = gpu.tensor("dy", &[rows, row_len], &dy).unwrap();
    let out = gpu.zeros("out", &[rows, row_len]).unwrap();
    let cursor_at = |seen: u32| {
        gpu.u32_buffer("cursor", bytemuck::cast_slice(&[StepCursor::at(3, seen)]))
            .unwrap()
    };
    let dropout = Dropout {
        rate: 0.5,
        seed: 77,
    };
    let mut masks = Vec::new();
    for (seen, seed) in [(1000, 77), (1128, 77), (1000, 78)] {
        let cursor = cursor_at(seen);
        let layer = Dropout { seed, ..dropout };
        let mask = reference::dropout_mask(layer.rate, seed, seen, rows, row_len);
        let forward = dropout_forward(
            gpu,
            "drop",
            layer,
            true,
            [rows, row_len],
            &cursor.buffer,
            &x_t,
            &out,
        )
        .unwrap();
        gpu.run([&forward]).unwrap();
        let what = format!("seed {seed}, {seen} images seen");
        assert_eq!(
            gpu.read_f32(&out).unwrap(),
            reference::dropout_forward(&x, &mask),
            "{what}: forward"
        );
        let backward = dropout_backward(
            gpu,
            "drop_back",
            layer,
            [rows, row_len],
            &cursor.buffer,
            &dy_t,
            &out,
        )
        .unwrap();
        gpu.run([&backward]).unwrap();
        assert_eq!(
            gpu.read_f32(&out).unwrap(),
            reference::dropout_forward(&dy, &mask),
            "{what}: the backward uses the forward's mask"
        );
        let dropped = mask.iter().filter(|&&m| m == 0.0).count() as f64 / mask.len() as f64;
        assert!((0.47..0.53).contains(&dropped), "{what}: dropped {dropped}");
        assert!(
            mask.iter().all(|&m| m == 0.0 || m == 2.0),
            "{what}: scale 1/(1-rate)"
        );
        masks.push(mask);
    }
    assert_ne!(masks[0], masks[1], "each step draws a new mask");
    assert_ne!(masks[0], masks[2], "each seed draws its own");
    let evaluation = dropout_forward(
        gpu,
        "eval",
        dropout,
        false,
        [rows, row_len],
        &cursor_at(1000).buffer,
        &x_t,
        &out,
    )
    .unwrap();
    gpu.run([&evaluation]).unwrap();
    assert_eq!(gpu.read_f32(&out).unwrap(), x, "evaluation is the identity");
}
