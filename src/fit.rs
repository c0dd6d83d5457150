//! Fitting content to the screen, pure: whatever a content source holds, what the screen is
//! given stays within what Slint's software renderer can lay out and draw quickly.
//!
//! The renderer keeps physical coordinates in 16 bits: a line of text or a box wider or taller
//! than 32,767 pixels makes it panic, and a page of tens of thousands of blocks takes seconds
//! and gigabytes to lay out. So, before any text reaches Slint:
//! - a long run without a break opportunity (a separator line, a pasted URL, a long number) gets
//!   invisible break opportunities (U+200B) every [`RUN`] columns ([`breakable`]);
//! - every string is cut to a length that suits where it is shown ([`text`], [`line`]), with
//!   control characters removed;
//! - a body is cut into pages of at most [`PAGE_BUDGET`] columns ([`paginate`]); a paragraph
//!   longer than a page is split at sentence ends;
//! - a table shows at most [`TABLE_ROWS`] rows and [`TABLE_COLUMNS`] columns, with a note that
//!   says how much more the full page (its QR code) has.
//!
//! Widths are display columns: a Chinese character counts two, a Latin letter one.

use std::borrow::Cow;

use crate::content::{list_numbers, Block, Inline};

/// The invisible break opportunity given to long runs.
pub const ZWSP: char = '\u{200B}';

/// A run of this many columns without a break opportunity gets one.
pub const RUN: usize = 20;

/// What one page of a body may hold, in columns (about 5,000 Chinese characters: four
/// screens at 1080p, and well within the renderer's coordinates in elder mode on a portrait
/// 4K screen).
pub const PAGE_BUDGET: usize = 10_000;

/// At most this many blocks a page, however short.
pub const PAGE_BLOCKS: usize = 200;

/// What a block costs beyond its text (its spacing and padding), in columns.
const BLOCK_COST: usize = 40;

/// A table shows at most this many rows (beyond the header) and columns.
pub const TABLE_ROWS: usize = 300;
pub const TABLE_COLUMNS: usize = 12;

/// Longest texts, in columns, by where they are shown.
pub const CELL: usize = 300;
pub const HEADING: usize = 400;
pub const TITLE: usize = 400;
/// A value in a table of facts, a list entry of a guide, a material's note.
pub const FIELD: usize = 2_000;
/// A one-line label: a chip, a tile, a candidate word.
pub const LABEL: usize = 40;

/// A newline counts as this many columns (a text of many short lines is tall).
const NEWLINE: usize = 30;

/// The display width of a character: two for wide (Chinese) ones, one for others (combining
/// marks and other zero-width characters count one too, so their number is bounded as well).
pub fn width(c: char) -> usize {
    if c == '\n' {
        return NEWLINE;
    }
    unicode_width::UnicodeWidthChar::width(c)
        .unwrap_or(0)
        .clamp(1, 2)
}

/// The display width of a text.
pub fn text_width(text: &str) -> usize {
    text.chars().map(width).sum()
}

/// Whether a line may break after `c` whatever follows: white space, the break opportunity
/// itself, and wide letters (Chinese characters break anywhere).
fn breaks_after(c: char) -> bool {
    c.is_whitespace()
        || c == ZWSP
        || (c.is_alphanumeric() && unicode_width::UnicodeWidthChar::width(c) == Some(2))
}

/// Gives every run of more than [`RUN`] columns without a break opportunity an invisible one
/// every [`RUN`] columns, so no line of text can be wider than the screen.
pub fn breakable(text: &str) -> Cow<'_, str> {
    let mut run = 0;
    let mut needs = false;
    for c in text.chars() {
        run = if breaks_after(c) { 0 } else { run + width(c) };
        if run > RUN {
            needs = true;
            break;
        }
    }
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + text.len() / RUN * 3);
    let mut run = 0;
    for c in text.chars() {
        let w = width(c);
        if !breaks_after(c) && run + w > RUN {
            out.push(ZWSP);
            run = 0;
        }
        out.push(c);
        run = if breaks_after(c) { 0 } else { run + w };
    }
    Cow::Owned(out)
}

/// Removes control characters (but newlines, and tabs as spaces) and direction overrides,
/// collapses more than two newlines in a row, and cuts the text to `max` columns with an
/// ellipsis; says whether it was cut.
fn clean(text: &str, max: usize, keep_newlines: bool) -> (String, bool) {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut used = 0;
    let mut newlines = 0;
    for c in text.chars() {
        let c = match c {
            '\t' => ' ',
            '\n' if !keep_newlines => ' ',
            '\r' => continue,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => continue,
            c if c.is_control() && c != '\n' => continue,
            c => c,
        };
        if c == '\n' {
            newlines += 1;
            if newlines > 2 {
                continue;
            }
        } else {
            newlines = 0;
        }
        let w = width(c);
        if used + w > max {
            let cut = out.trim_end().len();
            out.truncate(cut);
            out.push('…');
            return (out, true);
        }
        used += w;
        out.push(c);
    }
    (out, false)
}

