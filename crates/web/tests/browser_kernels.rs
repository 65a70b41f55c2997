//! Every kernel compiled by the browser's WGSL compiler, and the kernels the page trains
//! with against their CPU references, in a browser through WebGPU: the batch gather, the dense layer's forward and backward (its GEMMs, ReLU
//! epilogue and bias sums, in the variants the plan picks for the browser's adapter), ReLU
//! alone, the softmax cross-entropy and the SGD update. The same comparisons as
//! tests/tests/kernels.rs and batch.rs, with async readbacks (a browser cannot block).
//!
//! Run by xtask/tests/web_page.rs: `cargo test -p shatter-web --target
//! wasm32-unknown-unknown` with wasm-bindgen-test-runner driving headless Chromium
//! (crates/web/webdriver.json holds its flags).
#![cfg(target_arch = "wasm32")]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shatter::{BatchShape, ResidentSplit, gather_batch, reference_batch};
use shatter_data::Split;
use shatter_gpu::{Gpu, SHADERS, Tensor};
use shatter_nn::{
    GemmPlan, LrSchedule, SgdConfig, SgdState, StepCursor, reference, relu_backward, relu_forward,
    sgd_momentum,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn random_values(r: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| r.random_range(-1.0f32..1.0)).collect()
}

fn assert_close(what: &str, got: &[f32], want: &[f32], rtol: f32, atol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs();
        assert!(
            err <= atol + rtol * w.abs() && g.is_finite(),
            "{what}: element {i} is {g}, expected {w} (error {err})"
        );
    }
}

async fn open() -> Gpu {
    Gpu::browser().await.expect("a WebGPU adapter")
}

async fn read(gpu: &Gpu, tensor: &Tensor) -> Vec<f32> {
    gpu.read_f32_async(tensor).await.expect("readback")
}

fn cursor(gpu: &Gpu, cursor: StepCursor) -> shatter_gpu::U32Buffer {
    gpu.u32_buffer("cursor", bytemuck::cast_slice(&[cursor]))
        .unwrap()
}

#[wasm_bindgen_test]
async fn the_adapter_is_browser_webgpu() {
    let gpu = open().await;
    assert_eq!(gpu.adapter().backend, "browserwebgpu");
    // Blocking reads refuse in one line instead of hanging the page.
    let t = gpu.zeros("t", &[4]).unwrap();
    let error = gpu.read_f32(&t).unwrap_err().to_string();
    assert!(error.contains("a browser cannot block"), "{error}");
}

/// Every kernel file compiles with the browser's own WGSL compiler, except those that
/// need what WebGPU does not offer (subgroup operations, read-write rgba32float storage
/// textures). Browsers compile with Tint, whose uniformity analysis is stricter than
/// naga's: a barrier inside a loop bounded by the kernels' private copy of their
/// parameters passes naga (and every native adapter) and fails here.
#[wasm_bindgen_test]
async fn every_kernel_compiles_in_the_browser() {
    let gpu = open().await;
    let needs_more = |s: &&shatter_gpu::Shader| s.uses_subgroups() || s.uses_read_write_texels();
    let left_out: Vec<&str> = SHADERS.iter().filter(needs_more).map(|s| s.name).collect();
    assert_eq!(
        left_out,
        [
            "conv2d_texels_shared",
            "gemm_subgroup",
            "gemm_subgroup_texels",
            "sgd_vec4_texel_state"
        ]
    );
    let mut compiled = 0;
    for shader in SHADERS.iter().filter(|s| !needs_more(s)) {
        gpu.compile_shader(shader.name).unwrap();
        gpu.settle(&format!("compiling {}", shader.name))
            .await
            .unwrap();
        compiled += 1;
    }
    assert_eq!(compiled, SHADERS.len() - left_out.len());
}

