//! A network built for one batch size: its layers, its input and label buffers, and the
//! prebuilt dispatches of forward, backward and update.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use shatter_gpu::{Dispatch, Gpu, GpuError, Tensor, U32Buffer};

use crate::dense::Dense;
use crate::gemm::GemmVariant;
use crate::init::glorot_uniform;
use crate::loss::softmax_xent;
use crate::model::ModelKind;
use crate::optimizer::SgdConfig;

pub struct Network {
    pub kind: ModelKind,
    pub batch: usize,
    /// [channels, height, width] of one input image.
    pub input_shape: [usize; 3],
    pub classes: usize,
    pub variant: GemmVariant,
    /// [batch, values]: written by the batch kernel.
    pub input: Tensor,
    /// [batch]: written by the batch kernel.
    pub labels: U32Buffer,
    pub layers: Vec<Dense>,
    forward: Vec<Dispatch>,
    backward: Vec<Dispatch>,
}

impl Network {
    /// Build `kind` for `batch` images of `input_shape`, with weights drawn from `seed`.
    pub fn build(
        gpu: &Gpu,
        kind: ModelKind,
        input_shape: [usize; 3],
        classes: usize,
        batch: usize,
        seed: u64,
    ) -> Result<Self, GpuError> {
        let variant = GemmVariant::for_adapter(gpu);
        let values: usize = input_shape.iter().product();
        let input = gpu.zeros("input", &[batch, values])?;
        let labels = gpu.u32_buffer("labels", &vec![0; batch])?;
        let widths = kind.widths(values, classes);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut layers = Vec::new();
        for (i, pair) in widths.windows(2).enumerate() {
            let relu = i + 2 < widths.len();
            let weight = glorot_uniform(&mut rng, pair[0], pair[1]);
            layers.push(Dense::new(
                gpu,
                &format!("dense{}", i + 1),
                pair[0],
                pair[1],
                relu,
                batch,
                &weight,
            )?);
        }
        let mut forward = Vec::new();
        for (i, layer) in layers.iter().enumerate() {
            let x = if i == 0 {
                &input
            } else {
                &layers[i - 1].output
            };
            forward.push(layer.forward(gpu, x, variant)?);
        }
        let mut backward = Vec::new();
        for i in (0..layers.len()).rev() {
            let (x, dx) = if i == 0 {
                (&input, None)
            } else {
                (&layers[i - 1].output, Some(&layers[i - 1].output_grad))
            };
            backward.extend(layers[i].backward(gpu, x, dx, variant)?);
        }
        Ok(Self {
            kind,
            batch,
            input_shape,
            classes,
            variant,
            input,
            labels,
            layers,
            forward,
            backward,
        })
    }

    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(Dense::parameter_count).sum()
    }

    /// Logits, [batch, classes].
    pub fn logits(&self) -> &Tensor {
        &self.layers.last().expect("a network has layers").output
    }

    /// Where the loss writes dL/dlogits.
    pub fn logits_grad(&self) -> &Tensor {
        &self
            .layers
            .last()
            .expect("a network has layers")
            .output_grad
    }

    pub fn forward(&self) -> &[Dispatch] {
        &self.forward
    }

    pub fn backward(&self) -> &[Dispatch] {
        &self.backward
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

    /// The optimizer's dispatches over every parameter tensor.
    pub fn update(
        &self,
        gpu: &Gpu,
        config: &SgdConfig,
        cursor: &shatter_gpu::wgpu::Buffer,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let mut all = Vec::new();
        for layer in &self.layers {
            all.extend(layer.update(gpu, config, cursor)?);
        }
        Ok(all)
    }

    /// FLOPs of one training step (forward and backward GEMMs; elementwise work not counted).
    pub fn training_flops_per_step(&self) -> u64 {
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| l.training_flops(i > 0))
            .sum()
    }
}
