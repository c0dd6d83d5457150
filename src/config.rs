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
    /// Keys that sign only key notes (docs/bundles.md, "When a key leaks"): the office's
    /// recovery key, kept offline. A key line or a `.pub` file, as above; never a key that signs
    /// bundles.
    pub recovery_keys: Vec<String>,
    /// Only bundles of this site id; empty: the site of the installed content.
    pub site: String,
    /// Where USB sticks are mounted; the kiosk looks for `*.kbundle` files on them.
    pub mount_roots: Vec<PathBuf>,
}

impl Default for BundlesConfig {
    fn default() -> BundlesConfig {
        BundlesConfig {
            public_keys: Vec::new(),
            recovery_keys: Vec::new(),
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

impl ConfigError {
    /// The config file concerned.
    pub fn path(&self) -> &Path {
        match self {
            ConfigError::Read { path, .. } | ConfigError::Invalid { path, .. } => path,
        }
    }
}

/// A loaded configuration, with where it came from and what was odd about it.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// The settings that environment variables set.
    pub overrides: Vec<Override>,
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
        let (overrides, warnings) = loaded.config.apply_env(env);
        loaded.overrides = overrides;
        loaded.warnings.extend(warnings);
        // What `kiosk config check` rejects is not used: the default takes its place.
        loaded.warnings.extend(loaded.config.repair());
        Ok(loaded)
    }

    /// Every value the program would not use, as (section, key, why): the one set of rules of
    /// both `kiosk config check` (where each is an error) and the running program (which uses
    /// the default instead, see [`Config::repair`]).
    pub fn invalid(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut out = Vec::new();
        let mut range = |section, key, value: i64, lo: i64, hi: i64, unit: &str| {
            if !(lo..=hi).contains(&value) {
                out.push((
                    section,
                    key,
                    format!("{value} is outside {lo} to {hi}{unit}"),
                ));
            }
        };
        let screen = &self.screen;
        range(
            "screen",
            "idle_timeout_secs",
            screen.idle_timeout_secs.into(),
            10,
            3600,
            " seconds",
        );
        range(
            "screen",
            "idle_countdown_secs",
            screen.idle_countdown_secs.into(),
            3,
            120,
            " seconds",
        );
        range(
            "screen",
            "utc_offset_minutes",
            screen.utc_offset_minutes.into(),
            -720,
            840,
            " minutes (China: 480)",
        );
        let network = &self.network;
        range(
            "network",
            "interval_secs",
            clamp_i64(network.interval_secs),
            10,
            7 * 86_400,
            " seconds",
        );
        range(
            "network",
            "jitter_secs",
            clamp_i64(network.jitter_secs),
            0,
            86_400,
            " seconds",
        );
        range(
            "network",
            "timeout_secs",
            clamp_i64(network.timeout_secs),
            1,
            600,
            " seconds",
        );
        let stats = &self.stats;
        range(
            "stats",
            "retention_days",
            stats.retention_days.into(),
            1,
            3650,
            " days",
        );
        range(
            "stats",
            "max_events",
            clamp_i64(stats.max_events),
            1_000,
            100_000_000,
            " events",
        );
        range(
            "stats",
            "upload_interval_secs",
            clamp_i64(stats.upload_interval_secs),
            10,
            86_400,
            " seconds",
        );
        range(
            "stats",
            "upload_timeout_secs",
            clamp_i64(stats.upload_timeout_secs),
            1,
            600,
            " seconds",
        );
        if !["zh", "en"].contains(&screen.language.as_str()) {
            out.push((
                "screen",
                "language",
                format!("“{}” is not zh or en", screen.language),
            ));
        }
        let id = &self.terminal.id;
        if id.trim().is_empty() || id.contains(char::is_whitespace) || id.chars().count() > 64 {
            out.push((
                "terminal",
                "id",
                "must be a name without spaces, at most 64 characters, unique in the hall".into(),
            ));
        }
        for (key, value) in [
            ("blank_from", &self.schedule.blank_from),
            ("blank_until", &self.schedule.blank_until),
            ("restart_at", &self.schedule.restart_at),
        ] {
            if !value.trim().is_empty() && crate::schedule::parse_hhmm(value).is_none() {
                out.push((
                    "schedule",
                    key,
                    format!("“{value}” is not a time like 07:30"),
                ));
            }
        }
        if self.schedule.blank_from.trim().is_empty() != self.schedule.blank_until.trim().is_empty()
        {
            out.push((
                "schedule",
                "blank_from",
                "blank_from and blank_until go together".into(),
            ));
        }
        for (section, key, value) in [
            ("network", "channel_url", &self.network.channel_url),
            ("stats", "upload_url", &self.stats.upload_url),
        ] {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let ok = url::Url::parse(value)
                .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host());
            if !ok {
                out.push((
                    section,
                    key,
                    format!(
                        "“{}” is not an http(s) URL",
                        crate::urlpolicy::redact(value)
                    ),
                ));
            }
        }
        out
    }

