use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use shatter_data::DatasetName;
use xtask::download::{Outcome, install, source};

use crate::BadInput;

#[derive(Args)]
pub struct DownloadArgs {
    /// cifar10, fashion-mnist or mnist.
    dataset: String,
    /// Data folder (default: $SHATTER_DATA or ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A mirror: a base URL the file names are appended to (or the file's own URL). The
    /// published checksums still apply.
    #[arg(long)]
    url: Option<String>,
}

pub fn run(args: DownloadArgs) -> Result<()> {
    let name: DatasetName = args.dataset.parse()?;
    let source = source(name)?;
    if args
        .url
        .as_deref()
        .is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://")))
    {
        return Err(BadInput(format!(
            "--url '{}': expected an http:// or https:// URL",
            args.url.unwrap_or_default()
        ))
        .into());
    }
    let data_dir = args.data_dir.unwrap_or_else(shatter_data::default_data_dir);
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let outcome = install(
        &source,
        &data_dir,
        args.url.as_deref(),
        &mut |file, done, total| {
            bar.set_prefix(file.to_owned());
            if let Some(total) = total {
                bar.set_length(total);
            }
            bar.set_position(done);
        },
    )?;
    bar.finish_and_clear();
    match outcome {
        Outcome::AlreadyPresent(dir) => println!(
            "{} is already in {}: nothing to do",
            source.name,
            dir.display()
        ),
        Outcome::Installed(dir) => println!(
            "{} is in {}, checksums verified",
            source.name,
            dir.display()
        ),
    }
    Ok(())
}
