//! RFC 3339 date-times (the JSON schema format `date-time`), parsed to instants so that
//! `2021-07-21T12:00:00+02:00` and `2021-07-21T10:00:00Z` compare as the same moment. One parser
//! for the model ([`crate::model::DateTime`]) and the section 6 tests.

use crate::model::Timestamp;

/// RFC 3339 section 5.6 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`, `T` and `Z`
/// in either case. A leap second (`:60`) counts as the next second.
pub(crate) fn parse_rfc3339(text: &str) -> Result<Timestamp, &'static str> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Result<i64, &'static str> {
        let part = b.get(range).ok_or("too short")?;
        part.iter().try_fold(0i64, |acc, &c| {
            if c.is_ascii_digit() {
                Ok(acc * 10 + i64::from(c - b'0'))
            } else {
                Err("digit expected")
            }
        })
    };
    let expect = |at: usize, allowed: &[u8], what: &'static str| -> Result<(), &'static str> {
        match b.get(at) {
            Some(c) if allowed.contains(c) => Ok(()),
            _ => Err(what),
        }
    };
    let year = digits(0..4)?;
    expect(4, b"-", "'-' expected after the year")?;
    let month = digits(5..7)?;
    expect(7, b"-", "'-' expected after the month")?;
    let day = digits(8..10)?;
    expect(10, b"Tt", "'T' expected between date and time")?;
    let hour = digits(11..13)?;
    expect(13, b":", "':' expected after the hour")?;
    let minute = digits(14..16)?;
    expect(16, b":", "':' expected after the minute")?;
    let second = digits(17..19)?;
    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("day out of range");
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err("time out of range");
    }
    let mut at = 19;
    let mut nanos: u32 = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 9 {
                nanos = nanos * 10 + u32::from(b[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return Err("digits expected after '.'");
        }
        for _ in (at - start)..9 {
            nanos = nanos.saturating_mul(10);
        }
    }
    let offset_seconds = match b.get(at) {
        Some(b'Z' | b'z') => {
            at += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            let sign = if *sign == b'+' { 1 } else { -1 };
            let oh = digits(at + 1..at + 3)?;
            expect(at + 3, b":", "':' expected in the offset")?;
            let om = digits(at + 4..at + 6)?;
            if oh > 23 || om > 59 {
                return Err("offset out of range");
            }
            at += 6;
            sign * (oh * 3600 + om * 60)
        }
        _ => return Err("time zone ('Z' or an offset such as +02:00) expected"),
    };
    if at != b.len() {
        return Err("unexpected characters at the end");
    }
    let days = days_from_civil(year, month, day);
    let unix_seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Ok(Timestamp {
        unix_seconds,
        nanos,
    })
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<Timestamp> {
        parse_rfc3339(text).ok()
    }

    #[test]
    fn parses_and_orders_instants() {
        let a = parse("2021-07-21T12:00:00+02:00");
        let b = parse("2021-07-21T10:00:00Z");
        assert!(a.is_some());
        assert_eq!(a, b);
        assert!(parse("2021-07-21T10:00:00.001Z") > b);
        assert!(parse("1969-12-31T23:59:59Z") < parse("1970-01-01T00:00:00Z"));
        assert_eq!(
            parse("1970-01-01T00:00:00Z"),
            Some(Timestamp {
                unix_seconds: 0,
                nanos: 0
            })
        );
        assert_eq!(
            parse("2000-03-01T00:00:00Z").map(|i| i.unix_seconds),
            Some(951_868_800)
        );
        assert_eq!(
            parse("2021-07-21T10:00:00.123456789123Z").map(|i| i.nanos),
            Some(123_456_789)
        );
    }

    #[test]
    fn rejects_malformed_date_times() {
        for bad in [
            "",
            "2021-07-21",
            "2021-07-21T10:00:00",
            "2021-02-29T10:00:00Z",
            "2021-13-01T10:00:00Z",
            "2021-07-21T24:00:00Z",
            "2021-07-21T10:00:00.Z",
            "2021-07-21T10:00:00+0200",
            "2021-07-21T10:00:00Zx",
            "２０２１-07-21T10:00:00Z",
            "2021-07-21 10:00:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert!(parse("2020-02-29t10:00:00z").is_some());
    }
}
