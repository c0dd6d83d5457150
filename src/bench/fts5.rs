//! The baseline: SQLite FTS5 with the trigram tokenizer over the same items, in a real SQLite
//! file. Titles weigh most in its bm25 ranking, as in ours.
//!
//! A trigram index finds a substring of three characters or more; a shorter query has no
//! trigram, so it finds nothing. That is measured and reported as it is, not patched with LIKE.

use std::path::Path;

use rusqlite::Connection;

use crate::content::Content;

/// bm25 weights of the columns title, keywords, body.
const WEIGHTS: (f64, f64, f64) = (10.0, 5.0, 1.0);

#[derive(Debug, thiserror::Error)]
pub enum Fts5Error {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// One result of the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Fts5Hit {
    pub rowid: i64,
    pub title: String,
    pub snippet: String,
}

/// An FTS5 trigram index in one SQLite file.
pub struct Fts5Index {
    conn: Connection,
}

impl Fts5Index {
    /// Creates the database at `path` (which must not exist) and indexes every item in one
    /// transaction, then merges the index into one b-tree (`optimize`), as a read-only
    /// kiosk index would be.
    pub fn build(content: &Content, path: &Path) -> Result<Fts5Index, Fts5Error> {
        let mut conn = Connection::open(path)?;
        conn.execute_batch(
            "CREATE VIRTUAL TABLE docs USING fts5(title, keywords, body, tokenize = 'trigram');",
        )?;
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO docs (rowid, title, keywords, body) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (i, item) in content.items.iter().enumerate() {
                insert.execute((
                    i as i64 + 1,
                    &item.title,
                    item.keywords.join(" "),
                    item.body.plain_text(),
                ))?;
            }
        }
        tx.commit()?;
        conn.execute("INSERT INTO docs (docs) VALUES ('optimize')", ())?;
        Ok(Fts5Index { conn })
    }

    pub fn open(path: &Path) -> Result<Fts5Index, Fts5Error> {
        Ok(Fts5Index {
            conn: Connection::open(path)?,
        })
    }

    /// The ten best matches of `query` as a phrase, best first, with a snippet of the body.
    pub fn search(&self, query: &str) -> Result<Vec<Fts5Hit>, Fts5Error> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT rowid, title, snippet(docs, 2, '[', ']', '…', 16) FROM docs WHERE docs MATCH ?1 \
             ORDER BY bm25(docs, {}, {}, {}) LIMIT 10",
            WEIGHTS.0, WEIGHTS.1, WEIGHTS.2
        ))?;
        let rows = statement.query_map([match_expression(query)], |row| {
            Ok(Fts5Hit {
                rowid: row.get(0)?,
                title: row.get(1)?,
                snippet: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// The query as one FTS5 phrase: `"社会保障"` (quotes inside doubled), so that FTS5 query
/// syntax in what a visitor types is never interpreted.
pub fn match_expression(query: &str) -> String {
    format!("\"{}\"", query.replace('"', "\"\""))
}
