//! Uploading statistics to a collector (optional): store and forward. The oldest unsent events
//! go in batches as gzip JSON lines to an HTTP(S) endpoint; a batch is marked sent only when
//! the collector acknowledges it with a 2xx answer, so an event is sent at least once and a
//! collector that de-duplicates on the event id stores it exactly once
//! (`docs/statistics-collector.md`).
//!
//! The store is SQLite (not to be held across an `.await`): every store access here is a short
//! synchronous section under the mutex, and the lock is released before any network wait.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::event::Event;
use super::store::{Store, StoreError};

/// The most events one request carries.
pub const BATCH_EVENTS: usize = 500;

/// The meta key that holds when a batch was last acknowledged (Unix seconds).
pub const LAST_UPLOAD: &str = "last_upload";

/// What one [`Uploader::upload_once`] delivered. It returns this only when no unsent event is
/// left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Uploaded {
    /// Events acknowledged by the collector (and marked sent).
    pub events: u64,
    /// Requests that carried them.
    pub batches: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the statistics upload address {0} is not a valid http(s) URL")]
    BadUrl(String),
    #[error("the statistics collector {url} answered HTTP {status}; the events are kept and sent again later")]
    Status { url: String, status: u16 },
    #[error("the statistics collector {url} refused batch {key} with HTTP {status}{detail}; its {events} events stay unsent until the collector accepts them")]
    Refused {
        url: String,
        status: u16,
        key: String,
        events: usize,
        /// `: ` and the start of the collector's answer, or nothing.
        detail: String,
    },
    #[error("the statistics collector {url} did not answer within {secs} s; the events are kept and sent again later")]
    Timeout { url: String, secs: u64 },
    #[error("cannot reach the statistics collector {url}: {cause}")]
    Connect { url: String, cause: String },
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl UploadError {
    /// Whether trying again later may help (the network, a busy or broken collector, a busy
    /// database), as opposed to a collector that refuses the batch or a wrong address.
    pub fn is_transient(&self) -> bool {
        match self {
            UploadError::Status { .. }
            | UploadError::Timeout { .. }
            | UploadError::Connect { .. }
            | UploadError::Store(_) => true,
            UploadError::BadUrl(_) | UploadError::Refused { .. } => false,
        }
    }
}

/// Sends the store's unsent events to one collector.
#[derive(Clone)]
pub struct Uploader {
    url: url::Url,
    /// The address without its password, for messages and logs.
    shown: String,
    client: reqwest::Client,
    timeout: Duration,
}

impl std::fmt::Debug for Uploader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Uploader({})", self.shown)
    }
}

