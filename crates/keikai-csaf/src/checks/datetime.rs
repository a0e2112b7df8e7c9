//! RFC 3339 date-times (JSON schema format `date-time`), compared as instants so that
//! `2021-07-21T12:00:00+02:00` and `2021-07-21T10:00:00Z` are the same moment.

/// Seconds since 1970-01-01T00:00:00Z and nanoseconds: ordered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Instant {
    secs: i64,
    nanos: u32,
}

fn digits(s: &[u8], from: usize, n: usize) -> Option<i64> {
    let part = s.get(from..from + n)?;
    part.iter().try_fold(0i64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`; `None` for anything else.
pub(crate) fn parse(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't'))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut pos = 19;
    let mut nanos = 0u32;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while b.get(pos).is_some_and(u8::is_ascii_digit) {
            if pos - start < 9 {
                nanos = nanos * 10 + u32::from(b[pos] - b'0');
            }
            pos += 1;
        }
        let n = pos - start;
        if n == 0 {
            return None;
        }
        for _ in n..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(pos) {
        Some(b'Z' | b'z') if pos + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if pos + 6 == b.len() && b.get(pos + 3) == Some(&b':') => {
            let oh = digits(b, pos + 1, 2)?;
            let om = digits(b, pos + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    // A leap second (:60) is kept as the next second; ordering stays meaningful.
    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(Instant { secs, nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Some(Instant { secs: 0, nanos: 0 })
        );
        assert_eq!(
            parse("2000-03-01T00:00:00Z").map(|i| i.secs),
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
