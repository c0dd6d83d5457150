//! The data directory: the one place where a terminal keeps what it installs and records.
//!
//! ```text
//! <data-dir>/
//!   content/current    link to the installed release; content/current/source is the content
//!                      source (site.toml, columns.toml, items/); see `install` for the rest
//!   index/             search indexes, one folder per content hash
//!   stats.sqlite       usage statistics
//!   staging/           bundles copied from a stick or downloaded, before they are installed
//! ```
//!
//! Which content a command uses is decided here too: `--source DIR` if given, else the installed
//! content, else the built-in sample hall.

use std::path::{Path, PathBuf};

use crate::config::Config;

/// The data directory of a terminal (it need not exist yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// `--data-dir` (or `KIOSK_DATA_DIR`, already folded into the config), else the config
    /// file's `data_dir`, else the per-user data directory (`~/.local/share/kiosk`).
    pub fn resolve(flag: Option<&Path>, config: &Config) -> DataDir {
        let root = flag
            .map(Path::to_path_buf)
            .or_else(|| config.data_dir.clone())
            .or_else(|| dirs::data_dir().map(|dir| dir.join("kiosk")))
            .unwrap_or_else(|| PathBuf::from("kiosk-data-dir"));
        DataDir::new(root)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Installs, their links and their history (see [`crate::install`]).
    pub fn content_dir(&self) -> PathBuf {
        self.root.join("content")
    }

    pub fn releases_dir(&self) -> PathBuf {
        self.content_dir().join("releases")
    }

    /// The installed content source (through the `current` link).
    pub fn current_content(&self) -> PathBuf {
        self.content_dir().join("current").join("source")
    }

    pub fn index_dir(&self) -> PathBuf {
        self.root.join("index")
    }

    pub fn stats_db(&self) -> PathBuf {
        self.root.join("stats.sqlite")
    }

    pub fn staging_dir(&self) -> PathBuf {
        self.root.join("staging")
    }

    /// The installed content source, when one is installed.
    pub fn installed_source(&self) -> Option<PathBuf> {
        let dir = self.current_content();
        dir.join(crate::source::SITE_FILE).is_file().then_some(dir)
    }

    /// Run as root on a data directory that belongs to another user (`sudo kiosk bundle
    /// install` on a terminal, whose service runs as the user `kiosk`): gives everything in it
    /// to that user, so the service can still use what root made (the index's lock file, a new
    /// release, the statistics). Does nothing otherwise. Returns how many entries changed.
    pub fn hand_over(&self) -> usize {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return 0;
        }
        let Ok(meta) = std::fs::metadata(&self.root) else {
            return 0;
        };
        let (uid, gid) = (meta.uid(), meta.gid());
        if uid == 0 {
            return 0;
        }
        fn walk(dir: &Path, uid: u32, gid: u32, changed: &mut usize) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                if meta.uid() != uid || meta.gid() != gid {
                    match std::os::unix::fs::lchown(&path, Some(uid), Some(gid)) {
                        Ok(()) => *changed += 1,
                        Err(err) => {
                            tracing::warn!(file = %path.display(), cause = %err, "cannot give the file to the data directory's owner")
                        }
                    }
                }
                if meta.is_dir() {
                    walk(&path, uid, gid, changed);
                }
            }
        }
        let mut changed = 0;
        walk(&self.root, uid, gid, &mut changed);
        if changed > 0 {
            tracing::info!(
                changed,
                uid,
                "files made as root were given to the data directory's owner"
            );
        }
        changed
    }
}

/// Which content a command works on, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentOrigin {
    /// Named with `--source`.
    Source(PathBuf),
    /// Installed in the data directory.
    Installed(PathBuf),
    /// The built-in sample hall.
    Sample(PathBuf),
}

impl ContentOrigin {
    pub fn path(&self) -> &Path {
        match self {
            ContentOrigin::Source(path)
            | ContentOrigin::Installed(path)
            | ContentOrigin::Sample(path) => path,
        }
    }
}

/// No content to show: nothing installed and the sample hall not found.
#[derive(Debug, thiserror::Error)]
#[error("no content is installed in {data_dir} and the built-in sample hall was not found (looked in {looked}); name a content source with --source DIR")]
pub struct NoContent {
    pub data_dir: PathBuf,
    pub looked: String,
}

/// Picks the content: `--source`, else installed content, else the sample hall.
pub fn resolve_content(
    source: Option<&Path>,
    data_dir: &DataDir,
) -> Result<ContentOrigin, NoContent> {
    if let Some(source) = source {
        return Ok(ContentOrigin::Source(source.to_path_buf()));
    }
    if let Some(installed) = data_dir.installed_source() {
        return Ok(ContentOrigin::Installed(installed));
    }
    let candidates = sample_candidates();
    match candidates
        .iter()
        .find(|dir| dir.join(crate::source::SITE_FILE).is_file())
    {
        Some(sample) => Ok(ContentOrigin::Sample(sample.clone())),
        None => Err(NoContent {
            data_dir: data_dir.root().to_path_buf(),
            looked: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Where the sample hall may be: `KIOSK_SAMPLE_DIR`, beside an installed binary
/// (`../share/kiosk/sample`), the system package's copy, and the source checkout it was built from.
fn sample_candidates() -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("KIOSK_SAMPLE_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    if let Some(prefix) = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
    {
        candidates.push(prefix.join("share/kiosk/sample"));
    }
    candidates.push(PathBuf::from("/usr/share/kiosk/sample"));
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-data/sample"));
    candidates
}
