//! When a scheduled mass send may start (`sendAt` of the admin API), read strictly.
//!
//! A send time read wrong sends a whole list at the wrong hour, or on another WeChat day (and so
//! against another day's quota). JavaScript's `Date.parse` guesses instead of refusing: `"1"` and
//! `"March 7"` become dates in 2001, a time without an offset is read as UTC although the
//! operator meant China time, and 2030-02-30 quietly becomes 2 March. So core takes exactly two
//! forms and refuses everything else with a reason a person can act on:
//!
//! - an RFC 3339 date-time with an explicit offset, `2030-03-07T08:00:00+08:00`. WeChat's days
//!   turn at midnight China time (+08:00), so that is the offset the messages suggest, but any
//!   offset is accepted. One is required: a time without it is ambiguous between the operator's
//!   zone and UTC, eight hours apart for China, which is often across a WeChat day;
//! - Unix milliseconds, what `Date.now()` gives. Ten-digit Unix seconds are refused, not scaled:
//!   read as milliseconds they would be a time in January 1970, and a guess either way is how a
//!   send goes out at the wrong time.

use std::fmt;

use serde_json::Value;

use super::china_time::{days_from_civil, UnixMillis};
use crate::json_input::{show, Json};
use crate::limits::SEND_AT_PAST_TOLERANCE_MS;
use crate::validate::{shorten, Problem, Rule, ValidationError};

/// The form every message suggests: China time, with its offset.
const EXAMPLE: &str = "2030-03-07T08:00:00+08:00";

/// Smallest Unix milliseconds taken as a number: 2001-09-09T01:46:40Z. Anything smaller (every
/// time in Unix seconds up to the year 33658) is much more likely seconds than a time in 2001.
const MIN_NUMBER_MILLIS: i64 = 1_000_000_000_000;

/// Largest Unix milliseconds taken as a number: 9999-12-31T23:59:59.999Z, the last instant of
/// the four-digit years RFC 3339 can write. Beyond it a number is microseconds or nanoseconds.
const MAX_NUMBER_MILLIS: i64 = 253_402_300_799_999;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Why a text or number is not a time. [`UnixMillis::parse_rfc3339`] returns the variants about
/// text; [`send_at_from_value`] adds those about numbers.
///
/// `Display` shows the input (shortened) and [`TimeError::reason`], e.g.
/// `"2030-02-30T08:00:00+08:00" is not a date: February 2030 has 28 days`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// A character outside ASCII (a full-width digit or colon from a Chinese keyboard, say).
    NotAscii {
        /// The input, shortened.
        text: String,
        /// Position of the character, counted in characters from 1.
        at: usize,
        /// The character.
        character: char,
    },
    /// Not the shape `YYYY-MM-DDTHH:MM:SS[.fraction]` followed by an offset.
    Shape {
        /// The input, shortened.
        text: String,
        /// Position where the shape breaks, counted in characters from 1.
        at: usize,
        /// The character found there; `None` when the text stops before it.
        found: Option<char>,
        /// What belongs there, as a person reads it.
        expected: &'static str,
    },
    /// Text after the offset.
    Trailing {
        /// The input, shortened.
        text: String,
        /// Position of the first character after the offset, counted from 1.
        at: usize,
    },
    /// A date and time without `Z` or `±HH:MM`.
    NoOffset {
        /// The input, shortened.
        text: String,
    },
    /// A month outside 01..=12.
    NoSuchMonth {
        /// The input, shortened.
        text: String,
        /// The month written.
        month: u32,
    },
    /// A day the month does not have: 00, February 30, April 31, February 29 of a common year.
    NoSuchDay {
        /// The input, shortened.
        text: String,
        /// The year written.
        year: u32,
        /// The month written (1..=12).
        month: u32,
        /// The day written.
        day: u32,
        /// How many days that month has in that year.
        days_in_month: u32,
    },
    /// An hour above 23 (RFC 3339 has no 24:00).
    Hour {
        /// The input, shortened.
        text: String,
        /// The hour written.
        hour: u32,
    },
    /// A minute above 59.
    Minute {
        /// The input, shortened.
        text: String,
        /// The minute written.
        minute: u32,
    },
    /// Second 60: RFC 3339 writes leap seconds so, but Unix time has no instant for them.
    LeapSecond {
        /// The input, shortened.
        text: String,
    },
    /// A second above 60.
    Second {
        /// The input, shortened.
        text: String,
        /// The second written.
        second: u32,
    },
    /// An offset with hours above 23 or minutes above 59.
    Offset {
        /// The input, shortened.
        text: String,
        /// The offset written, e.g. `+24:00`.
        offset: String,
    },
    /// A negative number.
    Negative {
        /// The number as JSON writes it.
        number: String,
    },
    /// A number with a fraction.
    NotWhole {
        /// The number as JSON writes it.
        number: String,
    },
    /// A number below 1,000,000,000,000 (2001-09-09 in milliseconds): Unix seconds, most likely.
    UnixSeconds {
        /// The number.
        number: u64,
    },
    /// A number after 9999-12-31T23:59:59.999Z in milliseconds: microseconds or nanoseconds,
    /// most likely.
    AfterYear9999 {
        /// The number as JSON writes it.
        number: String,
    },
}

