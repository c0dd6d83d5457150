//! The soak run of `kiosk bench soak`: a scripted visitor opens every item of the content, and
//! every page of it, on the real screen drawn by the software renderer in this one process,
//! and the run reports its peak memory and its slowest page. A page that the screen could not
//! show (a command that failed and went home) is counted, never hidden.

use std::time::{Duration, Instant};

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType, Rgb565Pixel};
use slint::{ComponentHandle, Model, PhysicalSize};

use super::{AppWindow, ItemAdapter, Kiosk, KioskOptions, Page, Theme};

/// How to run.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub width: u32,
    pub height: u32,
    pub elder: bool,
    /// Every page of every item; else the first, the second and the last.
    pub all_pages: bool,
}

/// What the run found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SoakFigures {
    pub items: usize,
    pub pages: usize,
    /// Items whose page the screen could not show (it went home instead).
    pub failures: Vec<String>,
    /// The slowest page: item, page, milliseconds from the command to the page drawn.
    pub slowest: (String, usize, f64),
    pub page_p50_ms: f64,
    pub page_p99_ms: f64,
    /// The most body blocks one page handed to Slint.
    pub most_blocks: usize,
    pub seconds: f64,
    pub ready_rss_kib: u64,
    pub peak_rss_kib: u64,
}

fn draw(window: &MinimalSoftwareWindow, buffer: &mut [Rgb565Pixel], width: usize) {
    slint::platform::update_timers_and_animations();
    window.draw_if_needed(|renderer| {
        renderer.render(buffer, width);
    });
}

/// Runs the soak over the content of `options`; `progress` hears of each item visited.
pub fn run(
    options: KioskOptions,
    soak: &SoakOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SoakFigures, String> {
    let started = Instant::now();
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(super::HeadlessPlatform {
        window: window.clone(),
    }))
    .map_err(|e| e.to_string())?;
    let app = AppWindow::new().map_err(|e| e.to_string())?;
    window.set_size(PhysicalSize::new(soak.width, soak.height));
    app.show().map_err(|e| e.to_string())?;
    let options = KioskOptions {
        idle_timeout: 3600,
        ..options
    };
    let kiosk = Kiosk::new(&app, options);
    if !kiosk.wait_until_idle(Duration::from_secs(1800)) {
        return Err("the content did not load".into());
    }
    if soak.elder {
        kiosk.toggle_elder();
        app.global::<Theme>().set_elder(true);
    }
    let width = soak.width as usize;
    let mut buffer = vec![Rgb565Pixel::default(); width * soak.height as usize];
    draw(&window, &mut buffer, width);
    let mut figures = SoakFigures {
        ready_rss_kib: crate::bench::status_kib("VmRSS:"),
        ..SoakFigures::default()
    };
    let ids = kiosk.item_ids();
    let mut times: Vec<f64> = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        progress(n, ids.len());
        let mut page = 1;
        let opened = Instant::now();
        kiosk.go_home_quietly();
        kiosk.open_item(id);
        let _ = kiosk.wait_until_idle(Duration::from_secs(60));
        draw(&window, &mut buffer, width);
        let mut took = opened.elapsed();
        let items = app.global::<ItemAdapter>();
        let mut shown = app.global::<super::AppState>().get_page() == Page::Item;
        let pages = items.get_item().pages.max(1) as usize;
        loop {
            let ms = took.as_secs_f64() * 1000.0;
            if !shown {
                figures.failures.push(format!("{id} page {page}"));
                break;
            }
            figures.pages += 1;
            figures.most_blocks = figures.most_blocks.max(items.get_item().blocks.row_count());
            if ms > figures.slowest.2 {
                figures.slowest = (id.clone(), page, ms);
            }
            times.push(ms);
            if page >= pages {
                break;
            }
            // Every page, or the first, the second and the last.
            let next = if soak.all_pages || page == 1 {
                page + 1
            } else {
                pages
            };
            let turned = Instant::now();
            for _ in page..next {
                items.invoke_next_page();
            }
            page = next;
            let _ = kiosk.wait_until_idle(Duration::from_secs(60));
            draw(&window, &mut buffer, width);
            took = turned.elapsed();
            shown = app.global::<super::AppState>().get_page() == Page::Item
                && items.get_item().page as usize == page;
        }
        figures.items += 1;
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| {
        times
            .get(((times.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    figures.page_p50_ms = at(0.5);
    figures.page_p99_ms = at(0.99);
    figures.seconds = started.elapsed().as_secs_f64();
    figures.peak_rss_kib = crate::bench::peak_rss_kib();
    drop(kiosk);
    Ok(figures)
}
