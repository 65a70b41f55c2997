//! The label randomizations of section 2.1: parsing, statistics, determinism.

use shatter_data::{Corruption, DataError, Dataset, Split, apply_corruption};

/// 10,000 training labels cycling through the ten classes, and a test split.
fn dataset(train: usize) -> Dataset {
    let split = |n: usize| Split {
        images: vec![0; n * 4],
        labels: (0..n).map(|i| (i % 10) as u16).collect(),
        float_images: None,
    };
    Dataset {
        name: "synthetic".into(),
        classes: 10,
        channels: 1,
        height: 2,
        width: 2,
        train: split(train),
        test: split(500),
    }
}

fn config_message(s: &str) -> String {
    let err = s.parse::<Corruption>().unwrap_err();
    assert!(matches!(err, DataError::Config { .. }), "{err:?}");
    err.to_string()
}

#[test]
fn parses_and_displays_every_mode() {
    for (text, mode) in [
        ("none", Corruption::None),
        ("labels:0.2", Corruption::Labels(0.2)),
        ("labels:0", Corruption::Labels(0.0)),
        ("labels:1", Corruption::Labels(1.0)),
        ("random-labels", Corruption::RandomLabels),
        ("shuffled-pixels", Corruption::ShuffledPixels),
        ("random-pixels", Corruption::RandomPixels),
        ("gaussian", Corruption::Gaussian),
    ] {
        assert_eq!(text.parse::<Corruption>().unwrap(), mode, "{text}");
        assert_eq!(mode.to_string(), text);
    }
    assert_eq!(
        "labels:0.25".parse::<Corruption>().unwrap(),
        Corruption::Labels(0.25)
    );
}

#[test]
fn unknown_corruption_lists_the_modes() {
    for bad in ["xyz", "labels", "random", "None", ""] {
        assert_eq!(
            config_message(bad),
            format!(
                "unknown corruption '{bad}': expected one of none, labels:P (0 <= P <= 1), random-labels, shuffled-pixels, random-pixels, gaussian"
            )
        );
    }
}

#[test]
fn p_outside_zero_one_or_not_a_number_is_rejected() {
    for bad in [
        "labels:1.5",
        "labels:-0.1",
        "labels:",
        "labels:abc",
        "labels:NaN",
        "labels:inf",
    ] {
        assert_eq!(
            config_message(bad),
            format!("corruption '{bad}': P must be a number between 0 and 1")
        );
    }
}

#[test]
fn changed_fraction_matches_p_times_nine_tenths() {
    let n = 10_000;
    for p in [0.2, 0.6, 1.0] {
        for seed in [0, 1, 2] {
            let mut d = dataset(n);
            let before = d.train.labels.clone();
            let report = apply_corruption(&mut d, &Corruption::Labels(p), seed);
            let changed = before
                .iter()
                .zip(&d.train.labels)
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(report.labels_changed, changed);
            assert_eq!(report.fraction_labels_changed, changed as f64 / n as f64);
            let q = p * 9.0 / 10.0;
            let sigma = (q * (1.0 - q) / n as f64).sqrt();
            let fraction = report.fraction_labels_changed;
            assert!(
                (fraction - q).abs() < 5.0 * sigma,
                "p = {p}, seed {seed}: changed {fraction}, expected {q} +- {}",
                5.0 * sigma
            );
            assert!(d.train.labels.iter().all(|&l| l < 10));
        }
    }
}

#[test]
fn random_labels_are_uniform_over_the_classes() {
    let n = 10_000;
    let mut d = dataset(n);
    d.train.labels.fill(3);
    apply_corruption(&mut d, &Corruption::RandomLabels, 7);
    let mut counts = [0usize; 10];
    for &l in &d.train.labels {
        counts[usize::from(l)] += 1;
    }
    // Each class ~ Binomial(n, 1/10): 1000 +- 30; 5 sigma is 150.
    for (class, &c) in counts.iter().enumerate() {
        assert!((850..=1150).contains(&c), "class {class}: {c} of {n}");
    }
}

#[test]
fn random_labels_is_labels_one() {
    let (mut a, mut b) = (dataset(2_000), dataset(2_000));
    let ra = apply_corruption(&mut a, &Corruption::RandomLabels, 11);
    let rb = apply_corruption(&mut b, &Corruption::Labels(1.0), 11);
    assert_eq!(a.train.labels, b.train.labels);
    assert_eq!(ra.labels_changed, rb.labels_changed);
    assert_eq!(ra.mode, "random-labels");
    assert_eq!(rb.mode, "labels:1");
}

#[test]
fn p_zero_and_none_change_nothing() {
    for mode in [Corruption::None, Corruption::Labels(0.0)] {
        let mut d = dataset(10_000);
        let before = d.clone();
        let report = apply_corruption(&mut d, &mode, 5);
        assert_eq!(d, before);
        assert_eq!(report.labels_changed, 0);
        assert_eq!(report.fraction_labels_changed, 0.0);
        assert_eq!(report.mode, mode.to_string());
        assert_eq!(report.data_seed, 5);
    }
}

#[test]
fn test_split_and_pixels_are_untouched() {
    let mut d = dataset(10_000);
    let before = d.clone();
    apply_corruption(&mut d, &Corruption::RandomLabels, 3);
    assert_ne!(d.train.labels, before.train.labels);
    assert_eq!(d.test, before.test);
    assert_eq!(d.train.images, before.train.images);
}

#[test]
fn same_seed_same_labels_different_seed_different_labels() {
    let run = |seed| {
        let mut d = dataset(10_000);
        apply_corruption(&mut d, &Corruption::Labels(0.5), seed);
        d.train.labels
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn a_larger_p_corrupts_a_superset_of_the_labels() {
    // The draws do not depend on p, so with one seed the images corrupted at p = 0.2 are
    // corrupted the same way at p = 0.6: a sweep over p changes one thing at a time.
    let run = |p| {
        let mut d = dataset(5_000);
        apply_corruption(&mut d, &Corruption::Labels(p), 9);
        d.train.labels
    };
    let (clean, low, high) = (dataset(5_000).train.labels, run(0.2), run(0.6));
    for i in 0..clean.len() {
        if low[i] != clean[i] {
            assert_eq!(high[i], low[i], "image {i}");
        }
    }
}

#[test]
fn labels_are_stable_across_versions_and_platforms() {
    // ChaCha8 from a u64 seed, then rand's f64 and u32-range sampling: all specified to
    // be platform-independent. A change here changes every recorded run; do it on purpose.
    let mut d = dataset(20);
    apply_corruption(&mut d, &Corruption::RandomLabels, 0);
    assert_eq!(d.train.labels, GOLDEN_SEED_0);
}

const GOLDEN_SEED_0: [u16; 20] = [7, 6, 1, 5, 8, 8, 4, 7, 6, 7, 0, 4, 5, 8, 1, 7, 5, 9, 5, 6];
