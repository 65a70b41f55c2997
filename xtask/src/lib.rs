//! The parts of shatter's command line that tests drive directly: dataset download, the
//! generated GEMM shader, and the error type that marks bad input (exit code 2).
//!
//! How the crates fit together, a training step's data flow and where each kernel lives:
//! docs/architecture.md in the repository.

pub mod download;
pub mod fetch;
pub mod gen_gemm;
pub mod gen_gemm_subgroup;
pub mod wasm_tools;

/// A failure caused by what the user gave (arguments, configuration, data files): the
/// command line maps it to exit code 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}
