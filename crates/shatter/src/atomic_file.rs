//! Writing a file so that a crash or a kill never leaves it half-written: the bytes go to a
//! temporary file beside it, are synced, and the temporary file is renamed over `path`.
//!
//! The temporary name is this writer's own (`<path>.<pid>.<n>.tmp`): several processes,
//! on one machine or on a cluster's shared folder, may write the same file at once (a
//! sweep task rerun while its first run still goes, two tasks saving the autotune cache),
//! and each rename then puts one whole file in place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

/// Writes made by this process so far, to tell its temporary files apart.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Write `bytes` to `path` through a temporary file and a rename, creating the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create directory", dir.display()))?;
    }
    let tmp = temporary_path(path);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)
            .with_context(|| format!("{}: cannot create", tmp.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("{}: cannot rename into place", path.display()))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `<path>.<pid>.<n>.tmp`: a name no other writer of `path` uses at the same time.
fn temporary_path(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    PathBuf::from(tmp)
}

/// Whether `name` is a temporary file of [`write_atomic`] (a write under way elsewhere, or
/// one cut short by a kill): readers of a folder pass over it.
pub fn is_temporary(name: &str) -> bool {
    name.ends_with(".tmp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_write_has_its_own_temporary_name() {
        let path = Path::new("runs/0123.json");
        let (a, b) = (temporary_path(path), temporary_path(path));
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(&format!("0123.json.{}.", std::process::id())),
            "{name}"
        );
        assert!(is_temporary(&name));
        assert!(!is_temporary("0123.json"));
    }
}
