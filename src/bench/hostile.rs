//! Hostile content: items made to break a screen, within the limits a terminal takes (so they
//! pass `kiosk check`): long unbroken runs in every field, separator lines, pasted addresses,
//! huge and wide tables, bodies at the size limit, deep nesting, many attachments and
//! materials, control characters, direction overrides, stacked combining marks. Pure and
//! deterministic, for `kiosk bench soak` and the render property test.

use serde_json::{json, Value};

use super::corpus::Rng;
use crate::source::limits;

/// The kinds of hostility, one an item.
pub const KINDS: usize = 12;

/// `n` of something, as a string.
fn run(unit: &str, n: usize) -> String {
    unit.repeat(n)
}

/// A sentence of Chinese text, for filling.
const SENTENCE: &str = "根据有关规定，现将本年度政府信息公开工作情况报告如下。";

/// An item of hostility `kind` (0..[`KINDS`]), sized by `scale` (0–100: how close to the
/// limits), filed in `column`.
pub fn item(kind: usize, scale: usize, id: &str, column: &str, rng: &mut Rng) -> Value {
    let scale = scale.clamp(1, 100);
    let at = |limit: usize| (limit * scale / 100).max(1);
    let mut item = json!({
        "id": id,
        "kind": "notice",
        "column": column,
        "title": format!("测试事项{id}"),
        "date": "2026-11-20",
        "body": SENTENCE,
    });
    let set = |item: &mut Value, key: &str, value: Value| {
        item[key] = value;
    };
    match kind % KINDS {
        // A long run of letters, of digits, of dashes: in the body and in the title.
        0 => {
            let letters = run("a", at(limits::BODY_CHARS / 10));
            set(&mut item, "body", json!(format!("正文：{letters}")));
            set(&mut item, "title", json!(run("Z", at(limits::TITLE_CHARS))));
        }
        1 => {
            let line = run("—", at(20_000));
            let equals = run("=", at(20_000));
            set(
                &mut item,
                "body",
                json!(format!("上文。\n\n{line}\n\n中文。\n\n{equals}\n\n下文。")),
            );
        }
        // A pasted address, in the link, the attachments and the body.
        2 => {
            // Links as long as a link may be; in the body, as long as a field.
            let url = format!(
                "https://www.example.gov.cn/{}",
                run("x", at(crate::urlpolicy::MAX_URL_LEN - 40))
            );
            let pasted = format!(
                "https://www.example.gov.cn/{}",
                run("y", at(limits::FIELD_CHARS))
            );
            set(&mut item, "url", json!(url));
            set(
                &mut item,
                "attachments",
                json!([{ "name": "附件一", "url": url }]),
            );
            set(&mut item, "body", json!(format!("详见{pasted}")));
        }
        // Long metadata: document number, index number, publisher, topic.
        3 => {
            let long = run("1", at(limits::FIELD_CHARS - 10));
            set(&mut item, "kind", json!("disclosure"));
            set(
                &mut item,
                "doc_number",
                json!(format!("青经开〔{long}〕号")),
            );
            set(&mut item, "index_number", json!(long.clone()));
            set(
                &mut item,
                "publisher",
                json!(run("管委会", at(limits::FIELD_CHARS / 3))),
            );
            set(
                &mut item,
                "topic",
                json!(run("综合政务/", at(limits::FIELD_CHARS / 5))),
            );
        }
        // Many attachments with long names.
        4 => {
            let attachments: Vec<Value> = (0..at(limits::LIST_ENTRIES))
                .map(|i| {
                    json!({
                        "name": format!("附件{i}{}", run("A", rng.below(at(limits::FIELD_CHARS - 10)) + 1)),
                        "url": format!("https://www.example.gov.cn/files/{i}.pdf"),
                    })
                })
                .collect();
            set(&mut item, "attachments", json!(attachments));
        }
        // A huge table: many rows, or many columns with long cells.
        5 => {
            let rows = at(limits::TABLE_ROWS);
            let columns = 3;
            let mut table = format!(
                "|{}|\n|{}|\n",
                vec!["序号"; columns].join("|"),
                vec!["---"; columns].join("|")
            );
            let budget = limits::BODY_CHARS - 100;
            for r in 0..rows {
                let row = format!("| {r} | 张{r} | {}元 |\n", r * 10);
                if table.chars().count() + row.chars().count() > budget {
                    break;
                }
                table.push_str(&row);
            }
            set(&mut item, "body", json!(table));
        }
        6 => {
            let columns = at(limits::TABLE_COLUMNS);
            let cell = run("格", at(200));
            let header: Vec<String> = (0..columns).map(|c| format!("列{c}")).collect();
            let mut table = format!(
                "|{}|\n|{}|\n",
                header.join("|"),
                vec!["-"; columns].join("|")
            );
            for _ in 0..at(50) {
                table.push_str(&format!("|{}|\n", vec![cell.as_str(); columns].join("|")));
                if table.chars().count() > limits::BODY_CHARS / 2 {
                    break;
                }
            }
            set(&mut item, "body", json!(table));
        }
        // A body at the size limit: one paragraph, or thousands of short ones.
        7 => {
            let chars = SENTENCE.chars().count();
            let body = run(SENTENCE, at(limits::BODY_CHARS) / chars);
            set(&mut item, "body", json!(body));
        }
        8 => {
            let paragraphs: Vec<String> = (0..at(limits::BODY_CHARS / 40))
                .map(|i| format!("第{i}段。"))
                .collect();
            set(&mut item, "body", json!(paragraphs.join("\n\n")));
        }
        // Deep nesting: lists in lists, quotes in quotes, headings.
        9 => {
            let depth = at(300);
            let list: String = (0..depth)
                .map(|d| format!("{}- 第{d}层\n", "  ".repeat(d)))
                .collect();
            let quotes = format!("{} 引用", run(">", at(2000)));
            let headings: String = (0..at(500)).map(|i| format!("# 标题{i}\n\n")).collect();
            set(
                &mut item,
                "body",
                json!(format!("{list}\n\n{quotes}\n\n{headings}")),
            );
        }
        // A guide with every list at its limit (and the item just under the size of a line).
        10 => {
            let n = at(limits::LIST_ENTRIES);
            let material = run("材", at(400));
            set(&mut item, "kind", json!("guide"));
            set(
                &mut item,
                "guide",
                json!({
                    "applicants": run("申请人", at(limits::FIELD_CHARS / 3)),
                    "conditions": vec![run("条", at(600)); n],
                    "materials": (0..n).map(|i| json!({"name": format!("{i}{material}"), "form": run("原件", at(10)), "copies": i, "note": material})).collect::<Vec<_>>(),
                    "steps": vec![run("步", at(300)); n],
                    "basis": vec![run("依", at(300)); n],
                    "location": run("地点", at(limits::FIELD_CHARS / 2)),
                    "phone": run("0", at(limits::FIELD_CHARS)),
                }),
            );
        }
        // Characters that are not text: controls, direction overrides, stacked marks, emoji,
        // many newlines, right-to-left script.
        _ => {
            let zalgo: String = std::iter::once('a')
                .chain(std::iter::repeat_n('\u{0301}', at(2000)))
                .collect();
            let body = format!(
                "控制\u{1}\u{7}\u{1b}[31m字符\u{202E}反向\u{202C} {zalgo} 😀👍🏽 {} مرحبا بالعالم {}",
                run("\n", at(3000)),
                run("\u{200D}", at(2000))
            );
            set(&mut item, "body", json!(body));
            set(
                &mut item,
                "title",
                json!(format!("\u{202E}反向标题{}", run("\u{0301}", at(200)))),
            );
        }
    }
    item
}

