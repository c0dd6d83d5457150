//! `kiosk bench import`: how fast `kiosk import web` reads a local mirror, and the memory it
//! needs. The mirror is made from a content source (the hebei corpus when it is there): each
//! item becomes an article page in the TRS layout (every other one GBK-encoded, as such sites
//! are), with its metadata table, body (tables as tables) and attachments, and the columns
//! become list pages of 15 links each, until the mirror has the pages asked for.

use std::fmt::Write as _;
use std::path::Path;

use crate::content::{Block, Content, Inline, Item};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn inline(text: &[Inline]) -> String {
    text.iter()
        .map(|i| {
            if i.strong {
                format!("<strong>{}</strong>", escape(&i.text))
            } else {
                escape(&i.text)
            }
        })
        .collect()
}

fn body_html(item: &Item) -> String {
    let mut out = String::new();
    for block in &item.body.blocks {
        match block {
            Block::Heading { text, .. } => {
                let _ = write!(
                    out,
                    "<p style=\"text-align:center\"><strong>{}</strong></p>",
                    inline(text)
                );
            }
            Block::Paragraph { text } => {
                let _ = write!(out, "<p>　　{}</p>", inline(text));
            }
            Block::List { items, .. } => {
                out.push_str("<ul>");
                for entry in items {
                    let _ = write!(out, "<li>{}</li>", inline(&entry.text));
                }
                out.push_str("</ul>");
            }
            Block::Table { header, rows } => {
                out.push_str("<table border=\"1\"><tbody>");
                for row in std::iter::once(header).chain(rows) {
                    out.push_str("<tr>");
                    for cell in row {
                        let _ = write!(out, "<td>{}</td>", inline(cell));
                    }
                    out.push_str("</tr>");
                }
                out.push_str("</tbody></table>");
            }
        }
    }
    out
}

fn page(item: &Item, n: usize, column: &str, gbk: bool) -> Vec<u8> {
    let date = item.date.map(|d| d.to_string()).unwrap_or_default();
    let charset = if gbk { "gb2312" } else { "utf-8" };
    let mut html = format!(
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset={charset}\">\
         <title>{title}_{column}</title><meta name=\"ArticleTitle\" content=\"{title}\"><meta name=\"PubDate\" content=\"{date} 09:00\">\
         <meta name=\"ContentSource\" content=\"{publisher}\"><script>var a=1;</script></head><body>\
         <div class=\"header\"><a href=\"/\">首页</a></div>\
         <div class=\"position\">当前位置：<a href=\"/\">首页</a> &gt; <a href=\"/zwgk/\">政务公开</a> &gt; <a href=\"/zwgk/c{column_id}/\">{column}</a></div>\
         <table class=\"xxgk_table\"><tr><td>索引号：</td><td>{index}</td><td>主题分类：</td><td>{topic}</td></tr>\
         <tr><td>发布机构：</td><td>{publisher}</td><td>发布日期：</td><td>{date}</td></tr>\
         <tr><td>文号：</td><td>{doc}</td><td>有效性：</td><td>{validity}</td></tr></table>\
         <h1>{title}</h1><div class=\"TRS_Editor\"><style>p{{margin:0}}</style>{body}</div>",
        title = escape(&item.title),
        column = escape(column),
        column_id = column.len(),
        publisher = escape(item.publisher.as_deref().unwrap_or("")),
        index = escape(item.index_number.as_deref().unwrap_or("")),
        topic = escape(item.topic.as_deref().unwrap_or("")),
        doc = escape(item.doc_number.as_deref().unwrap_or("")),
        validity = escape(item.validity.as_deref().unwrap_or("")),
        body = body_html(item),
    );
    if !item.attachments.is_empty() {
        html.push_str("<div class=\"fj\">附件：");
        for (i, a) in item.attachments.iter().enumerate() {
            let _ = write!(html, "<a href=\"./P0{n}{i}.pdf\">{}</a>", escape(&a.name));
        }
        html.push_str("</div>");
    }
    html.push_str("<div class=\"share\">分享到：</div><div class=\"footer\">主办：某某管委会</div></body></html>");
    if gbk {
        // Characters GBK cannot hold become numeric references, as such sites write them.
        let (bytes, _, _) = encoding_rs::GBK.encode(&html);
        bytes.into_owned()
    } else {
        html.into_bytes()
    }
}

