//! The paper's parameter counts (PAPER.md) for its 3x28x28 CIFAR-10 input, the models'
//! output shapes and their forward work.

use shatter_nn::{LayerSpec, ModelKind, output_shape};

const CIFAR: [usize; 3] = [28, 28, 3];

#[test]
fn parameter_counts_are_the_papers() {
    let counts: Vec<(ModelKind, (usize, usize))> = ModelKind::CIFAR
        .iter()
        .map(|&m| (m, m.parameter_counts(CIFAR, 10)))
        .collect();
    assert_eq!(
        counts,
        vec![
            (ModelKind::Mlp1x512, (1_209_866, 0)),
            (ModelKind::Mlp3x512, (1_735_178, 0)),
            (ModelKind::Alexnet, (1_387_786, 0)),
            // Batch norm adds a scale and a shift per conv filter, which the paper's count
            // leaves out: 2 x 1,712 filters.
            (ModelKind::Inception, (1_649_402, 3_424)),
            (ModelKind::InceptionNoBn, (1_649_402, 0)),
        ]
    );
    // Any input: Fashion-MNIST's 28x28x1.
    assert_eq!(
        ModelKind::Mlp1x512.parameter_counts([28, 28, 1], 10).0,
        784 * 512 + 512 + 512 * 10 + 10
    );
    assert_eq!(
        ModelKind::Alexnet.parameter_counts([28, 28, 1], 10).0,
        1_387_786 - 5 * 5 * 2 * 64
    );
}

#[test]
fn every_model_ends_in_one_logit_per_class() {
    for m in ModelKind::ALL {
        let side = m.min_input_side().unwrap_or(28);
        let mut shape = [side, side, 3];
        for layer in m.layers() {
            shape = output_shape(&layer, shape, 10);
        }
        assert_eq!(shape, [1, 1, 10], "{m}");
    }
}

#[test]
fn the_inception_stack_has_the_papers_shapes() {
    // 28x28x96 after the first conv; the modules' channel sums; two downsamplings to 7x7;
    // 336 channels into the mean pool.
    let layers = ModelKind::Inception.layers();
    let mut shape = CIFAR;
    let mut shapes = Vec::new();
    for layer in &layers {
        shape = output_shape(layer, shape, 10);
        shapes.push(shape);
    }
    assert_eq!(
        shapes,
        vec![
            [28, 28, 96],
            [28, 28, 64],
            [28, 28, 80],
            [14, 14, 160],
            [14, 14, 160],
            [14, 14, 160],
            [14, 14, 160],
            [14, 14, 144],
            [7, 7, 240],
            [7, 7, 336],
            [7, 7, 336],
            [1, 1, 336],
            [1, 1, 10],
        ]
    );
    assert!(matches!(
        layers[0],
        LayerSpec::Conv {
            batch_norm: true,
            ..
        }
    ));
}

#[test]
fn forward_work_is_the_papers_order_of_magnitude() {
    let mflop = |m: ModelKind| m.forward_flops_per_image(CIFAR, 10) as f64 / 1e6;
    // PAPER.md: about 410 MFLOP per image for the Inception, 50 for the AlexNet, 3.5 for the MLP 3x512.
    assert!(
        (380.0..440.0).contains(&mflop(ModelKind::Inception)),
        "{}",
        mflop(ModelKind::Inception)
    );
    assert!(
        (45.0..55.0).contains(&mflop(ModelKind::Alexnet)),
        "{}",
        mflop(ModelKind::Alexnet)
    );
    assert!(
        (3.3..3.7).contains(&mflop(ModelKind::Mlp3x512)),
        "{}",
        mflop(ModelKind::Mlp3x512)
    );
}

#[test]
fn model_names_round_trip_and_unknown_names_list_the_known_ones() {
    for m in ModelKind::ALL {
        assert_eq!(m.name().parse::<ModelKind>(), Ok(m));
    }
    assert_eq!(
        "vgg".parse::<ModelKind>(),
        Err("unknown model 'vgg': expected one of mlp1x512, mlp3x512, alexnet, inception, inception-nobn, inception-v3, inception-v3-nodropout".to_owned())
    );
}

/// What `keras.applications.InceptionV3(weights=None)` reports for 1,000 classes: 23,851,784
/// parameters, of which 34,432 are not trainable (batch norm's moving means and variances,
/// two per channel, so 17,216 batch-normalized channels). Keras's conv2d_bn has no bias and
/// its batch norm a shift but no scale (scale=False); shatter's batch norm trains a scale
/// too. So Keras's figure is shatter's counted weights (convolutions and classifier), plus a
/// shift and two statistics per channel: 1.5 times shatter's batch-norm count.
#[test]
fn inception_v3_has_kerass_parameter_count() {
    let (counted, batch_norm) = ModelKind::InceptionV3.parameter_counts([299, 299, 3], 1000);
    assert_eq!(batch_norm, 2 * 17_216, "a scale and a shift per channel");
    assert_eq!(counted + batch_norm / 2 * 3, 23_851_784);
    assert_eq!(
        counted + batch_norm / 2,
        23_817_352,
        "Keras's trainable parameters"
    );
    // The input's size does not change the count (global pooling before the classifier).
    assert_eq!(
        ModelKind::InceptionV3.parameter_counts([75, 75, 3], 1000),
        (counted, batch_norm)
    );
}

/// The stem's and every module's output at 299x299, as Keras's model summary lists them,
/// and the forward work: about 5.7 billion multiply-adds (Szegedy et al. 2016).
#[test]
fn inception_v3_has_kerass_shapes_at_299() {
    let mut shape = [299, 299, 3];
    let mut shapes = Vec::new();
    for layer in ModelKind::InceptionV3.layers() {
        shape = output_shape(&layer, shape, 1000);
        shapes.push(shape);
    }
    assert_eq!(
        shapes,
        vec![
            [149, 149, 32],
            [147, 147, 32],
            [147, 147, 64],
            [73, 73, 64],
            [73, 73, 80],
            [71, 71, 192],
            [35, 35, 192],
            [35, 35, 256], // mixed0
            [35, 35, 288],
            [35, 35, 288],
            [17, 17, 768], // mixed3
            [17, 17, 768],
            [17, 17, 768],
            [17, 17, 768],
            [17, 17, 768],
            [8, 8, 1280], // mixed8
            [8, 8, 2048],
            [8, 8, 2048], // mixed10
            [1, 1, 2048], // global average pooling
            [1, 1, 2048], // dropout
            [1, 1, 1000],
        ]
    );
    let multiply_adds = ModelKind::InceptionV3.forward_flops_per_image([299, 299, 3], 1000) / 2;
    assert!(
        (5_600_000_000..5_800_000_000).contains(&multiply_adds),
        "{multiply_adds} multiply-adds"
    );
    // At Keras's smallest input the last modules see a 1x1 map.
    let mut shape = [75, 75, 3];
    for layer in ModelKind::InceptionV3.layers().iter().take(18) {
        shape = output_shape(layer, shape, 1000);
    }
    assert_eq!(shape, [1, 1, 2048]);
}
