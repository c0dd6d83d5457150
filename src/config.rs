//! Configuration in layers: built-in defaults, then a TOML file, then `KIOSK_*` environment
//! variables (command-line flags win over all of them, in `main`).
//!
//! The annotated example is `deploy/kiosk.toml`. Unknown keys are reported, not fatal, so an
//! older binary still starts with a newer file.

use std::path::{Path, PathBuf};

/// Where the config file is looked for when neither `--config` nor `KIOSK_CONFIG` names one.
pub const SYSTEM_CONFIG: &str = "/etc/kiosk/kiosk.toml";

/// The settings of a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct Config {
    /// Where installed content, the search index and statistics live.
    pub data_dir: Option<PathBuf>,
    pub terminal: TerminalConfig,
    pub screen: ScreenConfig,
    pub bundles: BundlesConfig,
    pub network: NetworkConfig,
    pub stats: StatsConfig,
    pub admin: AdminConfig,
    pub schedule: ScheduleConfig,
}

/// The admin mode on the terminal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct AdminConfig {
    /// The file holding the Argon2 hash of the admin PIN (`kiosk admin set-pin` writes it).
    /// No file: admin mode cannot be opened.
    pub pin_file: PathBuf,
}

impl Default for AdminConfig {
    fn default() -> AdminConfig {
        AdminConfig {
            pin_file: PathBuf::from("/etc/kiosk/admin-pin"),
        }
    }
}

/// What the terminal does by the clock (the hall's local time, `HH:MM`; empty: never).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ScheduleConfig {
    /// The screen goes dark from this time...
    pub blank_from: String,
    /// ...until this time (a touch lights it for a minute meanwhile).
    pub blank_until: String,
    /// The kiosk restarts once a day at this time, when nobody is using it (systemd starts it
    /// again), so a long-running process starts fresh.
    pub restart_at: String,
}

/// Usage statistics: how long they are kept, where they are reported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct StatsConfig {
    /// Record usage events at all.
    pub enabled: bool,
    /// Events older than this many days are deleted.
    pub retention_days: u32,
    /// At most this many events are kept (the oldest go first).
    pub max_events: u64,
    /// Where to write the Prometheus text file for node_exporter's textfile collector
    /// (e.g. /var/lib/prometheus/node-exporter/kiosk.prom); empty: none.
    pub prometheus_file: String,
    /// An HTTPS endpoint that receives batches of events as gzip JSON lines; empty: no upload.
    pub upload_url: String,
    /// Seconds between uploads (after a failure the wait doubles, up to six times this).
    pub upload_interval_secs: u64,
    /// Seconds an upload may take.
    pub upload_timeout_secs: u64,
}

impl Default for StatsConfig {
    fn default() -> StatsConfig {
        StatsConfig {
            enabled: true,
            retention_days: 400,
            max_events: 5_000_000,
            prometheus_file: String::new(),
            upload_url: String::new(),
            upload_interval_secs: 300,
            upload_timeout_secs: 30,
        }
    }
}

/// Where content bundles come from and whom they must be signed by.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct BundlesConfig {
    /// The keys a bundle may be signed with: a public key line (`kiosk-public-key ed25519 …`)
    /// or the path of a `.pub` file. Pin two: the one in use and a spare kept offline.
    pub public_keys: Vec<String>,
    /// Only bundles of this site id; empty: the site of the installed content.
    pub site: String,
    /// Where USB sticks are mounted; the kiosk looks for `*.kbundle` files on them.
    pub mount_roots: Vec<PathBuf>,
}

impl Default for BundlesConfig {
    fn default() -> BundlesConfig {
        BundlesConfig {
            public_keys: Vec::new(),
            site: String::new(),
            mount_roots: vec![PathBuf::from("/media"), PathBuf::from("/run/media")],
        }
    }
}

/// Optional updates over the network from a channel file on a web server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct NetworkConfig {
    /// The channel file's URL (https://…/channel.txt); empty: no network updates.
    pub channel_url: String,
    /// Seconds between two polls.
    pub interval_secs: u64,
    /// Up to this many seconds are added at random to each wait, so a fleet does not poll at once.
    pub jitter_secs: u64,
    /// Seconds a connection or a silent download may take before it is given up.
    pub timeout_secs: u64,
}

impl Default for NetworkConfig {
    fn default() -> NetworkConfig {
        NetworkConfig {
            channel_url: String::new(),
            interval_secs: 900,
            jitter_secs: 120,
            timeout_secs: 30,
        }
    }
}

/// How the kiosk screen behaves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ScreenConfig {
    /// Fill the screen, without window decorations (the real terminal).
    pub fullscreen: bool,
    /// Seconds without a touch before the countdown to the home screen starts.
    pub idle_timeout_secs: u32,
    /// Seconds the countdown lasts.
    pub idle_countdown_secs: u32,
    /// `zh` (default) or `en`: the language the screen starts in and returns to.
    pub language: String,
    /// The hall's offset from UTC in minutes, for the clock (China Standard Time is 480).
    pub utc_offset_minutes: i32,
}

