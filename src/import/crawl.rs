//! Getting the pages: over HTTP(S) from start URLs or a sitemap, or from a local mirror
//! (`wget --mirror` output, `DIR/HOST/PATH`). The crawler stays on the configured hosts,
//! honours robots.txt, keeps to a rate and a number of requests at once, retries with back-off,
//! stops at a page cap, and keeps a journal so that an interrupted crawl goes on where it
//! stopped. Each page is taken apart at once ([`super::extract`]); only what it gave is kept.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use super::extract::{self, Article, PageKind};
use super::profile::Profile;
use super::robots::Robots;
use super::ImportError;

/// How to crawl.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    pub start: Vec<Url>,
    /// Sitemaps whose `<loc>`s are start URLs too.
    pub sitemaps: Vec<Url>,
    /// Hosts (`host` or `host:port`) the crawler may ask.
    pub hosts: Vec<String>,
    /// Path prefixes never fetched (beside robots.txt).
    pub exclude: Vec<String>,
    pub max_pages: usize,
    pub requests_per_second: f64,
    pub concurrency: usize,
    pub timeout: Duration,
    /// Tries after the first, for timeouts, dropped connections and 5xx answers.
    pub retries: u32,
    pub user_agent: String,
    pub profiles: Vec<Profile>,
    /// The journal of a crawl under way (deleted when it completes).
    pub journal: Option<PathBuf>,
}

/// What one page gave.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fetched {
    pub url: String,
    /// `article`, `listing`, `skipped`, `gone` (404/410) or `error` (try again later).
    pub outcome: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<Article>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub profile: String,
    /// The start page's `<title>`: a name for the site.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub page_title: String,
}

/// What a crawl gave: every page in the order it was asked for.
#[derive(Debug, Default)]
pub struct Crawled {
    pub pages: Vec<Fetched>,
    /// Requests made, robots.txt and sitemaps included.
    pub requests: usize,
    pub stopped_at_cap: bool,
    /// Where a robots.txt refused a page (not fetched).
    pub refused_by_robots: usize,
}

/// Progress, for the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub fetched: usize,
    pub articles: usize,
    pub errors: usize,
    pub queued: usize,
    pub elapsed: Duration,
}

/// File endings that are never pages.
const NOT_PAGES: &[&str] = &[
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".et", ".ppt", ".pptx", ".zip", ".rar",
    ".7z", ".txt", ".ofd", ".csv", ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".svg", ".ico", ".css",
    ".js", ".mp3", ".mp4", ".avi", ".flv", ".swf", ".apk", ".exe", ".xml", ".json", ".woff",
    ".woff2", ".ttf",
];

/// `host` or `host:port`, as the host list names it.
pub fn host_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// The path and query of a URL, as robots.txt rules match them.
fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

fn is_page(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    !NOT_PAGES.iter().any(|e| path.ends_with(e))
}

/// The key a URL is visited under: no fragment, and the same for `http` and `https`.
fn visit_key(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    let text = url.to_string();
    text.strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .unwrap_or(&text)
        .to_owned()
}

struct Journal {
    file: std::fs::File,
}

impl Journal {
    fn write(&mut self, page: &Fetched) {
        let line = serde_json::to_string(page).expect("a page serialises") + "\n";
        // A journal that cannot be written only costs the resume; the crawl goes on.
        let _ = self.file.write_all(line.as_bytes());
    }
}

/// Reads the pages of an earlier, interrupted crawl: the lines that parse, in order.
fn read_journal(path: &Path) -> Vec<Fetched> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Crawls over HTTP(S). `progress` is called after every page.
pub fn crawl(
    options: &CrawlOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Crawled, ImportError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| ImportError::Network(format!("cannot start the network: {err}")))?;
    runtime.block_on(crawl_async(options, progress))
}

/// Keeps requests to a rate: starts at least `interval` apart, and never more than `per_second`
/// of them in any second (with a margin, so that a server sees no more either when some
/// requests take longer to reach it than others).
struct Limiter {
    interval: Duration,
    per_second: usize,
    started: tokio::sync::Mutex<VecDeque<tokio::time::Instant>>,
}

/// What the window of a second is widened by.
const RATE_MARGIN: Duration = Duration::from_millis(100);

impl Limiter {
    fn new(rate: f64) -> Limiter {
        Limiter {
            interval: Duration::from_secs_f64(1.0 / rate),
            per_second: (rate.floor() as usize).max(1),
            started: tokio::sync::Mutex::new(VecDeque::new()),
        }
    }

    /// Waits for this request's turn.
    async fn wait(&self) {
        let mut started = self.started.lock().await;
        let now = tokio::time::Instant::now();
        let mut at = now;
        if let Some(last) = started.back() {
            at = at.max(*last + self.interval);
        }
        if started.len() >= self.per_second {
            let oldest = started[started.len() - self.per_second];
            at = at.max(oldest + Duration::from_secs(1) + RATE_MARGIN);
        }
        started.push_back(at);
        while started.len() > self.per_second {
            started.pop_front();
        }
        drop(started);
        tokio::time::sleep_until(at).await;
    }
}

