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
