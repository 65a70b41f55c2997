//! The opened device: adapter facts, limits, error capture, submission and waiting.

use std::sync::{Arc, Mutex};

use crate::adapter::AdapterSummary;
#[cfg(not(target_arch = "wasm32"))]
use crate::adapter::{backends_tried, choose_adapter, enumerate, instance};
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
    /// The browser's GPU object: the device is lost once it is garbage-collected, so the
    /// device keeps it.
    #[cfg(target_arch = "wasm32")]
    _instance: Option<wgpu::Instance>,
    /// Error scopes not yet resolved: in a browser they resolve asynchronously, after the
    /// JavaScript event loop has run, so `scoped` keeps them here for [`Gpu::settle`].
    #[cfg(target_arch = "wasm32")]
    pending_scopes: std::cell::RefCell<Vec<PendingScope>>,
    /// The subgroup width every compute invocation runs at, where the device has subgroup
    /// operations and a single width (see [`Gpu::subgroup_width`]).
    subgroup_width: Option<u32>,
    /// Whether kernels may read and write one texel mirror (see
    /// [`Gpu::read_write_texels`]).
    read_write_texels: bool,
}

impl Gpu {
    /// Open the adapter chosen from `requested` (see [`crate::list_adapters`]) or the environment.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(requested: Option<&str>) -> Result<Self, GpuError> {
        let instance = instance();
        let adapter = choose_adapter(&instance, requested)?;
        Self::open(adapter)
    }

    /// Open every adapter the environment exposes (honouring `WGPU_BACKEND`), in wgpu's
    /// order: a sweep with `--adapter all` spreads its runs over them.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn open_all() -> Result<Vec<Self>, GpuError> {
        let adapters = enumerate(&instance());
        if adapters.is_empty() {
            return Err(GpuError::NoAdapter {
                backends: backends_tried(),
            });
        }
        adapters.into_iter().map(Self::open).collect()
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn open(adapter: wgpu::Adapter) -> Result<Self, GpuError> {
        pollster::block_on(Self::open_async(adapter))
    }

    /// Open the browser's WebGPU adapter (high performance where it has a choice).
    #[cfg(target_arch = "wasm32")]
    pub async fn browser() -> Result<Self, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::BROWSER_WEBGPU,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|_| GpuError::NoAdapter {
                backends: "webgpu".into(),
            })?;
        let mut gpu = Self::open_async(adapter).await?;
        gpu._instance = Some(instance);
        Ok(gpu)
    }

    async fn open_async(adapter: wgpu::Adapter) -> Result<Self, GpuError> {
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
        // In a browser the subgroup width is not known ahead of a pipeline, so the web keeps
        // to the kernels without subgroup operations (the untuned default plan).
        let wanted = if cfg!(target_arch = "wasm32") {
            wgpu::Features::empty()
        } else {
            wgpu::Features::SUBGROUP | wgpu::Features::TEXTURE_ADAPTER_SPECIFIC_FORMAT_FEATURES
        };
        let features = adapter.features() & wanted;
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
            adapter
                .request_device(&descriptor)
                .await
                .map_err(|e| GpuError::RequestDevice {
                    adapter: summary.describe(),
                    message: e.to_string(),
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
            #[cfg(target_arch = "wasm32")]
            _instance: None,
            #[cfg(target_arch = "wasm32")]
            pending_scopes: Default::default(),
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
    #[cfg(not(target_arch = "wasm32"))]
    pub fn scoped<T>(&self, context: &str, build: impl FnOnce() -> T) -> Result<T, GpuError> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = build();
        let validation_error = pollster::block_on(validation.pop());
        let oom_error = pollster::block_on(oom.pop());
        match validation_error.or(oom_error) {
            Some(error) => Err(scope_error(context, &error)),
            None => Ok(value),
        }
    }

    /// In a browser a scope's verdict arrives later: `build`'s value is returned at once
    /// and the scopes wait in `pending_scopes` until [`Gpu::settle`] reads them.
    #[cfg(target_arch = "wasm32")]
    pub fn scoped<T>(&self, context: &str, build: impl FnOnce() -> T) -> Result<T, GpuError> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = build();
        let (validation, oom) = (validation.pop(), oom.pop());
        self.pending_scopes.borrow_mut().push(PendingScope {
            context: context.to_owned(),
            errors: Box::pin(async move { validation.await.or(oom.await) }),
        });
        Ok(value)
    }

    /// Wait for every error scope still open (in a browser; elsewhere they resolved in
    /// `scoped`) and fail with the first error, named by what shatter was doing, or with an
    /// error reported outside a scope ([`Gpu::check`]).
    pub async fn settle(&self, context: &str) -> Result<(), GpuError> {
        #[cfg(target_arch = "wasm32")]
        {
            let pending = std::mem::take(&mut *self.pending_scopes.borrow_mut());
            let mut first = None;
            for scope in pending {
                if let Some(error) = scope.errors.await {
                    first.get_or_insert_with(|| scope_error(&scope.context, &error));
                }
            }
            if let Some(error) = first {
                return Err(error);
            }
        }
        self.check(context)
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
    /// (In a browser nothing blocks: the queue orders the work, and this only checks.)
    pub fn wait(&self, context: &str) -> Result<(), GpuError> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::DeviceLost(format!("while {context}: {e}")))?;
        self.check(context)
    }
}

/// An error scope's error as shatter reports it.
fn scope_error(context: &str, error: &wgpu::Error) -> GpuError {
    GpuError::Validation {
        context: context.to_owned(),
        message: one_line(&error.to_string()),
    }
}

/// An error scope whose verdict a browser has not given yet (see [`Gpu::scoped`]).
#[cfg(target_arch = "wasm32")]
struct PendingScope {
    context: String,
    errors: std::pin::Pin<Box<dyn std::future::Future<Output = Option<wgpu::Error>>>>,
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
