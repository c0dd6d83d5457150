//! Bundles: keys, building, verifying, and the tamper matrix: every altered, forged, unsafe or
//! stale bundle is refused with a clear reason, and the installed content stays as it was.

use std::io::Read;
use std::path::{Path, PathBuf};

use kiosk::bundle::{self, Manifest, SecretKey};
use kiosk::datadir::DataDir;
use kiosk::install::{self, InstallError, Request};
use kiosk::search::{SearchIndex, SearchRequest};

use crate::support::{build_bundle, hall, key, only_title, Fixture};

/// A data directory with version 1 of the test hall installed, and what a test needs to make
/// more bundles.
struct Terminal {
    dir: tempfile::TempDir,
    data: DataDir,
    key: SecretKey,
    v2: Fixture,
}

impl Terminal {
    fn new() -> Terminal {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("data"));
        let key = key(1);
        let v1 = hall(1);
        let bundle = build_bundle(v1.path(), 1, &key, dir.path());
        let terminal = Terminal {
            dir,
            data,
            key,
            v2: hall(2),
        };
        terminal.install(&bundle).expect("version 1 installs");
        terminal
    }

    fn install(&self, bundle: &Path) -> Result<install::Record, InstallError> {
        let trusted = [self.key.public()];
        let request = Request {
            bundle,
            from: bundle.display().to_string(),
            trusted: &trusted,
            site: None,
            limits: Default::default(),
        };
        install::install(&self.data, &request, &mut |_| {})
    }

    fn v2_bundle(&self, seq: u64) -> PathBuf {
        build_bundle(self.v2.path(), seq, &self.key, self.dir.path())
    }

    /// Everything that says what is installed: the status, and every file and link of the
    /// data directory's content folder (but the lock file) with its bytes.
    fn snapshot(&self) -> (install::Status, Vec<(String, Vec<u8>)>) {
        let mut files = Vec::new();
        walk(
            &self.data.content_dir(),
            &self.data.content_dir(),
            &mut files,
        );
        files.retain(|(name, _)| name != "install.lock");
        files.sort();
        (install::status(&self.data), files)
    }

    /// Installs `bundle`, expects a refusal whose message contains `reason`, and checks that
    /// nothing changed and version 1 is still shown and searchable.
    fn refuses(&self, bundle: &Path, reason: &str) {
        let before = self.snapshot();
        let err = self
            .install(bundle)
            .expect_err(&format!("{} must be refused", bundle.display()));
        let message = err.to_string();
        assert!(
            message.contains(reason),
            "the reason “{message}” does not say “{reason}”"
        );
        assert_eq!(
            self.snapshot(),
            before,
            "a refused bundle changed the data directory after “{message}”"
        );
        assert!(
            std::fs::read_dir(self.data.staging_dir()).map_or(true, |mut d| d.next().is_none()),
            "a refused bundle left files in staging/"
        );
        assert_eq!(shows(&self.data), 1);
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry
            .path()
            .strip_prefix(root)
            .unwrap()
            .display()
            .to_string();
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap();
            out.push((name, target.display().to_string().into_bytes()));
        } else if kind.is_dir() {
            walk(root, &entry.path(), out);
        } else {
            out.push((name, std::fs::read(entry.path()).unwrap()));
        }
    }
}

/// Which version of the test hall the data directory shows, checked the way the screen opens
/// it: the installed source, loaded whole, its index opened, its own item found and the other
/// version's not.
pub fn shows(data: &DataDir) -> u32 {
    let origin = kiosk::datadir::resolve_content(None, data).unwrap();
    assert!(
        matches!(origin, kiosk::datadir::ContentOrigin::Installed(_)),
        "nothing is installed"
    );
    let loaded = kiosk::source::load(origin.path()).unwrap();
    assert_eq!(loaded.errors(), 0, "the installed content has errors");
    assert_eq!(
        loaded.content.items.len(),
        6,
        "the installed content is incomplete"
    );
    let version = if loaded.content.item("only-v2").is_some() {
        2
    } else {
        1
    };
    let index = SearchIndex::open_or_build(origin.path(), &data.index_dir()).unwrap();
    for (v, expect) in [(1, version == 1), (2, version == 2)] {
        let results = index.search(&SearchRequest::new(only_title(v))).unwrap();
        let found = results.hits.iter().any(|h| h.id == format!("only-v{v}"));
        assert_eq!(
            found, expect,
            "searching for version {v}'s item while showing {version}"
        );
    }
    version
}

