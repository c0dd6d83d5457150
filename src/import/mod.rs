//! Importing an office's website into a content source: `kiosk import web`. Pages come from
//! [`crawl`] (HTTP or a mirror), are taken apart by [`extract`] with the [`profile`]s, their
//! bodies turned into Markdown by [`body`]; this module makes items of the articles (stable
//! ids, one item per article however many URLs it has, columns from breadcrumbs), checks them
//! with the loader's own rules, writes `items/web.jsonl`, `columns.toml` and `site.toml` when
//! it is missing, and says what changed since the last import.

pub mod body;
pub mod config;
pub mod crawl;
pub mod decode;
pub mod extract;
pub mod profile;
pub mod publish;
pub mod robots;
pub mod sheet;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::source::{Severity, SourceFiles};
pub use config::ImportConfig;
use crawl::Fetched;
use extract::Article;

/// The files imports write their items into; other item files are the office's own.
pub const WEB_ITEMS: &str = "items/web.jsonl";
pub const SHEET_ITEMS: &str = "items/guides.jsonl";
/// The import's own folder in a source: its state and the journal of a crawl under way. The
/// loader and bundles never read it.
pub const STATE_DIR: &str = ".import";

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Network(String),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ImportError + '_ {
    move |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An item as `items/web.jsonl` holds it (the content format's fields, in this order).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WebItem {
    pub id: String,
    pub kind: String,
    pub column: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub publisher: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc_number: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub index_number: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub topic: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub validity: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<extract::Attachment>,
}

/// One item in a report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub id: String,
    pub title: String,
    pub url: String,
}

/// A page that gave no item, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skip {
    pub url: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub pages: usize,
    pub requests: usize,
    pub listings: usize,
    pub items: usize,
    /// Pages that were another URL of an article already imported.
    pub duplicates: usize,
    pub added: Vec<Change>,
    pub changed: Vec<Change>,
    pub unchanged: usize,
    pub removed: Vec<Change>,
    /// Items that became 失效 or 废止 in this import.
    pub invalidated: Vec<Change>,
    /// Items whose pages could not be fetched this time: kept as they were.
    pub kept: Vec<Change>,
    /// Pages that could not become an item (with why), and pages that could not be fetched.
    pub skipped: Vec<Skip>,
    pub errors: Vec<Skip>,
    pub refused_by_robots: usize,
    pub stopped_at_cap: bool,
    /// Whether the source's files changed.
    pub wrote: bool,
}

/// What the import remembers between runs (`.import/state.json`): no times, so an unchanged
/// site leaves it unchanged too.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct State {
    /// Item id → the URLs it was found at.
    #[serde(default)]
    pub items: BTreeMap<String, Vec<String>>,
    /// A column path (`政务公开/政策文件`) → the column id it was given.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

impl State {
    fn path(src: &Path) -> PathBuf {
        src.join(STATE_DIR).join("state.json")
    }

    /// Writes the state (only when it changed).
    fn write(&self, src: &Path) -> Result<bool, ImportError> {
        let text = serde_json::to_string_pretty(self).expect("the state serialises") + "\n";
        write_if_changed(&State::path(src), text.as_bytes())
    }

    pub fn read(src: &Path) -> State {
        std::fs::read(State::path(src))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }
}

/// The journal of a crawl into `src` under way.
pub fn journal_path(src: &Path) -> PathBuf {
    src.join(STATE_DIR).join("web-journal.jsonl")
}

/// A column the import files items under.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ColumnDef {
    id: String,
    name: String,
    parent: Option<String>,
}

