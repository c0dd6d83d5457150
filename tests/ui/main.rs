//! The kiosk screen driven the way a visitor drives it, through Slint's testing backend (no
//! display): elements are found by their accessible labels, as a screen reader would.
//!
//! A separate test binary because a process has one Slint platform; one test function because
//! the testing backend is set up once per process.

use std::path::PathBuf;
use std::time::Duration;

use i_slint_backend_testing::ElementHandle;
use kiosk::datadir::DataDir;
use kiosk::ui::{
    AppState, AppWindow, ItemAdapter, Kiosk, KioskOptions, Page, SearchAdapter, Theme,
};
use slint::{ComponentHandle, Model};

const IDLE_TIMEOUT: u32 = 90;

struct Screen {
    window: AppWindow,
    kiosk: Kiosk,
    _data: tempfile::TempDir,
    /// Where the data directory's parent is, when not in `_data`.
    root: Option<PathBuf>,
}

fn start() -> Screen {
    let data = tempfile::tempdir().unwrap();
    let options = KioskOptions {
        source: Some(sample_dir()),
        data_dir: DataDir::new(data.path()),
        idle_timeout: IDLE_TIMEOUT,
        idle_countdown: 10,
        utc_offset_minutes: 480,
        english: false,
        terminal_id: "hall-1".into(),
        sync: None,
        recorder: Default::default(),
        admin_pin_file: "/nonexistent/admin-pin".into(),
        schedule: Default::default(),
    };
    start_with(data, options)
}

fn sample_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kiosk-data/sample")
}

fn start_with(data: tempfile::TempDir, options: KioskOptions) -> Screen {
    let window = AppWindow::new().unwrap();
    window
        .window()
        .set_size(slint::PhysicalSize::new(1920, 1080));
    let kiosk = Kiosk::new(&window, options);
    let screen = Screen {
        window,
        kiosk,
        _data: data,
        root: None,
    };
    screen.settle();
    screen
}

impl Screen {
    fn kiosk_data(&self) -> DataDir {
        DataDir::new(
            self.root
                .as_deref()
                .unwrap_or(self._data.path())
                .join("data"),
        )
    }

    /// Lets the worker finish and shows what it found.
    fn settle(&self) {
        assert!(
            self.kiosk.wait_until_idle(Duration::from_secs(60)),
            "the kiosk did not settle"
        );
        // Let Slint run its bindings and create the elements of new models and pages (nested
        // ones take a pass each).
        for _ in 0..4 {
            i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(20));
        }
    }

    fn find(&self, label: &str) -> Option<ElementHandle> {
        ElementHandle::find_by_accessible_label(&self.window, label).find(|e| e.is_valid())
    }

    /// The element with this label, or a failure that lists what is on the screen.
    fn expect(&self, label: &str) -> ElementHandle {
        self.find(label).unwrap_or_else(|| {
            let mut labels: Vec<String> =
                i_slint_backend_testing::ElementQuery::from_root(&self.window)
                    .match_descendants()
                    .find_all()
                    .iter()
                    .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
                    .filter(|l| !l.is_empty())
                    .collect();
            labels.dedup();
            panic!(
                "nothing labelled “{label}” on the {:?} page; there are: {labels:?}",
                self.page()
            )
        })
    }

    fn tap(&self, label: &str) {
        let element = self.expect(label);
        element.invoke_accessible_default_action();
        self.settle();
    }

    fn page(&self) -> Page {
        self.window.global::<AppState>().get_page()
    }

    fn candidates(&self) -> Vec<String> {
        self.window
            .global::<SearchAdapter>()
            .get_candidates()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn hit_titles(&self) -> Vec<String> {
        self.window
            .global::<SearchAdapter>()
            .get_hits()
            .iter()
            .map(|h| h.title.to_string())
            .collect()
    }
}

/// Everything logged by this test process (the admin test looks for the PIN in it).
fn captured_logs() -> &'static std::sync::Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<std::sync::Mutex<Vec<u8>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(Default::default)
}

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        captured_logs().lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_kiosk_screen_as_a_visitor_uses_it() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(|| LogWriter)
        .init();
    i_slint_backend_testing::init_no_event_loop();
    typing_pinyin_on_the_keyboard_finds_the_business_licence_guide();
    filters_and_sorting_change_the_results();
    a_plain_word_says_what_was_searched_instead();
    an_idle_screen_resets_for_the_next_visitor();
    elder_mode_and_english_apply_everywhere();
    the_catalogue_lists_a_column_newest_first();
    installed_content_switches_live_between_two_searches();
    a_visitor_session_records_exactly_these_events();
    the_admin_opens_with_the_gesture_and_pin_rolls_back_and_leaves();
    a_usb_stick_installs_with_progress_on_screen_and_a_bad_one_is_refused();
    a_panic_in_a_command_or_a_job_becomes_a_calm_message();
    a_long_body_is_read_page_by_page();
}

