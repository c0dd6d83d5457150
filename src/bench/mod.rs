//! `kiosk bench`: measures our search engine against SQLite FTS5 (trigram) on a synthetic corpus
//! made of real sentences: build time, index size, query latency (whole queries, every
//! keystroke, pinyin initials), a cold start in a fresh process, and peak memory.
//!
//! The pure parts: [`corpus`] (the generator), [`queries`] (the query sets), [`report`] (the
//! figures and their table). The IO parts: [`fts5`] (the baseline in a SQLite file) and this
//! module (temporary folders, timing, the child process, `/proc`).

pub mod corpus;
pub mod fts5;
pub mod hostile;
pub mod import;
pub mod queries;
pub mod record;
pub mod report;
pub mod soak;
pub mod startup;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::content::{Content, ItemKind};
use crate::search::{words, SearchError, SearchIndex, SearchRequest};
use crate::source::SourceError;

use self::fts5::{Fts5Error, Fts5Index};
use self::queries::QuerySets;
use self::report::{
    targets, BuildFigures, CorpusFigures, Machine, OpenFigures, Report, Sample, SetFigures, SetRun,
};

/// The corpus and query sets are drawn with this seed unless told otherwise.
pub const DEFAULT_SEED: u64 = 20_240_601;

/// What went wrong in a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Fts5(#[from] Fts5Error),
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the seed source {0} has no items to draw from")]
    EmptySeed(PathBuf),
    #[error("the `bench open` child process failed: {0}")]
    Child(String),
    #[error("the startup probe failed: {0}")]
    Probe(String),
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> BenchError + '_ {
    move |source| BenchError::Io {
        path: path.to_owned(),
        source,
    }
}

/// How to run the benchmark.
#[derive(Debug, Clone)]
pub struct Options {
    pub items: usize,
    /// The content source whose titles and sentences the corpus is made of.
    pub seed_source: PathBuf,
    pub seed: u64,
    /// How many realistic queries.
    pub queries: usize,
    /// Timed rounds of each query set (after one untimed warm-up round).
    pub rounds: usize,
    /// The `kiosk` executable, run as `kiosk bench open` for the cold start.
    pub kiosk_exe: PathBuf,
    /// The command line, for the report.
    pub command: String,
    /// Build the indexes here and keep them (for profiling), instead of in a temporary folder.
    pub keep: Option<PathBuf>,
}

/// The seed source when none is named: the public hebei-gov corpus beside the repository when it
/// is there, else the built-in sample hall.
pub fn default_seed_source() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        PathBuf::from("../shared/corpora/hebei-gov"),
        repo.join("../shared/corpora/hebei-gov"),
    ];
    candidates
        .into_iter()
        .find(|dir| dir.join("site.toml").is_file())
        .unwrap_or_else(|| repo.join("kiosk-data/sample"))
}

/// Where the indexes are built: a folder under the system's temporary directory, removed when
/// dropped, or a folder that is kept.
struct WorkDir {
    dir: PathBuf,
    keep: bool,
}

impl WorkDir {
    fn new(keep: Option<&Path>) -> Result<WorkDir, BenchError> {
        let work = match keep {
            Some(dir) => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir).map_err(io_error(dir))?;
                }
                WorkDir {
                    dir: dir.to_owned(),
                    keep: true,
                }
            }
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos();
                let name = format!("kiosk-bench-{}-{nanos}", std::process::id());
                WorkDir {
                    dir: std::env::temp_dir().join(name),
                    keep: false,
                }
            }
        };
        std::fs::create_dir_all(&work.dir).map_err(io_error(&work.dir))?;
        Ok(work)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Runs the whole benchmark. `progress` hears what is being done (it takes minutes at 100k).
