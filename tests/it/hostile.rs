//! What a bundle, a stick, a server, a clock or a config can hold, tried as an attacker and as
//! bad luck would: content at and past the limits, junk on a stick, a server that drips or lies
//! about its length, a full disk, an installer that keeps dying, a leaked signing key, bad
//! settings. Each case names what must hold; the terminal keeps working and loses nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use kiosk::bundle::{self, Manifest, SecretKey};
use kiosk::datadir::DataDir;
use kiosk::install::{self, InstallError, Request};
use kiosk::source::limits;

use crate::http::{Fault, Server};
use crate::support::{self, build_bundle, hall, key, Fixture, COLUMNS, SITE};

fn kiosk(data: &Path, args: &[&str]) -> Output {
    kiosk_env(data, args, &[])
}

fn kiosk_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiosk"));
    command
        .args(args)
        .env("KIOSK_DATA_DIR", data)
        .env("KIOSK_CONFIG", "/dev/null")
        .env_remove("KIOSK_LOG");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Writes a public key file for `key` into `dir`.
fn pubkey_file(dir: &Path, key: &SecretKey, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, key.public().to_text()).unwrap();
    path
}

fn install_with(
    data: &DataDir,
    bundle: &Path,
    trusted: &[bundle::PublicKey],
) -> Result<install::Record, InstallError> {
    let request = Request {
        bundle,
        from: bundle.display().to_string(),
        trusted,
        site: None,
        limits: Default::default(),
    };
    install::install(data, &request, &mut |_| {})
}

/// A bundle of exactly these source files (`path`, bytes), signed with `key`: what a leaked
/// key or a careless build tool could sign, whatever the loader says of it.
fn signed_bundle(
    dir: &Path,
    files: &[(&str, Vec<u8>)],
    key: &SecretKey,
    seq: u64,
    item_count: usize,
) -> PathBuf {
    let mut tar = tar::Builder::new(Vec::new());
    let mut entries = Vec::new();
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, bytes.as_slice())
            .unwrap();
        entries.push(bundle::manifest::FileEntry {
            path: (*path).into(),
            size: bytes.len() as u64,
            sha256: bundle::sha256_hex(bytes),
        });
    }
    let payload = zstd::encode_all(tar.into_inner().unwrap().as_slice(), 3).unwrap();
    let manifest = Manifest {
        format: bundle::manifest::FORMAT,
        site: "test".into(),
        seq,
        version: format!("第{seq}版"),
        created: "2026-12-04T00:00:00Z".into(),
        key_id: key.public().id().into(),
        index_schema: kiosk::search::index::SCHEMA_VERSION,
        item_count,
        payload: bundle::manifest::Blob {
            size: payload.len() as u64,
            sha256: bundle::sha256_hex(&payload),
        },
        files: entries,
    };
    let out = dir.join(format!("signed-{seq}.kbundle"));
    bundle::write_signed(&out, &manifest, key, &payload).unwrap();
    out
}

fn item_line(id: &str, title: &str, extra: serde_json::Value) -> String {
    let mut item = serde_json::json!({
        "id": id, "kind": "notice", "column": "zcwj", "title": title, "date": "2026-11-20",
        "body": "正文。",
    });
    if let (Some(item), Some(extra)) = (item.as_object_mut(), extra.as_object()) {
        item.extend(extra.clone());
    }
    format!("{item}\n")
}

