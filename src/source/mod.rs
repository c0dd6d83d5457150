//! Content sources: a directory in the content-source format (`site.toml`, `columns.toml`,
//! `items/*.jsonl`, optional `synonyms.txt`), loaded and validated into a [`Content`].
//!
//! Loading never gives up on bad data: it returns every valid item plus a list of [`Problem`]s,
//! each with its file, line and a message in plain words. Only a missing or unreadable directory
//! is a [`SourceError`]. [`load`] does the file IO; [`assemble`] is the pure part and takes bytes.

mod items;
pub mod limits;
mod synonyms;
mod toml_files;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::content::{ColumnTree, Content};

/// How bad a problem is: errors make `kiosk check` fail, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Error,
}

/// One thing wrong with a content source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// The file, relative to the source directory (`items/guides.jsonl`).
    pub file: String,
    /// 1-based line number, when the problem is on a line.
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn error(file: &str, line: Option<usize>, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Error,
            file: file.to_owned(),
            line,
            message: message.into(),
        }
    }

    pub fn warning(file: &str, line: Option<usize>, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            file: file.to_owned(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        match self.line {
            Some(line) => write!(f, "{}:{line}: {severity}: {}", self.file, self.message),
            None => write!(f, "{}: {severity}: {}", self.file, self.message),
        }
    }
}

/// The result of loading a source: the valid content and everything that was wrong.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub content: Content,
    pub problems: Vec<Problem>,
    /// Item lines read (non-blank lines of `items/*.jsonl`).
    pub lines_read: usize,
}

impl Loaded {
    pub fn errors(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
            .count()
    }
}

/// Why a source could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("there is no content source at {0}")]
    NotFound(PathBuf),
    #[error("{0} is not a directory (a content source is a directory with site.toml, columns.toml and items/)")]
    NotADirectory(PathBuf),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The raw files of a source, as bytes, before any parsing.
#[derive(Debug, Clone, Default)]
pub struct SourceFiles {
    pub site: Option<Vec<u8>>,
    pub columns: Option<Vec<u8>>,
    /// `(file name relative to the source, bytes)`, in name order.
    pub items: Vec<(String, Vec<u8>)>,
    pub synonyms: Option<Vec<u8>>,
    /// Problems found while reading the directory (a missing items/ folder, stray files).
    pub problems: Vec<Problem>,
    /// A fallback site id when site.toml is unusable: the directory's name.
    pub dir_name: String,
}

pub const SITE_FILE: &str = "site.toml";
pub const COLUMNS_FILE: &str = "columns.toml";
pub const ITEMS_DIR: &str = "items";
pub const SYNONYMS_FILE: &str = "synonyms.txt";

/// Reads a source directory from disk. See [`assemble`] for the validation.
pub fn read_files(dir: &Path) -> Result<SourceFiles, SourceError> {
    fn io(path: &Path) -> impl Fn(std::io::Error) -> SourceError + '_ {
        move |source| SourceError::Io {
            path: path.to_owned(),
            source,
        }
    }
    let meta = std::fs::metadata(dir).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => SourceError::NotFound(dir.to_owned()),
        _ => SourceError::Io {
            path: dir.to_owned(),
            source: err,
        },
    })?;
    if !meta.is_dir() {
        return Err(SourceError::NotADirectory(dir.to_owned()));
    }
    // Sizes are looked at before anything is read, so a huge file never fills the memory.
    let mut problems = Vec::new();
    let mut total = 0u64;
    let mut read_optional = |name: &str| -> Result<Option<Vec<u8>>, SourceError> {
        let path = dir.join(name);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.len() > limits::SMALL_FILE_BYTES => {
                problems.push(Problem::error(
                    name,
                    None,
                    format!(
                        "the file is {}, more than the {} a terminal reads; it is not read",
                        limits::bytes_text(meta.len()),
                        limits::bytes_text(limits::SMALL_FILE_BYTES)
                    ),
                ));
                return Ok(None);
            }
            Ok(meta) => total += meta.len(),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(io(&path)(err)),
        }
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(io(&path)(err)),
        }
    };
    let site = read_optional(SITE_FILE)?;
    let columns = read_optional(COLUMNS_FILE)?;
    let synonyms = read_optional(SYNONYMS_FILE)?;
    let mut files = SourceFiles {
        site,
        columns,
        synonyms,
        problems,
        dir_name: dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default(),
        ..SourceFiles::default()
    };
    let items_dir = dir.join(ITEMS_DIR);
    let entries = match std::fs::read_dir(&items_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            files.problems.push(Problem::error(
                ITEMS_DIR,
                None,
                "there is no items/ folder, so there are no items",
            ));
            return Ok(files);
        }
        Err(err) => return Err(io(&items_dir)(err)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(&items_dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().map_err(io(&entry.path()))?.is_file();
        if is_file && name.ends_with(".jsonl") {
            names.push(name);
        } else if !name.starts_with('.') {
            files.problems.push(Problem::warning(
                &format!("{ITEMS_DIR}/{name}"),
                None,
                "only .jsonl files are read from items/; this one is ignored",
            ));
        }
    }
    names.sort();
    for name in names {
        let path = items_dir.join(&name);
        let file = format!("{ITEMS_DIR}/{name}");
        let size = std::fs::metadata(&path).map_err(io(&path))?.len();
        if total + size > limits::SOURCE_BYTES {
            files.problems.push(Problem::error(
                &file,
                None,
                format!(
                    "with this file ({}) the source would hold {} in all, more than the {} a terminal takes; it is not read",
                    limits::bytes_text(size),
                    limits::bytes_text(total + size),
                    limits::bytes_text(limits::SOURCE_BYTES)
                ),
            ));
            continue;
        }
        total += size;
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        files.items.push((file, bytes));
    }
    Ok(files)
}

/// Loads and validates a source directory.
pub fn load(dir: &Path) -> Result<Loaded, SourceError> {
    read_files(dir).map(assemble)
}

/// Parses and validates the raw files of a source. Never fails and never panics, whatever the bytes.
pub fn assemble(files: SourceFiles) -> Loaded {
    let mut problems = files.problems;
    let site = toml_files::parse_site(files.site.as_deref(), &files.dir_name, &mut problems);
    let columns = toml_files::parse_columns(files.columns.as_deref(), &mut problems);
    let columns = ColumnTree::new(columns);
    let mut parsed = items::ItemsParser::new(&site, &columns);
    for (name, bytes) in &files.items {
        parsed.parse_file(name, bytes);
    }
    let (items, lines_read, item_problems) = parsed.finish();
    problems.extend(item_problems);
    let synonyms = match &files.synonyms {
        Some(bytes) => synonyms::parse(bytes, &mut problems),
        None => Vec::new(),
    };
    Loaded {
        content: Content::new(site, columns, items, synonyms),
        problems,
        lines_read,
    }
}

/// Where a byte offset falls, as a 1-based line number.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Decodes a file as UTF-8 text, reporting where it is not. A leading BOM is dropped.
/// The rules of a text in the `synonyms.txt` format, the lines that are not rules left out (for
/// the built-in thesaurus, whose lines are all checked by its tests).
pub fn synonym_rules(text: &str) -> Vec<crate::content::SynonymRule> {
    synonyms::parse(text.as_bytes(), &mut Vec::new())
}

fn decode_text<'a>(name: &str, bytes: &'a [u8], problems: &mut Vec<Problem>) -> Option<&'a str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(err) => {
            let line = bytes[..err.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            problems.push(Problem::error(
                name,
                Some(line),
                "the file is not valid UTF-8 text (save it as UTF-8); it is not read",
            ));
            None
        }
    }
}
