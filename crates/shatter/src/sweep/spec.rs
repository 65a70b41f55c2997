//! The sweep file (TOML): a grid of runs. `[sweep]` names the data and the axes every
//! sweep has (models, corruptions, seeds); `[train]` holds the training settings, each a
//! value or a list, and a list makes that setting a grid axis too. Settings left out take
//! the paper's values (PAPER.md): the learning rate per model, x0.95 per 50,000 images,
//! momentum 0.9, batch 128, no weight decay, centre crops, stop at 100% train accuracy.

use serde::Deserialize;
use shatter_nn::ModelKind;

use crate::config::{ConfigError, TrainConfig};
use crate::sweep::axis::{Axis, DecayEvery};
use crate::sweep::run_id::run_id;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSection {
    pub name: String,
    /// fashion-mnist-mini, fashion-mnist, mnist, cifar10, imagenet, imagenet-mini,
    /// folder:PATH or imagenet:PATH.
    pub dataset: String,
    /// Keep only the first N training images.
    pub subset: Option<usize>,
    /// Keep only the first N test images.
    pub test_subset: Option<usize>,
    /// Stream image folders from disk even where they would fit on the GPU (see
    /// `TrainConfig::stream`).
    #[serde(default)]
    pub stream: bool,
    pub models: Vec<String>,
    #[serde(default = "default_corruptions")]
    pub corruptions: Vec<String>,
    /// Each seed draws the weights, the epoch order and the randomization.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
}

fn default_corruptions() -> Vec<String> {
    vec!["none".into()]
}

fn default_seeds() -> Vec<u64> {
    vec![1]
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    pub epochs: Option<Axis<usize>>,
    /// Default: the paper's rate for the model (0.1 for the Inceptions, 0.01 otherwise).
    pub lr: Option<Axis<f64>>,
    pub momentum: Option<Axis<f64>>,
    pub lr_decay: Option<Axis<f64>>,
    /// Images per decay step, or "epoch" (default 50,000: one CIFAR-10 epoch).
    pub lr_decay_every: Option<Axis<DecayEvery>>,
    /// Decay smoothly instead of in steps.
    pub lr_smooth: Option<Axis<bool>>,
    pub batch_size: Option<Axis<usize>>,
    pub weight_decay: Option<Axis<f64>>,
    pub random_crop: Option<Axis<bool>>,
    /// Mirror training images left-right at random.
    pub random_flip: Option<Axis<bool>>,
    /// Random crops and random flips together, on or off (Table 2's augmentation).
    pub augment: Option<Axis<bool>>,
    /// Batch norm on or off, for the models that have it (inception / inception-nobn);
    /// other models ignore this axis.
    pub batch_norm: Option<Axis<bool>>,
    /// Dropout on or off, for the models that have it (inception-v3 /
    /// inception-v3-nodropout); other models ignore this axis.
    pub dropout: Option<Axis<bool>>,
    pub crop: Option<Axis<usize>>,
    /// The side image folders load at; the crop follows it unless `crop` is set.
    pub image_size: Option<Axis<usize>>,
    pub conv_init: Option<Axis<String>>,
    pub fit_threshold: Option<Axis<f64>>,
    /// Epochs between full evaluations (see `crate::evaluation`).
    pub eval_every: Option<Axis<usize>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    pub sweep: SweepSection,
    #[serde(default)]
    pub train: TrainSection,
}

/// One run of a sweep: its id (a hash of the whole config) and its config.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    pub id: String,
    pub config: TrainConfig,
}

impl SweepSpec {
    /// Parse a sweep file; `source` names it in errors ("assets/sweeps/quick.toml").
    pub fn parse(text: &str, source: &str) -> Result<Self, ConfigError> {
        let document =
            toml::de::Deserializer::parse(text).map_err(|e| toml_error(&e, text, source))?;
        serde_path_to_error::deserialize(document).map_err(|e| {
            // The path names the setting ("train.epochs"); toml's span gives its line.
            let path = e.path().to_string();
            let e = e.into_inner();
            let setting = if path == "." {
                String::new()
            } else {
                format!("{path}: ")
            };
            ConfigError(format!(
                "{}{setting}{}",
                located(&e, text, source),
                e.message().trim()
            ))
        })
    }