/// A text shown wrapped: cleaned, cut to `max` columns, and breakable.
pub fn text(text: &str, max: usize) -> String {
    breakable(&clean(text, max, true).0).into_owned()
}

/// A text shown on one line: newlines become spaces, cut to `max` columns.
pub fn line(text: &str, max: usize) -> String {
    breakable(&clean(text, max, false).0).into_owned()
}

/// The room left on a page for the entries of a list (a guide's materials, its steps, an
/// item's attachments), in columns: entries are shown while they fit, and `cut` says that some
/// were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    left: usize,
    pub cut: bool,
}

impl Room {
    pub fn new(budget: usize) -> Room {
        Room {
            left: budget,
            cut: false,
        }
    }

    /// Takes room for an entry of `width` columns, if there is room left.
    pub fn take(&mut self, width: usize) -> bool {
        let cost = width + BLOCK_COST;
        if self.cut || cost > self.left {
            self.cut = true;
            return false;
        }
        self.left -= cost;
        true
    }
}

/// One piece of a body as the screen shows it: what a block becomes once fitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Heading(Vec<Inline>),
    Paragraph(Vec<Inline>),
    /// A list entry with its marker (`3.` or `•`) and nesting depth.
    Item {
        marker: String,
        depth: u8,
        text: Vec<Inline>,
    },
    /// A table row: at most [`TABLE_COLUMNS`] cells of plain text.
    Row {
        cells: Vec<String>,
        header: bool,
    },
    /// A table was too large to show whole.
    TableCut {
        rows: usize,
        columns: usize,
        shown_rows: usize,
        shown_columns: usize,
    },
}

impl Piece {
    /// What the piece costs on a page, in columns.
    fn cost(&self) -> usize {
        let inlines = |text: &[Inline]| text.iter().map(|i| text_width(&i.text)).sum::<usize>();
        BLOCK_COST
            + match self {
                Piece::Heading(text) | Piece::Paragraph(text) | Piece::Item { text, .. } => {
                    inlines(text)
                }
                // A row is as tall as its longest cell, in a column a fraction of the width.
                Piece::Row { cells, .. } => {
                    let longest = cells.iter().map(|c| text_width(c)).max().unwrap_or(0);
                    longest * cells.len().max(1)
                }
                Piece::TableCut { .. } => 0,
            }
    }
}

fn plain_cell(cell: &[Inline]) -> String {
    let text: String = cell.iter().map(|i| i.text.as_str()).collect();
    line(&text, CELL)
}

/// Cleans and cuts a run of inlines to `max` columns in all (an ellipsis marks a cut).
fn fit_inlines(inlines: &[Inline], max: usize) -> Vec<Inline> {
    let mut left = max;
    let mut out = Vec::with_capacity(inlines.len());
    for inline in inlines {
        if left == 0 {
            break;
        }
        let (text, cut) = clean(&inline.text, left, false);
        left = left.saturating_sub(text_width(&text));
        out.push(Inline {
            text,
            ..inline.clone()
        });
        if cut {
            break;
        }
    }
    out
}

