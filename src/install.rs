//! Installing a bundle into the data directory: the one path for a USB stick, the network and
//! the command line. Also the install status, rollback, and cleaning up after a crash.
//!
//! ```text
//! <data-dir>/content/
//!   current  -> releases/r0000000012     a symbolic link, switched by one rename(2)
//!   previous -> releases/r0000000011     kept for rollback
//!   releases/r0000000012/
//!     source/          the content source (site.toml, columns.toml, items/, synonyms.txt)
//!     manifest.json    the bundle's signed manifest
//!     install.json     when and from where it was installed ([`Record`])
//!   high-water         the highest seq ever installed: older bundles are refused, even after a rollback
//!   history.jsonl      one line per install and rollback
//!   install.lock       held while an install or rollback runs
//! ```
//!
//! The steps ([`Step`]): copy the bundle into `staging/` (never read twice from a stick),
//! verify its signature, site and seq, then its payload, unpack into a `.partial` release,
//! load it and build its search index, run smoke queries, fsync everything, rename the release
//! into place, then switch `previous` and `current` with one rename each. A crash (power cut,
//! SIGKILL) at any point leaves `current` at the old or the new release, complete; the next
//! start removes the leftovers ([`clean_leftovers`]). `KIOSK_FAILPOINT=<name>` pauses the
//! process at a named point so tests can kill it there.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::bundle::{self, BundleError, Limits, PublicKey, Verified};
use crate::datadir::DataDir;
use crate::search::{SearchIndex, SearchRequest};

/// The steps of an install, as the screen shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Copy,
    Verify,
    Unpack,
    Index,
    Check,
    Switch,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Copy,
        Step::Verify,
        Step::Unpack,
        Step::Index,
        Step::Check,
        Step::Switch,
    ];

    pub fn position(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Step::Copy => "copying the bundle",
            Step::Verify => "checking the signature",
            Step::Unpack => "unpacking",
            Step::Index => "building the search index",
            Step::Check => "testing the new content",
            Step::Switch => "switching to the new content",
        }
    }
}

/// Where an install is: a step and how far into it (0–1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub step: Step,
    pub fraction: f32,
}

/// What is installed: kept as `install.json` in its release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub site: String,
    pub seq: u64,
    pub version: String,
    /// When the bundle was built (UTC, RFC 3339).
    pub created: String,
    pub key_id: String,
    pub item_count: usize,
    /// When it was installed, seconds since 1970 UTC.
    pub installed_at: i64,
    /// Where it came from: a file path or a URL.
    pub from: String,
    /// The release folder's name.
    pub release: String,
    /// The search index folder (under `index/`) built for it.
    pub index_key: String,
}

/// The installs a terminal has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    pub current: Option<Record>,
    pub previous: Option<Record>,
    /// A bundle must have a seq above this.
    pub high_water: u64,
}

