//! The one error type of shatter-data. Callers branch on the kind (a missing dataset is
//! not a corrupt one); every message is one line that names the file or value at fault.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// A data problem, one line naming the file (or value) and the fault.
#[derive(Debug, Error)]
pub enum DataError {
    /// A file that cannot be read or written (missing, no permission, disk full).
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// A file whose contents are not what its format says: wrong magic, truncated,
    /// trailing bytes, bad gzip, images and labels that disagree, a label out of range.
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// A bad name or value given by the user (unknown dataset, bad corruption, bad subset size).
    #[error("{message}")]
    Config { message: String },
    /// A dataset that is not on this machine: where it was looked for and how to get it.
    #[error("{message}")]
    Missing { message: String },
}

impl DataError {
    pub(crate) fn format(path: &Path, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: &Path, what: &str, error: &std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            message: format!("cannot {what}: {error}"),
        }
    }
}
