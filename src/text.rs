//! Plain-text views of content for the command line: an item, the column tree, a check report.
//! Pure functions from content to strings.

use std::fmt::Write;

use unicode_width::UnicodeWidthStr;

use crate::content::{list_numbers, Block, Content, Inline, Item, ItemKind};
use crate::source::{Loaded, Problem};
use crate::urlpolicy::Link;

/// Pads text to a display width, counting CJK characters as two columns.
fn pad(text: &str, width: usize) -> String {
    let have = UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(have)))
}

fn inline_text(inlines: &[Inline]) -> String {
    inlines
        .iter()
        .map(|inline| {
            if inline.strong {
                format!("**{}**", inline.text)
            } else {
                inline.text.clone()
            }
        })
        .collect()
}

/// A link as text: the address when it may be opened, else the address and why it is not a link.
fn link_text(link: &Link) -> String {
    match (&link.href, &link.refusal) {
        (Some(href), _) => href.clone(),
        (None, Some(refusal)) => format!("{} (not a link: {refusal})", link.raw),
        (None, None) => link.raw.clone(),
    }
}

/// A field line: a label padded to a column, then the value.
fn field(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "  {}{value}", pad(label, 14));
}

fn opt_field(out: &mut String, label: &str, value: Option<&str>) {
    if let Some(value) = value {
        field(out, label, value);
    }
}

fn heading(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{title}");
}

/// An item, readably: title, place in the catalogue, metadata, guide sections, body, links.
pub fn render_item(content: &Content, item: &Item) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", item.title);
    let mut line = vec![
        item.kind.label_zh().to_owned(),
        content.columns.path(&item.column).join(" / "),
    ];
    if let Some(date) = item.date {
        line.push(date.to_string());
    }
    let _ = writeln!(out, "{}", line.join(" · "));
    let _ = writeln!(out, "id: {}", item.id);

    let mut meta = String::new();
    opt_field(&mut meta, "索引号", item.index_number.as_deref());
    opt_field(&mut meta, "发布机构", item.publisher.as_deref());
    opt_field(&mut meta, "文号", item.doc_number.as_deref());
    opt_field(&mut meta, "主题分类", item.topic.as_deref());
    if let Some(date) = item.date {
        field(&mut meta, "发布日期", &date.to_string());
    }
    opt_field(&mut meta, "有效性", item.validity.as_deref());
    if !item.keywords.is_empty() {
        field(&mut meta, "关键词", &item.keywords.join("、"));
    }
    if !meta.is_empty() {
        heading(&mut out, "【基本信息】");
        out.push_str(&meta);
    }

    if let Some(guide) = &item.guide {
        heading(&mut out, "【办事指南】");
        opt_field(&mut out, "事项编码", guide.code.as_deref());
        opt_field(&mut out, "事项类型", guide.item_type.as_deref());
        opt_field(&mut out, "办理对象", guide.applicants.as_deref());
        opt_field(&mut out, "法定办结时限", guide.time_limit_legal.as_deref());
        opt_field(
            &mut out,
            "承诺办结时限",
            guide.time_limit_promised.as_deref(),
        );
        if let Some(visits) = guide.visits {
            field(&mut out, "到现场次数", &format!("{visits} 次"));
        }
        opt_field(&mut out, "收费", guide.fee.as_deref());
        opt_field(&mut out, "办理地点", guide.location.as_deref());
        opt_field(&mut out, "办理时间", guide.hours.as_deref());
        opt_field(&mut out, "咨询电话", guide.phone.as_deref());
        opt_field(&mut out, "监督投诉电话", guide.complaint_phone.as_deref());
        if let Some(link) = &guide.online_url {
            field(&mut out, "网上办理", &link_text(link));
        }
        numbered(&mut out, "【受理条件】", &guide.conditions);
        if !guide.materials.is_empty() {
            heading(&mut out, "【申请材料】");
            for (i, material) in guide.materials.iter().enumerate() {
                let mut parts = vec![material.name.clone()];
                if let Some(form) = &material.form {
                    parts.push(form.clone());
                }
                if let Some(copies) = material.copies {
                    parts.push(format!("{copies} 份"));
                }
                let _ = writeln!(out, "  {}. {}", i + 1, parts.join(" · "));
                if let Some(note) = &material.note {
                    let _ = writeln!(out, "     {note}");
                }
            }
        }
        numbered(&mut out, "【办理流程】", &guide.steps);
        numbered(&mut out, "【设定依据】", &guide.basis);
    }

    if !item.body.is_empty() {
        heading(
            &mut out,
            if item.kind == ItemKind::Guide {
                "【事项说明】"
            } else {
                "【正文】"
            },
        );
        render_blocks(&mut out, &item.body.blocks);
    }

    if !item.attachments.is_empty() {
        heading(&mut out, "【附件】");
        for attachment in &item.attachments {
            let _ = writeln!(
                out,
                "  {}  {}",
                attachment.name,
                link_text(&attachment.link)
            );
        }
    }

    let interprets = item.interprets.as_deref().and_then(|id| content.item(id));
    let interpretations: Vec<&Item> = content.interpretations_of(&item.id).collect();
    if interprets.is_some() || !interpretations.is_empty() {
        heading(&mut out, "【相关文件】");
        if let Some(policy) = interprets {
            let _ = writeln!(out, "  解读的文件：{}（{}）", policy.title, policy.id);
        }
        for interpretation in interpretations {
            let _ = writeln!(
                out,
                "  政策解读：{}（{}）",
                interpretation.title, interpretation.id
            );
        }
    }

    if let Some(url) = &item.url {
        heading(&mut out, "【网址】");
        let _ = writeln!(out, "  {}", link_text(url));
    }
    out
}

