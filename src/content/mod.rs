//! The content model: a site, its two-level column tree and its items. Pure data, no IO.
//!
//! Everything the terminal shows comes from a [`Content`]. It is built by the loader in
//! [`crate::source`], which guarantees the invariants documented on each type.

mod date;
mod markdown;

use std::collections::HashMap;

pub use date::{format_local, format_utc, unix_now, Date, DateError};
pub use markdown::{list_numbers, Block, Body, Dropped, Inline, ListItem};

use crate::urlpolicy::Link;

/// The publisher of the content and the hall the terminal stands in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Site {
    /// A short stable identifier (bundles and statistics are keyed by it).
    pub id: String,
    pub name: String,
    pub hall: Option<String>,
    pub phone: Option<String>,
    pub base_url: Option<Link>,
    /// Normalised host names (see [`crate::urlpolicy::normalise_host`]).
    pub allowed_hosts: Vec<String>,
    /// Searches the home screen offers before anyone has searched (热门搜索).
    pub hot_searches: Vec<String>,
}

/// One column of the disclosure catalogue: first level (一级栏目) when `parent` is `None`,
/// second level (二级栏目) otherwise.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Column {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
    pub order: i64,
}

/// The column tree. Invariants: ids are unique, a parent is always a first-level column, and
/// columns are kept in display order (by `order`, then by position in the source).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ColumnTree {
    columns: Vec<Column>,
}

impl ColumnTree {
    /// Builds a tree from columns already checked by the loader; sorts them into display order.
    pub fn new(mut columns: Vec<Column>) -> ColumnTree {
        columns.sort_by_key(|column| column.order);
        ColumnTree { columns }
    }

    pub fn get(&self, id: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.id == id)
    }

    pub fn all(&self) -> &[Column] {
        &self.columns
    }

    pub fn top_level(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|column| column.parent.is_none())
    }

    pub fn children<'a>(&'a self, parent: &'a str) -> impl Iterator<Item = &'a Column> {
        self.columns
            .iter()
            .filter(move |column| column.parent.as_deref() == Some(parent))
    }

    /// The first-level column a column belongs to (itself when it is first-level).
    pub fn top_of<'a>(&'a self, id: &'a str) -> Option<&'a Column> {
        let column = self.get(id)?;
        match &column.parent {
            Some(parent) => self.get(parent),
            None => Some(column),
        }
    }

    /// `一级栏目 / 二级栏目` names of a column, outermost first.
    pub fn path(&self, id: &str) -> Vec<&str> {
        let Some(column) = self.get(id) else {
            return Vec::new();
        };
        let mut path = Vec::with_capacity(2);
        if let Some(parent) = column.parent.as_deref().and_then(|p| self.get(p)) {
            path.push(parent.name.as_str());
        }
        path.push(column.name.as_str());
        path
    }
}

/// What kind of page an item is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// 政府信息公开: a disclosed document.
    Disclosure,
    /// 办事指南: a service guide.
    Guide,
    /// 政策解读: a policy interpretation.
    Interpretation,
    /// 通知公告: a notice.
    Notice,
}

impl ItemKind {
    pub const ALL: [ItemKind; 4] = [
        ItemKind::Disclosure,
        ItemKind::Guide,
        ItemKind::Interpretation,
        ItemKind::Notice,
    ];

    /// The word used in content sources and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Disclosure => "disclosure",
            ItemKind::Guide => "guide",
            ItemKind::Interpretation => "interpretation",
            ItemKind::Notice => "notice",
        }
    }

    /// The Chinese name shown to visitors.
    pub fn label_zh(self) -> &'static str {
        match self {
            ItemKind::Disclosure => "政府信息公开",
            ItemKind::Guide => "办事指南",
            ItemKind::Interpretation => "政策解读",
            ItemKind::Notice => "通知公告",
        }
    }

    pub fn parse(word: &str) -> Option<ItemKind> {
        ItemKind::ALL.into_iter().find(|kind| kind.as_str() == word)
    }
}

/// An attachment of an item: a named file on the web.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    pub name: String,
    pub link: Link,
}

