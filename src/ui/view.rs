//! From content and search results to what the pages show: plain mapping functions, no state.

use slint::{ModelRc, SharedString, StyledText, VecModel};

use super::{
    BlockData, ChipData, ColumnData, EntryData, HitData, ItemData, LinkData, MaterialData, QrData,
    RowData, ServiceData, TileData,
};
use crate::content::{Content, Inline, Item, ItemKind};
use crate::fit::{self, Piece};
use crate::search::{Hit, SearchResults, Snippet};
use crate::urlpolicy::Link;

/// The language of the interface text that Rust writes (the content itself stays Chinese).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn kind(self, kind: ItemKind) -> &'static str {
        match self {
            Lang::Zh => kind.label_zh(),
            Lang::En => match kind {
                ItemKind::Disclosure => "Disclosure",
                ItemKind::Guide => "Service guide",
                ItemKind::Interpretation => "Interpretation",
                ItemKind::Notice => "Notice",
            },
        }
    }
}

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

/// A wrapped text, fitted (cut to `max` columns, long runs made breakable).
fn wrapped(text: &str, max: usize) -> SharedString {
    fit::text(text, max).into()
}

/// A one-line label, fitted.
fn label(text: &str) -> SharedString {
    fit::line(text, fit::LABEL).into()
}

/// At most this many entries of a guide's list are shown (the full page has them all).
const LIST_ENTRIES: usize = 100;

/// The entries of a list that fit in `room`, fitted.
fn strings(items: &[String], room: &mut fit::Room) -> ModelRc<SharedString> {
    model(
        items
            .iter()
            .take(LIST_ENTRIES)
            .take_while(|s| room.take(fit::text_width(s).min(fit::FIELD)))
            .map(|s| wrapped(s, fit::FIELD))
            .collect(),
    )
}

/// Escapes text for the Markdown that StyledText reads, so content never turns into markup;
/// long runs become breakable.
fn escape(text: &str) -> String {
    let text = fit::breakable(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_{}[]()<>#+-.!|~&".contains(c) {
            out.push('\\');
        }
        // Line breaks inside a snippet or paragraph are shown as spaces.
        out.push(if c == '\n' { ' ' } else { c });
    }
    out
}

fn styled(markdown: &str, plain: &str) -> StyledText {
    StyledText::from_markdown(markdown)
        .unwrap_or_else(|_| StyledText::from_plain_text(&fit::breakable(plain)))
}

/// A snippet with its matched words in bold.
pub fn snippet_text(snippet: &Snippet) -> StyledText {
    let chars: Vec<char> = snippet.text.chars().collect();
    let mut markdown = String::new();
    let mut at = 0;
    for range in &snippet.highlights {
        if range.start < at || range.end > chars.len() {
            continue;
        }
        markdown.push_str(&escape(&chars[at..range.start].iter().collect::<String>()));
        markdown.push_str("**");
        markdown.push_str(&escape(&chars[range.clone()].iter().collect::<String>()));
        markdown.push_str("**");
        at = range.end;
    }
    markdown.push_str(&escape(&chars[at..].iter().collect::<String>()));
    styled(&markdown, &snippet.text)
}

fn inline_text(inlines: &[Inline]) -> StyledText {
    let mut markdown = String::new();
    let mut plain = String::new();
    for inline in inlines {
        plain.push_str(&inline.text);
        let text = escape(&inline.text);
        match (inline.strong, inline.emphasis) {
            (true, _) => markdown.push_str(&format!("**{text}**")),
            (false, true) => markdown.push_str(&format!("*{text}*")),
            _ => markdown.push_str(&text),
        }
    }
    styled(&markdown, &plain)
}

/// The first-level columns as home-screen tiles.
pub fn tiles(content: &Content) -> Vec<TileData> {
    content
        .columns
        .top_level()
        .map(|c| TileData {
            id: c.id.as_str().into(),
            name: label(&c.name),
            count: content.count_in(&c.id) as i32,
        })
        .collect()
}

