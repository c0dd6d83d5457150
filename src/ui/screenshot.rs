//! Headless rendering of any screen into a PNG with Slint's software renderer: no display needed.

use std::path::Path;
use std::time::Duration;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::{ComponentHandle, PhysicalSize};

use super::{AppWindow, Kiosk, KioskOptions};

/// Which screen to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shot {
    Home,
    Search(String),
    Item(String),
    Column(String),
    /// The USB update panel: `usb:STEP` in progress (copy, verify, unpack, index, check,
    /// switch), `usb:done` installed, `usb:refused` refused.
    Usb(String),
    /// The admin's statistics screen, over made-up usage of the last 30 days
    /// ([`crate::stats::demo`], in a store of its own).
    Stats,
    /// The admin page (`admin`) or the PIN pad over the home screen (`pin`).
    Admin,
    Pin,
}

impl std::str::FromStr for Shot {
    type Err = String;

    fn from_str(text: &str) -> Result<Shot, String> {
        match text.split_once(':') {
            None if text == "home" => Ok(Shot::Home),
            None if text == "stats" => Ok(Shot::Stats),
            None if text == "admin" => Ok(Shot::Admin),
            None if text == "pin" => Ok(Shot::Pin),
            Some(("search", query)) => Ok(Shot::Search(query.to_owned())),
            Some(("item", id)) if !id.is_empty() => Ok(Shot::Item(id.to_owned())),
            Some(("column", id)) if !id.is_empty() => Ok(Shot::Column(id.to_owned())),
            Some(("usb", stage))
                if [
                    "copy", "verify", "unpack", "index", "check", "switch", "done", "refused",
                ]
                .contains(&stage) =>
            {
                Ok(Shot::Usb(stage.to_owned()))
            }
            _ => Err(format!(
                "“{text}” is not a page: use home, search:QUERY, item:ID, column:ID, usb:STAGE, stats, admin or pin"
            )),
        }
    }
}

/// How to render it.
#[derive(Debug, Clone)]
pub struct ShotOptions {
    pub width: u32,
    pub height: u32,
    pub elder: bool,
    pub english: bool,
    /// Leave the on-screen keyboard open on the search page.
    pub keyboard: bool,
}

/// Why a screenshot could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ShotError {
    #[error("the headless renderer could not start: {0}")]
    Platform(String),
    #[error("the content did not finish loading in time")]
    Timeout,
    #[error("cannot write {path}: {cause}")]
    Write { path: String, cause: String },
}

/// Renders one screen into a PNG file. Sets the process's Slint platform, so it can only be
/// called once per process.
pub fn render(
    shot: &Shot,
    options: &ShotOptions,
    kiosk_options: KioskOptions,
    out: &Path,
) -> Result<(), ShotError> {
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(super::HeadlessPlatform {
        window: window.clone(),
    }))
    .map_err(|err| ShotError::Platform(err.to_string()))?;
    let app = AppWindow::new().map_err(|err| ShotError::Platform(err.to_string()))?;
    window.set_size(PhysicalSize::new(options.width, options.height));
    let demo = tempfile_dir();
    let kiosk_options = match shot {
        Shot::Stats => demo_statistics(kiosk_options, &demo)?,
        _ => kiosk_options,
    };
    let kiosk = Kiosk::new(
        &app,
        KioskOptions {
            english: options.english,
            ..kiosk_options
        },
    );
    if !kiosk.wait_until_idle(Duration::from_secs(120)) {
        return Err(ShotError::Timeout);
    }
    if options.elder {
        kiosk.toggle_elder();
    }
    match shot {
        Shot::Home => {}
        Shot::Search(query) => {
            kiosk.set_query(query.clone());
            kiosk.show_keyboard(options.keyboard);
        }
        Shot::Item(id) => kiosk.open_item(id),
        Shot::Column(id) => kiosk.open_column(id),
        Shot::Usb(stage) => stage_usb_install(&kiosk, stage),
        Shot::Stats => kiosk.open_stats(),
        Shot::Admin => kiosk.open_admin_page(),
        Shot::Pin => kiosk.open_pin_pad(),
    }
    if !kiosk.wait_until_idle(Duration::from_secs(60)) {
        return Err(ShotError::Timeout);
    }
    app.show()
        .map_err(|err| ShotError::Platform(err.to_string()))?;
    slint::platform::update_timers_and_animations();
    let snapshot = app
        .window()
        .take_snapshot()
        .map_err(|err| ShotError::Platform(err.to_string()))?;
    let image = image::RgbaImage::from_raw(
        snapshot.width(),
        snapshot.height(),
        snapshot.as_bytes().to_vec(),
    )
    .ok_or_else(|| ShotError::Platform("the snapshot has no pixels".into()))?;
    image.save(out).map_err(|err| ShotError::Write {
        path: out.display().to_string(),
        cause: err.to_string(),
    })?;
    drop(kiosk);
    let _ = std::fs::remove_dir_all(&demo);
    Ok(())
}

