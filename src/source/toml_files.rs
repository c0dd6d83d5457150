//! `site.toml` and `columns.toml`: parsed with spans so every problem names its line.

use std::collections::HashMap;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{decode_text, line_of, Problem, COLUMNS_FILE, SITE_FILE};
use crate::content::{Column, Site};
use crate::urlpolicy;

/// A TOML table's entries by key, each with the line it stands on, consumed as they are read so
/// that what is left over can be reported as unknown.
struct Table<'i> {
    file: &'static str,
    text: &'i str,
    entries: Vec<(String, Spanned<DeValue<'i>>)>,
    line: usize,
}

impl<'i> Table<'i> {
    fn new(file: &'static str, text: &'i str, table: &DeTable<'i>, line: usize) -> Table<'i> {
        let entries = table
            .iter()
            .map(|(k, v)| (k.get_ref().to_string(), v.clone()))
            .collect();
        Table {
            file,
            text,
            entries,
            line,
        }
    }

    fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == key)
    }

    fn take(&mut self, key: &str) -> Option<Spanned<DeValue<'i>>> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(at).1)
    }

    fn line_at(&self, value: &Spanned<DeValue<'i>>) -> usize {
        line_of(self.text, value.span().start)
    }

    /// A text value; a wrong type is an error and counts as absent. Blank text counts as absent.
    fn text(&mut self, key: &str, problems: &mut Vec<Problem>) -> Option<(String, usize)> {
        let value = self.take(key)?;
        let line = self.line_at(&value);
        match value.get_ref() {
            DeValue::String(s) if s.trim().is_empty() => None,
            DeValue::String(s) => Some((s.trim().to_owned(), line)),
            _ => {
                problems.push(Problem::error(
                    self.file,
                    Some(line),
                    format!("`{key}` must be text in quotes"),
                ));
                None
            }
        }
    }

    fn integer(&mut self, key: &str, problems: &mut Vec<Problem>) -> Option<i64> {
        let value = self.take(key)?;
        let line = self.line_at(&value);
        let parsed = match value.get_ref() {
            DeValue::Integer(int) => {
                i64::from_str_radix(&int.as_str().replace('_', ""), int.radix()).ok()
            }
            _ => None,
        };
        if parsed.is_none() {
            problems.push(Problem::error(
                self.file,
                Some(line),
                format!("`{key}` must be a whole number"),
            ));
        }
        parsed
    }

    fn text_list(
        &mut self,
        key: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<Vec<(String, usize)>> {
        let value = self.take(key)?;
        let line = self.line_at(&value);
        let DeValue::Array(array) = value.get_ref() else {
            problems.push(Problem::error(
                self.file,
                Some(line),
                format!("`{key}` must be a list of text, like [\"a\", \"b\"]"),
            ));
            return None;
        };
        let mut out = Vec::new();
        for entry in array.iter() {
            let line = line_of(self.text, entry.span().start);
            match entry.get_ref() {
                DeValue::String(s) => out.push((s.trim().to_owned(), line)),
                _ => problems.push(Problem::error(
                    self.file,
                    Some(line),
                    format!("an entry of `{key}` is not text; it is left out"),
                )),
            }
        }
        Some(out)
    }

    fn warn_unknown(self, what: &str, problems: &mut Vec<Problem>) {
        for (key, value) in &self.entries {
            let line = line_of(self.text, value.span().start);
            problems.push(Problem::warning(
                self.file,
                Some(line),
                format!("unknown field `{key}` in {what} is ignored"),
            ));
        }
    }
}

fn parse_document<'i>(
    file: &'static str,
    bytes: Option<&'i [u8]>,
    problems: &mut Vec<Problem>,
) -> Option<(&'i str, Spanned<DeTable<'i>>)> {
    let Some(bytes) = bytes else {
        problems.push(Problem::error(file, None, format!("{file} is missing")));
        return None;
    };
    let text = decode_text(file, bytes, problems)?;
    match DeTable::parse(text) {
        Ok(table) => Some((text, table)),
        Err(err) => {
            let line = err.span().map(|span| line_of(text, span.start));
            let message = err.message().trim().trim_end_matches('.').to_owned();
            problems.push(Problem::error(
                file,
                line,
                format!("{file} is not valid TOML: {message}"),
            ));
            None
        }
    }
}

