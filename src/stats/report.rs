//! The statistics report (`kiosk stats report`): the figures of a period computed from the
//! usage events ([`compute`]), and the four ways to hand them on: Markdown in Simplified
//! Chinese for a work summary ([`to_markdown`]), CSV and XLSX for office spreadsheets
//! ([`to_csv`], [`to_xlsx`]) and JSON for machines ([`to_json`]).
//!
//! Pure: no file or database access (the XLSX is built in memory). The caller reads the events,
//! for instance with [`super::Store::events_between`] over [`Period::utc_range_ms`].

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::fmt::Write;

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use super::event::{Event, EventKind};
use crate::content::{format_local, Date};

/// How many rows the ranked lists keep.
pub const TOP: usize = 20;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// Monday first, as `busiest_hours` is indexed.
pub const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

/// The days a report covers, both included, in the local time of the hall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    /// The period as UTC milliseconds, `from` inclusive and `to` exclusive (the arguments of
    /// `Store::events_between`), for a hall `utc_offset_minutes` east of UTC.
    pub fn utc_range_ms(&self, utc_offset_minutes: i32) -> (i64, i64) {
        let offset_ms = i64::from(utc_offset_minutes) * 60_000;
        (
            self.from.days_since_epoch() * DAY_MS - offset_ms,
            (self.to.days_since_epoch() + 1) * DAY_MS - offset_ms,
        )
    }

    fn contains_day(&self, local_day: i64) -> bool {
        (self.from.days_since_epoch()..=self.to.days_since_epoch()).contains(&local_day)
    }
}

/// The figures of one period on one terminal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub period: Period,
    pub terminal: String,
    /// The hall's local time, in minutes east of UTC, that days and hours are counted in.
    pub utc_offset_minutes: i32,
    pub summary: Summary,
    /// The most frequent queries (by searches, then query), at most [`TOP`].
    pub top_searches: Vec<SearchCount>,
    /// The queries that most often found nothing (by zero-result searches, then query), at
    /// most [`TOP`]: the content the office is missing.
    pub top_zero_result_searches: Vec<SearchCount>,
    /// Every column an item was viewed or that was opened (by item views, then opens, then name).
    pub views_by_column: Vec<ColumnViews>,
    /// The most viewed items (by views, then id), at most [`TOP`].
    pub top_items: Vec<ItemViews>,
    /// The items whose QR codes were taken most (by total, then id), at most [`TOP`].
    pub qr_codes: Vec<QrCodes>,
    /// Sessions started, by local weekday (Monday = 0 … Sunday = 6) and local hour (0–23).
    pub busiest_hours: [[u64; 24]; 7],
    /// Content installed in the period, oldest first.
    pub content_versions: Vec<ContentVersion>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Sessions started.
    pub sessions: u64,
    /// Sessions ended: the ones `average_active_seconds` is the mean of.
    pub ended_sessions: u64,
    /// The mean time from first to last touch of the ended sessions (0 when none ended).
    pub average_active_seconds: f64,
    pub searches: u64,
    pub zero_result_searches: u64,
    /// `zero_result_searches / searches`, a fraction (0 when there were no searches).
    pub zero_result_rate: f64,
    /// Results opened from a search.
    pub result_opens: u64,
    pub item_views: u64,
    pub column_opens: u64,
    pub qr_codes: u64,
    /// Elder mode (长辈模式) switched on.
    pub elder_mode_on: u64,
    /// The interface switched to English.
    pub english_switches: u64,
}

/// A query: how often it was searched and how many of those searches found nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchCount {
    pub query: String,
    pub searches: u64,
    pub zero_results: u64,
}

/// A column by its name: items viewed in it and how often it was opened in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnViews {
    pub column_name: String,
    pub item_views: u64,
    pub opened: u64,
}

/// An item and how often it was viewed; `title` is the newest seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemViews {
    pub item: String,
    pub title: String,
    pub views: u64,
}

/// An item's QR codes taken, in total and by code (`page`, `checklist`, `online`, `attachment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrCodes {
    pub item: String,
    pub title: String,
    pub total: u64,
    pub by_code: BTreeMap<String, u64>,
}

