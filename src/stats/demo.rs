//! Made-up usage of a hall over some weeks, for screenshots and trying the reports: visitors
//! come in office hours, busier on Monday mornings, search the content's own hot searches and
//! titles (and now and then something the content lacks), open results and take codes.
//! Deterministic for a seed. Never mixed with real records: it is written to a store of its own.

use crate::content::{Content, ItemKind};

use super::event::{EndReason, Event, EventKind};

/// What visitors ask for that a small hall often lacks (the zero-result searches).
const MISSING: [&str; 6] = [
    "电动车上牌",
    "新生儿医保",
    "老年卡办理",
    "公租房排队",
    "婚姻登记预约",
    "充电桩补贴",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Events of `days` days ending the day before `end_day` (days since 1970, the hall's time).
pub fn events(
    content: &Content,
    terminal: &str,
    end_day: i64,
    days: i64,
    utc_offset_minutes: i32,
    seed: u64,
) -> Vec<Event> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::new();
    let offset_ms = i64::from(utc_offset_minutes) * 60_000;
    let guides: Vec<_> = content
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Guide)
        .collect();
    let mut seq = 0u64;
    let mut push = |at_ms: i64, kind: EventKind, out: &mut Vec<Event>| {
        seq += 1;
        out.push(Event {
            id: format!("demo-{seed:x}-{seq}"),
            terminal: terminal.to_owned(),
            seq,
            at_ms,
            kind,
        });
    };
    for day in end_day - days..end_day {
        let weekday = (day + 3).rem_euclid(7);
        if weekday >= 5 && rng.below(3) > 0 {
            continue; // the hall opens some Saturdays only
        }
        let visitors = match weekday {
            0 => 45 + rng.below(20),
            5 | 6 => 8 + rng.below(6),
            _ => 25 + rng.below(20),
        };
        for v in 0..visitors {
            let hour = [9, 9, 10, 10, 10, 11, 11, 14, 14, 15, 15, 16][rng.below(12) as usize];
            let start =
                day * 86_400_000 - offset_ms + hour * 3_600_000 + rng.below(3_600_000) as i64;
            let session = format!("demo-{day}-{v}");
            push(
                start,
                EventKind::SessionStart {
                    session: session.clone(),
                },
                &mut out,
            );
            let mut t = start + 4_000;
            let query = match rng.below(10) {
                0 => MISSING[rng.below(MISSING.len() as u64) as usize].to_owned(),
                1..=5 if !content.site.hot_searches.is_empty() => content.site.hot_searches
                    [rng.below(content.site.hot_searches.len() as u64) as usize]
                    .clone(),
                _ => guides
                    .get(rng.below(guides.len() as u64) as usize)
                    .map(|g| g.title.chars().take(6).collect())
                    .unwrap_or_else(|| "营业执照".into()),
            };
            let missing = MISSING.contains(&query.as_str());
            let results = if missing { 0 } else { 1 + rng.below(12) };
            push(
                t,
                EventKind::Search {
                    session: session.clone(),
                    query: query.clone(),
                    kind: None,
                    column: None,
                    year: None,
                    results,
                    latency_ms: 2.0 + rng.below(8) as f64,
                },
                &mut out,
            );
            if !missing {
                if let Some(item) = guides.get(rng.below(guides.len() as u64) as usize) {
                    t += 6_000;
                    push(
                        t,
                        EventKind::ResultOpened {
                            session: session.clone(),
                            query,
                            item: item.id.clone(),
                            title: item.title.clone(),
                            rank: 1 + rng.below(3) as u32,
                        },
                        &mut out,
                    );
                    let code = if rng.below(3) == 0 {
                        "checklist"
                    } else {
                        "page"
                    };
                    push(
                        t + 500,
                        EventKind::QrShown {
                            session: session.clone(),
                            item: item.id.clone(),
                            title: item.title.clone(),
                            code: code.into(),
                        },
                        &mut out,
                    );
                    let dwell = 20_000 + rng.below(90_000) as i64;
                    t += dwell;
                    push(
                        t,
                        EventKind::ItemViewed {
                            session: session.clone(),
                            item: item.id.clone(),
                            title: item.title.clone(),
                            column: item.column.clone(),
                            column_name: content.columns.path(&item.column).join(" / "),
                            dwell_ms: dwell as u64,
                        },
                        &mut out,
                    );
                }
            }
            let reason = if rng.below(4) == 0 {
                EndReason::Home
            } else {
                EndReason::Idle
            };
            push(
                t + 90_000,
                EventKind::SessionEnd {
                    session,
                    reason,
                    active_ms: (t - start) as u64,
                },
                &mut out,
            );
        }
    }
    out
}
