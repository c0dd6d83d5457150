//! The statistics store and writer on a real SQLite file: sequence numbers continue across
//! restarts, retention and the size cap bound the database, migrations leave data alone, and
//! the metrics file says what is stored.

use kiosk::stats::{EventKind, Prune, Recorder, Store, WriterOptions};

fn search(query: &str, results: u64) -> EventKind {
    EventKind::Search {
        session: "s".into(),
        query: query.into(),
        kind: None,
        column: None,
        year: None,
        results,
        latency_ms: 1.0,
    }
}

#[test]
fn sequence_numbers_continue_across_restarts_and_ids_are_unique() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stats.sqlite");
    for _ in 0..3 {
        let recorder = Recorder::start(&db, "t1", WriterOptions::default()).unwrap();
        for i in 0..10 {
            recorder.record(search("社保", i));
        }
        recorder.flush();
    }
    let store = Store::open(&db).unwrap();
    let events = store.events_between(0, i64::MAX).unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>());
    let ids: std::collections::HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), 30);
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn retention_and_the_size_cap_bound_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stats.sqlite");
    let recorder = Recorder::start(&db, "t1", WriterOptions::default()).unwrap();
    for i in 0..50 {
        recorder.record(search("低保", i));
    }
    recorder.flush();
    let mut store = Store::open(&db).unwrap();
    let now = kiosk::content::unix_now() * 1000;
    let prune = |cutoff_ms, max_events| Prune {
        cutoff_ms,
        max_events,
        keep_unsent: false,
    };
    // Nothing is older than a day; a cap of 20 keeps the newest 20.
    assert_eq!(
        store
            .prune(&prune(now - 86_400_000, 1_000))
            .unwrap()
            .total(),
        0
    );
    assert_eq!(
        store.prune(&prune(now - 86_400_000, 20)).unwrap().total(),
        30
    );
    let seqs: Vec<u64> = store
        .events_between(0, i64::MAX)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (31..=50).collect::<Vec<_>>());
    // A day later everything has aged out.
    assert_eq!(
        store
            .prune(&prune(now + 86_400_000, 1_000))
            .unwrap()
            .total(),
        20
    );
    assert_eq!(store.totals().unwrap().events, 0);
}

#[test]
fn reopening_a_store_keeps_its_events_and_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stats.sqlite");
    let recorder = Recorder::start(&db, "t1", WriterOptions::default()).unwrap();
    recorder.record(search("居住证", 3));
    recorder.flush();
    drop(recorder);
    assert_eq!(Store::open(&db).unwrap().totals().unwrap().searches, 1);
    // A database from a newer program is not touched.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 99i64).unwrap();
    drop(conn);
    let err = Store::open(&db).err().expect("a newer schema is refused");
    assert!(err.to_string().contains("newer program"), "{err}");
}

#[test]
fn the_metrics_file_counts_what_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stats.sqlite");
    let prom = dir.path().join("kiosk.prom");
    let options = WriterOptions {
        prometheus_file: Some(prom.clone()),
        ..WriterOptions::default()
    };
    let recorder = Recorder::start(&db, "t1", options).unwrap();
    recorder.record(EventKind::SessionStart {
        session: "s".into(),
    });
    recorder.record(search("营业执照", 4));
    recorder.record(search("电动车上牌", 0));
    recorder.flush();
    drop(recorder);
    // The writer writes the file when it starts its upkeep; the command prints the same text.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["stats", "metrics"])
        .env("KIOSK_CONFIG", "/dev/null")
        .env("KIOSK_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "kiosk_sessions_total 1",
        "kiosk_searches_total 2",
        "kiosk_zero_result_searches_total 1",
        "kiosk_events_unsent 3",
        "kiosk_content_seq 0",
        "# TYPE kiosk_searches_total counter",
    ] {
        assert!(text.lines().any(|l| l == line), "no “{line}” in:\n{text}");
    }
}