impl Uploader {
    /// An uploader for the collector at `url` (http or https; a user and password in it go as
    /// HTTP Basic authentication and are never shown); `timeout` bounds each request from
    /// connecting to the last byte of the answer.
    pub fn new(url: &str, timeout: Duration) -> Result<Uploader, UploadError> {
        let url = url::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| UploadError::BadUrl(crate::urlpolicy::redact(url)))?;
        let shown = crate::urlpolicy::redact(url.as_str());
        if url.scheme() == "http" && !is_loopback(&url) {
            tracing::warn!(url = %shown, "statistics are uploaded without TLS; use an https address");
        }
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            // A redirected POST becomes a GET whose 200 would acknowledge nothing: never follow.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kiosk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| UploadError::Connect {
                url: shown.clone(),
                cause: root_cause(&err),
            })?;
        Ok(Uploader {
            url,
            shown,
            client,
            timeout,
        })
    }

    /// The collector's address, without its password.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// Sends every unsent event, oldest first, in batches of at most [`BATCH_EVENTS`], and marks
    /// each acknowledged batch sent. Stops at the first batch that fails (its events stay
    /// unsent); returns `Ok` only when nothing is left. An empty store sends no request.
    pub async fn upload_once(&self, store: &Mutex<Store>) -> Result<Uploaded, UploadError> {
        let mut done = Uploaded::default();
        let mut last_seq = 0u64;
        loop {
            let batch = lock(store).unsent(BATCH_EVENTS)?;
            let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
                break;
            };
            if first.seq <= last_seq && done.batches > 0 {
                // The store handed back events it has just marked sent: never loop on them.
                tracing::warn!(seq = first.seq, "acknowledged statistics are still unsent");
                break;
            }
            last_seq = last.seq;
            let key = batch_key(first, last);
            let body = gzip_lines(&batch);
            self.send(&key, batch.len(), body).await?;
            let ids: Vec<String> = batch.iter().map(|e| e.id.clone()).collect();
            {
                let mut store = lock(store);
                store.mark_sent(&ids)?;
                store.set_meta(LAST_UPLOAD, &crate::content::unix_now().to_string())?;
            }
            done.events += batch.len() as u64;
            done.batches += 1;
            tracing::debug!(batch = %key, events = batch.len(), "statistics batch acknowledged");
        }
        Ok(done)
    }

    /// One POST of one batch; `Ok` when the collector acknowledged it completely.
    async fn send(&self, key: &str, events: usize, body: Vec<u8>) -> Result<(), UploadError> {
        let request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .header(reqwest::header::CONTENT_ENCODING, "gzip")
            .header("Idempotency-Key", key)
            .body(body);
        let exchange = async {
            let mut response = request.send().await?;
            let status = response.status();
            // Read the whole answer: an answer cut off is no acknowledgement.
            let mut start = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if start.len() < 512 {
                    start.extend_from_slice(&chunk[..chunk.len().min(512 - start.len())]);
                }
            }
            Ok::<_, reqwest::Error>((status, start))
        };
        let (status, answer) = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(answered)) => answered,
            Ok(Err(err)) if err.is_timeout() => return Err(self.timed_out()),
            Ok(Err(err)) => {
                return Err(UploadError::Connect {
                    url: self.shown.clone(),
                    cause: root_cause(&err),
                })
            }
            Err(_) => return Err(self.timed_out()),
        };
        let code = status.as_u16();
        match code {
            200..=299 => Ok(()),
            408 | 429 | 500..=599 => Err(UploadError::Status {
                url: self.shown.clone(),
                status: code,
            }),
            _ => {
                let detail = if status.is_redirection() {
                    ": redirects are not followed, configure the final address".to_owned()
                } else {
                    answer_detail(&answer)
                };
                Err(UploadError::Refused {
                    url: self.shown.clone(),
                    status: code,
                    key: key.to_owned(),
                    events,
                    detail,
                })
            }
        }
    }

    fn timed_out(&self) -> UploadError {
        UploadError::Timeout {
            url: self.shown.clone(),
            secs: self.timeout.as_secs(),
        }
    }
}

/// Uploads every `interval` until `stop` is set: the running kiosk's upload loop. Opens its own
/// connection to the store at `store_path` (WAL mode lets it share the file with the recorder;
/// the store's busy timeout waits out the recorder's writes). After a failure the wait doubles,
/// up to six intervals (`sync::net::next_wait`), plus up to `jitter` so that a hall's terminals
/// spread out; the first upload comes after a random part of `jitter` (at most a minute).
pub async fn run(
    uploader: Uploader,
    store_path: PathBuf,
    interval: Duration,
    jitter: Duration,
    stop: Arc<AtomicBool>,
) {
    let interval = interval.max(Duration::from_secs(1));
    let mut failures = 0u32;
    let mut wait = jitter.mul_f64(random_unit()).min(Duration::from_secs(60));
    let mut store: Option<Mutex<Store>> = None;
    loop {
        if !sleep_unless_stopped(wait, &stop).await {
            return;
        }
        if store.is_none() {
            match Store::open(&store_path) {
                Ok(opened) => store = Some(Mutex::new(opened)),
                Err(err) => {
                    tracing::warn!(cause = %err, "statistics upload: cannot open the store")
                }
            }
        }
        let result = match &store {
            Some(store) => {
                tokio::select! {
                    result = uploader.upload_once(store) => Some(result),
                    () = stopped(&stop) => return,
                }
            }
            None => None,
        };
        match result {
            Some(Ok(done)) => {
                failures = 0;
                if done.events > 0 {
                    tracing::info!(
                        events = done.events,
                        batches = done.batches,
                        "statistics uploaded"
                    );
                }
            }
            Some(Err(err)) => {
                failures = failures.saturating_add(1);
                if err.is_transient() {
                    tracing::info!(cause = %err, failures, "statistics upload will be tried again later");
                } else {
                    // A refusal: someone must fix the collector (or the address); keep trying.
                    tracing::error!(cause = %err, failures, "statistics upload refused");
                }
            }
            None => failures = failures.saturating_add(1),
        }
        wait = crate::sync::net::next_wait(interval, jitter, failures, random_unit());
    }
}