/// The payload of a bundle as tar entries, and a way to write crafted ones.
enum Entry<'a> {
    File(&'a [u8], &'a [u8]),
    Symlink(&'a [u8], &'a [u8]),
    HardLink(&'a [u8], &'a [u8]),
    Dir(&'a [u8]),
}

/// Regular-file entries for (path, bytes) pairs.
fn file_entries(files: &[(String, Vec<u8>)]) -> Vec<Entry<'_>> {
    files
        .iter()
        .map(|(p, b)| Entry::File(p.as_bytes(), b))
        .collect()
}

fn tar_of(entries: &[Entry]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        let (name, kind, data, link): (&[u8], _, &[u8], &[u8]) = match entry {
            Entry::File(name, data) => (name, tar::EntryType::Regular, data, b""),
            Entry::Symlink(name, target) => (name, tar::EntryType::Symlink, b"", target),
            Entry::HardLink(name, target) => (name, tar::EntryType::Link, b"", target),
            Entry::Dir(name) => (name, tar::EntryType::Directory, b"", b""),
        };
        let gnu = header.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name);
        gnu.linkname[..link.len()].copy_from_slice(link);
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append(&header, data).unwrap();
    }
    tar.into_inner().unwrap()
}

/// Writes a bundle with `payload`, its manifest made by `edit` from the real version-2
/// manifest, signed with `key`: the signature is good, the contents are whatever the test says.
fn craft(
    terminal: &Terminal,
    name: &str,
    key: &SecretKey,
    payload: &[u8],
    edit: impl FnOnce(&mut Manifest),
) -> PathBuf {
    let real = terminal.v2_bundle(2);
    let mut manifest = bundle::read_manifest_unverified(&real).unwrap();
    std::fs::remove_file(real).unwrap();
    manifest.payload.size = payload.len() as u64;
    manifest.payload.sha256 = bundle::sha256_hex(payload);
    manifest.key_id = key.public().id().to_owned();
    edit(&mut manifest);
    let out = terminal.dir.path().join(name);
    bundle::write_signed(&out, &manifest, key, payload).unwrap();
    out
}

