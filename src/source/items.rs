//! `items/*.jsonl`: one JSON object a line, each validated on its own so that one bad line never
//! stops the rest from loading.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{limits, Problem, Severity};
use crate::content::{
    Attachment, Body, ColumnTree, Date, Dropped, Guide, Item, ItemKind, Material, Site,
};
use crate::urlpolicy::{self, Link};

/// The longest id we accept; ids appear in URLs, file names and the command line.
const MAX_ID_LEN: usize = 128;

pub(super) struct ItemsParser<'a> {
    site: &'a Site,
    columns: &'a ColumnTree,
    items: Vec<(Item, String, usize)>,
    ids: HashMap<String, (String, usize)>,
    problems: Vec<Problem>,
    lines_read: usize,
    /// The item limit was reached (said once).
    over_count: bool,
}

/// Where a problem is, and how the item is named in messages.
struct Place<'a> {
    file: &'a str,
    line: usize,
    label: String,
}

impl Place<'_> {
    fn problem(&self, severity: Severity, message: impl std::fmt::Display) -> Problem {
        let message = if self.label.is_empty() {
            message.to_string()
        } else {
            format!("{}: {message}", self.label)
        };
        Problem {
            severity,
            file: self.file.to_owned(),
            line: Some(self.line),
            message,
        }
    }
}

/// The fields of one JSON object, taken out one by one; wrong types are reported and treated as
/// absent, and what is left at the end is reported as unknown.
struct Fields<'p, 'a> {
    map: Map<String, Value>,
    place: &'p Place<'a>,
    problems: &'p mut Vec<Problem>,
    /// Prefix for field names in messages (`guide.` inside the guide object).
    prefix: &'static str,
}

impl<'p, 'a> Fields<'p, 'a> {
    fn error(&mut self, message: impl std::fmt::Display) {
        self.problems
            .push(self.place.problem(Severity::Error, message));
    }

    fn warning(&mut self, message: impl std::fmt::Display) {
        self.problems
            .push(self.place.problem(Severity::Warning, message));
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        match self.map.remove(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        }
    }

    /// Text, trimmed; blank text counts as absent. At most [`limits::FIELD_CHARS`].
    fn text(&mut self, key: &str) -> Option<String> {
        self.text_within(key, limits::FIELD_CHARS)
    }

    /// Text of at most `max` characters: longer text is an error and is cut.
    fn text_within(&mut self, key: &str, max: usize) -> Option<String> {
        let text = self.any_text(key)?;
        Some(self.within(key, text, max))
    }

    /// Cuts `text` to `max` characters, reporting it when it was longer.
    fn within(&mut self, what: &str, text: String, max: usize) -> String {
        let count = text.chars().count();
        if count <= max {
            return text;
        }
        let prefix = self.prefix;
        self.error(format_args!(
            "`{prefix}{what}` has {count} characters, more than the {max} a terminal takes; it is cut to {max}"
        ));
        text.chars().take(max).collect()
    }

    /// Cuts a list to [`limits::LIST_ENTRIES`] entries, reporting it when it was longer.
    fn few<T>(&mut self, what: &str, mut list: Vec<T>) -> Vec<T> {
        if list.len() > limits::LIST_ENTRIES {
            let prefix = self.prefix;
            self.error(format_args!(
                "`{prefix}{what}` has {} entries, more than the {} a terminal takes; the rest are left out",
                list.len(),
                limits::LIST_ENTRIES
            ));
            list.truncate(limits::LIST_ENTRIES);
        }
        list
    }

    fn any_text(&mut self, key: &str) -> Option<String> {
        match self.take(key)? {
            Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            _ => {
                let prefix = self.prefix;
                self.error(format_args!("`{prefix}{key}` must be text; it is left out"));
                None
            }
        }
    }

