//! `kiosk publish`: the office's unattended loop. Imports the website and the guide sheets the
//! config names into a staging copy of the content source, refuses when the result has errors,
//! when too many pages failed or too many items vanished at once (a broken crawl must not wipe
//! the terminals), and otherwise puts the staging copy in place, builds and signs the next
//! bundle into the web root and writes the signed `channel.txt` the terminals poll.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{io_error, sheet, ImportConfig, ImportError, Report, SheetReport};
use crate::bundle;

/// `[publish]` of the import config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublishConfig {
    /// The content source the office publishes (imported into, then built).
    pub source: PathBuf,
    /// The secret key bundles are signed with.
    pub key: PathBuf,
    /// The folder a web server serves: bundles and `channel.txt` go here.
    pub web_root: PathBuf,
    /// Guide spreadsheets to import too, and their mapping file.
    pub sheets: Vec<PathBuf>,
    pub mapping: Option<PathBuf>,
    /// Refuse when more than this share of the items would be removed at once.
    pub max_removed_share: f64,
    /// Refuse when more than this share of the pages read failed (timeouts, 5xx).
    pub max_failed_share: f64,
    /// Bundles kept in the web root (the newest).
    pub keep_bundles: usize,
}

impl Default for PublishConfig {
    fn default() -> PublishConfig {
        PublishConfig {
            source: PathBuf::new(),
            key: PathBuf::new(),
            web_root: PathBuf::new(),
            sheets: Vec::new(),
            mapping: None,
            max_removed_share: 0.2,
            max_failed_share: 0.2,
            keep_bundles: 5,
        }
    }
}

impl PublishConfig {
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, path) in [
            ("source", &self.source),
            ("key", &self.key),
            ("web_root", &self.web_root),
        ] {
            if path.as_os_str().is_empty() {
                out.push(format!("publish.{name} is not set"));
            }
        }
        for (name, share) in [
            ("max_removed_share", self.max_removed_share),
            ("max_failed_share", self.max_failed_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                out.push(format!("publish.{name} must be 0 to 1"));
            }
        }
        if self.keep_bundles == 0 {
            out.push("publish.keep_bundles must be at least 1".into());
        }
        out
    }
}

/// What a publish did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PublishReport {
    /// `published`, `unchanged` (nothing new to publish) or `refused`.
    pub outcome: String,
    /// Why it refused.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    pub web: Option<Report>,
    pub sheets: Vec<SheetReport>,
    /// The bundle written (its file name in the web root) and its seq.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bundle: String,
    pub seq: u64,
    pub items: usize,
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// `path` with `suffix` added to its file name (`hall` → `hall.publishing`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

fn refused(mut report: PublishReport, reason: String) -> PublishReport {
    report.outcome = "refused".into();
    report.reason = reason;
    report
}

