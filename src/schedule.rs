//! The terminal's clock rules: when the screen is blanked at night and when the kiosk restarts
//! once a day. Pure: times are minutes after local midnight.

/// `HH:MM` as minutes after midnight; `None` for anything else (empty means "never").
pub fn parse_hhmm(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h < 24 && m < 60 && text.trim().len() == 5).then_some(h * 60 + m)
}

/// Whether `now` lies in `[from, until)`, wrapping past midnight (20:00–07:30).
pub fn within(now: u32, from: u32, until: u32) -> bool {
    if from <= until {
        (from..until).contains(&now)
    } else {
        now >= from || now < until
    }
}

/// The schedule of a terminal, parsed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Schedule {
    pub blank: Option<(u32, u32)>,
    pub restart_at: Option<u32>,
}

impl Schedule {
    pub fn from_config(config: &crate::config::ScheduleConfig) -> Schedule {
        Schedule {
            blank: parse_hhmm(&config.blank_from).zip(parse_hhmm(&config.blank_until)),
            restart_at: parse_hhmm(&config.restart_at),
        }
    }

    pub fn blank_at(&self, minute: u32) -> bool {
        self.blank
            .is_some_and(|(from, until)| within(minute, from, until))
    }

    pub fn restart_at(&self, minute: u32) -> bool {
        self.restart_at == Some(minute)
    }
}

/// Minutes after local midnight now, `offset_minutes` east of UTC.
pub fn local_minute(unix_secs: i64, offset_minutes: i32) -> u32 {
    ((unix_secs / 60 + i64::from(offset_minutes)).rem_euclid(24 * 60)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_and_windows_wrap_past_midnight() {
        assert_eq!(parse_hhmm("07:30"), Some(450));
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("7:30"), None);
        assert_eq!(parse_hhmm(""), None);
        assert!(within(21 * 60, 20 * 60, 450));
        assert!(within(60, 20 * 60, 450));
        assert!(!within(12 * 60, 20 * 60, 450));
        assert!(within(13 * 60, 12 * 60, 14 * 60));
        assert!(!within(14 * 60, 12 * 60, 14 * 60));
        assert_eq!(local_minute(0, 480), 480);
        assert_eq!(local_minute(86_400 - 60, 480), 479);
    }
}
