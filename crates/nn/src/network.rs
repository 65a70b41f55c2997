//! A network built for one batch size from its layer description (layers.rs): every
//! activation, gradient, parameter and bind group allocated once, and the prebuilt
//! dispatches of forward (training and evaluation mode), backward and update.

use std::any::Any;
use std::sync::Arc;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shatter_gpu::{Dispatch, Gpu, GpuError, StatePart, Tensor, TexelMirror, U32Buffer};

use crate::batch_norm::{BatchNorm, NormTensors};
use crate::conv_plan::{ConvProblem, ConvVariant};
use crate::conv2d::{ConvPass, conv2d_backward_data, conv2d_backward_filter, conv2d_forward};
use crate::dense::Dense;
use crate::dropout::{Dropout, dropout_backward, dropout_forward};
use crate::gemm_plan::GemmShape;
use crate::geometry::WindowGeometry;
use crate::init::{ConvInit, conv_filter_init, glorot_uniform};
use crate::kernel_plan::KernelPlan;
use crate::layers::{LayerSpec, output_shape, parameter_counts, sequence_output_shape};
use crate::loss::softmax_xent;
use crate::lrn::{lrn_backward, lrn_forward};
use crate::model::ModelKind;
use crate::optimizer::SgdConfig;
use crate::parameter::Parameter;
use crate::pool::{
    avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward, mean_pool_backward,
    mean_pool_forward,
};
use crate::product::MirrorSet;
use crate::reduce::column_sum;
use crate::slice::ChannelSlice;
use crate::slice_relu::relu_backward_before;

/// What a network is built for: one image's [channels, height, width], the classes, and
/// the batch size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkShape {
    pub input: [usize; 3],
    pub classes: usize,
    pub batch: usize,
}

/// How a network's weights are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightInit {
    pub seed: u64,
    pub conv: ConvInit,
}

/// One built layer: its dispatches, parameters and the work it does per step.
pub struct BuiltLayer {
    pub name: String,
    pub forward: Vec<Dispatch>,
    /// The forward in evaluation mode (differs from `forward` only with batch norm).
    pub forward_eval: Vec<Dispatch>,
    pub backward: Vec<Dispatch>,
    pub parameters: Vec<Parameter>,
    /// FLOPs of the forward and of the backward per step (conv and dense products only).
    pub forward_flops: u64,
    pub backward_flops: u64,
    /// Whether the layer is a convolution: the layers whose share of a GPU's peak
    /// `cargo xtask bench --layers --peak-gflops` reports.
    pub convolution: bool,
    /// State the layer carries from step to step besides its parameters (batch norm's
    /// running averages): what a checkpoint saves with the parameters.
    pub running_statistics: Vec<Tensor>,
    /// Buffers only this layer's dispatches use (pre-activation gradients, argmax,
    /// normalizers, batch-norm statistics), kept alive with it.
    _scratch: Vec<Box<dyn Any>>,
}

/// An activation in the graph: its value, its gradient (None for the network input,
/// which needs none) and its [height, width, channels].
#[derive(Clone)]
struct Activation {
    value: Arc<Tensor>,
    grad: Option<Arc<Tensor>>,
    shape: [usize; 3],
}

/// Where a concatenation's branch writes: its channel slice of the joint output.
#[derive(Clone)]
struct SliceTarget {
    value: Arc<Tensor>,
    grad: Arc<Tensor>,
    offset: usize,
}

pub struct Network {
    /// The model's name (a zoo name, or what a test calls its own layers).
    pub name: String,
    pub batch: usize,
    /// [channels, height, width] of one input image.
    pub input_shape: [usize; 3],
    pub classes: usize,
    /// The GEMM variant of each dense layer's shapes and the kernel of each convolution.
    pub plan: KernelPlan,
    /// The shapes of the GEMMs of one training step, in order, repeats included.
    pub gemm_shapes: Vec<GemmShape>,
    /// The convolution products of one training step, in order.
    pub conv_problems: Vec<ConvProblem>,
    /// [batch, height, width, channels]: written by the batch kernel.
    pub input: Arc<Tensor>,
    /// `[batch]`: written by the batch kernel.
    pub labels: U32Buffer,
    pub layers: Vec<BuiltLayer>,
    logits: Activation,
    /// Counted as the paper counts (conv and dense weights and biases), and batch-norm
    /// scales and shifts apart.
    parameters: (usize, usize),
    /// For each parameter tensor (in [`Network::update`]'s order), the texel mirror the
    /// forward products read it from, if they do (CPU adapters, texel kernels).
    parameter_mirrors: Vec<Option<Arc<TexelMirror>>>,
}