/// Runs one publish. A refusal is a report, not an error: errors are for what could not be
/// done at all (a file that cannot be written, a key that cannot be read).
pub fn publish(
    config: &ImportConfig,
    progress: &mut dyn FnMut(super::crawl::Progress),
) -> Result<PublishReport, ImportError> {
    let p = &config.publish;
    let problems = p.problems();
    if !problems.is_empty() {
        return Err(ImportError::Config(problems.join("; ")));
    }
    let key =
        bundle::SecretKey::read(&p.key).map_err(|err| ImportError::Config(err.to_string()))?;
    let staging = beside(&p.source, ".publishing");
    // A staging copy with a crawl journal in it is a publish that was interrupted: go on.
    if !super::journal_path(&staging).is_file() {
        let _ = std::fs::remove_dir_all(&staging);
        if p.source.is_dir() {
            copy_tree(&p.source, &staging).map_err(io_error(&staging))?;
        }
    }
    let before = crate::source::load(&p.source)
        .map(|l| l.content.items.len())
        .unwrap_or(0);
    let mut report = PublishReport::default();
    let web_configured = !config.web.urls.is_empty()
        || !config.web.sitemaps.is_empty()
        || config.web.mirror.is_some();
    if web_configured {
        match super::import_web(&staging, config, progress) {
            Ok(web) => report.web = Some(web),
            Err(ImportError::Network(why)) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Ok(refused(
                    report,
                    format!("the website could not be read: {why}"),
                ));
            }
            Err(err) => return Err(err),
        }
    }
    let mapping = match &p.mapping {
        Some(path) => sheet::Mapping::load(path)?,
        None => sheet::Mapping::default(),
    };
    for file in &p.sheets {
        report
            .sheets
            .push(super::import_sheet(&staging, file, &mapping)?);
    }

    // The checks that keep a broken run off the terminals.
    let loaded =
        crate::source::load(&staging).map_err(|err| ImportError::Config(err.to_string()))?;
    report.items = loaded.content.items.len();
    if loaded.errors() > 0 {
        let first: Vec<String> = loaded
            .problems
            .iter()
            .filter(|pr| pr.severity == crate::source::Severity::Error)
            .take(3)
            .map(|pr| format!("{}:{}: {}", pr.file, pr.line.unwrap_or(0), pr.message))
            .collect();
        let reason = format!(
            "the content has {} errors (kiosk check {} lists them): {}",
            loaded.errors(),
            p.source.display(),
            first.join("; ")
        );
        let _ = std::fs::remove_dir_all(&staging);
        return Ok(refused(report, reason));
    }
    if let Some(web) = &report.web {
        let read = web.pages.max(1);
        let failed = web.errors.len();
        if failed as f64 > p.max_failed_share * read as f64 {
            let reason = format!(
                "{failed} of {read} pages could not be read (more than {:.0}%): the website or the network is failing; nothing was published",
                p.max_failed_share * 100.0
            );
            let _ = std::fs::remove_dir_all(&staging);
            return Ok(refused(report, reason));
        }
    }
    let removed = report.web.as_ref().map_or(0, |w| w.removed.len())
        + report.sheets.iter().map(|s| s.removed.len()).sum::<usize>();
    if before > 0 && removed as f64 > p.max_removed_share * before as f64 {
        let reason = format!(
            "{removed} of {before} items would be removed at once (more than {:.0}%): a broken crawl must not empty the terminals; nothing was published",
            p.max_removed_share * 100.0
        );
        let _ = std::fs::remove_dir_all(&staging);
        return Ok(refused(report, reason));
    }

    // The staging copy becomes the source.
    let changed = report.web.as_ref().is_some_and(|w| w.wrote)
        || report.sheets.iter().any(|s| s.wrote)
        || !p.source.is_dir();
    let old = beside(&p.source, ".publish-old");
    let _ = std::fs::remove_dir_all(&old);
    if p.source.is_dir() {
        std::fs::rename(&p.source, &old).map_err(io_error(&p.source))?;
    }
    std::fs::rename(&staging, &p.source).map_err(io_error(&staging))?;
    let _ = std::fs::remove_dir_all(&old);

    let channel_path = p.web_root.join("channel.txt");
    if !changed && channel_path.is_file() {
        report.outcome = "unchanged".into();
        return Ok(report);
    }

    // The next bundle, then the channel that names it.
    std::fs::create_dir_all(&p.web_root).map_err(io_error(&p.web_root))?;
    let site = loaded.content.site.id.clone();
    let seq = bundle::next_seq(&p.key, &site, &p.web_root).ok_or_else(|| {
        ImportError::Config(format!(
            "the key {} has built the highest seq there is",
            p.key.display()
        ))
    })?;
    let name = format!("{site}-{seq}.kbundle");
    let file = p.web_root.join(&name);
    let partial = p.web_root.join(format!(".{name}.part"));
    let options = bundle::BuildOptions {
        source: &p.source,
        key: &key,
        seq,
        version: None,
        created: crate::content::unix_now(),
        level: 19,
    };
    let manifest = bundle::build(&options, &partial).map_err(|err| {
        let _ = std::fs::remove_file(&partial);
        ImportError::Config(format!("the bundle could not be built: {err}"))
    })?;
    std::fs::rename(&partial, &file).map_err(io_error(&file))?;
    if let Err(err) = bundle::record_seq(&p.key, &manifest.site, manifest.seq) {
        tracing::warn!(cause = %err, "cannot record the seq beside the key");
    }
    let bytes = std::fs::read(&file).map_err(io_error(&file))?;
    let channel = bundle::channel::Channel::for_bundle(&manifest, &name, &bytes);
    let channel_tmp = p.web_root.join(".channel.txt.part");
    std::fs::write(&channel_tmp, channel.sign(&key)).map_err(io_error(&channel_tmp))?;
    std::fs::rename(&channel_tmp, &channel_path).map_err(io_error(&channel_path))?;
    prune(&p.web_root, &site, p.keep_bundles);
    report.outcome = "published".into();
    report.bundle = name;
    report.seq = seq;
    Ok(report)
}

/// Removes all but the newest `keep` bundles of the site from the web root.
fn prune(web_root: &Path, site: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(web_root) else {
        return;
    };
    let mut bundles: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let seq = name
                .strip_prefix(&format!("{site}-"))?
                .strip_suffix(".kbundle")?
                .parse()
                .ok()?;
            Some((seq, e.path()))
        })
        .collect();
    bundles.sort_by(|a, b| b.0.cmp(&a.0));
    for (_, path) in bundles.into_iter().skip(keep) {
        let _ = std::fs::remove_file(path);
    }
}

/// The report as lines for a person.
pub fn render(report: &PublishReport) -> String {
    let mut out = String::new();
    if let Some(web) = &report.web {
        out.push_str("website: ");
        out.push_str(&super::render_report(web));
    }
    for sheet in &report.sheets {
        out.push_str("sheet: ");
        out.push_str(&super::render_sheet_report(sheet));
    }
    match report.outcome.as_str() {
        "published" => out.push_str(&format!(
            "published {} (seq {}, {} items) and channel.txt\n",
            report.bundle, report.seq, report.items
        )),
        "unchanged" => out.push_str("nothing changed since the last publish: no new bundle\n"),
        _ => out.push_str(&format!("refused: {}\n", report.reason)),
    }
    out
}
