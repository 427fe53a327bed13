//! The working-time calendar: public holidays and 调休 make-up working days, working hours, and the
//! deadline arithmetic built on them.
//!
//! A day is a working day when the calendar's exception data says so (a `workday` entry, e.g. a
//! Sunday worked to make up for a holiday), is not one when the data says it is a `holiday`, and
//! otherwise follows the normal week: Monday to Friday. Years without official data thus fall back
//! to Monday–Friday; [`Calendar::has_data_for`] lets callers warn about it.
//!
//! Everything here is pure and total: no function panics, whatever the date or the amount. Dates
//! and instants beyond what `chrono` can represent saturate at its limits.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Bound::{Excluded, Included, Unbounded};

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::{CalendarDayKind, DeadlineUnit};
use crate::policy::TimeLimit;

/// The official calendar for 2025, in the [`parse_calendar_file`] format.
pub const CN_2025: &str = include_str!("../../../data/calendar/cn-2025.txt");
/// The official calendar for 2026, in the [`parse_calendar_file`] format.
pub const CN_2026: &str = include_str!("../../../data/calendar/cn-2026.txt");

const NANOS_PER_HOUR: i128 = 3_600_000_000_000;

/// One exception to the Monday–Friday week: a day off or a make-up working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CalendarDay {
    /// The local calendar date.
    pub date: NaiveDate,
    /// Whether the day is off or worked.
    pub kind: CalendarDayKind,
    /// What the day is, e.g. `春节` or `春节调休上班`.
    pub name: String,
}

/// A calendar of working time in one time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// The time zone in which dates, days and working hours are read.
    pub timezone: Tz,
    /// Exceptions to the Monday–Friday week, by local date.
    days: BTreeMap<NaiveDate, (CalendarDayKind, String)>,
    /// Working periods within a working day, sorted, non-empty and non-overlapping.
    working_periods: Vec<(NaiveTime, NaiveTime)>,
    /// Years with at least one exception day, i.e. with official data.
    data_years: BTreeSet<i32>,
}

/// The default working hours: 08:30–12:00 and 13:30–17:30.
#[must_use]
pub fn default_working_periods() -> Vec<(NaiveTime, NaiveTime)> {
    [((8, 30), (12, 0)), ((13, 30), (17, 30))]
        .into_iter()
        .filter_map(|((h1, m1), (h2, m2))| {
            Some((
                NaiveTime::from_hms_opt(h1, m1, 0)?,
                NaiveTime::from_hms_opt(h2, m2, 0)?,
            ))
        })
        .collect()
}

/// The official Chinese calendar the product ships (2025 and 2026), as exception days.
///
/// The embedded files are checked by the tests; should one ever fail to parse, its days are left
/// out rather than panicking.
#[must_use]
pub fn china_official_days() -> Vec<CalendarDay> {
    [CN_2025, CN_2026]
        .into_iter()
        .flat_map(|text| parse_calendar_file(text).unwrap_or_default())
        .collect()
}

impl Default for Calendar {
    /// The shipped Chinese calendar in Asia/Shanghai with the default working hours.
    fn default() -> Self {
        Self::china_default(Tz::Asia__Shanghai)
    }
}

impl Calendar {
    /// A calendar in `timezone` with the given exception days and working periods.
    ///
    /// When a date is listed twice, the last entry wins. Working periods are sorted and merged
    /// where they overlap or touch; empty or reversed periods (`start >= end`) are dropped, so a
    /// period cannot reach 24:00 (end it at 23:59:59 instead). With no working periods at all,
    /// working hours are counted as natural hours (see [`Calendar::deadline`]).
    #[must_use]
    pub fn new(
        timezone: Tz,
        days: impl IntoIterator<Item = CalendarDay>,
        working_periods: impl IntoIterator<Item = (NaiveTime, NaiveTime)>,
    ) -> Self {
        let days: BTreeMap<NaiveDate, (CalendarDayKind, String)> = days
            .into_iter()
            .map(|day| (day.date, (day.kind, day.name)))
            .collect();
        let data_years = days.keys().map(Datelike::year).collect();
        Self {
            timezone,
            days,
            working_periods: normalize_periods(working_periods),
            data_years,
        }
    }

    /// The shipped official Chinese calendar (2025 and 2026) in `timezone`, with the default
    /// working hours 08:30–12:00 and 13:30–17:30.
    #[must_use]
    pub fn china_default(timezone: Tz) -> Self {
        Self::new(timezone, china_official_days(), default_working_periods())
    }

