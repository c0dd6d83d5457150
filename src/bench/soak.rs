//! `kiosk bench soak`: the content a soak run visits (a content source, with generated hostile
//! items added beside its own) and its report. The run itself is [`crate::ui::soak`].

use std::path::{Path, PathBuf};

use crate::ui::soak::SoakFigures;

/// Copies the files of the content source `from` into `to`, adding `hostile` generated items
/// (in the source's first column) as `items/zz-hostile.jsonl`.
pub fn prepare(from: &Path, to: &Path, hostile: usize, seed: u64) -> std::io::Result<()> {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to.join(crate::source::ITEMS_DIR))?;
    for name in [
        crate::source::SITE_FILE,
        crate::source::COLUMNS_FILE,
        crate::source::SYNONYMS_FILE,
    ] {
        if from.join(name).is_file() {
            std::fs::copy(from.join(name), to.join(name))?;
        }
    }
    for entry in std::fs::read_dir(from.join(crate::source::ITEMS_DIR))? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().ends_with(".jsonl") {
            std::fs::copy(
                entry.path(),
                to.join(crate::source::ITEMS_DIR).join(entry.file_name()),
            )?;
        }
    }
    if hostile > 0 {
        let columns = std::fs::read_to_string(from.join(crate::source::COLUMNS_FILE))?;
        let column = toml::from_str::<toml::Value>(&columns)
            .ok()
            .and_then(|v| {
                v.get("column")?
                    .as_array()?
                    .first()?
                    .get("id")?
                    .as_str()
                    .map(str::to_owned)
            })
            .ok_or_else(|| {
                std::io::Error::other("the source has no column to file the hostile items in")
            })?;
        let mut lines = String::new();
        for item in super::hostile::items(hostile, &column, seed) {
            lines.push_str(&item.to_string());
            lines.push('\n');
        }
        std::fs::write(
            to.join(crate::source::ITEMS_DIR).join("zz-hostile.jsonl"),
            lines,
        )?;
    }
    Ok(())
}

/// Where a soak run keeps its copy of the content and its data directory.
pub fn work_dir() -> PathBuf {
    std::env::temp_dir().join(format!("kiosk-soak-{}", std::process::id()))
}

/// The figures as Markdown, for docs/performance.md.
pub fn render(figures: &SoakFigures, label: &str, command: &str, size: (u32, u32)) -> String {
    let mib = |kib: u64| format!("{:.0} MiB", kib as f64 / 1024.0);
    let (item, page, ms) = &figures.slowest;
    format!(
        "Command: `{command}` (release build). One kiosk process, the real screen drawn by the \
         software renderer on a headless {}×{} window: a scripted visitor opens every item and \
         turns every page; each page is timed from the command to the page drawn.\n\n\
         | content | items | pages | page p50 | page p99 | slowest page | memory when ready | peak memory | not shown |\n\
         | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n\
         | {label} | {} | {} | {:.1} ms | {:.1} ms | {ms:.0} ms ({item}, page {page}) | {} | {} | {} |\n\n\
         The whole run took {:.0} s; the busiest page held {} body blocks.\n",
        size.0,
        size.1,
        figures.items,
        figures.pages,
        figures.page_p50_ms,
        figures.page_p99_ms,
        mib(figures.ready_rss_kib),
        mib(figures.peak_rss_kib),
        figures.failures.len(),
        figures.seconds,
        figures.most_blocks,
    )
}
