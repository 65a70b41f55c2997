//! Building the page's WebAssembly: the wasm32 target, the release build of crates/web,
//! and wasm-bindgen, whose command-line tool must be exactly the version of the
//! wasm-bindgen crate in Cargo.lock (the generated JavaScript and the .wasm speak a
//! private protocol of that version).
//!
//! The tool is looked for first in shatter's tool cache,
//! `~/.cache/shatter/tools/wasm-bindgen-cli-<version>/bin` (`$XDG_CACHE_HOME` where set),
//! then on PATH; where neither has that version it is installed into the cache with
//! `cargo install` once (minutes: it compiles from source).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The WebAssembly target the page is built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The workspace root (xtask sits in it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_owned()
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The wasm-bindgen crate's version in `root`'s Cargo.lock.
pub fn wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .with_context(|| format!("reading {}", root.join("Cargo.lock").display()))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            let version = lines.next().unwrap_or_default();
            if let Some(v) = version
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
            {
                return Ok(v.to_owned());
            }
        }
    }
    bail!("Cargo.lock names no wasm-bindgen version")
}

/// Where the tool of `version` is cached.
pub fn cached_tool_dir(version: &str) -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| workspace_root().join("target"));
    cache
        .join("shatter")
        .join("tools")
        .join(format!("wasm-bindgen-cli-{version}"))
}

/// Whether `program --version` says `wasm-bindgen <version>`.
fn is_version(program: &Path, version: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|out| {
            String::from_utf8_lossy(&out.stdout).trim() == format!("wasm-bindgen {version}")
        })
}

/// The directory holding `wasm-bindgen` and `wasm-bindgen-test-runner` of the locked
/// version, installing them into the cache where missing.
pub fn wasm_bindgen_tools(root: &Path) -> Result<PathBuf> {
    let version = wasm_bindgen_version(root)?;
    let cached = cached_tool_dir(&version).join("bin");
    if is_version(&cached.join("wasm-bindgen"), &version) {
        return Ok(cached);
    }
    if let Ok(found) = which("wasm-bindgen")
        && is_version(&found, &version)
        && let Some(dir) = found.parent()
    {
        return Ok(dir.to_owned());
    }
    eprintln!(
        "installing wasm-bindgen-cli {version} into {} (once; a few minutes)",
        cached.parent().expect("a bin folder").display()
    );
    let status = cargo()
        .args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &version,
            "--root",
        ])
        .arg(cached.parent().expect("a bin folder"))
        .status()
        .context("running cargo install wasm-bindgen-cli")?;
    if !status.success() || !is_version(&cached.join("wasm-bindgen"), &version) {
        bail!("cargo install wasm-bindgen-cli --version {version} failed ({status})");
    }
    Ok(cached)
}

fn which(program: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").context("no PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{program} is not on PATH"))
}

/// Add the wasm32 target through rustup where it is missing (a toolchain without rustup
/// must have it already).
pub fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains(WASM_TARGET) => Ok(()),
        Ok(_) => {
            eprintln!("adding the {WASM_TARGET} target (rustup target add {WASM_TARGET})");
            let status = Command::new("rustup")
                .args(["target", "add", WASM_TARGET])
                .status()
                .context("running rustup")?;
            if !status.success() {
                bail!("rustup target add {WASM_TARGET} failed ({status})");
            }
            Ok(())
        }
        // No rustup: the build below says whether the toolchain has the target.
        Err(_) => Ok(()),
    }
}

/// Build crates/web for the browser and write its JavaScript bindings and .wasm into
/// `<root>/web/pkg`.
pub fn build_page(root: &Path) -> Result<()> {
    ensure_wasm_target()?;
    let tools = wasm_bindgen_tools(root)?;
    eprintln!("building crates/web for {WASM_TARGET} (release)");
    let status = cargo()
        .current_dir(root)
        .args([
            "build",
            "--release",
            "-p",
            "shatter-web",
            "--target",
            WASM_TARGET,
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build -p shatter-web --target {WASM_TARGET} failed ({status})");
    }
    let wasm = root
        .join("target")
        .join(WASM_TARGET)
        .join("release")
        .join("shatter_web.wasm");
    let out = root.join("web").join("pkg");
    let status = Command::new(tools.join("wasm-bindgen"))
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&out)
        .arg(&wasm)
        .status()
        .context("running wasm-bindgen")?;
    if !status.success() {
        bail!("wasm-bindgen {} failed ({status})", wasm.display());
    }
    Ok(())
}
