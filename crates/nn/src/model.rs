//! The model zoo: names a user types and the architectures behind them (PAPER.md).

use std::fmt;
use std::str::FromStr;

use crate::init::ConvInit;
use crate::layers::{LayerSpec, forward_flops_per_image, parameter_counts};
use crate::reference::LrnParams;

/// A model of the paper's zoo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// 2352 -> 512 -> 10 on CIFAR-10's 3x28x28 input.
    Mlp1x512,
    /// 2352 -> 512 -> 512 -> 512 -> 10.
    Mlp3x512,
    /// Two [conv 5x5 (64) -> max-pool 3x3/2 -> LRN] modules, then dense 384, 192, 10.
    Alexnet,
    /// The small Inception: conv modules are conv -> batch norm -> ReLU.
    Inception,
    /// The small Inception without batch norm: conv -> ReLU.
    InceptionNoBn,
}

impl ModelKind {
    pub const ALL: [ModelKind; 5] = [
        ModelKind::Mlp1x512,
        ModelKind::Mlp3x512,
        ModelKind::Alexnet,
        ModelKind::Inception,
        ModelKind::InceptionNoBn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Mlp1x512 => "mlp1x512",
            Self::Mlp3x512 => "mlp3x512",
            Self::Alexnet => "alexnet",
            Self::Inception => "inception",
            Self::InceptionNoBn => "inception-nobn",
        }
    }

    /// The paper's initial learning rate: 0.1 for the small Inception, 0.01 for the small
    /// AlexNet and the MLPs (PAPER.md). The paper gives no separate rate for the Inception
    /// without batch norm; shatter uses the Inception's.
    pub fn paper_learning_rate(self) -> f64 {
        match self {
            Self::Inception | Self::InceptionNoBn => 0.1,
            _ => 0.01,
        }
    }

    /// How the model's conv filters are drawn unless a run says otherwise (`--conv-init`).
    ///
    /// The paper's models were TensorFlow models, whose conv layers default to
    /// Glorot-uniform, and the AlexNet and the Inception keep that default. The Inception
    /// without batch norm stacks 22 convolutions with nothing to restore their scale, and
    /// Glorot's variance (2 / (fan-in + fan-out), about half of He's 2 / fan-in when the
    /// channels stay level) shrinks the signal by about 1/sqrt(2) a layer; it starts from
    /// He-uniform filters instead. The MLPs have no convolutions (their value is kept so
    /// that their run ids do not change). docs/paper.md has the measurements behind this.
    pub fn default_conv_init(self) -> ConvInit {
        match self {
            Self::Alexnet | Self::Inception => ConvInit::Glorot,
            Self::Mlp1x512 | Self::Mlp3x512 | Self::InceptionNoBn => ConvInit::He,
        }
    }

    /// The layers, input to logits.
    pub fn layers(self) -> Vec<LayerSpec> {
        match self {
            Self::Mlp1x512 => mlp(1),
            Self::Mlp3x512 => mlp(3),
            Self::Alexnet => alexnet(),
            Self::Inception => inception(true),
            Self::InceptionNoBn => inception(false),
        }
    }

    /// Trainable parameters for an input of [height, width, channels], counted as the
    /// paper counts them (conv and dense weights and biases), and the batch-norm scales
    /// and shifts on top of those.
    pub fn parameter_counts(self, input: [usize; 3], classes: usize) -> (usize, usize) {
        parameter_counts(&self.layers(), input, classes)
    }

    /// Forward FLOPs per image of the conv and dense layers (a multiply-add is two).
    pub fn forward_flops_per_image(self, input: [usize; 3], classes: usize) -> u64 {
        forward_flops_per_image(&self.layers(), input, classes)
    }
}

fn mlp(hidden: usize) -> Vec<LayerSpec> {
    let mut layers = vec![LayerSpec::Flatten];
    layers.extend((0..hidden).map(|_| LayerSpec::Dense {
        units: 512,
        relu: true,
    }));
    layers.push(LayerSpec::Logits);
    layers
}

fn alexnet() -> Vec<LayerSpec> {
    let module = [
        LayerSpec::conv(64, 5, 1, false),
        LayerSpec::MaxPool {
            window: 3,
            stride: 2,
        },
        LayerSpec::Lrn(LrnParams::PAPER),
    ];
    let mut layers = module.to_vec();
    layers.extend(module);
    layers.extend([
        LayerSpec::Flatten,
        LayerSpec::Dense {
            units: 384,
            relu: true,
        },
        LayerSpec::Dense {
            units: 192,
            relu: true,
        },
        LayerSpec::Logits,
    ]);
    layers
}

fn inception(bn: bool) -> Vec<LayerSpec> {
    // Inception module (a, b): a 1x1 conv module and a 3x3 conv module, concatenated.
    let module = |a: usize, b: usize| {
        LayerSpec::Concat(vec![
            vec![LayerSpec::conv(a, 1, 1, bn)],
            vec![LayerSpec::conv(b, 3, 1, bn)],
        ])
    };
    // Downsample module (b): a 3x3 stride-2 conv module and a 3x3 stride-2 max-pool.
    let downsample = |b: usize| {
        LayerSpec::Concat(vec![
            vec![LayerSpec::conv(b, 3, 2, bn)],
            vec![LayerSpec::MaxPool {
                window: 3,
                stride: 2,
            }],
        ])
    };
    vec![
        LayerSpec::conv(96, 3, 1, bn),
        module(32, 32),
        module(32, 48),
        downsample(80),
        module(112, 48),
        module(96, 64),
        module(80, 80),
        module(48, 96),
        downsample(96),
        module(176, 160),
        module(176, 160),
        LayerSpec::GlobalMeanPool,
        LayerSpec::Logits,
    ]
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|m| m.name()).collect();
                format!("unknown model '{s}': expected one of {}", names.join(", "))
            })
    }
}