#[test]
fn the_report_command_writes_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::start(
        &dir.path().join("stats.sqlite"),
        "t1",
        WriterOptions::default(),
    )
    .unwrap();
    recorder.record(EventKind::SessionStart {
        session: "s".into(),
    });
    recorder.record(search("电话13812345678", 0));
    recorder.flush();
    drop(recorder);
    let kiosk = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"))
            .args(args)
            .current_dir(dir.path())
            .env("KIOSK_CONFIG", "/dev/null")
            .env("KIOSK_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let md = kiosk(&["stats", "report"]);
    assert!(md.status.success());
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("# 自助查询终端使用情况报告"), "{md}");
    assert!(
        md.contains("电话[手机号]") && !md.contains("13812345678"),
        "masked when recorded: {md}"
    );
    let json = kiosk(&["stats", "report", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["summary"]["sessions"], 1);
    assert_eq!(
        kiosk(&["stats", "report", "--format", "xlsx"])
            .status
            .code(),
        Some(2)
    );
    assert!(
        kiosk(&["stats", "report", "--format", "xlsx", "-o", "r.xlsx"])
            .status
            .success()
    );
    assert!(std::fs::metadata(dir.path().join("r.xlsx")).unwrap().len() > 1000);
    let bad = kiosk(&["stats", "report", "--from", "2026-02-30"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// A recorder whose wall clock the test sets (milliseconds since 1970).
fn recorder_at(
    db: &std::path::Path,
    clock: &std::sync::Arc<std::sync::atomic::AtomicI64>,
    keep_unsent: bool,
) -> Recorder {
    let clock = clock.clone();
    let options = WriterOptions {
        keep_unsent,
        retention_days: 30,
        wall_clock: Some(std::sync::Arc::new(move || {
            clock.load(std::sync::atomic::Ordering::SeqCst)
        })),
        ..WriterOptions::default()
    };
    Recorder::start(db, "t1", options).unwrap()
}

const DAY_MS: i64 = 86_400_000;
const NOW_MS: i64 = 1_790_000_000_000;

#[test]
fn a_clock_set_years_ahead_deletes_nothing_recent() {
    use std::sync::atomic::{AtomicI64, Ordering};
    for keep_unsent in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("stats.sqlite");
        let clock = std::sync::Arc::new(AtomicI64::new(NOW_MS));
        let recorder = recorder_at(&db, &clock, keep_unsent);
        for i in 0..10 {
            recorder.record(search("社保", i));
        }
        recorder.maintain_now();
        clock.store(NOW_MS + 3 * 365 * DAY_MS, Ordering::SeqCst);
        recorder.record(search("医保", 1));
        recorder.maintain_now();
        assert_eq!(
            Store::open(&db).unwrap().totals().unwrap().events,
            11,
            "keep_unsent {keep_unsent}"
        );
        // Real time passing still ages events out (the age clock runs at most twice as fast).
        drop(recorder);
    }
}

#[test]
fn events_recorded_with_a_clock_years_behind_survive_its_correction() {
    use std::sync::atomic::{AtomicI64, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stats.sqlite");
    let clock = std::sync::Arc::new(AtomicI64::new(NOW_MS - 5 * 365 * DAY_MS));
    let recorder = recorder_at(&db, &clock, false);
    for i in 0..10 {
        recorder.record(search("公积金", i));
    }
    recorder.maintain_now();
    clock.store(NOW_MS, Ordering::SeqCst);
    recorder.maintain_now();
    drop(recorder);
    // And across a restart, with the clock right.
    let recorder = recorder_at(&db, &clock, false);
    recorder.maintain_now();
    assert_eq!(Store::open(&db).unwrap().totals().unwrap().events, 10);
}

#[test]
fn unsent_events_are_never_deleted_by_age_and_only_past_the_cap_with_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stats.sqlite");
    let recorder = Recorder::start(&db, "t1", WriterOptions::default()).unwrap();
    for i in 0..30 {
        recorder.record(search("低保", i));
    }
    recorder.flush();
    drop(recorder);
    let mut store = Store::open(&db).unwrap();
    let ids: Vec<String> = store
        .unsent(10)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    store.mark_sent(&ids).unwrap();
    let future = kiosk::content::unix_now() * 1000 + 1000 * DAY_MS;
    let pruned = store
        .prune(&Prune {
            cutoff_ms: future,
            max_events: 1_000,
            keep_unsent: true,
        })
        .unwrap();
    assert_eq!((pruned.old, pruned.unsent_dropped), (10, 0));
    assert_eq!(store.totals().unwrap().unsent, 20);
    // Past the cap, unsent events go too, oldest first, and are counted.
    let pruned = store
        .prune(&Prune {
            cutoff_ms: future,
            max_events: 5,
            keep_unsent: true,
        })
        .unwrap();
    assert_eq!(pruned.unsent_dropped, 15);
    assert_eq!(store.meta("unsent_dropped").unwrap().as_deref(), Some("15"));
    let metrics = kiosk::stats::prometheus::current(&store, None).unwrap();
    assert!(
        metrics.contains("kiosk_events_unsent_dropped_total 15"),
        "{metrics}"
    );
}

#[test]
fn limits_of_zero_never_delete_everything() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stats.sqlite");
    let recorder = Recorder::start(&db, "t1", WriterOptions::default()).unwrap();
    for i in 0..20 {
        recorder.record(search("户籍", i));
    }
    recorder.flush();
    drop(recorder);
    let options = WriterOptions {
        retention_days: 0,
        max_events: 0,
        ..WriterOptions::default()
    };
    let recorder = Recorder::start(&db, "t1", options).unwrap();
    recorder.maintain_now();
    drop(recorder);
    assert_eq!(Store::open(&db).unwrap().totals().unwrap().events, 20);
}

#[test]
fn a_damaged_store_is_set_aside_and_a_new_one_records() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stats.sqlite");
    std::fs::write(
        &db,
        b"this is not a database, it was damaged by a power cut".repeat(100),
    )
    .unwrap();
    let recorder = Recorder::start(&db, "t1", WriterOptions::default()).unwrap();
    assert!(recorder.is_enabled());
    recorder.record(search("居住证", 1));
    recorder.flush();
    assert_eq!(Store::open(&db).unwrap().totals().unwrap().searches, 1);
    let aside = kiosk::stats::set_aside(&db);
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(std::fs::read(&aside[0])
        .unwrap()
        .starts_with(b"this is not a database"));
}