fn a_panic_in_a_command_or_a_job_becomes_a_calm_message() {
    let screen = start();
    let open_a_guide = |screen: &Screen| {
        screen.tap("搜索框");
        screen
            .window
            .global::<SearchAdapter>()
            .invoke_edited("营业执照".into());
        screen.settle();
        screen.tap("企业设立登记（营业执照）");
    };
    // Showing the item fails: the visitor is back home, told calmly, and the screen works.
    std::env::set_var("KIOSK_PANICPOINT", "show-item");
    open_a_guide(&screen);
    std::env::remove_var("KIOSK_PANICPOINT");
    assert_eq!(screen.page(), Page::Home);
    let banner = screen.window.global::<AppState>().get_banner().to_string();
    assert!(banner.contains("抱歉"), "{banner}");
    assert!(!banner.contains("panic"), "{banner}");
    open_a_guide(&screen);
    assert_eq!(screen.page(), Page::Item);
    // Encoding the item's QR codes fails on the worker: the item shows without them, and
    // search is not reported as unavailable.
    screen.tap("首页");
    let screen = start();
    std::env::set_var("KIOSK_PANICPOINT", "encode-qr");
    open_a_guide(&screen);
    std::env::remove_var("KIOSK_PANICPOINT");
    assert_eq!(screen.page(), Page::Item);
    let item = screen.window.global::<ItemAdapter>().get_item();
    assert_eq!(item.codes.row_count(), 0, "no code, and no code waiting");
    assert!(screen.window.global::<SearchAdapter>().get_ready());
    let banner = screen.window.global::<AppState>().get_banner().to_string();
    assert!(!banner.contains("检索暂时不可用"), "{banner}");
    // Ticks go on (the countdown, the clock): nothing was left borrowed or stuck.
    screen.kiosk.second_passed();
    screen.tap("首页");
    assert_eq!(screen.page(), Page::Home);
}

fn a_long_body_is_read_page_by_page() {
    let data = tempfile::tempdir().unwrap();
    let source = data.path().join("source");
    copy_dir(&sample_dir(), &source);
    let body: String = (0..4000)
        .map(|i| format!("第{i}段。本段为很长的政府信息公开正文的一部分。\n\n"))
        .collect();
    let rows: String = (0..5000)
        .map(|i| format!("| {i} | 张{i} | 1000元 |\n"))
        .collect();
    let item = serde_json::json!({
        "id": "long-1", "kind": "notice", "column": "tzgg", "title": "关于发放补贴的公示",
        "date": "2026-11-01",
        "body": format!("{body}| 序号 | 姓名 | 金额 |\n|---|---|---|\n{rows}"),
        "doc_number": "青".repeat(10) + &"1".repeat(3000),
    });
    std::fs::write(source.join("items/long.jsonl"), format!("{item}\n")).unwrap();
    let options = KioskOptions {
        source: Some(source),
        data_dir: DataDir::new(data.path().join("data")),
        idle_timeout: IDLE_TIMEOUT,
        idle_countdown: 10,
        utc_offset_minutes: 480,
        english: false,
        terminal_id: "hall-1".into(),
        sync: None,
        recorder: Default::default(),
        admin_pin_file: "/nonexistent/admin-pin".into(),
        schedule: Default::default(),
    };
    let screen = start_with(data, options);
    screen.kiosk.open_item("long-1");
    screen.settle();
    let item = screen.window.global::<ItemAdapter>().get_item();
    assert!(item.pages > 3, "{} pages", item.pages);
    assert_eq!(item.page, 1);
    assert!(item.first_page && item.has_rows);
    let pages = item.pages;
    let mut paragraphs = 0;
    let mut rows = 0;
    let mut notes = Vec::new();
    for page in 1..=pages {
        let item = screen.window.global::<ItemAdapter>().get_item();
        assert_eq!(item.page, page);
        assert!(item.blocks.row_count() <= kiosk::fit::PAGE_BLOCKS);
        for block in item.blocks.iter() {
            match block.kind.as_str() {
                "paragraph" => paragraphs += 1,
                "row" if !block.header => rows += 1,
                "note" => notes.push(block.text),
                _ => {}
            }
        }
        if page < pages {
            screen.window.global::<ItemAdapter>().invoke_next_page();
            screen.settle();
        }
    }
    assert_eq!(paragraphs, 4000, "every paragraph is on a page");
    assert_eq!(
        rows,
        kiosk::fit::TABLE_ROWS,
        "the table shows its first rows"
    );
    assert_eq!(notes.len(), 1, "with a note about the rest");
    // The pager is under the body: a visitor reaches it by scrolling (here, a tall window).
    screen
        .window
        .window()
        .set_size(slint::PhysicalSize::new(1080, 20_000));
    screen.settle();
    screen.tap("上一页");
    let item = screen.window.global::<ItemAdapter>().get_item();
    assert_eq!(item.page, pages - 1);
    assert!(!item.has_rows, "the metadata is on the first page only");
    screen
        .window
        .window()
        .set_size(slint::PhysicalSize::new(1920, 1080));
}

