//! The real, dirty public corpus in ../shared/corpora/hebei-gov (skipped cleanly when absent).

use crate::support::shared_corpus;

#[test]
fn hebei_corpus_loads_every_valid_item_and_places_its_flaws() {
    let Some(dir) = shared_corpus("hebei-gov") else {
        eprintln!("../shared/corpora/hebei-gov is not here; nothing to check");
        return;
    };
    let loaded = kiosk::source::load(&dir).unwrap();
    // Every line of the corpus is a well-formed item: all 1,752 load.
    assert_eq!(loaded.lines_read, 1752);
    assert_eq!(loaded.content.items.len(), 1752);
    assert_eq!(loaded.content.columns.all().len(), 34);

    let on_line = |needle: &str| -> Vec<&kiosk::source::Problem> {
        loaded
            .problems
            .iter()
            .filter(|p| p.message.contains(needle))
            .collect()
    };
    let undated = on_line("has no date");
    assert_eq!(undated.len(), 204, "every item without a date is reported");
    assert!(undated
        .iter()
        .all(|p| p.file == "items/items.jsonl" && p.line.is_some()));

    let run_together = on_line("two addresses are run together");
    assert!(
        run_together.len() >= 40,
        "run-together attachment URLs: {}",
        run_together.len()
    );
    assert!(run_together.iter().all(|p| p.line.is_some()));

    // Not one refused address became a link.
    for item in &loaded.content.items {
        for link in item
            .url
            .iter()
            .chain(item.attachments.iter().map(|a| &a.link))
        {
            if let Some(href) = link.href() {
                let host = url::Url::parse(href)
                    .unwrap()
                    .host_str()
                    .unwrap()
                    .to_owned();
                assert!(loaded.content.site.allowed_hosts.contains(&host), "{href}");
                assert!(!href[8..].contains("http"), "{href}");
            }
        }
    }
}
