//! Bundles on USB sticks: the `.kbundle` files under the mount roots.

use std::path::{Path, PathBuf};

/// A bundle file as seen on a stick: its path and what identifies this copy of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Seen {
    pub path: PathBuf,
    pub size: u64,
    pub modified: Option<std::time::SystemTime>,
}

/// The `*.kbundle` (and `*.knote`) files under `roots`, at most three folders deep (`/media/LABEL/x`,
/// `/run/media/USER/LABEL/x`, `/media/LABEL/kiosk/x`). Hidden files and unreadable folders are
/// skipped; symbolic links are not followed.
pub fn scan(roots: &[PathBuf]) -> Vec<Seen> {
    let mut found = Vec::new();
    for root in roots {
        walk(root, 0, &mut found);
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<Seen>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < 3 {
            walk(&entry.path(), depth + 1, found);
        } else if kind.is_file()
            && (name.ends_with(".kbundle") || name.ends_with(".knote"))
            && depth > 0
        {
            let meta = entry.metadata().ok();
            found.push(Seen {
                path: entry.path(),
                size: meta.as_ref().map_or(0, |m| m.len()),
                modified: meta.and_then(|m| m.modified().ok()),
            });
        }
    }
}

impl Seen {
    pub fn is_note(&self) -> bool {
        self.path.extension().is_some_and(|e| e == "knote")
    }
}

/// Of the bundle files on a stick, the one to install: the highest seq its (not yet verified)
/// manifest claims; the install verifies it for real.
pub fn choose(files: &[Seen]) -> Option<&Seen> {
    files
        .iter()
        .filter(|seen| !seen.is_note())
        .max_by_key(|seen| crate::bundle::read_manifest_unverified(&seen.path).map_or(0, |m| m.seq))
}
