//! Image folders too large to hold: decoded batch by batch on worker threads while the
//! GPU trains on the batches before.
//!
//! A stream is started for one pass (an epoch, or an evaluation) with the pass's sequence
//! of images. Worker `w` of `n` decodes batches `w`, `w + n`, `w + 2n`, ... in order and
//! hands each to the consumer through its own channel of [`QUEUED_BATCHES_PER_WORKER`]
//! places, so the consumer takes batches in order by visiting the workers in turn, at most
//! `n * QUEUED_BATCHES_PER_WORKER` batches wait decoded, and a slow consumer stops the
//! workers instead of filling memory. Dropping the stream (an epoch paused for a
//! checkpoint, a stop) closes the channels; each worker ends at its next batch.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::dataset::Label;
use crate::error::DataError;
use crate::folder::{FileList, load_image};
use crate::pixels::permute_image;

/// Decoded batches each worker may hold ready before the consumer takes them.
pub const QUEUED_BATCHES_PER_WORKER: usize = 2;

/// Decoding threads when nothing else is asked: every core. The thread that drives the
/// GPU mostly waits on it, so it takes little from them.
pub fn default_decode_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How every streamed image is made: its side, and the shuffled-pixels permutation where
/// that randomization applies (the same for every image of both splits).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecodeRecipe {
    pub size: usize,
    pub pixel_permutation: Option<Vec<usize>>,
}

impl DecodeRecipe {
    /// Bytes of one decoded image (3 x size x size).
    pub fn image_bytes(&self) -> usize {
        3 * self.size * self.size
    }
}

/// One batch as decoded: `labels.len()` images, channel-major, one after the other.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedBatch {
    pub pixels: Vec<u8>,
    pub labels: Vec<Label>,
}

type BatchResult = Result<DecodedBatch, DataError>;

/// The batches of one pass, in order (see the module's comment).
pub struct ImageStream {
    receivers: Vec<Receiver<BatchResult>>,
    workers: Vec<JoinHandle<()>>,
    next: usize,
    batches: usize,
}

impl ImageStream {
    /// Decode `split`'s images in `sequence` (indices into the split), `batch` at a time
    /// (the last batch may be short), on `threads` workers.
    pub fn start(
        split: Arc<FileList>,
        recipe: Arc<DecodeRecipe>,
        sequence: Vec<u32>,
        batch: usize,
        threads: usize,
    ) -> Self {
        assert!(batch > 0, "a stream's batch must hold an image");
        let sequence = Arc::new(sequence);
        let batches = sequence.len().div_ceil(batch);
        let threads = threads.clamp(1, batches.max(1));
        let mut receivers = Vec::with_capacity(threads);
        let mut workers = Vec::with_capacity(threads);
        for worker in 0..threads {
            let (sender, receiver) = sync_channel(QUEUED_BATCHES_PER_WORKER);
            receivers.push(receiver);
            let job = Job {
                split: split.clone(),
                recipe: recipe.clone(),
                sequence: sequence.clone(),
                batch,
                first: worker,
                every: threads,
            };
            let spawned = std::thread::Builder::new()
                .name(format!("decode-{worker}"))
                .spawn(move || job.run(sender));
            workers.push(spawned.expect("cannot start an image-decoding thread"));
        }
        Self {
            receivers,
            workers,
            next: 0,
            batches,
        }
    }

    /// Batches in the pass.
    pub fn batches(&self) -> usize {
        self.batches
    }

    /// The next batch in order, waiting for it to be decoded; None after the last. An
    /// image that cannot be read or decoded ends the stream with its error.
    pub fn next_batch(&mut self) -> Option<BatchResult> {
        if self.next >= self.batches {
            return None;
        }
        let receiver = &self.receivers[self.next % self.receivers.len()];
        self.next += 1;
        match receiver.recv() {
            Ok(result) => {
                if result.is_err() {
                    self.next = self.batches;
                }
                Some(result)
            }
            // A worker stops early only after sending an error (received above) or when
            // it panicked.
            Err(_) => {
                self.next = self.batches;
                Some(Err(DataError::Config {
                    message: "an image-decoding thread stopped unexpectedly".into(),
                }))
            }
        }
    }
}

impl Drop for ImageStream {
    fn drop(&mut self) {
        // Closing the channels first makes every worker's next send fail, so none is left
        // decoding for nobody; then wait for them, so no thread outlives the pass.
        self.receivers.clear();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

struct Job {
    split: Arc<FileList>,
    recipe: Arc<DecodeRecipe>,
    sequence: Arc<Vec<u32>>,
    batch: usize,
    first: usize,
    every: usize,
}

impl Job {
    fn run(self, sender: SyncSender<BatchResult>) {
        let batches = self.sequence.len().div_ceil(self.batch);
        for b in (self.first..batches).step_by(self.every) {
            let result = self.decode_batch(b);
            let failed = result.is_err();
            if sender.send(result).is_err() || failed {
                return;
            }
        }
    }

    fn decode_batch(&self, b: usize) -> BatchResult {
        let start = b * self.batch;
        let end = (start + self.batch).min(self.sequence.len());
        let image_bytes = self.recipe.image_bytes();
        let mut pixels = Vec::with_capacity((end - start) * image_bytes);
        let mut labels = Vec::with_capacity(end - start);
        let mut scratch = Vec::new();
        for &image in &self.sequence[start..end] {
            let image = image as usize;
            let mut decoded = load_image(&self.split.files[image], self.recipe.size)?;
            if let Some(positions) = &self.recipe.pixel_permutation {
                permute_image(&mut decoded, positions, &mut scratch);
            }
            pixels.extend_from_slice(&decoded);
            labels.push(self.split.labels[image]);
        }
        Ok(DecodedBatch { pixels, labels })
    }
}
