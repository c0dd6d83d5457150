//! Usage statistics: the events a terminal records ([`event`]), masking personal numbers
//! ([`privacy`]), the SQLite store ([`store`]), the writer thread ([`recorder`]), reports
//! ([`report`]), upload to a collector ([`upload`]) and the Prometheus text file
//! ([`prometheus`]).

pub mod demo;
pub mod event;
pub mod privacy;
pub mod prometheus;
pub mod recorder;
pub mod report;
pub mod store;
pub mod upload;

pub use event::{EndReason, Event, EventKind};
pub use recorder::{Recorder, WriterOptions};
pub use store::{open_or_set_aside, set_aside, Prune, Pruned, Store, StoreError};

/// The report of `period` from the store at `db`.
pub fn report_from(
    db: &std::path::Path,
    period: &report::Period,
    utc_offset_minutes: i32,
    terminal: &str,
) -> Result<report::Report, StoreError> {
    let store = Store::open(db)?;
    let (from, to) = period.utc_range_ms(utc_offset_minutes);
    let events = store.events_between(from, to)?;
    Ok(report::compute(
        &events,
        period,
        utc_offset_minutes,
        terminal,
    ))
}

/// The last `days` days up to today, in the hall's time.
pub fn recent_days(days: i64, utc_offset_minutes: i32) -> report::Period {
    let local = crate::content::unix_now() + i64::from(utc_offset_minutes) * 60;
    let today = local.div_euclid(86_400);
    let day = |d: i64| crate::content::Date::from_days_since_epoch(d).expect("a date in range");
    report::Period {
        from: day(today - days + 1),
        to: day(today),
    }
}

/// Writes the report in every format into `dir/kiosk-reports/` (what the terminal puts on a USB
/// stick): `<terminal>-<from>-<to>.md`, `.csv`, `.xlsx`, `.json`. Returns the files written.
pub fn export(
    report: &report::Report,
    dir: &std::path::Path,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    let out = dir.join("kiosk-reports");
    std::fs::create_dir_all(&out)?;
    let stem = format!(
        "{}-{}-{}",
        report
            .terminal
            .chars()
            .map(|c| if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            })
            .collect::<String>(),
        report.period.from,
        report.period.to
    );
    let xlsx = report::to_xlsx(report).map_err(std::io::Error::other)?;
    let files = [
        ("md", report::to_markdown(report).into_bytes()),
        ("csv", report::to_csv(report).into_bytes()),
        ("xlsx", xlsx),
        (
            "json",
            format!("{:#}\n", report::to_json(report)).into_bytes(),
        ),
    ];
    let mut written = Vec::new();
    for (ext, bytes) in files {
        let path = out.join(format!("{stem}.{ext}"));
        let tmp = out.join(format!(".{stem}.{ext}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        written.push(path);
    }
    Ok(written)
}

/// The first USB stick under `roots` (at most three folders deep) prepared for an export: it has
/// a `kiosk-reports` folder at its top. Returns the stick's folder.
pub fn export_stick(roots: &[std::path::PathBuf]) -> Option<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, depth: usize) -> Option<std::path::PathBuf> {
        let mut entries: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if !kind.is_dir() || entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.join("kiosk-reports").is_dir() {
                return Some(path);
            }
            if depth < 2 {
                if let Some(found) = walk(&path, depth + 1) {
                    return Some(found);
                }
            }
        }
        None
    }
    roots.iter().find_map(|root| walk(root, 0))
}
