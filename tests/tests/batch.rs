//! The batch kernel and the step cursor against their CPU references: gather through the
//! epoch's order or in sequence, centre crop, per-image standardization (with the values
//! held between the passes, or read twice from a larger crop), the partial last
//! batch, and a dataset split over three storage chunks.

use rand::Rng;
use shatter::{
    BatchShape, PixelFormat, ResidentSplit, crop_origin, flipped, gather_batch, reference_batch,
};
use shatter_data::Split;
use shatter_nn::{CursorPass, LrSchedule, StepCursor, cursor_dispatches};
use shatter_tests::{assert_close, gpu, rng};

/// Images of 9x7 pixels cropped to 6x5, with 3 channels: each of the kernel's
/// invocations visits every 64th value of the crop, 21 pixels and a channel apart (4
/// rows, a column and a channel), so its visits differ in channel, column and row.
const SMALL: Geometry = Geometry {
    image: [9, 7],
    crop: [6, 5],
};

/// Images of 17x13 pixels cropped to 14x11, for 1 channel (Fashion-MNIST's and MNIST's
/// kind): an invocation's values are 64 pixels (5 rows and 9 columns) apart, two or
/// three of them each.
const LARGE: Geometry = Geometry {
    image: [17, 13],
    crop: [14, 11],
};

/// Crops of 3 channels at the most values the kernel holds from its first pass to its
/// second (48 an invocation), and one row past it, where it reads the dataset twice.
const HELD_WHOLE: Geometry = Geometry {
    image: [34, 33],
    crop: [32, 32],
};
const PAST_HELD: Geometry = Geometry {
    image: [34, 35],
    crop: [32, 33],
};

#[derive(Clone, Copy)]
struct Geometry {
    image: [usize; 2],
    crop: [usize; 2],
}

/// Gather every step of a 45-image split (16, 16 and 13 real rows) with `channels`
/// channels, through an order and in sequence, from storage split into three chunks,
/// and compare with the reference.
fn check_gather(
    split: &Split,
    channels: usize,
    g: Geometry,
    bytes_per_value: usize,
    (random_crop, random_flip): (Option<u32>, Option<u32>),
) {
    let Some(gpu) = gpu() else { return };
    let mut r = rng(22);
    let shape = BatchShape {
        batch: 16,
        channels,
        height: g.image[0],
        width: g.image[1],
        crop_height: g.crop[0],
        crop_width: g.crop[1],
        random_crop,
        random_flip,
    };
    let image_values = channels * g.image[0] * g.image[1];
    let mut order: Vec<u32> = (0..split.len() as u32).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, r.random_range(0..=i));
    }
    // 16 images per chunk: the 45 images use all three chunks.
    let chunk_bytes = 16 * image_values * bytes_per_value + 3;
    let resident =
        ResidentSplit::upload_chunked(gpu, "split", split, image_values, chunk_bytes).unwrap();
    assert_eq!(resident.images_per_chunk, 16);
    let order_buffer = gpu.u32_buffer("order", &order).unwrap();
    let x = gpu
        .zeros("x", &[16, channels * g.crop[0] * g.crop[1]])
        .unwrap();
    let y = gpu.u32_buffer("y", &[0; 16]).unwrap();
    for sequential in [false, true] {
        for step in 0..3 {
            let cursor = gpu
                .u32_buffer(
                    "cursor",
                    bytemuck::cast_slice(&[StepCursor::at(step, 1000 + 16 * step)]),
                )
                .unwrap();
            let d = gather_batch(
                gpu,
                "gather",
                shape,
                &resident,
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
                split,
                (!sequential).then_some(order.as_slice()),
                step as usize,
                1000 + 16 * step,
            );
            let what = format!(
                "batch of {channels}-channel images of {bytes_per_value}-byte values, step {step}, sequential={sequential}"
            );
            assert_close(&what, &gpu.read_f32(&x).unwrap(), &want_x, 1e-5, 1e-5);
            assert_eq!(gpu.read_u32(&y).unwrap(), want_y, "{what}: labels");
        }
    }
}

