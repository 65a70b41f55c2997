//! A folder dataset that stays on disk: its index, cut and randomized like a resident
//! dataset, and the recipe every image is decoded by (crate::stream decodes it).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::corruption::{Corruption, CorruptionReport, corrupt_labels};
use crate::dataset::{Dataset, keep_first_message};
use crate::error::DataError;
use crate::folder::{FileList, FolderIndex, load_split};
use crate::pixels::draw_pixel_permutation;
use crate::stream::DecodeRecipe;

#[derive(Clone, Debug, PartialEq)]
pub struct StreamedDataset {
    pub name: String,
    pub classes: usize,
    pub train: FileList,
    pub test: FileList,
    pub recipe: DecodeRecipe,
}

impl StreamedDataset {
    /// `index`'s files, decoded at `size` x `size` when streamed.
    pub fn new(index: FolderIndex, name: String, size: usize) -> Self {
        Self {
            name,
            classes: index.classes.len(),
            train: index.train,
            test: index.test,
            recipe: DecodeRecipe {
                size,
                pixel_permutation: None,
            },
        }
    }

    /// Decode every image now, into a dataset held whole (the resident path), before any
    /// randomization.
    pub fn load_whole(&self) -> Result<Dataset, DataError> {
        assert!(
            self.recipe.pixel_permutation.is_none(),
            "load_whole before the randomization"
        );
        let size = self.recipe.size;
        Ok(Dataset {
            name: self.name.clone(),
            classes: self.classes,
            channels: 3,
            height: size,
            width: size,
            train: load_split(&self.train.files, &self.train.labels, size)?,
            test: load_split(&self.test.files, &self.test.labels, size)?,
        })
    }

    /// Values per image (3 x size x size).
    pub fn image_bytes(&self) -> usize {
        self.recipe.image_bytes()
    }

    /// Keep the first `n` training images (as `Dataset::subset_train`).
    pub fn subset_train(&mut self, n: usize) -> Result<(), DataError> {
        keep_first(&self.name, "training", &mut self.train, n)
    }

    /// Keep the first `n` test images (as `Dataset::subset_test`).
    pub fn subset_test(&mut self, n: usize) -> Result<(), DataError> {
        keep_first(&self.name, "test", &mut self.test, n)
    }

    /// Apply `corruption` drawn from `data_seed`, exactly as `apply_corruption` draws it for
    /// the same images held whole: the same labels, the same shuffled-pixels permutation.
    /// Random pixels (a permutation per image, drawn in order) and Gaussian images (drawn
    /// from statistics over every training image) would need every image decoded before
    /// training starts, the cost streaming avoids: they are refused, naming the remedy.
    pub fn apply_corruption(
        &mut self,
        corruption: &Corruption,
        data_seed: u64,
    ) -> Result<CorruptionReport, DataError> {
        if matches!(corruption, Corruption::RandomPixels | Corruption::Gaussian) {
            return Err(DataError::Config {
                message: format!(
                    "corruption {corruption} needs every image in memory, but {} is streamed from disk: \
                     use a folder small enough to load whole (a smaller --image-size or --subset), \
                     or one of none, labels:P, random-labels, shuffled-pixels",
                    self.name
                ),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(data_seed);
        let changed = corrupt_labels(&mut self.train.labels, self.classes, corruption, &mut rng);
        let mut report =
            CorruptionReport::labels_only(corruption, data_seed, changed, self.train.len());
        if *corruption == Corruption::ShuffledPixels {
            let plane = self.recipe.size * self.recipe.size;
            self.recipe.pixel_permutation = Some(draw_pixel_permutation(plane, &mut rng));
            report.pixel_permutations = 1;
        }
        Ok(report)
    }
}

fn keep_first(dataset: &str, which: &str, split: &mut FileList, n: usize) -> Result<(), DataError> {
    let have = split.len();
    if n == 0 || n > have {
        return Err(DataError::Config {
            message: keep_first_message(dataset, which, n, have),
        });
    }
    split.files.truncate(n);
    split.labels.truncate(n);
    Ok(())
}
