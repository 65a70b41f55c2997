//! Every kernel against its CPU reference (shatter_nn::reference), on random data and
//! shapes that are no multiple of any tile. Run on whichever adapter WGPU_BACKEND picks;
//! CI runs this file on both the Vulkan and the GL llvmpipe adapters.
//!
//! Tolerances: GEMMs accumulate in f32 against an f64 reference, so the bound grows with
//! the depth K: |error| <= 1e-5 * K^0.5 * 4 + 1e-4 relative. Elementwise kernels and SGD
//! agree to 1e-6; the loss to 1e-5 (exp and log differ slightly between drivers).

use rand::Rng;
use shatter_gpu::{Gpu, Tensor};
use shatter_nn::reference;
use shatter_nn::{
    COLUMN_SUM_CHUNK_ROWS, GemmPlan, GemmSpec, GemmVariant, LrSchedule, MAX_GEMM_SPLITS, SgdConfig,
    SgdState, StepCursor, column_sum, column_sum_lanes, relu_backward, relu_forward, sgd_momentum,
};
use shatter_tests::{assert_close, check_gemm, gpu, random_values, rng};

fn upload(gpu: &Gpu, name: &str, shape: &[usize], values: &[f32]) -> Tensor {
    gpu.tensor(name, shape, values).expect("upload")
}

fn gemm_suite(variant: GemmVariant) {
    let Some(gpu) = gpu() else { return };
    let mut r = rng(11);
    // Fixed edge shapes: single element, thin, one past a tile, and a few random ones.
    let mut shapes = vec![
        (1, 1, 1),
        (1, 7, 3),
        (5, 1, 9),
        (33, 65, 17),
        (64, 64, 64),
        (65, 31, 130),
        (128, 10, 512),
    ];
    for _ in 0..4 {
        shapes.push((
            r.random_range(1..150),
            r.random_range(1..150),
            r.random_range(1..300),
        ));
    }
    for (i, &(m, n, k)) in shapes.iter().enumerate() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let epilogue = i % 3;
            let spec = GemmSpec {
                m,
                n,
                k,
                trans_a: ta,
                trans_b: tb,
                relu: epilogue == 2,
                variant,
            };
            check_gemm(gpu, spec, epilogue >= 1, i as u64 * 7 + 1);
        }
    }
}

#[test]
fn gemm_register_blocked_matches_reference() {
    gemm_suite(GemmVariant::Register);
}

#[test]
fn gemm_vec4_falls_back_for_shapes_it_does_not_fit() {
    // The suite's odd shapes run the scalar kernel instead; its multiples of 4 run vec4.
    gemm_suite(GemmVariant::default_vec4());
}

#[test]
fn gemm_workgroup_tiled_matches_reference() {
    gemm_suite(GemmVariant::Tiled);
}

/// The split product GPUs run for long K, on the CPU adapters too: with 3 ranges the
/// suite's shapes include ranges cut short at K's end and ranges past it (K = 1), which
/// must store zeros; 64 ranges, the most, leave most of them empty.
#[test]
fn gemm_split_over_k_matches_reference() {
    gemm_suite(GemmVariant::TiledSplit { splits: 3 });
    gemm_suite(GemmVariant::TiledSplit {
        splits: MAX_GEMM_SPLITS,
    });
}

/// The product a GPU splits untuned: mlp1x512's forward, with its bias and ReLU, in the
/// 9 ranges the GPU plan gives it.
#[test]
fn gemm_split_of_the_mlp_forward_matches_reference() {
    let Some(gpu) = gpu() else { return };
    let shape = shatter_nn::GemmShape {
        m: 128,
        n: 512,
        k: 2352,
        trans_a: false,
        trans_b: false,
    };
    let mut spec = GemmPlan::gpu_default().spec(shape);
    assert_eq!(spec.variant, GemmVariant::TiledSplit { splits: 9 });
    spec.relu = true;
    check_gemm(gpu, spec, true, 5);
}

