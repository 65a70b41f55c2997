//! One training run's configuration: what the user set, validated before anything runs,
//! and stored whole in the run record.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A bad configuration value: one line naming the value and what is allowed.
#[derive(Debug, Error, PartialEq)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Model name (see `shatter_nn::ModelKind`).
    pub model: String,
    /// Dataset name, `folder:PATH` or `imagenet:PATH` (see `shatter_data::DatasetSpec`).
    pub dataset: String,
    /// Randomization of the training data (see `shatter_data::Corruption`).
    pub corrupt: String,
    /// Keep only the first N training images.
    pub subset: Option<usize>,
    /// Keep only the first N test images (faster evaluation on slow adapters).
    #[serde(default)]
    pub test_subset: Option<usize>,
    /// Epoch budget.
    pub epochs: usize,
    /// Seed of the weights and the epoch order.
    pub seed: u64,
    /// Seed of the randomization, separate so the same corrupted data can be trained from several seeds.
    pub data_seed: u64,
    pub batch_size: usize,
    /// Initial learning rate (the paper: 0.01 for the MLPs and the AlexNet, 0.1 for Inception).
    pub lr: f64,
    pub momentum: f64,
    /// Factor applied to the learning rate per `lr_decay_images` training images seen.
    pub lr_decay: f64,
    /// Images per decay step; `None` decays once per epoch of the (possibly subset) training set.
    pub lr_decay_images: Option<u64>,
    /// Whether the decay comes in steps (the paper: after each epoch) or smoothly.
    pub lr_staircase: bool,
    pub weight_decay: f64,
    /// Crop training images at random offsets (the paper's 28x28 crops of 32x32 CIFAR-10
    /// images) instead of the centre; evaluation always crops the centre.
    #[serde(default)]
    pub random_crop: bool,
    /// Mirror training images left-right, each with probability 1/2 (ImageNet's usual
    /// augmentation beside random crops; the paper's CIFAR-10 crops come without it). Left
    /// out of run.json (and so of the run id) when off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub random_flip: bool,
    /// Side of the square crop the network sees (the paper: 28 of CIFAR-10's 32); images
    /// no larger stay whole.
    #[serde(default = "paper_crop")]
    pub crop: usize,
    /// The side image folders are resized and centre-cropped to as they load (default 32,
    /// CIFAR-10's); other datasets have their own size. Left out of run.json (and so of
    /// the run id) when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<usize>,
    /// Stream an image folder from disk even where it would fit on the GPU (folders too
    /// large for that always stream). The results are the same either way, so it is left
    /// out of run.json (and so of the run id) when off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    /// How conv filters are drawn: `he` (default) or `glorot`; dense layers are Glorot.
    #[serde(default = "default_conv_init")]
    pub conv_init: String,
    /// Training accuracy (0..1] that counts as fitting the data; the run stops there.
    pub fit_threshold: f64,
    /// Evaluate the whole training and test sets every this many epochs, and whenever the
    /// epoch's running accuracy says a fit level may have been reached (see
    /// `crate::evaluation`). Left out of the JSON form at its default, so that run ids
    /// from before it existed stay what they were.
    #[serde(
        default = "default_eval_every",
        skip_serializing_if = "is_default_eval_every"
    )]
    pub eval_every: usize,
}

/// Epochs between full evaluations when nothing else calls for one.
pub const DEFAULT_EVAL_EVERY: usize = 10;

fn default_eval_every() -> usize {
    DEFAULT_EVAL_EVERY
}

fn is_default_eval_every(every: &usize) -> bool {
    *every == DEFAULT_EVAL_EVERY
}

fn paper_crop() -> usize {
    28
}

impl TrainConfig {
    /// The crop a run on `dataset` sees when none is set: Inception V3's for the ImageNet
    /// folders, else the paper's 28x28 (an unparsable name is left for `validate`).
    pub fn default_crop(dataset: &str) -> usize {
        dataset
            .parse::<shatter_data::DatasetSpec>()
            .ok()
            .and_then(|spec| spec.default_crop())
            .unwrap_or_else(paper_crop)
    }
}

fn default_conv_init() -> String {
    "he".into()
}