/// Makes items of the pages of a crawl and writes them into the content source `src`.
pub fn write_source(
    src: &Path,
    crawled: &crawl::Crawled,
    config: &ImportConfig,
) -> Result<Report, ImportError> {
    let old_state = State::read(src);
    let old_items = read_items(src, WEB_ITEMS, |i: &WebItem| &i.id);
    let mut report = Report {
        pages: crawled.pages.len(),
        requests: crawled.requests,
        refused_by_robots: crawled.refused_by_robots,
        stopped_at_cap: crawled.stopped_at_cap,
        ..Report::default()
    };

    // Articles in URL order, so that ids, columns and the canonical URL do not depend on the
    // order the pages arrived in.
    let mut pages: Vec<&Fetched> = crawled.pages.iter().collect();
    pages.sort_by(|a, b| canonical_rank(&a.url).cmp(&canonical_rank(&b.url)));
    let mut failed_urls: HashSet<&str> = HashSet::new();
    for page in &pages {
        match page.outcome.as_str() {
            "listing" => report.listings += 1,
            "error" => {
                failed_urls.insert(&page.url);
                report.errors.push(Skip {
                    url: page.url.clone(),
                    reason: page.reason.clone(),
                });
            }
            "gone" | "skipped" => report.skipped.push(Skip {
                url: page.url.clone(),
                reason: page.reason.clone(),
            }),
            _ => {}
        }
    }

    // One item per article: the same 索引号 and title, or the same title and body.
    let mut groups: Vec<(Article, Vec<String>)> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for page in &pages {
        let Some(article) = &page.article else {
            continue;
        };
        let keys = dedupe_keys(article);
        if let Some(&at) = keys.iter().find_map(|k| by_key.get(k)) {
            groups[at].1.push(page.url.clone());
            report.duplicates += 1;
            continue;
        }
        for key in keys {
            by_key.insert(key, groups.len());
        }
        groups.push((article.clone(), vec![page.url.clone()]));
    }

    // Columns and ids.
    let mut state = State {
        items: BTreeMap::new(),
        columns: old_state.columns.clone(),
    };
    let mut columns: Vec<ColumnDef> = Vec::new();
    let mut used_ids: HashSet<String> = HashSet::new();
    let mut items: Vec<(WebItem, Vec<String>)> = Vec::new();
    for (article, urls) in groups {
        let column = column_for(&article, config, &mut state, &mut columns);
        let mut id = item_id(&article, &urls[0], &old_state, &urls);
        if !used_ids.insert(id.clone()) {
            let mut n = 2;
            while !used_ids.insert(format!("{id}-{n}")) {
                n += 1;
            }
            id = format!("{id}-{n}");
        }
        let kind = config
            .kind_for(&article)
            .unwrap_or_else(|| kind_of(&article));
        items.push((
            WebItem {
                id,
                kind,
                column,
                title: article.title.clone(),
                date: article.date.clone(),
                url: urls[0].clone(),
                publisher: article.publisher.clone(),
                doc_number: article.doc_number.clone(),
                index_number: article.index_number.clone(),
                topic: article.topic.clone(),
                validity: article.validity.clone(),
                keywords: article.keywords.clone(),
                body: article.body.clone(),
                attachments: article.attachments.clone(),
            },
            urls,
        ));
    }

    // Items whose every page failed for now (not gone) stay as they were.
    let new_ids: HashSet<String> = items.iter().map(|(i, _)| i.id.clone()).collect();
    for (id, urls) in &old_state.items {
        if new_ids.contains(id) || !urls.iter().any(|u| failed_urls.contains(u.as_str())) {
            continue;
        }
        if let Some(old) = old_items.get(id) {
            report.kept.push(Change {
                id: id.clone(),
                title: old.title.clone(),
                url: old.url.clone(),
            });
            if let Some(path) = state_column_path(&old_state, &old.column) {
                state.columns.insert(path, old.column.clone());
            }
            items.push((old.clone(), urls.clone()));
        }
    }
    items.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    // Columns the kept items need, if this crawl did not see them.
    for (item, _) in &items {
        if !columns.iter().any(|c| c.id == item.column) {
            if let Some((path, _)) = state.columns.iter().find(|(_, id)| **id == item.column) {
                let names: Vec<&str> = path.split('/').collect();
                ensure_columns(&names, &state, &mut columns);
            }
        }
    }

    // The site, and the columns file with what is new.
    let site_text = match std::fs::read(src.join(crate::source::SITE_FILE)) {
        Ok(bytes) => bytes,
        Err(_) => site_toml(crawled, config).into_bytes(),
    };
    let old_columns_text =
        std::fs::read_to_string(src.join(crate::source::COLUMNS_FILE)).unwrap_or_default();
    let columns_text = columns_with(&old_columns_text, &columns);

    // The loader's own rules decide: an item it refuses is skipped, with its reason.
    let mut lines: Vec<String> = items.iter().map(|(item, _)| line_of(item)).collect();
    for ((item, _), reason) in drop_refused(
        src,
        &site_text,
        &columns_text,
        WEB_ITEMS,
        &mut items,
        &mut lines,
    ) {
        report.skipped.push(Skip {
            url: item.url.clone(),
            reason,
        });
    }

    // What changed.
    for (item, urls) in &items {
        let change = Change {
            id: item.id.clone(),
            title: item.title.clone(),
            url: item.url.clone(),
        };
        match old_items.get(&item.id) {
            None => report.added.push(change.clone()),
            Some(old) if old == item => report.unchanged += 1,
            Some(_) => report.changed.push(change.clone()),
        }
        let was_valid = old_items
            .get(&item.id)
            .is_none_or(|old| !matches!(old.validity.as_str(), "失效" | "废止"));
        if was_valid && matches!(item.validity.as_str(), "失效" | "废止") {
            report.invalidated.push(change);
        }
        state.items.insert(item.id.clone(), urls.clone());
    }
    for (id, old) in &old_items {
        if !state.items.contains_key(id) {
            report.removed.push(Change {
                id: id.clone(),
                title: old.title.clone(),
                url: old.url.clone(),
            });
        }
    }
    report.items = items.len();
    report.skipped.sort_by(|a, b| a.url.cmp(&b.url));

    let wrote = write_files(src, &site_text, &columns_text, WEB_ITEMS, &lines)?;
    state.write(src)?;
    report.wrote = wrote;
    Ok(report)
}

