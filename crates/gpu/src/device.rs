//! The opened device: adapter facts, limits, error capture, submission and waiting.

use std::sync::{Arc, Mutex};

use crate::adapter::{AdapterSummary, backends_tried, choose_adapter, enumerate, instance};
use crate::error::GpuError;
use crate::pipeline::PipelineCache;

thread_local! {
    /// See [`Gpu::thread_buffer_bytes`].
    static THREAD_ALLOCATED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// One adapter's device and queue, with the state every layer above shares:
/// the pipeline cache and the record of errors wgpu reported asynchronously.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    summary: AdapterSummary,
    pub(crate) pipelines: PipelineCache,
    /// Errors wgpu raised outside an error scope (e.g. at submit). Checked by `check`.
    uncaptured: Arc<Mutex<Vec<String>>>,
    lost: Arc<Mutex<Option<String>>>,
    /// Bytes of every buffer shatter has created on this device (see `buffer_bytes`).
    allocated: std::sync::atomic::AtomicU64,
    /// The subgroup width every compute invocation runs at, where the device has subgroup
    /// operations and a single width (see [`Gpu::subgroup_width`]).
    subgroup_width: Option<u32>,
    /// Whether kernels may read and write one texel mirror (see
    /// [`Gpu::read_write_texels`]).
    read_write_texels: bool,
}

impl Gpu {
    /// Open the adapter chosen from `requested` (see [`crate::list_adapters`]) or the environment.
    pub fn new(requested: Option<&str>) -> Result<Self, GpuError> {
        let instance = instance();
        let adapter = choose_adapter(&instance, requested)?;
        Self::open(adapter)
    }

    /// Open every adapter the environment exposes (honouring `WGPU_BACKEND`), in wgpu's
    /// order: a sweep with `--adapter all` spreads its runs over them.
    pub fn open_all() -> Result<Vec<Self>, GpuError> {
        let adapters = enumerate(&instance());
        if adapters.is_empty() {
            return Err(GpuError::NoAdapter {
                backends: backends_tried(),
            });
        }
        adapters.into_iter().map(Self::open).collect()
    }

