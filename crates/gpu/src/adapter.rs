//! Adapter enumeration and choice.
//!
//! Every shatter command honours `WGPU_BACKEND` (through wgpu's instance descriptor),
//! `WGPU_POWER_PREF`, and a name given by `--adapter` or `WGPU_ADAPTER_NAME`. The name is
//! matched here, not by wgpu's helper, because that helper panics on a miss; a miss must be
//! one clear line that lists what is available.

#[cfg(not(target_arch = "wasm32"))]
use crate::error::GpuError;

/// What a user needs to know about one adapter, also stored in every run record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub vendor: u32,
    pub device: u32,
}

impl AdapterSummary {
    pub(crate) fn from_info(info: &wgpu::AdapterInfo) -> Self {
        Self {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend).to_lowercase(),
            device_type: format!("{:?}", info.device_type),
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
            vendor: info.vendor,
            device: info.device,
        }
    }

    /// One line: "llvmpipe (LLVM 15.0.6, 256 bits) [vulkan, Cpu]".
    pub fn describe(&self) -> String {
        format!("{} [{}, {}]", self.name, self.backend, self.device_type)
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn instance() -> wgpu::Instance {
    crate::headless::quiet_device_select_without_session();
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn backends_tried() -> String {
    let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
    let names = [
        (wgpu::Backends::VULKAN, "vulkan"),
        (wgpu::Backends::METAL, "metal"),
        (wgpu::Backends::DX12, "dx12"),
        (wgpu::Backends::GL, "gl"),
        (wgpu::Backends::BROWSER_WEBGPU, "webgpu"),
    ];
    let tried: Vec<&str> = names
        .iter()
        .filter(|(flag, _)| backends.contains(*flag))
        .map(|(_, name)| *name)
        .collect();
    tried.join(", ")
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn enumerate(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
    pollster::block_on(instance.enumerate_adapters(backends))
}

#[cfg(not(target_arch = "wasm32"))]
/// Every adapter the current environment exposes, in wgpu's order.
pub fn list_adapters() -> Vec<AdapterSummary> {
    enumerate(&instance())
        .iter()
        .map(|a| AdapterSummary::from_info(&a.get_info()))
        .collect()
}

#[cfg(not(target_arch = "wasm32"))]
/// Choose an adapter: by name (case-insensitive substring of the adapter name, from
/// `requested` or else `WGPU_ADAPTER_NAME`), otherwise by `WGPU_POWER_PREF` (default:
/// high performance), preferring real GPUs over CPU adapters.
pub(crate) fn choose_adapter(
    instance: &wgpu::Instance,
    requested: Option<&str>,
) -> Result<wgpu::Adapter, GpuError> {
    let adapters = enumerate(instance);
    if adapters.is_empty() {
        return Err(GpuError::NoAdapter {
            backends: backends_tried(),
        });
    }
    let from_env = std::env::var("WGPU_ADAPTER_NAME")
        .ok()
        .filter(|s| !s.is_empty());
    if let Some(name) = requested.map(str::to_owned).or(from_env) {
        let wanted = name.to_lowercase();
        return adapters
            .into_iter()
            .find(|a| a.get_info().name.to_lowercase().contains(&wanted))
            .ok_or_else(|| GpuError::AdapterNotFound {
                requested: name.clone(),
                available: list_adapters()
                    .iter()
                    .map(|a| format!("'{}'", a.describe()))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
    }
    let preference =
        wgpu::PowerPreference::from_env().unwrap_or(wgpu::PowerPreference::HighPerformance);
    let rank = |a: &wgpu::Adapter| -> u32 {
        use wgpu::DeviceType::*;
        let info = a.get_info();
        let kind = match (preference, info.device_type) {
            (wgpu::PowerPreference::LowPower, IntegratedGpu) => 0,
            (wgpu::PowerPreference::LowPower, DiscreteGpu) => 1,
            (_, DiscreteGpu) => 0,
            (_, IntegratedGpu) => 1,
            (_, VirtualGpu) => 2,
            (_, Other) => 3,
            (_, Cpu) => 4,
        };
        // Vulkan/Metal/DX12 before GL: compute on GL is the compatibility path.
        let backend = u32::from(info.backend == wgpu::Backend::Gl);
        kind * 2 + backend
    };
    let best = adapters
        .into_iter()
        .min_by_key(rank)
        .expect("adapters is not empty");
    Ok(best)
}
