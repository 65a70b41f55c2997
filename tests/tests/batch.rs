//! The batch kernel and the step cursor against their CPU references: gather through the
//! epoch's order or in sequence, centre crop, per-image standardization, the partial last
//! batch, and a dataset split over three storage chunks.

use rand::Rng;
use shatter::{BatchShape, ResidentSplit, gather_batch, reference_batch};
use shatter_gpu::{Binding, Kernel};
use shatter_nn::StepCursor;
use shatter_tests::{assert_close, require_gpu, rng};

#[test]
fn gather_batch_matches_reference_across_chunks_orders_and_the_last_batch() {
    let Some(gpu) = require_gpu!() else { return };
    let mut r = rng(21);
    let shape = BatchShape {
        batch: 16,
        channels: 3,
        height: 9,
        width: 7,
        crop_height: 6,
        crop_width: 5,
    };
    let image_bytes = 3 * 9 * 7;
    let images = 45; // 3 steps: 16, 16, 13 real rows
    let pixels: Vec<u8> = (0..images * image_bytes).map(|_| r.random()).collect();
    let labels: Vec<u8> = (0..images).map(|_| r.random_range(0..10)).collect();
    let mut order: Vec<u32> = (0..images as u32).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, r.random_range(0..=i));
    }
    // 16 images per chunk: the 45 images use all three chunks.
    let split = ResidentSplit::upload_chunked(
        gpu,
        "split",
        &pixels,
        &labels,
        image_bytes,
        16 * image_bytes + 3,
    )
    .unwrap();
    assert_eq!(split.images_per_chunk, 16);
    let order_buffer = gpu.u32_buffer("order", &order).unwrap();
    let x = gpu.zeros("x", &[16, 3 * 6 * 5]).unwrap();
    let y = gpu.u32_buffer("y", &[0; 16]).unwrap();
    for sequential in [false, true] {
        for step in 0..3 {
            let cursor = gpu
                .u32_buffer("cursor", bytemuck::cast_slice(&[StepCursor::at(step, 0)]))
                .unwrap();
            let d = gather_batch(
                gpu,
                "gather",
                shape,
                &split,
                &order_buffer,
                sequential,
                &cursor.buffer,
                &x,
                &y,
            )
            .unwrap();
            gpu.run([&d]).unwrap();
            let (want_x, want_y) = reference_batch(
                shape,
                &pixels,
                &labels,
                (!sequential).then_some(order.as_slice()),
                step as usize,
            );
            let what = format!("batch step {step} sequential={sequential}");
            assert_close(&what, &gpu.read_f32(&x).unwrap(), &want_x, 1e-5, 1e-5);
            assert_eq!(gpu.read_u32(&y).unwrap(), want_y, "{what}: labels");
        }
    }
}

#[test]
fn advance_cursor_counts_steps_and_real_images() {
    let Some(gpu) = require_gpu!() else { return };
    #[repr(C)]
    #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    struct PassShape {
        images: u32,
        batch: u32,
        _pad: [u32; 2],
    }
    let cursor = gpu
        .u32_buffer("cursor", bytemuck::cast_slice(&[StepCursor::at(0, 1000)]))
        .unwrap();
    let shape = gpu.uniform(
        "pass",
        &PassShape {
            images: 300,
            batch: 128,
            _pad: [0; 2],
        },
    );
    let d = gpu
        .dispatch(
            "advance",
            &Kernel::new("cursor", "advance_cursor"),
            &[Binding::uniform(&shape), Binding::write(&cursor.buffer)],
            [1, 1, 1],
        )
        .unwrap();
    gpu.run([&d, &d, &d, &d]).unwrap();
    let got = gpu.read_u32(&cursor).unwrap();
    // 128 + 128 + 44 real images, then a step past the end adds none.
    assert_eq!(&got[..2], &[4, 1300]);
}
