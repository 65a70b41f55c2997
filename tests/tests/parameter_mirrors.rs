//! A training step's forward reads the texel mirrors of weights without copying the
//! weights in (`Network::forward_after_update`): the update writes each mirror as it
//! writes the weights. After training, that forward must give the logits of the forward
//! that copies every weight afresh, bit for bit; a mirror left behind by the update would
//! still hold the weights it was filled with.

use shatter::{InputCrop, Trainer};
use shatter_data::{Dataset, Split};
use shatter_nn::{ConvInit, LrSchedule, ModelKind, SgdConfig, WeightInit};
use shatter_tests::gpu;

/// `images` images of 3 x `side` x `side` pixels in a fixed pattern, one per class in turn.
fn split(images: usize, side: usize) -> Split {
    Split {
        images: (0..images * 3 * side * side)
            .map(|i| (i * 37 % 256) as u8)
            .collect(),
        labels: (0..images).map(|i| (i % 10) as u16).collect(),
        float_images: None,
    }
}

/// Train `model` for an epoch of 3 steps on `side` x `side` images and compare the two
/// forwards; `mirrored` is the fewest weights the adapter's kernels must read from
/// mirrors (none on GPUs, which make no mirrors).
fn check(model: ModelKind, side: usize, mirrored: usize) {
    let Some(gpu) = gpu() else { return };
    let dataset = Dataset {
        name: format!("pattern-3x{side}x{side}"),
        classes: 10,
        channels: 3,
        height: side,
        width: side,
        train: split(24, side),
        test: split(4, side),
    };
    let sgd = SgdConfig {
        schedule: LrSchedule {
            lr0: 0.01,
            decay: 1.0,
            decay_images: 1.0,
            staircase: false,
        },
        momentum: 0.9,
        weight_decay: 0.0005,
    };
    let init = WeightInit {
        seed: 3,
        conv: ConvInit::He,
    };
    let trainer = Trainer::build(gpu, &dataset, model, 8, init, &sgd, InputCrop::PAPER).unwrap();
    let network = &trainer.network;
    let fills = network.parameter_mirror_fills().len();
    if gpu.is_cpu() {
        assert!(
            fills >= mirrored,
            "{}: {fills} weights read from mirrors, expected at least {mirrored}",
            network.name
        );
    }
    assert_eq!(
        network.forward().count(),
        network.forward_after_update().count() + fills,
        "{}: the training forward leaves out exactly the weights' copies",
        network.name
    );
    let first = &network.layers[0].parameters[0].value;
    let initial = gpu.read_f32(first).unwrap();
    let order: Vec<u32> = (0..24).collect();
    trainer.train_epoch(&order, 0, &mut |_| {}).unwrap();
    assert_ne!(
        gpu.read_f32(first).unwrap(),
        initial,
        "{}: training must change the weights, or a stale mirror could not show",
        network.name
    );
    // The input still holds the epoch's last batch.
    gpu.run(network.forward_after_update()).unwrap();
    let from_updated_mirrors = gpu.read_f32(network.logits()).unwrap();
    gpu.run(network.forward()).unwrap();
    let from_fresh_copies = gpu.read_f32(network.logits()).unwrap();
    assert!(
        from_fresh_copies.iter().any(|&v| v != 0.0),
        "{}: logits of real inputs are not all zero",
        network.name
    );
    assert_eq!(
        from_updated_mirrors
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>(),
        from_fresh_copies
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>(),
        "{}: logits from the mirrors the update wrote",
        network.name
    );
}

#[test]
fn an_mlp_trained_without_copying_its_weights_matches_one_that_copies_them() {
    // dense1's 192 x 512 weights fit the texel GEMMs.
    check(ModelKind::Mlp1x512, 8, 1);
}

#[test]
fn an_alexnet_trained_without_copying_its_weights_matches_one_that_copies_them() {
    // The second convolution's filters and the dense layers' weights.
    check(ModelKind::Alexnet, 28, 2);
}
