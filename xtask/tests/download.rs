//! Dataset download against a local HTTP server on 127.0.0.1 that serves archives the
//! tests make: a complete install, a second run that does nothing, a connection cut
//! midway and resumed, a wrong checksum, an unreachable server, and IDX files.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};
use shatter_data::{CIFAR10_DIR, DatasetName, load_dataset};
use xtask::download::{Layout, Outcome, Source, install};

/// What the server saw: request paths and their Range headers.
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Serve `files` (path -> bytes) on 127.0.0.1. The first `cut_first` responses send only
/// half the body and close, as a dropped connection would. Stops when the test ends.
fn serve(files: HashMap<String, Vec<u8>>, cut_first: usize) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let seen = log.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    range = Some(v.trim().trim_end_matches('-').to_owned());
                }
            }
            seen.lock().unwrap().push((path.clone(), range.clone()));
            let Some(body) = files.get(&path) else {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            };
            let start: usize = range.as_deref().map_or(0, |r| r.parse().unwrap());
            let rest = &body[start.min(body.len())..];
            let head = if start > 0 {
                format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nConnection: close\r\n\r\n",
                    rest.len(),
                    body.len() - 1,
                    body.len()
                )
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    rest.len()
                )
            };
            let _ = stream.write_all(head.as_bytes());
            let send = if n < cut_first {
                &rest[..rest.len() / 2]
            } else {
                rest
            };
            let _ = stream.write_all(send);
        }
    });
    (base, log)
}

fn md5_of(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A CIFAR-10 archive like the published one, with `records` records per batch.
fn cifar_archive(records: usize) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let files = [
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
        "test_batch.bin",
    ];
    for (f, name) in files.iter().enumerate() {
        let bytes: Vec<u8> = (0..records)
            .flat_map(|r| {
                let mut rec = vec![(f * 7 + r) as u8; 3073];
                rec[0] = ((f + r) % 10) as u8;
                rec
            })
            .collect();
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(
            &mut header,
            format!("{CIFAR10_DIR}/{name}"),
            bytes.as_slice(),
        )
        .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

fn cifar_source(md5: String) -> Source {
    Source {
        name: "cifar10".into(),
        base_url: "unused".into(),
        files: vec![("cifar-10-binary.tar.gz".into(), md5)],
        layout: Layout::CifarArchive,
    }
}

fn no_progress() -> impl FnMut(&str, u64, Option<u64>) {
    |_, _, _| {}
}

#[test]
fn installs_cifar10_then_does_nothing_the_second_time() {
    let archive = cifar_archive(4);
    let (base, log) = serve(
        HashMap::from([("/cifar-10-binary.tar.gz".to_owned(), archive.clone())]),
        0,
    );
    let data = tempfile::tempdir().unwrap();
    let source = cifar_source(md5_of(&archive));
    let outcome = install(&source, data.path(), Some(&base), &mut no_progress()).unwrap();
    assert_eq!(outcome, Outcome::Installed(data.path().join(CIFAR10_DIR)));
    let d = load_dataset(DatasetName::Cifar10, data.path()).unwrap();
    assert_eq!((d.train.len(), d.test.len()), (20, 4));
    assert!(
        !data.path().join(".cifar10-unpack.tmp").exists(),
        "scratch folder removed"
    );
    let again = install(&source, data.path(), Some(&base), &mut no_progress()).unwrap();
    assert_eq!(
        again,
        Outcome::AlreadyPresent(data.path().join(CIFAR10_DIR))
    );
    assert_eq!(
        log.lock().unwrap().len(),
        1,
        "the second run made no request"
    );
}

#[test]
fn a_cut_connection_leaves_nothing_that_looks_complete_and_the_next_run_resumes() {
    let archive = cifar_archive(40);
    let (base, log) = serve(
        HashMap::from([("/cifar-10-binary.tar.gz".to_owned(), archive.clone())]),
        1,
    );
    let data = tempfile::tempdir().unwrap();
    let source = cifar_source(md5_of(&archive));
    let err = install(&source, data.path(), Some(&base), &mut no_progress())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("cannot download {base}/cifar-10-binary.tar.gz: ")),
        "{err}"
    );
    assert!(
        !data.path().join(CIFAR10_DIR).exists(),
        "no dataset folder after a failed download"
    );
    let part = data.path().join("downloads/cifar-10-binary.tar.gz.part");
    let have = std::fs::metadata(&part).unwrap().len();
    assert!(
        have > 0 && have < archive.len() as u64,
        "the part holds what arrived: {have}"
    );
    install(&source, data.path(), Some(&base), &mut no_progress()).unwrap();
    let requests = log.lock().unwrap().clone();
    assert_eq!(
        requests[1].1,
        Some(have.to_string()),
        "the second request resumed at the part's end"
    );
    assert_eq!(
        load_dataset(DatasetName::Cifar10, data.path())
            .unwrap()
            .train
            .len(),
        200
    );
}

