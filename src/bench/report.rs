//! The benchmark's figures and their table: percentiles, the targets and whether each is met,
//! rendered as Markdown. Pure: the measuring is in [`super`].

use std::fmt::Write as _;
use std::time::Duration;

/// The marks between which `kiosk bench search --out FILE` replaces the figures, so that the
/// prose around them survives a re-run.
pub const BEGIN_MARK: &str = "<!-- kiosk bench: begin -->";
pub const END_MARK: &str = "<!-- kiosk bench: end -->";

/// The targets of the issue, for this 2-core machine at 100k items.
pub mod targets {
    use std::time::Duration;
    pub const KEYSTROKE_P99: Duration = Duration::from_millis(10);
    pub const FIRST_KEYSTROKE: Duration = Duration::from_millis(2);
    pub const SPEEDUP_AT_MEDIAN: f64 = 5.0;
    pub const BUILD_ITEMS_PER_SEC: f64 = 3000.0;
    pub const OPEN_AND_FIRST_QUERY: Duration = Duration::from_millis(300);
}

/// One timed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub query: String,
    pub duration: Duration,
    /// Items it found: ours counts every match; FTS5 stops at its `LIMIT 10`.
    pub hits: usize,
}

/// Latency percentiles of some samples (nearest rank).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    pub samples: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latency {
    pub fn of(durations: impl IntoIterator<Item = Duration>) -> Latency {
        let mut sorted: Vec<Duration> = durations.into_iter().collect();
        sorted.sort();
        Latency {
            samples: sorted.len(),
            p50: percentile(&sorted, 50.0),
            p99: percentile(&sorted, 99.0),
            max: sorted.last().copied().unwrap_or_default(),
        }
    }
}

/// The nearest-rank percentile of sorted values (zero for none).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One engine on one query set.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SetRun {
    pub latency: Latency,
    /// Queries in the set (one round).
    pub queries: usize,
    /// Of those, how many found at least one item.
    pub found: usize,
}

impl SetRun {
    /// The figures of the samples whose query passes `keep`. `rounds` is how many times each
    /// query was timed; found counts are per query, from its last round.
    pub fn of(samples: &[Sample], rounds: usize, keep: impl Fn(&str) -> bool) -> SetRun {
        let kept: Vec<&Sample> = samples.iter().filter(|s| keep(&s.query)).collect();
        let rounds = rounds.max(1);
        let per_round = kept.len() / rounds;
        let last_round = &kept[kept.len() - per_round..];
        SetRun {
            latency: Latency::of(kept.iter().map(|s| s.duration)),
            queries: per_round,
            found: last_round.iter().filter(|s| s.hits > 0).count(),
        }
    }
}

/// A row of latencies: ours, and the baseline's when it can run the set at all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetFigures {
    pub name: String,
    pub ours: SetRun,
    pub fts5: Option<SetRun>,
    /// The p99 this set must stay under, if it has one.
    pub p99_target: Option<Duration>,
}

/// Building one engine's index.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BuildFigures {
    pub time: Duration,
    pub items: usize,
    pub bytes: u64,
}

impl BuildFigures {
    pub fn items_per_sec(&self) -> f64 {
        self.items as f64 / self.time.as_secs_f64().max(1e-9)
    }
}

/// A fresh `kiosk bench open` process: opening our index and the first query, cold.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenFigures {
    pub query: String,
    /// Loading the jieba dictionary.
    pub jieba: Duration,
    /// Opening the index (metadata, vocabulary, tantivy), after jieba.
    pub open: Duration,
    /// The first query, after opening.
    pub first_query: Duration,
    /// What the first query found.
    pub first_query_total: usize,
    /// Peak RSS of the process after the first query, in KiB.
    pub peak_rss_kib: u64,
}

impl OpenFigures {
    /// Open plus first query, the jieba dictionary included.
    pub fn total(&self) -> Duration {
        self.jieba + self.open + self.first_query
    }
}

/// The machine the figures come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_kib: u64,
}

/// The corpus the figures come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CorpusFigures {
    pub seed_source: String,
    pub seed_titles: usize,
    pub seed_sentences: usize,
    pub items: usize,
    /// Body length in characters: 10th, 50th and 90th percentile.
    pub body_chars: (usize, usize, usize),
    pub kinds: Vec<(String, usize)>,
    pub generation: Duration,
}

/// Everything one run of the benchmark measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub command: String,
    pub machine: Machine,
    pub corpus: CorpusFigures,
    pub rounds: usize,
    pub ours_build: BuildFigures,
    pub fts5_build: BuildFigures,
    /// The whole queries (the median comparison is made on them).
    pub queries: SetFigures,
    pub two_char: SetFigures,
    pub three_plus: SetFigures,
    pub keystrokes: SetFigures,
    pub first_keystroke: SetFigures,
    pub initials: SetFigures,
    pub first_initial: SetFigures,
    pub open: OpenFigures,
    /// From spawning the child process to reading its first results.
    pub open_process: Duration,
    /// Peak RSS of the child after it also ran every keystroke and initials query, in KiB.
    pub serving_peak_rss_kib: u64,
    /// Peak RSS of the benchmark process (generation, both builds, all queries), in KiB.
    pub bench_peak_rss_kib: u64,
    /// Our slowest queries of every set: the query, its slowest time, the items it matched.
    pub slowest: Vec<(String, Duration, usize)>,
}