    /// Expand the grid into runs, in a fixed order: seed, model, corruption, batch norm,
    /// then the training axes in the order of `TrainSection`'s fields, the last fastest.
    /// Every config is validated; combinations that make the same config (the batch-norm
    /// axis on a model without batch norm) appear once.
    pub fn expand(&self, source: &str) -> Result<Vec<PlannedRun>, ConfigError> {
        let s = &self.sweep;
        for (name, empty) in [
            ("models", s.models.is_empty()),
            ("corruptions", s.corruptions.is_empty()),
            ("seeds", s.seeds.is_empty()),
        ] {
            if empty {
                return Err(ConfigError(format!(
                    "{source}: sweep.{name}: the list is empty"
                )));
            }
        }
        let axes = self.train.axes(source)?;
        // Without the axis each model runs as named.
        let switch =
            |axis: &Option<Axis<bool>>, name: &str| -> Result<Vec<Option<bool>>, ConfigError> {
                let values: Vec<Option<bool>> = match axis {
                    None => vec![None],
                    Some(axis) => axis.values().into_iter().map(Some).collect(),
                };
                if values.is_empty() {
                    return Err(ConfigError(format!(
                        "{source}: train.{name}: the list is empty"
                    )));
                }
                Ok(values)
            };
        let batch_norm = switch(&self.train.batch_norm, "batch_norm")?;
        let dropout = switch(&self.train.dropout, "dropout")?;
        let variants: Vec<(Option<bool>, Option<bool>)> = batch_norm
            .iter()
            .flat_map(|&bn| dropout.iter().map(move |&d| (bn, d)))
            .collect();
        let mut runs: Vec<PlannedRun> = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for &seed in &s.seeds {
            for model_name in &s.models {
                let model: ModelKind = model_name
                    .parse()
                    .map_err(|e: String| ConfigError(format!("{source}: sweep.models: {e}")))?;
                for corrupt in &s.corruptions {
                    for &(bn, dropout) in &variants {
                        let model = with_dropout(with_batch_norm(model, bn), dropout);
                        let base = TrainConfig {
                            model: model.name().into(),
                            dataset: s.dataset.clone(),
                            corrupt: corrupt.clone(),
                            subset: s.subset,
                            test_subset: s.test_subset,
                            stream: s.stream,
                            seed,
                            data_seed: seed,
                            // The paper's rate for the model, and the model's filter
                            // initialization, unless train.lr or train.conv_init sets one.
                            lr: model.paper_learning_rate(),
                            conv_init: model.default_conv_init().name().into(),
                            crop: TrainConfig::default_crop(&s.dataset),
                            ..TrainConfig::default()
                        };
                        for config in grid(&base, &axes) {
                            config
                                .validate()
                                .map_err(|e| ConfigError(format!("{source}: {}", e.0)))?;
                            let id = run_id(&config);
                            if ids.insert(id.clone()) {
                                runs.push(PlannedRun { id, config });
                            }
                        }
                    }
                }
            }
        }
        Ok(runs)
    }
}

/// One training axis: the ways it can set a config.
type Setting = Box<dyn Fn(&mut TrainConfig)>;

