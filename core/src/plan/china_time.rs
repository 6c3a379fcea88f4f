//! Time as the planner sees it: Unix milliseconds passed in by the caller, and WeChat's day and
//! month boundaries, which fall at midnight China time (UTC+8) whatever the caller's zone.
//!
//! Milliseconds because that is what JavaScript's `Date.now()` and Cloudflare's clock give, and
//! because retry jitter needs finer steps than a second. The calendar is computed arithmetically
//! (Howard Hinnant's days-from-civil algorithm): China has had no daylight saving time since
//! 1991, so a fixed offset is exact, and no time-zone database or `chrono` is needed in wasm.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::limits::CHINA_UTC_OFFSET_SECS;

const MS_PER_SEC: i64 = 1_000;
const MS_PER_DAY: i64 = 86_400_000;
const CHINA_OFFSET_MS: i64 = CHINA_UTC_OFFSET_SECS * MS_PER_SEC;

/// An instant as milliseconds since 1970-01-01T00:00:00Z (what `Date.now()` returns).
///
/// Serialized as a plain JSON number (exact in JavaScript up to the year 287,396).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// The instant `secs` seconds after the Unix epoch.
    pub fn from_secs(secs: i64) -> Self {
        UnixMillis(secs.saturating_mul(MS_PER_SEC))
    }

    /// Whole seconds since the Unix epoch (rounded down).
    pub fn as_secs(self) -> i64 {
        self.0.div_euclid(MS_PER_SEC)
    }

    /// This instant plus `ms` milliseconds (saturating: no input can overflow).
    pub fn plus_millis(self, ms: i64) -> Self {
        UnixMillis(self.0.saturating_add(ms))
    }

    /// The instant of midnight UTC+8 that starts `date`.
    pub fn from_china_date(date: ChinaDate) -> Self {
        let days = days_from_civil(date.year, date.month, date.day);
        UnixMillis(
            days.saturating_mul(MS_PER_DAY)
                .saturating_sub(CHINA_OFFSET_MS),
        )
    }

    /// The China calendar date (UTC+8) of this instant.
    pub fn china_date(self) -> ChinaDate {
        let local = self.0.saturating_add(CHINA_OFFSET_MS);
        let (year, month, day) = civil_from_days(local.div_euclid(MS_PER_DAY));
        ChinaDate { year, month, day }
    }

    /// Start of the China day holding this instant (00:00:00.000 UTC+8, i.e. 16:00 UTC the day
    /// before). WeChat's daily quotas reset here.
    pub fn china_day_start(self) -> Self {
        let local = self.0.saturating_add(CHINA_OFFSET_MS);
        UnixMillis(
            local
                .div_euclid(MS_PER_DAY)
                .saturating_mul(MS_PER_DAY)
                .saturating_sub(CHINA_OFFSET_MS),
        )
    }

    /// Start of the next China day: when a daily quota used up now is available again.
    pub fn next_china_day(self) -> Self {
        self.china_day_start().plus_millis(MS_PER_DAY)
    }

    /// Whole China days from this instant's day to `later`'s (0 on the same day; negative when
    /// `later` is on an earlier day). Exact: China has one fixed offset, so every day is 24 h.
    pub(crate) fn china_days_until(self, later: UnixMillis) -> i64 {
        later
            .china_day_start()
            .0
            .saturating_sub(self.china_day_start().0)
            .div_euclid(MS_PER_DAY)
    }

    /// Start of the China natural month holding this instant (the 1st, 00:00 UTC+8).
    pub fn china_month_start(self) -> Self {
        let d = self.china_date();
        UnixMillis::from_china_date(ChinaDate { day: 1, ..d })
    }

    /// Start of the next China natural month: when a monthly quota is available again.
    pub fn next_china_month(self) -> Self {
        let d = self.china_date();
        let (year, month) = if d.month >= 12 {
            (d.year.saturating_add(1), 1)
        } else {
            (d.year, d.month + 1)
        };
        UnixMillis::from_china_date(ChinaDate {
            year,
            month,
            day: 1,
        })
    }
}

/// RFC 3339 in UTC: `2024-02-28T16:00:00Z` (milliseconds shown only when not zero).
impl fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.0.div_euclid(MS_PER_DAY));
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let secs = ms_of_day / MS_PER_SEC;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        let ms = ms_of_day % MS_PER_SEC;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        f.write_str("Z")
    }
}