pub fn run(options: &Options, progress: &mut dyn FnMut(&str)) -> Result<Report, BenchError> {
    let work = WorkDir::new(options.keep.as_deref())?;
    progress(&format!(
        "reading the seed source {}",
        options.seed_source.display()
    ));
    let loaded = crate::source::load(&options.seed_source)?;
    if loaded.content.items.is_empty() {
        return Err(BenchError::EmptySeed(options.seed_source.clone()));
    }
    progress(&format!("generating {} items", options.items));
    let started = Instant::now();
    let seed = corpus::Seed::new(&loaded.content);
    drop(loaded);
    let content = corpus::generate(&seed, options.items, options.seed);
    let generation = started.elapsed();
    let corpus_figures = corpus_figures(&options.seed_source, &seed, &content, generation);
    drop(seed);
    let sets = QuerySets::new(queries::realistic(&content, options.queries, options.seed));

    progress("building our index");
    let ours_dir = work.dir.join("ours");
    let started = Instant::now();
    SearchIndex::build(&content, &ours_dir, "bench")?;
    let ours_build = BuildFigures {
        time: started.elapsed(),
        items: content.items.len(),
        bytes: dir_size(&ours_dir),
    };

    progress("building the FTS5 index");
    let fts5_dir = work.dir.join("fts5");
    std::fs::create_dir_all(&fts5_dir).map_err(io_error(&fts5_dir))?;
    let started = Instant::now();
    let fts5 = Fts5Index::build(&content, &fts5_dir.join("fts5.sqlite"))?;
    let fts5_build = BuildFigures {
        time: started.elapsed(),
        items: content.items.len(),
        bytes: dir_size(&fts5_dir),
    };
    drop(content);

    progress("cold start: opening our index and the first query in a fresh process");
    let first_query = sets
        .queries
        .first()
        .cloned()
        .unwrap_or_else(|| "通知".to_owned());
    let queries_file = work.dir.join("queries.txt");
    let all: Vec<&str> = sets
        .keystrokes
        .iter()
        .chain(&sets.initials)
        .map(String::as_str)
        .collect();
    std::fs::write(&queries_file, all.join("\n")).map_err(io_error(&queries_file))?;
    let child = run_child(&options.kiosk_exe, &ours_dir, &first_query, &queries_file)?;

    let index = SearchIndex::open(&ours_dir)?;
    words::warm_up();
    let rounds = options.rounds.max(1);
    let ours = |query: &str| -> Result<usize, BenchError> {
        Ok(index.search(&SearchRequest::new(query))?.total)
    };
    let theirs = |query: &str| -> Result<usize, BenchError> { Ok(fts5.search(query)?.len()) };
    progress(&format!(
        "timing {} queries × {rounds} rounds",
        sets.queries.len()
    ));
    let ours_queries = time(&sets.queries, rounds, ours)?;
    let fts5_queries = time(&sets.queries, rounds, theirs)?;
    progress(&format!(
        "timing {} keystrokes × {rounds} rounds",
        sets.keystrokes.len()
    ));
    let ours_keys = time(&sets.keystrokes, rounds, ours)?;
    let fts5_keys = time(&sets.keystrokes, rounds, theirs)?;
    progress(&format!(
        "timing {} pinyin-initials keystrokes × {rounds} rounds",
        sets.initials.len()
    ));
    let ours_initials = time(&sets.initials, rounds, ours)?;

    let chars = |q: &str| q.chars().count();
    let set = |name: &str,
               ours: &[Sample],
               fts5: Option<&[Sample]>,
               keep: &dyn Fn(&str) -> bool,
               p99_target: Option<Duration>| SetFigures {
        name: name.to_owned(),
        ours: SetRun::of(ours, rounds, keep),
        fts5: fts5.map(|samples| SetRun::of(samples, rounds, keep)),
        p99_target,
    };
    let n = sets.queries.len();
    Ok(Report {
        command: options.command.clone(),
        machine: machine(),
        corpus: corpus_figures,
        rounds,
        ours_build,
        fts5_build,
        queries: set(
            &format!("{n} queries"),
            &ours_queries,
            Some(&fts5_queries),
            &|_| true,
            None,
        ),
        two_char: set(
            "their 2-character queries",
            &ours_queries,
            Some(&fts5_queries),
            &|q| chars(q) == 2,
            None,
        ),
        three_plus: set(
            "their 3–8-character queries",
            &ours_queries,
            Some(&fts5_queries),
            &|q| chars(q) >= 3,
            None,
        ),
        keystrokes: set(
            "every keystroke (each prefix)",
            &ours_keys,
            Some(&fts5_keys),
            &|_| true,
            Some(targets::KEYSTROKE_P99),
        ),
        first_keystroke: set(
            "first keystroke (1 character)",
            &ours_keys,
            Some(&fts5_keys),
            &|q| chars(q) == 1,
            Some(targets::FIRST_KEYSTROKE),
        ),
        initials: set(
            "pinyin initials, every keystroke",
            &ours_initials,
            None,
            &|_| true,
            Some(targets::KEYSTROKE_P99),
        ),
        first_initial: set(
            "pinyin initials, first letter",
            &ours_initials,
            None,
            &|q| chars(q) == 1,
            Some(targets::FIRST_KEYSTROKE),
        ),
        open: child.open,
        open_process: child.process,
        serving_peak_rss_kib: child.serving_peak_rss_kib,
        bench_peak_rss_kib: peak_rss_kib(),
        slowest: report::slowest(
            ours_queries.iter().chain(&ours_keys).chain(&ours_initials),
            10,
        ),
    })
}

/// Times every query of `set`, in order, `rounds` times after one untimed warm-up round.
fn time(
    set: &[String],
    rounds: usize,
    search: impl Fn(&str) -> Result<usize, BenchError>,
) -> Result<Vec<Sample>, BenchError> {
    let mut samples = Vec::with_capacity(set.len() * rounds);
    for round in 0..=rounds {
        for query in set {
            let started = Instant::now();
            let hits = search(query)?;
            let duration = started.elapsed();
            if round > 0 {
                samples.push(Sample {
                    query: query.clone(),
                    duration,
                    hits,
                });
            }
        }
    }
    Ok(samples)
}