fn typing_pinyin_on_the_keyboard_finds_the_business_licence_guide() {
    let screen = start();
    assert_eq!(screen.page(), Page::Home);
    screen.tap("搜索框");
    assert_eq!(screen.page(), Page::Search);
    assert!(
        screen.window.global::<AppState>().get_keyboard_open(),
        "the keyboard opens"
    );
    for key in ["Y", "Y", "Z", "Z"] {
        screen.tap(key);
    }
    assert_eq!(screen.kiosk.query(), "yyzz");
    assert!(
        screen.candidates().contains(&"营业执照".to_owned()),
        "candidates: {:?}",
        screen.candidates()
    );
    screen.tap("营业执照");
    assert_eq!(screen.kiosk.query(), "营业执照");
    let titles = screen.hit_titles();
    assert_eq!(
        titles.first().map(String::as_str),
        Some("企业设立登记（营业执照）"),
        "{titles:?}"
    );

    screen.tap("企业设立登记（营业执照）");
    assert_eq!(screen.page(), Page::Item);
    let item = screen.window.global::<ItemAdapter>().get_item();
    assert!(item.is_guide);
    // The query sees what is on screen: a tall portrait screen shows the materials.
    screen
        .window
        .window()
        .set_size(slint::PhysicalSize::new(1080, 6000));
    screen.settle();
    screen.expect("申请材料"); // the materials table
    screen.expect("企业设立登记申请书"); // one of the materials
    let qr = screen.expect("扫码在手机上查看"); // the QR code
    assert!(qr.is_valid());
    let codes: Vec<_> = item.codes.iter().collect();
    assert!(codes.iter().all(|c| c.modules >= 25), "real codes");
    let titles: Vec<String> = codes.iter().map(|c| c.title.to_string()).collect();
    assert_eq!(titles[..2], ["本页网址", "材料清单"], "{titles:?}");
    // Choosing the checklist shows its code.
    screen.tap("材料清单");
    screen.expect("扫码带走材料清单");

    assert_eq!(item.materials.row_count(), 7);
    screen
        .window
        .window()
        .set_size(slint::PhysicalSize::new(1920, 1080));
    screen.tap("返回");
    assert_eq!(screen.page(), Page::Search);
    screen.tap("首页");
    assert_eq!(screen.page(), Page::Home);
}

fn filters_and_sorting_change_the_results() {
    let screen = start();
    screen.tap("搜索框");
    screen
        .window
        .global::<SearchAdapter>()
        .invoke_edited("补贴".into());
    screen.settle();
    let all = screen.window.global::<SearchAdapter>().get_total();
    assert!(all > 5, "{all} results");
    screen.tap("办事指南");
    let guides = screen.window.global::<SearchAdapter>().get_total();
    assert!(guides > 0 && guides < all, "{guides} of {all}");
    let chips = screen.window.global::<SearchAdapter>().get_kind_chips();
    assert!(chips.iter().any(|c| c.label == "办事指南" && c.selected));
    screen.tap("按时间");
    assert!(screen.window.global::<SearchAdapter>().get_sort_by_date());
    screen.tap("全部");
    assert_eq!(screen.window.global::<SearchAdapter>().get_total(), all);
}

fn a_plain_word_says_what_was_searched_instead() {
    let screen = start();
    screen.tap("搜索框");
    let search = screen.window.global::<SearchAdapter>();
    search.invoke_edited("暂住证怎么办".into());
    screen.settle();
    screen.expect("已为您查找“居住证申领”");
    assert_eq!(
        screen.hit_titles().first().map(String::as_str),
        Some("居住证申领"),
        "{:?}",
        screen.hit_titles()
    );
    // A query as the pages word it says nothing of the kind.
    search.invoke_edited("居住证".into());
    screen.settle();
    assert_eq!(search.get_searched_as(), "");
    screen.tap("首页");
}

