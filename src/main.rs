//! The `kiosk` command: parses the command line and calls into the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiosk::config::Config;
use kiosk::content::ItemKind;
use kiosk::datadir::{resolve_content, ContentOrigin, DataDir};
use kiosk::search::{SearchError, SearchIndex, SearchRequest, Sort};
use kiosk::source::{self, Loaded};
use kiosk::ui::KioskOptions;
use std::io::Write;

const EXIT_CODES: &str = "\
Exit codes:
  0  success (for `check`: no errors; warnings are allowed)
  1  `check` found errors in the content
  2  the command line is wrong
  3  the content, an item or the data directory was not found or cannot be read
  4  the config file cannot be read or is not valid
  5  the screen cannot be shown (no display, or the window system refused)
  6  a bundle was refused (bad signature, damaged, not newer, another site, ...)
  7  the network failed (the channel or bundle could not be fetched; try again later)";

#[derive(Parser)]
#[command(
    name = "kiosk",
    version,
    about = "Self-service information terminal for a government service hall (信息公开查阅点)",
    long_about = "Self-service information terminal for a government service hall (信息公开查阅点).\n\
                  With no command it opens the kiosk screen (`kiosk run`).",
    after_help = EXIT_CODES,
)]
struct Cli {
    /// Config file [default: $KIOSK_CONFIG, /etc/kiosk/kiosk.toml, ~/.config/kiosk/kiosk.toml]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory with installed content, index and statistics
    /// [default: $KIOSK_DATA_DIR, the config's data_dir, ~/.local/share/kiosk]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the kiosk screen (the default): the installed content, else the sample hall
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// Render a screen into a PNG without a display
    #[command(after_help = EXIT_CODES)]
    Screenshot(ScreenshotArgs),
    /// Validate a content source and list every problem with file and line
    #[command(after_help = EXIT_CODES)]
    Check {
        /// The content source directory (site.toml, columns.toml, items/)
        src: PathBuf,
    },
    /// Print one item readably
    #[command(after_help = EXIT_CODES)]
    Show {
        /// Content source directory [default: the installed content, else the sample hall]
        #[arg(long, value_name = "DIR")]
        source: Option<PathBuf>,
        /// The item's id
        id: String,
    },
    /// Print the column tree with item counts
    #[command(after_help = EXIT_CODES)]
    Columns {
        /// Content source directory [default: the installed content, else the sample hall]
        #[arg(long, value_name = "DIR")]
        source: Option<PathBuf>,
    },
    /// Search the content (Chinese, pinyin, initials, plain language); the index is built on
    /// first use and kept in the data directory
    #[command(after_help = EXIT_CODES)]
    Search(SearchArgs),
    /// Content bundles: make signing keys, build, verify, install, roll back (docs/bundles.md)
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// The config file: check it
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Admin mode: set the PIN, read the log of admin actions
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Usage statistics: reports, export, upload, monitoring
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Measure the search engine against SQLite FTS5 on a synthetic corpus (see docs/performance.md)
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Make a content source from the office's website (docs/import.md); here --config names
    /// the import config, not the terminal's
    #[command(subcommand)]
    Import(ImportCommand),
    /// The office's unattended update (cron or kiosk-publish.timer): import the website and the
    /// guide sheets, check, and when all is well sign the next bundle into the web root with
    /// its channel.txt (docs/import.md); --config names the import config
    #[command(after_help = PUBLISH_EXIT_CODES)]
    Publish {
        /// Print the report as one JSON object
        #[arg(long)]
        json: bool,
    },
}

const PUBLISH_EXIT_CODES: &str = "\
Exit codes:
  0  published, or nothing changed since the last publish
  1  refused: the content has errors, too many pages failed or too many items would vanish
     (the report says which); nothing was published and the content source is as it was
  2  the command line or the config is wrong
  3  a file cannot be read or written (the source, the key, the web root)
  4  the config file cannot be read";

#[derive(Subcommand)]
enum ImportCommand {
    /// Crawl the office's website (or read a `wget --mirror` copy of it) into a content source;
    /// importing into an existing source updates it and says what changed
    #[command(after_help = IMPORT_EXIT_CODES)]
    Web {
        /// A start page to crawl (repeat for more)
        #[arg(long = "url", value_name = "URL")]
        urls: Vec<String>,
        /// A sitemap.xml whose pages are crawled too (repeat for more)
        #[arg(long = "sitemap", value_name = "URL")]
        sitemaps: Vec<String>,
        /// A `wget --mirror` folder (DIR/HOST/PATH) to read instead of crawling
        #[arg(long, value_name = "DIR", conflicts_with_all = ["urls", "sitemaps"])]
        mirror: Option<PathBuf>,
        /// The content source to write, or to update
        #[arg(short = 'o', long = "out", value_name = "SRC")]
        out: PathBuf,
        /// Print the report as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Take one saved page apart as `import web` would, to try a profile: which profile,
    /// whether it is an article, every field, the body's start, attachments and links
    #[command(after_help = IMPORT_EXIT_CODES)]
    Page {
        /// The page as saved from the website (bytes as served; its meta charset decides)
        file: PathBuf,
        /// The page's address (for its links, and a date in the address)
        #[arg(
            long,
            value_name = "URL",
            default_value = "https://www.example.gov.cn/page.html"
        )]
        url: String,
        /// Print what was found as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Service guides from a spreadsheet (xlsx, or csv in UTF-8 or GBK): one row a guide,
    /// materials on a second sheet or one a line in a cell
    #[command(after_help = IMPORT_EXIT_CODES)]
    Sheet {
        /// The spreadsheet
        file: PathBuf,
        /// A mapping file: sheets, header names, the column (docs/import.md)
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// The content source to write, or to update
        #[arg(short = 'o', long = "out", value_name = "SRC")]
        out: PathBuf,
        /// Print the report as one JSON object
        #[arg(long)]
        json: bool,
    },
}

const IMPORT_EXIT_CODES: &str = "\
Exit codes:
  0  imported (pages that could not become items are listed in the report)
  2  the command line is wrong
  3  the content source cannot be written
  4  the import config cannot be read or is not valid
  7  no page could be read (the network, the server or the mirror); nothing was changed";