impl UnixMillis {
    /// The instant as a person in China reads it: `2024-02-29 00:00:00 China time (UTC+8)`.
    pub fn china_display(self) -> String {
        let local = UnixMillis(self.0.saturating_add(CHINA_OFFSET_MS)).to_string();
        // `local` is RFC 3339 of the shifted instant: swap the `T` and drop the `Z`.
        format!(
            "{} China time (UTC+8)",
            local.trim_end_matches('Z').replacen('T', " ", 1)
        )
    }
}

/// A calendar date in China (UTC+8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChinaDate {
    /// Year (proleptic Gregorian).
    pub year: i64,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of the month, 1..=31.
    pub day: u32,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`). Out-of-range
/// months and days are not rejected; they roll over arithmetically, so callers check the date
/// first (as [`UnixMillis::parse_rfc3339`] does).
pub(super) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let month = i64::from(month);
    let day = i64::from(day);
    let y = if month <= 2 {
        year.saturating_sub(1)
    } else {
        year
    };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era.saturating_mul(146_097)
        .saturating_add(doe)
        .saturating_sub(719_468)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // In range by construction: day 1..=31, month 1..=12.
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = era.saturating_mul(400).saturating_add(yoe);
    (if month <= 2 { year + 1 } else { year }, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> UnixMillis {
        // "YYYY-MM-DDTHH:MM:SS" in UTC.
        let (date, time) = s.split_once('T').unwrap();
        let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
        let t: Vec<i64> = time.split(':').map(|x| x.parse().unwrap()).collect();
        let days = days_from_civil(d[0], d[1] as u32, d[2] as u32);
        UnixMillis((days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]) * 1000)
    }

    #[test]
    fn civil_round_trips_over_four_centuries() {
        for days in (-146_097 * 2..146_097 * 2).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn china_day_turns_at_16_utc() {
        let before = utc("2024-03-14T15:59:59");
        let after = utc("2024-03-14T16:00:00");
        assert_eq!(
            before.china_date(),
            ChinaDate {
                year: 2024,
                month: 3,
                day: 14
            }
        );
        assert_eq!(after.china_date().day, 15);
        assert_eq!(before.next_china_day(), after);
        assert_eq!(after.china_day_start(), after);
        assert_eq!(before.china_day_start(), utc("2024-03-13T16:00:00"));
    }

    #[test]
    fn month_ends_including_leap_years_and_new_year() {
        // Jan 31 China time → Feb 1.
        assert_eq!(
            utc("2024-01-31T15:59:59").next_china_month(),
            utc("2024-01-31T16:00:00")
        );
        // Feb 29 in a leap year, Feb 28 otherwise.
        assert_eq!(
            utc("2024-02-28T16:00:00").next_china_month(),
            utc("2024-02-29T16:00:00")
        );
        assert_eq!(
            utc("2023-02-27T16:00:00").next_china_month(),
            utc("2023-02-28T16:00:00")
        );
        // Dec 31 → Jan 1 of the next year.
        let new_year = utc("2024-12-31T16:00:00");
        assert_eq!(utc("2024-12-31T15:59:59").next_china_month(), new_year);
        assert_eq!(new_year.china_month_start(), new_year);
        assert_eq!(
            new_year.china_date(),
            ChinaDate {
                year: 2025,
                month: 1,
                day: 1
            }
        );
    }

    #[test]
    fn displays_utc_and_china_time() {
        let t = utc("2024-02-28T16:00:00");
        assert_eq!(t.to_string(), "2024-02-28T16:00:00Z");
        assert_eq!(t.plus_millis(5).to_string(), "2024-02-28T16:00:00.005Z");
        assert_eq!(t.china_display(), "2024-02-29 00:00:00 China time (UTC+8)");
        assert_eq!(UnixMillis(-1).to_string(), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        for t in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
            let t = UnixMillis(t);
            let _ = t.china_date();
            let _ = t.next_china_day();
            let _ = t.next_china_month();
            let _ = t.china_month_start();
            let _ = t.to_string();
            let _ = t.china_display();
        }
    }
}
