//! One web page into what the import needs of it, pure: an [`Article`] (title, date, publisher,
//! 文号, 索引号, 主题分类, 有效性, body, attachments, column path) or a listing, and the links
//! to follow. Fields come from the profile's selectors, then the CMS's `<meta>` tags, then the
//! 信息公开 metadata block (label / value pairs), then the page's text and URL.

use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::body;
use super::profile::Profile;

/// What a page is.
#[derive(Debug, Clone, PartialEq)]
pub enum PageKind {
    Article(Box<Article>),
    /// A list, an index or a search page: followed, not imported.
    Listing,
}

/// A page taken apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub kind: PageKind,
    /// Links on the page (absolute, without fragment), in order, each once.
    pub links: Vec<Url>,
    /// The profile that matched (`generic` when none did).
    pub profile: String,
}

/// An article as the page gives it.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Article {
    pub url: String,
    pub title: String,
    /// `YYYY-MM-DD`, empty when the page has none.
    pub date: String,
    pub publisher: String,
    pub doc_number: String,
    pub index_number: String,
    pub topic: String,
    /// 有效 / 失效 / 废止, empty when the page does not say.
    pub validity: String,
    pub keywords: Vec<String>,
    /// Markdown.
    pub body: String,
    pub attachments: Vec<Attachment>,
    /// Column names after 首页, from the breadcrumb (or the page's ColumnName).
    pub column: Vec<String>,
    /// The column's addresses, as far as the breadcrumb links them (same length as `column`,
    /// empty strings where a name has no link).
    pub column_urls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub name: String,
    pub url: String,
}

/// File endings of attachments.
const ATTACHMENT_ENDINGS: &[&str] = &[
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".et", ".ppt", ".pptx", ".zip", ".rar",
    ".7z", ".txt", ".ofd", ".csv", ".jpg", ".png",
];

/// The labels of the metadata block and the field each fills. Several spellings a field:
/// templates differ.
const LABELS: &[(&str, Field)] = &[
    ("索引号", Field::IndexNumber),
    ("索 引 号", Field::IndexNumber),
    ("发布机构", Field::Publisher),
    ("发文机关", Field::Publisher),
    ("发布单位", Field::Publisher),
    ("公开主体", Field::Publisher),
    ("信息来源", Field::Publisher),
    ("来源", Field::Publisher),
    ("发文字号", Field::DocNumber),
    ("文号", Field::DocNumber),
    ("文件编号", Field::DocNumber),
    ("发布日期", Field::Date),
    ("发布时间", Field::Date),
    ("公开日期", Field::Date),
    ("发文日期", Field::Date),
    ("成文日期", Field::WrittenDate),
    ("日期", Field::Date),
    ("时间", Field::Date),
    ("主题分类", Field::Topic),
    ("组配分类", Field::Topic),
    ("信息分类", Field::Topic),
    ("主题类别", Field::Topic),
    ("分类", Field::Topic),
    ("有效性", Field::Validity),
    ("时效性", Field::Validity),
    ("效力状态", Field::Validity),
    ("主题词", Field::Keywords),
    ("关键词", Field::Keywords),
    ("标题", Field::Title),
    ("名称", Field::Title),
    // What stands beside the fields on a date line, and ends their values.
    ("点击", Field::Other),
    ("点击数", Field::Other),
    ("浏览量", Field::Other),
    ("浏览次数", Field::Other),
    ("阅读", Field::Other),
    ("访问量", Field::Other),
    ("作者", Field::Other),
    ("字号", Field::Other),
    ("字体", Field::Other),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    IndexNumber,
    Publisher,
    DocNumber,
    Date,
    WrittenDate,
    Topic,
    Validity,
    Keywords,
    Title,
    Other,
}

