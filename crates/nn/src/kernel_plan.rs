//! The kernels a network runs: a GEMM variant per matrix shape ([`GemmPlan`]) and a
//! convolution variant per convolution problem ([`ConvPlan`]), both filled by the
//! autotune cache and both falling back to the adapter's fixed defaults.

use shatter_gpu::Gpu;

use crate::conv_plan::ConvPlan;
use crate::gemm_plan::GemmPlan;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelPlan {
    pub gemm: GemmPlan,
    pub conv: ConvPlan,
}

impl KernelPlan {
    /// The fixed defaults of this adapter: nothing tuned.
    pub fn for_adapter(gpu: &Gpu) -> Self {
        Self {
            gemm: GemmPlan::for_adapter(gpu),
            conv: ConvPlan::default(),
        }
    }
}
