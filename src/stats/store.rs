//! The statistics store: a SQLite file in WAL mode (`<data-dir>/stats.sqlite`). Migrations are
//! only ever added to; every write is a transaction committed with a full fsync.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use super::event::Event;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the statistics database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the statistics database {path} was written by a newer program (schema {found}, this one knows {known})")]
    TooNew {
        path: PathBuf,
        found: usize,
        known: usize,
    },
}

/// The schema, one step a migration. Add new steps at the end; never change an old one.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE events (
         seq      INTEGER PRIMARY KEY,
         id       TEXT NOT NULL UNIQUE,
         terminal TEXT NOT NULL,
         at_ms    INTEGER NOT NULL,
         type     TEXT NOT NULL,
         data     TEXT NOT NULL,
         sent     INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX events_at ON events(at_ms);
     CREATE INDEX events_unsent ON events(sent) WHERE sent = 0;",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
];

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Totals for monitoring.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub events: u64,
    pub unsent: u64,
    pub sessions: u64,
    pub searches: u64,
    pub zero_result_searches: u64,
}

impl Store {
    /// Opens (creating, migrating) the store.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let sqlite = |source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        // FULL: a committed batch survives a power cut (WAL with NORMAL may lose the last ones).
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sqlite)?;
        // Read the version and migrate in one write transaction, so two connections opening
        // a new file together do not both migrate it.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        let version = tx
            .pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
            .map_err(sqlite)? as usize;
        if version > MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for step in MIGRATIONS.iter().skip(version) {
            tx.execute_batch(step).map_err(sqlite)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)
            .map_err(sqlite)?;
        tx.commit().map_err(sqlite)?;
        Ok(Store {
            conn,
            path: path.to_owned(),
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// The seq the next event gets: one above the highest stored.
    pub fn next_seq(&self) -> Result<u64, StoreError> {
        let max: Option<i64> = self
            .conn
            .query_row("SELECT max(seq) FROM events", [], |row| row.get(0))
            .map_err(self.err())?;
        Ok(max.map_or(1, |m| m as u64 + 1))
    }

    /// Writes a batch in one transaction (an event already stored is skipped).
    pub fn insert(&mut self, events: &[Event]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = move |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(&err)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO events (seq, id, terminal, at_ms, type, data)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(&err)?;
            for event in events {
                let data = serde_json::to_string(event).expect("events serialise");
                insert
                    .execute(params![
                        event.seq as i64,
                        event.id,
                        event.terminal,
                        event.at_ms,
                        event.kind.name(),
                        data
                    ])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    fn query_events(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<Event>, StoreError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(self.err())?;
        let rows = statement
            .query_map(args, |row| row.get::<_, String>(0))
            .map_err(self.err())?;
        let mut events = Vec::new();
        for row in rows {
            let data = row.map_err(self.err())?;
            match serde_json::from_str(&data) {
                Ok(event) => events.push(event),
                Err(err) => tracing::warn!(cause = %err, "skipping an event that cannot be read"),
            }
        }
        Ok(events)
    }

    /// Events from `from_ms` (inclusive) to `to_ms` (exclusive), in order.
    pub fn events_between(&self, from_ms: i64, to_ms: i64) -> Result<Vec<Event>, StoreError> {
        self.query_events(
            "SELECT data FROM events WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY seq",
            params![from_ms, to_ms],
        )
    }

    /// The oldest events not yet acknowledged by the upload endpoint.
    pub fn unsent(&self, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.query_events(
            "SELECT data FROM events WHERE sent = 0 ORDER BY seq LIMIT ?1",
            params![limit as i64],
        )
    }

    /// Marks events as delivered.
    pub fn mark_sent(&mut self, ids: &[String]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = move |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(&err)?;
        {
            let mut update = tx
                .prepare_cached("UPDATE events SET sent = 1 WHERE id = ?1")
                .map_err(&err)?;
            for id in ids {
                update.execute(params![id]).map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    /// Deletes events older than `retention_days` before `now_ms`, then the oldest beyond
    /// `max_events`. Returns how many went.
    pub fn prune(
        &mut self,
        now_ms: i64,
        retention_days: u32,
        max_events: u64,
    ) -> Result<u64, StoreError> {
        let cutoff = now_ms - i64::from(retention_days) * 86_400_000;
        let old = self
            .conn
            .execute("DELETE FROM events WHERE at_ms < ?1", params![cutoff])
            .map_err(self.err())?;
        let over = self
            .conn
            .execute(
                "DELETE FROM events WHERE seq <= (SELECT max(seq) FROM events) - ?1",
                params![max_events as i64],
            )
            .map_err(self.err())?;
        Ok((old + over) as u64)
    }

    pub fn totals(&self) -> Result<Totals, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*),
                        coalesce(sum(sent = 0), 0),
                        coalesce(sum(type = 'session_start'), 0),
                        coalesce(sum(type = 'search'), 0),
                        coalesce(sum(type = 'search' AND json_extract(data, '$.results') = 0), 0)
                 FROM events",
                [],
                |row| {
                    Ok(Totals {
                        events: row.get::<_, i64>(0)? as u64,
                        unsent: row.get::<_, i64>(1)? as u64,
                        sessions: row.get::<_, i64>(2)? as u64,
                        searches: row.get::<_, i64>(3)? as u64,
                        zero_result_searches: row.get::<_, i64>(4)? as u64,
                    })
                },
            )
            .map_err(self.err())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// SQLite's own integrity check: `true` when the file is sound.
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .map_err(self.err())?;
        Ok(result == "ok")
    }
}
