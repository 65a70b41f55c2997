//! The paper's parameter counts (PAPER.md) for its 3x28x28 CIFAR-10 input.

use shatter_nn::ModelKind;

#[test]
fn mlp_parameter_counts_are_the_papers() {
    assert_eq!(
        ModelKind::Mlp1x512.parameter_count(3 * 28 * 28, 10),
        1_209_866
    );
    assert_eq!(
        ModelKind::Mlp3x512.parameter_count(3 * 28 * 28, 10),
        1_735_178
    );
    // Any input: Fashion-MNIST's 1x28x28.
    assert_eq!(
        ModelKind::Mlp1x512.parameter_count(784, 10),
        784 * 512 + 512 + 512 * 10 + 10
    );
}

#[test]
fn model_names_round_trip_and_unknown_names_list_the_known_ones() {
    for m in ModelKind::ALL {
        assert_eq!(m.name().parse::<ModelKind>(), Ok(m));
    }
    assert_eq!(
        "vgg".parse::<ModelKind>(),
        Err("unknown model 'vgg': expected one of mlp1x512, mlp3x512".to_owned())
    );
}