/// One line of `history.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HistoryEntry {
    pub at: i64,
    /// `install`, `rollback`, or `failed` (an install that failed for the terminal's own
    /// reasons: a full disk, an install that died before; it is tried again later).
    pub action: String,
    pub seq: u64,
    pub version: String,
    pub from: String,
    /// Why it failed (`failed` only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("another install is running; try again when it has finished")]
    Busy,
    #[error("cannot read the bundle from {path}: {cause} (was the USB stick removed?); nothing was changed")]
    Copy {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{0}")]
    Bundle(#[from] BundleError),
    #[error("the bundle is for site “{bundle}”, but this terminal shows site “{terminal}”")]
    WrongSite { bundle: String, terminal: String },
    #[error("the bundle has seq {seq}, which is not newer than seq {high_water} (installed before); only newer bundles are installed")]
    NotNewer { seq: u64, high_water: u64 },
    #[error("the bundle's content does not load: {0}")]
    Content(String),
    #[error("the bundle's content failed its test: {0}")]
    Smoke(String),
    #[error("there is no previous content to roll back to")]
    NothingToRollBack,
    #[error("the search index of the new content cannot be built: {0}")]
    Index(crate::search::SearchError),
    #[error("there is not enough free disk space: installing needs about {}, {} is free; nothing was changed, and it is tried again later", crate::source::limits::bytes_text(*needed), crate::source::limits::bytes_text(*free))]
    NoSpace { needed: u64, free: u64 },
    #[error("installing seq {seq} stopped unexpectedly {attempts} times in a row (out of memory or power?); it is tried again after {wait_minutes} minutes")]
    Deferred {
        seq: u64,
        attempts: u32,
        wait_minutes: u64,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl InstallError {
    /// Whether the bundle itself is at fault (its signature, manifest, seq, site or content):
    /// only then is it remembered as refused. A full disk, a pulled stick, a busy installer or a
    /// crashed attempt are this terminal's trouble and are tried again later.
    pub fn is_bundle_fault(&self) -> bool {
        match self {
            InstallError::Bundle(err) => !matches!(
                err,
                BundleError::Io { .. } | BundleError::Source(_) | BundleError::Key { .. }
            ),
            InstallError::WrongSite { .. }
            | InstallError::NotNewer { .. }
            | InstallError::Content(_)
            | InstallError::Smoke(_) => true,
            InstallError::Index(err) => !err.is_io(),
            InstallError::Busy
            | InstallError::Copy { .. }
            | InstallError::NoSpace { .. }
            | InstallError::Deferred { .. }
            | InstallError::NothingToRollBack
            | InstallError::Io { .. } => false,
        }
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What to install.
pub struct Request<'a> {
    /// The bundle file (on a stick, or already downloaded into `staging/`).
    pub bundle: &'a Path,
    /// Where it came from, for the record: a path or a URL.
    pub from: String,
    pub trusted: &'a [PublicKey],
    /// Only bundles of this site (the config's pin); else the installed content's site.
    pub site: Option<&'a str>,
    pub limits: Limits,
}

/// Pauses the process at a named point when `KIOSK_FAILPOINT` names it (for crash tests).
pub fn failpoint(name: &str) {
    static POINT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let point = POINT.get_or_init(|| std::env::var("KIOSK_FAILPOINT").ok());
    if point.as_deref() == Some(name) {
        eprintln!("kiosk: failpoint {name} reached");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// Holds `install.lock` while alive.
struct Lock {
    _file: File,
}

fn lock(data: &DataDir) -> Result<Lock, InstallError> {
    let dir = data.content_dir();
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let path = dir.join("install.lock");
    let file = File::create(&path).map_err(io_error(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(InstallError::Busy),
        Err(std::fs::TryLockError::Error(err)) => Err(io_error(&path)(err)),
    }
}

/// Installs a bundle. `progress` hears of every step; the result is the new install's record.
pub fn install(
    data: &DataDir,
    request: &Request,
    progress: &mut dyn FnMut(Progress),
) -> Result<Record, InstallError> {
    let _lock = lock(data)?;
    clean_locked(data)?;
    let result = install_locked(data, request, progress);
    if result
        .as_ref()
        .is_err_and(|err| !matches!(err, InstallError::Deferred { .. }))
    {
        // It ended, with an answer: not a death to count.
        let _ = std::fs::remove_file(Attempt::path(data));
    }
    if let Err(err) = &result {
        // The terminal's own trouble is recorded (a refusal changes nothing, not even the
        // history); the admin sees it on the admin page and in `kiosk bundle status`.
        if !err.is_bundle_fault() && !matches!(err, InstallError::Busy) {
            let manifest = bundle::read_manifest_unverified(request.bundle).ok();
            let entry = HistoryEntry {
                at: crate::content::unix_now(),
                action: "failed".into(),
                seq: manifest.as_ref().map_or(0, |m| m.seq),
                version: manifest.map(|m| m.version).unwrap_or_default(),
                from: request.from.clone(),
                reason: err.to_string(),
            };
            if let Err(err) = append_entry(data, &entry) {
                tracing::warn!(cause = %err, "cannot record the failed install");
            }
        }
    }
    if result.is_err() {
        // A refused or failed install leaves nothing behind; what is installed is untouched.
        if let Err(err) = clean_locked(data) {
            tracing::warn!(cause = %err, "cannot clean up after a failed install");
        }
    }
    result
}

fn install_locked(
    data: &DataDir,
    request: &Request,
    progress: &mut dyn FnMut(Progress),
) -> Result<Record, InstallError> {
    let mut report = |step: Step, fraction: f32| progress(Progress { step, fraction });

    // 1. The header where the bundle is (a stick, a download): signature, manifest, site and
    //    seq are checked before anything is copied, so nothing unverified fills the disk.
    report(Step::Copy, 0.0);
    let named = |err| match err {
        // Name the file the admin gave, not the copy in staging/.
        BundleError::NotABundle { .. } => BundleError::NotABundle {
            path: request.bundle.to_owned(),
        },
        other => other,
    };
    let keys = key_state(data);
    let trusted = keys.effective(request.trusted);
    let revoked = |err| match err {
        BundleError::UntrustedKey { key_id, .. } if keys.is_revoked(&key_id) => {
            BundleError::Revoked { key_id }
        }
        other => other,
    };
    let on_source = bundle::verify_header(request.bundle, &trusted, &request.limits)
        .map_err(revoked)
        .map_err(|err| match err {
            BundleError::Io { source, .. } => InstallError::Copy {
                path: request.bundle.to_owned(),
                cause: source,
            },
            other => InstallError::Bundle(named(other)),
        })?;
    let status = status(data);
    check_site_and_seq(request, &status, &on_source.manifest)?;
    let signed_len = on_source.payload_offset + on_source.manifest.payload.size;
    let found_len = std::fs::metadata(request.bundle)
        .map_err(|cause| InstallError::Copy {
            path: request.bundle.to_owned(),
            cause,
        })?
        .len();
    if found_len < signed_len {
        return Err(BundleError::Truncated(format!(
            "it has {found_len} bytes of the {signed_len} it was signed with"
        ))
        .into());
    }
    if found_len > signed_len {
        return Err(BundleError::TrailingData {
            extra: found_len - signed_len,
        }
        .into());
    }
    let staging = data.staging_dir();
    std::fs::create_dir_all(&staging).map_err(io_error(&staging))?;
    // A download is in staging/ already: it is used where it is.
    let in_staging = request.bundle.parent() == Some(staging.as_path());
    check_space(
        data,
        &on_source.manifest,
        if in_staging { 0 } else { signed_len },
    )?;
    let attempt = Attempt::begin(data, &on_source.manifest)?;

    // 2. Copy into staging exactly the signed length (the stick may be pulled or changed),
    //    then verify the copy: its header must be the one checked, then its payload.
    let staged = if in_staging {
        request.bundle.to_owned()
    } else {
        let staged = staging.join("incoming.kbundle");
        copy_into(request.bundle, &staged, signed_len, &mut |f| {
            report(Step::Copy, f)
        })?;
        staged
    };
    failpoint("copied");
    report(Step::Verify, 0.0);
    let verified = bundle::verify_header(&staged, &trusted, &request.limits).map_err(named)?;
    if verified.manifest != on_source.manifest {
        return Err(BundleError::Malformed("it changed while it was being copied".into()).into());
    }
    let manifest = &verified.manifest;
    bundle::verify_payload(&staged, &verified, &mut |f| report(Step::Verify, f))?;
    failpoint("verified");

    // 3. Unpack into a partial release.
    let release = release_name(manifest.seq);
    let releases = data.releases_dir();
    let partial = releases.join(format!("{release}.partial"));
    let source = partial.join("source");
    let total = manifest.files.len().max(1);
    bundle::unpack(&staged, &verified, &source, &mut |done| {
        report(Step::Unpack, done as f32 / total as f32);
        if done == 1 {
            failpoint("unpacking");
        }
    })?;
    failpoint("unpacked");

    // 4. Load it and build its index (into the index folder the screen will open).
    report(Step::Index, 0.0);
    let loaded = check_content(&source, manifest)?;
    let index =
        SearchIndex::open_or_build(&source, &data.index_dir()).map_err(InstallError::Index)?;
    failpoint("indexed");

    // 5. Smoke queries: a few items must be found by their titles.
    report(Step::Check, 0.0);
    smoke_test(&index, &loaded.content)?;
    let index_key = index.key().to_owned();
    drop(index);
    failpoint("checked");

    // 6. Record, fsync, rename into place, switch.
    report(Step::Switch, 0.0);
    let record = Record {
        site: manifest.site.clone(),
        seq: manifest.seq,
        version: manifest.version.clone(),
        created: manifest.created.clone(),
        key_id: verified.key_id.clone(),
        item_count: manifest.item_count,
        installed_at: crate::content::unix_now(),
        from: request.from.clone(),
        release: release.clone(),
        index_key,
    };
    write_synced(
        &partial.join("manifest.json"),
        &serde_json::to_vec_pretty(manifest).expect("serialises"),
    )?;
    write_synced(
        &partial.join("install.json"),
        &serde_json::to_vec_pretty(&record).expect("serialises"),
    )?;
    sync_tree(&partial)?;
    let final_dir = releases.join(&release);
    if final_dir.exists() {
        remove_dir(&final_dir)?;
    }
    std::fs::rename(&partial, &final_dir).map_err(io_error(&final_dir))?;
    sync_dir(&releases)?;
    failpoint("synced");
    if let Some(current) = &status.current {
        switch_link(data, PREVIOUS, &current.release)?;
    }
    failpoint("switching");
    switch_link(data, CURRENT, &release)?;
    failpoint("switched");
    report(Step::Switch, 1.0);
    // The new content is live: what follows is bookkeeping, and its failure is not the install's
    // (the high-water mark is also derived from the installed seqs).
    for (what, outcome) in [
        ("high-water mark", write_high_water(data, manifest.seq)),
        ("history", append_history(data, "install", &record)),
        ("cleanup", clean_locked(data)),
    ] {
        if let Err(err) = outcome {
            tracing::warn!(cause = %err, "after installing: cannot update the {what}");
        }
    }
    attempt.end(data);
    tracing::info!(seq = record.seq, version = %record.version, from = %record.from, "content installed");
    Ok(record)
}

/// Loads an unpacked bundle's content source as the terminal would show it: it must load
/// without errors (the same rules as `kiosk check`, limits included) and hold the items its
/// manifest says. Used by the install and by `kiosk bundle verify`.
pub fn check_content(
    source: &Path,
    manifest: &bundle::Manifest,
) -> Result<crate::source::Loaded, InstallError> {
    let loaded = crate::source::load(source).map_err(|err| match err {
        crate::source::SourceError::Io { path, source } => InstallError::Io { path, source },
        other => InstallError::Content(other.to_string()),
    })?;
    if loaded.errors() > 0 {
        return Err(InstallError::Content(format!(
            "{} error(s), first: {}",
            loaded.errors(),
            loaded
                .problems
                .iter()
                .find(|p| p.severity == crate::source::Severity::Error)
                .map(ToString::to_string)
                .unwrap_or_default()
        )));
    }
    if loaded.content.items.len() != manifest.item_count {
        return Err(InstallError::Content(format!(
            "{} items loaded, the manifest says {}",
            loaded.content.items.len(),
            manifest.item_count
        )));
    }
    Ok(loaded)
}

/// The bundle must be for this terminal's site and newer than anything installed before.
fn check_site_and_seq(
    request: &Request,
    status: &Status,
    manifest: &bundle::Manifest,
) -> Result<(), InstallError> {
    let terminal_site = request
        .site
        .map(str::to_owned)
        .or_else(|| status.current.as_ref().map(|r| r.site.clone()));
    if let Some(site) = terminal_site {
        if site != manifest.site {
            return Err(InstallError::WrongSite {
                bundle: manifest.site.clone(),
                terminal: site,
            });
        }
    }
    if manifest.seq <= status.high_water {
        return Err(InstallError::NotNewer {
            seq: manifest.seq,
            high_water: status.high_water,
        });
    }
    Ok(())
}

/// Free bytes for this program on the file system of `path`, or of its nearest existing
/// parent (`None`: cannot tell).
pub fn free_space(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let mut path = path;
    while !path.exists() {
        path = path.parent()?;
    }
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a valid C string and `stats` a writable statvfs.
    let ok = unsafe { libc::statvfs(path.as_ptr(), &mut stats) } == 0;
    ok.then(|| stats.f_bavail as u64 * stats.f_frsize as u64)
}

/// Room for the copy (`copy` bytes), the unpacked files, the search index (about as large
/// again) and some slack; checked against the signed sizes before anything is written.
fn check_space(data: &DataDir, manifest: &bundle::Manifest, copy: u64) -> Result<(), InstallError> {
    let needed = copy + 2 * manifest.total_size() + (16 << 20);
    match free_space(data.root()) {
        Some(free) if free < needed => Err(InstallError::NoSpace { needed, free }),
        _ => Ok(()),
    }
}

/// An install in progress, remembered in `content/attempt.json` until it ends. Finding it at
/// the start of the next install of the same bundle means that one never ended (the process
/// died: out of memory, a power cut): after two such deaths in a row, the next try waits, longer
/// each time, so a bundle that kills the installer does not do it in a tight loop.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Attempt {
    payload: String,
    seq: u64,
    /// Attempts of this bundle that did not end, this one included.
    attempts: u32,
    /// When the last began (Unix seconds).
    at: i64,
}

impl Attempt {
    fn path(data: &DataDir) -> PathBuf {
        data.content_dir().join("attempt.json")
    }

    /// How long to wait after `attempts` attempts that died: none after one (a power cut
    /// happens), then 5 minutes, doubling, up to a day.
    pub fn wait_after(attempts: u32) -> u64 {
        match attempts {
            0 | 1 => 0,
            n => (5u64 << (n - 2).min(9)).min(24 * 60),
        }
    }

    fn begin(data: &DataDir, manifest: &bundle::Manifest) -> Result<Attempt, InstallError> {
        let path = Attempt::path(data);
        let before: Option<Attempt> = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .filter(|a: &Attempt| a.payload == manifest.payload.sha256);
        let now = crate::content::unix_now();
        let attempts = before.as_ref().map_or(0, |a| a.attempts);
        let wait = Attempt::wait_after(attempts) as i64 * 60;
        if let Some(before) = &before {
            // A clock set back does not make the wait longer than it is.
            let since = (now - before.at).clamp(0, i64::MAX);
            if since < wait && before.at <= now {
                return Err(InstallError::Deferred {
                    seq: manifest.seq,
                    attempts,
                    wait_minutes: ((wait - since) as u64).div_ceil(60),
                });
            }
        }
        let attempt = Attempt {
            payload: manifest.payload.sha256.clone(),
            seq: manifest.seq,
            attempts: attempts + 1,
            at: now,
        };
        let dir = data.content_dir();
        let tmp = dir.join(".attempt.json.new");
        write_synced(&tmp, &serde_json::to_vec(&attempt).expect("serialises"))?;
        std::fs::rename(&tmp, &path).map_err(io_error(&path))?;
        if attempts > 0 {
            tracing::warn!(
                seq = manifest.seq,
                attempts,
                "an earlier install of this bundle never ended; trying again"
            );
        }
        Ok(attempt)
    }

    /// The install ended (installed or refused): it is not a death to count.
    fn end(&self, data: &DataDir) {
        let _ = std::fs::remove_file(Attempt::path(data));
    }
}

fn release_name(seq: u64) -> String {
    format!("r{seq:010}")
}

const CURRENT: &str = "current";
const PREVIOUS: &str = "previous";

/// Copies the first `len` bytes of `from` into `to` with fsync, reporting progress. A read
/// error, or a file that ends early, is the stick's; a partial copy is removed.
fn copy_into(
    from: &Path,
    to: &Path,
    len: u64,
    progress: &mut dyn FnMut(f32),
) -> Result<(), InstallError> {
    let copy_error = |cause| InstallError::Copy {
        path: from.to_owned(),
        cause,
    };
    let copied = (|| {
        let input = File::open(from).map_err(copy_error)?;
        let mut input = input.take(len);
        let mut output = File::create(to).map_err(io_error(to))?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut done = 0u64;
        loop {
            let n = input.read(&mut buf).map_err(copy_error)?;
            if n == 0 {
                break;
            }
            output.write_all(&buf[..n]).map_err(io_error(to))?;
            done += n as u64;
            progress(done as f32 / len.max(1) as f32);
        }
        if done < len {
            return Err(copy_error(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file ended early",
            )));
        }
        output.sync_all().map_err(io_error(to))
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(to);
    }
    copied
}

/// Checks that the new index answers and holds what the content has: the counts agree, and
/// a few items (at the start, the middle and the end) are found by their titles. It tests the
/// index, not the content: an item whose title search cannot match (punctuation only) or that
/// many items share is passed over for the next one, so content the loader accepts installs.
fn smoke_test(index: &SearchIndex, content: &crate::content::Content) -> Result<(), InstallError> {
    if index.item_count() != content.items.len() {
        return Err(InstallError::Smoke(format!(
            "the index holds {} items, the content {}",
            index.item_count(),
            content.items.len()
        )));
    }
    let items = &content.items;
    if items.is_empty() {
        return Ok(());
    }
    let mut shared: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for item in items {
        *shared.entry(item.title.as_str()).or_default() += 1;
    }
    const TRIES: usize = 50;
    let mut checked = std::collections::HashSet::new();
    for start in [0, items.len() / 2, items.len() - 1] {
        let candidates = (0..items.len().min(TRIES))
            .map(|k| (start + k) % items.len())
            .filter(|&i| shared[items[i].title.as_str()] <= SMOKE_LIMIT / 2);
        for i in candidates {
            if !checked.insert(i) {
                continue;
            }
            let item = &items[i];
            let mut request = SearchRequest::new(item.title.clone());
            request.limit = SMOKE_LIMIT;
            let results = index
                .search(&request)
                .map_err(|err| InstallError::Smoke(format!("searching failed: {err}")))?;
            if results.blank {
                continue;
            }
            if !results.hits.iter().any(|hit| hit.id == item.id) {
                return Err(InstallError::Smoke(format!(
                    "searching for “{}” does not find item {}",
                    item.title, item.id
                )));
            }
            break;
        }
    }
    Ok(())
}

/// Results a smoke query looks at.
const SMOKE_LIMIT: usize = 20;

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
    let mut file = File::create(path).map_err(io_error(path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_error(path))
}

fn sync_dir(dir: &Path) -> Result<(), InstallError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io_error(dir))
}

/// fsyncs every folder under `dir` (files were synced as they were written).
fn sync_tree(dir: &Path) -> Result<(), InstallError> {
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        if entry.file_type().map_err(io_error(dir))?.is_dir() {
            sync_tree(&entry.path())?;
        }
    }
    sync_dir(dir)
}

fn remove_dir(dir: &Path) -> Result<(), InstallError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(io_error(dir)(err)),
    }
}

/// Points `content/<name>` at `releases/<release>` with one rename.
fn switch_link(data: &DataDir, name: &str, release: &str) -> Result<(), InstallError> {
    let dir = data.content_dir();
    let tmp = dir.join(format!(".{name}.new"));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(Path::new("releases").join(release), &tmp)
        .map_err(io_error(&tmp))?;
    let link = dir.join(name);
    std::fs::rename(&tmp, &link).map_err(io_error(&link))?;
    sync_dir(&dir)
}

/// The release a link points at, when it is a release of this data directory.
fn link_release(data: &DataDir, name: &str) -> Option<String> {
    let target = std::fs::read_link(data.content_dir().join(name)).ok()?;
    let release = target.strip_prefix("releases").ok()?.to_str()?.to_owned();
    (!release.contains('/') && data.releases_dir().join(&release).is_dir()).then_some(release)
}

fn read_record(data: &DataDir, release: &str) -> Option<Record> {
    let path = data.releases_dir().join(release).join("install.json");
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// What is installed, what was before, and the lowest seq a new bundle may have.
pub fn status(data: &DataDir) -> Status {
    let current = link_release(data, CURRENT).and_then(|r| read_record(data, &r));
    let previous = link_release(data, PREVIOUS)
        .and_then(|r| read_record(data, &r))
        .filter(|p| current.as_ref().is_none_or(|c| c.release != p.release));
    let recorded = std::fs::read_to_string(data.content_dir().join("high-water"))
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .unwrap_or(0);
    // A release signed by a key a key note revoked does not hold the floor up.
    let keys = key_state(data);
    let counted = |record: &Option<Record>| {
        record
            .as_ref()
            .filter(|r| !keys.is_revoked(&r.key_id))
            .map_or(0, |r| r.seq)
    };
    let high_water = [recorded, counted(&current), counted(&previous)]
        .into_iter()
        .max()
        .unwrap_or(0);
    Status {
        current,
        previous,
        high_water,
    }
}

fn write_high_water(data: &DataDir, seq: u64) -> Result<(), InstallError> {
    let dir = data.content_dir();
    let path = dir.join("high-water");
    let old = status(data).high_water;
    let tmp = dir.join(".high-water.new");
    write_synced(&tmp, format!("{}\n", old.max(seq)).as_bytes())?;
    std::fs::rename(&tmp, &path).map_err(io_error(&path))?;
    sync_dir(&dir)
}

fn append_history(data: &DataDir, action: &str, record: &Record) -> Result<(), InstallError> {
    append_entry(
        data,
        &HistoryEntry {
            at: crate::content::unix_now(),
            action: action.into(),
            seq: record.seq,
            version: record.version.clone(),
            from: record.from.clone(),
            reason: String::new(),
        },
    )
}

fn append_entry(data: &DataDir, entry: &HistoryEntry) -> Result<(), InstallError> {
    let dir = data.content_dir();
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let path = dir.join("history.jsonl");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io_error(&path))?;
    let line = serde_json::to_string(entry).expect("serialises") + "\n";
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_data())
        .map_err(io_error(&path))
}