/// Sleeps `wait`, looking at `stop` every second; `false` when stopped.
async fn sleep_unless_stopped(wait: Duration, stop: &AtomicBool) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return true;
        }
        tokio::time::sleep((deadline - now).min(Duration::from_secs(1))).await;
    }
}

/// Completes once `stop` is set (looked at every second).
async fn stopped(stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The store's lock; a panic elsewhere while holding it leaves the database consistent (every
/// write is a transaction), so a poisoned lock is used as it is.
fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The `Idempotency-Key` of a batch: the terminal and the seqs of its first and last events,
/// with anything outside visible ASCII percent-encoded (header values are ASCII).
pub fn batch_key(first: &Event, last: &Event) -> String {
    let mut key = String::new();
    for byte in first.terminal.bytes() {
        if byte.is_ascii_graphic() && byte != b'%' && byte != b':' {
            key.push(byte as char);
        } else {
            key.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{key}:{}-{}", first.seq, last.seq)
}

/// The request body: one event's JSON (as stored) a line, gzipped.
pub fn gzip_lines(events: &[Event]) -> Vec<u8> {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for event in events {
        let line = serde_json::to_vec(event).expect("events serialise");
        gzip.write_all(&line).expect("writing to memory");
        gzip.write_all(b"\n").expect("writing to memory");
    }
    gzip.finish().expect("writing to memory")
}

/// `: ` and the first line of a refusal's body, shortened, for the log.
fn answer_detail(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    let line: String = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    if line.is_empty() {
        String::new()
    } else {
        format!(": {line}")
    }
}

/// `url` with any password replaced by `***` (text that is no URL is shown as it is).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A number in [0, 1) from the operating system's generator (for jitter only).
fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::EventKind;

    fn event(terminal: &str, seq: u64) -> Event {
        Event {
            id: format!("{seq:032x}"),
            terminal: terminal.into(),
            seq,
            at_ms: 1_790_000_000_000,
            kind: EventKind::Stopped,
        }
    }

    #[test]
    fn batch_keys_name_the_terminal_and_the_seqs_in_ascii() {
        let check = |terminal: &str, expected: &str| {
            assert_eq!(
                batch_key(&event(terminal, 3), &event(terminal, 9)),
                expected
            );
        };
        check("hall-2", "hall-2:3-9");
        check("大厅 1", "%E5%A4%A7%E5%8E%85%201:3-9");
        check("a:b%", "a%3Ab%25:3-9");
    }

    #[test]
    fn the_body_is_gzipped_json_lines_as_stored() {
        use std::io::Read;
        let events = [event("t", 1), event("t", 2)];
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gzip_lines(&events)[..])
            .read_to_string(&mut text)
            .unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1], serde_json::to_string(&events[1]).unwrap());
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn only_http_addresses_are_accepted_and_refusals_are_not_transient() {
        for bad in ["", "ftp://example.org/x", "not a url", "file:///tmp/x"] {
            let err = Uploader::new(bad, Duration::from_secs(1)).unwrap_err();
            assert!(matches!(err, UploadError::BadUrl(_)), "{bad}: {err}");
            assert!(!err.is_transient());
        }
        assert!(Uploader::new("https://stats.example.org/events", Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn the_password_of_the_address_is_never_shown() {
        let uploader = Uploader::new(
            "https://kiosk:s3cret@stats.example.org/events",
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(uploader.url(), "https://kiosk:***@stats.example.org/events");
        let err = Uploader::new(
            "ftp://kiosk:s3cret@stats.example.org/",
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn the_upload_loop_can_run_on_any_runtime_thread() {
        fn assert_send<T: Send>(_: &T) {}
        let uploader = Uploader::new("http://127.0.0.1:9/", Duration::from_secs(1)).unwrap();
        let future = run(
            uploader,
            PathBuf::from("/nonexistent/stats.sqlite"),
            Duration::from_secs(60),
            Duration::ZERO,
            Arc::new(AtomicBool::new(true)),
        );
        assert_send(&future);
    }
}
