//! The pixel randomizations of section 2.1: shuffled pixels (one permutation for every
//! image) and random pixels (one per image), on both splits, labels untouched.

use std::collections::HashSet;

use shatter_data::{Corruption, Dataset, Split, apply_corruption};

const SIDE: usize = 4;
const PLANE: usize = SIDE * SIDE;

/// Three-channel 4x4 images whose channel c holds `position + 16 c` at each position,
/// so any permutation of positions can be read back from the values.
fn dataset(train: usize, test: usize) -> Dataset {
    let image: Vec<u8> = (0..3)
        .flat_map(|c| (0..PLANE).map(move |p| (p + 16 * c) as u8))
        .collect();
    let split = |n: usize| Split {
        images: image
            .iter()
            .copied()
            .cycle()
            .take(n * image.len())
            .collect(),
        labels: (0..n).map(|i| (i % 10) as u16).collect(),
        float_images: None,
    };
    Dataset {
        name: "positions".into(),
        classes: 10,
        channels: 3,
        height: SIDE,
        width: SIDE,
        train: split(train),
        test: split(test),
    }
}

/// The permutation of positions an image went through (`value at i` came from position).
fn positions_of(image: &[u8]) -> Vec<u8> {
    let red = &image[..PLANE];
    // Colours move together: channel c is channel 0 plus 16 c at every position.
    for c in 1..3 {
        let plane = &image[c * PLANE..(c + 1) * PLANE];
        assert!(
            red.iter().zip(plane).all(|(r, v)| *v == r + 16 * c as u8),
            "channels moved apart"
        );
    }
    let mut sorted = red.to_vec();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (0..PLANE as u8).collect::<Vec<_>>(),
        "not a permutation of the positions"
    );
    red.to_vec()
}

fn all_images(d: &Dataset) -> Vec<Vec<u8>> {
    let bytes = d.image_bytes();
    d.train
        .images
        .chunks(bytes)
        .chain(d.test.images.chunks(bytes))
        .map(|c| c.to_vec())
        .collect()
}

#[test]
fn shuffled_pixels_applies_one_permutation_to_every_image_of_both_splits() {
    let mut d = dataset(200, 50);
    let labels = (d.train.labels.clone(), d.test.labels.clone());
    let report = apply_corruption(&mut d, &Corruption::ShuffledPixels, 3);
    let perms: HashSet<Vec<u8>> = all_images(&d).iter().map(|i| positions_of(i)).collect();
    assert_eq!(perms.len(), 1, "one shared permutation");
    let only = perms.into_iter().next().unwrap();
    assert_ne!(
        only,
        (0..PLANE as u8).collect::<Vec<_>>(),
        "the pixels did move"
    );
    assert_eq!(
        (d.train.labels.clone(), d.test.labels.clone()),
        labels,
        "labels untouched"
    );
    assert_eq!(
        (
            report.mode.as_str(),
            report.pixel_permutations,
            report.labels_changed
        ),
        ("shuffled-pixels", 1, 0)
    );
}

#[test]
fn random_pixels_draws_a_permutation_per_image_of_both_splits() {
    let mut d = dataset(200, 50);
    let labels = d.train.labels.clone();
    let report = apply_corruption(&mut d, &Corruption::RandomPixels, 3);
    let perms: Vec<Vec<u8>> = all_images(&d).iter().map(|i| positions_of(i)).collect();
    let distinct: HashSet<&Vec<u8>> = perms.iter().collect();
    // 16! permutations: 250 draws all differ unless the draws are not independent.
    assert_eq!(distinct.len(), 250, "independent permutations per image");
    assert_eq!(d.train.labels, labels);
    assert_eq!(report.pixel_permutations, 250);
}

#[test]
fn pixel_modes_are_deterministic_in_the_data_seed() {
    for mode in [Corruption::ShuffledPixels, Corruption::RandomPixels] {
        let run = |seed| {
            let mut d = dataset(20, 5);
            apply_corruption(&mut d, &mode, seed);
            (d.train.images, d.test.images)
        };
        assert_eq!(run(1), run(1), "{mode}: same seed, same images");
        assert_ne!(run(1), run(2), "{mode}: another seed, other images");
    }
}

#[test]
fn gaussian_replaces_every_image_with_draws_of_the_channel_statistics() {
    // Two channels with different statistics: channel 0 cycles 0..=250, channel 1 is 200 or 40.
    let (n, test) = (400, 100);
    let plane = 16;
    let image = |i: usize| -> Vec<u8> {
        let red = (0..plane).map(|p| ((i * 7 + p * 13) % 251) as u8);
        let green = (0..plane).map(|p| if (i + p).is_multiple_of(2) { 200 } else { 40 });
        red.chain(green).collect()
    };
    let split = |count: usize, offset: usize| Split {
        images: (0..count).flat_map(|i| image(i + offset)).collect(),
        labels: (0..count).map(|i| (i % 10) as u16).collect(),
        float_images: None,
    };
    let mut d = Dataset {
        name: "two-channel".into(),
        classes: 10,
        channels: 2,
        height: 4,
        width: 4,
        train: split(n, 0),
        test: split(test, n),
    };
    let labels = d.train.labels.clone();
    let report = apply_corruption(&mut d, &Corruption::Gaussian, 5);
    // The statistics of the original training images, computed here independently.
    let original = split(n, 0).images;
    let stats = |values: Vec<f64>| {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        (mean, var)
    };
    for c in 0..2 {
        let channel = |bytes: &[u8]| -> Vec<f64> {
            bytes
                .chunks(32)
                .flat_map(|img| {
                    img[c * 16..(c + 1) * 16]
                        .iter()
                        .map(|&b| f64::from(b) / 255.0)
                })
                .collect()
        };
        let (mean, var) = stats(channel(&original));
        assert!(
            (report.gaussian_mean[c] - mean).abs() < 1e-9
                && (report.gaussian_variance[c] - var).abs() < 1e-9
        );
        for s in [&d.train, &d.test] {
            let values = s.float_images.as_ref().expect("Gaussian images are f32");
            assert!(s.images.is_empty());
            let drawn: Vec<f64> = values
                .chunks(32)
                .flat_map(|img| img[c * 16..(c + 1) * 16].iter().map(|&v| f64::from(v)))
                .collect();
            let (m, v) = stats(drawn.clone());
            // Standard errors: sqrt(var / count) for the mean, var * sqrt(2 / count) for the variance; 5 sigma.
            let count = drawn.len() as f64;
            assert!(
                (m - mean).abs() < 5.0 * (var / count).sqrt(),
                "channel {c}: mean {m} vs {mean}"
            );
            assert!(
                (v - var).abs() < 5.0 * var * (2.0 / count).sqrt(),
                "channel {c}: variance {v} vs {var}"
            );
        }
    }
    assert_eq!(d.train.labels, labels, "labels untouched");
    assert_eq!(d.test.float_images.as_ref().unwrap().len(), test * 32);
}