/// The `n` slowest distinct queries of some samples, slowest first, each with its slowest time.
pub fn slowest<'a>(
    samples: impl IntoIterator<Item = &'a Sample>,
    n: usize,
) -> Vec<(String, Duration, usize)> {
    let mut worst: std::collections::HashMap<&str, (Duration, usize)> =
        std::collections::HashMap::new();
    for sample in samples {
        let entry = worst.entry(&sample.query).or_default();
        if sample.duration >= entry.0 {
            *entry = (sample.duration, sample.hits);
        }
    }
    let mut list: Vec<(String, Duration, usize)> = worst
        .into_iter()
        .map(|(query, (duration, hits))| (query.to_owned(), duration, hits))
        .collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(n);
    list
}

/// Milliseconds, with precision to match the size.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{} ms", thousands(ms.round() as u64))
    }
}

/// `123456` → `123,456`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as MiB (or KiB for small indexes).
pub fn size(bytes: u64) -> String {
    if bytes >= 10 * 1024 * 1024 {
        format!("{} MiB", thousands(bytes / (1024 * 1024)))
    } else if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KiB", thousands(bytes.div_ceil(1024)))
    }
}

/// Whether a time stays under its limit, and by how much it misses.
pub fn at_most(value: Duration, limit: Duration) -> String {
    if value <= limit {
        "yes".to_owned()
    } else {
        format!(
            "**no**: {:.0}% over",
            (value.as_secs_f64() / limit.as_secs_f64() - 1.0) * 100.0
        )
    }
}

/// Whether a figure reaches its floor, and by how much it misses.
pub fn at_least(value: f64, floor: f64) -> String {
    if value >= floor {
        "yes".to_owned()
    } else {
        format!("**no**: {:.0}% short", (1.0 - value / floor) * 100.0)
    }
}

fn latencies(run: &SetRun) -> String {
    format!(
        "{} / {} / {}",
        ms(run.latency.p50),
        ms(run.latency.p99),
        ms(run.latency.max)
    )
}

fn found(run: &SetRun) -> String {
    format!(
        "{} of {}",
        thousands(run.found as u64),
        thousands(run.queries as u64)
    )
}

/// fts5 p50 / ours p50.
pub fn speedup(set: &SetFigures) -> Option<f64> {
    let fts5 = set.fts5?;
    let ours = set.ours.latency.p50.as_secs_f64();
    (ours > 0.0).then(|| fts5.latency.p50.as_secs_f64() / ours)
}

