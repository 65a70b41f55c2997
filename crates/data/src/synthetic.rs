//! A stand-in for CIFAR-10 at full size, in its binary format: random pixels and labels,
//! 50,000 training and 10,000 test records by default. It lets the whole pipeline (the
//! loader, the resident upload in chunks, a full epoch, the sweep presets) be exercised
//! at CIFAR-10's scale without the 163 MB download; nothing in it can be learned.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cifar::{CIFAR10_DIR, IMAGE_BYTES, RECORD_BYTES, TEST_FILE, TRAIN_FILES};
use crate::error::DataError;

const CLASSES: u8 = 10;

/// Write `<data_dir>/cifar-10-batches-bin/` with `train` training records spread over the
/// five data batches (the first ones take the remainder) and `test` test records, drawn
/// from `seed`. Each file goes through a temporary name and a rename.
pub fn write_synthetic_cifar10(
    data_dir: &Path,
    train: usize,
    test: usize,
    seed: u64,
) -> Result<(), DataError> {
    let dir = data_dir.join(CIFAR10_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| DataError::Io {
        path: dir.clone(),
        message: format!("cannot create: {e}"),
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let batches = TRAIN_FILES.len();
    let counts = (0..batches).map(|i| train / batches + usize::from(i < train % batches));
    for (name, records) in TRAIN_FILES.iter().zip(counts).chain([(&TEST_FILE, test)]) {
        let mut bytes = vec![0u8; records * RECORD_BYTES];
        for record in bytes.chunks_exact_mut(RECORD_BYTES) {
            record[0] = rng.random_range(0..CLASSES);
            rng.fill(&mut record[1..=IMAGE_BYTES]);
        }
        let path = dir.join(name);
        let tmp = dir.join(format!("{name}.tmp"));
        std::fs::write(&tmp, &bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| DataError::Io {
                path: path.clone(),
                message: format!("cannot write: {e}"),
            })?;
    }
    Ok(())
}
