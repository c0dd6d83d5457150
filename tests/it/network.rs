//! The network content channel (`kiosk::sync::net::Poller`) against a real HTTP server on
//! 127.0.0.1: downloading and installing what the channel names, conditional polls, resuming a
//! dropped download with Range, server errors and timeouts, refused channels and mismatched
//! downloads, each leaving the installed content as it was.

use std::sync::OnceLock;
use std::time::Duration;

use kiosk::bundle::channel::Channel;
use kiosk::datadir::{ContentOrigin, DataDir};
use kiosk::install::Status;
use kiosk::search::{SearchIndex, SearchRequest};
use kiosk::sync::net::{Polled, Poller, SyncError};

use crate::http::{Fault, Server};
use crate::support;

const CHANNEL: &str = "/channel.txt";
const BUNDLE: &str = "/test-2.kbundle";
/// Long enough never to fire against a local server; the timeout tests use their own.
const PATIENT: Duration = Duration::from_secs(60);

/// The bundles of versions 1 and 2 of the test hall and their signed channel files, built once
/// for the whole test binary.
struct Published {
    key: kiosk::bundle::SecretKey,
    v1: Vec<u8>,
    v2: Vec<u8>,
    channel_v1: Channel,
    channel_v2: Channel,
}

fn published() -> &'static Published {
    static PUBLISHED: OnceLock<Published> = OnceLock::new();
    PUBLISHED.get_or_init(|| {
        let key = support::key(7);
        let dir = tempfile::tempdir().unwrap();
        let bundle = |seq: u64| {
            let path =
                support::build_bundle(support::hall(seq as u32).path(), seq, &key, dir.path());
            let manifest = kiosk::bundle::read_manifest_unverified(&path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let channel = Channel::for_bundle(&manifest, &format!("test-{seq}.kbundle"), &bytes);
            (bytes, channel)
        };
        let (v1, channel_v1) = bundle(1);
        let (v2, channel_v2) = bundle(2);
        Published {
            key,
            v1,
            v2,
            channel_v1,
            channel_v2,
        }
    })
}

/// What a visitor would notice: the install status and which versions' own items search finds.
#[derive(Debug, PartialEq)]
struct Shown {
    status: Status,
    finds: Vec<u32>,
}

/// A terminal with a data directory, polling a channel on a local server that publishes
/// version 2 (`/channel.txt` and `/test-2.kbundle`).
struct Terminal {
    runtime: tokio::runtime::Runtime,
    server: Server,
    data: DataDir,
    dir: tempfile::TempDir,
}

impl Terminal {
    fn new() -> Terminal {
        let published = published();
        let server = Server::start();
        server.put(CHANNEL, published.channel_v2.sign(&published.key));
        server.put(BUNDLE, published.v2.clone());
        let dir = tempfile::tempdir().unwrap();
        Terminal {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            server,
            data: DataDir::new(dir.path().join("data")),
            dir,
        }
    }

    /// A terminal that shows version 1, installed from a stick.
    fn showing_v1() -> Terminal {
        let terminal = Terminal::new();
        terminal.install_directly(1, &published().v1);
        assert_eq!(terminal.shown().finds, [1]);
        terminal
    }

    fn install_directly(&self, seq: u64, bytes: &[u8]) {
        let path = self.dir.path().join(format!("stick-{seq}.kbundle"));
        std::fs::write(&path, bytes).unwrap();
        let trusted = [published().key.public()];
        let request = kiosk::install::Request {
            bundle: &path,
            from: path.display().to_string(),
            trusted: &trusted,
            site: None,
            limits: Default::default(),
        };
        kiosk::install::install(&self.data, &request, &mut |_| {}).unwrap();
    }

    fn poller(&self, timeout: Duration) -> Poller {
        Poller::new(
            &self.server.url(CHANNEL),
            timeout,
            self.data.clone(),
            vec![published().key.public()],
            None,
        )
        .unwrap()
    }

    fn poll_with(&self, poller: &Poller) -> Result<Polled, SyncError> {
        self.runtime.block_on(poller.poll_once(|_| {}))
    }