fn corpus_figures(
    source: &Path,
    seed: &corpus::Seed,
    content: &Content,
    generation: Duration,
) -> CorpusFigures {
    let mut lengths: Vec<usize> = content
        .items
        .iter()
        .map(|i| i.body.plain_text().chars().count())
        .collect();
    lengths.sort_unstable();
    let at = |p: usize| {
        lengths
            .get((lengths.len() * p / 100).min(lengths.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let kinds = ItemKind::ALL
        .iter()
        .map(|kind| {
            (
                kind.as_str().to_owned(),
                content.items.iter().filter(|i| i.kind == *kind).count(),
            )
        })
        .collect();
    CorpusFigures {
        seed_source: source.display().to_string(),
        seed_titles: seed.titles(),
        seed_sentences: seed.sentence_count(),
        items: content.items.len(),
        body_chars: (at(10), at(50), at(90)),
        kinds,
        generation,
    }
}

/// What the parent learns from a `kiosk bench open` child.
struct ChildFigures {
    open: OpenFigures,
    process: Duration,
    serving_peak_rss_kib: u64,
}

/// The second line a child prints: its peak RSS after every query of the file.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Serving {
    queries: usize,
    peak_rss_kib: u64,
}

/// Runs `kiosk bench open` and reads its two lines of figures.
fn run_child(
    exe: &Path,
    index: &Path,
    query: &str,
    queries: &Path,
) -> Result<ChildFigures, BenchError> {
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(["bench", "open", "--index"])
        .arg(index)
        .args(["--query", query, "--then"])
        .arg(queries)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(io_error(exe))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut next_line = || -> Result<String, BenchError> {
        match lines.next() {
            Some(Ok(line)) => Ok(line),
            Some(Err(err)) => Err(BenchError::Child(err.to_string())),
            None => Err(BenchError::Child("it printed no figures".to_owned())),
        }
    };
    let first = next_line();
    let process = started.elapsed();
    let second = next_line();
    let status = child.wait().map_err(io_error(exe))?;
    if !status.success() {
        return Err(BenchError::Child(format!("it exited with {status}")));
    }
    let open: OpenFigures =
        serde_json::from_str(&first?).map_err(|err| BenchError::Child(err.to_string()))?;
    let serving: Serving =
        serde_json::from_str(&second?).map_err(|err| BenchError::Child(err.to_string()))?;
    Ok(ChildFigures {
        open,
        process,
        serving_peak_rss_kib: serving.peak_rss_kib,
    })
}

/// The child's side (`kiosk bench open`): loads jieba, opens the index and runs `query`, timing
/// each step from nothing loaded, and prints the figures as one JSON line; then runs every query
/// of `then` (one a line) and prints its peak RSS as a second line.
pub fn open_probe(
    index_dir: &Path,
    query: &str,
    then: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), BenchError> {
    let started = Instant::now();
    words::warm_up();
    let jieba = started.elapsed();
    let index = SearchIndex::open(index_dir)?;
    let open = started.elapsed() - jieba;
    let results = index.search(&SearchRequest::new(query))?;
    let first_query = started.elapsed() - jieba - open;
    let figures = OpenFigures {
        query: query.to_owned(),
        jieba,
        open,
        first_query,
        first_query_total: results.total,
        peak_rss_kib: peak_rss_kib(),
    };
    let stdout = Path::new("stdout");
    let json = serde_json::to_string(&figures).expect("figures serialise");
    writeln!(out, "{json}")
        .and_then(|()| out.flush())
        .map_err(io_error(stdout))?;
    let mut count = 0;
    if let Some(file) = then {
        let text = std::fs::read_to_string(file).map_err(io_error(file))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            index.search(&SearchRequest::new(line))?;
            count += 1;
        }
    }
    let json = serde_json::to_string(&Serving {
        queries: count,
        peak_rss_kib: peak_rss_kib(),
    })
    .expect("figures serialise");
    writeln!(out, "{json}")
        .and_then(|()| out.flush())
        .map_err(io_error(stdout))?;
    Ok(())
}

/// The peak resident set size of this process (VmHWM), in KiB; 0 where /proc is not there.
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// A field of this process's `/proc/self/status` in KiB (`VmRSS:`, `VmHWM:`); 0 where /proc is
/// not there.
pub fn status_kib(name: &str) -> u64 {
    proc_field("/proc/self/status", name)
}

fn proc_field(file: &str, name: &str) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn machine() -> Machine {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_default();
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model,
        memory_kib: proc_field("/proc/meminfo", "MemTotal:"),
    }
}

/// The bytes of every file under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_size(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// Writes the figures into `file`: between its marks when it has them, else as a new file.
pub fn write_report(file: &Path, figures: &str) -> Result<(), BenchError> {
    let existing = match std::fs::read_to_string(file) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(io_error(file)(err)),
    };
    std::fs::write(file, report::splice(existing.as_deref(), figures)).map_err(io_error(file))
}
