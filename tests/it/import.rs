//! `kiosk import web`: extraction measured against the fixture website's truth
//! (tests/fixtures/website, three CMS templates), a mirror import that `kiosk check` accepts and
//! that a second run leaves byte for byte, and a crawl of the same site over real HTTP on
//! 127.0.0.1 that keeps to its rate, to robots.txt and to its hosts, survives a 404 and a
//! page that never answers, and goes on after it was killed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kiosk::import::crawl::{self, CrawlOptions, Fetched};
use kiosk::import::{self as import, ImportConfig};

use crate::http::{Fault, Server};

const HOST: &str = "www.qljkq.gov.cn";

fn fixture() -> PathBuf {
    crate::support::repo_root().join("tests/fixtures/website")
}

fn mirror() -> PathBuf {
    fixture().join("mirror")
}

#[derive(Debug, serde::Deserialize)]
pub struct Truth {
    pub url: String,
    pub urls: Vec<String>,
    pub title: String,
    pub date: String,
    pub publisher: String,
    pub doc_number: String,
    pub index_number: String,
    pub topic: String,
    pub validity: String,
    pub column: Vec<String>,
    pub body_start: String,
    pub attachments: usize,
    pub tables: usize,
    pub template: String,
}

pub fn truth() -> Vec<Truth> {
    std::fs::read_to_string(fixture().join("truth.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn options(hosts: &[&str]) -> CrawlOptions {
    let mut config = ImportConfig::default();
    config.web.hosts = hosts.iter().map(|h| (*h).to_owned()).collect();
    config.crawl_options(None).unwrap()
}

/// The visible text of a Markdown body without whitespace (the truth's `body_start` puts a
/// space between blocks, the screen a line break).
fn plain(markdown: &str) -> String {
    let (body, _) = kiosk::content::Body::parse(markdown);
    without_spaces(&body.plain_text())
}

fn without_spaces(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn extraction_is_measured_on_every_fixture_page() {
    let crawled = crawl::read_mirror(&mirror(), "https", &options(&[]), &mut |_| {}).unwrap();
    let by_url: HashMap<&str, &Fetched> =
        crawled.pages.iter().map(|p| (p.url.as_str(), p)).collect();
    let truth = truth();
    assert!(truth.len() >= 170, "{} articles in the truth", truth.len());
    let mut right: BTreeMap<&str, usize> = BTreeMap::new();
    let mut wrong: Vec<String> = Vec::new();
    for t in &truth {
        let Some(page) = by_url.get(t.url.as_str()) else {
            wrong.push(format!("{}: not read", t.url));
            continue;
        };
        let Some(a) = &page.article else {
            wrong.push(format!("{}: taken for a list ({})", t.url, page.profile));
            continue;
        };
        let body = plain(&a.body);
        let tables = a
            .body
            .lines()
            .filter(|l| l.starts_with("| ---") || l.starts_with("|---"))
            .count();
        let checks: [(&str, bool, String); 12] = [
            ("article", true, String::new()),
            (
                "title",
                a.title == t.title,
                format!("{:?} ≠ {:?}", a.title, t.title),
            ),
            (
                "date",
                a.date == t.date,
                format!("{:?} ≠ {:?}", a.date, t.date),
            ),
            (
                "publisher",
                a.publisher == t.publisher,
                format!("{:?} ≠ {:?}", a.publisher, t.publisher),
            ),
            (
                "doc_number",
                a.doc_number == t.doc_number,
                format!("{:?} ≠ {:?}", a.doc_number, t.doc_number),
            ),
            (
                "index_number",
                a.index_number == t.index_number,
                format!("{:?} ≠ {:?}", a.index_number, t.index_number),
            ),
            (
                "topic",
                a.topic == t.topic,
                format!("{:?} ≠ {:?}", a.topic, t.topic),
            ),
            (
                "validity",
                a.validity == t.validity,
                format!("{:?} ≠ {:?}", a.validity, t.validity),
            ),
            (
                "column",
                a.column == t.column,
                format!("{:?} ≠ {:?}", a.column, t.column),
            ),
            (
                "body_start",
                body.starts_with(&without_spaces(&t.body_start)),
                format!(
                    "{:?} does not start with {:?}",
                    body.chars().take(40).collect::<String>(),
                    t.body_start
                ),
            ),
            (
                "attachments",
                a.attachments.len() == t.attachments,
                format!("{} ≠ {}", a.attachments.len(), t.attachments),
            ),
            (
                "tables",
                tables == t.tables,
                format!("{tables} ≠ {}", t.tables),
            ),
        ];
        for (field, ok, why) in checks {
            if ok {
                *right.entry(field).or_default() += 1;
            } else {
                wrong.push(format!("{} {field}: {why}", t.url));
            }
        }
    }
    // Pages that are no article are not taken for one.
    let article_urls: std::collections::HashSet<&str> = truth
        .iter()
        .flat_map(|t| t.urls.iter().map(String::as_str))
        .collect();
    let false_articles: Vec<&str> = crawled
        .pages
        .iter()
        .filter(|p| p.article.is_some() && !article_urls.contains(p.url.as_str()))
        .map(|p| p.url.as_str())
        .collect();
    println!(
        "extraction on {} fixture articles (share correct per field):",
        truth.len()
    );
    for (field, n) in &right {
        println!("  {field:<13} {:.3}", *n as f64 / truth.len() as f64);
    }
    println!("  lists taken for articles: {}", false_articles.len());
    for line in wrong.iter().take(40) {
        println!("  wrong: {line}");
    }
    assert!(false_articles.is_empty(), "{false_articles:?}");
    for field in [
        "article",
        "title",
        "date",
        "publisher",
        "doc_number",
        "index_number",
        "topic",
        "validity",
        "column",
        "body_start",
        "attachments",
        "tables",
    ] {
        let share = *right.get(field).unwrap_or(&0) as f64 / truth.len() as f64;
        assert!(
            share >= 0.97,
            "{field}: {share:.3} correct\n{}",
            wrong.join("\n")
        );
    }
}

fn import_mirror(src: &Path) -> import::Report {
    let mut config = ImportConfig::default();
    config.web.mirror = Some(mirror());
    import::import_web(src, &config, &mut |_| {}).unwrap()
}

fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in crate::support::files_under(dir) {
        out.insert(
            entry.strip_prefix(dir).unwrap().to_path_buf(),
            std::fs::read(&entry).unwrap(),
        );
    }
    out
}

#[test]
fn a_mirror_becomes_a_source_check_accepts_and_a_second_import_leaves_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("hall");
    let report = import_mirror(&src);
    let truth = truth();
    assert_eq!(
        report.items,
        truth.len(),
        "{}",
        import::render_report(&report)
    );
    assert_eq!(report.added.len(), truth.len());
    assert!(report.duplicates >= 4, "{}", report.duplicates);
    let loaded = kiosk::source::load(&src).unwrap();
    assert_eq!(loaded.errors(), 0, "{}", crate::support::summary(&loaded));
    assert_eq!(loaded.content.items.len(), truth.len());
    // Columns from the breadcrumbs, two levels; the kind from the column's name.
    let interpretation = truth
        .iter()
        .find(|t| t.column.iter().any(|c| c.contains("解读")))
        .unwrap();
    let item = loaded
        .content
        .items
        .iter()
        .find(|i| i.title == interpretation.title)
        .unwrap();
    assert_eq!(item.kind, kiosk::content::ItemKind::Interpretation);
    let before = tree(&src);

    let again = import_mirror(&src);
    assert!(!again.wrote, "{}", import::render_report(&again));
    assert_eq!(again.unchanged, truth.len());
    assert!(again.added.is_empty() && again.changed.is_empty() && again.removed.is_empty());
    assert_eq!(tree(&src), before, "a second import changed the source");
}

#[test]
fn local_additions_survive_a_reimport() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("hall");
    import_mirror(&src);
    // The office renames a column, adds a synonym and an item of its own.
    let columns = std::fs::read_to_string(src.join("columns.toml")).unwrap();
    let first_name = columns
        .lines()
        .find_map(|l| l.strip_prefix("name = "))
        .unwrap()
        .to_owned();
    std::fs::write(
        src.join("columns.toml"),
        columns.replacen(
            &format!("name = {first_name}"),
            "name = \"信息公开（本馆）\"",
            1,
        ),
    )
    .unwrap();
    std::fs::write(src.join("synonyms.txt"), "暂住证 => 居住证\n").unwrap();
    let column_id = columns
        .lines()
        .find_map(|l| l.strip_prefix("id = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    std::fs::write(
        src.join("items/local.jsonl"),
        format!("{{\"id\": \"local-1\", \"kind\": \"notice\", \"column\": \"{column_id}\", \"title\": \"大厅午间值班安排\", \"date\": \"2026-01-05\", \"body\": \"午间12:00至13:30设综合窗口值班。\"}}\n"),
    )
    .unwrap();
    let report = import_mirror(&src);
    assert!(!report.wrote, "{}", import::render_report(&report));
    assert!(std::fs::read_to_string(src.join("columns.toml"))
        .unwrap()
        .contains("信息公开（本馆）"));
    assert_eq!(
        std::fs::read_to_string(src.join("synonyms.txt")).unwrap(),
        "暂住证 => 居住证\n"
    );
    let loaded = kiosk::source::load(&src).unwrap();
    assert_eq!(loaded.errors(), 0, "{}", crate::support::summary(&loaded));
    assert!(loaded.content.item("local-1").is_some());
}

/// Serves the fixture's mirror over HTTP: every file at its path (and folders at `/`).
pub fn serve_fixture() -> Server {
    let server = Server::start();
    let root = mirror().join(HOST);
    for file in crate::support::files_under(&root) {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(&file).unwrap();
        if let Some(dir) = rel.strip_suffix("index.html") {
            server.put(&format!("/{dir}"), bytes.clone());
        }
        server.put(&format!("/{rel}"), bytes);
    }
    server
}

fn crawl_config(server: &Server, rate: f64) -> ImportConfig {
    let mut config = ImportConfig::default();
    config.web.urls = vec![server.url("/")];
    config.web.requests_per_second = rate;
    config.web.concurrency = 2;
    config.web.timeout_secs = 2;
    config.web.retries = 1;
    config
}

#[test]
fn a_crawl_keeps_to_its_rate_robots_txt_and_hosts_and_reports_what_failed() {
    let server = serve_fixture();
    let elsewhere = Server::start();
    elsewhere.put(
        "/",
        b"<html><body><p>another host</p></body></html>".to_vec(),
    );
    // The home page links to another host too.
    let home =
        String::from_utf8_lossy(&std::fs::read(mirror().join(HOST).join("index.html")).unwrap())
            .into_owned();
    let home = home.replacen(
        "</body>",
        &format!("<a href=\"{}\">友情链接</a></body>", elsewhere.url("/")),
        1,
    );
    server.put("/", home.clone().into_bytes());
    server.put("/index.html", home.into_bytes());
    // One page never answers.
    server.fail("/zwgk/tzgg/202405/t20240520_9999999.html", Fault::Stall, 10);
    let rate = 40.0;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("hall");
    let report = import::import_web(&src, &crawl_config(&server, rate), &mut |_| {}).unwrap();
    let requests = server.requests();

    assert!(elsewhere.requests().is_empty(), "asked another host");
    for r in &requests {
        assert!(
            !r.path.starts_with("/search/") && !r.path.starts_with("/internal/"),
            "robots.txt forbids {}",
            r.path
        );
    }
    // Never more requests in any second than the rate allows.
    let mut times: Vec<_> = requests.iter().map(|r| r.at).collect();
    times.sort();
    let most = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            times[i..]
                .iter()
                .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap();
    println!(
        "{} requests, at most {most} in one second (rate {rate}/s)",
        requests.len()
    );
    assert!(most as f64 <= rate, "{most} requests in one second");

    assert!(
        report
            .errors
            .iter()
            .any(|e| e.url.ends_with("t20240520_9999999.html") && e.reason.contains("timed out")),
        "{}",
        import::render_report(&report)
    );
    assert!(
        report.skipped.iter().any(|s| s.reason.contains("404")),
        "{}",
        import::render_report(&report)
    );
    let truth = truth();
    assert_eq!(
        report.items,
        truth.len(),
        "{}",
        import::render_report(&report)
    );
    let loaded = kiosk::source::load(&src).unwrap();
    assert_eq!(loaded.errors(), 0, "{}", crate::support::summary(&loaded));
    let site = std::fs::read_to_string(src.join("site.toml")).unwrap();
    assert!(site.contains("allowed_hosts = [\"127.0.0.1\"]"), "{site}");
    assert!(!src.join(".import/web-journal.jsonl").exists());
}

#[test]
fn a_killed_crawl_goes_on_where_it_stopped() {
    let server = serve_fixture();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("hall");
    let config = dir.path().join("import.toml");
    std::fs::write(
        &config,
        "[web]\nrequests_per_second = 20\ntimeout_secs = 2\nretries = 0\n",
    )
    .unwrap();
    let kiosk = env!("CARGO_BIN_EXE_kiosk");
    let mut child = Command::new(kiosk)
        .args(["import", "web", "--config"])
        .arg(&config)
        .args(["--url", &server.url("/"), "-o"])
        .arg(&src)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journal = import::journal_path(&src);
    // Kill it once it has read 40 pages (the journal has a line a page).
    loop {
        let lines = std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 40 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the crawl ended ({status}) before it could be killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let journaled: Vec<String> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Fetched>(l).ok())
        .filter(|p| p.outcome != "error")
        .map(|p| p.url)
        .collect();
    assert!(journaled.len() >= 40);
    let before = server.requests().len();

    let out = Command::new(kiosk)
        .args(["import", "web", "--json", "--config"])
        .arg(&config)
        .args(["--url", &server.url("/"), "-o"])
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("going on with the crawl that was interrupted"));
    // Pages read before the kill were not asked for again.
    let again: Vec<String> = server.requests()[before..]
        .iter()
        .map(|r| server.url(&r.path))
        .collect();
    for url in &journaled {
        assert!(!again.contains(url), "{url} was fetched again");
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["items"].as_u64().unwrap() as usize,
        truth().len(),
        "{report}"
    );
    assert!(!journal.exists());
}

