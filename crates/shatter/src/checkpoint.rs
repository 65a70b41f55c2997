//! Checkpoints: a run's whole state, saved so that an interrupted run (a Ctrl-C, a laptop
//! going to sleep, a Slurm preemption) continues where it stopped and finishes with the
//! record an uninterrupted run would have written.
//!
//! One file, written through a temporary file and a rename, so a kill during a save leaves
//! the previous checkpoint whole:
//!
//! ```text
//! "shatter checkpoint\n"            magic
//! header length                     u64, little-endian
//! header                            JSON: format, config, where the run stands, the parts
//! payload                           each part's values in the header's order, little-endian
//! SHA-256 of everything before it   32 bytes: a truncated or damaged file is refused
//! ```
//!
//! The parts are the network's lasting state on the GPU (parameters, velocities, batch
//! norm's running averages; see `Network::state`), the training pass's per-step metrics of
//! the epoch under way, and the epoch order. Everything else a run needs is rebuilt from
//! its config: the data and its randomization, the network's buffers and kernels.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::TrainConfig;
use crate::record::{CheckpointStats, EpochRecord, FitEpochs, ResumePoint};

const MAGIC: &[u8] = b"shatter checkpoint\n";
/// Bumped whenever the header or the payload changes meaning.
const FORMAT: u32 = 1;
/// Bytes of the trailing SHA-256.
const DIGEST_BYTES: usize = 32;
/// The file's name in a run's checkpoint folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.bin";

/// Where a run stands, as the host keeps it: everything of a run record so far, and what
/// the next step needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunProgress {
    /// Epochs finished.
    pub epochs_done: usize,
    /// Steps of the next epoch already trained (0 at an epoch's end).
    pub steps_done: usize,
    /// Training images seen when the next epoch started (or starts).
    pub images_seen_at_epoch_start: u64,
    /// Word position of the epoch-order random stream (a u128, as decimal: JSON numbers
    /// stop at 2^53 in many readers).
    pub order_stream_position: String,
    pub epochs: Vec<EpochRecord>,
    pub step_losses: Vec<f64>,
    pub fit: FitEpochs,
    /// Seconds spent in training steps, and in the whole run, before this save.
    pub training_seconds: f64,
    pub wall_seconds: f64,
    /// The last evaluated epoch's full training accuracy minus its running accuracy,
    /// which decides when evaluation is due (see `crate::evaluation`).
    pub accuracy_gap: Option<f64>,
    /// Every earlier resume of this run.
    pub resumed: Vec<ResumePoint>,
    /// The saves before this one, and this one.
    pub checkpoints: CheckpointStats,
}

impl RunProgress {
    /// A run that has not trained yet.
    pub fn start() -> Self {
        Self {
            epochs_done: 0,
            steps_done: 0,
            images_seen_at_epoch_start: 0,
            order_stream_position: "0".into(),
            epochs: Vec::new(),
            step_losses: Vec::new(),
            fit: FitEpochs::default(),
            training_seconds: 0.0,
            wall_seconds: 0.0,
            accuracy_gap: None,
            resumed: Vec::new(),
            checkpoints: CheckpointStats::default(),
        }
    }
}

/// One part of the payload: its name and number of 4-byte values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartEntry {
    pub name: String,
    pub len: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Header {
    format: u32,
    config: TrainConfig,
    adapter: String,
    git_commit: String,
    progress: RunProgress,
    parts: Vec<PartEntry>,
}

/// A checkpoint read back: where the run stood and its parts' values.
pub struct Checkpoint {
    pub progress: RunProgress,
    /// The adapter that wrote it.
    pub adapter: String,
    /// Each part's values as 4-byte words, in the order the run lists its parts.
    pub parts: Vec<Vec<u32>>,
}

/// What a checkpoint must match to be used, and why one is refused.
pub struct Expected<'a> {
    pub config: &'a TrainConfig,
    pub parts: &'a [PartEntry],
}