/// `n` hostile items, each kind in turn, at scales spread from 1 to 100.
pub fn items(n: usize, column: &str, seed: u64) -> Vec<Value> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let scale = rng.between(1, 100);
            item(i % KINDS, scale, &format!("hostile-{i}"), column, &mut rng)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_at_full_scale_is_content_a_terminal_takes() {
        let mut rng = super::Rng::new(1);
        let mut lines = String::new();
        for kind in 0..super::KINDS {
            let item = super::item(kind, 100, &format!("h{kind}"), "zcwj", &mut rng);
            lines.push_str(&format!("{item}\n"));
        }
        let files = crate::source::SourceFiles {
            site: Some(
                b"id = \"test\"\nname = \"t\"\nallowed_hosts = [\"www.example.gov.cn\"]\n".to_vec(),
            ),
            columns: Some(b"[[column]]\nid = \"zcwj\"\nname = \"z\"\n".to_vec()),
            items: vec![("items/h.jsonl".into(), lines.into_bytes())],
            ..Default::default()
        };
        let loaded = crate::source::assemble(files);
        let errors: Vec<String> = loaded
            .problems
            .iter()
            .filter(|p| p.severity == crate::source::Severity::Error)
            .map(ToString::to_string)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(loaded.content.items.len(), super::KINDS);
    }
}