#[derive(Subcommand)]
enum BundleCommand {
    /// Make a signing key pair: the secret key in PATH (mode 0600), the public key in PATH.pub
    #[command(after_help = EXIT_CODES)]
    Keygen {
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
    /// Check a content source and pack it into a signed bundle
    #[command(after_help = EXIT_CODES)]
    Build {
        /// The content source directory
        src: PathBuf,
        /// The secret key file
        #[arg(long, value_name = "SECRET")]
        key: PathBuf,
        /// The bundle file to write, or a folder to write SITE-SEQ.kbundle into
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
        /// The sequence number [default: one above the last this key built]
        #[arg(long)]
        seq: Option<u64>,
        /// The content version people see [default: the date and the seq]
        #[arg(long, value_name = "TEXT")]
        content_version: Option<String>,
    },
    /// Check a bundle's signature and contents without installing it
    #[command(after_help = EXIT_CODES)]
    Verify {
        file: PathBuf,
        /// A trusted public key file [default: the keys pinned in the config]
        #[arg(long, value_name = "PUB")]
        pubkey: Vec<PathBuf>,
    },
    /// Install a bundle into the data directory (a running kiosk switches to it), or apply a
    /// key note
    #[command(after_help = EXIT_CODES)]
    Install {
        file: PathBuf,
        /// A trusted public key file [default: the keys pinned in the config]; for a key
        /// note, a recovery key [default: the config's recovery_keys]
        #[arg(long, value_name = "PUB")]
        pubkey: Vec<PathBuf>,
    },
    /// Write a key note signed with the recovery key: after a key leaked, terminals stop
    /// trusting it, trust a new key, and take bundles above a new seq floor again
    #[command(after_help = EXIT_CODES)]
    Keynote {
        /// The recovery key's secret file (kept offline; pinned as recovery_keys)
        #[arg(long, value_name = "SECRET")]
        key: PathBuf,
        /// The site id the note is for
        #[arg(long)]
        site: String,
        /// This note's number: one above the last note of the site
        #[arg(long)]
        number: u64,
        /// A key id no longer to trust (repeatable)
        #[arg(long, value_name = "KEY_ID")]
        revoke: Vec<String>,
        /// A public key file to trust from now on (repeatable)
        #[arg(long, value_name = "PUB")]
        trust: Vec<PathBuf>,
        /// Bundles with a seq above this are installed again
        #[arg(long, default_value_t = 0)]
        floor: u64,
        /// Why, for the record
        #[arg(long, default_value = "")]
        reason: String,
        /// The note file to write (SITE-keynote-NUMBER.knote)
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
    },
    /// Show the installed content, the previous one and the install history
    #[command(after_help = EXIT_CODES)]
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Go back to the previous install (a second rollback undoes the first)
    #[command(after_help = EXIT_CODES)]
    Rollback,
    /// Write the signed channel file that names a bundle, for a web server
    #[command(after_help = EXIT_CODES)]
    Channel {
        /// The bundle the channel names (served from the same folder)
        file: PathBuf,
        #[arg(long, value_name = "SECRET")]
        key: PathBuf,
        /// The channel file [default: channel.txt beside the bundle]
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Poll the network channel once and install what it names if it is newer
    #[command(after_help = EXIT_CODES)]
    Sync {
        /// The channel URL [default: the config's network.channel_url]
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check a config file [default: the one in use] with the KIOSK_* variables set, and say
    /// what is wrong and where
    #[command(after_help = config_check_help())]
    Check { file: Option<PathBuf> },
}

/// The environment variables of the settings, for `kiosk config check --help`.
fn config_check_help() -> String {
    let mut help = String::from(
        "Every setting of the config file can be set by an environment variable, which wins over\n\
         the file: KIOSK_ then the section and the key in capitals ([screen] idle_timeout_secs is\n\
         KIOSK_SCREEN_IDLE_TIMEOUT_SECS). Lists are separated by ';'. Variables:\n",
    );
    for (section, key) in kiosk::config::settings() {
        let alias = kiosk::config::ALIASES
            .iter()
            .find(|(_, s, k)| *s == section && *k == key)
            .map(|(alias, _, _)| format!(" (or {alias})"))
            .unwrap_or_default();
        let setting = if section.is_empty() {
            key.to_owned()
        } else {
            format!("{section}.{key}")
        };
        help.push_str(&format!(
            "  {:<34} {setting}{alias}\n",
            kiosk::config::variable_of(section, key)
        ));
    }
    help.push('\n');
    help.push_str(EXIT_CODES);
    help
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set the admin PIN (6 to 12 digits): asked twice on a terminal, else read from stdin;
    /// only its Argon2 hash is kept, in the config's admin.pin_file
    #[command(after_help = EXIT_CODES)]
    SetPin,
    /// Print the log of admin actions (who: the admin session; when; what)
    #[command(after_help = EXIT_CODES)]
    Log,
}

#[derive(Subcommand)]
enum StatsCommand {
    /// The usage report of a period: sessions, searches, what was not found, views, QR codes,
    /// busiest hours, content versions
    #[command(after_help = EXIT_CODES)]
    Report {
        /// First day, YYYY-MM-DD [default: 30 days ago]
        #[arg(long, value_name = "DATE")]
        from: Option<kiosk::content::Date>,
        /// Last day, YYYY-MM-DD [default: today]
        #[arg(long, value_name = "DATE")]
        to: Option<kiosk::content::Date>,
        /// md (Chinese, to read), csv or xlsx (spreadsheets), json (machines)
        #[arg(long, default_value = "md", value_parser = ["md", "csv", "json", "xlsx"])]
        format: String,
        /// Write to FILE instead of standard output (needed for xlsx)
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Write the report in every format into DIR/kiosk-reports/ (as onto a USB stick)
    #[command(after_help = EXIT_CODES)]
    Export {
        dir: PathBuf,
        #[arg(long, value_name = "DATE")]
        from: Option<kiosk::content::Date>,
        #[arg(long, value_name = "DATE")]
        to: Option<kiosk::content::Date>,
    },
    /// Send the events not yet delivered to the collector (stats.upload_url) once
    #[command(after_help = EXIT_CODES)]
    Upload {
        /// The collector URL [default: the config's stats.upload_url]
        #[arg(long)]
        url: Option<String>,
    },
    /// Print the Prometheus text-format metrics (what the running kiosk writes to
    /// stats.prometheus_file)
    #[command(after_help = EXIT_CODES)]
    Metrics,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Generate a corpus, build both indexes, time the query sets and print the figures
    Search {
        /// Items in the synthetic corpus
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        /// Content source whose titles and sentences the corpus is made of
        /// [default: ../shared/corpora/hebei-gov when present, else the sample hall]
        #[arg(long, value_name = "DIR")]
        seed_source: Option<PathBuf>,
        /// Seed of the corpus and the queries
        #[arg(long, default_value_t = kiosk::bench::DEFAULT_SEED)]
        seed: u64,
        /// How many realistic queries
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// Timed rounds of each query set (after one warm-up round)
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Also write the figures into FILE (between its `kiosk bench` marks, if it has them)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Build the indexes in DIR and keep them (emptied first), e.g. to profile `bench open`
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
    /// Time the screen from process start to first frame and to ready, its memory, and keystroke
    /// latency, for the sample hall and a synthetic corpus
    Startup {
        /// Items in the synthetic corpus (0: the sample hall only)
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        /// Content source whose titles and sentences the corpus is made of
        #[arg(long, value_name = "DIR")]
        seed_source: Option<PathBuf>,
        /// What to type on the keyboard, one key at a time
        #[arg(long, default_value = "yingyezhizhao")]
        typed: String,
        /// Also write the figures into FILE (between its `kiosk bench startup` marks)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// `kiosk import web` on a local mirror made of a content source: pages a second and peak
    /// memory (see docs/performance.md)
    Import {
        /// The content source the mirror's pages are made of
        /// [default: ../shared/corpora/hebei-gov when present, else the sample hall]
        #[arg(long, value_name = "DIR")]
        source: Option<PathBuf>,
        /// Pages in the mirror
        #[arg(long, default_value_t = 2000)]
        pages: usize,
        /// Also write the figures into FILE (between its `kiosk bench import` marks)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// A scripted visitor opens every item and every page of the content on the real screen
    /// (headless, software-rendered) in this one process: peak memory and the slowest page
    Soak {
        /// The content source [default: ../shared/corpora/hebei-gov when present, else the
        /// sample hall]
        #[arg(long, value_name = "DIR")]
        source: Option<PathBuf>,
        /// Add this many generated hostile items to it
        #[arg(long, default_value_t = 0)]
        hostile: usize,
        /// Seed of the hostile items
        #[arg(long, default_value_t = kiosk::bench::DEFAULT_SEED)]
        seed: u64,
        /// The screen, as WIDTHxHEIGHT
        #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
        size: (u32, u32),
        /// In elder mode
        #[arg(long)]
        elder: bool,
        /// Only the first, second and last page of each item
        #[arg(long)]
        ends_only: bool,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
        /// Also write the figures into FILE (between its `kiosk bench soak` marks)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// (Run by `bench startup`.) Show the screen headless in this fresh process and report
    /// its first frame, readiness and keystrokes as JSON lines
    Probe {
        #[arg(long, value_name = "DIR")]
        source: PathBuf,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(long, default_value = "yingyezhizhao")]
        typed: String,
    },
    /// Time what recording usage events costs the screen's thread (see docs/performance.md)
    Record {
        /// Events a second
        #[arg(long, default_value_t = 1000)]
        rate: u32,
        /// How many seconds
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        /// (For the crash test.) Record into DB until killed, printing what was committed
        #[arg(long, value_name = "DB")]
        child: Option<PathBuf>,
    },
    /// (Run by `bench search`.) Open an index and run one query in this fresh process, printing
    /// the timings as JSON
    Open {
        /// The index folder
        #[arg(long, value_name = "DIR")]
        index: PathBuf,
        /// The first query
        #[arg(long)]
        query: String,
        /// Then run every query in FILE (one a line) and print the peak memory
        #[arg(long, value_name = "FILE")]
        then: Option<PathBuf>,
    },
}

#[derive(clap::Args, Default)]
struct RunArgs {
    /// Content source directory [default: the installed content, else the sample hall]
    #[arg(long, value_name = "DIR")]
    source: Option<PathBuf>,
    /// Fill the screen (also `fullscreen = true` in the config)
    #[arg(long)]
    fullscreen: bool,
    /// Window size on a desktop, WIDTHxHEIGHT
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    size: Option<(u32, u32)>,
}

#[derive(clap::Args)]
struct ScreenshotArgs {
    /// Content source directory [default: the installed content, else the sample hall]
    #[arg(long, value_name = "DIR")]
    source: Option<PathBuf>,
    /// Which screen: home, search:QUERY, item:ID or column:ID
    #[arg(long, default_value = "home")]
    page: kiosk::ui::screenshot::Shot,
    /// Screen size, WIDTHxHEIGHT (1920x1080 landscape, 1080x1920 portrait)
    #[arg(long, value_name = "WxH", value_parser = parse_size, default_value = "1920x1080")]
    size: (u32, u32),
    /// Elder mode: larger type, higher contrast
    #[arg(long)]
    elder: bool,
    /// Interface language: zh or en
    #[arg(long, default_value = "zh", value_parser = ["zh", "en"])]
    lang: String,
    /// Show the on-screen keyboard on a search page
    #[arg(long)]
    keyboard: bool,
    /// The PNG file to write
    #[arg(short = 'o', long = "out", value_name = "FILE.png")]
    out: PathBuf,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or("write the size as WIDTHxHEIGHT, like 1920x1080")?;
    let parse = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (200..=8000).contains(n))
    };
    match (parse(w), parse(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err("width and height must be whole numbers from 200 to 8000".into()),
    }
}

#[derive(clap::Args)]
struct SearchArgs {
    /// Content source directory [default: the installed content, else the sample hall]
    #[arg(long, value_name = "DIR")]
    source: Option<PathBuf>,
    /// Only items of this kind
    #[arg(long, value_parser = ["disclosure", "guide", "interpretation", "notice"])]
    kind: Option<String>,
    /// Only items in this column (a first- or second-level column id)
    #[arg(long, value_name = "ID")]
    column: Option<String>,
    /// Only items dated in this year
    #[arg(long)]
    year: Option<u16>,
    /// Order of the results
    #[arg(long, default_value = "relevance", value_parser = ["relevance", "date"])]
    sort: String,
    /// How many results
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Skip this many results (paging)
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Print JSON
    #[arg(long)]
    json: bool,
    /// Print how the query was understood (words kept and dropped, plain-language rules,
    /// corrections) and where each result's words matched
    #[arg(long, conflicts_with_all = ["json", "queries"])]
    explain: bool,
    /// Run every query in FILE (one a line) and print one JSON object per line
    #[arg(long, value_name = "FILE", conflicts_with = "query")]
    queries: Option<PathBuf>,
    /// What to search for
    #[arg(required_unless_present = "queries")]
    query: Option<String>,
}

/// `kiosk config check`: the file's findings and the environment's, one a line, then a summary.
fn config_check(file: Option<PathBuf>) -> Result<ExitCode, Failure> {
    let text = match &file {
        Some(file) => std::fs::read_to_string(file)
            .map_err(|err| Failure(4, format!("cannot read {}: {err}", file.display())))?,
        None => String::new(),
    };
    let name = match &file {
        Some(file) => file.display().to_string(),
        None => "(no config file: the defaults)".to_owned(),
    };
    let vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with("KIOSK_"))
        .collect();
    let findings = kiosk::config::check_with_env(&text, &vars);
    let errors = findings.iter().filter(|f| f.error).count();
    for finding in &findings {
        let place = match (&finding.variable, finding.line) {
            (Some(variable), _) => format!("environment {variable}"),
            (None, Some(line)) => format!("{name}:{line}"),
            (None, None) => name.clone(),
        };
        println!(
            "{place}: {}: {}",
            if finding.error { "error" } else { "warning" },
            finding.message
        );
    }
    println!(
        "{name}: {errors} error(s), {} warning(s)",
        findings.len() - errors
    );
    Ok(if errors > 0 {
        ExitCode::from(4)
    } else {
        ExitCode::SUCCESS
    })
}

/// A failure to report: the message for stderr and the exit code.
struct Failure(u8, String);

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KIOSK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(Failure(code, message)) => {
            eprintln!("kiosk: {message}");
            ExitCode::from(code)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let command = cli.command.unwrap_or(Command::Run(RunArgs::default()));
    let env = |name: &str| std::env::var(name).ok();
    // For `kiosk import` and `kiosk publish`, --config names the import config.
    if let Command::Import(command) = command {
        return import(command, cli.config.as_deref());
    }
    if let Command::Publish { json } = command {
        return publish(cli.config.as_deref(), json);
    }
    let loaded_config = match Config::load(cli.config.as_deref(), &env) {
        Ok(loaded) => loaded,
        // `kiosk config check` is how the file gets fixed: it goes on and names the problem.
        Err(err) if matches!(command, Command::Config(_)) => kiosk::config::LoadedConfig {
            file: Some(err.path().to_path_buf()),
            ..Default::default()
        },
        Err(err) => return Err(Failure(4, err.to_string())),
    };
    for warning in &loaded_config.warnings {
        let file = loaded_config.file.as_deref().unwrap_or(Path::new("config"));
        tracing::warn!(config = %file.display(), "{warning}");
    }
    let data_dir = DataDir::resolve(cli.data_dir.as_deref(), &loaded_config.config);
    let result = command_in(command, &loaded_config, &data_dir);
    // What root made in a terminal's data directory goes to its owner, the service's user.
    data_dir.hand_over();
    result
}

fn command_in(
    command: Command,
    loaded_config: &kiosk::config::LoadedConfig,
    data_dir: &DataDir,
) -> Result<ExitCode, Failure> {
    let data_dir = data_dir.clone();
    match command {
        Command::Check { src } => {
            let loaded = load(&src)?;
            print!("{}", kiosk::text::render_check(&loaded, &src));
            Ok(if loaded.errors() > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Show { source, id } => {
            let (origin, loaded) = load_content(source.as_deref(), &data_dir)?;
            let content = &loaded.content;
            let item = content.item(&id).ok_or_else(|| {
                Failure(
                    3,
                    format!(
                        "there is no item with id “{id}” in {} (`kiosk columns` lists the catalogue)",
                        origin.path().display()
                    ),
                )
            })?;
            print!("{}", kiosk::text::render_item(content, item));
            Ok(ExitCode::SUCCESS)
        }
        Command::Columns { source } => {
            let (_, loaded) = load_content(source.as_deref(), &data_dir)?;
            print!("{}", kiosk::text::render_columns(&loaded.content));
            Ok(ExitCode::SUCCESS)
        }
        Command::Search(args) => search(args, &data_dir),
        Command::Bench(command) => bench(command),
        // Handled in `run` with its own config; here with none.
        Command::Import(command) => import(command, None),
        Command::Publish { json } => publish(None, json),
        Command::Bundle(command) => bundle(command, &loaded_config.config, &data_dir),
        Command::Stats(command) => stats(command, &loaded_config.config, &data_dir),
        Command::Config(ConfigCommand::Check { file }) => {
            config_check(file.or(loaded_config.file.clone()))
        }
        Command::Admin(AdminCommand::SetPin) => {
            let pin = read_pin()?;
            let pins = kiosk::admin::PinFile::new(&loaded_config.config.admin.pin_file);
            pins.set(&pin).map_err(|err| match err {
                kiosk::admin::PinError::Format => Failure(2, err.to_string()),
                other => Failure(3, other.to_string()),
            })?;
            println!(
                "the admin PIN is set (its hash is in {})",
                pins.path().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::Log) => {
            let log = kiosk::admin::AdminLog::new(data_dir.root().join("admin.jsonl"));
            let offset = loaded_config.config.screen.utc_offset_minutes;
            for entry in log.read() {
                println!(
                    "{}  {}  {}{}",
                    kiosk::content::format_local(entry.at, offset),
                    entry.session,
                    entry.action,
                    if entry.detail.is_empty() {
                        String::new()
                    } else {
                        format!("  ({})", entry.detail)
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => run_screen(args, &loaded_config.config, data_dir),
        Command::Screenshot(args) => screenshot(args, &loaded_config.config, data_dir),
    }
}

fn kiosk_options(source: Option<PathBuf>, config: &Config, data_dir: DataDir) -> KioskOptions {
    KioskOptions {
        source,
        data_dir,
        idle_timeout: config.screen.idle_timeout_secs,
        idle_countdown: config.screen.idle_countdown_secs,
        utc_offset_minutes: config.screen.utc_offset_minutes,
        english: config.screen.language == "en",
        terminal_id: config.terminal.id.clone(),
        sync: None,
        recorder: kiosk::stats::Recorder::disabled(),
        admin_pin_file: config.admin.pin_file.clone(),
        schedule: kiosk::schedule::Schedule::from_config(&config.schedule),
    }
}

/// Uploads statistics in the background when a collector is configured.
fn start_upload(config: &Config, data_dir: &DataDir) {
    let url = config.stats.upload_url.trim();
    if url.is_empty() {
        return;
    }
    let uploader = match kiosk::stats::upload::Uploader::new(
        url,
        std::time::Duration::from_secs(config.stats.upload_timeout_secs.max(1)),
    ) {
        Ok(uploader) => uploader,
        Err(err) => {
            tracing::error!(cause = %err, "statistics upload is off");
            return;
        }
    };
    let interval = std::time::Duration::from_secs(config.stats.upload_interval_secs.max(10));
    let db = data_dir.stats_db();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = std::thread::Builder::new()
        .name("kiosk-upload".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(kiosk::stats::upload::run(
                    uploader,
                    db,
                    interval,
                    interval / 5,
                    stop,
                )),
                Err(err) => tracing::error!(cause = %err, "statistics upload is off"),
            }
        });
    if let Err(err) = started {
        tracing::error!(cause = %err, "statistics upload is off");
    }
}

/// The statistics writer of the running terminal (disabled in the config: records nothing).
fn recorder(config: &Config, data_dir: &DataDir) -> kiosk::stats::Recorder {
    if !config.stats.enabled {
        return kiosk::stats::Recorder::disabled();
    }
    let options = kiosk::stats::WriterOptions {
        retention_days: config.stats.retention_days,
        max_events: config.stats.max_events,
        prometheus_file: Some(config.stats.prometheus_file.trim())
            .filter(|f| !f.is_empty())
            .map(PathBuf::from),
        data_dir: Some(data_dir.clone()),
        keep_unsent: !config.stats.upload_url.trim().is_empty(),
        ..Default::default()
    };
    match kiosk::stats::Recorder::start(&data_dir.stats_db(), &config.terminal.id, options) {
        Ok(recorder) => recorder,
        Err(err) => {
            tracing::error!(cause = %err, "usage statistics are off: the store cannot be opened");
            kiosk::stats::Recorder::disabled()
        }
    }
}

/// What the running terminal watches for new content.
fn sync_options(config: &Config, data_dir: &DataDir) -> kiosk::sync::SyncOptions {
    kiosk::sync::SyncOptions {
        data_dir: data_dir.clone(),
        trusted: config.trusted_keys().map_err(|err| err.to_string()),
        recovery: config.recovery_keys().unwrap_or_else(|err| {
            tracing::warn!(cause = %err, "the recovery keys cannot be read; no key note is applied");
            Vec::new()
        }),
        site: config.pinned_site().map(str::to_owned),
        mount_roots: config.bundles.mount_roots.clone(),
        network: config.network.clone(),
        tick: std::time::Duration::from_secs(2),
    }
}

fn run_screen(args: RunArgs, config: &Config, data_dir: DataDir) -> Result<ExitCode, Failure> {
    if let Err(err) = kiosk::install::clean_leftovers(&data_dir) {
        tracing::warn!(cause = %err, "cannot clean up after an interrupted install");
    }
    let recorder = recorder(config, &data_dir);
    if recorder.is_enabled() {
        start_upload(config, &data_dir);
    }
    let options = KioskOptions {
        sync: Some(sync_options(config, &data_dir)),
        recorder,
        ..kiosk_options(args.source, config, data_dir)
    };
    let fullscreen = args.fullscreen || config.screen.fullscreen;
    kiosk::ui::run(options, fullscreen, args.size).map_err(|err| Failure(5, err))?;
    Ok(ExitCode::SUCCESS)
}

fn screenshot(
    args: ScreenshotArgs,
    config: &Config,
    data_dir: DataDir,
) -> Result<ExitCode, Failure> {
    let options = kiosk_options(args.source, config, data_dir);
    let shot = kiosk::ui::screenshot::ShotOptions {
        width: args.size.0,
        height: args.size.1,
        elder: args.elder,
        english: args.lang == "en",
        keyboard: args.keyboard,
    };
    kiosk::ui::screenshot::render(&args.page, &shot, options, &args.out)
        .map_err(|err| Failure(5, err.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

fn bench(command: BenchCommand) -> Result<ExitCode, Failure> {
    use kiosk::bench;
    let failed = |err: bench::BenchError| Failure(3, err.to_string());
    match command {
        BenchCommand::Search {
            items,
            seed_source,
            seed,
            queries,
            rounds,
            out,
            keep,
        } => {
            let kiosk_exe = std::env::current_exe()
                .map_err(|err| Failure(3, format!("cannot find this program: {err}")))?;
            let options = bench::Options {
                items,
                seed_source: seed_source.unwrap_or_else(bench::default_seed_source),
                seed,
                queries,
                rounds,
                kiosk_exe,
                command: std::iter::once("kiosk".to_owned())
                    .chain(std::env::args().skip(1))
                    .collect::<Vec<_>>()
                    .join(" "),
                keep,
            };
            let report = bench::run(&options, &mut |step| eprintln!("kiosk bench: {step}"))
                .map_err(failed)?;
            let figures = bench::report::render(&report);
            print!("{figures}");
            if let Some(file) = out {
                bench::write_report(&file, &figures).map_err(failed)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Startup {
            items,
            seed_source,
            typed,
            out,
        } => {
            use kiosk::bench::startup;
            let kiosk_exe = std::env::current_exe()
                .map_err(|err| Failure(3, format!("cannot find this program: {err}")))?;
            let work = startup::work_dir();
            let _ = std::fs::remove_dir_all(&work);
            let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-data/sample");
            let mut sources = vec![("sample hall".to_owned(), 151usize, sample)];
            if items > 0 {
                eprintln!("kiosk bench: generating {items} items");
                let seed_dir = seed_source.unwrap_or_else(bench::default_seed_source);
                let seed_content = kiosk::source::load(&seed_dir)
                    .map_err(|err| Failure(3, err.to_string()))?
                    .content;
                let seed = bench::corpus::Seed::new(&seed_content);
                let content = bench::corpus::generate(&seed, items, bench::DEFAULT_SEED);
                let dir = work.join("corpus");
                startup::write_source(&content, &dir)
                    .map_err(|err| Failure(3, format!("cannot write the corpus: {err}")))?;
                sources.push((
                    format!(
                        "synthetic, from {}",
                        seed_dir
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    ),
                    items,
                    dir,
                ));
            }
            let mut runs = Vec::new();
            for (label, count, dir) in &sources {
                let data = work.join(format!("data-{}", runs.len()));
                eprintln!("kiosk bench: {label}: first start (builds the index)");
                startup::measure(&kiosk_exe, label, *count, dir, &data, &typed).map_err(failed)?;
                eprintln!("kiosk bench: {label}: measured start");
                runs.push(
                    startup::measure(&kiosk_exe, label, *count, dir, &data, &typed)
                        .map_err(failed)?,
                );
            }
            let _ = std::fs::remove_dir_all(&work);
            let command = std::iter::once("kiosk".to_owned())
                .chain(std::env::args().skip(1))
                .collect::<Vec<_>>()
                .join(" ");
            let figures = startup::render(&runs, &command);
            print!("{figures}");
            if let Some(file) = out {
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                let spliced = kiosk::bench::report::splice_named(&text, "startup", &figures);
                std::fs::write(&file, spliced)
                    .map_err(|err| Failure(3, format!("cannot write {}: {err}", file.display())))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Import { source, pages, out } => {
            use kiosk::bench::import;
            let source = source.unwrap_or_else(default_bench_source);
            let loaded = load(&source)?;
            let work = tempfile_dir("kiosk-bench-import")?;
            let mirror = work.join("mirror");
            let written = import::write_mirror(&loaded.content, &mirror, pages)
                .map_err(|err| Failure(3, format!("cannot write the mirror: {err}")))?;
            drop(loaded);
            let mut config = kiosk::import::ImportConfig::default();
            config.web.mirror = Some(mirror.clone());
            config.web.max_pages = written + 1;
            let started = std::time::Instant::now();
            let report = kiosk::import::import_web(&work.join("src"), &config, &mut |_| {})
                .map_err(|err| Failure(3, err.to_string()))?;
            let seconds = started.elapsed().as_secs_f64();
            for skip in report.skipped.iter().take(5) {
                eprintln!("kiosk bench import: skipped {}: {}", skip.url, skip.reason);
            }
            let figures = import::ImportFigures {
                duplicates: report.duplicates,
                skipped: report.skipped.len(),
                pages: report.pages,
                items: report.items,
                seconds,
                pages_per_second: report.pages as f64 / seconds.max(1e-9),
                peak_rss_kib: kiosk::bench::peak_rss_kib(),
                source_bytes: std::fs::metadata(work.join("src/items/web.jsonl"))
                    .map_or(0, |m| m.len()),
            };
            let _ = std::fs::remove_dir_all(&work);
            let label = source
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let command = std::iter::once("kiosk".to_owned())
                .chain(std::env::args().skip(1))
                .collect::<Vec<_>>()
                .join(" ");
            let text = import::render(&figures, &label, &command);
            print!("{text}");
            if let Some(file) = out {
                let old = std::fs::read_to_string(&file).unwrap_or_default();
                std::fs::write(
                    &file,
                    kiosk::bench::report::splice_named(&old, "import", &text),
                )
                .map_err(|err| Failure(3, format!("cannot write {}: {err}", file.display())))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Soak {
            source,
            hostile,
            seed,
            size,
            elder,
            ends_only,
            json,
            out,
        } => {
            use kiosk::bench::soak;
            let source = source.unwrap_or_else(default_bench_source);
            let work = soak::work_dir();
            let content = work.join("source");
            soak::prepare(&source, &content, hostile, seed)
                .map_err(|err| Failure(3, format!("cannot prepare {}: {err}", source.display())))?;
            let options = kiosk_options(
                Some(content.clone()),
                &Config::default(),
                DataDir::new(work.join("data")),
            );
            let soak_options = kiosk::ui::soak::SoakOptions {
                width: size.0,
                height: size.1,
                elder,
                all_pages: !ends_only,
            };
            let figures = kiosk::ui::soak::run(options, &soak_options, &mut |n, of| {
                if n % 100 == 0 {
                    eprintln!("kiosk bench soak: item {n} of {of}");
                }
            });
            let _ = std::fs::remove_dir_all(&work);
            let figures = figures.map_err(|err| Failure(5, err))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&figures).expect("figures serialise")
                );
            } else {
                let label = format!(
                    "{}{}",
                    source
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                    if hostile > 0 {
                        format!(" + {hostile} hostile items")
                    } else {
                        String::new()
                    }
                );
                let command = std::iter::once("kiosk".to_owned())
                    .chain(std::env::args().skip(1))
                    .collect::<Vec<_>>()
                    .join(" ");
                let report = soak::render(&figures, &label, &command, size);
                print!("{report}");
                if let Some(file) = out {
                    let text = std::fs::read_to_string(&file).unwrap_or_default();
                    std::fs::write(
                        &file,
                        kiosk::bench::report::splice_named(&text, "soak", &report),
                    )
                    .map_err(|err| Failure(3, format!("cannot write {}: {err}", file.display())))?;
                }
            }
            Ok(if figures.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        BenchCommand::Probe {
            source,
            data_dir,
            typed,
        } => {
            // The defaults of a terminal, with no idle reset in the middle of the measurement.
            let options = KioskOptions {
                idle_timeout: 3600,
                ..kiosk_options(Some(source), &Config::default(), DataDir::new(data_dir))
            };
            kiosk::ui::probe::run(options, &typed, &mut std::io::stdout().lock())
                .map_err(|err| Failure(5, err))?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Record {
            rate,
            seconds,
            child,
        } => {
            use kiosk::bench::record;
            if let Some(db) = child {
                record::writer_child(&db, rate, &mut std::io::stdout().lock())
                    .map_err(|err| Failure(3, err))?;
                return Ok(ExitCode::SUCCESS);
            }
            let dir =
                std::env::temp_dir().join(format!("kiosk-bench-record-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let cost = record::measure(&dir.join("stats.sqlite"), rate, seconds)
                .map_err(|err| Failure(3, err));
            let _ = std::fs::remove_dir_all(&dir);
            let command = std::iter::once("kiosk".to_owned())
                .chain(std::env::args().skip(1))
                .collect::<Vec<_>>()
                .join(" ");
            print!("{}", record::render(&cost?, &command));
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Open { index, query, then } => {
            bench::open_probe(
                &index,
                &query,
                then.as_deref(),
                &mut std::io::stdout().lock(),
            )
            .map_err(failed)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn trusted_keys(
    pubkeys: &[PathBuf],
    config: &Config,
) -> Result<Vec<kiosk::bundle::PublicKey>, Failure> {
    if pubkeys.is_empty() {
        config
            .trusted_keys()
            .map_err(|err| Failure(4, err.to_string()))
    } else {
        pubkeys
            .iter()
            .map(|path| kiosk::bundle::PublicKey::read(path))
            .collect::<Result<_, _>>()
            .map_err(|err| Failure(3, err.to_string()))
    }
}

/// Whether a file is a key note (by its first line) rather than a bundle.
fn is_key_note(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 32];
    std::fs::File::open(path)
        .and_then(|mut file| file.read(&mut head))
        .is_ok_and(|n| kiosk::bundle::keynote::KeyNote::looks_like(&head[..n]))
}

fn bundle(
    command: BundleCommand,
    config: &Config,
    data_dir: &DataDir,
) -> Result<ExitCode, Failure> {
    use kiosk::bundle::{self, BundleError, SecretKey};
    use kiosk::install::{self, InstallError};
    let refused = |err: BundleError| match err {
        BundleError::Io { .. } | BundleError::Key { .. } | BundleError::Source(_) => {
            Failure(3, err.to_string())
        }
        BundleError::SourceHasErrors { .. } => Failure(1, err.to_string()),
        other => Failure(6, other.to_string()),
    };
    let install_failed = |err: InstallError| match err {
        InstallError::Bundle(err) => refused(err),
        err if err.is_bundle_fault() => Failure(6, err.to_string()),
        // The terminal's trouble (disk, stick, a busy installer, nothing to roll back).
        err => Failure(3, err.to_string()),
    };
    let mut out = std::io::stdout().lock();
    match command {
        BundleCommand::Keygen { out: path } => {
            let key = SecretKey::generate().map_err(|err| Failure(3, err))?;
            let public = key.write_pair(&path).map_err(refused)?;
            let _ = writeln!(
                out,
                "secret key: {} (keep it off the terminals)\npublic key: {} (id {}); pin it in the terminals' config",
                path.display(),
                public.display(),
                key.public().id()
            );
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Build {
            src,
            key,
            out: target,
            seq,
            content_version,
        } => {
            let secret = SecretKey::read(&key).map_err(refused)?;
            let site = source::read_files(&src)
                .map(|files| source::assemble(files).content.site.id)
                .map_err(|err| Failure(3, err.to_string()))?;
            let into_dir = target.is_dir();
            let out_dir = if into_dir {
                target.clone()
            } else {
                target
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            };
            let seq = match seq {
                Some(seq) => seq,
                None => bundle::next_seq(&key, &site, &out_dir).ok_or_else(|| {
                    Failure(
                        6,
                        format!(
                            "this key has built seq {} for site {site}, the highest there is; sign the next bundles with a new key after a key note lowers the floor (docs/bundles.md)",
                            bundle::manifest::MAX_SEQ
                        ),
                    )
                })?,
            };
            if !(1..=bundle::manifest::MAX_SEQ).contains(&seq) {
                return Err(Failure(
                    2,
                    format!("--seq {seq} is outside 1 to {}", bundle::manifest::MAX_SEQ),
                ));
            }
            let file = if into_dir {
                target.join(format!("{site}-{seq}.kbundle"))
            } else {
                target
            };
            let options = bundle::BuildOptions {
                source: &src,
                key: &secret,
                seq,
                version: content_version,
                created: kiosk::content::unix_now(),
                level: 19,
            };
            let manifest = bundle::build(&options, &file).map_err(refused)?;
            if let Err(err) = bundle::record_seq(&key, &manifest.site, manifest.seq) {
                tracing::warn!(cause = %err, "cannot record the seq beside the key");
            }
            let size = std::fs::metadata(&file).map_or(0, |m| m.len());
            let _ = writeln!(
                out,
                "{}: site {}, seq {}, version “{}”, {} items, {} files, {} bytes, signed by {}",
                file.display(),
                manifest.site,
                manifest.seq,
                manifest.version,
                manifest.item_count,
                manifest.files.len(),
                size,
                manifest.key_id
            );
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Verify { file, pubkey } => {
            let keys = trusted_keys(&pubkey, config)?;
            let verified =
                bundle::verify(&file, &keys, &bundle::Limits::default()).map_err(refused)?;
            // Unpack into a scratch folder too: the check a terminal makes before installing.
            let scratch = std::env::temp_dir().join(format!("kiosk-verify-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&scratch);
            let unpacked = bundle::unpack(&file, &verified, &scratch, &mut |_| {})
                .map_err(refused)
                .and_then(|()| {
                    // And load it: what a terminal would refuse after unpacking, refused here.
                    install::check_content(&scratch, &verified.manifest)
                        .map(drop)
                        .map_err(install_failed)
                });
            let _ = std::fs::remove_dir_all(&scratch);
            unpacked?;
            let m = &verified.manifest;
            let _ = writeln!(
                out,
                "{}: good: site {}, seq {}, version “{}”, built {}, {} items, {} files, signed by trusted key {}",
                file.display(),
                m.site,
                m.seq,
                m.version,
                m.created,
                m.item_count,
                m.files.len(),
                verified.key_id
            );
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Install { file, pubkey } if is_key_note(&file) => {
            let recovery = if pubkey.is_empty() {
                config
                    .recovery_keys()
                    .map_err(|err| Failure(4, err.to_string()))?
            } else {
                trusted_keys(&pubkey, config)?
            };
            let bytes = std::fs::read(&file)
                .map_err(|err| Failure(3, format!("cannot read {}: {err}", file.display())))?;
            let applied = install::apply_note(data_dir, &bytes, &recovery, config.pinned_site())
                .map_err(install_failed)?;
            let _ = writeln!(
                out,
                "applied key note no. {}: revoked {}, trusts {}, seq floor {}{}",
                applied.number,
                if applied.revoked.is_empty() {
                    "no key".to_owned()
                } else {
                    applied.revoked.join(", ")
                },
                if applied.trusted.is_empty() {
                    "no new key".to_owned()
                } else {
                    applied.trusted.join(", ")
                },
                applied.floor,
                applied
                    .rolled_back_to
                    .map(|seq| format!("; back to seq {seq}, signed by a trusted key"))
                    .unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Keynote {
            key,
            site,
            number,
            revoke,
            trust,
            floor,
            reason,
            out: target,
        } => {
            let secret = SecretKey::read(&key).map_err(refused)?;
            let trust = trust
                .iter()
                .map(|path| kiosk::bundle::PublicKey::read(path).map(|k| k.to_text()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(refused)?;
            if revoke.iter().any(|id| id == secret.public().id()) {
                return Err(Failure(
                    2,
                    "the note cannot revoke the recovery key that signs it".into(),
                ));
            }
            let note = bundle::keynote::KeyNote {
                site,
                number,
                revoke,
                trust,
                floor,
                created: kiosk::content::format_utc(kiosk::content::unix_now()),
                reason,
            };
            // The note must be one a terminal takes: checked as a terminal would.
            bundle::keynote::KeyNote::verify(note.sign(&secret).as_bytes(), &[secret.public()])
                .map_err(|err| Failure(2, err))?;
            std::fs::write(&target, note.sign(&secret))
                .map_err(|err| Failure(3, format!("cannot write {}: {err}", target.display())))?;
            let _ = writeln!(
                out,
                "{}: key note no. {} for site {}, signed by recovery key {}; put it on a USB stick beside the new bundle, or run `kiosk bundle install` with it",
                target.display(),
                note.number,
                note.site,
                secret.public().id()
            );
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Install { file, pubkey } => {
            let keys = trusted_keys(&pubkey, config)?;
            let request = install::Request {
                bundle: &file,
                from: file.display().to_string(),
                trusted: &keys,
                site: config.pinned_site(),
                limits: Default::default(),
            };
            let mut last = None;
            let record = install::install(data_dir, &request, &mut |p| {
                if last != Some(p.step) {
                    last = Some(p.step);
                    eprintln!("kiosk: {}…", p.step.describe());
                }
            })
            .map_err(install_failed)?;
            let _ = writeln!(
                out,
                "installed {} seq {}, version “{}”, {} items, in {}",
                record.site,
                record.seq,
                record.version,
                record.item_count,
                data_dir.root().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Status { json } => {
            let status = install::status(data_dir);
            let history = install::history(data_dir);
            let offset = config.screen.utc_offset_minutes;
            if json {
                let value = serde_json::json!({
                    "data_dir": data_dir.root(),
                    "current": status.current,
                    "previous": status.previous,
                    "high_water": status.high_water,
                    "history": history,
                });
                let _ = writeln!(out, "{value:#}");
            } else {
                let _ = write!(
                    out,
                    "{}",
                    kiosk::text::render_install_status(data_dir.root(), &status, &history, offset)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Rollback => {
            let record = install::rollback(data_dir).map_err(install_failed)?;
            let _ = writeln!(
                out,
                "rolled back to {} seq {}, version “{}”",
                record.site, record.seq, record.version
            );
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Channel {
            file,
            key,
            out: target,
        } => {
            let secret = SecretKey::read(&key).map_err(refused)?;
            let verified = bundle::verify(&file, &[secret.public()], &bundle::Limits::default())
                .map_err(refused)?;
            let bytes = std::fs::read(&file)
                .map_err(|err| Failure(3, format!("cannot read {}: {err}", file.display())))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let channel = bundle::channel::Channel::for_bundle(&verified.manifest, &name, &bytes);
            let target = target.unwrap_or_else(|| file.with_file_name("channel.txt"));
            std::fs::write(&target, channel.sign(&secret))
                .map_err(|err| Failure(3, format!("cannot write {}: {err}", target.display())))?;
            let _ = writeln!(
                out,
                "{}: names {} (seq {}); publish both in the same folder",
                target.display(),
                name,
                channel.seq
            );
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Sync { url } => {
            let url = url.unwrap_or_else(|| config.network.channel_url.clone());
            if url.trim().is_empty() {
                return Err(Failure(
                    2,
                    "no channel URL: pass --url or set network.channel_url in the config".into(),
                ));
            }
            let keys = trusted_keys(&[], config)?;
            let poller = kiosk::sync::net::Poller::new(
                url.trim(),
                std::time::Duration::from_secs(config.network.timeout_secs.max(1)),
                data_dir.clone(),
                keys,
                config.pinned_site().map(str::to_owned),
            )
            .map_err(|err| Failure(2, err.to_string()))?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| Failure(3, format!("cannot start: {err}")))?;
            let polled = runtime.block_on(poller.poll_once(|_| {}));
            use kiosk::sync::net::{Polled, SyncError};
            match polled {
                Ok(Polled::NotModified) => {
                    let _ = writeln!(out, "the channel has not changed");
                }
                Ok(Polled::UpToDate { seq }) => {
                    let _ = writeln!(out, "up to date: the channel names seq {seq}");
                }
                Ok(Polled::RefusedBefore { seq }) => {
                    return Err(Failure(
                        6,
                        format!("the channel names seq {seq}, which was refused before; publish a new bundle"),
                    ));
                }
                Ok(Polled::Installed(record)) => {
                    let _ = writeln!(
                        out,
                        "installed {} seq {}, version “{}”, {} items",
                        record.site, record.seq, record.version, record.item_count
                    );
                }
                Err(SyncError::Install(err)) => return Err(install_failed(err)),
                Err(err @ SyncError::Channel(_)) => return Err(Failure(6, err.to_string())),
                Err(err) => return Err(Failure(7, err.to_string())),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn stats(command: StatsCommand, config: &Config, data_dir: &DataDir) -> Result<ExitCode, Failure> {
    use kiosk::stats::{self, report};
    let offset = config.screen.utc_offset_minutes;
    let db = data_dir.stats_db();
    let period = |from: Option<kiosk::content::Date>, to: Option<kiosk::content::Date>| {
        let recent = stats::recent_days(30, offset);
        let period = report::Period {
            from: from.unwrap_or(recent.from),
            to: to.unwrap_or(recent.to),
        };
        if period.from > period.to {
            return Err(Failure(
                2,
                format!("--from {} is after --to {}", period.from, period.to),
            ));
        }
        Ok(period)
    };
    let store_failed = |err: stats::StoreError| Failure(3, err.to_string());
    match command {
        StatsCommand::Report {
            from,
            to,
            format,
            out,
        } => {
            let period = period(from, to)?;
            let report = stats::report_from(&db, &period, offset, &config.terminal.id)
                .map_err(store_failed)?;
            let bytes = match format.as_str() {
                "csv" => report::to_csv(&report).into_bytes(),
                "json" => format!("{:#}\n", report::to_json(&report)).into_bytes(),
                "xlsx" => {
                    if out.is_none() {
                        return Err(Failure(2, "an xlsx report needs -o FILE.xlsx".into()));
                    }
                    report::to_xlsx(&report).map_err(|err| Failure(3, err))?
                }
                _ => report::to_markdown(&report).into_bytes(),
            };
            match out {
                Some(file) => std::fs::write(&file, bytes)
                    .map_err(|err| Failure(3, format!("cannot write {}: {err}", file.display())))?,
                None => {
                    let _ = std::io::stdout().lock().write_all(&bytes);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        StatsCommand::Export { dir, from, to } => {
            let period = period(from, to)?;
            let report = stats::report_from(&db, &period, offset, &config.terminal.id)
                .map_err(store_failed)?;
            let files = stats::export(&report, &dir)
                .map_err(|err| Failure(3, format!("cannot write into {}: {err}", dir.display())))?;
            for file in files {
                println!("{}", file.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        StatsCommand::Upload { url } => {
            let url = url.unwrap_or_else(|| config.stats.upload_url.clone());
            if url.trim().is_empty() {
                return Err(Failure(
                    2,
                    "no collector URL: pass --url or set stats.upload_url in the config".into(),
                ));
            }
            let uploader = stats::upload::Uploader::new(
                url.trim(),
                std::time::Duration::from_secs(config.stats.upload_timeout_secs.max(1)),
            )
            .map_err(|err| Failure(2, err.to_string()))?;
            let store = std::sync::Mutex::new(stats::Store::open(&db).map_err(store_failed)?);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| Failure(3, format!("cannot start: {err}")))?;
            let uploaded = runtime
                .block_on(uploader.upload_once(&store))
                .map_err(|err| Failure(7, err.to_string()))?;
            println!(
                "uploaded {} events in {} batches to {}",
                uploaded.events,
                uploaded.batches,
                uploader.url()
            );
            Ok(ExitCode::SUCCESS)
        }
        StatsCommand::Metrics => {
            let store = stats::Store::open(&db).map_err(store_failed)?;
            print!(
                "{}",
                stats::prometheus::current(&store, Some(data_dir)).map_err(store_failed)?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The new PIN: typed twice without echo on a terminal, else one line of stdin.
fn read_pin() -> Result<String, Failure> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    let read_line = || {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|err| Failure(3, format!("cannot read the PIN: {err}")))?;
        Ok::<_, Failure>(line.trim().to_owned())
    };
    if !stdin.is_terminal() {
        return read_line();
    }
    let ask = |prompt: &str| {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let echo = EchoOff::new();
        let pin = read_line();
        drop(echo);
        eprintln!();
        pin
    };
    let first = ask("New admin PIN (6 to 12 digits): ")?;
    let again = ask("The same PIN again: ")?;
    if first != again {
        return Err(Failure(
            2,
            "the two PINs differ; nothing was changed".into(),
        ));
    }
    Ok(first)
}

/// Turns the terminal's echo off while alive.
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> EchoOff {
        // SAFETY: tcgetattr/tcsetattr on stdin with a zeroed termios the kernel fills.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut term) != 0 {
                return EchoOff(None);
            }
            let saved = term;
            term.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &term);
            EchoOff(Some(saved))
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            // SAFETY: restores the settings read in new().
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, saved);
            }
        }
    }
}

fn search(args: SearchArgs, data_dir: &DataDir) -> Result<ExitCode, Failure> {
    let origin = resolve_content(args.source.as_deref(), data_dir)
        .map_err(|err| Failure(3, err.to_string()))?;
    let index = SearchIndex::open_or_build(origin.path(), &data_dir.index_dir()).map_err(
        |err| match err {
            SearchError::Source(err) => Failure(3, err.to_string()),
            other => Failure(3, format!("cannot open the search index: {other}")),
        },
    )?;
    let request = |query: String| SearchRequest {
        query,
        kind: args.kind.as_deref().and_then(ItemKind::parse),
        column: args.column.clone(),
        year: args.year,
        sort: if args.sort == "date" {
            Sort::Date
        } else {
            Sort::Relevance
        },
        offset: args.offset,
        limit: args.limit,
    };
    let run = |query: String| {
        index.search(&request(query)).map_err(|err| match err {
            SearchError::UnknownColumn(_) => {
                Failure(2, format!("{err} (`kiosk columns` lists them)"))
            }
            other => Failure(3, other.to_string()),
        })
    };
    if let Some(file) = &args.queries {
        let bytes = std::fs::read(file)
            .map_err(|err| Failure(3, format!("cannot read {}: {err}", file.display())))?;
        let mut out = std::io::stdout().lock();
        // One line that is not UTF-8 answers for itself; the rest of the batch still runs.
        for (number, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let json = match std::str::from_utf8(raw) {
                Ok(line) if line.trim().is_empty() => continue,
                Ok(line) => {
                    let mut json = kiosk::text::results_json(&run(line.to_owned())?);
                    json["query"] = serde_json::Value::String(line.to_owned());
                    json
                }
                Err(_) => serde_json::json!({
                    "query": String::from_utf8_lossy(raw),
                    "line": number + 1,
                    "error": "the line is not valid UTF-8 text; it was not searched",
                }),
            };
            let _ = writeln!(out, "{json}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.explain {
        let explained = index
            .explain(&request(args.query.clone().unwrap_or_default()))
            .map_err(|err| Failure(3, err.to_string()))?;
        print!("{}", kiosk::text::render_explanation(&explained));
        return Ok(ExitCode::SUCCESS);
    }
    let results = run(args.query.clone().unwrap_or_default())?;
    if args.json {
        println!("{}", kiosk::text::results_json(&results));
    } else {
        print!("{}", kiosk::text::render_results(&results));
    }
    Ok(ExitCode::SUCCESS)
}

fn load(dir: &Path) -> Result<Loaded, Failure> {
    source::load(dir).map_err(|err| Failure(3, err.to_string()))
}

/// Loads the content a command works on. Problems are logged, not printed: `kiosk check` is
/// the command that reports them.
fn load_content(
    source: Option<&Path>,
    data_dir: &DataDir,
) -> Result<(ContentOrigin, Loaded), Failure> {
    let origin = resolve_content(source, data_dir).map_err(|err| Failure(3, err.to_string()))?;
    let loaded = load(origin.path())?;
    if loaded.errors() > 0 {
        tracing::warn!(
            source = %origin.path().display(),
            errors = loaded.errors(),
            "the content has errors; `kiosk check` lists them"
        );
    }
    Ok((origin, loaded))
}

fn import(command: ImportCommand, config_file: Option<&Path>) -> Result<ExitCode, Failure> {
    use kiosk::import::ImportConfig;
    let load_config = || match config_file {
        Some(path) => ImportConfig::load(path).map_err(|err| Failure(4, err.to_string())),
        None => Ok(ImportConfig::default()),
    };
    let (urls, sitemaps, mirror, out, json) = match command {
        ImportCommand::Web {
            urls,
            sitemaps,
            mirror,
            out,
            json,
        } => (urls, sitemaps, mirror, out, json),
        ImportCommand::Page { file, url, json } => {
            let config = load_config()?;
            let url =
                url::Url::parse(&url).map_err(|err| Failure(2, format!("--url {url}: {err}")))?;
            let bytes = std::fs::read(&file)
                .map_err(|err| Failure(3, format!("{}: {err}", file.display())))?;
            let page = kiosk::import::crawl::page_of(&url, &bytes, None, &config.profiles());
            print_report(json, &page, kiosk::import::render_page);
            return Ok(ExitCode::SUCCESS);
        }
        ImportCommand::Sheet {
            file,
            mapping,
            out,
            json,
        } => {
            let mapping = match mapping {
                Some(path) => kiosk::import::sheet::Mapping::load(&path)
                    .map_err(|err| Failure(4, err.to_string()))?,
                None => kiosk::import::sheet::Mapping::default(),
            };
            let report =
                kiosk::import::import_sheet(&out, &file, &mapping).map_err(import_failure)?;
            print_report(json, &report, kiosk::import::render_sheet_report);
            return Ok(ExitCode::SUCCESS);
        }
    };
    let mut config = load_config()?;
    config.web.urls.extend(urls);
    config.web.sitemaps.extend(sitemaps);
    if mirror.is_some() {
        config.web.mirror = mirror;
    }
    let problems = config.problems();
    if !problems.is_empty() {
        return Err(Failure(2, problems.join("; ")));
    }
    if kiosk::import::journal_path(&out).is_file() && config.web.mirror.is_none() {
        eprintln!("kiosk import web: going on with the crawl that was interrupted");
    }
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut last = std::time::Instant::now();
    let mut progress = |p: kiosk::import::crawl::Progress| {
        if last.elapsed() < std::time::Duration::from_secs(1) {
            return;
        }
        last = std::time::Instant::now();
        let eta = if p.fetched > 0 && p.queued > 0 {
            let per_page = p.elapsed.as_secs_f64() / p.fetched as f64;
            format!(", about {:.0} s left", per_page * p.queued as f64)
        } else {
            String::new()
        };
        let line = format!(
            "kiosk import web: {} pages, {} articles, {} errors, {} waiting{eta}",
            p.fetched, p.articles, p.errors, p.queued
        );
        if tty {
            eprint!("\r{line}\x1b[K");
        } else {
            eprintln!("{line}");
        }
    };
    let result = kiosk::import::import_web(&out, &config, &mut progress);
    if tty {
        eprintln!();
    }
    let report = result.map_err(import_failure)?;
    print_report(json, &report, kiosk::import::render_report);
    Ok(ExitCode::SUCCESS)
}

fn publish(config_file: Option<&Path>, json: bool) -> Result<ExitCode, Failure> {
    use kiosk::import::ImportConfig;
    let file = config_file.ok_or_else(|| Failure(2, "kiosk publish needs --config FILE: the import config with its [publish] section (docs/import.md)".into()))?;
    let config = ImportConfig::load(file).map_err(|err| Failure(4, err.to_string()))?;
    let report = kiosk::import::publish::publish(&config, &mut |_| {}).map_err(import_failure)?;
    print_report(json, &report, kiosk::import::publish::render);
    Ok(if report.outcome == "refused" {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A new folder under the system's temporary folder, named after this process.
fn tempfile_dir(name: &str) -> Result<PathBuf, Failure> {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .map_err(|err| Failure(3, format!("cannot make {}: {err}", dir.display())))?;
    Ok(dir)
}

/// The content a benchmark uses without `--source`: the hebei corpus beside the project when it
/// is there, else the sample hall.
fn default_bench_source() -> PathBuf {
    let shared = PathBuf::from("../shared/corpora/hebei-gov");
    if shared.join("site.toml").is_file() {
        shared
    } else {
        kiosk::datadir::resolve_content(None, &DataDir::new("/nonexistent"))
            .map(|origin| origin.path().to_path_buf())
            .unwrap_or_default()
    }
}

/// The exit code of an import's failure: its config (2), a file (3), the network (7).
fn import_failure(err: kiosk::import::ImportError) -> Failure {
    use kiosk::import::ImportError;
    match err {
        ImportError::Config(_) => Failure(2, err.to_string()),
        ImportError::Io { .. } => Failure(3, err.to_string()),
        ImportError::Network(_) => Failure(7, err.to_string()),
    }
}

/// A report as one JSON object (`--json`), or as lines for a person.
fn print_report<T: serde::Serialize>(json: bool, report: &T, render: fn(&T) -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string(report).expect("a report serialises")
        );
    } else {
        print!("{}", render(report));
    }
}
