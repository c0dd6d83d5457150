//! The Prometheus text file for node_exporter's textfile collector: a fleet is watched the
//! standard way, with no server on the terminal.

use std::path::Path;

use super::store::Store;

/// What the file says: the store's totals, the installed content, the last upload. Pure.
pub fn render(
    totals: &super::store::Totals,
    content: Option<&crate::install::Record>,
    last_upload: Option<i64>,
    unsent_dropped: u64,
) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    };
    metric(
        "kiosk_sessions_total",
        "counter",
        "Visitor sessions recorded (kept within retention).",
        totals.sessions as f64,
    );
    metric(
        "kiosk_searches_total",
        "counter",
        "Searches recorded.",
        totals.searches as f64,
    );
    metric(
        "kiosk_zero_result_searches_total",
        "counter",
        "Searches that found nothing.",
        totals.zero_result_searches as f64,
    );
    metric(
        "kiosk_events_unsent",
        "gauge",
        "Events not yet acknowledged by the upload endpoint.",
        totals.unsent as f64,
    );
    metric(
        "kiosk_events_unsent_dropped_total",
        "counter",
        "Unsent events deleted because they alone passed stats.max_events (never uploaded).",
        unsent_dropped as f64,
    );
    metric(
        "kiosk_content_seq",
        "gauge",
        "Seq of the installed content bundle (0: the built-in sample).",
        content.map_or(0.0, |r| r.seq as f64),
    );
    metric(
        "kiosk_last_install_timestamp_seconds",
        "gauge",
        "When the installed content was installed (0: never).",
        content.map_or(0.0, |r| r.installed_at as f64),
    );
    metric(
        "kiosk_last_upload_timestamp_seconds",
        "gauge",
        "When statistics were last acknowledged by the collector (0: never).",
        last_upload.unwrap_or(0) as f64,
    );
    out
}

/// The metrics of a terminal now.
pub fn current(
    store: &Store,
    data_dir: Option<&crate::datadir::DataDir>,
) -> Result<String, super::StoreError> {
    let totals = store.totals()?;
    let content = data_dir.and_then(|d| crate::install::status(d).current);
    let last_upload = store
        .meta(super::upload::LAST_UPLOAD)?
        .and_then(|v| v.parse::<i64>().ok());
    let dropped = store
        .meta(super::store::UNSENT_DROPPED)?
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    Ok(render(&totals, content.as_ref(), last_upload, dropped))
}

/// Writes the file atomically (node_exporter must never read half a file).
pub fn write(
    store: &Store,
    data_dir: Option<&crate::datadir::DataDir>,
    file: &Path,
) -> std::io::Result<()> {
    let text = current(store, data_dir).map_err(std::io::Error::other)?;
    let tmp = file.with_extension("prom.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, file)
}