#[wasm_bindgen_test]
async fn batch_gather_matches_reference() {
    let gpu = open().await;
    let mut r = rng(22);
    // 45 images of 28x28 (the page's), centre-cropped to 24x24 to test the offsets; an
    // order and three steps of 16 (16, 16 and 13 real rows).
    let (images, side, crop) = (45, 28, 24);
    let pixels: Vec<u8> = (0..images * side * side).map(|_| r.random()).collect();
    let labels: Vec<u16> = (0..images).map(|_| r.random_range(0..10u16)).collect();
    let split = Split::from_u8(pixels, labels);
    let shape = BatchShape {
        batch: 16,
        channels: 1,
        height: side,
        width: side,
        crop_height: crop,
        crop_width: crop,
        random_crop: None,
        random_flip: None,
    };
    let mut order: Vec<u32> = (0..images as u32).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, r.random_range(0..=i));
    }
    let resident = ResidentSplit::upload(&gpu, "split", &split, side * side).unwrap();
    let order_buffer = gpu.u32_buffer("order", &order).unwrap();
    let x = gpu.zeros("x", &[16, crop * crop]).unwrap();
    let y = gpu.u32_buffer("y", &[0; 16]).unwrap();
    for step in 0..3u32 {
        let at = cursor(&gpu, StepCursor::at(step, 16 * step));
        let d = gather_batch(
            &gpu,
            "gather",
            shape,
            &resident,
            &order_buffer,
            false,
            &at.buffer,
            &x,
            &y,
        )
        .unwrap();
        gpu.run([&d]).unwrap();
        let (want_x, want_y) =
            reference_batch(shape, &split, Some(&order), step as usize, 16 * step);
        assert_close(
            &format!("batch step {step}"),
            &read(&gpu, &x).await,
            &want_x,
            1e-5,
            1e-5,
        );
        assert_eq!(
            gpu.read_u32_async(&y).await.unwrap(),
            want_y,
            "labels, step {step}"
        );
    }
    gpu.settle("gathering batches").await.unwrap();
}

