//! A command that succeeds prints no line starting with "error:", also on a machine
//! without a desktop session (no XDG_RUNTIME_DIR: servers, containers, SSH and Slurm
//! sessions, CI), where Mesa's Vulkan device-select layer used to print libwayland's
//! complaint at every adapter enumeration.

use std::process::Command;

/// Run `xtask args` as a headless session has it; require success; return stdout + stderr.
fn run_headless(args: &[&str], cache: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .env_remove("NODEVICE_SELECT")
        .env_remove("MESA_VK_DEVICE_SELECT")
        .env_remove("DRI_PRIME")
        .env("SHATTER_CACHE_DIR", cache)
        .output()
        .expect("xtask runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{args:?} failed:\n{text}");
    text
}

fn assert_no_error_lines(args: &[&str], text: &str) {
    let errors: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert!(
        errors.is_empty(),
        "{args:?} succeeded but printed {errors:?}"
    );
}

#[test]
fn a_successful_run_without_xdg_runtime_dir_prints_no_error_line() {
    if shatter_tests::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cache = dir.path().join("cache");
    let adapters = ["adapters"];
    let text = run_headless(&adapters, &cache);
    assert!(text.contains("chosen: "), "{text}");
    assert_no_error_lines(&adapters, &text);

    let train = [
        "train",
        "--subset",
        "64",
        "--test-subset",
        "32",
        "--batch-size",
        "32",
        "--epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    let text = run_headless(&train, &cache);
    assert!(out.join("run.json").is_file(), "{text}");
    assert_no_error_lines(&train, &text);
}
