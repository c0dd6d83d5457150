//! `kiosk bench startup`: from process start to the first frame and to a ready screen, the
//! memory it takes, and keystroke-to-results latency through the real screen, for the sample
//! hall and for a large synthetic corpus. Each measurement runs the real `kiosk` in a fresh
//! process (`kiosk bench probe`), so nothing is warm but the operating system's file cache.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};

use super::BenchError;
use crate::content::Content;

/// What one fresh process showed.
#[derive(Debug, Clone, Default)]
pub struct Startup {
    pub label: String,
    pub items: usize,
    /// Milliseconds from spawning the process to its first frame, and to a ready screen.
    pub first_frame_ms: f64,
    pub ready_ms: f64,
    pub rss_first_frame_mib: f64,
    pub rss_ready_mib: f64,
    pub peak_mib: f64,
    pub keystrokes: usize,
    pub key_p50_ms: f64,
    pub key_p99_ms: f64,
}

/// Writes a content as a content source (site.toml, columns.toml, items/items.jsonl).
pub fn write_source(content: &Content, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("items"))?;
    let site = &content.site;
    let hosts: Vec<String> = site
        .allowed_hosts
        .iter()
        .map(|h| format!("{h:?}"))
        .collect();
    std::fs::write(
        dir.join("site.toml"),
        format!(
            "id = {:?}\nname = {:?}\nallowed_hosts = [{}]\n",
            site.id,
            site.name,
            hosts.join(", ")
        ),
    )?;
    let mut columns = String::new();
    for column in content.columns.all() {
        columns.push_str(&format!(
            "[[column]]\nid = {:?}\nname = {:?}\norder = {}\n",
            column.id, column.name, column.order
        ));
        if let Some(parent) = &column.parent {
            columns.push_str(&format!("parent = {parent:?}\n"));
        }
        columns.push('\n');
    }
    std::fs::write(dir.join("columns.toml"), columns)?;
    let mut items = std::io::BufWriter::new(std::fs::File::create(dir.join("items/items.jsonl"))?);
    for item in &content.items {
        let mut object = json!({
            "id": item.id, "kind": item.kind.as_str(), "column": item.column, "title": item.title,
            "keywords": item.keywords, "body": item.body.plain_text(),
        });
        if let Some(date) = item.date {
            object["date"] = Value::String(date.to_string());
        }
        if let Some(url) = &item.url {
            object["url"] = Value::String(url.raw.clone());
        }
        writeln!(items, "{object}")?;
    }
    items.flush()
}

/// Runs the probe in a fresh process and reads what it reports.
pub fn measure(
    kiosk_exe: &Path,
    label: &str,
    items: usize,
    source: &Path,
    data_dir: &Path,
    typed: &str,
) -> Result<Startup, BenchError> {
    let spawned = Instant::now();
    let mut child = Command::new(kiosk_exe)
        .args(["bench", "probe", "--source"])
        .arg(source)
        .args(["--data-dir"])
        .arg(data_dir)
        .args(["--typed", typed])
        .env("KIOSK_CONFIG", "/dev/null")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| BenchError::Probe(format!("cannot start {}: {err}", kiosk_exe.display())))?;
    let stdout = child.stdout.take().expect("piped");
    let mut startup = Startup {
        label: label.to_owned(),
        items,
        ..Startup::default()
    };
    let mib = |v: &Value, key: &str| v[key].as_f64().unwrap_or(0.0) / 1024.0;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|err| BenchError::Probe(err.to_string()))?;
        let seen = spawned.elapsed().as_secs_f64() * 1000.0;
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match event["event"].as_str() {
            Some("first_frame") => {
                startup.first_frame_ms = seen;
                startup.rss_first_frame_mib = mib(&event, "rss_kib");
            }
            Some("ready") => {
                startup.ready_ms = seen;
                startup.rss_ready_mib = mib(&event, "rss_kib");
            }
            Some("keystrokes") => {
                startup.keystrokes = event["count"].as_u64().unwrap_or(0) as usize;
                startup.key_p50_ms = event["p50_ms"].as_f64().unwrap_or(0.0);
                startup.key_p99_ms = event["p99_ms"].as_f64().unwrap_or(0.0);
                startup.peak_mib = mib(&event, "peak_kib");
            }
            _ => {}
        }
    }
    let status = child
        .wait()
        .map_err(|err| BenchError::Probe(err.to_string()))?;
    if !status.success() {
        return Err(BenchError::Probe(format!(
            "the probe for {label} failed ({status})"
        )));
    }
    Ok(startup)
}

/// The figures as a Markdown table, with the goals beside them.
pub fn render(runs: &[Startup], command: &str) -> String {
    let mut out = String::new();
    out.push_str("## Startup and the screen\n\n");
    out.push_str(&format!("Command: `{command}` (release build). Each row is a fresh `kiosk` process showing the real screen on a headless 1920×1080 software-rendered window; times are measured by the parent from spawning the process. The first run builds the index; the figures are from a second run, as a terminal starts every day.\n\n"));
    out.push_str("| content | items | spawn → first frame | spawn → ready (content + index) | RSS at first frame | RSS when ready | peak RSS after typing | keystroke → results drawn p50 / p99 |\n|---|---|---|---|---|---|---|---|\n");
    for run in runs {
        out.push_str(&format!(
            "| {} | {} | {:.0} ms | {:.0} ms | {:.0} MiB | {:.0} MiB | {:.0} MiB | {:.1} / {:.1} ms ({} keys) |\n",
            run.label, run.items, run.first_frame_ms, run.ready_ms, run.rss_first_frame_mib, run.rss_ready_mib, run.peak_mib, run.key_p50_ms, run.key_p99_ms, run.keystrokes
        ));
    }
    out.push_str("\nGoals: first frame ≤ 1 s and ≤ 300 MB resident memory.\n");
    out
}

/// Where the probes keep their data.
pub fn work_dir() -> PathBuf {
    std::env::temp_dir().join(format!("kiosk-bench-startup-{}", std::process::id()))
}
