//! Recording events without making the screen wait: [`Recorder::record`] stamps an event and
//! appends it to a buffer; a writer thread takes the buffer at least once a second and writes it
//! to the [`Store`] in one transaction.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::event::{Event, EventKind};
use super::store::{Store, StoreError};

/// How the writer works.
#[derive(Clone)]
pub struct WriterOptions {
    /// The longest an event waits before it is written (what a power cut can lose).
    pub flush_every: Duration,
    /// A batch is written early when it reaches this size.
    pub max_batch: usize,
    /// Events older than this are deleted.
    pub retention_days: u32,
    /// And never more than this many are kept.
    pub max_events: u64,
    /// Where to write the Prometheus text file (node_exporter's textfile collector), if anywhere.
    pub prometheus_file: Option<PathBuf>,
    /// The data directory, for the installed content in the metrics file.
    pub data_dir: Option<crate::datadir::DataDir>,
    /// Called with the highest seq of each batch once it is committed (tests, the bench).
    pub on_commit: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    /// Events are uploaded to a collector: unsent ones are never deleted by age.
    pub keep_unsent: bool,
    /// How often old events are deleted and the metrics file written.
    pub maintain_every: Duration,
    /// The wall clock, in milliseconds since 1970 (tests inject one; else the system's).
    pub wall_clock: Option<Arc<dyn Fn() -> i64 + Send + Sync>>,
}

impl WriterOptions {
    fn wall_ms(&self) -> i64 {
        match &self.wall_clock {
            Some(clock) => clock(),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        }
    }
}

impl Default for WriterOptions {
    fn default() -> WriterOptions {
        WriterOptions {
            flush_every: Duration::from_secs(1),
            max_batch: 500,
            retention_days: 400,
            max_events: 5_000_000,
            prometheus_file: None,
            data_dir: None,
            on_commit: None,
            keep_unsent: false,
            maintain_every: Duration::from_secs(60),
            wall_clock: None,
        }
    }
}

/// What the screen's thread and the writer share: a buffer the screen appends to (no system
/// call, no wake-up) and the writer takes from at least every `flush_every`.
struct Buffer {
    events: Vec<Event>,
    /// When the oldest buffered event was recorded.
    oldest: Option<Instant>,
    /// Flushes asked for and not yet done.
    flush_waiters: Vec<mpsc::Sender<()>>,
    /// The recorders are gone: write what is left and end.
    closed: bool,
    /// Maintenance asked for now ([`Recorder::maintain_now`]).
    maintain: bool,
}

struct Shared {
    wall_clock: Option<Arc<dyn Fn() -> i64 + Send + Sync>>,
    terminal: String,
    seq: AtomicU64,
    ids: Mutex<IdSource>,
    buffer: Mutex<Buffer>,
    wake: Condvar,
    max_batch: usize,
}

/// A handle to record events; cheap to clone. A disabled recorder drops everything.
#[derive(Clone, Default)]
pub struct Recorder {
    shared: Option<Arc<Handle>>,
}

/// Closes the buffer when the last recorder goes, so the writer writes the rest and ends.
struct Handle(Arc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        if let Ok(mut buffer) = self.0.buffer.lock() {
            buffer.closed = true;
        }
        self.0.wake.notify_one();
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.shared.is_some() {
            "Recorder"
        } else {
            "Recorder(disabled)"
        })
    }
}

impl Recorder {
    /// Opens the store and starts the writer thread.
    pub fn start(
        path: &Path,
        terminal: &str,
        options: WriterOptions,
    ) -> Result<Recorder, StoreError> {
        let (store, _) = super::store::open_or_set_aside(path)?;
        let next = store.next_seq()?;
        let shared = Arc::new(Shared {
            wall_clock: options.wall_clock.clone(),
            terminal: terminal.to_owned(),
            seq: AtomicU64::new(next),
            ids: Mutex::new(IdSource::new()),
            buffer: Mutex::new(Buffer {
                events: Vec::new(),
                oldest: None,
                flush_waiters: Vec::new(),
                closed: false,
                maintain: false,
            }),
            wake: Condvar::new(),
            max_batch: options.max_batch,
        });
        let writer = shared.clone();
        let writer_path = path.to_owned();
        std::thread::Builder::new()
            .name("kiosk-stats".into())
            .spawn(move || write_loop(store, writer, options, writer_path))
            .map_err(|err| StoreError::Sqlite {
                path: path.to_owned(),
                source: rusqlite::Error::ToSqlConversionFailure(Box::new(err)),
            })?;
        Ok(Recorder {
            shared: Some(Arc::new(Handle(shared))),
        })
    }