impl TimeError {
    /// What is wrong, without the input: `is not a date: February 2030 has 28 days`. It follows
    /// the input in `Display`, and "this one" in [`Rule::Time`]'s message (which shows the
    /// accepted form itself, so a reason does not repeat it).
    pub fn reason(&self) -> String {
        match self {
            TimeError::NotAscii { at, character, .. } => format!(
                "is not an RFC 3339 time: character {at} is {character:?}, which is not ASCII"
            ),
            TimeError::Shape {
                at,
                found: Some(found),
                expected,
                ..
            } => format!(
                "is not an RFC 3339 time: character {at} is {found:?} where {expected} belongs"
            ),
            TimeError::Shape {
                found: None,
                expected,
                ..
            } => format!("is not an RFC 3339 time: it stops where {expected} belongs"),
            TimeError::Trailing { at, .. } => {
                format!("is not an RFC 3339 time: it goes on after the offset, from character {at}")
            }
            TimeError::NoOffset { .. } => "has no offset, so it could be China time or UTC: add \
                 an offset, e.g. +08:00 for China time, or Z for UTC"
                .to_owned(),
            TimeError::NoSuchMonth { month, .. } => {
                format!("is not a date: there is no month {month:02}; months run 01 to 12")
            }
            TimeError::NoSuchDay { day: 0, .. } => {
                "is not a date: there is no day 00; days start at 01".to_owned()
            }
            TimeError::NoSuchDay {
                year,
                month,
                days_in_month,
                ..
            } => format!(
                "is not a date: {} {year} has {days_in_month} days",
                month_name(*month)
            ),
            TimeError::Hour { hour, .. } => {
                format!("is not a time of day: hour {hour:02} is past 23")
            }
            TimeError::Minute { minute, .. } => {
                format!("is not a time of day: minute {minute:02} is past 59")
            }
            TimeError::LeapSecond { .. } => "is a leap second (:60), which Unix time cannot \
                 hold: write :59, or :00 of the next minute"
                .to_owned(),
            TimeError::Second { second, .. } => {
                format!("is not a time of day: second {second:02} is past 59")
            }
            TimeError::Offset { offset, .. } => format!(
                "has offset {offset}, which does not exist: offset hours run 00 to 23 and \
                 minutes 00 to 59 (China time is +08:00)"
            ),
            TimeError::Negative { .. } => {
                "is negative: Unix milliseconds count from 1970-01-01T00:00:00Z".to_owned()
            }
            TimeError::NotWhole { .. } => "is not a whole number of milliseconds".to_owned(),
            TimeError::UnixSeconds { number } => format!(
                "is before 2001-09-09 as Unix milliseconds, so it looks like Unix seconds: give \
                 milliseconds ({})",
                u128::from(*number) * 1_000
            ),
            TimeError::AfterYear9999 { .. } => "is after the year 9999 as Unix milliseconds, so \
                 it looks like microseconds or nanoseconds: give milliseconds (13 digits today)"
                .to_owned(),
        }
    }
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The accepted form, where the shape itself is what is wrong.
            TimeError::NotAscii { text, .. }
            | TimeError::Shape { text, .. }
            | TimeError::Trailing { text, .. } => {
                write!(f, "{text:?} {}; write e.g. {EXAMPLE}", self.reason())
            }
            TimeError::NoOffset { text }
            | TimeError::NoSuchMonth { text, .. }
            | TimeError::NoSuchDay { text, .. }
            | TimeError::Hour { text, .. }
            | TimeError::Minute { text, .. }
            | TimeError::LeapSecond { text }
            | TimeError::Second { text, .. }
            | TimeError::Offset { text, .. } => write!(f, "{text:?} {}", self.reason()),
            TimeError::Negative { number }
            | TimeError::NotWhole { number }
            | TimeError::AfterYear9999 { number } => write!(f, "{number} {}", self.reason()),
            TimeError::UnixSeconds { number } => write!(f, "{number} {}", self.reason()),
        }
    }
}

fn month_name(month: u32) -> &'static str {
    usize::try_from(month)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("that month")
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl UnixMillis {
    /// Reads an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction]` and an offset, `Z` or
    /// `±HH:MM` (`t` and `z` may be lower case, as RFC 3339 allows), e.g.
    /// `2030-03-07T08:00:00+08:00`, which is 2030-03-07T00:00:00Z.
    ///
    /// Strict where `Date.parse` guesses: the offset is required (without one a time could be
    /// the operator's zone or UTC), the date must exist (no February 30), hours run 00..=23,
    /// minutes and seconds 00..=59 (a leap second has no Unix instant), the year has four digits,
    /// and nothing may come before or after. A fraction of 1 to 9 digits is kept to the
    /// millisecond (truncated, never rounded into the next second).
    pub fn parse_rfc3339(text: &str) -> Result<UnixMillis, TimeError> {
        if let Some((i, character)) = text.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
            return Err(TimeError::NotAscii {
                text: shorten(text),
                at: i + 1,
                character,
            });
        }
        let mut r = Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
        };
        let year = r.digits(4, "the year (YYYY)")?;
        r.expect(b'-', b'-', "'-' after the year")?;
        let month = r.digits(2, "the month (MM)")?;
        if !(1..=12).contains(&month) {
            return Err(TimeError::NoSuchMonth {
                text: shorten(text),
                month,
            });
        }
        r.expect(b'-', b'-', "'-' after the month")?;
        let day = r.digits(2, "the day (DD)")?;
        let days_in_month = days_in_month(year, month);
        if day == 0 || day > days_in_month {
            return Err(TimeError::NoSuchDay {
                text: shorten(text),
                year,
                month,
                day,
                days_in_month,
            });
        }
        r.expect(b'T', b't', "'T' between the date and the time")?;
        let hour = r.digits(2, "the hour (HH)")?;
        if hour > 23 {
            return Err(TimeError::Hour {
                text: shorten(text),
                hour,
            });
        }
        r.expect(b':', b':', "':' after the hour")?;
        let minute = r.digits(2, "the minute (MM)")?;
        if minute > 59 {
            return Err(TimeError::Minute {
                text: shorten(text),
                minute,
            });
        }
        r.expect(b':', b':', "':' and the seconds (:SS) after the minute")?;
        let second = r.digits(2, "the seconds (SS)")?;
        match second {
            0..=59 => {}
            60 => {
                return Err(TimeError::LeapSecond {
                    text: shorten(text),
                })
            }
            _ => {
                return Err(TimeError::Second {
                    text: shorten(text),
                    second,
                })
            }
        }
        let millis = r.fraction_millis()?;
        let offset_secs = r.offset()?;
        if r.at < r.bytes.len() {
            return Err(TimeError::Trailing {
                text: shorten(text),
                at: r.at + 1,
            });
        }
        // Every part is in range here, so none of this can overflow.
        let days = days_from_civil(i64::from(year), month, day);
        let secs =
            days * 86_400 + i64::from(hour) * 3_600 + i64::from(minute) * 60 + i64::from(second)
                - offset_secs;
        Ok(UnixMillis(secs * 1_000 + i64::from(millis)))
    }
}

