//! The kiosk screen. `ui/*.slint` is the presentation; this module maps content and search
//! results to it ([`view`]), turns its callbacks into commands ([`app`]), and renders it headless
//! for screenshots ([`screenshot`]). Searching and loading run on a worker thread ([`worker`]).

slint::include_modules!();

pub mod admin_mode;
pub mod app;
pub mod idle;
pub mod probe;
pub mod screenshot;
pub mod soak;
pub mod usage;
pub mod view;
pub mod worker;

pub use app::{Kiosk, KioskOptions};

/// A platform with one headless software-rendered window: screenshots, the startup probe and
/// the soak run draw the real screen with it, no display needed.
pub(crate) struct HeadlessPlatform {
    pub window: std::rc::Rc<slint::platform::software_renderer::MinimalSoftwareWindow>,
}

impl slint::platform::Platform for HeadlessPlatform {
    fn create_window_adapter(
        &self,
    ) -> Result<std::rc::Rc<dyn slint::platform::WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }
}

/// Opens the kiosk window and runs until it is closed.
/// Panics when `KIOSK_PANICPOINT` names `name`: how tests check that a panic in a screen
/// command or a worker job never takes the screen down (like the installer's failpoints).
pub fn panic_point(name: &str) {
    if std::env::var_os("KIOSK_PANICPOINT").is_some_and(|point| point == name) {
        panic!("panic point {name} reached");
    }
}

/// Why the window cannot open, in words for the person at the keyboard: without a display
/// Slint's own message ("No backends configured") says nothing of what to do.
fn window_error(cause: &str) -> String {
    let no_session = std::env::var_os("WAYLAND_DISPLAY").is_none()
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("SLINT_BACKEND").is_none();
    if no_session {
        "there is no display here: no desktop session (Wayland or X11) is running. Start the kiosk \
         from a desktop session, or on a terminal under the cage compositor as kiosk.service does \
         (docs/deploy.md), or on a bare console with SLINT_BACKEND=linuxkms-software (a build \
         with the kms feature). To see the screen without a display, use \
         `kiosk screenshot --page home -o home.png`."
            .into()
    } else {
        format!("cannot open the kiosk window: {cause}")
    }
}

pub fn run(
    options: KioskOptions,
    fullscreen: bool,
    size: Option<(u32, u32)>,
) -> Result<(), String> {
    use slint::ComponentHandle;
    // The software renderer needs no GPU driver; SLINT_BACKEND still chooses another.
    if std::env::var_os("SLINT_BACKEND").is_none() {
        if let Err(err) = slint::BackendSelector::new()
            .backend_name("winit".into())
            .renderer_name("software".into())
            .select()
        {
            tracing::warn!(cause = %err, "the software renderer is not available; using the default");
        }
    }
    let window = AppWindow::new().map_err(|err| window_error(&err.to_string()))?;
    if let Some((width, height)) = size {
        window
            .window()
            .set_size(slint::LogicalSize::new(width as f32, height as f32));
    }
    window.window().set_fullscreen(fullscreen);
    let kiosk = Kiosk::new(&window, options);
    // systemd: ready once the event loop runs (the window is up), and the watchdog fed from
    // the event loop itself, so a screen that hangs is restarted.
    slint::Timer::single_shot(std::time::Duration::ZERO, || {
        crate::service::notify("READY=1");
    });
    let watchdog = slint::Timer::default();
    if let Some(interval) = crate::service::watchdog_interval() {
        watchdog.start(slint::TimerMode::Repeated, interval, || {
            crate::service::notify("WATCHDOG=1");
        });
    }
    // A panic that escapes Slint itself ends the process (systemd starts it again), with a
    // line in the log instead of an unwinding stack.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| window.run()));
    match ran {
        Ok(result) => result.map_err(|err| format!("the kiosk window failed: {err}"))?,
        Err(_) => {
            return Err(
                "the screen stopped after an internal error (see the log above); under systemd it starts again by itself"
                    .into(),
            )
        }
    }
    crate::service::notify("STOPPING=1");
    drop(kiosk);
    Ok(())
}
