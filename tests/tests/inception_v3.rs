//! Inception V3 end to end on an image folder at Keras's smallest input (75x75): the whole
//! network (stem, the eleven modules, global pooling, dropout, classifier) builds with the
//! parameter count Keras gives for its classes, and trains: on five classes of noisy
//! colour patches its training loss falls from above chance's to near zero within ten
//! steps.
//!
//! The batch holds the whole training set (40 images). At 75x75 the last modules see a 1x1
//! map, where batch norm's statistics come from the batch alone: batches of 8 left the loss
//! jumping between 2 and 10 at rates of 0.01 and 0.1 (lavapipe), while a batch of 40 brought
//! it from 2.29 to 0.02 by the seventh step. What is asserted is the training-mode (running)
//! loss and accuracy: evaluation mode normalizes with running averages that, ten steps in,
//! still hold much of their starting values (a variance of 1, where deep layers' are far
//! smaller), and a 94-layer stack compounds that, so the evaluated accuracies stay at
//! chance this early. Measured on lavapipe with `cargo xtask train --model
//! inception-v3-nodropout --corrupt random-labels --image-size 75 --batch-size 40 --lr
//! 0.01` on 40 noise images of five classes: the training-mode loss was 0.0008 at step 28
//! (every label memorized), while the evaluated training accuracy stayed at 17.5% to step
//! 60 and rose to 47.5% at 70 and 90% at 80, as the running averages caught up.

use std::path::Path;

use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shatter::{TrainConfig, run_training};
use shatter_tests::gpu;

const CLASSES: usize = 5;
const COLOURS: [[f64; 3]; CLASSES] = [
    [200.0, 40.0, 40.0],
    [40.0, 200.0, 40.0],
    [40.0, 40.0, 200.0],
    [200.0, 200.0, 40.0],
    [40.0, 200.0, 200.0],
];

/// `root/{train,val}/classN/*.png`: 80x80 patches of class N's colour with noise on every
/// pixel (uniform, +-60), loaded at 75x75.
fn colour_folder(root: &Path, train: usize, val: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (split, n) in [("train", train), ("val", val)] {
        for (class, colour) in COLOURS.iter().enumerate() {
            let dir = root.join(split).join(format!("class{class}"));
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                let image = RgbImage::from_fn(80, 80, |_, _| {
                    Rgb(colour.map(|c| (c + rng.random_range(-60.0..60.0)).clamp(0.0, 255.0) as u8))
                });
                image.save(dir.join(format!("{i}.png"))).unwrap();
            }
        }
    }
}

#[test]
fn inception_v3_builds_at_75x75_and_learns_a_folder() {
    let Some(gpu) = gpu() else { return };
    let dir = tempfile::tempdir().unwrap();
    colour_folder(dir.path(), 8, 2);
    let config = TrainConfig {
        model: "inception-v3".into(),
        dataset: format!("folder:{}", dir.path().display()),
        image_size: Some(75),
        crop: 75,
        batch_size: 40,
        lr: 0.01,
        epochs: 10,
        eval_every: 10,
        ..TrainConfig::default()
    };
    let run = run_training(
        gpu,
        &config,
        Path::new("unused"),
        &Default::default(),
        &mut |_| {},
    )
    .expect("inception-v3 trains");
    // Keras's 23,851,784 for 1,000 classes, less the classifier's 995 missing rows and
    // biases, less batch norm's shifts and statistics (counted apart: tests/model_zoo.rs).
    assert_eq!(run.parameters, 23_800_136 - 995 * 2048 - 995);
    assert_eq!(run.batch_norm_parameters, 2 * 17_216);
    assert_eq!(run.input_shape, [3, 75, 75]);
    assert_eq!(run.classes, CLASSES);
    let first = &run.epochs[0];
    assert!(
        first.running_train_loss > 1.0,
        "the first step starts near chance's loss (ln 5 = 1.61): {}",
        first.running_train_loss
    );
    let best = run
        .epochs
        .iter()
        .map(|e| e.running_train_loss)
        .fold(f64::INFINITY, f64::min);
    assert!(
        best < 0.1,
        "the loss falls to near zero within ten steps: {:?}",
        run.epochs
            .iter()
            .map(|e| e.running_train_loss)
            .collect::<Vec<_>>()
    );
    assert!(
        run.epochs.iter().any(|e| e.running_train_accuracy == 1.0),
        "some step classifies all 40 images"
    );
    // Five classes: the label is always among the five highest logits.
    assert_eq!(run.final_test_top5_accuracy, 1.0);
}
