//! `kiosk publish` end to end with real parts: the fixture website on a local HTTP server, the
//! real binary crawling it, checking, signing a bundle and a channel into a web root; a
//! terminal's data directory polling that web root over HTTP installs the bundle and finds the
//! imported titles. Then three pages change, one is deleted and one is added: the next publish
//! reports exactly that and the terminal shows the new text. A run where most pages fail
//! publishes nothing and says why.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kiosk::datadir::{ContentOrigin, DataDir};
use kiosk::search::{SearchIndex, SearchRequest};
use kiosk::sync::net::{Polled, Poller};

use crate::http::{Fault, Server};
use crate::import::{serve_fixture, truth};

const SLOW: &str = "/zwgk/tzgg/202405/t20240520_9999999.html";

fn publish(config: &Path) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["publish", "--json", "--config"])
        .arg(config)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), report)
}

/// Serves the web root's files as a static web server would.
fn serve_web_root(server: &Server, web_root: &Path) {
    for entry in std::fs::read_dir(web_root).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            server.put(&format!("/{name}"), std::fs::read(entry.path()).unwrap());
        }
    }
}

fn poll(data: &DataDir, web: &Server, key: &kiosk::bundle::PublicKey) -> Polled {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let poller = Poller::new(
        &web.url("/channel.txt"),
        Duration::from_secs(60),
        data.clone(),
        vec![key.clone()],
        None,
    )
    .unwrap();
    runtime.block_on(poller.poll_once(|_| {})).unwrap()
}

fn installed(data: &DataDir) -> kiosk::source::Loaded {
    let Ok(ContentOrigin::Installed(source)) = kiosk::datadir::resolve_content(None, data) else {
        panic!("nothing installed");
    };
    kiosk::source::load(&source).unwrap()
}

fn finds(data: &DataDir, title: &str) -> bool {
    let Ok(ContentOrigin::Installed(source)) = kiosk::datadir::resolve_content(None, data) else {
        return false;
    };
    let index = SearchIndex::open_or_build(&source, &data.index_dir()).unwrap();
    index
        .search(&SearchRequest::new(title))
        .unwrap()
        .hits
        .iter()
        .any(|h| h.title == title)
}