/// A content installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContentVersion {
    pub at_ms: i64,
    /// `YYYY-MM-DD HH:MM`, local time.
    pub local_time: String,
    pub seq: u64,
    pub version: String,
    /// Where it came from: a file path or a URL.
    pub from: String,
}

/// The report of the events whose local day (at `utc_offset_minutes` east of UTC) lies in
/// `period`; the others are ignored, so `events` may hold more than the period.
pub fn compute(
    events: &[Event],
    period: &Period,
    utc_offset_minutes: i32,
    terminal_label: &str,
) -> Report {
    let offset_ms = i64::from(utc_offset_minutes) * 60_000;
    let mut summary = Summary::default();
    let mut active_ms: u128 = 0;
    let mut searches: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut columns: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut items: BTreeMap<&str, (&str, u64)> = BTreeMap::new();
    let mut codes: BTreeMap<&str, (&str, BTreeMap<&str, u64>)> = BTreeMap::new();
    let mut busiest_hours = [[0u64; 24]; 7];
    let mut content_versions = Vec::new();

    for event in events {
        let local_ms = event.at_ms.saturating_add(offset_ms);
        let day = local_ms.div_euclid(DAY_MS);
        if !period.contains_day(day) {
            continue;
        }
        match &event.kind {
            EventKind::SessionStart { .. } => {
                summary.sessions += 1;
                // 1970-01-01 was a Thursday (3 with Monday = 0).
                let weekday = (day + 3).rem_euclid(7) as usize;
                let hour = (local_ms.rem_euclid(DAY_MS) / HOUR_MS) as usize;
                busiest_hours[weekday][hour] += 1;
            }
            EventKind::SessionEnd { active_ms: ms, .. } => {
                summary.ended_sessions += 1;
                active_ms += u128::from(*ms);
            }
            EventKind::Search { query, results, .. } => {
                summary.searches += 1;
                let entry = searches.entry(query.as_str()).or_default();
                entry.0 += 1;
                if *results == 0 {
                    summary.zero_result_searches += 1;
                    entry.1 += 1;
                }
            }
            EventKind::ResultOpened { .. } => summary.result_opens += 1,
            EventKind::ItemViewed {
                item,
                title,
                column_name,
                ..
            } => {
                summary.item_views += 1;
                columns.entry(column_name.as_str()).or_default().0 += 1;
                let entry = items.entry(item.as_str()).or_insert((title.as_str(), 0));
                entry.0 = title.as_str();
                entry.1 += 1;
            }
            EventKind::ColumnBrowsed { column_name, .. } => {
                summary.column_opens += 1;
                columns.entry(column_name.as_str()).or_default().1 += 1;
            }
            EventKind::QrShown {
                item, title, code, ..
            } => {
                summary.qr_codes += 1;
                let entry = codes
                    .entry(item.as_str())
                    .or_insert((title.as_str(), BTreeMap::new()));
                entry.0 = title.as_str();
                *entry.1.entry(code.as_str()).or_default() += 1;
            }
            EventKind::ElderMode { on, .. } => summary.elder_mode_on += u64::from(*on),
            EventKind::Language { lang, .. } => summary.english_switches += u64::from(lang == "en"),
            EventKind::ContentInstalled { seq, version, from } => {
                content_versions.push(ContentVersion {
                    at_ms: event.at_ms,
                    local_time: format_local(event.at_ms.div_euclid(1000), utc_offset_minutes),
                    seq: *seq,
                    version: version.clone(),
                    from: from.clone(),
                })
            }
            EventKind::Started { .. } | EventKind::Stopped => {}
        }
    }

    if summary.ended_sessions > 0 {
        summary.average_active_seconds = active_ms as f64 / summary.ended_sessions as f64 / 1000.0;
    }
    if summary.searches > 0 {
        summary.zero_result_rate = summary.zero_result_searches as f64 / summary.searches as f64;
    }

    let counts: Vec<SearchCount> = searches
        .into_iter()
        .map(|(query, (searches, zero_results))| SearchCount {
            query: query.to_owned(),
            searches,
            zero_results,
        })
        .collect();
    let mut top_searches = counts.clone();
    // Stable sorts over the BTreeMap's order: ties stay sorted by query.
    top_searches.sort_by_key(|c| Reverse(c.searches));
    top_searches.truncate(TOP);
    let mut top_zero_result_searches: Vec<SearchCount> =
        counts.into_iter().filter(|c| c.zero_results > 0).collect();
    top_zero_result_searches.sort_by_key(|c| Reverse(c.zero_results));
    top_zero_result_searches.truncate(TOP);

    let mut views_by_column: Vec<ColumnViews> = columns
        .into_iter()
        .map(|(name, (item_views, opened))| ColumnViews {
            column_name: name.to_owned(),
            item_views,
            opened,
        })
        .collect();
    views_by_column.sort_by_key(|c| Reverse((c.item_views, c.opened)));

    let mut top_items: Vec<ItemViews> = items
        .into_iter()
        .map(|(item, (title, views))| ItemViews {
            item: item.to_owned(),
            title: title.to_owned(),
            views,
        })
        .collect();
    top_items.sort_by_key(|v| Reverse(v.views));
    top_items.truncate(TOP);

    let mut qr_codes: Vec<QrCodes> = codes
        .into_iter()
        .map(|(item, (title, by_code))| QrCodes {
            item: item.to_owned(),
            title: title.to_owned(),
            total: by_code.values().sum(),
            by_code: by_code
                .into_iter()
                .map(|(code, n)| (code.to_owned(), n))
                .collect(),
        })
        .collect();
    qr_codes.sort_by_key(|q| Reverse(q.total));
    qr_codes.truncate(TOP);

    content_versions.sort_by_key(|v| (v.at_ms, v.seq));

    Report {
        period: *period,
        terminal: terminal_label.to_owned(),
        utc_offset_minutes,
        summary,
        top_searches,
        top_zero_result_searches,
        views_by_column,
        top_items,
        qr_codes,
        busiest_hours,
        content_versions,
    }
}