struct Builder<'a> {
    gpu: &'a Gpu,
    batch: usize,
    classes: usize,
    plan: &'a KernelPlan,
    gemm_shapes: Vec<GemmShape>,
    conv_problems: Vec<ConvProblem>,
    cursor: &'a shatter_gpu::wgpu::Buffer,
    rng: ChaCha8Rng,
    conv_init: ConvInit,
    layers: Vec<BuiltLayer>,
    modules: usize,
    prefix: String,
    /// The texel mirrors of the network's forward products, which each layer's backward
    /// products also read (see [`MirrorSet`]). A tensor several layers read (an Inception
    /// module's input, read by each branch's first convolution) is copied once a step.
    ///
    /// Every forward runs in build order before every backward, so the first forward
    /// product built that reads a tensor is the first to run after it is written: an
    /// activation is written by one forward (or by the branches of a concatenation,
    /// built and run before any reader), a weight by the update after the backward.
    /// Neither is written again before the last backward reader. Mirrors first made for
    /// a backward product stay the layer's own (`Builder::backward_mirrors`): the
    /// backward runs layers in reverse build order, so another layer's forward or
    /// backward could run before the copy.
    forward_mirrors: MirrorSet,
}

impl Network {
    /// Build `kind` for `shape`, with weights drawn as `init` says and dense layers
    /// running the GEMM variants `gemm` chooses. `cursor` is the training pass's step
    /// cursor, whose `rows` batch normalization averages over.
    pub fn build(
        gpu: &Gpu,
        kind: ModelKind,
        shape: NetworkShape,
        init: WeightInit,
        plan: &KernelPlan,
        cursor: &shatter_gpu::wgpu::Buffer,
    ) -> Result<Self, GpuError> {
        Self::from_layers(gpu, kind.name(), &kind.layers(), shape, init, plan, cursor)
    }

    /// Build any layer description (see [`Network::build`]); it must end in logits.
    pub fn from_layers(
        gpu: &Gpu,
        name: &str,
        specs: &[LayerSpec],
        shape: NetworkShape,
        init: WeightInit,
        plan: &KernelPlan,
        cursor: &shatter_gpu::wgpu::Buffer,
    ) -> Result<Self, GpuError> {
        let NetworkShape {
            input: input_shape,
            classes,
            batch,
        } = shape;
        let [c, h, w] = input_shape;
        let input = Arc::new(gpu.zeros("input", &[batch, h, w, c])?);
        let labels = gpu.u32_buffer("labels", &vec![0; batch])?;
        let mut builder = Builder {
            gpu,
            batch,
            classes,
            plan,
            gemm_shapes: Vec::new(),
            conv_problems: Vec::new(),
            cursor,
            rng: ChaCha8Rng::seed_from_u64(init.seed),
            conv_init: init.conv,
            layers: Vec::new(),
            modules: 0,
            prefix: String::new(),
            forward_mirrors: MirrorSet::default(),
        };
        let start = Activation {
            value: input.clone(),
            grad: None,
            shape: [h, w, c],
        };
        let logits = builder.sequence(specs, start, None, false)?;
        assert_eq!(logits.shape, [1, 1, classes], "{name} must end in logits");
        Ok(Self {
            name: name.to_owned(),
            batch,
            input_shape,
            classes,
            plan: plan.clone(),
            gemm_shapes: builder.gemm_shapes,
            conv_problems: builder.conv_problems,
            input,
            labels,
            parameter_mirrors: builder
                .layers
                .iter()
                .flat_map(|l| &l.parameters)
                .map(|p| builder.forward_mirrors.unpadded(&p.value))
                .collect(),
            layers: builder.layers,
            logits,
            parameters: parameter_counts(specs, [h, w, c], classes),
        })
    }

