//! An article's HTML body into the content format's Markdown subset, pure: headings,
//! paragraphs, lists and tables (kept as tables, with spans filled in); scripts, styles, forms,
//! share bars and images are dropped; text is escaped so that nothing in it becomes markup.

use scraper::{ElementRef, Node};

/// Elements whose content is never text of the body.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "iframe", "object", "embed", "button", "input", "select",
    "textarea", "form", "nav", "svg", "canvas", "video", "audio", "img", "map", "head", "title",
    "meta", "link",
];

/// Parts of class or id names of blocks that are page furniture, not the article: a name that
/// contains one (`bt-footer`, `share-box`, `main-nav`) marks its block.
const FURNITURE: &[&str] = &[
    "share",
    "footer",
    "copyright",
    "header",
    "topbar",
    "top-bar",
    "nav",
    "menu",
    "sidebar",
    "print",
    "close",
    "toolbar",
    "fontsize",
    "font-size",
    "qrcode",
    "erweima",
    "pager",
    "pgpanel",
    "page-tools",
    "article-tools",
    "xgwz",
    "related",
    "search",
    "jiucuo",
];

/// Spans beyond these are taken as errors of the page, not a table's shape.
const MAX_COLSPAN: usize = 64;
const MAX_ROWSPAN: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
enum Block {
    Heading(u8, String),
    Paragraph(String),
    List(bool, Vec<String>),
    Table(Vec<Vec<String>>),
}

/// The Markdown of an element's content.
pub fn to_markdown(element: ElementRef) -> String {
    let mut walker = Walker::default();
    walker.children(element);
    walker.flush();
    render(&walker.blocks)
}

/// The text of an element as a reader sees it: whitespace collapsed, no markup.
pub fn visible_text(element: ElementRef) -> String {
    let mut out = String::new();
    inline_text(element, &mut out);
    tidy(&out)
}

/// Whether an element is page furniture by its class or id.
pub fn is_furniture(element: ElementRef) -> bool {
    let value = element.value();
    let words = value
        .classes()
        .chain(value.id())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>();
    words
        .iter()
        .any(|w| FURNITURE.iter().any(|f| w.contains(f)))
}

fn skipped(element: ElementRef) -> bool {
    SKIPPED.contains(&element.value().name()) || is_furniture(element) || hidden(element)
}

fn hidden(element: ElementRef) -> bool {
    element.value().attr("style").is_some_and(|s| {
        s.replace(' ', "")
            .to_ascii_lowercase()
            .contains("display:none")
    })
}

#[derive(Default)]
struct Walker {
    blocks: Vec<Block>,
    line: String,
}

impl Walker {
    fn flush(&mut self) {
        let text = tidy(&self.line);
        self.line.clear();
        if !text.is_empty() {
            self.blocks.push(Block::Paragraph(text));
        }
    }