impl Default for ScreenConfig {
    fn default() -> ScreenConfig {
        ScreenConfig {
            fullscreen: false,
            idle_timeout_secs: 90,
            idle_countdown_secs: 10,
            language: "zh".into(),
            utc_offset_minutes: 480,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct TerminalConfig {
    /// Names this terminal in statistics and reports.
    pub id: String,
}

impl Default for TerminalConfig {
    fn default() -> TerminalConfig {
        TerminalConfig {
            id: "terminal-1".into(),
        }
    }
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A loaded configuration, with where it came from and what was odd about it.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    pub warnings: Vec<String>,
}

impl Config {
    /// Loads the configuration. `explicit` is the `--config` flag; `env` reads environment
    /// variables (injected so tests need not touch the process environment).
    pub fn load(
        explicit: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<LoadedConfig, ConfigError> {
        let explicit = explicit
            .map(Path::to_path_buf)
            .or_else(|| env("KIOSK_CONFIG").map(PathBuf::from));
        let file = match explicit {
            Some(path) => Some(path),
            None => default_config_paths(env)
                .into_iter()
                .find(|path| path.is_file()),
        };
        let mut loaded = LoadedConfig::default();
        if let Some(path) = &file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let (config, warnings) =
                Config::parse(&text).map_err(|message| ConfigError::Invalid {
                    path: path.clone(),
                    message,
                })?;
            loaded.config = config;
            loaded.warnings = warnings;
        }
        loaded.file = file;
        loaded.config.apply_env(env);
        Ok(loaded)
    }

    /// Parses a config file's text: the config and warnings for keys it does not know.
    pub fn parse(text: &str) -> Result<(Config, Vec<String>), String> {
        let mut unknown = Vec::new();
        let deserializer = toml::Deserializer::parse(text).map_err(|err| err.to_string())?;
        let config: Config =
            serde_ignored::deserialize(deserializer, |path| unknown.push(path.to_string()))
                .map_err(|err: toml::de::Error| err.to_string())?;
        let warnings = unknown
            .into_iter()
            .map(|key| format!("unknown setting `{key}` is ignored"))
            .collect();
        Ok((config, warnings))
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) {
        if let Some(dir) = env("KIOSK_DATA_DIR").filter(|v| !v.is_empty()) {
            self.data_dir = Some(PathBuf::from(dir));
        }
        if let Some(id) = env("KIOSK_TERMINAL_ID").filter(|v| !v.is_empty()) {
            self.terminal.id = id;
        }
        if let Some(value) = env("KIOSK_FULLSCREEN") {
            self.screen.fullscreen = matches!(value.as_str(), "1" | "true" | "yes");
        }
        if let Some(secs) = env("KIOSK_IDLE_TIMEOUT").and_then(|v| v.parse().ok()) {
            self.screen.idle_timeout_secs = secs;
        }
        if let Some(language) = env("KIOSK_LANGUAGE").filter(|v| !v.is_empty()) {
            self.screen.language = language;
        }
        if let Some(url) = env("KIOSK_STATS_UPLOAD_URL") {
            self.stats.upload_url = url;
        }
        if let Some(url) = env("KIOSK_CHANNEL_URL") {
            self.network.channel_url = url;
        }
        if let Some(keys) = env("KIOSK_PUBLIC_KEYS").filter(|v| !v.is_empty()) {
            self.bundles.public_keys = keys.split(';').map(|k| k.trim().to_owned()).collect();
        }
        if let Some(roots) = env("KIOSK_MOUNT_ROOTS").filter(|v| !v.is_empty()) {
            self.bundles.mount_roots = std::env::split_paths(&roots).collect();
        }
    }
}

impl Config {
    /// The pinned public keys, read (key files are read now).
    pub fn trusted_keys(
        &self,
    ) -> Result<Vec<crate::bundle::PublicKey>, crate::bundle::BundleError> {
        self.bundles
            .public_keys
            .iter()
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| crate::bundle::PublicKey::from_config_entry(entry))
            .collect()
    }

    /// The pinned site, if any.
    pub fn pinned_site(&self) -> Option<&str> {
        Some(self.bundles.site.as_str()).filter(|s| !s.is_empty())
    }
}

fn default_config_paths(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from(SYSTEM_CONFIG)];
    let user_config = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".config")));
    if let Some(dir) = user_config {
        paths.push(dir.join("kiosk").join("kiosk.toml"));
    }
    paths
}

/// One finding of `kiosk config check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub line: Option<usize>,
    pub error: bool,
    pub message: String,
}