    /// Trainable parameters as the paper counts them (conv and dense weights and biases).
    pub fn parameter_count(&self) -> usize {
        self.parameters.0
    }

    /// Batch-norm scales and shifts, trained but not in [`Self::parameter_count`].
    pub fn batch_norm_parameter_count(&self) -> usize {
        self.parameters.1
    }

    /// Logits, [batch, classes].
    pub fn logits(&self) -> &Tensor {
        &self.logits.value
    }

    /// Where the loss writes dL/dlogits.
    pub fn logits_grad(&self) -> &Tensor {
        self.logits.grad.as_ref().expect("logits have a gradient")
    }

    /// The forward dispatches in training mode (batch norm on batch statistics).
    pub fn forward(&self) -> impl Iterator<Item = &Dispatch> {
        self.layers.iter().flat_map(|l| &l.forward)
    }

    /// [`Network::forward`] without the copies of parameters into their texel mirrors,
    /// for a training step: there [`Network::update`] has written each mirror with the
    /// new values at the end of the previous step. Before the first such step the
    /// mirrors must be filled once by [`Network::parameter_mirror_fills`], and after any
    /// other write of a parameter again: where the adapter can read and write texel
    /// mirrors, the update also reads the weights from them (see
    /// [`crate::SgdState::Texels`]).
    ///
    /// Why: the copies read every weight a step; on lavapipe mlp1x512's first weight
    /// matrix took 7.8 ms to copy in a step of 97 ms, and writing the mirror in the update
    /// costs only the texel stores.
    pub fn forward_after_update(&self) -> impl Iterator<Item = &Dispatch> {
        self.forward().filter(|d| !self.fills_parameter_mirror(d))
    }

    /// The dispatches copying each parameter the forward reads from a texel mirror into
    /// it (see [`Network::forward_after_update`]).
    pub fn parameter_mirror_fills(&self) -> Vec<&Dispatch> {
        self.forward()
            .filter(|d| self.fills_parameter_mirror(d))
            .collect()
    }

    /// Whether `dispatch` copies a parameter into a mirror the update also writes.
    fn fills_parameter_mirror(&self, dispatch: &Dispatch) -> bool {
        self.parameter_mirrors
            .iter()
            .flatten()
            .any(|m| m.is_filled_by(dispatch))
    }

    /// The forward dispatches in evaluation mode (batch norm on running statistics), without
    /// the copies of parameters into their texel mirrors: as for
    /// [`Network::forward_after_update`], the mirrors hold the parameters' current values
    /// (filled once, and written by every update since). Those copies were a large part of
    /// an evaluation on CPU adapters, where the MLP's weights were copied once per batch.
    pub fn forward_eval(&self) -> impl Iterator<Item = &Dispatch> {
        self.layers
            .iter()
            .flat_map(|l| &l.forward_eval)
            .filter(|d| !self.fills_parameter_mirror(d))
    }

    pub fn backward(&self) -> impl Iterator<Item = &Dispatch> {
        self.layers.iter().rev().flat_map(|l| &l.backward)
    }

    /// The loss for a pass over `images` images, writing per-step metrics into `metrics`.
    pub fn loss(
        &self,
        gpu: &Gpu,
        label: &str,
        images: usize,
        cursor: &shatter_gpu::wgpu::Buffer,
        metrics: &Tensor,
    ) -> Result<Dispatch, GpuError> {
        softmax_xent(
            gpu,
            label,
            images,
            cursor,
            self.logits(),
            &self.labels,
            self.logits_grad(),
            metrics,
        )
    }

    /// The optimizer's dispatches over every parameter tensor; each also writes the
    /// parameter's texel mirror where the forward reads one (see
    /// [`Network::forward_after_update`]).
    pub fn update(
        &self,
        gpu: &Gpu,
        config: &SgdConfig,
        cursor: &shatter_gpu::wgpu::Buffer,
    ) -> Result<Vec<Dispatch>, GpuError> {
        self.layers
            .iter()
            .flat_map(|l| &l.parameters)
            .zip(&self.parameter_mirrors)
            .map(|(p, mirror)| p.update(gpu, config, cursor, mirror.as_deref()))
            .collect()
    }