impl Default for TrainConfig {
    /// The paper's MLP setting (PAPER.md): SGD, momentum 0.9, lr 0.01, x0.95 per 50,000 images, batch 128.
    fn default() -> Self {
        Self {
            model: "mlp1x512".into(),
            dataset: "fashion-mnist-mini".into(),
            corrupt: "none".into(),
            subset: None,
            test_subset: None,
            epochs: 100,
            seed: 1,
            data_seed: 1,
            batch_size: 128,
            lr: 0.01,
            momentum: 0.9,
            lr_decay: 0.95,
            lr_decay_images: Some(50_000),
            lr_staircase: true,
            weight_decay: 0.0,
            random_crop: false,
            random_flip: false,
            crop: 28,
            image_size: None,
            stream: false,
            conv_init: default_conv_init(),
            fit_threshold: 1.0,
            eval_every: DEFAULT_EVAL_EVERY,
        }
    }
}

impl TrainConfig {
    /// Check every value; the first bad one gives the error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |m: String| Err(ConfigError(m));
        let model = match self.model.parse::<shatter_nn::ModelKind>() {
            Ok(model) => model,
            Err(e) => return fail(e),
        };
        let dataset = match self.dataset.parse::<shatter_data::DatasetSpec>() {
            Ok(dataset) => dataset,
            Err(e) => return fail(e.to_string()),
        };
        if let Err(e) = self.corrupt.parse::<shatter_data::Corruption>() {
            return fail(e.to_string());
        }
        if self.epochs == 0 {
            return fail("epochs must be at least 1 (got 0)".into());
        }
        if !(1..=65_535).contains(&self.batch_size) {
            return fail(format!(
                "batch size must be between 1 and 65535 (got {})",
                self.batch_size
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return fail(format!("lr must be a number > 0 (got {})", self.lr));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return fail(format!(
                "momentum must be in [0, 1) (got {})",
                self.momentum
            ));
        }
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return fail(format!(
                "lr decay must be in (0, 1] (got {})",
                self.lr_decay
            ));
        }
        if self.lr_decay_images == Some(0) {
            return fail("lr decay images must be at least 1 (got 0)".into());
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return fail(format!(
                "weight decay must be a number >= 0 (got {})",
                self.weight_decay
            ));
        }
        if !(self.fit_threshold > 0.0 && self.fit_threshold <= 1.0) {
            return fail(format!(
                "fit threshold must be in (0, 1] (got {})",
                self.fit_threshold
            ));
        }
        if self.subset == Some(0) {
            return fail("subset must be at least 1 image (got 0)".into());
        }
        if let Err(e) = self.conv_init.parse::<shatter_nn::ConvInit>() {
            return fail(e);
        }
        if self.crop == 0 {
            return fail("crop must be at least 1 pixel (got 0)".into());
        }
        if self.image_size == Some(0) {
            return fail("image size must be at least 1 pixel (got 0)".into());
        }
        // The side the network sees: the crop of the images as they load.
        let side = match &dataset {
            shatter_data::DatasetSpec::Named(name) => {
                if self.image_size.is_some() {
                    return fail(format!(
                        "image size applies to image folders (folder:PATH, imagenet:PATH) only; {} has images of its own size",
                        self.dataset
                    ));
                }
                if self.stream {
                    return fail(format!(
                        "stream applies to image folders (folder:PATH, imagenet:PATH) only; {} is loaded whole",
                        self.dataset
                    ));
                }
                let ([_, height, width], _) = name.image_shape();
                height.min(width)
            }
            folder => self
                .image_size
                .or(folder.default_image_size())
                .expect("folders have a default size"),
        }
        .min(self.crop);
        if let Some(least) = model.min_input_side()
            && side < least
        {
            return fail(format!(
                "{model} takes inputs of at least {least}x{least}, but {} at crop {} gives {side}x{side}: train it on an image folder with an image size of {least} or more",
                self.dataset, self.crop
            ));
        }
        if self.eval_every == 0 {
            return fail("eval-every must be at least 1 epoch (got 0)".into());
        }
        if self.test_subset == Some(0) {
            return fail("test-subset must be at least 1 image (got 0)".into());
        }
        Ok(())
    }
}