/// The Chinese name of a QR code kind (unknown kinds as they are).
fn code_label(code: &str) -> &str {
    match code {
        "page" => "事项页面",
        "checklist" => "材料清单",
        "online" => "网上办理",
        "attachment" => "附件",
        other => other,
    }
}

/// The code kinds the report's QR rows use: the known ones in their usual order, then others.
fn code_kinds(report: &Report) -> Vec<&str> {
    const KNOWN: [&str; 4] = ["page", "checklist", "online", "attachment"];
    let mut seen: Vec<&str> = report
        .qr_codes
        .iter()
        .flat_map(|q| q.by_code.keys().map(String::as_str))
        .collect();
    seen.sort_by_key(|code| {
        (
            KNOWN.iter().position(|k| k == code).unwrap_or(KNOWN.len()),
            *code,
        )
    });
    seen.dedup();
    seen
}

/// `UTC+08:00`.
fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let minutes = minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Whole seconds as `45 秒`, `1 分 23 秒`, `1 小时 2 分`.
fn duration_zh(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s} 秒"),
        60..3600 => format!("{} 分 {} 秒", s / 60, s % 60),
        _ => format!("{} 小时 {} 分", s / 3600, s % 3600 / 60),
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// Text safe inside a Markdown table cell.
fn md_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

