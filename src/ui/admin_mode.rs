//! The admin mode on the screen: the hidden gesture, the PIN pad, the admin page and its
//! actions. The rules (gesture, PIN hash, lockout, log) are [`crate::admin`]'s; this maps them
//! to the screen. Every action goes into `admin.jsonl` with the admin session; the PIN never
//! leaves the pad's buffer.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::app::Kiosk;
use super::{AdminState, TouchPoint};
use crate::admin::{AdminLog, Gesture, Lockout, PinFile};

/// What the admin mode keeps between touches.
#[derive(Default)]
pub struct AdminMode {
    gesture: Gesture,
    /// The digits typed on the pad (cleared after every try).
    pin: String,
    /// The admin session, while an admin is in.
    pub session: Option<String>,
    touches: Vec<(f32, f32)>,
    started: Option<Instant>,
    counter: u64,
    /// The admin asked for a restart (systemd starts the kiosk again).
    pub restart_requested: bool,
}

/// Where the admin mode keeps its files.
pub struct AdminPaths {
    pub pin_file: PathBuf,
    pub lockout: PathBuf,
    pub log: PathBuf,
}

impl Kiosk {
    fn admin_paths(&self) -> AdminPaths {
        let data = &self.options().data_dir;
        AdminPaths {
            pin_file: self.options().admin_pin_file.clone(),
            lockout: data.root().join("admin-lockout.json"),
            log: data.root().join("admin.jsonl"),
        }
    }

    fn admin_log(&self, action: &str, detail: &str) {
        let session = self.admin().session.clone().unwrap_or_else(|| "-".into());
        AdminLog::new(self.admin_paths().log).append(&session, action, detail);
    }

    /// A press on the hidden corner, `held_ms` long.
    pub fn corner_pressed(&self, held_ms: u64) {
        let open = {
            let mut admin = self.admin_mut();
            let started = *admin.started.get_or_insert_with(Instant::now);
            let now = started.elapsed().as_millis() as u64;
            admin.gesture.press(Duration::from_millis(held_ms), now)
        };
        if open {
            self.open_pin_pad();
        }
    }

    pub fn open_pin_pad(&self) {
        self.admin_mut().pin.clear();
        let Some(window) = self.window() else { return };
        let pad = window.global::<AdminState>();
        set_digits(&pad, 0);
        pad.set_pad_open(true);
        self.show_lockout();
    }

    /// Says on the pad whether it is locked, and for how long.
    fn show_lockout(&self) -> bool {
        let Some(window) = self.window() else {
            return false;
        };
        let pad = window.global::<AdminState>();
        let wait = Lockout::load(&self.admin_paths().lockout).wait(&crate::admin::Now::read());
        pad.set_pad_locked(wait > 0);
        if wait > 0 {
            pad.set_pad_message(
                match self.lang() {
                    super::view::Lang::Zh => format!("密码错误次数过多，请 {wait} 秒后再试。"),
                    super::view::Lang::En => {
                        format!("Too many wrong PINs. Try again in {wait} seconds.")
                    }
                }
                .into(),
            );
        }
        wait > 0
    }

    fn pad_digit(&self, digit: &str) {
        let count = {
            let mut admin = self.admin_mut();
            if admin.pin.len() < 12 && digit.len() == 1 && digit.as_bytes()[0].is_ascii_digit() {
                admin.pin.push_str(digit);
            }
            admin.pin.len()
        };
        if let Some(window) = self.window() {
            set_digits(&window.global::<AdminState>(), count);
        }
    }

    fn pad_erase(&self) {
        let count = {
            let mut admin = self.admin_mut();
            admin.pin.pop();
            admin.pin.len()
        };
        if let Some(window) = self.window() {
            set_digits(&window.global::<AdminState>(), count);
        }
    }

    fn pad_cancel(&self) {
        self.admin_mut().pin.clear();
        if let Some(window) = self.window() {
            let pad = window.global::<AdminState>();
            pad.set_pad_open(false);
            pad.set_pad_message("".into());
            set_digits(&pad, 0);
        }
    }

