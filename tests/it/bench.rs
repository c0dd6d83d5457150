//! `kiosk bench`: the corpus generator, the query sets, the FTS5 baseline and the report, on a
//! small corpus. No timing is asserted here: the figures live in docs/performance.md.

use std::path::Path;
use std::time::Duration;

use kiosk::bench::corpus::{self, Seed};
use kiosk::bench::fts5::{match_expression, Fts5Index};
use kiosk::bench::queries::{self, initials, prefixes, QuerySets};
use kiosk::bench::report::{self, percentile, splice};
use kiosk::content::ItemKind;
use kiosk::search::{SearchIndex, SearchRequest};

use crate::support::repo_root;

fn sample_seed() -> Seed {
    let loaded = kiosk::source::load(&repo_root().join("kiosk-data/sample")).unwrap();
    Seed::new(&loaded.content)
}

#[test]
fn sentences_split_after_chinese_sentence_marks() {
    fn check(text: &str, expected: &[&str]) {
        assert_eq!(corpus::sentences(text), expected, "{text}");
    }
    check(
        "第一句。第二句！第三句？第四句；",
        &["第一句。", "第二句！", "第三句？", "第四句；"],
    );
    check("没有句号的尾巴", &["没有句号的尾巴"]);
    check("一。 \n 二。尾", &["一。", "二。", "尾"]);
    check("", &[]);
}

#[test]
fn queries_are_typed_one_character_at_a_time() {
    fn check(query: &str, expected: &[&str]) {
        assert_eq!(prefixes(query), expected, "{query}");
    }
    check("社保", &["社", "社保"]);
    check("营业执照", &["营", "营业", "营业执", "营业执照"]);
    check("yyzz", &["y", "yy", "yyz", "yyzz"]);
}

#[test]
fn initials_follow_the_pinyin_reading() {
    fn check(query: &str, expected: &str) {
        assert_eq!(initials(query), expected, "{query}");
    }
    check("营业执照", "yyzz");
    check("社会保障", "shbz");
    check("银行", "yh");
}

#[test]
fn percentiles_are_nearest_rank() {
    let ms = |n: u64| Duration::from_millis(n);
    let sorted: Vec<Duration> = (1..=100).map(ms).collect();
    assert_eq!(percentile(&sorted, 50.0), ms(50));
    assert_eq!(percentile(&sorted, 99.0), ms(99));
    assert_eq!(percentile(&sorted, 100.0), ms(100));
    assert_eq!(percentile(&[ms(7)], 99.0), ms(7));
    assert_eq!(percentile(&[], 50.0), Duration::ZERO);
}

#[test]
fn a_rerun_replaces_only_the_figures_between_the_marks() {
    let old = format!(
        "# Performance\n\nprose before\n\n{}\nold table\n{}\nprose after\n",
        report::BEGIN_MARK,
        report::END_MARK
    );
    let new = splice(Some(&old), "new table\n");
    assert_eq!(
        new,
        format!(
            "# Performance\n\nprose before\n\n{}\nnew table\n{}\nprose after\n",
            report::BEGIN_MARK,
            report::END_MARK
        )
    );
    assert!(splice(None, "t\n").contains("t\n"));
    assert!(splice(Some("no marks"), "t\n").starts_with("# Performance"));
}

#[test]
fn the_generator_is_deterministic_and_looks_like_a_real_site() {
    let seed = sample_seed();
    let a = corpus::generate(&seed, 400, 7);
    let b = corpus::generate(&seed, 400, 7);
    assert_eq!(a, b, "the same seed gives the same corpus");
    assert_ne!(
        a.items,
        corpus::generate(&seed, 400, 8).items,
        "another seed gives another corpus"
    );
    assert_eq!(a.items.len(), 400);
    let count = |kind: ItemKind| a.items.iter().filter(|i| i.kind == kind).count();
    assert!(count(ItemKind::Disclosure) > 200, "mostly disclosures");
    assert!(
        count(ItemKind::Guide) > 10 && count(ItemKind::Guide) < 100,
        "about a tenth guides"
    );
    assert!(count(ItemKind::Interpretation) > 0 && count(ItemKind::Notice) > 0);
    let titles: std::collections::HashSet<&str> =
        a.items.iter().map(|i| i.title.as_str()).collect();
    assert!(
        titles.len() > seed.titles(),
        "titles are recombined, not only repeated"
    );
    for item in &a.items {
        assert!(
            (2..=5).contains(&item.keywords.len()),
            "{}: {:?}",
            item.id,
            item.keywords
        );
        let sentences = corpus::sentences(&item.body.plain_text()).len();
        assert!(
            (3..=12).contains(&sentences),
            "{}: {sentences} sentences",
            item.id
        );
        let year = item.date.unwrap().year();
        assert!((2015..=2026).contains(&year));
        assert!(a.columns.get(&item.column).is_some());
        assert_eq!(item.guide.is_some(), item.kind == ItemKind::Guide);
        if let Some(target) = &item.interprets {
            assert!(a.item(target).is_some());
        }
    }
}