/// The figures as Markdown: what was measured, on what, and the table.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let c = &report.corpus;
    let m = &report.machine;
    let _ = writeln!(out, "Command: `{}`\n", report.command);
    let _ = writeln!(
        out,
        "Machine: {} CPUs ({}), {} GiB of memory.\n",
        m.cpus,
        if m.cpu_model.is_empty() {
            "model unknown"
        } else {
            &m.cpu_model
        },
        m.memory_kib / (1024 * 1024)
    );
    let kinds: Vec<String> = c
        .kinds
        .iter()
        .map(|(k, n)| format!("{} {k}", thousands(*n as u64)))
        .collect();
    let _ = writeln!(
        out,
        "Corpus: {} synthetic items generated in {:.1} s from the {} titles and {} distinct sentences \
         of `{}`: {}; bodies of {} / {} / {} characters (10th / 50th / 90th percentile).\n",
        thousands(c.items as u64),
        c.generation.as_secs_f64(),
        thousands(c.seed_titles as u64),
        thousands(c.seed_sentences as u64),
        c.seed_source,
        kinds.join(", "),
        thousands(c.body_chars.0 as u64),
        thousands(c.body_chars.1 as u64),
        thousands(c.body_chars.2 as u64),
    );
    let _ = writeln!(
        out,
        "Latencies are p50 / p99 / max over {} timed rounds of each set (after one untimed warm-up round), \
         in one process, one query at a time; ours is `SearchIndex::search` with 10 results (hits, \
         snippets, facets, total), FTS5 is `MATCH` of the query as a phrase, `ORDER BY bm25` with the \
         title weighted, `LIMIT 10`, with a snippet (no total, no facets).\n",
        report.rounds
    );
    out.push_str("| figure | ours (tantivy, bigrams) | SQLite FTS5, trigram | target | met |\n");
    out.push_str("|---|---|---|---|---|\n");
    let mut row = |cells: [&str; 5]| {
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    };
    let build = |b: &BuildFigures| {
        format!(
            "{:.1} s, {} items/s",
            b.time.as_secs_f64(),
            thousands(b.items_per_sec().round() as u64)
        )
    };
    row([
        &format!(
            "index build, {} items",
            thousands(report.ours_build.items as u64)
        ),
        &build(&report.ours_build),
        &build(&report.fts5_build),
        "≥ 3,000 items/s",
        &at_least(
            report.ours_build.items_per_sec(),
            targets::BUILD_ITEMS_PER_SEC,
        ),
    ]);
    row([
        "index size on disk",
        &size(report.ours_build.bytes),
        &size(report.fts5_build.bytes),
        "",
        "",
    ]);
    for set in [
        &report.queries,
        &report.two_char,
        &report.three_plus,
        &report.keystrokes,
        &report.first_keystroke,
        &report.initials,
        &report.first_initial,
    ] {
        let fts5_latency = set
            .fts5
            .as_ref()
            .map_or("cannot (no pinyin)".to_owned(), latencies);
        let (target, met) = match set.p99_target {
            Some(limit) => (
                format!("p99 ≤ {}", ms(limit)),
                at_most(set.ours.latency.p99, limit),
            ),
            None => (String::new(), String::new()),
        };
        row([
            &format!("{}: p50 / p99 / max", set.name),
            &latencies(&set.ours),
            &fts5_latency,
            &target,
            &met,
        ]);
        let fts5_found = set.fts5.as_ref().map_or("—".to_owned(), found);
        let (target, met) = if std::ptr::eq(set, &report.two_char) {
            let all = set.ours.found == set.ours.queries && set.ours.queries > 0;
            (
                "ours finds them".to_owned(),
                if all {
                    "yes".to_owned()
                } else {
                    "**no**".to_owned()
                },
            )
        } else {
            (String::new(), String::new())
        };
        row([
            &format!("{}: found something", set.name),
            &found(&set.ours),
            &fts5_found,
            &target,
            &met,
        ]);
    }
    if let Some(speedup) = speedup(&report.queries) {
        row([
            &format!("{}: FTS5 p50 ÷ our p50", report.queries.name),
            &format!("{speedup:.1}×"),
            "",
            "≥ 5×",
            &at_least(speedup, targets::SPEEDUP_AT_MEDIAN),
        ]);
    }
    if let Some(speedup) = speedup(&report.three_plus) {
        row([
            &format!("{}: FTS5 p50 ÷ our p50", report.three_plus.name),
            &format!("{speedup:.1}×"),
            "",
            "",
            "",
        ]);
    }
    let o = &report.open;
    row([
        &format!(
            "open index + first query ({}), fresh process: jieba load + open + query",
            o.query
        ),
        &format!(
            "{} ({} + {} + {})",
            ms(o.total()),
            ms(o.jieba),
            ms(o.open),
            ms(o.first_query)
        ),
        "",
        "≤ 300 ms",
        &at_most(o.total(), targets::OPEN_AND_FIRST_QUERY),
    ]);
    row([
        "spawn of that process → its first results",
        &ms(report.open_process),
        "",
        "",
        "",
    ]);
    row([
        "peak RSS, that process after the first query",
        &size(o.peak_rss_kib * 1024),
        "",
        "",
        "",
    ]);
    row([
        "peak RSS, that process after every keystroke and initials query",
        &size(report.serving_peak_rss_kib * 1024),
        "",
        "",
        "",
    ]);
    row([
        "peak RSS, the benchmark process (generation, both builds, all queries)",
        &size(report.bench_peak_rss_kib * 1024),
        "",
        "",
        "",
    ]);
    if !report.slowest.is_empty() {
        let list: Vec<String> = report
            .slowest
            .iter()
            .map(|(query, time, hits)| {
                format!(
                    "{query} {} ({} matches)",
                    ms(*time),
                    thousands(*hits as u64)
                )
            })
            .collect();
        let _ = writeln!(out, "\nOur slowest queries: {}.", list.join(", "));
    }
    out
}

/// The new contents of the report file: the rendered figures between the marks of `existing`
/// (keeping everything around them), or a new file with just the figures.
pub fn splice(existing: Option<&str>, figures: &str) -> String {
    match existing {
        Some(text) if text.contains(BEGIN_MARK) => splice_named(text, "", figures),
        _ => format!("# Performance\n\n{BEGIN_MARK}\n{figures}{END_MARK}\n"),
    }
}

/// `text` with `figures` between the marks of the benchmark `name` (`<!-- kiosk bench NAME:
/// begin -->` … `end -->`; `""` for the search benchmark), or added at its end with the marks.
pub fn splice_named(text: &str, name: &str, figures: &str) -> String {
    let name = if name.is_empty() {
        String::new()
    } else {
        format!(" {name}")
    };
    let begin = format!("<!-- kiosk bench{name}: begin -->");
    let end = format!("<!-- kiosk bench{name}: end -->");
    let block = format!("{begin}\n{figures}{end}\n");
    if let (Some(a), Some(b)) = (text.find(&begin), text.find(&end)) {
        if a < b {
            let after = &text[b + end.len()..];
            let after = after.strip_prefix('\n').unwrap_or(after);
            return format!("{}{block}{after}", &text[..a]);
        }
    }
    format!("{text}\n{block}")
}