enum Answer {
    Page {
        body: Vec<u8>,
        charset: Option<String>,
        final_url: Url,
    },
    NotHtml,
    Gone(u16),
    Failed(String),
}

async fn fetch(
    client: &reqwest::Client,
    limiter: &Limiter,
    url: &Url,
    retries: u32,
    html_only: bool,
) -> (Answer, usize) {
    let mut requests = 0;
    let mut wait = Duration::from_millis(500);
    let mut last = String::new();
    for attempt in 0..=retries {
        if attempt > 0 {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        limiter.wait().await;
        requests += 1;
        let response = match client.get(url.clone()).send().await {
            Ok(r) => r,
            Err(err) => {
                last = if err.is_timeout() {
                    "timed out".into()
                } else {
                    format!("no answer ({})", short(&err))
                };
                continue;
            }
        };
        let status = response.status();
        if status.as_u16() == 404 || status.as_u16() == 410 {
            return (Answer::Gone(status.as_u16()), requests);
        }
        if status.is_server_error() || status.as_u16() == 429 {
            last = format!("the server answered {status}");
            continue;
        }
        if !status.is_success() {
            return (
                Answer::Failed(format!("the server answered {status}")),
                requests,
            );
        }
        let final_url = response.url().clone();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if html_only
            && !content_type.is_empty()
            && !content_type.contains("html")
            && !content_type.contains("xml")
        {
            return (Answer::NotHtml, requests);
        }
        match response.bytes().await {
            Ok(body) => {
                return (
                    Answer::Page {
                        body: body.to_vec(),
                        charset: super::decode::charset_of_content_type(&content_type)
                            .map(str::to_owned),
                        final_url,
                    },
                    requests,
                )
            }
            Err(err) => {
                last = if err.is_timeout() {
                    "timed out".into()
                } else {
                    format!("the answer broke off ({})", short(&err))
                };
            }
        }
    }
    (Answer::Failed(last), requests)
}

fn short(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}

/// The `<loc>`s of a sitemap (or a sitemap index's sitemaps).
pub fn sitemap_locations(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<loc>") {
        let after = &rest[start + 5..];
        let Some(end) = after.find("</loc>") else {
            break;
        };
        let loc = after[..end].trim().replace("&amp;", "&");
        let loc = loc
            .trim_start_matches("<![CDATA[")
            .trim_end_matches("]]>")
            .trim()
            .to_owned();
        if !loc.is_empty() {
            out.push(loc);
        }
        rest = &after[end..];
    }
    out
}