/// `columns.toml`'s text with the columns it lacks appended; what is there stays as it is.
fn columns_with(old: &str, columns: &[ColumnDef]) -> String {
    let existing = existing_column_ids(old);
    let mut text = old.to_owned();
    for column in columns.iter().filter(|c| !existing.contains(&c.id)) {
        if !text.is_empty() && !text.ends_with("\n\n") {
            text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
        }
        text.push_str(&column_toml(column));
    }
    text
}

/// Takes out the items (and their lines) the loader refuses, loading them as `file` with the
/// source's other files; returns them with the reason, last first.
fn drop_refused<T>(
    src: &Path,
    site: &[u8],
    columns: &str,
    file: &str,
    items: &mut Vec<T>,
    lines: &mut Vec<String>,
) -> Vec<(T, String)> {
    let mut dropped = Vec::new();
    loop {
        let refused = refused_lines(src, site, columns, file, lines);
        if refused.is_empty() {
            return dropped;
        }
        for (&index, reason) in refused.iter().rev() {
            lines.remove(index);
            dropped.push((items.remove(index), reason.clone()));
        }
    }
}

/// Writes `site.toml`, `columns.toml` and an import's items file, only what changed, each file
/// whole or not at all; whether any changed.
fn write_files(
    src: &Path,
    site: &[u8],
    columns: &str,
    file: &str,
    lines: &[String],
) -> Result<bool, ImportError> {
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    let mut wrote = false;
    wrote |= write_if_changed(&src.join(crate::source::SITE_FILE), site)?;
    wrote |= write_if_changed(&src.join(crate::source::COLUMNS_FILE), columns.as_bytes())?;
    wrote |= write_if_changed(&src.join(file), text.as_bytes())?;
    Ok(wrote)
}

/// URLs sorted so that the plainest comes first: no query, shorter, then by text.
fn canonical_rank(url: &str) -> (bool, usize, String) {
    (url.contains('?'), url.len(), url.to_owned())
}

