//! Screenshots of every screen, rendered by the real `kiosk screenshot` with the software
//! renderer, checked by their pixels: the right size, nothing pushed off the right edge,
//! Chinese actually drawn; and the embedded font covers every character the screen can show.

use std::collections::BTreeSet;

use image::{Rgba, RgbaImage};

use crate::support::{repo_root, screenshot};

/// Renders a screen and loads the PNG.
fn shot(page: &str, size: &str, extra: &[&str]) -> RgbaImage {
    screenshot(page, size, extra).to_rgba8()
}

fn close(a: Rgba<u8>, b: Rgba<u8>) -> bool {
    a.0.iter().zip(b.0).take(3).all(|(x, y)| x.abs_diff(y) <= 6)
}

/// Pixels of a rectangle that differ from `background`: the ink of whatever is drawn there.
fn ink(
    image: &RgbaImage,
    x: std::ops::Range<u32>,
    y: std::ops::Range<u32>,
    background: Rgba<u8>,
) -> usize {
    y.flat_map(|y| x.clone().map(move |x| (x, y)))
        .filter(|&(x, y)| !close(*image.get_pixel(x, y), background))
        .count()
}

/// The header: its colour, its height (the first row of another colour, down its left edge).
fn header(image: &RgbaImage) -> (Rgba<u8>, u32) {
    let colour = *image.get_pixel(2, 2);
    let height = (0..image.height())
        .find(|&y| !close(*image.get_pixel(2, y), colour))
        .unwrap();
    (colour, height)
}

/// Checks one screenshot: its size, Chinese drawn in the header, nothing at the right edge.
fn check(page: &str, size: &str, extra: &[&str]) {
    let (w, h) = size
        .split_once('x')
        .map(|(w, h)| (w.parse().unwrap(), h.parse().unwrap()))
        .unwrap();
    let image = shot(page, size, extra);
    assert_eq!((image.width(), image.height()), (w, h), "{page} {size}");
    let (blue, header_height) = header(&image);
    assert!(
        header_height > 40 && header_height < h / 5,
        "{page} {size}: header {header_height} px"
    );
    // The hall's name is drawn (white on blue) in the header's left half: Chinese glyphs, not
    // an empty bar (which is what a missing CJK font gives).
    let drawn = ink(&image, 0..w / 2, 0..header_height, blue);
    assert!(
        drawn > 2_000,
        "{page} {size} {extra:?}: only {drawn} pixels of text in the header"
    );
    // Nothing runs off the right edge: the last columns are plain, in the header and below.
    let edge = w - 3..w;
    assert_eq!(
        ink(&image, edge.clone(), 0..header_height, blue),
        0,
        "{page} {size} {extra:?}: the header is cut off"
    );
    let background = *image.get_pixel(w - 1, header_height + 4);
    let body = header_height + 4..h;
    let clipped = (header_height + 4..h)
        .filter(|&y| !close(*image.get_pixel(w - 1, y), background))
        .count();
    let keyboard = extra.contains(&"--keyboard");
    assert!(
        keyboard || clipped == 0,
        "{page} {size} {extra:?}: {clipped} rows touch the right edge ({body:?})"
    );
}

#[test]
fn every_screen_renders_in_landscape_and_portrait() {
    for page in [
        "home",
        "search:营业执照",
        "item:g-ent-001",
        "item:p-001",
        "column:zwfw",
    ] {
        check(page, "1920x1080", &[]);
        check(page, "1080x1920", &[]);
    }
}

#[test]
fn small_screens_elder_mode_english_and_the_keyboard_render() {
    check("home", "1280x800", &[]);
    check("item:g-per-005", "1280x800", &["--elder"]);
    check("home", "1080x1920", &["--elder"]);
    check("item:g-per-005", "1080x1920", &["--elder"]);
    check(
        "column:zwfw-grbs",
        "1080x1920",
        &["--elder", "--lang", "en"],
    );
    check("search:公积金", "1920x1080", &["--lang", "en"]);
    check("search:yyzz", "1080x1920", &["--keyboard"]);
}

#[test]
fn elder_mode_draws_larger_text() {
    // The height of the item's title line, from its first row of ink to the next blank row.
    let title_height = |image: &RgbaImage| {
        let (_, top) = header(image);
        let background = *image.get_pixel(1, top + 4);
        let inked = |y: u32| ink(image, 20..900, y..y + 1, background) > 0;
        let first = (top + 4..image.height()).find(|&y| inked(y)).unwrap();
        let last = (first..image.height()).find(|&y| !inked(y)).unwrap();
        last - first
    };
    let normal = title_height(&shot("item:g-ent-001", "1920x1080", &[]));
    let elder = title_height(&shot("item:g-ent-001", "1920x1080", &["--elder"]));
    assert!(
        elder as f64 >= normal as f64 * 1.35,
        "title {normal} px high, {elder} px in elder mode"
    );
}

/// Every character the screen can show: the sample content, the .slint text and its English.
fn characters_to_show() -> BTreeSet<char> {
    let mut text = String::new();
    let sample = repo_root().join("kiosk-data/sample");
    let mut files = vec![sample.join("site.toml"), sample.join("columns.toml")];
    for entry in std::fs::read_dir(sample.join("items")).unwrap() {
        files.push(entry.unwrap().path());
    }
    for entry in crate::support::files_under(&repo_root().join("ui")) {
        if entry.extension().is_some_and(|e| e == "slint" || e == "po") {
            files.push(entry);
        }
    }
    for file in files {
        text.push_str(&std::fs::read_to_string(file).unwrap());
    }
    text.chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect()
}

#[test]
fn the_embedded_font_has_every_character_the_screen_shows() {
    for font in ["NotoSansSC-Regular.otf", "NotoSansSC-Bold.otf"] {
        let data = std::fs::read(repo_root().join("ui/fonts").join(font)).unwrap();
        let face = ttf_parser::Face::parse(&data, 0).unwrap();
        let missing: String = characters_to_show()
            .into_iter()
            .filter(|&c| face.glyph_index(c).is_none())
            .collect();
        assert!(missing.is_empty(), "{font} has no glyph for: {missing}");
    }
}
