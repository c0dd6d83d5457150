//! Crash safety of installs: the real `kiosk bundle install`, killed with SIGKILL at every named
//! step and at spread-out moments, always leaves the old or the new content, complete and
//! searchable, and the next install works.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use kiosk::datadir::DataDir;
use kiosk::install::{self, Request};

use crate::bundles::shows;
use crate::support::{build_bundle, copy_tree, hall, key};

/// The failpoints of `install::install`, in order, and the version each leaves.
const POINTS: [(&str, u32); 9] = [
    ("copied", 1),
    ("verified", 1),
    ("unpacking", 1),
    ("unpacked", 1),
    ("indexed", 1),
    ("checked", 1),
    ("synced", 1),
    ("switching", 1),
    ("switched", 2),
];

fn install_child(data: &Path, bundle: &Path, pubkey: &Path, failpoint: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiosk"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(["bundle", "install"])
        .arg(bundle)
        .arg("--pubkey")
        .arg(pubkey)
        .env("KIOSK_CONFIG", "/dev/null")
        .env_remove("KIOSK_FAILPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(point) = failpoint {
        command.env("KIOSK_FAILPOINT", point);
    }
    command.spawn().unwrap()
}

/// Waits until the child says it reached `point` (it then pauses there).
fn wait_for_failpoint(child: &mut Child, point: &str) {
    let stderr = child.stderr.take().unwrap();
    let mut said = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.contains(&format!("failpoint {point} reached")) {
            return;
        }
        said.push_str(&line);
        said.push('\n');
    }
    panic!("the install ended before failpoint {point}:\n{said}");
}

/// What the next start finds after a kill: leftovers cleaned, one complete version shown,
/// and the status agreeing with it.
fn after_kill(data: &DataDir) -> u32 {
    install::clean_leftovers(data).unwrap();
    let version = shows(data);
    let status = install::status(data);
    assert_eq!(
        status.current.as_ref().map(|r| r.seq),
        Some(u64::from(version))
    );
    let releases: Vec<String> = std::fs::read_dir(data.releases_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        releases.iter().all(|r| !r.contains("partial")) && releases.len() <= 2,
        "leftover releases after cleaning: {releases:?}"
    );
    assert!(
        std::fs::read_dir(data.staging_dir()).map_or(true, |d| d.count() == 0),
        "leftovers in staging/"
    );
    version
}

#[test]
fn an_install_killed_at_any_moment_leaves_the_old_or_the_new_content() {
    let dir = tempfile::tempdir().unwrap();
    let key = key(5);
    let pubkey = dir.path().join("office.pub");
    std::fs::write(&pubkey, key.public().to_text()).unwrap();
    let v1 = build_bundle(hall(1).path(), 1, &key, dir.path());
    let v2 = build_bundle(hall(2).path(), 2, &key, dir.path());
    let template = DataDir::new(dir.path().join("template"));
    let trusted = [key.public()];
    let install_now = |data: &DataDir, bundle: &Path| {
        let request = Request {
            bundle,
            from: "test".into(),
            trusted: &trusted,
            site: None,
            limits: Default::default(),
        };
        install::install(data, &request, &mut |_| {})
    };
    install_now(&template, &v1).unwrap();
    let mut run = 0;
    let mut fresh = || {
        run += 1;
        let data = DataDir::new(dir.path().join(format!("run-{run}")));
        copy_tree(template.root(), data.root());
        data
    };

    // At every named step, twice; after each kill the install is tried again and succeeds.
    let mut runs = 0;
    for (point, expected) in POINTS {
        for _ in 0..2 {
            let data = fresh();
            let mut child = install_child(data.root(), &v2, &pubkey, Some(point));
            wait_for_failpoint(&mut child, point);
            child.kill().unwrap();
            child.wait().unwrap();
            runs += 1;
            assert_eq!(after_kill(&data), expected, "killed at {point}");
            if expected == 1 {
                install_now(&data, &v2).unwrap();
                assert_eq!(shows(&data), 2, "installing again after a kill at {point}");
            }
            std::fs::remove_dir_all(data.root()).unwrap();
        }
    }

    // At moments spread over a whole install (measured first, uninterrupted).
    let data = fresh();
    let started = Instant::now();
    let status = install_child(data.root(), &v2, &pubkey, None)
        .wait()
        .unwrap();
    let whole = started.elapsed();
    assert!(status.success());
    assert_eq!(after_kill(&data), 2);
    let mut versions = [0usize; 3];
    let spread = 36;
    for i in 0..spread {
        let data = fresh();
        let mut child = install_child(data.root(), &v2, &pubkey, None);
        // From the start to a little past the end of a typical install.
        std::thread::sleep(whole.mul_f64(i as f64 * 1.1 / spread as f64));
        let _ = child.kill();
        child.wait().unwrap();
        runs += 1;
        versions[after_kill(&data) as usize] += 1;
        std::fs::remove_dir_all(data.root()).unwrap();
    }
    assert!(runs >= 50, "{runs} kills");
    eprintln!(
        "crash test: {runs} kills; the timed ones left version 1 {} times, version 2 {} times (a whole install took {:?})",
        versions[1], versions[2], whole
    );
}

