//! The import config (`kiosk import web --config FILE`, `kiosk publish --config FILE`): a TOML
//! file, every key optional. docs/import.md describes each; `deploy/import.toml` is an
//! annotated example.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::extract::Article;
use super::profile::{self, Profile};
use super::ImportError;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportConfig {
    /// Used when the source has no `site.toml` yet.
    pub site: SiteConfig,
    pub web: WebConfig,
    /// What `kiosk publish` does after the import.
    pub publish: super::publish::PublishConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Start pages.
    pub urls: Vec<String>,
    /// sitemap.xml addresses; their pages are start pages.
    pub sitemaps: Vec<String>,
    /// A `wget --mirror` folder instead of crawling.
    pub mirror: Option<PathBuf>,
    /// The scheme a mirror's pages are given (`https`).
    pub mirror_scheme: String,
    /// Hosts (`host` or `host:port`) that may be asked; default: those of the start pages.
    pub hosts: Vec<String>,
    /// Path prefixes never fetched.
    pub exclude: Vec<String>,
    pub max_pages: usize,
    pub requests_per_second: f64,
    pub concurrency: usize,
    pub timeout_secs: u64,
    pub retries: u32,
    pub user_agent: String,
    /// Use only this profile (`trs`, `hanweb`, `ucap`, `generic` or one of `profiles`).
    pub profile: String,
    /// Own profiles, or changes to the built-in ones (same name).
    #[serde(rename = "profiles")]
    pub profiles: Vec<Profile>,
    /// Columns by address: pages under `prefix` go to `column` (`一级/二级`), of `kind`.
    pub columns: Vec<ColumnRule>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnRule {
    /// The start of the page addresses (`https://www.example.gov.cn/zwgk/zcwj/`, or a path
    /// `/zwgk/zcwj/`).
    pub prefix: String,
    /// `政务公开/政策文件`; empty: the page's breadcrumb.
    #[serde(default)]
    pub column: String,
    /// `disclosure`, `interpretation`, `notice`; empty: from the column's name.
    #[serde(default)]
    pub kind: String,
}

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig {
            urls: Vec::new(),
            sitemaps: Vec::new(),
            mirror: None,
            mirror_scheme: "https".into(),
            hosts: Vec::new(),
            exclude: Vec::new(),
            max_pages: 5000,
            requests_per_second: 2.0,
            concurrency: 2,
            timeout_secs: 20,
            retries: 2,
            user_agent: concat!("kiosk-import/", env!("CARGO_PKG_VERSION")).into(),
            profile: String::new(),
            profiles: Vec::new(),
            columns: Vec::new(),
        }
    }
}

const KINDS: &[&str] = &["disclosure", "guide", "interpretation", "notice"];

