//! The worker thread: loads the content, opens (or builds) its search index and runs searches,
//! so the screen never waits. Results come back as [`AppEvent`]s; the newest search wins.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;

use crate::content::Content;
use crate::datadir::{resolve_content, DataDir};
use crate::qr::QrModules;
use crate::search::{SearchIndex, SearchRequest, SearchResults};

/// Everything that reaches the screen from the worker.
pub enum AppEvent {
    /// The content is loaded (or why it could not be).
    ContentLoaded(Result<Arc<Content>, String>),
    /// The search index is open (or why it could not be).
    IndexReady(Result<(), String>),
    /// A search finished. `candidates` are the keyboard's candidate words for the typed tail.
    Searched {
        generation: u64,
        results: Result<SearchResults, String>,
        candidates: Vec<String>,
    },
    /// QR codes encoded for `key`, one a payload (`None`: too large to read).
    Codes {
        key: String,
        codes: Vec<Option<QrModules>>,
    },
    /// Reloading newly installed content failed; the content shown stays.
    ReloadFailed(String),
    /// The statistics of a period, for the admin's screen.
    Stats(Result<StatsData, String>),
    /// The reports were written onto a stick (the files), or why not.
    Exported(Result<Vec<PathBuf>, String>),
    /// Something for the admin page to say (the outcome of "sync now").
    AdminMessage(String),
    /// From the sync thread: an install's progress, its end, or a change of installed content.
    Sync(crate::sync::SyncEvent),
}

/// What the screen asks of the worker.
pub enum Job {
    /// Load the content and open its index. A `reload` replaces what is shown only when both
    /// succeed (else [`AppEvent::ReloadFailed`]); searches sent after it see the new content.
    Open {
        source: Option<PathBuf>,
        data_dir: DataDir,
        reload: bool,
    },
    Search {
        generation: u64,
        request: SearchRequest,
        typed: String,
    },
    /// Encode QR codes (cached by the screen under `key`).
    Codes { key: String, payloads: Vec<String> },
    /// Compute the statistics of `period` from the store at `db`.
    Stats {
        db: PathBuf,
        period: crate::stats::report::Period,
        utc_offset_minutes: i32,
        terminal: String,
    },
    /// Write the reports onto the first export stick under `roots`.
    Export {
        report: Box<crate::stats::report::Report>,
        roots: Vec<PathBuf>,
    },
}

impl Job {
    fn name(&self) -> &'static str {
        match self {
            Job::Open { .. } => "open",
            Job::Search { .. } => "search",
            Job::Codes { .. } => "codes",
            Job::Stats { .. } => "stats",
            Job::Export { .. } => "export",
        }
    }

    /// What the screen hears when this job fails unexpectedly (panics): the answer it waits
    /// for, as a failure of that job alone.
    fn failed(&self) -> Vec<AppEvent> {
        let internal = || "an internal error".to_owned();
        match self {
            Job::Open { reload: true, .. } => vec![AppEvent::ReloadFailed(internal())],
            Job::Open { .. } => vec![
                AppEvent::ContentLoaded(Err(internal())),
                AppEvent::IndexReady(Err(internal())),
            ],
            Job::Search { generation, .. } => vec![AppEvent::Searched {
                generation: *generation,
                results: Err(internal()),
                candidates: Vec::new(),
            }],
            Job::Codes { key, payloads } => vec![AppEvent::Codes {
                key: key.clone(),
                codes: vec![None; payloads.len()],
            }],
            Job::Stats { .. } => vec![AppEvent::Stats(Err(internal()))],
            Job::Export { .. } => vec![AppEvent::Exported(Err(internal()))],
        }
    }
}

/// What the statistics screen shows.
#[derive(Debug, Clone)]
pub struct StatsData {
    pub report: crate::stats::report::Report,
    pub daily: Vec<(crate::content::Date, u64)>,
}

/// The worker's side: runs until the screen drops its sender.
pub fn run(jobs: Receiver<Job>, events: Sender<AppEvent>, wake: Arc<dyn Fn() + Send + Sync>) {
    let mut index: Option<SearchIndex> = None;
    while let Ok(first) = jobs.recv() {
        // Take everything waiting: opens run in order, of the searches only the newest.
        let mut batch = vec![first];
        batch.extend(jobs.try_iter());
        let newest_search = batch
            .iter()
            .rposition(|job| matches!(job, Job::Search { .. }));
        for (i, job) in batch.into_iter().enumerate() {
            let is_stale_search = matches!(job, Job::Search { .. }) && Some(i) != newest_search;
            if is_stale_search {
                continue;
            }
            let failed = job.failed();
            let what = job.name();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handle(job, &mut index, &events)
            }));
            if outcome.is_err() {
                tracing::error!(job = what, "a background job failed unexpectedly");
                for event in failed {
                    let _ = events.send(event);
                }
            }
            wake();
        }
    }
}