    /// A list of text; a single text value is taken as a list of one.
    fn text_list(&mut self, key: &str) -> Vec<String> {
        let prefix = self.prefix;
        match self.take(key) {
            None => Vec::new(),
            Some(Value::String(s)) => Some(s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .into_iter()
                .collect(),
            Some(Value::Array(values)) => {
                let mut out = Vec::with_capacity(values.len());
                let mut bad = false;
                for value in values {
                    match value {
                        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
                        Value::String(_) => {}
                        _ => bad = true,
                    }
                }
                if bad {
                    self.error(format_args!(
                        "`{prefix}{key}` has entries that are not text; they are left out"
                    ));
                }
                let out: Vec<String> = out
                    .into_iter()
                    .map(|entry| self.within(key, entry, limits::FIELD_CHARS))
                    .collect();
                self.few(key, out)
            }
            Some(_) => {
                self.error(format_args!(
                    "`{prefix}{key}` must be a list of text; it is left out"
                ));
                Vec::new()
            }
        }
    }

    fn count(&mut self, key: &str) -> Option<u32> {
        let prefix = self.prefix;
        let value = self.take(key)?;
        let parsed = match &value {
            Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.error(format_args!(
                "`{prefix}{key}` must be a whole number, not {value}; it is left out"
            ));
        }
        parsed
    }

    fn link(&mut self, key: &str, what: &str, allowed_hosts: &[String]) -> Option<Link> {
        let raw = self.text(key)?;
        Some(self.check_link(&raw, what, allowed_hosts))
    }

    fn check_link(&mut self, raw: &str, what: &str, allowed_hosts: &[String]) -> Link {
        let link = urlpolicy::check(raw, allowed_hosts);
        if let Some(refusal) = &link.refusal {
            if refusal.is_malformed() {
                self.error(format_args!(
                    "{what}: {refusal}; it is shown as text, never as a link"
                ));
            } else {
                self.warning(format_args!(
                    "{what}: {refusal}; it is shown as text, never as a link"
                ));
            }
        }
        link
    }

    fn finish(mut self) {
        let keys: Vec<String> = std::mem::take(&mut self.map)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let prefix = self.prefix;
        for key in keys {
            self.warning(format_args!("unknown field `{prefix}{key}` is ignored"));
        }
    }
}

impl<'a> ItemsParser<'a> {
    pub(super) fn new(site: &'a Site, columns: &'a ColumnTree) -> ItemsParser<'a> {
        ItemsParser {
            site,
            columns,
            items: Vec::new(),
            ids: HashMap::new(),
            problems: Vec::new(),
            lines_read: 0,
            over_count: false,
        }
    }

