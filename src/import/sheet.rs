//! `kiosk import sheet`: service guides from a spreadsheet (xlsx, or csv in UTF-8 or GBK), one
//! row a guide, as the 政务服务 system exports its 办事指南 / 实施清单. Headers are found by
//! their text (the built-in names and a mapping file's), materials come from a second sheet
//! keyed by 事项编码 or from a cell with one material a line. Pure but for reading the file:
//! [`read_table`] gives rows of text, [`guides`] makes guides of them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::ImportError;

/// One guide as `items/guides.jsonl` holds it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GuideItem {
    pub id: String,
    pub kind: String,
    pub column: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub publisher: String,
    pub guide: Guide,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Guide {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub applicants: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<Material>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub time_limit_legal: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub time_limit_promised: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fee: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub location: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hours: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub complaint_phone: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basis: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub online_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Material {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub form: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copies: Option<u32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A row that gave no guide, or a value that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    pub sheet: String,
    /// The row as the spreadsheet numbers it (1 is the first row; for a CSV file, the record).
    pub row: usize,
    pub reason: String,
}

/// The mapping file (`--mapping FILE`): which sheets, which headers mean which field, and the
/// column the guides go into. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mapping {
    pub guides: SheetMapping,
    pub materials: SheetMapping,
    /// The column the guides are filed in, as a path (`办事指南` or `办事指南/个人办事`);
    /// default `办事指南`.
    pub column: String,
}

impl Mapping {
    /// Reads a mapping file; a file that is not one is named with its error.
    pub fn load(path: &Path) -> Result<Mapping, ImportError> {
        let text = std::fs::read_to_string(path).map_err(super::io_error(path))?;
        toml::from_str(&text)
            .map_err(|err| ImportError::Config(format!("{}: {err}", path.display())))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SheetMapping {
    /// The sheet's name; default: the first sheet for guides, the sheet whose header names
    /// 材料名称 for materials.
    pub sheet: String,
    /// Header text → field name, beside the built-in names.
    pub headers: BTreeMap<String, String>,
}

/// The fields of a guide row and the headers that name them.
const GUIDE_HEADERS: &[(&str, &[&str])] = &[
    ("title", &["事项名称", "办理事项", "服务事项名称", "事项名"]),
    ("code", &["事项编码", "实施编码", "基本编码", "事项代码"]),
    ("type", &["事项类型", "事项类别", "权力类型"]),
    (
        "publisher",
        &["实施主体", "实施机构", "办理部门", "受理部门", "责任部门"],
    ),
    ("applicants", &["办理对象", "服务对象", "适用对象"]),
    ("conditions", &["受理条件", "申请条件", "办理条件"]),
    (
        "materials",
        &["申请材料", "所需材料", "办理材料", "材料清单"],
    ),
    ("steps", &["办理流程", "办理程序", "办事流程"]),
    ("time_limit_legal", &["法定办结时限", "法定时限"]),
    ("time_limit_promised", &["承诺办结时限", "承诺时限"]),
    (
        "fee",
        &["收费标准", "是否收费及收费标准", "收费情况", "收费"],
    ),
    ("location", &["办理地点", "受理地点", "办公地点"]),
    ("hours", &["办理时间", "受理时间", "办公时间"]),
    ("phone", &["咨询电话", "咨询方式"]),
    (
        "complaint_phone",
        &["监督投诉电话", "投诉电话", "监督电话", "监督投诉方式"],
    ),
    ("basis", &["设定依据", "法律依据", "实施依据"]),
    (
        "online_url",
        &["网上办理地址", "网办地址", "在线办理地址", "网上办理链接"],
    ),
    ("updated", &["更新日期", "更新时间", "发布日期"]),
    ("visits", &["到现场次数", "跑动次数", "到办事现场次数"]),
];

const MATERIAL_HEADERS: &[(&str, &[&str])] = &[
    ("code", &["事项编码", "实施编码", "事项代码"]),
    ("name", &["材料名称", "申请材料名称"]),
    ("form", &["材料形式", "材料形态", "提交形式"]),
    ("copies", &["份数", "材料份数", "数量"]),
    ("note", &["填报须知", "备注", "材料说明", "要求"]),
];

/// A table of text cells as read from a sheet: `(row number, cells)`.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub name: String,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Reads every sheet of an xlsx/xls/ods workbook, or the one table of a CSV file, as text.
pub fn read_tables(path: &Path) -> Result<Vec<Table>, ImportError> {
    let lower = path.to_string_lossy().to_ascii_lowercase();
    if lower.ends_with(".csv") || lower.ends_with(".txt") {
        let bytes = std::fs::read(path).map_err(super::io_error(path))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![read_csv(&bytes, &name)]);
    }
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(path).map_err(|err| {
        ImportError::Config(format!(
            "{}: cannot be read as a spreadsheet: {err}",
            path.display()
        ))
    })?;
    let mut tables = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|err| {
            ImportError::Config(format!("{}: sheet “{name}”: {err}", path.display()))
        })?;
        let (first_row, first_col) = range.start().unwrap_or((0, 0));
        let rows = range
            .rows()
            .enumerate()
            .map(|(i, cells)| {
                let mut texts: Vec<String> = vec![String::new(); first_col as usize];
                texts.extend(cells.iter().map(cell_text));
                (first_row as usize + i + 1, texts)
            })
            .collect();
        tables.push(Table { name, rows });
    }
    Ok(tables)
}