/// A site id is used in bundle names and statistics: lowercase letters, digits, `-` and `_`.
fn is_valid_site_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Parses `site.toml`. A missing or broken file is an error, and a placeholder site (named after
/// the directory, with no allowed hosts) stands in so that the items still load.
pub(super) fn parse_site(
    bytes: Option<&[u8]>,
    dir_name: &str,
    problems: &mut Vec<Problem>,
) -> Site {
    let placeholder_id: String = dir_name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let mut site = Site {
        id: if placeholder_id.is_empty() {
            "site".into()
        } else {
            placeholder_id
        },
        name: dir_name.to_owned(),
        hall: None,
        phone: None,
        base_url: None,
        allowed_hosts: Vec::new(),
        hot_searches: Vec::new(),
    };
    let Some((text, doc)) = parse_document(SITE_FILE, bytes, problems) else {
        return site;
    };
    let mut table = Table::new(SITE_FILE, text, doc.get_ref(), 1);
    let (has_id, has_name) = (table.has("id"), table.has("name"));
    match table.text("id", problems) {
        Some((id, _)) if is_valid_site_id(&id) => site.id = id,
        Some((id, line)) => problems.push(Problem::error(
            SITE_FILE,
            Some(line),
            format!("site id “{id}” may only hold lowercase letters, digits, - and _ (at most 64)"),
        )),
        None if !has_id => problems.push(Problem::error(
            SITE_FILE,
            Some(table.line),
            "the site has no `id`",
        )),
        None => {}
    }
    match table.text("name", problems) {
        Some((name, _)) => site.name = name,
        None if !has_name => problems.push(Problem::error(
            SITE_FILE,
            Some(table.line),
            "the site has no `name`",
        )),
        None => {}
    }
    site.hall = table.text("hall", problems).map(|(v, _)| v);
    site.phone = table.text("phone", problems).map(|(v, _)| v);
    match table.text_list("allowed_hosts", problems) {
        Some(hosts) => {
            for (host, line) in hosts {
                match urlpolicy::normalise_host(&host) {
                    Some(host) if !site.allowed_hosts.contains(&host) => site.allowed_hosts.push(host),
                    Some(_) => {}
                    None => problems.push(Problem::error(
                        SITE_FILE,
                        Some(line),
                        format!("“{host}” in allowed_hosts is not a host name (write www.example.gov.cn, without https:// or a path)"),
                    )),
                }
            }
        }
        None => problems.push(Problem::warning(
            SITE_FILE,
            Some(table.line),
            "no `allowed_hosts`: no address in this content will become a link or a QR code",
        )),
    }
    if let Some((raw, line)) = table.text("base_url", problems) {
        let link = urlpolicy::check(&raw, &site.allowed_hosts);
        if let Some(refusal) = &link.refusal {
            let problem = if refusal.is_malformed() {
                Problem::error
            } else {
                Problem::warning
            };
            problems.push(problem(
                SITE_FILE,
                Some(line),
                format!("base_url: {refusal}"),
            ));
        }
        site.base_url = Some(link);
    }
    if let Some(words) = table.text_list("hot_searches", problems) {
        site.hot_searches = words
            .into_iter()
            .map(|(w, _)| w)
            .filter(|w| !w.is_empty())
            .collect();
    }
    table.warn_unknown("site.toml", problems);
    site
}

/// Parses `columns.toml` into valid columns: unique ids, names present, at most two levels.
pub(super) fn parse_columns(bytes: Option<&[u8]>, problems: &mut Vec<Problem>) -> Vec<Column> {
    let Some((text, doc)) = parse_document(COLUMNS_FILE, bytes, problems) else {
        return Vec::new();
    };
    let mut root = Table::new(COLUMNS_FILE, text, doc.get_ref(), 1);
    let Some(list) = root.take("column") else {
        problems.push(Problem::error(
            COLUMNS_FILE,
            None,
            "there are no [[column]] tables",
        ));
        return Vec::new();
    };
    root.warn_unknown("columns.toml", problems);
    let DeValue::Array(list) = list.get_ref() else {
        let line = line_of(text, list.span().start);
        problems.push(Problem::error(
            COLUMNS_FILE,
            Some(line),
            "write each column as a [[column]] table",
        ));
        return Vec::new();
    };
    // (column, line) in file order; parents are resolved once every id is known.
    let mut parsed: Vec<(Column, usize)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (position, entry) in list.iter().enumerate() {
        let line = line_of(text, entry.span().start);
        let DeValue::Table(fields) = entry.get_ref() else {
            problems.push(Problem::error(
                COLUMNS_FILE,
                Some(line),
                "a column must be a [[column]] table",
            ));
            continue;
        };
        let mut table = Table::new(COLUMNS_FILE, text, fields, line);
        let id = table.text("id", problems).map(|(v, _)| v);
        let name = table.text("name", problems).map(|(v, _)| v);
        let parent = table.text("parent", problems).map(|(v, _)| v);
        let order = table.integer("order", problems);
        table.warn_unknown("a column", problems);
        let Some(id) = id else {
            problems.push(Problem::error(
                COLUMNS_FILE,
                Some(line),
                "a column has no `id`; it is skipped",
            ));
            continue;
        };
        let Some(name) = name else {
            problems.push(Problem::error(
                COLUMNS_FILE,
                Some(line),
                format!("column `{id}` has no `name`; it is skipped"),
            ));
            continue;
        };
        if let Some(first) = seen.get(&id) {
            problems.push(Problem::error(
                COLUMNS_FILE,
                Some(line),
                format!("column id `{id}` is already used at line {first}; this column is skipped"),
            ));
            continue;
        }
        seen.insert(id.clone(), line);
        let order = order.unwrap_or(position as i64 + 1);
        parsed.push((
            Column {
                id,
                name,
                parent,
                order,
            },
            line,
        ));
    }
    let top_level: HashMap<String, ()> = parsed
        .iter()
        .filter(|(c, _)| c.parent.is_none())
        .map(|(c, _)| (c.id.clone(), ()))
        .collect();
    let mut columns = Vec::with_capacity(parsed.len());
    for (column, line) in parsed {
        if let Some(parent) = &column.parent {
            if !top_level.contains_key(parent) {
                let why = if seen.contains_key(parent) {
                    format!("column `{}` has parent `{parent}`, which is itself a second-level column (columns have two levels at most); it is skipped", column.id)
                } else {
                    format!(
                        "column `{}` has parent `{parent}`, which is not a column; it is skipped",
                        column.id
                    )
                };
                problems.push(Problem::error(COLUMNS_FILE, Some(line), why));
                continue;
            }
        }
        columns.push(column);
    }
    columns
}