/// Every install and rollback, oldest first (lines that cannot be read are skipped).
pub fn history(data: &DataDir) -> Vec<HistoryEntry> {
    std::fs::read_to_string(data.content_dir().join("history.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Goes back to the previous install; the one rolled back from becomes the previous one (so a
/// second rollback undoes the first). The high-water mark stays: the bundle rolled back from is
/// not offered again by a stick or the network.
pub fn rollback(data: &DataDir) -> Result<Record, InstallError> {
    let _lock = lock(data)?;
    let status = status(data);
    let (Some(current), Some(previous)) = (status.current, status.previous) else {
        return Err(InstallError::NothingToRollBack);
    };
    if key_state(data).is_revoked(&previous.key_id) {
        return Err(InstallError::Bundle(BundleError::Revoked {
            key_id: previous.key_id,
        }));
    }
    write_high_water(data, current.seq)?;
    switch_link(data, PREVIOUS, &current.release)?;
    failpoint("rolling-back");
    switch_link(data, CURRENT, &previous.release)?;
    append_history(data, "rollback", &previous)?;
    tracing::info!(seq = previous.seq, version = %previous.version, "rolled back");
    Ok(previous)
}

/// Removes what an interrupted install left: staging files, partial releases, releases no
/// link points at, and stray link files. Does nothing while an install runs.
pub fn clean_leftovers(data: &DataDir) -> Result<(), InstallError> {
    if !data.content_dir().is_dir() && !data.staging_dir().is_dir() {
        return Ok(());
    }
    match lock(data) {
        Ok(_lock) => clean_locked(data),
        Err(InstallError::Busy) => Ok(()),
        Err(err) => Err(err),
    }
}

fn clean_locked(data: &DataDir) -> Result<(), InstallError> {
    let staging = data.staging_dir();
    if let Ok(entries) = std::fs::read_dir(&staging) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Downloads keep their partial file so they can resume (see `sync`).
            if name.starts_with("download") {
                continue;
            }
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_dir(&path)?;
            } else {
                std::fs::remove_file(&path).map_err(io_error(&path))?;
            }
        }
    }
    heal_previous(data)?;
    let keep: Vec<String> = [link_release(data, CURRENT), link_release(data, PREVIOUS)]
        .into_iter()
        .flatten()
        .collect();
    let releases = data.releases_dir();
    if let Ok(entries) = std::fs::read_dir(&releases) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name) {
                tracing::info!(release = %name, "removing a release no longer used");
                remove_dir(&entry.path())?;
            }
        }
    }
    // Indexes of content no longer installed (others are rebuilt when needed).
    let records: Vec<Record> = keep.iter().filter_map(|r| read_record(data, r)).collect();
    if !records.is_empty() {
        if let Ok(entries) = std::fs::read_dir(data.index_dir()) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') && !records.iter().any(|r| r.index_key == name) {
                    remove_dir(&entry.path())?;
                }
            }
        }
    }
    for stray in [
        ".current.new",
        ".previous.new",
        ".high-water.new",
        ".attempt.json.new",
        ".keys.json.new",
    ] {
        let _ = std::fs::remove_file(data.content_dir().join(stray));
    }
    Ok(())
}