/// A cell as text: numbers without a needless `.0`, dates as `YYYY-MM-DD`.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "是" } else { "否" }.into(),
        Data::DateTime(dt) => {
            let serial = dt.as_f64();
            // Excel's day 0 is 1899-12-30 (with its 1900 leap-year bug before March 1900).
            crate::content::Date::from_days_since_epoch(serial.floor() as i64 - 25_569)
                .map(|d| d.to_string())
                .unwrap_or_else(|| number_text(serial))
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
    }
}

fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// A CSV file (RFC 4180: quoted cells may hold commas, quotes and line breaks), decoded from
/// UTF-8 (with or without BOM) or, failing that, GB18030 (Excel's "CSV" on Chinese Windows).
/// Rows are numbered by record, the first being 1.
pub fn read_csv(bytes: &[u8], name: &str) -> Table {
    let text = match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    };
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut record = 1;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cell.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cell.push(c);
            }
            continue;
        }
        match c {
            '"' if cell.is_empty() => quoted = true,
            ',' => row.push(std::mem::take(&mut cell)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                row.push(std::mem::take(&mut cell));
                rows.push((record, std::mem::take(&mut row)));
                record += 1;
                any = false;
            }
            _ => cell.push(c),
        }
    }
    if any {
        row.push(cell);
        rows.push((record, row));
    }
    Table {
        name: name.to_owned(),
        rows,
    }
}

/// What [`guides`] made.
#[derive(Debug, Default)]
pub struct Guides {
    /// The guides, each with the row it came from.
    pub guides: Vec<(usize, GuideItem)>,
    pub problems: Vec<RowProblem>,
}

fn header_map(
    cells: &[String],
    builtin: &[(&str, &[&str])],
    own: &BTreeMap<String, String>,
) -> HashMap<String, usize> {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊' | ':' | '：'))
            .collect::<String>()
    };
    let mut map = HashMap::new();
    for (i, cell) in cells.iter().enumerate() {
        let cell = norm(cell);
        if cell.is_empty() {
            continue;
        }
        let field = own
            .iter()
            .find(|(h, _)| norm(h) == cell)
            .map(|(_, f)| f.clone())
            .or_else(|| {
                builtin
                    .iter()
                    .find(|(_, names)| names.iter().any(|n| *n == cell))
                    .map(|(f, _)| (*f).to_owned())
            });
        if let Some(field) = field {
            map.entry(field).or_insert(i);
        }
    }
    map
}

/// The header row of a table: the first of its first 20 rows that names at least three fields.
fn find_header(
    table: &Table,
    builtin: &[(&str, &[&str])],
    own: &BTreeMap<String, String>,
) -> Option<(usize, HashMap<String, usize>)> {
    table
        .rows
        .iter()
        .take(20)
        .enumerate()
        .map(|(i, (_, cells))| (i, header_map(cells, builtin, own)))
        .find(|(_, map)| map.len() >= 3)
}

/// The lines of a cell without their numbering (`1.`, `1、`, `（1）`, `(1)`, `1．`, `①`).
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(strip_number)
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