#[test]
fn content_past_a_limit_is_refused_alike_by_check_build_verify_and_install() {
    let key = key(21);
    let dir = tempfile::tempdir().unwrap();
    let pubkey = pubkey_file(dir.path(), &key, "key.pub");
    let rows: String = (0..=limits::TABLE_ROWS)
        .map(|i| format!("| {i} | x |\n"))
        .collect();
    let cases = [
        (
            "title",
            item_line(
                "t",
                &"题".repeat(limits::TITLE_CHARS + 1),
                serde_json::json!({}),
            ),
        ),
        (
            "body",
            item_line(
                "b",
                "超长正文",
                serde_json::json!({"body": "字".repeat(limits::BODY_CHARS + 1)}),
            ),
        ),
        (
            "table",
            item_line(
                "r",
                "超大表格",
                serde_json::json!({"body": format!("| a | b |\n|---|---|\n{rows}")}),
            ),
        ),
        (
            "keywords",
            item_line(
                "k",
                "关键词太多",
                serde_json::json!({"keywords": vec!["词"; limits::LIST_ENTRIES + 1]}),
            ),
        ),
        (
            "field",
            item_line(
                "f",
                "文号太长",
                serde_json::json!({"doc_number": "号".repeat(limits::FIELD_CHARS + 1)}),
            ),
        ),
    ];
    for (seq, (what, items)) in cases.iter().enumerate() {
        let source = Fixture::with_items(&format!(
            "{}{items}",
            item_line("ok", "正常的通知", serde_json::json!({}))
        ));
        let data = dir.path().join(format!("data-{what}"));
        // kiosk check: an error with file and line.
        let checked = kiosk(&data, &["check", source.path().to_str().unwrap()]);
        assert_eq!(checked.status.code(), Some(1), "{what}: {}", text(&checked));
        assert!(
            text(&checked).contains("items/a.jsonl:2: error:"),
            "{what}: {}",
            text(&checked)
        );
        // bundle build: refused.
        let built = kiosk::bundle::build(
            &kiosk::bundle::BuildOptions {
                source: source.path(),
                key: &key,
                seq: 1,
                version: None,
                created: 1_790_000_000,
                level: 3,
            },
            &dir.path().join("x.kbundle"),
        );
        assert!(
            matches!(
                built,
                Err(kiosk::bundle::BundleError::SourceHasErrors { .. })
            ),
            "{what}: {built:?}"
        );
        // A bundle of it signed all the same: verify and install refuse it.
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("site.toml", SITE.as_bytes().to_vec()),
            ("columns.toml", COLUMNS.as_bytes().to_vec()),
            (
                "items/a.jsonl",
                std::fs::read(source.path().join("items/a.jsonl")).unwrap(),
            ),
        ];
        let signed = signed_bundle(dir.path(), &files, &key, seq as u64 + 1, 2);
        let verified = kiosk(
            &data,
            &[
                "bundle",
                "verify",
                signed.to_str().unwrap(),
                "--pubkey",
                pubkey.to_str().unwrap(),
            ],
        );
        assert_eq!(
            verified.status.code(),
            Some(6),
            "{what}: {}",
            text(&verified)
        );
        assert!(
            text(&verified).contains("does not load"),
            "{what}: {}",
            text(&verified)
        );
        let err = install_with(&DataDir::new(&data), &signed, &[key.public()]).unwrap_err();
        assert!(err.is_bundle_fault(), "{what}: {err}");
        assert!(err.to_string().contains("does not load"), "{what}: {err}");
    }
}

