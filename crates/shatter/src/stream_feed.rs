//! Feeding a streamed dataset to the GPU: each pass's split is a window on the GPU (see
//! `ResidentSplit::window`) of a few steps' images. Before each group of steps is
//! submitted, the host takes the group's decoded batches from the pass's stream and writes
//! the images, their labels and the rows' places in the window; the writes are queued
//! behind the steps already submitted, so the GPU trains on one group while the workers
//! decode the next ones and nothing is read back.
//!
//! The batch kernel then gathers, crops and standardizes exactly as for a resident split:
//! the same images in the same order give the same batches.

use std::cell::RefCell;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use shatter_data::{DecodeRecipe, FileList, ImageStream, StreamedDataset};
use shatter_gpu::{Gpu, U32Buffer};

use crate::resident::{ResidentSplit, binding_bytes};

/// The most steps a window holds: the trainer's group of steps per submission.
pub const MAX_WINDOW_STEPS: usize = 8;

/// Which split a pass reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Train,
    Test,
}

pub struct StreamFeed {
    train: Arc<FileList>,
    test: Arc<FileList>,
    recipe: Arc<DecodeRecipe>,
    /// Steps a window holds, and so the steps of one group.
    pub window_steps: usize,
    batch: usize,
    threads: usize,
    /// A group's pixels, labels and window places, reused from group to group.
    staging: RefCell<(Vec<u8>, Vec<u32>, Vec<u32>)>,
}

impl StreamFeed {
    /// Plan the windows of `data` for batches of `batch`, decoding on `threads` workers:
    /// as many steps a window as one storage binding holds, up to [`MAX_WINDOW_STEPS`].
    pub fn new(gpu: &Gpu, data: &StreamedDataset, batch: usize, threads: usize) -> Result<Self> {
        let step_bytes = batch * data.image_bytes();
        let binding = binding_bytes(gpu);
        let window_steps = (binding / step_bytes.max(1)).min(MAX_WINDOW_STEPS);
        if window_steps == 0 {
            bail!(
                "batch size {batch}: a batch of {batch} images of {} bytes ({step_bytes} bytes) does not fit a storage binding of {binding} bytes on adapter '{}': use a smaller batch or image size",
                data.image_bytes(),
                gpu.adapter().name
            );
        }
        Ok(Self {
            train: Arc::new(data.train.clone()),
            test: Arc::new(data.test.clone()),
            recipe: Arc::new(data.recipe.clone()),
            window_steps,
            batch,
            threads,
            staging: RefCell::default(),
        })
    }

    /// The window of `which` split on the GPU.
    pub fn window(&self, gpu: &Gpu, name: &str, which: Which) -> Result<ResidentSplit> {
        ResidentSplit::window(
            gpu,
            name,
            self.split(which).len(),
            self.recipe.image_bytes(),
            self.window_steps * self.batch,
        )
    }

    fn split(&self, which: Which) -> &Arc<FileList> {
        match which {
            Which::Train => &self.train,
            Which::Test => &self.test,
        }
    }

    /// Start decoding `which` split's images in `sequence`, a batch at a time.
    pub fn start(&self, which: Which, sequence: Vec<u32>) -> ImageStream {
        ImageStream::start(
            self.split(which).clone(),
            self.recipe.clone(),
            sequence,
            self.batch,
            self.threads,
        )
    }

    /// Take the next `steps` batches of `stream` and queue them into `window`, with
    /// `order`'s rows from `first_step` on pointing at their places.
    pub fn fill(
        &self,
        gpu: &Gpu,
        stream: &mut ImageStream,
        window: &ResidentSplit,
        order: &U32Buffer,
        first_step: usize,
        steps: usize,
    ) -> Result<()> {
        let mut staging = self.staging.borrow_mut();
        let (pixels, labels, places) = &mut *staging;
        pixels.clear();
        labels.clear();
        for _ in 0..steps {
            let batch = stream
                .next_batch()
                .context("an image stream ended before its pass")?
                .context("streaming images")?;
            pixels.extend_from_slice(&batch.pixels);
            labels.extend(batch.labels.iter().map(|&l| u32::from(l)));
        }
        // Buffer writes go in whole words.
        pixels.resize(pixels.len().next_multiple_of(4), 0);
        places.clear();
        places.extend(0..labels.len() as u32);
        gpu.queue.write_buffer(&window.chunks[0].buffer, 0, pixels);
        gpu.write_u32(&window.labels, 0, labels);
        gpu.write_u32(order, first_step * self.batch, places);
        Ok(())
    }
}
