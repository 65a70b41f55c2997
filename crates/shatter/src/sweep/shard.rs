//! `--shard I/N`: a deterministic 1/N of a sweep's runs, so N machines can fill one results
//! folder without talking to each other. Run k (in expansion order, from 0) belongs to
//! shard (k mod N) + 1; the shards partition the runs exactly and each gets a mix of models.

use std::str::FromStr;

use crate::config::ConfigError;
use crate::sweep::spec::PlannedRun;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based, as a Slurm array index would give it.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// This shard's runs, in their order.
    pub fn select(&self, runs: &[PlannedRun]) -> Vec<PlannedRun> {
        runs.iter()
            .enumerate()
            .filter(|(k, _)| k % self.count == self.index - 1)
            .map(|(_, r)| r.clone())
            .collect()
    }
}

impl FromStr for Shard {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let bad = || {
            ConfigError(format!(
                "--shard '{s}': expected I/N with 1 <= I <= N, e.g. 2/4"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}
