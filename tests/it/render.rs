//! Hostile content through the real screen: generated items (long runs in every field, huge
//! and wide tables, bodies at the size limit, deep nesting, many attachments, characters that
//! are not text) are opened page by page on the real screen, drawn by Slint's software renderer
//! in a `kiosk bench soak` process, in landscape, portrait and elder mode. No page may panic the
//! process, fail to show, hand Slint more than a page's blocks, or take the memory of a 2 GB
//! terminal.

use proptest::prelude::*;

use kiosk::bench::hostile;

use crate::support::{Fixture, COLUMNS, SITE};

/// The soak's figures, as `kiosk bench soak --json` prints them.
#[derive(Debug, serde::Deserialize)]
struct Figures {
    items: usize,
    pages: usize,
    failures: Vec<String>,
    most_blocks: usize,
    peak_rss_kib: u64,
}

fn soak(items: &[(usize, usize, u64)], size: &str, elder: bool) -> (Figures, String) {
    let mut lines = String::new();
    for (n, (kind, scale, seed)) in items.iter().enumerate() {
        let mut rng = kiosk::bench::corpus::Rng::new(*seed);
        let item = hostile::item(*kind, *scale, &format!("h-{n}"), "zcwj", &mut rng);
        lines.push_str(&format!("{item}\n"));
    }
    let source = Fixture::new(&[
        ("site.toml", SITE.as_bytes()),
        ("columns.toml", COLUMNS.as_bytes()),
        ("items/hostile.jsonl", lines.as_bytes()),
    ]);
    let loaded = source.load();
    assert_eq!(
        loaded.errors(),
        0,
        "the generated content is content a terminal takes: {:?}",
        loaded.problems.first()
    );
    let mut args = vec![
        "bench",
        "soak",
        "--json",
        "--ends-only",
        "--size",
        size,
        "--source",
    ];
    let path = source.path().to_str().unwrap().to_owned();
    args.push(&path);
    if elder {
        args.push("--elder");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(&args)
        .env("KIOSK_CONFIG", "/dev/null")
        .env_remove("KIOSK_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "a page panicked the screen ({size}, elder {elder}): {stderr}"
    );
    assert!(
        out.status.success(),
        "the soak failed ({size}, elder {elder}): {stderr}"
    );
    let figures: Figures =
        serde_json::from_slice(&out.stdout).expect("the soak prints its figures");
    (figures, stderr)
}

fn check(items: &[(usize, usize, u64)], size: &str, elder: bool) {
    let (figures, _) = soak(items, size, elder);
    assert_eq!(figures.items, items.len());
    assert!(figures.pages >= items.len());
    assert!(
        figures.failures.is_empty(),
        "not shown: {:?}",
        figures.failures
    );
    assert!(
        figures.most_blocks <= kiosk::fit::PAGE_BLOCKS,
        "{figures:?}"
    );
    // A 2 GB terminal holds this with room for the system and an install beside it.
    assert!(figures.peak_rss_kib < 768 * 1024, "{figures:?}");
}

#[test]
fn every_kind_of_hostile_item_at_its_limits_shows_in_every_orientation() {
    let items: Vec<(usize, usize, u64)> = (0..hostile::KINDS)
        .map(|kind| (kind, 100, kind as u64))
        .collect();
    for (size, elder) in [("1920x1080", false), ("1080x1920", true)] {
        check(&items, size, elder);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, max_shrink_iters: 8, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_hostile_items_never_break_a_page(
        items in prop::collection::vec((0..hostile::KINDS, 1..=100usize, any::<u64>()), 3..7),
        screen in 0..3usize,
    ) {
        let (size, elder) = [("1280x800", false), ("800x1280", true), ("3840x2160", false)][screen];
        check(&items, size, elder);
    }
}
