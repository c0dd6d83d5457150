//! `kiosk bench record`: what recording usage events costs the screen's thread, and the writer
//! child that the crash test kills.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::stats::{EventKind, Recorder, WriterOptions};

/// A realistic event: a search with a Chinese query.
fn sample_event(i: u64) -> EventKind {
    EventKind::Search {
        session: format!("bench-{}", i / 20),
        query: "营业执照 办理".into(),
        kind: None,
        column: None,
        year: None,
        results: i % 7,
        latency_ms: 1.5,
    }
}

/// Per-second costs of `rate` record() calls on this thread, over `seconds` seconds, with the
/// real writer thread storing them in `db`.
pub struct RecordCost {
    pub rate: u32,
    pub seconds: u32,
    /// Time spent in record() each second, sorted, in microseconds.
    pub per_second_us: Vec<f64>,
    pub stored: u64,
}

pub fn measure(db: &Path, rate: u32, seconds: u32) -> Result<RecordCost, String> {
    let recorder =
        Recorder::start(db, "bench", WriterOptions::default()).map_err(|e| e.to_string())?;
    let mut per_second_us = Vec::new();
    let mut i = 0u64;
    for _ in 0..seconds {
        let second = Instant::now();
        let mut spent = Duration::ZERO;
        // The events of a second come in bursts of ten, as a busy screen would send them.
        for _ in 0..rate / 10 {
            let started = Instant::now();
            for _ in 0..10 {
                recorder.record(sample_event(i));
                i += 1;
            }
            spent += started.elapsed();
            std::thread::sleep(Duration::from_micros(900_000 / u64::from(rate / 10).max(1)));
        }
        per_second_us.push(spent.as_secs_f64() * 1e6);
        let left = Duration::from_secs(1).saturating_sub(second.elapsed());
        std::thread::sleep(left);
    }
    recorder.flush();
    let stored = crate::stats::Store::open(db)
        .and_then(|s| s.totals())
        .map_err(|e| e.to_string())?
        .events;
    per_second_us.sort_by(f64::total_cmp);
    Ok(RecordCost {
        rate,
        seconds,
        per_second_us,
        stored,
    })
}

pub fn render(cost: &RecordCost, command: &str) -> String {
    let n = cost.per_second_us.len().max(1);
    let pick = |q: f64| {
        cost.per_second_us
            .get(((n - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    format!(
        "Recording usage events on the screen's thread (`{command}`), {} events a second for {} s, \
         stored by the writer thread: {} of {} stored.\n\n\
         | UI-thread time per second | median | p90 | max | goal |\n| --- | --- | --- | --- | --- |\n\
         | recording {} events | {:.0} µs | {:.0} µs | {:.0} µs | under 1,000 µs |\n",
        cost.rate,
        cost.seconds,
        cost.stored,
        u64::from(cost.rate) * u64::from(cost.seconds),
        cost.rate,
        pick(0.5),
        pick(0.9),
        pick(1.0),
    )
}

/// The writer child of the crash test: records events as fast as `rate` allows, printing
/// `committed SEQ` after every batch the writer commits and `recorded SEQ` every 10 events.
pub fn writer_child(db: &Path, rate: u32, out: &mut dyn Write) -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel::<u64>();
    let options = WriterOptions {
        flush_every: Duration::from_millis(200),
        max_batch: 100,
        on_commit: Some(Arc::new(move |seq| {
            let _ = tx.send(seq);
        })),
        ..WriterOptions::default()
    };
    let recorder = Recorder::start(db, "crash-test", options).map_err(|e| e.to_string())?;
    let pause = Duration::from_micros(1_000_000 / u64::from(rate.max(1)));
    let mut i = 0u64;
    loop {
        let seq = recorder.record(sample_event(i)).unwrap_or(0);
        i += 1;
        if i % 10 == 0 {
            let _ = writeln!(out, "recorded {seq}");
        }
        for committed in rx.try_iter() {
            let _ = writeln!(out, "committed {committed}");
        }
        let _ = out.flush();
        std::thread::sleep(pause);
    }
}
