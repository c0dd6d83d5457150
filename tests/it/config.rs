//! Config layering: defaults, then the file, then KIOSK_* variables; the data directory choice.

use std::collections::HashMap;
use std::path::Path;

use kiosk::config::Config;
use kiosk::datadir::{resolve_content, ContentOrigin, DataDir};

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |key| map.get(key).cloned()
}

#[test]
fn defaults_apply_with_no_file() {
    let home = tempfile::tempdir().unwrap();
    let env = env_of(&[("HOME", home.path().to_str().unwrap())]);
    let loaded = Config::load(None, &env).unwrap();
    if Path::new(kiosk::config::SYSTEM_CONFIG).exists() {
        return; // a real terminal's config is in the way; the other cases still run
    }
    assert_eq!(loaded.file, None);
    assert_eq!(loaded.config, Config::default());
}

#[test]
fn file_then_environment_override_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiosk.toml");
    std::fs::write(
        &file,
        "data_dir = \"/srv/kiosk\"\n[terminal]\nid = \"hall-2\"\ncolour = \"red\"\n",
    )
    .unwrap();

    let loaded = Config::load(Some(&file), &env_of(&[])).unwrap();
    assert_eq!(
        loaded.config.data_dir.as_deref(),
        Some(Path::new("/srv/kiosk"))
    );
    assert_eq!(loaded.config.terminal.id, "hall-2");
    assert_eq!(
        loaded.warnings,
        vec!["unknown setting `terminal.colour` is ignored".to_owned()]
    );

    let env = env_of(&[("KIOSK_DATA_DIR", "/data"), ("KIOSK_TERMINAL_ID", "hall-9")]);
    let loaded = Config::load(Some(&file), &env).unwrap();
    assert_eq!(loaded.config.data_dir.as_deref(), Some(Path::new("/data")));
    assert_eq!(loaded.config.terminal.id, "hall-9");

    let env = env_of(&[("KIOSK_CONFIG", file.to_str().unwrap())]);
    assert_eq!(
        Config::load(None, &env).unwrap().config.terminal.id,
        "hall-2"
    );
}

#[test]
fn every_setting_has_an_environment_variable_that_wins_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiosk.toml");
    std::fs::write(
        &file,
        "[schedule]\nrestart_at = \"04:00\"\n[stats]\nenabled = true\nupload_url = \"https://c.example/in\"\n",
    )
    .unwrap();
    let env = env_of(&[
        ("KIOSK_SCHEDULE_RESTART_AT", "03:30"),
        ("KIOSK_SCHEDULE_BLANK_FROM", "21:00"),
        ("KIOSK_SCHEDULE_BLANK_UNTIL", "07:00"),
        ("KIOSK_ADMIN_PIN_FILE", "/srv/pin"),
        ("KIOSK_STATS_ENABLED", "off"),
        ("KIOSK_STATS_UPLOAD_URL", ""),
        ("KIOSK_NETWORK_INTERVAL_SECS", "600"),
        ("KIOSK_SCREEN_UTC_OFFSET_MINUTES", "-300"),
        ("KIOSK_BUNDLES_PUBLIC_KEYS", "/k/a.pub; /k/b.pub"),
        ("KIOSK_MOUNT_ROOTS", "/media:/mnt"),
    ]);
    let loaded = Config::load(Some(&file), &env).unwrap();
    let config = &loaded.config;
    assert_eq!(config.schedule.restart_at, "03:30");
    assert_eq!(config.schedule.blank_from, "21:00");
    assert_eq!(config.schedule.blank_until, "07:00");
    assert_eq!(config.admin.pin_file, Path::new("/srv/pin"));
    assert!(!config.stats.enabled);
    assert_eq!(config.stats.upload_url, "", "empty turns the upload off");
    assert_eq!(config.network.interval_secs, 600);
    assert_eq!(config.screen.utc_offset_minutes, -300);
    assert_eq!(config.bundles.public_keys, ["/k/a.pub", "/k/b.pub"]);
    assert_eq!(
        config.bundles.mount_roots,
        [Path::new("/media"), Path::new("/mnt")]
    );
    assert_eq!(loaded.overrides.len(), 10, "{:?}", loaded.overrides);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    // The long name wins over the short one of the first releases.
    let env = env_of(&[
        ("KIOSK_IDLE_TIMEOUT", "120"),
        ("KIOSK_SCREEN_IDLE_TIMEOUT_SECS", "60"),
    ]);
    let loaded = Config::load(Some(&file), &env).unwrap();
    assert_eq!(loaded.config.screen.idle_timeout_secs, 60);
}