/// Takes a page apart with the first profile of `profiles` whose marks it has (the last one
/// is the fallback every page matches).
pub fn extract(html: &str, url: &Url, profiles: &[Profile]) -> Page {
    let doc = Html::parse_document(html);
    let links = links(&doc, url);
    let profile = profiles
        .iter()
        .find(|p| p.detect.iter().any(|sel| select_first(&doc, sel).is_some()))
        .or(profiles.last());
    let name = profile.map_or("generic", |p| p.name.as_str()).to_owned();
    let kind = match profile.and_then(|p| article(&doc, url, p)) {
        Some(article) => PageKind::Article(Box::new(article)),
        None => PageKind::Listing,
    };
    Page {
        kind,
        links,
        profile: name,
    }
}

fn selector(text: &str) -> Option<Selector> {
    Selector::parse(text).ok()
}

fn select_first<'a>(doc: &'a Html, sel: &str) -> Option<ElementRef<'a>> {
    doc.select(&selector(sel)?).next()
}

fn meta(doc: &Html, name: &str) -> String {
    let Some(sel) = selector(&format!(
        "meta[name=\"{name}\" i], meta[property=\"{name}\" i]"
    )) else {
        return String::new();
    };
    doc.select(&sel)
        .filter_map(|m| m.value().attr("content"))
        .map(body::tidy)
        .find(|c| !c.is_empty())
        .unwrap_or_default()
}

fn links(doc: &Html, base: &Url) -> Vec<Url> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let Some(sel) = selector("a[href], area[href], frame[src], iframe[src]") else {
        return out;
    };
    for a in doc.select(&sel) {
        let href = a
            .value()
            .attr("href")
            .or_else(|| a.value().attr("src"))
            .unwrap_or("");
        if let Some(url) = resolve(base, href) {
            if seen.insert(url.clone()) {
                out.push(url);
            }
        }
    }
    out
}

/// An href made absolute, without its fragment; only http(s).
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let lower = href.to_ascii_lowercase();
    if ["javascript:", "mailto:", "tel:", "data:"]
        .iter()
        .any(|s| lower.starts_with(s))
    {
        return None;
    }
    let mut url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// The body element: the profile's selectors, else the element with the most paragraph text;
/// and whether a selector found it.
fn body_element<'a>(doc: &'a Html, profile: &Profile) -> Option<(ElementRef<'a>, bool)> {
    for sel in &profile.fields.body {
        if let Some(found) = select_first(doc, sel).filter(|e| !body::is_furniture(*e)) {
            return Some((found, true));
        }
    }
    densest(doc).map(|e| (e, false))
}

/// Main-content detection by text density: each paragraph-like element gives its text's length
/// to its parent; the parent with the most, less its links' text, is the body.
fn densest(doc: &Html) -> Option<ElementRef<'_>> {
    let sel = selector("p, div, td, section, article, li, span, font")?;
    let mut scores: std::collections::HashMap<_, (usize, ElementRef)> =
        std::collections::HashMap::new();
    for element in doc.select(&sel) {
        // Furniture, and text inside a link (a slider's captions), is no article's text.
        if body::is_furniture(element)
            || element
                .ancestors()
                .filter_map(ElementRef::wrap)
                .any(|a| body::is_furniture(a) || a.value().name() == "a")
        {
            continue;
        }
        // Only text directly in this element: a container's text is counted by its children.
        let own: usize = element
            .children()
            .filter_map(|c| c.value().as_text().map(|t| body::tidy(t).chars().count()))
            .sum();
        if own < 10 {
            continue;
        }
        let Some(parent) = element.parent().and_then(ElementRef::wrap) else {
            continue;
        };
        let target = if matches!(element.value().name(), "p" | "span" | "font") {
            parent
        } else {
            element
        };
        let entry = scores.entry(target.id()).or_insert((0, target));
        entry.0 += own;
    }
    let a = selector("a")?;
    scores
        .into_values()
        .map(|(score, el)| {
            let linked: usize = el
                .select(&a)
                .map(|l| body::visible_text(l).chars().count())
                .sum();
            (score.saturating_sub(linked * 2), el)
        })
        .filter(|(score, _)| *score > 0)
        .max_by_key(|(score, el)| (*score, std::cmp::Reverse(el.id())))
        .map(|(_, el)| el)
}