    pub(super) fn parse_file(&mut self, file: &str, bytes: &[u8]) {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        for (index, raw_line) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = index + 1;
            let raw_line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
            if raw_line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.lines_read += 1;
            let place = Place {
                file,
                line,
                label: String::new(),
            };
            if raw_line.len() > limits::LINE_BYTES {
                self.problems.push(place.problem(
                    Severity::Error,
                    format_args!(
                        "the item is {} long, more than the {} a terminal takes for one item; it is skipped",
                        limits::bytes_text(raw_line.len() as u64),
                        limits::bytes_text(limits::LINE_BYTES as u64)
                    ),
                ));
                continue;
            }
            if self.items.len() >= limits::ITEMS {
                if !self.over_count {
                    self.over_count = true;
                    self.problems.push(place.problem(
                        Severity::Error,
                        format_args!(
                            "the source has more than the {} items a terminal takes; this item and those after it are skipped",
                            limits::ITEMS
                        ),
                    ));
                }
                continue;
            }
            let Ok(text) = std::str::from_utf8(raw_line) else {
                self.problems.push(place.problem(
                    Severity::Error,
                    "the line is not valid UTF-8 text (save the file as UTF-8); it is skipped",
                ));
                continue;
            };
            let object = match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(object)) => object,
                Ok(_) => {
                    self.problems.push(place.problem(
                        Severity::Error,
                        "the line is not a JSON object ({ ... }); it is skipped",
                    ));
                    continue;
                }
                Err(err) => {
                    self.problems.push(place.problem(
                        Severity::Error,
                        format_args!(
                            "the line is broken JSON ({} at column {}); it is skipped",
                            json_error_words(&err),
                            err.column()
                        ),
                    ));
                    continue;
                }
            };
            if let Some(item) = self.parse_item(object, file, line) {
                self.ids.insert(item.id.clone(), (file.to_owned(), line));
                self.items.push((item, file.to_owned(), line));
            }
        }
    }

    fn parse_item(&mut self, object: Map<String, Value>, file: &str, line: usize) -> Option<Item> {
        let id_place = Place {
            file,
            line,
            label: String::new(),
        };
        let id = match object.get("id") {
            Some(Value::String(id)) => id.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        if id.is_empty() {
            self.problems
                .push(id_place.problem(Severity::Error, "an item has no `id`; it is skipped"));
            return None;
        }
        if id.chars().count() > MAX_ID_LEN
            || id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            self.problems.push(id_place.problem(
                Severity::Error,
                format_args!("item id “{}” has spaces, slashes or control characters, or is longer than {MAX_ID_LEN}; the item is skipped", id.chars().take(40).collect::<String>().escape_debug()),
            ));
            return None;
        }
        let place = Place {
            file,
            line,
            label: format!("item `{id}`"),
        };
        if let Some((first_file, first_line)) = self.ids.get(&id) {
            self.problems.push(place.problem(
                Severity::Error,
                format_args!(
                    "this id is already used at {first_file}:{first_line}; this item is skipped"
                ),
            ));
            return None;
        }
        let mut fields = Fields {
            map: object,
            place: &place,
            problems: &mut self.problems,
            prefix: "",
        };
        fields.map.remove("id");
        let kind = match fields.text("kind") {
            None => {
                fields.error("has no `kind`; it is skipped");
                return None;
            }
            Some(word) => match ItemKind::parse(&word) {
                Some(kind) => kind,
                None => {
                    fields.error(format_args!("unknown kind “{word}” (use disclosure, guide, interpretation or notice); it is skipped"));
                    return None;
                }
            },
        };
        let column = match fields.text("column") {
            None => {
                fields.error("has no `column`; it is skipped");
                return None;
            }
            Some(column) if self.columns.get(&column).is_none() => {
                fields.error(format_args!(
                    "column “{column}” is not in columns.toml; it is skipped"
                ));
                return None;
            }
            Some(column) => column,
        };
        let title = fields
            .text_within("title", limits::TITLE_CHARS)
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
        let Some(title) = title else {
            fields.error("has no title (or an empty one); it is skipped");
            return None;
        };
        if !title.chars().any(char::is_alphanumeric) {
            fields.warning(
                "the title has no letters, characters or digits, so visitors cannot find the item by searching",
            );
        }
        let date = match fields.text("date") {
            Some(text) => match text.parse::<Date>() {
                Ok(date) => Some(date),
                Err(err) => {
                    fields.error(format_args!("{err}; the date is left out"));
                    None
                }
            },
            None => {
                if kind != ItemKind::Guide {
                    fields.warning("has no date");
                }
                None
            }
        };
        let hosts = &self.site.allowed_hosts;
        let url = fields.link("url", "url", hosts);
        let body_text = fields
            .text_within("body", limits::BODY_CHARS)
            .unwrap_or_default();
        let (mut body, dropped) = Body::parse(&body_text);
        for (rows, columns) in body.cut_tables(limits::TABLE_ROWS, limits::TABLE_COLUMNS) {
            fields.error(format_args!(
                "the body has a table of {rows} rows and {columns} columns; a terminal takes at most {} rows and {} columns, so it is cut",
                limits::TABLE_ROWS,
                limits::TABLE_COLUMNS
            ));
        }
        for what in dropped {
            match what {
                Dropped::Html => {
                    fields.warning("body contains HTML, which is not shown (write Markdown)")
                }
                Dropped::Image => fields.warning(
                    "body contains an image, which is not shown (only its description is kept)",
                ),
            }
        }
        let attachments = match fields.take("attachments") {
            None => Vec::new(),
            Some(Value::Array(entries)) => {
                let entries = fields.few("attachments", entries);
                entries
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, entry)| parse_attachment(&mut fields, i + 1, entry, hosts))
                    .collect()
            }
            Some(_) => {
                fields.error("`attachments` must be a list of {\"name\", \"url\"} objects; they are left out");
                Vec::new()
            }
        };
        let guide = match fields.take("guide") {
            None => None,
            Some(Value::Object(_)) if kind != ItemKind::Guide => {
                fields.warning(
                    "has `guide` fields but is not a guide (kind “guide”); they are ignored",
                );
                None
            }
            Some(Value::Object(map)) => Some(parse_guide(map, &place, fields.problems, hosts)),
            Some(_) => {
                fields.error("`guide` must be an object with the guide's fields; it is left out");
                None
            }
        };
        if kind == ItemKind::Guide && guide.is_none() {
            fields.warning(
                "is a service guide without `guide` fields (materials, steps, place, hours ...)",
            );
        }
        let interprets = fields.text("interprets");
        if interprets.is_some() && kind != ItemKind::Interpretation {
            fields
                .warning("has `interprets` but is not an interpretation; it is kept all the same");
        }
        let item = Item {
            id,
            kind,
            column,
            title,
            date,
            url,
            publisher: fields.text("publisher"),
            doc_number: fields.text("doc_number"),
            index_number: fields.text("index_number"),
            topic: fields.text("topic"),
            validity: fields.text("validity"),
            keywords: fields.text_list("keywords"),
            body,
            attachments,
            interprets,
            guide,
        };
        fields.finish();
        Some(item)
    }

    /// Resolves links between items, then hands back the items, the count of lines read and
    /// every problem found.
    pub(super) fn finish(mut self) -> (Vec<Item>, usize, Vec<Problem>) {
        let mut items = Vec::with_capacity(self.items.len());
        for (mut item, file, line) in std::mem::take(&mut self.items) {
            if let Some(target) = &item.interprets {
                let why = if *target == item.id {
                    Some("interprets itself")
                } else if !self.ids.contains_key(target) {
                    Some("interprets an item that is not here")
                } else {
                    None
                };
                if let Some(why) = why {
                    let place = Place {
                        file: &file,
                        line,
                        label: format!("item `{}`", item.id),
                    };
                    self.problems.push(place.problem(
                        Severity::Error,
                        format_args!("{why} (“{target}”); the link is left out"),
                    ));
                    item.interprets = None;
                }
            }
            items.push(item);
        }
        (items, self.lines_read, self.problems)
    }
}