async fn crawl_async(
    options: &CrawlOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Crawled, ImportError> {
    let client = reqwest::Client::builder()
        .connect_timeout(options.timeout)
        .timeout(options.timeout)
        .user_agent(options.user_agent.clone())
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|err| ImportError::Network(err.to_string()))?;
    let rate = if options.requests_per_second > 0.0 {
        options.requests_per_second
    } else {
        1.0
    };
    let limiter = Arc::new(Limiter::new(rate));
    let hosts: HashSet<String> = options
        .hosts
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let started = Instant::now();
    let mut crawled = Crawled::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<Url> = VecDeque::new();

    // An interrupted crawl goes on: its pages count, its links are the queue.
    // Pages that failed then are asked again.
    let mut earlier = options
        .journal
        .as_deref()
        .map(read_journal)
        .unwrap_or_default();
    earlier.retain(|p| p.outcome != "error");
    for page in &earlier {
        if let Ok(url) = Url::parse(&page.url) {
            seen.insert(visit_key(&url));
        }
    }
    let mut robots: HashMap<String, Robots> = HashMap::new();
    let mut journal = match &options.journal {
        Some(path) => {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
                .map(|file| Journal { file })
        }
        None => None,
    };

    let allowed = |url: &Url| hosts.contains(&host_key(url));
    let mut start: Vec<Url> = options.start.clone();
    for sitemap in &options.sitemaps {
        if !allowed(sitemap) {
            continue;
        }
        let (answer, n) = fetch(&client, &limiter, sitemap, options.retries, false).await;
        crawled.requests += n;
        match answer {
            Answer::Page { body, .. } => {
                let text = String::from_utf8_lossy(&body).into_owned();
                start.extend(
                    sitemap_locations(&text)
                        .iter()
                        .filter_map(|l| Url::parse(l).ok()),
                );
            }
            Answer::Gone(code) => {
                return Err(ImportError::Network(format!(
                    "the sitemap {sitemap} is not there ({code})"
                )))
            }
            Answer::Failed(why) => {
                return Err(ImportError::Network(format!(
                    "cannot read the sitemap {sitemap}: {why}"
                )))
            }
            Answer::NotHtml => {}
        }
    }
    for page in &earlier {
        for link in &page.links {
            if let Ok(url) = Url::parse(link) {
                if seen.insert(visit_key(&url)) {
                    queue.push_back(url);
                }
            }
        }
    }
    for url in start {
        if seen.insert(visit_key(&url)) {
            queue.push_back(url);
        }
    }
    crawled.pages = earlier;
    let mut errors = crawled
        .pages
        .iter()
        .filter(|p| p.outcome == "error")
        .count();
    let mut articles = crawled.pages.iter().filter(|p| p.article.is_some()).count();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let mut tasks: tokio::task::JoinSet<(Url, Answer, usize)> = tokio::task::JoinSet::new();
    let mut fetched = crawled.pages.len();

    loop {
        // Start as many fetches as the cap and the queue allow.
        while let Some(url) = queue.front().cloned() {
            if fetched + tasks.len() >= options.max_pages {
                crawled.stopped_at_cap = true;
                break;
            }
            queue.pop_front();
            if !allowed(&url) || !is_page(&url) {
                continue;
            }
            let path = url.path().to_owned();
            if options.exclude.iter().any(|p| path.starts_with(p.as_str())) {
                continue;
            }
            let origin = url.origin().ascii_serialization();
            if !robots.contains_key(&origin) {
                let robots_url = url.join("/robots.txt").expect("a path joins");
                let (answer, n) =
                    fetch(&client, &limiter, &robots_url, options.retries, false).await;
                crawled.requests += n;
                let rules = match answer {
                    Answer::Page { body, .. } => {
                        Robots::parse(&String::from_utf8_lossy(&body), &options.user_agent)
                    }
                    Answer::Gone(_) | Answer::NotHtml => Robots::allow_all(),
                    // RFC 9309: an unreachable robots.txt means nothing may be fetched.
                    Answer::Failed(why) => {
                        let reason = format!(
                            "robots.txt could not be read ({why}): nothing on this host is fetched, as RFC 9309 asks"
                        );
                        let page = Fetched::bare(&robots_url, "error", &reason);
                        if let Some(journal) = &mut journal {
                            journal.write(&page);
                        }
                        crawled.pages.push(page);
                        Robots::parse("User-agent: *\nDisallow: /\n", &options.user_agent)
                    }
                };
                robots.insert(origin.clone(), rules);
            }
            let rules = &robots[&origin];
            let target = path_and_query(&url);
            if !rules.allows(&target) {
                crawled.refused_by_robots += 1;
                continue;
            }
            let permit = semaphore
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore stays open");
            let (client, limiter, retries) = (client.clone(), limiter.clone(), options.retries);
            tasks.spawn(async move {
                let (answer, n) = fetch(&client, &limiter, &url, retries, true).await;
                drop(permit);
                (url, answer, n)
            });
            if tasks.len() >= options.concurrency.max(1) {
                break;
            }
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let Ok((url, answer, n)) = joined else {
            continue; // a task that panicked: its page is not counted
        };
        crawled.requests += n;
        fetched += 1;
        let page = match answer {
            Answer::Page {
                body,
                charset,
                final_url,
            } => {
                let page = page_of(&final_url, &body, charset.as_deref(), &options.profiles);
                let page = Fetched {
                    url: url.to_string(),
                    ..page
                };
                for link in &page.links {
                    if let Ok(link) = Url::parse(link) {
                        if allowed(&link) && is_page(&link) && seen.insert(visit_key(&link)) {
                            queue.push_back(link);
                        }
                    }
                }
                page
            }
            Answer::NotHtml => Fetched::bare(&url, "skipped", "not a web page"),
            Answer::Gone(code) => Fetched::bare(
                &url,
                "gone",
                &format!("the server answered {code}: the page is not there"),
            ),
            Answer::Failed(why) => Fetched::bare(&url, "error", &why),
        };
        if page.outcome == "error" {
            errors += 1;
        }
        if page.article.is_some() {
            articles += 1;
        }
        if let Some(journal) = &mut journal {
            journal.write(&page);
        }
        crawled.pages.push(page);
        progress(Progress {
            fetched,
            articles,
            errors,
            queued: queue.len() + tasks.len(),
            elapsed: started.elapsed(),
        });
    }
    Ok(crawled)
}

impl Fetched {
    fn bare(url: &Url, outcome: &str, reason: &str) -> Fetched {
        Fetched {
            url: url.to_string(),
            outcome: outcome.into(),
            reason: reason.into(),
            links: Vec::new(),
            article: None,
            profile: String::new(),
            page_title: String::new(),
        }
    }
}

/// A page's bytes taken apart.
pub fn page_of(url: &Url, bytes: &[u8], charset: Option<&str>, profiles: &[Profile]) -> Fetched {
    let (html, _) = super::decode::decode_html(bytes, charset);
    let page = extract::extract(&html, url, profiles);
    let page_title = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse("title").expect("title is a selector"))
        .next()
        .map(super::body::visible_text)
        .unwrap_or_default();
    let (outcome, article) = match page.kind {
        PageKind::Article(article) => ("article", Some(*article)),
        PageKind::Listing => ("listing", None),
    };
    Fetched {
        url: url.to_string(),
        outcome: outcome.into(),
        reason: String::new(),
        links: page.links.iter().map(Url::to_string).collect(),
        article,
        profile: page.profile,
        page_title,
    }
}

