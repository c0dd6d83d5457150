//! Usage events: what the terminal records about how it is used. Pure data.
//!
//! No personal data: queries are stored normalised and with ID-card, phone and case numbers
//! masked ([`super::privacy::mask`]); keystrokes are never recorded, only settled searches.

/// One recorded event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// Unique (128 random bits in hex): a collector de-duplicates on it.
    pub id: String,
    /// The terminal's id from the config.
    pub terminal: String,
    /// One more than the terminal's previous event, across restarts.
    pub seq: u64,
    /// When, in milliseconds since 1970-01-01 UTC.
    pub at_ms: i64,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. Serialised with a `type` field (`session_start`, `search`, …).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A visitor touched the screen after it was on a fresh home screen.
    SessionStart { session: String },
    /// The session ended: the idle reset, the visitor went home, or the program stopped.
    /// `active_ms` runs from the first to the last touch.
    SessionEnd {
        session: String,
        reason: EndReason,
        active_ms: u64,
    },
    /// A search the visitor settled on (not every keystroke): the normalised, masked query,
    /// the filters, how many results, and how long the search took.
    Search {
        session: String,
        query: String,
        kind: Option<String>,
        column: Option<String>,
        year: Option<u16>,
        results: u64,
        latency_ms: f64,
    },
    /// A result was opened from a search; `rank` counts from 1 over all pages.
    ResultOpened {
        session: String,
        query: String,
        item: String,
        title: String,
        rank: u32,
    },
    /// An item was on screen for `dwell_ms` (recorded when the visitor leaves it).
    ItemViewed {
        session: String,
        item: String,
        title: String,
        column: String,
        column_name: String,
        dwell_ms: u64,
    },
    /// A QR code was shown: `code` is `page`, `checklist`, `online` or `attachment`.
    QrShown {
        session: String,
        item: String,
        title: String,
        code: String,
    },
    /// A column of the catalogue was opened.
    ColumnBrowsed {
        session: String,
        column: String,
        column_name: String,
    },
    /// Elder mode (长辈模式) switched on or off.
    ElderMode { session: String, on: bool },
    /// The interface language switched (`zh` or `en`).
    Language { session: String, lang: String },
    /// New content was installed.
    ContentInstalled {
        seq: u64,
        version: String,
        from: String,
    },
    /// The kiosk screen started, showing this content.
    Started {
        program: String,
        content_seq: Option<u64>,
        content_version: Option<String>,
    },
    /// The kiosk screen stopped.
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Idle,
    Home,
    Stop,
}

impl EventKind {
    /// The `type` name.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::SessionStart { .. } => "session_start",
            EventKind::SessionEnd { .. } => "session_end",
            EventKind::Search { .. } => "search",
            EventKind::ResultOpened { .. } => "result_opened",
            EventKind::ItemViewed { .. } => "item_viewed",
            EventKind::QrShown { .. } => "qr_shown",
            EventKind::ColumnBrowsed { .. } => "column_browsed",
            EventKind::ElderMode { .. } => "elder_mode",
            EventKind::Language { .. } => "language",
            EventKind::ContentInstalled { .. } => "content_installed",
            EventKind::Started { .. } => "started",
            EventKind::Stopped => "stopped",
        }
    }

    /// The session it belongs to, if any.
    pub fn session(&self) -> Option<&str> {
        match self {
            EventKind::SessionStart { session }
            | EventKind::SessionEnd { session, .. }
            | EventKind::Search { session, .. }
            | EventKind::ResultOpened { session, .. }
            | EventKind::ItemViewed { session, .. }
            | EventKind::QrShown { session, .. }
            | EventKind::ColumnBrowsed { session, .. }
            | EventKind::ElderMode { session, .. }
            | EventKind::Language { session, .. } => Some(session),
            EventKind::ContentInstalled { .. } | EventKind::Started { .. } | EventKind::Stopped => {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_flat_with_a_type() {
        let event = Event {
            id: "00ff".into(),
            terminal: "t1".into(),
            seq: 7,
            at_ms: 1_790_000_000_000,
            kind: EventKind::QrShown {
                session: "s1".into(),
                item: "g-1".into(),
                title: "营业执照".into(),
                code: "checklist".into(),
            },
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"id":"00ff","terminal":"t1","seq":7,"at_ms":1790000000000,"type":"qr_shown","session":"s1","item":"g-1","title":"营业执照","code":"checklist"}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
        assert_eq!(event.kind.name(), "qr_shown");
    }
}