fn parse_attachment(
    fields: &mut Fields<'_, '_>,
    n: usize,
    entry: Value,
    hosts: &[String],
) -> Option<Attachment> {
    let Value::Object(mut map) = entry else {
        fields.error(format_args!(
            "attachment {n} is not a {{\"name\", \"url\"}} object; it is left out"
        ));
        return None;
    };
    let name = match map.remove("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => fields.within(
            "attachments.name",
            name.trim().to_owned(),
            limits::FIELD_CHARS,
        ),
        _ => "附件".to_owned(),
    };
    let Some(Value::String(raw)) = map.remove("url") else {
        fields.error(format_args!(
            "attachment {n} (“{name}”) has no url; it is left out"
        ));
        return None;
    };
    let raw = fields.within("attachments.url", raw, limits::FIELD_CHARS);
    let link = fields.check_link(&raw, &format!("attachment {n} (“{name}”)"), hosts);
    Some(Attachment { name, link })
}

/// The guide fields a complete service guide has, with the names visitors know them by.
const GUIDE_FIELDS: [(&str, &str); 16] = [
    ("code", "事项编码"),
    ("type", "事项类型"),
    ("applicants", "办理对象"),
    ("conditions", "受理条件"),
    ("materials", "申请材料"),
    ("steps", "办理流程"),
    ("time_limit_legal", "法定办结时限"),
    ("time_limit_promised", "承诺办结时限"),
    ("fee", "收费"),
    ("location", "办理地点"),
    ("hours", "办理时间"),
    ("phone", "咨询电话"),
    ("complaint_phone", "监督投诉电话"),
    ("basis", "设定依据"),
    ("online_url", "网上办理"),
    ("visits", "到现场次数"),
];