/// The bytes of a checkpoint file.
pub fn encode(
    config: &TrainConfig,
    adapter: &str,
    git_commit: &str,
    progress: &RunProgress,
    parts: &[(PartEntry, &[u32])],
) -> Vec<u8> {
    let header = Header {
        format: FORMAT,
        config: config.clone(),
        adapter: adapter.to_owned(),
        git_commit: git_commit.to_owned(),
        progress: progress.clone(),
        parts: parts.iter().map(|(entry, _)| entry.clone()).collect(),
    };
    let header = serde_json::to_vec(&header).expect("a checkpoint header serializes");
    let payload: usize = parts.iter().map(|(_, values)| values.len() * 4).sum();
    let mut bytes = Vec::with_capacity(MAGIC.len() + 8 + header.len() + payload + DIGEST_BYTES);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    for (entry, values) in parts {
        assert_eq!(entry.len, values.len(), "part '{}'", entry.name);
        for value in *values {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
    }
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    bytes
}

/// Read `bytes` as a checkpoint of the run `expected` describes. The error says, in a
/// few words, why it cannot be used.
pub fn decode(bytes: &[u8], expected: &Expected<'_>) -> Result<Checkpoint, String> {
    let Some(body_len) = bytes.len().checked_sub(DIGEST_BYTES) else {
        return Err("truncated (shorter than its checksum)".into());
    };
    if !bytes.starts_with(MAGIC) {
        return Err("not a shatter checkpoint".into());
    }
    let (body, digest) = bytes.split_at(body_len);
    if Sha256::digest(body).as_slice() != digest {
        return Err("truncated or damaged (its checksum does not match)".into());
    }
    let rest = &body[MAGIC.len()..];
    let header_len = rest
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .ok_or("truncated header")?;
    let header_bytes = rest.get(8..8 + header_len).ok_or("truncated header")?;
    let header: Header =
        serde_json::from_slice(header_bytes).map_err(|e| format!("unreadable header ({e})"))?;
    if header.format != FORMAT {
        return Err(format!(
            "written in format {} by another version of shatter (this one reads {FORMAT})",
            header.format
        ));
    }
    if &header.config != expected.config {
        return Err("from other settings (its config differs from this run's)".into());
    }
    if header.parts != expected.parts {
        return Err(
            "from another network (its parameters differ from this run's in name or size)".into(),
        );
    }
    let payload = &rest[8 + header_len..];
    let words: usize = header.parts.iter().map(|p| p.len).sum();
    if payload.len() != words * 4 {
        return Err(format!(
            "its payload holds {} bytes where its header lists {}",
            payload.len(),
            words * 4
        ));
    }
    let mut parts = Vec::with_capacity(header.parts.len());
    let mut at = 0;
    for part in &header.parts {
        let values = payload[at..at + part.len * 4]
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        parts.push(values);
        at += part.len * 4;
    }
    Ok(Checkpoint {
        progress: header.progress,
        adapter: header.adapter,
        parts,
    })
}

/// Where a run's checkpoint lives and how often it is saved.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointPlan {
    /// The checkpoint file.
    pub path: PathBuf,
    /// Seconds between saves: a save comes at the end of the first epoch (or, for long
    /// epochs, the first group of steps) after this much time since the last one.
    pub every_seconds: f64,
}

impl CheckpointPlan {
    /// A sweep's run: `<out>/checkpoints/<run-id>/checkpoint.bin`.
    pub fn for_sweep_run(out: &Path, run_id: &str, every_seconds: f64) -> Self {
        Self {
            path: out.join("checkpoints").join(run_id).join(CHECKPOINT_FILE),
            every_seconds,
        }
    }

    /// Remove the checkpoint once its run has finished, and its folder if that leaves it
    /// empty (a sweep's per-run folder). Nothing else is touched. The folder may not go:
    /// another process training the same run (a task rerun while its first sitting still
    /// runs) may be writing in it, and whichever finishes last removes it.
    ///
    /// The temporary files of writes cut short (a process killed while saving) go too: they
    /// are the checkpoint's, `<file>.<pid>.<n>.tmp`, and of no use once the run is done. A
    /// process still training the run elsewhere then only misses that save.
    pub fn remove(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let Some(dir) = self.path.parent() else {
            return Ok(());
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        if let (Some(name), Ok(entries)) = (name, std::fs::read_dir(dir)) {
            for entry in entries.flatten() {
                let file = entry.file_name().to_string_lossy().into_owned();
                if file.starts_with(&format!("{name}.")) && crate::atomic_file::is_temporary(&file)
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        if dir.parent().and_then(Path::file_name) == Some("checkpoints".as_ref()) {
            let _ = std::fs::remove_dir(dir);
        }
        Ok(())
    }
}