/// The line (1-based) where `key` is set in `[section]` (`""`: the top level).
fn line_of(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            current = name.trim().to_owned();
            continue;
        }
        if current == section {
            if let Some((k, _)) = trimmed.split_once('=') {
                if k.trim() == key {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

/// Checks a config file's text: syntax, types, unknown keys, and every value that would not
/// work (bad times, keys that cannot be read, addresses that are not URLs, ...). Files the
/// settings name are looked at too.
pub fn check(text: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let (config, warnings) = match Config::parse(text) {
        Ok(parsed) => parsed,
        Err(message) => {
            // toml's message names the line itself ("TOML parse error at line 3, column 9").
            let line = message
                .split("line ")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok());
            findings.push(Finding {
                line,
                error: true,
                message: message
                    .lines()
                    .map(str::trim)
                    .filter(|l| {
                        !l.is_empty() && !l.contains('|') && !l.starts_with("TOML parse error")
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            });
            return findings;
        }
    };
    for warning in warnings {
        let key = warning.split('`').nth(1).unwrap_or("");
        let (section, name) = key.rsplit_once('.').unwrap_or(("", key));
        findings.push(Finding {
            line: line_of(text, section, name),
            error: false,
            message: warning.clone(),
        });
    }
    let mut say = |section: &str, key: &str, error: bool, message: String| {
        findings.push(Finding {
            line: line_of(text, section, key),
            error,
            message: format!(
                "{}{key}: {message}",
                if section.is_empty() {
                    String::new()
                } else {
                    format!("{section}.")
                }
            ),
        });
    };
    if config.terminal.id.trim().is_empty() || config.terminal.id.contains(char::is_whitespace) {
        say(
            "terminal",
            "id",
            true,
            "must be a name without spaces, unique in the hall".into(),
        );
    }
    if !["zh", "en"].contains(&config.screen.language.as_str()) {
        say(
            "screen",
            "language",
            true,
            format!("“{}” is not zh or en", config.screen.language),
        );
    }
    if config.screen.idle_timeout_secs < 10 {
        say(
            "screen",
            "idle_timeout_secs",
            true,
            "must be at least 10 seconds".into(),
        );
    }
    if !(-720..=840).contains(&config.screen.utc_offset_minutes) {
        say(
            "screen",
            "utc_offset_minutes",
            true,
            "must be between -720 and 840 (China: 480)".into(),
        );
    }
    if config
        .bundles
        .public_keys
        .iter()
        .all(|k| k.trim().is_empty())
    {
        say(
            "bundles",
            "public_keys",
            false,
            "no key is pinned, so no bundle can be installed".into(),
        );
    }
    for entry in &config.bundles.public_keys {
        if let Err(err) = crate::bundle::PublicKey::from_config_entry(entry) {
            say("bundles", "public_keys", true, err.to_string());
        }
    }
    if config.bundles.public_keys.len() > 2 {
        say(
            "bundles",
            "public_keys",
            false,
            "more than two keys are pinned; pin the key in use and one spare".into(),
        );
    }
    for root in &config.bundles.mount_roots {
        if !root.is_dir() {
            say(
                "bundles",
                "mount_roots",
                false,
                format!("{} does not exist (yet)", root.display()),
            );
        }
    }
    for (section, key, value) in [
        ("network", "channel_url", &config.network.channel_url),
        ("stats", "upload_url", &config.stats.upload_url),
    ] {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match url::Url::parse(value) {
            Ok(url) if url.scheme() == "https" => {}
            Ok(url) if url.scheme() == "http" => say(
                section,
                key,
                false,
                "plain http: use https outside a closed network".into(),
            ),
            _ => say(
                section,
                key,
                true,
                format!("“{value}” is not an http(s) URL"),
            ),
        }
    }
    if config.network.interval_secs < 60 && !config.network.channel_url.trim().is_empty() {
        say(
            "network",
            "interval_secs",
            false,
            "polling more often than once a minute burdens the server".into(),
        );
    }
    if !config.admin.pin_file.is_file() {
        say(
            "admin",
            "pin_file",
            false,
            format!("{} does not exist: admin mode cannot be opened until `kiosk admin set-pin` sets a PIN", config.admin.pin_file.display()),
        );
    }
    for key in ["blank_from", "blank_until", "restart_at"] {
        let value = match key {
            "blank_from" => &config.schedule.blank_from,
            "blank_until" => &config.schedule.blank_until,
            _ => &config.schedule.restart_at,
        };
        if !value.trim().is_empty() && crate::schedule::parse_hhmm(value).is_none() {
            say(
                "schedule",
                key,
                true,
                format!("“{value}” is not a time like 07:30"),
            );
        }
    }
    if config.schedule.blank_from.trim().is_empty() != config.schedule.blank_until.trim().is_empty()
    {
        say(
            "schedule",
            "blank_from",
            true,
            "blank_from and blank_until go together".into(),
        );
    }
    if let Some(dir) = &config.data_dir {
        if !dir.is_dir() {
            say(
                "",
                "data_dir",
                false,
                format!("{} does not exist (yet)", dir.display()),
            );
        }
    }
    if !config.stats.prometheus_file.trim().is_empty() {
        let file = Path::new(config.stats.prometheus_file.trim());
        if !file.parent().is_some_and(|d| d.is_dir()) {
            say(
                "stats",
                "prometheus_file",
                false,
                "its folder does not exist".into(),
            );
        }
    }
    findings.sort_by_key(|f| f.line.unwrap_or(0));
    findings
}