fn an_idle_screen_resets_for_the_next_visitor() {
    let screen = start();
    screen.tap("搜索框");
    screen.tap("G");
    screen.tap("J");
    screen.tap("J");
    assert_eq!(screen.kiosk.query(), "gjj");
    screen.tap("长辈模式");
    assert!(screen.window.global::<Theme>().get_elder());
    // The clock is injected: one tick a second, as the screen's timer gives.
    for _ in 0..IDLE_TIMEOUT {
        screen.kiosk.second_passed();
    }
    assert_eq!(
        screen.window.global::<AppState>().get_idle_countdown(),
        10,
        "the countdown shows"
    );
    assert!(screen.find("继续使用").is_some());
    screen.tap("继续使用");
    assert_eq!(
        screen.window.global::<AppState>().get_idle_countdown(),
        0,
        "a touch keeps the visitor's screen"
    );
    assert_eq!(screen.kiosk.query(), "gjj");
    for _ in 0..IDLE_TIMEOUT + 10 {
        screen.kiosk.second_passed();
    }
    screen.settle();
    assert_eq!(screen.page(), Page::Home);
    assert_eq!(screen.kiosk.query(), "");
    assert_eq!(screen.window.global::<SearchAdapter>().get_query(), "");
    assert!(
        !screen.window.global::<Theme>().get_elder(),
        "settings are reset too"
    );
    assert!(
        !screen.window.global::<AppState>().get_can_go_back(),
        "no history is left"
    );
}

fn elder_mode_and_english_apply_everywhere() {
    let screen = start();
    let normal = screen.window.global::<Theme>().get_font_body();
    screen.tap("长辈模式");
    let elder = screen.window.global::<Theme>().get_font_body();
    assert!(elder >= normal * 1.4 - 0.01, "{normal} → {elder}");
    screen.tap("关于本机");
    assert!(screen
        .window
        .global::<AppState>()
        .get_about()
        .contains("GPL-3.0-or-later"));
    screen.tap("关闭");
    assert!(!screen.window.global::<AppState>().get_about_open());
    screen.tap("English");
    assert!(screen.window.global::<AppState>().get_english());
    assert!(
        screen.find("Search box").is_some(),
        "the screen's own text is in English"
    );
    screen.tap("中文");
    assert!(screen.find("搜索框").is_some());
}

fn the_catalogue_lists_a_column_newest_first() {
    let screen = start();
    screen.tap("政策文件");
    assert_eq!(screen.page(), Page::Column);
    let adapter = screen.window.global::<kiosk::ui::ColumnAdapter>();
    let entries: Vec<String> = adapter
        .get_entries()
        .iter()
        .map(|e| e.meta.to_string())
        .collect();
    let mut sorted = entries.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(entries, sorted, "newest first");
    assert!(
        adapter
            .get_columns()
            .iter()
            .any(|c| c.child && c.name == "规范性文件"),
        "the children are shown"
    );
    screen.tap("规范性文件");
    assert!(adapter
        .get_columns()
        .iter()
        .any(|c| c.selected && c.name == "规范性文件"));
}

// ---- content updates ----

const NEW_TITLE: &str = "关于青岚智慧停车场建设项目的公告";