/// A cursor over ASCII text (checked before), reporting where the RFC 3339 shape breaks.
struct Reader<'t> {
    text: &'t str,
    bytes: &'t [u8],
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn shape(&self, expected: &'static str) -> TimeError {
        TimeError::Shape {
            text: shorten(self.text),
            at: self.at + 1,
            found: self.peek().map(char::from),
            expected,
        }
    }

    /// Exactly `n` decimal digits.
    fn digits(&mut self, n: usize, expected: &'static str) -> Result<u32, TimeError> {
        let mut value = 0;
        for _ in 0..n {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + u32::from(b - b'0');
                    self.at += 1;
                }
                _ => return Err(self.shape(expected)),
            }
        }
        Ok(value)
    }

    /// `one` or `other` (the same byte when there is no lower-case form).
    fn expect(&mut self, one: u8, other: u8, expected: &'static str) -> Result<(), TimeError> {
        match self.peek() {
            Some(b) if b == one || b == other => {
                self.at += 1;
                Ok(())
            }
            _ => Err(self.shape(expected)),
        }
    }

    /// An optional `.` and 1 to 9 digits, as whole milliseconds (truncated).
    fn fraction_millis(&mut self) -> Result<u32, TimeError> {
        if self.peek() != Some(b'.') {
            return Ok(0);
        }
        self.at += 1;
        let mut millis = 0;
        let mut digits = 0;
        while let Some(b @ b'0'..=b'9') = self.peek() {
            if digits == 9 {
                return Err(self.shape("the offset (a fraction of a second has at most 9 digits)"));
            }
            if digits < 3 {
                millis = millis * 10 + u32::from(b - b'0');
            }
            digits += 1;
            self.at += 1;
        }
        if digits == 0 {
            return Err(self.shape("a digit of the fraction of a second"));
        }
        for _ in digits..3 {
            millis *= 10;
        }
        Ok(millis)
    }

    /// `Z` or `±HH:MM`, as seconds east of UTC.
    fn offset(&mut self) -> Result<i64, TimeError> {
        let start = self.at;
        let sign = match self.peek() {
            None => {
                return Err(TimeError::NoOffset {
                    text: shorten(self.text),
                })
            }
            Some(b'Z' | b'z') => {
                self.at += 1;
                return Ok(0);
            }
            Some(b'+') => 1,
            Some(b'-') => -1,
            Some(_) => return Err(self.shape("the offset (Z or +HH:MM, e.g. +08:00)")),
        };
        self.at += 1;
        let hours = self.digits(2, "the offset's hours (HH of ±HH:MM)")?;
        self.expect(b':', b':', "':' in the offset (±HH:MM)")?;
        let minutes = self.digits(2, "the offset's minutes (MM of ±HH:MM)")?;
        if hours > 23 || minutes > 59 {
            return Err(TimeError::Offset {
                text: shorten(self.text),
                offset: self.text.get(start..self.at).unwrap_or_default().to_owned(),
            });
        }
        Ok(sign * i64::from(hours * 3_600 + minutes * 60))
    }
}

/// Reads `sendAt`, when a scheduled mass send may start, from the admin API's JSON: absent or
/// `null` is `None` (the caller's "now"); a string is an RFC 3339 date-time with an offset
/// ([`UnixMillis::parse_rfc3339`]); a number is Unix milliseconds, a whole number from
/// 1,000,000,000,000 (2001-09-09) to the end of the year 9999, because anything smaller is Unix
/// seconds read wrong far more often than a send planned for 2001. Anything else is refused.
///
/// A problem is reported at `path` (the worker passes `"sendAt"`) with [`Rule::Time`] and the
/// value as given, like every other field's.
pub fn send_at_from_value(
    value: Option<&Value>,
    path: &str,
) -> Result<Option<UnixMillis>, ValidationError> {
    let problem = |rule: Rule, shown: &str| ValidationError {
        problems: vec![Problem::new(path, rule, Some(shown))],
    };
    let time_problem =
        |e: TimeError, shown: &str| problem(Rule::Time { reason: e.reason() }, shown);
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => UnixMillis::parse_rfc3339(text)
            .map(Some)
            .map_err(|e| time_problem(e, text)),
        Some(Value::Number(n)) => millis_from_number(n)
            .map(Some)
            .map_err(|e| time_problem(e, &n.to_string())),
        Some(other) => Err(problem(
            Rule::Type {
                expected: "an RFC 3339 time with an offset (a string) or Unix milliseconds \
                           (a number)",
            },
            &show(&Json::borrow(other)),
        )),
    }
}

