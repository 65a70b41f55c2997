//! Sweeps: a grid of runs from a TOML file (or a bundled preset), expanded into runs with
//! stable ids, split into shards, filtered, and run into one results folder.

mod axis;
mod results;
mod run_id;
mod runner;
mod shard;
mod spec;

pub use axis::{Axis, DecayEvery, SettingValue};
pub use results::{Results, read_results, record_path};
pub use run_id::run_id;
pub use runner::{RunFailure, SweepEvent, SweepOptions, run_sweep};
pub use shard::Shard;
pub use spec::{PlannedRun, SweepSpec};

use std::path::Path;

use crate::config::ConfigError;

/// The presets bundled in the binary (assets/sweeps/), by name.
pub const PRESETS: [(&str, &str); 7] = [
    (
        "quick",
        include_str!("../../../../assets/sweeps/quick.toml"),
    ),
    (
        "figure1-mini",
        include_str!("../../../../assets/sweeps/figure1-mini.toml"),
    ),
    (
        "figure1-fmnist",
        include_str!("../../../../assets/sweeps/figure1-fmnist.toml"),
    ),
    (
        "figure1",
        include_str!("../../../../assets/sweeps/figure1.toml"),
    ),
    (
        "table1",
        include_str!("../../../../assets/sweeps/table1.toml"),
    ),
    (
        "imagenet-mini",
        include_str!("../../../../assets/sweeps/imagenet-mini.toml"),
    ),
    (
        "imagenet",
        include_str!("../../../../assets/sweeps/imagenet.toml"),
    ),
];

/// A sweep file, read and expanded.
pub struct Sweep {
    pub name: String,
    /// The file's text, kept beside the results.
    pub text: String,
    /// Where it came from, for messages ("preset quick", "mine.toml").
    pub source: String,
    pub runs: Vec<PlannedRun>,
}

impl Sweep {
    pub fn parse(text: &str, source: &str) -> Result<Self, ConfigError> {
        let spec = SweepSpec::parse(text, source)?;
        let runs = spec.expand(source)?;
        Ok(Self {
            name: spec.sweep.name,
            text: text.to_owned(),
            source: source.to_owned(),
            runs,
        })
    }

    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        match PRESETS.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Self::parse(text, &format!("preset {n}")),
            None => Err(ConfigError(format!(
                "unknown preset '{name}': expected one of {}",
                PRESETS.map(|(n, _)| n).join(", ")
            ))),
        }
    }

    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: cannot read ({e})", path.display())))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Keep the runs whose config has `key` equal to one of `values` (a TrainConfig field:
    /// model, corrupt, seed, weight_decay, ...); numbers compare as numbers, so `lr=0.010`
    /// matches 0.01.
    pub fn keep_only(&mut self, key: &str, values: &[&str]) -> Result<(), ConfigError> {
        let fields = serde_json::to_value(crate::TrainConfig::default()).expect("serializes");
        let fields = fields.as_object().expect("a struct");
        if !fields.contains_key(key) {
            let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
            names.sort_unstable();
            return Err(ConfigError(format!(
                "--only '{key}={}': unknown setting '{key}'; expected one of {}",
                values.join(","),
                names.join(", ")
            )));
        }
        self.runs.retain(|run| {
            let config = serde_json::to_value(&run.config).expect("serializes");
            values
                .iter()
                .any(|value| matches_value(&config[key], value))
        });
        Ok(())
    }
}

fn matches_value(field: &serde_json::Value, wanted: &str) -> bool {
    match field {
        serde_json::Value::String(s) => s == wanted,
        serde_json::Value::Number(n) => {
            matches!((n.as_f64(), wanted.parse::<f64>()), (Some(a), Ok(b)) if a == b)
        }
        serde_json::Value::Null => wanted == "none" || wanted.is_empty(),
        serde_json::Value::Bool(b) => b.to_string() == wanted,
        _ => false,
    }
}
