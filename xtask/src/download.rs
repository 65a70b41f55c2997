//! `cargo xtask download`: fetch a dataset into the data directory in the layout the
//! loaders read. Every file is verified against its published MD5 before it is used,
//! downloads resume, and nothing that looks complete is ever half written: files are
//! renamed into place only once verified, and CIFAR-10 is unpacked beside its final
//! folder and renamed in one step.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use shatter_data::{CIFAR10_DIR, DatasetName, RECORD_BYTES, TEST_FILE, TRAIN_FILES};

use crate::fetch::{Fetched, fetch};

/// How a dataset is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// IDX files, stored as published in `<data-dir>/<name>/`.
    IdxFiles,
    /// One tar.gz archive that unpacks to `<data-dir>/cifar-10-batches-bin/`.
    CifarArchive,
}

/// Where a dataset comes from and what its files must hash to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub base_url: String,
    /// (file name, MD5 hex)
    pub files: Vec<(String, String)>,
    pub layout: Layout,
}

const IDX_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

fn idx_source(name: &str, base_url: &str, md5s: [&str; 4]) -> Source {
    Source {
        name: name.into(),
        base_url: base_url.into(),
        files: IDX_FILES
            .iter()
            .zip(md5s)
            .map(|(f, m)| (f.to_string(), m.to_string()))
            .collect(),
        layout: Layout::IdxFiles,
    }
}

/// The published source of a dataset (checksums as the authors and torchvision list them).
pub fn source(name: DatasetName) -> Result<Source> {
    Ok(match name {
        DatasetName::Cifar10 => Source {
            name: "cifar10".into(),
            base_url: "https://www.cs.toronto.edu/~kriz/".into(),
            files: vec![(
                "cifar-10-binary.tar.gz".into(),
                "c32a1d4ab5d03f1284b67883e8d87530".into(),
            )],
            layout: Layout::CifarArchive,
        },
        DatasetName::FashionMnist => idx_source(
            "fashion-mnist",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            [
                "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "25c81989df183df01b3e8a0aad5dffbe",
                "bef4ecab320f06d8554ea6380940ec79",
                "bb300cfdad3c16e7a12a480ee83cd310",
            ],
        ),
        DatasetName::Mnist => idx_source(
            "mnist",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            [
                "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "d53e105ee54ea40749a09fcbcd1e9432",
                "9fb629c4189551a2d022fa330f9573f3",
                "ec29112dd5afa0611ce80d1b7f02629c",
            ],
        ),
        DatasetName::FashionMnistMini => {
            bail!(crate::BadInput(
                "fashion-mnist-mini is bundled with shatter: there is nothing to download".into()
            ))
        }
    })
}

/// The URL of `file`: under the source's base, or under `mirror` (a base URL, or the
/// file's own URL when the mirror path already ends with its name).
fn url_of(source: &Source, file: &str, mirror: Option<&str>) -> String {
    match mirror {
        Some(m) if m.ends_with(file) => m.to_owned(),
        Some(m) => format!("{}/{file}", m.trim_end_matches('/')),
        None => format!("{}{file}", source.base_url),
    }
}

/// What `install` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    AlreadyPresent(PathBuf),
    Installed(PathBuf),
}

/// The six CIFAR-10 batches are in `dir`, each a whole number of records.
fn cifar_complete(dir: &Path) -> bool {
    TRAIN_FILES.iter().chain([&TEST_FILE]).all(|f| {
        std::fs::metadata(dir.join(f))
            .map(|m| m.is_file() && m.len() > 0 && m.len() % RECORD_BYTES as u64 == 0)
            .unwrap_or(false)
    })
}

/// Fetch and place `source` under `data_dir`. `progress(file, done, total)` reports bytes.
pub fn install(
    source: &Source,
    data_dir: &Path,
    mirror: Option<&str>,
    progress: &mut dyn FnMut(&str, u64, Option<u64>),
) -> Result<Outcome> {
    match source.layout {
        Layout::IdxFiles => {
            let dir = data_dir.join(&source.name);
            let mut fetched_any = false;
            for (file, md5) in &source.files {
                let url = url_of(source, file, mirror);
                let outcome = fetch(&url, &dir.join(file), md5, &mut |d, t| progress(file, d, t))?;
                fetched_any |= outcome == Fetched::Downloaded;
            }
            Ok(if fetched_any {
                Outcome::Installed(dir)
            } else {
                Outcome::AlreadyPresent(dir)
            })
        }
        Layout::CifarArchive => {
            let target = data_dir.join(CIFAR10_DIR);
            if cifar_complete(&target) {
                return Ok(Outcome::AlreadyPresent(target));
            }
            let (file, md5) = &source.files[0];
            let archive = data_dir.join("downloads").join(file);
            fetch(&url_of(source, file, mirror), &archive, md5, &mut |d, t| {
                progress(file, d, t)
            })?;
            unpack_cifar(&archive, data_dir, &target)?;
            Ok(Outcome::Installed(target))
        }
    }
}

/// Unpack beside the target, check, then replace any partial target in one rename.
fn unpack_cifar(archive: &Path, data_dir: &Path, target: &Path) -> Result<()> {
    let scratch = data_dir.join(".cifar10-unpack.tmp");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)
            .with_context(|| format!("{}: cannot remove", scratch.display()))?;
    }
    let file = std::fs::File::open(archive)
        .with_context(|| format!("{}: cannot read", archive.display()))?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(&scratch)
        .map_err(|e| shatter_data::DataError::Format {
            path: archive.to_owned(),
            message: format!("cannot unpack: {e}"),
        })?;
    let unpacked = scratch.join(CIFAR10_DIR);
    if !cifar_complete(&unpacked) {
        let _ = std::fs::remove_dir_all(&scratch);
        return Err(shatter_data::DataError::Format {
            path: archive.to_owned(),
            message: format!(
                "the archive does not hold {CIFAR10_DIR}/ with data_batch_1..5.bin and test_batch.bin of whole {RECORD_BYTES}-byte records"
            ),
        }
        .into());
    }
    if target.exists() {
        std::fs::remove_dir_all(target)
            .with_context(|| format!("{}: cannot replace", target.display()))?;
    }
    std::fs::rename(&unpacked, target)
        .with_context(|| format!("{}: cannot rename into place", target.display()))?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