    /// The exception days, in date order.
    pub fn days(&self) -> impl Iterator<Item = CalendarDay> + '_ {
        self.days.iter().map(|(date, (kind, name))| CalendarDay {
            date: *date,
            kind: *kind,
            name: name.clone(),
        })
    }

    /// The exception entry for `date`, if any: its kind and name.
    #[must_use]
    pub fn exception(&self, date: NaiveDate) -> Option<(CalendarDayKind, &str)> {
        self.days
            .get(&date)
            .map(|(kind, name)| (*kind, name.as_str()))
    }

    /// The working periods of a working day, sorted and non-overlapping.
    #[must_use]
    pub fn working_periods(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.working_periods
    }

    /// The years that have official data (at least one exception day).
    #[must_use]
    pub fn data_years(&self) -> &BTreeSet<i32> {
        &self.data_years
    }

    /// Whether `year` has official data. Without it, the calendar falls back to Monday–Friday,
    /// which is wrong around public holidays: callers should warn.
    #[must_use]
    pub fn has_data_for(&self, year: i32) -> bool {
        self.data_years.contains(&year)
    }

    /// Whether `date` is a working day: the exception data wins, otherwise Monday–Friday.
    #[must_use]
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date) {
            Some((CalendarDayKind::Workday, _)) => true,
            Some((CalendarDayKind::Holiday, _)) => false,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The local date of `instant` in the calendar's time zone.
    #[must_use]
    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        self.local_datetime(instant).date()
    }

    /// The first working day strictly after `date` (`NaiveDate::MAX` when there is none to
    /// represent).
    #[must_use]
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        self.nth_working_day_after(date, 1)
    }

    /// The `n`th working day strictly after `date`; `date` itself when `n` is 0. Saturates at
    /// `NaiveDate::MAX`.
    #[must_use]
    pub fn nth_working_day_after(&self, date: NaiveDate, n: u32) -> NaiveDate {
        self.try_nth_working_day_after(date, n)
            .unwrap_or(NaiveDate::MAX)
    }

    /// The instant local `date` starts (00:00 local time, or the first instant of the day when
    /// midnight falls into a daylight-saving gap). Saturates at the representable limits.
    #[must_use]
    pub fn start_of_day(&self, date: NaiveDate) -> DateTime<Utc> {
        self.local_to_utc(date.and_time(NaiveTime::MIN))
            .unwrap_or(if date.year() < 0 {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            })
    }

    /// When `limit` counted from `from` runs out.
    ///
    /// - Natural hours: `from` plus the hours.
    /// - Working days: N working days from T end at 24:00 local time (00:00 of the next calendar
    ///   day) of the Nth working day strictly after T's local date; T's own date never counts,
    ///   whatever the hour.
    /// - Working hours: only time inside the working periods of working days counts. Counting
    ///   starts at T when T is inside a working period, otherwise at the next period's start. The
    ///   deadline is the instant the Nth hour is used up; ending exactly at a period's end gives
    ///   that end. With no working periods configured, working hours count as natural hours.
    ///
    /// An amount of 0 returns `from` unchanged. Results beyond what `chrono` can represent
    /// saturate at `DateTime::<Utc>::MAX_UTC`.
    #[must_use]
    pub fn deadline(&self, from: DateTime<Utc>, limit: TimeLimit) -> DateTime<Utc> {
        if limit.amount == 0 {
            return from;
        }
        match limit.unit {
            DeadlineUnit::NaturalHours => natural_hours(from, limit.amount),
            DeadlineUnit::WorkingDays => self.working_days_deadline(from, limit.amount),
            DeadlineUnit::WorkingHours => self.working_hours_deadline(from, limit.amount),
        }
    }

    fn working_days_deadline(&self, from: DateTime<Utc>, amount: u32) -> DateTime<Utc> {
        self.try_nth_working_day_after(self.local_date(from), amount)
            .and_then(|date| date.succ_opt())
            .map_or(DateTime::<Utc>::MAX_UTC, |date| self.start_of_day(date))
    }

    fn working_hours_deadline(&self, from: DateTime<Utc>, amount: u32) -> DateTime<Utc> {
        let daily_total: i128 = self
            .working_periods
            .iter()
            .map(|&(start, end)| period_nanos(start, end))
            .sum();
        if daily_total <= 0 {
            return natural_hours(from, amount);
        }
        let local = self.local_datetime(from);
        let mut remaining = i128::from(amount) * NANOS_PER_HOUR;
        let mut day = local.date();
        // The time counting may start from on `day`; `None` once past the first day.
        let mut cursor = Some(local.time());
        loop {
            if cursor.is_none() {
                // Skip whole weeks without exception days at once: any 7 consecutive plain days
                // hold exactly 5 working days. Keep at least the last day to count by periods.
                let full_days = (remaining - 1) / daily_total;
                let max_weeks = self
                    .days
                    .range((Included(day), Unbounded))
                    .next()
                    .map_or(i128::MAX, |(next, _)| {
                        i128::from((*next - day).num_days() / 7)
                    });
                let weeks = (full_days / 5).min(max_weeks);
                if weeks > 0 {
                    let Some(skipped) = u64::try_from(weeks * 7)
                        .ok()
                        .and_then(|n| day.checked_add_days(Days::new(n)))
                    else {
                        return DateTime::<Utc>::MAX_UTC;
                    };
                    day = skipped;
                    remaining -= weeks * 5 * daily_total;
                    continue;
                }
            }
            if self.is_working_day(day) {
                for &(start, end) in &self.working_periods {
                    let begin = match cursor {
                        Some(at) if at > start => at,
                        _ => start,
                    };
                    if begin >= end {
                        continue;
                    }
                    let available = period_nanos(begin, end);
                    if remaining <= available {
                        let step = TimeDelta::nanoseconds(i64::try_from(remaining).unwrap_or(0));
                        return self
                            .local_to_utc(day.and_time(begin + step))
                            .unwrap_or(DateTime::<Utc>::MAX_UTC);
                    }
                    remaining -= available;
                }
            }
            let Some(next) = day.succ_opt() else {
                return DateTime::<Utc>::MAX_UTC;
            };
            day = next;
            cursor = None;
        }
    }

    /// The `n`th working day after `date`, or `None` past the representable dates.
    fn try_nth_working_day_after(&self, date: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut day = date;
        let mut left = n;
        while left > 0 {
            // Skip whole weeks without exception days at once: the 7 days after any plain day
            // hold exactly 5 working days when none of them is an exception.
            let max_weeks = self
                .days
                .range((Excluded(day), Unbounded))
                .next()
                .map_or(i64::MAX, |(next, _)| ((*next - day).num_days() - 1) / 7);
            let weeks = i64::from((left - 1) / 5).min(max_weeks);
            if weeks > 0 {
                day = day.checked_add_days(Days::new(u64::try_from(weeks * 7).ok()?))?;
                left -= u32::try_from(weeks * 5).ok()?;
                continue;
            }
            day = day.succ_opt()?;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        Some(day)
    }

    fn local_datetime(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        let offset = self
            .timezone
            .offset_from_utc_datetime(&instant.naive_utc())
            .fix();
        instant
            .naive_utc()
            .checked_add_offset(offset)
            .unwrap_or(instant.naive_utc())
    }

    /// The instant of a local date and time: the earlier one when the local time is ambiguous,
    /// and for a local time in a daylight-saving gap, the one shifted by the offset in effect.
    fn local_to_utc(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.timezone.from_local_datetime(&local) {
            LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
            LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
            LocalResult::None => {
                let offset = self.timezone.offset_from_utc_datetime(&local).fix();
                local
                    .checked_sub_offset(offset)
                    .map(|naive| naive.and_utc())
            }
        }
    }
}