    /// Puts the default in place of every value [`Config::invalid`] names; says what it did.
    pub fn repair(&mut self) -> Vec<String> {
        let defaults = Config::default();
        let mut said = Vec::new();
        for (section, key, why) in self.invalid() {
            let shown = match (section, key) {
                ("screen", "idle_timeout_secs") => {
                    self.screen.idle_timeout_secs = defaults.screen.idle_timeout_secs;
                    self.screen.idle_timeout_secs.to_string()
                }
                ("screen", "idle_countdown_secs") => {
                    self.screen.idle_countdown_secs = defaults.screen.idle_countdown_secs;
                    self.screen.idle_countdown_secs.to_string()
                }
                ("screen", "utc_offset_minutes") => {
                    self.screen.utc_offset_minutes = defaults.screen.utc_offset_minutes;
                    self.screen.utc_offset_minutes.to_string()
                }
                ("screen", "language") => {
                    self.screen.language = defaults.screen.language.clone();
                    self.screen.language.clone()
                }
                ("network", "interval_secs") => {
                    self.network.interval_secs = defaults.network.interval_secs;
                    self.network.interval_secs.to_string()
                }
                ("network", "jitter_secs") => {
                    self.network.jitter_secs = defaults.network.jitter_secs;
                    self.network.jitter_secs.to_string()
                }
                ("network", "timeout_secs") => {
                    self.network.timeout_secs = defaults.network.timeout_secs;
                    self.network.timeout_secs.to_string()
                }
                ("stats", "retention_days") => {
                    self.stats.retention_days = defaults.stats.retention_days;
                    self.stats.retention_days.to_string()
                }
                ("stats", "max_events") => {
                    self.stats.max_events = defaults.stats.max_events;
                    self.stats.max_events.to_string()
                }
                ("stats", "upload_interval_secs") => {
                    self.stats.upload_interval_secs = defaults.stats.upload_interval_secs;
                    self.stats.upload_interval_secs.to_string()
                }
                ("stats", "upload_timeout_secs") => {
                    self.stats.upload_timeout_secs = defaults.stats.upload_timeout_secs;
                    self.stats.upload_timeout_secs.to_string()
                }
                ("terminal", "id") => {
                    self.terminal.id = defaults.terminal.id.clone();
                    self.terminal.id.clone()
                }
                ("schedule", "restart_at") => {
                    self.schedule.restart_at.clear();
                    "no daily restart".into()
                }
                ("schedule", _) => {
                    // Blanking needs both ends: one alone, or one that is not a time, turns it off.
                    self.schedule.blank_from.clear();
                    self.schedule.blank_until.clear();
                    "no blanking".into()
                }
                ("network", "channel_url") => {
                    self.network.channel_url.clear();
                    "no network updates".into()
                }
                ("stats", "upload_url") => {
                    self.stats.upload_url.clear();
                    "no upload".into()
                }
                _ => continue,
            };
            said.push(format!(
                "{section}.{key}: {why}; it is not used ({shown} instead); `kiosk config check` says more"
            ));
        }
        said
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

    /// Sets every setting that has an environment variable (see [`variable_of`]). Returns the
    /// settings set, and a warning for each variable whose value was not used.
    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> (Vec<Override>, Vec<String>) {
        let mut overrides = Vec::new();
        let mut warnings = Vec::new();
        let Ok(mut table) = toml::Table::try_from(&*self) else {
            return (overrides, warnings); // cannot happen: every field serializes
        };
        for (section, key) in settings() {
            let canonical = variable_of(section, key);
            let alias = ALIASES
                .iter()
                .find(|(_, s, k)| *s == section && *k == key)
                .map(|(variable, _, _)| variable.to_string());
            // The long name wins over the short one.
            let Some((variable, raw)) = [Some(canonical), alias]
                .into_iter()
                .flatten()
                .find_map(|variable| env(&variable).map(|raw| (variable, raw)))
            else {
                continue;
            };
            let slot = if section.is_empty() {
                &mut table
            } else {
                match table.get_mut(section).and_then(toml::Value::as_table_mut) {
                    Some(slot) => slot,
                    None => continue,
                }
            };
            let value = match env_value(key, slot.get(key), &raw) {
                Ok(Some(value)) => value,
                Ok(None) => continue, // empty: as if unset
                Err(why) => {
                    warnings.push(format!("{variable}=“{raw}” is ignored: {why}"));
                    continue;
                }
            };
            let before = slot.insert(key.to_owned(), value);
            // The value must also fit the setting's type (a negative number of seconds ...).
            match toml::Value::Table(table.clone()).try_into::<Config>() {
                Ok(_) => overrides.push(Override {
                    variable,
                    section,
                    key,
                }),
                Err(err) => {
                    let slot = if section.is_empty() {
                        &mut table
                    } else {
                        table[section].as_table_mut().expect("checked above")
                    };
                    match before {
                        Some(before) => slot.insert(key.to_owned(), before),
                        None => slot.remove(key),
                    };
                    let why = match raw.trim().parse::<i64>() {
                        Ok(_) => "out of range for this setting".to_owned(),
                        Err(_) => err.message().trim().to_owned(),
                    };
                    warnings.push(format!("{variable}=“{raw}” is ignored: {why}"));
                }
            }
        }
        if let Ok(config) = toml::Value::Table(table).try_into::<Config>() {
            *self = config;
        }
        (overrides, warnings)
    }
}

/// A setting taken from an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub variable: String,
    /// `""` for a top-level setting (`data_dir`).
    pub section: &'static str,
    pub key: &'static str,
}