fn zst(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

/// The files of version 2 as (path, bytes), in the builder's order.
fn v2_files(terminal: &Terminal) -> Vec<(String, Vec<u8>)> {
    let real = terminal.v2_bundle(2);
    let manifest = bundle::read_manifest_unverified(&real).unwrap();
    std::fs::remove_file(real).unwrap();
    manifest
        .files
        .iter()
        .map(|f| {
            (
                f.path.clone(),
                std::fs::read(terminal.v2.path().join(&f.path)).unwrap(),
            )
        })
        .collect()
}

fn entry(path: &str, size: u64, bytes: &[u8]) -> kiosk::bundle::manifest::FileEntry {
    kiosk::bundle::manifest::FileEntry {
        path: path.into(),
        size,
        sha256: bundle::sha256_hex(bytes),
    }
}

#[test]
fn a_good_newer_bundle_installs_and_is_shown() {
    let terminal = Terminal::new();
    let record = terminal.install(&terminal.v2_bundle(2)).unwrap();
    assert_eq!((record.seq, record.version.as_str()), (2, "第2版"));
    assert_eq!(shows(&terminal.data), 2);
}

#[test]
fn a_flipped_byte_anywhere_is_refused() {
    let terminal = Terminal::new();
    let good = terminal.v2_bundle(2);
    let bytes = std::fs::read(&good).unwrap();
    let trusted = [terminal.key.public()];
    let payload_start = bundle::verify(&good, &trusted, &Default::default())
        .unwrap()
        .payload_offset as usize;
    // Every byte of the header, manifest and signature, and 200 spread over the payload.
    let payload_len = bytes.len() - payload_start;
    let positions: Vec<usize> = (0..payload_start)
        .chain((0..200).map(|i| payload_start + i * payload_len / 200))
        .collect();
    let flipped = terminal.dir.path().join("flipped.kbundle");
    for &at in &positions {
        let mut altered = bytes.clone();
        altered[at] ^= 0x20;
        std::fs::write(&flipped, &altered).unwrap();
        let verified = bundle::verify(&flipped, &trusted, &Default::default());
        assert!(
            verified.is_err(),
            "a flip at byte {at} of {} went unnoticed",
            bytes.len()
        );
    }
    // And through the whole install, at one place in each part.
    let sig = payload_start - 10;
    for (at, reason) in [
        (3, "not a kiosk bundle"),
        (payload_start / 2, "signature"),
        (sig, "signature does not match"),
        (
            payload_start + payload_len / 2,
            "do not match its signed checksum",
        ),
    ] {
        let mut altered = bytes.clone();
        altered[at] ^= 0x01;
        std::fs::write(&flipped, &altered).unwrap();
        terminal.refuses(&flipped, reason);
    }
}

#[test]
fn a_bundle_signed_with_an_untrusted_key_is_refused() {
    let terminal = Terminal::new();
    let stranger = key(9);
    let forged = build_bundle(
        terminal.v2.path(),
        2,
        &stranger,
        &terminal.dir.path().join("x"),
    );
    terminal.refuses(&forged, "which this terminal does not trust");
}

#[test]
fn no_trusted_key_means_nothing_installs() {
    let terminal = Terminal::new();
    let bundle = terminal.v2_bundle(2);
    let request = Request {
        bundle: &bundle,
        from: "test".into(),
        trusted: &[],
        site: None,
        limits: Default::default(),
    };
    let err = install::install(&terminal.data, &request, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("no public key is pinned"), "{err}");
    assert_eq!(shows(&terminal.data), 1);
}

#[test]
fn missing_and_extra_files_are_refused() {
    let terminal = Terminal::new();
    let files = v2_files(&terminal);
    let all: Vec<Entry> = file_entries(&files);
    // The manifest lists one file more than the payload holds.
    let missing = craft(
        &terminal,
        "missing.kbundle",
        &terminal.key,
        &zst(&tar_of(&all)),
        |m| {
            m.files.push(entry("items/b.jsonl", 3, b"{}\n"));
        },
    );
    terminal.refuses(&missing, "missing from its contents");
    // The payload holds a file the manifest does not list.
    let mut extra_entries: Vec<Entry> = file_entries(&files);
    extra_entries.push(Entry::File(b"items/b.jsonl", b"{}\n"));
    let extra = craft(
        &terminal,
        "extra.kbundle",
        &terminal.key,
        &zst(&tar_of(&extra_entries)),
        |_| {},
    );
    terminal.refuses(&extra, "not in its signed manifest");
}

#[test]
fn a_file_larger_than_declared_is_refused() {
    let terminal = Terminal::new();
    let files = v2_files(&terminal);
    let all: Vec<Entry> = file_entries(&files);
    let larger = craft(
        &terminal,
        "larger.kbundle",
        &terminal.key,
        &zst(&tar_of(&all)),
        |m| {
            let last = m.files.last_mut().unwrap();
            last.size -= 10;
        },
    );
    terminal.refuses(&larger, "larger than its signed size");
    // Same size, other bytes: the file's own checksum catches it.
    let mut swapped: Vec<(String, Vec<u8>)> = files.clone();
    let last = swapped.last_mut().unwrap();
    last.1 = last
        .1
        .iter()
        .map(|b| if *b == b'5' { b'6' } else { *b })
        .collect();
    let swapped_entries = file_entries(&swapped);
    let other = craft(
        &terminal,
        "other.kbundle",
        &terminal.key,
        &zst(&tar_of(&swapped_entries)),
        |_| {},
    );
    terminal.refuses(&other, "does not match its signed checksum");
}

#[test]
fn a_decompression_bomb_is_stopped_early() {
    let terminal = Terminal::new();
    // A GNU long-name record claiming a gigabyte of name: a small payload that unpacks to 1 GiB.
    let mut header = tar::Header::new_gnu();
    header.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    header.set_entry_type(tar::EntryType::GNULongName);
    header.set_size(1 << 30);
    header.set_cksum();
    let stream =
        std::io::Cursor::new(header.as_bytes().to_vec()).chain(std::io::repeat(0).take(1 << 30));
    let payload = zstd::stream::encode_all(stream, 1).unwrap();
    assert!(
        payload.len() < 1 << 20,
        "the bomb is small: {} bytes",
        payload.len()
    );
    let bomb = craft(&terminal, "bomb.kbundle", &terminal.key, &payload, |_| {});
    terminal.refuses(&bomb, "decompression bomb");
}

#[test]
fn paths_that_leave_the_folder_are_refused() {
    let terminal = Terminal::new();
    let files = v2_files(&terminal);
    for (name, evil, reason) in [
        ("dotdot", &b"../evil.jsonl"[..], "climbs out of the folder"),
        (
            "deep",
            b"items/../../evil.jsonl",
            "climbs out of the folder",
        ),
        ("absolute", b"/tmp/evil.jsonl", "absolute path"),
    ] {
        // In the payload only (the manifest is honest about its own files).
        let mut entries: Vec<Entry> = files
            .iter()
            .map(|(p, b)| Entry::File(p.as_bytes(), b))
            .collect();
        entries.insert(0, Entry::File(evil, b"{}\n"));
        let bundle = craft(
            &terminal,
            &format!("{name}.kbundle"),
            &terminal.key,
            &zst(&tar_of(&entries)),
            |_| {},
        );
        terminal.refuses(&bundle, reason);
        // And in the signed manifest too.
        let listed = craft(
            &terminal,
            &format!("{name}-listed.kbundle"),
            &terminal.key,
            &zst(&tar_of(&entries)),
            |m| {
                m.files
                    .insert(0, entry(std::str::from_utf8(evil).unwrap(), 3, b"{}\n"));
            },
        );
        terminal.refuses(&listed, reason);
    }
    assert!(!terminal.dir.path().join("evil.jsonl").exists());
    assert!(!Path::new("/tmp/evil.jsonl").exists());
}

#[test]
fn links_and_other_entries_are_refused() {
    let terminal = Terminal::new();
    let files = v2_files(&terminal);
    for (name, odd, reason) in [
        (
            "symlink",
            Entry::Symlink(b"items/a.jsonl", b"/etc/passwd"),
            "symbolic link",
        ),
        (
            "hardlink",
            Entry::HardLink(b"items/a.jsonl", b"site.toml"),
            "hard link",
        ),
        ("dir", Entry::Dir(b"items/"), "folder entry"),
    ] {
        let mut entries: Vec<Entry> = vec![odd];
        entries.extend(
            files
                .iter()
                .filter(|(p, _)| p != "items/a.jsonl")
                .map(|(p, b)| Entry::File(p.as_bytes(), b)),
        );
        let bundle = craft(
            &terminal,
            &format!("{name}.kbundle"),
            &terminal.key,
            &zst(&tar_of(&entries)),
            |_| {},
        );
        terminal.refuses(&bundle, reason);
    }
}

#[test]
fn a_truncated_or_extended_file_is_refused() {
    let terminal = Terminal::new();
    let good = terminal.v2_bundle(2);
    let bytes = std::fs::read(&good).unwrap();
    let payload_start = bundle::verify(&good, &[terminal.key.public()], &Default::default())
        .unwrap()
        .payload_offset as usize;
    let cut = terminal.dir.path().join("cut.kbundle");
    for (len, reason) in [
        (0, "not a kiosk bundle"),
        (10, "not a kiosk bundle"),
        (18, "truncated"),
        (payload_start / 2, "truncated"),
        (payload_start - 5, "truncated"),
        (payload_start + 100, "truncated"),
        (bytes.len() - 1, "truncated"),
    ] {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        terminal.refuses(&cut, reason);
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"tail");
    std::fs::write(&cut, &longer).unwrap();
    terminal.refuses(&cut, "after its signed end");
}

#[test]
fn an_older_or_equal_seq_is_refused_even_after_a_rollback() {
    let terminal = Terminal::new();
    terminal.refuses(&terminal.v2_bundle(1), "not newer");
    terminal.install(&terminal.v2_bundle(3)).unwrap();
    install::rollback(&terminal.data).unwrap();
    assert_eq!(shows(&terminal.data), 1);
    // Seq 2 was never installed, but 3 was: the high-water mark keeps 2 out.
    terminal.refuses(&terminal.v2_bundle(2), "not newer than seq 3");
}

#[test]
fn a_bundle_for_another_site_is_refused() {
    let terminal = Terminal::new();
    let other = Fixture::new(&[
        (
            "site.toml",
            "id = \"other\"\nname = \"别的站点\"\n".as_bytes(),
        ),
        ("columns.toml", crate::support::COLUMNS.as_bytes()),
        (
            "items/a.jsonl",
            std::fs::read(terminal.v2.path().join("items/a.jsonl"))
                .unwrap()
                .as_slice(),
        ),
    ]);
    let bundle = build_bundle(
        other.path(),
        7,
        &terminal.key,
        &terminal.dir.path().join("o"),
    );
    terminal.refuses(&bundle, "is for site “other”");
}

#[test]
fn a_signed_bundle_whose_content_does_not_load_is_refused() {
    let terminal = Terminal::new();
    let files = v2_files(&terminal);
    let broken: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(p, b)| {
            if p == "items/a.jsonl" {
                (p, b"{not json\n".to_vec())
            } else {
                (p, b)
            }
        })
        .collect();
    let entries = file_entries(&broken);
    let bundle = craft(
        &terminal,
        "broken.kbundle",
        &terminal.key,
        &zst(&tar_of(&entries)),
        |m| {
            for (f, (_, bytes)) in m.files.iter_mut().zip(&broken) {
                *f = entry(&f.path.clone(), bytes.len() as u64, bytes);
            }
        },
    );
    terminal.refuses(&bundle, "does not load");
}