#[wasm_bindgen_test]
async fn dense_layer_forward_and_backward_match_reference() {
    let gpu = open().await;
    // An odd shape, and the page's first layer (a batch of 32 images of 784 pixels into 512).
    for (batch, inputs, outputs, seed) in [(37, 45, 23, 13), (32, 784, 512, 14)] {
        let mut r = rng(seed);
        let x = random_values(&mut r, batch * inputs);
        let w = random_values(&mut r, inputs * outputs);
        let dy = random_values(&mut r, batch * outputs);
        let plan = GemmPlan::for_adapter(&gpu);
        let layer =
            shatter_nn::Dense::new(&gpu, "dense", inputs, outputs, true, batch, &w).unwrap();
        let x_t = gpu.tensor("x", &[batch, inputs], &x).unwrap();
        let dx_t = gpu.zeros("dx", &[batch, inputs]).unwrap();
        gpu.write_f32(&layer.output_grad, &dy);
        let mut mirrors = shatter_nn::MirrorSet::default();
        let mut all = layer.forward(&gpu, &x_t, &plan, &mut mirrors).unwrap();
        all.extend(
            layer
                .backward(&gpu, &x_t, Some(&dx_t), &plan, &mut mirrors)
                .unwrap(),
        );
        gpu.run(all.iter()).unwrap();
        let y = reference::dense_forward(&x, &w, &vec![0.0; outputs], batch, inputs, true);
        let dz = reference::relu_backward(&dy, &y);
        let (dx, dw, db) = reference::dense_backward(&x, &w, &dz, batch, inputs, outputs);
        let what = format!("dense {batch}x{inputs} -> {outputs}");
        let tol = 1e-4 * (inputs as f32).sqrt();
        assert_close(
            &format!("{what}: y"),
            &read(&gpu, &layer.output).await,
            &y,
            1e-4,
            tol,
        );
        assert_close(
            &format!("{what}: dx"),
            &read(&gpu, &dx_t).await,
            &dx,
            1e-4,
            tol,
        );
        let dw_got = read(&gpu, &layer.weight.grad).await;
        assert_close(&format!("{what}: dW"), &dw_got, &dw, 1e-4, tol);
        let db_got = read(&gpu, &layer.bias.grad).await;
        assert_close(&format!("{what}: db"), &db_got, &db, 1e-4, tol);
        gpu.settle(&what).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn relu_forward_and_backward_match_reference() {
    let gpu = open().await;
    let mut r = rng(3);
    let n = 70_001;
    let x = random_values(&mut r, n);
    let dy = random_values(&mut r, n);
    let x_t = gpu.tensor("x", &[n], &x).unwrap();
    let y_t = gpu.zeros("y", &[n]).unwrap();
    let dy_t = gpu.tensor("dy", &[n], &dy).unwrap();
    let dx_t = gpu.zeros("dx", &[n]).unwrap();
    let f = relu_forward(&gpu, "relu", &x_t, &y_t).unwrap();
    let b = relu_backward(&gpu, "relu_back", &dy_t, &y_t, &dx_t).unwrap();
    gpu.run([&f, &b]).unwrap();
    let y = reference::relu_forward(&x);
    assert_close("relu forward", &read(&gpu, &y_t).await, &y, 0.0, 0.0);
    let dx = reference::relu_backward(&dy, &y);
    assert_close("relu backward", &read(&gpu, &dx_t).await, &dx, 0.0, 0.0);
}

#[wasm_bindgen_test]
async fn softmax_xent_matches_reference_including_a_partial_batch() {
    let gpu = open().await;
    let mut r = rng(5);
    // A full batch of 32, and the last, short batch of 256 images in steps of 48.
    for (batch, classes, images, step) in [(32usize, 10usize, 256usize, 0usize), (48, 10, 256, 5)] {
        let logits: Vec<f32> = random_values(&mut r, batch * classes)
            .iter()
            .map(|v| v * 8.0)
            .collect();
        let labels: Vec<u32> = (0..batch)
            .map(|_| r.random_range(0..classes as u32))
            .collect();
        let valid = batch.min(images.saturating_sub(step * batch));
        let logits_t = gpu.tensor("logits", &[batch, classes], &logits).unwrap();
        let labels_t = gpu.u32_buffer("labels", &labels).unwrap();
        let grad_t = gpu.zeros("grad", &[batch, classes]).unwrap();
        let metrics_t = gpu.zeros("metrics", &[step + 1, 4]).unwrap();
        let at = cursor(&gpu, StepCursor::at(step as u32, 0));
        let d = shatter_nn::softmax_xent(
            &gpu, "xent", images, &at.buffer, &logits_t, &labels_t, &grad_t, &metrics_t,
        )
        .unwrap();
        gpu.run([&d]).unwrap();
        let want = reference::softmax_xent(&logits, &labels, classes, valid);
        let what = format!("xent batch={batch} valid={valid}");
        assert_close(
            &format!("{what}: gradient"),
            &read(&gpu, &grad_t).await,
            &want.grad,
            1e-4,
            1e-6,
        );
        let metrics = read(&gpu, &metrics_t).await;
        let m = &metrics[step * 4..step * 4 + 4];
        assert_close(
            &format!("{what}: loss"),
            &[m[0]],
            &[want.loss_sum as f32],
            1e-5,
            1e-4,
        );
        assert_eq!(m[1], want.correct as f32, "{what}: correct");
        assert_eq!(m[2], valid as f32, "{what}: rows");
        assert_eq!(m[3], want.top5 as f32, "{what}: top-5");
    }
}

#[wasm_bindgen_test]
async fn sgd_momentum_matches_reference() {
    let gpu = open().await;
    // The vec4 path (1000 values) and the scalar one (999).
    for n in [1000, 999] {
        let mut r = rng(9);
        let mut w = random_values(&mut r, n);
        let mut v = random_values(&mut r, n);
        let g = random_values(&mut r, n);
        let config = SgdConfig {
            schedule: LrSchedule {
                lr0: 0.1,
                decay: 0.5,
                decay_images: 1000.0,
                staircase: true,
            },
            momentum: 0.9,
            weight_decay: 0.01,
        };
        let at = cursor(
            &gpu,
            StepCursor {
                lr: 0.025,
                ..StepCursor::at(0, 2500)
            },
        );
        let w_t = gpu.tensor("w", &[n], &w).unwrap();
        let v_t = gpu.tensor("v", &[n], &v).unwrap();
        let g_t = gpu.tensor("g", &[n], &g).unwrap();
        let state = SgdState::Buffer {
            velocity: &v_t,
            mirror: None,
        };
        let d = sgd_momentum(&gpu, "sgd", &config, true, &at.buffer, &g_t, &w_t, state).unwrap();
        gpu.run([&d]).unwrap();
        reference::sgd_momentum(&mut w, &mut v, &g, 0.025, 0.9, 0.01);
        assert_close(
            &format!("sgd {n}: weights"),
            &read(&gpu, &w_t).await,
            &w,
            1e-6,
            1e-7,
        );
        assert_close(
            &format!("sgd {n}: velocity"),
            &read(&gpu, &v_t).await,
            &v,
            1e-6,
            1e-7,
        );
    }
}
