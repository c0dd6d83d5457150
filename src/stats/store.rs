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

impl StoreError {
    /// Whether the file is damaged or is no database at all (as opposed to a lock, a full disk
    /// or a newer schema).
    pub fn is_corrupt(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(err, _),
                ..
            } if matches!(
                err.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            )
        )
    }
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// What [`Store::prune`] may delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prune {
    /// Events recorded before this (milliseconds since 1970) are old.
    pub cutoff_ms: i64,
    /// At most this many events are kept.
    pub max_events: u64,
    /// Events are uploaded: unsent ones are never deleted by age.
    pub keep_unsent: bool,
}

/// What [`Store::prune`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub old: u64,
    pub over: u64,
    /// Unsent events deleted because they alone passed the cap (lost to the collector).
    pub unsent_dropped: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.old + self.over + self.unsent_dropped
    }
}

/// The meta keys of the age clock and of the count of unsent events dropped.
pub const AGE_CLOCK: &str = "age_clock_ms";
pub const UNSENT_DROPPED: &str = "unsent_dropped";

/// The time that decides which events are old: it follows the wall clock, but never runs more
/// than twice as fast as real time (`elapsed_ms`, measured on the monotonic clock since the last
/// reading). A wall clock set years ahead therefore never makes recent events look old; a
/// terminal that was switched off catches up at twice the speed of its running time. A wall
/// clock set back is followed at once (it only makes fewer events old). Pure.
pub fn age_clock(previous_ms: Option<i64>, wall_ms: i64, elapsed_ms: i64) -> i64 {
    match previous_ms {
        None => wall_ms,
        Some(previous) => wall_ms.min(previous.saturating_add(2 * elapsed_ms.max(0))),
    }
}

/// The name a damaged store is moved to: `stats.sqlite.damaged-<unix seconds>`.
pub const DAMAGED: &str = ".damaged-";

/// Opens the store; a damaged one is moved aside (with its WAL files) and a fresh one started,
/// so statistics go on being recorded. Returns where the damaged one went, if it was.
pub fn open_or_set_aside(path: &Path) -> Result<(Store, Option<PathBuf>), StoreError> {
    let opened = Store::open(path).and_then(|store| {
        // Reading the highest seq touches the table: a damaged file says so here, if not before.
        store.next_seq().map(|_| store)
    });
    match opened {
        Ok(store) => Ok((store, None)),
        Err(err) if err.is_corrupt() => {
            let mut aside = path.as_os_str().to_owned();
            aside.push(format!("{DAMAGED}{}", crate::content::unix_now()));
            let aside = PathBuf::from(aside);
            for suffix in ["", "-wal", "-shm"] {
                let mut from = path.as_os_str().to_owned();
                from.push(suffix);
                let mut to = aside.as_os_str().to_owned();
                to.push(suffix);
                let _ = std::fs::rename(&from, &to);
            }
            tracing::error!(store = %path.display(), moved_to = %aside.display(), cause = %err, "the statistics database is damaged; it was moved aside and a new one started");
            Ok((Store::open(path)?, Some(aside)))
        }
        Err(err) => Err(err),
    }
}

/// Damaged stores moved aside beside `path`, newest first.
pub fn set_aside(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let prefix = format!("{}{DAMAGED}", name.to_string_lossy());
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .is_some_and(|n| {
                    n.starts_with(&prefix) && !n.ends_with("-wal") && !n.ends_with("-shm")
                })
        })
        .collect();
    found.sort();
    found.reverse();
    found
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

    /// Deletes what `prune` allows: events recorded before its cutoff, then the oldest beyond
    /// its cap. Unsent events (when they are to be sent) are kept by age and go by count only
    /// when they alone pass the cap; those are counted (meta `unsent_dropped`).
    pub fn prune(&mut self, prune: &Prune) -> Result<Pruned, StoreError> {
        let sent_only = if prune.keep_unsent {
            "AND sent = 1"
        } else {
            ""
        };
        let old = self
            .conn
            .execute(
                &format!("DELETE FROM events WHERE at_ms < ?1 {sent_only}"),
                params![prune.cutoff_ms],
            )
            .map_err(self.err())? as u64;
        let cap = prune.max_events.max(1);
        let count = |store: &Store| -> Result<u64, StoreError> {
            store
                .conn
                .query_row("SELECT count(*) FROM events", [], |row| {
                    row.get::<_, i64>(0)
                })
                .map(|n| n as u64)
                .map_err(store.err())
        };
        let mut over = 0;
        let mut unsent_dropped = 0;
        let total = count(self)?;
        if total > cap {
            // The oldest sent (or, not uploading, any) events go first.
            let first = if prune.keep_unsent {
                "WHERE sent = 1"
            } else {
                ""
            };
            over += self
                .conn
                .execute(
                    &format!(
                        "DELETE FROM events WHERE seq IN (SELECT seq FROM events {first} ORDER BY seq LIMIT ?1)"
                    ),
                    params![(total - cap) as i64],
                )
                .map_err(self.err())? as u64;
            let left = count(self)?;
            if left > cap {
                unsent_dropped = self
                    .conn
                    .execute(
                        "DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?1)",
                        params![(left - cap) as i64],
                    )
                    .map_err(self.err())? as u64;
                let before = self
                    .meta(UNSENT_DROPPED)?
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                self.set_meta(UNSENT_DROPPED, &(before + unsent_dropped).to_string())?;
            }
        }
        Ok(Pruned {
            old,
            over,
            unsent_dropped,
        })
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

#[cfg(test)]
mod tests {
    use super::age_clock;

    #[test]
    fn the_age_clock_follows_the_wall_clock_at_most_twice_as_fast_as_real_time() {
        let day = 86_400_000;
        assert_eq!(age_clock(None, 1_000 * day, 0), 1_000 * day);
        // Normal running: it is the wall clock.
        assert_eq!(
            age_clock(Some(1_000 * day), 1_000 * day + 60_000, 60_000),
            1_000 * day + 60_000
        );
        // The wall clock set three years ahead: a minute of running moves it two minutes.
        assert_eq!(
            age_clock(Some(1_000 * day), 2_095 * day, 60_000),
            1_000 * day + 120_000
        );
        // Set back: followed at once.
        assert_eq!(age_clock(Some(1_000 * day), 990 * day, 60_000), 990 * day);
        // After a restart (no running time yet) it stays where it was.
        assert_eq!(age_clock(Some(1_000 * day), 1_060 * day, 0), 1_000 * day);
    }
}