#[test]
fn the_annotated_import_config_is_valid() {
    let config =
        ImportConfig::load(&crate::support::repo_root().join("deploy/import.toml")).unwrap();
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    assert!(
        config.publish.problems().is_empty(),
        "{:?}",
        config.publish.problems()
    );
    assert_eq!(config.web.exclude, ["/search/"]);
    // A selector that does not parse is refused, with the profile's name.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[web.profiles]]\nname = \"ours\"\nfields.body = [\"div[\"]\n",
    )
    .unwrap();
    let err = ImportConfig::load(&bad).unwrap_err().to_string();
    assert!(err.contains("ours") && err.contains("div["), "{err}");
}

#[test]
fn a_robots_txt_that_cannot_be_read_fetches_nothing_and_says_why() {
    let server = serve_fixture();
    server.fail("/robots.txt", Fault::Status(503), 10);
    let dir = tempfile::tempdir().unwrap();
    let err = import::import_web(
        &dir.path().join("hall"),
        &crawl_config(&server, 40.0),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("robots.txt could not be read") && err.contains("unchanged"),
        "{err}"
    );
    assert!(
        server.requests().iter().all(|r| r.path == "/robots.txt"),
        "only robots.txt was asked for"
    );
}

#[test]
fn import_page_shows_how_one_page_is_taken_apart() {
    let run = |file: &str, url: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"))
            .args(["import", "page"])
            .arg(mirror().join(HOST).join(file))
            .args(["--url", url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let t = truth()
        .into_iter()
        .find(|t| t.template == "trs" && t.urls.len() == 1)
        .unwrap();
    let file = t.url.strip_prefix("https://www.qljkq.gov.cn/").unwrap();
    let text = run(file, &t.url);
    assert!(text.starts_with("profile: trs\nan article"), "{text}");
    assert!(
        text.contains(&format!("index_number  {}", t.index_number)),
        "{text}"
    );
    assert!(
        text.contains(&format!("column        {}", t.column.join(" > "))),
        "{text}"
    );
    let list = run(
        "col/col1230/index.html",
        "https://www.qljkq.gov.cn/col/col1230/index.html",
    );
    assert!(
        list.contains("a list or index page: followed, not imported"),
        "{list}"
    );
}
