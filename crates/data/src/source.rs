//! A run's data as the trainer takes it: held whole (uploaded to the GPU once) or, for an
//! image folder too large for that, streamed from disk batch by batch.

use std::path::Path;

use crate::catalog::{DatasetSpec, load_dataset};
use crate::corruption::{Corruption, CorruptionReport, apply_corruption};
use crate::dataset::Dataset;
use crate::error::DataError;
use crate::folder::FolderIndex;
use crate::streamed::StreamedDataset;

/// Where a run's images live while it trains.
#[derive(Clone, Debug, PartialEq)]
pub enum RunDataset {
    /// Decoded whole, in memory and then on the GPU.
    Resident(Dataset),
    /// On disk, decoded on worker threads as the passes need them.
    Streamed(StreamedDataset),
}

/// How a folder's images are held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Residence {
    /// Whole where each split's decoded images fit the batch kernel's `bindings` storage
    /// bindings of `binding_bytes` each ([`images_per_binding`]), streamed otherwise.
    Fit {
        binding_bytes: usize,
        bindings: usize,
    },
    /// Streamed whatever its size (tests and comparisons of the two paths).
    Stream,
}

/// What a run loads: the folder side, the subsets, how it is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    pub image_size: Option<usize>,
    pub subset: Option<usize>,
    pub test_subset: Option<usize>,
    pub residence: Residence,
}

impl RunDataset {
    pub fn name(&self) -> &str {
        match self {
            Self::Resident(d) => &d.name,
            Self::Streamed(d) => &d.name,
        }
    }

    pub fn classes(&self) -> usize {
        match self {
            Self::Resident(d) => d.classes,
            Self::Streamed(d) => d.classes,
        }
    }

    /// [channels, height, width] of every image as loaded.
    pub fn image_shape(&self) -> [usize; 3] {
        match self {
            Self::Resident(d) => [d.channels, d.height, d.width],
            Self::Streamed(d) => [3, d.recipe.size, d.recipe.size],
        }
    }

    pub fn train_len(&self) -> usize {
        match self {
            Self::Resident(d) => d.train.len(),
            Self::Streamed(d) => d.train.len(),
        }
    }

    pub fn test_len(&self) -> usize {
        match self {
            Self::Resident(d) => d.test.len(),
            Self::Streamed(d) => d.test.len(),
        }
    }

    pub fn is_streamed(&self) -> bool {
        matches!(self, Self::Streamed(_))
    }

    /// Apply the randomization (see `apply_corruption` and
    /// `StreamedDataset::apply_corruption`, which draws the same).
    pub fn apply_corruption(
        &mut self,
        corruption: &Corruption,
        data_seed: u64,
    ) -> Result<CorruptionReport, DataError> {
        match self {
            Self::Resident(d) => Ok(apply_corruption(d, corruption, data_seed)),
            Self::Streamed(d) => d.apply_corruption(corruption, data_seed),
        }
    }
}

/// Whole images of `image_bytes` that one storage binding of `binding_bytes` holds, a
/// multiple of 4 of them so that every binding of u8 pixels starts on a word: the layout
/// of a split held on the GPU (shatter's ResidentSplit), which decides what streams.
pub fn images_per_binding(binding_bytes: usize, image_bytes: usize) -> usize {
    binding_bytes / image_bytes.max(1) / 4 * 4
}

/// Load `spec` for a run, cut to `plan`'s subsets; image folders stay on disk where
/// `plan.residence` says so. Folders are listed first, so a subset decodes only its images.
pub fn load_run_dataset(
    spec: &DatasetSpec,
    data_dir: &Path,
    plan: &LoadPlan,
) -> Result<RunDataset, DataError> {
    let Some((root, name, imagenet)) = spec.folder(data_dir)? else {
        let DatasetSpec::Named(name) = spec else {
            unreachable!("every spec but a named dataset is a folder")
        };
        let mut dataset = load_dataset(*name, data_dir)?;
        if let Some(n) = plan.subset {
            dataset.subset_train(n)?;
        }
        if let Some(n) = plan.test_subset {
            dataset.subset_test(n)?;
        }
        return Ok(RunDataset::Resident(dataset));
    };
    let size = plan
        .image_size
        .or(spec.default_image_size())
        .expect("folders have a default size");
    let index = FolderIndex::scan(&root, imagenet)?;
    let mut folder = StreamedDataset::new(index, name, size);
    if let Some(n) = plan.subset {
        folder.subset_train(n)?;
    }
    if let Some(n) = plan.test_subset {
        folder.subset_test(n)?;
    }
    let largest_split = folder.train.len().max(folder.test.len());
    let stream = match plan.residence {
        Residence::Stream => true,
        Residence::Fit {
            binding_bytes,
            bindings,
        } => {
            let per_binding = images_per_binding(binding_bytes, folder.image_bytes());
            largest_split > per_binding * bindings
        }
    };
    Ok(if stream {
        RunDataset::Streamed(folder)
    } else {
        RunDataset::Resident(folder.load_whole()?)
    })
}