    /// A recorder that records nothing (screenshots, benchmarks, tests that do not look).
    pub fn disabled() -> Recorder {
        Recorder { shared: None }
    }

    pub fn is_enabled(&self) -> bool {
        self.shared.is_some()
    }

    /// The terminal id events are recorded under (`None` when disabled).
    pub fn terminal(&self) -> Option<&str> {
        self.shared.as_ref().map(|h| h.0.terminal.as_str())
    }

    /// Records an event now. Never blocks on the disk or wakes a thread (unless a batch is
    /// full); returns the event's seq.
    pub fn record(&self, mut kind: EventKind) -> Option<u64> {
        let shared = &self.shared.as_ref()?.0;
        // Whatever the caller did, no personal number reaches the store.
        if let EventKind::Search { query, .. } | EventKind::ResultOpened { query, .. } = &mut kind {
            *query = super::privacy::mask(query);
        }
        let seq = shared.seq.fetch_add(1, Ordering::SeqCst);
        let id = shared.ids.lock().ok()?.next_id();
        let at_ms = match &shared.wall_clock {
            Some(clock) => clock(),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        };
        let event = Event {
            id,
            terminal: shared.terminal.clone(),
            seq,
            at_ms,
            kind,
        };
        let mut buffer = shared.buffer.lock().ok()?;
        if buffer.events.is_empty() {
            buffer.oldest = Some(Instant::now());
        }
        buffer.events.push(event);
        let full = buffer.events.len() >= shared.max_batch;
        drop(buffer);
        if full {
            shared.wake.notify_one();
        }
        Some(seq)
    }

    /// Writes what is recorded, deletes old events and writes the metrics now, and waits for
    /// it (the writer does this by itself every `maintain_every`).
    pub fn maintain_now(&self) {
        let Some(handle) = &self.shared else { return };
        if let Ok(mut buffer) = handle.0.buffer.lock() {
            buffer.maintain = true;
        }
        self.flush();
    }

    /// Waits until everything recorded so far is written (at shutdown, and in tests).
    pub fn flush(&self) {
        let Some(handle) = &self.shared else { return };
        let (done, wait) = mpsc::channel();
        if let Ok(mut buffer) = handle.0.buffer.lock() {
            buffer.flush_waiters.push(done);
        }
        handle.0.wake.notify_one();
        let _ = wait.recv_timeout(Duration::from_secs(10));
    }
}

