//! A dense (fully connected) layer, optionally followed by ReLU:
//!   y = relu(x W + b),  x [batch, inputs], W [inputs, outputs], b [outputs].
//! Backward, given dy:  dz = dy * (y > 0);  dW = x^T dz;  db = sum over rows of dz;
//! dx = dz W^T (skipped for the first layer, whose input needs no gradient).

use shatter_gpu::{Dispatch, Gpu, GpuError, Tensor};

use crate::gemm::gemm_mirrored;
use crate::gemm_plan::{GemmPlan, GemmShape};
use crate::optimizer::SgdConfig;
use crate::parameter::Parameter;
use crate::product::MirrorSet;
use crate::reduce::column_sum;
use crate::slice::ChannelSlice;
use crate::slice_relu::relu_backward_before;

pub struct Dense {
    pub name: String,
    pub inputs: usize,
    pub outputs: usize,
    pub relu: bool,
    /// [inputs, outputs], with weight decay.
    pub weight: Parameter,
    /// `[outputs]`, without weight decay.
    pub bias: Parameter,
    /// The layer's output y, [batch, outputs].
    pub output: Tensor,
    /// dL/dy, written by the layer above (or the loss).
    pub output_grad: Tensor,
    /// dL/dz before the ReLU; only for layers with ReLU.
    pre_activation_grad: Option<Tensor>,
}

impl Dense {
    /// Allocate the layer for `batch` rows with the given initial weights (biases start at 0).
    pub fn new(
        gpu: &Gpu,
        name: &str,
        inputs: usize,
        outputs: usize,
        relu: bool,
        batch: usize,
        weight: &[f32],
    ) -> Result<Self, GpuError> {
        let t = |what: &str, shape: &[usize]| gpu.zeros(&format!("{name}.{what}"), shape);
        Ok(Self {
            name: name.to_owned(),
            inputs,
            outputs,
            relu,
            weight: Parameter::new(
                gpu,
                &format!("{name}.weight"),
                &[inputs, outputs],
                weight,
                true,
            )?,
            bias: Parameter::zeros(gpu, &format!("{name}.bias"), &[outputs], false)?,
            output: t("output", &[batch, outputs])?,
            output_grad: t("output_grad", &[batch, outputs])?,
            pre_activation_grad: if relu {
                Some(t("pre_activation_grad", &[batch, outputs])?)
            } else {
                None
            },
        })
    }

    /// The layer taken apart: its parameters (weight, bias), output, output gradient, and
    /// the pre-activation gradient its backward dispatches use.
    pub fn into_parts(self) -> (Vec<Parameter>, Tensor, Tensor, Option<Tensor>) {
        (
            vec![self.weight, self.bias],
            self.output,
            self.output_grad,
            self.pre_activation_grad,
        )
    }

    pub fn parameter_count(&self) -> usize {
        self.inputs * self.outputs + self.outputs
    }

    fn batch(&self) -> usize {
        self.output.shape[0]
    }

    /// y = x W: [batch, inputs] x [inputs, outputs].
    pub fn forward_shape(&self) -> GemmShape {
        GemmShape {
            m: self.batch(),
            n: self.outputs,
            k: self.inputs,
            trans_a: false,
            trans_b: false,
        }
    }

    /// dW = x^T dz: x is read transposed.
    pub fn weight_grad_shape(&self) -> GemmShape {
        GemmShape {
            m: self.inputs,
            n: self.outputs,
            k: self.batch(),
            trans_a: true,
            trans_b: false,
        }
    }

    /// dx = dz W^T: W is read transposed.
    pub fn input_grad_shape(&self) -> GemmShape {
        GemmShape {
            m: self.batch(),
            n: self.inputs,
            k: self.outputs,
            trans_a: false,
            trans_b: true,
        }
    }

    /// The shapes of the GEMMs of one training step, with or without the input's gradient.
    pub fn gemm_shapes(&self, with_input_grad: bool) -> Vec<GemmShape> {
        let mut shapes = vec![self.forward_shape(), self.weight_grad_shape()];
        if with_input_grad {
            shapes.push(self.input_grad_shape());
        }
        shapes
    }

    /// y = relu(x W + b) in one fused GEMM (with its operand copies, see `gemm`).
    pub fn forward(
        &self,
        gpu: &Gpu,
        input: &Tensor,
        plan: &GemmPlan,
        mirrors: &mut MirrorSet,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let mut spec = plan.spec(self.forward_shape());
        spec.relu = self.relu;
        gemm_mirrored(
            gpu,
            &format!("{}.forward", self.name),
            spec,
            input,
            &self.weight.value,
            Some(&self.bias.value),
            &self.output,
            mirrors,
        )
    }

    /// The backward dispatches, in order. `input_grad` receives dx when given. `mirrors`
    /// is the one the forward was built with (see [`MirrorSet`]).
    pub fn backward(
        &self,
        gpu: &Gpu,
        input: &Tensor,
        input_grad: Option<&Tensor>,
        plan: &GemmPlan,
        mirrors: &mut MirrorSet,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let batch = self.batch();
        let dz = self
            .pre_activation_grad
            .as_ref()
            .unwrap_or(&self.output_grad);
        let mut dispatches = gemm_mirrored(
            gpu,
            &format!("{}.weight_grad", self.name),
            plan.spec(self.weight_grad_shape()),
            input,
            dz,
            None,
            &self.weight.grad,
            mirrors,
        )?;
        dispatches.extend(column_sum(
            gpu,
            &format!("{}.bias_grad", self.name),
            dz,
            batch,
            self.outputs,
            &self.bias.grad,
        )?);
        if let Some(dx) = input_grad {
            dispatches.extend(gemm_mirrored(
                gpu,
                &format!("{}.input_grad", self.name),
                plan.spec(self.input_grad_shape()),
                dz,
                &self.weight.value,
                None,
                dx,
                mirrors,
            )?);
        }
        // The ReLU backward runs first, and is built last so that it can fill dz's mirror
        // for the products above.
        if self.pre_activation_grad.is_some() {
            let label = format!("{}.relu_backward", self.name);
            let y = ChannelSlice::whole(&self.output);
            let relu = relu_backward_before(
                gpu,
                &label,
                &self.output_grad,
                y,
                dz,
                mirrors,
                &mut dispatches,
            )?;
            dispatches.insert(0, relu);
        }
        Ok(dispatches)
    }

    /// Momentum-SGD updates of the weight (with weight decay) and the bias (without).
    pub fn update(
        &self,
        gpu: &Gpu,
        config: &SgdConfig,
        cursor: &shatter_gpu::wgpu::Buffer,
    ) -> Result<Vec<Dispatch>, GpuError> {
        Ok(vec![
            self.weight.update(gpu, config, cursor, None)?,
            self.bias.update(gpu, config, cursor, None)?,
        ])
    }

    /// FLOPs of one training step of this layer (forward, weight gradient, and the input
    /// gradient when computed).
    pub fn training_flops(&self, with_input_grad: bool) -> u64 {
        let gemm = 2 * (self.batch() * self.inputs * self.outputs) as u64;
        gemm * if with_input_grad { 3 } else { 2 }
    }
}