/// Words to offer before anyone has searched: the site's own list, else the keywords most
/// items share, guides first.
pub fn hot_searches(content: &Content, limit: usize) -> Vec<String> {
    if !content.site.hot_searches.is_empty() {
        return content
            .site
            .hot_searches
            .iter()
            .take(limit)
            .cloned()
            .collect();
    }
    let mut counts: Vec<(String, usize, usize)> = Vec::new();
    for (position, item) in content.items.iter().enumerate() {
        let Some(first) = item.keywords.first() else {
            continue;
        };
        let weight = if item.kind == ItemKind::Guide { 2 } else { 1 };
        match counts.iter_mut().find(|(k, _, _)| k == first) {
            Some(entry) => entry.1 += weight,
            None => counts.push((first.clone(), weight, position)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    counts.into_iter().take(limit).map(|(k, _, _)| k).collect()
}

/// The three services of the home screen: the service guides, how to apply for disclosure,
/// and where to complain or ask. Found by the catalogue's usual names.
pub struct Services {
    pub guides: Option<(String, String, usize)>,
    pub apply: Option<String>,
    pub complain: Option<String>,
}

pub fn services(content: &Content) -> Services {
    let guides = content
        .columns
        .top_level()
        .map(|c| {
            (
                c,
                content
                    .items
                    .iter()
                    .filter(|i| {
                        i.kind == ItemKind::Guide
                            && content
                                .columns
                                .top_of(&i.column)
                                .is_some_and(|t| t.id == c.id)
                    })
                    .count(),
            )
        })
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| (c.id.clone(), c.name.clone(), n));
    let in_column_named = |names: &[&str]| -> Vec<&Item> {
        content
            .items
            .iter()
            .filter(|i| {
                content
                    .columns
                    .path(&i.column)
                    .iter()
                    .any(|p| names.iter().any(|n| p.contains(n)))
            })
            .collect()
    };
    let apply = in_column_named(&["依申请公开"])
        .into_iter()
        .min_by_key(|i| !i.title.contains("指南"))
        .map(|i| i.id.clone());
    let complain = in_column_named(&["咨询投诉", "投诉", "互动交流"])
        .into_iter()
        .min_by_key(|i| (!i.title.contains("渠道"), !i.title.contains("投诉")))
        .map(|i| i.id.clone());
    Services {
        guides,
        apply,
        complain,
    }
}

pub fn service(id: &str, title: &str, subtitle: String, qr: QrData) -> ServiceData {
    ServiceData {
        id: id.into(),
        title: wrapped(title, fit::TITLE),
        subtitle: wrapped(&subtitle, fit::FIELD),
        qr,
    }
}

/// The meta line of a result or an item: kind, column path, date.
fn meta_line(kind: &str, column: &str, date: Option<crate::content::Date>) -> String {
    let mut parts = vec![kind.to_owned(), column.to_owned()];
    if let Some(date) = date {
        parts.push(date.to_string());
    }
    parts.retain(|p| !p.is_empty());
    parts.join(" · ")
}

pub fn hits(results: &SearchResults, lang: Lang) -> Vec<HitData> {
    results
        .hits
        .iter()
        .map(|hit: &Hit| HitData {
            id: hit.id.as_str().into(),
            title: wrapped(&hit.title, fit::TITLE),
            meta: wrapped(
                &meta_line(lang.kind(hit.kind), &hit.column, hit.date),
                fit::FIELD,
            ),
            snippet: snippet_text(&hit.snippet),
        })
        .collect()
}

/// "All" and one chip a kind, with counts of every match.
pub fn kind_chips(
    results: &SearchResults,
    selected: Option<ItemKind>,
    lang: Lang,
) -> Vec<ChipData> {
    let all: usize = results.facets.kinds.iter().map(|(_, n)| n).sum();
    let mut chips = vec![ChipData {
        id: "".into(),
        label: lang.pick("全部", "All").into(),
        count: all as i32,
        selected: selected.is_none(),
    }];
    for (kind, count) in &results.facets.kinds {
        chips.push(ChipData {
            id: kind.as_str().into(),
            label: lang.kind(*kind).into(),
            count: *count as i32,
            selected: selected == Some(*kind),
        });
    }
    chips
}

pub fn column_chips(results: &SearchResults, selected: Option<&str>) -> Vec<ChipData> {
    results
        .facets
        .columns
        .iter()
        .map(|(id, name, count)| ChipData {
            id: id.as_str().into(),
            label: label(name),
            count: *count as i32,
            selected: selected == Some(id.as_str()),
        })
        .collect()
}

/// The catalogue with one first-level column opened, and the entries of the chosen column.
pub fn column_tree(content: &Content, selected: &str) -> Vec<ColumnData> {
    let open = content
        .columns
        .top_of(selected)
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let row = |column: &crate::content::Column, child: bool| ColumnData {
        id: column.id.as_str().into(),
        name: label(&column.name),
        count: content.count_in(&column.id) as i32,
        child,
        selected: column.id == selected,
    };
    let mut rows = Vec::new();
    for top in content.columns.top_level() {
        rows.push(row(top, false));
        if top.id == open {
            rows.extend(
                content
                    .columns
                    .children(&top.id)
                    .map(|child| row(child, true)),
            );
        }
    }
    rows
}

/// The items of a column (its children's too, for a first-level column), newest first.
pub fn column_entries<'a>(content: &'a Content, column: &str) -> Vec<&'a Item> {
    let mut items: Vec<&Item> = content.items_under(column).collect();
    items.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.title.cmp(&b.title)));
    items
}