fn dedupe_keys(article: &Article) -> Vec<String> {
    let mut keys = Vec::new();
    if !article.index_number.is_empty() {
        keys.push(format!(
            "index\u{1}{}\u{1}{}",
            article.index_number, article.title
        ));
    }
    let digest = Sha256::digest(article.body.as_bytes());
    keys.push(format!("body\u{1}{}\u{1}{digest:x}", article.title));
    keys
}

/// The id: the one the same URL had before; else from the 索引号; else from the URL.
fn item_id(article: &Article, url: &str, old: &State, urls: &[String]) -> String {
    if let Some((id, _)) = old
        .items
        .iter()
        .find(|(_, old_urls)| old_urls.iter().any(|u| urls.contains(u)))
    {
        return id.clone();
    }
    let index: String = article
        .index_number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let index = index.trim_matches('-');
    if !index.is_empty() && index.chars().any(|c| c.is_ascii_digit()) && index.len() <= 100 {
        return format!("xxgk-{index}");
    }
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let digest = Sha256::digest(without_scheme.as_bytes());
    format!("web-{}", &format!("{digest:x}")[..12])
}

/// 政策解读 → interpretation, 通知公告 → notice, the rest → disclosure.
fn kind_of(article: &Article) -> String {
    let column = article.column.join("/");
    if column.contains("解读") || article.title.contains("解读") {
        "interpretation".into()
    } else if ["通知", "公告", "公示", "通告"]
        .iter()
        .any(|w| column.contains(w))
    {
        "notice".into()
    } else {
        "disclosure".into()
    }
}

/// The column an article is filed in (its id), making the columns it needs.
fn column_for(
    article: &Article,
    config: &ImportConfig,
    state: &mut State,
    columns: &mut Vec<ColumnDef>,
) -> String {
    let names: Vec<String> = match config.column_for(&article.url) {
        Some(path) => path,
        None if article.column.is_empty() => vec!["其他信息".to_owned()],
        None => article.column.iter().take(2).cloned().collect(),
    };
    let urls: Vec<&str> = article.column_urls.iter().map(String::as_str).collect();
    let mut parent: Option<String> = None;
    for (depth, name) in names.iter().enumerate() {
        let path = names[..=depth].join("/");
        let id = match state.columns.get(&path) {
            Some(id) => id.clone(),
            None => {
                let slug = urls
                    .get(depth)
                    .and_then(|u| slug_of_url(u))
                    .unwrap_or_else(|| slug_of_name(name));
                let base = match &parent {
                    Some(p) => format!("{p}-{slug}"),
                    None => slug,
                };
                let mut id = base.clone();
                let mut n = 2;
                while state.columns.values().any(|v| *v == id) {
                    id = format!("{base}-{n}");
                    n += 1;
                }
                state.columns.insert(path.clone(), id.clone());
                id
            }
        };
        if !columns.iter().any(|c| c.id == id) {
            columns.push(ColumnDef {
                id: id.clone(),
                name: name.clone(),
                parent: parent.clone(),
            });
        }
        parent = Some(id);
    }
    parent.unwrap_or_default()
}

fn ensure_columns(names: &[&str], state: &State, columns: &mut Vec<ColumnDef>) {
    let mut parent = None;
    for depth in 0..names.len() {
        let path = names[..=depth].join("/");
        let Some(id) = state.columns.get(&path) else {
            return;
        };
        if !columns.iter().any(|c| c.id == *id) {
            columns.push(ColumnDef {
                id: id.clone(),
                name: names[depth].to_owned(),
                parent: parent.clone(),
            });
        }
        parent = Some(id.clone());
    }
}

fn state_column_path(state: &State, id: &str) -> Option<String> {
    state
        .columns
        .iter()
        .find(|(_, v)| *v == id)
        .map(|(k, _)| k.clone())
}