/// Reads `sendAt` as [`send_at_from_value`] does, and refuses a time more than
/// [`SEND_AT_PAST_TOLERANCE_MS`] before `now`: a year typed wrong (2020 for 2030) or a stale form
/// would otherwise send the whole list at once. The problem ([`Rule::InThePast`]) shows the time
/// given and now in China time, and says that leaving `sendAt` out sends now.
///
/// Every caller that takes a start time (the worker's `POST /api/jobs`, the command line's
/// `--send-at`, the console's field) asks this one function.
pub fn read_send_at(
    value: Option<&Value>,
    path: &str,
    now: UnixMillis,
) -> Result<Option<UnixMillis>, ValidationError> {
    let Some(at) = send_at_from_value(value, path)? else {
        return Ok(None);
    };
    let shown = match value {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => at.0.to_string(),
    };
    not_in_the_past(at, &shown, path, now).map(Some)
}

/// [`read_send_at`] of a time as a person types it (a command-line option, a form field): RFC
/// 3339 with an offset, or Unix milliseconds written as digits. Same rules, same problems.
pub fn read_send_at_text(
    text: &str,
    path: &str,
    now: UnixMillis,
) -> Result<UnixMillis, ValidationError> {
    let time_problem = |e: TimeError| ValidationError {
        problems: vec![Problem::new(
            path,
            Rule::Time { reason: e.reason() },
            Some(text),
        )],
    };
    let at = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is past the year 9999 as milliseconds.
        let number = text.parse::<u64>().unwrap_or(u64::MAX);
        millis_from_integer(number, text).map_err(time_problem)?
    } else {
        UnixMillis::parse_rfc3339(text).map_err(time_problem)?
    };
    not_in_the_past(at, text, path, now)
}

/// `at`, unless it is more than [`SEND_AT_PAST_TOLERANCE_MS`] before `now`.
fn not_in_the_past(
    at: UnixMillis,
    shown: &str,
    path: &str,
    now: UnixMillis,
) -> Result<UnixMillis, ValidationError> {
    if at.0 < now.0.saturating_sub(SEND_AT_PAST_TOLERANCE_MS) {
        return Err(ValidationError {
            problems: vec![Problem::new(
                path,
                Rule::InThePast {
                    given: at.china_display(),
                    now: now.china_display(),
                },
                Some(shown),
            )],
        });
    }
    Ok(at)
}

/// A whole, non-negative number as Unix milliseconds: refused when it can only be Unix seconds
/// (before 2001-09-09 as milliseconds) or is past the year 9999 (micro- or nanoseconds).
fn millis_from_integer(number: u64, written: &str) -> Result<UnixMillis, TimeError> {
    let millis = i64::try_from(number).unwrap_or(i64::MAX);
    if millis < MIN_NUMBER_MILLIS {
        return Err(TimeError::UnixSeconds { number });
    }
    if millis > MAX_NUMBER_MILLIS {
        return Err(TimeError::AfterYear9999 {
            number: written.to_owned(),
        });
    }
    Ok(UnixMillis(millis))
}

/// A ledger's `at` (Unix milliseconds of a past send): a number that can only be Unix seconds
/// (before 2001-09-09 as milliseconds) is refused, not scaled, as a `sendAt` number is; read as
/// milliseconds it would be a send in January 1970 that no quota window counts.
pub(crate) fn ledger_millis(number: u64) -> Result<UnixMillis, TimeError> {
    millis_from_integer(number, &number.to_string())
}