    fn open(adapter: wgpu::Adapter) -> Result<Self, GpuError> {
        let info = adapter.get_info();
        let summary = AdapterSummary::from_info(&info);
        // Ask for everything the adapter offers: the resident dataset wants the largest storage
        // binding and buffer there are, and the batch kernel wants several storage buffers.
        let limits = adapter.limits();
        // Subgroup operations let CPU adapters share one lane's load with the others of
        // its SIMD register (shaders/generated/gemm_subgroup.wgsl); kernels that use them are only
        // chosen where the device has them.
        // Adapter-specific format features let a kernel read and write an rgba32float
        // texture (the SGD update keeps its state in texel mirrors where it can).
        let features = adapter.features()
            & (wgpu::Features::SUBGROUP | wgpu::Features::TEXTURE_ADAPTER_SPECIFIC_FORMAT_FEATURES);
        let read_write_texels = features
            .contains(wgpu::Features::TEXTURE_ADAPTER_SPECIFIC_FORMAT_FEATURES)
            && adapter
                .get_texture_format_features(crate::texels::TEXEL_FORMAT)
                .flags
                .contains(wgpu::TextureFormatFeatureFlags::STORAGE_READ_WRITE);
        let subgroup_width = (features.contains(wgpu::Features::SUBGROUP)
            && info.subgroup_min_size == info.subgroup_max_size)
            .then_some(info.subgroup_min_size);
        let descriptor = wgpu::DeviceDescriptor {
            label: Some("shatter"),
            required_features: features,
            required_limits: limits,
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        };
        let (device, queue) =
            pollster::block_on(adapter.request_device(&descriptor)).map_err(|e| {
                GpuError::RequestDevice {
                    adapter: summary.describe(),
                    message: e.to_string(),
                }
            })?;
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            if let Ok(mut errors) = sink.lock() {
                errors.push(one_line(&error.to_string()));
            }
        }));
        let lost = Arc::new(Mutex::new(None));
        let lost_sink = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            if reason != wgpu::DeviceLostReason::Destroyed
                && let Ok(mut slot) = lost_sink.lock()
            {
                *slot = Some(format!("{reason:?}: {message}"));
            }
        });
        Ok(Self {
            device,
            queue,
            summary,
            pipelines: PipelineCache::default(),
            uncaptured,
            lost,
            allocated: std::sync::atomic::AtomicU64::new(0),
            subgroup_width,
            read_write_texels,
        })
    }

    /// Bytes of all the buffers shatter has created on this device so far. A trainer
    /// allocates everything at build time and holds it until it is dropped, so the growth
    /// over a build is the GPU memory its buffers occupy at their peak (the driver's own
    /// overhead and pipeline objects are not counted).
    pub fn buffer_bytes(&self) -> u64 {
        self.allocated.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Bytes of the buffers this thread has created on any device so far: the growth over
    /// a build is what that build allocated, even while other threads build on the same
    /// device (a sweep's workers, parallel tests).
    pub fn thread_buffer_bytes() -> u64 {
        THREAD_ALLOCATED.with(std::cell::Cell::get)
    }

    pub(crate) fn count_allocation(&self, bytes: u64) {
        self.allocated
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        THREAD_ALLOCATED.with(|total| total.set(total.get() + bytes));
    }

    /// The chosen adapter, as printed by commands and stored in run records.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.summary
    }

    /// True for software adapters (llvmpipe, lavapipe, WARP): they favour register-blocked
    /// kernels without workgroup-memory staging, because barriers are costly there.
    pub fn is_cpu(&self) -> bool {
        self.summary.device_type == "Cpu"
    }

    /// How many invocations form a subgroup, where the device has subgroup operations and
    /// runs every compute shader at that one width (lavapipe: 8, the lanes of a 256-bit
    /// register); `None` where it has none or picks a width per pipeline.
    pub fn subgroup_width(&self) -> Option<u32> {
        self.subgroup_width
    }

    /// Whether a kernel can both load and store texels of one texel mirror
    /// ([`crate::BindingKind::ReadWriteTexels`]): rgba32float storage textures with
    /// read_write access, an adapter-specific format feature (lavapipe has it).
    pub fn read_write_texels(&self) -> bool {
        self.read_write_texels
    }

    pub fn limits(&self) -> wgpu::Limits {
        self.device.limits()
    }

    /// Run `build` inside validation and out-of-memory error scopes, turning what wgpu
    /// reports into an error that says what shatter was doing.
    pub fn scoped<T>(&self, context: &str, build: impl FnOnce() -> T) -> Result<T, GpuError> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = build();
        let validation_error = pollster::block_on(validation.pop());
        let oom_error = pollster::block_on(oom.pop());
        match validation_error.or(oom_error) {
            Some(error) => Err(GpuError::Validation {
                context: context.to_owned(),
                message: one_line(&error.to_string()),
            }),
            None => Ok(value),
        }
    }

    /// Fail if wgpu reported an error asynchronously or the device was lost.
    pub fn check(&self, context: &str) -> Result<(), GpuError> {
        if let Some(reason) = self.lost.lock().ok().and_then(|slot| slot.clone()) {
            return Err(GpuError::DeviceLost(reason));
        }
        let first = self
            .uncaptured
            .lock()
            .ok()
            .and_then(|mut errors| errors.drain(..).next());
        match first {
            Some(message) => Err(GpuError::Validation {
                context: context.to_owned(),
                message,
            }),
            None => Ok(()),
        }
    }

    /// Submit one command buffer.
    pub fn submit(&self, commands: wgpu::CommandBuffer) -> wgpu::SubmissionIndex {
        self.queue.submit(std::iter::once(commands))
    }

    /// Block until all submitted work is done; report a lost device or a reported error.
    pub fn wait(&self, context: &str) -> Result<(), GpuError> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::DeviceLost(format!("while {context}: {e}")))?;
        self.check(context)
    }
}

/// wgpu's messages span several lines (error chains, labels); a user gets one.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