fn parse_guide(
    map: Map<String, Value>,
    place: &Place<'_>,
    problems: &mut Vec<Problem>,
    hosts: &[String],
) -> Guide {
    let mut fields = Fields {
        map,
        place,
        problems,
        prefix: "guide.",
    };
    let materials = match fields.take("materials") {
        None => Vec::new(),
        Some(Value::Array(entries)) => {
            let entries = fields.few("materials", entries);
            let mut materials = Vec::with_capacity(entries.len());
            for (i, entry) in entries.into_iter().enumerate() {
                match parse_material(entry) {
                    Some(mut material) => {
                        material.name =
                            fields.within("materials.name", material.name, limits::FIELD_CHARS);
                        material.note = material.note.map(|note| {
                            fields.within("materials.note", note, limits::FIELD_CHARS)
                        });
                        material.form = material.form.map(|form| {
                            fields.within("materials.form", form, limits::FIELD_CHARS)
                        });
                        materials.push(material)
                    }
                    None => fields.error(format_args!(
                        "material {} has no name (write {{\"name\", \"form\", \"copies\", \"note\"}}); it is left out",
                        i + 1
                    )),
                }
            }
            materials
        }
        Some(_) => {
            fields.error("`guide.materials` must be a list of materials; it is left out");
            Vec::new()
        }
    };
    let guide = Guide {
        code: fields.text("code"),
        item_type: fields.text("type"),
        applicants: fields.text("applicants"),
        conditions: fields.text_list("conditions"),
        materials,
        steps: fields.text_list("steps"),
        time_limit_legal: fields.text("time_limit_legal"),
        time_limit_promised: fields.text("time_limit_promised"),
        fee: fields.text("fee"),
        location: fields.text("location"),
        hours: fields.text("hours"),
        phone: fields.text("phone"),
        complaint_phone: fields.text("complaint_phone"),
        basis: fields.text_list("basis"),
        online_url: fields.link("online_url", "guide.online_url", hosts),
        visits: fields.count("visits"),
    };
    let missing: Vec<String> = GUIDE_FIELDS
        .iter()
        .filter(|(key, _)| !guide_has(&guide, key))
        .map(|(key, zh)| format!("{zh} ({key})"))
        .collect();
    if !missing.is_empty() {
        fields.warning(format_args!(
            "the service guide lacks {}",
            missing.join(", ")
        ));
    }
    fields.finish();
    guide
}

fn guide_has(guide: &Guide, key: &str) -> bool {
    match key {
        "code" => guide.code.is_some(),
        "type" => guide.item_type.is_some(),
        "applicants" => guide.applicants.is_some(),
        "conditions" => !guide.conditions.is_empty(),
        "materials" => !guide.materials.is_empty(),
        "steps" => !guide.steps.is_empty(),
        "time_limit_legal" => guide.time_limit_legal.is_some(),
        "time_limit_promised" => guide.time_limit_promised.is_some(),
        "fee" => guide.fee.is_some(),
        "location" => guide.location.is_some(),
        "hours" => guide.hours.is_some(),
        "phone" => guide.phone.is_some(),
        "complaint_phone" => guide.complaint_phone.is_some(),
        "basis" => !guide.basis.is_empty(),
        "online_url" => guide.online_url.is_some(),
        "visits" => guide.visits.is_some(),
        _ => false,
    }
}

fn parse_material(entry: Value) -> Option<Material> {
    let text = |value: Option<&Value>| match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match entry {
        Value::String(name) if !name.trim().is_empty() => Some(Material {
            name: name.trim().to_owned(),
            form: None,
            copies: None,
            note: None,
        }),
        Value::Object(map) => Some(Material {
            name: text(map.get("name"))?,
            form: text(map.get("form")),
            copies: match map.get("copies") {
                Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            },
            note: text(map.get("note")),
        }),
        _ => None,
    }
}

/// serde_json's error in plain words, without the position it repeats.
fn json_error_words(err: &serde_json::Error) -> String {
    if err.is_eof() {
        return "it ends before the object is closed".to_owned();
    }
    let message = err.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}
