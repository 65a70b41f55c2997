//! Checkpoints: a run stopped at any step and continued from its checkpoint ends with the
//! record an uninterrupted run writes (the same step losses, accuracies and fit epochs, bit
//! for bit, on the same adapter), for an MLP and for the Inception (batch norm's running
//! averages, velocities in buffers or textures) and for an image folder streamed from disk
//! (the stream restarts at the stopped step); a damaged or foreign checkpoint is refused
//! with its reason and the run starts over.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use shatter::checkpoint::CHECKPOINT_FILE;
use shatter::{
    CheckpointPlan, Interrupted, Progress, RunOptions, RunRecord, TrainConfig, run_training,
};
use shatter_tests::gpu;
use shatter_tests::image_folder::write_noisy_folder;

/// What a resumed run must share with an uninterrupted one: everything but timings and the
/// record of its sittings.
fn comparable(r: &RunRecord) -> String {
    let mut r = r.clone();
    r.wall_seconds = 0.0;
    r.images_per_second = 0.0;
    r.evaluation_seconds = 0.0;
    r.finished_unix = None;
    r.resumed.clear();
    r.checkpoints = Default::default();
    for e in &mut r.epochs {
        e.seconds = 0.0;
    }
    // Through JSON, where the NaN of an epoch not evaluated is null and compares equal.
    serde_json::to_string(&r).unwrap()
}

fn plan(dir: &Path) -> CheckpointPlan {
    CheckpointPlan {
        path: dir.join(CHECKPOINT_FILE),
        // Only the stop below saves: a plan whose interval never comes.
        every_seconds: 1e9,
    }
}

/// Run `config`; when `stop_at` is (epoch, step), ask the run to stop once that many steps
/// of that epoch are submitted. Returns the record, or the error, and what it said.
fn run(
    config: &TrainConfig,
    plan: Option<CheckpointPlan>,
    stop_at: Option<(usize, usize)>,
) -> (anyhow::Result<RunRecord>, Vec<String>) {
    let gpu = gpu().expect("checked by the caller");
    let stop = AtomicBool::new(false);
    let options = RunOptions {
        checkpoint: plan,
        stop: Some(&stop),
        require_checkpoint: false,
    };
    let mut said = Vec::new();
    let result = run_training(
        gpu,
        config,
        Path::new("unused"),
        &options,
        &mut |p| match p {
            Progress::Steps { epoch, done, .. } if Some((epoch, done)) == stop_at => {
                stop.store(true, Ordering::Relaxed)
            }
            Progress::Resumed { epoch, step, .. } => {
                said.push(format!("resumed at {epoch}/{step}"))
            }
            Progress::CheckpointRefused { reason, .. } => said.push(format!("refused: {reason}")),
            _ => {}
        },
    );
    (result, said)
}

/// Stop `config`'s run at (epoch, step), continue it, and compare with an uninterrupted run.
/// `resumed_at` is where the run stood when it saved: (epochs done, steps of the next).
fn stop_and_continue(config: &TrainConfig, stop_at: (usize, usize), resumed_at: (usize, usize)) {
    let dir = tempfile::tempdir().unwrap();
    let (whole, _) = run(config, None, None);
    let whole = whole.expect("the uninterrupted run trains");

    let (stopped, _) = run(config, Some(plan(dir.path())), Some(stop_at));
    let error = stopped.expect_err("the run stops when asked");
    let interrupted = error
        .downcast_ref::<Interrupted>()
        .expect("a stop is an Interrupted");
    assert_eq!(
        interrupted.checkpoint.as_deref(),
        Some(dir.path().join(CHECKPOINT_FILE).as_path())
    );

    let (continued, said) = run(config, Some(plan(dir.path())), None);
    let continued = continued.expect("the run continues");
    assert_eq!(
        said,
        [format!("resumed at {}/{}", resumed_at.0, resumed_at.1)]
    );
    assert_eq!(continued.resumed.len(), 1);
    assert_eq!(continued.resumed[0].epoch, resumed_at.0);
    assert_eq!(continued.resumed[0].step, resumed_at.1);
    assert_eq!(continued.checkpoints.saves, 1);
    assert!(continued.checkpoints.bytes > 0);
    assert_eq!(comparable(&continued), comparable(&whole));
    assert!(
        whole.epochs.iter().any(|e| !e.evaluated) && whole.epochs.last().unwrap().evaluated,
        "the runs skip evaluations, so the comparison covers epochs of both kinds"
    );
}