    /// Checks the typed PIN: a right one opens the admin page; a wrong one counts towards the
    /// lockout. Either way the digits are forgotten.
    pub fn pad_submit(&self) {
        let pin = std::mem::take(&mut self.admin_mut().pin);
        let Some(window) = self.window() else { return };
        let pad = window.global::<AdminState>();
        set_digits(&pad, 0);
        if self.show_lockout() {
            self.admin_log("pin-refused-locked", "");
            return;
        }
        let paths = self.admin_paths();
        let lang = self.lang();
        let now = crate::content::unix_now();
        let mut lockout = Lockout::load(&paths.lockout);
        match PinFile::new(&paths.pin_file).verify(&pin) {
            Ok(true) => {
                lockout.succeeded();
                lockout.save(&paths.lockout);
                {
                    let mut admin = self.admin_mut();
                    admin.counter += 1;
                    admin.session = Some(format!("admin-{now}-{}", admin.counter));
                }
                self.admin_log("enter", "");
                pad.set_pad_open(false);
                pad.set_pad_message("".into());
                self.open_admin_page();
            }
            Ok(false) => {
                lockout.failed(&crate::admin::Now::read());
                lockout.save(&paths.lockout);
                self.admin_log(
                    "pin-wrong",
                    &format!("failures in a row: {}", lockout.failures),
                );
                if !self.show_lockout() {
                    pad.set_pad_message(
                        lang.pick("密码错误，请重新输入。", "Wrong PIN. Try again.")
                            .into(),
                    );
                }
            }
            Err(err) => {
                tracing::warn!(cause = %err, "the admin PIN cannot be checked");
                pad.set_pad_message(
                    lang.pick(
                        "本机未设置管理员密码，无法进入管理模式。",
                        "No admin PIN is set on this terminal.",
                    )
                    .into(),
                );
            }
        }
    }

    pub fn in_admin(&self) -> bool {
        self.admin().session.is_some()
    }

    pub fn restart_requested(&self) -> bool {
        self.admin().restart_requested
    }

    /// The admin page, filled afresh.
    pub fn open_admin_page(&self) {
        self.fill_admin();
        self.go_to_admin_screen();
    }

    fn fill_admin(&self) {
        let Some(window) = self.window() else { return };
        let page = window.global::<AdminState>();
        let lang = self.lang();
        let data = &self.options().data_dir;
        let offset = self.options().utc_offset_minutes;
        let status = crate::install::status(data);
        let describe = |r: &crate::install::Record| match lang {
            super::view::Lang::Zh => format!(
                "{} 第 {} 版“{}”，{} 条",
                r.site, r.seq, r.version, r.item_count
            ),
            super::view::Lang::En => format!(
                "{} no. {} “{}”, {} items",
                r.site, r.seq, r.version, r.item_count
            ),
        };
        let mut lines = vec![match &status.current {
            Some(r) => format!("{}{}", lang.pick("已安装：", "Installed: "), describe(r)),
            None => lang
                .pick(
                    "已安装：无（显示内置示例内容）",
                    "Installed: none (the built-in sample)",
                )
                .into(),
        }];
        if let Some(r) = &status.previous {
            lines.push(format!(
                "{}{}",
                lang.pick("上一版本：", "Previous: "),
                describe(r)
            ));
        }
        page.set_can_rollback(status.previous.is_some());
        page.set_status(strings(lines));
        let zh = lang == super::view::Lang::Zh;
        let mut history: Vec<String> = crate::install::history(data)
            .iter()
            .rev()
            .take(5)
            .map(|h| {
                let when = crate::content::format_local(h.at, offset);
                let what = match (h.action.as_str(), zh) {
                    ("install", true) => "安装",
                    ("rollback", true) => "回滚到",
                    ("install", false) => "installed",
                    ("rollback", false) => "rolled back to",
                    ("failed", true) => "未能安装（稍后重试）",
                    ("failed", false) => "could not install (tried again later)",
                    (other, _) => other,
                };
                if zh {
                    format!("{when} {what}第 {} 版“{}”", h.seq, h.version)
                } else {
                    format!("{when} {what} no. {} “{}”", h.seq, h.version)
                }
            })
            .collect();
        if history.is_empty() {
            history.push(lang.pick("暂无安装记录", "No installs yet").into());
        }
        page.set_history(strings(history));
        page.set_info(strings(terminal_info(self, lang)));
    }