/// After a crash between the two link switches of an install or a rollback, `previous` may point
/// where `current` does: point it at the newest older release, if one is left.
fn heal_previous(data: &DataDir) -> Result<(), InstallError> {
    let Some(current) = link_release(data, CURRENT) else {
        return Ok(());
    };
    if link_release(data, PREVIOUS).is_some_and(|p| p != current) {
        return Ok(());
    }
    let Some(current_seq) = read_record(data, &current).map(|r| r.seq) else {
        return Ok(());
    };
    // The newest release older than the current one (a newer one was never switched to).
    let newest_other = std::fs::read_dir(data.releases_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| *name != current && !name.contains('.'))
        .filter_map(|name| Some((read_record(data, &name)?.seq, name)))
        .filter(|(seq, _)| *seq < current_seq)
        .max();
    if let Some((_, release)) = newest_other {
        tracing::info!(release = %release, "restoring the rollback link after an interruption");
        switch_link(data, PREVIOUS, &release)?;
    }
    Ok(())
}

/// Whether a bundle file can be verified by these keys: its manifest, for choosing and showing.
pub fn peek(bundle: &Path, trusted: &[PublicKey]) -> Result<Verified, BundleError> {
    bundle::verify_header(bundle, trusted, &Limits::default())
}

/// The key notes this terminal applied (`content/keys.json`; none: nothing revoked).
pub fn key_state(data: &DataDir) -> bundle::keynote::KeyState {
    let path = data.content_dir().join("keys.json");
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
            tracing::error!(file = %path.display(), cause = %err, "the applied key notes cannot be read; apply the latest key note again");
            Default::default()
        }),
        Err(_) => Default::default(),
    }
}

