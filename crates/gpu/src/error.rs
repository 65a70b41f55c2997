use thiserror::Error;

/// What can go wrong on the GPU side. Each message is one line a user can act on.
#[derive(Debug, Error)]
pub enum GpuError {
    /// No adapter of any backend was found on this machine.
    #[error(
        "no GPU adapter found (backends tried: {backends}); install a GPU driver, or on Debian/Ubuntu \
         `apt-get install mesa-vulkan-drivers` for a software Vulkan adapter, then check with `cargo xtask adapters`"
    )]
    NoAdapter { backends: String },
    /// The adapter named by `--adapter` or `WGPU_ADAPTER_NAME` matches none of those present.
    #[error("no adapter matches '{requested}': available adapters are {available}")]
    AdapterNotFound {
        requested: String,
        available: String,
    },
    /// The adapter refused to open a device with the limits shatter asked for.
    #[error("could not open a device on adapter '{adapter}': {message}")]
    RequestDevice { adapter: String, message: String },
    /// wgpu reported a validation or out-of-memory error for something shatter asked of it.
    #[error("GPU error while {context}: {message}")]
    Validation { context: String, message: String },
    /// The device was lost (driver reset, GPU removed, out of memory at submit).
    #[error("GPU device lost: {0}")]
    DeviceLost(String),
    /// A readback could not map its staging buffer.
    #[error("GPU readback of '{name}' failed: {message}")]
    Readback { name: String, message: String },
    /// A request that cannot fit this adapter's limits.
    #[error("{0}")]
    Limits(String),
}
