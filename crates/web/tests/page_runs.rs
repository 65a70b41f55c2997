//! The page's runs, driven natively on the test adapter: a page run is the command line's
//! run (same data, randomization, order and kernels, so the same numbers), bad requests get
//! one line, and the data preview marks what the randomization changed.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

use shatter::{CHANGED, RunOptions, TrainConfig, run_training};
use shatter_web::{Lab, RunRequest};

fn request(setting: &str) -> RunRequest {
    RunRequest {
        model: "mlp1x512".into(),
        images: 256,
        setting: setting.into(),
        seed: 1,
        batch: 32,
        lr: 0.01,
    }
}

#[test]
fn a_page_run_trains_exactly_as_the_command_line_does() {
    let Some(gpu) = shatter_tests::gpu() else {
        return;
    };
    let lab = Lab::on(gpu);
    let request = request("random-labels");
    let mut run = pollster::block_on(lab.prepare(&request)).expect("prepare");
    assert_eq!(run.train_images(), 256);
    assert_eq!(run.test_images(), 500);
    assert_eq!(run.steps_per_epoch(), 8);
    let page: Vec<_> = (0..3)
        .map(|_| pollster::block_on(run.epoch()).expect("epoch"))
        .collect();

    let config = TrainConfig {
        epochs: 3,
        eval_every: 1,
        ..request.config().unwrap()
    };
    let record = run_training(
        gpu,
        &config,
        Path::new("unused: the bundled dataset"),
        &RunOptions::default(),
        &mut |_| {},
    )
    .expect("the command line's run");
    assert_eq!(record.epochs.len(), 3);
    for (page, cli) in page.iter().zip(&record.epochs) {
        let epoch = cli.epoch;
        assert_eq!(page.epoch, epoch);
        assert_eq!(page.train_images, 256);
        assert_eq!(page.train_loss, cli.running_train_loss, "epoch {epoch}");
        assert_eq!(page.train_accuracy, cli.train_accuracy, "epoch {epoch}");
        assert_eq!(page.train_eval_loss, cli.train_loss, "epoch {epoch}");
        assert_eq!(page.test_accuracy, cli.test_accuracy, "epoch {epoch}");
        assert_eq!(page.test_loss, cli.test_loss, "epoch {epoch}");
    }
    let page_steps: Vec<f64> = page.iter().flat_map(|e| e.step_losses.clone()).collect();
    assert_eq!(page_steps, record.step_losses);
    // Random labels are being learned: the loss falls over the three epochs.
    assert!(
        page[2].train_loss < page[0].train_loss,
        "{} then {}",
        page[0].train_loss,
        page[2].train_loss
    );
}

#[test]
fn bad_requests_get_one_line_naming_the_input() {
    let cases = [
        (
            RunRequest {
                images: 100,
                ..request("none")
            },
            "images 100: choose between 256 and 10000 training images",
        ),
        (
            RunRequest {
                images: 20_000,
                ..request("none")
            },
            "images 20000: choose between 256 and 10000 training images",
        ),
        (
            request("labels:1.5"),
            "corruption 'labels:1.5': P must be a number between 0 and 1",
        ),
        (
            RunRequest {
                model: "resnet".into(),
                ..request("none")
            },
            "unknown model 'resnet': expected one of mlp1x512, mlp3x512, alexnet, inception, \
             inception-nobn, inception-v3, inception-v3-nodropout",
        ),
    ];
    for (request, message) in cases {
        let error = request.config().expect_err(message);
        assert_eq!(format!("{error:#}"), message);
    }
}

#[test]
fn the_preview_frames_changed_labels_red_and_true_ones_green() {
    let changed = |setting: &str| {
        let picture = shatter_web::preview(setting, 8, 2, 1).expect("preview");
        assert_eq!(
            picture.rgba.len(),
            (picture.width * picture.height * 4) as usize
        );
        assert!(picture.rgba.chunks(4).all(|p| p[3] == 255), "opaque");
        picture
            .rgba
            .chunks(4)
            .filter(|p| p[..3] == CHANGED.0)
            .count()
    };
    assert_eq!(changed("none"), 0);
    assert_eq!(changed("shuffled-pixels"), 0, "pixels change, labels stay");
    // About nine in ten random labels differ from the true ones.
    assert!(changed("random-labels") > changed("labels:0.2"));
    assert!(changed("labels:0.2") > 0);
    let error = shatter_web::preview("none", 10, 10, 1)
        .err()
        .expect("too many");
    assert_eq!(error.to_string(), "preview of 10 x 10 images: show 1 to 64");
}