fn handle(job: Job, index: &mut Option<SearchIndex>, events: &Sender<AppEvent>) {
    match job {
        Job::Open {
            source,
            data_dir,
            reload,
        } => {
            crate::search::words::warm_up();
            if reload {
                match open(source.as_deref(), &data_dir) {
                    Ok((content, opened)) => {
                        *index = Some(opened);
                        let _ = events.send(AppEvent::ContentLoaded(Ok(Arc::new(content))));
                        let _ = events.send(AppEvent::IndexReady(Ok(())));
                    }
                    Err(err) => {
                        let _ = events.send(AppEvent::ReloadFailed(err));
                    }
                }
                return;
            }
            let origin = match resolve_content(source.as_deref(), &data_dir) {
                Ok(origin) => origin,
                Err(err) => {
                    let _ = events.send(AppEvent::ContentLoaded(Err(err.to_string())));
                    return;
                }
            };
            match crate::source::load(origin.path()) {
                Ok(loaded) => {
                    if loaded.errors() > 0 {
                        tracing::warn!(source = %origin.path().display(), errors = loaded.errors(), "content has errors; `kiosk check` lists them");
                    }
                    let _ = events.send(AppEvent::ContentLoaded(Ok(Arc::new(loaded.content))));
                }
                Err(err) => {
                    let _ = events.send(AppEvent::ContentLoaded(Err(err.to_string())));
                    return;
                }
            }
            let opened = SearchIndex::open_or_build(origin.path(), &data_dir.index_dir());
            let ready = match opened {
                Ok(opened) => {
                    *index = Some(opened);
                    Ok(())
                }
                Err(err) => {
                    tracing::error!(cause = %err, "cannot open the search index");
                    Err(err.to_string())
                }
            };
            let _ = events.send(AppEvent::IndexReady(ready));
        }
        Job::Stats {
            db,
            period,
            utc_offset_minutes,
            terminal,
        } => {
            let computed = (|| {
                let store = crate::stats::Store::open(&db)?;
                let (from, to) = period.utc_range_ms(utc_offset_minutes);
                let events = store.events_between(from, to)?;
                Ok::<_, crate::stats::StoreError>(StatsData {
                    report: crate::stats::report::compute(
                        &events,
                        &period,
                        utc_offset_minutes,
                        &terminal,
                    ),
                    daily: crate::stats::report::daily_sessions(
                        &events,
                        &period,
                        utc_offset_minutes,
                    ),
                })
            })();
            let _ = events.send(AppEvent::Stats(computed.map_err(|err| err.to_string())));
        }
        Job::Export { report, roots } => {
            let outcome = match crate::stats::export_stick(&roots) {
                None => Err(String::new()),
                Some(stick) => crate::stats::export(&report, &stick).map_err(|err| {
                    tracing::error!(stick = %stick.display(), cause = %err, "export failed");
                    err.to_string()
                }),
            };
            let _ = events.send(AppEvent::Exported(outcome));
        }
        Job::Codes { key, payloads } => {
            super::panic_point("encode-qr");
            let codes = payloads
                .iter()
                .map(|payload| crate::qr::encode(payload))
                .collect();
            let _ = events.send(AppEvent::Codes { key, codes });
        }
        Job::Search {
            generation,
            request,
            typed,
        } => {
            let Some(index) = index.as_ref() else { return };
            let results = index.search(&request).map_err(|err| err.to_string());
            let candidates = if typed.is_empty() {
                Vec::new()
            } else {
                index.vocabulary().suggest(&typed, 8)
            };
            let _ = events.send(AppEvent::Searched {
                generation,
                results,
                candidates,
            });
        }
    }
}

/// Loads the content and opens its index, both or neither.
fn open(
    source: Option<&std::path::Path>,
    data_dir: &DataDir,
) -> Result<(Content, SearchIndex), String> {
    let origin = resolve_content(source, data_dir).map_err(|err| err.to_string())?;
    let loaded = crate::source::load(origin.path()).map_err(|err| err.to_string())?;
    let index = SearchIndex::open_or_build(origin.path(), &data_dir.index_dir())
        .map_err(|err| err.to_string())?;
    Ok((loaded.content, index))
}