    fn children(&mut self, element: ElementRef) {
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.line.push_str(&escape(text)),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        self.element(child);
                    }
                }
                _ => {}
            }
        }
    }

    fn element(&mut self, element: ElementRef) {
        if skipped(element) {
            return;
        }
        let name = element.value().name();
        match name {
            "br" => self.flush(),
            "hr" => self.flush(),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.flush();
                let text = visible_text(element);
                if !text.is_empty() {
                    let level = if matches!(name, "h1" | "h2" | "h3") {
                        2
                    } else {
                        3
                    };
                    self.blocks.push(Block::Heading(level, escape(&text)));
                }
            }
            "ul" | "ol" => {
                self.flush();
                let mut items = Vec::new();
                list_items(element, &mut items, 0);
                if !items.is_empty() {
                    self.blocks.push(Block::List(name == "ol", items));
                }
            }
            "table" => {
                self.flush();
                self.table(element);
            }
            "p" | "div" | "section" | "article" | "center" | "blockquote" | "pre" | "dl" | "dt"
            | "dd" | "li" | "figure" | "figcaption" | "header" | "main" | "aside" | "address"
            | "tbody" | "thead" | "tr" | "td" | "th" => {
                self.flush();
                if name == "p" {
                    if let Some(heading) = heading_of_paragraph(element) {
                        self.blocks.push(Block::Heading(2, escape(&heading)));
                        return;
                    }
                }
                self.children(element);
                self.flush();
            }
            "strong" | "b" => {
                let text = visible_text(element);
                if !text.is_empty() {
                    self.line.push_str(&format!("**{}**", escape(&text)));
                }
            }
            _ => self.children(element),
        }
    }

    fn table(&mut self, table: ElementRef) {
        let grid = grid(table);
        let columns = grid.iter().map(Vec::len).max().unwrap_or(0);
        let filled = grid
            .iter()
            .filter(|row| row.iter().any(|c| !c.is_empty()))
            .count();
        if columns <= 1 || filled <= 1 {
            // A table used to lay out the page, or a single line: its cells are paragraphs.
            for row in rows(table) {
                for cell in cells(row) {
                    self.children(cell);
                    self.flush();
                }
            }
            return;
        }
        let grid: Vec<Vec<String>> = grid
            .into_iter()
            .filter(|row| row.iter().any(|c| !c.is_empty()))
            .map(|mut row| {
                row.resize(columns, String::new());
                row
            })
            .collect();
        self.blocks.push(Block::Table(grid));
    }
}

/// A `<p>` that is only bold text, short and not a sentence: a section heading as CMS editors
/// write them (`<p style="text-align:center"><strong>一、总则</strong></p>`).
fn heading_of_paragraph(p: ElementRef) -> Option<String> {
    let text = visible_text(p);
    if text.is_empty() || text.chars().count() > 40 {
        return None;
    }
    if text.ends_with(['。', '；', ';', '，', ',', '：', ':']) {
        return None;
    }
    let mut bold = String::new();
    for strong in p.descendants().filter_map(ElementRef::wrap) {
        if matches!(strong.value().name(), "strong" | "b")
            && !strong.ancestors().filter_map(ElementRef::wrap).any(|a| {
                a != p
                    && matches!(a.value().name(), "strong" | "b")
                    && a.ancestors().any(|x| x.id() == p.id())
            })
        {
            inline_text(strong, &mut bold);
        }
    }
    (tidy(&bold) == text).then_some(text)
}

fn list_items(list: ElementRef, items: &mut Vec<String>, depth: usize) {
    for li in list.children().filter_map(ElementRef::wrap) {
        if li.value().name() != "li" || skipped(li) {
            continue;
        }
        let mut own = String::new();
        let mut nested = Vec::new();
        for child in li.children() {
            match child.value() {
                Node::Text(text) => own.push_str(text),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        if matches!(child.value().name(), "ul" | "ol") {
                            nested.push(child);
                        } else if !skipped(child) {
                            inline_text(child, &mut own);
                        }
                    }
                }
                _ => {}
            }
        }
        let own = tidy(&own);
        if !own.is_empty() {
            items.push(format!("{}{}", "  ".repeat(depth), escape(&own)));
        }
        for list in nested {
            list_items(list, items, (depth + 1).min(3));
        }
    }
}

/// The rows of a table, not those of tables nested in its cells.
fn rows(table: ElementRef) -> Vec<ElementRef> {
    let mut out = Vec::new();
    for child in table.children().filter_map(ElementRef::wrap) {
        match child.value().name() {
            "tr" => out.push(child),
            "thead" | "tbody" | "tfoot" => out.extend(
                child
                    .children()
                    .filter_map(ElementRef::wrap)
                    .filter(|r| r.value().name() == "tr"),
            ),
            _ => {}
        }
    }
    out
}

fn cells(row: ElementRef) -> impl Iterator<Item = ElementRef> {
    row.children()
        .filter_map(ElementRef::wrap)
        .filter(|c| matches!(c.value().name(), "td" | "th"))
}