fn article(doc: &Html, url: &Url, profile: &Profile) -> Option<Article> {
    let (body_el, by_selector) = body_element(doc, profile)?;
    let body_text = body::visible_text(body_el);
    // Text in links to other pages (links to files are an article's attachments).
    let linked: usize = selector("a")
        .map(|a| {
            body_el
                .select(&a)
                .filter(|l| {
                    let href = l.value().attr("href").unwrap_or("").to_ascii_lowercase();
                    !ATTACHMENT_ENDINGS.iter().any(|e| href.ends_with(e))
                        && !href.contains("download")
                })
                .map(|l| body::visible_text(l).chars().count())
                .sum()
        })
        .unwrap_or(0);
    let chars = body_text.chars().count();
    // A list is mostly links; an article has text of its own.
    if linked * 4 > chars {
        return None;
    }
    let labels = labelled(doc, body_el);
    // A short body (详见附件) is an article's when the page says it is one: the CMS's article
    // title, or a 索引号 or 文号 in its metadata block.
    let declared = !meta(doc, "ArticleTitle").is_empty()
        || labels
            .iter()
            .any(|(f, _)| matches!(f, Field::IndexNumber | Field::DocNumber));
    if chars < 20 && !(by_selector && declared) {
        return None;
    }
    let label = |field: Field| {
        labels
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let from_selector = |sels: &[String]| {
        sels.iter()
            .filter_map(|s| select_first(doc, s))
            .map(|el| {
                el.value()
                    .attr("content")
                    .map(body::tidy)
                    .unwrap_or_else(|| body::visible_text(el))
            })
            .find(|t| !t.is_empty())
            .unwrap_or_default()
    };
    let first = |candidates: [String; 3]| {
        candidates
            .into_iter()
            .find(|c| !c.is_empty())
            .unwrap_or_default()
    };
    let f = &profile.fields;

    let title = first([
        from_selector(&f.title),
        meta(doc, "ArticleTitle"),
        label(Field::Title),
    ]);
    let title = if title.is_empty() {
        title_of_document(doc)
    } else {
        title
    };
    if title.is_empty() {
        return None;
    }
    let date = [
        from_selector(&f.date),
        meta(doc, "PubDate"),
        meta(doc, "firstpublishedtime"),
        label(Field::Date),
        label(Field::WrittenDate),
        date_in_text(doc, body_el),
        url.path().to_owned(),
    ]
    .iter()
    .find_map(|t| normalise_date(t))
    .unwrap_or_default();
    // Where only text density found the body, a short text with no date is a home or list
    // page's blurb, not an article.
    if !by_selector && date.is_empty() && chars < 200 {
        return None;
    }
    let publisher = first([
        from_selector(&f.publisher),
        label(Field::Publisher),
        meta(doc, "ContentSource"),
    ]);
    let validity = normalise_validity(&first([
        from_selector(&f.validity),
        label(Field::Validity),
        String::new(),
    ]));
    let keywords_text = first([label(Field::Keywords), meta(doc, "Keywords"), String::new()]);
    let keywords = keywords_text
        .split([',', '，', ';', '；', ' ', '、', '|'])
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.chars().count() <= 20 && *k != title)
        .take(12)
        .map(str::to_owned)
        .collect();
    let (column, column_urls) = column(doc, url, &f.breadcrumb, &meta(doc, "ColumnName"));
    let attachments = attachments(doc, body_el, url, &f.attachments);
    let mut markdown = body::to_markdown(body_el);
    // The body container of some templates repeats the title as its first line.
    if let Some(rest) = markdown
        .strip_prefix(&format!("## {title}"))
        .or_else(|| markdown.strip_prefix(&title))
    {
        if rest.is_empty() || rest.starts_with('\n') {
            markdown = rest.trim_start().to_owned();
        }
    }
    Some(Article {
        url: url.to_string(),
        title,
        date,
        publisher,
        doc_number: first([
            from_selector(&f.doc_number),
            label(Field::DocNumber),
            String::new(),
        ]),
        index_number: first([
            from_selector(&f.index_number),
            label(Field::IndexNumber),
            String::new(),
        ]),
        topic: first([from_selector(&f.topic), label(Field::Topic), String::new()]),
        validity,
        keywords,
        body: markdown,
        attachments,
        column,
        column_urls,
    })
}

