//! The `kiosk` command: parses the command line and calls into the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiosk::config::Config;
use kiosk::datadir::{resolve_content, ContentOrigin, DataDir};
use kiosk::source::{self, Loaded};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (for `check`: no errors; warnings are allowed)
  1  `check` found errors in the content
  2  the command line is wrong
  3  the content, an item or the data directory was not found or cannot be read
  4  the config file cannot be read or is not valid";

#[derive(Parser)]
#[command(
    name = "kiosk",
    version,
    about = "Self-service information terminal for a government service hall (信息公开查阅点)",
    long_about = "Self-service information terminal for a government service hall (信息公开查阅点).\n\
                  With no command it will open the kiosk screen; until the screen exists it prints this help.",
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
    let Some(command) = cli.command else {
        use clap::CommandFactory;
        let _ = Cli::command().print_help();
        return Ok(ExitCode::SUCCESS);
    };
    let env = |name: &str| std::env::var(name).ok();
    let loaded_config =
        Config::load(cli.config.as_deref(), &env).map_err(|err| Failure(4, err.to_string()))?;
    for warning in &loaded_config.warnings {
        let file = loaded_config.file.as_deref().unwrap_or(Path::new("config"));
        tracing::warn!(config = %file.display(), "{warning}");
    }
    let data_dir = DataDir::resolve(cli.data_dir.as_deref(), &loaded_config.config);
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
    }
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
