//! `cargo xtask gpu-bench --bundle DIR`: what a GPU machine without Rust needs to run the
//! benchmark, built here. A rented or shared GPU machine often has PyTorch and a driver
//! but no Rust toolchain, and its time is what is scarce: build on the machine at hand,
//! copy one folder, run one script.
//!
//!   DIR/xtask.gz          this executable
//!   DIR/tests/NAME.gz     the kernel tests of gpu_bench::KERNEL_TESTS, built in release
//!   DIR/reference/torch_step.py
//!   DIR/run.sh            unpacks them, then ./xtask gpu-bench --tests tests --commit C "$@"
//!
//! The executables are gzipped: about 80 MB as built (each test links wgpu and naga), about
//! 31 MB packed, which fits a transfer to a leased machine limited to 64 MiB.
//!
//! The executables are built for this machine's platform: the GPU machine must run the
//! same operating system and processor architecture, with a glibc no older.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::gpu_bench::KERNEL_TESTS;

pub fn write(dir: &Path) -> Result<()> {
    let tests_dir = dir.join("tests");
    std::fs::create_dir_all(&tests_dir)
        .with_context(|| format!("creating {}", tests_dir.display()))?;
    std::fs::create_dir_all(dir.join("reference"))?;
    let root = xtask::wasm_tools::workspace_root();
    for (name, exe) in build_tests(&root)? {
        pack(&exe, &tests_dir.join(format!("{name}.gz")))?;
    }
    let xtask = std::env::current_exe().context("finding the xtask executable")?;
    pack(&xtask, &dir.join("xtask.gz"))?;
    copy(
        &root.join("reference/torch_step.py"),
        &dir.join("reference/torch_step.py"),
    )?;
    let script = format!(
        "#!/bin/sh\n\
         # Written by `cargo xtask gpu-bench --bundle`: the GPU benchmark on a machine without Rust.\n\
         set -e\n\
         cd \"$(dirname \"$0\")\"\n\
         for packed in xtask.gz tests/*.gz; do\n\
         \x20 gzip -dc \"$packed\" > \"${{packed%.gz}}\"\n\
         \x20 chmod +x \"${{packed%.gz}}\"\n\
         done\n\
         exec ./xtask gpu-bench --tests tests --commit {} \"$@\"\n",
        shatter::git::commit_marking_changes()
    );
    let run = dir.join("run.sh");
    std::fs::write(&run, script).with_context(|| format!("writing {}", run.display()))?;
    make_executable(&run)?;
    eprintln!(
        "gpu-bench: bundle written to {}; run {}",
        dir.display(),
        run.display()
    );
    Ok(())
}

/// Build the kernel tests in release; each test's name and executable.
fn build_tests(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut command = Command::new("cargo");
    command.current_dir(root).args([
        "test",
        "--release",
        "--no-run",
        "--message-format=json",
        "-p",
        "shatter-tests",
    ]);
    for t in KERNEL_TESTS {
        command.args(["--test", t]);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("running cargo test --no-run")?;
    let mut found = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().expect("piped")).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line?) else {
            continue;
        };
        let name = message["target"]["name"].as_str().unwrap_or_default();
        if let Some(exe) = message["executable"].as_str()
            && KERNEL_TESTS.contains(&name)
        {
            found.push((name.to_owned(), PathBuf::from(exe)));
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("cargo test --no-run exited with {status}");
    }
    if found.len() != KERNEL_TESTS.len() {
        bail!(
            "cargo built {} of the {} kernel tests",
            found.len(),
            KERNEL_TESTS.len()
        );
    }
    Ok(found)
}

/// `from` gzipped into `to`.
fn pack(from: &Path, to: &Path) -> Result<()> {
    let context = || format!("packing {} into {}", from.display(), to.display());
    let mut input = std::fs::File::open(from).with_context(context)?;
    let output = std::fs::File::create(to).with_context(context)?;
    let mut encoder = flate2::write::GzEncoder::new(output, flate2::Compression::default());
    std::io::copy(&mut input, &mut encoder).with_context(context)?;
    encoder.finish().with_context(context)?;
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}
