//! What the statistics need to know about the visitor in front of the screen: the session, the
//! item on screen and since when, and the search the visitor is settling on. It turns what the
//! controller tells it into usage events ([`EventKind`]); it does no IO and keeps no history.
//!
//! A session runs from the first touch after a fresh home screen until the idle reset or the
//! return home. Searches are recorded once the visitor settles on them (a pause of
//! [`SEARCH_SETTLES`] seconds, opening a result, leaving the search page, submitting), never keystroke
//! by keystroke, with personal numbers masked.

use std::time::Instant;

use crate::stats::{privacy, EndReason, EventKind};

/// A query unchanged for this many ticks of the screen's one-second clock counts as searched.
/// (Ticks, not a clock reading, so the screen's clock decides; tests drive it.)
pub const SEARCH_SETTLES: u32 = 3;

struct Session {
    id: String,
    started: Instant,
    last_touch: Instant,
}

/// An item on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewed {
    pub item: String,
    pub title: String,
    pub column: String,
    pub column_name: String,
}

/// The newest search results shown, not yet recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Searched {
    /// The normalised query.
    pub query: String,
    pub kind: Option<String>,
    pub column: Option<String>,
    pub results: u64,
    pub latency_ms: f64,
}

#[derive(Default)]
pub struct Usage {
    session: Option<Session>,
    viewing: Option<(Viewed, Instant)>,
    /// The search not yet recorded, and the ticks since it changed.
    pending: Option<(Searched, u32)>,
    /// The last search recorded (query, kind, column), so a settled search is recorded once.
    recorded: Option<(String, Option<String>, Option<String>)>,
    counter: u64,
}

impl Usage {
    /// The current session's id, starting a session (and saying so in `events`) if none runs.
    pub fn session(&mut self, now: Instant, events: &mut Vec<EventKind>) -> String {
        if let Some(session) = &mut self.session {
            return session.id.clone();
        }
        self.counter += 1;
        let id = session_id(self.counter);
        self.session = Some(Session {
            id: id.clone(),
            started: now,
            last_touch: now,
        });
        events.push(EventKind::SessionStart {
            session: id.clone(),
        });
        id
    }

    /// A touch anywhere.
    pub fn touched(&mut self, now: Instant) -> Vec<EventKind> {
        let mut events = Vec::new();
        self.session(now, &mut events);
        if let Some(session) = &mut self.session {
            session.last_touch = now;
        }
        events
    }

    /// New results are on screen for `searched`.
    pub fn searched(&mut self, searched: Searched) {
        if searched.query.trim().is_empty() {
            self.pending = None;
        } else {
            self.pending = Some((searched, 0));
        }
    }

    /// The pending search, recorded now if it differs from the last one recorded.
    pub fn settle_search(&mut self, now: Instant) -> Vec<EventKind> {
        let mut events = Vec::new();
        let Some((searched, _)) = self.pending.take() else {
            return events;
        };
        let key = (
            searched.query.clone(),
            searched.kind.clone(),
            searched.column.clone(),
        );
        if self.recorded.as_ref() == Some(&key) {
            return events;
        }
        self.recorded = Some(key);
        let session = self.session(now, &mut events);
        events.push(EventKind::Search {
            session,
            query: privacy::mask(searched.query.trim()),
            kind: searched.kind,
            column: searched.column,
            year: None,
            results: searched.results,
            latency_ms: (searched.latency_ms * 10.0).round() / 10.0,
        });
        events
    }

    /// Once a second: records a search the visitor has paused on.
    pub fn tick(&mut self, now: Instant) -> Vec<EventKind> {
        match &mut self.pending {
            Some((_, ticks)) => {
                *ticks += 1;
                if *ticks >= SEARCH_SETTLES {
                    self.settle_search(now)
                } else {
                    Vec::new()
                }
            }
            None => Vec::new(),
        }
    }

    /// The query the last recorded search had (for the result opened from it).
    pub fn last_query(&self) -> String {
        self.recorded
            .as_ref()
            .map(|(q, _, _)| privacy::mask(q.trim()))
            .unwrap_or_default()
    }