/// A column id from its list page's address: `/zwgk/zcwj/` → `zcwj`, `/col/col1230/index.html`
/// → `col1230`.
fn slug_of_url(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    let dirs: Vec<&str> = match segments.last() {
        Some(last) if last.contains('.') => segments[..segments.len() - 1].to_vec(),
        _ => segments,
    };
    let slug: String = dirs
        .last()?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect::<String>()
        .to_ascii_lowercase();
    (!slug.is_empty() && slug.len() <= 40).then_some(slug)
}

/// A column id from its name: the pinyin initials (政策文件 → zcwj).
fn slug_of_name(name: &str) -> String {
    let initials = crate::search::pinyin::initials(&crate::search::pinyin::reading(name));
    let slug: String = initials
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect::<String>()
        .to_ascii_lowercase();
    if slug.is_empty() {
        "col".into()
    } else {
        slug
    }
}

fn existing_column_ids(text: &str) -> HashSet<String> {
    #[derive(serde::Deserialize)]
    struct Columns {
        #[serde(default)]
        column: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        id: Option<String>,
    }
    toml::from_str::<Columns>(text)
        .map(|c| c.column.into_iter().filter_map(|e| e.id).collect())
        .unwrap_or_default()
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn column_toml(column: &ColumnDef) -> String {
    let mut out = format!(
        "[[column]]\nid = {}\nname = {}\n",
        toml_string(&column.id),
        toml_string(&column.name)
    );
    if let Some(parent) = &column.parent {
        out.push_str(&format!("parent = {}\n", toml_string(parent)));
    }
    out
}

/// A `site.toml` for a source that has none: the config's id and name, else the first host's
/// and the start page's title; the hosts crawled are the allowed hosts.
fn site_toml(crawled: &crawl::Crawled, config: &ImportConfig) -> String {
    let urls: Vec<url::Url> = crawled
        .pages
        .iter()
        .filter_map(|p| url::Url::parse(&p.url).ok())
        .collect();
    let mut hosts: Vec<String> = Vec::new();
    for url in &urls {
        if let Some(host) = url.host_str().and_then(crate::urlpolicy::normalise_host) {
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    let first_host = hosts.first().cloned().unwrap_or_else(|| "web".into());
    let id = if config.site.id.is_empty() {
        site_id_of_host(&first_host)
    } else {
        config.site.id.clone()
    };
    let name = if !config.site.name.is_empty() {
        config.site.name.clone()
    } else {
        // The title of the page nearest the root: the home page's, where there is one.
        crawled
            .pages
            .iter()
            .filter(|p| !p.page_title.trim().is_empty())
            .min_by_key(|p| url::Url::parse(&p.url).map_or(usize::MAX, |u| u.path().len()))
            .map(|p| p.page_title.trim())
            .map(|t| {
                t.split(['-', '_', '|', '—'])
                    .next()
                    .unwrap_or(t)
                    .trim()
                    .to_owned()
            })
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| first_host.clone())
    };
    let base = urls
        .first()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let hosts_list = hosts
        .iter()
        .map(|h| toml_string(h))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "# Written by `kiosk import web`; edit freely: an import never writes this file again.\nid = {}\nname = {}\nbase_url = {}\nallowed_hosts = [{}]\n",
        toml_string(&id),
        toml_string(&name),
        toml_string(&base),
        hosts_list
    )
}

/// `www.qljkq.gov.cn` → `qljkq`.
fn site_id_of_host(host: &str) -> String {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return "web".into();
    }
    let labels: Vec<&str> = host
        .split('.')
        .filter(|l| !matches!(*l, "www" | "gov" | "cn" | "com" | "org" | "net" | "edu"))
        .collect();
    let id: String = labels
        .join("-")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase();
    if id.is_empty() {
        "web".into()
    } else {
        id
    }
}

fn line_of(item: &WebItem) -> String {
    serde_json::to_string(item).expect("an item serialises")
}

/// The items an import wrote into `file` last time, by id.
fn read_items<T: serde::de::DeserializeOwned>(
    src: &Path,
    file: &str,
    id: fn(&T) -> &str,
) -> BTreeMap<String, T> {
    let Ok(text) = std::fs::read_to_string(src.join(file)) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<T>(l).ok())
        .map(|i| (id(&i).to_owned(), i))
        .collect()
}