/// Column sums (bias gradients) in one stage (a dense layer's batch of rows) and in two
/// (a conv layer's pixels: chunks, then their sums), with a last chunk cut short and more
/// columns (or quads of columns) than a workgroup; into a tensor holding garbage, so every
/// sum must be written. Column counts that are a multiple of 4 run four columns an
/// invocation, the others one.
#[test]
fn column_sums_match_reference_in_one_stage_and_in_chunks() {
    let Some(gpu) = gpu() else { return };
    let mut r = rng(23);
    let chunked = 4 * COLUMN_SUM_CHUNK_ROWS + 37;
    assert_eq!(column_sum_lanes(70), ("reduce", 70));
    assert_eq!(column_sum_lanes(260), ("reduce_vec4", 65));
    for (rows, cols, stages) in [
        (128, 10, 1),
        (300, 70, 1),
        (chunked, 3, 2),
        (chunked, 70, 2),
        (128, 8, 1),
        (300, 260, 1),
        (chunked, 4, 2),
        (chunked, 260, 2),
    ] {
        let m = random_values(&mut r, rows * cols);
        let m_t = upload(gpu, "m", &[rows, cols], &m);
        let sums_t = upload(gpu, "sums", &[cols], &vec![-7.0; cols]);
        let d = column_sum(gpu, "db", &m_t, rows, cols, &sums_t).unwrap();
        assert_eq!(d.len(), stages, "{rows}x{cols}: stages");
        gpu.run(&d).unwrap();
        let what = format!("column sums of {rows}x{cols}");
        let want = reference::column_sum(&m, rows, cols);
        let got = gpu.read_f32(&sums_t).unwrap();
        assert_close(&what, &got, &want, 1e-5, 1e-4);
    }
}

#[test]
fn relu_forward_and_backward_match_reference() {
    let Some(gpu) = gpu() else { return };
    let mut r = rng(3);
    let n = 70_001; // several workgroups and a ragged end
    let x = random_values(&mut r, n);
    let dy = random_values(&mut r, n);
    let x_t = upload(gpu, "x", &[n], &x);
    let y_t = gpu.zeros("y", &[n]).unwrap();
    let dy_t = upload(gpu, "dy", &[n], &dy);
    let dx_t = gpu.zeros("dx", &[n]).unwrap();
    let f = relu_forward(gpu, "relu", &x_t, &y_t).unwrap();
    let b = relu_backward(gpu, "relu_back", &dy_t, &y_t, &dx_t).unwrap();
    gpu.run([&f, &b]).unwrap();
    let y = reference::relu_forward(&x);
    assert_close("relu forward", &gpu.read_f32(&y_t).unwrap(), &y, 0.0, 0.0);
    assert_close(
        "relu backward",
        &gpu.read_f32(&dx_t).unwrap(),
        &reference::relu_backward(&dy, &y),
        0.0,
        0.0,
    );
}

fn cursor_buffer(gpu: &Gpu, cursor: StepCursor) -> shatter_gpu::U32Buffer {
    gpu.u32_buffer("cursor", bytemuck::cast_slice(&[cursor]))
        .unwrap()
}

#[test]
fn softmax_xent_matches_reference_including_a_partial_batch() {
    let Some(gpu) = gpu() else { return };
    let mut r = rng(5);
    for (batch, classes, images, step) in [
        (300usize, 10usize, 1000usize, 0usize),
        (300, 10, 1000, 3),
        (7, 3, 7, 0),
        (129, 10, 130, 1),
        // Top-5 among 1000 classes (ImageNet's), and with logits rounded to whole numbers
        // so that ties decide ranks.
        (40, 1000, 40, 0),
        (64, 12, 64, 0),
    ] {
        let round = classes == 12;
        let logits: Vec<f32> = random_values(&mut r, batch * classes)
            .iter()
            .map(|v| if round { (v * 3.0).round() } else { v * 8.0 })
            .collect();
        let labels: Vec<u32> = (0..batch)
            .map(|_| r.random_range(0..classes as u32))
            .collect();
        let valid = batch.min(images.saturating_sub(step * batch));
        let logits_t = upload(gpu, "logits", &[batch, classes], &logits);
        let labels_t = gpu.u32_buffer("labels", &labels).unwrap();
        let grad_t = upload(
            gpu,
            "grad",
            &[batch, classes],
            &vec![f32::NAN; batch * classes],
        );
        let metrics_t = gpu.zeros("metrics", &[step + 1, 4]).unwrap();
        let cursor = cursor_buffer(gpu, StepCursor::at(step as u32, 0));
        let d = shatter_nn::softmax_xent(
            gpu,
            "xent",
            images,
            &cursor.buffer,
            &logits_t,
            &labels_t,
            &grad_t,
            &metrics_t,
        )
        .unwrap();
        gpu.run([&d]).unwrap();
        let want = reference::softmax_xent(&logits, &labels, classes, valid);
        let what = format!("xent batch={batch} classes={classes} valid={valid}");
        assert_close(
            &format!("{what} gradient"),
            &gpu.read_f32(&grad_t).unwrap(),
            &want.grad,
            1e-4,
            1e-6,
        );
        let metrics = gpu.read_f32(&metrics_t).unwrap();
        let m = &metrics[step * 4..step * 4 + 4];
        assert_close(
            &format!("{what} loss"),
            &[m[0]],
            &[want.loss_sum as f32],
            1e-5,
            1e-4,
        );
        assert_eq!(m[1], want.correct as f32, "{what}: correct count");
        assert_eq!(m[2], valid as f32, "{what}: rows counted");
        assert_eq!(m[3], want.top5 as f32, "{what}: top-5 count");
        if classes <= 5 {
            assert_eq!(
                want.top5, valid,
                "{what}: with 5 classes or fewer every row is top-5"
            );
        } else if valid >= 64 && classes <= 12 {
            assert!(
                want.correct < want.top5 && want.top5 < valid,
                "{what}: a case where top-5 tells something ({} correct, {} top-5)",
                want.correct,
                want.top5
            );
        }
    }
}