/// The `<title>` without the site's name and column: the longest of its parts
/// (`标题_通知公告_站名`, `标题 - 站名`).
fn title_of_document(doc: &Html) -> String {
    let Some(title) = select_first(doc, "title") else {
        return String::new();
    };
    let text = body::visible_text(title);
    let mut parts = vec![text.as_str()];
    for separator in ["_", "|", "｜", " - ", " – ", " — ", " -- "] {
        parts = parts.iter().flat_map(|p| p.split(separator)).collect();
    }
    parts
        .into_iter()
        .map(str::trim)
        .max_by_key(|p| p.chars().count())
        .unwrap_or_default()
        .to_owned()
}

/// Label / value pairs outside the body: `<td>索引号：</td><td>…</td>`, `<th>索引号</th><td>…</td>`,
/// `<li><b>文号：</b>…</li>`, `<span>发布时间：2025-01-08 来源：社会事务局</span>`. The first value
/// of a field wins.
fn labelled(doc: &Html, body_el: ElementRef) -> Vec<(Field, String)> {
    let mut out: Vec<(Field, String)> = Vec::new();
    let Some(sel) =
        selector("td, th, span, li, dt, dd, div, p, label, b, strong, em, font, i, h5, h6")
    else {
        return out;
    };
    let body_id = body_el.id();
    for el in doc.select(&sel) {
        if el.id() == body_id || el.ancestors().any(|a| a.id() == body_id) {
            continue;
        }
        // Only elements that hold text, not those that hold blocks of labels.
        if el.children().filter_map(ElementRef::wrap).any(|c| {
            matches!(
                c.value().name(),
                "div" | "p" | "table" | "tr" | "td" | "th" | "li" | "ul" | "dl" | "dt" | "dd"
            )
        }) {
            continue;
        }
        let text = body::visible_text(el);
        if text.is_empty() || text.chars().count() > 200 {
            continue;
        }
        let pairs = split_labels(&text);
        if pairs.is_empty() {
            continue;
        }
        for (field, value) in pairs {
            let value = if value.is_empty() {
                // The label alone: its value is the next cell.
                el.next_siblings()
                    .filter_map(ElementRef::wrap)
                    .next()
                    .map(body::visible_text)
                    .filter(|v| split_labels(v).is_empty() || !v.contains(['：', ':']))
                    .unwrap_or_default()
            } else {
                value
            };
            // Templates fill a field they have nothing for with 无 or a dash.
            let value = if matches!(value.as_str(), "无" | "-" | "—" | "——" | "/" | "暂无")
            {
                String::new()
            } else {
                value
            };
            if !value.is_empty() && !out.iter().any(|(f, _)| *f == field) {
                out.push((field, value));
            }
        }
    }
    out
}