pub fn entries(items: &[&Item], lang: Lang) -> Vec<EntryData> {
    items
        .iter()
        .map(|item| EntryData {
            id: item.id.as_str().into(),
            title: wrapped(&item.title, fit::TITLE),
            meta: item
                .date
                .map(|d| d.to_string())
                .unwrap_or_else(|| lang.kind(item.kind).to_owned())
                .into(),
        })
        .collect()
}

fn row(label: &str, value: &str) -> RowData {
    RowData {
        label: label.into(),
        value: wrapped(value, fit::FIELD),
    }
}

fn link_note(link: &Link, lang: Lang) -> String {
    match &link.href {
        Some(_) => String::new(),
        None => format!(
            "{}{}",
            lang.pick("（此链接不可用）", "(not available as a link) "),
            link.raw
        ),
    }
}

/// The pages an item's body has on screen (at least one).
pub fn item_pages(item: &Item) -> Vec<Vec<Piece>> {
    fit::body_pages(&item.body.blocks)
}

/// An item page with its QR codes and a note about them, showing page `page` (from 1) of its
/// body (`pages`, from [`item_pages`]); the metadata and a guide's sections are on the first.
pub fn item(
    content: &Content,
    item: &Item,
    codes: Vec<QrData>,
    code_note: &str,
    lang: Lang,
    pages: &[Vec<Piece>],
    page: usize,
) -> ItemData {
    let column = content.columns.path(&item.column).join(" / ");
    let meta = meta_line(lang.kind(item.kind), &column, item.date);
    let mut rows = Vec::new();
    let mut push = |label: (&str, &str), value: Option<&String>| {
        if let Some(value) = value {
            rows.push(row(lang.pick(label.0, label.1), value.as_str()));
        }
    };
    push(("索引号", "Index no."), item.index_number.as_ref());
    push(("发布机构", "Publisher"), item.publisher.as_ref());
    push(("文号", "Document no."), item.doc_number.as_ref());
    let date = item.date.map(|d| d.to_string());
    push(("发布日期", "Date"), date.as_ref());
    push(("主题分类", "Topic"), item.topic.as_ref());
    push(("有效性", "Validity"), item.validity.as_ref());

    let page = page.clamp(1, pages.len().max(1));
    let body = pages.get(page - 1).cloned().unwrap_or_default();
    let first = page == 1;
    let has_rows = first && !rows.is_empty();
    // Whether some entries of the lists were left out for room.
    let mut cut = false;
    let mut data = ItemData {
        id: item.id.as_str().into(),
        kind_label: lang.kind(item.kind).into(),
        title: wrapped(&item.title, fit::TITLE),
        meta: wrapped(&meta, fit::FIELD),
        rows: model(rows),
        has_rows,
        is_guide: item.guide.is_some(),
        first_page: first,
        page: page as i32,
        pages: pages.len() as i32,
        code_modules: codes.iter().map(|c| c.modules).max().unwrap_or(0),
        codes: model(codes),
        code_note: wrapped(code_note, fit::FIELD),
        url_text: wrapped(
            &item
                .url
                .as_ref()
                .map(|u| link_note(u, lang))
                .unwrap_or_default(),
            fit::TITLE,
        ),
        ..ItemData::default()
    };
    if let Some(guide) = item.guide.as_ref().filter(|_| first) {
        let mut facts = Vec::new();
        let mut fact = |label: (&str, &str), value: Option<String>| {
            if let Some(value) = value {
                facts.push(row(lang.pick(label.0, label.1), &value));
            }
        };
        fact(("办理对象", "Who can apply"), guide.applicants.clone());
        fact(
            ("承诺办结时限", "Promised time"),
            guide.time_limit_promised.clone(),
        );
        fact(
            ("法定办结时限", "Legal time limit"),
            guide.time_limit_legal.clone(),
        );
        fact(
            ("到现场次数", "Visits in person"),
            guide
                .visits
                .map(|v| format!("{v} {}", lang.pick("次", "times"))),
        );
        fact(("收费", "Fee"), guide.fee.clone());
        fact(("办理地点", "Where"), guide.location.clone());
        fact(("办理时间", "Opening hours"), guide.hours.clone());
        fact(("咨询电话", "Enquiries"), guide.phone.clone());
        fact(
            ("监督投诉电话", "Complaints"),
            guide.complaint_phone.clone(),
        );
        fact(("事项类型", "Type"), guide.item_type.clone());
        fact(("事项编码", "Service code"), guide.code.clone());
        if let Some(link) = guide.online_url.as_ref().filter(|l| l.href.is_some()) {
            fact(("网上办理", "Apply online"), link.href.clone());
        }
        data.facts = model(facts);
        // A guide's lists share one page's room; what does not fit is on the full page.
        let mut room = fit::Room::new(fit::PAGE_BUDGET);
        data.conditions = strings(&guide.conditions, &mut room);
        data.has_conditions = !guide.conditions.is_empty();
        data.has_steps = !guide.steps.is_empty();
        data.has_basis = !guide.basis.is_empty();
        data.has_materials = !guide.materials.is_empty();
        data.materials = model(
            guide
                .materials
                .iter()
                .take(LIST_ENTRIES)
                .take_while(|m| {
                    let width = fit::text_width(&m.name).min(fit::FIELD)
                        + m.note
                            .as_deref()
                            .map_or(0, |n| fit::text_width(n).min(fit::FIELD));
                    room.take(width)
                })
                .map(|m| MaterialData {
                    name: wrapped(&m.name, fit::FIELD),
                    form: wrapped(m.form.as_deref().unwrap_or_default(), fit::LABEL),
                    copies: m
                        .copies
                        .map(|c| format!("{c} {}", lang.pick("份", "")))
                        .unwrap_or_default()
                        .trim()
                        .into(),
                    note: wrapped(m.note.as_deref().unwrap_or_default(), fit::FIELD),
                })
                .collect(),
        );
        data.steps = strings(&guide.steps, &mut room);
        data.basis = strings(&guide.basis, &mut room);
        cut |= room.cut;
    }
    data.has_blocks = !body.is_empty();
    data.blocks = model(blocks(body, lang));
    data.has_attachments = !item.attachments.is_empty();
    let mut room = fit::Room::new(fit::PAGE_BUDGET / 2);
    data.attachments = model(
        item.attachments
            .iter()
            .take(LIST_ENTRIES)
            .take_while(|a| room.take(fit::text_width(&a.name).min(fit::TITLE) + fit::LABEL))
            .map(|a| LinkData {
                id: "".into(),
                title: wrapped(&a.name, fit::TITLE),
                note: wrapped(&link_note(&a.link, lang), fit::TITLE),
            })
            .collect(),
    );
    let mut related = Vec::new();
    if let Some(policy) = item.interprets.as_deref().and_then(|id| content.item(id)) {
        related.push(LinkData {
            id: policy.id.as_str().into(),
            title: wrapped(&policy.title, fit::TITLE),
            note: lang
                .pick("本解读对应的文件", "The document this interprets")
                .into(),
        });
    }
    for interpretation in content
        .interpretations_of(&item.id)
        .take(LIST_ENTRIES)
        .take_while(|i| room.take(fit::text_width(&i.title).min(fit::TITLE)))
    {
        related.push(LinkData {
            id: interpretation.id.as_str().into(),
            title: wrapped(&interpretation.title, fit::TITLE),
            note: lang.pick("政策解读", "Interpretation").into(),
        });
    }
    cut |= room.cut;
    data.has_related = !related.is_empty();
    data.related = model(related);
    if cut {
        data.cut_note = lang
            .pick(
                "内容较多，屏幕上只显示了一部分；完整内容请扫码在手机上查看。",
                "There is more than the screen shows; scan the code to see it all on your phone.",
            )
            .into();
    }
    data
}