#[test]
fn a_variable_that_does_not_fit_its_setting_is_ignored_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiosk.toml");
    std::fs::write(&file, "[screen]\nidle_timeout_secs = 45\n").unwrap();
    let env = env_of(&[
        ("KIOSK_SCREEN_IDLE_TIMEOUT_SECS", "-5"),
        ("KIOSK_SCREEN_FULLSCREEN", "perhaps"),
        ("KIOSK_NETWORK_TIMEOUT_SECS", "ten"),
        ("KIOSK_TERMINAL_ID", ""),
        ("KIOSK_DATA_DIR", ""),
    ]);
    let loaded = Config::load(Some(&file), &env).unwrap();
    assert_eq!(
        loaded.config.screen.idle_timeout_secs, 45,
        "the file's value stays"
    );
    assert!(!loaded.config.screen.fullscreen);
    assert_eq!(loaded.config.network.timeout_secs, 30);
    assert_eq!(
        loaded.config.terminal.id, "terminal-1",
        "empty is as if unset"
    );
    assert_eq!(loaded.config.data_dir, None);
    let warnings = loaded.warnings.join("\n");
    for expected in [
        "KIOSK_SCREEN_IDLE_TIMEOUT_SECS=“-5” is ignored: out of range",
        "KIOSK_SCREEN_FULLSCREEN=“perhaps” is ignored: not true or false",
        "KIOSK_NETWORK_TIMEOUT_SECS=“ten” is ignored: not a whole number",
    ] {
        assert!(
            warnings.contains(expected),
            "no “{expected}” in:\n{warnings}"
        );
    }
    assert_eq!(loaded.warnings.len(), 3, "{warnings}");
}

#[test]
fn the_variables_are_named_after_section_and_key() {
    use kiosk::config::{settings, variable_of};
    let names: Vec<String> = settings()
        .iter()
        .map(|(section, key)| variable_of(section, key))
        .collect();
    for expected in [
        "KIOSK_DATA_DIR",
        "KIOSK_TERMINAL_ID",
        "KIOSK_SCREEN_IDLE_TIMEOUT_SECS",
        "KIOSK_BUNDLES_MOUNT_ROOTS",
        "KIOSK_STATS_UPLOAD_URL",
        "KIOSK_ADMIN_PIN_FILE",
        "KIOSK_SCHEDULE_RESTART_AT",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }
    // Every setting of the annotated example has one.
    let text =
        std::fs::read_to_string(crate::support::repo_root().join("deploy/kiosk.toml")).unwrap();
    let example: toml::Table = text.parse().unwrap();
    let mut in_example = 0;
    for (section, value) in &example {
        match value.as_table() {
            Some(table) => {
                for key in table.keys() {
                    in_example += 1;
                    assert!(
                        names.contains(&variable_of(section, key)),
                        "{section}.{key} has no variable"
                    );
                }
            }
            None => {
                in_example += 1;
                assert!(names.contains(&variable_of("", section)));
            }
        }
    }
    assert_eq!(in_example, names.len(), "{names:?}");
}

#[test]
fn a_broken_or_missing_config_file_is_an_error_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiosk.toml");
    std::fs::write(&file, "data_dir = 3\n").unwrap();
    let err = Config::load(Some(&file), &env_of(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("the config file {} is not valid", file.display())),
        "{err}"
    );

    let missing = dir.path().join("nope.toml");
    let err = Config::load(Some(&missing), &env_of(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "cannot read the config file {}",
            missing.display()
        )),
        "{err}"
    );
}

#[test]
fn the_deploy_example_config_is_valid_and_complete() {
    let text =
        std::fs::read_to_string(crate::support::repo_root().join("deploy/kiosk.toml")).unwrap();
    let (_, warnings) = Config::parse(&text).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn content_comes_from_source_then_installed_then_sample() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = DataDir::new(data.path());
    let sample = resolve_content(None, &data_dir).unwrap();
    assert!(matches!(sample, ContentOrigin::Sample(_)), "{sample:?}");
    assert!(sample.path().ends_with("kiosk-data/sample"));

    let current = data_dir.current_content();
    std::fs::create_dir_all(&current).unwrap();
    std::fs::write(current.join("site.toml"), "id = \"x\"\nname = \"x\"\n").unwrap();
    assert_eq!(
        resolve_content(None, &data_dir).unwrap(),
        ContentOrigin::Installed(current)
    );

    let named = resolve_content(Some(Path::new("/some/source")), &data_dir).unwrap();
    assert_eq!(named, ContentOrigin::Source("/some/source".into()));
}

#[test]
fn data_dir_flag_wins_over_config() {
    let config = Config {
        data_dir: Some("/from/config".into()),
        ..Config::default()
    };
    assert_eq!(
        DataDir::resolve(Some(Path::new("/from/flag")), &config).root(),
        Path::new("/from/flag")
    );
    assert_eq!(
        DataDir::resolve(None, &config).root(),
        Path::new("/from/config")
    );
}

#[test]
fn a_blanking_time_alone_is_not_used_and_the_daily_restart_stays() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiosk.toml");
    std::fs::write(
        &file,
        "[schedule]\nrestart_at = \"04:00\"\nblank_from = \"21:00\"\n",
    )
    .unwrap();
    let loaded = Config::load(Some(&file), &env_of(&[])).unwrap();
    assert_eq!(loaded.config.schedule.restart_at, "04:00");
    assert_eq!(loaded.config.schedule.blank_from, "");
    assert_eq!(loaded.config.schedule.blank_until, "");
    let warnings = loaded.warnings.join("\n");
    assert!(
        warnings.contains("blank_from and blank_until go together")
            && warnings.contains("no blanking"),
        "{warnings}"
    );

    std::fs::write(
        &file,
        "[schedule]\nrestart_at = \"4am\"\nblank_from = \"21:00\"\nblank_until = \"07:00\"\n",
    )
    .unwrap();
    let loaded = Config::load(Some(&file), &env_of(&[])).unwrap();
    assert_eq!(loaded.config.schedule.restart_at, "");
    assert_eq!(loaded.config.schedule.blank_from, "21:00");
    assert_eq!(loaded.config.schedule.blank_until, "07:00");
}
