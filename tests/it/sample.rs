//! The built-in sample hall: clean, complete, and as rich as the content issue asks.

use std::collections::HashSet;

use kiosk::content::{Content, ItemKind};
use kiosk::source::Loaded;

use crate::support::repo_root;

fn sample() -> Loaded {
    kiosk::source::load(&repo_root().join("kiosk-data/sample")).unwrap()
}

fn titled<'a>(content: &'a Content, needle: &str) -> Vec<&'a kiosk::content::Item> {
    content
        .items
        .iter()
        .filter(|item| item.title.contains(needle))
        .collect()
}

#[test]
fn sample_loads_without_errors_or_warnings() {
    let loaded = sample();
    let problems: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(loaded.lines_read, loaded.content.items.len());
}

#[test]
fn sample_has_16_first_and_31_second_level_columns_all_used() {
    let content = sample().content;
    let tree = &content.columns;
    assert_eq!(tree.top_level().count(), 16);
    assert_eq!(tree.all().len() - 16, 31);
    for column in tree.all() {
        assert!(
            content.count_in(&column.id) > 0,
            "column {} ({}) is empty",
            column.name,
            column.id
        );
    }
    for name in [
        "机构职能",
        "政策文件",
        "政策解读",
        "规划计划",
        "财政资金",
        "人事信息",
        "统计数据",
        "重大建设项目",
        "公共资源配置",
        "社会公益事业",
        "依申请公开",
        "政府信息公开年报",
        "专题专栏",
    ] {
        assert!(
            tree.top_level().any(|c| c.name == name),
            "no first-level column {name}"
        );
    }
    assert!(tree.all().iter().any(|c| c.name == "环保督察整改"));
}

#[test]
fn sample_has_at_least_150_items_of_every_kind() {
    let content = sample().content;
    assert!(content.items.len() >= 150, "{} items", content.items.len());
    for kind in ItemKind::ALL {
        assert!(
            content.items.iter().any(|item| item.kind == kind),
            "no {kind:?}"
        );
    }
    for item in &content.items {
        assert!(
            item.kind == ItemKind::Guide || item.date.is_some(),
            "{} has no date",
            item.id
        );
        assert!(!item.body.is_empty(), "{} has no body", item.id);
        assert!(!item.keywords.is_empty(), "{} has no keywords", item.id);
        assert!(
            item.url.as_ref().and_then(|u| u.href()).is_some(),
            "{} has no allowed url",
            item.id
        );
    }
}

#[test]
fn sample_has_40_complete_service_guides() {
    let content = sample().content;
    let guides: Vec<_> = content
        .items
        .iter()
        .filter(|item| item.kind == ItemKind::Guide)
        .collect();
    assert!(guides.len() >= 40, "{} guides", guides.len());
    let mut codes = HashSet::new();
    for item in &guides {
        let g = item
            .guide
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no guide fields", item.id));
        let filled = [
            g.code.is_some(),
            g.item_type.is_some(),
            g.applicants.is_some(),
            !g.conditions.is_empty(),
            !g.materials.is_empty(),
            !g.steps.is_empty(),
            g.time_limit_legal.is_some(),
            g.time_limit_promised.is_some(),
            g.fee.is_some(),
            g.location.is_some(),
            g.hours.is_some(),
            g.phone.is_some(),
            g.complaint_phone.is_some(),
            !g.basis.is_empty(),
            g.online_url.as_ref().and_then(|u| u.href()).is_some(),
            g.visits.is_some(),
        ];
        assert!(filled.iter().all(|f| *f), "{} lacks a guide field", item.id);
        assert!(
            g.materials
                .iter()
                .all(|m| m.form.is_some() && m.copies.is_some()),
            "{}",
            item.id
        );
        assert!(
            codes.insert(g.code.clone().unwrap()),
            "{}: duplicate 事项编码",
            item.id
        );
    }
    for name in [
        "营业执照",
        "食品经营许可",
        "建设工程施工许可",
        "居住证",
        "社会保障卡",
        "公积金",
        "残疾人证",
    ] {
        assert!(!titled(&content, name).is_empty(), "no guide for {name}");
    }
}

#[test]
fn sample_policies_each_have_an_interpretation() {
    let content = sample().content;
    let policies: Vec<_> = content
        .items
        .iter()
        .filter(|item| item.kind == ItemKind::Disclosure && item.column.starts_with("zcwj"))
        .collect();
    assert!(policies.len() >= 20, "{} policies", policies.len());
    for policy in &policies {
        assert!(policy.doc_number.is_some(), "{} has no 文号", policy.id);
        assert!(
            content.interpretations_of(&policy.id).next().is_some(),
            "{} has no interpretation",
            policy.id
        );
    }
    assert!(content
        .items
        .iter()
        .any(|item| item.doc_number.as_deref() == Some("经开管发〔2024〕3号")));
}

#[test]
fn sample_has_the_disclosure_application_guide_complaints_and_annual_report() {
    let content = sample().content;
    let ysq = content.items_in("ysqgk");
    let guide = ysq
        .iter()
        .find(|item| item.title.contains("申请指南"))
        .expect("a 依申请公开 guide");
    let text = guide.body.plain_text();
    for needed in ["20个工作日", "https://www.qljkq.gov.cn/ysqgk/sqb.html"] {
        assert!(
            text.contains(needed),
            "the 依申请公开 guide does not mention {needed}"
        );
    }
    assert!(!content.items_in("hdjl-zxts").is_empty());
    assert!(content
        .items_in("hdjl-zxts")
        .iter()
        .any(|item| item.body.plain_text().contains("12345")));
    assert!(content
        .items_in("ndbg")
        .iter()
        .any(|item| item.title.contains("年度报告")));
}

#[test]
fn sample_synonyms_point_at_words_in_the_content() {
    let content = sample().content;
    assert!(
        content.synonyms.len() >= 40,
        "{} synonym rules",
        content.synonyms.len()
    );
    let vocabulary: String = content
        .items
        .iter()
        .map(|item| format!("{} {}\n", item.title, item.keywords.join(" ")))
        .collect();
    for rule in &content.synonyms {
        for term in &rule.terms {
            assert!(
                vocabulary.contains(term.as_str()),
                "synonym target “{term}” ({}) is in no title or keyword",
                rule.phrase
            );
        }
    }
}
