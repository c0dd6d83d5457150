//! What a visitor can take away on a phone: an item's web page, a service guide's materials
//! checklist (as plain text, readable with no network), the guide's online service, the
//! attachments. Pure: payloads and captions, never a link the URL policy refuses.

use crate::content::{Guide, Item};
use crate::urlpolicy::Link;

/// The largest QR code version shown: 20 (97 modules, 105 with the quiet zone; about 15 cm wide
/// on a 21.5-inch 1080p screen at 6 pixels a module, which a phone reads at arm's length).
pub const MAX_QR_VERSION: i16 = 20;

/// Attachments with a QR code of their own, at most.
pub const ATTACHMENT_CODES: usize = 8;

/// What a code carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The item's page on the web.
    Page,
    /// A guide's materials checklist, as text.
    Checklist,
    /// A guide's online service (网上办理).
    Online,
    /// An attachment (its position among the item's attachments).
    Attachment(usize),
}

/// One code to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Takeaway {
    pub kind: Kind,
    /// The exact text encoded: an allowed address, or the checklist.
    pub payload: String,
    /// A short name for choosing the code, and the caption under it; Chinese, then English.
    pub title: (String, String),
    pub caption: (String, String),
    /// The checklist was too long for a readable code and was shortened.
    pub shortened: bool,
}

/// The codes of an item, page first. Addresses the URL policy refuses are left out.
pub fn takeaways(item: &Item) -> Vec<Takeaway> {
    let mut out = Vec::new();
    let pair = |zh: &str, en: &str| (zh.to_owned(), en.to_owned());
    let mut link =
        |kind: Kind, link: Option<&Link>, title: (String, String), caption: (String, String)| {
            if let Some(href) = link.and_then(Link::href) {
                out.push(Takeaway {
                    kind,
                    payload: href.to_owned(),
                    title,
                    caption,
                    shortened: false,
                });
            }
        };
    link(
        Kind::Page,
        item.url.as_ref(),
        pair("本页网址", "This page"),
        pair("扫码在手机上查看", "Scan to read on your phone"),
    );
    if let Some(guide) = &item.guide {
        link(
            Kind::Online,
            guide.online_url.as_ref(),
            pair("网上办理", "Apply online"),
            pair("扫码网上办理", "Scan to apply online"),
        );
    }
    // The first attachments have codes of their own; the rest are on the page the first code
    // opens (a row of hundreds of codes to choose from helps nobody, and each costs work).
    for (i, attachment) in item.attachments.iter().enumerate().take(ATTACHMENT_CODES) {
        let caption = (
            format!("扫码下载：{}", attachment.name),
            format!("Scan to download: {}", attachment.name),
        );
        link(
            Kind::Attachment(i),
            Some(&attachment.link),
            (attachment.name.clone(), attachment.name.clone()),
            caption,
        );
    }
    if let Some(guide) = &item.guide {
        if !guide.materials.is_empty() {
            let (payload, shortened) = checklist(&item.title, guide, &crate::qr::fits);
            out.insert(
                out.iter()
                    .position(|t| t.kind != Kind::Page)
                    .unwrap_or(out.len()),
                Takeaway {
                    kind: Kind::Checklist,
                    payload,
                    title: ("材料清单".into(), "Checklist".into()),
                    caption: (
                        "扫码带走材料清单".into(),
                        "Scan to take the checklist".into(),
                    ),
                    shortened,
                },
            );
        }
    }
    out
}