/// A Markdown table; `right[i]` right-aligns column `i` (numbers). No rows: `（无）`.
fn md_table(out: &mut String, header: &[&str], right: &[bool], rows: &[Vec<String>]) {
    if rows.is_empty() {
        out.push_str("（无）\n");
        return;
    }
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let rule: Vec<&str> = (0..header.len())
        .map(|i| {
            if right.get(i) == Some(&true) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let _ = writeln!(out, "| {} |", rule.join(" | "));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

/// The summary figures with their Chinese labels, in report order.
fn summary_rows(summary: &Summary) -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("访问人次", "sessions", summary.sessions.to_string()),
        (
            "平均使用时长",
            "average_active_seconds",
            duration_zh(summary.average_active_seconds),
        ),
        ("检索次数", "searches", summary.searches.to_string()),
        (
            "无结果检索次数",
            "zero_result_searches",
            summary.zero_result_searches.to_string(),
        ),
        (
            "无结果检索占比",
            "zero_result_rate",
            percent(summary.zero_result_rate),
        ),
        (
            "打开结果次数",
            "result_opens",
            summary.result_opens.to_string(),
        ),
        ("事项浏览次数", "item_views", summary.item_views.to_string()),
        (
            "栏目打开次数",
            "column_opens",
            summary.column_opens.to_string(),
        ),
        ("二维码取用次数", "qr_codes", summary.qr_codes.to_string()),
        (
            "长辈模式使用次数",
            "elder_mode_on",
            summary.elder_mode_on.to_string(),
        ),
        (
            "切换英文界面次数",
            "english_switches",
            summary.english_switches.to_string(),
        ),
    ]
}

/// The report in Simplified Chinese Markdown, for pasting into a work summary.
///
/// The busiest-hours table has the hours as rows and 周一 … 周日 as columns, from the first to
/// the last hour any session started in (all 24 rows are in the CSV, JSON and XLSX).
pub fn to_markdown(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("# 自助查询终端使用情况报告\n\n");
    let _ = writeln!(out, "- 终端：{}", md_cell(&report.terminal));
    let _ = writeln!(
        out,
        "- 统计期间：{} 至 {}（当地时间 {}）",
        report.period.from,
        report.period.to,
        offset_text(report.utc_offset_minutes)
    );

    out.push_str("\n## 总体情况\n\n");
    let rows: Vec<Vec<String>> = summary_rows(&report.summary)
        .into_iter()
        .map(|(label, _, value)| vec![label.to_owned(), value])
        .collect();
    md_table(&mut out, &["指标", "数值"], &[false, true], &rows);

    // The two ranked search tables: by searches, and by searches that found nothing.
    let mut searches = |title: &str, list: &[SearchCount], headers: [&str; 4], zero_first: bool| {
        out.push_str(&format!("\n## {title}\n\n"));
        let rows: Vec<Vec<String>> = list
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (first, second) = if zero_first {
                    (c.zero_results, c.searches)
                } else {
                    (c.searches, c.zero_results)
                };
                vec![
                    (i + 1).to_string(),
                    c.query.clone(),
                    first.to_string(),
                    second.to_string(),
                ]
            })
            .collect();
        md_table(&mut out, &headers, &[true, false, true, true], &rows);
    };
    searches(
        "热门检索",
        &report.top_searches,
        ["排名", "检索词", "检索次数", "其中无结果"],
        false,
    );
    searches(
        "无结果检索（待补充内容）",
        &report.top_zero_result_searches,
        ["排名", "检索词", "无结果次数", "检索次数"],
        true,
    );

    out.push_str("\n## 各栏目浏览量\n\n");
    let rows: Vec<Vec<String>> = report
        .views_by_column
        .iter()
        .map(|c| {
            vec![
                c.column_name.clone(),
                c.item_views.to_string(),
                c.opened.to_string(),
            ]
        })
        .collect();
    md_table(
        &mut out,
        &["栏目", "事项浏览次数", "栏目打开次数"],
        &[false, true, true],
        &rows,
    );

    out.push_str("\n## 热门事项\n\n");
    let rows: Vec<Vec<String>> = report
        .top_items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            vec![
                (i + 1).to_string(),
                v.title.clone(),
                v.item.clone(),
                v.views.to_string(),
            ]
        })
        .collect();
    md_table(
        &mut out,
        &["排名", "事项名称", "编号", "浏览次数"],
        &[true, false, false, true],
        &rows,
    );

    out.push_str("\n## 二维码取用\n\n");
    let kinds = code_kinds(report);
    let mut header = vec!["事项名称", "编号", "合计"];
    header.extend(kinds.iter().map(|k| code_label(k)));
    let mut right = vec![false, false];
    right.resize(header.len(), true);
    let rows: Vec<Vec<String>> = report
        .qr_codes
        .iter()
        .map(|q| {
            let mut row = vec![q.title.clone(), q.item.clone(), q.total.to_string()];
            row.extend(
                kinds
                    .iter()
                    .map(|k| q.by_code.get(*k).copied().unwrap_or(0).to_string()),
            );
            row
        })
        .collect();
    md_table(&mut out, &header, &right, &rows);

    out.push_str("\n## 繁忙时段\n\n");
    let hours = &report.busiest_hours;
    let busy = |hour: usize| hours.iter().any(|day| day[hour] > 0);
    let first = (0..24).find(|&h| busy(h));
    let last = (0..24).rev().find(|&h| busy(h));
    let mut rows = Vec::new();
    if let (Some(first), Some(last)) = (first, last) {
        out.push_str("按访问开始时间统计的访问人次（当地时间）。\n\n");
        for hour in first..=last {
            let mut row = vec![format!("{hour:02}:00")];
            row.extend(hours.iter().map(|day| day[hour].to_string()));
            row.push(hours.iter().map(|day| day[hour]).sum::<u64>().to_string());
            rows.push(row);
        }
        let mut total = vec!["合计".to_owned()];
        total.extend(hours.iter().map(|day| day.iter().sum::<u64>().to_string()));
        total.push(hours.iter().flatten().sum::<u64>().to_string());
        rows.push(total);
    }
    let mut header = vec!["时段"];
    header.extend(WEEKDAYS);
    header.push("合计");
    let mut right = vec![false];
    right.resize(header.len(), true);
    md_table(&mut out, &header, &right, &rows);

    out.push_str("\n## 内容版本记录\n\n");
    let rows: Vec<Vec<String>> = report
        .content_versions
        .iter()
        .map(|v| {
            vec![
                v.local_time.clone(),
                v.version.clone(),
                v.seq.to_string(),
                v.from.clone(),
            ]
        })
        .collect();
    md_table(
        &mut out,
        &["安装时间", "版本", "序号", "来源"],
        &[false, false, true, false],
        &rows,
    );
    out
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A text field a spreadsheet must not read as a formula: visitors type the queries, so a
/// leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front (OWASP's advice).
fn csv_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        csv_field(&format!("'{text}"))
    } else {
        csv_field(text)
    }
}