#[test]
fn query_sets_are_realistic_chinese_queries_and_their_prefixes() {
    let content = corpus::generate(&sample_seed(), 400, 7);
    let realistic = queries::realistic(&content, 60, 7);
    assert_eq!(realistic, queries::realistic(&content, 60, 7));
    assert_eq!(realistic.len(), 60);
    let distinct: std::collections::HashSet<&String> = realistic.iter().collect();
    assert_eq!(distinct.len(), 60);
    for query in &realistic {
        let chars = query.chars().count();
        assert!(
            (2..=8).contains(&chars) && query.chars().all(kiosk::search::normalize::is_han),
            "{query}"
        );
    }
    assert!(
        realistic.iter().filter(|q| q.chars().count() == 2).count() >= 15,
        "two-character words"
    );
    assert!(
        realistic.iter().filter(|q| q.chars().count() >= 5).count() >= 10,
        "short phrases"
    );
    let sets = QuerySets::new(realistic.clone());
    let total_chars: usize = realistic.iter().map(|q| q.chars().count()).sum();
    assert_eq!(sets.keystrokes.len(), total_chars);
    assert!(sets
        .initials
        .iter()
        .all(|q| q.chars().all(|c| c.is_ascii_lowercase())));
}

#[test]
fn trigram_fts5_finds_three_characters_and_more_but_never_two() {
    let content = corpus::generate(&sample_seed(), 300, 7);
    let dir = tempfile::tempdir().unwrap();
    let fts5 = Fts5Index::build(&content, &dir.path().join("fts5.sqlite")).unwrap();
    SearchIndex::build(&content, &dir.path().join("ours"), "test").unwrap();
    let ours = SearchIndex::open(&dir.path().join("ours")).unwrap();
    let title = &content.items[0].title;
    let three: String = title.chars().take(3).collect();
    let two: String = title.chars().take(2).collect();
    assert!(!fts5.search(&three).unwrap().is_empty(), "{three}");
    assert!(fts5.search(&two).unwrap().is_empty(), "{two}");
    assert!(
        ours.search(&SearchRequest::new(&two)).unwrap().total > 0,
        "{two}"
    );
    // What a visitor types is a phrase, never FTS5 syntax.
    assert_eq!(match_expression(r#"a"b OR c"#), r#""a""b OR c""#);
    assert!(fts5.search(r#"" OR NEAR( *"#).is_ok());
}

#[test]
fn bench_search_measures_both_engines_and_reports_every_figure() {
    let options = kiosk::bench::Options {
        items: 300,
        seed_source: repo_root().join("kiosk-data/sample"),
        seed: 7,
        queries: 40,
        rounds: 1,
        kiosk_exe: Path::new(env!("CARGO_BIN_EXE_kiosk")).to_owned(),
        command: "kiosk bench search --items 300".to_owned(),
        keep: None,
    };
    let mut steps = Vec::new();
    let report = kiosk::bench::run(&options, &mut |step| steps.push(step.to_owned())).unwrap();
    assert!(steps.len() >= 5, "{steps:?}");
    assert_eq!(report.ours_build.items, 300);
    assert!(report.ours_build.bytes > 0 && report.fts5_build.bytes > 0);
    assert_eq!(report.queries.ours.queries, 40);
    let two = &report.two_char;
    assert!(two.ours.queries > 0);
    assert_eq!(
        two.ours.found, two.ours.queries,
        "ours finds every 2-character query"
    );
    assert_eq!(two.fts5.unwrap().found, 0, "trigram FTS5 finds none");
    assert!(
        report.first_initial.fts5.is_none(),
        "FTS5 cannot search pinyin initials"
    );
    assert!(
        report.open.first_query_total > 0,
        "the child's first query found something"
    );
    assert!(
        report.open.peak_rss_kib > 0 && report.serving_peak_rss_kib >= report.open.peak_rss_kib
    );
    assert!(report.bench_peak_rss_kib > 0);

    let table = report::render(&report);
    for figure in [
        "Command: `kiosk bench search --items 300`",
        "| index build, 300 items |",
        "| index size on disk |",
        "| 40 queries: p50 / p99 / max |",
        "| their 2-character queries: found something |",
        "| every keystroke (each prefix): p50 / p99 / max |",
        "| first keystroke (1 character): p50 / p99 / max |",
        "| pinyin initials, every keystroke: p50 / p99 / max |",
        "| pinyin initials, first letter: p50 / p99 / max |",
        "| 40 queries: FTS5 p50 ÷ our p50 |",
        "| open index + first query (",
        "| peak RSS, the benchmark process",
        "cannot (no pinyin)",
        "Our slowest queries: ",
    ] {
        assert!(table.contains(figure), "no “{figure}” in\n{table}");
    }
}

#[test]
fn bench_import_makes_a_mirror_of_the_pages_asked_for_and_imports_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("performance.md");
    std::fs::write(&out, "# Performance\n").unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["bench", "import", "--pages", "64", "--source"])
        .arg(repo_root().join("kiosk-data/sample"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8(run.stdout).unwrap();
    // 60 articles and 4 list pages, every article an item.
    assert!(text.contains("| 64 | 60 | 0 | 0 |"), "{text}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.starts_with("# Performance\n")
            && written.contains("<!-- kiosk bench import: begin -->\n"),
        "{written}"
    );
}