/// A guide's materials checklist as plain text that `fits` (a readable QR code): the service,
/// each material with its form and copies, place, hours and phone. When that does not fit,
/// shorter versions are tried in turn (without the hours, with the place's name only, without
/// forms and copies, then the first materials only); the second value says whether it was
/// shortened.
pub fn checklist(title: &str, guide: &Guide, fits: &dyn Fn(&str) -> bool) -> (String, bool) {
    let materials_full: Vec<String> = guide
        .materials
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut detail = Vec::new();
            if let Some(form) = &m.form {
                detail.push(form.clone());
            }
            if let Some(copies) = m.copies {
                detail.push(format!("{copies}份"));
            }
            if detail.is_empty() {
                format!("{}. {}", i + 1, m.name)
            } else {
                format!("{}. {}（{}）", i + 1, m.name, detail.join("，"))
            }
        })
        .collect();
    let materials_short: Vec<String> = guide
        .materials
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{}. {}", i + 1, m.name))
        .collect();
    // The place without its parenthesised detail (the street address, the window numbers).
    let short_place = guide
        .location
        .as_deref()
        .map(|l| l.split(['（', '(']).next().unwrap_or(l).trim().to_owned());
    let build = |materials: &[String], hours: bool, short: bool, more: usize| {
        let mut lines = vec![format!("【材料清单】{title}")];
        lines.extend(materials.iter().cloned());
        if more > 0 {
            lines.push(format!("……另有{more}项，详见办事指南"));
        }
        let place = if short {
            short_place.clone()
        } else {
            guide.location.clone()
        };
        if let Some(place) = place {
            lines.push(format!("地点：{place}"));
        }
        if hours {
            if let Some(h) = &guide.hours {
                lines.push(format!("时间：{h}"));
            }
        }
        if let Some(phone) = &guide.phone {
            lines.push(format!("咨询：{phone}"));
        }
        lines.join("\n")
    };
    // Shorter and shorter: what is least needed on the way to the window goes first.
    let full = build(&materials_full, true, false, 0);
    if fits(&full) {
        return (full, false);
    }
    let candidates = [
        build(&materials_full, false, false, 0),
        build(&materials_full, false, true, 0),
        build(&materials_short, false, true, 0),
    ];
    for candidate in candidates {
        if fits(&candidate) {
            return (candidate, true);
        }
    }
    // As many materials as fit (fewer always fit better): found by halving, so a guide with
    // hundreds of materials costs a handful of tries.
    let with = |keep: usize| {
        build(
            &materials_short[..keep],
            false,
            true,
            materials_short.len() - keep,
        )
    };
    if let Some(keep) = largest(1, materials_short.len().saturating_sub(1), |k| {
        fits(&with(k))
    }) {
        return (with(keep), true);
    }
    // Even one material is too long: the title and where to ask, cut to fit.
    let text = build(&[], false, true, materials_short.len());
    let chars: Vec<char> = text.chars().collect();
    let prefix = |n: usize| chars[..n].iter().collect::<String>();
    let keep = largest(0, chars.len(), |n| fits(&prefix(n))).unwrap_or(0);
    (prefix(keep), true)
}

/// The largest `n` in `lo..=hi` for which `holds` (true up to some point, false after it).
fn largest(lo: usize, hi: usize, holds: impl Fn(usize) -> bool) -> Option<usize> {
    if lo > hi || !holds(lo) {
        return None;
    }
    let (mut yes, mut no) = (lo, hi + 1);
    while no - yes > 1 {
        let mid = yes + (no - yes) / 2;
        if holds(mid) {
            yes = mid;
        } else {
            no = mid;
        }
    }
    Some(yes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Material;

    fn guide(materials: usize, name_len: usize) -> Guide {
        Guide {
            materials: (0..materials)
                .map(|i| Material {
                    name: format!("材料{i}{}", "名".repeat(name_len)),
                    form: Some("原件".into()),
                    copies: Some(1),
                    note: Some("现场核验".into()),
                })
                .collect(),
            location: Some("政务服务中心一楼".into()),
            hours: Some("工作日9:00—17:00".into()),
            phone: Some("0576-88120000".into()),
            ..Guide::default()
        }
    }

    #[test]
    fn a_short_checklist_is_whole() {
        let (text, shortened) = checklist("居住证申领", &guide(2, 2), &|t| t.len() <= 450);
        assert!(!shortened);
        assert_eq!(
            text,
            "【材料清单】居住证申领\n1. 材料0名名（原件，1份）\n2. 材料1名名（原件，1份）\n地点：政务服务中心一楼\n时间：工作日9:00—17:00\n咨询：0576-88120000"
        );
    }

    #[test]
    fn a_long_checklist_is_shortened_to_fit() {
        for (count, len) in [(8, 6), (20, 10), (3, 200)] {
            let (text, shortened) = checklist("某事项", &guide(count, len), &|t| t.len() <= 450);
            assert!(shortened, "{count} × {len}");
            assert!(text.len() <= 450, "{} bytes", text.len());
            assert!(text.starts_with("【材料清单】某事项"));
        }
    }
}