#[test]
fn an_mlp_stopped_mid_epoch_continues_to_the_uninterrupted_record() {
    if gpu().is_none() {
        return;
    }
    let config = TrainConfig {
        model: "mlp1x512".into(),
        corrupt: "random-labels".into(),
        subset: Some(640),
        test_subset: Some(100),
        batch_size: 32,
        epochs: 7,
        ..TrainConfig::default()
    };
    // 20 steps an epoch, submitted 8 at a time: stop in the third epoch's middle.
    stop_and_continue(&config, (3, 16), (2, 16));
}

#[test]
fn a_streamed_folder_stopped_mid_epoch_continues_to_the_uninterrupted_record() {
    if gpu().is_none() {
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    write_noisy_folder(folder.path(), 7, 2, 9);
    let config = TrainConfig {
        dataset: format!("folder:{}", folder.path().display()),
        stream: true,
        image_size: Some(8),
        corrupt: "random-labels".into(),
        random_crop: true,
        random_flip: true,
        crop: 6,
        batch_size: 2,
        epochs: 6,
        ..TrainConfig::default()
    };
    // 21 images in batches of 2: 11 steps an epoch, in windows of 8; stop mid-window in
    // the third epoch, so the continued stream starts inside a window's worth of steps.
    stop_and_continue(&config, (3, 8), (2, 8));
}

#[test]
fn an_inception_stopped_at_an_epochs_end_continues_to_the_uninterrupted_record() {
    if gpu().is_none() {
        return;
    }
    let config = TrainConfig {
        model: "inception".into(),
        subset: Some(48),
        test_subset: Some(16),
        crop: 8,
        batch_size: 16,
        lr: 0.1,
        epochs: 6,
        ..TrainConfig::default()
    };
    // 3 steps an epoch, one submission: the stop comes at the second epoch's end.
    stop_and_continue(&config, (2, 3), (2, 0));
}

#[test]
fn a_damaged_or_foreign_checkpoint_is_refused_and_the_run_starts_over() {
    if gpu().is_none() {
        return;
    }
    let config = TrainConfig {
        model: "mlp1x512".into(),
        subset: Some(256),
        test_subset: Some(64),
        batch_size: 32,
        epochs: 4,
        ..TrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let (whole, _) = run(&config, None, None);
    let whole = whole.unwrap();
    let path = dir.path().join(CHECKPOINT_FILE);
    let save = || {
        let (stopped, _) = run(&config, Some(plan(dir.path())), Some((2, 8)));
        assert!(stopped.is_err());
        std::fs::read(&path).unwrap()
    };

    let good = save();
    for (damage, reason) in [
        (
            good[..good.len() / 2].to_vec(),
            "truncated or damaged (its checksum does not match)",
        ),
        (
            {
                let mut flipped = good.clone();
                flipped[good.len() / 3] ^= 1;
                flipped
            },
            "truncated or damaged (its checksum does not match)",
        ),
        (b"hello".to_vec(), "truncated (shorter than its checksum)"),
        (vec![0u8; 100], "not a shatter checkpoint"),
    ] {
        std::fs::write(&path, &damage).unwrap();
        let (record, said) = run(&config, Some(plan(dir.path())), None);
        assert_eq!(said, [format!("refused: {reason}")]);
        let record = record.unwrap();
        assert!(record.resumed.is_empty());
        assert_eq!(comparable(&record), comparable(&whole));
    }

    save();
    let other = TrainConfig {
        lr: 0.02,
        ..config.clone()
    };
    let (record, said) = run(&other, Some(plan(dir.path())), None);
    assert_eq!(
        said,
        ["refused: from other settings (its config differs from this run's)"]
    );
    assert!(record.unwrap().resumed.is_empty());
}

#[test]
fn a_finished_run_leaves_its_checkpoint_for_the_caller_to_remove() {
    if gpu().is_none() {
        return;
    }
    let config = TrainConfig {
        model: "mlp1x512".into(),
        subset: Some(256),
        test_subset: Some(64),
        batch_size: 32,
        epochs: 3,
        ..TrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap().keep();
    let sweep_plan = CheckpointPlan::for_sweep_run(&dir, "0123456789abcdef", 0.0);
    let (record, _) = run(&config, Some(sweep_plan.clone()), None);
    let record = record.unwrap();
    // An interval of 0 saves at every epoch's end but the last.
    assert_eq!(record.checkpoints.saves, 2);
    assert!(sweep_plan.path.is_file());
    sweep_plan.remove().unwrap();
    assert!(!sweep_plan.path.exists());
    assert!(
        !dir.join("checkpoints").join("0123456789abcdef").exists(),
        "the run's checkpoint folder goes with it"
    );
    assert!(dir.join("checkpoints").is_dir(), "the shared folder stays");
    std::fs::remove_dir_all(dir).unwrap();
}
