//! Small image folders for the tests of folder datasets: three classes of noisy images of
//! differing sizes, half PNG and half JPEG, so loading exercises both decoders and the
//! resize.

use std::path::Path;

use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `root/{train,val}/class{0,1,2}/`: `train` and `val` images a class, each 14 to 29 pixels
/// a side, tinted by class, with noise drawn from `seed`.
pub fn write_noisy_folder(root: &Path, train: usize, val: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for (split, n) in [("train", train), ("val", val)] {
        for (class, tint) in [[90u8, 0, 0], [0, 90, 0], [0, 0, 90]].iter().enumerate() {
            let dir = root.join(split).join(format!("class{class}"));
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                let (w, h) = (rng.random_range(14..30), rng.random_range(14..30));
                let image = RgbImage::from_fn(w, h, |_, _| {
                    Rgb(tint.map(|t| t.saturating_add(rng.random_range(0..160))))
                });
                let ext = if i % 2 == 0 { "png" } else { "jpg" };
                image.save(dir.join(format!("{i}.{ext}"))).unwrap();
            }
        }
    }
}