/// The lines of an import's items file `file` the loader refuses (index → its first error), loading them with
/// the source's other files as a terminal would.
fn refused_lines(
    src: &Path,
    site: &[u8],
    columns: &str,
    file: &str,
    lines: &[String],
) -> BTreeMap<usize, String> {
    let mut items = Vec::new();
    if let Ok(entries) = std::fs::read_dir(src.join(crate::source::ITEMS_DIR)) {
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".jsonl") && format!("items/{n}") != file)
            .collect();
        names.sort();
        for name in names {
            if let Ok(bytes) = std::fs::read(src.join(crate::source::ITEMS_DIR).join(&name)) {
                items.push((format!("items/{name}"), bytes));
            }
        }
    }
    let mut web = lines.join("\n");
    web.push('\n');
    items.push((file.to_owned(), web.into_bytes()));
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let files = SourceFiles {
        site: Some(site.to_vec()),
        columns: Some(columns.as_bytes().to_vec()),
        items,
        synonyms: std::fs::read(src.join(crate::source::SYNONYMS_FILE)).ok(),
        problems: Vec::new(),
        dir_name: "import".into(),
    };
    let loaded = crate::source::assemble(files);
    let mut out = BTreeMap::new();
    for problem in loaded.problems {
        if problem.severity != Severity::Error || !problem.file.ends_with(file) {
            continue;
        }
        if let Some(line) = problem.line {
            if line >= 1 && line <= lines.len() {
                out.entry(line - 1).or_insert(problem.message);
            }
        }
    }
    out
}

/// Writes a file whole (a temporary file renamed over it) when its bytes differ.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, ImportError> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    }
    let tmp = path.with_extension("import-tmp");
    std::fs::write(&tmp, bytes).map_err(io_error(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_error(path))?;
    Ok(true)
}

/// The report as lines for a person.
pub fn render_report(report: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} pages read ({} requests), {} items, {} lists, {} duplicates",
        report.pages, report.requests, report.items, report.listings, report.duplicates
    );
    let _ = writeln!(
        out,
        "added {}, changed {}, unchanged {}, removed {}, marked 失效/废止 {}, kept (not fetched this time) {}, skipped {}, errors {}",
        report.added.len(),
        report.changed.len(),
        report.unchanged,
        report.removed.len(),
        report.invalidated.len(),
        report.kept.len(),
        report.skipped.len(),
        report.errors.len()
    );
    for (label, list) in [
        ("added", &report.added),
        ("changed", &report.changed),
        ("removed", &report.removed),
        ("marked 失效/废止", &report.invalidated),
        ("kept", &report.kept),
    ] {
        for change in list.iter().take(50) {
            let _ = writeln!(
                out,
                "  {label}: {} “{}” {}",
                change.id, change.title, change.url
            );
        }
        if list.len() > 50 {
            let _ = writeln!(out, "  {label}: … and {} more", list.len() - 50);
        }
    }
    for (label, list) in [("skipped", &report.skipped), ("error", &report.errors)] {
        for skip in list.iter().take(100) {
            let _ = writeln!(out, "  {label}: {}: {}", skip.url, skip.reason);
        }
        if list.len() > 100 {
            let _ = writeln!(out, "  {label}: … and {} more", list.len() - 100);
        }
    }
    if report.refused_by_robots > 0 {
        let _ = writeln!(
            out,
            "  {} pages not fetched: robots.txt or the config's exclude",
            report.refused_by_robots
        );
    }
    if report.stopped_at_cap {
        let _ = writeln!(
            out,
            "  stopped at the page cap (web.max_pages): the site has more pages"
        );
    }
    if !report.wrote {
        let _ = writeln!(out, "nothing changed in the content source");
    }
    out
}