/// What applying a key note did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteApplied {
    pub number: u64,
    pub revoked: Vec<String>,
    pub trusted: Vec<String>,
    pub floor: u64,
    /// The content went back to the previous release, because a revoked key had signed the
    /// one shown.
    pub rolled_back_to: Option<u64>,
}

/// Applies a key note (see [`bundle::keynote`]): checked against the recovery keys, the
/// terminal's site and the number of the last note applied; then the revoked keys are no
/// longer trusted, the new ones are, the seq floor is set to the note's, and content a
/// revoked key signed goes back to the previous release when that one is sound.
pub fn apply_note(
    data: &DataDir,
    bytes: &[u8],
    recovery: &[PublicKey],
    site: Option<&str>,
) -> Result<NoteApplied, InstallError> {
    let _lock = lock(data)?;
    let (note, signer) =
        bundle::keynote::KeyNote::verify(bytes, recovery).map_err(BundleError::KeyNote)?;
    let mut keys = key_state(data);
    if keys.is_revoked(&signer) {
        return Err(BundleError::Revoked { key_id: signer }.into());
    }
    let status = status(data);
    let terminal_site = site
        .map(str::to_owned)
        .or_else(|| status.current.as_ref().map(|r| r.site.clone()))
        .or_else(|| Some(keys.site.clone()).filter(|s| !s.is_empty()));
    if let Some(site) = terminal_site {
        if site != note.site {
            return Err(InstallError::WrongSite {
                bundle: note.site,
                terminal: site,
            });
        }
    }
    if note.number <= keys.number {
        return Err(BundleError::KeyNote(format!(
            "it is key note no. {}, and no. {} was applied before; only newer notes are applied",
            note.number, keys.number
        ))
        .into());
    }
    keys.apply(&note);
    let dir = data.content_dir();
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let path = dir.join("keys.json");
    let tmp = dir.join(".keys.json.new");
    write_synced(&tmp, &serde_json::to_vec_pretty(&keys).expect("serialises"))?;
    std::fs::rename(&tmp, &path).map_err(io_error(&path))?;
    sync_dir(&dir)?;
    // The floor goes down to the note's: written as it is, not raised to what was before.
    let high = dir.join("high-water");
    let tmp = dir.join(".high-water.new");
    write_synced(&tmp, format!("{}\n", note.floor).as_bytes())?;
    std::fs::rename(&tmp, &high).map_err(io_error(&high))?;
    sync_dir(&dir)?;
    let mut rolled_back_to = None;
    if let (Some(current), Some(previous)) = (&status.current, &status.previous) {
        if keys.is_revoked(&current.key_id) && !keys.is_revoked(&previous.key_id) {
            switch_link(data, CURRENT, &previous.release)?;
            append_history(data, "rollback", previous)?;
            rolled_back_to = Some(previous.seq);
        }
    }
    if let Some(current) = &status.current {
        if rolled_back_to.is_none() && keys.is_revoked(&current.key_id) {
            tracing::warn!(seq = current.seq, key = %current.key_id, "the content shown was signed by a revoked key; install a new bundle");
        }
    }
    tracing::warn!(number = note.number, revoked = ?note.revoke, floor = note.floor, "key note applied");
    Ok(NoteApplied {
        number: note.number,
        revoked: note.revoke,
        trusted: note
            .trust
            .iter()
            .filter_map(|line| PublicKey::parse(line).ok().map(|k| k.id().to_owned()))
            .collect(),
        floor: note.floor,
        rolled_back_to,
    })
}