#[test]
fn a_label_ranks_behind_higher_logits_and_equal_ones_of_lower_index() {
    let logits = [0.5, 2.0, 2.0, -1.0, 2.0, 0.5, 3.0];
    let ranks: Vec<usize> = (0..logits.len())
        .map(|label| reference::label_rank(&logits, label))
        .collect();
    assert_eq!(ranks, [4, 1, 2, 6, 3, 5, 0]);
    let top5 = reference::softmax_xent(&logits, &[5], 7, 1).top5;
    assert_eq!(
        top5, 0,
        "label 5 is sixth: behind 3.0, the three 2.0s and the earlier 0.5"
    );
    assert_eq!(reference::softmax_xent(&logits, &[0], 7, 1).top5, 1);
}

/// Where a test update keeps its state (see `SgdState`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum UpdateState {
    Buffers,
    /// The new weights also written to a texel mirror.
    Mirrored,
    /// The weights read from and written to their mirror, the velocity in a texture.
    Texels,
}

/// The four update kernels: 1000 values take the vec4 path (shaders/sgd_vec4.wgsl), 999
/// the scalar one (shaders/sgd.wgsl), 1000 with a texel mirror the vec4 path that also
/// writes the new weights to the mirror (shaders/sgd_vec4_mirrored.wgsl), and 1000 with
/// the weights read from their mirror and the velocity in a texture, where the adapter
/// can read and write texel mirrors (shaders/sgd_vec4_texel_state.wgsl).
#[test]
fn sgd_momentum_matches_reference() {
    let Some(gpu) = gpu() else { return };
    let mut cases = vec![
        (1000, UpdateState::Buffers),
        (999, UpdateState::Buffers),
        (1000, UpdateState::Mirrored),
    ];
    if gpu.read_write_texels() {
        cases.push((1000, UpdateState::Texels));
    } else {
        eprintln!(
            "adapter '{}' cannot read and write texel mirrors: the texel-state update is not tested on it",
            gpu.adapter().name
        );
    }
    for (n, state) in cases {
        let mut r = rng(9);
        let mut w = random_values(&mut r, n);
        let mut v = random_values(&mut r, n);
        let g = random_values(&mut r, n);
        let schedule = LrSchedule {
            lr0: 0.1,
            decay: 0.5,
            decay_images: 1000.0,
            staircase: true,
        };
        let config = SgdConfig {
            schedule,
            momentum: 0.9,
            weight_decay: 0.01,
        };
        let cursor = cursor_buffer(
            gpu,
            StepCursor {
                lr: 0.025,
                ..StepCursor::at(0, 2500)
            },
        );
        let (w_t, v_t, g_t) = (
            upload(gpu, "w", &[n], &w),
            upload(gpu, "v", &[n], &v),
            upload(gpu, "g", &[n], &g),
        );
        let what = format!("sgd of {n} values ({state:?})");
        // The `Mirrored` case's mirror starts empty: every value in it must come from the
        // update. The `Texels` case fills the mirror and the velocity's texture, then zeroes
        // the buffers its update must not read.
        let (mirror, velocity_texture) = match state {
            UpdateState::Buffers => (None, None),
            UpdateState::Mirrored => (Some(gpu.texel_mirror(&w_t).unwrap().0), None),
            UpdateState::Texels => {
                let (mirror, fill_mirror) = gpu.texel_mirror(&w_t).unwrap();
                let (velocity, fill_velocity) = gpu.texel_mirror(&v_t).unwrap();
                gpu.run([&fill_mirror, &fill_velocity]).unwrap();
                gpu.write_f32(&w_t, &vec![0.0; n]);
                gpu.write_f32(&v_t, &vec![0.0; n]);
                (Some(mirror), Some(velocity))
            }
        };
        let sgd_state = match (&velocity_texture, &mirror) {
            (Some(velocity), Some(mirror)) => SgdState::Texels { velocity, mirror },
            (_, mirror) => SgdState::Buffer {
                velocity: &v_t,
                mirror: mirror.as_ref(),
            },
        };
        let d = sgd_momentum(
            gpu,
            "sgd",
            &config,
            true,
            &cursor.buffer,
            &g_t,
            &w_t,
            sgd_state,
        )
        .unwrap();
        gpu.run([&d]).unwrap();
        reference::sgd_momentum(&mut w, &mut v, &g, 0.025, 0.9, 0.01);
        if let Some(mirror) = &mirror {
            assert_eq!(
                gpu.read_texel_mirror(mirror).unwrap(),
                gpu.read_f32(&w_t).unwrap(),
                "{what}: the mirror holds the new weights"
            );
        }
        assert_close(
            &format!("{what}: weights"),
            &gpu.read_f32(&w_t).unwrap(),
            &w,
            1e-6,
            1e-7,
        );
        let new_velocity = match &velocity_texture {
            Some(texture) => gpu.read_texel_mirror(texture).unwrap(),
            None => gpu.read_f32(&v_t).unwrap(),
        };
        assert_close(&format!("{what}: velocity"), &new_velocity, &v, 1e-6, 1e-7);
    }
}