    /// One poll by a poller of this terminal (the poller keeps its state in the data directory,
    /// so a new one each time is the same terminal polling again).
    fn poll(&self) -> Result<Polled, SyncError> {
        self.poll_with(&self.poller(PATIENT))
    }

    fn shown(&self) -> Shown {
        let status = kiosk::install::status(&self.data);
        let Ok(ContentOrigin::Installed(source)) =
            kiosk::datadir::resolve_content(None, &self.data)
        else {
            return Shown {
                status,
                finds: Vec::new(),
            };
        };
        let index = SearchIndex::open_or_build(&source, &self.data.index_dir()).unwrap();
        let finds = (1..=2)
            .filter(|&version| {
                let title = support::only_title(version);
                let results = index.search(&SearchRequest::new(&title)).unwrap();
                results.hits.iter().any(|hit| hit.title == title)
            })
            .collect();
        Shown { status, finds }
    }

    fn installed_seq(&self) -> Option<u64> {
        kiosk::install::status(&self.data).current.map(|r| r.seq)
    }
}

fn assert_installed_v2(terminal: &Terminal, polled: Result<Polled, SyncError>) {
    match polled {
        Ok(Polled::Installed(record)) => assert_eq!(record.seq, 2),
        other => panic!("expected the install of seq 2, got {other:?}"),
    }
    assert_eq!(terminal.installed_seq(), Some(2));
    assert_eq!(terminal.shown().finds, [2]);
}

#[test]
fn a_bundle_the_channel_names_is_downloaded_installed_and_searchable() {
    let terminal = Terminal::new();
    assert_eq!(terminal.installed_seq(), None);

    let polled = terminal.poll();

    assert_installed_v2(&terminal, polled);
    let origin = kiosk::datadir::resolve_content(None, &terminal.data).unwrap();
    assert!(matches!(origin, ContentOrigin::Installed(_)), "{origin:?}");
    let record = kiosk::install::status(&terminal.data).current.unwrap();
    assert_eq!(record.from, terminal.server.url(BUNDLE));
    assert_eq!(terminal.server.requests_for(BUNDLE).len(), 1);
}

#[test]
fn polling_an_unchanged_channel_again_is_answered_not_modified_without_downloading() {
    let terminal = Terminal::showing_v1();
    assert_installed_v2(&terminal, terminal.poll());
    let etag = Server::etag(published().channel_v2.sign(&published().key).as_bytes());

    let polled = terminal.poll();

    assert!(matches!(polled, Ok(Polled::NotModified)), "{polled:?}");
    let channel = terminal.server.requests_for(CHANNEL);
    assert_eq!(channel.len(), 2);
    assert_eq!(channel[0].header("if-none-match"), None);
    assert_eq!(channel[1].header("if-none-match"), Some(etag.as_str()));
    assert_eq!(channel[1].status, Some(304));
    assert_eq!(terminal.server.requests_for(BUNDLE).len(), 1);
    assert_eq!(terminal.installed_seq(), Some(2));
}

#[test]
fn a_channel_naming_the_installed_or_an_older_seq_is_up_to_date_without_downloading() {
    let published = published();
    let terminal = Terminal::showing_v1();
    terminal
        .server
        .put(CHANNEL, published.channel_v1.sign(&published.key));
    let polled = terminal.poll();
    assert!(
        matches!(polled, Ok(Polled::UpToDate { seq: 1 })),
        "{polled:?}"
    );

    terminal.install_directly(2, &published.v2);
    let before = terminal.shown();
    terminal
        .server
        .put(CHANNEL, published.channel_v2.sign(&published.key));
    let polled = terminal.poll();
    assert!(
        matches!(polled, Ok(Polled::UpToDate { seq: 2 })),
        "{polled:?}"
    );

    terminal
        .server
        .put(CHANNEL, published.channel_v1.sign(&published.key));
    let polled = terminal.poll();
    assert!(
        matches!(polled, Ok(Polled::UpToDate { seq: 1 })),
        "{polled:?}"
    );

    assert!(terminal.server.requests_for(BUNDLE).is_empty());
    assert!(terminal.server.requests_for("/test-1.kbundle").is_empty());
    assert_eq!(terminal.shown(), before);
}