    /// An admin action from the admin page.
    pub fn admin_action(&self, action: &str) {
        if !self.in_admin() {
            return;
        }
        self.admin_log(action, "");
        let lang = self.lang();
        let say = |text: &str| {
            if let Some(window) = self.window() {
                window.global::<AdminState>().set_message(text.into());
            }
        };
        match action {
            "leave" => self.leave_admin("left"),
            "rollback" => match crate::install::rollback(&self.options().data_dir) {
                Ok(record) => {
                    say(&match lang {
                        super::view::Lang::Zh => {
                            format!("已回滚到第 {} 版“{}”。", record.seq, record.version)
                        }
                        super::view::Lang::En => {
                            format!("Rolled back to no. {} “{}”.", record.seq, record.version)
                        }
                    });
                    self.reload_content();
                    self.fill_admin();
                }
                Err(err) => say(&format!(
                    "{}{err}",
                    lang.pick("无法回滚：", "Cannot roll back: ")
                )),
            },
            "usb" => {
                let roots = self
                    .options()
                    .sync
                    .as_ref()
                    .map(|s| s.mount_roots.clone())
                    .unwrap_or_default();
                let found = crate::sync::usb::scan(&roots);
                match crate::sync::usb::choose(&found) {
                    Some(bundle) => {
                        say(lang.pick("正在从U盘安装……", "Installing from the USB stick…"));
                        self.install_in_background(bundle.path.clone());
                    }
                    None => say(lang.pick(
                        "未找到U盘中的内容包（*.kbundle）。",
                        "No content bundle (*.kbundle) found on a USB stick.",
                    )),
                }
            }
            "sync" => {
                say(lang.pick(
                    "正在检查网络上的新内容……",
                    "Checking the network for new content…",
                ));
                self.sync_in_background();
            }
            "stats" => self.open_stats(),
            "touch" => {
                self.admin_mut().touches.clear();
                if let Some(window) = self.window() {
                    let page = window.global::<AdminState>();
                    page.set_touches(ModelRc::default());
                    page.set_touch_test(true);
                }
            }
            "touch-done" => {
                let count = self.admin().touches.len();
                self.admin_log("touch-test", &format!("{count} touches"));
                if let Some(window) = self.window() {
                    window.global::<AdminState>().set_touch_test(false);
                }
            }
            "restart" => {
                self.admin_mut().restart_requested = true;
                self.leave_admin("restart");
                tracing::info!("restarting at the admin's request");
                let _ = slint::quit_event_loop();
            }
            other => tracing::warn!(action = other, "unknown admin action"),
        }
    }

    /// Leaves the admin mode (the admin pressed leave, or the screen went idle).
    pub fn leave_admin(&self, why: &str) {
        if !self.in_admin() {
            return;
        }
        if why != "left" {
            self.admin_log("leave", why);
        }
        self.admin_mut().session = None;
        if let Some(window) = self.window() {
            let page = window.global::<AdminState>();
            page.set_message("".into());
            page.set_touch_test(false);
        }
        self.go_home_quietly();
    }

    fn touched_at(&self, x: f32, y: f32) {
        let points = {
            let mut admin = self.admin_mut();
            admin.touches.push((x, y));
            if admin.touches.len() > 200 {
                admin.touches.remove(0);
            }
            admin.touches.clone()
        };
        if let Some(window) = self.window() {
            window
                .global::<AdminState>()
                .set_touches(ModelRc::new(VecModel::from(
                    points
                        .into_iter()
                        .map(|(x, y)| TouchPoint { x, y })
                        .collect::<Vec<_>>(),
                )));
        }
    }