/// Short names of a few settings, kept from the first releases: (variable, section, key).
/// The long name ([`variable_of`]) wins when both are set.
pub const ALIASES: &[(&str, &str, &str)] = &[
    ("KIOSK_FULLSCREEN", "screen", "fullscreen"),
    ("KIOSK_IDLE_TIMEOUT", "screen", "idle_timeout_secs"),
    ("KIOSK_LANGUAGE", "screen", "language"),
    ("KIOSK_CHANNEL_URL", "network", "channel_url"),
    ("KIOSK_PUBLIC_KEYS", "bundles", "public_keys"),
    ("KIOSK_MOUNT_ROOTS", "bundles", "mount_roots"),
];

/// `KIOSK_*` variables that are not settings but are read all the same.
pub const OTHER_VARIABLES: &[&str] = &[
    "KIOSK_CONFIG",     // the config file
    "KIOSK_LOG",        // the log filter
    "KIOSK_SAMPLE_DIR", // where the built-in sample hall is
    "KIOSK_FAILPOINT",  // tests of the installer stop it at a step
];

/// Settings that an empty variable does not clear (it is ignored instead): a terminal always
/// has a data directory, an id, a language and a PIN file.
const NEVER_EMPTY: &[&str] = &["data_dir", "id", "language", "pin_file"];

/// Every setting as (section, key), sorted by section and key; `("", "data_dir")` first.
pub fn settings() -> Vec<(&'static str, &'static str)> {
    // The names come from the types themselves, so a new setting has its variable at once.
    fn names(value: &toml::Value) -> Vec<String> {
        value
            .as_table()
            .map(|table| table.keys().cloned().collect())
            .unwrap_or_default()
    }
    static SETTINGS: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    SETTINGS
        .get_or_init(|| {
            let defaults = toml::Value::try_from(Config::default())
                .unwrap_or(toml::Value::Table(Default::default()));
            let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
            let mut all = vec![("", "data_dir")];
            for section in names(&defaults) {
                if let Some(table) = defaults.get(&section).filter(|v| v.is_table()) {
                    let section = leak(section);
                    all.extend(names(table).into_iter().map(|key| (section, leak(key))));
                }
            }
            all
        })
        .clone()
}

/// The environment variable of a setting: `[screen] idle_timeout_secs` is
/// `KIOSK_SCREEN_IDLE_TIMEOUT_SECS`, `data_dir` is `KIOSK_DATA_DIR`.
pub fn variable_of(section: &str, key: &str) -> String {
    let name = if section.is_empty() {
        key.to_owned()
    } else {
        format!("{section}_{key}")
    };
    format!("KIOSK_{}", name.to_ascii_uppercase())
}