/// The report as one CSV table for spreadsheets: UTF-8 with a byte-order mark (so Excel reads
/// the Chinese), CRLF line ends and RFC 4180 quoting. Filter on `section`:
///
/// ```text
/// section,key,detail,value
/// report,terminal,,大厅一号机                 report,from / to,,YYYY-MM-DD
/// report,utc_offset_minutes,,480
/// summary,<figure>,,<number>                  sessions, ended_sessions,
///                                             average_active_seconds (one decimal),
///                                             searches, zero_result_searches,
///                                             zero_result_percent (one decimal), result_opens,
///                                             item_views, column_opens, qr_codes,
///                                             elder_mode_on, english_switches
/// top_search,<query>,zero:<zero-result searches>,<searches>
/// zero_search,<query>,searches:<searches>,<zero-result searches>
/// column,<column name>,opened:<column opens>,<item views>
/// top_item,<title>,<item id>,<views>
/// qr,<title>,<item id>/<code>,<codes taken>   one row an item and code kind
/// busiest,<周一…周日>,<hour 00…23>,<sessions started>    all 7 × 24 cells
/// content_installed,<local time>,version:<version> from:<from>,<seq>
/// ```
///
/// Ranked sections keep their rank order. Text a visitor could have typed that starts like a
/// formula gets a leading `'`.
pub fn to_csv(report: &Report) -> String {
    let mut out = String::from("\u{feff}section,key,detail,value\r\n");
    let mut row = |section: &str, key: &str, detail: &str, value: &str| {
        let _ = write!(
            out,
            "{section},{},{},{}\r\n",
            csv_text(key),
            csv_text(detail),
            csv_text(value)
        );
    };
    row("report", "terminal", "", &report.terminal);
    row("report", "from", "", &report.period.from.to_string());
    row("report", "to", "", &report.period.to.to_string());
    row(
        "report",
        "utc_offset_minutes",
        "",
        &report.utc_offset_minutes.to_string(),
    );

    let s = &report.summary;
    for (key, value) in [
        ("sessions", s.sessions.to_string()),
        ("ended_sessions", s.ended_sessions.to_string()),
        (
            "average_active_seconds",
            format!("{:.1}", s.average_active_seconds),
        ),
        ("searches", s.searches.to_string()),
        ("zero_result_searches", s.zero_result_searches.to_string()),
        (
            "zero_result_percent",
            format!("{:.1}", s.zero_result_rate * 100.0),
        ),
        ("result_opens", s.result_opens.to_string()),
        ("item_views", s.item_views.to_string()),
        ("column_opens", s.column_opens.to_string()),
        ("qr_codes", s.qr_codes.to_string()),
        ("elder_mode_on", s.elder_mode_on.to_string()),
        ("english_switches", s.english_switches.to_string()),
    ] {
        row("summary", key, "", &value);
    }
    for c in &report.top_searches {
        row(
            "top_search",
            &c.query,
            &format!("zero:{}", c.zero_results),
            &c.searches.to_string(),
        );
    }
    for c in &report.top_zero_result_searches {
        row(
            "zero_search",
            &c.query,
            &format!("searches:{}", c.searches),
            &c.zero_results.to_string(),
        );
    }
    for c in &report.views_by_column {
        row(
            "column",
            &c.column_name,
            &format!("opened:{}", c.opened),
            &c.item_views.to_string(),
        );
    }
    for v in &report.top_items {
        row("top_item", &v.title, &v.item, &v.views.to_string());
    }
    for q in &report.qr_codes {
        for (code, n) in &q.by_code {
            row(
                "qr",
                &q.title,
                &format!("{}/{code}", q.item),
                &n.to_string(),
            );
        }
    }
    for (weekday, hours) in WEEKDAYS.iter().zip(&report.busiest_hours) {
        for (hour, n) in hours.iter().enumerate() {
            row("busiest", weekday, &format!("{hour:02}"), &n.to_string());
        }
    }
    for v in &report.content_versions {
        row(
            "content_installed",
            &v.local_time,
            &format!("version:{} from:{}", v.version, v.from),
            &v.seq.to_string(),
        );
    }
    out
}

