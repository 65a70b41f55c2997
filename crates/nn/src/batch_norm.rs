//! Batch normalization of a conv layer's output (shaders/batch_norm.wgsl and
//! batch_norm_backward.wgsl), with the conv module's ReLU fused: training mode
//! normalizes with the statistics of the batch's valid rows (the cursor's `rows`) and
//! keeps running averages; evaluation mode normalizes with those averages.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, workgroups_for};

use crate::parameter::Parameter;
use crate::slice::ChannelSlice;

/// Momentum of the running averages (PyTorch's default 0.1 update): short runs on a few
/// hundred images evaluate with statistics that have caught up.
pub const BATCH_NORM_MOMENTUM: f32 = 0.9;
/// Added to the variance (TensorFlow's and Keras's default).
pub const BATCH_NORM_EPSILON: f32 = 1e-3;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct NormShape {
    pixels: u32,
    channels: u32,
    y_stride: u32,
    y_offset: u32,
    momentum: f32,
    epsilon: f32,
    images: u32,
    _pad: u32,
}

/// The state of one batch-normalization layer over `channels` channels (its trained
/// scale and shift are a [`Parameter`] of their own, see [`BatchNorm::affine`]).
pub struct BatchNorm {
    pub channels: usize,
    /// [mean; 1 / sqrt(var + eps)] of the last training batch.
    pub stats: Tensor,
    /// [running mean; running unbiased variance] (initially 0 and 1).
    pub running: Tensor,
}

/// Where one batch-norm layer reads and writes: z [images * pixels, channels] in, y out.
#[derive(Clone, Copy)]
pub struct NormTensors<'a> {
    /// [gamma; beta], from [`BatchNorm::affine`].
    pub affine: &'a Parameter,
    pub cursor: &'a shatter_gpu::wgpu::Buffer,
    pub images: usize,
    pub z: &'a Tensor,
    pub y: ChannelSlice<'a>,
    pub relu: bool,
}

impl BatchNorm {
    /// [gamma; beta]: scale (initially 1) and shift (initially 0), without weight decay.
    pub fn affine(gpu: &Gpu, name: &str, channels: usize) -> Result<Parameter, GpuError> {
        let mut affine = vec![1.0; channels];
        affine.extend(std::iter::repeat_n(0.0, channels));
        Parameter::new(gpu, name, &[2, channels], &affine, false)
    }

    pub fn new(gpu: &Gpu, name: &str, channels: usize) -> Result<Self, GpuError> {
        let mut running = vec![0.0; channels];
        running.extend(std::iter::repeat_n(1.0, channels));
        Ok(Self {
            channels,
            stats: gpu.zeros(&format!("{name}.stats"), &[2, channels])?,
            running: gpu.tensor(&format!("{name}.running"), &[2, channels], &running)?,
        })
    }

    fn shape(&self, gpu: &Gpu, label: &str, t: &NormTensors<'_>) -> shatter_gpu::wgpu::Buffer {
        assert_eq!(
            t.y.channels, self.channels,
            "{label}: output slice channels"
        );
        assert_eq!(
            t.z.len() % (t.images * self.channels),
            0,
            "{label}: z length"
        );
        gpu.uniform(
            &format!("{label}.shape"),
            &NormShape {
                pixels: (t.z.len() / (t.images * self.channels)) as u32,
                channels: self.channels as u32,
                y_stride: t.y.stride() as u32,
                y_offset: t.y.offset as u32,
                momentum: BATCH_NORM_MOMENTUM,
                epsilon: BATCH_NORM_EPSILON,
                images: t.images as u32,
                _pad: 0,
            },
        )
    }

    /// The bindings of shaders/batch_norm.wgsl, shared by its entry points.
    fn forward_bindings<'a>(
        &'a self,
        shape: &'a shatter_gpu::wgpu::Buffer,
        t: &NormTensors<'a>,
    ) -> [Binding<'a>; 7] {
        [
            Binding::uniform(shape),
            Binding::read(t.cursor),
            Binding::read(&t.z.buffer),
            Binding::read(&t.affine.value.buffer),
            Binding::write(&self.stats.buffer),
            Binding::write(&self.running.buffer),
            Binding::write(&t.y.tensor.buffer),
        ]
    }

    fn relu_flag(t: &NormTensors<'_>) -> f64 {
        if t.relu { 1.0 } else { 0.0 }
    }

    /// Training mode: the batch statistics (updating the running averages), then y.
    pub fn forward_train(
        &self,
        gpu: &Gpu,
        label: &str,
        t: NormTensors<'_>,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let shape = self.shape(gpu, label, &t);
        let bindings = self.forward_bindings(&shape, &t);
        let relu = Self::relu_flag(&t);
        Ok(vec![
            gpu.dispatch(
                &format!("{label}.statistics"),
                &Kernel::new("batch_norm", "batch_norm_statistics"),
                &bindings,
                [self.channels as u32, 1, 1],
            )?,
            gpu.dispatch(
                &format!("{label}.normalize"),
                &Kernel::new("batch_norm", "batch_norm_apply").with("RELU", relu),
                &bindings,
                workgroups_for(t.z.len(), 256),
            )?,
        ])
    }

    /// Evaluation mode: y from the running averages; nothing is updated.
    pub fn forward_eval(
        &self,
        gpu: &Gpu,
        label: &str,
        t: NormTensors<'_>,
    ) -> Result<Dispatch, GpuError> {
        let shape = self.shape(gpu, label, &t);
        gpu.dispatch(
            &format!("{label}.normalize_eval"),
            &Kernel::new("batch_norm", "batch_norm_apply")
                .with("RELU", Self::relu_flag(&t))
                .with("EVAL", 1.0),
            &self.forward_bindings(&shape, &t),
            workgroups_for(t.z.len(), 256),
        )
    }

    /// Training-mode backward: dgamma and dbeta into the affine gradient, dz from dy (the
    /// gradient of the concatenated output, sliced as y).
    pub fn backward(
        &self,
        gpu: &Gpu,
        label: &str,
        t: NormTensors<'_>,
        dy: &Tensor,
        dz: &Tensor,
    ) -> Result<Vec<Dispatch>, GpuError> {
        assert_eq!(dy.len(), t.y.tensor.len(), "{label}: dy is sliced as y");
        assert_eq!(dz.len(), t.z.len(), "{label}: dz length");
        let shape = self.shape(gpu, label, &t);
        let bindings = [
            Binding::uniform(&shape),
            Binding::read(t.cursor),
            Binding::read(&t.z.buffer),
            Binding::read(&t.affine.value.buffer),
            Binding::read(&self.stats.buffer),
            Binding::read(&dy.buffer),
            Binding::read(&t.y.tensor.buffer),
            Binding::write(&t.affine.grad.buffer),
            Binding::write(&dz.buffer),
        ];
        let relu = Self::relu_flag(&t);
        Ok(vec![
            gpu.dispatch(
                &format!("{label}.backward_reduce"),
                &Kernel::new("batch_norm_backward", "batch_norm_backward_reduce")
                    .with("RELU", relu),
                &bindings,
                [self.channels as u32, 1, 1],
            )?,
            gpu.dispatch(
                &format!("{label}.backward"),
                &Kernel::new("batch_norm_backward", "batch_norm_backward_apply").with("RELU", relu),
                &bindings,
                workgroups_for(dz.len(), 256),
            )?,
        ])
    }
}
