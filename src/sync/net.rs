//! Bundles over the network: poll a signed channel file on any static web server with
//! conditional requests, download the bundle it names into `staging/` (resuming with Range
//! after a dropped connection), check it against the channel, and install it.

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::bundle::channel::Channel;
use crate::bundle::PublicKey;
use crate::datadir::DataDir;
use crate::install::{self, InstallError, Progress, Record};

/// What one poll did.
#[derive(Debug)]
pub enum Polled {
    /// The server said the channel has not changed (304).
    NotModified,
    /// The channel names what is installed already (or older).
    UpToDate {
        seq: u64,
    },
    /// The channel names a bundle this terminal refused before (same file, same keys): it is
    /// not downloaded again until the channel names another.
    RefusedBefore {
        seq: u64,
    },
    Installed(Record),
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the channel address {0} is not a valid http(s) URL")]
    BadUrl(String),
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} did not answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("there is not enough free disk space to download the bundle ({} needed, {} free); it is tried again later", crate::source::limits::bytes_text(*needed), crate::source::limits::bytes_text(*free))]
    NoSpace { needed: u64, free: u64 },
    #[error("cannot reach {url}: {cause}")]
    Connect { url: String, cause: String },
    #[error(
        "the download of {url} stopped after {have} of {total} bytes; it resumes at the next poll"
    )]
    Interrupted { url: String, have: u64, total: u64 },
    #[error("the channel file is refused: {0}")]
    Channel(String),
    #[error("the downloaded bundle does not match the channel file ({0}); it is downloaded again at the next poll")]
    Mismatch(String),
    #[error("{0}")]
    Install(#[from] InstallError),
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

impl SyncError {
    /// Whether trying again later may help (the network, the server), as opposed to a refusal.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SyncError::Status { .. }
                | SyncError::Timeout { .. }
                | SyncError::NoSpace { .. }
                | SyncError::Connect { .. }
                | SyncError::Interrupted { .. }
                | SyncError::Mismatch(_)
                | SyncError::Io { .. }
        ) || matches!(self, SyncError::Install(err) if !err.is_bundle_fault())
    }
}

/// Polls one channel. Keeps the channel's ETag between polls (and in the data directory).
pub struct Poller {
    url: url::Url,
    client: reqwest::Client,
    timeout: Duration,
    data: DataDir,
    trusted: Vec<PublicKey>,
    site: Option<String>,
    /// Taken for the install only, never while downloading (the sync thread's USB installs
    /// take it too, so a slow network never makes a stick wait).
    installing: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// The fixed part of a download's deadline ([`DOWNLOAD_DEADLINE`]).
    deadline: Duration,
}

/// A download may take this long, plus a second for every [`DOWNLOAD_RATE`] bytes; then it
/// stops and resumes at the next poll, however slowly the server keeps sending.
pub const DOWNLOAD_DEADLINE: Duration = Duration::from_secs(600);
pub const DOWNLOAD_RATE: u64 = 32 * 1024;

/// The overall deadline of a download of `size` bytes, `base` being its fixed part.
pub fn download_deadline(base: Duration, size: u64) -> Duration {
    base + Duration::from_secs(size / DOWNLOAD_RATE)
}

/// What is remembered between polls, in `staging/download.state`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct State {
    channel_etag: Option<String>,
    /// The ETag of the bundle being downloaded, for `If-Range`.
    bundle_etag: Option<String>,
    /// The bundle refused last: its SHA-256 and the trusted key ids then.
    #[serde(default)]
    refused: Option<String>,
}

