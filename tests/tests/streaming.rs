//! A streamed image folder trains exactly as the same folder held whole: the same images
//! in the same order through the same batch kernel give the same losses and accuracies,
//! step by step, across several window refills a pass, a short last batch, random crops
//! and flips, and evaluation. A damaged image met mid-run stops it with one line naming the file.

use std::path::Path;

use shatter::{RunRecord, TrainConfig, run_training};
use shatter_tests::gpu;
use shatter_tests::image_folder::write_noisy_folder;

fn train(config: &TrainConfig) -> anyhow::Result<RunRecord> {
    let gpu = gpu().expect("checked by the caller");
    run_training(
        gpu,
        config,
        Path::new("unused"),
        &Default::default(),
        &mut |_| {},
    )
}

#[test]
fn a_streamed_folder_trains_step_for_step_as_the_resident_one() {
    if gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 21 training images in batches of 2: 11 steps an epoch, the last with one image, so
    // each pass refills its window of 8 steps twice.
    write_noisy_folder(dir.path(), 7, 3, 5);
    for corrupt in ["random-labels", "shuffled-pixels"] {
        let resident_config = TrainConfig {
            dataset: format!("folder:{}", dir.path().display()),
            corrupt: corrupt.into(),
            image_size: Some(12),
            crop: 10,
            random_crop: true,
            random_flip: true,
            batch_size: 2,
            epochs: 3,
            eval_every: 1,
            lr: 0.05,
            ..TrainConfig::default()
        };
        let streamed_config = TrainConfig {
            stream: true,
            ..resident_config.clone()
        };
        let resident = train(&resident_config).unwrap();
        let streamed = train(&streamed_config).unwrap();
        assert!(!resident.streamed && streamed.streamed, "{corrupt}");
        assert_eq!(streamed.train_images, 21);
        assert_eq!(streamed.test_images, 9);
        assert!(
            streamed.step_losses.len() >= 11,
            "{corrupt}: an epoch at least"
        );
        assert_eq!(
            streamed.step_losses, resident.step_losses,
            "{corrupt}: every step's loss"
        );
        for (s, r) in streamed.epochs.iter().zip(&resident.epochs) {
            let measured = |e: &shatter::EpochRecord| {
                [
                    e.running_train_loss,
                    e.running_train_accuracy,
                    e.train_loss,
                    e.train_accuracy,
                    e.test_loss,
                    e.test_accuracy,
                    e.train_top5_accuracy,
                    e.test_top5_accuracy,
                ]
            };
            assert_eq!(measured(s), measured(r), "{corrupt}: epoch {}", s.epoch);
            assert!(s.evaluated && s.test_evaluated);
        }
        assert!(
            streamed.step_losses.first() != streamed.step_losses.last(),
            "{corrupt}: the run trained"
        );
    }
}

#[test]
fn a_damaged_image_met_mid_run_stops_it_naming_the_file() {
    if gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_noisy_folder(dir.path(), 4, 1, 5);
    let bad = dir.path().join("val/class2/0.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\n and then nothing").unwrap();
    let config = TrainConfig {
        dataset: format!("folder:{}", dir.path().display()),
        image_size: Some(8),
        batch_size: 4,
        epochs: 2,
        stream: true,
        ..TrainConfig::default()
    };
    // Listing the folder opens no image, so the fault is met when the test set is first
    // evaluated, after the first epoch has trained.
    let err = train(&config).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains(&format!("{}: cannot decode image: ", bad.display())),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
    assert!(
        err.chain().any(|c| c.is::<shatter_data::DataError>()),
        "a data fault (exit code 2): {text}"
    );
}
