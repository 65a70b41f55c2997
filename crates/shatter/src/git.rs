//! Which shatter commit produced a result: run records and checkpoints name it, and so does
//! `cargo xtask gpu-bench`'s report.

use std::process::Command;

/// The working directory's git commit (12 hex digits), or "unknown" outside a checkout.
pub fn commit() -> String {
    git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into())
}

/// [`commit`], with `-modified` where tracked files differ from it: a measurement names
/// the code it measured, not only the commit it started from.
pub fn commit_marking_changes() -> String {
    let changed = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|status| !status.is_empty());
    let commit = commit();
    if changed {
        format!("{commit}-modified")
    } else {
        commit
    }
}

/// Git's trimmed output, where it ran and succeeded.
fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}
