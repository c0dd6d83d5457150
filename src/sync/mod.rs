//! Getting content onto a running terminal: USB sticks under the mount roots ([`usb`]), a
//! channel file on a web server ([`net`]), and noticing when the installed content changed
//! (by this process, by `kiosk bundle install` from a shell, or by a rollback).
//!
//! [`spawn`] runs all three on one background thread with a small tokio runtime; what happens
//! reaches the screen as [`SyncEvent`]s. Every install goes through [`crate::install`].

pub mod net;
pub mod usb;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::bundle::PublicKey;
use crate::config::NetworkConfig;
use crate::datadir::DataDir;
use crate::install::{self, InstallError, Progress, Record};

/// Where a bundle came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Usb(PathBuf),
    Network(String),
}

/// Why an install did not happen, in the terms the screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The bundle is not newer than what is installed (the stick's content is already here).
    NotNewer { seq: u64 },
    /// No public key is pinned in the config.
    NoKeys,
    /// The stick was pulled or could not be read.
    Unreadable,
    /// This terminal could not install it now (a full disk, an earlier attempt that died); it
    /// is tried again later (the message says).
    Trouble(String),
    /// Anything else: the bundle is damaged, altered, for another site, … (the message says).
    Refused(String),
}

/// What the sync thread reports.
#[derive(Debug, Clone)]
pub enum SyncEvent {
    Started(Origin),
    Progress(Progress),
    Finished {
        origin: Origin,
        result: Result<Record, Refusal>,
    },
    /// `content/current` points at another release now: reload the content.
    ContentChanged,
}

/// What the sync thread needs.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    pub data_dir: DataDir,
    /// The pinned keys, or why they cannot be read (then nothing is installed).
    pub trusted: Result<Vec<PublicKey>, String>,
    /// The recovery keys that sign key notes.
    pub recovery: Vec<PublicKey>,
    pub site: Option<String>,
    pub mount_roots: Vec<PathBuf>,
    pub network: NetworkConfig,
    /// How often the mount roots and the `current` link are looked at.
    pub tick: Duration,
}

fn refusal(err: &InstallError) -> Refusal {
    use crate::bundle::BundleError;
    match err {
        InstallError::NotNewer { seq, .. } => Refusal::NotNewer { seq: *seq },
        InstallError::Bundle(BundleError::NoTrustedKeys) => Refusal::NoKeys,
        InstallError::Copy { .. } => Refusal::Unreadable,
        other if !other.is_bundle_fault() => Refusal::Trouble(other.to_string()),
        other => Refusal::Refused(other.to_string()),
    }
}

/// Starts the sync thread. It runs until `stop` is set (or the process ends).
pub fn spawn(
    options: SyncOptions,
    send: Arc<dyn Fn(SyncEvent) + Send + Sync>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("kiosk-sync".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    tracing::error!(cause = %err, "content updates are off: no async runtime");
                    return;
                }
            };
            runtime.block_on(run(options, send, stop));
        })
}

async fn run(
    options: SyncOptions,
    send: Arc<dyn Fn(SyncEvent) + Send + Sync>,
    stop: Arc<AtomicBool>,
) {
    let installing = Arc::new(tokio::sync::Mutex::new(()));
    if !options.network.channel_url.trim().is_empty() {
        tokio::spawn(network_loop(
            options.clone(),
            send.clone(),
            stop.clone(),
            installing.clone(),
        ));
    }
    let link = options.data_dir.content_dir().join("current");
    let mut last_link = std::fs::read_link(&link).ok();
    // A stick left in over a restart is looked at again, but says nothing when its bundle is
    // installed already.
    let mut seen: HashSet<usb::Seen> = HashSet::new();
    let mut first = true;
    while !stop.load(Ordering::SeqCst) {
        let now_link = std::fs::read_link(&link).ok();
        if now_link != last_link {
            last_link = now_link;
            send(SyncEvent::ContentChanged);
        }
        let on_sticks = usb::scan(&options.mount_roots);
        let new: Vec<usb::Seen> = on_sticks
            .iter()
            .filter(|s| !seen.contains(*s))
            .cloned()
            .collect();
        seen = on_sticks.into_iter().collect();
        // Key notes first: a stick brings one beside the bundle signed with the new key.
        for note in new.iter().filter(|s| s.is_note()) {
            let _guard = installing.lock().await;
            apply_note_blocking(&options, note.path.clone()).await;
        }
        if let Some(chosen) = usb::choose(&new) {
            let skip = first
                && crate::bundle::read_manifest_unverified(&chosen.path)
                    .is_ok_and(|m| m.seq <= install::status(&options.data_dir).high_water);
            if !skip {
                let _guard = installing.lock().await;
                let origin = Origin::Usb(chosen.path.clone());
                let result =
                    install_blocking(&options, chosen.path.clone(), origin.clone(), &send).await;
                send(SyncEvent::Finished { origin, result });
                let now_link = std::fs::read_link(&link).ok();
                if now_link != last_link {
                    last_link = now_link;
                    send(SyncEvent::ContentChanged);
                }
            }
        }
        first = false;
        tokio::time::sleep(options.tick).await;
    }
}