#[test]
fn a_wrong_checksum_is_one_line_deletes_the_download_and_installs_nothing() {
    let archive = cifar_archive(2);
    let (base, _) = serve(
        HashMap::from([("/cifar-10-binary.tar.gz".to_owned(), archive)]),
        0,
    );
    let data = tempfile::tempdir().unwrap();
    let err = install(
        &cifar_source("0".repeat(32)),
        data.path(),
        Some(&base),
        &mut no_progress(),
    )
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("cifar-10-binary.tar.gz: checksum mismatch: MD5 "),
        "{text}"
    );
    assert!(
        text.contains(&format!("expected {}", "0".repeat(32))),
        "{text}"
    );
    assert!(!text.contains('\n'));
    assert!(
        !data
            .path()
            .join("downloads/cifar-10-binary.tar.gz.part")
            .exists()
    );
    assert!(
        !data
            .path()
            .join("downloads/cifar-10-binary.tar.gz")
            .exists()
    );
    assert!(!data.path().join(CIFAR10_DIR).exists());
}

#[test]
fn the_command_rejects_a_served_file_whose_checksum_is_not_the_published_one() {
    // The real command checks the published MD5, which a made-up archive cannot have.
    let (base, _) = serve(
        HashMap::from([("/cifar-10-binary.tar.gz".to_owned(), cifar_archive(2))]),
        0,
    );
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "download",
            "cifar10",
            "--url",
            &base,
            "--data-dir",
            data.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("checksum mismatch")
            && stderr.contains("expected c32a1d4ab5d03f1284b67883e8d87530"),
        "{stderr}"
    );
}

#[test]
fn no_network_says_which_url_and_where_to_put_a_file_fetched_by_hand() {
    // Port 9 on loopback: nothing listens there.
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "download",
            "mnist",
            "--url",
            "http://127.0.0.1:9/",
            "--data-dir",
            data.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let dest = data.path().join("mnist/train-images-idx3-ubyte.gz");
    assert!(
        stderr
            .starts_with("error: cannot download http://127.0.0.1:9/train-images-idx3-ubyte.gz: "),
        "{stderr}"
    );
    assert!(
        stderr.trim_end().ends_with(&format!(
            "put it at {}, then run the command again",
            dest.display()
        )),
        "{stderr}"
    );
}

/// A tiny IDX dataset's four gzipped files.
fn idx_files(dir: &Path) -> HashMap<String, Vec<u8>> {
    use shatter_data::{IdxImages, write_idx_images, write_idx_labels};
    for (prefix, n) in [("train", 6), ("t10k", 3)] {
        let images = IdxImages {
            count: n,
            rows: 28,
            cols: 28,
            pixels: vec![9; n * 784],
        };
        write_idx_images(
            &dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
            &images,
            true,
        )
        .unwrap();
        write_idx_labels(
            &dir.join(format!("{prefix}-labels-idx1-ubyte.gz")),
            &vec![3; n],
            true,
        )
        .unwrap();
    }
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                format!("/mirror/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read(p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn installs_idx_files_under_their_names_from_a_mirror() {
    let made = tempfile::tempdir().unwrap();
    let files = idx_files(made.path());
    let names = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ];
    let source = Source {
        name: "mnist".into(),
        base_url: "unused".into(),
        files: names
            .iter()
            .map(|n| (n.to_string(), md5_of(&files[&format!("/mirror/{n}")])))
            .collect(),
        layout: Layout::IdxFiles,
    };
    let (base, _) = serve(files, 0);
    let data = tempfile::tempdir().unwrap();
    let outcome = install(
        &source,
        data.path(),
        Some(&format!("{base}/mirror/")),
        &mut no_progress(),
    )
    .unwrap();
    assert_eq!(outcome, Outcome::Installed(data.path().join("mnist")));
    let d = load_dataset(DatasetName::Mnist, data.path()).unwrap();
    assert_eq!((d.train.len(), d.test.len(), d.train.labels[0]), (6, 3, 3));
}