    pub(super) fn wire_admin(&self, window: &super::AppWindow) {
        let admin = window.global::<AdminState>();
        let weak = self.weak();
        admin.on_corner_pressed(move |ms| {
            Kiosk::with(&weak, "on_corner_pressed", |k| {
                k.corner_pressed(ms.max(0) as u64);
            })
        });
        let weak = self.weak();
        admin.on_digit(move |d| {
            Kiosk::with(&weak, "on_digit", |k| {
                k.touched_admin();
                k.pad_digit(&d);
            })
        });
        let weak = self.weak();
        admin.on_erase(move || {
            Kiosk::with(&weak, "on_erase", |k| {
                k.pad_erase();
            })
        });
        let weak = self.weak();
        admin.on_submit(move || {
            Kiosk::with(&weak, "on_submit", |k| {
                k.pad_submit();
            })
        });
        let weak = self.weak();
        admin.on_cancel(move || {
            Kiosk::with(&weak, "on_cancel", |k| {
                k.pad_cancel();
            })
        });
        let weak = self.weak();
        admin.on_action(move |action| {
            Kiosk::with(&weak, "on_action", |k| {
                k.admin_action(&action);
            })
        });
        let weak = self.weak();
        admin.on_touched_at(move |x, y| {
            Kiosk::with(&weak, "on_touched_at", |k| {
                k.touched_admin();
                k.touched_at(x, y);
            })
        });
    }
}

fn strings(lines: Vec<String>) -> ModelRc<SharedString> {
    ModelRc::new(VecModel::from(
        lines
            .into_iter()
            .map(SharedString::from)
            .collect::<Vec<_>>(),
    ))
}

/// The terminal's id, software, content, disk, uptime and network, for the admin.
fn terminal_info(kiosk: &Kiosk, lang: super::view::Lang) -> Vec<String> {
    let options = kiosk.options();
    let zh = lang == super::view::Lang::Zh;
    let mut lines = vec![
        format!(
            "{}{}",
            if zh { "终端编号：" } else { "Terminal: " },
            Some(options.terminal_id.as_str())
                .filter(|id| !id.is_empty())
                .unwrap_or("-")
        ),
        format!(
            "{}kiosk {}",
            if zh { "软件版本：" } else { "Software: " },
            env!("CARGO_PKG_VERSION")
        ),
    ];
    if let Some(free) = crate::install::free_space(options.data_dir.root()) {
        lines.push(format!(
            "{}{:.1} GB ({})",
            if zh { "磁盘可用：" } else { "Disk free: " },
            free as f64 / 1e9,
            options.data_dir.root().display()
        ));
    }
    if let Some(secs) = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<f64>().ok())
    {
        let secs = secs as u64;
        lines.push(if zh {
            format!(
                "系统已运行：{} 天 {} 小时 {} 分",
                secs / 86_400,
                secs % 86_400 / 3600,
                secs % 3600 / 60
            )
        } else {
            format!(
                "System up: {} d {} h {} min",
                secs / 86_400,
                secs % 86_400 / 3600,
                secs % 3600 / 60
            )
        });
    }
    if let Some(damaged) = crate::stats::set_aside(&options.data_dir.stats_db()).first() {
        let name = damaged
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        lines.push(if zh {
            format!("统计数据库曾损坏，已另存为 {name}，并新建了数据库继续记录。")
        } else {
            format!(
                "The statistics database was damaged; it was kept as {name} and a new one started."
            )
        });
    }
    let mut interfaces: Vec<String> = std::fs::read_dir("/sys/class/net")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "lo" {
                return None;
            }
            let state = std::fs::read_to_string(entry.path().join("operstate")).unwrap_or_default();
            let up = state.trim() == "up";
            Some(format!(
                "{name} {}",
                match (up, zh) {
                    (true, true) => "已连接",
                    (false, true) => "未连接",
                    (true, false) => "up",
                    (false, false) => "down",
                }
            ))
        })
        .collect();
    interfaces.sort();
    lines.push(format!(
        "{}{}",
        if zh { "网络：" } else { "Network: " },
        if interfaces.is_empty() {
            "-".to_owned()
        } else {
            interfaces.join("，")
        }
    ));
    lines
}

fn set_digits(pad: &AdminState, count: usize) {
    pad.set_digits(count as i32);
    pad.set_dots("● ".repeat(count).trim_end().into());
}
