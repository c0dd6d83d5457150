//! The relevance suite: queries a visitor would type against the sample hall, each with the item
//! that must come first (or in the top 3). Prints success@1 and success@3, overall and by kind
//! of query, and fails below the floors set here.

use std::collections::BTreeMap;

use kiosk::search::{SearchIndex, SearchRequest};

use crate::support::repo_root;

/// The floors: set honestly from what the engine achieves, so that a regression fails.
const FLOOR_AT_1: f64 = 0.85;
const FLOOR_AT_3: f64 = 0.97;
/// Share of cases that must meet their own bar (first, or in the top 3).
const FLOOR_MEETING_BAR: f64 = 0.97;
/// Every kind of query must have at least this many passing cases.
const MIN_PASSING_PER_CATEGORY: usize = 6;

struct Case {
    category: String,
    query: String,
    expected: String,
    top: usize,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(repo_root().join("tests/relevance/queries.tsv")).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 4, "bad line in queries.tsv: {line}");
            Case {
                category: fields[0].to_owned(),
                query: fields[1].to_owned(),
                expected: fields[2].to_owned(),
                top: fields[3].trim().parse().unwrap(),
            }
        })
        .collect()
}

#[test]
fn relevance_suite_meets_its_floors() {
    let data = tempfile::tempdir().unwrap();
    let index =
        SearchIndex::open_or_build(&repo_root().join("kiosk-data/sample"), data.path()).unwrap();
    let cases = cases();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    // category → (cases, passed at 1, passed at 3, passed its own bar)
    let mut by_category: BTreeMap<String, (usize, usize, usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        assert!(index.search(&SearchRequest::new(&case.expected)).is_ok());
        let results = index
            .search(&SearchRequest {
                limit: 3,
                ..SearchRequest::new(&case.query)
            })
            .unwrap();
        let rank = results
            .hits
            .iter()
            .position(|hit| hit.id == case.expected)
            .map(|r| r + 1);
        let entry = by_category.entry(case.category.clone()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(rank == Some(1));
        entry.2 += usize::from(rank.is_some());
        let passed = rank.is_some_and(|r| r <= case.top);
        entry.3 += usize::from(passed);
        if !passed {
            let got: Vec<String> = results
                .hits
                .iter()
                .map(|h| format!("{} {}", h.id, h.title))
                .collect();
            failures.push(format!(
                "[{}] {} → want {} in top {}, got rank {:?}: {}",
                case.category,
                case.query,
                case.expected,
                case.top,
                rank,
                got.join(" | ")
            ));
        }
    }
    let (n, at1, at3, passed) = by_category.values().fold((0, 0, 0, 0), |acc, v| {
        (acc.0 + v.0, acc.1 + v.1, acc.2 + v.2, acc.3 + v.3)
    });
    println!("relevance suite: {n} cases, success@1 {:.3}, success@3 {:.3}, meeting their bar {passed}/{n}",
        at1 as f64 / n as f64, at3 as f64 / n as f64);
    for (category, (cases, at1, at3, passed)) in &by_category {
        println!("  {category:<11} {cases:>3} cases  @1 {at1:>3}  @3 {at3:>3}  passed {passed:>3}");
    }
    for failure in &failures {
        println!("  FAIL {failure}");
    }
    let s1 = at1 as f64 / n as f64;
    let s3 = at3 as f64 / n as f64;
    assert!(
        s1 >= FLOOR_AT_1,
        "success@1 {s1:.3} is below the floor {FLOOR_AT_1}"
    );
    assert!(
        s3 >= FLOOR_AT_3,
        "success@3 {s3:.3} is below the floor {FLOOR_AT_3}"
    );
    let meeting = passed as f64 / n as f64;
    assert!(
        meeting >= FLOOR_MEETING_BAR,
        "{meeting:.3} of the cases meet their bar, below {FLOOR_MEETING_BAR}"
    );
    for (category, (_, _, _, passed)) in &by_category {
        assert!(
            *passed >= MIN_PASSING_PER_CATEGORY,
            "only {passed} {category} cases pass"
        );
    }
}