#[test]
fn too_many_items_are_refused_from_the_manifest_before_anything_is_unpacked() {
    let key = key(22);
    let dir = tempfile::tempdir().unwrap();
    let source = hall(1);
    let good = build_bundle(source.path(), 1, &key, dir.path());
    // The same payload, a manifest claiming a million items: refused from the header alone.
    let mut manifest = bundle::read_manifest_unverified(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let payload = bytes[bytes.len() - manifest.payload.size as usize..].to_vec();
    manifest.item_count = 1_000_000;
    let big = dir.path().join("big.kbundle");
    bundle::write_signed(&big, &manifest, &key, &payload).unwrap();
    let data = DataDir::new(dir.path().join("data"));
    let err = install_with(&data, &big, &[key.public()]).unwrap_err();
    assert!(err.to_string().contains("1000000 items"), "{err}");
    assert!(!data.releases_dir().exists(), "nothing was unpacked");
    // And the loader stops at the limit too: the items past it are an error.
    let mut items = String::new();
    for i in 0..=limits::ITEMS {
        items.push_str(&format!(
            "{{\"id\":\"n{i}\",\"kind\":\"notice\",\"column\":\"zcwj\",\"title\":\"通知{i}\",\"date\":\"2026-01-01\"}}\n"
        ));
    }
    let files = kiosk::source::SourceFiles {
        site: Some(SITE.into()),
        columns: Some(COLUMNS.into()),
        items: vec![("items/a.jsonl".into(), items.into_bytes())],
        ..Default::default()
    };
    let loaded = kiosk::source::assemble(files);
    assert_eq!(loaded.content.items.len(), limits::ITEMS);
    assert_eq!(loaded.errors(), 1, "{:?}", loaded.problems.first());
}

#[test]
fn content_the_checker_accepts_installs() {
    // Thirty notices with one title, a title of punctuation only, one with nothing but digits.
    let mut items = String::new();
    for i in 0..30 {
        items.push_str(&item_line(
            &format!("water-{i}"),
            "停水通知",
            serde_json::json!({}),
        ));
    }
    items.push_str(&item_line("dash", "——", serde_json::json!({})));
    items.push_str(&item_line("digits", "2026", serde_json::json!({})));
    items.push_str(&item_line(
        "other",
        "关于城区道路施工的公告",
        serde_json::json!({}),
    ));
    let source = Fixture::with_items(&items);
    let loaded = source.load();
    assert_eq!(loaded.errors(), 0, "{:?}", loaded.problems);
    assert!(
        loaded
            .problems
            .iter()
            .any(|p| p.message.contains("cannot find the item by searching")),
        "the punctuation-only title is warned about"
    );
    let dir = tempfile::tempdir().unwrap();
    let key = key(23);
    let bundle = build_bundle(source.path(), 1, &key, dir.path());
    let data = DataDir::new(dir.path().join("data"));
    let record =
        install_with(&data, &bundle, &[key.public()]).expect("what check accepts installs");
    assert_eq!(record.item_count, 33);
}

/// A hall terminal's sync thread on `data`, watching `media` and polling `channel_url`; its
/// events go into the returned list.
fn sync_thread(
    data: &DataDir,
    media: &Path,
    channel_url: String,
    key: &SecretKey,
) -> (
    Arc<std::sync::Mutex<Vec<kiosk::sync::SyncEvent>>>,
    Arc<std::sync::atomic::AtomicBool>,
) {
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let heard = events.clone();
    let options = kiosk::sync::SyncOptions {
        data_dir: data.clone(),
        trusted: Ok(vec![key.public()]),
        recovery: Vec::new(),
        site: None,
        mount_roots: vec![media.to_owned()],
        network: kiosk::config::NetworkConfig {
            channel_url,
            interval_secs: 3600,
            jitter_secs: 0,
            timeout_secs: 30,
        },
        tick: Duration::from_millis(50),
    };
    kiosk::sync::spawn(
        options,
        Arc::new(move |event| heard.lock().unwrap().push(event)),
        stop.clone(),
    )
    .unwrap();
    (events, stop)
}

/// Waits (up to a minute, a bound for a hung test, not a speed goal) until `done` holds.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited in vain for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_stick_installs_while_a_slow_download_goes_on() {
    let key = key(24);
    let dir = tempfile::tempdir().unwrap();
    let v2 = build_bundle(hall(2).path(), 2, &key, dir.path());
    let v3 = build_bundle(hall(3).path(), 3, &key, dir.path());
    let v3_bytes = std::fs::read(&v3).unwrap();
    let server = Server::start();
    let manifest = bundle::read_manifest_unverified(&v3).unwrap();
    let channel = bundle::channel::Channel::for_bundle(&manifest, "test-3.kbundle", &v3_bytes);
    server.put("/channel.txt", channel.sign(&key));
    server.put("/test-3.kbundle", v3_bytes);
    // The bundle comes one byte every 20 ms: hours for the whole of it.
    server.fail("/test-3.kbundle", Fault::Drip { every_ms: 20 }, 100);
    let data = DataDir::new(dir.path().join("data"));
    let media = dir.path().join("media");
    std::fs::create_dir_all(media.join("stick")).unwrap();
    let (events, stop) = sync_thread(&data, &media, server.url("/channel.txt"), &key);
    wait_for("the download to start", || {
        !server.requests_for("/test-3.kbundle").is_empty()
    });
    // Now a stick with version 2 is plugged in (renamed in whole, as a mount would show it).
    std::fs::copy(&v2, dir.path().join("v2.kbundle")).unwrap();
    std::fs::rename(
        dir.path().join("v2.kbundle"),
        media.join("stick/test-2.kbundle"),
    )
    .unwrap();
    wait_for("the stick's install", || {
        events.lock().unwrap().iter().any(|e| {
            matches!(
                e,
                kiosk::sync::SyncEvent::Finished {
                    origin: kiosk::sync::Origin::Usb(_),
                    ..
                }
            )
        })
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let finished: Vec<_> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            kiosk::sync::SyncEvent::Finished { origin, result } => {
                Some((origin.clone(), result.clone()))
            }
            _ => None,
        })
        .collect();
    assert!(
        matches!(&finished[..], [(kiosk::sync::Origin::Usb(_), Ok(record))] if record.seq == 2),
        "{finished:?}"
    );
    assert_eq!(install::status(&data).current.map(|r| r.seq), Some(2));
}

