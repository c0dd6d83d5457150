//! The screen's controller: the visitor's state (where they are, what they typed, their
//! settings), the commands the UI's callbacks turn into, and the events from the worker.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::{
    ComponentHandle, Image, ModelRc, Rgba8Pixel, SharedPixelBuffer, SharedString, VecModel,
};

use super::idle::{Idle, IdleStep};
use super::view::{self, Lang};
use super::worker::{self, AppEvent, Job};
use super::{
    Activity, AppState, AppWindow, BarData, ColumnAdapter, HomeAdapter, InstallState, ItemAdapter,
    Page, QrData, SearchAdapter, StatTile, StatsAdapter, Theme,
};
use crate::content::{Content, Date, ItemKind};
use crate::datadir::DataDir;
use crate::qr::QrModules;
use crate::search::{SearchRequest, SearchResults, Sort};
use crate::takeaway::{self, Takeaway};

/// Results and column entries shown per page.
const PAGE_SIZE: usize = 10;

/// How long a passing message stays in the banner, in seconds.
const BANNER_SECONDS: u32 = 8;

/// How the kiosk starts.
#[derive(Debug, Clone)]
pub struct KioskOptions {
    /// A content source to show instead of the installed content or the sample hall.
    pub source: Option<PathBuf>,
    pub data_dir: DataDir,
    /// Seconds without a touch before the countdown, and the countdown's length.
    pub idle_timeout: u32,
    pub idle_countdown: u32,
    /// The hall's time zone, for the clock (China: +480).
    pub utc_offset_minutes: i32,
    pub english: bool,
    /// The terminal's name (`[terminal] id`), shown on the admin page.
    pub terminal_id: String,
    /// Watch USB sticks, the network channel and the installed content (a real terminal);
    /// `None` for screenshots and tests that do not need it.
    pub sync: Option<crate::sync::SyncOptions>,
    /// Where usage events go (disabled: nowhere).
    pub recorder: crate::stats::Recorder,
    /// The file with the admin PIN's hash (no file: admin mode stays closed).
    pub admin_pin_file: PathBuf,
    /// Night blanking and the daily restart.
    pub schedule: crate::schedule::Schedule,
}

/// Where the visitor is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Screen {
    Home,
    Search,
    Column {
        id: String,
        page: usize,
    },
    /// An item, at a page of its body (from 1).
    Item {
        id: String,
        page: usize,
    },
    /// The admin's statistics.
    Stats,
    /// The admin page.
    Admin,
}

struct State {
    content: Option<Arc<Content>>,
    index_ready: bool,
    /// The content could not be loaded: nothing more will come.
    failed: bool,
    screen: Screen,
    history: Vec<Screen>,
    query: String,
    kind: Option<ItemKind>,
    column: Option<String>,
    sort: Sort,
    page: usize,
    /// The newest search sent, and the newest whose results are shown.
    sent: u64,
    shown: u64,
    results: Option<SearchResults>,
    lang: Lang,
    elder: bool,
    keyboard: bool,
    idle: Idle,
    /// QR codes by key (an item id, or `home:` and an item id), and the keys being encoded.
    codes: HashMap<String, Vec<Option<QrModules>>>,
    pending_codes: HashSet<String>,
    /// Newly installed content is being loaded (the old one stays until it is ready).
    reloading: bool,
    /// An install from a USB stick on screen: its running step, and the seconds left before
    /// its outcome goes away by itself.
    install_step: usize,
    install_closes_in: Option<u32>,
    /// The visitor's session, search and view, for the statistics.
    usage: super::usage::Usage,
    admin: super::admin_mode::AdminMode,
    /// The statistics shown to the admin, and whether the worker is still working on them.
    stats_report: Option<Box<crate::stats::report::Report>>,
    stats_pending: bool,
    /// When the newest search was sent (its latency is measured on screen).
    search_sent_at: Option<Instant>,
    /// The item and code index whose QR code was last recorded as shown.
    shown_code: Option<(String, usize)>,
    /// The installed content's seq, to notice a new install.
    content_seq: Option<u64>,
    /// Seconds before a passing message leaves the banner.
    banner_clears_in: Option<u32>,
    /// The body pages of the item last shown.
    item_pages: Option<(String, Rc<Vec<Vec<crate::fit::Piece>>>)>,
}

pub(super) struct Inner {
    window: slint::Weak<AppWindow>,
    options: KioskOptions,
    state: RefCell<State>,
    jobs: Sender<Job>,
    events: Receiver<AppEvent>,
    clock: slint::Timer,
    /// Tells the sync thread to end when the screen goes.
    sync_stop: Arc<std::sync::atomic::AtomicBool>,
    /// Sends an event to this screen from any thread (and wakes it).
    notify: Arc<dyn Fn(AppEvent) + Send + Sync>,
    sync_send: Arc<dyn Fn(crate::sync::SyncEvent) + Send + Sync>,
    started: Instant,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.sync_stop
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let recorder = &self.options.recorder;
        if let Ok(mut state) = self.state.try_borrow_mut() {
            for event in state
                .usage
                .end(crate::stats::EndReason::Stop, Instant::now())
            {
                recorder.record(event);
            }
        }
        recorder.record(crate::stats::EventKind::Stopped);
        recorder.flush();
    }
}

/// The running kiosk screen. Cloning shares it.
#[derive(Clone)]
pub struct Kiosk {
    inner: Rc<Inner>,
}

thread_local! {
    /// The kiosk of this (the UI) thread, for the worker's wake-ups.
    static CURRENT: RefCell<Weak<Inner>> = RefCell::new(Weak::new());
}

