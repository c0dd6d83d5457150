//! Every QR code the screen shows, decoded by an independent decoder (rqrr): it must give back
//! exactly the intended address or checklist, and never an address the URL policy refuses.

use kiosk::qr::QrModules;
use kiosk::takeaway::{self, Kind};

use crate::support::repo_root;

/// Decodes every code found in an image.
fn decode_all(image: &image::GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare(image.clone());
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

/// A code drawn as the screen draws it: `scale` pixels a module, dark on white.
fn draw(code: &QrModules, scale: u32) -> image::GrayImage {
    let side = code.size as u32 * scale;
    image::GrayImage::from_fn(side, side, |x, y| {
        let dark = code.dark[(y / scale) as usize * code.size + (x / scale) as usize];
        image::Luma([if dark { 0 } else { 255 }])
    })
}

#[test]
fn every_code_of_the_sample_decodes_to_exactly_its_payload() {
    let content = kiosk::source::load(&repo_root().join("kiosk-data/sample"))
        .unwrap()
        .content;
    let (mut pages, mut checklists, mut shortened) = (0, 0, 0);
    for item in &content.items {
        for takeaway in takeaway::takeaways(item) {
            if takeaway.kind == Kind::Checklist {
                checklists += 1;
                shortened += usize::from(takeaway.shortened);
                assert!(takeaway
                    .payload
                    .starts_with(&format!("【材料清单】{}", item.title)));
            } else {
                // An address: only ever one the policy allows, on the site's hosts.
                let url = url::Url::parse(&takeaway.payload).unwrap();
                assert!(["https", "http"].contains(&url.scheme()));
                assert!(
                    content
                        .site
                        .allowed_hosts
                        .iter()
                        .any(|h| Some(h.as_str()) == url.host_str()),
                    "{}",
                    takeaway.payload
                );
                assert!(url.username().is_empty() && url.password().is_none());
                pages += usize::from(takeaway.kind == Kind::Page);
            }
            let code = kiosk::qr::encode(&takeaway.payload).unwrap_or_else(|| {
                panic!(
                    "{}: {:?} does not fit a readable code",
                    item.id, takeaway.kind
                )
            });
            let decoded = decode_all(&draw(&code, 6));
            assert_eq!(
                decoded,
                vec![takeaway.payload.clone()],
                "{} {:?}",
                item.id,
                takeaway.kind
            );
        }
    }
    assert_eq!(
        pages,
        content.items.len(),
        "every sample item has a page code"
    );
    assert!(checklists >= 40, "{checklists} checklists");
    println!("decoded {pages} page codes and {checklists} checklists ({shortened} shortened)");
}

#[test]
fn no_refused_address_is_ever_encoded() {
    let fixture = crate::support::Fixture::with_items(
        r#"{"id": "a", "kind": "guide", "column": "zwfw", "title": "测试事项", "url": "https://www.example.gov.cn@evil.com/", "attachments": [{"name": "附件", "url": "https://evil.example.com/a.pdf"}, {"name": "表", "url": "https://www.example.gov.cn/b.docx"}], "guide": {"online_url": "javascript:alert(1)", "materials": [{"name": "身份证", "form": "原件", "copies": 1}]}}"#,
    );
    let loaded = fixture.load();
    let item = loaded.content.item("a").unwrap();
    let payloads: Vec<(Kind, String)> = takeaway::takeaways(item)
        .into_iter()
        .map(|t| (t.kind, t.payload))
        .collect();
    assert_eq!(payloads.len(), 2, "{payloads:?}");
    assert_eq!(payloads[0].0, Kind::Checklist);
    assert_eq!(
        payloads[1],
        (
            Kind::Attachment(1),
            "https://www.example.gov.cn/b.docx".to_owned()
        )
    );
}

#[test]
fn a_screenshot_of_an_item_page_scans_to_its_address() {
    let content = kiosk::source::load(&repo_root().join("kiosk-data/sample"))
        .unwrap()
        .content;
    for (id, size) in [("g-ent-001", "1920x1080"), ("p-001", "1080x1920")] {
        let expected = content
            .item(id)
            .unwrap()
            .url
            .as_ref()
            .unwrap()
            .href()
            .unwrap()
            .to_owned();
        let image = crate::support::screenshot(&format!("item:{id}"), size, &[]).to_luma8();
        let decoded = decode_all(&image);
        assert!(
            decoded.contains(&expected),
            "{id} at {size}: decoded {decoded:?}, want {expected}"
        );
    }
}
