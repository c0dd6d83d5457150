//! The `kiosk` binary as a user runs it: output, messages and exit codes.

use std::process::{Command, Output};

use crate::support::{repo_root, Fixture};

/// Runs the binary with an empty data directory of its own.
fn kiosk(args: &[&str]) -> Output {
    let data = tempfile::tempdir().unwrap();
    kiosk_in(data.path(), args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn check_passes_the_sample_hall() {
    let out = kiosk(&["check", "kiosk-data/sample"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("0 errors, 0 warnings"), "{text}");
}

#[test]
fn check_fails_on_errors_and_names_file_and_line() {
    let fixture = Fixture::with_items("{\"id\": \"a\"\n");
    let out = kiosk(&["check", fixture.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let place = format!(
        "{}:1: error:",
        fixture.path().join("items/a.jsonl").display()
    );
    assert!(text.contains(&place), "{text}");
    assert!(text.contains("1 errors, 0 warnings"), "{text}");
}

#[test]
fn check_with_only_warnings_succeeds() {
    let fixture = Fixture::with_items(
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "无日期"}"#,
    );
    let out = kiosk(&["check", fixture.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("0 errors, 1 warnings"));
}

#[test]
fn missing_source_is_exit_3_with_a_plain_message() {
    let out = kiosk(&["check", "/nonexistent/src"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "kiosk: there is no content source at /nonexistent/src\n"
    );
}

#[test]
fn columns_lists_the_tree_with_counts() {
    let fixture = Fixture::with_items(&[
        r#"{"id": "a", "kind": "notice", "column": "zwfw", "title": "一", "date": "2024-01-01"}"#,
        r#"{"id": "b", "kind": "disclosure", "column": "zcwj-gfxwj", "title": "二", "date": "2024-01-01"}"#,
        r#"{"id": "c", "kind": "disclosure", "column": "zcwj", "title": "三", "date": "2024-01-01"}"#,
    ].join("\n"));
    let out = kiosk(&["columns", "--source", fixture.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    expect_test::expect![[r#"
        测试站点
        2 first-level and 1 second-level columns, 3 items

        政策文件 (zcwj)                2
          规范性文件 (zcwj-gfxwj)      1
        办事指南 (zwfw)                1
    "#]]
    .assert_eq(&stdout(&out));
}

#[test]
fn columns_defaults_to_the_sample_hall() {
    let out = kiosk(&["columns"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out)
        .starts_with("青岚经济技术开发区管理委员会\n16 first-level and 31 second-level columns"));
}

#[test]
fn show_renders_a_guide_with_every_field() {
    let out = kiosk(&["show", "g-ent-001"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for label in [
        "事项编码",
        "事项类型",
        "办理对象",
        "法定办结时限",
        "承诺办结时限",
        "到现场次数",
        "收费",
        "办理地点",
        "办理时间",
        "咨询电话",
        "监督投诉电话",
        "网上办理",
        "【受理条件】",
        "【申请材料】",
        "【办理流程】",
        "【设定依据】",
        "【网址】",
    ] {
        assert!(text.contains(label), "{label} missing in:\n{text}");
    }
}

#[test]
fn show_renders_a_fixture_item_exactly() {
    let fixture = Fixture::with_items(
        r###"{"id": "p1", "kind": "disclosure", "column": "zcwj-gfxwj", "title": "关于印发某办法的通知", "date": "2024-03-15", "publisher": "管委会", "doc_number": "经开管规〔2024〕2号", "validity": "有效", "body": "## 第一章\n\n为了规范管理，制定本办法。\n\n| 类别 | 金额 |\n| --- | --- |\n| 一等 | 10万元 |", "attachments": [{"name": "附件1", "url": "https://evil.example.com/a.doc"}], "url": "https://www.example.gov.cn/p1.html"}
{"id": "j1", "kind": "interpretation", "column": "zcwj", "title": "解读", "date": "2024-03-16", "interprets": "p1"}"###,
    );
    let out = kiosk(&["show", "--source", fixture.path().to_str().unwrap(), "p1"]);
    expect_test::expect![[r#"
        关于印发某办法的通知
        政府信息公开 · 政策文件 / 规范性文件 · 2024-03-15
        id: p1

        【基本信息】
          发布机构      管委会
          文号          经开管规〔2024〕2号
          发布日期      2024-03-15
          有效性        有效

        【正文】
          第一章
          为了规范管理，制定本办法。
          | 类别 | 金额   |
          | ---- | ------ |
          | 一等 | 10万元 |

        【附件】
          附件1  https://evil.example.com/a.doc (not a link: the host evil.example.com is not in the site's allowed_hosts)

        【相关文件】
          政策解读：解读（j1）

        【网址】
          https://www.example.gov.cn/p1.html
    "#]]
    .assert_eq(&stdout(&out));
}

#[test]
fn show_an_unknown_item_is_exit_3() {
    let out = kiosk(&["show", "no-such-item"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("there is no item with id “no-such-item”"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_lists_the_commands_and_exit_codes() {
    let out = kiosk(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for word in [
        "Usage: kiosk",
        "run",
        "screenshot",
        "search",
        "check",
        "Exit codes:",
    ] {
        assert!(text.contains(word), "{word} missing in:\n{text}");
    }
}

#[test]
fn without_a_display_the_screen_says_so_plainly() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .current_dir(repo_root())
        .env("KIOSK_DATA_DIR", data.path())
        .env("KIOSK_CONFIG", repo_root().join("deploy/kiosk.toml"))
        .env("KIOSK_FULLSCREEN", "false")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("SLINT_BACKEND")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let message = stderr(&out);
    // What to do, in plain words, not winit's "Could not initialize backend".
    for words in [
        "kiosk: there is no display here",
        "desktop session",
        "cage",
        "SLINT_BACKEND",
        "kiosk screenshot",
    ] {
        assert!(message.contains(words), "{words} missing in: {message}");
    }
    for raw in ["backend", "panicked", "No backends"] {
        assert!(!message.contains(raw), "{raw} in: {message}");
    }
}

#[test]
fn a_bad_config_file_is_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiosk.toml");
    std::fs::write(&file, "data_dir = [").unwrap();
    let out = kiosk(&["--config", file.to_str().unwrap(), "columns"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).starts_with("kiosk: the config file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn wrong_usage_is_exit_2() {
    assert_eq!(kiosk(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(kiosk(&["check"]).status.code(), Some(2));
}

/// Runs the binary on a data directory, with the example config and none from the machine.
fn kiosk_in(data: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(args)
        .current_dir(repo_root())
        .env("KIOSK_DATA_DIR", data)
        .env("KIOSK_CONFIG", repo_root().join("deploy/kiosk.toml"))
        .env_remove("KIOSK_LOG")
        .output()
        .unwrap()
}

#[test]
fn search_prints_ranked_results_and_reuses_its_index() {
    let data = tempfile::tempdir().unwrap();
    let out = kiosk_in(data.path(), &["search", "营业执照"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(" 1. 企业设立登记（营业执照）  (g-ent-001)"),
        "{text}"
    );
    assert!(text.contains("**营业执照**"), "{text}");
    assert!(text.contains("By kind: "), "{text}");
    let out = kiosk_in(
        data.path(),
        &["search", "yyzz", "--kind", "guide", "--limit", "2"],
    );
    assert_eq!(out.status.code(), Some(0));
    let indexes = std::fs::read_dir(data.path().join("index"))
        .unwrap()
        .count();
    assert_eq!(indexes, 1, "the second search reused the index");
}

#[test]
fn search_json_and_batch_mode() {
    let data = tempfile::tempdir().unwrap();
    let out = kiosk_in(data.path(), &["search", "--json", "公积金"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["total"].as_u64().unwrap() > 0);
    let hit = &json["hits"][0];
    for key in ["id", "kind", "title", "column", "date", "score", "snippet"] {
        assert!(!hit[key].is_null(), "hit has no {key}: {hit}");
    }
    assert!(json["facets"]["kind"].is_object());

    let queries = data.path().join("queries.txt");
    std::fs::write(&queries, "营业执照\nyyzz\n\n恐龙化石\n").unwrap();
    let out = kiosk_in(
        data.path(),
        &["search", "--queries", queries.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["query"], "营业执照");
    assert_eq!(lines[1]["query"], "yyzz");
    assert_eq!(lines[2]["total"], 0);
    for line in &lines {
        for key in ["query", "total", "hits", "facets", "suggestion"] {
            assert!(line.get(key).is_some(), "no {key} in {line}");
        }
    }
}

#[test]
fn search_says_what_is_wrong() {
    let data = tempfile::tempdir().unwrap();
    let out = kiosk_in(data.path(), &["search", "--column", "nope", "补贴"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("there is no column “nope”"),
        "{}",
        stderr(&out)
    );
    let out = kiosk_in(data.path(), &["search", "，。"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with("Nothing to search for"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn search_the_real_corpus_for_talent() {
    let Some(corpus) = crate::support::shared_corpus("hebei-gov") else {
        eprintln!("../shared/corpora/hebei-gov is not here; nothing to check");
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let out = kiosk_in(
        data.path(),
        &[
            "search",
            "--source",
            corpus.to_str().unwrap(),
            "--json",
            "人才",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["total"].as_u64().unwrap() >= 10);
    let hits = json["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 10);
    assert!(
        hits[0]["title"].as_str().unwrap().contains("人才"),
        "{}",
        hits[0]
    );
    for hit in hits {
        let (title, snippet) = (
            hit["title"].as_str().unwrap(),
            hit["snippet"].as_str().unwrap(),
        );
        assert!(title.contains("人才") || snippet.contains("**"), "{hit}");
    }
    assert!(
        hits.iter()
            .filter(|h| h["snippet"].as_str().unwrap().contains("**人才"))
            .count()
            >= 5
    );
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "ranked: {scores:?}"
    );
}