fn numbered(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    heading(out, title);
    for (i, line) in lines.iter().enumerate() {
        let _ = writeln!(out, "  {}. {line}", i + 1);
    }
}

fn render_blocks(out: &mut String, blocks: &[Block]) {
    for block in blocks {
        match block {
            Block::Heading { text, .. } => {
                let _ = writeln!(out, "  {}", inline_text(text));
            }
            Block::Paragraph { text } => {
                let _ = writeln!(out, "  {}", inline_text(text));
            }
            Block::List {
                ordered,
                start,
                items,
            } => {
                for (item, number) in items.iter().zip(list_numbers(*ordered, *start, items)) {
                    let indent = "  ".repeat(usize::from(item.depth) + 1);
                    let marker = number.map_or_else(|| "-".to_owned(), |n| format!("{n}."));
                    let _ = writeln!(out, "{indent}{marker} {}", inline_text(&item.text));
                }
            }
            Block::Table { header, rows } => render_table(out, header, rows),
        }
    }
}

fn render_table(out: &mut String, header: &[Vec<Inline>], rows: &[Vec<Vec<Inline>>]) {
    let cells: Vec<Vec<String>> = std::iter::once(header)
        .chain(rows.iter().map(Vec::as_slice))
        .map(|row| row.iter().map(|cell| inline_text(cell)).collect())
        .collect();
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            cells
                .iter()
                .filter_map(|row| row.get(c))
                .map(|s| s.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (r, row) in cells.iter().enumerate() {
        let line: Vec<String> = (0..columns)
            .map(|c| pad(row.get(c).map(String::as_str).unwrap_or(""), widths[c]))
            .collect();
        let _ = writeln!(out, "  | {} |", line.join(" | "));
        if r == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            let _ = writeln!(out, "  | {} |", rule.join(" | "));
        }
    }
}

/// The column tree with item counts (a first-level count includes its children's items).
pub fn render_columns(content: &Content) -> String {
    let tree = &content.columns;
    let top = tree.top_level().count();
    let second = tree.all().len() - top;
    let mut rows: Vec<(String, usize)> = Vec::new();
    for column in tree.top_level() {
        rows.push((
            format!("{} ({})", column.name, column.id),
            content.count_in(&column.id),
        ));
        for child in tree.children(&column.id) {
            rows.push((
                format!("  {} ({})", child.name, child.id),
                content.count_in(&child.id),
            ));
        }
    }
    let width = rows
        .iter()
        .map(|(label, _)| label.width())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(out, "{}", content.site.name);
    let _ = writeln!(
        out,
        "{top} first-level and {second} second-level columns, {} items\n",
        content.items.len()
    );
    for (label, count) in rows {
        let _ = writeln!(out, "{}  {count:>5}", pad(&label, width));
    }
    out
}

/// The report of `kiosk check`: every problem with its place, then a summary.
pub fn render_check(loaded: &Loaded, source: &std::path::Path) -> String {
    let mut out = String::new();
    for problem in &loaded.problems {
        let placed = Problem {
            file: source.join(&problem.file).display().to_string(),
            ..problem.clone()
        };
        let _ = writeln!(out, "{placed}");
    }
    let content = &loaded.content;
    let skipped = loaded.lines_read.saturating_sub(content.items.len());
    let mut kinds = Vec::new();
    for kind in ItemKind::ALL {
        let n = content
            .items
            .iter()
            .filter(|item| item.kind == kind)
            .count();
        if n > 0 {
            kinds.push(format!("{n} {}", kind.as_str()));
        }
    }
    if !loaded.problems.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{} ({})", content.site.name, source.display());
    let _ = writeln!(
        out,
        "{} items loaded ({}), {skipped} skipped; {} columns",
        content.items.len(),
        if kinds.is_empty() {
            "none".to_owned()
        } else {
            kinds.join(", ")
        },
        content.columns.all().len(),
    );
    let _ = writeln!(
        out,
        "{} errors, {} warnings",
        loaded.errors(),
        loaded.warnings()
    );
    out
}

