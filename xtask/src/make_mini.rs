use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub struct MakeMiniArgs {
    /// Folder with the four original Fashion-MNIST .gz files.
    #[arg(long, default_value = "/usr/share/datasets/fashion-mnist")]
    source: PathBuf,
    /// Where to write the subset.
    #[arg(long, default_value = "assets/fashion-mnist-mini")]
    dest: PathBuf,
    #[arg(long, default_value_t = 10_000)]
    train: usize,
    #[arg(long, default_value_t = 2_000)]
    test: usize,
}

pub fn run(args: MakeMiniArgs) -> Result<()> {
    shatter_data::make_fashion_mnist_mini(&args.source, &args.dest, args.train, args.test)?;
    println!(
        "wrote the first {} training and {} test images of {} to {}",
        args.train,
        args.test,
        args.source.display(),
        args.dest.display()
    );
    Ok(())
}