fn tempfile_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("kiosk-screenshot-{}", std::process::id()))
}

/// Options showing the content as asked, with statistics from a store of made-up usage in `dir`.
fn demo_statistics(options: KioskOptions, dir: &Path) -> Result<KioskOptions, ShotError> {
    let failed =
        |err: String| ShotError::Platform(format!("cannot make the demo statistics: {err}"));
    let origin = crate::datadir::resolve_content(options.source.as_deref(), &options.data_dir)
        .map_err(|e| failed(e.to_string()))?;
    let content = crate::source::load(origin.path())
        .map_err(|e| failed(e.to_string()))?
        .content;
    let _ = std::fs::remove_dir_all(dir);
    let data_dir = crate::datadir::DataDir::new(dir);
    let today = (crate::content::unix_now() + i64::from(options.utc_offset_minutes) * 60) / 86_400;
    let events = crate::stats::demo::events(
        &content,
        "demo",
        today + 1,
        30,
        options.utc_offset_minutes,
        7,
    );
    let mut store =
        crate::stats::Store::open(&data_dir.stats_db()).map_err(|e| failed(e.to_string()))?;
    store.insert(&events).map_err(|e| failed(e.to_string()))?;
    drop(store);
    let recorder = crate::stats::Recorder::start(&data_dir.stats_db(), "demo", Default::default())
        .map_err(|e| failed(e.to_string()))?;
    Ok(KioskOptions {
        source: Some(origin.path().to_path_buf()),
        data_dir,
        recorder,
        ..options
    })
}

/// Puts the USB update panel on screen at a stage, through the events a real install sends.
fn stage_usb_install(kiosk: &Kiosk, stage: &str) {
    use crate::install::{Progress, Record, Step};
    use crate::sync::{Origin, Refusal, SyncEvent};
    let origin = Origin::Usb("/media/kiosk-usb/sdb1/qljkq-12.kbundle".into());
    kiosk.sync_event(SyncEvent::Started(origin.clone()));
    let names = ["copy", "verify", "unpack", "index", "check", "switch"];
    let upto = match stage {
        "refused" => Step::Verify.position(),
        _ => names
            .iter()
            .position(|n| *n == stage)
            .unwrap_or(Step::ALL.len() - 1),
    };
    for step in &Step::ALL[..=upto] {
        kiosk.sync_event(SyncEvent::Progress(Progress {
            step: *step,
            fraction: if step.position() == upto { 0.6 } else { 1.0 },
        }));
    }
    let result = match stage {
        "done" => Ok(Record {
            site: "qljkq".into(),
            seq: 12,
            version: "2026年11月第2期".into(),
            created: "2026-11-26T08:00:00Z".into(),
            key_id: "0000000000000000".into(),
            item_count: 151,
            installed_at: 0,
            from: "USB".into(),
            release: "r0000000012".into(),
            index_key: String::new(),
        }),
        "refused" => Err(Refusal::Refused(
            "the bundle's signature does not match: it was changed after it was signed, or signed with another key (trusted: 9dcfabf964fc29c4)".into(),
        )),
        _ => return,
    };
    kiosk.sync_event(SyncEvent::Finished { origin, result });
}
