use rand::Rng;

/// Glorot (Xavier) uniform initialization, U(-l, l) with l = sqrt(6 / (fan_in + fan_out)):
/// the default of the Keras/TensorFlow dense layers the paper's MLPs were built with.
pub fn glorot_uniform(rng: &mut impl Rng, fan_in: usize, fan_out: usize) -> Vec<f32> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    (0..fan_in * fan_out)
        .map(|_| rng.random_range(-limit..limit) as f32)
        .collect()
}

/// How conv filters are initialized (dense layers are always Glorot-uniform).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConvInit {
    /// He-uniform, U(-l, l) with l = sqrt(6 / fan_in): keeps the activations' scale through
    /// ReLU layers, so a deep stack without batch norm (the Inception without it, 22 conv
    /// layers deep) starts with gradients that are not vanishingly small.
    #[default]
    He,
    /// Glorot-uniform with fan-in kernel^2 x input channels and fan-out kernel^2 x output
    /// channels (Keras's default for Conv2D).
    Glorot,
}

impl ConvInit {
    pub fn name(self) -> &'static str {
        match self {
            Self::He => "he",
            Self::Glorot => "glorot",
        }
    }
}

impl std::str::FromStr for ConvInit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "he" => Ok(Self::He),
            "glorot" => Ok(Self::Glorot),
            _ => Err(format!("unknown conv init '{s}': expected he or glorot")),
        }
    }
}

/// A conv filter [window_height, window_width, in_channels, out_channels] drawn as `init`
/// says (Keras's fans: the window's taps times the channels in, and out).
pub fn conv_filter_init(
    rng: &mut impl Rng,
    init: ConvInit,
    [window_height, window_width]: [usize; 2],
    in_channels: usize,
    out_channels: usize,
) -> Vec<f32> {
    let taps = window_height * window_width;
    let (fan_in, fan_out) = (taps * in_channels, taps * out_channels);
    let limit = match init {
        ConvInit::He => (6.0 / fan_in as f64).sqrt(),
        ConvInit::Glorot => (6.0 / (fan_in + fan_out) as f64).sqrt(),
    };
    (0..taps * in_channels * out_channels)
        .map(|_| rng.random_range(-limit..limit) as f32)
        .collect()
}
