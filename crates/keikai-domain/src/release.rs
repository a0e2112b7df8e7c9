//! Release trains: a monthly release on the second Tuesday of each month at a local time in a
//! named zone, and out-of-band releases at any future time.
//!
//! Release instants are computed in the schedule's zone and stored as UTC [`Timestamp`]s; they
//! are shown with the zone's abbreviation, in the publisher's zone and in the viewer's.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::audit::Change;
use crate::{DomainError, ReleaseId};

/// The longest release title we accept, in characters.
const TITLE_MAX_CHARS: usize = 200;

/// When the monthly train leaves: a local time of day in an IANA time zone.
///
/// The zone's name is kept beside the resolved [`TimeZone`] so that the schedule serialises and
/// displays as the name the administrator chose (e.g. `America/Los_Angeles`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawSchedule", into = "RawSchedule")]
pub struct ReleaseSchedule {
    time_of_day: Time,
    zone: TimeZone,
    zone_name: String,
}

/// The serialised form of a [`ReleaseSchedule`]: `{"time_of_day": "10:00", "zone": "Asia/Tokyo"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RawSchedule {
    time_of_day: String,
    zone: String,
}

impl TryFrom<RawSchedule> for ReleaseSchedule {
    type Error = DomainError;

    fn try_from(raw: RawSchedule) -> Result<Self, Self::Error> {
        Self::parse(&raw.time_of_day, &raw.zone)
    }
}

impl From<ReleaseSchedule> for RawSchedule {
    fn from(s: ReleaseSchedule) -> Self {
        Self {
            time_of_day: s.time_of_day_text(),
            zone: s.zone_name,
        }
    }
}

impl ReleaseSchedule {
    /// Parses a time of day (`HH:MM` or `HH:MM:SS`, 24-hour) and an IANA zone name.
    pub fn parse(time_of_day: &str, zone: &str) -> Result<Self, DomainError> {
        let t = time_of_day.trim();
        let time_of_day: Time = t.parse().map_err(|_| {
            DomainError::invalid(
                "time_of_day",
                format!("\"{t}\" is not a time of day (expected HH:MM, e.g. 10:00)"),
            )
        })?;
        let (zone, zone_name) = parse_zone(zone)?;
        Ok(Self {
            time_of_day,
            zone,
            zone_name,
        })
    }

    pub fn time_of_day(&self) -> Time {
        self.time_of_day
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The IANA name of the zone, e.g. `America/Los_Angeles`.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// `HH:MM`, or `HH:MM:SS` when the schedule has seconds.
    fn time_of_day_text(&self) -> String {
        let t = self.time_of_day;
        if t.second() == 0 && t.subsec_nanosecond() == 0 {
            format!("{:02}:{:02}", t.hour(), t.minute())
        } else {
            format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
        }
    }

    /// The instant of the monthly release of `year`-`month`: the second Tuesday at the time of
    /// day in the schedule's zone.
    ///
    /// Disambiguation follows RFC 5545 / Temporal's "compatible" rule: a local time that falls
    /// in a DST gap (skipped by the clocks) is moved forward by the length of the gap, and one
    /// that occurs twice in a fold resolves to the earlier occurrence. Either way the release
    /// happens once, never early by a whole hour.
    pub fn monthly_release(&self, year: i16, month: i8) -> Result<Timestamp, DomainError> {
        let date = second_tuesday(year, month)?;
        to_instant(&self.zone, DateTime::from_parts(date, self.time_of_day)).map_err(|e| {
            DomainError::invalid(
                "year",
                format!("the release of {year:04}-{month:02} is out of range: {e}"),
            )
        })
    }

    /// The first monthly release strictly after `now`: this month's (in the schedule's zone) if
    /// it is still ahead, otherwise next month's, across the year end.
    pub fn next_monthly_after(&self, now: Timestamp) -> Result<Timestamp, DomainError> {
        let today = now.to_zoned(self.zone.clone()).date();
        let this_month = self.monthly_release(today.year(), today.month())?;
        if this_month > now {
            return Ok(this_month);
        }
        let (year, month) = if today.month() == 12 {
            let year = today.year().checked_add(1).ok_or_else(|| {
                DomainError::invalid("now", format!("{now} is too late for a next release"))
            })?;
            (year, 1)
        } else {
            (today.year(), today.month() + 1)
        };
        self.monthly_release(year, month)
    }

    /// `ts` in the schedule's own zone, e.g. `2026-12-08 10:00 PST`.
    pub fn display(&self, ts: Timestamp) -> String {
        display_in(ts, &self.zone)
    }
}

impl fmt::Display for ReleaseSchedule {
    /// e.g. `10:00 America/Los_Angeles`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.time_of_day_text(), self.zone_name)
    }
}