/// `索引号：X 发布机构：Y` into its labelled values; a text that starts with no label gives none.
fn split_labels(text: &str) -> Vec<(Field, String)> {
    let compact = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
            .collect::<String>()
    };
    // Where each label (followed by a colon, or the whole text) starts.
    let mut found: Vec<(usize, usize, Field)> = Vec::new();
    for (label, field) in LABELS {
        let mut from = 0;
        while let Some(at) = text[from..].find(label) {
            let start = from + at;
            let end = start + label.len();
            let rest = text[end..].trim_start();
            let colon = rest.starts_with(['：', ':']);
            let whole = compact(text).trim_end_matches(['：', ':']) == compact(label);
            let boundary = start == 0 || text[..start].ends_with([' ', '　', '\u{a0}']);
            if (colon && boundary) || whole {
                if !found.iter().any(|(s, e, _)| start < *e && end > *s) {
                    found.push((start, end, *field));
                }
            }
            from = end;
        }
    }
    found.sort_by_key(|(s, _, _)| *s);
    // The text must start with a label: otherwise it is a sentence that names one.
    if found
        .first()
        .is_none_or(|(s, _, _)| !text[..*s].trim().is_empty())
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, (_, end, field)) in found.iter().enumerate() {
        let stop = found.get(i + 1).map_or(text.len(), |(s, _, _)| *s);
        let value = text[*end..stop]
            .trim()
            .trim_start_matches(['：', ':'])
            .trim();
        out.push((*field, value.to_owned()));
    }
    out
}

/// A date line near the title: `发布时间：2025-01-08`, `2025年1月8日`.
fn date_in_text(doc: &Html, body_el: ElementRef) -> String {
    let Some(sel) = selector("div, span, p, td, li") else {
        return String::new();
    };
    let body_id = body_el.id();
    for el in doc.select(&sel) {
        if el.ancestors().any(|a| a.id() == body_id) || el.id() == body_id {
            continue;
        }
        let text = body::visible_text(el);
        if text.chars().count() <= 80 && (text.contains("时间") || text.contains("日期")) {
            if let Some(date) = normalise_date(&text) {
                return date;
            }
        }
    }
    String::new()
}

