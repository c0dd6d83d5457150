//! How visitors really ask, on a small content source of its own: words that stand apart in a
//! title, pairs of characters that straddle two words, question frames, the built-in thesaurus,
//! loose pinyin and place names read right. One behaviour a test.

use std::sync::OnceLock;

use kiosk::search::{SearchIndex, SearchRequest, SearchResults};

/// Items written for these tests, each a different subject.
const ITEMS: &[(&str, &str, &str)] = &[
    (
        "gjj",
        "住房公积金的提取",
        "职工购买、建造、翻建、大修自住住房的，可以申请提取住房公积金账户内的存储余额。",
    ),
    (
        "ylzy",
        "养老保险关系转移接续办理指南",
        "参保人员跨统筹地区流动就业的，其基本养老保险关系随同转移。",
    ),
    (
        "shly",
        "社会领域信用体系建设方案",
        "推进教育、医疗、养老等社会领域信用记录建设。",
    ),
    (
        "jzz",
        "居住证申领",
        "在居住地居住半年以上的，可以申领居住证。需提交居民身份证、住所证明。",
    ),
    (
        "gljt",
        "高龄津贴发放办法",
        "年满八十周岁的本地户籍老年人，按月发放高龄津贴。",
    ),
    (
        "fp",
        "发票领用与代开",
        "纳税人可在电子税务局申请代开增值税普通发票。",
    ),
    (
        "bdc",
        "不动产权证书补发",
        "不动产权证书遗失、灭失的，权利人可以申请补发。",
    ),
    (
        "yyzz",
        "营业执照变更登记",
        "企业变更名称、住所、经营范围的，应当申请变更登记。",
    ),
    (
        "bb",
        "蚌埠市人才公寓申请",
        "在蚌埠市工作的高层次人才可以申请人才公寓。",
    ),
    (
        "la",
        "六安市创业担保贷款",
        "在六安市创业的个人可以申请创业担保贷款。",
    ),
    (
        "yq",
        "乐清市义务教育入学",
        "适龄儿童在乐清市接受义务教育，按学区入学。",
    ),
    (
        "py",
        "番禺区垃圾分类指引",
        "番禺区居民应当按照分类标准投放生活垃圾。",
    ),
    (
        "zx",
        "噪声污染投诉处理",
        "夜间施工噪声扰民的，可以拨打12345投诉。",
    ),
    (
        "zzfh",
        "高新技术企业资质复核实施细则",
        "已认定的高新技术企业应当按期接受资质复核。",
    ),
    (
        "jsxj",
        "技术先进型服务企业认定管理办法",
        "从事技术外包服务的企业可以申请认定。",
    ),
];

fn index() -> &'static SearchIndex {
    static INDEX: OnceLock<(tempfile::TempDir, SearchIndex)> = OnceLock::new();
    &INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let source = dir.path().join("source");
            std::fs::create_dir_all(source.join("items")).unwrap();
            std::fs::write(
                source.join("site.toml"),
                "id = \"t\"\nname = \"测试区人民政府\"\nallowed_hosts = [\"www.example.gov.cn\"]\n",
            )
            .unwrap();
            std::fs::write(
                source.join("columns.toml"),
                "[[column]]\nid = \"bszn\"\nname = \"办事指南\"\norder = 1\n",
            )
            .unwrap();
            let lines: Vec<String> = ITEMS
                .iter()
                .map(|(id, title, body)| {
                    serde_json::json!({
                        "id": id, "kind": "guide", "column": "bszn", "title": title,
                        "body": body, "date": "2026-01-05",
                    })
                    .to_string()
                })
                .collect();
            std::fs::write(source.join("items/items.jsonl"), lines.join("\n")).unwrap();
            let index = SearchIndex::open_or_build(&source, &dir.path().join("index")).unwrap();
            (dir, index)
        })
        .1
}

fn search(query: &str) -> SearchResults {
    index().search(&SearchRequest::new(query)).unwrap()
}

/// The query (as a visitor finishes it, with a space) finds `expected` first.
fn check(query: &str, expected: &str) {
    let results = search(&format!("{query} "));
    let ids: Vec<&str> = results.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids.first(), Some(&expected), "{query}: {ids:?}");
}

#[test]
fn the_words_of_a_query_may_stand_apart_in_the_title() {
    check("公积金提取", "gjj");
    check("养老保险转移", "ylzy");
    check("营业执照变更", "yyzz");
}

#[test]
fn a_pair_of_characters_across_two_words_is_not_the_visitors_word() {
    // 会领 stands in 社会领域 only as the end of one word and the start of the next.
    let results = search("养老金会领吗 ");
    assert!(
        results.hits.iter().all(|h| h.id != "shly"),
        "{:?}",
        results.hits
    );
    check("社会领域", "shly");
}

#[test]
fn question_frames_do_not_decide_what_matches() {
    check("请问公积金能不能提取", "gjj");
    check("我想问一下居住证在哪里办", "jzz");
    check("营业执照要不要变更登记呢", "yyzz");
    check("晚上工地施工噪声扰民怎么办", "zx");
}

#[test]
fn plain_words_find_the_official_terms() {
    for (query, expected) in [
        ("暂住证", "jzz"),
        ("老人补贴", "gljt"),
        ("开发票", "fp"),
        ("房本丢了", "bdc"),
        ("噪音扰民", "zx"),
    ] {
        check(query, expected);
        let results = search(&format!("{query} "));
        assert!(results.searched_as.is_some(), "{query}: nothing said");
    }
    // Words as the pages say them are not rewritten.
    assert_eq!(search("居住证 ").searched_as, None);
}

#[test]
fn pinyin_with_swapped_letters_and_place_names_read_right() {
    check("bengbu", "bb");
    check("luan chuangye", "la");
    check("yueqing", "yq");
    check("panyu", "py");
    check("gongjjiin tiqu", "gjj");
    check("juzhuzehng", "jzz");
}

#[test]
fn initials_name_the_thing_inside_longer_words_of_a_title() {
    // 资质复核 is the end of 企业资质 and the next word; 技术先进型 ends in a one-character word.
    check("zzfh", "zzfh");
    check("jsxjx", "jsxj");
}

#[test]
fn explain_says_how_the_query_was_understood() {
    let explained = index()
        .explain(&SearchRequest::new("暂住证怎么办"))
        .unwrap();
    assert_eq!(explained.plan.dropped, ["怎么办"]);
    assert_eq!(explained.plan.expansions[0].phrase, "暂住证");
    assert_eq!(explained.plan.expansions[0].terms[0], "居住证");
    assert_eq!(explained.hits[0].id, "jzz");
    let text = kiosk::text::render_explanation(&explained);
    assert!(text.contains("Words dropped: 怎么办"), "{text}");
    assert!(text.contains("暂住证 → 居住证"), "{text}");
    assert!(text.contains("居住证 in title"), "{text}");
    assert!(text.contains("已为您查找“居住证”"), "{text}");
}