fn random_split(images: usize, channels: usize, g: Geometry) -> Split {
    let mut r = rng(21);
    let values = images * channels * g.image[0] * g.image[1];
    let pixels: Vec<u8> = (0..values).map(|_| r.random()).collect();
    let labels: Vec<u16> = (0..images)
        .map(|_| r.random_range(0..10u8).into())
        .collect();
    Split::from_u8(pixels, labels)
}

#[test]
fn gather_batch_matches_reference_for_u8_pixels() {
    check_gather(&random_split(45, 3, SMALL), 3, SMALL, 1, (None, None));
}

#[test]
fn gather_batch_matches_reference_for_one_channel_images() {
    check_gather(&random_split(45, 1, LARGE), 1, LARGE, 1, (None, None));
    check_gather(&random_split(45, 1, LARGE), 1, LARGE, 1, (Some(5), None));
}

#[test]
fn gather_batch_matches_reference_at_and_past_the_values_it_holds() {
    check_gather(
        &random_split(45, 3, HELD_WHOLE),
        3,
        HELD_WHOLE,
        1,
        (None, None),
    );
    check_gather(
        &random_split(45, 3, PAST_HELD),
        3,
        PAST_HELD,
        1,
        (Some(9), None),
    );
}

#[test]
fn gather_batch_matches_reference_with_random_crops() {
    check_gather(&random_split(45, 3, SMALL), 3, SMALL, 1, (Some(77), None));
}

#[test]
fn gather_batch_matches_reference_with_random_flips() {
    check_gather(&random_split(45, 3, SMALL), 3, SMALL, 1, (None, Some(4)));
    check_gather(
        &random_split(45, 3, SMALL),
        3,
        SMALL,
        1,
        (Some(77), Some(4)),
    );
    check_gather(
        &random_split(45, 3, PAST_HELD),
        3,
        PAST_HELD,
        1,
        (Some(9), Some(8)),
    );
}

#[test]
fn random_flips_mirror_half_the_samples_and_change_with_the_seed() {
    let shape = BatchShape {
        batch: 128,
        channels: 3,
        height: 32,
        width: 32,
        crop_height: 28,
        crop_width: 28,
        random_crop: Some(1),
        random_flip: Some(1),
    };
    let flips: Vec<bool> = (0..2000).map(|s| flipped(&shape, s)).collect();
    let mirrored = flips.iter().filter(|&&f| f).count();
    assert!(
        (900..=1100).contains(&mirrored),
        "{mirrored} of 2000 mirrored"
    );
    let other = BatchShape {
        random_flip: Some(2),
        ..shape
    };
    let differing = (0..2000)
        .filter(|&s| flipped(&other, s) != flips[s as usize])
        .count();
    assert!(
        (800..=1200).contains(&differing),
        "{differing} of 2000 differ"
    );
    // Flips and crops are drawn apart: mirrored samples take every crop offset.
    let mirrored_origins: std::collections::HashSet<(usize, usize)> = (0..2000)
        .filter(|&s| flips[s as usize])
        .map(|s| crop_origin(&shape, s))
        .collect();
    assert_eq!(mirrored_origins.len(), 25);
    let none = BatchShape {
        random_flip: None,
        ..shape
    };
    assert!((0..100).all(|s| !flipped(&none, s)));
}

