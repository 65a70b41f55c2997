//! The paper's parameter counts (PAPER.md) for its 3x28x28 CIFAR-10 input, the models'
//! output shapes and their forward work.

use shatter_nn::{LayerSpec, ModelKind, output_shape};

const CIFAR: [usize; 3] = [28, 28, 3];

#[test]
fn parameter_counts_are_the_papers() {
    let counts: Vec<(ModelKind, (usize, usize))> = ModelKind::ALL
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
        let mut shape = CIFAR;
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
        Err("unknown model 'vgg': expected one of mlp1x512, mlp3x512, alexnet, inception, inception-nobn".to_owned())
    );
}
