//! `Trainer::rewind`, which `bench --profile` and `--layers` call before timing each
//! kernel or layer alone: after an epoch the training cursor lies past the data, where a
//! batch has no rows, and a rewound cursor must stand at a pass's first step with a full
//! batch of rows and that step's learning rate.

use shatter::{InputCrop, Trainer};
use shatter_data::{Dataset, Split};
use shatter_nn::{ConvInit, LrSchedule, ModelKind, SgdConfig, StepCursor, WeightInit};
use shatter_tests::gpu;

/// `images` images of 3x8x8 pixels in a fixed pattern, one per class in turn.
fn split(images: usize) -> Split {
    Split {
        images: (0..images * 3 * 8 * 8)
            .map(|i| (i * 37 % 256) as u8)
            .collect(),
        labels: (0..images).map(|i| (i % 10) as u16).collect(),
        float_images: None,
    }
}

#[test]
fn rewind_puts_the_cursor_at_a_full_first_batch_after_an_epoch() {
    let Some(gpu) = gpu() else { return };
    // 40 training images in batches of 16: steps of 16, 16 and 8 rows.
    let dataset = Dataset {
        name: "pattern-3x8x8".into(),
        classes: 10,
        channels: 3,
        height: 8,
        width: 8,
        train: split(40),
        test: split(4),
    };
    let sgd = SgdConfig {
        schedule: LrSchedule {
            lr0: 0.01,
            decay: 0.5,
            decay_images: 16.0,
            staircase: true,
        },
        momentum: 0.9,
        weight_decay: 0.0,
    };
    let init = WeightInit {
        seed: 1,
        conv: ConvInit::He,
    };
    let trainer = Trainer::build(
        gpu,
        &dataset,
        ModelKind::Mlp1x512,
        16,
        init,
        &sgd,
        InputCrop::PAPER,
    )
    .unwrap();
    let order: Vec<u32> = (0..40).collect();
    trainer.train_epoch(&order, 0, &mut |_| {}).unwrap();
    let after = trainer.train_cursor().unwrap();
    assert_eq!(
        (after.step, after.images_seen, after.rows),
        (3, 40, 8),
        "after the epoch: past its three steps, the last one 8 rows"
    );
    trainer.rewind().unwrap();
    assert_eq!(
        trainer.train_cursor().unwrap(),
        StepCursor {
            step: 0,
            images_seen: 0,
            lr: 0.01,
            rows: 16,
        }
    );
}