/// The table as a grid of cell texts, with a cell spanning rows or columns repeated in each.
fn grid(table: ElementRef) -> Vec<Vec<String>> {
    let mut grid: Vec<Vec<Option<String>>> = Vec::new();
    for (r, row) in rows(table).into_iter().enumerate() {
        if grid.len() <= r {
            grid.push(Vec::new());
        }
        let mut c = 0;
        for cell in cells(row) {
            while grid[r].get(c).is_some_and(Option::is_some) {
                c += 1;
            }
            let span = |name: &str, max: usize| {
                cell.value()
                    .attr(name)
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(1)
                    .clamp(1, max)
            };
            let (colspan, rowspan) = (span("colspan", MAX_COLSPAN), span("rowspan", MAX_ROWSPAN));
            let mut text = String::new();
            inline_text(cell, &mut text);
            let text = escape(&tidy(&text)).replace('|', "\\|");
            for dr in 0..rowspan {
                while grid.len() <= r + dr {
                    grid.push(Vec::new());
                }
                let row = &mut grid[r + dr];
                if row.len() < c + colspan {
                    row.resize(c + colspan, None);
                }
                for slot in &mut row[c..c + colspan] {
                    *slot = Some(text.clone());
                }
            }
            c += colspan;
        }
    }
    grid.into_iter()
        .map(|row| row.into_iter().map(Option::unwrap_or_default).collect())
        .collect()
}

/// The text inside an element, blocks and line breaks as spaces.
fn inline_text(element: ElementRef, out: &mut String) {
    for child in element.children() {
        match child.value() {
            Node::Text(text) => out.push_str(text),
            Node::Element(_) => {
                if let Some(child) = ElementRef::wrap(child) {
                    if skipped(child) {
                        continue;
                    }
                    let name = child.value().name();
                    if name == "br" {
                        out.push(LINE_BREAK);
                        continue;
                    }
                    let block = matches!(
                        name,
                        "p" | "div"
                            | "li"
                            | "tr"
                            | "td"
                            | "th"
                            | "h1"
                            | "h2"
                            | "h3"
                            | "h4"
                            | "h5"
                            | "h6"
                            | "table"
                            | "ul"
                            | "ol"
                    );
                    if block {
                        out.push(' ');
                    }
                    inline_text(child, out);
                    if block {
                        out.push(' ');
                    }
                }
            }
            _ => {}
        }
    }
}

fn cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// What a `<br>` leaves in text for [`tidy`]: a space even between Chinese characters.
const LINE_BREAK: char = '\u{E000}';

/// Collapses whitespace (the ideographic space and no-break space too) to single spaces and
/// trims. A run of whitespace with a line break in it, between two Chinese characters, is the
/// page's source wrapping a line and leaves nothing; spaces the author typed, and `<br>`s, stay.
pub fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    let mut wrapped = false;
    for c in text.chars() {
        if c.is_whitespace()
            || matches!(
                c,
                '\u{a0}' | '\u{3000}' | '\u{200b}' | '\u{feff}' | LINE_BREAK
            )
        {
            pending_space = !out.is_empty();
            wrapped |= matches!(c, '\n' | '\r');
            continue;
        }
        if pending_space {
            let before = out.chars().next_back().is_some_and(cjk);
            if !(wrapped && before && cjk(c)) {
                out.push(' ');
            }
            pending_space = false;
        }
        wrapped = false;
        out.push(c);
    }
    out
}

/// Backslash-escapes what Markdown would read as markup, so text stays text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '&' | '#' | '~' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text at the start of a line that Markdown would read as a list or a heading.
fn guard_line_start(line: &str) -> String {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let rest = &line[digits..];
    if digits > 0
        && (rest.starts_with(". ") || rest.starts_with(") ") || rest == "." || rest == ")")
    {
        return format!("{}\\{}", &line[..digits], rest);
    }
    if let Some(first) = line.chars().next() {
        if matches!(first, '-' | '+' | '=') {
            return format!("\\{line}");
        }
    }
    line.to_owned()
}

fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        match block {
            Block::Heading(level, text) => {
                out.push_str(&"#".repeat(*level as usize));
                out.push(' ');
                out.push_str(text);
            }
            Block::Paragraph(text) => out.push_str(&guard_line_start(text)),
            Block::List(ordered, items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    let indent = item.len() - item.trim_start_matches(' ').len();
                    let text = guard_line_start(item.trim_start_matches(' '));
                    if *ordered && indent == 0 {
                        out.push_str(&format!("{}. {text}", i + 1));
                    } else {
                        out.push_str(&format!("{}- {text}", " ".repeat(indent)));
                    }
                }
            }
            Block::Table(rows) => {
                for (i, row) in rows.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    out.push_str("| ");
                    out.push_str(&row.join(" | "));
                    out.push_str(" |");
                    if i == 0 {
                        out.push('\n');
                        out.push_str(&format!("|{}", " --- |".repeat(row.len())));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    fn check(html: &str, expected: &str) {
        let doc = Html::parse_fragment(&format!("<div id=\"b\">{html}</div>"));
        let body = doc.select(&Selector::parse("#b").unwrap()).next().unwrap();
        assert_eq!(to_markdown(body), expected, "{html}");
    }

    #[test]
    fn paragraphs_headings_and_lists() {
        check(
            "<p>　　第一段。</p>\n<p>第二\n段。</p>",
            "第一段。\n\n第二段。",
        );
        check(
            "<p style=\"text-align:center\"><strong>一、总则</strong></p><p>正文。</p>",
            "## 一、总则\n\n正文。",
        );
        check(
            "<p><strong>注意：</strong>须本人办理。</p>",
            "**注意：**须本人办理。",
        );
        check(
            "<h3>二、范围</h3><ol><li>甲</li><li>乙<ul><li>乙一</li></ul></li></ol>",
            "## 二、范围\n\n1. 甲\n2. 乙\n  - 乙一",
        );
        check("<p>第一行<br>第二行</p>", "第一行\n\n第二行");
    }

    #[test]
    fn furniture_scripts_and_images_are_dropped() {
        check(
            "<style>p{}</style><p>正文<img src=x.png></p><div class=\"share-box\">分享到：微信</div><script>var a=1;</script><p style=\"display:none\">隐藏</p>",
            "正文",
        );
    }

    #[test]
    fn tables_stay_tables_with_spans_filled_in() {
        check(
            "<table><tr><td rowspan=2>项目</td><td colspan=2>金额</td></tr><tr><td>预算</td><td>决算</td></tr><tr><td>教育</td><td>1,200</td><td>1,180</td></tr></table>",
            "| 项目 | 金额 | 金额 |\n| --- | --- | --- |\n| 项目 | 预算 | 决算 |\n| 教育 | 1,200 | 1,180 |",
        );
        // A one-column table lays the page out: its cells are paragraphs.
        check(
            "<table><tr><td><p>甲段。</p><p>乙段。</p></td></tr></table>",
            "甲段。\n\n乙段。",
        );
        // A huge span is an error of the page, not a table 10^9 cells wide.
        let doc = Html::parse_fragment("<div id=\"b\"><table><tr><td colspan=999999999>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table></div>");
        let body = doc.select(&Selector::parse("#b").unwrap()).next().unwrap();
        assert!(to_markdown(body).lines().next().unwrap().len() < 1000);
    }

    #[test]
    fn text_that_looks_like_markup_stays_text() {
        check("<p>1. 不是列表</p>", "1\\. 不是列表");
        check(
            "<p>- 破折</p><p># 井号 *星* [括号] &lt;b&gt;</p>",
            "\\- 破折\n\n\\# 井号 \\*星\\* \\[括号\\] \\<b\\>",
        );
        check(
            "<table><tr><td>a|b</td><td>c</td></tr><tr><td>1</td><td>2</td></tr></table>",
            "| a\\|b | c |\n| --- | --- |\n| 1 | 2 |",
        );
    }

    #[test]
    fn whitespace_is_tidied_as_a_reader_sees_it() {
        assert_eq!(
            tidy("  青岚\n  经开区 \u{3000}管委会  "),
            "青岚经开区 管委会"
        );
        assert_eq!(tidy("2024 年\u{a0}3 月"), "2024 年 3 月");
        assert_eq!(tidy(&format!("改革{LINE_BREAK}新办")), "改革 新办");
    }
}
