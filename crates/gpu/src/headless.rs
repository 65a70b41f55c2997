//! Quiet adapter enumeration on machines without a desktop session.
//!
//! Mesa installs an implicit Vulkan layer, `VK_LAYER_MESA_device_select`, that reorders the
//! physical devices so that the one driving the desktop comes first. To find that device it
//! connects to the Wayland compositor whenever the instance enabled `VK_KHR_wayland_surface`
//! (wgpu enables every surface extension it finds). On a server, in a container, in an SSH
//! or Slurm session there is no `XDG_RUNTIME_DIR`, and libwayland-client then prints
//! "error: XDG_RUNTIME_DIR is invalid or not set in the environment." to stderr on each
//! enumeration: two to four such lines in every successful run.
//!
//! Without a runtime directory there is no compositor to ask, so the layer has nothing to
//! contribute, and shatter chooses its adapter itself anyway (`--adapter`,
//! `WGPU_ADAPTER_NAME`, `WGPU_POWER_PREF`; see `adapter.rs`). So before the first Vulkan
//! instance, and only then, shatter turns the layer off with its documented switch,
//! `NODEVICE_SELECT=1`, unless the user asked for the layer's own selection
//! (`MESA_VK_DEVICE_SELECT`, `DRI_PRIME`) or set `NODEVICE_SELECT` themselves.

use std::sync::Once;

static QUIET: Once = Once::new();

/// Turn Mesa's device-select layer off where it could only print errors. Called before
/// every instance is created; the work happens once per process.
pub(crate) fn quiet_device_select_without_session() {
    QUIET.call_once(|| {
        let has = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if !runtime_dir_missing(std::env::var_os("XDG_RUNTIME_DIR").as_deref())
            || has("WAYLAND_SOCKET")
            || has("NODEVICE_SELECT")
            || has("MESA_VK_DEVICE_SELECT")
            || has("DRI_PRIME")
        {
            return;
        }
        // SAFETY: this runs inside `call_once`, before the process's first wgpu instance:
        // every path to an instance passes through here first, so no Vulkan or GL code has
        // started yet and nothing in this process reads the environment from C. Rust's own
        // readers take std's environment lock, which `set_var` takes too.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    });
}

/// libwayland-client's own test: the runtime directory must be set and absolute.
fn runtime_dir_missing(value: Option<&std::ffi::OsStr>) -> bool {
    match value {
        None => true,
        Some(dir) => !dir.to_string_lossy().starts_with('/'),
    }
}

#[cfg(test)]
mod tests {
    use super::runtime_dir_missing;
    use std::ffi::OsStr;

    #[test]
    fn a_runtime_dir_counts_only_when_set_and_absolute() {
        assert!(runtime_dir_missing(None));
        assert!(runtime_dir_missing(Some(OsStr::new(""))));
        assert!(runtime_dir_missing(Some(OsStr::new("run/user/0"))));
        assert!(!runtime_dir_missing(Some(OsStr::new("/run/user/1000"))));
    }
}
