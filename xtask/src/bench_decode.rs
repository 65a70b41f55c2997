//! `cargo xtask bench-decode`: how fast the streamed path's CPU side (read, decode, resize,
//! centre-crop) turns an image folder's files into training images, on one thread and on
//! every core: the figure that says how many cores keep a GPU fed (docs/imagenet.md).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use shatter_data::{DatasetSpec, DecodeRecipe, FileList, FolderIndex, ImageStream};

use crate::BadInput;

#[derive(Args)]
pub struct BenchDecodeArgs {
    /// An image folder: imagenet-mini (default), imagenet, imagenet:PATH or folder:PATH.
    #[arg(long, default_value = "imagenet-mini")]
    dataset: String,
    /// The side images are decoded to (default: the dataset's; 342 for ImageNet).
    #[arg(long)]
    image_size: Option<usize>,
    /// Training images decoded per measurement (the first ones of the index).
    #[arg(long, default_value_t = 2000)]
    images: usize,
    /// Thread counts to measure, comma-separated (default: 1 and every core).
    #[arg(long, value_delimiter = ',')]
    threads: Vec<usize>,
    /// Data folder (default: $SHATTER_DATA or ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

pub fn run(args: BenchDecodeArgs) -> Result<()> {
    let spec: DatasetSpec = args.dataset.parse()?;
    let data_dir = args.data_dir.unwrap_or_else(shatter_data::default_data_dir);
    let Some((root, name, imagenet)) = spec.folder(&data_dir)? else {
        return Err(BadInput(format!(
            "--dataset {}: bench-decode measures image folders (imagenet-mini, imagenet, imagenet:PATH, folder:PATH)",
            args.dataset
        ))
        .into());
    };
    if args.images == 0 || args.image_size == Some(0) || args.threads.contains(&0) {
        return Err(
            BadInput("--images, --image-size and --threads must be at least 1".into()).into(),
        );
    }
    let size = args
        .image_size
        .or(spec.default_image_size())
        .expect("folders have a size");
    let index = FolderIndex::scan(&root, imagenet)?;
    let n = args.images.min(index.train.len());
    let split = Arc::new(FileList {
        files: index.train.files[..n].to_vec(),
        labels: index.train.labels[..n].to_vec(),
    });
    let bytes: u64 = split
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let pixels: f64 = split
        .files
        .iter()
        .filter_map(|f| image::image_dimensions(f).ok())
        .map(|(w, h)| f64::from(w) * f64::from(h))
        .sum();
    println!(
        "{name}: {n} training images, {:.0} KB and {:.0} kilopixels each on average, decoded to {size}x{size}",
        bytes as f64 / n as f64 / 1000.0,
        pixels / n as f64 / 1000.0
    );
    let threads = if args.threads.is_empty() {
        let all = shatter_data::default_decode_threads();
        if all > 1 { vec![1, all] } else { vec![1] }
    } else {
        args.threads
    };
    let recipe = Arc::new(DecodeRecipe {
        size,
        pixel_permutation: None,
    });
    for t in threads {
        let started = Instant::now();
        let mut stream = ImageStream::start(
            split.clone(),
            recipe.clone(),
            (0..n as u32).collect(),
            32,
            t,
        );
        while let Some(batch) = stream.next_batch() {
            batch?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let rate = n as f64 / seconds;
        println!(
            "{t:>3} thread(s): {rate:8.1} images/s ({:.1} per thread), {seconds:.2} s",
            rate / t as f64
        );
    }
    Ok(())
}