#[test]
fn dense_layer_backward_matches_reference() {
    let Some(gpu) = gpu() else { return };
    let mut r = rng(13);
    let (batch, inputs, outputs) = (37, 45, 23);
    let x = random_values(&mut r, batch * inputs);
    let w = random_values(&mut r, inputs * outputs);
    let dy = random_values(&mut r, batch * outputs);
    let plan = GemmPlan::for_adapter(gpu);
    let layer = shatter_nn::Dense::new(gpu, "dense", inputs, outputs, true, batch, &w).unwrap();
    let x_t = upload(gpu, "x", &[batch, inputs], &x);
    let dx_t = gpu.zeros("dx", &[batch, inputs]).unwrap();
    gpu.write_f32(&layer.output_grad, &dy);
    let mut mirrors = shatter_nn::MirrorSet::default();
    let mut all = layer.forward(gpu, &x_t, &plan, &mut mirrors).unwrap();
    all.extend(
        layer
            .backward(gpu, &x_t, Some(&dx_t), &plan, &mut mirrors)
            .unwrap(),
    );
    gpu.run(all.iter()).unwrap();
    let y = reference::dense_forward(&x, &w, &vec![0.0; outputs], batch, inputs, true);
    let dz = reference::relu_backward(&dy, &y);
    let (dx, dw, db) = reference::dense_backward(&x, &w, &dz, batch, inputs, outputs);
    assert_close(
        "dense y",
        &gpu.read_f32(&layer.output).unwrap(),
        &y,
        1e-4,
        1e-4,
    );
    assert_close("dense dx", &gpu.read_f32(&dx_t).unwrap(), &dx, 1e-4, 1e-4);
    assert_close(
        "dense dW",
        &gpu.read_f32(&layer.weight.grad).unwrap(),
        &dw,
        1e-4,
        1e-4,
    );
    assert_close(
        "dense db",
        &gpu.read_f32(&layer.bias.grad).unwrap(),
        &db,
        1e-4,
        1e-4,
    );
}

#[test]
fn the_device_counts_the_bytes_of_every_buffer_it_creates() {
    if gpu().is_none() {
        return;
    }
    // A device of its own: the shared one counts the other tests' buffers too.
    let gpu = Gpu::new(None).unwrap();
    assert_eq!(gpu.buffer_bytes(), 0);
    let _a = gpu.zeros("count.a", &[100]).unwrap();
    let _b = gpu.tensor("count.b", &[3], &[1.0, 2.0, 3.0]).unwrap();
    let _c = gpu.u32_buffer("count.c", &[1, 2]).unwrap();
    assert_eq!(gpu.buffer_bytes(), 400 + 12 + 8);
}