#[test]
fn random_crops_cover_every_offset_and_change_with_the_seed() {
    let shape = BatchShape {
        batch: 128,
        channels: 3,
        height: 32,
        width: 32,
        crop_height: 28,
        crop_width: 28,
        random_crop: Some(1),
        random_flip: None,
    };
    let origins: Vec<(usize, usize)> = (0..2000).map(|s| crop_origin(&shape, s)).collect();
    // 25 possible origins, each drawn about 80 times in 2,000 samples.
    for top in 0..5 {
        for left in 0..5 {
            let n = origins.iter().filter(|&&o| o == (top, left)).count();
            assert!(
                (40..=130).contains(&n),
                "origin ({top}, {left}) drawn {n} times of 2000"
            );
        }
    }
    let other = BatchShape {
        random_crop: Some(2),
        ..shape
    };
    let differing = (0..2000)
        .filter(|&s| crop_origin(&other, s) != origins[s as usize])
        .count();
    assert!(
        differing > 1500,
        "another seed, other crops ({differing} of 2000 differ)"
    );
    let centre = BatchShape {
        random_crop: None,
        ..shape
    };
    assert!((0..100).all(|s| crop_origin(&centre, s) == (2, 2)));
}

#[test]
fn gather_batch_matches_reference_for_f32_values() {
    // The Gaussian randomization's storage: real values, some outside [0, 1].
    let mut split = random_split(45, 3, SMALL);
    let float = split
        .images
        .iter()
        .map(|&p| (f32::from(p) - 100.0) / 97.0)
        .collect();
    split.images.clear();
    split.float_images = Some(float);
    check_gather(&split, 3, SMALL, 4, (None, None));
}

#[test]
fn gather_batch_matches_reference_for_f16_values() {
    // Gaussian values where f32 would need more than three bindings: the chunks below hold
    // 8 images as f32 (45 images would need 6) and 16 as f16. Images of 189 values, an odd
    // number, so pairs of values straddle images. The reference reads the values as f16
    // holds them.
    let mut split = random_split(45, 3, SMALL);
    let float = split
        .images
        .iter()
        .map(|&p| PixelFormat::F16.round((f32::from(p) - 100.0) / 97.0))
        .collect();
    split.images.clear();
    split.float_images = Some(float);
    check_gather(&split, 3, SMALL, 2, (None, None));
    let Some(gpu) = gpu() else { return };
    let image_values = 3 * SMALL.image[0] * SMALL.image[1];
    let resident = ResidentSplit::upload_chunked(
        gpu,
        "split",
        &split,
        image_values,
        16 * image_values * 2 + 3,
    )
    .unwrap();
    assert_eq!(resident.pixel_format, PixelFormat::F16);
    let roomy =
        ResidentSplit::upload_chunked(gpu, "split", &split, image_values, 16 * image_values * 4)
            .unwrap();
    assert_eq!(roomy.pixel_format, PixelFormat::F32, "f32 where it fits");
}

#[test]
fn cursor_counts_steps_and_real_images_and_sets_the_learning_rate() {
    let Some(gpu) = gpu() else { return };
    for (staircase, lr) in [
        (true, 0.1 * 0.5f32.powi(2)),
        (false, 0.1 * 0.5f32.powf(2.6)),
    ] {
        let cursor = gpu
            .u32_buffer("cursor", bytemuck::cast_slice(&[StepCursor::at(0, 1000)]))
            .unwrap();
        let schedule = LrSchedule {
            lr0: 0.1,
            decay: 0.5,
            decay_images: 500.0,
            staircase,
        };
        let pass = CursorPass::new(300, 128, &schedule);
        let (set_lr, advance) = cursor_dispatches(gpu, "cursor", &pass, &cursor.buffer).unwrap();
        gpu.run([&advance, &advance, &advance, &advance, &set_lr])
            .unwrap();
        let got: StepCursor = bytemuck::cast_slice(&gpu.read_u32(&cursor).unwrap())[0];
        // 128 + 128 + 44 real images, then a step past the end adds none: 1,300 images seen,
        // 2.6 decay periods of 500 images.
        assert_eq!((got.step, got.images_seen), (4, 1300));
        assert!(
            (got.lr - lr).abs() <= 1e-6 * lr,
            "staircase={staircase}: lr {} expected {lr}",
            got.lr
        );
    }
}