fn strip_number(line: &str) -> &str {
    let line = line.trim();
    let circled = line
        .chars()
        .next()
        .is_some_and(|c| ('①'..='⑳').contains(&c));
    if circled {
        return &line[line.chars().next().map_or(0, char::len_utf8)..];
    }
    let (open, rest) = match line.strip_prefix(['（', '(']) {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let digits = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || ('０'..='９').contains(c))
        .count();
    if digits == 0 || digits > 3 {
        return line;
    }
    let after: &str = &rest[rest
        .char_indices()
        .nth(digits)
        .map_or(rest.len(), |(i, _)| i)..];
    let closers: &[char] = if open {
        &['）', ')']
    } else {
        &['.', '、', '．', ')', '）', ' ']
    };
    match after.strip_prefix(closers) {
        // "1.5万元" is no numbering: a digit follows.
        Some(rest) if !rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => line,
    }
}

/// Makes guides of the tables. `column` is the id of the column they are filed in.
pub fn guides(tables: &[Table], mapping: &Mapping, column: &str) -> Result<Guides, ImportError> {
    let guide_table = if mapping.guides.sheet.is_empty() {
        tables.iter().find(|t| {
            find_header(t, GUIDE_HEADERS, &mapping.guides.headers)
                .is_some_and(|(_, m)| m.contains_key("title"))
        })
    } else {
        tables.iter().find(|t| t.name == mapping.guides.sheet)
    }
    .ok_or_else(|| {
        ImportError::Config(if mapping.guides.sheet.is_empty() {
            "no sheet has a header row with 事项名称 (name the headers in a mapping file)".into()
        } else {
            format!("there is no sheet “{}”", mapping.guides.sheet)
        })
    })?;
    let (header_at, map) = find_header(guide_table, GUIDE_HEADERS, &mapping.guides.headers)
        .filter(|(_, m)| m.contains_key("title"))
        .ok_or_else(|| {
            ImportError::Config(format!(
                "sheet “{}” has no header row with 事项名称",
                guide_table.name
            ))
        })?;
    let mut out = Guides::default();

    // Materials on their own sheet, by code, in sheet order.
    let mut materials: BTreeMap<String, Vec<Material>> = BTreeMap::new();
    let mut material_rows: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let material_table = if mapping.materials.sheet.is_empty() {
        tables.iter().find(|t| {
            t.name != guide_table.name
                && find_header(t, MATERIAL_HEADERS, &mapping.materials.headers)
                    .is_some_and(|(_, m)| m.contains_key("name") && m.contains_key("code"))
        })
    } else {
        tables.iter().find(|t| t.name == mapping.materials.sheet)
    };
    if let Some(table) = material_table {
        if let Some((at, mmap)) = find_header(table, MATERIAL_HEADERS, &mapping.materials.headers) {
            for (row, cells) in &table.rows[at + 1..] {
                let get = |f: &str| {
                    mmap.get(f)
                        .and_then(|&i| cells.get(i))
                        .map(|s| s.trim().to_owned())
                        .unwrap_or_default()
                };
                let (code, name) = (get("code"), get("name"));
                if code.is_empty() && name.is_empty() {
                    continue;
                }
                if name.is_empty() {
                    out.problems.push(RowProblem {
                        sheet: table.name.clone(),
                        row: *row,
                        reason: "材料名称 is empty".into(),
                    });
                    continue;
                }
                let copies = get("copies");
                materials.entry(code.clone()).or_default().push(Material {
                    name,
                    form: get("form"),
                    copies: copies
                        .parse::<f64>()
                        .ok()
                        .filter(|c| *c >= 0.0 && c.fract() == 0.0 && *c < 1000.0)
                        .map(|c| c as u32),
                    note: get("note"),
                });
                material_rows.entry(code).or_default().push(*row);
            }
        }
    }

    let mut seen: HashMap<String, (usize, String)> = HashMap::new();
    for (row, cells) in &guide_table.rows[header_at + 1..] {
        let get = |f: &str| {
            map.get(f)
                .and_then(|&i| cells.get(i))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue; // an empty row between guides
        }
        let problem = |reason: String| RowProblem {
            sheet: guide_table.name.clone(),
            row: *row,
            reason,
        };
        let title = get("title");
        let code = get("code");
        let non_empty = cells.iter().filter(|c| !c.trim().is_empty()).count();
        if non_empty == 1
            && (title.starts_with("合计")
                || cells
                    .iter()
                    .any(|c| c.trim().starts_with("合计") || c.trim().starts_with("共计")))
        {
            out.problems.push(problem(format!(
                "“{}” is a summary row, not a guide",
                cells
                    .iter()
                    .find(|c| !c.trim().is_empty())
                    .map_or("", |c| c.trim())
            )));
            continue;
        }
        if title.is_empty() {
            out.problems
                .push(problem("事项名称 is empty: a guide needs a title".into()));
            continue;
        }
        if !code.is_empty() {
            if let Some((first, first_title)) = seen.get(&code) {
                out.problems.push(problem(format!("事项编码 {code} is the code of row {first} ({first_title}) too: the first row is kept")));
                continue;
            }
            seen.insert(code.clone(), (*row, title.clone()));
        }
        let mut guide = Guide {
            code: code.clone(),
            kind: get("type"),
            applicants: get("applicants"),
            conditions: lines(&get("conditions")),
            steps: lines(&get("steps")),
            time_limit_legal: get("time_limit_legal"),
            time_limit_promised: get("time_limit_promised"),
            fee: get("fee"),
            location: get("location"),
            hours: get("hours"),
            phone: get("phone"),
            complaint_phone: get("complaint_phone"),
            basis: lines(&get("basis")),
            online_url: String::new(),
            visits: get("visits")
                .parse::<f64>()
                .ok()
                .filter(|v| *v >= 0.0 && *v < 100.0)
                .map(|v| v as u32),
            materials: Vec::new(),
        };
        let online = get("online_url");
        if !online.is_empty() {
            let is_url = url::Url::parse(&online)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if is_url {
                guide.online_url = online;
            } else {
                out.problems.push(problem(format!(
                    "网上办理地址 “{online}” is not a web address: left out, the guide is imported"
                )));
            }
        }
        guide.materials = match materials.get(&code).filter(|_| !code.is_empty()) {
            Some(list) => list.clone(),
            None => lines(&get("materials"))
                .into_iter()
                .map(|name| Material {
                    name,
                    ..Material::default()
                })
                .collect(),
        };
        let id = if code.is_empty() {
            format!("g-row{row}")
        } else {
            format!("g-{}", code.to_ascii_lowercase())
        };
        out.guides.push((
            *row,
            GuideItem {
                id,
                kind: "guide".into(),
                column: column.to_owned(),
                title,
                date: super::extract::normalise_date(&get("updated")).unwrap_or_default(),
                publisher: get("publisher"),
                guide,
            },
        ));
    }
    // Materials of no guide.
    if let Some(table) = material_table {
        for (code, rows) in &material_rows {
            if !seen.contains_key(code) {
                for row in rows {
                    out.problems.push(RowProblem {
                        sheet: table.name.clone(),
                        row: *row,
                        reason: format!(
                            "事项编码 {code} is the code of no guide on “{}”",
                            guide_table.name
                        ),
                    });
                }
            }
        }
    }
    out.problems.sort_by(|a, b| {
        (a.sheet != guide_table.name, a.row).cmp(&(b.sheet != guide_table.name, b.row))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_comes_off_lines() {
        assert_eq!(
            lines("1.申请\n2、受理\n\n（3）审核\n4．发证\n① 领取\n1.5万元以下不收费\n无编号"),
            [
                "申请",
                "受理",
                "审核",
                "发证",
                "领取",
                "1.5万元以下不收费",
                "无编号"
            ]
        );
    }

    #[test]
    fn csv_cells_hold_commas_quotes_and_line_breaks() {
        let table = read_csv("\u{feff}事项名称,受理条件\r\n\"居住证\",\"1.居住半年，\n2.有\"\"稳定\"\"住所\"\r\n婚姻登记,\r\n".as_bytes(), "a.csv");
        assert_eq!(table.rows.len(), 3);
        assert_eq!(
            table.rows[1].1,
            ["居住证", "1.居住半年，\n2.有\"稳定\"住所"]
        );
        assert_eq!(
            table.rows[2],
            (3, vec!["婚姻登记".to_owned(), String::new()])
        );
        let (gbk, _, _) = encoding_rs::GBK.encode("事项名称,办理地点\n生育登记,政务服务中心\n");
        assert_eq!(
            read_csv(&gbk, "b.csv").rows[1].1,
            ["生育登记", "政务服务中心"]
        );
    }
}