    /// What is on screen now: an item, or something else (`None`). Leaving an item records how
    /// long it was viewed.
    pub fn showing(&mut self, item: Option<Viewed>, now: Instant) -> Vec<EventKind> {
        if self.viewing.as_ref().map(|(v, _)| v) == item.as_ref() {
            return Vec::new();
        }
        let mut events = Vec::new();
        if let Some((viewed, since)) = self.viewing.take() {
            let session = self.session(now, &mut events);
            events.push(EventKind::ItemViewed {
                session,
                item: viewed.item,
                title: viewed.title,
                column: viewed.column,
                column_name: viewed.column_name,
                dwell_ms: now.duration_since(since).as_millis() as u64,
            });
        }
        self.viewing = item.map(|viewed| (viewed, now));
        events
    }

    /// The session ends: a settled search and the item on screen are recorded first.
    pub fn end(&mut self, reason: EndReason, now: Instant) -> Vec<EventKind> {
        if self.session.is_none() {
            self.pending = None;
            self.viewing = None;
            return Vec::new();
        }
        let mut events = self.settle_search(now);
        events.extend(self.showing(None, now));
        if let Some(session) = self.session.take() {
            events.push(EventKind::SessionEnd {
                session: session.id,
                reason,
                active_ms: session
                    .last_touch
                    .duration_since(session.started)
                    .as_millis() as u64,
            });
        }
        self.recorded = None;
        events
    }

    pub fn in_session(&self) -> bool {
        self.session.is_some()
    }
}

/// A session id: the process's random prefix and a counter (unique enough for a terminal, and
/// events carry the terminal id too).
fn session_id(counter: u64) -> String {
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 4];
        let _ = getrandom::fill(&mut bytes);
        u32::from_le_bytes(bytes)
    });
    format!("{prefix:08x}-{counter}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn searched(query: &str, results: u64) -> Searched {
        Searched {
            query: query.into(),
            kind: None,
            column: None,
            results,
            latency_ms: 1.0,
        }
    }

    fn names(events: &[EventKind]) -> Vec<&'static str> {
        events.iter().map(EventKind::name).collect()
    }

    #[test]
    fn a_search_is_recorded_once_when_it_settles_not_per_keystroke() {
        let t0 = Instant::now();
        let mut usage = Usage::default();
        assert_eq!(names(&usage.touched(t0)), ["session_start"]);
        for typed in ["y", "yy", "yyz", "yyzz"] {
            usage.searched(searched(typed, 3));
            assert!(usage.tick(t0).is_empty());
            assert!(usage.tick(t0).is_empty());
        }
        let events = usage.tick(t0);
        assert_eq!(names(&events), ["search"]);
        let EventKind::Search { query, .. } = &events[0] else {
            unreachable!()
        };
        assert_eq!(query, "yyzz");
        // The same query again is not a new search.
        usage.searched(searched("yyzz", 3));
        assert!(usage.settle_search(t0 + Duration::from_secs(7)).is_empty());
    }

    #[test]
    fn ending_records_the_search_the_view_and_the_active_time() {
        let t0 = Instant::now();
        let mut usage = Usage::default();
        usage.touched(t0);
        usage.searched(searched("身份证 110101199003074578", 0));
        let viewed = Viewed {
            item: "g-1".into(),
            title: "T".into(),
            column: "c".into(),
            column_name: "C".into(),
        };
        let mut events = usage.showing(Some(viewed.clone()), t0 + Duration::from_secs(1));
        assert!(events.is_empty());
        assert!(usage
            .showing(Some(viewed), t0 + Duration::from_secs(2))
            .is_empty());
        usage.touched(t0 + Duration::from_secs(20));
        events.extend(usage.end(EndReason::Idle, t0 + Duration::from_secs(110)));
        assert_eq!(names(&events), ["search", "item_viewed", "session_end"]);
        let EventKind::Search { query, .. } = &events[0] else {
            unreachable!()
        };
        assert_eq!(query, "身份证 [身份证号]");
        let EventKind::ItemViewed { dwell_ms, .. } = &events[1] else {
            unreachable!()
        };
        assert_eq!(*dwell_ms, 109_000);
        let EventKind::SessionEnd {
            active_ms, reason, ..
        } = &events[2]
        else {
            unreachable!()
        };
        assert_eq!((*active_ms, *reason), (20_000, EndReason::Idle));
        assert!(!usage.in_session());
        assert!(usage.end(EndReason::Home, t0).is_empty());
    }
}
