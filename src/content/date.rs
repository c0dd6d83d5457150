//! Calendar dates as content carries them (`YYYY-MM-DD`), validated, with no time zone.

use std::fmt;
use std::str::FromStr;

/// A valid Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Why a piece of text is not a `YYYY-MM-DD` date, in words for a content author.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("“{0}” is not a date in the form YYYY-MM-DD")]
    Format(String),
    #[error("“{0}” is not a real calendar date")]
    Invalid(String),
}

impl Date {
    /// Builds a date, or `None` when there is no such day (month 13, 30 February, year 0).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before it): for sorting and date arithmetic.
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date a number of days after 1970-01-01, when it is in the range of [`Date`].
    pub fn from_days_since_epoch(days: i64) -> Option<Date> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(u16::try_from(year).ok()?, month as u8, day as u8)
    }
}

/// A moment as `YYYY-MM-DD HH:MM`, `offset_minutes` east of UTC (for people to read).
pub fn format_local(unix_secs: i64, offset_minutes: i32) -> String {
    let local = unix_secs + i64::from(offset_minutes) * 60;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    match Date::from_days_since_epoch(days) {
        Some(date) => format!("{date} {:02}:{:02}", secs / 3600, secs % 3600 / 60),
        None => format!("@{unix_secs}"),
    }
}

/// A moment in UTC as RFC 3339 (`2026-11-26T20:41:07Z`), for files machines read.
pub fn format_utc(unix_secs: i64) -> String {
    let (days, secs) = (unix_secs.div_euclid(86_400), unix_secs.rem_euclid(86_400));
    match Date::from_days_since_epoch(days) {
        Some(date) => format!(
            "{date}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        ),
        None => format!("@{unix_secs}"),
    }
}

/// Seconds since 1970-01-01 UTC, now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl FromStr for Date {
    type Err = DateError;

    fn from_str(text: &str) -> Result<Date, DateError> {
        let format_error = || DateError::Format(text.to_owned());
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape_ok {
            return Err(format_error());
        }
        let year = text[0..4].parse().map_err(|_| format_error())?;
        let month = text[5..7].parse().map_err(|_| format_error())?;
        let day = text[8..10].parse().map_err(|_| format_error())?;
        Date::new(year, month, day).ok_or_else(|| DateError::Invalid(text.to_owned()))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = input.parse::<Date>();
        match (got, expected) {
            (Ok(date), Ok(want)) => assert_eq!(date.to_string(), want, "{input}"),
            (Err(err), Err(want)) => assert_eq!(err.to_string(), want, "{input}"),
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn parses_and_validates_dates() {
        check("2024-03-15", Ok("2024-03-15"));
        check("2024-02-29", Ok("2024-02-29"));
        check("2000-02-29", Ok("2000-02-29"));
        check(
            "1900-02-29",
            Err("“1900-02-29” is not a real calendar date"),
        );
        check(
            "2023-02-29",
            Err("“2023-02-29” is not a real calendar date"),
        );
        check(
            "2024-04-31",
            Err("“2024-04-31” is not a real calendar date"),
        );
        check(
            "2024-13-01",
            Err("“2024-13-01” is not a real calendar date"),
        );
        check(
            "0000-01-01",
            Err("“0000-01-01” is not a real calendar date"),
        );
        check(
            "2024-3-15",
            Err("“2024-3-15” is not a date in the form YYYY-MM-DD"),
        );
        check(
            "2024/03/15",
            Err("“2024/03/15” is not a date in the form YYYY-MM-DD"),
        );
        check(
            "２０２４-03-15",
            Err("“２０２４-03-15” is not a date in the form YYYY-MM-DD"),
        );
        check("", Err("“” is not a date in the form YYYY-MM-DD"));
        check(
            "2024-03-15T00:00",
            Err("“2024-03-15T00:00” is not a date in the form YYYY-MM-DD"),
        );
    }

    #[test]
    fn counts_days_since_the_epoch() {
        for (text, days) in [
            ("1970-01-01", 0),
            ("2000-03-01", 11_017),
            ("2024-02-29", 19_782),
            ("1969-12-31", -1),
        ] {
            let date: Date = text.parse().unwrap();
            assert_eq!(date.days_since_epoch(), days, "{text}");
            assert_eq!(Date::from_days_since_epoch(days), Some(date), "{text}");
        }
    }

    #[test]
    fn dates_order_chronologically() {
        let a: Date = "2023-12-31".parse().unwrap();
        let b: Date = "2024-01-01".parse().unwrap();
        assert!(a < b);
    }
}
