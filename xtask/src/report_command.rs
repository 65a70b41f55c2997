//! `cargo xtask report <out>`: rebuild the figures, Table 1 and report.md of a results folder.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::BadInput;

#[derive(Args)]
pub struct ReportArgs {
    /// A results folder written by `cargo xtask sweep` (it holds runs/).
    pub out: PathBuf,
}

pub fn run(args: ReportArgs) -> Result<()> {
    if !args.out.join("runs").is_dir() {
        return Err(BadInput(format!(
            "{}: no runs/ folder here; expected a results folder written by `cargo xtask sweep`",
            args.out.display()
        ))
        .into());
    }
    crate::sweep::print_report(&args.out)
}