/// A variable's text as a value of the same kind as `current`: `Ok(None)` when empty and the
/// setting is not one that empty turns off.
fn env_value(
    key: &str,
    current: Option<&toml::Value>,
    raw: &str,
) -> Result<Option<toml::Value>, String> {
    let text = raw.trim();
    match current {
        Some(toml::Value::Boolean(_)) => match text.to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "1" | "true" | "yes" | "on" => Ok(Some(toml::Value::Boolean(true))),
            "0" | "false" | "no" | "off" => Ok(Some(toml::Value::Boolean(false))),
            _ => Err("not true or false (1/0, yes/no, on/off work too)".into()),
        },
        Some(toml::Value::Integer(_)) if text.is_empty() => Ok(None),
        Some(toml::Value::Integer(_)) => text
            .parse::<i64>()
            .map(|n| Some(toml::Value::Integer(n)))
            .map_err(|_| "not a whole number".into()),
        Some(toml::Value::Array(_)) => {
            // A list: entries separated by `;`; paths (mount roots) by `:` too, as in PATH.
            let separators: &[char] = if key.ends_with("roots") {
                &[';', ':']
            } else {
                &[';']
            };
            let entries: Vec<toml::Value> = text
                .split(separators)
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(|entry| toml::Value::String(entry.to_owned()))
                .collect();
            Ok((!entries.is_empty()).then_some(toml::Value::Array(entries)))
        }
        // Strings and paths (and data_dir, absent when unset); empty turns off a string
        // setting such as upload_url, but never clears those that must have a value.
        _ if text.is_empty() && (NEVER_EMPTY.contains(&key) || current.is_none()) => Ok(None),
        _ => Ok(Some(toml::Value::String(raw.to_owned()))),
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

    /// The pinned recovery keys, read.
    pub fn recovery_keys(
        &self,
    ) -> Result<Vec<crate::bundle::PublicKey>, crate::bundle::BundleError> {
        self.bundles
            .recovery_keys
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

fn clamp_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// One finding of `kiosk config check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The line of the file, when the finding is about one.
    pub line: Option<usize>,
    /// The environment variable, when the finding is about one (its value replaced the file's).
    pub variable: Option<String>,
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
    check_with_env(text, &[])
}

/// [`check`] of the settings in effect: the file's, then those of the `KIOSK_*` variables in
/// `vars` (name, value), which are checked too, and named where they replace the file's. A
/// `KIOSK_*` variable that is nothing the kiosk reads is reported.
pub fn check_with_env(text: &str, vars: &[(String, String)]) -> Vec<Finding> {
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
                variable: None,
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
    let mut config = config;
    for warning in warnings {
        let key = warning.split('`').nth(1).unwrap_or("");
        let (section, name) = key.rsplit_once('.').unwrap_or(("", key));
        findings.push(Finding {
            line: line_of(text, section, name),
            variable: None,
            error: false,
            message: warning.clone(),
        });
    }
    let env = |name: &str| {
        vars.iter()
            .find(|(variable, _)| variable == name)
            .map(|(_, value)| value.clone())
    };
    let (overrides, env_warnings) = config.apply_env(&env);
    for warning in env_warnings {
        findings.push(Finding {
            line: None,
            variable: warning.split('=').next().map(str::to_owned),
            error: true,
            message: warning,
        });
    }
    for (variable, _) in vars {
        let known = settings()
            .iter()
            .any(|(section, key)| variable_of(section, key) == *variable)
            || ALIASES.iter().any(|(alias, _, _)| alias == variable)
            || OTHER_VARIABLES.contains(&variable.as_str());
        if variable.starts_with("KIOSK_") && !known {
            findings.push(Finding {
                line: None,
                variable: Some(variable.clone()),
                error: false,
                message: format!(
                    "{variable} is not a setting and is ignored (`kiosk config check --help` lists the variables)"
                ),
            });
        }
    }
    let mut say = |section: &str, key: &str, error: bool, message: String| {
        let from_env = overrides
            .iter()
            .find(|o| o.section == section && o.key == key);
        findings.push(Finding {
            line: from_env
                .is_none()
                .then(|| line_of(text, section, key))
                .flatten(),
            variable: from_env.map(|o| o.variable.clone()),
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
    for (section, key, why) in config.invalid() {
        say(section, key, true, why);
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
    for entry in &config.bundles.recovery_keys {
        match crate::bundle::PublicKey::from_config_entry(entry) {
            Err(err) => say("bundles", "recovery_keys", true, err.to_string()),
            Ok(key)
                if config.bundles.public_keys.iter().any(|p| {
                    crate::bundle::PublicKey::from_config_entry(p)
                        .is_ok_and(|p| p.id() == key.id())
                }) =>
            {
                say(
                    "bundles",
                    "recovery_keys",
                    true,
                    format!("key {} is also in public_keys: a recovery key must sign key notes only, or a leak of it could not be recovered from", key.id()),
                )
            }
            Ok(_) => {}
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
        if url::Url::parse(value.trim()).is_ok_and(|url| url.scheme() == "http") {
            say(
                section,
                key,
                false,
                "plain http: use https outside a closed network".into(),
            );
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