fn write_loop(mut store: Store, shared: Arc<Shared>, options: WriterOptions, path: PathBuf) {
    let mut pending: Vec<Event> = Vec::new();
    let mut next_maintenance = Instant::now();
    let mut last_maintenance: Option<Instant> = None;
    loop {
        let (closed, waiters) = {
            let Ok(mut buffer) = shared.buffer.lock() else {
                return;
            };
            loop {
                let due = buffer
                    .oldest
                    .is_some_and(|t| t.elapsed() >= options.flush_every)
                    || buffer.events.len() >= options.max_batch
                    || !buffer.flush_waiters.is_empty()
                    || buffer.closed
                    || (!pending.is_empty());
                if due {
                    break;
                }
                let wait = buffer
                    .oldest
                    .map_or(Duration::from_secs(30), |t| {
                        options.flush_every.saturating_sub(t.elapsed())
                    })
                    .min(next_maintenance.saturating_duration_since(Instant::now()))
                    .max(Duration::from_millis(1));
                let Ok((next, timeout)) = shared.wake.wait_timeout(buffer, wait) else {
                    return;
                };
                buffer = next;
                if timeout.timed_out() && Instant::now() >= next_maintenance {
                    break;
                }
            }
            pending.append(&mut buffer.events);
            buffer.oldest = None;
            if std::mem::take(&mut buffer.maintain) {
                next_maintenance = Instant::now();
            }
            (buffer.closed, std::mem::take(&mut buffer.flush_waiters))
        };
        if !pending.is_empty() {
            match store.insert(&pending) {
                Ok(()) => {
                    if let (Some(hook), Some(last)) = (&options.on_commit, pending.last()) {
                        hook(last.seq);
                    }
                    pending.clear();
                }
                Err(err) => {
                    // Kept for the next try; a disk that stays broken must not grow memory.
                    tracing::error!(cause = %err, db = %path.display(), "cannot write statistics");
                    if pending.len() > 100_000 {
                        pending.drain(..50_000);
                    }
                    std::thread::sleep(options.flush_every);
                }
            }
        }
        if Instant::now() >= next_maintenance {
            let now = Instant::now();
            let elapsed = last_maintenance.map_or(Duration::ZERO, |t| now - t);
            last_maintenance = Some(now);
            next_maintenance = now + options.maintain_every;
            maintain(&mut store, &options, elapsed);
        }
        for done in waiters {
            let _ = done.send(());
        }
        if closed && pending.is_empty() {
            return;
        }
    }
}

fn maintain(store: &mut Store, options: &WriterOptions, elapsed: Duration) {
    use super::store::{age_clock, Prune, AGE_CLOCK};
    let previous = store
        .meta(AGE_CLOCK)
        .ok()
        .flatten()
        .and_then(|v| v.parse::<i64>().ok());
    let wall = options.wall_ms();
    let now_ms = age_clock(previous, wall, elapsed.as_millis() as i64);
    if now_ms < wall - 86_400_000 {
        tracing::info!(
            behind_days = (wall - now_ms) / 86_400_000,
            "the wall clock is ahead of the statistics' age clock (set forward, or the terminal was off); old events are deleted as the age clock catches up"
        );
    }
    if let Err(err) = store.set_meta(AGE_CLOCK, &now_ms.to_string()) {
        tracing::warn!(cause = %err, "cannot keep the statistics' age clock");
    }
    // Limits the config check refuses are never used (the config falls back to the defaults);
    // these bounds keep a library caller from deleting everything too.
    let prune = Prune {
        cutoff_ms: now_ms - i64::from(options.retention_days.max(1)) * 86_400_000,
        max_events: options.max_events.max(1_000),
        keep_unsent: options.keep_unsent,
    };
    match store.prune(&prune) {
        Ok(pruned) if pruned.unsent_dropped > 0 => tracing::error!(
            deleted = pruned.total(),
            unsent = pruned.unsent_dropped,
            "statistics over the size cap were deleted, some never uploaded"
        ),
        Ok(pruned) if pruned.total() > 0 => {
            tracing::info!(deleted = pruned.total(), "old statistics deleted")
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(cause = %err, "cannot delete old statistics"),
    }
    if let Some(file) = &options.prometheus_file {
        if let Err(err) = super::prometheus::write(store, options.data_dir.as_ref(), file) {
            tracing::warn!(cause = %err, file = %file.display(), "cannot write the metrics file");
        }
    }
}

/// Event ids: 128 bits, from the operating system's generator once, then a counter through a
/// mixing function (so recording costs no system call).
struct IdSource {
    key: [u64; 2],
    counter: u64,
}

impl IdSource {
    fn new() -> IdSource {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            bytes = (nanos ^ u128::from(std::process::id())).to_le_bytes();
        }
        IdSource {
            key: [
                u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
                u64::from_le_bytes(bytes[8..].try_into().expect("8 bytes")),
            ],
            counter: 0,
        }
    }

    fn next_id(&mut self) -> String {
        self.counter += 1;
        let a = splitmix(self.key[0] ^ self.counter);
        let b = splitmix(self.key[1].wrapping_add(self.counter.rotate_left(32)));
        format!("{a:016x}{b:016x}")
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_do_not_repeat() {
        let mut ids = super::IdSource::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            assert!(seen.insert(ids.next_id()));
        }
    }
}