#[test]
fn a_dripping_download_stops_at_its_deadline_and_resumes_at_the_next_poll() {
    let key = key(25);
    let dir = tempfile::tempdir().unwrap();
    let v2 = build_bundle(hall(2).path(), 2, &key, dir.path());
    let bytes = std::fs::read(&v2).unwrap();
    let manifest = bundle::read_manifest_unverified(&v2).unwrap();
    let channel = bundle::channel::Channel::for_bundle(&manifest, "test-2.kbundle", &bytes);
    let server = Server::start();
    server.put("/channel.txt", channel.sign(&key));
    server.put("/test-2.kbundle", bytes.clone());
    server.fail("/test-2.kbundle", Fault::Drip { every_ms: 5 }, 1);
    let data = DataDir::new(dir.path().join("data"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let poller = kiosk::sync::net::Poller::new(
        &server.url("/channel.txt"),
        Duration::from_secs(30),
        data.clone(),
        vec![key.public()],
        None,
    )
    .unwrap()
    .with_download_deadline(Duration::from_millis(500));
    // Every byte comes well within the 30 s read timeout; only the overall deadline ends it.
    let first = runtime.block_on(poller.poll_once(|_| {}));
    match first {
        Err(kiosk::sync::net::SyncError::Interrupted { have, total, .. }) => {
            assert!(have > 0 && have < total, "{have} of {total}")
        }
        other => panic!("expected the download to stop at its deadline, got {other:?}"),
    }
    let second = runtime.block_on(poller.poll_once(|_| {}));
    assert!(
        matches!(second, Ok(kiosk::sync::net::Polled::Installed(ref r)) if r.seq == 2),
        "{second:?}"
    );
    let ranges: Vec<_> = server
        .requests_for("/test-2.kbundle")
        .iter()
        .map(|r| r.header("range").map(str::to_owned))
        .collect();
    assert!(
        matches!(&ranges[..], [None, Some(range)] if range != "bytes=0-"),
        "{ranges:?}"
    );
}

#[test]
fn every_signed_byte_installs_however_the_connection_ends() {
    let key = key(26);
    let dir = tempfile::tempdir().unwrap();
    let v2 = build_bundle(hall(2).path(), 2, &key, dir.path());
    let bytes = std::fs::read(&v2).unwrap();
    let manifest = bundle::read_manifest_unverified(&v2).unwrap();
    let channel = bundle::channel::Channel::for_bundle(&manifest, "test-2.kbundle", &bytes);
    let server = Server::start();
    server.put("/channel.txt", channel.sign(&key));
    server.put("/test-2.kbundle", bytes);
    // The server announces more bytes than it has, every time.
    server.fail("/test-2.kbundle", Fault::LongerLength { extra: 1000 }, 10);
    let data = DataDir::new(dir.path().join("data"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let poller = kiosk::sync::net::Poller::new(
        &server.url("/channel.txt"),
        Duration::from_secs(5),
        data.clone(),
        vec![key.public()],
        None,
    )
    .unwrap();
    let polled = runtime.block_on(poller.poll_once(|_| {}));
    assert!(
        matches!(polled, Ok(kiosk::sync::net::Polled::Installed(ref r)) if r.seq == 2),
        "{polled:?}"
    );
}

/// Runs `script` (sh) in a mount namespace of its own with a tmpfs of `mb` MB at `$DISK`:
/// a small disk that really fills up. `None` where namespaces cannot be made here.
fn on_a_small_disk(mb: u32, script: &str, env: &[(&str, &str)]) -> Option<Output> {
    let disk = tempfile::tempdir().unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    let mut command = Command::new("unshare");
    if !root {
        command.args(["--user", "--map-root-user"]);
    }
    command
        .args(["--mount", "sh", "-ec"])
        .arg(format!(
            "mount -t tmpfs -o size={mb}m kiosk-test \"$DISK\"\n{script}"
        ))
        .env("DISK", disk.path())
        .env("KIOSK", env!("CARGO_BIN_EXE_kiosk"))
        .env("KIOSK_CONFIG", "/dev/null");
    for (name, value) in env {
        command.env(name, value);
    }
    let probe = Command::new("unshare")
        .args(if root {
            vec!["--mount", "true"]
        } else {
            vec!["--user", "--map-root-user", "--mount", "true"]
        })
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("NOT RUN: cannot make a mount namespace here (unshare --mount), so no small disk to fill; the full-disk checks did not run");
        return None;
    }
    Some(command.output().unwrap())
}

#[test]
fn a_full_disk_is_tried_again_and_junk_on_a_stick_is_never_copied() {
    let key = key(27);
    let dir = tempfile::tempdir().unwrap();
    let v2 = build_bundle(hall(2).path(), 2, &key, dir.path());
    let bytes = std::fs::read(&v2).unwrap();
    let manifest = bundle::read_manifest_unverified(&v2).unwrap();
    let channel = bundle::channel::Channel::for_bundle(&manifest, "test-2.kbundle", &bytes);
    let server = Server::start();
    server.put("/channel.txt", channel.sign(&key));
    server.put("/test-2.kbundle", bytes);
    let pubkey = pubkey_file(dir.path(), &key, "key.pub");
    // A stick with 64 MB of junk that starts like a bundle, and /dev/zero named as one.
    let stick = dir.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    let mut junk = bundle::MAGIC.to_vec();
    junk.extend_from_slice(&1000u32.to_be_bytes());
    junk.resize(64 << 20, 0x5a);
    std::fs::write(stick.join("junk.kbundle"), junk).unwrap();
    let script = r#"
        data="$DISK/data"; mkdir -p "$data"
        # Fill the disk but for a few kilobytes.
        dd if=/dev/zero of="$DISK/filler" bs=1M count=30 2>/dev/null || true
        avail=$(df --output=avail -B1 "$DISK" | tail -1)
        dd if=/dev/zero of="$DISK/filler2" bs=$((avail - 65536)) count=1 2>/dev/null || true
        echo "== sync on a full disk"; "$KIOSK" --data-dir "$data" bundle sync --url "$URL" 2>&1 && echo "exit 0" || echo "exit $?"
        echo "== part files: $(ls "$data/staging" 2>/dev/null | grep -c part || true)"
        echo "== junk"; "$KIOSK" --data-dir "$data" bundle install "$STICK/junk.kbundle" --pubkey "$PUB" 2>&1 && echo "exit 0" || echo "exit $?"
        echo "== zero"; "$KIOSK" --data-dir "$data" bundle install /dev/zero --pubkey "$PUB" 2>&1 && echo "exit 0" || echo "exit $?"
        echo "== staging: $(ls -A "$data/staging" 2>/dev/null | grep -v download.state | wc -l)"
        rm -f "$DISK/filler" "$DISK/filler2"
        echo "== sync with room"; "$KIOSK" --data-dir "$data" bundle sync --url "$URL" 2>&1 && echo "exit 0" || echo "exit $?"
    "#;
    let url = server.url("/channel.txt");
    let env = [
        ("URL", url.as_str()),
        ("STICK", stick.to_str().unwrap()),
        ("PUB", pubkey.to_str().unwrap()),
        ("KIOSK_BUNDLES_PUBLIC_KEYS", pubkey.to_str().unwrap()),
    ];
    let Some(output) = on_a_small_disk(32, script, &env) else {
        return;
    };
    let said = text(&output);
    let part = |name: &str| -> String {
        said.split("== ")
            .find(|p| p.starts_with(name))
            .unwrap_or_else(|| panic!("no “{name}” in:\n{said}"))
            .to_owned()
    };
    // The full disk: a temporary failure, said plainly, no partial file left.
    let full = part("sync on a full disk");
    assert!(full.contains("not enough free disk space"), "{full}");
    assert!(!full.contains("exit 0"), "{full}");
    assert!(part("part files").starts_with("part files: 0"), "{said}");
    // Junk is refused from its header, never copied (a copy would have filled the disk).
    let junk = part("junk");
    assert!(
        junk.contains("exit 6") && junk.contains("signature"),
        "{junk}"
    );
    let zero = part("zero");
    assert!(
        zero.contains("exit 6") && zero.contains("not a kiosk bundle"),
        "{zero}"
    );
    assert!(part("staging").starts_with("staging: 0"), "{said}");
    // Once there is room, the same bundle installs: it was never refused for good.
    let later = part("sync with room");
    assert!(later.contains("installed test seq 2"), "{later}");
}

#[test]
fn an_installer_that_keeps_dying_waits_before_it_tries_again() {
    let key = key(28);
    let dir = tempfile::tempdir().unwrap();
    let v2 = build_bundle(hall(2).path(), 2, &key, dir.path());
    let pubkey = pubkey_file(dir.path(), &key, "key.pub");
    let data = dir.path().join("data");
    // Killed twice in the middle, as the out-of-memory killer would.
    for _ in 0..2 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
            .args([
                "bundle",
                "install",
                v2.to_str().unwrap(),
                "--pubkey",
                pubkey.to_str().unwrap(),
            ])
            .env("KIOSK_DATA_DIR", &data)
            .env("KIOSK_CONFIG", "/dev/null")
            .env("KIOSK_FAILPOINT", "unpacked")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let mut seen = String::new();
        let mut byte = [0u8; 1];
        while !seen.contains("failpoint unpacked reached") {
            use std::io::Read;
            assert_eq!(
                stderr.read(&mut byte).unwrap(),
                1,
                "the installer ended early: {seen}"
            );
            seen.push(byte[0] as char);
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let third = kiosk(
        &data,
        &[
            "bundle",
            "install",
            v2.to_str().unwrap(),
            "--pubkey",
            pubkey.to_str().unwrap(),
        ],
    );
    assert_eq!(third.status.code(), Some(3), "{}", text(&third));
    assert!(
        text(&third).contains("stopped unexpectedly 2 times"),
        "{}",
        text(&third)
    );
    assert!(text(&third).contains("after 5 minutes"), "{}", text(&third));
    assert_eq!(
        install::status(&DataDir::new(&data)).current,
        None,
        "nothing half-installed"
    );
    // It is recorded for the admin: the history says it failed, and why.
    let history = install::history(&DataDir::new(&data));
    assert!(
        history.iter().any(|h| h.action == "failed"
            && h.seq == 2
            && h.reason.contains("stopped unexpectedly")),
        "{history:?}"
    );
}

/// The same bundle with another seq in its manifest, signed again.
fn with_seq(bundle: &Path, seq: u64, key: &SecretKey) -> PathBuf {
    let mut manifest = bundle::read_manifest_unverified(bundle).unwrap();
    let bytes = std::fs::read(bundle).unwrap();
    let payload = bytes[bytes.len() - manifest.payload.size as usize..].to_vec();
    manifest.seq = seq;
    let out = bundle.with_extension(format!("seq{seq}.kbundle"));
    bundle::write_signed(&out, &manifest, key, &payload).unwrap();
    out
}

#[test]
fn a_leaked_key_is_recovered_from_with_a_key_note() {
    let dir = tempfile::tempdir().unwrap();
    let (leaked, spare, recovery) = (key(31), key(32), key(33));
    let data = DataDir::new(dir.path().join("data"));
    let pinned = [leaked.public()];
    install_with(
        &data,
        &build_bundle(hall(1).path(), 1, &leaked, dir.path()),
        &pinned,
    )
    .unwrap();
    // The thief signs the highest seq there is: every honest bundle after it is "older".
    let stolen = build_bundle(
        hall(9).path(),
        bundle::manifest::MAX_SEQ,
        &leaked,
        dir.path(),
    );
    install_with(&data, &stolen, &pinned).unwrap();
    let past = with_seq(
        &build_bundle(hall(2).path(), 2, &spare, dir.path()),
        bundle::manifest::MAX_SEQ + 1,
        &spare,
    );
    let err = install_with(&data, &past, &[leaked.public(), spare.public()]).unwrap_err();
    assert!(err.to_string().contains("outside 1 to"), "{err}");
    // bundle build never wraps round past the highest seq.
    let key_file = dir.path().join("leaked.key");
    std::fs::write(&key_file, leaked.to_text()).unwrap();
    std::fs::write(
        dir.path().join("leaked.key.seq"),
        format!("test {}\n", bundle::manifest::MAX_SEQ),
    )
    .unwrap();
    let source = hall(2);
    let built = kiosk(
        dir.path(),
        &[
            "bundle",
            "build",
            source.path().to_str().unwrap(),
            "--key",
            key_file.to_str().unwrap(),
            "-o",
            dir.path().to_str().unwrap(),
        ],
    );
    assert_eq!(built.status.code(), Some(6), "{}", text(&built));
    assert!(
        text(&built).contains("the highest there is"),
        "{}",
        text(&built)
    );
    let wrapped = kiosk(
        dir.path(),
        &[
            "bundle",
            "build",
            source.path().to_str().unwrap(),
            "--key",
            key_file.to_str().unwrap(),
            "-o",
            dir.path().to_str().unwrap(),
            "--seq",
            &u64::MAX.to_string(),
        ],
    );
    assert_eq!(wrapped.status.code(), Some(2), "{}", text(&wrapped));

    // The office's key note, signed with the offline recovery key: revoke the leaked key,
    // trust the spare, start again from seq 0.
    let recovery_file = dir.path().join("recovery.key");
    std::fs::write(&recovery_file, recovery.to_text()).unwrap();
    let spare_pub = pubkey_file(dir.path(), &spare, "spare.pub");
    let note = dir.path().join("test-keynote-1.knote");
    let made = kiosk(
        dir.path(),
        &[
            "bundle",
            "keynote",
            "--key",
            recovery_file.to_str().unwrap(),
            "--site",
            "test",
            "--number",
            "1",
            "--revoke",
            leaked.public().id(),
            "--trust",
            spare_pub.to_str().unwrap(),
            "--floor",
            "0",
            "--reason",
            "the office PC was stolen",
            "-o",
            note.to_str().unwrap(),
        ],
    );
    assert!(made.status.success(), "{}", text(&made));
    // A note the thief signs is refused: the leaked key signs bundles, never notes.
    let forged = bundle::keynote::KeyNote {
        site: "test".into(),
        number: 1,
        revoke: vec![recovery.public().id().into()],
        trust: Vec::new(),
        floor: 0,
        created: String::new(),
        reason: String::new(),
    };
    let bytes = forged.sign(&leaked);
    assert!(install::apply_note(&data, bytes.as_bytes(), &[recovery.public()], None).is_err());
    // The office's note is applied with `kiosk bundle install`, like a bundle.
    let recovery_pub = pubkey_file(dir.path(), &recovery, "recovery.pub");
    let applied = kiosk(
        data.root(),
        &[
            "bundle",
            "install",
            note.to_str().unwrap(),
            "--pubkey",
            recovery_pub.to_str().unwrap(),
        ],
    );
    assert!(applied.status.success(), "{}", text(&applied));
    assert!(
        text(&applied).contains("applied key note no. 1"),
        "{}",
        text(&applied)
    );
    assert_eq!(
        install::status(&data).high_water,
        0,
        "the stolen seq no longer holds the floor"
    );
    // Played again, it is refused; the thief's bundles are refused; the spare's install.
    let again = install::apply_note(
        &data,
        &std::fs::read(&note).unwrap(),
        &[recovery.public()],
        None,
    );
    assert!(again
        .unwrap_err()
        .to_string()
        .contains("no. 1 was applied before"));
    let thief = build_bundle(hall(3).path(), 5, &leaked, dir.path());
    let err = install_with(&data, &thief, &pinned).unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
    let honest = build_bundle(hall(2).path(), 2, &spare, dir.path());
    // The terminal's config still pins only the leaked key: the note's trust is enough.
    let record = install_with(&data, &honest, &pinned).unwrap();
    assert_eq!(record.seq, 2);
}

#[test]
fn settings_the_check_refuses_are_not_used_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        "[screen]\nidle_timeout_secs = 0\nutc_offset_minutes = 2000000000\n[stats]\nmax_events = 0\nretention_days = 0\nupload_url = \"https://kiosk:s3cret@[bad/collect\"\n[network]\ntimeout_secs = 0\n",
    )
    .unwrap();
    let env = |_: &str| None;
    let loaded = kiosk::config::Config::load(Some(&config), &env).unwrap();
    let defaults = kiosk::config::Config::default();
    assert_eq!(
        loaded.config.screen.idle_timeout_secs,
        defaults.screen.idle_timeout_secs
    );
    assert_eq!(
        loaded.config.screen.utc_offset_minutes,
        defaults.screen.utc_offset_minutes
    );
    assert_eq!(loaded.config.stats.max_events, defaults.stats.max_events);
    assert_eq!(
        loaded.config.stats.retention_days,
        defaults.stats.retention_days
    );
    assert_eq!(
        loaded.config.network.timeout_secs,
        defaults.network.timeout_secs
    );
    assert_eq!(loaded.config.stats.upload_url, "");
    assert_eq!(loaded.warnings.len(), 6, "{:?}", loaded.warnings);
    // kiosk config check names each as an error, and never shows the password.
    let checked = kiosk(dir.path(), &["config", "check", config.to_str().unwrap()]);
    let said = text(&checked);
    assert_eq!(checked.status.code(), Some(4), "{said}");
    for key in [
        "idle_timeout_secs",
        "utc_offset_minutes",
        "max_events",
        "retention_days",
        "upload_url",
        "timeout_secs",
    ] {
        assert!(
            said.lines().any(|l| l.contains(key) && l.contains("error")),
            "{key}: {said}"
        );
    }
    assert!(!said.contains("s3cret"), "{said}");
    // The programs that read them go on with the defaults: no panic, no password.
    let data = dir.path().join("data");
    for args in [
        &["stats", "report"][..],
        &[
            "stats",
            "upload",
            "--url",
            "https://kiosk:s3cret@[bad/collect",
        ][..],
    ] {
        let out = kiosk_env(&data, args, &[("KIOSK_CONFIG", config.to_str().unwrap())]);
        let said = text(&out);
        assert!(
            !said.contains("panicked") && !said.contains("s3cret"),
            "{args:?}: {said}"
        );
    }
}

#[test]
fn one_line_of_a_query_batch_that_is_not_utf8_answers_for_itself() {
    let dir = tempfile::tempdir().unwrap();
    let queries = dir.path().join("queries.txt");
    std::fs::write(
        &queries,
        b"\xe8\x90\xa5\xe4\xb8\x9a\xe6\x89\xa7\xe7\x85\xa7\n\xff\xfe broken\nyyzz\n",
    )
    .unwrap();
    let out = kiosk(
        &dir.path().join("data"),
        &["search", "--queries", queries.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["query"], "营业执照");
    assert!(lines[0]["total"].as_u64().unwrap() > 0);
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().unwrap().contains("UTF-8"));
    assert!(lines[2]["total"].as_u64().unwrap() > 0);
}

#[test]
fn sudo_bundle_install_leaves_a_data_directory_the_service_can_use() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("NOT RUN: this check runs `kiosk bundle install` as root and then searches as another user; it needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = key(29);
    let bundle = build_bundle(hall(2).path(), 2, &key, dir.path());
    let pubkey = pubkey_file(dir.path(), &key, "key.pub");
    // The service's data directory, owned by another user (nobody stands in for kiosk).
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let nobody = 65534;
    std::os::unix::fs::chown(&data, Some(nobody), Some(nobody)).unwrap();
    std::os::unix::fs::chown(dir.path(), Some(nobody), Some(nobody)).unwrap();
    let out = kiosk(
        &data,
        &[
            "bundle",
            "install",
            bundle.to_str().unwrap(),
            "--pubkey",
            pubkey.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    fn owners(dir: &Path, out: &mut Vec<(PathBuf, u32)>) {
        use std::os::unix::fs::MetadataExt;
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            out.push((entry.path(), meta.uid()));
            if meta.is_dir() {
                owners(&entry.path(), out);
            }
        }
    }
    let mut found = Vec::new();
    owners(&data, &mut found);
    let roots: Vec<_> = found.iter().filter(|(_, uid)| *uid != nobody).collect();
    assert!(roots.is_empty(), "left to root: {roots:?}");
    // The service's user searches the installed content (the index's lock file is its own).
    let can_switch = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_kiosk"),
            "--version",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !can_switch {
        eprintln!("NOT RUN (second half): the user nobody cannot run the kiosk binary here (setpriv, or the build folder is not readable by others), so the search as the service's user did not run");
        return;
    }
    let search = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_kiosk"),
            "search",
            "--json",
            &support::only_title(2),
        ])
        .env("KIOSK_DATA_DIR", &data)
        .env("KIOSK_CONFIG", "/dev/null")
        .env("HOME", &data)
        .output()
        .unwrap();
    assert!(search.status.success(), "{}", text(&search));
    assert!(String::from_utf8_lossy(&search.stdout).contains(&support::only_title(2)));
}
