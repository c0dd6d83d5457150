//! Each validation rule of the loader, with a small fixture: what loads and what is reported.

use expect_test::{expect, Expect};

use crate::support::{summary, Fixture, COLUMNS, SITE};

fn check(items: &str, expected: Expect) {
    expected.assert_eq(&summary(&Fixture::with_items(items).load()));
}

fn check_files(files: &[(&str, &[u8])], expected: Expect) {
    expected.assert_eq(&summary(&Fixture::new(files).load()));
}

const OK: &str =
    r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "通知", "date": "2024-01-02"}"#;

#[test]
fn a_valid_item_loads_without_problems() {
    check(
        OK,
        expect![[r#"
        loaded: a
    "#]],
    );
}

#[test]
fn blank_lines_and_crlf_are_fine() {
    check(
        &format!("\n{OK}\r\n\r\n  \n"),
        expect![[r#"
        loaded: a
    "#]],
    );
}

#[test]
fn broken_json_skips_only_that_line() {
    check(
        &format!("{{\"id\": \"x\", \"kind\": \n{OK}"),
        expect![[r#"
        loaded: a
        items/a.jsonl:1: error: the line is broken JSON (it ends before the object is closed at column 20); it is skipped
    "#]],
    );
    check(
        &format!("[1, 2]\n\"text\"\n{OK}"),
        expect![[r#"
        loaded: a
        items/a.jsonl:1: error: the line is not a JSON object ({ ... }); it is skipped
        items/a.jsonl:2: error: the line is not a JSON object ({ ... }); it is skipped
    "#]],
    );
}

#[test]
fn invalid_utf8_skips_only_that_line() {
    let mut bytes =
        b"{\"id\": \"x\", \"kind\": \"notice\", \"column\": \"zwfw\", \"title\": \"\xff\xfe\"}\n"
            .to_vec();
    bytes.extend_from_slice(OK.as_bytes());
    let fixture = Fixture::new(&[
        ("site.toml", SITE.as_bytes()),
        ("columns.toml", COLUMNS.as_bytes()),
        ("items/a.jsonl", &bytes),
    ]);
    expect![[r#"
        loaded: a
        items/a.jsonl:1: error: the line is not valid UTF-8 text (save the file as UTF-8); it is skipped
    "#]].assert_eq(&summary(&fixture.load()));
}

#[test]
fn required_fields_missing_or_empty_skip_the_item() {
    check(
        r#"{"kind": "notice", "column": "zwfw", "title": "无编号"}"#,
        expect![[r#"
        loaded: 
        items/a.jsonl:1: error: an item has no `id`; it is skipped
    "#]],
    );
    check(
        r#"{"id": "a", "column": "zwfw", "title": "无类型"}"#,
        expect![[r#"
        loaded: 
        items/a.jsonl:1: error: item `a`: has no `kind`; it is skipped
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "notice", "title": "无栏目"}"#,
        expect![[r#"
        loaded: 
        items/a.jsonl:1: error: item `a`: has no `column`; it is skipped
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "  "}"#,
        expect![[r#"
        loaded: 
        items/a.jsonl:1: error: item `a`: has no title (or an empty one); it is skipped
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw"}"#,
        expect![[r#"
        loaded: 
        items/a.jsonl:1: error: item `a`: has no title (or an empty one); it is skipped
    "#]],
    );
    check(
        r#"{"id": "a b", "kind": "notice", "column": "zwfw", "title": "t"}"#,
        expect![[r#"
        loaded: 
        items/a.jsonl:1: error: item id “a b” has spaces, slashes or control characters, or is longer than 128; the item is skipped
    "#]],
    );
}

#[test]
fn unknown_kind_and_column_skip_the_item() {
    check(
        r#"{"id": "a", "kind": "news", "column": "zwfw", "title": "t", "date": "2024-01-01"}"#,
        expect![[r#"
        loaded: 
        items/a.jsonl:1: error: item `a`: unknown kind “news” (use disclosure, guide, interpretation or notice); it is skipped
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "notice", "column": "nope", "title": "t", "date": "2024-01-01"}"#,
        expect![[r#"
        loaded: 
        items/a.jsonl:1: error: item `a`: column “nope” is not in columns.toml; it is skipped
    "#]],
    );
}

#[test]
fn duplicate_ids_keep_the_first() {
    check(
        &format!("{OK}\n{OK}"),
        expect![[r#"
        loaded: a
        items/a.jsonl:2: error: item `a`: this id is already used at items/a.jsonl:1; this item is skipped
    "#]],
    );
}

#[test]
fn duplicate_ids_across_files_are_found() {
    check_files(
        &[
            ("site.toml", SITE.as_bytes()),
            ("columns.toml", COLUMNS.as_bytes()),
            ("items/a.jsonl", OK.as_bytes()),
            ("items/b.jsonl", OK.as_bytes()),
            ("items/readme.txt", b"notes"),
        ],
        expect![[r#"
            loaded: a
            items/readme.txt: warning: only .jsonl files are read from items/; this one is ignored
            items/b.jsonl:1: error: item `a`: this id is already used at items/a.jsonl:1; this item is skipped
        "#]],
    );
}

#[test]
fn bad_dates_are_left_out_and_missing_dates_warned() {
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "t", "date": "2024-02-30"}"#,
        expect![[r#"
        loaded: a
        items/a.jsonl:1: error: item `a`: “2024-02-30” is not a real calendar date; the date is left out
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "t", "date": "2024年1月2日"}"#,
        expect![[r#"
        loaded: a
        items/a.jsonl:1: error: item `a`: “2024年1月2日” is not a date in the form YYYY-MM-DD; the date is left out
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "disclosure", "column": "zwfw", "title": "t"}"#,
        expect![[r#"
        loaded: a
        items/a.jsonl:1: warning: item `a`: has no date
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "guide", "column": "zwfw", "title": "t"}"#,
        expect![[r#"
        loaded: a
        items/a.jsonl:1: warning: item `a`: is a service guide without `guide` fields (materials, steps, place, hours ...)
    "#]],
    );
}

#[test]
fn urls_are_checked_against_the_policy() {
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "t", "date": "2024-01-01", "url": "https://www.example.gov.cn/a.html"}"#,
        expect![[r#"
        loaded: a
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "t", "date": "2024-01-01", "url": "https://evil.example.com/a.html"}"#,
        expect![[r#"
        loaded: a
        items/a.jsonl:1: warning: item `a`: url: the host evil.example.com is not in the site's allowed_hosts; it is shown as text, never as a link
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "t", "date": "2024-01-01", "url": "not a url"}"#,
        expect![[r#"
        loaded: a
        items/a.jsonl:1: error: item `a`: url: the address is malformed (relative URL without a base); it is shown as text, never as a link
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "t", "date": "2024-01-01", "attachments": [{"name": "附件1", "url": "https://www.example.gov.cnhttps://www.example.gov.cn/f.pdf"}, {"name": "附件2"}, "x"]}"#,
        expect![[r#"
        loaded: a
        items/a.jsonl:1: error: item `a`: attachment 1 (“附件1”): two addresses are run together; it is shown as text, never as a link
        items/a.jsonl:1: error: item `a`: attachment 2 (“附件2”) has no url; it is left out
        items/a.jsonl:1: error: item `a`: attachment 3 is not a {"name", "url"} object; it is left out
    "#]],
    );
}

#[test]
fn interprets_must_name_another_item() {
    check(
        &format!(
            "{OK}\n{}\n{}\n{}",
            r#"{"id": "j1", "kind": "interpretation", "column": "zwfw", "title": "解读", "date": "2024-01-01", "interprets": "a"}"#,
            r#"{"id": "j2", "kind": "interpretation", "column": "zwfw", "title": "解读", "date": "2024-01-01", "interprets": "missing"}"#,
            r#"{"id": "j3", "kind": "interpretation", "column": "zwfw", "title": "解读", "date": "2024-01-01", "interprets": "j3"}"#
        ),
        expect![[r#"
            loaded: a, j1, j2, j3
            items/a.jsonl:3: error: item `j2`: interprets an item that is not here (“missing”); the link is left out
            items/a.jsonl:4: error: item `j3`: interprets itself (“j3”); the link is left out
        "#]],
    );
}

#[test]
fn wrong_types_and_unknown_fields_are_reported() {
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "t", "date": "2024-01-01", "keywords": "单个", "topic": ["x"], "colour": "red"}"#,
        expect![[r#"
        loaded: a
        items/a.jsonl:1: error: item `a`: `topic` must be text; it is left out
        items/a.jsonl:1: warning: item `a`: unknown field `colour` is ignored
    "#]],
    );
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "t", "date": "2024-01-01", "keywords": [1, "好"], "attachments": {}}"#,
        expect![[r#"
        loaded: a
        items/a.jsonl:1: error: item `a`: `attachments` must be a list of {"name", "url"} objects; they are left out
        items/a.jsonl:1: error: item `a`: `keywords` has entries that are not text; they are left out
    "#]],
    );
}

#[test]
fn bodies_drop_html_with_a_warning() {
    check(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "t", "date": "2024-01-01", "body": "正文<br>第二行 ![图](x.png)"}"#,
        expect![[r#"
        loaded: a
        items/a.jsonl:1: warning: item `a`: body contains HTML, which is not shown (write Markdown)
        items/a.jsonl:1: warning: item `a`: body contains an image, which is not shown (only its description is kept)
    "#]],
    );
}

#[test]
fn guides_report_missing_standard_fields() {
    check(
        r#"{"id": "g", "kind": "guide", "column": "zwfw", "title": "营业执照", "guide": {"code": "1", "materials": [{"name": "申请书", "form": "原件", "copies": 1}, {"form": "复印件"}], "visits": "一次", "extra": 1}}"#,
        expect![[r#"
        loaded: g
        items/a.jsonl:1: error: item `g`: material 2 has no name (write {"name", "form", "copies", "note"}); it is left out
        items/a.jsonl:1: error: item `g`: `guide.visits` must be a whole number, not "一次"; it is left out
        items/a.jsonl:1: warning: item `g`: the service guide lacks 事项类型 (type), 办理对象 (applicants), 受理条件 (conditions), 办理流程 (steps), 法定办结时限 (time_limit_legal), 承诺办结时限 (time_limit_promised), 收费 (fee), 办理地点 (location), 办理时间 (hours), 咨询电话 (phone), 监督投诉电话 (complaint_phone), 设定依据 (basis), 网上办理 (online_url), 到现场次数 (visits)
        items/a.jsonl:1: warning: item `g`: unknown field `guide.extra` is ignored
    "#]],
    );
    check(
        r#"{"id": "n", "kind": "notice", "column": "zwfw", "title": "t", "date": "2024-01-01", "guide": {"code": "1"}}"#,
        expect![[r#"
        loaded: n
        items/a.jsonl:1: warning: item `n`: has `guide` fields but is not a guide (kind “guide”); they are ignored
    "#]],
    );
}

#[test]
fn site_toml_problems() {
    let files = |site: &'static str| -> Vec<(&'static str, &'static [u8])> {
        vec![
            ("site.toml", site.as_bytes()),
            ("columns.toml", COLUMNS.as_bytes()),
            ("items/a.jsonl", OK.as_bytes()),
        ]
    };
    check_files(&files("id = \"Bad Id\"\nname = 3\nallowed_hosts = [\"https://x.cn/a\", 5]\nbase_url = \"ftp://x\"\ncolour = 1\n"), expect![[r#"
        loaded: a
        site.toml:1: error: site id “Bad Id” may only hold lowercase letters, digits, - and _ (at most 64)
        site.toml:2: error: `name` must be text in quotes
        site.toml:3: error: an entry of `allowed_hosts` is not text; it is left out
        site.toml:3: error: “https://x.cn/a” in allowed_hosts is not a host name (write www.example.gov.cn, without https:// or a path)
        site.toml:4: error: base_url: only http and https addresses can be links, not “ftp:”
        site.toml:5: warning: unknown field `colour` in site.toml is ignored
    "#]]);
    check_files(
        &files("id = \"t\"\nname = \"n\"\n"),
        expect![[r#"
        loaded: a
        site.toml:1: warning: no `allowed_hosts`: no address in this content will become a link or a QR code
    "#]],
    );
    check_files(
        &files("id = \"t\nname = \"n\"\n"),
        expect![[r#"
        loaded: a
        site.toml:1: error: site.toml is not valid TOML: invalid basic string, expected `"`
    "#]],
    );
    check_files(
        &[
            ("columns.toml", COLUMNS.as_bytes()),
            ("items/a.jsonl", OK.as_bytes()),
        ],
        expect![[r#"
        loaded: a
        site.toml: error: site.toml is missing
    "#]],
    );
}

#[test]
fn columns_toml_problems() {
    let columns = r#"[[column]]
id = "zwfw"
name = "办事指南"

[[column]]
id = "zwfw"
name = "重复"

[[column]]
id = "child"
name = "二级"
parent = "zwfw"

[[column]]
id = "grandchild"
name = "三级"
parent = "child"

[[column]]
id = "orphan"
name = "孤儿"
parent = "nowhere"

[[column]]
id = "noname"
order = "first"
"#;
    check_files(
        &[
            ("site.toml", SITE.as_bytes()),
            ("columns.toml", columns.as_bytes()),
            ("items/a.jsonl", OK.as_bytes()),
        ],
        expect![[r#"
            loaded: a
            columns.toml:5: error: column id `zwfw` is already used at line 1; this column is skipped
            columns.toml:26: error: `order` must be a whole number
            columns.toml:24: error: column `noname` has no `name`; it is skipped
            columns.toml:14: error: column `grandchild` has parent `child`, which is itself a second-level column (columns have two levels at most); it is skipped
            columns.toml:19: error: column `orphan` has parent `nowhere`, which is not a column; it is skipped
        "#]],
    );
    check_files(
        &[
            ("site.toml", SITE.as_bytes()),
            ("items/a.jsonl", OK.as_bytes()),
        ],
        expect![[r#"
        loaded: 
        columns.toml: error: columns.toml is missing
        items/a.jsonl:1: error: item `a`: column “zwfw” is not in columns.toml; it is skipped
    "#]],
    );
}

#[test]
fn synonyms_problems() {
    check_files(
        &[
            ("site.toml", SITE.as_bytes()),
            ("columns.toml", COLUMNS.as_bytes()),
            ("items/a.jsonl", OK.as_bytes()),
            (
                "synonyms.txt",
                "# 注释\n办身份证 => 居民身份证 申领\n没有箭头\n => 空\n".as_bytes(),
            ),
        ],
        expect![[r#"
            loaded: a
            synonyms.txt:3: warning: a rule needs `=>` between the plain phrase and the official terms; this line is ignored
            synonyms.txt:4: warning: a rule needs text on both sides of `=>`; this line is ignored
        "#]],
    );
}

#[test]
fn a_source_without_items_folder_is_an_error() {
    check_files(
        &[
            ("site.toml", SITE.as_bytes()),
            ("columns.toml", COLUMNS.as_bytes()),
        ],
        expect![[r#"
        loaded: 
        items: error: there is no items/ folder, so there are no items
    "#]],
    );
}

#[test]
fn a_missing_directory_is_a_source_error() {
    let err = kiosk::source::load(std::path::Path::new("/nonexistent/kiosk-source")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "there is no content source at /nonexistent/kiosk-source"
    );
}

#[test]
fn the_documented_example_loads_cleanly() {
    // docs/content-format.md ends with a complete example: each file is named in a ```text
    // block (`example/site.toml`) followed by a block with its contents.
    let doc = std::fs::read_to_string(crate::support::repo_root().join("docs/content-format.md"))
        .unwrap();
    let blocks: Vec<&str> = doc.split("```").skip(1).step_by(2).collect();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for pair in blocks.windows(2) {
        if let Some(name) = pair[0].strip_prefix("text\nexample/") {
            let body = pair[1]
                .split_once('\n')
                .map(|(_, body)| body)
                .unwrap_or_default();
            files.push((name.trim().to_owned(), body.as_bytes().to_vec()));
        }
    }
    assert_eq!(files.len(), 3, "site.toml, columns.toml and one items file");
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let loaded = Fixture::new(&refs).load();
    expect![[r#"
        loaded: p-1, jd-1, g-1
    "#]]
    .assert_eq(&summary(&loaded));
    let guide = loaded.content.item("g-1").unwrap().guide.as_ref().unwrap();
    assert_eq!(guide.materials.len(), 2);
}
