//! Item bodies: a small Markdown subset (headings, paragraphs, lists, tables, bold) parsed into
//! a block tree the UI renders. Never HTML: raw HTML and images are dropped with a note.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// A parsed body, ready to render.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Body {
    pub blocks: Vec<Block>,
}

/// One block of a body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Heading {
        level: u8,
        text: Vec<Inline>,
    },
    Paragraph {
        text: Vec<Inline>,
    },
    List {
        ordered: bool,
        start: u64,
        items: Vec<ListItem>,
    },
    Table {
        header: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
}

/// One entry of a list; `depth` is 0 for the outer list and grows with nesting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ListItem {
    pub depth: u8,
    pub text: Vec<Inline>,
}

/// The number of each entry of a list: counted from `start` for the outer entries of an ordered
/// list, `None` (a bullet) for the rest.
pub fn list_numbers(ordered: bool, start: u64, items: &[ListItem]) -> Vec<Option<u64>> {
    let mut next = start;
    items
        .iter()
        .map(|item| {
            (ordered && item.depth == 0).then(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Inline {
    pub text: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub strong: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub emphasis: bool,
}

/// Something in the Markdown that the body does not show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    Html,
    Image,
}

impl Body {
    /// Parses a Markdown body. Never fails: what the subset cannot show is dropped and named in
    /// the returned list, so the loader can warn the author.
    pub fn parse(markdown: &str) -> (Body, Vec<Dropped>) {
        let mut builder = Builder::default();
        for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
            builder.event(event);
        }
        builder.finish()
    }

    /// The text of the body without markup, one block a line: for search and snippets.
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        let line = |inlines: &[Inline], out: &mut String| {
            for inline in inlines {
                out.push_str(&inline.text);
            }
            out.push('\n');
        };
        for block in &self.blocks {
            match block {
                Block::Heading { text, .. } | Block::Paragraph { text } => line(text, &mut out),
                Block::List { items, .. } => {
                    items.iter().for_each(|item| line(&item.text, &mut out))
                }
                Block::Table { header, rows } => {
                    for row in std::iter::once(header).chain(rows) {
                        let cells: Vec<Inline> = row
                            .iter()
                            .flat_map(|cell| cell.iter().cloned().chain([plain(" ")]))
                            .collect();
                        line(&cells, &mut out);
                    }
                }
            }
        }
        out.truncate(out.trim_end().len());
        out
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Cuts every table to at most `rows` rows and `columns` columns; returns the size of each
    /// table that was larger (rows, columns).
    pub fn cut_tables(&mut self, rows: usize, columns: usize) -> Vec<(usize, usize)> {
        let mut cut = Vec::new();
        for block in &mut self.blocks {
            if let Block::Table { header, rows: body } = block {
                let widest = std::iter::once(&*header)
                    .chain(body.iter())
                    .map(Vec::len)
                    .max()
                    .unwrap_or(0);
                if body.len() > rows || widest > columns {
                    cut.push((body.len(), widest));
                    body.truncate(rows);
                    header.truncate(columns);
                    body.iter_mut().for_each(|row| row.truncate(columns));
                }
            }
        }
        cut
    }
}

fn plain(text: &str) -> Inline {
    Inline {
        text: text.to_owned(),
        strong: false,
        emphasis: false,
    }
}

/// Turns the event stream into blocks. Inline text always goes into `inlines`; the end of the
/// enclosing element decides where it lands.
#[derive(Default)]
struct Builder {
    blocks: Vec<Block>,
    dropped: Vec<Dropped>,
    inlines: Vec<Inline>,
    strong: u32,
    emphasis: u32,
    /// Open lists, outermost first: the outer one collects every item, nested ones add depth.
    lists: Vec<(bool, u64)>,
    items: Vec<ListItem>,
    table: Option<(Vec<Vec<Inline>>, Vec<Vec<Vec<Inline>>>)>,
    row: Vec<Vec<Inline>>,
    in_head: bool,
}

impl Builder {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) | Event::Code(text) => self.text(&text),
            Event::InlineMath(text) | Event::DisplayMath(text) => self.text(&text),
            Event::SoftBreak => {
                // Chinese lines join without a space; Latin words need one.
                let prev_is_wide = self
                    .inlines
                    .last()
                    .and_then(|inline| inline.text.chars().last())
                    .is_some_and(|c| !c.is_ascii());
                if !prev_is_wide {
                    self.text(" ");
                }
            }
            Event::HardBreak => self.text("\n"),
            Event::Html(_) | Event::InlineHtml(_) => self.drop(Dropped::Html),
            Event::Rule | Event::TaskListMarker(_) | Event::FootnoteReference(_) => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Strong => self.strong += 1,
            Tag::Emphasis => self.emphasis += 1,
            Tag::List(start) => {
                // Text of the item that holds a nested list ends where the nested list starts.
                self.flush_item();
                self.lists.push((start.is_some(), start.unwrap_or(1)));
            }
            Tag::Table(_) => self.table = Some((Vec::new(), Vec::new())),
            Tag::TableHead => self.in_head = true,
            Tag::Image { .. } => self.drop(Dropped::Image),
            Tag::HtmlBlock => self.drop(Dropped::Html),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Strong => self.strong = self.strong.saturating_sub(1),
            TagEnd::Emphasis => self.emphasis = self.emphasis.saturating_sub(1),
            TagEnd::Heading(level) => {
                let text = self.take_inlines();
                if !text.is_empty() {
                    let level = level as u8;
                    self.blocks.push(Block::Heading { level, text });
                }
            }
            TagEnd::Paragraph | TagEnd::CodeBlock | TagEnd::BlockQuote(_) => {
                if self.lists.is_empty() {
                    self.push_paragraph();
                } else if !self.inlines.is_empty() {
                    // Loose list items hold paragraphs; keep their text in the item.
                    self.text(" ");
                }
            }
            TagEnd::Item => self.flush_item(),
            TagEnd::List(_) => {
                self.flush_item();
                if let Some((ordered, start)) = self.lists.pop() {
                    if self.lists.is_empty() && !self.items.is_empty() {
                        let items = std::mem::take(&mut self.items);
                        self.blocks.push(Block::List {
                            ordered,
                            start,
                            items,
                        });
                    }
                }
            }
            TagEnd::TableCell => {
                let cell = self.take_inlines();
                self.row.push(cell);
            }
            TagEnd::TableHead => {
                self.in_head = false;
                let row = std::mem::take(&mut self.row);
                if let Some((header, _)) = self.table.as_mut() {
                    *header = row;
                }
            }
            TagEnd::TableRow => {
                let row = std::mem::take(&mut self.row);
                if let Some((_, rows)) = self.table.as_mut() {
                    rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some((header, rows)) = self.table.take() {
                    self.blocks.push(Block::Table { header, rows });
                }
            }
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let (strong, emphasis) = (self.strong > 0, self.emphasis > 0);
        match self.inlines.last_mut() {
            Some(last) if last.strong == strong && last.emphasis == emphasis => {
                last.text.push_str(text)
            }
            _ => self.inlines.push(Inline {
                text: text.to_owned(),
                strong,
                emphasis,
            }),
        }
    }

    fn drop(&mut self, what: Dropped) {
        if !self.dropped.contains(&what) {
            self.dropped.push(what);
        }
    }

    fn take_inlines(&mut self) -> Vec<Inline> {
        let mut inlines = std::mem::take(&mut self.inlines);
        // Trim the run's outer white space, dropping runs left empty.
        if let Some(first) = inlines.first_mut() {
            first.text = first.text.trim_start().to_owned();
        }
        if let Some(last) = inlines.last_mut() {
            last.text = last.text.trim_end().to_owned();
        }
        inlines.retain(|inline| !inline.text.is_empty());
        inlines
    }

    fn push_paragraph(&mut self) {
        let text = self.take_inlines();
        if !text.is_empty() {
            self.blocks.push(Block::Paragraph { text });
        }
    }

    fn flush_item(&mut self) {
        let text = self.take_inlines();
        if !text.is_empty() && !self.lists.is_empty() {
            let depth = u8::try_from(self.lists.len() - 1).unwrap_or(u8::MAX);
            self.items.push(ListItem { depth, text });
        }
    }

    fn finish(mut self) -> (Body, Vec<Dropped>) {
        // Text left outside any closed block (an unterminated table, say) is kept as a paragraph.
        self.push_paragraph();
        (
            Body {
                blocks: self.blocks,
            },
            self.dropped,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn check(markdown: &str, expected: Expect) {
        let (body, dropped) = Body::parse(markdown);
        let mut out = serde_json::to_string_pretty(&body.blocks).unwrap();
        if !dropped.is_empty() {
            out.push_str(&format!("\ndropped: {dropped:?}"));
        }
        expected.assert_eq(&out);
    }

    #[test]
    fn parses_headings_paragraphs_and_bold() {
        check(
            "## 一、办理条件\n\n申请人应当**年满十八周岁**，\n并持有效证件。",
            expect![[r#"
                [
                  {
                    "type": "heading",
                    "level": 2,
                    "text": [
                      {
                        "text": "一、办理条件"
                      }
                    ]
                  },
                  {
                    "type": "paragraph",
                    "text": [
                      {
                        "text": "申请人应当"
                      },
                      {
                        "text": "年满十八周岁",
                        "strong": true
                      },
                      {
                        "text": "，并持有效证件。"
                      }
                    ]
                  }
                ]"#]],
        );
    }

    #[test]
    fn parses_nested_lists_flat_with_depth() {
        check(
            "1. 提交申请\n   - 现场\n   - 网上\n2. 受理",
            expect![[r#"
                [
                  {
                    "type": "list",
                    "ordered": true,
                    "start": 1,
                    "items": [
                      {
                        "depth": 0,
                        "text": [
                          {
                            "text": "提交申请"
                          }
                        ]
                      },
                      {
                        "depth": 1,
                        "text": [
                          {
                            "text": "现场"
                          }
                        ]
                      },
                      {
                        "depth": 1,
                        "text": [
                          {
                            "text": "网上"
                          }
                        ]
                      },
                      {
                        "depth": 0,
                        "text": [
                          {
                            "text": "受理"
                          }
                        ]
                      }
                    ]
                  }
                ]"#]],
        );
    }

    #[test]
    fn parses_tables_and_drops_html_and_images() {
        check(
            "| 项目 | 金额 |\n| --- | --- |\n| 补贴 | 5万元 |\n\n<script>x</script>\n\n![图](a.png)",
            expect![[r#"
                [
                  {
                    "type": "table",
                    "header": [
                      [
                        {
                          "text": "项目"
                        }
                      ],
                      [
                        {
                          "text": "金额"
                        }
                      ]
                    ],
                    "rows": [
                      [
                        [
                          {
                            "text": "补贴"
                          }
                        ],
                        [
                          {
                            "text": "5万元"
                          }
                        ]
                      ]
                    ]
                  },
                  {
                    "type": "paragraph",
                    "text": [
                      {
                        "text": "图"
                      }
                    ]
                  }
                ]
                dropped: [Html, Image]"#]],
        );
    }

    #[test]
    fn plain_text_has_one_block_a_line() {
        let (body, _) =
            Body::parse("## 标题\n\n正文。\n\n- 甲\n- 乙\n\n| a | b |\n|---|---|\n| 1 | 2 |");
        assert_eq!(body.plain_text(), "标题\n正文。\n甲\n乙\na b \n1 2");
    }
}