fn ids(report: &serde_json::Value, list: &str) -> Vec<String> {
    let mut ids: Vec<String> = report["web"][list]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["url"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_changed_website_reaches_a_terminal_through_publish_and_a_failing_one_does_not() {
    let site = serve_fixture();
    site.fail(SLOW, Fault::Stall, 100);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("office.key");
    let made = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["bundle", "keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(made.status.success());
    let public = kiosk::bundle::PublicKey::read(&dir.path().join("office.key.pub")).unwrap();
    let (source, web_root) = (dir.path().join("hall"), dir.path().join("www"));
    let config = dir.path().join("publish.toml");
    std::fs::write(
        &config,
        format!(
            "[web]\nurls = [\"{}\"]\nrequests_per_second = 50\nconcurrency = 2\ntimeout_secs = 1\nretries = 0\n\n[publish]\nsource = \"{}\"\nkey = \"{}\"\nweb_root = \"{}\"\n",
            site.url("/"),
            source.display(),
            key.display(),
            web_root.display()
        ),
    )
    .unwrap();

    // The first publish: every article, signed, with the channel.
    let (code, report) = publish(&config);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["outcome"], "published", "{report:#}");
    assert_eq!(report["seq"], 1);
    let truth = truth();
    assert_eq!(report["items"].as_u64().unwrap() as usize, truth.len());
    let web = Server::start();
    serve_web_root(&web, &web_root);
    let data = DataDir::new(dir.path().join("terminal"));
    assert!(matches!(poll(&data, &web, &public), Polled::Installed(r) if r.seq == 1));
    for t in truth.iter().step_by(40) {
        assert!(
            finds(&data, &t.title),
            "the terminal does not find “{}”",
            t.title
        );
    }

    // Unchanged: no new bundle.
    let (code, report) = publish(&config);
    assert_eq!(
        (code, report["outcome"].as_str().unwrap()),
        (0, "unchanged"),
        "{report:#}"
    );

    // Three pages change, one is deleted, one is added.
    let hanweb: Vec<_> = truth
        .iter()
        .filter(|t| t.template == "hanweb" && t.urls.len() == 1)
        .collect();
    let path_of = |url: &str| {
        url.strip_prefix("https://www.qljkq.gov.cn")
            .unwrap()
            .to_owned()
    };
    let page = |url: &str| {
        String::from_utf8(
            std::fs::read(
                crate::support::repo_root()
                    .join("tests/fixtures/website/mirror/www.qljkq.gov.cn")
                    .join(path_of(url).trim_start_matches('/')),
            )
            .unwrap(),
        )
        .unwrap()
    };
    let mut changed = Vec::new();
    for t in &hanweb[..3] {
        let html = page(&t.url).replacen("<div id=\"zoom\" class=\"bt-content\">", "<div id=\"zoom\" class=\"bt-content\"><p>本文已于2026年12月修订，修订后新增岚溪便民条款。</p>", 1);
        assert!(html.contains("岚溪便民条款"));
        site.put(&path_of(&t.url), html.into_bytes());
        changed.push(site.url(&path_of(&t.url)));
    }
    let deleted = hanweb[3];
    site.fail(&path_of(&deleted.url), Fault::Status(404), 1000);
    let template = hanweb[4];
    let added_path = "/art/2026/12/7/art_1229_3999999.html";
    let added_title = "青岚经开区2026年冬季公开招聘社区专职网格员公告";
    let new_page = page(&template.url)
        .replace(&template.title, added_title)
        .replace(&template.index_number, "11331000MB1F30582K/2026-09999");
    site.put(added_path, new_page.into_bytes());
    let list = "/col/col1229/index.html";
    let list_page = String::from_utf8(
        std::fs::read(
            crate::support::repo_root()
                .join("tests/fixtures/website/mirror/www.qljkq.gov.cn")
                .join(list.trim_start_matches('/')),
        )
        .unwrap(),
    )
    .unwrap();
    let list_page = list_page.replacen("<ul class=\"bt-list\">", &format!("<ul class=\"bt-list\"><li><a href=\"{added_path}\">{added_title}</a><span>2026-12-07</span></li>"), 1);
    assert!(
        list_page.contains(added_path),
        "the list page has no bt-list"
    );
    site.put(list, list_page.clone().into_bytes());
    site.put("/col/col1229/", list_page.into_bytes());

    let (code, report) = publish(&config);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["outcome"], "published", "{report:#}");
    assert_eq!(report["seq"], 2);
    changed.sort();
    assert_eq!(ids(&report, "changed"), changed, "{report:#}");
    assert_eq!(
        ids(&report, "removed"),
        [site.url(&path_of(&deleted.url))],
        "{report:#}"
    );
    assert_eq!(ids(&report, "added"), [site.url(added_path)], "{report:#}");
    serve_web_root(&web, &web_root);
    assert!(matches!(poll(&data, &web, &public), Polled::Installed(r) if r.seq == 2));
    assert!(finds(&data, added_title));
    assert!(!finds(&data, &deleted.title));
    let content = installed(&data).content;
    let shown = content
        .items
        .iter()
        .filter(|i| i.body.plain_text().contains("岚溪便民条款"))
        .count();
    assert_eq!(shown, 3, "the terminal shows the changed text");

    // Most pages fail: nothing is published, and the report says why.
    let channel = std::fs::read(web_root.join("channel.txt")).unwrap();
    let items_file = std::fs::read(source.join("items/web.jsonl")).unwrap();
    for t in &truth {
        for url in &t.urls {
            site.fail(&path_of(url), Fault::Status(503), 1000);
        }
    }
    let (code, report) = publish(&config);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["outcome"], "refused");
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("pages could not be read"),
        "{report:#}"
    );
    assert_eq!(
        std::fs::read(web_root.join("channel.txt")).unwrap(),
        channel
    );
    assert_eq!(
        std::fs::read(source.join("items/web.jsonl")).unwrap(),
        items_file
    );
    assert!(!dir.path().join("hall.publishing").exists());
}

#[test]
fn a_run_that_would_empty_the_terminals_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("mirror");
    crate::support::copy_tree(
        &crate::support::repo_root().join("tests/fixtures/website/mirror"),
        &mirror,
    );
    let key = dir.path().join("office.key");
    assert!(Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["bundle", "keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap()
        .status
        .success());
    let config = dir.path().join("publish.toml");
    std::fs::write(
        &config,
        format!(
            "[web]\nmirror = \"{}\"\n\n[publish]\nsource = \"{}\"\nkey = \"{}\"\nweb_root = \"{}\"\nmax_removed_share = 0.2\n",
            mirror.display(),
            dir.path().join("hall").display(),
            key.display(),
            dir.path().join("www").display()
        ),
    )
    .unwrap();
    let (code, report) = publish(&config);
    assert_eq!(
        (code, report["outcome"].as_str().unwrap()),
        (0, "published"),
        "{report:#}"
    );
    // A template change on the site: the 政策文件 and 通知公告 pages are no longer articles.
    let gone = ["zwgk/zcwj", "zwgk/tzgg", "zwgk/bmwj"];
    for folder in gone {
        std::fs::remove_dir_all(mirror.join("www.qljkq.gov.cn").join(folder)).unwrap();
    }
    let channel = std::fs::read(dir.path().join("www/channel.txt")).unwrap();
    let (code, report) = publish(&config);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("would be removed at once"),
        "{report:#}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("www/channel.txt")).unwrap(),
        channel
    );
    let loaded = kiosk::source::load(&dir.path().join("hall")).unwrap();
    assert_eq!(
        loaded.content.items.len(),
        truth().len(),
        "the source is as it was"
    );
}
