//! One file over HTTP(S), resumable and verified: bytes go to `<dest>.part` (continued with
//! a Range request when a part is already there), the MD5 is checked, and only a verified
//! file is renamed to `dest`. An interrupted or corrupt download never looks complete.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use md5::{Digest, Md5};
use shatter_data::DataError;

/// The MD5 of a file, as lowercase hex.
pub fn md5_hex(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buffer)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// What happened to one file.
#[derive(Debug, PartialEq, Eq)]
pub enum Fetched {
    /// `dest` was already there with the right checksum.
    AlreadyThere,
    /// Downloaded (or finished from an earlier part) and verified.
    Downloaded,
}

/// Make `dest` hold the file at `url` whose MD5 is `md5`, reporting bytes through
/// `progress(done, total)`.
pub fn fetch(
    url: &str,
    dest: &Path,
    md5: &str,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Fetched> {
    if dest.is_file() && md5_hex(dest)? == md5 {
        return Ok(Fetched::AlreadyThere);
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create directory", dir.display()))?;
    }
    let part = part_path(dest);
    let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let by_hand = || {
        format!(
            "to install it by hand, fetch {url} and put it at {}, then run the command again",
            dest.display()
        )
    };
    download_into(url, &part, have, progress)
        .map_err(|e| anyhow!("cannot download {url}: {e:#}; {}", by_hand()))?;
    let got = md5_hex(&part)?;
    if got != md5 {
        // A corrupt part would poison every later resume: start over next time.
        let _ = std::fs::remove_file(&part);
        return Err(DataError::Format {
            path: dest.to_owned(),
            message: format!(
                "checksum mismatch: MD5 {got}, expected {md5} (from {url}); the download was deleted, run the command again"
            ),
        }
        .into());
    }
    std::fs::rename(&part, dest)
        .with_context(|| format!("{}: cannot rename into place", dest.display()))?;
    Ok(Fetched::Downloaded)
}

/// Append the rest of `url` to `part`, which already holds `have` bytes.
fn download_into(
    url: &str,
    part: &Path,
    have: u64,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_body(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = request.call()?;
    let status = response.status().as_u16();
    let (mut file, start) = match status {
        // The server continues where the part ends.
        206 => (OpenOptions::new().append(true).open(part)?, have),
        // The whole file (the server ignores ranges, or there was no part): start over.
        200 => (File::create(part)?, 0),
        // Nothing left to send: the part is complete; the checksum decides.
        416 if have > 0 => return Ok(()),
        _ => return Err(anyhow!("the server answered HTTP {status}")),
    };
    let length = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let total = length.map(|l| l + start);
    let mut body = response.into_body().into_reader();
    let mut buffer = vec![0u8; 1 << 16];
    let mut done = start;
    progress(done, total);
    loop {
        let n = body.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        file.write_all(&buffer[..n])?;
        done += n as u64;
        progress(done, total);
    }
    file.sync_all()?;
    if let Some(total) = total.filter(|&t| t != done) {
        return Err(anyhow!(
            "the connection closed after {done} of {total} bytes"
        ));
    }
    Ok(())
}