impl Kiosk {
    /// Wires a kiosk to a window and starts loading the content in the background.
    pub fn new(window: &AppWindow, options: KioskOptions) -> Kiosk {
        let (jobs, job_rx) = mpsc::channel();
        let (event_tx, events) = mpsc::channel();
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(|| {
            let _ = slint::invoke_from_event_loop(|| {
                let current = CURRENT.with(|c| c.borrow().clone());
                Kiosk::with(&current, "pump", Kiosk::pump);
            });
        });
        let sync_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let notify: Arc<dyn Fn(AppEvent) + Send + Sync> = {
            let events = std::sync::Mutex::new(event_tx.clone());
            let wake = wake.clone();
            Arc::new(move |event| {
                if let Ok(events) = events.lock() {
                    let _ = events.send(event);
                }
                wake();
            })
        };
        let sync_send: Arc<dyn Fn(crate::sync::SyncEvent) + Send + Sync> = {
            let notify = notify.clone();
            Arc::new(move |event| notify(AppEvent::Sync(event)))
        };
        if let Some(sync) = options.sync.clone() {
            if let Err(err) = crate::sync::spawn(sync, sync_send.clone(), sync_stop.clone()) {
                tracing::error!(cause = %err, "content updates are off: the sync thread did not start");
            }
        }
        std::thread::Builder::new()
            .name("kiosk-worker".into())
            .spawn(move || worker::run(job_rx, event_tx, wake))
            .expect("the worker thread starts");
        let state = State {
            content: None,
            index_ready: false,
            failed: false,
            screen: Screen::Home,
            history: Vec::new(),
            query: String::new(),
            kind: None,
            column: None,
            sort: Sort::Relevance,
            page: 1,
            sent: 0,
            shown: 0,
            results: None,
            lang: if options.english { Lang::En } else { Lang::Zh },
            elder: false,
            keyboard: false,
            idle: Idle::new(options.idle_timeout, options.idle_countdown),
            codes: HashMap::new(),
            pending_codes: HashSet::new(),
            reloading: false,
            install_step: 0,
            install_closes_in: None,
            usage: Default::default(),
            admin: Default::default(),
            stats_report: None,
            stats_pending: false,
            search_sent_at: None,
            shown_code: None,
            content_seq: None,
            banner_clears_in: None,
            item_pages: None,
        };
        let inner = Rc::new(Inner {
            window: window.as_weak(),
            options: options.clone(),
            state: RefCell::new(state),
            jobs,
            events,
            clock: slint::Timer::default(),
            sync_stop,
            notify,
            sync_send,
            started: Instant::now(),
        });
        CURRENT.with(|c| *c.borrow_mut() = Rc::downgrade(&inner));
        let kiosk = Kiosk { inner };
        let installed = options
            .source
            .is_none()
            .then(|| crate::install::status(&options.data_dir).current)
            .flatten();
        kiosk.inner.state.borrow_mut().content_seq = installed.as_ref().map(|r| r.seq);
        options.recorder.record(crate::stats::EventKind::Started {
            program: env!("CARGO_PKG_VERSION").into(),
            content_seq: installed.as_ref().map(|r| r.seq),
            content_version: installed.map(|r| r.version),
        });
        kiosk.wire(window);
        kiosk.apply_language();
        kiosk.update_clock();
        window.global::<AppState>().set_banner(
            kiosk
                .lang()
                .pick("正在载入内容……", "Loading the content…")
                .into(),
        );
        let _ = kiosk.inner.jobs.send(Job::Open {
            source: options.source,
            data_dir: options.data_dir,
            reload: false,
        });
        let weak = Rc::downgrade(&kiosk.inner);
        kiosk.inner.clock.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || Kiosk::with(&weak, "second_passed", Kiosk::second_passed),
        );
        kiosk
    }

    pub(super) fn window(&self) -> Option<AppWindow> {
        self.inner.window.upgrade()
    }

    pub(super) fn options(&self) -> &KioskOptions {
        &self.inner.options
    }

    pub(super) fn admin(&self) -> std::cell::Ref<'_, super::admin_mode::AdminMode> {
        std::cell::Ref::map(self.inner.state.borrow(), |s| &s.admin)
    }

    pub(super) fn admin_mut(&self) -> std::cell::RefMut<'_, super::admin_mode::AdminMode> {
        std::cell::RefMut::map(self.inner.state.borrow_mut(), |s| &mut s.admin)
    }

    pub(super) fn weak(&self) -> Weak<Inner> {
        Rc::downgrade(&self.inner)
    }

    pub(super) fn upgrade(weak: &Weak<Inner>) -> Option<Kiosk> {
        weak.upgrade().map(|inner| Kiosk { inner })
    }

    /// Runs `command` on the kiosk behind `weak`, if it is still there, through [`Kiosk::guarded`].
    pub(super) fn with(weak: &Weak<Inner>, what: &str, command: impl FnOnce(&Kiosk)) {
        if let Some(kiosk) = Kiosk::upgrade(weak) {
            kiosk.guarded(what, || command(&kiosk));
        }
    }

    /// Runs a command of the screen (a callback, a tick, events from the workers). A panic in
    /// it never reaches the event loop: it is logged, the visitor is taken home and told calmly.
    pub(super) fn guarded(&self, what: &str, command: impl FnOnce()) {
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(command)).is_err();
        if !failed {
            return;
        }
        tracing::error!(
            command = what,
            "a screen command failed unexpectedly; back to the home screen"
        );
        // Going home could fail the same way: then the screen stays as it is.
        let recovered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.jump_to(Screen::Home);
            self.reset_query();
            self.show();
            self.tell(self.lang().pick(
                "抱歉，刚才的操作出了问题，已回到首页。请重试，或联系服务台工作人员。",
                "Sorry, something went wrong; you are back at the start. Please try again, or ask at the service desk.",
            ));
        }));
        if recovered.is_err() {
            tracing::error!(command = what, "the home screen could not be shown either");
        }
    }

    /// Shows a message in the banner for a few seconds.
    fn tell(&self, message: &str) {
        self.inner.state.borrow_mut().banner_clears_in = Some(BANNER_SECONDS);
        if let Some(window) = self.window() {
            window.global::<AppState>().set_banner(message.into());
        }
    }

    /// A touch in the admin mode keeps it (and the screen) awake.
    pub(super) fn touched_admin(&self) {
        self.inner.state.borrow_mut().idle.touched();
    }

    pub(super) fn go_to_admin_screen(&self) {
        self.jump_to(Screen::Admin);
        self.show();
    }

    /// Home without ending a visitor's session (the admin was not one).
    pub(super) fn go_home_quietly(&self) {
        self.jump_to(Screen::Home);
        self.reset_query();
        self.show();
    }

    /// Goes to `screen` with no way back (home, the admin's pages).
    fn jump_to(&self, screen: Screen) {
        let mut state = self.inner.state.borrow_mut();
        state.screen = screen;
        state.history.clear();
        state.keyboard = false;
    }

    /// Loads the installed content again (after a rollback or an install).
    pub(super) fn reload_content(&self) {
        if self.inner.options.source.is_some() {
            return;
        }
        self.inner.state.borrow_mut().reloading = true;
        let _ = self.inner.jobs.send(Job::Open {
            source: None,
            data_dir: self.inner.options.data_dir.clone(),
            reload: true,
        });
    }

    /// Installs a bundle on a background thread, shown like a stick's install.
    pub(super) fn install_in_background(&self, bundle: PathBuf) {
        let Some(sync) = self.inner.options.sync.clone() else {
            return;
        };
        let send = self.inner.sync_send.clone();
        let spawned = std::thread::Builder::new()
            .name("kiosk-install".into())
            .spawn(move || {
                let origin = crate::sync::Origin::Usb(bundle.clone());
                let result = crate::sync::install_reporting(&sync, bundle, origin.clone(), &send);
                send(crate::sync::SyncEvent::Finished { origin, result });
                send(crate::sync::SyncEvent::ContentChanged);
            });
        if let Err(err) = spawned {
            tracing::error!(cause = %err, "cannot start the install");
        }
    }

    /// Polls the network channel once on a background thread; the outcome comes back as a
    /// message for the admin page.
    pub(super) fn sync_in_background(&self) {
        let lang = self.lang();
        let notify = self.inner.notify.clone();
        let sync_send = self.inner.sync_send.clone();
        let Some(sync) = self.inner.options.sync.clone() else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("kiosk-sync-now".into())
            .spawn(move || {
                let message = crate::sync::poll_now(&sync, &sync_send, lang == Lang::Zh);
                notify(AppEvent::AdminMessage(message));
            });
        if let Err(err) = spawned {
            tracing::error!(cause = %err, "cannot start the sync");
        }
    }

    pub(super) fn lang(&self) -> Lang {
        self.inner.state.borrow().lang
    }

    fn wire(&self, window: &AppWindow) {
        macro_rules! on {
            ($global:ty, $setter:ident, |$kiosk:ident $(, $arg:ident)*| $body:expr) => {{
                let weak = Rc::downgrade(&self.inner);
                window.global::<$global>().$setter(move |$($arg),*| {
                    Kiosk::with(&weak, stringify!($setter), |$kiosk| {
                        $body;
                    })
                });
            }};
        }
        on!(Activity, on_touched, |k| k.touched());
        on!(AppState, on_go_home, |k| k.go_home());
        on!(AppState, on_go_back, |k| k.go_back());
        on!(AppState, on_toggle_elder, |k| k.toggle_elder());
        on!(AppState, on_toggle_language, |k| k.toggle_language());
        on!(AppState, on_key, |k, key| k.key(&key));
        on!(AppState, on_backspace, |k| k.backspace());
        on!(AppState, on_clear, |k| k.set_query(String::new()));
        on!(AppState, on_submit, |k| k.submit());
        on!(AppState, on_pick_candidate, |k, word| k
            .pick_candidate(&word));
        on!(AppState, on_stay, |k| k.stay());
        on!(HomeAdapter, on_open_search, |k| k.open_search());
        on!(HomeAdapter, on_search_for, |k, q| k.search_for(&q));
        on!(HomeAdapter, on_open_column, |k, id| k.open_column(&id));
        on!(HomeAdapter, on_open_item, |k, id| k.open_item(&id));
        on!(HomeAdapter, on_open_about, |k| k.open_about());
        on!(SearchAdapter, on_edited, |k, text| k
            .set_query(text.to_string()));
        on!(SearchAdapter, on_submit, |k| k.submit());
        on!(SearchAdapter, on_open_item, |k, id| k.open_result(&id));
        on!(SearchAdapter, on_pick_kind, |k, id| k.pick_kind(&id));
        on!(SearchAdapter, on_pick_column, |k, id| k.pick_column(&id));
        on!(SearchAdapter, on_set_sort_by_date, |k, by_date| k
            .set_sort(by_date));
        on!(SearchAdapter, on_previous_page, |k| k.turn_page(-1));
        on!(SearchAdapter, on_next_page, |k| k.turn_page(1));
        on!(SearchAdapter, on_search_for, |k, q| k.search_for(&q));
        on!(SearchAdapter, on_show_keyboard, |k| k.show_keyboard(true));
        on!(ColumnAdapter, on_pick, |k, id| k.pick_column_page(&id));
        on!(ColumnAdapter, on_open_item, |k, id| k.open_item(&id));
        on!(ColumnAdapter, on_previous_page, |k| k.turn_column_page(-1));
        on!(ColumnAdapter, on_next_page, |k| k.turn_column_page(1));
        on!(ItemAdapter, on_open_item, |k, id| k.open_item(&id));
        on!(ItemAdapter, on_previous_page, |k| k.turn_item_page(-1));
        on!(ItemAdapter, on_next_page, |k| k.turn_item_page(1));
        on!(ItemAdapter, on_chose_code, |k, index| k
            .code_shown(index.max(0) as usize));
        on!(InstallState, on_dismiss, |k| k.dismiss_install());
        self.wire_admin(window);
        on!(StatsAdapter, on_export, |k| k.export_reports());
        on!(StatsAdapter, on_close, |k| if k.in_admin() {
            k.open_admin_page()
        } else {
            k.go_home()
        });
    }

    // ---- events from the worker ----

    /// Applies every event that has arrived. Called on the UI thread when the worker wakes it.
    pub fn pump(&self) {
        while let Ok(event) = self.inner.events.try_recv() {
            self.apply(event);
        }
    }

    /// Waits (up to `timeout`) until the content is loaded, the index is open and the newest
    /// search is shown, applying events as they come. For tests and screenshots, which have no
    /// running event loop.
    pub fn wait_until_idle(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            self.pump();
            if self.is_idle() {
                return true;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            match self
                .inner
                .events
                .recv_timeout(left.min(Duration::from_millis(50)))
            {
                Ok(event) => self.apply(event),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    fn is_idle(&self) -> bool {
        let state = self.inner.state.borrow();
        state.failed
            || (state.content.is_some()
                && state.index_ready
                && !state.reloading
                && !state.stats_pending
                && state.shown == state.sent
                && state.pending_codes.is_empty())
    }

    fn apply(&self, event: AppEvent) {
        let Some(window) = self.window() else { return };
        match event {
            AppEvent::Codes { key, codes } => {
                let showing = {
                    let mut state = self.inner.state.borrow_mut();
                    state.pending_codes.remove(&key);
                    state.codes.insert(key.clone(), codes);
                    match &state.screen {
                        Screen::Item { id, .. } => *id == key,
                        _ => false,
                    }
                };
                if key.starts_with("home:") {
                    self.fill_home();
                } else if showing {
                    self.show();
                }
            }
            AppEvent::ContentLoaded(Ok(content)) => {
                let replaced = self
                    .inner
                    .state
                    .borrow_mut()
                    .content
                    .replace(content)
                    .is_some();
                if replaced {
                    self.content_replaced();
                }
                window.global::<AppState>().set_banner("".into());
                self.fill_home();
                self.show();
            }
            AppEvent::ReloadFailed(err) => {
                tracing::error!(cause = %err, "the new content cannot be shown; the old content stays");
                self.inner.state.borrow_mut().reloading = false;
            }
            AppEvent::Sync(event) => self.sync_event(event),
            AppEvent::AdminMessage(message) => {
                window
                    .global::<super::AdminState>()
                    .set_message(message.into());
                if self.in_admin() {
                    self.open_admin_page();
                }
            }
            AppEvent::Stats(result) => self.show_stats(result),
            AppEvent::Exported(result) => {
                self.inner.state.borrow_mut().stats_pending = false;
                let lang = self.lang();
                let message = match result {
                    Ok(files) => {
                        let dir = files
                            .first()
                            .and_then(|f| f.parent())
                            .map(|d| d.display().to_string())
                            .unwrap_or_default();
                        match lang {
                            Lang::Zh => format!("已导出 {} 个文件到 {dir}（Markdown、CSV、Excel、JSON）。", files.len()),
                            Lang::En => format!("Exported {} files to {dir} (Markdown, CSV, Excel, JSON).", files.len()),
                        }
                    }
                    Err(err) if err.is_empty() => lang
                        .pick(
                            "未找到导出用的U盘：请在U盘根目录建一个名为 kiosk-reports 的文件夹，再插入本机。",
                            "No export stick found: make a folder named kiosk-reports at the top of a USB stick, then plug it in.",
                        )
                        .into(),
                    Err(err) => match lang {
                        Lang::Zh => format!("导出失败：{err}"),
                        Lang::En => format!("The export failed: {err}"),
                    },
                };
                window
                    .global::<StatsAdapter>()
                    .set_export_message(message.into());
            }
            AppEvent::ContentLoaded(Err(err)) if self.inner.state.borrow().content.is_some() => {
                tracing::error!(cause = %err, "opening the content failed after it was shown");
            }
            AppEvent::ContentLoaded(Err(err)) => {
                tracing::error!(cause = %err, "cannot load the content");
                self.inner.state.borrow_mut().failed = true;
                let message = self.lang().pick(
                    "暂时无法显示内容，请联系服务台工作人员。",
                    "The content cannot be shown right now. Please ask at the service desk.",
                );
                window.global::<AppState>().set_banner(message.into());
            }
            AppEvent::IndexReady(result) => {
                let ok = result.is_ok();
                {
                    let mut state = self.inner.state.borrow_mut();
                    state.index_ready = true;
                    state.reloading = false;
                }
                if let Err(err) = result {
                    tracing::error!(cause = %err, "search is unavailable");
                    let message = self.lang().pick(
                        "检索暂时不可用，可以按栏目浏览。",
                        "Search is unavailable for now; browse by column instead.",
                    );
                    window.global::<AppState>().set_banner(message.into());
                    // Nothing will answer the searches sent so far.
                    let mut state = self.inner.state.borrow_mut();
                    state.shown = state.sent;
                }
                window.global::<SearchAdapter>().set_ready(ok);
                if ok && !self.inner.state.borrow().query.is_empty() {
                    self.run_search();
                }
            }
            AppEvent::Searched {
                generation,
                results,
                candidates,
            } => {
                let mut state = self.inner.state.borrow_mut();
                if generation < state.shown {
                    return;
                }
                state.shown = generation;
                let search = window.global::<SearchAdapter>();
                search.set_candidates(ModelRc::new(VecModel::from(
                    candidates
                        .into_iter()
                        .map(SharedString::from)
                        .collect::<Vec<_>>(),
                )));
                if generation != state.sent {
                    return;
                }
                search.set_searching(false);
                match results {
                    Ok(results) => {
                        let latency_ms = state
                            .search_sent_at
                            .map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0);
                        let searched = super::usage::Searched {
                            // Masked before it is cut: no part of a number is kept.
                            query: if results.blank {
                                String::new()
                            } else {
                                crate::stats::privacy::for_record(&state.query)
                            },
                            kind: state.kind.map(|k| k.as_str().to_owned()),
                            column: state.column.clone(),
                            results: results.total as u64,
                            latency_ms,
                        };
                        state.usage.searched(searched);
                        state.results = Some(results);
                    }
                    Err(err) => {
                        tracing::error!(cause = %err, "search failed");
                        state.results = None;
                    }
                }
                drop(state);
                self.fill_results();
            }
        }
    }

    // ---- commands ----

    fn navigate(&self, screen: Screen) {
        {
            let mut state = self.inner.state.borrow_mut();
            if state.screen != screen {
                let previous = std::mem::replace(&mut state.screen, screen);
                state.history.push(previous);
                if state.history.len() > 50 {
                    state.history.remove(0);
                }
            }
        }
        self.show();
    }

    fn go_home(&self) {
        self.end_session(crate::stats::EndReason::Home);
        self.go_home_quietly();
    }

    fn go_back(&self) {
        let previous = self.inner.state.borrow_mut().history.pop();
        if let Some(screen) = previous {
            self.inner.state.borrow_mut().screen = screen;
            self.show();
        } else {
            self.go_home();
        }
    }

    fn reset_query(&self) {
        let mut state = self.inner.state.borrow_mut();
        state.query.clear();
        state.kind = None;
        state.column = None;
        state.sort = Sort::Relevance;
        state.page = 1;
        state.results = None;
        state.sent += 1;
        state.shown = state.sent;
        drop(state);
        if let Some(window) = self.window() {
            let search = window.global::<SearchAdapter>();
            search.set_query("".into());
            search.set_candidates(ModelRc::default());
        }
        self.fill_results();
    }

    fn open_search(&self) {
        self.inner.state.borrow_mut().keyboard = true;
        self.navigate(Screen::Search);
    }

    pub fn show_keyboard(&self, open: bool) {
        self.inner.state.borrow_mut().keyboard = open;
        if let Some(window) = self.window() {
            window.global::<AppState>().set_keyboard_open(open);
        }
    }

    fn search_for(&self, query: &str) {
        self.inner.state.borrow_mut().keyboard = false;
        self.set_query(format!("{query} "));
    }

    fn key(&self, key: &str) {
        // Letters, digits, Chinese and a space; not the private codes of arrow or function keys.
        let printable =
            |c: char| c == ' ' || (c.is_alphanumeric() && !('\u{E000}'..='\u{F8FF}').contains(&c));
        if key.is_empty() || !key.chars().all(printable) {
            return;
        }
        let mut query = self.inner.state.borrow().query.clone();
        if query.chars().count() >= crate::search::plan::MAX_QUERY_CHARS {
            return;
        }
        query.push_str(&key.to_lowercase());
        self.set_query(query);
    }

    fn backspace(&self) {
        let mut query = self.inner.state.borrow().query.clone();
        query.pop();
        self.set_query(query);
    }

    /// Replaces the pinyin being typed (the last word, letters and the characters mixed in)
    /// with the chosen Chinese word.
    fn pick_candidate(&self, word: &str) {
        let query = self.inner.state.borrow().query.clone();
        let head = typed_tail_start(&query);
        self.set_query(format!("{}{word}", &query[..head]));
    }

    fn submit(&self) {
        self.show_keyboard(false);
        let settled = self
            .inner
            .state
            .borrow_mut()
            .usage
            .settle_search(Instant::now());
        self.record(settled);
        let query = self.inner.state.borrow().query.clone();
        if !query.ends_with(' ') && !query.is_empty() {
            // A submitted query is finished: its last word is no longer a prefix.
            self.set_query(format!("{query} "));
        }
    }

    pub fn set_query(&self, query: String) {
        {
            let mut state = self.inner.state.borrow_mut();
            state.query = query.clone();
            state.page = 1;
            state.column = None;
        }
        if let Some(window) = self.window() {
            let search = window.global::<SearchAdapter>();
            if search.get_query() != query.as_str() {
                search.set_query(query.as_str().into());
            }
        }
        if self.inner.state.borrow().screen != Screen::Search {
            self.navigate(Screen::Search);
        } else {
            self.show();
        }
        self.run_search();
    }

    fn pick_kind(&self, id: &str) {
        {
            let mut state = self.inner.state.borrow_mut();
            state.kind = ItemKind::parse(id);
            state.page = 1;
        }
        self.run_search();
    }

    fn pick_column(&self, id: &str) {
        {
            let mut state = self.inner.state.borrow_mut();
            state.column = if state.column.as_deref() == Some(id) {
                None
            } else {
                Some(id.to_owned())
            };
            state.page = 1;
        }
        self.run_search();
    }

    fn set_sort(&self, by_date: bool) {
        {
            let mut state = self.inner.state.borrow_mut();
            state.sort = if by_date { Sort::Date } else { Sort::Relevance };
            state.page = 1;
        }
        self.run_search();
    }

    fn turn_page(&self, delta: i32) {
        {
            let mut state = self.inner.state.borrow_mut();
            let pages = state
                .results
                .as_ref()
                .map_or(1, |r| r.total.div_ceil(PAGE_SIZE))
                .max(1);
            state.page = (state.page as i32 + delta).clamp(1, pages as i32) as usize;
        }
        self.run_search();
    }

    fn run_search(&self) {
        let mut state = self.inner.state.borrow_mut();
        if state.query.trim().is_empty() {
            state.results = None;
            state.sent += 1;
            state.shown = state.sent;
            drop(state);
            if let Some(window) = self.window() {
                window
                    .global::<SearchAdapter>()
                    .set_candidates(ModelRc::default());
            }
            self.fill_results();
            return;
        }
        state.sent += 1;
        let request = SearchRequest {
            query: state.query.clone(),
            kind: state.kind,
            column: state.column.clone(),
            year: None,
            sort: state.sort,
            offset: (state.page - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
        };
        let typed = state.query[typed_tail_start(&state.query)..].to_owned();
        let typed = if typed.chars().any(|c| c.is_ascii_alphabetic()) {
            typed
        } else {
            String::new()
        };
        let job = Job::Search {
            generation: state.sent,
            request,
            typed,
        };
        state.search_sent_at = Some(Instant::now());
        drop(state);
        if let Some(window) = self.window() {
            window.global::<SearchAdapter>().set_searching(true);
        }
        if self.inner.jobs.send(job).is_err() {
            tracing::error!("the search worker has stopped");
        }
    }

    pub fn open_column(&self, id: &str) {
        self.column_browsed(id);
        self.navigate(Screen::Column {
            id: id.to_owned(),
            page: 1,
        });
    }

    fn pick_column_page(&self, id: &str) {
        // Choosing another column replaces the catalogue page instead of stacking up history.
        self.column_browsed(id);
        let mut state = self.inner.state.borrow_mut();
        if let Screen::Column { .. } = state.screen {
            state.screen = Screen::Column {
                id: id.to_owned(),
                page: 1,
            };
            drop(state);
            self.show();
        } else {
            drop(state);
            self.open_column(id);
        }
    }

    fn turn_column_page(&self, delta: i32) {
        let mut state = self.inner.state.borrow_mut();
        if let Screen::Column { id, page } = &state.screen {
            let count = state
                .content
                .as_ref()
                .map_or(0, |c| view::column_entries(c, id).len());
            let pages = count.div_ceil(PAGE_SIZE).max(1);
            let page = (*page as i32 + delta).clamp(1, pages as i32) as usize;
            state.screen = Screen::Column {
                id: id.clone(),
                page,
            };
        }
        drop(state);
        self.show();
    }

    pub fn open_item(&self, id: &str) {
        if id.is_empty() {
            return;
        }
        self.navigate(Screen::Item {
            id: id.to_owned(),
            page: 1,
        });
    }

    /// The next (`delta` 1) or previous (-1) page of the item's body.
    fn turn_item_page(&self, delta: i32) {
        let mut state = self.inner.state.borrow_mut();
        if let Screen::Item { id, page } = &state.screen {
            let pages = state
                .item_pages
                .as_ref()
                .map_or(1, |(_, pages)| pages.len());
            let page = (*page as i32 + delta).clamp(1, pages as i32) as usize;
            state.screen = Screen::Item {
                id: id.clone(),
                page,
            };
        }
        drop(state);
        self.show();
    }

    pub fn toggle_elder(&self) {
        let elder = {
            let mut state = self.inner.state.borrow_mut();
            state.elder = !state.elder;
            state.elder
        };
        if let Some(window) = self.window() {
            window.global::<Theme>().set_elder(elder);
        }
        self.record_in_session(|session| crate::stats::EventKind::ElderMode { session, on: elder });
    }

    pub fn toggle_language(&self) {
        {
            let mut state = self.inner.state.borrow_mut();
            state.lang = if state.lang == Lang::Zh {
                Lang::En
            } else {
                Lang::Zh
            };
        }
        let lang = if self.lang() == Lang::En { "en" } else { "zh" };
        self.record_in_session(|session| crate::stats::EventKind::Language {
            session,
            lang: lang.into(),
        });
        self.apply_language();
        self.fill_home();
        self.show();
        self.fill_results();
    }

    fn apply_language(&self) {
        let lang = self.lang();
        // The .slint text is Chinese; English is its bundled translation ("" is the original).
        let _ = slint::select_bundled_translation(if lang == Lang::En { "en" } else { "" });
        if let Some(window) = self.window() {
            window.global::<AppState>().set_english(lang == Lang::En);
        }
        self.update_clock();
    }

    fn open_about(&self) {
        let Some(window) = self.window() else { return };
        let state = self.inner.state.borrow();
        let lang = state.lang;
        let content = state.content.as_ref().map(|c| {
            let site = &c.site;
            match lang {
                Lang::Zh => format!("内容：{}（{}，{} 条）", site.name, site.id, c.items.len()),
                Lang::En => format!(
                    "Content: {} ({}, {} items)",
                    site.name,
                    site.id,
                    c.items.len()
                ),
            }
        });
        let text = [
            format!("kiosk {} — {}", env!("CARGO_PKG_VERSION"), lang.pick("政务服务大厅信息公开查阅终端", "information terminal for a government service hall")),
            lang.pick("本软件以 GNU 通用公共许可证第 3 版或更新版本（GPL-3.0-or-later）发布。", "Free software under the GNU General Public License, version 3 or later (GPL-3.0-or-later).").to_owned(),
            lang.pick("使用的组件：Slint（GPL-3.0）、tantivy（MIT）、jieba-rs（MIT）、SQLite（公有领域）、Noto Sans CJK SC 字体子集（SIL OFL 1.1），以及 README 所列的其他开源组件。", "Built with Slint (GPL-3.0), tantivy (MIT), jieba-rs (MIT), SQLite (public domain), a subset of the Noto Sans CJK SC font (SIL OFL 1.1) and the other open-source parts listed in the README.").to_owned(),
            content.unwrap_or_default(),
            self.installed_text(lang),
        ]
        .join("\n\n");
        drop(state);
        let app = window.global::<AppState>();
        app.set_about(text.trim().into());
        app.set_about_open(true);
    }

    // ---- content updates ----

    /// Shows what the sync thread reports (also how screenshots stage an install).
    pub fn sync_event(&self, event: crate::sync::SyncEvent) {
        use crate::sync::{Origin, SyncEvent};
        let Some(window) = self.window() else { return };
        let panel = window.global::<InstallState>();
        let lang = self.lang();
        match event {
            SyncEvent::ContentChanged => {
                if self.inner.options.source.is_some() {
                    return; // this screen shows a named source, not the installed content
                }
                tracing::info!("the installed content changed; loading it");
                if let Some(record) = crate::install::status(&self.inner.options.data_dir).current {
                    let mut state = self.inner.state.borrow_mut();
                    if state.content_seq != Some(record.seq) {
                        state.content_seq = Some(record.seq);
                        drop(state);
                        self.inner.options.recorder.record(
                            crate::stats::EventKind::ContentInstalled {
                                seq: record.seq,
                                version: record.version,
                                from: record.from,
                            },
                        );
                    }
                }
                self.inner.state.borrow_mut().reloading = true;
                let _ = self.inner.jobs.send(Job::Open {
                    source: None,
                    data_dir: self.inner.options.data_dir.clone(),
                    reload: true,
                });
            }
            // Network updates happen quietly: the content just changes between two searches.
            SyncEvent::Started(Origin::Network(url)) => {
                tracing::info!(channel = %url, "installing content from the network");
            }
            SyncEvent::Started(Origin::Usb(path)) => {
                {
                    let mut state = self.inner.state.borrow_mut();
                    state.install_step = 0;
                    state.install_closes_in = None;
                }
                panel.set_title(
                    lang.pick("正在从U盘更新内容", "Updating the content from a USB stick")
                        .into(),
                );
                // The file's name, never a path a stick could make as long as it likes.
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                panel.set_source(crate::fit::line(&name, crate::fit::LABEL).into());
                panel.set_steps(ModelRc::new(VecModel::from(vec![0; 6])));
                panel.set_progress(0.0);
                panel.set_running(true);
                panel.set_outcome(0);
                panel.set_message("".into());
                panel.set_reason("".into());
                panel.set_visible(true);
            }
            SyncEvent::Progress(progress) => {
                if !panel.get_visible() || !panel.get_running() {
                    return;
                }
                let position = progress.step.position();
                self.inner.state.borrow_mut().install_step = position;
                let steps: Vec<i32> = (0..6)
                    .map(|i| match i.cmp(&position) {
                        std::cmp::Ordering::Less => 2,
                        std::cmp::Ordering::Equal => 1,
                        std::cmp::Ordering::Greater => 0,
                    })
                    .collect();
                panel.set_steps(ModelRc::new(VecModel::from(steps)));
                let overall = (position as f32 + progress.fraction.clamp(0.0, 1.0)) / 6.0;
                panel.set_progress(overall);
            }
            SyncEvent::Finished { origin, result } => {
                if let Origin::Network(url) = &origin {
                    match &result {
                        Ok(record) => {
                            tracing::info!(channel = %url, seq = record.seq, "installed from the network")
                        }
                        Err(refusal) => {
                            tracing::warn!(channel = %url, ?refusal, "the network bundle was refused")
                        }
                    }
                    return;
                }
                let (outcome, message, reason, failed_step) = install_outcome(&result, lang);
                let step = self.inner.state.borrow().install_step;
                let steps: Vec<i32> = (0..6)
                    .map(|i| match (&result, failed_step) {
                        (Ok(_), _) => 2,
                        (Err(_), true) if i == step => 3,
                        _ if i < step => 2,
                        _ => 0,
                    })
                    .collect();
                panel.set_steps(ModelRc::new(VecModel::from(steps)));
                panel.set_title(
                    lang.pick("U盘内容更新", "Content update from a USB stick")
                        .into(),
                );
                panel.set_outcome(outcome);
                panel.set_message(message.into());
                panel.set_reason(reason.into());
                panel.set_running(false);
                panel.set_visible(true);
                self.inner.state.borrow_mut().install_closes_in = Some(30);
            }
        }
    }

    fn dismiss_install(&self) {
        self.inner.state.borrow_mut().install_closes_in = None;
        if let Some(window) = self.window() {
            let panel = window.global::<InstallState>();
            if !panel.get_running() {
                panel.set_visible(false);
            }
        }
    }

    /// New content replaced the old: forget what belonged to the old (QR codes, pages of
    /// items that are gone) and show the same place in the new content where it still exists.
    fn content_replaced(&self) {
        let mut state = self.inner.state.borrow_mut();
        state.item_pages = None;
        state.codes.clear();
        state.pending_codes.clear();
        let Some(content) = state.content.clone() else {
            return;
        };
        let exists = |screen: &Screen| match screen {
            Screen::Home | Screen::Search | Screen::Stats | Screen::Admin => true,
            Screen::Item { id, .. } => content.item(id).is_some(),
            Screen::Column { id, .. } => content.columns.get(id).is_some(),
        };
        state.history.retain(|screen| exists(screen));
        if !exists(&state.screen) {
            state.screen = state.history.pop().unwrap_or(Screen::Home);
        }
        if let Screen::Column { page, .. } = &mut state.screen {
            *page = 1;
        }
        if state
            .column
            .as_deref()
            .is_some_and(|id| content.columns.get(id).is_none())
        {
            state.column = None;
        }
    }

    /// The About panel's line on the installed content version, when installed content is shown.
    fn installed_text(&self, lang: Lang) -> String {
        if self.inner.options.source.is_some() {
            return String::new();
        }
        let Some(record) = crate::install::status(&self.inner.options.data_dir).current else {
            return lang
                .pick(
                    "内容版本：内置示例内容",
                    "Content version: the built-in sample",
                )
                .into();
        };
        let when = crate::content::format_local(
            record.installed_at,
            self.inner.options.utc_offset_minutes,
        );
        match lang {
            Lang::Zh => format!(
                "内容版本：“{}”（第 {} 版），{} 安装",
                record.version, record.seq, when
            ),
            Lang::En => format!(
                "Content version: “{}” (no. {}), installed {}",
                record.version, record.seq, when
            ),
        }
    }

    // ---- the schedule ----

    /// Blanks the screen at night while nobody uses it, and restarts once a day when idle.
    fn follow_schedule(&self) {
        let schedule = self.inner.options.schedule;
        if schedule == crate::schedule::Schedule::default() {
            return;
        }
        let minute = crate::schedule::local_minute(
            crate::content::unix_now(),
            self.inner.options.utc_offset_minutes,
        );
        let unused = !self.inner.state.borrow().usage.in_session() && !self.in_admin();
        if let Some(window) = self.window() {
            window
                .global::<AppState>()
                .set_blank(unused && schedule.blank_at(minute));
        }
        let uptime = self.inner.started.elapsed();
        if unused && schedule.restart_at(minute) && uptime > Duration::from_secs(10 * 60) {
            tracing::info!("the daily restart");
            self.admin_mut().restart_requested = true;
            let _ = slint::quit_event_loop();
        }
    }

    // ---- usage statistics ----

    /// Opens the admin's statistics screen: the last 30 days, computed on the worker.
    pub fn open_stats(&self) {
        let Some(terminal) = self.inner.options.recorder.terminal().map(str::to_owned) else {
            if let Some(window) = self.window() {
                window.global::<StatsAdapter>().set_export_message(
                    self.lang()
                        .pick(
                            "本机未开启使用统计。",
                            "Usage statistics are off on this terminal.",
                        )
                        .into(),
                );
            }
            self.navigate(Screen::Stats);
            return;
        };
        // What was recorded so far is in the store before the figures are read.
        self.inner.options.recorder.flush();
        let offset = self.inner.options.utc_offset_minutes;
        let _ = self.inner.jobs.send(Job::Stats {
            db: self.inner.options.data_dir.stats_db(),
            period: crate::stats::recent_days(30, offset),
            utc_offset_minutes: offset,
            terminal,
        });
        self.inner.state.borrow_mut().stats_pending = true;
        if let Some(window) = self.window() {
            window
                .global::<StatsAdapter>()
                .set_export_message("".into());
        }
        self.navigate(Screen::Stats);
    }

    fn show_stats(&self, result: Result<worker::StatsData, String>) {
        let Some(window) = self.window() else { return };
        let adapter = window.global::<StatsAdapter>();
        let lang = self.lang();
        let data = match result {
            Ok(data) => data,
            Err(err) => {
                tracing::error!(cause = %err, "cannot read the statistics");
                adapter.set_export_message(
                    lang.pick(
                        "暂时无法读取统计数据。",
                        "The statistics cannot be read right now.",
                    )
                    .into(),
                );
                self.inner.state.borrow_mut().stats_pending = false;
                return;
            }
        };
        let view = view::stats(&data.report, &data.daily, lang);
        adapter.set_period(view.period.into());
        adapter.set_tiles(ModelRc::new(VecModel::from(
            view.tiles
                .into_iter()
                .map(|(label, value)| StatTile {
                    label: label.into(),
                    value: value.into(),
                })
                .collect::<Vec<_>>(),
        )));
        let bars = |bars: Vec<(String, u64)>| {
            ModelRc::new(VecModel::from(
                bars.into_iter()
                    .map(|(label, value)| BarData {
                        label: label.into(),
                        value: value as i32,
                        note: "".into(),
                    })
                    .collect::<Vec<_>>(),
            ))
        };
        adapter.set_daily_max(view.daily.iter().map(|(_, v)| *v).max().unwrap_or(0) as i32);
        adapter.set_daily(bars(view.daily));
        adapter.set_heat_max(view.heat.iter().copied().max().unwrap_or(0) as i32);
        adapter.set_heat(ModelRc::new(VecModel::from(
            view.heat.into_iter().map(|v| v as i32).collect::<Vec<_>>(),
        )));
        adapter.set_top_searches(bars(view.top_searches));
        adapter.set_zero_searches(bars(view.zero_searches));
        let mut state = self.inner.state.borrow_mut();
        state.stats_pending = false;
        state.stats_report = Some(Box::new(data.report));
    }

    fn export_reports(&self) {
        let report = self.inner.state.borrow().stats_report.clone();
        let Some(report) = report else { return };
        let roots = self
            .inner
            .options
            .sync
            .as_ref()
            .map(|s| s.mount_roots.clone())
            .unwrap_or_default();
        if let Some(window) = self.window() {
            window
                .global::<StatsAdapter>()
                .set_export_message(self.lang().pick("正在导出……", "Exporting…").into());
        }
        self.inner.state.borrow_mut().stats_pending = true;
        let _ = self.inner.jobs.send(Job::Export { report, roots });
    }

    fn record(&self, events: Vec<crate::stats::EventKind>) {
        for event in events {
            self.inner.options.recorder.record(event);
        }
    }

    /// Records an event of the visitor's session (starting one if needed).
    fn record_in_session(&self, make: impl FnOnce(String) -> crate::stats::EventKind) {
        let mut events = Vec::new();
        let session = self
            .inner
            .state
            .borrow_mut()
            .usage
            .session(Instant::now(), &mut events);
        events.push(make(session));
        self.record(events);
    }

    fn touched(&self) {
        let events = {
            let mut state = self.inner.state.borrow_mut();
            state.idle.touched();
            state.usage.touched(Instant::now())
        };
        self.record(events);
    }

    fn end_session(&self, reason: crate::stats::EndReason) {
        let events = {
            let mut state = self.inner.state.borrow_mut();
            state.shown_code = None;
            state.usage.end(reason, Instant::now())
        };
        self.record(events);
    }

    fn column_browsed(&self, id: &str) {
        let name = self
            .inner
            .state
            .borrow()
            .content
            .as_ref()
            .map(|c| c.columns.path(id).join(" / "))
            .unwrap_or_default();
        self.record_in_session(|session| crate::stats::EventKind::ColumnBrowsed {
            session,
            column: id.to_owned(),
            column_name: name,
        });
    }

    /// A result opened from the search page: recorded with its rank, then opened.
    fn open_result(&self, id: &str) {
        let rank = {
            let state = self.inner.state.borrow();
            state.results.as_ref().and_then(|results| {
                let at = results.hits.iter().position(|h| h.id == id)?;
                Some((state.page - 1) * PAGE_SIZE + at + 1)
            })
        };
        if let Some(rank) = rank {
            let mut events = self
                .inner
                .state
                .borrow_mut()
                .usage
                .settle_search(Instant::now());
            let (query, title) = {
                let state = self.inner.state.borrow();
                let title = state
                    .content
                    .as_ref()
                    .and_then(|c| c.item(id))
                    .map(|i| i.title.clone())
                    .unwrap_or_default();
                (state.usage.last_query(), title)
            };
            let mut start = Vec::new();
            let session = self
                .inner
                .state
                .borrow_mut()
                .usage
                .session(Instant::now(), &mut start);
            events.extend(start);
            events.push(crate::stats::EventKind::ResultOpened {
                session,
                query,
                item: id.to_owned(),
                title,
                rank: rank as u32,
            });
            self.record(events);
        }
        self.open_item(id);
    }

    /// The visitor chose the item's code at `index` (the first is shown without choosing).
    pub fn code_shown(&self, index: usize) {
        let (item, kind) = {
            let state = self.inner.state.borrow();
            let Screen::Item { id, .. } = &state.screen else {
                return;
            };
            if state.shown_code.as_ref() == Some(&(id.clone(), index)) {
                return;
            }
            let Some(item) = state.content.as_ref().and_then(|c| c.item(id)).cloned() else {
                return;
            };
            let takeaways = takeaway::takeaways(&item);
            let Some(takeaway) = takeaways.get(index) else {
                return;
            };
            (item, takeaway.kind)
        };
        self.inner.state.borrow_mut().shown_code = Some((item.id.clone(), index));
        let code = match kind {
            takeaway::Kind::Page => "page",
            takeaway::Kind::Checklist => "checklist",
            takeaway::Kind::Online => "online",
            takeaway::Kind::Attachment(_) => "attachment",
        };
        self.record_in_session(|session| crate::stats::EventKind::QrShown {
            session,
            item: item.id.clone(),
            title: item.title.clone(),
            code: code.into(),
        });
    }

    /// Tells the statistics what is on screen: leaving the search page settles its search;
    /// an item on screen starts its view (and shows its first code).
    fn track_screen(&self) {
        let now = Instant::now();
        let (screen, viewed) = {
            let state = self.inner.state.borrow();
            let viewed = match &state.screen {
                Screen::Item { id, .. } => state.content.as_ref().and_then(|c| {
                    let item = c.item(id)?;
                    Some(super::usage::Viewed {
                        item: item.id.clone(),
                        title: item.title.clone(),
                        column: item.column.clone(),
                        column_name: c.columns.path(&item.column).join(" / "),
                    })
                }),
                _ => None,
            };
            (state.screen.clone(), viewed)
        };
        let mut events = Vec::new();
        {
            let mut state = self.inner.state.borrow_mut();
            if screen != Screen::Search {
                events.extend(state.usage.settle_search(now));
            }
            events.extend(state.usage.showing(viewed, now));
        }
        self.record(events);
        if let Screen::Item { .. } = screen {
            self.code_shown(0);
        }
    }

    fn stay(&self) {
        self.inner.state.borrow_mut().idle.touched();
        if let Some(window) = self.window() {
            window.global::<AppState>().set_idle_countdown(0);
        }
    }

    /// Once a second: the clock, and the idle reset.
    pub fn second_passed(&self) {
        let clear = {
            let mut state = self.inner.state.borrow_mut();
            match &mut state.banner_clears_in {
                Some(0) => {
                    state.banner_clears_in = None;
                    true
                }
                Some(left) => {
                    *left -= 1;
                    false
                }
                None => false,
            }
        };
        if clear {
            if let Some(window) = self.window() {
                window.global::<AppState>().set_banner("".into());
            }
        }
        self.update_clock();
        self.follow_schedule();
        let settled = self.inner.state.borrow_mut().usage.tick(Instant::now());
        self.record(settled);
        let close_install = {
            let mut state = self.inner.state.borrow_mut();
            match &mut state.install_closes_in {
                Some(0) => true,
                Some(left) => {
                    *left -= 1;
                    false
                }
                None => false,
            }
        };
        if close_install {
            self.dismiss_install();
        }
        let step = {
            let mut state = self.inner.state.borrow_mut();
            let pristine = state.screen == Screen::Home
                && state.query.is_empty()
                && !state.elder
                && state.lang
                    == if self.inner.options.english {
                        Lang::En
                    } else {
                        Lang::Zh
                    };
            state.idle.tick(pristine)
        };
        let Some(window) = self.window() else { return };
        match step {
            IdleStep::Quiet => window.global::<AppState>().set_idle_countdown(0),
            IdleStep::Countdown(left) => {
                window.global::<AppState>().set_idle_countdown(left as i32)
            }
            IdleStep::Reset => self.reset_for_next_visitor(),
        }
    }

    /// Back to home with nothing of the last visitor left: query, filters, history, settings.
    pub fn reset_for_next_visitor(&self) {
        self.leave_admin("idle");
        self.end_session(crate::stats::EndReason::Idle);
        {
            let mut state = self.inner.state.borrow_mut();
            state.elder = false;
            state.lang = if self.inner.options.english {
                Lang::En
            } else {
                Lang::Zh
            };
            state.idle.touched();
        }
        if let Some(window) = self.window() {
            window.global::<Theme>().set_elder(false);
            window.global::<AppState>().set_idle_countdown(0);
        }
        self.apply_language();
        self.fill_home();
        self.go_home();
        self.dismiss_install();
    }

    fn update_clock(&self) {
        let Some(window) = self.window() else { return };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let local = now.as_secs() as i64 + i64::from(self.inner.options.utc_offset_minutes) * 60;
        let (days, seconds) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let app = window.global::<AppState>();
        app.set_time(format!("{:02}:{:02}", seconds / 3600, seconds % 3600 / 60).into());
        if let Some(date) = Date::from_days_since_epoch(days) {
            app.set_date(date_text(date, days, self.lang()).into());
        }
    }

    // ---- filling the pages ----

    fn fill_home(&self) {
        let Some(window) = self.window() else { return };
        let state = self.inner.state.borrow();
        let Some(content) = state.content.clone() else {
            return;
        };
        let lang = state.lang;
        drop(state);
        let app = window.global::<AppState>();
        app.set_hall(
            content
                .site
                .hall
                .clone()
                .unwrap_or_else(|| content.site.name.clone())
                .into(),
        );
        app.set_site(if content.site.hall.is_some() {
            content.site.name.as_str().into()
        } else {
            SharedString::new()
        });
        let home = window.global::<HomeAdapter>();
        home.set_tiles(ModelRc::new(VecModel::from(view::tiles(&content))));
        home.set_hot_searches(ModelRc::new(VecModel::from(
            view::hot_searches(&content, 6)
                .into_iter()
                .map(SharedString::from)
                .collect::<Vec<_>>(),
        )));
        let services = view::services(&content);
        let (guide_id, guide_title, guide_count) = services.guides.unwrap_or_default();
        let guide_title = if guide_title.is_empty() {
            lang.pick("办事指南", "Service guides").to_owned()
        } else {
            guide_title
        };
        home.set_guide_entry(view::service(
            &guide_id,
            &guide_title,
            format!(
                "{guide_count} {}",
                lang.pick(
                    "项服务 · 材料、流程、地点一目了然",
                    "services · materials, steps and places at a glance"
                )
            ),
            QrData::default(),
        ));
        let entry = |id: Option<String>, title: (&str, &str), subtitle: (&str, &str)| {
            let id = id.unwrap_or_default();
            let page: Vec<Takeaway> = content
                .item(&id)
                .map(|item| {
                    takeaway::takeaways(item)
                        .into_iter()
                        .filter(|t| t.kind == takeaway::Kind::Page)
                        .collect()
                })
                .unwrap_or_default();
            let qr = self
                .codes_for(&format!("home:{id}"), &page)
                .into_iter()
                .next()
                .unwrap_or_default();
            view::service(
                &id,
                lang.pick(title.0, title.1),
                lang.pick(subtitle.0, subtitle.1).to_owned(),
                qr,
            )
        };
        home.set_apply_entry(entry(
            services.apply,
            ("依申请公开", "Request information"),
            (
                "如何申请政府信息公开",
                "How to request government information",
            ),
        ));
        home.set_complain_entry(entry(
            services.complain,
            ("投诉咨询", "Complaints & questions"),
            (
                "12345 热线 · 窗口 · 网上信箱",
                "12345 hotline · desk · online mailbox",
            ),
        ));
    }

    fn fill_results(&self) {
        let Some(window) = self.window() else { return };
        let state = self.inner.state.borrow();
        let lang = state.lang;
        let search = window.global::<SearchAdapter>();
        let results = state.results.as_ref();
        let empty = SearchResults::default();
        let shown = results.unwrap_or(&empty);
        search.set_hits(ModelRc::new(VecModel::from(view::hits(shown, lang))));
        search.set_total(shown.total as i32);
        search.set_kind_chips(ModelRc::new(VecModel::from(if results.is_some() {
            view::kind_chips(shown, state.kind, lang)
        } else {
            Vec::new()
        })));
        search.set_column_chips(ModelRc::new(VecModel::from(view::column_chips(
            shown,
            state.column.as_deref(),
        ))));
        search.set_sort_by_date(state.sort == Sort::Date);
        search.set_page(state.page as i32);
        search.set_pages(shown.total.div_ceil(PAGE_SIZE).max(1) as i32);
        let summary = match results {
            None => String::new(),
            Some(r) if lang == Lang::Zh => format!("共 {} 条结果", r.total),
            Some(r) => format!("{} results", r.total),
        };
        search.set_summary(summary.into());
        let notice = match results {
            Some(r) if r.relaxed => lang.pick(
                "没有完全匹配的内容，以下结果包含部分词语",
                "Nothing matches every word; these match some of them",
            ),
            Some(r) if r.shortened => lang.pick(
                "输入过长，只按前 64 个字检索",
                "The query was long; only its first 64 characters were used",
            ),
            _ => "",
        };
        search.set_notice(notice.into());
        search.set_suggestion(
            results
                .and_then(|r| r.suggestion.clone())
                .unwrap_or_default()
                .into(),
        );
        search.set_searched_as(
            results
                .and_then(|r| r.searched_as.clone())
                .unwrap_or_default()
                .into(),
        );
        let fallbacks = results
            .map(|r| r.popular.clone())
            .filter(|p| !p.is_empty())
            .unwrap_or_default();
        search.set_fallbacks(ModelRc::new(VecModel::from(
            fallbacks
                .into_iter()
                .map(SharedString::from)
                .collect::<Vec<_>>(),
        )));
    }

    /// Shows the current screen.
    fn show(&self) {
        self.track_screen();
        let Some(window) = self.window() else { return };
        let state = self.inner.state.borrow();
        let app = window.global::<AppState>();
        app.set_can_go_back(!state.history.is_empty());
        app.set_keyboard_open(state.keyboard && state.screen == Screen::Search);
        let screen = state.screen.clone();
        let lang = state.lang;
        let content = state.content.clone();
        drop(state);
        match screen {
            Screen::Home => app.set_page(Page::Home),
            Screen::Stats => app.set_page(Page::Stats),
            Screen::Admin => app.set_page(Page::Admin),
            Screen::Search => app.set_page(Page::Search),
            Screen::Column { id, page } => {
                let Some(content) = content else { return };
                let columns = window.global::<ColumnAdapter>();
                columns.set_columns(ModelRc::new(VecModel::from(view::column_tree(
                    &content, &id,
                ))));
                let items = view::column_entries(&content, &id);
                let pages = items.len().div_ceil(PAGE_SIZE).max(1);
                let page = page.min(pages);
                let shown: Vec<_> = items
                    .into_iter()
                    .skip((page - 1) * PAGE_SIZE)
                    .take(PAGE_SIZE)
                    .collect();
                columns.set_entries(ModelRc::new(VecModel::from(view::entries(&shown, lang))));
                columns.set_title(content.columns.path(&id).join(" / ").into());
                columns.set_page(page as i32);
                columns.set_pages(pages as i32);
                app.set_page(Page::Column);
            }
            Screen::Item { id, page } => {
                super::panic_point("show-item");
                let Some(content) = content else { return };
                let Some(item) = content.item(&id) else {
                    tracing::warn!(item = %id, "no such item");
                    return;
                };
                let takeaways = takeaway::takeaways(item);
                let codes = self.codes_for(&id, &takeaways);
                let note = if takeaways.is_empty() {
                    lang.pick(
                        "本条内容没有可在手机上打开的网址。",
                        "This item has no web address to open on a phone.",
                    )
                } else if takeaways.iter().any(|t| t.shortened) {
                    lang.pick(
                        "材料较多，二维码中的清单为精简版，完整内容以本页为准。",
                        "The checklist code is shortened; this page has the full list.",
                    )
                } else {
                    ""
                };
                let pages = self.pages_of(item);
                window
                    .global::<ItemAdapter>()
                    .set_item(view::item(&content, item, codes, note, lang, &pages, page));
                app.set_page(Page::Item);
            }
        }
    }

    /// The QR codes of some takeaways, encoded on the worker and cached under `key`. Until they
    /// are ready, a placeholder says they are coming.
    fn codes_for(&self, key: &str, takeaways: &[Takeaway]) -> Vec<QrData> {
        let lang = self.lang();
        let cached = self.inner.state.borrow().codes.get(key).cloned();
        let Some(codes) = cached else {
            let mut state = self.inner.state.borrow_mut();
            if !takeaways.is_empty() && state.pending_codes.insert(key.to_owned()) {
                let payloads = takeaways.iter().map(|t| t.payload.clone()).collect();
                let _ = self.inner.jobs.send(Job::Codes {
                    key: key.to_owned(),
                    payloads,
                });
            }
            let waiting = lang.pick("正在生成二维码……", "Preparing the QR code…");
            return takeaways
                .iter()
                .map(|_| QrData {
                    note: waiting.into(),
                    ..QrData::default()
                })
                .collect();
        };
        takeaways
            .iter()
            .zip(codes)
            .filter_map(|(takeaway, modules)| {
                let modules = modules?;
                let (side, pixels) = modules.to_rgba(1);
                let buffer = SharedPixelBuffer::<Rgba8Pixel>::clone_from_slice(
                    &pixels,
                    side as u32,
                    side as u32,
                );
                let (title, caption) = match lang {
                    Lang::Zh => (&takeaway.title.0, &takeaway.caption.0),
                    Lang::En => (&takeaway.title.1, &takeaway.caption.1),
                };
                Some(QrData {
                    image: Image::from_rgba8(buffer),
                    modules: modules.size as i32,
                    title: crate::fit::line(title, crate::fit::LABEL).into(),
                    caption: crate::fit::text(caption, crate::fit::TITLE).into(),
                    note: "".into(),
                })
            })
            .collect()
    }

    /// The pages of an item's body, cut once and kept while the item is shown.
    fn pages_of(&self, item: &crate::content::Item) -> Rc<Vec<Vec<crate::fit::Piece>>> {
        let mut state = self.inner.state.borrow_mut();
        if let Some((id, pages)) = &state.item_pages {
            if *id == item.id {
                return pages.clone();
            }
        }
        let pages = Rc::new(view::item_pages(item));
        state.item_pages = Some((item.id.clone(), pages.clone()));
        pages
    }

    /// The ids of the items shown, in the content's order (for the soak run).
    pub fn item_ids(&self) -> Vec<String> {
        self.inner
            .state
            .borrow()
            .content
            .as_ref()
            .map(|c| c.items.iter().map(|i| i.id.clone()).collect())
            .unwrap_or_default()
    }

    /// The query as the visitor typed it (for tests).
    pub fn query(&self) -> String {
        self.inner.state.borrow().query.clone()
    }
}

/// Where the word being typed starts: after the last space.
/// What the panel says when an install from a stick ended: the outcome (1 installed, 2
/// refused, 3 nothing new), the sentence, the technical reason, and whether a step failed.
fn install_outcome(
    result: &Result<crate::install::Record, crate::sync::Refusal>,
    lang: Lang,
) -> (i32, String, String, bool) {
    use crate::sync::Refusal;
    match result {
        Ok(record) => (
            1,
            match lang {
                Lang::Zh => format!(
                    "已更新为“{}”（第 {} 版），共 {} 条信息。可以拔出U盘。",
                    crate::fit::line(&record.version, crate::fit::LABEL), record.seq, record.item_count
                ),
                Lang::En => format!(
                    "Updated to “{}” (no. {}), {} items. You can remove the USB stick.",
                    crate::fit::line(&record.version, crate::fit::LABEL), record.seq, record.item_count
                ),
            },
            String::new(),
            false,
        ),
        Err(Refusal::NotNewer { seq }) => (
            3,
            match lang {
                Lang::Zh => format!("U盘中的内容（第 {seq} 版）不比本机现有内容新，未作更改。"),
                Lang::En => format!(
                    "The content on the stick (no. {seq}) is not newer than this terminal's; nothing was changed."
                ),
            },
            String::new(),
            false,
        ),
        Err(Refusal::NoKeys) => (
            2,
            lang.pick(
                "本机尚未配置内容签名公钥，无法安装。请联系技术人员。",
                "No content signing key is set up on this terminal, so nothing can be installed. Please call IT.",
            )
            .into(),
            String::new(),
            true,
        ),
        Err(Refusal::Unreadable) => (
            2,
            lang.pick(
                "读取U盘失败（可能已被拔出），本机内容未作更改。",
                "The USB stick could not be read (was it removed?); nothing was changed.",
            )
            .into(),
            String::new(),
            true,
        ),
        Err(Refusal::Trouble(reason)) => (
            2,
            lang.pick(
                "本机暂时无法安装（磁盘空间不足或出现故障），本机内容未作更改，稍后会再试。请联系技术人员。",
                "This terminal cannot install it just now (the disk is full or failing); nothing was changed, and it is tried again later. Please call IT.",
            )
            .into(),
            crate::fit::text(&capitalised(reason), crate::fit::FIELD),
            true,
        ),
        Err(Refusal::Refused(reason)) => (
            2,
            lang.pick(
                "内容包未通过校验，未安装。本机内容未作更改。",
                "The bundle failed its checks and was not installed; nothing was changed.",
            )
            .into(),
            crate::fit::text(&capitalised(reason), crate::fit::FIELD),
            true,
        ),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn typed_tail_start(query: &str) -> usize {
    query.rfind(' ').map_or(0, |i| i + 1)
}

fn date_text(date: Date, days: i64, lang: Lang) -> String {
    // 1970-01-01 was a Thursday.
    let weekday = (days + 3).rem_euclid(7) as usize;
    match lang {
        Lang::Zh => {
            let names = ["一", "二", "三", "四", "五", "六", "日"];
            format!(
                "{}年{}月{}日 星期{}",
                date.year(),
                date.month(),
                date.day(),
                names[weekday]
            )
        }
        Lang::En => {
            let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let months = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            format!(
                "{} {} {} {}",
                names[weekday],
                date.day(),
                months[usize::from(date.month()) - 1],
                date.year()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typed_tail_is_the_last_word() {
        assert_eq!(typed_tail_start("yyzz"), 0);
        assert_eq!(typed_tail_start("社保 yyzz"), 7);
        assert_eq!(typed_tail_start("营业zz"), 0);
    }

    #[test]
    fn dates_read_as_in_the_hall() {
        let date = Date::new(2026, 11, 26).unwrap();
        let days = date.days_since_epoch();
        assert_eq!(date_text(date, days, Lang::Zh), "2026年11月26日 星期四");
        assert_eq!(date_text(date, days, Lang::En), "Thu 26 Nov 2026");
    }
}