/// Reads a mirror: every page file under `DIR/HOST/`, in path order, as the URL its place
/// gives (`scheme://HOST/PATH`, a `?` in a file name starting the query). robots.txt in a host's
/// folder is honoured as a crawl would.
pub fn read_mirror(
    dir: &Path,
    scheme: &str,
    options: &CrawlOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Crawled, ImportError> {
    let started = Instant::now();
    let mut hosts: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(super::io_error(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    hosts.sort();
    if hosts.is_empty() {
        return Err(ImportError::Config(format!(
            "{} holds no host folders: a mirror is laid out as wget --mirror writes it, DIR/HOST/PATH",
            dir.display()
        )));
    }
    let mut crawled = Crawled::default();
    let (mut articles, mut errors) = (0, 0);
    for host_dir in hosts {
        let host = host_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !options.hosts.is_empty() && !options.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host))
        {
            continue;
        }
        let robots = std::fs::read_to_string(host_dir.join("robots.txt"))
            .map(|t| Robots::parse(&t, &options.user_agent))
            .unwrap_or_else(|_| Robots::allow_all());
        let mut files = Vec::new();
        walk(&host_dir, &mut files).map_err(super::io_error(&host_dir))?;
        files.sort();
        for file in files {
            let rel = file
                .strip_prefix(&host_dir)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            let Ok(url) = Url::parse(&format!("{scheme}://{host}/{rel}")) else {
                continue;
            };
            let lower = rel.to_ascii_lowercase();
            let html_name = [
                ".html", ".htm", ".shtml", ".jhtml", ".xhtml", ".jsp", ".asp", ".aspx", ".php",
            ]
            .iter()
            .any(|e| lower.split('?').next().unwrap_or("").ends_with(e));
            if !html_name || !is_page(&url) {
                continue;
            }
            let target = path_and_query(&url);
            if !robots.allows(&target)
                || options
                    .exclude
                    .iter()
                    .any(|p| url.path().starts_with(p.as_str()))
            {
                crawled.refused_by_robots += 1;
                continue;
            }
            if crawled.pages.len() >= options.max_pages {
                crawled.stopped_at_cap = true;
                break;
            }
            let page = match std::fs::read(&file) {
                Ok(bytes) => page_of(&url, &bytes, None, &options.profiles),
                Err(err) => {
                    errors += 1;
                    Fetched::bare(
                        &url,
                        "error",
                        &format!("cannot read {}: {err}", file.display()),
                    )
                }
            };
            if page.article.is_some() {
                articles += 1;
            }
            crawled.pages.push(page);
            progress(Progress {
                fetched: crawled.pages.len(),
                articles,
                errors,
                queued: 0,
                elapsed: started.elapsed(),
            });
        }
    }
    Ok(crawled)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), out)?;
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sitemap_gives_its_locations() {
        let xml = "<?xml version=\"1.0\"?><urlset><url><loc>https://www.example.gov.cn/a.html?x=1&amp;y=2</loc><lastmod>2024-01-01</lastmod></url>\n<url><loc> <![CDATA[https://www.example.gov.cn/b.html]]> </loc></url></urlset>";
        assert_eq!(
            sitemap_locations(xml),
            [
                "https://www.example.gov.cn/a.html?x=1&y=2",
                "https://www.example.gov.cn/b.html"
            ]
        );
    }

    #[test]
    fn hosts_keep_their_port_and_files_are_not_pages() {
        assert_eq!(
            host_key(&Url::parse("http://127.0.0.1:8080/x").unwrap()),
            "127.0.0.1:8080"
        );
        assert_eq!(
            host_key(&Url::parse("https://WWW.Example.gov.cn/").unwrap()),
            "www.example.gov.cn"
        );
        assert!(!is_page(&Url::parse("https://a.cn/P0202403.PDF").unwrap()));
        assert!(is_page(
            &Url::parse("https://a.cn/art/2024/3/1/art_1_2.html").unwrap()
        ));
        assert_eq!(
            visit_key(&Url::parse("http://a.cn/x#top").unwrap()),
            visit_key(&Url::parse("https://a.cn/x").unwrap())
        );
    }
}