/// One page of a body as the blocks the page draws.
fn blocks(page: Vec<Piece>, lang: Lang) -> Vec<BlockData> {
    let empty = || ModelRc::new(VecModel::<SharedString>::default());
    page.into_iter()
        .map(|piece| match piece {
            Piece::Heading(text) => BlockData {
                kind: "heading".into(),
                text: inline_text(&text),
                cells: empty(),
                ..BlockData::default()
            },
            Piece::Paragraph(text) => BlockData {
                kind: "paragraph".into(),
                text: inline_text(&text),
                cells: empty(),
                ..BlockData::default()
            },
            Piece::Item {
                marker,
                depth,
                text,
            } => BlockData {
                kind: "item".into(),
                text: inline_text(&text),
                marker: marker.into(),
                depth: i32::from(depth),
                cells: empty(),
                header: false,
            },
            Piece::Row { cells, header } => BlockData {
                kind: "row".into(),
                cells: model(cells.into_iter().map(SharedString::from).collect()),
                header,
                ..BlockData::default()
            },
            Piece::TableCut {
                rows,
                columns,
                shown_rows,
                shown_columns,
            } => {
                let note = match lang {
                    Lang::Zh => format!(
                        "此表共 {rows} 行、{columns} 列，屏幕上显示前 {shown_rows} 行、前 {shown_columns} 列；完整表格请扫码在手机上查看。"
                    ),
                    Lang::En => format!(
                        "This table has {rows} rows and {columns} columns; the screen shows the first {shown_rows} rows and {shown_columns} columns. Scan the code to see it all on your phone."
                    ),
                };
                BlockData {
                    kind: "note".into(),
                    text: StyledText::from_plain_text(&note),
                    cells: empty(),
                    ..BlockData::default()
                }
            }
        })
        .collect()
}

