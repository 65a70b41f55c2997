//! A results folder: `<out>/runs/<run-id>.json`, one finished run per file, written
//! atomically. Reading it back never fails on one bad file: a file that is not a run
//! record, or whose config does not hash to its name, is reported and skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::record::RunRecord;
use crate::sweep::run_id::run_id;

/// Where the run `id` of a sweep writing to `out` lands.
pub fn record_path(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(format!("{id}.json"))
}

/// What a results folder holds.
#[derive(Debug, Default)]
pub struct Results {
    /// Finished runs by id.
    pub runs: BTreeMap<String, RunRecord>,
    /// One line per file that was skipped, naming it and why.
    pub skipped: Vec<String>,
}

/// Read every finished run in `<out>/runs`. A missing folder is an empty result.
pub fn read_results(out: &Path) -> Result<Results> {
    let dir = out.join("runs");
    let mut results = Results::default();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(results),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot list", dir.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("{}: cannot list", dir.display()))?;
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let shown = format!("runs/{name}");
        // A run being written (or cut short by a kill) leaves only its temporary file.
        if crate::atomic_file::is_temporary(&name) {
            continue;
        }
        let Some(id) = name.strip_suffix(".json") else {
            results.skipped.push(format!(
                "{shown}: not a run record (not a .json file); skipped"
            ));
            continue;
        };
        let record = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<RunRecord>(&text).map_err(|e| e.to_string()));
        match record {
            Err(e) => results
                .skipped
                .push(format!("{shown}: not a run record ({e}); skipped")),
            Ok(record) => {
                let hashed = run_id(&record.config);
                if hashed == id {
                    results.runs.insert(id.to_owned(), record);
                } else {
                    results.skipped.push(format!(
                        "{shown}: its config hashes to {hashed}, not to its name; skipped"
                    ));
                }
            }
        }
    }
    Ok(results)
}