    /// Everything a training run carries from step to step on the GPU, in a fixed order:
    /// each layer's parameters, each one's velocity once [`Network::update`] has made it,
    /// and batch norm's running averages. Texel mirrors of the parameters are not state:
    /// after writing the parameters, fill them again ([`Network::parameter_mirror_fills`]).
    pub fn state(&self) -> Vec<StatePart<'_>> {
        let mut parts = Vec::new();
        for layer in &self.layers {
            for parameter in &layer.parameters {
                parts.push(StatePart::Buffer(&parameter.value));
                parts.extend(parameter.velocity_state());
            }
            parts.extend(layer.running_statistics.iter().map(StatePart::Buffer));
        }
        parts
    }

    /// FLOPs of one training step (conv and dense forward and backward products;
    /// pooling, normalization and elementwise work not counted).
    pub fn training_flops_per_step(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| l.forward_flops + l.backward_flops)
            .sum()
    }
}

impl Builder<'_> {
    fn name(&mut self, kind: &str) -> String {
        let same = self
            .layers
            .iter()
            .filter(|l| l.name.starts_with(&format!("{}{kind}", self.prefix)))
            .count();
        format!("{}{kind}{}", self.prefix, same + 1)
    }

    /// The plan's kernel for `pass` of a convolution over `geometry`, noting the problem
    /// for the autotune.
    fn conv_variant(&mut self, pass: ConvPass, geometry: WindowGeometry) -> ConvVariant {
        let problem = ConvProblem { pass, geometry };
        self.conv_problems.push(problem);
        self.plan.conv.variant(self.gpu, &problem)
    }

    /// The mirrors one layer's backward products share: the forward mirrors, which
    /// hold for the whole backward, and the layer's own (see `forward_mirrors`).
    fn backward_mirrors(&self) -> MirrorSet {
        self.forward_mirrors.clone()
    }

    fn push(&mut self, layer: BuiltLayer) {
        self.layers.push(layer);
    }

    /// Add a layer without parameters or counted FLOPs (pooling, normalization), whose
    /// forward is the same in training and evaluation.
    fn push_parameterless(
        &mut self,
        name: String,
        forward: Dispatch,
        backward: Vec<Dispatch>,
        scratch: Vec<Box<dyn Any>>,
    ) {
        self.push(BuiltLayer {
            name,
            forward: vec![forward.clone()],
            forward_eval: vec![forward],
            backward,
            parameters: Vec::new(),
            forward_flops: 0,
            backward_flops: 0,
            convolution: false,
            running_statistics: Vec::new(),
            _scratch: scratch,
        });
    }

    /// A fresh activation of `shape` with its gradient.
    fn activation(&self, name: &str, shape: [usize; 3]) -> Result<Activation, GpuError> {
        let [h, w, c] = shape;
        let dims = [self.batch, h, w, c];
        Ok(Activation {
            value: Arc::new(self.gpu.zeros(&format!("{name}.output"), &dims)?),
            grad: Some(Arc::new(
                self.gpu.zeros(&format!("{name}.output_grad"), &dims)?,
            )),
            shape,
        })
    }

    /// The output of a layer: its own tensors, or its slice of a concatenation.
    fn output(
        &self,
        name: &str,
        shape: [usize; 3],
        target: Option<SliceTarget>,
    ) -> Result<(Activation, usize), GpuError> {
        match target {
            Some(t) => Ok((
                Activation {
                    value: t.value,
                    grad: Some(t.grad),
                    shape,
                },
                t.offset,
            )),
            None => Ok((self.activation(name, shape)?, 0)),
        }
    }

    /// Build `specs` in order on `input`. The last layer writes into `target` when given;
    /// the first adds its input gradient to what is there when `accumulate`.
    fn sequence(
        &mut self,
        specs: &[LayerSpec],
        input: Activation,
        target: Option<SliceTarget>,
        accumulate: bool,
    ) -> Result<Activation, GpuError> {
        let mut current = input;
        for (i, spec) in specs.iter().enumerate() {
            let last = i + 1 == specs.len();
            current = self.layer(
                spec,
                current,
                if last { target.clone() } else { None },
                accumulate && i == 0,
            )?;
        }
        Ok(current)
    }

    fn layer(
        &mut self,
        spec: &LayerSpec,
        input: Activation,
        target: Option<SliceTarget>,
        accumulate: bool,
    ) -> Result<Activation, GpuError> {
        // The layers that write a channel slice are also those whose backward can add
        // to its input's gradient.
        assert!(
            target.is_none() || spec.writes_slices(),
            "a concatenated branch must end in a conv, pooling or concatenation, not {spec:?}"
        );
        assert!(
            !accumulate || spec.writes_slices(),
            "{spec:?} cannot start a branch (it cannot add to its input's gradient)"
        );
        match spec {
            LayerSpec::Conv {
                bias, batch_norm, ..
            } => self.conv(spec, *bias, *batch_norm, input, target, accumulate),
            LayerSpec::MaxPool { .. } => self.max_pool(spec, input, target, accumulate),
            LayerSpec::AvgPool { .. } => self.avg_pool(spec, input, target, accumulate),
            LayerSpec::Dropout { rate } => self.dropout(*rate, input),
            LayerSpec::Lrn(params) => self.lrn(*params, input),
            LayerSpec::GlobalMeanPool => self.mean_pool(input),
            LayerSpec::Flatten => Ok(Activation {
                shape: [1, 1, input.shape.iter().product()],
                ..input
            }),
            LayerSpec::Dense { units, relu } => self.dense("dense", *units, *relu, input),
            LayerSpec::Logits => self.dense("logits", self.classes, false, input),
            LayerSpec::Concat(branches) => self.concat(spec, branches, input, target, accumulate),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        spec: &LayerSpec,
        trained_bias: bool,
        batch_norm: bool,
        input: Activation,
        target: Option<SliceTarget>,
        accumulate: bool,
    ) -> Result<Activation, GpuError> {
        let gpu = self.gpu;
        let name = self.name("conv");
        let g = spec
            .window_geometry(self.batch, input.shape)
            .expect("a conv layer");
        let filters = g.out_channels;
        let window = [g.window_height, g.window_width];
        let init = conv_filter_init(
            &mut self.rng,
            self.conv_init,
            window,
            g.in_channels,
            filters,
        );
        let filter = Parameter::new(
            gpu,
            &format!("{name}.filter"),
            &[window[0], window[1], g.in_channels, filters],
            &init,
            true,
        )?;
        // A conv without a trained bias reads zeros, kept alive with the layer.
        let bias = if trained_bias {
            Some(Parameter::zeros(
                gpu,
                &format!("{name}.bias"),
                &[filters],
                false,
            )?)
        } else {
            None
        };
        let zero_bias = match &bias {
            Some(_) => None,
            None => Some(gpu.zeros(&format!("{name}.zero_bias"), &[filters])?),
        };
        let bias_value = bias
            .as_ref()
            .map_or_else(|| zero_bias.as_ref().expect("a zero bias"), |b| &b.value);
        let shape = [g.out_height, g.out_width, filters];
        let (out, offset) = self.output(&name, shape, target)?;
        let y = ChannelSlice {
            tensor: &out.value,
            offset,
            channels: filters,
        };
        let dy = out.grad.as_ref().expect("conv outputs have gradients");
        let dims = [self.batch, g.out_height, g.out_width, filters];
        let dz = gpu.zeros(&format!("{name}.pre_activation_grad"), &dims)?;
        let x = &input.value;
        let w = &filter.value;
        let forward_variant = self.conv_variant(ConvPass::Forward, g);
        let mut scratch: Vec<Box<dyn Any>> = Vec::new();
        let mut running_statistics = Vec::new();
        let mut affine_parameter = None;
        let (forward, forward_eval, mut backward) = if batch_norm {
            let z = gpu.zeros(&format!("{name}.conv_output"), &dims)?;
            let bn = BatchNorm::new(
                gpu,
                &format!("{name}.batch_norm"),
                filters,
                self.batch * g.out_height * g.out_width,
            )?;
            let affine = BatchNorm::affine(gpu, &format!("{name}.batch_norm.affine"), filters)?;
            let norm = NormTensors {
                affine: &affine,
                cursor: self.cursor,
                images: self.batch,
                z: &z,
                y,
                relu: true,
            };
            let conv = conv2d_forward(
                gpu,
                &format!("{name}.forward"),
                &g,
                x,
                w,
                bias_value,
                false,
                ChannelSlice::whole(&z),
                forward_variant,
                &mut self.forward_mirrors,
            )?;
            let mut forward = conv.clone();
            forward.extend(bn.forward_train(gpu, &format!("{name}.batch_norm"), norm)?);
            let mut eval = conv;
            eval.push(bn.forward_eval(gpu, &format!("{name}.batch_norm"), norm)?);
            let backward = bn.backward(gpu, &format!("{name}.batch_norm"), norm, dy, &dz)?;
            running_statistics.push(bn.running.alias());
            scratch.push(Box::new(z));
            scratch.push(Box::new(bn));
            affine_parameter = Some(affine);
            (forward, eval, backward)
        } else {
            let conv = conv2d_forward(
                gpu,
                &format!("{name}.forward"),
                &g,
                x,
                w,
                bias_value,
                true,
                y,
                forward_variant,
                &mut self.forward_mirrors,
            )?;
            // The ReLU backward is built after the products that read dz (below), so
            // that it can fill dz's mirror for them.
            (conv.clone(), conv, Vec::new())
        };
        let mut backward_mirrors = self.backward_mirrors();
        let mut products = conv2d_backward_filter(
            gpu,
            &format!("{name}.filter_grad"),
            &g,
            x,
            &dz,
            &filter.grad,
            self.conv_variant(ConvPass::BackwardFilter, g),
            None,
            &mut backward_mirrors,
        )?;
        if let Some(bias) = &bias {
            products.extend(column_sum(
                gpu,
                &format!("{name}.bias_grad"),
                &dz,
                g.output_pixels(),
                filters,
                &bias.grad,
            )?);
        }
        if let Some(dx) = &input.grad {
            products.extend(conv2d_backward_data(
                gpu,
                &format!("{name}.input_grad"),
                &g,
                &dz,
                w,
                dx,
                accumulate,
                self.conv_variant(ConvPass::BackwardData, g),
                &mut backward_mirrors,
            )?);
        }
        if !batch_norm {
            let label = format!("{name}.relu_backward");
            let relu =
                relu_backward_before(gpu, &label, dy, y, &dz, &backward_mirrors, &mut products)?;
            backward.push(relu);
        }
        backward.extend(products);
        let mut parameters = vec![filter];
        parameters.extend(bias);
        parameters.extend(affine_parameter);
        scratch.push(Box::new(dz));
        scratch.extend(zero_bias.map(|t| Box::new(t) as Box<dyn Any>));
        let flops = g.conv_flops();
        self.push(BuiltLayer {
            name,
            forward,
            forward_eval,
            backward,
            parameters,
            forward_flops: flops,
            backward_flops: flops * if input.grad.is_some() { 2 } else { 1 },
            convolution: true,
            running_statistics,
            _scratch: scratch,
        });
        Ok(out)
    }

    /// A pooling layer's name, geometry, and output: its own tensors or its slice of a
    /// concatenation (with the slice's channel offset).
    fn pool_output(
        &mut self,
        kind: &str,
        spec: &LayerSpec,
        input: &Activation,
        target: Option<SliceTarget>,
    ) -> Result<(String, WindowGeometry, Activation, usize), GpuError> {
        let name = self.name(kind);
        let g = spec
            .window_geometry(self.batch, input.shape)
            .expect("a pooling layer");
        let shape = [g.out_height, g.out_width, g.out_channels];
        let (out, offset) = self.output(&name, shape, target)?;
        Ok((name, g, out, offset))
    }

    fn max_pool(
        &mut self,
        spec: &LayerSpec,
        input: Activation,
        target: Option<SliceTarget>,
        accumulate: bool,
    ) -> Result<Activation, GpuError> {
        let gpu = self.gpu;
        let (name, g, out, offset) = self.pool_output("pool", spec, &input, target)?;
        let argmax = gpu.u32_buffer(&format!("{name}.argmax"), &vec![0; g.output_len()])?;
        let slice = |t| ChannelSlice {
            tensor: t,
            offset,
            channels: g.out_channels,
        };
        let forward = max_pool_forward(
            gpu,
            &format!("{name}.forward"),
            &g,
            &input.value,
            &argmax,
            slice(&out.value),
        )?;
        let mut backward = Vec::new();
        if let Some(dx) = &input.grad {
            let dy = out.grad.as_ref().expect("pool outputs have gradients");
            backward.push(max_pool_backward(
                gpu,
                &format!("{name}.backward"),
                &g,
                slice(dy),
                &argmax,
                dx,
                accumulate,
            )?);
        }
        self.push_parameterless(name, forward, backward, vec![Box::new(argmax)]);
        Ok(out)
    }

    fn avg_pool(
        &mut self,
        spec: &LayerSpec,
        input: Activation,
        target: Option<SliceTarget>,
        accumulate: bool,
    ) -> Result<Activation, GpuError> {
        let gpu = self.gpu;
        let (name, g, out, offset) = self.pool_output("avg_pool", spec, &input, target)?;
        let slice = |t| ChannelSlice {
            tensor: t,
            offset,
            channels: g.out_channels,
        };
        let forward = avg_pool_forward(
            gpu,
            &format!("{name}.forward"),
            &g,
            &input.value,
            slice(&out.value),
        )?;
        let mut backward = Vec::new();
        if let Some(dx) = &input.grad {
            let dy = out.grad.as_ref().expect("pool outputs have gradients");
            backward.push(avg_pool_backward(
                gpu,
                &format!("{name}.backward"),
                &g,
                slice(dy),
                dx,
                accumulate,
            )?);
        }
        self.push_parameterless(name, forward, backward, Vec::new());
        Ok(out)
    }

    /// Dropout on a flat activation: its mask is drawn from the step (the training pass's
    /// cursor) and a seed of the layer's own, from the weights' random stream.
    fn dropout(&mut self, rate: f64, input: Activation) -> Result<Activation, GpuError> {
        let gpu = self.gpu;
        let name = self.name("dropout");
        let out = self.activation(&name, input.shape)?;
        let dropout = Dropout {
            rate,
            seed: self.rng.next_u32(),
        };
        let dims = [self.batch, input.shape.iter().product()];
        let forward = |training: bool, label: &str| {
            dropout_forward(
                gpu,
                &format!("{name}.{label}"),
                dropout,
                training,
                dims,
                self.cursor,
                &input.value,
                &out.value,
            )
        };
        let (train, eval) = (forward(true, "forward")?, forward(false, "forward_eval")?);
        let mut backward = Vec::new();
        if let (Some(dx), Some(dy)) = (&input.grad, &out.grad) {
            backward.push(dropout_backward(
                gpu,
                &format!("{name}.backward"),
                dropout,
                dims,
                self.cursor,
                dy,
                dx,
            )?);
        }
        self.push(BuiltLayer {
            name,
            forward: vec![train],
            forward_eval: vec![eval],
            backward,
            parameters: Vec::new(),
            forward_flops: 0,
            backward_flops: 0,
            convolution: false,
            running_statistics: Vec::new(),
            _scratch: Vec::new(),
        });
        Ok(out)
    }

    fn lrn(
        &mut self,
        params: crate::reference::LrnParams,
        input: Activation,
    ) -> Result<Activation, GpuError> {
        let gpu = self.gpu;
        let name = self.name("lrn");
        let out = self.activation(&name, input.shape)?;
        let channels = input.shape[2];
        let scale = gpu.zeros(&format!("{name}.scale"), &out.value.shape)?;
        let forward = lrn_forward(
            gpu,
            &format!("{name}.forward"),
            channels,
            params,
            &input.value,
            &scale,
            &out.value,
        )?;
        let mut backward = Vec::new();
        if let (Some(dx), Some(dy)) = (&input.grad, &out.grad) {
            backward.push(lrn_backward(
                gpu,
                &format!("{name}.backward"),
                channels,
                params,
                &input.value,
                dy,
                &scale,
                dx,
            )?);
        }
        self.push_parameterless(name, forward, backward, vec![Box::new(scale)]);
        Ok(out)
    }

    fn mean_pool(&mut self, input: Activation) -> Result<Activation, GpuError> {
        let gpu = self.gpu;
        let name = self.name("mean_pool");
        let [h, w, c] = input.shape;
        let out = self.activation(&name, [1, 1, c])?;
        let dims = [self.batch, h * w, c];
        let forward = mean_pool_forward(
            gpu,
            &format!("{name}.forward"),
            dims,
            &input.value,
            &out.value,
        )?;
        let mut backward = Vec::new();
        if let (Some(dx), Some(dy)) = (&input.grad, &out.grad) {
            backward.push(mean_pool_backward(
                gpu,
                &format!("{name}.backward"),
                dims,
                dy,
                dx,
            )?);
        }
        self.push_parameterless(name, forward, backward, Vec::new());
        Ok(out)
    }

    fn dense(
        &mut self,
        kind: &str,
        units: usize,
        relu: bool,
        input: Activation,
    ) -> Result<Activation, GpuError> {
        let gpu = self.gpu;
        let name = if kind == "logits" {
            format!("{}logits", self.prefix)
        } else {
            self.name(kind)
        };
        let inputs: usize = input.shape.iter().product();
        let weight = glorot_uniform(&mut self.rng, inputs, units);
        let layer = Dense::new(gpu, &name, inputs, units, relu, self.batch, &weight)?;
        let forward = layer.forward(
            gpu,
            &input.value,
            &self.plan.gemm,
            &mut self.forward_mirrors,
        )?;
        let backward = layer.backward(
            gpu,
            &input.value,
            input.grad.as_deref(),
            &self.plan.gemm,
            &mut self.backward_mirrors(),
        )?;
        let flops = layer.training_flops(false) / 2;
        let with_input_grad = input.grad.is_some();
        self.gemm_shapes.extend(layer.gemm_shapes(with_input_grad));
        let (parameters, output, output_grad, pre_activation_grad) = layer.into_parts();
        let mut scratch: Vec<Box<dyn Any>> = Vec::new();
        if let Some(t) = pre_activation_grad {
            scratch.push(Box::new(t));
        }
        self.push(BuiltLayer {
            name,
            forward: forward.clone(),
            forward_eval: forward,
            backward,
            parameters,
            forward_flops: flops,
            backward_flops: flops * if with_input_grad { 2 } else { 1 },
            convolution: false,
            running_statistics: Vec::new(),
            _scratch: scratch,
        });
        Ok(Activation {
            value: Arc::new(output),
            grad: Some(Arc::new(output_grad)),
            shape: [1, 1, units],
        })
    }

    fn concat(
        &mut self,
        spec: &LayerSpec,
        branches: &[Vec<LayerSpec>],
        input: Activation,
        target: Option<SliceTarget>,
        accumulate: bool,
    ) -> Result<Activation, GpuError> {
        self.modules += 1;
        let module = format!("module{}", self.modules);
        let shape = output_shape(spec, input.shape, self.classes);
        // A concatenation that ends a branch of another writes its branches into that
        // one's slice (Inception V3's 1x3 and 3x1 side by side).
        let (out, mut offset) = self.output(&module, shape, target)?;
        let outer = std::mem::replace(&mut self.prefix, format!("{module}."));
        for (b, branch) in branches.iter().enumerate() {
            let channels = sequence_output_shape(branch, input.shape, self.classes)[2];
            let target = SliceTarget {
                value: out.value.clone(),
                grad: out.grad.clone().expect("concat outputs have gradients"),
                offset,
            };
            // The backward runs the branches last to first: the last branch writes the
            // input's gradient, the others add to it.
            let adds = accumulate || b + 1 < branches.len();
            self.sequence(branch, input.clone(), Some(target), adds)?;
            offset += channels;
        }
        self.prefix = outer;
        Ok(out)
    }
}
