use std::path::PathBuf;

use thiserror::Error;

/// A data problem, one line naming the file (or value) and the fault.
#[derive(Debug, Error)]
pub enum DataError {
    /// A file that cannot be read or written.
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// A file whose contents are not what its format says.
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// A bad name or value (unknown dataset, bad corruption).
    #[error("{message}")]
    Config { message: String },
    /// A dataset that is not on this machine: where it was looked for and how to get it.
    #[error("{message}")]
    Missing { message: String },
}

impl DataError {
    pub(crate) fn format(path: &std::path::Path, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, what: &str, error: &std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            message: format!("cannot {what}: {error}"),
        }
    }
}
