//! Safe extraction of a verified bundle's payload: regular files only, each at a name the
//! manifest lists, each capped at its signed size and checked against its signed checksum,
//! the whole stream capped so a decompression bomb stops early.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::format::Verified;
use super::manifest::FileEntry;
use super::{io_error, BundleError};

/// Unpacks the payload of `bundle` into `dest` (which must not exist), fsyncing every file.
/// `progress` gets the number of files written so far.
pub fn unpack(
    bundle: &Path,
    verified: &Verified,
    dest: &Path,
    progress: &mut dyn FnMut(usize),
) -> Result<(), BundleError> {
    let manifest = &verified.manifest;
    let mut file = File::open(bundle).map_err(io_error(bundle))?;
    file.seek(SeekFrom::Start(verified.payload_offset))
        .map_err(io_error(bundle))?;
    let mut decoder = zstd::stream::read::Decoder::new(file.take(manifest.payload.size))
        .map_err(io_error(bundle))?;
    // At most a 128 MiB window: a bundle cannot make the terminal allocate more.
    decoder.window_log_max(27).map_err(io_error(bundle))?;
    let limit = manifest.unpacked_limit();
    let exceeded = Arc::new(AtomicBool::new(false));
    let capped = Capped {
        inner: decoder,
        left: limit,
        exceeded: exceeded.clone(),
    };
    let bomb = |err: std::io::Error| {
        if exceeded.load(Ordering::SeqCst) {
            BundleError::Bomb { limit }
        } else {
            BundleError::Malformed(format!("its contents cannot be unpacked: {err}"))
        }
    };
    let expected: HashMap<&str, &FileEntry> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    let mut written: Vec<&str> = Vec::new();
    std::fs::create_dir_all(dest).map_err(io_error(dest))?;
    let mut archive = tar::Archive::new(capped);
    for entry in archive.entries().map_err(bomb)? {
        let mut entry = entry.map_err(bomb)?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if !kind.is_file() {
            let why = match kind {
                tar::EntryType::Symlink => "it is a symbolic link".to_owned(),
                tar::EntryType::Link => "it is a hard link".to_owned(),
                tar::EntryType::Directory => "it is a folder entry".to_owned(),
                other => format!("it is not a regular file ({other:?})"),
            };
            return Err(BundleError::UnsafeEntry { path, why });
        }
        super::manifest::check_path(&path).map_err(|why| BundleError::UnsafeEntry {
            path: path.clone(),
            why: why.into(),
        })?;
        let Some(&declared) = expected.get(path.as_str()) else {
            return Err(BundleError::ExtraFile { path });
        };
        if written.contains(&declared.path.as_str()) {
            return Err(BundleError::UnsafeEntry {
                path,
                why: "it appears twice".into(),
            });
        }
        if entry.header().size().map_err(bomb)? > declared.size {
            return Err(BundleError::TooLarge {
                path,
                declared: declared.size,
            });
        }
        let target = dest.join(&declared.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(io_error(&target))?;
        let (size, hash) = copy_hashed(&mut (&mut entry).take(declared.size + 1), &mut out)
            .map_err(|err| match err {
                CopyError::Read(err) => bomb(err),
                CopyError::Write(err) => io_error(&target)(err),
            })?;
        if size > declared.size {
            return Err(BundleError::TooLarge {
                path,
                declared: declared.size,
            });
        }
        if size != declared.size || hash != declared.sha256 {
            return Err(BundleError::FileMismatch { path });
        }
        out.sync_all().map_err(io_error(&target))?;
        written.push(declared.path.as_str());
        progress(written.len());
    }
    if let Some(missing) = manifest
        .files
        .iter()
        .find(|f| !written.contains(&f.path.as_str()))
    {
        return Err(BundleError::MissingFile {
            path: missing.path.clone(),
        });
    }
    Ok(())
}

enum CopyError {
    Read(std::io::Error),
    Write(std::io::Error),
}

fn copy_hashed(from: &mut impl Read, to: &mut impl Write) -> Result<(u64, String), CopyError> {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = from.read(&mut buf).map_err(CopyError::Read)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
        size += n as u64;
    }
    Ok((size, super::hex(&hash.finalize())))
}

/// A reader that fails once more than `left` bytes came through.
struct Capped<R> {
    inner: R,
    left: u64,
    exceeded: Arc<AtomicBool>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.exceeded.store(true, Ordering::SeqCst);
            return Err(std::io::Error::other("more data than the bundle declares"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}