/// What the admin's statistics screen shows, as plain values.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsView {
    pub period: String,
    pub tiles: Vec<(String, String)>,
    /// Sessions a day: `MM-DD` and the count.
    pub daily: Vec<(String, u64)>,
    /// Session starts by weekday (Monday first) and hour: 7 × 24 values.
    pub heat: Vec<u64>,
    pub top_searches: Vec<(String, u64)>,
    pub zero_searches: Vec<(String, u64)>,
}

/// Maps a report to the statistics screen.
pub fn stats(
    report: &crate::stats::report::Report,
    daily: &[(crate::content::Date, u64)],
    lang: Lang,
) -> StatsView {
    let s = &report.summary;
    let seconds = s.average_active_seconds.round() as u64;
    let duration = match lang {
        Lang::Zh if seconds >= 60 => format!("{}分{}秒", seconds / 60, seconds % 60),
        Lang::Zh => format!("{seconds}秒"),
        Lang::En => format!("{}:{:02}", seconds / 60, seconds % 60),
    };
    let tiles = [
        (lang.pick("访问人次", "Sessions"), s.sessions.to_string()),
        (lang.pick("平均使用时长", "Average time"), duration),
        (lang.pick("检索次数", "Searches"), s.searches.to_string()),
        (
            lang.pick("无结果检索占比", "Found nothing"),
            format!("{:.1}%", s.zero_result_rate * 100.0),
        ),
        (
            lang.pick("二维码取用", "QR codes shown"),
            s.qr_codes.to_string(),
        ),
    ]
    .into_iter()
    .map(|(label, value)| (label.to_owned(), value))
    .collect();
    let period = match lang {
        Lang::Zh => format!("{} 至 {}", report.period.from, report.period.to),
        Lang::En => format!("{} to {}", report.period.from, report.period.to),
    };
    StatsView {
        period,
        tiles,
        daily: daily
            .iter()
            .map(|(date, n)| (format!("{:02}-{:02}", date.month(), date.day()), *n))
            .collect(),
        heat: report.busiest_hours.iter().flatten().copied().collect(),
        top_searches: report
            .top_searches
            .iter()
            .take(8)
            .map(|c| (c.query.clone(), c.searches))
            .collect(),
        zero_searches: report
            .top_zero_result_searches
            .iter()
            .take(8)
            .map(|c| (c.query.clone(), c.zero_results))
            .collect(),
    }
}
