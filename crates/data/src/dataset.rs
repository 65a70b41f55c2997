use crate::error::DataError;

/// One split: images (channel-major, `image_bytes` each) and their labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn image(&self, i: usize, image_bytes: usize) -> &[u8] {
        &self.images[i * image_bytes..(i + 1) * image_bytes]
    }
}

/// A classification dataset of u8 images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    pub name: String,
    pub classes: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub train: Split,
    pub test: Split,
}

impl Dataset {
    pub fn image_bytes(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Keep the first `n` training images.
    pub fn subset_train(&mut self, n: usize) -> Result<(), DataError> {
        let have = self.train.len();
        if n == 0 || n > have {
            return Err(DataError::Config {
                message: format!(
                    "subset {n}: must be between 1 and the {have} training images of {}",
                    self.name
                ),
            });
        }
        self.train.images.truncate(n * self.image_bytes());
        self.train.labels.truncate(n);
        Ok(())
    }
}
