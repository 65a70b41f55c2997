//! `cargo xtask make-synthetic-cifar10`: a CIFAR-10 stand-in of random records at full size,
//! for trying shatter at CIFAR-10's scale without the download (see
//! `shatter_data::write_synthetic_cifar10`).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub struct MakeSyntheticArgs {
    /// Data folder to write cifar-10-batches-bin/ into (default: $SHATTER_DATA or ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 50_000)]
    train: usize,
    #[arg(long, default_value_t = 10_000)]
    test: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn run(args: MakeSyntheticArgs) -> Result<()> {
    let dir = args.data_dir.unwrap_or_else(shatter_data::default_data_dir);
    shatter_data::write_synthetic_cifar10(&dir, args.train, args.test, args.seed)?;
    println!(
        "wrote {} training and {} test records of random pixels and labels to {} (as --dataset cifar10 reads them)",
        args.train,
        args.test,
        dir.join(shatter_data::CIFAR10_DIR).display()
    );
    Ok(())
}