#[test]
fn building_refuses_a_source_with_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broken = Fixture::with_items("{\"id\": \"x\"}\n");
    let options = bundle::BuildOptions {
        source: broken.path(),
        key: &key(1),
        seq: 1,
        version: None,
        created: 0,
        level: 3,
    };
    let err = bundle::build(&options, &dir.path().join("b.kbundle")).unwrap_err();
    assert!(err.to_string().contains("error(s)"), "{err}");
    assert!(!dir.path().join("b.kbundle").exists());
}

#[test]
fn the_cli_makes_keys_builds_with_rising_seqs_verifies_and_installs() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let kiosk = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"))
            .args(args)
            .current_dir(dir.path())
            .env("KIOSK_CONFIG", "/dev/null")
            .env("KIOSK_DATA_DIR", dir.path().join("data"))
            .output()
            .unwrap()
    };
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    ok(kiosk(&["bundle", "keygen", "--out", "office.key"]));
    let mode = std::fs::metadata(dir.path().join("office.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(dir.path().join("office.key.pub"))
        .unwrap()
        .starts_with("kiosk-public-key ed25519 "));
    // A key is never overwritten.
    assert!(!kiosk(&["bundle", "keygen", "--out", "office.key"])
        .status
        .success());

    let v1 = hall(1);
    let v2 = hall(2);
    let src1 = v1.path().to_str().unwrap();
    let src2 = v2.path().to_str().unwrap();
    let built = ok(kiosk(&[
        "bundle",
        "build",
        src1,
        "--key",
        "office.key",
        "-o",
        ".",
    ]));
    assert!(
        built.contains("test-1.kbundle") && built.contains("seq 1"),
        "{built}"
    );
    let built = ok(kiosk(&[
        "bundle",
        "build",
        src2,
        "--key",
        "office.key",
        "-o",
        ".",
    ]));
    assert!(
        built.contains("test-2.kbundle") && built.contains("seq 2"),
        "{built}"
    );

    let verified = ok(kiosk(&[
        "bundle",
        "verify",
        "test-2.kbundle",
        "--pubkey",
        "office.key.pub",
    ]));
    assert!(verified.contains("good"), "{verified}");
    ok(kiosk(&["bundle", "keygen", "--out", "other.key"]));
    let wrong = kiosk(&[
        "bundle",
        "verify",
        "test-2.kbundle",
        "--pubkey",
        "other.key.pub",
    ]);
    assert_eq!(wrong.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("does not trust"));

    ok(kiosk(&[
        "bundle",
        "install",
        "test-1.kbundle",
        "--pubkey",
        "office.key.pub",
    ]));
    ok(kiosk(&[
        "bundle",
        "install",
        "test-2.kbundle",
        "--pubkey",
        "office.key.pub",
    ]));
    let again = kiosk(&[
        "bundle",
        "install",
        "test-1.kbundle",
        "--pubkey",
        "office.key.pub",
    ]);
    assert_eq!(again.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not newer"));

    let status = ok(kiosk(&["bundle", "status"]));
    assert!(
        status.contains("installed: test seq 2, version"),
        "{status}"
    );
    assert!(
        status.contains("previous (for rollback): test seq 1"),
        "{status}"
    );
    let searched = ok(kiosk(&["search", &only_title(2)]));
    assert!(
        searched.contains("only-v2") || searched.contains(&only_title(2)),
        "{searched}"
    );

    let rolled = ok(kiosk(&["bundle", "rollback"]));
    assert!(rolled.contains("seq 1"), "{rolled}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(kiosk(&["bundle", "status", "--json"]))).unwrap();
    assert_eq!(json["current"]["seq"], 1);
    assert_eq!(json["previous"]["seq"], 2);
    assert_eq!(json["high_water"], 2);
    let actions: Vec<&str> = json["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["install", "install", "rollback"]);
}
