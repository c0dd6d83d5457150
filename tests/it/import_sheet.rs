//! `kiosk import sheet`: the guide spreadsheet of tests/fixtures/guides (an xlsx export with
//! materials on a second sheet, a UTF-8 CSV and a GBK CSV) imported field by field against its
//! truth; bad rows reported with their sheet and row; `kiosk check` accepts what it writes.

use std::path::PathBuf;

use kiosk::import::sheet::{GuideItem, Mapping};

fn fixture(name: &str) -> PathBuf {
    crate::support::repo_root()
        .join("tests/fixtures/guides")
        .join(name)
}

fn truth() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixture("truth.json")).unwrap()).unwrap()
}

fn text(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or("").to_owned()
}

fn texts(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default()
}

/// Imports `file` and compares every guide with the truth's, field by field.
fn check(file: &str, expected: &[serde_json::Value]) -> kiosk::import::SheetReport {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("hall");
    let report = kiosk::import::import_sheet(&src, &fixture(file), &Mapping::default()).unwrap();
    let loaded = kiosk::source::load(&src).unwrap();
    assert_eq!(loaded.errors(), 0, "{}", crate::support::summary(&loaded));
    let items: Vec<GuideItem> = std::fs::read_to_string(src.join("items/guides.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len(), expected.len(), "{file}");
    let mut wrong = Vec::new();
    let mut fields = 0;
    for t in expected {
        let code = text(&t["code"]);
        let Some(item) = items.iter().find(|i| i.guide.code == code) else {
            wrong.push(format!("{code}: not imported"));
            continue;
        };
        let g = &item.guide;
        let materials: Vec<(String, String, Option<u64>, String)> = t["materials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    text(&m["name"]),
                    text(&m["form"]),
                    m["copies"].as_u64(),
                    text(&m["note"]),
                )
            })
            .collect();
        let got_materials: Vec<(String, String, Option<u64>, String)> = g
            .materials
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    m.form.clone(),
                    m.copies.map(u64::from),
                    m.note.clone(),
                )
            })
            .collect();
        let checks: Vec<(&str, bool, String)> = vec![
            ("title", item.title == text(&t["name"]), item.title.clone()),
            ("type", g.kind == text(&t["type"]), g.kind.clone()),
            (
                "publisher",
                item.publisher == text(&t["publisher"]),
                item.publisher.clone(),
            ),
            (
                "applicants",
                g.applicants == text(&t["applicants"]),
                g.applicants.clone(),
            ),
            (
                "conditions",
                g.conditions == texts(&t["conditions"]),
                format!("{:?}", g.conditions),
            ),
            (
                "steps",
                g.steps == texts(&t["steps"]),
                format!("{:?}", g.steps),
            ),
            (
                "materials",
                got_materials == materials,
                format!("{got_materials:?}"),
            ),
            (
                "time_limit_legal",
                g.time_limit_legal == text(&t["time_limit_legal"]),
                g.time_limit_legal.clone(),
            ),
            (
                "time_limit_promised",
                g.time_limit_promised == text(&t["time_limit_promised"]),
                g.time_limit_promised.clone(),
            ),
            ("fee", g.fee == text(&t["fee"]), g.fee.clone()),
            (
                "location",
                g.location == text(&t["location"]),
                g.location.clone(),
            ),
            ("hours", g.hours == text(&t["hours"]), g.hours.clone()),
            ("phone", g.phone == text(&t["phone"]), g.phone.clone()),
            (
                "complaint_phone",
                g.complaint_phone == text(&t["complaint_phone"]),
                g.complaint_phone.clone(),
            ),
            (
                "basis",
                g.basis == texts(&t["basis"]),
                format!("{:?}", g.basis),
            ),
            (
                "online_url",
                g.online_url == text(&t["online_url"]),
                g.online_url.clone(),
            ),
            (
                "updated",
                item.date == text(&t["updated"]),
                item.date.clone(),
            ),
        ];
        for (field, ok, got) in checks {
            fields += 1;
            if !ok {
                wrong.push(format!("{code} {field}: got {got}"));
            }
        }
    }
    println!(
        "{file}: {} guides, {fields} fields, {} wrong",
        expected.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "{file}:\n{}", wrong.join("\n"));
    report
}

#[test]
fn every_field_of_the_xlsx_export_lands_in_its_place_and_bad_rows_are_reported() {
    let truth = truth();
    let report = check("guides.xlsx", truth["guides"].as_array().unwrap());
    let reported: Vec<(String, u64)> = report
        .problems
        .iter()
        .map(|p| (p.sheet.clone(), p.row as u64))
        .collect();
    let expected: Vec<(String, u64)> = truth["bad_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (text(&b["sheet"]), b["row"].as_u64().unwrap()))
        .collect();
    assert_eq!(reported, expected, "{report:?}");
    for silent in truth["skipped_silently"].as_array().unwrap() {
        assert!(!report
            .problems
            .iter()
            .any(|p| p.row as u64 == silent["row"].as_u64().unwrap()
                && p.sheet == text(&silent["sheet"])));
    }
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.row == 35 && p.reason.contains("row 13")),
        "{report:?}"
    );
}

#[test]
fn csv_files_in_utf8_and_gbk_import_alike() {
    let truth = truth();
    check("guides.csv", truth["csv"]["guides"].as_array().unwrap());
    check(
        "guides-gbk.csv",
        truth["csv_gbk"]["guides"].as_array().unwrap(),
    );
}

#[test]
fn a_second_import_changes_nothing_and_a_changed_sheet_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("hall");
    let first =
        kiosk::import::import_sheet(&src, &fixture("guides.xlsx"), &Mapping::default()).unwrap();
    assert_eq!(first.added.len(), 44);
    let again =
        kiosk::import::import_sheet(&src, &fixture("guides.xlsx"), &Mapping::default()).unwrap();
    assert!(!again.wrote);
    assert_eq!(again.unchanged, 44);
    // The CSV holds 12 of the guides: the rest are removed, none changed.
    let csv =
        kiosk::import::import_sheet(&src, &fixture("guides.csv"), &Mapping::default()).unwrap();
    assert_eq!(
        (csv.unchanged + csv.changed.len(), csv.removed.len()),
        (12, 32),
        "{csv:?}"
    );
}

#[test]
fn a_mapping_names_other_headers_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("g.csv"),
        "项目名称,编号,地点\n老年人优待证办理,X001,社区服务中心\n",
    )
    .unwrap();
    let mapping: Mapping = toml::from_str(
        "column = \"办事指南/老年人服务\"\n[guides.headers]\n\"项目名称\" = \"title\"\n\"编号\" = \"code\"\n\"地点\" = \"location\"\n",
    )
    .unwrap();
    let src = dir.path().join("hall");
    let report = kiosk::import::import_sheet(&src, &dir.path().join("g.csv"), &mapping).unwrap();
    assert_eq!(report.items, 1, "{report:?}");
    let loaded = kiosk::source::load(&src).unwrap();
    let item = loaded.content.item("g-x001").unwrap();
    assert_eq!(
        loaded.content.columns.get(&item.column).unwrap().name,
        "老年人服务"
    );
}