/// Imports the website the config names into `src`: crawls (or reads the mirror), then writes
/// the source. An interrupted crawl goes on from its journal; a finished one removes it.
pub fn import_web(
    src: &Path,
    config: &ImportConfig,
    progress: &mut dyn FnMut(crawl::Progress),
) -> Result<Report, ImportError> {
    if config.web.urls.is_empty() && config.web.sitemaps.is_empty() && config.web.mirror.is_none() {
        return Err(ImportError::Config(
            "nothing to import: give start pages (--url), a sitemap (--sitemap) or a mirror folder (--mirror)".into(),
        ));
    }
    std::fs::create_dir_all(src.join(crate::source::ITEMS_DIR)).map_err(io_error(src))?;
    let journal = journal_path(src);
    let crawled = match &config.web.mirror {
        Some(dir) => {
            let mut options = config.crawl_options(None)?;
            options.hosts = config.web.hosts.clone();
            crawl::read_mirror(dir, &config.web.mirror_scheme, &options, progress)?
        }
        None => crawl::crawl(&config.crawl_options(Some(journal.clone()))?, progress)?,
    };
    if crawled
        .pages
        .iter()
        .all(|p| p.outcome == "error" || p.outcome == "gone")
    {
        let why = crawled
            .pages
            .first()
            .map(|p| format!(" ({}: {})", p.url, p.reason))
            .unwrap_or_default();
        let _ = std::fs::remove_file(&journal);
        return Err(ImportError::Network(format!(
            "no page could be read{why}; the content source is unchanged"
        )));
    }
    let report = write_source(src, &crawled, config)?;
    let _ = std::fs::remove_file(&journal);
    Ok(report)
}

/// What a sheet import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SheetReport {
    pub items: usize,
    pub added: Vec<Change>,
    pub changed: Vec<Change>,
    pub unchanged: usize,
    pub removed: Vec<Change>,
    /// Rows that gave no guide, and values left out, with their sheet and row.
    pub problems: Vec<sheet::RowProblem>,
    pub wrote: bool,
}

