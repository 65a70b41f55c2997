//! Batch normalization of a conv layer's output (shaders/_batch_norm_forward.wgsl and
//! _batch_norm_backward.wgsl, one or four channels an invocation), with the conv module's
//! ReLU fused: training mode normalizes with the statistics of the batch's valid rows (the cursor's `rows`) and
//! keeps running averages; evaluation mode normalizes with those averages. Sums over
//! rows (the statistics, the affine gradient) run as partial sums over chunks of rows,
//! then one combining dispatch (see shaders/_batch_norm.wgsl).

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, workgroups_for};

use crate::parameter::Parameter;
use crate::slice::ChannelSlice;

/// Momentum of the running averages (PyTorch's default 0.1 update): short runs on a few
/// hundred images evaluate with statistics that have caught up.
pub const BATCH_NORM_MOMENTUM: f32 = 0.9;
/// Added to the variance (TensorFlow's and Keras's default).
pub const BATCH_NORM_EPSILON: f32 = 1e-3;

/// On a GPU, rows are cut into at most this many chunks, each summed by its own
/// workgroups: enough to spread a 28x28 layer at batch 128 over the card's cores, few
/// enough that combining the chunks stays a short loop.
const GPU_MAX_CHUNKS: usize = 128;
/// On a CPU adapter, a workgroup per core is already full, and every workgroup's barriers
/// cost (they are dear there): a few chunks, for the adapter's threads.
const CPU_MAX_CHUNKS: usize = 8;
/// A chunk has at least this many rows, so a small layer is not cut into chunks whose
/// workgroups do little more than synchronize.
const MIN_CHUNK_ROWS: usize = 256;
/// Rows a chunk's workgroup sums at a time (ROW_LANES in the shader).
const ROW_LANES: usize = 8;
/// Lanes of channels across one workgroup (CHANNEL_LANES in the shader).
const CHANNEL_LANES: usize = 32;
/// Rows of one workgroup of the elementwise kernels: 8 for each invocation, so it reads
/// its channel's parameters once for 8 values.
const APPLY_ROWS: usize = 8 * ROW_LANES;
/// Workgroups a dispatch may have in one dimension.
const MAX_WORKGROUPS: usize = 65_535;

/// Rows per chunk and chunks covering `rows` rows, on `gpu`.
pub fn batch_norm_chunks(gpu: &Gpu, rows: usize) -> (usize, usize) {
    let max_chunks = if gpu.is_cpu() {
        CPU_MAX_CHUNKS
    } else {
        GPU_MAX_CHUNKS
    };
    let chunk_rows = rows
        .div_ceil(max_chunks)
        .next_multiple_of(ROW_LANES)
        .max(MIN_CHUNK_ROWS);
    (chunk_rows, rows.div_ceil(chunk_rows).max(1))
}

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
    chunk_rows: u32,
    chunks: u32,
    apply_rows: u32,
    _pad: [u32; 2],
}

/// The state of one batch-normalization layer over `channels` channels (its trained
/// scale and shift are a [`Parameter`] of their own, see [`BatchNorm::affine`]).
pub struct BatchNorm {
    pub channels: usize,
    /// [mean; 1 / sqrt(var + eps)] of the last training batch.
    pub stats: Tensor,
    /// [running mean; running unbiased variance] (initially 0 and 1).
    pub running: Tensor,
    /// Rows per chunk and chunks of the rows' partial sums.
    chunk_rows: usize,
    chunks: usize,
    /// Rows of one workgroup of the elementwise kernels.
    apply_rows: usize,
    /// [chunks, 2, channels]: the partial sums of the statistics in the forward pass,
    /// then of the affine gradient in the backward one (each combined before the next).
    partials: Tensor,
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

    /// The state of a layer normalizing `rows` rows (images x pixels) of `channels`.
    pub fn new(gpu: &Gpu, name: &str, channels: usize, rows: usize) -> Result<Self, GpuError> {
        let mut running = vec![0.0; channels];
        running.extend(std::iter::repeat_n(1.0, channels));
        let (chunk_rows, chunks) = batch_norm_chunks(gpu, rows);
        Ok(Self {
            channels,
            stats: gpu.zeros(&format!("{name}.stats"), &[2, channels])?,
            running: gpu.tensor(&format!("{name}.running"), &[2, channels], &running)?,
            chunk_rows,
            chunks,
            apply_rows: rows
                .div_ceil(MAX_WORKGROUPS)
                .next_multiple_of(ROW_LANES)
                .max(APPLY_ROWS),
            partials: gpu.zeros(&format!("{name}.partials"), &[chunks, 2, channels])?,
        })
    }

    /// Channels one invocation handles: 4 (vec4 loads and stores) where the channels
    /// and y's slice of its concatenation are whole quads, else 1.
    pub fn lane_width(t: &NormTensors<'_>) -> usize {
        let quads = |n: usize| n.is_multiple_of(4);
        if quads(t.y.channels) && quads(t.y.stride()) && quads(t.y.offset) {
            4
        } else {
            1
        }
    }

