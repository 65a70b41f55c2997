//! The page's one device and what it offers: runs to train and previews of the data.

use anyhow::{Context, Result, bail};
use shatter::{InputCrop, TrainConfig, Trainer, load_run_data, sample_grid};
use shatter_data::{Corruption, apply_corruption};
use shatter_gpu::Gpu;
use shatter_nn::{LrSchedule, ModelKind, SgdConfig, WeightInit};

use crate::web_run::WebRun;

/// Test images every run evaluates on (the quick preset's 500).
pub const TEST_IMAGES: usize = 500;
/// The most images a preview draws.
pub const PREVIEW_MAX_IMAGES: usize = 64;
/// The training images a page run may ask for: the bundled subset holds 10,000.
const IMAGES: std::ops::RangeInclusive<usize> = 256..=10_000;

/// One device, opened once per page and kept for its lifetime (runs borrow it).
pub struct Lab {
    gpu: &'static Gpu,
}

/// What the page asks of one run: the quick preset's settings (`assets/sweeps/quick.toml`)
/// with the model, sizes and randomization chosen on the page.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRequest {
    pub model: String,
    /// Training images: the first ones of the bundled subset.
    pub images: usize,
    /// A randomization as configs write it (`none`, `labels:P`, `random-labels`, ...).
    pub setting: String,
    pub seed: u64,
    pub batch: usize,
    pub lr: f64,
}

impl RunRequest {
    /// The run's config: what `cargo xtask train` would run for the same request.
    pub fn config(&self) -> Result<TrainConfig> {
        if !IMAGES.contains(&self.images) {
            bail!(
                "images {}: choose between {} and {} training images",
                self.images,
                IMAGES.start(),
                IMAGES.end()
            );
        }
        let config = TrainConfig {
            model: self.model.clone(),
            dataset: "fashion-mnist-mini".into(),
            corrupt: self.setting.clone(),
            subset: Some(self.images),
            test_subset: Some(TEST_IMAGES),
            seed: self.seed,
            data_seed: self.seed,
            batch_size: self.batch,
            lr: self.lr,
            ..TrainConfig::default()
        };
        config.validate()?;
        Ok(config)
    }
}

/// An RGBA picture for a canvas.
pub struct Preview {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Lab {
    /// Open the browser's WebGPU adapter.
    #[cfg(target_arch = "wasm32")]
    pub async fn open() -> Result<Self> {
        let gpu = Gpu::browser().await?;
        Ok(Self::holding(gpu))
    }

    /// Open the adapter every shatter command would choose (the native tests' lab).
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn open() -> Result<Self> {
        Ok(Self::holding(Gpu::new(None)?))
    }

    /// A lab on a device already open for the rest of the program (the native tests share
    /// theirs).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn on(gpu: &'static Gpu) -> Self {
        Self { gpu }
    }

    /// Keep `gpu` for the rest of the program: a page opens one device and keeps it while
    /// it is open, and runs hold references to it.
    fn holding(gpu: Gpu) -> Self {
        Self {
            gpu: Box::leak(Box::new(gpu)),
        }
    }

    pub fn gpu(&self) -> &'static Gpu {
        self.gpu
    }

    /// The adapter in one line, as run records name it.
    pub fn adapter(&self) -> String {
        self.gpu.adapter().describe()
    }

    /// The limits a page's kernels run into, in one line.
    pub fn limits(&self) -> String {
        let limits = self.gpu.limits();
        format!(
            "{} storage buffers per stage, {} MiB per storage binding, {} KiB workgroup memory",
            limits.max_storage_buffers_per_shader_stage,
            limits.max_storage_buffer_binding_size >> 20,
            limits.max_compute_workgroup_storage_size >> 10,
        )
    }

    /// Load and randomize the request's data and build its trainer, then wait for the
    /// device's verdict on every buffer and kernel built (a kernel the adapter cannot run
    /// fails here, named, not in the middle of training).
    pub async fn prepare(&self, request: &RunRequest) -> Result<WebRun> {
        let config = request.config()?;
        let model: ModelKind = config.model.parse().map_err(anyhow::Error::msg)?;
        // The bundled dataset is embedded: no directory is read.
        let (dataset, _) = load_run_data(&config, std::path::Path::new(""))?;
        let train_images = dataset.train.len();
        let sgd = SgdConfig {
            schedule: LrSchedule {
                lr0: config.lr,
                decay: config.lr_decay,
                decay_images: config.lr_decay_images.unwrap_or(train_images as u64) as f64,
                staircase: config.lr_staircase,
            },
            momentum: config.momentum,
            weight_decay: config.weight_decay,
        };
        let trainer = Trainer::build(
            self.gpu,
            &dataset,
            model,
            config.batch_size,
            WeightInit {
                seed: config.seed,
                conv: config.conv_init.parse().map_err(shatter::ConfigError)?,
            },
            &sgd,
            InputCrop {
                size: config.crop,
                random: false,
                flip: false,
            },
        )
        .with_context(|| format!("building {} for {}", config.model, config.corrupt))?;
        self.gpu
            .settle(&format!("building {} for {}", config.model, config.corrupt))
            .await?;
        Ok(WebRun::new(trainer, &config, dataset.test.len()))
    }

    /// The show-data picture of `setting`: the first `columns` x `rows` training images as
    /// a run with `seed` sees them, each framed green where its label is true and red where
    /// the randomization changed it.
    pub fn preview(&self, setting: &str, columns: u32, rows: u32, seed: u64) -> Result<Preview> {
        preview(setting, columns, rows, seed)
    }
}

/// [`Lab::preview`], which needs no device.
pub fn preview(setting: &str, columns: u32, rows: u32, seed: u64) -> Result<Preview> {
    let shown = (columns * rows) as usize;
    if shown == 0 || shown > PREVIEW_MAX_IMAGES {
        bail!("preview of {columns} x {rows} images: show 1 to {PREVIEW_MAX_IMAGES}");
    }
    let config = TrainConfig {
        corrupt: setting.to_owned(),
        subset: Some(shown),
        test_subset: Some(1),
        seed,
        data_seed: seed,
        ..TrainConfig::default()
    };
    config.validate()?;
    let corruption: Corruption = config.corrupt.parse()?;
    // Loaded once, true; the randomized copy draws what `load_run_data` would have drawn.
    let truth = TrainConfig {
        corrupt: "none".into(),
        ..config.clone()
    };
    let (true_data, _) = load_run_data(&truth, std::path::Path::new(""))?;
    let mut dataset = true_data.clone();
    apply_corruption(&mut dataset, &corruption, config.data_seed);
    let grid = sample_grid(&dataset, &true_data.train.labels, columns, rows);
    let (width, height) = grid.dimensions();
    let rgba = grid
        .pixels()
        .flat_map(|p| [p.0[0], p.0[1], p.0[2], 255])
        .collect();
    Ok(Preview {
        width,
        height,
        rgba,
    })
}
