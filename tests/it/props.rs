//! Property tests: whatever bytes or JSON a source holds, loading returns and never panics.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use kiosk::source::{assemble, SourceFiles};

use crate::support::{COLUMNS, SITE};

fn files(items: Vec<u8>) -> SourceFiles {
    SourceFiles {
        site: Some(SITE.as_bytes().to_vec()),
        columns: Some(COLUMNS.as_bytes().to_vec()),
        items: vec![("items/a.jsonl".into(), items)],
        synonyms: None,
        problems: Vec::new(),
        dir_name: "fuzz".into(),
    }
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::String),
        prop_oneof![
            "2024-01-01",
            "2024-02-30",
            "https://www.example.gov.cn/a",
            "https://a.cn@b.cn/",
            "zwfw",
            "guide"
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(field_name(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Field names the loader knows, and some it does not.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "id",
            "kind",
            "column",
            "title",
            "date",
            "url",
            "publisher",
            "doc_number",
            "index_number",
            "topic",
            "validity",
            "keywords",
            "body",
            "interprets",
            "attachments",
            "guide",
            "name",
            "materials",
            "copies",
            "form",
            "note",
            "steps",
            "conditions",
            "basis",
            "online_url",
            "visits",
            "code",
            "type",
        ])
        .prop_map(str::to_owned),
        "[a-z]{1,8}",
    ]
}

/// A JSON object shaped like an item: the required fields usually present, the rest random.
fn item_like() -> impl Strategy<Value = Value> {
    (
        prop::option::of("[a-z0-9]{1,3}"),
        prop::option::of(prop::sample::select(vec![
            "disclosure",
            "guide",
            "interpretation",
            "notice",
            "x",
        ])),
        prop::option::of(prop::sample::select(vec![
            "zcwj",
            "zcwj-gfxwj",
            "zwfw",
            "none",
        ])),
        prop::option::of(".{0,12}"),
        prop::collection::btree_map(field_name(), any_json(), 0..8),
    )
        .prop_map(|(id, kind, column, title, rest)| {
            let mut map: Map<String, Value> = rest.into_iter().collect();
            let mut set = |key: &str, value: Option<String>| {
                if let Some(value) = value {
                    map.insert(key.to_owned(), Value::String(value));
                }
            };
            set("id", id);
            set("kind", kind.map(str::to_owned));
            set("column", column.map(str::to_owned));
            set("title", title);
            Value::Object(map)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(items in prop::collection::vec(any::<u8>(), 0..2000)) {
        let loaded = assemble(files(items));
        prop_assert!(loaded.content.items.len() <= loaded.lines_read);
    }

    #[test]
    fn random_bytes_in_every_file_never_panic(
        site in prop::collection::vec(any::<u8>(), 0..300),
        columns in prop::collection::vec(any::<u8>(), 0..300),
        synonyms in prop::collection::vec(any::<u8>(), 0..300),
        items in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut source = files(items);
        source.site = Some(site);
        source.columns = Some(columns);
        source.synonyms = Some(synonyms);
        let _ = assemble(source);
    }

    #[test]
    fn random_json_lines_never_panic(lines in prop::collection::vec(prop_oneof![item_like(), any_json()], 0..30)) {
        let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
        let loaded = assemble(files(text.into_bytes()));
        // Every loaded item keeps the loader's invariants.
        let mut ids = std::collections::HashSet::new();
        for item in &loaded.content.items {
            prop_assert!(ids.insert(item.id.clone()), "duplicate id {}", item.id);
            prop_assert!(!item.title.trim().is_empty());
            prop_assert!(loaded.content.columns.get(&item.column).is_some());
            if let Some(target) = &item.interprets {
                prop_assert!(loaded.content.item(target).is_some() && target != &item.id);
            }
        }
        prop_assert_eq!(loaded.lines_read, lines.len());
    }

    #[test]
    fn random_markdown_never_panics(body in ".{0,400}") {
        let (parsed, _) = kiosk::content::Body::parse(&body);
        let _ = parsed.plain_text();
    }

    #[test]
    fn markdown_shaped_text_never_panics(parts in prop::collection::vec(prop::sample::select(vec![
        "# ", "## ", "- ", "1. ", "   ", "|", "| --- |", "**", "*", "_", "\n", "\n\n", "<b>", "![a](b)", "[x](y)",
        "```", ">", "文字", "a", "\t",
    ]), 0..80)) {
        let (parsed, _) = kiosk::content::Body::parse(&parts.concat());
        let _ = parsed.plain_text();
    }
}