fn natural_hours(from: DateTime<Utc>, amount: u32) -> DateTime<Utc> {
    from.checked_add_signed(TimeDelta::hours(i64::from(amount)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn period_nanos(start: NaiveTime, end: NaiveTime) -> i128 {
    i128::from((end - start).num_nanoseconds().unwrap_or(0))
}

fn normalize_periods(
    periods: impl IntoIterator<Item = (NaiveTime, NaiveTime)>,
) -> Vec<(NaiveTime, NaiveTime)> {
    let mut periods: Vec<_> = periods
        .into_iter()
        .filter(|(start, end)| start < end)
        .collect();
    periods.sort_unstable();
    let mut merged: Vec<(NaiveTime, NaiveTime)> = Vec::with_capacity(periods.len());
    for (start, end) in periods {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Why a calendar file could not be read: the 1-based line number and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendar file, line {line}: {problem}")]
pub struct CalendarParseError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong on that line.
    pub problem: CalendarParseProblem,
}

/// What is wrong on a line of a calendar file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarParseProblem {
    /// The first field is not a `YYYY-MM-DD` date.
    #[error("`{0}` is not a date (expected YYYY-MM-DD)")]
    BadDate(String),
    /// The line has a date but no kind.
    #[error("missing the day kind after the date (expected `holiday` or `workday`)")]
    MissingKind,
    /// The second field is neither `holiday` nor `workday`.
    #[error("`{0}` is not a day kind (expected `holiday` or `workday`)")]
    BadKind(String),
    /// The date was already listed.
    #[error("{date} is already listed on line {first_line}")]
    Duplicate {
        /// The repeated date.
        date: NaiveDate,
        /// Where it was first listed.
        first_line: usize,
    },
}

/// Reads a calendar file: one day per line, `YYYY-MM-DD holiday|workday name`, e.g.
/// `2026-02-15 holiday 春节` or `2026-02-14 workday 春节调休上班`. Fields are separated by
/// whitespace; the name is the rest of the line (it may contain spaces, and may be empty). Blank
/// lines and lines whose first non-blank character is `#` are ignored. Days are returned in file
/// order; a date listed twice is an error.
///
/// # Errors
///
/// The first bad line, with its 1-based number and what is wrong.
pub fn parse_calendar_file(text: &str) -> Result<Vec<CalendarDay>, CalendarParseError> {
    let mut days = Vec::new();
    let mut seen: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let fail = |problem| CalendarParseError { line, problem };
        let (date_text, rest) = split_field(content);
        let date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d")
            .map_err(|_| fail(CalendarParseProblem::BadDate(date_text.to_owned())))?;
        let (kind_text, name) = split_field(rest);
        if kind_text.is_empty() {
            return Err(fail(CalendarParseProblem::MissingKind));
        }
        let kind: CalendarDayKind = kind_text
            .parse()
            .map_err(|_| fail(CalendarParseProblem::BadKind(kind_text.to_owned())))?;
        if let Some(&first_line) = seen.get(&date) {
            return Err(fail(CalendarParseProblem::Duplicate { date, first_line }));
        }
        seen.insert(date, line);
        days.push(CalendarDay {
            date,
            kind,
            name: name.to_owned(),
        });
    }
    Ok(days)
}

/// Writes days in the [`parse_calendar_file`] format, one line each, in the given order.
/// Line breaks and other control characters in names become spaces and names are trimmed, so the
/// output always parses back (to the same days when names are already clean).
#[must_use]
pub fn format_calendar_file(days: &[CalendarDay]) -> String {
    let mut out = String::new();
    for day in days {
        let name: String = day
            .name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let name = name.trim();
        // Writing to a String cannot fail.
        let _ = if name.is_empty() {
            writeln!(out, "{} {}", day.date.format("%Y-%m-%d"), day.kind.as_str())
        } else {
            writeln!(
                out,
                "{} {} {name}",
                day.date.format("%Y-%m-%d"),
                day.kind.as_str()
            )
        };
    }
    out
}

/// The first whitespace-separated field of `text` and the trimmed rest.
fn split_field(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.split_once(char::is_whitespace) {
        Some((field, rest)) => (field, rest.trim()),
        None => (text, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn shipped_files_parse_and_are_consistent() {
        for text in [CN_2025, CN_2026] {
            let days = parse_calendar_file(text).unwrap();
            assert!(days.len() > 20);
            for day in &days {
                // Make-up working days are weekend days; names are never empty.
                if day.kind == CalendarDayKind::Workday {
                    assert!(
                        matches!(day.date.weekday(), Weekday::Sat | Weekday::Sun),
                        "{day:?}"
                    );
                }
                assert!(!day.name.is_empty());
            }
        }
        assert!(text_has_source(CN_2025, "国办发明电〔2024〕12号"));
        assert!(text_has_source(CN_2026, "国办发明电〔2025〕7号"));
        let calendar = Calendar::default();
        assert_eq!(
            calendar.data_years().iter().copied().collect::<Vec<_>>(),
            vec![2025, 2026]
        );
    }

    fn text_has_source(text: &str, notice: &str) -> bool {
        text.lines()
            .take(5)
            .any(|line| line.starts_with('#') && line.contains(notice))
    }

    #[test]
    fn holiday_counts() {
        let calendar = Calendar::default();
        let count = |year: i32, kind: CalendarDayKind| {
            calendar
                .days()
                .filter(|d| d.date.year() == year && d.kind == kind)
                .count()
        };
        // 2025: 1 + 8 + 3 + 5 + 3 + 8 days off; 2 + 1 + 2 make-up days.
        assert_eq!(count(2025, CalendarDayKind::Holiday), 28);
        assert_eq!(count(2025, CalendarDayKind::Workday), 5);
        // 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7 days off; 1 + 2 + 1 + 2 make-up days.
        assert_eq!(count(2026, CalendarDayKind::Holiday), 33);
        assert_eq!(count(2026, CalendarDayKind::Workday), 6);
    }

    #[test]
    fn working_days_follow_exceptions() {
        let calendar = Calendar::default();
        assert!(!calendar.is_working_day(date(2026, 2, 16))); // Monday in 春节
        assert!(calendar.is_working_day(date(2026, 2, 14))); // make-up Saturday
        assert!(calendar.is_working_day(date(2026, 9, 20))); // make-up Sunday
        assert!(!calendar.is_working_day(date(2026, 3, 7))); // plain Saturday
        assert!(calendar.is_working_day(date(2026, 3, 9))); // plain Monday
        assert_eq!(
            calendar.exception(date(2026, 2, 14)),
            Some((CalendarDayKind::Workday, "春节调休上班"))
        );
        assert_eq!(calendar.exception(date(2026, 3, 9)), None);
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let calendar = Calendar::default();
        for day in [NaiveDate::MIN, NaiveDate::MAX] {
            let _ = calendar.is_working_day(day);
            let _ = calendar.next_working_day(day);
            let _ = calendar.nth_working_day_after(day, u32::MAX);
            let _ = calendar.start_of_day(day);
        }
        for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            for limit in [
                TimeLimit::natural_hours(u32::MAX),
                TimeLimit::working_days(u32::MAX),
                TimeLimit::working_hours(u32::MAX),
                TimeLimit::working_days(1),
                TimeLimit::working_hours(1),
            ] {
                let _ = calendar.deadline(at, limit);
            }
            let _ = calendar.local_date(at);
        }
    }

    #[test]
    fn huge_amounts_are_fast_and_saturate() {
        let calendar = Calendar::default();
        let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            calendar.deadline(from, TimeLimit::working_days(u32::MAX)),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(
            calendar.deadline(from, TimeLimit::working_hours(u32::MAX)),
            calendar.deadline(from, TimeLimit::working_hours(u32::MAX))
        );
        let far = calendar.deadline(from, TimeLimit::working_days(1_000_000));
        assert!(far > from + TimeDelta::days(1_000_000));
    }

    #[test]
    fn periods_are_normalized() {
        let t = |h: u32, m: u32| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let periods = normalize_periods([
            (t(13, 0), t(14, 0)),
            (t(9, 0), t(12, 0)),
            (t(11, 0), t(13, 0)),
            (t(18, 0), t(17, 0)),
        ]);
        assert_eq!(periods, vec![(t(9, 0), t(14, 0))]);
    }

    #[test]
    fn no_working_periods_counts_natural_hours() {
        let calendar = Calendar::new(Tz::Asia__Shanghai, china_official_days(), []);
        let from = Utc.with_ymd_and_hms(2026, 2, 16, 1, 0, 0).unwrap();
        assert_eq!(
            calendar.deadline(from, TimeLimit::working_hours(5)),
            from + TimeDelta::hours(5)
        );
    }

    #[test]
    fn parse_errors_name_the_line() {
        let err = parse_calendar_file("# header\n\n2026-02-30 holiday x\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(
            err.problem,
            CalendarParseProblem::BadDate("2026-02-30".into())
        );
        assert!(err.to_string().contains("line 3"));

        let err = parse_calendar_file("2026-02-15 holiday 春节\n2026-02-16 rest 春节").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(err.problem, CalendarParseProblem::BadKind("rest".into()));

        let err = parse_calendar_file("  \n2026-02-15").unwrap_err();
        assert_eq!(
            (err.line, err.problem),
            (2, CalendarParseProblem::MissingKind)
        );

        let err =
            parse_calendar_file("2026-02-15 holiday a\n# c\n2026-02-15 workday b").unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(
            err.problem,
            CalendarParseProblem::Duplicate {
                date: date(2026, 2, 15),
                first_line: 1
            }
        );
    }

    #[test]
    fn format_sanitizes_names() {
        let days = vec![
            CalendarDay {
                date: date(2026, 1, 1),
                kind: CalendarDayKind::Holiday,
                name: " 元旦\n假期 ".into(),
            },
            CalendarDay {
                date: date(2026, 1, 4),
                kind: CalendarDayKind::Workday,
                name: String::new(),
            },
        ];
        let text = format_calendar_file(&days);
        assert_eq!(text, "2026-01-01 holiday 元旦 假期\n2026-01-04 workday\n");
        let back = parse_calendar_file(&text).unwrap();
        assert_eq!(back[0].name, "元旦 假期");
        assert_eq!(back[1], days[1]);
    }
}