/// Resolves an IANA zone name (e.g. `Asia/Tokyo`), returning the zone and its canonical name.
/// The error names the field `zone`.
pub fn parse_zone(name: &str) -> Result<(TimeZone, String), DomainError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(DomainError::invalid(
            "zone",
            "must not be empty (expected an IANA time zone, e.g. Asia/Tokyo)",
        ));
    }
    let zone = TimeZone::get(n).map_err(|_| {
        DomainError::invalid(
            "zone",
            format!("\"{n}\" is not an IANA time zone (expected e.g. Asia/Tokyo)"),
        )
    })?;
    // The database looks names up case-insensitively; keep its spelling for display.
    let canonical = zone.iana_name().unwrap_or(n).to_owned();
    Ok((zone, canonical))
}

/// A local date and time in `zone` as an instant, with the "compatible" disambiguation
/// documented on [`ReleaseSchedule::monthly_release`].
fn to_instant(zone: &TimeZone, local: DateTime) -> Result<Timestamp, jiff::Error> {
    zone.to_ambiguous_timestamp(local).compatible()
}

/// The second Tuesday of `year`-`month` (Microsoft's "Patch Tuesday" rule).
pub fn second_tuesday(year: i16, month: i8) -> Result<Date, DomainError> {
    if !(1..=12).contains(&month) {
        return Err(DomainError::invalid(
            "month",
            format!("{month} is not a month (expected 1 to 12)"),
        ));
    }
    let first = Date::new(year, month, 1).map_err(|_| {
        DomainError::invalid("year", format!("{year} is out of range (-9999 to 9999)"))
    })?;
    first
        .nth_weekday_of_month(2, Weekday::Tuesday)
        .map_err(|e| DomainError::invalid("year", format!("{year}-{month:02}: {e}")))
}

/// `ts` in `zone` with the zone's abbreviation, e.g. `2026-12-08 10:00 PST` or
/// `2026-12-09 03:00 JST`. The abbreviation comes from the time zone database; zones that have
/// none there show their offset instead (e.g. `-03` for America/Sao_Paulo).
pub fn display_in(ts: Timestamp, zone: &TimeZone) -> String {
    let zoned = ts.to_zoned(zone.clone());
    jiff::fmt::strtime::format("%Y-%m-%d %H:%M %Z", &zoned).unwrap_or_else(|_| zoned.to_string())
}

/// Whether a release is the regular monthly train or an extra one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseKind {
    /// The second-Tuesday train; its instant is fixed by the [`ReleaseSchedule`].
    Monthly,
    /// An extra release (e.g. for a vulnerability exploited in the wild) at any future time.
    OutOfBand,
}

crate::names! {
    /// Whether a release has gone out.
    pub enum ReleaseState("state", "a release state") {
        Planned = "planned",
        Published = "published",
    }
}

/// A planned release: when it leaves and what it is called. Its advisories point to it.
///
/// Fields are private so that a monthly release always sits on its month's instant; the store
/// keeps it as JSON and trusts what it wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    id: ReleaseId,
    kind: ReleaseKind,
    scheduled_at: Timestamp,
    title: String,
    state: ReleaseState,
    published_at: Option<Timestamp>,
    /// The store's optimistic-concurrency counter.
    #[serde(default)]
    pub revision: i64,
}

