//! Uploading statistics (`kiosk::stats::upload`) to a collector on a real HTTP server on
//! 127.0.0.1 that de-duplicates on the event id, as `docs/statistics-collector.md` describes:
//! server errors, a collector that stores a batch but answers too late, and an answer cut off
//! end with every event stored exactly once; a refusal keeps the events; later events go next
//! time; nothing to send sends nothing; the background loop uploads and stops when asked; a
//! password in the address is sent as Basic authentication and never shown.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiosk::stats::upload::{self, UploadError, Uploaded, Uploader, BATCH_EVENTS};
use kiosk::stats::{EndReason, Event, EventKind, Recorder, Store, WriterOptions};

use crate::http::{Fault, Request, Response, Server};

const PATH: &str = "/v1/events";
const TERMINAL: &str = "hall-3";
/// Long enough never to fire against a local server; the timeout test uses its own.
const PATIENT: Duration = Duration::from_secs(60);

/// What the collector stored: events by id, as a database with `id` as its primary key would.
#[derive(Default)]
struct Collected {
    events: BTreeMap<String, serde_json::Value>,
    /// Events received again after they were stored.
    duplicates: usize,
    /// Each batch stored, in order.
    batches: Vec<Batch>,
}

struct Batch {
    idempotency_key: Option<String>,
    content_type: Option<String>,
    content_encoding: Option<String>,
    first_seq: u64,
    last_seq: u64,
}

