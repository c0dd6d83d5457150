//! Profiles: where the common CMS templates keep an article's fields, as CSS selectors. A page
//! takes the first profile whose `detect` selectors find something; `generic` (text density)
//! takes every page. An import config can change any field of a built-in profile or add its own.

use serde::Deserialize;

/// Selectors for each field; empty: the field is found the generic way (meta tags, the
/// metadata block, the page's text).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fields {
    pub title: Vec<String>,
    pub body: Vec<String>,
    pub date: Vec<String>,
    pub publisher: Vec<String>,
    pub doc_number: Vec<String>,
    pub index_number: Vec<String>,
    pub topic: Vec<String>,
    pub validity: Vec<String>,
    pub breadcrumb: Vec<String>,
    /// Blocks outside the body that hold attachment links.
    pub attachments: Vec<String>,
}

/// One CMS layout.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    /// A page is of this layout when one of these finds an element.
    #[serde(default)]
    pub detect: Vec<String>,
    #[serde(default)]
    pub fields: Fields,
}

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

const BREADCRUMBS: &[&str] = &[
    ".position",
    ".location",
    ".crumb",
    ".crumbs",
    ".breadcrumb",
    ".bread",
    ".dqwz",
    ".bt-position",
    ".current-position",
    "#position",
    ".path",
    ".wz",
];

/// The built-in profiles, most specific first, `generic` last.
pub fn builtin() -> Vec<Profile> {
    vec![
        Profile {
            name: "trs".into(),
            detect: list(&[
                ".TRS_Editor",
                ".trs_editor_view",
                ".TRS_UEDITOR",
                ".Custom_UnionStyle",
            ]),
            fields: Fields {
                title: list(&["meta[name=\"ArticleTitle\"]"]),
                body: list(&[
                    ".TRS_Editor",
                    ".trs_editor_view",
                    ".TRS_UEDITOR",
                    ".Custom_UnionStyle",
                ]),
                breadcrumb: list(BREADCRUMBS),
                attachments: list(&[
                    ".fj",
                    ".attachment",
                    ".appendix",
                    ".xgfj",
                    "#fj",
                    ".article_attachment",
                ]),
                ..Fields::default()
            },
        },
        Profile {
            name: "hanweb".into(),
            detect: list(&["#zoom", "#Zoom"]),
            fields: Fields {
                title: list(&["meta[name=\"ArticleTitle\"]"]),
                body: list(&["#zoom", "#Zoom"]),
                breadcrumb: list(BREADCRUMBS),
                attachments: list(&[".fj", ".attachment", "#fj"]),
                ..Fields::default()
            },
        },
        Profile {
            name: "ucap".into(),
            detect: list(&["#UCAP-CONTENT", ".ucap-content"]),
            fields: Fields {
                title: list(&["meta[name=\"ArticleTitle\"]", "h1.article-title"]),
                body: list(&["#UCAP-CONTENT", ".ucap-content"]),
                breadcrumb: list(BREADCRUMBS),
                attachments: list(&[".fj", ".attachment", ".article-attachment"]),
                ..Fields::default()
            },
        },
        generic(),
    ]
}

/// The fallback: body by text density, everything else the generic way.
pub fn generic() -> Profile {
    Profile {
        name: "generic".into(),
        detect: list(&["html"]),
        fields: Fields {
            title: list(&["meta[name=\"ArticleTitle\"]", "h1"]),
            body: list(&[
                ".article-content",
                ".article_content",
                "#content",
                ".content",
                "article",
            ]),
            breadcrumb: list(BREADCRUMBS),
            attachments: list(&[".fj", ".attachment"]),
            ..Fields::default()
        },
    }
}

/// Every selector of a profile that does not parse, as `field: selector (why)`.
pub fn invalid_selectors(profile: &Profile) -> Vec<String> {
    let f = &profile.fields;
    let fields: [(&str, &Vec<String>); 11] = [
        ("detect", &profile.detect),
        ("title", &f.title),
        ("body", &f.body),
        ("date", &f.date),
        ("publisher", &f.publisher),
        ("doc_number", &f.doc_number),
        ("index_number", &f.index_number),
        ("topic", &f.topic),
        ("validity", &f.validity),
        ("breadcrumb", &f.breadcrumb),
        ("attachments", &f.attachments),
    ];
    let mut out = Vec::new();
    for (field, selectors) in fields {
        for s in selectors {
            if let Err(err) = scraper::Selector::parse(s) {
                out.push(format!("{field}: “{s}” ({err})"));
            }
        }
    }
    out
}

/// The profiles an import uses: the built-ins with the config's changes (a profile of the same
/// name replaces the fields it sets), its own profiles before them, and `only` to keep one.
pub fn resolve(overrides: &[Profile], only: Option<&str>) -> Vec<Profile> {
    let mut profiles = builtin();
    let mut own = Vec::new();
    for o in overrides {
        if let Some(p) = profiles.iter_mut().find(|p| p.name == o.name) {
            if !o.detect.is_empty() {
                p.detect = o.detect.clone();
            }
            merge(&mut p.fields, &o.fields);
        } else {
            own.push(o.clone());
        }
    }
    own.extend(profiles);
    if let Some(name) = only {
        let generic_fields = own.iter().find(|p| p.name == "generic").cloned();
        own.retain(|p| p.name == name);
        if let Some(p) = own.first_mut() {
            // The chosen profile takes every page.
            p.detect = list(&["html"]);
        } else if let Some(g) = generic_fields {
            own.push(g);
        }
    }
    own
}

fn merge(into: &mut Fields, from: &Fields) {
    let pairs: [(&mut Vec<String>, &Vec<String>); 10] = [
        (&mut into.title, &from.title),
        (&mut into.body, &from.body),
        (&mut into.date, &from.date),
        (&mut into.publisher, &from.publisher),
        (&mut into.doc_number, &from.doc_number),
        (&mut into.index_number, &from.index_number),
        (&mut into.topic, &from.topic),
        (&mut into.validity, &from.validity),
        (&mut into.breadcrumb, &from.breadcrumb),
        (&mut into.attachments, &from.attachments),
    ];
    for (into, from) in pairs {
        if !from.is_empty() {
            into.clone_from(from);
        }
    }
}