/// The sample hall with one notice more (content version `n` ≥ 2), in a new folder.
fn sample_plus(n: u64, dir: &std::path::Path) -> PathBuf {
    let out = dir.join(format!("hall-{n}"));
    copy_dir(&sample_dir(), &out);
    let extra = format!(
        "{{\"id\": \"n-new-{n}\", \"kind\": \"notice\", \"column\": \"tzgg\", \"title\": \"{NEW_TITLE}\", \"date\": \"2026-11-2{n}\"}}\n"
    );
    std::fs::write(out.join("items/extra.jsonl"), extra).unwrap();
    out
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn bundle_of(
    source: &std::path::Path,
    seq: u64,
    key: &kiosk::bundle::SecretKey,
    out: &std::path::Path,
) {
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let options = kiosk::bundle::BuildOptions {
        source,
        key,
        seq,
        version: Some(format!("2026年第{seq}期")),
        created: 1_790_000_000,
        level: 3,
    };
    kiosk::bundle::build(&options, out).unwrap();
}

/// A terminal with the sample hall installed as seq 1, watching `media/` for sticks.
fn terminal(key: &kiosk::bundle::SecretKey) -> (Screen, PathBuf) {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().to_path_buf();
    let data_dir = DataDir::new(root.join("data"));
    bundle_of(&sample_dir(), 1, key, &root.join("v1.kbundle"));
    let trusted = [key.public()];
    let request = kiosk::install::Request {
        bundle: &root.join("v1.kbundle"),
        from: "test".into(),
        trusted: &trusted,
        site: None,
        limits: Default::default(),
    };
    kiosk::install::install(&data_dir, &request, &mut |_| {}).unwrap();
    std::fs::create_dir_all(root.join("media")).unwrap();
    let options = terminal_options(key, &root, std::path::Path::new("/nonexistent/admin-pin"));
    (start_with(data, options), root)
}

impl Screen {
    /// Settles until `done` holds (the sync thread works on its own clock), or fails.
    fn settle_until(&self, what: &str, done: impl Fn(&Screen) -> bool) {
        for _ in 0..1200 {
            self.settle();
            if done(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("gave up waiting until {what}");
    }
}

fn installed_content_switches_live_between_two_searches() {
    let key = kiosk::bundle::SecretKey::from_seed([11; 32]);
    let (screen, root) = terminal(&key);
    screen.kiosk.set_query("智慧停车场 ".into());
    screen.settle();
    assert!(!screen.hit_titles().contains(&NEW_TITLE.to_owned()));

    // An admin installs a newer bundle from a shell while a visitor has results on screen.
    let v2 = sample_plus(2, &root);
    bundle_of(&v2, 2, &key, &root.join("v2.kbundle"));
    let trusted = [key.public()];
    let request = kiosk::install::Request {
        bundle: &root.join("v2.kbundle"),
        from: "shell".into(),
        trusted: &trusted,
        site: None,
        limits: Default::default(),
    };
    kiosk::install::install(&screen.kiosk_data(), &request, &mut |_| {}).unwrap();
    screen.settle_until("the new content is searched", |s| {
        s.hit_titles().contains(&NEW_TITLE.to_owned())
    });
    assert_eq!(
        screen.kiosk.query(),
        "智慧停车场 ",
        "the visitor's search stays"
    );
    assert_eq!(screen.page(), Page::Search);
    // The new item opens.
    screen.kiosk.open_item("n-new-2");
    screen.settle();
    assert_eq!(screen.page(), Page::Item);
    assert_eq!(
        screen.window.global::<ItemAdapter>().get_item().title,
        NEW_TITLE
    );
}

fn a_usb_stick_installs_with_progress_on_screen_and_a_bad_one_is_refused() {
    use kiosk::ui::InstallState;
    let key = kiosk::bundle::SecretKey::from_seed([12; 32]);
    let (screen, root) = terminal(&key);
    let panel = || screen.window.global::<InstallState>();
    assert!(!panel().get_visible());

    // A stick with a newer bundle: the panel shows the steps, then says what was installed.
    // Sticks appear whole, as a mount does: each is made beside media/ and moved in.
    let plug_in = |stick: &str| {
        std::fs::rename(root.join(stick), root.join("media").join(stick)).unwrap();
    };
    let v3 = sample_plus(3, &root);
    bundle_of(&v3, 3, &key, &root.join("stick/qljkq-3.kbundle"));
    plug_in("stick");
    screen.settle_until("the install ends", |_| {
        panel().get_visible() && !panel().get_running()
    });
    assert_eq!(panel().get_outcome(), 1, "{}", panel().get_message());
    let message = panel().get_message().to_string();
    assert!(
        message.contains("已更新为“2026年第3期”（第 3 版）"),
        "{message}"
    );
    assert_eq!(panel().get_steps().iter().collect::<Vec<_>>(), vec![2; 6]);
    screen.expect(&message);
    screen.settle_until("the new content is shown", |s| {
        s.kiosk.set_query("智慧停车场 ".into());
        s.kiosk.wait_until_idle(Duration::from_secs(30));
        s.hit_titles().contains(&NEW_TITLE.to_owned())
    });
    screen.tap("知道了");
    assert!(!panel().get_visible());

    // The stick comes out; another comes in with a bundle altered after signing.
    std::fs::remove_dir_all(root.join("media/stick")).unwrap();
    screen.settle();
    std::thread::sleep(Duration::from_millis(200));
    screen.settle();
    let v4 = sample_plus(4, &root);
    let file = root.join("stick2/qljkq-4.kbundle");
    bundle_of(&v4, 4, &key, &file);
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    plug_in("stick2");
    screen.settle_until("the refusal is shown", |_| {
        panel().get_visible() && !panel().get_running()
    });
    assert_eq!(panel().get_outcome(), 2);
    assert!(
        panel().get_message().contains("未通过校验"),
        "{}",
        panel().get_message()
    );
    assert!(
        panel().get_reason().contains("checksum"),
        "{}",
        panel().get_reason()
    );
    let status = kiosk::install::status(&screen.kiosk_data());
    assert_eq!(
        status.current.map(|r| r.seq),
        Some(3),
        "the installed content is untouched"
    );
}

// ---- usage statistics ----

fn a_visitor_session_records_exactly_these_events() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("stats.sqlite");
    let recorder = kiosk::stats::Recorder::start(&db, "hall-1", Default::default()).unwrap();
    let options = KioskOptions {
        source: Some(sample_dir()),
        data_dir: DataDir::new(data.path().join("data")),
        idle_timeout: IDLE_TIMEOUT,
        idle_countdown: 10,
        utc_offset_minutes: 480,
        english: false,
        terminal_id: "hall-1".into(),
        sync: None,
        recorder: recorder.clone(),
        admin_pin_file: "/nonexistent/admin-pin".into(),
        schedule: Default::default(),
    };
    let screen = start_with(tempfile::tempdir().unwrap(), options);
    // A visitor types yyzz, picks 营业执照, opens the first result, takes the checklist code,
    // switches elder mode on, goes back and then home.
    screen.tap("搜索框");
    for key in ["Y", "Y", "Z", "Z"] {
        screen.tap(key);
    }
    screen.tap("营业执照");
    screen.tap("企业设立登记（营业执照）");
    screen.tap("材料清单");
    screen.tap("长辈模式");
    screen.tap("返回");
    screen.tap("首页");
    // A second visitor searches for a phone number and leaves; the screen resets.
    screen.tap("搜索框");
    screen.kiosk.set_query("13812345678".into());
    screen.settle();
    screen.tap("搜索");
    screen.kiosk.reset_for_next_visitor();
    drop(screen);
    recorder.flush();

    let store = kiosk::stats::Store::open(&db).unwrap();
    let events = store.events_between(0, i64::MAX).unwrap();
    let seen: Vec<String> = events.iter().map(describe).collect();
    assert_eq!(
        seen,
        [
            "started",
            "session_start",
            "search 营业执照 kind=None results>0",
            "result_opened g-ent-001 rank 1 for 营业执照",
            "qr_shown g-ent-001 page",
            "qr_shown g-ent-001 checklist",
            "elder_mode on",
            "item_viewed g-ent-001 in 办事指南 / 企业办事",
            "session_end home",
            "session_start",
            "search [手机号] kind=None results=0",
            "session_end idle",
            "stopped",
        ],
        "the events recorded"
    );
    statistics_screen_shows_the_figures_and_exports_to_a_prepared_stick(&db);

    // One session id per visitor, seqs one apart, one terminal.
    let sessions: std::collections::BTreeSet<&str> =
        events.iter().filter_map(|e| e.kind.session()).collect();
    assert_eq!(sessions.len(), 2);
    assert!(events.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    assert!(events.iter().all(|e| e.terminal == "hall-1"));
}

fn describe(event: &kiosk::stats::Event) -> String {
    use kiosk::stats::EventKind::*;
    match &event.kind {
        Search {
            query,
            kind,
            results,
            ..
        } => format!(
            "search {query} kind={kind:?} results{}",
            if *results > 0 {
                ">0".to_owned()
            } else {
                format!("={results}")
            }
        ),
        ResultOpened {
            item, rank, query, ..
        } => format!("result_opened {item} rank {rank} for {query}"),
        QrShown { item, code, .. } => format!("qr_shown {item} {code}"),
        ElderMode { on, .. } => format!("elder_mode {}", if *on { "on" } else { "off" }),
        ItemViewed {
            item, column_name, ..
        } => format!("item_viewed {item} in {column_name}"),
        SessionEnd { reason, .. } => format!(
            "session_end {}",
            serde_json::to_value(reason).unwrap().as_str().unwrap()
        ),
        other => other.name().to_owned(),
    }
}

/// The admin's statistics screen over the store the scripted visitors filled: the figures, and
/// the export, refused without a prepared stick and written onto one that has kiosk-reports/.
fn statistics_screen_shows_the_figures_and_exports_to_a_prepared_stick(db: &std::path::Path) {
    let data = tempfile::tempdir().unwrap();
    let data_dir = DataDir::new(data.path().join("data"));
    std::fs::create_dir_all(data_dir.root()).unwrap();
    // The store in WAL mode: the log holds the newest transactions.
    std::fs::copy(db, data_dir.stats_db()).unwrap();
    let wal = |p: &std::path::Path| std::path::PathBuf::from(format!("{}-wal", p.display()));
    if wal(db).exists() {
        std::fs::copy(wal(db), wal(&data_dir.stats_db())).unwrap();
    }
    let media = data.path().join("media");
    std::fs::create_dir_all(media.join("sdb1")).unwrap();
    let recorder =
        kiosk::stats::Recorder::start(&data_dir.stats_db(), "hall-1", Default::default()).unwrap();
    let options = KioskOptions {
        source: Some(sample_dir()),
        data_dir: data_dir.clone(),
        idle_timeout: IDLE_TIMEOUT,
        idle_countdown: 10,
        utc_offset_minutes: 480,
        english: false,
        terminal_id: "hall-1".into(),
        sync: Some(kiosk::sync::SyncOptions {
            data_dir,
            trusted: Ok(Vec::new()),
            recovery: Vec::new(),
            site: None,
            mount_roots: vec![media.clone()],
            network: Default::default(),
            tick: Duration::from_secs(3600),
        }),
        recorder,
        admin_pin_file: "/nonexistent/admin-pin".into(),
        schedule: Default::default(),
    };
    let screen = start_with(data, options);
    screen.kiosk.open_stats();
    screen.settle();
    assert_eq!(screen.page(), Page::Stats);
    screen.expect("访问人次 2");
    screen.expect("检索次数 2");
    screen.expect("无结果检索占比 50.0%");
    let adapter = screen.window.global::<kiosk::ui::StatsAdapter>();
    let zero: Vec<String> = adapter
        .get_zero_searches()
        .iter()
        .map(|b| b.label.to_string())
        .collect();
    assert_eq!(zero, ["[手机号]"]);
    assert_eq!(adapter.get_heat().row_count(), 7 * 24);

    // A stick without a kiosk-reports folder is not written to.
    screen.tap("导出报表到U盘");
    let message = adapter.get_export_message().to_string();
    assert!(message.contains("kiosk-reports"), "{message}");
    // One with it gets the four reports.
    std::fs::create_dir_all(media.join("sdb1/kiosk-reports")).unwrap();
    screen.tap("导出报表到U盘");
    let message = adapter.get_export_message().to_string();
    assert!(message.contains("已导出 4 个文件"), "{message}");
    let written: Vec<String> = std::fs::read_dir(media.join("sdb1/kiosk-reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written.len(), 4, "{written:?}");
    let markdown = written.iter().find(|n| n.ends_with(".md")).unwrap();
    let text = std::fs::read_to_string(media.join("sdb1/kiosk-reports").join(markdown)).unwrap();
    assert!(
        text.contains("[手机号]") && !text.contains("13812345678"),
        "{text}"
    );
    screen.tap("关闭统计");
    assert_eq!(screen.page(), Page::Home);
}

// ---- admin mode ----

impl Screen {
    /// Presses the top-left corner of the window for `held` (through real pointer events).
    fn press_corner(&self, held: Duration) {
        use slint::platform::{PointerEventButton, WindowEvent};
        let position = slint::LogicalPosition::new(40.0, 40.0);
        let window = self.window.window();
        window.dispatch_event(WindowEvent::PointerPressed {
            position,
            button: PointerEventButton::Left,
        });
        i_slint_backend_testing::mock_elapsed_time(held);
        window.dispatch_event(WindowEvent::PointerReleased {
            position,
            button: PointerEventButton::Left,
        });
        self.settle();
    }

    fn type_pin(&self, pin: &str) {
        for digit in pin.chars() {
            self.tap(&digit.to_string());
        }
        self.tap("确认");
    }
}

fn the_admin_opens_with_the_gesture_and_pin_rolls_back_and_leaves() {
    use kiosk::ui::AdminState;
    // The longest PIN: a six-digit one turns up now and then by chance in the log's
    // microsecond timestamps, and the test below would take that for a leak.
    const PIN: &str = "975310864213";
    let key = kiosk::bundle::SecretKey::from_seed([13; 32]);
    let (screen, root) = terminal(&key);
    // Version 2 is installed over the sample hall (version 1), so there is a rollback.
    let v2 = sample_plus(2, &root);
    bundle_of(&v2, 2, &key, &root.join("v2.kbundle"));
    let trusted = [key.public()];
    let request = kiosk::install::Request {
        bundle: &root.join("v2.kbundle"),
        from: "test".into(),
        trusted: &trusted,
        site: None,
        limits: Default::default(),
    };
    kiosk::install::install(&screen.kiosk_data(), &request, &mut |_| {}).unwrap();
    let pin_file = screen.kiosk_data().root().join("admin-pin");
    kiosk::admin::PinFile::new(&pin_file).set(PIN).unwrap();
    // The same terminal started again, now with a PIN file (the first keeps the folder).
    let _first = screen;
    let screen = restart(&key, root.clone(), &pin_file);
    let admin = || screen.window.global::<AdminState>();

    // Taps alone, or a short press, do not open anything.
    for _ in 0..4 {
        screen.press_corner(Duration::from_millis(100));
    }
    assert!(!admin().get_pad_open());
    // A long press then three taps open the PIN pad.
    screen.press_corner(Duration::from_millis(3200));
    for _ in 0..3 {
        screen.press_corner(Duration::from_millis(120));
    }
    assert!(admin().get_pad_open(), "the gesture opens the PIN pad");

    // Three wrong PINs lock the pad; then even the right one is refused.
    for wrong in ["111111", "222222"] {
        screen.type_pin(wrong);
        screen.expect("密码错误，请重新输入。");
    }
    screen.type_pin("333333");
    assert!(admin().get_pad_locked());
    assert!(
        admin().get_pad_message().contains("30 秒后再试"),
        "{}",
        admin().get_pad_message()
    );
    // The pad's keys are disabled; even the right PIN sent past them is refused.
    assert!(
        !screen.expect("1").accessible_enabled().unwrap_or(true),
        "keys are disabled"
    );
    for digit in PIN.chars() {
        admin().invoke_digit(digit.to_string().into());
    }
    admin().invoke_submit();
    screen.settle();
    assert_eq!(screen.page(), Page::Home, "no way in while locked");
    // Time passes (the lock is kept in the data directory, so a restart does not lift it).
    let lock_file = screen.kiosk_data().root().join("admin-lockout.json");
    let mut lock: kiosk::admin::Lockout =
        serde_json::from_slice(&std::fs::read(&lock_file).unwrap()).unwrap();
    lock.locked_until = 0;
    lock.boot = None;
    std::fs::write(&lock_file, serde_json::to_vec(&lock).unwrap()).unwrap();
    screen.tap("取消");
    screen.press_corner(Duration::from_millis(3200));
    for _ in 0..3 {
        screen.press_corner(Duration::from_millis(120));
    }
    screen.type_pin(PIN);
    assert_eq!(
        screen.page(),
        Page::Admin,
        "the right PIN opens the admin page"
    );
    screen.expect("已安装：qljkq 第 2 版“2026年第2期”，152 条");
    let info: Vec<String> = admin().get_info().iter().map(|l| l.to_string()).collect();
    assert!(
        info.contains(&"终端编号：hall-1-east".to_owned()),
        "the terminal's id is on the admin page: {info:?}"
    );

    // Roll back to the sample hall, see it on screen, and leave.
    screen.tap("回滚到上一版本");
    let message = admin().get_message().to_string();
    assert!(message.contains("已回滚到第 1 版"), "{message}");
    screen.settle_until("the old content is shown", |s| {
        s.kiosk.set_query("智慧停车场 ".into());
        s.kiosk.wait_until_idle(Duration::from_secs(30));
        !s.hit_titles().contains(&NEW_TITLE.to_owned())
    });
    screen.kiosk.open_admin_page();
    screen.settle();
    let history: Vec<String> = admin()
        .get_history()
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert!(
        history[0].ends_with("回滚到第 1 版“2026年第1期”")
            && history[1].ends_with("安装第 2 版“2026年第2期”"),
        "the install history, newest first: {history:?}"
    );
    screen.tap("退出管理");
    assert_eq!(screen.page(), Page::Home);
    assert!(!screen.kiosk.in_admin());

    // The log says who did what, and the PIN is nowhere.
    let log = kiosk::admin::AdminLog::new(screen.kiosk_data().root().join("admin.jsonl")).read();
    let actions: Vec<&str> = log.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "pin-wrong",
            "pin-wrong",
            "pin-wrong",
            "pin-refused-locked",
            "enter",
            "rollback",
            "leave"
        ],
        "{log:?}"
    );
    let session = &log[4].session;
    assert!(session.starts_with("admin-") && log[5..].iter().all(|a| &a.session == session));
    let logged = String::from_utf8(captured_logs().lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("admin action"),
        "the admin actions reach the log"
    );
    for place in [
        logged,
        std::fs::read_to_string(screen.kiosk_data().root().join("admin.jsonl")).unwrap(),
    ] {
        assert!(!place.contains(PIN), "the PIN appears in a log");
    }
}

/// The terminal of `terminal()` started again with an admin PIN file.
fn restart(key: &kiosk::bundle::SecretKey, root: PathBuf, pin_file: &std::path::Path) -> Screen {
    let options = terminal_options(key, &root, pin_file);
    let window = AppWindow::new().unwrap();
    window
        .window()
        .set_size(slint::PhysicalSize::new(1920, 1080));
    let kiosk = Kiosk::new(&window, options);
    let screen = Screen {
        window,
        kiosk,
        _data: tempfile::tempdir().unwrap(),
        root: Some(root),
    };
    screen.settle();
    screen
}

/// A terminal's options: installed content in `root/data`, sticks under `root/media`.
fn terminal_options(
    key: &kiosk::bundle::SecretKey,
    root: &std::path::Path,
    pin_file: &std::path::Path,
) -> KioskOptions {
    let data_dir = DataDir::new(root.join("data"));
    KioskOptions {
        source: None,
        data_dir: data_dir.clone(),
        idle_timeout: IDLE_TIMEOUT,
        idle_countdown: 10,
        utc_offset_minutes: 480,
        english: false,
        terminal_id: "hall-1-east".into(),
        sync: Some(kiosk::sync::SyncOptions {
            data_dir,
            trusted: Ok(vec![key.public()]),
            recovery: Vec::new(),
            site: None,
            mount_roots: vec![root.join("media")],
            network: Default::default(),
            tick: Duration::from_millis(50),
        }),
        recorder: Default::default(),
        admin_pin_file: pin_file.to_path_buf(),
        schedule: Default::default(),
    }
}