impl Release {
    /// Plans a release at `scheduled_at`, which must be after `now`. A monthly release must fall
    /// exactly on its month's scheduled instant (the month is read in the schedule's zone), so
    /// the train cannot drift; an out-of-band release may be at any future time.
    pub fn plan(
        kind: ReleaseKind,
        scheduled_at: Timestamp,
        title: &str,
        schedule: &ReleaseSchedule,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        let title = check_title(title)?;
        check_instant(kind, scheduled_at, schedule, now)?;
        Ok(Self {
            id: ReleaseId::new(),
            kind,
            scheduled_at,
            title,
            state: ReleaseState::Planned,
            published_at: None,
            revision: 0,
        })
    }

    pub fn id(&self) -> ReleaseId {
        self.id
    }

    pub fn state(&self) -> ReleaseState {
        self.state
    }

    pub fn published_at(&self) -> Option<Timestamp> {
        self.published_at
    }

    pub fn subject(&self) -> String {
        format!("release/{}", self.id)
    }

    /// Whether its time has come and it has not gone out yet.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.state == ReleaseState::Planned && self.scheduled_at <= now
    }

    /// Moves a planned release (and everything planned for it) to another time, checked like
    /// a new one.
    pub fn reschedule(
        &mut self,
        scheduled_at: Timestamp,
        schedule: &ReleaseSchedule,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        if self.state != ReleaseState::Planned {
            return Err(DomainError::invalid("state", "the release has gone out"));
        }
        check_instant(self.kind, scheduled_at, schedule, now)?;
        let before = self.scheduled_at;
        self.scheduled_at = scheduled_at;
        Ok(Change::new(
            "release.rescheduled",
            self.subject(),
            serde_json::json!({ "scheduled_at": before }),
            serde_json::json!({ "scheduled_at": scheduled_at }),
        ))
    }

    /// Marks the release as gone out.
    pub fn mark_published(&mut self, now: Timestamp) -> Result<Change, DomainError> {
        if self.state != ReleaseState::Planned {
            return Err(DomainError::invalid("state", "the release has gone out"));
        }
        self.state = ReleaseState::Published;
        self.published_at = Some(now);
        Ok(Change::new(
            "release.published",
            self.subject(),
            serde_json::json!({ "state": ReleaseState::Planned }),
            serde_json::json!({ "state": self.state, "at": now }),
        ))
    }
}

fn check_title(title: &str) -> Result<String, DomainError> {
    {
        let title = title.trim();
        if title.is_empty() {
            return Err(DomainError::invalid("title", "must not be empty"));
        }
        if title.chars().count() > TITLE_MAX_CHARS {
            return Err(DomainError::invalid(
                "title",
                format!("is longer than {TITLE_MAX_CHARS} characters"),
            ));
        }
        if title.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "title",
                "must not contain control characters",
            ));
        }
        Ok(title.to_owned())
    }
}