/// Search results for a person at a terminal: numbered hits with their snippets, then the
/// filters, the "did you mean" and what to try when nothing was found.
pub fn render_results(results: &crate::search::SearchResults) -> String {
    let mut out = String::new();
    if results.blank {
        let _ = writeln!(
            out,
            "Nothing to search for: type a word, its pinyin or its initials."
        );
        return out;
    }
    if results.shortened {
        let _ = writeln!(
            out,
            "(the query was shortened to its first {} characters)",
            crate::search::plan::MAX_QUERY_CHARS
        );
    }
    let _ = writeln!(out, "“{}”: {} results", results.query, results.total);
    if let Some(searched) = &results.searched_as {
        let _ = writeln!(out, "Searched for “{searched}”");
    }
    if results.relaxed {
        let _ = writeln!(out, "No item matches every word; these match some of them.");
    }
    for (i, hit) in results.hits.iter().enumerate() {
        let date = hit.date.map(|d| format!(" · {d}")).unwrap_or_default();
        let _ = writeln!(out, "\n{:>2}. {}  ({})", i + 1, hit.title, hit.id);
        let _ = writeln!(out, "    {} · {}{date}", hit.kind.label_zh(), hit.column);
        if !hit.snippet.text.is_empty() {
            let _ = writeln!(out, "    {}", hit.snippet.marked());
        }
    }
    let facets = &results.facets;
    if !facets.kinds.is_empty() {
        let kinds: Vec<String> = facets
            .kinds
            .iter()
            .map(|(k, n)| format!("{} {n}", k.label_zh()))
            .collect();
        let _ = writeln!(out, "\nBy kind: {}", kinds.join(" · "));
        let columns: Vec<String> = facets
            .columns
            .iter()
            .map(|(_, name, n)| format!("{name} {n}"))
            .collect();
        let _ = writeln!(out, "By column: {}", columns.join(" · "));
    }
    if let Some(suggestion) = &results.suggestion {
        let _ = writeln!(out, "\nDid you mean: {suggestion}");
    }
    if results.total == 0 && !results.popular.is_empty() {
        let _ = writeln!(out, "\nTry: {}", results.popular.join("、"));
    }
    out
}

/// Search results as one JSON object (the `--json` and `--queries` output).
/// `kiosk search --explain`: how the query was understood, then each result with where its
/// words matched.
pub fn render_explanation(explained: &crate::search::Explanation) -> String {
    let plan = &explained.plan;
    let mut out = String::new();
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "—".to_owned()
        } else {
            items.join(", ")
        }
    };
    let _ = writeln!(out, "Query: “{}”", plan.normalized);
    let kinds = ["as typed", "spelling put right", "plain language rewritten"];
    for (i, conjunction) in plan.conjunctions.iter().enumerate() {
        let kind = match i {
            0 => kinds[0],
            _ if plan.corrected.is_some() && i == 1 => kinds[1],
            _ => kinds[2],
        };
        let groups: Vec<String> = conjunction
            .groups
            .iter()
            .map(|g| {
                let alternatives: Vec<&str> =
                    g.alternatives.iter().map(|a| a.text.as_str()).collect();
                let role = if g.typing {
                    " (being typed: ranks only)"
                } else if g.weak {
                    " (general: ranks only)"
                } else {
                    ""
                };
                format!("[{}]{role}", alternatives.join(" | "))
            })
            .collect();
        let firm = conjunction.groups.iter().filter(|g| g.firm()).count();
        let _ = writeln!(
            out,
            "Searched {kind} (weight {}): {}; {} of {firm} deciding words must match",
            conjunction.weight,
            groups.join(" "),
            crate::search::plan::required(firm),
        );
    }
    let _ = writeln!(out, "Words dropped: {}", list(plan.dropped.clone()));
    let _ = writeln!(
        out,
        "Plain-language rules: {}",
        list(
            plan.expansions
                .iter()
                .map(|e| format!("{} → {}", e.phrase, e.terms.join(" | ")))
                .collect()
        )
    );
    let mut corrections: Vec<String> = plan
        .readings
        .iter()
        .map(|(typed, word, typo)| {
            let typo = if *typo { " (a typo put right)" } else { "" };
            format!("{typed} → {word}{typo}")
        })
        .collect();
    if let Some(corrected) = &plan.corrected {
        corrections.push(format!(
            "{} → {corrected} (sounds the same)",
            plan.normalized
        ));
    }
    let _ = writeln!(out, "Pinyin and spelling: {}", list(corrections));
    if let Some(number) = &plan.doc_number {
        let _ = writeln!(out, "Document number: {number}");
    }
    if let Some(searched) = &explained.results.searched_as {
        let _ = writeln!(out, "The screen says: 已为您查找“{searched}”");
    }
    let results = &explained.results;
    let _ = writeln!(
        out,
        "\n{} results{}",
        results.total,
        if results.relaxed {
            " (nothing matched enough words: any one word was enough)"
        } else {
            ""
        }
    );
    for (i, hit) in explained.hits.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n{:>2}. {}  ({})  score {:.2}",
            i + 1,
            hit.title,
            hit.id,
            hit.score
        );
        for group in &hit.words {
            if group.conjunction > 0 && group.matched.is_empty() {
                continue;
            }
            let role = if group.decides { "" } else { " (ranks only)" };
            let via = if group.conjunction > 0 {
                " [rewritten]"
            } else {
                ""
            };
            let found = if group.matched.is_empty() {
                "not found".to_owned()
            } else {
                group
                    .matched
                    .iter()
                    .map(|m| format!("{} in {} {:.2}", m.word, m.field, m.score))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(out, "    {}{role}{via}: {found}", group.group);
        }
    }
    out
}