/// One item of content. Invariants: `id` is unique in its [`Content`], `title` is not empty,
/// `column` names a column of the tree, and `interprets` (if any) names another item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Item {
    pub id: String,
    pub kind: ItemKind,
    pub column: String,
    pub title: String,
    pub date: Option<Date>,
    pub url: Option<Link>,
    pub publisher: Option<String>,
    pub doc_number: Option<String>,
    pub index_number: Option<String>,
    pub topic: Option<String>,
    pub validity: Option<String>,
    pub keywords: Vec<String>,
    pub body: Body,
    pub attachments: Vec<Attachment>,
    pub interprets: Option<String>,
    pub guide: Option<Guide>,
}

/// The standard fields of a service guide (办事指南).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Guide {
    /// 事项编码
    pub code: Option<String>,
    /// 事项类型 (行政许可, 公共服务, ...)
    pub item_type: Option<String>,
    /// 办理对象
    pub applicants: Option<String>,
    /// 受理条件
    pub conditions: Vec<String>,
    /// 申请材料
    pub materials: Vec<Material>,
    /// 办理流程
    pub steps: Vec<String>,
    /// 法定办结时限
    pub time_limit_legal: Option<String>,
    /// 承诺办结时限
    pub time_limit_promised: Option<String>,
    /// 收费
    pub fee: Option<String>,
    /// 办理地点
    pub location: Option<String>,
    /// 办理时间
    pub hours: Option<String>,
    /// 咨询电话
    pub phone: Option<String>,
    /// 监督投诉电话
    pub complaint_phone: Option<String>,
    /// 设定依据
    pub basis: Vec<String>,
    /// 网上办理
    pub online_url: Option<Link>,
    /// 到现场次数
    pub visits: Option<u32>,
}

/// One entry of a guide's materials list (申请材料).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Material {
    pub name: String,
    /// 原件 / 复印件 / 原件及复印件 / 电子件
    pub form: Option<String>,
    pub copies: Option<u32>,
    pub note: Option<String>,
}

/// A synonym rule: a visitor's plain-language phrase and the official terms it stands for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SynonymRule {
    pub phrase: String,
    pub terms: Vec<String>,
}

/// A whole, loaded content source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Content {
    pub site: Site,
    pub columns: ColumnTree,
    pub items: Vec<Item>,
    pub synonyms: Vec<SynonymRule>,
    #[serde(skip)]
    by_id: HashMap<String, usize>,
}

impl Content {
    pub fn new(
        site: Site,
        columns: ColumnTree,
        items: Vec<Item>,
        synonyms: Vec<SynonymRule>,
    ) -> Content {
        let by_id = items
            .iter()
            .enumerate()
            .map(|(i, item)| (item.id.clone(), i))
            .collect();
        Content {
            site,
            columns,
            items,
            synonyms,
            by_id,
        }
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.by_id.get(id).map(|&i| &self.items[i])
    }

    /// Items filed directly under a column, newest first (undated last).
    pub fn items_in(&self, column: &str) -> Vec<&Item> {
        let mut items: Vec<&Item> = self
            .items
            .iter()
            .filter(|item| item.column == column)
            .collect();
        items.sort_by(|a, b| b.date.cmp(&a.date));
        items
    }

    /// The items filed under a column, its children's too for a first-level column.
    pub fn items_under<'a, 'b>(&'a self, column: &'b str) -> impl Iterator<Item = &'a Item> + 'b
    where
        'a: 'b,
    {
        self.items.iter().filter(move |item| {
            item.column == column
                || self
                    .columns
                    .get(&item.column)
                    .and_then(|c| c.parent.as_deref())
                    == Some(column)
        })
    }

    /// How many items a column holds, counting its children's for a first-level column.
    pub fn count_in(&self, column: &str) -> usize {
        self.items_under(column).count()
    }

    /// The interpretations that point at an item.
    pub fn interpretations_of<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Item> {
        self.items
            .iter()
            .filter(move |item| item.interprets.as_deref() == Some(id))
    }
}