/// The first date in a text, as `YYYY-MM-DD`: `2024-03-15 09:30`, `2024/3/15`, `2024年3月15日`,
/// `2024.03.15`, `t20240315_`, `/art/2024/3/15/`.
pub fn normalise_date(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let number = |from: usize, max: usize| -> Option<(u32, usize)> {
        let digits: String = chars[from..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if digits.is_empty() {
            None
        } else {
            Some((digits.parse().ok()?, from + digits.len()))
        }
    };
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            if let Some((year, after)) = number(i, 4).filter(|(_, a)| *a == i + 4) {
                if (1949..=2100).contains(&year) {
                    // Separated: 2024-3-15, 2024/03/15, 2024.3.15, 2024年3月15日.
                    if let Some(&sep) = chars.get(after) {
                        if matches!(sep, '-' | '/' | '.' | '年') {
                            if let Some((month, a2)) = number(after + 1, 2) {
                                let sep2 = chars.get(a2).copied();
                                let ok2 = match sep {
                                    '年' => sep2 == Some('月'),
                                    s => sep2 == Some(s),
                                };
                                if ok2 {
                                    if let Some((day, a3)) = number(a2 + 1, 2) {
                                        let tail_ok =
                                            chars.get(a3).is_none_or(|c| !c.is_ascii_digit());
                                        if tail_ok {
                                            if let Some(date) = make(year, month, day) {
                                                return Some(date);
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    // Run together: 20240315 (as TRS puts it in its file names).
                    if let Some((ymd, a)) = number(i, 8) {
                        if a == i + 8 && chars.get(a).is_none_or(|c| !c.is_ascii_digit()) {
                            if let Some(date) = make(ymd / 10000, ymd / 100 % 100, ymd % 100) {
                                return Some(date);
                            }
                        }
                    }
                }
            }
        }
        i += 1;
    }
    None
}

fn make(year: u32, month: u32, day: u32) -> Option<String> {
    let date = crate::content::Date::new(
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )?;
    Some(date.to_string())
}

/// 有效 / 失效 / 废止 from what templates write (现行有效, 已废止, 部分失效 ...).
pub fn normalise_validity(text: &str) -> String {
    if text.contains("废止") {
        "废止".into()
    } else if text.contains("失效") || text.contains("无效") {
        "失效".into()
    } else if text.contains("有效") {
        "有效".into()
    } else {
        String::new()
    }
}

/// The column path from the breadcrumb: its link texts after 首页 (and after 当前位置), with
/// their addresses; else the page's ColumnName.
fn column(
    doc: &Html,
    url: &Url,
    selectors: &[String],
    column_name: &str,
) -> (Vec<String>, Vec<String>) {
    let crumb = selectors
        .iter()
        .filter_map(|s| select_first(doc, s))
        .next()
        .or_else(|| {
            // Any short block whose text starts as breadcrumbs do.
            let sel = selector("div, p, span, td, nav, ol, ul")?;
            doc.select(&sel).find(|el| {
                let text = body::visible_text(el.to_owned());
                text.chars().count() < 200
                    && [
                        "当前位置",
                        "您当前的位置",
                        "您的位置",
                        "当前所在位置",
                        "所在位置",
                    ]
                    .iter()
                    .any(|p| text.starts_with(p))
            })
        });
    let mut names = Vec::new();
    let mut urls = Vec::new();
    if let Some(crumb) = crumb {
        let a = selector("a").expect("a is a selector");
        for link in crumb.select(&a) {
            let name = body::visible_text(link);
            let name = name.trim_matches(['>', '》', '/', '»', ' ']).to_owned();
            if name.is_empty() || name == "首页" || name == "网站首页" || name.ends_with("首页")
            {
                continue;
            }
            names.push(name);
            urls.push(
                link.value()
                    .attr("href")
                    .and_then(|h| resolve(url, h))
                    .map(|u| u.to_string())
                    .unwrap_or_default(),
            );
        }
        // The last part is often plain text (正文, 详情), not a column.
        if names.is_empty() {
            let text = body::visible_text(crumb);
            let text = text.split(['：', ':']).nth(1).unwrap_or(&text);
            for part in text.split(['>', '》', '»', '/', '＞']).map(str::trim) {
                if !part.is_empty()
                    && !part.ends_with("首页")
                    && !matches!(part, "正文" | "详情" | "内容")
                {
                    names.push(part.to_owned());
                    urls.push(String::new());
                }
            }
        }
    }
    if names.is_empty() && !column_name.is_empty() {
        names.push(column_name.to_owned());
        urls.push(String::new());
    }
    (names, urls)
}

/// Attachments: links in the body, or in the profile's attachment blocks, to files.
fn attachments(
    doc: &Html,
    body_el: ElementRef,
    base: &Url,
    selectors: &[String],
) -> Vec<Attachment> {
    let a = selector("a[href]").expect("a[href] is a selector");
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let blocks: Vec<ElementRef> = std::iter::once(body_el)
        .chain(
            selectors
                .iter()
                .filter_map(|s| selector(s))
                .flat_map(|s| doc.select(&s).collect::<Vec<_>>()),
        )
        .collect();
    for block in blocks {
        for link in block.select(&a) {
            let href = link.value().attr("href").unwrap_or("");
            let Some(url) = resolve(base, href) else {
                continue;
            };
            let name = body::visible_text(link);
            let path = url.path().to_ascii_lowercase();
            let query = url.query().unwrap_or("").to_ascii_lowercase();
            let file = ATTACHMENT_ENDINGS
                .iter()
                .any(|e| path.ends_with(e) || query.ends_with(e))
                || path.contains("/download")
                || path.contains("downfile");
            if file && seen.insert(url.to_string()) {
                let name = if name.is_empty() {
                    url.path_segments()
                        .and_then(|mut s| s.next_back().map(str::to_owned))
                        .unwrap_or_else(|| "附件".into())
                } else {
                    name
                };
                out.push(Attachment {
                    name,
                    url: url.to_string(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_forms_pages_write_them() {
        for (text, date) in [
            ("2024-03-15 09:30", Some("2024-03-15")),
            ("发布时间：2024/3/5", Some("2024-03-05")),
            ("2024年3月15日", Some("2024-03-15")),
            ("2024.03.15", Some("2024-03-15")),
            (
                "/zwgk/zcwj/202403/t20240315_4412345.html",
                Some("2024-03-15"),
            ),
            ("/art/2025/6/12/art_1230_3456789.html", Some("2025-06-12")),
            ("2024-02-30", None),
            ("电话 0576-88120000", None),
            ("12024-03-15", None),
        ] {
            assert_eq!(normalise_date(text).as_deref(), date, "{text}");
        }
    }

    #[test]
    fn labels_split_a_line_into_fields() {
        let fields = split_labels("发布时间：2025-01-08 来源：社会事务局 点击：12");
        assert_eq!(
            fields,
            vec![
                (Field::Date, "2025-01-08".into()),
                (Field::Publisher, "社会事务局".into()),
                (Field::Other, "12".into())
            ]
        );
        assert_eq!(
            split_labels("索引号："),
            vec![(Field::IndexNumber, String::new())]
        );
        assert_eq!(
            split_labels("发文字号"),
            vec![(Field::DocNumber, String::new())]
        );
        // A sentence that names a label is no label.
        assert!(split_labels("请注明索引号：以便查询").is_empty());
    }

    #[test]
    fn validity_is_one_of_three() {
        for (text, v) in [
            ("现行有效", "有效"),
            ("已废止", "废止"),
            ("失效", "失效"),
            ("部分失效", "失效"),
            ("", ""),
        ] {
            assert_eq!(normalise_validity(text), v);
        }
    }

    fn page(html: &str) -> Page {
        let url =
            Url::parse("https://www.example.gov.cn/zwgk/tzgg/202401/t20240105_1.html").unwrap();
        extract(html, &url, &super::super::profile::builtin())
    }

    #[test]
    fn a_list_page_is_followed_not_imported() {
        let links: String = (0..20)
            .map(|i| format!("<li><a href=\"./202401/t2024010{}_{i}.html\">关于第{i}批项目的公示</a><span>2024-01-0{}</span></li>", i % 9 + 1, i % 9 + 1))
            .collect();
        let p = page(&format!("<html><head><title>通知公告</title></head><body><div class=\"content\"><ul>{links}</ul></div><div class=\"footer\">主办：某某管委会 地址：某某大道1号 联系电话：0576-88120000 ICP备00000000号</div></body></html>"));
        assert_eq!(p.kind, PageKind::Listing);
        assert_eq!(p.links.len(), 20);
        assert!(p.links[0]
            .as_str()
            .starts_with("https://www.example.gov.cn/zwgk/tzgg/202401/"));
    }

    #[test]
    fn an_article_of_an_unknown_cms_by_text_density() {
        let p = page("<html><head><title>关于春节期间办事大厅开放时间的通知_通知公告_某某网</title></head><body><div class=\"nav\"><a href=\"/\">首页</a></div><div class=\"crumbs\">您的位置：<a href=\"/\">首页</a> &gt; <a href=\"/zwgk/\">政务公开</a> &gt; <a href=\"/zwgk/tzgg/\">通知公告</a></div><div class=\"main\"><div class=\"info\">发布时间：2024-01-05　来源：办公室</div><div><p>春节期间，区政务服务中心办事大厅于2月9日至2月17日暂停对外服务。</p><p>2月18日起恢复正常办公，给您带来不便，敬请谅解。</p><p><a href=\"/files/fj1.pdf\">附件：值班安排表.pdf</a></p></div></div></body></html>");
        let PageKind::Article(a) = p.kind else {
            panic!("a list: {p:?}")
        };
        assert_eq!(a.title, "关于春节期间办事大厅开放时间的通知");
        assert_eq!(a.date, "2024-01-05");
        assert_eq!(a.publisher, "办公室");
        assert_eq!(a.column, ["政务公开", "通知公告"]);
        assert_eq!(
            a.attachments,
            [Attachment {
                name: "附件：值班安排表.pdf".into(),
                url: "https://www.example.gov.cn/files/fj1.pdf".into()
            }]
        );
        assert!(a.body.starts_with("春节期间"), "{}", a.body);
    }
}