/// The report as JSON, with the field names of [`Report`] (`busiest_hours` is 7 rows, Monday
/// first, of 24 hours; `zero_result_rate` is a fraction).
pub fn to_json(report: &Report) -> serde_json::Value {
    // Plain structs with string keys: serialising cannot fail.
    serde_json::to_value(report).unwrap_or(serde_json::Value::Null)
}

/// A spreadsheet cell.
enum Cell {
    Text(String),
    Number(f64),
    /// A fraction shown as a percent.
    Percent(f64),
    /// A number shown with one decimal.
    Decimal(f64),
}

impl Cell {
    fn count(n: u64) -> Cell {
        Cell::Number(n as f64)
    }

    fn text(text: impl Into<String>) -> Cell {
        Cell::Text(text.into())
    }

    /// Its width in character columns (a CJK character is two).
    fn width(&self) -> usize {
        match self {
            Cell::Text(text) => UnicodeWidthStr::width(text.as_str()),
            Cell::Number(n) => n.to_string().len(),
            Cell::Percent(n) => format!("{:.1}%", n * 100.0).len(),
            Cell::Decimal(n) => format!("{n:.1}").len(),
        }
    }
}

/// Adds a worksheet: a bold, frozen header row, the rows, columns as wide as their contents.
fn add_sheet(
    workbook: &mut Workbook,
    name: &str,
    header: &[&str],
    rows: Vec<Vec<Cell>>,
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let decimal = Format::new().set_num_format("0.0");
    let sheet = workbook.add_worksheet();
    sheet.set_name(name)?;
    let mut widths: Vec<usize> = header.iter().map(|h| UnicodeWidthStr::width(*h)).collect();
    for (col, title) in header.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &bold)?;
    }
    for (r, cells) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (col, cell) in cells.iter().enumerate() {
            if col >= widths.len() {
                widths.push(0);
            }
            widths[col] = widths[col].max(cell.width());
            let col = col as u16;
            match cell {
                Cell::Text(text) => sheet.write_string(r, col, text)?,
                Cell::Number(n) => sheet.write_number(r, col, *n)?,
                Cell::Percent(n) => sheet.write_number_with_format(r, col, *n, &percent)?,
                Cell::Decimal(n) => sheet.write_number_with_format(r, col, *n, &decimal)?,
            };
        }
    }
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, (*width + 2).clamp(8, 60) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The report as an XLSX workbook (the file's bytes): one worksheet a section, 汇总, 热门检索,
/// 无结果检索, 栏目浏览, 热门事项, 二维码, 繁忙时段 (all 24 hours) and 内容版本, with figures as
/// numbers.
pub fn to_xlsx(report: &Report) -> Result<Vec<u8>, String> {
    build_xlsx(report).map_err(|err| format!("the spreadsheet could not be written: {err}"))
}

fn build_xlsx(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let s = &report.summary;

    let rows = vec![
        vec![Cell::text("终端"), Cell::text(&report.terminal)],
        vec![
            Cell::text("统计期间"),
            Cell::text(format!("{} 至 {}", report.period.from, report.period.to)),
        ],
        vec![
            Cell::text("时区"),
            Cell::text(offset_text(report.utc_offset_minutes)),
        ],
        vec![Cell::text("访问人次"), Cell::count(s.sessions)],
        vec![Cell::text("已结束的访问"), Cell::count(s.ended_sessions)],
        vec![
            Cell::text("平均使用时长（秒）"),
            Cell::Decimal(s.average_active_seconds),
        ],
        vec![Cell::text("检索次数"), Cell::count(s.searches)],
        vec![
            Cell::text("无结果检索次数"),
            Cell::count(s.zero_result_searches),
        ],
        vec![
            Cell::text("无结果检索占比"),
            Cell::Percent(s.zero_result_rate),
        ],
        vec![Cell::text("打开结果次数"), Cell::count(s.result_opens)],
        vec![Cell::text("事项浏览次数"), Cell::count(s.item_views)],
        vec![Cell::text("栏目打开次数"), Cell::count(s.column_opens)],
        vec![Cell::text("二维码取用次数"), Cell::count(s.qr_codes)],
        vec![Cell::text("长辈模式使用次数"), Cell::count(s.elder_mode_on)],
        vec![
            Cell::text("切换英文界面次数"),
            Cell::count(s.english_switches),
        ],
    ];
    add_sheet(&mut workbook, "汇总", &["指标", "数值"], rows)?;

    let rows = report
        .top_searches
        .iter()
        .enumerate()
        .map(|(i, c)| {
            vec![
                Cell::count(i as u64 + 1),
                Cell::text(&c.query),
                Cell::count(c.searches),
                Cell::count(c.zero_results),
            ]
        })
        .collect();
    add_sheet(
        &mut workbook,
        "热门检索",
        &["排名", "检索词", "检索次数", "其中无结果"],
        rows,
    )?;

    let rows = report
        .top_zero_result_searches
        .iter()
        .enumerate()
        .map(|(i, c)| {
            vec![
                Cell::count(i as u64 + 1),
                Cell::text(&c.query),
                Cell::count(c.zero_results),
                Cell::count(c.searches),
            ]
        })
        .collect();
    add_sheet(
        &mut workbook,
        "无结果检索",
        &["排名", "检索词", "无结果次数", "检索次数"],
        rows,
    )?;

    let rows = report
        .views_by_column
        .iter()
        .map(|c| {
            vec![
                Cell::text(&c.column_name),
                Cell::count(c.item_views),
                Cell::count(c.opened),
            ]
        })
        .collect();
    add_sheet(
        &mut workbook,
        "栏目浏览",
        &["栏目", "事项浏览次数", "栏目打开次数"],
        rows,
    )?;

    let rows = report
        .top_items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            vec![
                Cell::count(i as u64 + 1),
                Cell::text(&v.title),
                Cell::text(&v.item),
                Cell::count(v.views),
            ]
        })
        .collect();
    add_sheet(
        &mut workbook,
        "热门事项",
        &["排名", "事项名称", "编号", "浏览次数"],
        rows,
    )?;

    let kinds = code_kinds(report);
    let mut header = vec!["事项名称", "编号", "合计"];
    header.extend(kinds.iter().map(|k| code_label(k)));
    let rows = report
        .qr_codes
        .iter()
        .map(|q| {
            let mut row = vec![
                Cell::text(&q.title),
                Cell::text(&q.item),
                Cell::count(q.total),
            ];
            row.extend(
                kinds
                    .iter()
                    .map(|k| Cell::count(q.by_code.get(*k).copied().unwrap_or(0))),
            );
            row
        })
        .collect();
    add_sheet(&mut workbook, "二维码", &header, rows)?;

    let hours = &report.busiest_hours;
    let mut header = vec!["时段"];
    header.extend(WEEKDAYS);
    header.push("合计");
    let mut rows: Vec<Vec<Cell>> = (0..24)
        .map(|hour| {
            let mut row = vec![Cell::text(format!("{hour:02}:00"))];
            row.extend(hours.iter().map(|day| Cell::count(day[hour])));
            row.push(Cell::count(hours.iter().map(|day| day[hour]).sum()));
            row
        })
        .collect();
    let mut total = vec![Cell::text("合计")];
    total.extend(hours.iter().map(|day| Cell::count(day.iter().sum())));
    total.push(Cell::count(hours.iter().flatten().sum()));
    rows.push(total);
    add_sheet(&mut workbook, "繁忙时段", &header, rows)?;

    let rows = report
        .content_versions
        .iter()
        .map(|v| {
            vec![
                Cell::text(&v.local_time),
                Cell::text(&v.version),
                Cell::count(v.seq),
                Cell::text(&v.from),
            ]
        })
        .collect();
    add_sheet(
        &mut workbook,
        "内容版本",
        &["安装时间", "版本", "序号", "来源"],
        rows,
    )?;

    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        fn check(text: &str, expected: &str) {
            assert_eq!(csv_text(text), expected, "{text}");
        }
        check("营业执照", "营业执照");
        check("a,b", "\"a,b\"");
        check("say \"hi\"", "\"say \"\"hi\"\"\"");
        check("two\nlines", "\"two\nlines\"");
        check("=1+1", "'=1+1");
        check("-2", "'-2");
        check("@sum", "'@sum");
        check("=a,b", "\"'=a,b\"");
    }

    #[test]
    fn durations_and_offsets_read_naturally() {
        assert_eq!(duration_zh(0.0), "0 秒");
        assert_eq!(duration_zh(59.4), "59 秒");
        assert_eq!(duration_zh(83.0), "1 分 23 秒");
        assert_eq!(duration_zh(3720.0), "1 小时 2 分");
        assert_eq!(offset_text(480), "UTC+08:00");
        assert_eq!(offset_text(-210), "UTC-03:30");
        assert_eq!(offset_text(0), "UTC+00:00");
    }

    #[test]
    fn markdown_cells_keep_the_table_whole() {
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn the_period_covers_whole_local_days() {
        let period = Period {
            from: "2026-03-02".parse().unwrap(),
            to: "2026-03-03".parse().unwrap(),
        };
        let (from, to) = period.utc_range_ms(480);
        // 2026-03-02 00:00 in UTC+8 is 2026-03-01 16:00 UTC.
        assert_eq!(from, 1_772_380_800_000);
        assert_eq!(to - from, 2 * DAY_MS);
        let day = |ms: i64| (ms + 480 * 60_000).div_euclid(DAY_MS);
        assert!(period.contains_day(day(from)));
        assert!(period.contains_day(day(to - 1)));
        assert!(!period.contains_day(day(from - 1)));
        assert!(!period.contains_day(day(to)));
    }
}

/// Sessions a day over `period` (every day, zeros included), for the daily chart.
pub fn daily_sessions(
    events: &[Event],
    period: &Period,
    utc_offset_minutes: i32,
) -> Vec<(Date, u64)> {
    let offset_ms = i64::from(utc_offset_minutes) * 60_000;
    let first = period.from.days_since_epoch();
    let last = period.to.days_since_epoch();
    let mut counts = vec![0u64; (last - first + 1).max(0) as usize];
    for event in events {
        if let EventKind::SessionStart { .. } = event.kind {
            let day = event.at_ms.saturating_add(offset_ms).div_euclid(DAY_MS);
            if (first..=last).contains(&day) {
                counts[(day - first) as usize] += 1;
            }
        }
    }
    counts
        .into_iter()
        .enumerate()
        .filter_map(|(i, n)| Some((Date::from_days_since_epoch(first + i as i64)?, n)))
        .collect()
}
