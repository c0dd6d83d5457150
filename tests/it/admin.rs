//! The command line of deployment and admin: `kiosk config check` says what is wrong and where,
//! `kiosk admin set-pin` keeps only a hash, `kiosk admin log` reads the admin actions.

use std::io::Write;
use std::process::{Command, Stdio};

fn kiosk(dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    kiosk_with_env(dir, args, stdin, &[])
}

/// `kiosk` with these environment variables set too.
fn kiosk_with_env(
    dir: &std::path::Path,
    args: &[&str],
    stdin: &str,
    vars: &[(&str, &str)],
) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(args)
        .current_dir(dir)
        .env("KIOSK_DATA_DIR", dir.join("data"))
        .env_remove("KIOSK_CONFIG")
        .envs(vars.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Each of `expected` is somewhere in `text`.
fn assert_lines(text: &str, expected: &[&str]) {
    for expected in expected {
        assert!(text.contains(expected), "no “{expected}” in:\n{text}");
    }
}

#[test]
fn config_check_names_every_problem_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kiosk.toml"),
        "[screen]\nlanguage = \"fr\"\nidle_timeout_secs = 5\n\n[schedule]\nblank_from = \"20:00\"\nblank_until = \"7:30\"\n\n[network]\nchannel_url = \"not a url\"\n\n[stats]\ncolour = \"blue\"\n",
    )
    .unwrap();
    let out = kiosk(dir.path(), &["config", "check", "kiosk.toml"], "");
    assert_eq!(out.status.code(), Some(4));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_lines(
        &text,
        &[
            "kiosk.toml:2: error: screen.language: “fr” is not zh or en",
            "kiosk.toml:3: error: screen.idle_timeout_secs: 5 is outside 10 to 3600 seconds",
            "kiosk.toml:7: error: schedule.blank_until: “7:30” is not a time like 07:30",
            "kiosk.toml:10: error: network.channel_url: “not a url” is not an http(s) URL",
            "kiosk.toml:13: warning: unknown setting `stats.colour` is ignored",
            "kiosk.toml: 4 error(s),",
        ],
    );
    std::fs::write(dir.path().join("broken.toml"), "[screen\nlanguage = 1\n").unwrap();
    let out = kiosk(dir.path(), &["config", "check", "broken.toml"], "");
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("broken.toml:1: error:"));
}

#[test]
fn config_check_checks_the_environment_too_and_goes_on_when_the_file_is_broken() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kiosk.toml"),
        "[screen]\nlanguage = \"zh\"\n",
    )
    .unwrap();
    let out = kiosk_with_env(
        dir.path(),
        &["config", "check", "kiosk.toml"],
        "",
        &[
            ("KIOSK_SCREEN_LANGUAGE", "fr"),
            ("KIOSK_SCHEDULE_RESTART_AT", "4am"),
            ("KIOSK_STATS_ENABLED", "maybe"),
            ("KIOSK_IDLE_TIMEOUT_SEC", "60"),
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_lines(
        &text,
        &[
        "environment KIOSK_SCREEN_LANGUAGE: error: screen.language: “fr” is not zh or en",
        "environment KIOSK_SCHEDULE_RESTART_AT: error: schedule.restart_at: “4am” is not a time like 07:30",
        "environment KIOSK_STATS_ENABLED: error: KIOSK_STATS_ENABLED=“maybe” is ignored: not true or false",
        "environment KIOSK_IDLE_TIMEOUT_SEC: warning: KIOSK_IDLE_TIMEOUT_SEC is not a setting and is ignored",
        "kiosk.toml: 3 error(s),",
        ],
    );

    // The config in use is broken: `kiosk config check` still says where, and nothing else runs.
    std::fs::write(dir.path().join("kiosk.toml"), "[screen]\nlanguage = zh\n").unwrap();
    let config = dir.path().join("kiosk.toml");
    let out = kiosk(
        dir.path(),
        &["--config", config.to_str().unwrap(), "config", "check"],
        "",
    );
    assert_eq!(out.status.code(), Some(4));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("kiosk.toml:2: error:"), "{text}");
    let out = kiosk(
        dir.path(),
        &["--config", config.to_str().unwrap(), "columns"],
        "",
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not valid"));

    let help = kiosk(dir.path(), &["config", "check", "--help"], "");
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("KIOSK_SCHEDULE_RESTART_AT"), "{help}");
    assert!(help.contains("(or KIOSK_IDLE_TIMEOUT)"), "{help}");
}

#[test]
fn the_shipped_config_has_no_error_but_the_missing_key_file() {
    let out = kiosk(
        &crate::support::repo_root(),
        &["config", "check", "deploy/kiosk.toml"],
        "",
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let errors: Vec<&str> = text.lines().filter(|l| l.contains(": error:")).collect();
    assert!(
        errors
            .iter()
            .all(|e| e.contains("/etc/kiosk/keys/office.pub")),
        "{text}"
    );
}

#[test]
fn set_pin_keeps_only_a_hash_and_refuses_a_short_pin() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    let pin_file = dir.path().join("admin-pin");
    std::fs::write(
        &config,
        format!("[admin]\npin_file = \"{}\"\n", pin_file.display()),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let short = kiosk(
        dir.path(),
        &["--config", config, "admin", "set-pin"],
        "123\n",
    );
    assert_eq!(short.status.code(), Some(2));
    assert!(!pin_file.exists());
    let out = kiosk(
        dir.path(),
        &["--config", config, "admin", "set-pin"],
        "48151623\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = std::fs::read_to_string(&pin_file).unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("48151623"));
    assert!(kiosk::admin::PinFile::new(&pin_file)
        .verify("48151623")
        .unwrap());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&pin_file).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // The admin log reads back what the screen wrote.
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    kiosk::admin::AdminLog::new(dir.path().join("data/admin.jsonl"))
        .append("admin-1", "rollback", "");
    let log = kiosk(dir.path(), &["--config", config, "admin", "log"], "");
    assert!(String::from_utf8_lossy(&log.stdout).contains("admin-1  rollback"));
}
