//! The model zoo: names a user types and the architectures behind them.

use std::fmt;
use std::str::FromStr;

/// A model of the paper's zoo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// 2352 -> 512 -> 10 on CIFAR-10's 3x28x28 input.
    Mlp1x512,
    /// 2352 -> 512 -> 512 -> 512 -> 10.
    Mlp3x512,
}

impl ModelKind {
    pub const ALL: [ModelKind; 2] = [ModelKind::Mlp1x512, ModelKind::Mlp3x512];

    pub fn name(self) -> &'static str {
        match self {
            Self::Mlp1x512 => "mlp1x512",
            Self::Mlp3x512 => "mlp3x512",
        }
    }

    /// Widths of the hidden layers (each dense + ReLU).
    pub fn hidden_layers(self) -> &'static [usize] {
        match self {
            Self::Mlp1x512 => &[512],
            Self::Mlp3x512 => &[512, 512, 512],
        }
    }

    /// Widths from input to logits, e.g. [2352, 512, 10].
    pub fn widths(self, input_values: usize, classes: usize) -> Vec<usize> {
        let mut widths = vec![input_values];
        widths.extend_from_slice(self.hidden_layers());
        widths.push(classes);
        widths
    }

    /// Trainable parameters (weights and biases) for an input of `input_values` values.
    pub fn parameter_count(self, input_values: usize, classes: usize) -> usize {
        self.widths(input_values, classes)
            .windows(2)
            .map(|w| w[0] * w[1] + w[1])
            .sum()
    }

    /// Forward FLOPs per image (multiply-adds counted as two).
    pub fn forward_flops_per_image(self, input_values: usize, classes: usize) -> u64 {
        self.widths(input_values, classes)
            .windows(2)
            .map(|w| 2 * (w[0] * w[1]) as u64)
            .sum()
    }
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
