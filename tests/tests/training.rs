//! End to end on the bundled Fashion-MNIST subset: the paper's central claim at small
//! scale (SGD with the paper's hyper-parameters fits random labels to 100% training
//! accuracy while test accuracy stays at chance), real learning on true labels, and
//! bit-for-bit determinism for the same seeds on the same adapter.

use shatter::{RunRecord, TrainConfig, run_training};
use shatter_tests::gpu;

fn train(config: &TrainConfig) -> RunRecord {
    let gpu = gpu().expect("checked by the caller");
    run_training(
        gpu,
        config,
        std::path::Path::new("unused-data-dir"),
        &Default::default(),
        &mut |_| {},
    )
    .expect("training runs")
}

#[test]
fn mlp_fits_random_labels_and_random_pixels_completely_with_the_papers_hyper_parameters() {
    if gpu().is_none() {
        return;
    }
    let config = TrainConfig {
        model: "mlp1x512".into(),
        corrupt: "random-labels".into(),
        subset: Some(500),
        epochs: 80,
        ..TrainConfig::default()
    };
    let run = train(&config);
    assert!(!run.diverged);
    assert_eq!(
        run.final_train_accuracy,
        1.0,
        "random labels must be fit completely: {:?}",
        run.epochs.last()
    );
    assert!(run.converged_epoch.is_some() && run.fit_epochs.at_100 == run.converged_epoch);
    // About 90% of labels change (each redrawn uniformly over 10 classes).
    let f = run.corruption.fraction_labels_changed;
    assert!((0.85..=0.95).contains(&f), "fraction of labels changed {f}");
    // Nothing learnable: test accuracy near chance (10%).
    assert!(
        run.final_test_accuracy < 0.2,
        "test accuracy {} on random labels",
        run.final_test_accuracy
    );
    // Top-5 of 10 classes by chance is 50%; a network that learned nothing lands near it.
    assert!(
        (0.35..0.65).contains(&run.final_test_top5_accuracy),
        "test top-5 accuracy {} on random labels",
        run.final_test_top5_accuracy
    );
    // Figure 1a's ordering at small scale: random pixels and Gaussian images are fit
    // sooner than random labels, and nothing about them generalizes either.
    for pixels in ["random-pixels", "gaussian"] {
        let other = train(&TrainConfig {
            corrupt: pixels.into(),
            ..config.clone()
        });
        assert_eq!(
            other.final_train_accuracy, 1.0,
            "{pixels} must be fit completely"
        );
        assert!(
            other.converged_epoch < run.converged_epoch,
            "{pixels} fit at epoch {:?}, random labels at {:?}",
            other.converged_epoch,
            run.converged_epoch
        );
        assert!(
            other.final_test_accuracy < 0.2,
            "{pixels}: test accuracy {}",
            other.final_test_accuracy
        );
    }
    assert_eq!(
        run.step_losses.len(),
        run.epochs.len() * 4,
        "one loss per step (500 images, batch 128)"
    );
}

#[test]
fn mlp_learns_true_labels() {
    if gpu().is_none() {
        return;
    }
    let config = TrainConfig {
        subset: Some(2000),
        epochs: 3,
        ..TrainConfig::default()
    };
    let run = train(&config);
    assert!(
        run.final_test_accuracy > 0.75,
        "test accuracy {} after 3 epochs",
        run.final_test_accuracy
    );
    // The right class is among the five likeliest far more often than it is the likeliest.
    assert!(
        run.final_test_top5_accuracy > 0.97
            && run.final_test_top5_accuracy > run.final_test_accuracy,
        "test top-5 accuracy {} (top-1 {})",
        run.final_test_top5_accuracy,
        run.final_test_accuracy
    );
    assert!(
        run.epochs[2].running_train_loss < run.epochs[0].running_train_loss,
        "training loss falls"
    );
    assert_eq!(run.parameters, 784 * 512 + 512 + 512 * 10 + 10);
}

#[test]
fn same_seeds_give_the_same_metrics_bit_for_bit() {
    if gpu().is_none() {
        return;
    }
    let config = TrainConfig {
        model: "mlp3x512".into(),
        corrupt: "labels:0.5".into(),
        subset: Some(700),
        epochs: 2,
        ..TrainConfig::default()
    };
    let (a, b) = (train(&config), train(&config));
    assert_eq!(a.step_losses, b.step_losses);
    // Bits, so that the NaN of an epoch that was not evaluated compares equal.
    let strip = |r: &RunRecord| -> Vec<[u64; 4]> {
        r.epochs
            .iter()
            .map(|e| {
                [e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy].map(f64::to_bits)
            })
            .collect()
    };
    assert_eq!(strip(&a), strip(&b));
    let other = train(&TrainConfig { seed: 2, ..config });
    assert_ne!(
        a.step_losses, other.step_losses,
        "a different seed gives a different run"
    );
}