#[test]
fn a_dropped_download_keeps_the_old_content_and_resumes_with_range_at_the_next_poll() {
    let terminal = Terminal::showing_v1();
    let before = terminal.shown();
    let total = published().v2.len();
    let half = total / 2;
    terminal.server.fail(BUNDLE, Fault::Cut { after: half }, 1);

    let polled = terminal.poll();

    match &polled {
        Err(
            err @ SyncError::Interrupted {
                have, total: of, ..
            },
        ) => {
            assert_eq!((*have, *of), (half as u64, total as u64));
            assert!(err.is_transient());
        }
        other => panic!("expected an interrupted download, got {other:?}"),
    }
    assert_eq!(terminal.shown(), before);

    let polled = terminal.poll();

    assert_installed_v2(&terminal, polled);
    let bundle = terminal.server.requests_for(BUNDLE);
    assert_eq!(bundle.len(), 2);
    assert_eq!(bundle[0].header("range"), None);
    assert_eq!(
        bundle[1].header("range"),
        Some(format!("bytes={half}-").as_str())
    );
    assert_eq!(
        bundle[1].header("if-range"),
        Some(Server::etag(&published().v2).as_str())
    );
    assert_eq!(bundle[1].status, Some(206));
}

#[test]
fn a_server_error_on_the_channel_changes_nothing_and_the_next_poll_installs() {
    let terminal = Terminal::showing_v1();
    let before = terminal.shown();
    terminal.server.fail(CHANNEL, Fault::Status(500), 1);

    let polled = terminal.poll();

    match &polled {
        Err(err @ SyncError::Status { status: 500, .. }) => assert!(err.is_transient()),
        other => panic!("expected HTTP 500, got {other:?}"),
    }
    assert_eq!(terminal.shown(), before);
    assert!(terminal.server.requests_for(BUNDLE).is_empty());

    assert_installed_v2(&terminal, terminal.poll());
}

