//! CIFAR-10 at its full size (50,000 + 10,000 records), generated in its binary format and
//! read through the real loader: the training set resident on the GPU in several chunks
//! (at 128 MiB a binding it needs two as u8, and the Gaussian randomization's values,
//! which would need five as f32, go as f16), a batch gathered from the last chunk equal to
//! the CPU reference, and training steps with the paper's batch of 128.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use shatter::{
    BatchShape, PixelFormat, ResidentSplit, TrainConfig, gather_batch, load_run_data,
    reference_batch,
};
use shatter_gpu::Gpu;
use shatter_tests::{assert_close, gpu};

/// The data folder with the generated CIFAR-10, made once for this binary's tests.
fn data_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        shatter_data::write_synthetic_cifar10(dir.path(), 50_000, 10_000, 7).unwrap();
        dir
    })
    .path()
}

/// The largest storage binding the trainer asks for on this adapter.
fn binding(gpu: &Gpu) -> usize {
    let limits = gpu.limits();
    (limits.max_storage_buffer_binding_size as usize).min(limits.max_buffer_size as usize)
}

/// Upload the training set of `corrupt` as the trainer does, gather the batch of the 128
/// last images (from the last chunk) and compare it with the reference.
fn check_full_size(corrupt: &str) -> ResidentSplit {
    let gpu = gpu().expect("checked by the caller");
    let config = TrainConfig {
        dataset: "cifar10".into(),
        corrupt: corrupt.into(),
        ..TrainConfig::default()
    };
    let (mut dataset, _) = load_run_data(&config, data_dir()).unwrap();
    assert_eq!((dataset.train.len(), dataset.test.len()), (50_000, 10_000));
    let values = dataset.image_bytes();
    let resident = ResidentSplit::upload(gpu, "train", &dataset.train, values).unwrap();
    let value_bytes = match resident.pixel_format {
        PixelFormat::U8 => 1,
        PixelFormat::F32 => 4,
        PixelFormat::F16 => 2,
    };
    let chunks = 50_000usize.div_ceil(resident.images_per_chunk);
    assert!(
        chunks <= 3 && resident.images_per_chunk * values * value_bytes <= binding(gpu),
        "{corrupt}: {chunks} chunks of {} images",
        resident.images_per_chunk
    );
    if resident.pixel_format == PixelFormat::F16
        && let Some(v) = dataset.train.float_images.as_mut()
    {
        v.iter_mut().for_each(|x| *x = PixelFormat::F16.round(*x));
    }
    let shape = BatchShape {
        batch: 128,
        random_crop: None,
        random_flip: None,
        channels: 3,
        height: 32,
        width: 32,
        crop_height: 28,
        crop_width: 28,
    };
    let order: Vec<u32> = (0..50_000).rev().collect();
    let order_buffer = gpu.u32_buffer("order", &order).unwrap();
    let cursor = gpu.u32_buffer("cursor", &[0, 0, 0, 0]).unwrap();
    let x = gpu.zeros("x", &[128, shape.input_values()]).unwrap();
    let y = gpu.u32_buffer("y", &[0; 128]).unwrap();
    let gather = gather_batch(
        gpu,
        "gather",
        shape,
        &resident,
        &order_buffer,
        false,
        &cursor.buffer,
        &x,
        &y,
    )
    .unwrap();
    gpu.run([&gather]).unwrap();
    let (want_x, want_y) = reference_batch(shape, &dataset.train, Some(&order), 0, 0);
    assert_close(
        &format!("{corrupt}: the last 128 images"),
        &gpu.read_f32(&x).unwrap(),
        &want_x,
        1e-5,
        1e-5,
    );
    assert_eq!(gpu.read_u32(&y).unwrap(), want_y);
    resident
}

#[test]
fn cifar10_at_full_size_is_resident_in_chunks_and_gathers_from_the_last() {
    let Some(gpu) = gpu() else { return };
    let pixels = check_full_size("none");
    assert_eq!(pixels.pixel_format, PixelFormat::U8);
    let gaussian = check_full_size("gaussian");
    // Whole images a chunk, a multiple of four, as the upload cuts them.
    let f32_images_per_chunk = binding(gpu) / (3072 * 4) / 4 * 4;
    let expected = if 50_000usize.div_ceil(f32_images_per_chunk) <= 3 {
        PixelFormat::F32
    } else {
        PixelFormat::F16
    };
    assert_eq!(gaussian.pixel_format, expected);
}

#[test]
fn the_mlp_trains_on_full_size_cifar10_at_batch_128() {
    let Some(gpu) = gpu() else { return };
    let config = TrainConfig {
        dataset: "cifar10".into(),
        corrupt: "gaussian".into(),
        ..TrainConfig::default()
    };
    let (dataset, _) = load_run_data(&config, data_dir()).unwrap();
    let trainer = shatter::Trainer::build(
        gpu,
        &dataset,
        shatter_nn::ModelKind::Mlp1x512,
        128,
        shatter_nn::WeightInit {
            seed: 1,
            conv: shatter_nn::ConvInit::Glorot,
        },
        &shatter_nn::SgdConfig {
            schedule: shatter_nn::LrSchedule {
                lr0: 0.01,
                decay: 0.95,
                decay_images: 50_000.0,
                staircase: true,
            },
            momentum: 0.9,
            weight_decay: 0.0,
        },
        shatter::InputCrop::PAPER,
    )
    .unwrap();
    assert_eq!(trainer.steps_per_epoch(), 391);
    let mut order: Vec<u32> = (0..50_000).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(3));
    // One command buffer of steps, then pause: the epoch's first 8 steps.
    let done = trainer.train_steps(&order, 0, 0, &mut |_| false).unwrap();
    assert_eq!(done, 8);
    let metrics = trainer.epoch_metrics(shatter::EvalSets::NONE).unwrap();
    for (step, m) in metrics.train_steps[..8].iter().enumerate() {
        let loss = m[0] / m[2];
        assert_eq!(m[2], 128.0, "step {step}: full batches");
        assert!(
            loss.is_finite() && (1.5..4.0).contains(&loss),
            "step {step}: loss {loss} on random labels of 10 classes"
        );
    }
}