/// Splits a run of inlines into pieces of at most `max` columns, at a sentence end in the last
/// third of a piece where there is one.
fn split_inlines(inlines: &[Inline], max: usize) -> Vec<Vec<Inline>> {
    let total: usize = inlines.iter().map(|i| text_width(&i.text)).sum();
    if total <= max {
        return vec![inlines.to_vec()];
    }
    let mut pieces = Vec::new();
    let mut current: Vec<Inline> = Vec::new();
    let mut used = 0;
    for inline in inlines {
        let mut rest: &str = &inline.text;
        while !rest.is_empty() {
            let room = max - used;
            let (take, fits) = prefix_within(rest, room);
            let mut cut = take;
            if !fits {
                // Prefer a sentence end in the last third of the room.
                if let Some(end) = sentence_end(&rest[..take], room / 3) {
                    cut = end;
                }
            }
            if cut > 0 {
                current.push(Inline {
                    text: rest[..cut].to_owned(),
                    ..inline.clone()
                });
                used += text_width(&rest[..cut]);
                rest = &rest[cut..];
            }
            if !fits || cut == 0 {
                if !current.is_empty() {
                    pieces.push(std::mem::take(&mut current));
                }
                used = 0;
            }
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// The longest prefix of `text` within `room` columns (in bytes), and whether all of it fits.
fn prefix_within(text: &str, room: usize) -> (usize, bool) {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        used += width(c);
        if used > room {
            return (at, false);
        }
    }
    (text.len(), true)
}

/// The byte offset just after the last sentence end of `text` that leaves at most `within`
/// columns after it.
fn sentence_end(text: &str, within: usize) -> Option<usize> {
    let mut after = 0;
    for (at, c) in text.char_indices().rev() {
        if "。！？；!?;\n".contains(c) {
            return Some(at + c.len_utf8());
        }
        after += width(c);
        if after > within {
            return None;
        }
    }
    None
}

/// A body's blocks as pieces, fitted: long paragraphs split, tables cut.
pub fn pieces(blocks: &[Block]) -> Vec<Piece> {
    let mut out = Vec::new();
    let long = PAGE_BUDGET / 4;
    for block in blocks {
        match block {
            Block::Heading { text, .. } => out.push(Piece::Heading(fit_inlines(text, HEADING))),
            Block::Paragraph { text } => out.extend(
                split_inlines(text, long)
                    .into_iter()
                    .map(|part| Piece::Paragraph(fit_inlines(&part, long))),
            ),
            Block::List {
                ordered,
                start,
                items,
            } => {
                for (item, number) in items.iter().zip(list_numbers(*ordered, *start, items)) {
                    let marker = number.map_or_else(|| "•".to_owned(), |n| format!("{n}."));
                    for (i, part) in split_inlines(&item.text, long).into_iter().enumerate() {
                        out.push(Piece::Item {
                            marker: if i == 0 {
                                marker.clone()
                            } else {
                                String::new()
                            },
                            depth: item.depth.min(8),
                            text: fit_inlines(&part, long),
                        });
                    }
                }
            }
            Block::Table { header, rows } => {
                let columns = std::iter::once(header)
                    .chain(rows)
                    .map(Vec::len)
                    .max()
                    .unwrap_or(0);
                let row = |cells: &[Vec<Inline>], header: bool| Piece::Row {
                    cells: cells
                        .iter()
                        .take(TABLE_COLUMNS)
                        .map(|c| plain_cell(c))
                        .collect(),
                    header,
                };
                out.push(row(header, true));
                out.extend(rows.iter().take(TABLE_ROWS).map(|cells| row(cells, false)));
                if rows.len() > TABLE_ROWS || columns > TABLE_COLUMNS {
                    out.push(Piece::TableCut {
                        rows: rows.len(),
                        columns,
                        shown_rows: rows.len().min(TABLE_ROWS),
                        shown_columns: columns.min(TABLE_COLUMNS),
                    });
                }
            }
        }
    }
    out
}

/// Cuts pieces into pages of at most [`PAGE_BUDGET`] columns and [`PAGE_BLOCKS`] pieces. A
/// table that goes on onto the next page starts it with its header row again. Always at
/// least one page.
pub fn paginate(pieces: Vec<Piece>) -> Vec<Vec<Piece>> {
    let mut pages = vec![Vec::new()];
    let mut used = 0;
    let mut header: Option<Piece> = None;
    for piece in pieces {
        match &piece {
            Piece::Row { header: true, .. } => header = Some(piece.clone()),
            Piece::Row { .. } | Piece::TableCut { .. } => {}
            _ => header = None,
        }
        let cost = piece.cost();
        let page = pages.last_mut().expect("there is a page");
        if !page.is_empty() && (used + cost > PAGE_BUDGET || page.len() >= PAGE_BLOCKS) {
            let mut next = Vec::new();
            used = 0;
            if let (Some(head), Piece::Row { header: false, .. } | Piece::TableCut { .. }) =
                (&header, &piece)
            {
                used += head.cost();
                next.push(head.clone());
            }
            pages.push(next);
        }
        used += cost;
        pages.last_mut().expect("there is a page").push(piece);
    }
    pages
}

/// The pages of a body.
pub fn body_pages(blocks: &[Block]) -> Vec<Vec<Piece>> {
    paginate(pieces(blocks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Body;

    fn longest_run(text: &str) -> usize {
        let mut run = 0;
        let mut longest = 0;
        for c in text.chars() {
            run = if breaks_after(c) { 0 } else { run + width(c) };
            longest = longest.max(run);
        }
        longest
    }

    #[test]
    fn long_runs_get_break_opportunities_and_short_text_is_kept() {
        for (input, unchanged) in [
            ("企业设立登记（营业执照）", true),
            ("经开管发〔2024〕3号", true),
            ("see www.example.gov.cn/a", true),
            ("see https://www.example.gov.cn/a/b.html", false),
            (&"a".repeat(3000), false),
            (&"—".repeat(2000), false),
            (
                &format!("https://www.example.gov.cn/{}", "x".repeat(4000)),
                false,
            ),
            (&"1".repeat(500), false),
        ] {
            let out = breakable(input);
            assert_eq!(out == input, unchanged, "{}", &input[..input.len().min(40)]);
            assert!(
                longest_run(&out) <= RUN,
                "{}",
                &input[..input.len().min(40)]
            );
            assert_eq!(
                out.replace(ZWSP, ""),
                input,
                "only break opportunities are added"
            );
        }
    }

    #[test]
    fn texts_are_cut_and_cleaned() {
        assert_eq!(line("营业执照", LABEL), "营业执照");
        assert_eq!(line("a\u{202E}b\u{0}c\nd", LABEL), "abc d");
        assert_eq!(text("a\n\n\n\n\nb", FIELD), "a\n\nb");
        let cut = line(&"字".repeat(100), 10);
        assert_eq!(cut, "字字字字字…");
        assert!(text_width(&text(&"x".repeat(10_000), FIELD)) <= FIELD + 1 + FIELD / RUN);
        // A text of many lines is as bounded as a long one.
        assert!(text(&"\n.".repeat(10_000), FIELD).chars().count() < FIELD);
    }

    fn body(markdown: &str) -> Vec<Block> {
        Body::parse(markdown).0.blocks
    }

    #[test]
    fn a_long_body_is_paged_within_the_budget() {
        let markdown = (0..3000)
            .map(|i| format!("第{i}段，这是一段关于政务公开的正文内容。"))
            .collect::<Vec<_>>()
            .join("\n\n");
        let pages = body_pages(&body(&markdown));
        assert!(pages.len() > 5, "{} pages", pages.len());
        for page in &pages {
            assert!(page.len() <= PAGE_BLOCKS);
            assert!(page.iter().map(Piece::cost).sum::<usize>() <= PAGE_BUDGET);
        }
        let shown: usize = pages.iter().map(Vec::len).sum();
        assert_eq!(shown, 3000, "every paragraph is on a page");
    }

    #[test]
    fn one_huge_paragraph_is_split_at_sentence_ends() {
        let markdown = "这是一句话。".repeat(20_000);
        let pieces = pieces(&body(&markdown));
        assert!(pieces.len() > 10);
        for piece in &pieces {
            let Piece::Paragraph(text) = piece else {
                panic!("{piece:?}")
            };
            let joined: String = text.iter().map(|i| i.text.as_str()).collect();
            assert!(joined.ends_with('。'), "{}", &joined[joined.len() - 9..]);
            assert!(text_width(&joined) <= PAGE_BUDGET / 4);
        }
        let all: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Paragraph(t) => t.iter().map(|i| i.text.as_str()).collect::<String>(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(all, markdown, "nothing is lost in the split");
    }

    #[test]
    fn huge_tables_are_shown_in_part_with_a_note() {
        let rows: String = (0..20_000)
            .map(|i| format!("| {i} | 内容{i} |\n"))
            .collect();
        let pieces = pieces(&body(&format!("| 序号 | 内容 |\n|---|---|\n{rows}")));
        assert_eq!(pieces.len(), 1 + TABLE_ROWS + 1);
        assert_eq!(
            pieces.last(),
            Some(&Piece::TableCut {
                rows: 20_000,
                columns: 2,
                shown_rows: TABLE_ROWS,
                shown_columns: 2
            })
        );
        let wide = format!(
            "|{}|\n|{}|\n|{}|",
            (0..100_000)
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join("|"),
            vec!["-"; 100_000].join("|"),
            vec!["v"; 100_000].join("|")
        );
        let pieces = super::pieces(&body(&wide));
        let Piece::Row { cells, .. } = &pieces[0] else {
            panic!()
        };
        assert_eq!(cells.len(), TABLE_COLUMNS);
        assert!(matches!(
            pieces.last(),
            Some(Piece::TableCut {
                columns: 100_000,
                shown_columns: TABLE_COLUMNS,
                ..
            })
        ));
    }

    #[test]
    fn a_table_going_on_to_the_next_page_repeats_its_header() {
        let long_cell = "很长的单元格内容".repeat(30);
        let rows: String = (0..200)
            .map(|i| format!("| {i} | {long_cell} |\n"))
            .collect();
        let pages = body_pages(&body(&format!("| 序号 | 内容 |\n|---|---|\n{rows}")));
        assert!(pages.len() > 1);
        for page in &pages {
            assert!(matches!(page[0], Piece::Row { header: true, .. }));
        }
    }
}
