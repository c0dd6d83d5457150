//! The startup probe of `kiosk bench startup`, run in a fresh process: the real kiosk screen on
//! a headless software-rendered window, reporting (as JSON lines on stdout, each printed the
//! moment it happens) its first frame, the content and index being ready, and how long each
//! keystroke takes to reach the screen as results.

use std::io::Write;
use std::time::{Duration, Instant};

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType, Rgb565Pixel};
use slint::{ComponentHandle, PhysicalSize};

use super::{AppState, AppWindow, Kiosk, KioskOptions};

/// The process's resident memory now and at its peak, in KiB.
fn memory_kib() -> (u64, u64) {
    (
        crate::bench::status_kib("VmRSS:"),
        crate::bench::peak_rss_kib(),
    )
}

/// Renders whatever changed, as the real screen would, into a frame buffer.
fn draw(window: &MinimalSoftwareWindow, buffer: &mut [Rgb565Pixel], width: usize) {
    slint::platform::update_timers_and_animations();
    window.draw_if_needed(|renderer| {
        renderer.render(buffer, width);
    });
}

/// Runs the probe: `typed` is what is typed on the keyboard, one key at a time, once ready.
pub fn run(options: KioskOptions, typed: &str, out: &mut dyn Write) -> Result<(), String> {
    let started = Instant::now();
    let (width, height) = (1920usize, 1080usize);
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(super::HeadlessPlatform {
        window: window.clone(),
    }))
    .map_err(|e| e.to_string())?;
    let app = AppWindow::new().map_err(|e| e.to_string())?;
    window.set_size(PhysicalSize::new(width as u32, height as u32));
    app.show().map_err(|e| e.to_string())?;
    let kiosk = Kiosk::new(&app, options);
    let mut buffer = vec![Rgb565Pixel::default(); width * height];
    draw(&window, &mut buffer, width);
    let (rss, peak) = memory_kib();
    let report = |out: &mut dyn Write, line: String| {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    report(
        out,
        format!(
            r#"{{"event": "first_frame", "ms": {:.1}, "rss_kib": {rss}, "peak_kib": {peak}}}"#,
            ms(started.elapsed())
        ),
    );
    if !kiosk.wait_until_idle(Duration::from_secs(600)) {
        return Err("the content did not load".into());
    }
    draw(&window, &mut buffer, width);
    let (rss, peak) = memory_kib();
    report(
        out,
        format!(
            r#"{{"event": "ready", "ms": {:.1}, "rss_kib": {rss}, "peak_kib": {peak}}}"#,
            ms(started.elapsed())
        ),
    );

    // Type on the on-screen keyboard: each key goes through the same callback a touch does,
    // the search runs on the worker, and the results are drawn.
    app.global::<AppState>().invoke_go_home();
    let mut latencies = Vec::new();
    for key in typed.chars() {
        let pressed = Instant::now();
        app.global::<AppState>().invoke_key(key.to_string().into());
        if !kiosk.wait_until_idle(Duration::from_secs(60)) {
            return Err("a search did not finish".into());
        }
        draw(&window, &mut buffer, width);
        latencies.push(pressed.elapsed());
    }
    latencies.sort();
    let at = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    let (rss, peak) = memory_kib();
    report(
        out,
        format!(
            r#"{{"event": "keystrokes", "count": {}, "p50_ms": {:.2}, "p99_ms": {:.2}, "max_ms": {:.2}, "rss_kib": {rss}, "peak_kib": {peak}}}"#,
            latencies.len(),
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(1.0))
        ),
    );
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