/// Writes a mirror of about `pages` pages made of `content` into `dir/HOST/`; returns the pages
/// written. Items are used again (with another address and 索引号) when there are too few.
pub fn write_mirror(content: &Content, dir: &Path, pages: usize) -> std::io::Result<usize> {
    let host = dir.join("www.example.gov.cn");
    let _ = std::fs::remove_dir_all(&host);
    std::fs::create_dir_all(&host)?;
    let items: Vec<&Item> = content
        .items
        .iter()
        .filter(|i| i.kind != crate::content::ItemKind::Guide)
        .collect();
    if items.is_empty() {
        return Ok(0);
    }
    // One list page for every 15 articles: articles ≈ pages × 15/16.
    let articles = (pages * 15).div_ceil(16).max(1);
    let mut lists: Vec<Vec<(String, String)>> = Vec::new();
    let mut written = 0;
    for n in 0..articles {
        let mut item = items[n % items.len()].clone();
        let round = n / items.len();
        if round > 0 {
            item.index_number = Some(format!(
                "{}-r{round}",
                item.index_number.as_deref().unwrap_or("")
            ));
            item.title = format!("{}（{}）", item.title, round + 1);
        }
        let column = content
            .columns
            .get(&item.column)
            .map_or("其他", |c| c.name.as_str())
            .to_owned();
        let path = format!("zwgk/a{}/t{n:06}.html", n % 50);
        std::fs::create_dir_all(host.join(format!("zwgk/a{}", n % 50)))?;
        std::fs::write(host.join(&path), page(&item, n, &column, n % 2 == 1))?;
        written += 1;
        if n % 15 == 0 {
            lists.push(Vec::new());
        }
        if let Some(list) = lists.last_mut() {
            list.push((path, item.title.clone()));
        }
    }
    for (i, list) in lists.iter().enumerate() {
        let mut html = String::from("<html><head><meta charset=\"utf-8\"><title>政务公开</title></head><body><div class=\"list\"><ul>");
        for (path, title) in list {
            let _ = write!(
                html,
                "<li><a href=\"/{path}\">{}</a><span>2024-01-01</span></li>",
                escape(title)
            );
        }
        let _ = write!(html, "</ul></div><div class=\"pager\"><a href=\"/zwgk/index_{}.html\">下一页</a></div></body></html>", i + 1);
        std::fs::write(host.join(format!("zwgk/index_{i}.html")), html)?;
        written += 1;
    }
    Ok(written)
}

/// The figures of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportFigures {
    pub pages: usize,
    pub items: usize,
    /// Pages that were another page's article, and pages the loader's rules refused.
    pub duplicates: usize,
    pub skipped: usize,
    pub seconds: f64,
    pub pages_per_second: f64,
    pub peak_rss_kib: u64,
    pub source_bytes: u64,
}

/// The figures as Markdown, for docs/performance.md.
pub fn render(f: &ImportFigures, label: &str, command: &str) -> String {
    format!(
        "Command: `{command}` (release build). A mirror of {} pages made from {label} (TRS layout, half of \
         the pages GBK), read and imported by `kiosk import web --mirror` in one process, items written and \
         checked by the loader's rules.\n\n\
         | pages | items | duplicates | skipped | time | pages a second | peak memory | items/web.jsonl |\n\
         | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n\
         | {} | {} | {} | {} | {:.1} s | {:.0} | {:.0} MiB | {:.1} MiB |\n",
        f.pages,
        f.pages,
        f.items,
        f.duplicates,
        f.skipped,
        f.seconds,
        f.pages_per_second,
        f.peak_rss_kib as f64 / 1024.0,
        f.source_bytes as f64 / 1048576.0,
    )
}