/// Applies a key note from a stick; what happened goes to the log (the admin reads it there
/// and in `kiosk bundle status`).
async fn apply_note_blocking(options: &SyncOptions, path: PathBuf) {
    let options = options.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let bytes = std::fs::read(&path).map_err(|err| err.to_string())?;
        install::apply_note(
            &options.data_dir,
            &bytes,
            &options.recovery,
            options.site.as_deref(),
        )
        .map_err(|err| err.to_string())
    })
    .await;
    match outcome {
        Ok(Ok(applied)) => {
            tracing::warn!(number = applied.number, revoked = ?applied.revoked, floor = applied.floor, "a key note from a USB stick was applied")
        }
        Ok(Err(err)) => tracing::warn!(cause = %err, "a key note on a USB stick was not applied"),
        Err(_) => tracing::error!("applying a key note stopped unexpectedly"),
    }
}

async fn install_blocking(
    options: &SyncOptions,
    bundle: PathBuf,
    origin: Origin,
    send: &Arc<dyn Fn(SyncEvent) + Send + Sync>,
) -> Result<Record, Refusal> {
    let (options, send) = (options.clone(), send.clone());
    tokio::task::spawn_blocking(move || install_reporting(&options, bundle, origin, &send))
        .await
        .unwrap_or_else(|_| Err(Refusal::Refused("the install stopped unexpectedly".into())))
}

/// Installs a bundle now, on this thread, telling `send` that it started and how far it got.
pub fn install_reporting(
    options: &SyncOptions,
    bundle: PathBuf,
    origin: Origin,
    send: &Arc<dyn Fn(SyncEvent) + Send + Sync>,
) -> Result<Record, Refusal> {
    send(SyncEvent::Started(origin.clone()));
    let trusted = match &options.trusted {
        Ok(keys) => keys.clone(),
        Err(err) => return Err(Refusal::Refused(err.clone())),
    };
    let from = match &origin {
        Origin::Usb(path) => format!("USB {}", path.display()),
        Origin::Network(url) => url.clone(),
    };
    let request = install::Request {
        bundle: &bundle,
        from,
        trusted: &trusted,
        site: options.site.as_deref(),
        limits: Default::default(),
    };
    install::install(&options.data_dir, &request, &mut |p| {
        send(SyncEvent::Progress(p))
    })
    .map_err(|err| {
        tracing::warn!(cause = %err, "a bundle was not installed");
        refusal(&err)
    })
}

