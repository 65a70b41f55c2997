use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use shatter_data::{Corruption, DatasetSpec, apply_corruption, load_spec};

#[derive(Args)]
pub struct ShowDataArgs {
    #[arg(long, default_value = "fashion-mnist-mini")]
    dataset: String,
    /// The randomization to show (as for `train`).
    #[arg(long, default_value = "none")]
    corrupt: String,
    #[arg(long, default_value_t = 1)]
    data_seed: u64,
    /// The PNG to write.
    #[arg(long, default_value = "grid.png")]
    out: PathBuf,
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Write a PNG of the first 32 training images as the network sees them (before
/// standardization), labels under them; red frames mark labels the randomization changed.
pub fn run(args: ShowDataArgs) -> Result<()> {
    let spec: DatasetSpec = args.dataset.parse()?;
    let corruption: Corruption = args.corrupt.parse()?;
    let data_dir = args.data_dir.unwrap_or_else(shatter_data::default_data_dir);
    let mut dataset = load_spec(&spec, &data_dir, None)?;
    let true_labels = dataset.train.labels.clone();
    let report = apply_corruption(&mut dataset, &corruption, args.data_seed);
    let grid = shatter::sample_grid(&dataset, &true_labels, 8, 4);
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create directory", dir.display()))?;
    }
    // Through a temporary name, so an interrupted write never leaves a broken PNG.
    let tmp = args.out.with_extension("png.tmp");
    grid.save_with_format(&tmp, image::ImageFormat::Png)
        .with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, &args.out)
        .with_context(|| format!("{}: cannot rename into place", args.out.display()))?;
    println!(
        "wrote {} ({} on {}, {:.1}% of training labels changed)",
        args.out.display(),
        report.mode,
        dataset.name,
        100.0 * report.fraction_labels_changed
    );
    Ok(())
}