/// Imports the guides of a spreadsheet (xlsx or csv) into `src` (`items/guides.jsonl`), in the
/// column the mapping names (default 办事指南), and says what changed.
pub fn import_sheet(
    src: &Path,
    file: &Path,
    mapping: &sheet::Mapping,
) -> Result<SheetReport, ImportError> {
    let tables = sheet::read_tables(file)?;
    let mut state = State::read(src);
    let path = if mapping.column.trim().is_empty() {
        "办事指南".to_owned()
    } else {
        mapping.column.trim().to_owned()
    };
    let names: Vec<String> = path
        .split('/')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .take(2)
        .collect();
    let mut columns = Vec::new();
    let article = Article {
        column: names.clone(),
        ..Article::default()
    };
    let column = column_for(&article, &ImportConfig::default(), &mut state, &mut columns);
    let made = sheet::guides(&tables, mapping, &column)?;
    let mut report = SheetReport {
        problems: made.problems,
        ..SheetReport::default()
    };

    std::fs::create_dir_all(src.join(crate::source::ITEMS_DIR)).map_err(io_error(src))?;
    let site_text = std::fs::read(src.join(crate::source::SITE_FILE)).unwrap_or_else(|_| {
        // The hosts of the online services may become QR codes.
        let mut hosts: Vec<String> = Vec::new();
        for (_, g) in &made.guides {
            if let Some(host) = url::Url::parse(&g.guide.online_url).ok().and_then(|u| u.host_str().and_then(crate::urlpolicy::normalise_host)) {
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
        }
        let hosts = hosts.iter().map(|h| toml_string(h)).collect::<Vec<_>>().join(", ");
        format!("# Written by `kiosk import sheet`: put the hall's own id and name here.\nid = \"guides\"\nname = \"办事指南\"\nallowed_hosts = [{hosts}]\n").into_bytes()
    });
    let old_columns_text =
        std::fs::read_to_string(src.join(crate::source::COLUMNS_FILE)).unwrap_or_default();
    let columns_text = columns_with(&old_columns_text, &columns);

    let mut items: Vec<(usize, sheet::GuideItem)> = made.guides;
    items.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    let mut lines: Vec<String> = items
        .iter()
        .map(|(_, g)| serde_json::to_string(g).expect("a guide serialises"))
        .collect();
    let sheet_name = tables.first().map(|t| t.name.clone()).unwrap_or_default();
    for ((row, _), reason) in drop_refused(
        src,
        &site_text,
        &columns_text,
        SHEET_ITEMS,
        &mut items,
        &mut lines,
    ) {
        report.problems.push(sheet::RowProblem {
            sheet: sheet_name.clone(),
            row,
            reason,
        });
    }
    let old = read_items(src, SHEET_ITEMS, |g: &sheet::GuideItem| &g.id);
    for (_, item) in &items {
        let change = Change {
            id: item.id.clone(),
            title: item.title.clone(),
            url: item.guide.online_url.clone(),
        };
        match old.get(&item.id) {
            None => report.added.push(change),
            Some(o) if o == item => report.unchanged += 1,
            Some(_) => report.changed.push(change),
        }
    }
    for (id, o) in &old {
        if !items.iter().any(|(_, i)| i.id == *id) {
            report.removed.push(Change {
                id: id.clone(),
                title: o.title.clone(),
                url: o.guide.online_url.clone(),
            });
        }
    }
    report.items = items.len();
    let wrote = write_files(src, &site_text, &columns_text, SHEET_ITEMS, &lines)?;
    // What the web import remembers stays; the guides' column is added.
    state.write(src)?;
    report.wrote = wrote;
    Ok(report)
}

/// A sheet report as lines for a person.
pub fn render_sheet_report(report: &SheetReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} guides: added {}, changed {}, unchanged {}, removed {}; {} rows or values reported",
        report.items,
        report.added.len(),
        report.changed.len(),
        report.unchanged,
        report.removed.len(),
        report.problems.len()
    );
    for (label, list) in [
        ("added", &report.added),
        ("changed", &report.changed),
        ("removed", &report.removed),
    ] {
        for change in list {
            let _ = writeln!(out, "  {label}: {} “{}”", change.id, change.title);
        }
    }
    for p in &report.problems {
        let _ = writeln!(out, "  {} row {}: {}", p.sheet, p.row, p.reason);
    }
    if !report.wrote {
        let _ = writeln!(out, "nothing changed in the content source");
    }
    out
}

/// What `kiosk import page` prints: a page as the import sees it.
pub fn render_page(page: &Fetched) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "profile: {}", page.profile);
    let Some(a) = &page.article else {
        let _ = writeln!(
            out,
            "a list or index page: followed, not imported ({} links)",
            page.links.len()
        );
        return out;
    };
    let _ = writeln!(out, "an article ({} links on the page)", page.links.len());
    for (label, value) in [
        ("title", &a.title),
        ("date", &a.date),
        ("publisher", &a.publisher),
        ("doc_number", &a.doc_number),
        ("index_number", &a.index_number),
        ("topic", &a.topic),
        ("validity", &a.validity),
    ] {
        let _ = writeln!(
            out,
            "{label:<13} {}",
            if value.is_empty() { "(none)" } else { value }
        );
    }
    let _ = writeln!(
        out,
        "{:<13} {}",
        "column",
        if a.column.is_empty() {
            "(none: 其他信息)".to_owned()
        } else {
            a.column.join(" > ")
        }
    );
    let _ = writeln!(out, "{:<13} {}", "keywords", a.keywords.join("、"));
    for attachment in &a.attachments {
        let _ = writeln!(
            out,
            "{:<13} {} <{}>",
            "attachment", attachment.name, attachment.url
        );
    }
    let chars = a.body.chars().count();
    let start: String = a.body.chars().take(600).collect();
    let _ = writeln!(
        out,
        "body ({chars} characters of Markdown):\n{start}{}",
        if chars > 600 { "\n…" } else { "" }
    );
    out
}