impl ImportConfig {
    /// Reads a config file; every problem is named, with its file.
    pub fn load(path: &Path) -> Result<ImportConfig, ImportError> {
        let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config: ImportConfig = toml::from_str(&text)
            .map_err(|err| ImportError::Config(format!("{}: {err}", path.display())))?;
        let problems = config.problems();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ImportError::Config(format!(
                "{}: {}",
                path.display(),
                problems.join("; ")
            )))
        }
    }

    /// Values the import could not use.
    pub fn problems(&self) -> Vec<String> {
        let web = &self.web;
        let mut out = Vec::new();
        for url in web.urls.iter().chain(&web.sitemaps) {
            if !url::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            {
                out.push(format!("web: “{url}” is not an http(s) URL"));
            }
        }
        if web.max_pages == 0 {
            out.push("web.max_pages must be at least 1".into());
        }
        if !(web.requests_per_second > 0.0 && web.requests_per_second <= 100.0) {
            out.push("web.requests_per_second must be above 0 and at most 100".into());
        }
        if !(1..=16).contains(&web.concurrency) {
            out.push("web.concurrency must be 1 to 16".into());
        }
        if !(1..=600).contains(&web.timeout_secs) {
            out.push("web.timeout_secs must be 1 to 600".into());
        }
        if web.retries > 10 {
            out.push("web.retries must be at most 10".into());
        }
        if !matches!(web.mirror_scheme.as_str(), "http" | "https") {
            out.push("web.mirror_scheme must be http or https".into());
        }
        for p in &web.profiles {
            for bad in profile::invalid_selectors(p) {
                out.push(format!("web.profiles “{}”: {bad}", p.name));
            }
        }
        if !web.profile.is_empty() && !self.profiles().iter().any(|p| p.name == web.profile) {
            out.push(format!(
                "web.profile: there is no profile “{}”",
                web.profile
            ));
        }
        for rule in &web.columns {
            if !rule.kind.is_empty() && !KINDS.contains(&rule.kind.as_str()) {
                out.push(format!(
                    "web.columns “{}”: kind “{}” is not one of {}",
                    rule.prefix,
                    rule.kind,
                    KINDS.join(", ")
                ));
            }
            if rule.column.split('/').count() > 2 {
                out.push(format!(
                    "web.columns “{}”: a column path has at most two levels",
                    rule.prefix
                ));
            }
        }
        out
    }

    /// The profiles in the order they are tried.
    pub fn profiles(&self) -> Vec<Profile> {
        let only = (!self.web.profile.is_empty()).then_some(self.web.profile.as_str());
        profile::resolve(&self.web.profiles, only)
    }

    fn rule_for(&self, url: &str) -> Option<&ColumnRule> {
        let path = url::Url::parse(url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default();
        self.web
            .columns
            .iter()
            .filter(|r| {
                url.starts_with(&r.prefix)
                    || (r.prefix.starts_with('/') && path.starts_with(&r.prefix))
            })
            .max_by_key(|r| r.prefix.len())
    }

    /// The column path the config gives a page, if it gives one.
    pub fn column_for(&self, url: &str) -> Option<Vec<String>> {
        let rule = self.rule_for(url)?;
        (!rule.column.is_empty()).then(|| {
            rule.column
                .split('/')
                .map(|s| s.trim().to_owned())
                .collect()
        })
    }

    /// The kind the config gives a page, if it gives one.
    pub fn kind_for(&self, article: &Article) -> Option<String> {
        let rule = self.rule_for(&article.url)?;
        (!rule.kind.is_empty()).then(|| rule.kind.clone())
    }

    /// The crawl's options: start pages from the config (and `urls`/`sitemaps` given on the
    /// command line), hosts from the start pages unless the config names them.
    pub fn crawl_options(
        &self,
        journal: Option<PathBuf>,
    ) -> Result<super::crawl::CrawlOptions, ImportError> {
        let parse = |list: &[String]| -> Result<Vec<url::Url>, ImportError> {
            list.iter()
                .map(|u| {
                    url::Url::parse(u)
                        .map_err(|err| ImportError::Config(format!("“{u}” is not a URL: {err}")))
                })
                .collect()
        };
        let start = parse(&self.web.urls)?;
        let sitemaps = parse(&self.web.sitemaps)?;
        let mut hosts: Vec<String> = self
            .web
            .hosts
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if hosts.is_empty() {
            for url in start.iter().chain(&sitemaps) {
                let key = super::crawl::host_key(url);
                if !hosts.contains(&key) {
                    hosts.push(key);
                }
            }
        }
        Ok(super::crawl::CrawlOptions {
            start,
            sitemaps,
            hosts,
            exclude: self.web.exclude.clone(),
            max_pages: self.web.max_pages,
            requests_per_second: self.web.requests_per_second,
            concurrency: self.web.concurrency,
            timeout: Duration::from_secs(self.web.timeout_secs),
            retries: self.web.retries,
            user_agent: self.web.user_agent.clone(),
            profiles: self.profiles(),
            journal,
        })
    }
}