/// The collector's side: gunzip, parse every line, then store the batch all at once (a
/// transaction), skipping ids already stored.
fn collect(collected: &Mutex<Collected>, request: &Request) -> Response {
    let answer = |status: u16, text: &str| Response {
        status,
        body: format!("{text}\n").into_bytes(),
    };
    if request.header("content-encoding") != Some("gzip") {
        return answer(415, "gzip only");
    }
    let mut text = String::new();
    if flate2::read::GzDecoder::new(&request.body[..])
        .read_to_string(&mut text)
        .is_err()
    {
        return answer(400, "not gzip");
    }
    let mut events = Vec::new();
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            return answer(400, "a line is not JSON");
        };
        let (Some(id), Some(seq)) = (event["id"].as_str(), event["seq"].as_u64()) else {
            return answer(400, "an event has no id or seq");
        };
        events.push((id.to_owned(), seq, event));
    }
    let mut collected = collected.lock().unwrap();
    collected.batches.push(Batch {
        idempotency_key: request.header("idempotency-key").map(str::to_owned),
        content_type: request.header("content-type").map(str::to_owned),
        content_encoding: request.header("content-encoding").map(str::to_owned),
        first_seq: events.first().map_or(0, |e| e.1),
        last_seq: events.last().map_or(0, |e| e.1),
    });
    let mut stored = 0;
    for (id, _, event) in events {
        if collected.events.contains_key(&id) {
            collected.duplicates += 1;
        } else {
            collected.events.insert(id, event);
            stored += 1;
        }
    }
    answer(200, &format!(r#"{{"stored":{stored}}}"#))
}

/// A terminal recording into a real store in a temporary directory, and a collector.
struct Terminal {
    runtime: tokio::runtime::Runtime,
    server: Server,
    collected: Arc<Mutex<Collected>>,
    recorder: Recorder,
    /// The uploader's own connection to the store (the recorder has another).
    store: Mutex<Store>,
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Terminal {
    fn new() -> Terminal {
        let server = Server::start();
        let collected = Arc::new(Mutex::new(Collected::default()));
        let collector = collected.clone();
        server.on_post(PATH, move |request| collect(&collector, request));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stats.sqlite");
        let recorder = Recorder::start(&path, TERMINAL, WriterOptions::default()).unwrap();
        let store = Mutex::new(Store::open(&path).unwrap());
        Terminal {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            server,
            collected,
            recorder,
            store,
            path,
            _dir: dir,
        }
    }

    /// Records `n` visits' worth of varied events and waits until they are written.
    fn record(&self, n: usize) {
        for i in 0..n {
            let session = format!("s{}", i / 5);
            let kind = match i % 5 {
                0 => EventKind::SessionStart { session },
                1 => EventKind::Search {
                    session,
                    query: "营业执照 办理".into(),
                    kind: Some("guide".into()),
                    column: None,
                    year: None,
                    results: (i % 3) as u64,
                    latency_ms: 4.5,
                },
                2 => EventKind::ItemViewed {
                    session,
                    item: format!("g-{i}"),
                    title: "个体工商户登记".into(),
                    column: "zwfw".into(),
                    column_name: "办事指南".into(),
                    dwell_ms: 12_000,
                },
                3 => EventKind::QrShown {
                    session,
                    item: format!("g-{i}"),
                    title: "个体工商户登记".into(),
                    code: "checklist".into(),
                },
                _ => EventKind::SessionEnd {
                    session,
                    reason: EndReason::Idle,
                    active_ms: 30_000,
                },
            };
            self.recorder.record(kind);
        }
        self.recorder.flush();
    }

    fn uploader(&self, timeout: Duration) -> Uploader {
        Uploader::new(&self.server.url(PATH), timeout).unwrap()
    }

    fn upload_with(&self, uploader: &Uploader) -> Result<Uploaded, UploadError> {
        self.runtime.block_on(uploader.upload_once(&self.store))
    }

    fn upload(&self) -> Result<Uploaded, UploadError> {
        self.upload_with(&self.uploader(PATIENT))
    }

    fn unsent(&self) -> u64 {
        self.store.lock().unwrap().totals().unwrap().unsent
    }

    fn last_upload(&self) -> Option<String> {
        self.store.lock().unwrap().meta("last_upload").unwrap()
    }

    /// Every event in the store, as JSON by id.
    fn stored(&self) -> BTreeMap<String, serde_json::Value> {
        let events: Vec<Event> = self
            .store
            .lock()
            .unwrap()
            .events_between(i64::MIN, i64::MAX)
            .unwrap();
        events
            .into_iter()
            .map(|e| (e.id.clone(), serde_json::to_value(&e).unwrap()))
            .collect()
    }

    fn keys(&self) -> Vec<String> {
        self.collected
            .lock()
            .unwrap()
            .batches
            .iter()
            .map(|b| b.idempotency_key.clone().unwrap_or_default())
            .collect()
    }
}

#[test]
fn errors_a_late_answer_and_a_cut_answer_end_with_every_event_stored_exactly_once() {
    let terminal = Terminal::new();
    terminal.record(1234);
    terminal.server.fail(PATH, Fault::Status(500), 1);
    // The collector stores the batch, then answers after the terminal has given up…
    terminal.server.fail(PATH, Fault::Stall, 1);
    // …stores it again, then the connection breaks in the middle of the answer.
    terminal.server.fail(PATH, Fault::Cut { after: 3 }, 1);
    let uploader = terminal.uploader(Duration::from_secs(1));

    // As the back-off loop would, without its waits.
    let mut errors = Vec::new();
    let done = loop {
        match terminal.upload_with(&uploader) {
            Ok(done) => break done,
            Err(err) => {
                assert!(err.is_transient(), "{err}");
                errors.push(err);
                assert!(errors.len() < 10, "no end to the failures: {errors:?}");
            }
        }
    };

    assert!(
        matches!(
            errors[..],
            [
                UploadError::Status { status: 500, .. },
                UploadError::Timeout { secs: 1, .. },
                UploadError::Connect { .. },
            ]
        ),
        "{errors:?}"
    );
    assert_eq!(
        done,
        Uploaded {
            events: 1234,
            batches: 3
        }
    );
    let collected = terminal.collected.lock().unwrap();
    assert_eq!(collected.events, terminal.stored());
    assert_eq!(collected.events.len(), 1234);
    // The first batch arrived three times: during the stall, the cut and the success.
    assert_eq!(collected.duplicates, 2 * BATCH_EVENTS);
    assert_eq!(terminal.unsent(), 0);
    assert!(terminal.last_upload().is_some());
    for batch in &collected.batches {
        assert_eq!(batch.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(batch.content_type.as_deref(), Some("application/x-ndjson"));
        assert_eq!(
            batch.idempotency_key,
            Some(format!("{TERMINAL}:{}-{}", batch.first_seq, batch.last_seq))
        );
    }
    drop(collected);
    assert_eq!(
        terminal.keys(),
        [
            "hall-3:1-500",
            "hall-3:1-500",
            "hall-3:1-500",
            "hall-3:501-1000",
            "hall-3:1001-1234"
        ]
    );
    let requests = terminal.server.requests_for(PATH);
    assert_eq!(requests.len(), 6);

    // Nothing is left, so nothing more is sent.
    assert_eq!(terminal.upload().unwrap(), Uploaded::default());
    assert_eq!(terminal.server.requests_for(PATH).len(), 6);
}

/// A collector that answers `status` once: the upload fails (transient or not as `transient`)
/// or succeeds (`None`), and the events are marked sent only on success.
fn check_status(status: u16, transient: Option<bool>) {
    let terminal = Terminal::new();
    terminal.record(20);
    terminal.server.fail(PATH, Fault::Status(status), 1);

    let result = terminal.upload();

    assert_eq!(terminal.server.requests_for(PATH).len(), 1, "{status}");
    match (transient, result) {
        (None, Ok(done)) => {
            assert_eq!(done.events, 20, "{status}");
            assert_eq!(terminal.unsent(), 0, "{status}");
        }
        (Some(true), Err(err @ UploadError::Status { .. })) => {
            assert!(err.is_transient(), "{status}: {err}");
            assert_eq!(terminal.unsent(), 20, "{status}");
        }
        (Some(false), Err(err @ UploadError::Refused { .. })) => {
            assert!(!err.is_transient(), "{status}: {err}");
            assert_eq!(terminal.unsent(), 20, "{status}");
            assert!(err.to_string().contains("20 events stay unsent"), "{err}");
        }
        (expected, got) => panic!("HTTP {status}: expected {expected:?}, got {got:?}"),
    }
}

#[test]
fn only_a_2xx_answer_marks_events_sent_and_only_4xx_refusals_are_permanent() {
    check_status(202, None);
    check_status(204, None);
    check_status(500, Some(true));
    check_status(502, Some(true));
    check_status(503, Some(true));
    check_status(408, Some(true));
    check_status(429, Some(true));
    check_status(400, Some(false));
    check_status(401, Some(false));
    check_status(404, Some(false));
    check_status(413, Some(false));
    check_status(302, Some(false));
}

#[test]
fn a_refused_batch_stays_unsent_without_retries_and_goes_once_the_collector_accepts() {
    let terminal = Terminal::new();
    terminal.record(20);
    terminal.server.fail(PATH, Fault::Status(400), 1);

    match terminal.upload() {
        Err(UploadError::Refused {
            status: 400,
            key,
            events: 20,
            ..
        }) => assert_eq!(key, "hall-3:1-20"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(terminal.server.requests_for(PATH).len(), 1);
    assert_eq!(terminal.unsent(), 20);
    assert!(terminal.collected.lock().unwrap().events.is_empty());
    assert_eq!(terminal.last_upload(), None);

    assert_eq!(
        terminal.upload().unwrap(),
        Uploaded {
            events: 20,
            batches: 1
        }
    );
    assert_eq!(terminal.collected.lock().unwrap().events, terminal.stored());
}

#[test]
fn events_recorded_after_an_upload_go_with_the_next_one() {
    let terminal = Terminal::new();
    terminal.record(30);
    assert_eq!(terminal.upload().unwrap().events, 30);
    terminal.record(40);

    assert_eq!(
        terminal.upload().unwrap(),
        Uploaded {
            events: 40,
            batches: 1
        }
    );

    assert_eq!(terminal.keys(), ["hall-3:1-30", "hall-3:31-70"]);
    let collected = terminal.collected.lock().unwrap();
    assert_eq!(collected.events.len(), 70);
    assert_eq!(collected.events, terminal.stored());
    assert_eq!(collected.duplicates, 0);
    assert_eq!(terminal.unsent(), 0);
}

#[test]
fn an_empty_store_sends_no_request() {
    let terminal = Terminal::new();

    assert_eq!(terminal.upload().unwrap(), Uploaded::default());

    assert!(terminal.server.requests().is_empty());
    assert_eq!(terminal.last_upload(), None);
}

#[test]
fn the_background_loop_uploads_with_its_own_connection_and_stops_when_asked() {
    let terminal = Terminal::new();
    terminal.record(BATCH_EVENTS + 100);
    let stop = Arc::new(AtomicBool::new(false));
    let looping = {
        let (uploader, path, stop) = (
            terminal.uploader(PATIENT),
            terminal.path.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let interval = Duration::from_secs(3600);
            runtime.block_on(upload::run(uploader, path, interval, Duration::ZERO, stop));
        })
    };

    // Waits for the outcome, not for a time: the limit only ends a broken run.
    let limit = Instant::now() + PATIENT;
    while terminal.unsent() > 0 && Instant::now() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::SeqCst);
    looping.join().unwrap();

    assert_eq!(terminal.unsent(), 0);
    assert_eq!(terminal.keys(), ["hall-3:1-500", "hall-3:501-600"]);
    assert_eq!(terminal.collected.lock().unwrap().events, terminal.stored());
}

#[test]
fn a_password_in_the_address_goes_as_basic_auth_and_never_into_messages() {
    let terminal = Terminal::new();
    terminal.record(10);
    let address = terminal
        .server
        .url(PATH)
        .replace("http://", "http://kiosk:s3cret@");
    let uploader = Uploader::new(&address, PATIENT).unwrap();
    terminal.server.fail(PATH, Fault::Status(503), 1);

    let err = terminal.upload_with(&uploader).unwrap_err();
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert!(!format!("{uploader:?}").contains("s3cret"));
    assert_eq!(terminal.upload_with(&uploader).unwrap().events, 10);

    for request in terminal.server.requests_for(PATH) {
        assert_eq!(
            request.header("authorization"),
            Some("Basic a2lvc2s6czNjcmV0")
        );
    }
}
