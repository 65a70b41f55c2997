//! Run ids: a run's name in a results folder is a hash of its whole config, so the same
//! run always has the same id (a rerun finds it finished), and two different runs never
//! share one, whatever machine or shard expanded them.

use sha2::{Digest, Sha256};

use crate::config::TrainConfig;

/// Hex digits kept of the SHA-256: 64 bits, ample for any sweep's thousands of runs.
const ID_HEX_DIGITS: usize = 16;

/// The id of the run `config` describes: the first 16 hex digits of the SHA-256 of its
/// JSON form (field order fixed by the struct; floats printed shortest round-trip).
pub fn run_id(config: &TrainConfig) -> String {
    let json = serde_json::to_vec(config).expect("a TrainConfig always serializes");
    let digest = Sha256::digest(&json);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..ID_HEX_DIGITS].to_owned()
}