    fn forward_shader(t: &NormTensors<'_>) -> &'static str {
        if Self::lane_width(t) == 4 {
            "batch_norm_vec4"
        } else {
            "batch_norm"
        }
    }

    fn backward_shader(t: &NormTensors<'_>) -> &'static str {
        if Self::lane_width(t) == 4 {
            "batch_norm_backward_vec4"
        } else {
            "batch_norm_backward"
        }
    }

    /// Invocations across a row: one per lane of channels.
    fn row_lanes(&self, t: &NormTensors<'_>) -> usize {
        self.channels / Self::lane_width(t)
    }

    /// Workgroups of the partial sums: groups of 32 lanes by chunks.
    fn partial_workgroups(&self, t: &NormTensors<'_>) -> [u32; 3] {
        [
            self.row_lanes(t).div_ceil(CHANNEL_LANES) as u32,
            self.chunks as u32,
            1,
        ]
    }

    /// Workgroups of the elementwise kernels: groups of 32 lanes by groups of rows.
    fn apply_workgroups(&self, t: &NormTensors<'_>) -> [u32; 3] {
        let rows = t.z.len() / self.channels;
        [
            self.row_lanes(t).div_ceil(CHANNEL_LANES) as u32,
            rows.div_ceil(self.apply_rows) as u32,
            1,
        ]
    }

    /// Workgroups of the combining dispatch: one invocation per lane of channels.
    fn combine_workgroups(&self, t: &NormTensors<'_>) -> [u32; 3] {
        workgroups_for(self.row_lanes(t), 64)
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
        assert!(
            t.z.len() / self.channels <= self.chunk_rows * self.chunks,
            "{label}: z has more rows than the layer's chunks cover"
        );
        gpu.params(
            &format!("{label}.shape"),
            &NormShape {
                pixels: (t.z.len() / (t.images * self.channels)) as u32,
                channels: self.channels as u32,
                y_stride: t.y.stride() as u32,
                y_offset: t.y.offset as u32,
                momentum: BATCH_NORM_MOMENTUM,
                epsilon: BATCH_NORM_EPSILON,
                images: t.images as u32,
                chunk_rows: self.chunk_rows as u32,
                chunks: self.chunks as u32,
                apply_rows: self.apply_rows as u32,
                _pad: [0; 2],
            },
        )
    }

    /// The bindings of shaders/batch_norm.wgsl, shared by its entry points.
    fn forward_bindings<'a>(
        &'a self,
        shape: &'a shatter_gpu::wgpu::Buffer,
        t: &NormTensors<'a>,
    ) -> [Binding<'a>; 8] {
        [
            Binding::params(shape),
            Binding::read(t.cursor),
            Binding::read(&t.z.buffer),
            Binding::read(&t.affine.value.buffer),
            Binding::write(&self.stats.buffer),
            Binding::write(&self.running.buffer),
            Binding::write(&t.y.tensor.buffer),
            Binding::write(&self.partials.buffer),
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
                &format!("{label}.partial_statistics"),
                &Kernel::new(Self::forward_shader(&t), "batch_norm_partial_statistics"),
                &bindings,
                self.partial_workgroups(&t),
            )?,
            gpu.dispatch(
                &format!("{label}.statistics"),
                &Kernel::new(Self::forward_shader(&t), "batch_norm_combine_statistics"),
                &bindings,
                self.combine_workgroups(&t),
            )?,
            gpu.dispatch(
                &format!("{label}.normalize"),
                &Kernel::new(Self::forward_shader(&t), "batch_norm_apply").with("RELU", relu),
                &bindings,
                self.apply_workgroups(&t),
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
            &Kernel::new(Self::forward_shader(&t), "batch_norm_apply")
                .with("RELU", Self::relu_flag(&t))
                .with("EVAL", 1.0),
            &self.forward_bindings(&shape, &t),
            self.apply_workgroups(&t),
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
            Binding::params(&shape),
            Binding::read(t.cursor),
            Binding::read(&t.z.buffer),
            Binding::read(&t.affine.value.buffer),
            Binding::read(&self.stats.buffer),
            Binding::read(&dy.buffer),
            Binding::read(&t.y.tensor.buffer),
            Binding::write(&t.affine.grad.buffer),
            Binding::write(&dz.buffer),
            Binding::write(&self.partials.buffer),
        ];
        let relu = Self::relu_flag(&t);
        Ok(vec![
            gpu.dispatch(
                &format!("{label}.backward_partial_sums"),
                &Kernel::new(
                    Self::backward_shader(&t),
                    "batch_norm_backward_partial_sums",
                )
                .with("RELU", relu),
                &bindings,
                self.partial_workgroups(&t),
            )?,
            gpu.dispatch(
                &format!("{label}.backward_sums"),
                &Kernel::new(Self::backward_shader(&t), "batch_norm_backward_combine"),
                &bindings,
                self.combine_workgroups(&t),
            )?,
            gpu.dispatch(
                &format!("{label}.backward"),
                &Kernel::new(Self::backward_shader(&t), "batch_norm_backward_apply")
                    .with("RELU", relu),
                &bindings,
                self.apply_workgroups(&t),
            )?,
        ])
    }
}