impl TrainSection {
    /// The training axes present in the file, each as its list of settings.
    fn axes(&self, source: &str) -> Result<Vec<Vec<Setting>>, ConfigError> {
        let mut axes: Vec<Vec<Setting>> = Vec::new();
        let mut add = |name: &str, settings: Vec<Setting>| {
            if settings.is_empty() {
                return Err(ConfigError(format!(
                    "{source}: train.{name}: the list is empty"
                )));
            }
            axes.push(settings);
            Ok(())
        };
        fn each<T: Clone + 'static>(
            axis: &Option<Axis<T>>,
            set: fn(&mut TrainConfig, T),
        ) -> Option<Vec<Setting>> {
            axis.as_ref().map(|a| {
                a.values()
                    .into_iter()
                    .map(|v| Box::new(move |c: &mut TrainConfig| set(c, v.clone())) as Setting)
                    .collect()
            })
        }
        let decay_every = match &self.lr_decay_every {
            None => None,
            Some(a) => Some(
                a.values()
                    .into_iter()
                    .map(|d| match d {
                        DecayEvery::Images(n) => Ok(Some(n)),
                        DecayEvery::Named(s) if s == "epoch" => Ok(None),
                        DecayEvery::Named(s) => Err(ConfigError(format!(
                            "{source}: train.lr_decay_every '{s}': expected a number of images or \"epoch\""
                        ))),
                    })
                    .collect::<Result<Vec<Option<u64>>, _>>()?,
            ),
        };
        let decay_every = decay_every.map(Axis::Many);
        let present = [
            ("epochs", each(&self.epochs, |c, v| c.epochs = v)),
            ("lr", each(&self.lr, |c, v| c.lr = v)),
            ("momentum", each(&self.momentum, |c, v| c.momentum = v)),
            ("lr_decay", each(&self.lr_decay, |c, v| c.lr_decay = v)),
            (
                "lr_decay_every",
                each(&decay_every, |c, v| c.lr_decay_images = v),
            ),
            (
                "lr_smooth",
                each(&self.lr_smooth, |c, v| c.lr_staircase = !v),
            ),
            (
                "batch_size",
                each(&self.batch_size, |c, v| c.batch_size = v),
            ),
            (
                "weight_decay",
                each(&self.weight_decay, |c, v| c.weight_decay = v),
            ),
            (
                "random_crop",
                each(&self.random_crop, |c, v| c.random_crop = v),
            ),
            (
                "random_flip",
                each(&self.random_flip, |c, v| c.random_flip = v),
            ),
            (
                "augment",
                each(&self.augment, |c, v| {
                    c.random_crop = v;
                    c.random_flip = v;
                }),
            ),
            (
                "image_size",
                each(&self.image_size, |c, v| {
                    c.image_size = Some(v);
                    c.crop = v;
                }),
            ),
            ("crop", each(&self.crop, |c, v| c.crop = v)),
            ("conv_init", each(&self.conv_init, |c, v| c.conv_init = v)),
            (
                "fit_threshold",
                each(&self.fit_threshold, |c, v| c.fit_threshold = v),
            ),
            (
                "eval_every",
                each(&self.eval_every, |c, v| c.eval_every = v),
            ),
        ];
        for (name, settings) in present {
            if let Some(settings) = settings {
                add(name, settings)?;
            }
        }
        Ok(axes)
    }
}

/// "file (line N)" for an error whose span toml knows, else "file".
fn located(e: &toml::de::Error, text: &str, source: &str) -> String {
    match e.span() {
        Some(span) => {
            let line = text[..span.start].matches('\n').count() + 1;
            format!("{source} (line {line}): ")
        }
        None => format!("{source}: "),
    }
}

/// A syntax error: toml's message spans lines (a caret under the key); keep the first
/// line and the key's position.
fn toml_error(e: &toml::de::Error, text: &str, source: &str) -> ConfigError {
    ConfigError(format!(
        "{}{}",
        located(e, text, source),
        e.message().trim()
    ))
}

/// Every combination of one setting per axis applied to `base`, the last axis fastest.
fn grid(base: &TrainConfig, axes: &[Vec<Setting>]) -> Vec<TrainConfig> {
    let mut configs = vec![base.clone()];
    for axis in axes {
        configs = configs
            .iter()
            .flat_map(|c| {
                axis.iter().map(move |set| {
                    let mut c = c.clone();
                    set(&mut c);
                    c
                })
            })
            .collect();
    }
    configs
}

/// The Inception with or without batch norm as `on` asks (None: as named); models
/// without batch norm are unchanged.
fn with_batch_norm(model: ModelKind, on: Option<bool>) -> ModelKind {
    match (model, on) {
        (ModelKind::Inception, Some(false)) => ModelKind::InceptionNoBn,
        (ModelKind::InceptionNoBn, Some(true)) => ModelKind::Inception,
        (m, _) => m,
    }
}

/// Inception V3 with or without dropout as `on` asks (None: as named); other models are
/// unchanged.
fn with_dropout(model: ModelKind, on: Option<bool>) -> ModelKind {
    match (model, on) {
        (ModelKind::InceptionV3, Some(false)) => ModelKind::InceptionV3NoDropout,
        (ModelKind::InceptionV3NoDropout, Some(true)) => ModelKind::InceptionV3,
        (m, _) => m,
    }
}
