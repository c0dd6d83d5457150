//! How large content may be: what a terminal with 2 GB of memory can load, index, show and
//! install while it keeps showing the content before. The loader reports everything beyond a
//! limit as an error, so `kiosk check` and `kiosk bundle build` refuse on the office PC what a
//! terminal would refuse; the bundle manifest is checked against the same figures
//! ([`crate::bundle::Limits`]) before a terminal unpacks anything. docs/bundles.md lists them.

/// All files of a source together, in bytes.
pub const SOURCE_BYTES: u64 = 200 << 20;
/// `site.toml`, `columns.toml` and `synonyms.txt`, each, in bytes.
pub const SMALL_FILE_BYTES: u64 = 4 << 20;
/// One line of `items/*.jsonl` (one item), in bytes.
pub const LINE_BYTES: usize = 4 << 20;
/// Items in a source.
pub const ITEMS: usize = 100_000;
/// Characters of an item's body.
pub const BODY_CHARS: usize = 300_000;
/// Characters of a title.
pub const TITLE_CHARS: usize = 300;
/// Characters of any other text field (publisher, document number, a guide's fields, a
/// material, a keyword, an attachment's name or address).
pub const FIELD_CHARS: usize = 4_000;
/// Entries of a list (keywords, attachments, a guide's conditions, materials, steps, basis).
pub const LIST_ENTRIES: usize = 500;
/// Rows (beyond the header) and columns of a table in a body.
pub const TABLE_ROWS: usize = 10_000;
pub const TABLE_COLUMNS: usize = 64;
/// Columns in `columns.toml`.
pub const COLUMNS: usize = 5_000;
/// Rules in `synonyms.txt`.
pub const SYNONYM_RULES: usize = 20_000;

/// A byte count for messages: `4 MB`, `200 MB`, `1.5 GB`.
pub fn bytes_text(bytes: u64) -> String {
    const MB: f64 = (1u64 << 20) as f64;
    let mb = bytes as f64 / MB;
    if mb >= 1024.0 {
        format!("{:.1} GB", mb / 1024.0)
    } else if mb >= 10.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}