/// A JSON number as Unix milliseconds (see [`send_at_from_value`]).
fn millis_from_number(n: &serde_json::Number) -> Result<UnixMillis, TimeError> {
    let millis = if let Some(u) = n.as_u64() {
        // Above i64::MAX is past the year 9999 too.
        i64::try_from(u).unwrap_or(i64::MAX)
    } else if let Some(i) = n.as_i64() {
        i
    } else {
        // serde_json keeps other numbers as finite f64. JSON has one number type, so a whole
        // 1.7e12 is the same time as 1700000000000.
        let f = n.as_f64().unwrap_or(f64::NAN);
        if f < 0.0 {
            return Err(TimeError::Negative {
                number: n.to_string(),
            });
        }
        if f.fract() != 0.0 || f.is_nan() {
            return Err(TimeError::NotWhole {
                number: n.to_string(),
            });
        }
        if f > MAX_NUMBER_MILLIS as f64 {
            i64::MAX
        } else {
            // Whole and within 0..=MAX_NUMBER_MILLIS: exact.
            f as i64
        }
    };
    if millis < 0 {
        return Err(TimeError::Negative {
            number: n.to_string(),
        });
    }
    millis_from_integer(millis.unsigned_abs(), &n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<UnixMillis, TimeError> {
        UnixMillis::parse_rfc3339(text)
    }

    fn ms(text: &str) -> i64 {
        parse(text).unwrap().0
    }

    fn send_at(value: Value) -> Result<Option<UnixMillis>, ValidationError> {
        send_at_from_value(Some(&value), "sendAt")
    }

    /// The one problem of a refused `sendAt`: (path, code, message, value).
    fn refused(value: Value) -> (String, &'static str, String, Option<String>) {
        let e = send_at(value).unwrap_err();
        assert_eq!(e.problems.len(), 1, "{e}");
        let p = &e.problems[0];
        (
            p.path.clone(),
            p.rule.code(),
            p.to_string(),
            p.value.clone(),
        )
    }

    // 2030-03-07T00:00:00Z
    const MARCH_7_2030_UTC: i64 = 1_899_072_000_000;

    #[test]
    fn reads_china_time_offset() {
        assert_eq!(ms("2030-03-07T00:00:00Z"), MARCH_7_2030_UTC);
        assert_eq!(ms("2030-03-07T08:00:00+08:00"), MARCH_7_2030_UTC);
        assert_eq!(
            parse("2030-03-07T08:00:00+08:00").unwrap().to_string(),
            "2030-03-07T00:00:00Z"
        );
        // Midnight China time is 16:00 UTC the day before: a new WeChat day.
        let midnight = parse("2030-03-07T00:00:00+08:00").unwrap();
        assert_eq!(midnight.to_string(), "2030-03-06T16:00:00Z");
        assert_eq!(midnight.china_day_start(), midnight);
    }

    #[test]
    fn reads_negative_offsets() {
        assert_eq!(ms("2030-03-06T19:00:00-05:00"), MARCH_7_2030_UTC);
        assert_eq!(ms("2030-03-06T14:30:00-09:30"), MARCH_7_2030_UTC);
        // RFC 3339's "-00:00" (offset unknown) is still this instant in UTC.
        assert_eq!(ms("2030-03-07T00:00:00-00:00"), MARCH_7_2030_UTC);
        assert_eq!(ms("2030-03-07T23:59:00+23:59"), MARCH_7_2030_UTC);
        assert_eq!(ms("2030-03-06T00:01:00-23:59"), MARCH_7_2030_UTC);
    }

    #[test]
    fn accepts_z_and_fraction() {
        assert_eq!(ms("2030-03-07T00:00:00.5Z"), MARCH_7_2030_UTC + 500);
        assert_eq!(ms("2030-03-07T00:00:00.12Z"), MARCH_7_2030_UTC + 120);
        assert_eq!(ms("2030-03-07T08:00:00.123+08:00"), MARCH_7_2030_UTC + 123);
        assert_eq!(ms("2030-03-07T00:00:00.123456Z"), MARCH_7_2030_UTC + 123);
        assert_eq!(ms("2030-03-07T00:00:00.999999999Z"), MARCH_7_2030_UTC + 999);
    }

    #[test]
    fn accepts_lower_case_t_and_z() {
        assert_eq!(ms("2030-03-07t00:00:00z"), MARCH_7_2030_UTC);
        assert_eq!(ms("2030-03-07t08:00:00+08:00"), MARCH_7_2030_UTC);
    }

    #[test]
    fn accepts_years_0000_to_9999() {
        assert_eq!(ms("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ms("0000-01-01T00:00:00Z"), -62_167_219_200_000);
        assert_eq!(ms("9999-12-31T23:59:59.999Z"), MAX_NUMBER_MILLIS);
        assert_eq!(ms("2001-09-09T01:46:40Z"), MIN_NUMBER_MILLIS);
    }

    #[test]
    fn accepts_february_29_of_leap_years_only() {
        assert_eq!(
            parse("2028-02-29T08:00:00+08:00").unwrap().to_string(),
            "2028-02-29T00:00:00Z"
        );
        assert!(parse("2000-02-29T00:00:00Z").is_ok()); // divisible by 400
        for common in ["2100-02-29T00:00:00Z", "2030-02-29T00:00:00Z"] {
            assert!(
                matches!(
                    parse(common),
                    Err(TimeError::NoSuchDay {
                        days_in_month: 28,
                        ..
                    })
                ),
                "{common}"
            );
        }
        assert_eq!(
            parse("2100-02-29T08:00:00+08:00").unwrap_err().to_string(),
            "\"2100-02-29T08:00:00+08:00\" is not a date: February 2100 has 28 days"
        );
    }

    #[test]
    fn refuses_february_30() {
        let e = parse("2030-02-30T08:00:00+08:00").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"2030-02-30T08:00:00+08:00\" is not a date: February 2030 has 28 days"
        );
        assert_eq!(e.reason(), "is not a date: February 2030 has 28 days");
    }

    #[test]
    fn refuses_days_a_month_does_not_have() {
        assert_eq!(
            parse("2030-04-31T00:00:00Z").unwrap_err().reason(),
            "is not a date: April 2030 has 30 days"
        );
        assert_eq!(
            parse("2030-03-00T00:00:00Z").unwrap_err().reason(),
            "is not a date: there is no day 00; days start at 01"
        );
        assert!(parse("2030-01-32T00:00:00Z").is_err());
        assert!(parse("2030-12-31T00:00:00Z").is_ok());
    }

    #[test]
    fn refuses_month_00_and_13() {
        for text in ["2030-00-07T00:00:00Z", "2030-13-07T00:00:00Z"] {
            assert!(
                matches!(parse(text), Err(TimeError::NoSuchMonth { .. })),
                "{text}"
            );
        }
        assert_eq!(
            parse("2030-13-07T00:00:00Z").unwrap_err().reason(),
            "is not a date: there is no month 13; months run 01 to 12"
        );
    }

    #[test]
    fn refuses_a_time_without_an_offset() {
        let e = parse("2030-03-07T08:00:00").unwrap_err();
        assert!(matches!(e, TimeError::NoOffset { .. }));
        let message = e.to_string();
        assert!(
            message.contains("add an offset, e.g. +08:00 for China time"),
            "{message}"
        );
        assert!(matches!(
            parse("2030-03-07T08:00:00.250"),
            Err(TimeError::NoOffset { .. })
        ));
    }

    #[test]
    fn refuses_what_date_parse_guesses() {
        let e = parse("1").unwrap_err();
        assert_eq!(
            e,
            TimeError::Shape {
                text: "1".into(),
                at: 2,
                found: None,
                expected: "the year (YYYY)"
            }
        );
        assert_eq!(
            e.to_string(),
            "\"1\" is not an RFC 3339 time: it stops where the year (YYYY) belongs; write e.g. \
             2030-03-07T08:00:00+08:00"
        );
        assert_eq!(
            parse("March 7").unwrap_err().to_string(),
            "\"March 7\" is not an RFC 3339 time: character 1 is 'M' where the year (YYYY) \
             belongs; write e.g. 2030-03-07T08:00:00+08:00"
        );
        for text in [
            "",
            "2030",
            "2030-03-07",
            "2030-3-7T08:00:00+08:00",
            "2030/03/07T08:00:00+08:00",
            "Thu, 07 Mar 2030 08:00:00 +0800",
            "1899072000000",
        ] {
            assert!(
                matches!(parse(text), Err(TimeError::Shape { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_a_space_instead_of_t() {
        assert_eq!(
            parse("2030-03-07 08:00:00+08:00").unwrap_err().reason(),
            "is not an RFC 3339 time: character 11 is ' ' where 'T' between the date and the \
             time belongs"
        );
    }

    #[test]
    fn refuses_a_time_without_seconds() {
        assert!(matches!(
            parse("2030-03-07T08:00+08:00"),
            Err(TimeError::Shape {
                at: 17,
                found: Some('+'),
                ..
            })
        ));
    }

    #[test]
    fn refuses_hour_24_minute_60_and_second_61() {
        assert_eq!(
            parse("2030-03-07T24:00:00+08:00").unwrap_err().reason(),
            "is not a time of day: hour 24 is past 23"
        );
        assert!(matches!(
            parse("2030-03-07T08:60:00+08:00"),
            Err(TimeError::Minute { minute: 60, .. })
        ));
        assert!(matches!(
            parse("2030-03-07T08:00:61+08:00"),
            Err(TimeError::Second { second: 61, .. })
        ));
    }

    #[test]
    fn refuses_a_leap_second() {
        let e = parse("2016-12-31T23:59:60Z").unwrap_err();
        assert!(matches!(e, TimeError::LeapSecond { .. }));
        assert!(e.reason().contains("leap second"), "{e}");
    }

    #[test]
    fn refuses_offsets_out_of_range() {
        let e = parse("2030-03-07T08:00:00+24:00").unwrap_err();
        assert_eq!(
            e,
            TimeError::Offset {
                text: "2030-03-07T08:00:00+24:00".into(),
                offset: "+24:00".into()
            }
        );
        assert!(matches!(
            parse("2030-03-07T08:00:00-08:60"),
            Err(TimeError::Offset { .. })
        ));
    }

    #[test]
    fn refuses_offsets_not_written_hh_colon_mm() {
        for text in [
            "2030-03-07T08:00:00+0800",
            "2030-03-07T08:00:00+08",
            "2030-03-07T08:00:00+8:00",
            "2030-03-07T08:00:00 +08:00",
            "2030-03-07T08:00:00UTC",
        ] {
            assert!(
                matches!(parse(text), Err(TimeError::Shape { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_text_after_the_offset() {
        for text in [
            "2030-03-07T08:00:00+08:00 ",
            "2030-03-07T08:00:00Z[Asia/Shanghai]",
            "2030-03-07T08:00:00ZZ",
        ] {
            assert!(
                matches!(parse(text), Err(TimeError::Trailing { at, .. }) if at > 20),
                "{text}"
            );
        }
        assert!(matches!(
            parse(" 2030-03-07T08:00:00Z"),
            Err(TimeError::Shape { at: 1, .. })
        ));
    }

    #[test]
    fn refuses_a_fraction_of_no_or_ten_digits() {
        assert!(matches!(
            parse("2030-03-07T08:00:00.Z"),
            Err(TimeError::Shape { at: 21, .. })
        ));
        assert!(matches!(
            parse("2030-03-07T08:00:00.1234567890Z"),
            Err(TimeError::Shape { at: 30, .. })
        ));
    }

    #[test]
    fn refuses_non_ascii() {
        // Full-width digits and colon, as a Chinese input method types them.
        let e = parse("２０３０-03-07T08：00：00+08:00").unwrap_err();
        assert_eq!(
            e,
            TimeError::NotAscii {
                text: "２０３０-03-07T08：00：00+08:00".into(),
                at: 1,
                character: '２'
            }
        );
        assert!(matches!(
            parse("2030-03-07T08：00:00+08:00"),
            Err(TimeError::NotAscii { at: 14, .. })
        ));
    }

    #[test]
    fn shortens_long_input_in_errors() {
        let long = format!("2030-03-07T08:00:00Z{}", "x".repeat(10_000));
        let e = parse(&long).unwrap_err();
        assert!(e.to_string().len() < 400, "{e}");
    }

    #[test]
    fn reads_absent_and_null_as_no_time() {
        assert_eq!(send_at_from_value(None, "sendAt"), Ok(None));
        assert_eq!(send_at(Value::Null), Ok(None));
    }

    #[test]
    fn reads_a_string_as_rfc_3339() {
        assert_eq!(
            send_at(json!("2030-03-07T08:00:00+08:00")),
            Ok(Some(UnixMillis(MARCH_7_2030_UTC)))
        );
    }

    #[test]
    fn reads_unix_milliseconds() {
        assert_eq!(
            send_at(json!(1_899_072_000_000_u64)),
            Ok(Some(UnixMillis(MARCH_7_2030_UTC)))
        );
        assert_eq!(
            send_at(json!(1e12)),
            Ok(Some(UnixMillis(MIN_NUMBER_MILLIS)))
        );
        assert_eq!(
            send_at(json!(MAX_NUMBER_MILLIS)),
            Ok(Some(UnixMillis(MAX_NUMBER_MILLIS)))
        );
    }

    #[test]
    fn refuses_unix_seconds() {
        let (path, code, message, value) = refused(json!(1_899_072_000));
        assert_eq!((path.as_str(), code), ("sendAt", "time"));
        assert_eq!(value.as_deref(), Some("1899072000"));
        assert!(message.contains("looks like Unix seconds"), "{message}");
        assert!(message.contains("1899072000000"), "{message}");
        assert_eq!(refused(json!(999_999_999_999_u64)).1, "time");
        assert_eq!(refused(json!(0)).1, "time");
    }

    #[test]
    fn refuses_negative_numbers() {
        for v in [json!(-1), json!(-1_899_072_000_000_i64), json!(-1.5)] {
            let (_, code, message, _) = refused(v);
            assert_eq!(code, "time");
            assert!(message.contains("is negative"), "{message}");
        }
    }

    #[test]
    fn refuses_fractional_milliseconds() {
        for v in [json!(1.5), json!(1_899_072_000_000.5)] {
            let (_, code, message, _) = refused(v);
            assert_eq!(code, "time");
            assert!(message.contains("not a whole number"), "{message}");
        }
    }

    #[test]
    fn refuses_microseconds_and_nanoseconds() {
        for v in [
            json!(MAX_NUMBER_MILLIS + 1),
            json!(1_899_072_000_000_000_u64),
            json!(u64::MAX),
            json!(1e300),
        ] {
            let (_, code, message, _) = refused(v);
            assert_eq!(code, "time");
            assert!(message.contains("microseconds or nanoseconds"), "{message}");
        }
    }

    #[test]
    fn refuses_other_json_types() {
        for (v, shown) in [
            (json!(true), "true"),
            (json!({"at": 1}), "an object"),
            (json!([2030, 3, 7]), "an array of 3 entries"),
        ] {
            let (path, code, _, value) = refused(v);
            assert_eq!((path.as_str(), code), ("sendAt", "type"));
            assert_eq!(value.as_deref(), Some(shown));
        }
    }

    // 2026-06-01T00:00:00Z, a "now" for the tests of the past.
    const NOW: UnixMillis = UnixMillis(1_780_272_000_000);

    #[test]
    fn refuses_a_start_more_than_a_minute_in_the_past() {
        let e = read_send_at(Some(&json!("2020-03-07T08:00:00+08:00")), "sendAt", NOW).unwrap_err();
        let p = &e.problems[0];
        assert_eq!(p.path, "sendAt");
        assert_eq!(p.rule.code(), "in_the_past");
        assert_eq!(p.value.as_deref(), Some("2020-03-07T08:00:00+08:00"));
        let en = p.to_string();
        assert!(
            en.contains("2020-03-07 08:00:00 China time (UTC+8)"),
            "{en}"
        );
        assert!(
            en.contains("2026-06-01 08:00:00 China time (UTC+8)"),
            "{en}"
        );
        assert!(en.contains("leave it out (or null) to send now"), "{en}");
        let zh = p.zh();
        assert!(zh.contains("2020-03-07 08:00:00 北京时间（UTC+8）"), "{zh}");
        assert!(zh.contains("如要立即发送请不填"), "{zh}");
    }

    #[test]
    fn refuses_milliseconds_in_the_past_too() {
        let e = read_send_at(Some(&json!(NOW.0 - 61_000)), "sendAt", NOW).unwrap_err();
        assert_eq!(e.problems[0].rule.code(), "in_the_past");
        assert_eq!(e.problems[0].value, Some((NOW.0 - 61_000).to_string()));
    }

    #[test]
    fn a_start_within_the_last_minute_or_to_come_is_taken() {
        for at in [NOW.0 - 60_000, NOW.0 - 1, NOW.0, NOW.0 + 86_400_000] {
            assert_eq!(
                read_send_at(Some(&json!(at)), "sendAt", NOW).unwrap(),
                Some(UnixMillis(at))
            );
        }
        assert_eq!(read_send_at(None, "sendAt", NOW).unwrap(), None);
        assert_eq!(
            read_send_at(Some(&Value::Null), "sendAt", NOW).unwrap(),
            None
        );
    }

    #[test]
    fn a_start_that_is_not_a_time_is_refused_as_before() {
        let e = read_send_at(Some(&json!("tomorrow")), "sendAt", NOW).unwrap_err();
        assert_eq!(e.problems[0].rule.code(), "time");
    }

    #[test]
    fn text_as_a_person_types_it_follows_the_same_rules() {
        let future = "2030-03-07T08:00:00+08:00";
        assert_eq!(
            read_send_at_text(future, "--send-at", NOW),
            Ok(UnixMillis(MARCH_7_2030_UTC))
        );
        assert_eq!(
            read_send_at_text("1899072000000", "--send-at", NOW),
            Ok(UnixMillis(1_899_072_000_000))
        );
        let past = read_send_at_text("2020-03-07T08:00:00+08:00", "--send-at", NOW).unwrap_err();
        assert_eq!(past.problems[0].path, "--send-at");
        assert_eq!(past.problems[0].rule.code(), "in_the_past");
        let seconds = read_send_at_text("1899072000", "--send-at", NOW).unwrap_err();
        assert_eq!(seconds.problems[0].rule.code(), "time");
        let huge = read_send_at_text("99999999999999999999999", "--send-at", NOW).unwrap_err();
        assert_eq!(huge.problems[0].rule.code(), "time");
        let empty = read_send_at_text("", "--send-at", NOW).unwrap_err();
        assert_eq!(empty.problems[0].rule.code(), "time");
    }

    #[test]
    fn a_ledger_time_in_seconds_is_refused() {
        assert!(matches!(
            ledger_millis(1_780_272_000),
            Err(TimeError::UnixSeconds { .. })
        ));
        assert_eq!(ledger_millis(NOW.0 as u64), Ok(NOW));
    }

    #[test]
    fn a_problem_names_the_path_the_rule_and_the_value() {
        let e = send_at_from_value(Some(&json!("2030-02-30T08:00:00+08:00")), "job.sendAt")
            .unwrap_err();
        let p = &e.problems[0];
        assert_eq!(p.path, "job.sendAt");
        assert_eq!(
            p.rule,
            Rule::Time {
                reason: "is not a date: February 2030 has 28 days".into()
            }
        );
        assert_eq!(p.value.as_deref(), Some("2030-02-30T08:00:00+08:00"));
        assert_eq!(
            p.to_string(),
            "job.sendAt must be an RFC 3339 time with an offset (e.g. \
             2030-03-07T08:00:00+08:00) or Unix milliseconds; this one is not a date: February \
             2030 has 28 days (got \"2030-02-30T08:00:00+08:00\")"
        );
        let (_, code, message, _) = refused(json!("2030-03-07T08:00:00"));
        assert_eq!(code, "time");
        assert!(
            message.contains("add an offset, e.g. +08:00 for China time"),
            "{message}"
        );
    }

    /// 0000-01-01T00:00:00 and 9999-12-31T23:59:59, as seconds of a local clock read as UTC.
    const FIRST_LOCAL_SEC: i64 = -62_167_219_200;
    const LAST_LOCAL_SEC: i64 = 253_402_300_799;

    proptest! {
        #[test]
        fn any_instant_written_with_any_offset_reads_back(
            local_sec in FIRST_LOCAL_SEC..=LAST_LOCAL_SEC,
            fraction in "([0-9]{1,9})?",
            offset_min in -(23 * 60 + 59)..=(23 * 60 + 59_i64),
            z_for_zero in any::<bool>(),
            lower in any::<bool>(),
        ) {
            // The local wall clock, written by UnixMillis's own RFC 3339 (UTC) display.
            let wall = UnixMillis::from_secs(local_sec).to_string();
            let wall = wall.strip_suffix('Z').unwrap();
            let offset = if offset_min == 0 && z_for_zero {
                "Z".to_owned()
            } else {
                let sign = if offset_min < 0 { '-' } else { '+' };
                let m = offset_min.abs();
                format!("{sign}{:02}:{:02}", m / 60, m % 60)
            };
            let dot = if fraction.is_empty() { "" } else { "." };
            let mut text = format!("{wall}{dot}{fraction}{offset}");
            if lower {
                text = text.replace('T', "t").replace('Z', "z");
            }
            let kept: String = fraction.chars().take(3).collect();
            let millis: i64 = format!("{kept:0<3}").parse().unwrap();
            let expected = (local_sec - offset_min * 60) * 1_000 + millis;
            prop_assert_eq!(parse(&text), Ok(UnixMillis(expected)), "{}", text);
            // And UTC display reads back as itself.
            let utc = UnixMillis(expected).to_string();
            prop_assert_eq!(parse(&utc), Ok(UnixMillis(expected)), "{}", utc);
        }

        #[test]
        fn any_text_is_read_or_refused_without_panicking(text in ".{0,40}") {
            let _ = parse(&text).map_err(|e| e.to_string());
        }

        #[test]
        fn near_misses_are_read_or_refused_without_panicking(
            text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,11})?([Zz]|[+-][0-9]{2}:?[0-9]{0,3})?.?",
        ) {
            if let Err(e) = parse(&text) {
                prop_assert!(!e.reason().is_empty());
                let _ = send_at(json!(text)).unwrap_err();
            }
        }

        #[test]
        fn numbers_in_range_are_read_as_they_are(n in MIN_NUMBER_MILLIS..=MAX_NUMBER_MILLIS) {
            prop_assert_eq!(send_at(json!(n)), Ok(Some(UnixMillis(n))));
        }
    }
}
