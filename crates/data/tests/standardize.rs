//! per_image_standardization, the CPU spec of the batch kernel's preprocessing.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shatter_data::per_image_standardization;

fn mean_and_std(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

#[test]
fn random_image_gets_mean_zero_and_std_one() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let pixels: Vec<u8> = (0..3 * 28 * 28).map(|_| rng.random()).collect();
    let out = per_image_standardization(&pixels);
    assert_eq!(out.len(), pixels.len());
    let (mean, std) = mean_and_std(&out);
    assert!(mean.abs() < 1e-6, "mean {mean}");
    assert!((std - 1.0).abs() < 1e-6, "std {std}");
}

#[test]
fn constant_image_gives_zeros_not_nan() {
    // std = 0, so the 1/sqrt(n) floor divides: (x - mean) is 0 everywhere.
    for value in [0u8, 128, 255] {
        let out = per_image_standardization(&[value; 784]);
        assert!(out.iter().all(|&v| v == 0.0), "value {value}");
    }
}

#[test]
fn matches_a_hand_computed_example() {
    // p = [0, 255]: x = [0, 1], mean 0.5, population std 0.5 > 1/sqrt(2)? No: 1/sqrt(2) =
    // 0.707 is larger, so the floor applies: (x - 0.5) / 0.7071 = -+0.7071.
    let out = per_image_standardization(&[0, 255]);
    let h = std::f32::consts::FRAC_1_SQRT_2;
    assert!(
        (out[0] + h).abs() < 1e-6 && (out[1] - h).abs() < 1e-6,
        "{out:?}"
    );
    // p = [0, 0, 255, 255]: mean 0.5, std 0.5 = 1/sqrt(4): both ways give -1, 1.
    assert_eq!(
        per_image_standardization(&[0, 0, 255, 255]),
        [-1.0, -1.0, 1.0, 1.0]
    );
    // p = [0, 51, 102]: x = [0, .2, .4], mean .2, std sqrt(.08/3) = 0.1633 < 1/sqrt(3)
    // = 0.5774, so the floor applies: [-0.3464, 0, 0.3464].
    let out = per_image_standardization(&[0, 51, 102]);
    let e = 0.2 * 3f32.sqrt();
    assert!(
        (out[0] + e).abs() < 1e-6 && out[1].abs() < 1e-6 && (out[2] - e).abs() < 1e-6,
        "{out:?}"
    );
}

#[test]
fn is_invariant_to_a_brightness_shift() {
    let pixels: Vec<u8> = (0..100).map(|i| (i * 2) as u8).collect();
    let shifted: Vec<u8> = pixels.iter().map(|&p| p + 50).collect();
    let (a, b) = (
        per_image_standardization(&pixels),
        per_image_standardization(&shifted),
    );
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-6);
    }
}

#[test]
fn empty_image_gives_empty_output() {
    assert!(per_image_standardization(&[]).is_empty());
}
