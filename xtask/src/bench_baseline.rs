//! `bench --baseline FILE`: compare with an earlier `bench --json` output (another commit,
//! another adapter), workload by workload.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use crate::BadInput;

/// images/s of each training workload in an earlier `bench --json` output.
pub struct Baseline {
    images_per_second: BTreeMap<String, f64>,
    pub source: String,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BadInput(format!("--baseline {}: cannot read ({e})", path.display())))?;
        let mut images_per_second = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                BadInput(format!(
                    "--baseline {} line {}: not a `bench --json` line ({e})",
                    path.display(),
                    number + 1
                ))
            })?;
            if let (Some(workload), Some(rate)) = (
                value["workload"].as_str(),
                value["images_per_second"].as_f64(),
            ) {
                images_per_second.insert(workload.to_owned(), rate);
            }
        }
        if images_per_second.is_empty() {
            return Err(BadInput(format!(
                "--baseline {}: no training workloads (expected the output of `cargo xtask bench --json`)",
                path.display()
            ))
            .into());
        }
        Ok(Self {
            images_per_second,
            source: path.display().to_string(),
        })
    }

    /// The baseline's images/s for `workload`, if it measured it.
    pub fn images_per_second(&self, workload: &str) -> Option<f64> {
        self.images_per_second.get(workload).copied()
    }
}
