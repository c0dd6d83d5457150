//! Building a bundle from a content source on the office PC.

use std::path::{Path, PathBuf};

use super::keys::SecretKey;
use super::manifest::{Blob, FileEntry, Manifest, FORMAT};
use super::{io_error, BundleError};

pub struct BuildOptions<'a> {
    pub source: &'a Path,
    pub key: &'a SecretKey,
    pub seq: u64,
    /// The human content version; defaults to the build date and seq.
    pub version: Option<String>,
    /// Build time, seconds since 1970 UTC.
    pub created: i64,
    /// zstd level (1–19).
    pub level: i32,
}

/// Validates the source (one with errors is refused), packs exactly the files the loader reads,
/// signs the manifest and writes `out` (through a temporary file renamed into place).
pub fn build(options: &BuildOptions, out: &Path) -> Result<Manifest, BundleError> {
    let files = crate::source::read_files(options.source)?;
    let loaded = crate::source::assemble(files.clone());
    if loaded.errors() > 0 {
        return Err(BundleError::SourceHasErrors {
            errors: loaded.errors(),
            dir: options.source.to_owned(),
        });
    }
    let mut parts: Vec<(String, &[u8])> = Vec::new();
    use crate::source::{COLUMNS_FILE, SITE_FILE, SYNONYMS_FILE};
    for (name, bytes) in [
        (SITE_FILE, &files.site),
        (COLUMNS_FILE, &files.columns),
        (SYNONYMS_FILE, &files.synonyms),
    ] {
        if let Some(bytes) = bytes {
            parts.push((name.to_owned(), bytes));
        }
    }
    for (name, bytes) in &files.items {
        parts.push((name.clone(), bytes));
    }
    let mut tar = tar::Builder::new(Vec::new());
    let mut entries = Vec::new();
    for (path, bytes) in &parts {
        super::manifest::check_path(path).map_err(|why| BundleError::UnsafeEntry {
            path: path.clone(),
            why: why.into(),
        })?;
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, *bytes)
            .map_err(io_error(options.source))?;
        entries.push(FileEntry {
            path: path.clone(),
            size: bytes.len() as u64,
            sha256: super::sha256_hex(bytes),
        });
    }
    let tar = tar.into_inner().map_err(io_error(options.source))?;
    let payload =
        zstd::encode_all(tar.as_slice(), options.level).map_err(io_error(options.source))?;
    let public = options.key.public();
    let manifest = Manifest {
        format: FORMAT,
        site: loaded.content.site.id.clone(),
        seq: options.seq,
        version: options.version.clone().unwrap_or_else(|| {
            format!(
                "{} #{}",
                &crate::content::format_utc(options.created)[..10],
                options.seq
            )
        }),
        created: crate::content::format_utc(options.created),
        key_id: public.id().to_owned(),
        index_schema: crate::search::index::SCHEMA_VERSION,
        item_count: loaded.content.items.len(),
        payload: Blob {
            size: payload.len() as u64,
            sha256: super::sha256_hex(&payload),
        },
        files: entries,
    };
    manifest.check(&super::Limits::default())?;
    let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
    let tmp = tmp_path(out);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        super::format::write(&mut file, &json, |m| options.key.sign(m), &payload)?;
        file.sync_all()?;
        std::fs::rename(&tmp, out)
    })();
    if let Err(err) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(out)(err));
    }
    Ok(manifest)
}

fn tmp_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// The seq a new bundle of `site` gets: one above the last this key built (recorded beside the
/// key in `KEY.seq`) and above any `SITE-N.kbundle` already in `out_dir`; `None` past
/// [`super::manifest::MAX_SEQ`] (never wrapped round to a low seq).
pub fn next_seq(key_path: &Path, site: &str, out_dir: &Path) -> Option<u64> {
    let recorded = std::fs::read_to_string(seq_file(key_path))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(s, _)| *s == site)
        .filter_map(|(_, n)| n.trim().parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let prefix = format!("{site}-");
    let on_disk = std::fs::read_dir(out_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_prefix(&prefix)?
                .strip_suffix(".kbundle")?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    recorded
        .max(on_disk)
        .checked_add(1)
        .filter(|seq| *seq <= super::manifest::MAX_SEQ)
}

/// Remembers that `key_path` built `seq` for `site`.
pub fn record_seq(key_path: &Path, site: &str, seq: u64) -> std::io::Result<()> {
    let path = seq_file(key_path);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    // Never lower the record: an explicit lower --seq must not lower the next default.
    let seq = seq.max(
        next_seq(key_path, site, Path::new("/nonexistent"))
            .map_or(super::manifest::MAX_SEQ, |next| next - 1),
    );
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| line.split_once(' ').is_none_or(|(s, _)| s != site))
        .map(str::to_owned)
        .collect();
    lines.push(format!("{site} {seq}"));
    std::fs::write(&path, lines.join("\n") + "\n")
}

fn seq_file(key_path: &Path) -> PathBuf {
    let mut name = key_path.as_os_str().to_owned();
    name.push(".seq");
    PathBuf::from(name)
}