fn check_instant(
    kind: ReleaseKind,
    scheduled_at: Timestamp,
    schedule: &ReleaseSchedule,
    now: Timestamp,
) -> Result<(), DomainError> {
    {
        if scheduled_at <= now {
            return Err(DomainError::invalid(
                "scheduled_at",
                format!(
                    "{} is not in the future (now is {})",
                    schedule.display(scheduled_at),
                    schedule.display(now)
                ),
            ));
        }
        if kind == ReleaseKind::Monthly {
            let local = scheduled_at.to_zoned(schedule.zone().clone()).date();
            let expected = schedule.monthly_release(local.year(), local.month())?;
            if scheduled_at != expected {
                return Err(DomainError::invalid(
                    "scheduled_at",
                    format!(
                        "{} is not the monthly release time; {:04}-{:02}'s is {}",
                        schedule.display(scheduled_at),
                        local.year(),
                        local.month(),
                        schedule.display(expected)
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl Release {
    pub fn kind(&self) -> ReleaseKind {
        self.kind
    }

    pub fn scheduled_at(&self) -> Timestamp {
        self.scheduled_at
    }

    pub fn title(&self) -> &str {
        &self.title
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ts;
    use jiff::SignedDuration;

    fn schedule(t: &str, z: &str) -> ReleaseSchedule {
        ReleaseSchedule::parse(t, z).expect("valid schedule")
    }

    fn zone(name: &str) -> TimeZone {
        parse_zone(name).expect("known zone").0
    }

    /// Day of week by Sakamoto's method (0 = Sunday), independent of jiff's calendar.
    fn sakamoto_weekday(year: i32, month: i32, day: i32) -> i32 {
        const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let y = if month < 3 { year - 1 } else { year };
        (y + y / 4 - y / 100 + y / 400 + T[(month - 1) as usize] + day) % 7
    }

    #[test]
    fn second_tuesdays_of_2025_are_patch_tuesdays() {
        // Microsoft's published Patch Tuesday dates for 2025.
        let days = [14, 11, 11, 8, 13, 10, 8, 12, 9, 14, 11, 9];
        for (m, d) in (1..=12).zip(days) {
            assert_eq!(
                second_tuesday(2025, m).expect("valid month"),
                Date::new(2025, m, d).expect("valid date"),
                "2025-{m:02}"
            );
        }
    }

    #[test]
    fn second_tuesdays_of_2026() {
        let days = [13, 10, 10, 14, 12, 9, 14, 11, 8, 13, 10, 8];
        for (m, d) in (1..=12).zip(days) {
            assert_eq!(
                second_tuesday(2026, m).expect("valid month"),
                Date::new(2026, m, d).expect("valid date"),
                "2026-{m:02}"
            );
        }
    }

    #[test]
    fn second_tuesdays_agree_with_independent_weekday_arithmetic() {
        for year in 1990..=2100 {
            for month in 1..=12 {
                // The second Tuesday is the first Tuesday of days 8..=14.
                let expected = (8..=14)
                    .find(|&d| sakamoto_weekday(year, month, d) == 2)
                    .expect("a week holds a Tuesday");
                let got = second_tuesday(year as i16, month as i8).expect("valid");
                assert_eq!(i32::from(got.day()), expected, "{year}-{month:02}");
            }
        }
    }

    #[test]
    fn second_tuesday_rejects_bad_months() {
        for m in [0, 13, -1] {
            let err = second_tuesday(2026, m).expect_err("not a month");
            assert_eq!(err.field(), "month", "{err}");
        }
    }

    /// The monthly release of each `(month, instant)` of 2026 is at that instant.
    #[track_caller]
    fn assert_monthly_2026(s: &ReleaseSchedule, expected: &[(i8, &str)]) {
        for &(month, at) in expected {
            assert_eq!(
                s.monthly_release(2026, month).expect("in range"),
                ts(at),
                "2026-{month:02}"
            );
        }
    }

    #[test]
    fn monthly_release_follows_daylight_saving_time() {
        let s = schedule("10:00", "America/Los_Angeles");
        assert_monthly_2026(
            &s,
            &[
                // February 10 2026 is PST (UTC-8).
                (2, "2026-02-10T18:00:00Z"),
                // DST starts March 8 2026, so March 10 is PDT (UTC-7).
                (3, "2026-03-10T17:00:00Z"),
                // DST ends November 1 2026; December 8 is PST again.
                (12, "2026-12-08T18:00:00Z"),
            ],
        );
    }

    #[test]
    fn tokyo_has_no_daylight_saving_time() {
        let s = schedule("10:00", "Asia/Tokyo");
        assert_monthly_2026(
            &s,
            &[(2, "2026-02-10T01:00:00Z"), (7, "2026-07-14T01:00:00Z")],
        );
    }

    #[test]
    fn gap_moves_forward_and_fold_takes_the_earlier_instant() {
        // No common zone changes its clocks on a second Tuesday, so check the conversion that
        // monthly_release uses on the days Los Angeles does.
        let la = zone("America/Los_Angeles");
        let gap = DateTime::from_parts(
            Date::new(2026, 3, 8).expect("date"),
            Time::new(2, 30, 0, 0).expect("time"),
        );
        assert_eq!(
            to_instant(&la, gap).expect("ok"),
            ts("2026-03-08T10:30:00Z"),
            "02:30 does not exist; compatible means 03:30 PDT"
        );
        let fold = DateTime::from_parts(
            Date::new(2026, 11, 1).expect("date"),
            Time::new(1, 30, 0, 0).expect("time"),
        );
        assert_eq!(
            to_instant(&la, fold).expect("ok"),
            ts("2026-11-01T08:30:00Z"),
            "01:30 happens twice; compatible means the first (PDT)"
        );
    }

    #[test]
    fn display_in_publisher_and_viewer_zones() {
        let s = schedule("10:00", "America/Los_Angeles");
        let dec = s.monthly_release(2026, 12).expect("in range");
        assert_eq!(s.display(dec), "2026-12-08 10:00 PST");
        assert_eq!(display_in(dec, &zone("Asia/Tokyo")), "2026-12-09 03:00 JST");
        let mar = s.monthly_release(2026, 3).expect("in range");
        assert_eq!(s.display(mar), "2026-03-10 10:00 PDT");
        assert_eq!(display_in(mar, &zone("Asia/Tokyo")), "2026-03-11 02:00 JST");
        let feb = s.monthly_release(2026, 2).expect("in range");
        assert_eq!(display_in(feb, &zone("Asia/Tokyo")), "2026-02-11 03:00 JST");
        assert_eq!(display_in(feb, &TimeZone::UTC), "2026-02-10 18:00 UTC");
        // A zone whose tzdb abbreviation is numeric.
        assert_eq!(
            display_in(feb, &zone("America/Sao_Paulo")),
            "2026-02-10 15:00 -03"
        );
    }

    #[test]
    fn next_monthly_after_is_strictly_after() {
        let s = schedule("10:00", "America/Los_Angeles");
        let mar = ts("2026-03-10T17:00:00Z");
        let apr = ts("2026-04-14T17:00:00Z");
        let second = SignedDuration::from_secs(1);
        assert_eq!(s.next_monthly_after(mar - second).expect("ok"), mar);
        assert_eq!(s.next_monthly_after(mar).expect("ok"), apr);
        assert_eq!(s.next_monthly_after(mar + second).expect("ok"), apr);
        // Early in the month, before the second Tuesday.
        assert_eq!(
            s.next_monthly_after(ts("2026-03-01T00:00:00Z"))
                .expect("ok"),
            mar
        );
    }

    #[test]
    fn next_monthly_after_crosses_the_year_end() {
        let s = schedule("10:00", "America/Los_Angeles");
        let dec = ts("2026-12-08T18:00:00Z");
        // 2027-01-12 is the second Tuesday of January 2027 (PST).
        let jan = ts("2027-01-12T18:00:00Z");
        assert_eq!(s.next_monthly_after(dec).expect("ok"), jan);
        assert_eq!(
            s.next_monthly_after(ts("2026-12-31T23:59:59Z"))
                .expect("ok"),
            jan
        );
    }

    #[test]
    fn next_monthly_after_reads_the_month_in_the_schedule_zone() {
        // 2026-03-31T20:00Z is already April 1 in Tokyo: the March train has left there, and
        // the next one is April's, not a second look at March.
        let s = schedule("10:00", "Asia/Tokyo");
        assert_eq!(
            s.next_monthly_after(ts("2026-03-31T20:00:00Z"))
                .expect("ok"),
            ts("2026-04-14T01:00:00Z")
        );
    }

    #[test]
    fn invalid_schedule_inputs_name_their_field() {
        for (t, z, field) in [
            ("25:00", "Asia/Tokyo", "time_of_day"),
            ("10h", "Asia/Tokyo", "time_of_day"),
            ("", "Asia/Tokyo", "time_of_day"),
            ("10:00", "Mars/Olympus_Mons", "zone"),
            ("10:00", "", "zone"),
            ("10:00", "+09:00", "zone"),
        ] {
            let err = ReleaseSchedule::parse(t, z).expect_err("invalid");
            assert_eq!(err.field(), field, "{t:?} {z:?}: {err}");
        }
        let err = ReleaseSchedule::parse("10:00", "Mars/Olympus_Mons").expect_err("invalid");
        assert!(err.to_string().contains("Mars/Olympus_Mons"), "{err}");
    }

    #[test]
    fn schedule_keeps_the_canonical_zone_name_and_round_trips() {
        let s = schedule(" 10:00 ", "asia/tokyo");
        assert_eq!(s.zone_name(), "Asia/Tokyo");
        assert_eq!(s.to_string(), "10:00 Asia/Tokyo");
        let json = serde_json::to_string(&s).expect("serialises");
        assert_eq!(json, r#"{"time_of_day":"10:00","zone":"Asia/Tokyo"}"#);
        let back: ReleaseSchedule = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, s);
        let bad: Result<ReleaseSchedule, _> =
            serde_json::from_str(r#"{"time_of_day":"10:00","zone":"Nowhere"}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn monthly_release_must_be_on_the_train() {
        let s = schedule("10:00", "America/Los_Angeles");
        let now = ts("2026-03-01T00:00:00Z");
        let mar = s.monthly_release(2026, 3).expect("in range");
        let r = Release::plan(ReleaseKind::Monthly, mar, " March 2026 ", &s, now).expect("ok");
        assert_eq!(r.kind(), ReleaseKind::Monthly);
        assert_eq!(r.scheduled_at(), mar);
        assert_eq!(r.title(), "March 2026");

        // An hour off (the PST instant in a PDT month) is refused.
        let off = ts("2026-03-10T18:00:00Z");
        let err = Release::plan(ReleaseKind::Monthly, off, "March", &s, now).expect_err("off");
        assert_eq!(err.field(), "scheduled_at");
        assert!(err.to_string().contains("2026-03-10 10:00 PDT"), "{err}");
    }

    #[test]
    fn out_of_band_may_be_any_future_time() {
        let s = schedule("10:00", "America/Los_Angeles");
        let now = ts("2026-03-01T00:00:00Z");
        let at = ts("2026-03-04T03:17:00Z");
        let r = Release::plan(ReleaseKind::OutOfBand, at, "Urgent fix", &s, now).expect("ok");
        assert_eq!(r.scheduled_at(), at);
        for past in [now, now - SignedDuration::from_secs(1)] {
            for kind in [ReleaseKind::OutOfBand, ReleaseKind::Monthly] {
                let err = Release::plan(kind, past, "Late", &s, now).expect_err("past");
                assert_eq!(err.field(), "scheduled_at");
            }
        }
    }

    #[test]
    fn release_title_is_validated() {
        let s = schedule("10:00", "Asia/Tokyo");
        let now = ts("2026-03-01T00:00:00Z");
        let at = ts("2026-03-04T03:00:00Z");
        for title in ["", "   ", "a\u{7}b"] {
            let err =
                Release::plan(ReleaseKind::OutOfBand, at, title, &s, now).expect_err("bad title");
            assert_eq!(err.field(), "title", "{title:?}");
        }
        let long = "x".repeat(TITLE_MAX_CHARS + 1);
        let err = Release::plan(ReleaseKind::OutOfBand, at, &long, &s, now).expect_err("long");
        assert_eq!(err.field(), "title");
        let max = "脆".repeat(TITLE_MAX_CHARS);
        assert!(Release::plan(ReleaseKind::OutOfBand, at, &max, &s, now).is_ok());
    }
}