#[test]
fn a_rollback_killed_between_its_two_switches_still_has_a_way_back() {
    let dir = tempfile::tempdir().unwrap();
    let key = key(6);
    let trusted = [key.public()];
    let data = DataDir::new(dir.path().join("data"));
    for seq in [1, 2] {
        let bundle = build_bundle(hall(seq).path(), u64::from(seq), &key, dir.path());
        let request = Request {
            bundle: &bundle,
            from: "test".into(),
            trusted: &trusted,
            site: None,
            limits: Default::default(),
        };
        install::install(&data, &request, &mut |_| {}).unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("--data-dir")
        .arg(data.root())
        .args(["bundle", "rollback"])
        .env("KIOSK_CONFIG", "/dev/null")
        .env("KIOSK_FAILPOINT", "rolling-back")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_failpoint(&mut child, "rolling-back");
    child.kill().unwrap();
    child.wait().unwrap();
    // Both links point at version 2 now; the next start finds version 1 again for rollback.
    assert_eq!(after_kill(&data), 2);
    let status = install::status(&data);
    assert_eq!(status.previous.map(|r| r.seq), Some(1));
    install::rollback(&data).unwrap();
    assert_eq!(shows(&data), 1);
}

/// The statistics writer, killed with SIGKILL while it records 500 events a second: the
/// database is never corrupt, holds every event of every batch it reported committed, and only
/// ever misses a tail of events that were not yet committed.
#[test]
fn a_statistics_writer_killed_mid_stream_loses_only_its_uncommitted_tail() {
    let dir = tempfile::tempdir().unwrap();
    let mut lost = Vec::new();
    for run in 0..20 {
        let db = dir.path().join(format!("stats-{run}.sqlite"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
            .args(["bench", "record", "--rate", "500", "--child"])
            .arg(&db)
            .env("KIOSK_CONFIG", "/dev/null")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        // Kill after a varying number of committed batches, at a varying point between them.
        let wanted = 1 + run % 4;
        let extra_lines = run * 3 % 11;
        let (mut committed, mut recorded, mut commits, mut after) = (0u64, 0u64, 0, 0);
        for line in stdout.lines() {
            let line = line.unwrap();
            let number = |prefix: &str| {
                line.strip_prefix(prefix)
                    .and_then(|n| n.parse::<u64>().ok())
            };
            if let Some(n) = number("committed ") {
                committed = committed.max(n);
                commits += 1;
            } else if let Some(n) = number("recorded ") {
                recorded = recorded.max(n);
                if commits >= wanted {
                    after += 1;
                }
            }
            if commits >= wanted && after >= extra_lines {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let store = kiosk::stats::Store::open(&db).unwrap();
        assert!(
            store.integrity_ok().unwrap(),
            "run {run}: the database is corrupt"
        );
        let seqs: Vec<u64> = store
            .events_between(0, i64::MAX)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        let stored = seqs.len() as u64;
        assert_eq!(
            seqs,
            (1..=stored).collect::<Vec<_>>(),
            "run {run}: a batch was half written"
        );
        assert!(
            stored >= committed,
            "run {run}: committed events lost ({stored} < {committed})"
        );
        lost.push(recorded.saturating_sub(stored));
    }
    eprintln!("statistics writer killed 20 times; events recorded but not yet committed at the kill (at least): {lost:?}");
}