/// Polls the network channel once, now (the admin's "sync now"), and says what happened in a
/// sentence for the admin page (Chinese when `zh`).
pub fn poll_now(
    options: &SyncOptions,
    send: &Arc<dyn Fn(SyncEvent) + Send + Sync>,
    zh: bool,
) -> String {
    let say = |zh_text: String, en_text: String| if zh { zh_text } else { en_text };
    let url = options.network.channel_url.trim();
    if url.is_empty() {
        return say(
            "未配置网络内容更新地址（network.channel_url）。".into(),
            "No network channel is configured (network.channel_url).".into(),
        );
    }
    let trusted = match &options.trusted {
        Ok(keys) => keys.clone(),
        Err(err) => return err.clone(),
    };
    let polled = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| err.to_string())
        .and_then(|runtime| {
            let poller = net::Poller::new(
                url,
                Duration::from_secs(options.network.timeout_secs.max(1)),
                options.data_dir.clone(),
                trusted,
                options.site.clone(),
            )
            .map_err(|err| err.to_string())?;
            runtime
                .block_on(poller.poll_once(|_| {}))
                .map_err(|err| err.to_string())
        });
    match polled {
        Ok(net::Polled::Installed(record)) => {
            send(SyncEvent::ContentChanged);
            say(
                format!("已从网络更新为第 {} 版“{}”。", record.seq, record.version),
                format!("Updated from the network to no. {} “{}”.", record.seq, record.version),
            )
        }
        Ok(net::Polled::NotModified) | Ok(net::Polled::UpToDate { .. }) => say(
            "网络上没有更新的内容。".into(),
            "There is no newer content on the network.".into(),
        ),
        Ok(net::Polled::RefusedBefore { seq }) => say(
            format!("网络上的第 {seq} 版此前已被拒绝，请联系内容管理部门。"),
            format!("Version {seq} on the network was refused before; please contact the content office."),
        ),
        Err(err) => say(format!("同步失败：{err}"), format!("The sync failed: {err}")),
    }
}

async fn network_loop(
    options: SyncOptions,
    send: Arc<dyn Fn(SyncEvent) + Send + Sync>,
    stop: Arc<AtomicBool>,
    installing: Arc<tokio::sync::Mutex<()>>,
) {
    let network = &options.network;
    let Ok(trusted) = options.trusted.clone() else {
        tracing::warn!("network updates are off: the public keys cannot be read");
        return;
    };
    let poller = match net::Poller::new(
        network.channel_url.trim(),
        Duration::from_secs(network.timeout_secs.max(1)),
        options.data_dir.clone(),
        trusted,
        options.site.clone(),
    ) {
        Ok(poller) => poller.with_install_lock(installing),
        Err(err) => {
            tracing::error!(cause = %err, "network updates are off");
            return;
        }
    };
    let interval = Duration::from_secs(network.interval_secs.max(10));
    let jitter = Duration::from_secs(network.jitter_secs);
    let mut failures = 0u32;
    // The first poll comes after a short random wait, so a hall's terminals that start together
    // do not poll together.
    let mut wait = jitter.mul_f64(random_unit()).min(Duration::from_secs(60));
    loop {
        let deadline = tokio::time::Instant::now() + wait;
        while tokio::time::Instant::now() < deadline {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1).min(wait)).await;
        }
        // The poller takes the install lock for the install alone, not while it downloads.
        let origin = Origin::Network(network.channel_url.clone());
        let progress_send = send.clone();
        let mut started = false;
        let started_send = send.clone();
        let origin_for_start = origin.clone();
        let result = poller
            .poll_once(move |p| {
                if !started {
                    started = true;
                    started_send(SyncEvent::Started(origin_for_start.clone()));
                }
                progress_send(SyncEvent::Progress(p))
            })
            .await;
        match result {
            Ok(net::Polled::Installed(record)) => {
                failures = 0;
                send(SyncEvent::Finished {
                    origin,
                    result: Ok(record),
                });
            }
            Ok(_) => failures = 0,
            Err(err) => {
                if err.is_transient() {
                    failures += 1;
                    tracing::info!(cause = %err, failures, "the content channel will be tried again later");
                } else {
                    tracing::warn!(cause = %err, "the content channel's bundle was refused");
                    if let net::SyncError::Install(install_err) = &err {
                        send(SyncEvent::Finished {
                            origin,
                            result: Err(refusal(install_err)),
                        });
                    }
                }
            }
        }
        wait = net::next_wait(interval, jitter, failures, random_unit());
    }
}

/// A number in [0, 1) from the operating system's generator (for jitter only).
fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}
