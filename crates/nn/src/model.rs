//! The model zoo: names a user types and the architectures behind them (PAPER.md).

use std::fmt;
use std::str::FromStr;

use crate::geometry::Padding;
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
    /// Inception V3 (Szegedy et al. 2016) as Keras builds it, the paper's ImageNet model:
    /// inputs of at least 75x75 (299x299 on ImageNet).
    InceptionV3,
    /// Inception V3 without the dropout before its classifier (the paper's Table 2 turns
    /// dropout off as it does weight decay and augmentation).
    InceptionV3NoDropout,
}

impl ModelKind {
    /// The paper's CIFAR-10 models, which take 28x28 inputs.
    pub const CIFAR: [ModelKind; 5] = [
        ModelKind::Mlp1x512,
        ModelKind::Mlp3x512,
        ModelKind::Alexnet,
        ModelKind::Inception,
        ModelKind::InceptionNoBn,
    ];

    pub const ALL: [ModelKind; 7] = [
        ModelKind::Mlp1x512,
        ModelKind::Mlp3x512,
        ModelKind::Alexnet,
        ModelKind::Inception,
        ModelKind::InceptionNoBn,
        ModelKind::InceptionV3,
        ModelKind::InceptionV3NoDropout,
    ];

    /// Whether this is Inception V3, with dropout or without: the paper's ImageNet model,
    /// which its Table 2 reports.
    pub fn is_inception_v3(self) -> bool {
        matches!(self, Self::InceptionV3 | Self::InceptionV3NoDropout)
    }

    /// The smallest image side the model takes (its VALID windows need room), if any.
    pub fn min_input_side(self) -> Option<usize> {
        match self {
            Self::InceptionV3 | Self::InceptionV3NoDropout => Some(INCEPTION_V3_MIN_SIDE),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Mlp1x512 => "mlp1x512",
            Self::Mlp3x512 => "mlp3x512",
            Self::Alexnet => "alexnet",
            Self::Inception => "inception",
            Self::InceptionNoBn => "inception-nobn",
            Self::InceptionV3 => "inception-v3",
            Self::InceptionV3NoDropout => "inception-v3-nodropout",
        }
    }

    /// The paper's initial learning rate: 0.1 for the small Inception, 0.01 for the small
    /// AlexNet and the MLPs (PAPER.md). The paper gives no separate rate for the Inception
    /// without batch norm, nor for Inception V3 (trained with batch norm, as the small
    /// Inception is); shatter uses the Inception's for both.
    pub fn paper_learning_rate(self) -> f64 {
        match self {
            Self::Inception | Self::InceptionNoBn => 0.1,
            Self::InceptionV3 | Self::InceptionV3NoDropout => 0.1,
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
            Self::InceptionV3 | Self::InceptionV3NoDropout => ConvInit::Glorot,
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
            Self::InceptionV3 => inception_v3(Some(INCEPTION_V3_DROPOUT)),
            Self::InceptionV3NoDropout => inception_v3(None),
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
        LayerSpec::max_pool(3, 2),
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
            vec![LayerSpec::max_pool(3, 2)],
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

/// Keras's minimum input side for Inception V3: the stem's VALID windows and the two
/// reductions leave a 1x1 map for the last modules at 75.
pub const INCEPTION_V3_MIN_SIDE: usize = 75;

/// The dropout before Inception V3's classifier: TF-slim's keep probability of 0.8 (Keras's
/// application has none; the paper's Table 2 turns it on and off).
pub const INCEPTION_V3_DROPOUT: f64 = 0.2;

/// Inception V3 as `keras.applications.InceptionV3` builds it (include_top, no auxiliary
/// classifier: Keras's has none, and the paper's Table 2 reports none), with `dropout` before
/// the classifier. Every convolution is Keras's `conv2d_bn` (no bias, batch norm, ReLU);
/// windows are [height, width]. Module names follow Keras's (mixed0 ... mixed10).
pub fn inception_v3(dropout: Option<f64>) -> Vec<LayerSpec> {
    use Padding::{Same, Valid};
    let conv = |filters, kernel: [usize; 2]| LayerSpec::conv_bn(filters, kernel, 1, Same);
    let reduce = |filters, kernel: [usize; 2]| LayerSpec::conv_bn(filters, kernel, 2, Valid);
    let avg_pool = LayerSpec::AvgPool {
        window: 3,
        stride: 1,
        padding: Same,
    };
    let max_pool = LayerSpec::MaxPool {
        window: 3,
        stride: 2,
        padding: Valid,
    };
    // mixed0-2 (35x35 at 299): 1x1, 5x5, double 3x3 and pooled 1x1 branches.
    let module_a = |pool_filters| {
        LayerSpec::Concat(vec![
            vec![conv(64, [1, 1])],
            vec![conv(48, [1, 1]), conv(64, [5, 5])],
            vec![conv(64, [1, 1]), conv(96, [3, 3]), conv(96, [3, 3])],
            vec![avg_pool.clone(), conv(pool_filters, [1, 1])],
        ])
    };
    // mixed4-7 (17x17): 7x7 windows factorized into 1x7 and 7x1.
    let module_b = |width| {
        LayerSpec::Concat(vec![
            vec![conv(192, [1, 1])],
            vec![conv(width, [1, 1]), conv(width, [1, 7]), conv(192, [7, 1])],
            vec![
                conv(width, [1, 1]),
                conv(width, [7, 1]),
                conv(width, [1, 7]),
                conv(width, [7, 1]),
                conv(192, [1, 7]),
            ],
            vec![avg_pool.clone(), conv(192, [1, 1])],
        ])
    };
    // mixed9-10 (8x8): branches that end in a 1x3 and a 3x1 side by side.
    let split = || LayerSpec::Concat(vec![vec![conv(384, [1, 3])], vec![conv(384, [3, 1])]]);
    let module_c = || {
        LayerSpec::Concat(vec![
            vec![conv(320, [1, 1])],
            vec![conv(384, [1, 1]), split()],
            vec![conv(448, [1, 1]), conv(384, [3, 3]), split()],
            vec![avg_pool.clone(), conv(192, [1, 1])],
        ])
    };
    let mut layers = vec![
        reduce(32, [3, 3]),
        LayerSpec::conv_bn(32, [3, 3], 1, Valid),
        conv(64, [3, 3]),
        max_pool.clone(),
        LayerSpec::conv_bn(80, [1, 1], 1, Valid),
        LayerSpec::conv_bn(192, [3, 3], 1, Valid),
        max_pool.clone(),
        module_a(32),
        module_a(64),
        module_a(64),
        // mixed3: reduction to 17x17.
        LayerSpec::Concat(vec![
            vec![reduce(384, [3, 3])],
            vec![conv(64, [1, 1]), conv(96, [3, 3]), reduce(96, [3, 3])],
            vec![max_pool.clone()],
        ]),
        module_b(128),
        module_b(160),
        module_b(160),
        module_b(192),
        // mixed8: reduction to 8x8.
        LayerSpec::Concat(vec![
            vec![conv(192, [1, 1]), reduce(320, [3, 3])],
            vec![
                conv(192, [1, 1]),
                conv(192, [1, 7]),
                conv(192, [7, 1]),
                reduce(192, [3, 3]),
            ],
            vec![max_pool],
        ]),
        module_c(),
        module_c(),
        LayerSpec::GlobalMeanPool,
    ];
    layers.extend(dropout.map(|rate| LayerSpec::Dropout { rate }));
    layers.push(LayerSpec::Logits);
    layers
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
