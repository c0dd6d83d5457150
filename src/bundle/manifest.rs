//! The signed manifest of a bundle: what it is (site, sequence number, version) and exactly
//! which files it holds. Pure data and checks.

use super::BundleError;

/// The manifest format this program writes and reads.
pub const FORMAT: u32 = 1;

/// The highest seq a bundle may have. Far above any real count of updates (one a minute for a
/// million years), and far below 2^64, so a seq never wraps and a leaked key cannot take the
/// whole range (a signed key note lowers the floor again: [`crate::bundle::keynote`]).
pub const MAX_SEQ: u64 = 1_000_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// The site id (`id` in site.toml); a terminal only takes bundles of its own site.
    pub site: String,
    /// Strictly increasing from bundle to bundle of a site; a terminal never goes back.
    pub seq: u64,
    /// The content version for people (shown on the screen and in reports).
    pub version: String,
    /// When the bundle was built, UTC, RFC 3339.
    pub created: String,
    /// The id of the key that signed it.
    pub key_id: String,
    /// The search index schema of the program that built it.
    pub index_schema: u32,
    /// Items in the content.
    pub item_count: usize,
    /// The compressed payload (tar + zstd) that follows the signature.
    pub payload: Blob,
    /// Every file of the payload, in the order it holds them.
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blob {
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Relative, `/`-separated: `site.toml`, `columns.toml`, `synonyms.txt`, `items/NAME.jsonl`.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// How large a bundle may be: the content source's own limits ([`crate::source::limits`]),
/// so a terminal refuses from the signed manifest alone, before unpacking, what its loader
/// would refuse after.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_files: usize,
    pub max_file_size: u64,
    pub max_total_size: u64,
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        use crate::source::limits;
        Limits {
            max_files: 10_000,
            max_file_size: limits::SOURCE_BYTES,
            max_total_size: limits::SOURCE_BYTES,
            max_items: limits::ITEMS,
        }
    }
}

impl Manifest {
    /// The sum of the files' sizes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Checks what the signature cannot: that the manifest describes a bundle this program can
    /// unpack safely.
    pub fn check(&self, limits: &Limits) -> Result<(), BundleError> {
        if self.format != FORMAT {
            return Err(BundleError::Malformed(format!(
                "it is in bundle format {}, this program reads format {FORMAT}; update the kiosk software",
                self.format
            )));
        }
        if self.files.len() > limits.max_files {
            return Err(BundleError::OverLimit(format!(
                "{} files (at most {})",
                self.files.len(),
                limits.max_files
            )));
        }
        if self.item_count > limits.max_items {
            return Err(BundleError::OverLimit(format!(
                "{} items (at most {})",
                self.item_count, limits.max_items
            )));
        }
        if self.seq == 0 || self.seq > MAX_SEQ {
            return Err(BundleError::Malformed(format!(
                "its seq {} is outside 1 to {MAX_SEQ}",
                self.seq
            )));
        }
        let mut seen = std::collections::HashSet::new();
        let mut total = 0u64;
        for file in &self.files {
            check_path(&file.path).map_err(|why| BundleError::UnsafeEntry {
                path: file.path.clone(),
                why: why.into(),
            })?;
            if !seen.insert(file.path.as_str()) {
                return Err(BundleError::Malformed(format!(
                    "{} is listed twice",
                    file.path
                )));
            }
            if file.size > limits.max_file_size {
                return Err(BundleError::OverLimit(format!(
                    "{} is {} bytes (at most {})",
                    file.path, file.size, limits.max_file_size
                )));
            }
            if !is_sha256(&file.sha256) {
                return Err(BundleError::Malformed(format!(
                    "{} has no valid checksum",
                    file.path
                )));
            }
            total = total.saturating_add(file.size);
        }
        if !is_sha256(&self.payload.sha256) {
            return Err(BundleError::Malformed(
                "its payload has no valid checksum".into(),
            ));
        }
        if total > limits.max_total_size {
            return Err(BundleError::OverLimit(format!(
                "{total} bytes unpacked (at most {})",
                limits.max_total_size
            )));
        }
        if !seen.contains(crate::source::SITE_FILE) {
            return Err(BundleError::Malformed("it has no site.toml".into()));
        }
        Ok(())
    }

    /// The most bytes the payload may decompress to: the files, their tar headers and
    /// padding, and the end of the archive. More than this is a decompression bomb.
    pub fn unpacked_limit(&self) -> u64 {
        let per_file: u64 = self
            .files
            .iter()
            .map(|f| f.size.div_ceil(512) * 512 + 3 * 512 + f.path.len() as u64)
            .sum();
        per_file + 64 * 1024
    }
}

/// 64 lower-case hex digits, as this program writes and compares checksums.
fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether a path may be in a bundle: only the files a content source is made of, as plain
/// relative names. Everything else (absolute paths, `..`, backslashes, control characters,
/// other folders) is refused.
pub fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() || path.len() > 255 {
        return Err("the name is empty or too long");
    }
    if path.starts_with('/') {
        return Err("it is an absolute path");
    }
    if path.chars().any(|c| c.is_control() || c == '\\') {
        return Err("the name has control characters or backslashes");
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts.iter().any(|part| *part == "..") {
        return Err("it climbs out of the folder with ..");
    }
    if parts.iter().any(|part| part.is_empty() || *part == ".") {
        return Err("the name has empty or . parts");
    }
    use crate::source::{COLUMNS_FILE, ITEMS_DIR, SITE_FILE, SYNONYMS_FILE};
    match parts.as_slice() {
        [name] if [SITE_FILE, COLUMNS_FILE, SYNONYMS_FILE].contains(name) => Ok(()),
        [dir, name] if *dir == ITEMS_DIR && name.ends_with(".jsonl") => Ok(()),
        _ => Err("only site.toml, columns.toml, synonyms.txt and items/*.jsonl may be in a bundle"),
    }
}

#[cfg(test)]
mod tests {
    use super::check_path;

    #[test]
    fn only_content_source_files_are_allowed() {
        for good in [
            "site.toml",
            "columns.toml",
            "synonyms.txt",
            "items/guides.jsonl",
            "items/办事指南.jsonl",
        ] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../site.toml",
            "items/../../x.jsonl",
            "items/./a.jsonl",
            "items//a.jsonl",
            "items\\a.jsonl",
            "items/a.txt",
            "other/a.jsonl",
            "items/sub/a.jsonl",
            "site.toml\n",
            "bin/sh",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
    }
}