pub fn results_json(results: &crate::search::SearchResults) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let hits: Vec<Value> = results
        .hits
        .iter()
        .map(|hit| {
            json!({
                "id": hit.id,
                "kind": hit.kind.as_str(),
                "title": hit.title,
                "column": hit.column,
                "column_id": hit.column_id,
                "date": hit.date.map(|d| d.to_string()),
                "score": (f64::from(hit.score) * 1000.0).round() / 1000.0,
                "snippet": hit.snippet.marked(),
            })
        })
        .collect();
    let counts = |pairs: Vec<(String, usize)>| -> Value {
        Value::Object(
            pairs
                .into_iter()
                .map(|(k, n)| (k, json!(n)))
                .collect::<Map<String, Value>>(),
        )
    };
    let facets = &results.facets;
    json!({
        "query": results.query,
        "total": results.total,
        "hits": hits,
        "facets": {
            "kind": counts(facets.kinds.iter().map(|(k, n)| (k.as_str().to_owned(), *n)).collect()),
            "column": counts(facets.columns.iter().map(|(id, _, n)| (id.clone(), *n)).collect()),
            "year": counts(facets.years.iter().map(|(y, n)| (y.to_string(), *n)).collect()),
        },
        "relaxed": results.relaxed,
        "suggestion": results.suggestion,
        "searched_as": results.searched_as,
        "popular": results.popular,
    })
}

/// `kiosk bundle status`: what is installed, what was before, and the history.
pub fn render_install_status(
    data_dir: &std::path::Path,
    status: &crate::install::Status,
    history: &[crate::install::HistoryEntry],
    utc_offset_minutes: i32,
) -> String {
    use std::fmt::Write;
    let when = |at: i64| crate::content::format_local(at, utc_offset_minutes);
    let mut out = String::new();
    let _ = writeln!(out, "data directory: {}", data_dir.display());
    let mut record = |label: &str, record: &Option<crate::install::Record>| match record {
        Some(r) => {
            let _ = writeln!(
                out,
                "{label}: {} seq {}, version “{}”, {} items\n  built {}, signed by {}\n  installed {} from {}",
                r.site,
                r.seq,
                r.version,
                r.item_count,
                r.created,
                r.key_id,
                when(r.installed_at),
                r.from
            );
        }
        None => {
            let _ = writeln!(out, "{label}: none");
        }
    };
    record("installed", &status.current);
    record("previous (for rollback)", &status.previous);
    if status.current.is_none() {
        let _ = writeln!(out, "  (the screen shows the built-in sample hall)");
    }
    let _ = writeln!(out, "a new bundle needs a seq above {}", status.high_water);
    if !history.is_empty() {
        let _ = writeln!(out, "history:");
        for entry in history.iter().rev().take(20) {
            let _ = writeln!(
                out,
                "  {}  {:<8}  seq {}  “{}”  from {}{}",
                when(entry.at),
                entry.action,
                entry.seq,
                entry.version,
                entry.from,
                if entry.reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", entry.reason)
                }
            );
        }
    }
    out
}
