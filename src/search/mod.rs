//! Chinese full-text search over the content: a local tantivy index with Chinese, pinyin,
//! plain-language and typo-tolerant matching, facets, filters and snippets.
//!
//! The pure parts: [`normalize`] (text normalisation and bigram tokens), [`pinyin`] (readings and
//! matching typed letters), [`vocab`] (the content's words), [`synonyms`], [`plan`] (what a
//! query means), [`snippet`]. The IO part: [`index`] (tantivy on disk).

pub mod index;
pub mod normalize;
pub mod pinyin;
pub mod plan;
pub mod snippet;
pub mod synonyms;
pub mod vocab;
pub mod words;

use std::path::PathBuf;

pub use index::{Explanation, GroupMatch, HitExplanation, SearchIndex, WordMatch};
pub use snippet::Snippet;

use crate::content::{Date, ItemKind};

/// How results are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Relevance,
    /// Newest first; undated items last.
    Date,
}

/// A search as the visitor (or the command line) asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub query: String,
    pub kind: Option<ItemKind>,
    /// A first- or second-level column id.
    pub column: Option<String>,
    pub year: Option<u16>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

impl SearchRequest {
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            kind: None,
            column: None,
            year: None,
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
        }
    }
}

/// One result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hit {
    pub id: String,
    pub kind: ItemKind,
    pub title: String,
    /// Character ranges of the title that matched.
    pub title_highlights: Vec<std::ops::Range<usize>>,
    /// `一级栏目 / 二级栏目`.
    pub column: String,
    pub column_id: String,
    pub date: Option<Date>,
    pub score: f32,
    pub snippet: Snippet,
}

/// Counts of all matches (before the kind, column and year filters), for the filter chips.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Facets {
    pub kinds: Vec<(ItemKind, usize)>,
    /// `(first-level column id, name, count)` in catalogue order.
    pub columns: Vec<(String, String, usize)>,
    /// `(year, count)`, newest first.
    pub years: Vec<(u16, usize)>,
}

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchResults {
    /// The query after normalisation.
    pub query: String,
    /// The query was longer than [`plan::MAX_QUERY_CHARS`] and was cut.
    pub shortened: bool,
    /// The query held nothing to search for (empty, spaces, punctuation, emoji).
    pub blank: bool,
    /// Matches with the filters applied.
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
    /// Nothing matched every word; these results match some of them.
    pub relaxed: bool,
    /// For a query that found nothing: a close query that finds something.
    pub suggestion: Option<String>,
    /// For a query that found nothing: the content's most common words, to try instead.
    pub popular: Vec<String>,
    /// What was searched for, when a plain-language rule or a correction changed the query
    /// (暂住证 → 居住证): the screen says 已为您查找“居住证”.
    #[serde(default)]
    pub searched_as: Option<String>,
}

/// A search that could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the search index is damaged: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("the search index is damaged: {0}")]
    Corrupt(String),
    #[error("there is no column “{0}”")]
    UnknownColumn(String),
}

impl SearchError {
    /// Whether the disk or the file system is at fault (full, read-only, not ours), as opposed
    /// to the content or the index itself: trying again later may help.
    pub fn is_io(&self) -> bool {
        use tantivy::TantivyError as T;
        match self {
            SearchError::Io { .. } | SearchError::Source(crate::source::SourceError::Io { .. }) => {
                true
            }
            SearchError::Index(err) => matches!(
                err,
                T::IoError(_)
                    | T::OpenDirectoryError(_)
                    | T::OpenReadError(_)
                    | T::OpenWriteError(_)
                    | T::LockFailure(..)
            ),
            _ => false,
        }
    }
}