impl Poller {
    pub fn new(
        url: &str,
        timeout: Duration,
        data: DataDir,
        trusted: Vec<PublicKey>,
        site: Option<String>,
    ) -> Result<Poller, SyncError> {
        let url = url::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| SyncError::BadUrl(crate::urlpolicy::redact(url)))?;
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .user_agent(concat!("kiosk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| SyncError::Connect {
                url: crate::urlpolicy::redact(url.as_str()),
                cause: err.to_string(),
            })?;
        Ok(Poller {
            url,
            client,
            timeout,
            data,
            trusted,
            site,
            installing: None,
            deadline: DOWNLOAD_DEADLINE,
        })
    }

    /// Sets the fixed part of the download deadline (tests).
    pub fn with_download_deadline(mut self, base: Duration) -> Poller {
        self.deadline = base;
        self
    }

    /// Shares the install lock of the sync thread.
    pub fn with_install_lock(mut self, lock: std::sync::Arc<tokio::sync::Mutex<()>>) -> Poller {
        self.installing = Some(lock);
        self
    }

    fn state_path(&self) -> PathBuf {
        self.data.staging_dir().join("download.state")
    }

    fn load_state(&self) -> State {
        std::fs::read(self.state_path())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn save_state(&self, state: &State) {
        let path = self.state_path();
        let _ = std::fs::create_dir_all(self.data.staging_dir());
        if let Err(err) = std::fs::write(&path, serde_json::to_vec(state).expect("serialises")) {
            tracing::warn!(file = %path.display(), cause = %err, "cannot keep the download state");
        }
    }

    fn http_error(&self, url: &url::Url, err: reqwest::Error) -> SyncError {
        if err.is_timeout() {
            SyncError::Timeout {
                url: crate::urlpolicy::redact(url.as_str()),
                secs: self.timeout.as_secs(),
            }
        } else {
            SyncError::Connect {
                url: crate::urlpolicy::redact(url.as_str()),
                cause: root_cause(&err),
            }
        }
    }

    /// Polls the channel once and installs what it names if that is newer.
    pub async fn poll_once(
        &self,
        progress: impl FnMut(Progress) + Send + 'static,
    ) -> Result<Polled, SyncError> {
        let mut state = self.load_state();
        // The channel file is small: all of it within the timeout, however slowly it comes.
        let fetched = tokio::time::timeout(self.timeout, self.fetch_channel(&state)).await;
        let (etag, body) = match fetched {
            Err(_) => {
                return Err(SyncError::Timeout {
                    url: crate::urlpolicy::redact(self.url.as_str()),
                    secs: self.timeout.as_secs(),
                })
            }
            Ok(Ok(None)) => return Ok(Polled::NotModified),
            Ok(Ok(Some(fetched))) => fetched,
            Ok(Err(err)) => return Err(err),
        };
        // The keys key notes left trusted (a revoked key signs no channel either).
        let trusted = install::key_state(&self.data).effective(&self.trusted);
        let channel = Channel::verify(&body, &trusted).map_err(SyncError::Channel)?;
        let status = install::status(&self.data);
        let terminal_site = self
            .site
            .clone()
            .or_else(|| status.current.as_ref().map(|r| r.site.clone()));
        if terminal_site
            .as_ref()
            .is_some_and(|site| *site != channel.site)
        {
            return Err(SyncError::Channel(format!(
                "it is for site “{}”, this terminal shows “{}”",
                channel.site,
                terminal_site.unwrap_or_default()
            )));
        }
        if channel.seq <= status.high_water {
            state.channel_etag = etag;
            self.save_state(&state);
            return Ok(Polled::UpToDate { seq: channel.seq });
        }
        let refusal_key = format!("{} {}", channel.sha256, crate::bundle::keys::ids(&trusted));
        if state.refused.as_deref() == Some(refusal_key.as_str()) {
            return Ok(Polled::RefusedBefore { seq: channel.seq });
        }
        let bundle_url = self.url.join(&channel.bundle).map_err(|_| {
            SyncError::Channel(format!("it names a bad bundle address {}", channel.bundle))
        })?;
        let deadline = download_deadline(self.deadline, channel.size);
        let file =
            match tokio::time::timeout(deadline, self.download(&bundle_url, &channel, &mut state))
                .await
            {
                Ok(file) => file?,
                Err(_) => {
                    let have = std::fs::metadata(self.part_path(&channel)).map_or(0, |m| m.len());
                    return Err(SyncError::Interrupted {
                        url: crate::urlpolicy::redact(bundle_url.as_str()),
                        have,
                        total: channel.size,
                    });
                }
            };
        let _installing = match &self.installing {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let data = self.data.clone();
        let trusted = self.trusted.clone();
        let site = self.site.clone();
        let from = crate::urlpolicy::redact(bundle_url.as_str());
        let installing = file.clone();
        let mut progress = progress;
        let outcome = tokio::task::spawn_blocking(move || {
            let request = install::Request {
                bundle: &installing,
                from,
                trusted: &trusted,
                site: site.as_deref(),
                limits: Default::default(),
            };
            install::install(&data, &request, &mut progress)
        })
        .await
        .unwrap_or_else(|_| {
            Err(InstallError::Content(
                "the install stopped unexpectedly".into(),
            ))
        });
        match &outcome {
            Ok(_) => {
                let _ = std::fs::remove_file(&file);
                state.bundle_etag = None;
                state.channel_etag = etag;
                state.refused = None;
                self.save_state(&state);
            }
            // Refused for good: the bundle itself is bad; it is not downloaded again until the
            // channel names another.
            Err(err) if err.is_bundle_fault() => {
                let _ = std::fs::remove_file(&file);
                state.bundle_etag = None;
                state.refused = Some(refusal_key);
                self.save_state(&state);
            }
            // The terminal's trouble (disk, memory, a busy installer): the verified download is
            // kept and installed at a later poll.
            Err(_) => {}
        }
        Ok(Polled::Installed(outcome?))
    }

    /// The channel file and its ETag (`None`: not modified).
    async fn fetch_channel(
        &self,
        state: &State,
    ) -> Result<Option<(Option<String>, Vec<u8>)>, SyncError> {
        let mut request = self.client.get(self.url.clone());
        if let Some(etag) = &state.channel_etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = self.with_timeout(&self.url, request.send()).await?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(SyncError::Status {
                url: crate::urlpolicy::redact(self.url.as_str()),
                status: response.status().as_u16(),
            });
        }
        let etag = header_text(&response, reqwest::header::ETAG);
        let body = self.read_small(response).await?;
        Ok(Some((etag, body)))
    }

    async fn with_timeout<T>(
        &self,
        url: &url::Url,
        future: impl std::future::Future<Output = Result<T, reqwest::Error>>,
    ) -> Result<T, SyncError> {
        match tokio::time::timeout(self.timeout, future).await {
            Ok(result) => result.map_err(|err| self.http_error(url, err)),
            Err(_) => Err(SyncError::Timeout {
                url: crate::urlpolicy::redact(url.as_str()),
                secs: self.timeout.as_secs(),
            }),
        }
    }

    async fn read_small(&self, mut response: reqwest::Response) -> Result<Vec<u8>, SyncError> {
        let mut body = Vec::new();
        while let Some(chunk) = self.with_timeout(&self.url, response.chunk()).await? {
            body.extend_from_slice(&chunk);
            if body.len() > 64 * 1024 {
                return Err(SyncError::Channel("it is larger than 64 KiB".into()));
            }
        }
        Ok(body)
    }

    /// Downloads the bundle into `staging/download-<seq>.kbundle`, resuming a partial file.
    async fn download(
        &self,
        url: &url::Url,
        channel: &Channel,
        state: &mut State,
    ) -> Result<PathBuf, SyncError> {
        let staging = self.data.staging_dir();
        let io = |path: &std::path::Path| {
            let path = path.to_owned();
            move |cause| SyncError::Io { path, cause }
        };
        tokio::fs::create_dir_all(&staging)
            .await
            .map_err(io(&staging))?;
        let part = self.part_path(channel);
        let done = staging.join(format!("download-{}.kbundle", channel.seq));
        if let Ok(entries) = std::fs::read_dir(&staging) {
            // Partial downloads of other bundles are of no use any more.
            for entry in entries.flatten() {
                let path = entry.path();
                if path != part && path != done && path.extension().is_some_and(|e| e == "part") {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        if tokio::fs::metadata(&done)
            .await
            .is_ok_and(|m| m.len() == channel.size)
        {
            return Ok(done);
        }
        let have = tokio::fs::metadata(&part).await.map_or(0, |m| m.len());
        if have == channel.size {
            // All of it came before (the connection ended as the last bytes did).
            return self.finish_download(&part, &done, channel).await;
        }
        if have > channel.size {
            let _ = tokio::fs::remove_file(&part).await;
        }
        // Room for the rest of the download and for installing it (unpacked, indexed).
        let needed = (channel.size - have.min(channel.size)) * 4 + (16 << 20);
        if let Some(free) = install::free_space(&staging).filter(|free| *free < needed) {
            return Err(SyncError::NoSpace { needed, free });
        }
        let mut request = self.client.get(url.clone());
        if have > 0 && have < channel.size {
            request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
            if let Some(etag) = &state.bundle_etag {
                request = request.header(reqwest::header::IF_RANGE, etag);
            }
        }
        let mut response = self.with_timeout(url, request.send()).await?;
        let resumed = match response.status().as_u16() {
            206 if have > 0 => {
                let start =
                    header_text(&response, reqwest::header::CONTENT_RANGE).and_then(|range| {
                        range
                            .strip_prefix("bytes ")?
                            .split('-')
                            .next()?
                            .parse::<u64>()
                            .ok()
                    });
                if start != Some(have) {
                    let _ = tokio::fs::remove_file(&part).await;
                    return Err(SyncError::Mismatch(
                        "the server resumed at the wrong place".into(),
                    ));
                }
                true
            }
            200 => false,
            416 => {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(SyncError::Status {
                    url: crate::urlpolicy::redact(url.as_str()),
                    status: 416,
                });
            }
            status => {
                return Err(SyncError::Status {
                    url: crate::urlpolicy::redact(url.as_str()),
                    status,
                })
            }
        };
        if !resumed {
            state.bundle_etag = header_text(&response, reqwest::header::ETAG);
            self.save_state(state);
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(&part)
            .await
            .map_err(io(&part))?;
        let mut written = if resumed { have } else { 0 };
        loop {
            let chunk = match tokio::time::timeout(self.timeout, response.chunk()).await {
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => break,
                // All the signed bytes are here: how the connection ended does not matter (a
                // server may announce a longer Content-Length than it sends).
                Ok(Err(_)) | Err(_) if written == channel.size => break,
                Ok(Err(_)) | Err(_) => {
                    let _ = file.flush().await;
                    let _ = file.sync_all().await;
                    return Err(SyncError::Interrupted {
                        url: crate::urlpolicy::redact(url.as_str()),
                        have: written,
                        total: channel.size,
                    });
                }
            };
            written += chunk.len() as u64;
            if written > channel.size {
                drop(file);
                let _ = tokio::fs::remove_file(&part).await;
                return Err(SyncError::Mismatch(
                    "it is larger than the channel says".into(),
                ));
            }
            if let Err(err) = file.write_all(&chunk).await {
                // A full disk keeps no partial file that holds it full.
                drop(file);
                let _ = tokio::fs::remove_file(&part).await;
                return Err(io(&part)(err));
            }
        }
        let synced = match file.flush().await {
            Ok(()) => file.sync_all().await,
            Err(err) => Err(err),
        };
        drop(file);
        if let Err(err) = synced {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(io(&part)(err));
        }
        if written < channel.size {
            return Err(SyncError::Interrupted {
                url: crate::urlpolicy::redact(url.as_str()),
                have: written,
                total: channel.size,
            });
        }
        self.finish_download(&part, &done, channel).await
    }

    fn part_path(&self, channel: &Channel) -> PathBuf {
        self.data
            .staging_dir()
            .join(format!("download-{}.part", channel.seq))
    }

    /// Checks a whole download against the channel and names it as done.
    async fn finish_download(
        &self,
        part: &std::path::Path,
        done: &std::path::Path,
        channel: &Channel,
    ) -> Result<PathBuf, SyncError> {
        let io = |path: &std::path::Path| {
            let path = path.to_owned();
            move |cause| SyncError::Io { path, cause }
        };
        let part = part.to_owned();
        let done = done.to_owned();
        let hashing = part.clone();
        let digest = tokio::task::spawn_blocking(move || file_sha256(&hashing))
            .await
            .unwrap_or_else(|_| Err(std::io::Error::other("hashing stopped")))
            .map_err(io(&part))?;
        if digest != channel.sha256 {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(SyncError::Mismatch("its checksum differs".into()));
        }
        tokio::fs::rename(&part, &done).await.map_err(io(&done))?;
        Ok(done)
    }
}

/// The SHA-256 of a file, read in pieces.
fn file_sha256(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::Digest;
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hash = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(crate::bundle::hex(&hash.finalize()));
        }
        hash.update(&buf[..n]);
    }
}

fn header_text(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// How long to wait before the next poll: the interval, doubled for each failure in a row (up
/// to six times the interval), plus `random` (0–1) of the jitter.
pub fn next_wait(interval: Duration, jitter: Duration, failures: u32, random: f64) -> Duration {
    let factor = 2u32.saturating_pow(failures.min(8)).min(6);
    interval * factor + jitter.mul_f64(random.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::next_wait;
    use std::time::Duration;

    #[test]
    fn failures_back_off_up_to_six_intervals_plus_jitter() {
        let (i, j) = (Duration::from_secs(900), Duration::from_secs(120));
        assert_eq!(next_wait(i, j, 0, 0.0), i);
        assert_eq!(next_wait(i, j, 1, 0.0), i * 2);
        assert_eq!(next_wait(i, j, 2, 0.0), i * 4);
        assert_eq!(next_wait(i, j, 3, 0.0), i * 6);
        assert_eq!(next_wait(i, j, 30, 1.0), i * 6 + j);
        assert_eq!(next_wait(i, j, 0, 0.5), i + Duration::from_secs(60));
    }
}
