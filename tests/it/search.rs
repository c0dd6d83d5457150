//! Search through the public interface on a real index on disk: reuse, filters, sorting,
//! paging, facets, snippets, zero results, and strange input.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kiosk::content::ItemKind;
use kiosk::search::{SearchIndex, SearchRequest, SearchResults, Sort};
use proptest::prelude::*;

use crate::support::repo_root;

fn sample_dir() -> PathBuf {
    repo_root().join("kiosk-data/sample")
}

/// One index of the sample hall for the whole test binary.
fn sample() -> &'static SearchIndex {
    static INDEX: OnceLock<(tempfile::TempDir, SearchIndex)> = OnceLock::new();
    &INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let index = SearchIndex::open_or_build(&sample_dir(), dir.path()).unwrap();
            (dir, index)
        })
        .1
}

fn search(request: SearchRequest) -> SearchResults {
    sample().search(&request).unwrap()
}

fn ids(results: &SearchResults) -> Vec<&str> {
    results.hits.iter().map(|h| h.id.as_str()).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_index_is_built_once_and_reused() {
    let data = tempfile::tempdir().unwrap();
    let first = SearchIndex::open_or_build(&sample_dir(), data.path()).unwrap();
    let meta = first.dir().join("kiosk-index.json");
    let built_at = std::fs::metadata(&meta).unwrap().modified().unwrap();
    drop(first);
    let second = SearchIndex::open_or_build(&sample_dir(), data.path()).unwrap();
    assert_eq!(
        std::fs::metadata(&meta).unwrap().modified().unwrap(),
        built_at,
        "the index was rebuilt"
    );
    let folders: Vec<_> = std::fs::read_dir(data.path()).unwrap().collect();
    assert_eq!(folders.len(), 1, "no leftovers beside the index");
    assert_eq!(second.item_count(), 151);
}

#[test]
fn changed_content_gets_a_new_index_and_a_damaged_one_is_rebuilt() {
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source");
    copy_dir(&sample_dir(), &source);
    let data = work.path().join("index");
    let before = SearchIndex::open_or_build(&source, &data).unwrap();
    let old_key = before.key().to_owned();
    drop(before);

    let notices = source.join("items/extra.jsonl");
    std::fs::write(&notices, r#"{"id": "n-new", "kind": "notice", "column": "tzgg", "title": "关于元宵节灯会交通管制的通告", "date": "2026-02-20"}"#).unwrap();
    let after = SearchIndex::open_or_build(&source, &data).unwrap();
    assert_ne!(after.key(), old_key);
    assert_eq!(
        ids(&after.search(&SearchRequest::new("元宵节灯会")).unwrap()),
        ["n-new"]
    );
    let dir = after.dir().to_owned();
    drop(after);

    std::fs::write(dir.join("kiosk-index.json"), "{ not json").unwrap();
    let rebuilt = SearchIndex::open_or_build(&source, &data).unwrap();
    assert_eq!(
        ids(&rebuilt.search(&SearchRequest::new("元宵节灯会")).unwrap()),
        ["n-new"]
    );
}

#[test]
fn filters_by_kind_column_and_year() {
    let all = search(SearchRequest::new("补贴"));
    assert!(all.total > 5);
    let guides = search(SearchRequest {
        kind: Some(ItemKind::Guide),
        limit: 50,
        ..SearchRequest::new("补贴")
    });
    assert!(guides.total > 0 && guides.total < all.total);
    assert!(guides.hits.iter().all(|h| h.kind == ItemKind::Guide));

    let top = search(SearchRequest {
        column: Some("zcwj".into()),
        limit: 50,
        ..SearchRequest::new("补贴")
    });
    assert!(
        top.total > 0 && top.hits.iter().all(|h| h.column_id.starts_with("zcwj-")),
        "{:?}",
        ids(&top)
    );
    let second = search(SearchRequest {
        column: Some("zcwj-gfxwj".into()),
        limit: 50,
        ..SearchRequest::new("补贴")
    });
    assert!(second.total <= top.total && second.hits.iter().all(|h| h.column_id == "zcwj-gfxwj"));

    let year = search(SearchRequest {
        year: Some(2024),
        limit: 50,
        ..SearchRequest::new("补贴")
    });
    assert!(
        year.total > 0
            && year
                .hits
                .iter()
                .all(|h| h.date.is_some_and(|d| d.year() == 2024))
    );

    let err = sample()
        .search(&SearchRequest {
            column: Some("nope".into()),
            ..SearchRequest::new("补贴")
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "there is no column “nope”");
}

#[test]
fn facets_count_every_match_before_filters() {
    let results = search(SearchRequest {
        kind: Some(ItemKind::Guide),
        ..SearchRequest::new("补贴")
    });
    let by_kind: usize = results.facets.kinds.iter().map(|(_, n)| n).sum();
    let by_column: usize = results.facets.columns.iter().map(|(_, _, n)| n).sum();
    let unfiltered = search(SearchRequest::new("补贴"));
    assert_eq!(by_kind, unfiltered.total);
    assert_eq!(by_column, unfiltered.total);
    assert!(
        results.facets.kinds.len() > 1,
        "the chips show the other kinds too"
    );
}

#[test]
fn sorts_by_date_and_pages() {
    let by_date = search(SearchRequest {
        sort: Sort::Date,
        limit: 20,
        ..SearchRequest::new("公示")
    });
    let dates: Vec<_> = by_date.hits.iter().map(|h| h.date).collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);

    let page1 = search(SearchRequest {
        limit: 5,
        ..SearchRequest::new("申请")
    });
    let page2 = search(SearchRequest {
        limit: 5,
        offset: 5,
        ..SearchRequest::new("申请")
    });
    let both = search(SearchRequest {
        limit: 10,
        ..SearchRequest::new("申请")
    });
    assert_eq!([ids(&page1), ids(&page2)].concat(), ids(&both));
    assert_eq!(page1.total, page2.total);
}

#[test]
fn snippets_and_titles_mark_what_matched() {
    let results = search(SearchRequest::new("公积金"));
    let hit = &results.hits[0];
    assert!(
        hit.snippet.marked().contains("**公积金**")
            || hit.snippet.marked().contains("**住房公积金**"),
        "{}",
        hit.snippet.marked()
    );
    assert!(!hit.title_highlights.is_empty());
    let title: Vec<char> = hit.title.chars().collect();
    let marked: String = title[hit.title_highlights[0].clone()].iter().collect();
    assert!(marked.contains("公积金"), "{marked}");
}

#[test]
fn zero_results_offer_a_way_on() {
    let nothing = search(SearchRequest::new("恐龙化石"));
    assert_eq!(nothing.total, 0);
    assert!(!nothing.popular.is_empty());

    // Some words match: the results say they are partial.
    let partial = search(SearchRequest::new("量子纠缠通信"));
    assert!(partial.total > 0 && partial.relaxed);

    // A misheard character: found through the correction, and the correction is said.
    let misheard = search(SearchRequest::new("公基金提取"));
    assert!(misheard.total > 0);
    assert_eq!(misheard.searched_as.as_deref(), Some("公积金提取"));
}

#[test]
fn words_found_in_two_characters_and_document_numbers() {
    assert!(search(SearchRequest::new("低保")).total > 0);
    let number = search(SearchRequest::new("经开管发〔2024〕3号"));
    assert_eq!(number.hits[0].id, "p-001");
    assert_eq!(
        search(SearchRequest::new("经开管发[2024]3号")).hits[0].id,
        "p-001"
    );
}

#[test]
fn pinyin_and_initials_find_chinese_words() {
    let vocabulary = sample().vocabulary();
    assert_eq!(vocabulary.suggest("yyzz", 3)[0], "营业执照");
    assert!(
        !vocabulary.suggest("y", 5).is_empty(),
        "first keystroke suggestions are precomputed"
    );
    assert!(vocabulary
        .suggest("营业", 5)
        .iter()
        .any(|w| w == "营业执照"));
    for query in [
        "yingyezhizhao",
        "ying ye zhi zhao",
        "yyzz",
        "营业zz",
        "yingyezhizao",
    ] {
        let results = search(SearchRequest::new(query));
        assert!(
            results
                .hits
                .iter()
                .take(3)
                .any(|h| h.title.contains("营业执照")),
            "{query}: {:?}",
            ids(&results)
        );
    }
}

#[test]
fn empty_and_punctuation_queries_find_nothing_cleanly() {
    for query in ["", "   ", "，。！？", "🙂🙂", "\u{0}\u{7}"] {
        let results = search(SearchRequest::new(query));
        assert!(results.blank, "{query:?}");
        assert_eq!(results.total, 0, "{query:?}");
        assert!(results.hits.is_empty());
    }
    let long = "营业执照".repeat(2500);
    let results = search(SearchRequest::new(long));
    assert!(results.shortened);
    assert!(results.total > 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_query_gets_a_clean_answer(query in "\\PC{0,40}") {
        let results = sample().search(&SearchRequest::new(query)).unwrap();
        prop_assert!(results.hits.len() <= 10);
    }

    #[test]
    fn any_mix_of_letters_and_chinese_gets_a_clean_answer(
        parts in prop::collection::vec(prop::sample::select(vec![
            "ying", "ye", "zz", "y", "营业", "执", "公积金", " ", "2024", "〔", "号", "x", "v", "'", "ü", "Ａ",
        ]), 0..12),
        kind in prop::option::of(prop::sample::select(ItemKind::ALL.to_vec())),
        sort in prop::sample::select(vec![Sort::Relevance, Sort::Date]),
        offset in 0usize..30,
    ) {
        let request = SearchRequest { kind, sort, offset, ..SearchRequest::new(parts.concat()) };
        let results = sample().search(&request).unwrap();
        if let Some(kind) = kind {
            prop_assert!(results.hits.iter().all(|h| h.kind == kind));
        }
    }
}

#[test]
fn a_huge_query_of_any_characters_is_answered() {
    let query: String = (0..10_000u32)
        .map(|i| char::from_u32(0x4E00 + (i * 7919) % 20_000).unwrap_or('x'))
        .collect();
    let results = search(SearchRequest::new(query));
    assert!(results.shortened);
}

#[test]
fn first_keystrokes_are_answered_as_a_live_search_would() {
    // One character or letter is answered from results computed when the index was built;
    // asking for more than those hold runs the search live: the two must agree.
    for key in ["营", "公", "社", "y", "g"] {
        let stored = search(SearchRequest {
            limit: 5,
            ..SearchRequest::new(key)
        });
        let live = search(SearchRequest {
            limit: 50,
            ..SearchRequest::new(key)
        });
        assert!(stored.total > 0, "{key}");
        assert_eq!(stored.total, live.total, "{key}");
        assert_eq!(stored.facets, live.facets, "{key}");
        let live_ids: Vec<&str> = live.hits.iter().take(5).map(|h| h.id.as_str()).collect();
        assert_eq!(ids(&stored), live_ids, "{key}");
    }
}