#[test]
fn a_channel_server_that_never_answers_times_out_and_the_next_poll_installs() {
    let terminal = Terminal::showing_v1();
    let before = terminal.shown();
    terminal.server.fail(CHANNEL, Fault::Stall, 1);

    let polled = terminal.poll_with(&terminal.poller(Duration::from_secs(1)));

    match &polled {
        Err(err @ SyncError::Timeout { secs: 1, .. }) => assert!(err.is_transient()),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(terminal.shown(), before);
    assert!(terminal.server.requests_for(BUNDLE).is_empty());

    assert_installed_v2(&terminal, terminal.poll());
}

#[test]
fn a_server_error_on_the_bundle_changes_nothing_and_the_next_poll_installs() {
    let terminal = Terminal::showing_v1();
    let before = terminal.shown();
    terminal.server.fail(BUNDLE, Fault::Status(500), 1);

    let polled = terminal.poll();

    match &polled {
        Err(err @ SyncError::Status { status: 500, url }) => {
            assert_eq!(*url, terminal.server.url(BUNDLE));
            assert!(err.is_transient());
        }
        other => panic!("expected HTTP 500, got {other:?}"),
    }
    assert_eq!(terminal.shown(), before);

    assert_installed_v2(&terminal, terminal.poll());
}

#[test]
fn a_bundle_server_that_never_answers_times_out_and_the_next_poll_installs() {
    let terminal = Terminal::showing_v1();
    let before = terminal.shown();
    terminal.server.fail(BUNDLE, Fault::Stall, 1);

    let polled = terminal.poll_with(&terminal.poller(Duration::from_secs(1)));

    match &polled {
        Err(err @ SyncError::Timeout { url, .. }) => {
            assert_eq!(*url, terminal.server.url(BUNDLE));
            assert!(err.is_transient());
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(terminal.shown(), before);

    assert_installed_v2(&terminal, terminal.poll());
}

/// Serves `channel` and checks that the poll refuses it for good, with a message containing
/// `expected`, and downloads and changes nothing.
fn check_refused(channel: &str, expected: &str) {
    let terminal = Terminal::showing_v1();
    let before = terminal.shown();
    terminal.server.put(CHANNEL, channel);

    let polled = terminal.poll();

    match &polled {
        Err(err @ SyncError::Channel(message)) => {
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
            assert!(!err.is_transient());
        }
        other => panic!("expected the channel to be refused, got {other:?}"),
    }
    assert!(terminal.server.requests_for(BUNDLE).is_empty());
    assert_eq!(terminal.shown(), before);
}

#[test]
fn a_channel_signed_by_an_untrusted_key_is_refused_without_downloading() {
    let channel = published().channel_v2.sign(&support::key(8));
    check_refused(&channel, "does not trust");
}

#[test]
fn a_channel_altered_after_signing_is_refused_without_downloading() {
    let signed = published().channel_v2.sign(&published().key);
    let altered = signed.replace("\"seq\":2", "\"seq\":3");
    assert_ne!(altered, signed);
    check_refused(&altered, "altered");
}

#[test]
fn a_channel_for_another_site_is_refused_without_downloading() {
    let channel = Channel {
        site: "elsewhere".into(),
        ..published().channel_v2.clone()
    };
    check_refused(&channel.sign(&published().key), "elsewhere");
}

#[test]
fn a_download_that_does_not_match_the_channel_is_refused_and_fetched_whole_next_time() {
    let terminal = Terminal::showing_v1();
    let before = terminal.shown();
    let mut wrong = published().v2.clone();
    *wrong.last_mut().unwrap() ^= 0xff;
    terminal.server.put(BUNDLE, wrong);

    let polled = terminal.poll();

    match &polled {
        Err(err @ SyncError::Mismatch(_)) => assert!(err.is_transient()),
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert_eq!(terminal.shown(), before);

    terminal.server.put(BUNDLE, published().v2.clone());
    assert_installed_v2(&terminal, terminal.poll());
    let bundle = terminal.server.requests_for(BUNDLE);
    assert_eq!(bundle.len(), 2);
    assert_eq!(bundle[1].header("range"), None);
    assert_eq!(bundle[1].status, Some(200));
}

#[test]
fn a_bundle_the_terminal_refuses_is_not_downloaded_again() {
    let terminal = Terminal::showing_v1();
    let before = terminal.shown();
    // The channel is genuine, but the bundle it names is signed by a key the terminal does
    // not trust.
    let dir = tempfile::tempdir().unwrap();
    let forged_path =
        support::build_bundle(support::hall(2).path(), 2, &support::key(9), dir.path());
    let forged = std::fs::read(&forged_path).unwrap();
    let manifest = kiosk::bundle::read_manifest_unverified(&forged_path).unwrap();
    let channel = Channel::for_bundle(&manifest, "test-2.kbundle", &forged);
    terminal.server.put(CHANNEL, channel.sign(&published().key));
    terminal.server.put(BUNDLE, forged);

    match terminal.poll() {
        Err(err @ SyncError::Install(_)) => {
            assert!(err.to_string().contains("does not trust"), "{err}");
            assert!(!err.is_transient());
        }
        other => panic!("expected the bundle to be refused, got {other:?}"),
    }
    assert_eq!(terminal.shown(), before);
    assert_eq!(terminal.server.requests_for(BUNDLE).len(), 1);

    match terminal.poll() {
        Ok(Polled::RefusedBefore { seq: 2 }) => {}
        other => panic!("expected the refusal to be remembered, got {other:?}"),
    }
    assert_eq!(
        terminal.server.requests_for(BUNDLE).len(),
        1,
        "downloaded again"
    );

    // A new genuine bundle in the channel is taken.
    terminal
        .server
        .put(CHANNEL, published().channel_v2.sign(&published().key));
    terminal.server.put(BUNDLE, published().v2.clone());
    assert_installed_v2(&terminal, terminal.poll());
}
