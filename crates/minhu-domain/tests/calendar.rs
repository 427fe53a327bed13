//! Deadlines on the shipped Chinese calendar, in Asia/Shanghai.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use minhu_domain::calendar::{
    Calendar, CalendarDay, china_official_days, default_working_periods, format_calendar_file,
    parse_calendar_file,
};
use minhu_domain::{CalendarDayKind, TimeLimit};
use proptest::prelude::*;

const SHANGHAI: Tz = Tz::Asia__Shanghai;

fn calendar() -> Calendar {
    Calendar::china_default(SHANGHAI)
}

/// An instant at a Shanghai local date and time.
fn sh(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    SHANGHAI
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn wd(n: u32) -> TimeLimit {
    TimeLimit::working_days(n)
}

fn wh(n: u32) -> TimeLimit {
    TimeLimit::working_hours(n)
}

#[test]
fn spring_festival_eve() {
    let c = calendar();
    // Fri 13 Feb; Sat 14 Feb is a make-up working day (day 1); 15–23 Feb off; Tue 24 Feb day 2.
    assert_eq!(
        c.deadline(sh(2026, 2, 13, 10, 0), wd(2)),
        sh(2026, 2, 25, 0, 0)
    );
    assert_eq!(
        c.deadline(sh(2026, 2, 13, 10, 0), wd(2))
            .with_timezone(&SHANGHAI)
            .to_rfc3339(),
        "2026-02-25T00:00:00+08:00"
    );
    // From the make-up Saturday itself: its own date never counts.
    assert_eq!(
        c.deadline(sh(2026, 2, 14, 15, 0), wd(1)),
        sh(2026, 2, 25, 0, 0)
    );
    assert_eq!(
        c.deadline(sh(2026, 2, 13, 10, 0), wd(1)),
        sh(2026, 2, 15, 0, 0)
    );
}

#[test]
fn national_day_eve() {
    let c = calendar();
    // 2026: 1–7 Oct off, Thu 8 Oct is a plain working day.
    assert_eq!(
        c.deadline(sh(2026, 9, 30, 16, 0), wd(1)),
        sh(2026, 10, 9, 0, 0)
    );
    // 2025: 1–8 Oct off; 9 Oct day 1, 10 Oct day 2, Sat 11 Oct make-up day 3.
    assert_eq!(
        c.deadline(sh(2025, 9, 30, 10, 0), wd(3)),
        sh(2025, 10, 12, 0, 0)
    );
}

#[test]
fn make_up_sunday() {
    let c = calendar();
    // Fri 18 Sep 2026; Sun 20 Sep is a working day.
    assert_eq!(
        c.deadline(sh(2026, 9, 18, 11, 0), wd(1)),
        sh(2026, 9, 21, 0, 0)
    );
    assert!(c.is_working_day(date(2026, 9, 20)));
    assert_eq!(c.next_working_day(date(2026, 9, 18)), date(2026, 9, 20));
}

#[test]
fn turn_of_the_year() {
    let c = calendar();
    // 1–3 Jan 2026 off, Sun 4 Jan works.
    assert_eq!(
        c.deadline(sh(2025, 12, 31, 9, 0), wd(1)),
        sh(2026, 1, 5, 0, 0)
    );
    assert_eq!(
        c.deadline(sh(2025, 12, 31, 9, 0), wd(2)),
        sh(2026, 1, 6, 0, 0)
    );
}

#[test]
fn the_hour_does_not_change_working_days() {
    let c = calendar();
    // Fri 27 Nov 2026 23:30 (15:30 UTC): 28/29 Nov weekend, Mon 30 Nov day 1.
    assert_eq!(
        c.deadline(sh(2026, 11, 27, 23, 30), wd(1)),
        sh(2026, 12, 1, 0, 0)
    );
    assert_eq!(
        c.deadline(sh(2026, 11, 27, 0, 0), wd(1)),
        sh(2026, 12, 1, 0, 0)
    );
    // Local midnight is 16:00 UTC of the day before: the local date counts, not the UTC one.
    assert_eq!(c.local_date(sh(2026, 11, 28, 0, 30)), date(2026, 11, 28));
    assert_eq!(
        c.deadline(sh(2026, 11, 28, 0, 30), wd(1)),
        sh(2026, 12, 1, 0, 0)
    );
}

#[test]
fn zero_returns_from() {
    let c = calendar();
    let from = sh(2026, 2, 16, 3, 17);
    for limit in [wd(0), wh(0), TimeLimit::natural_hours(0)] {
        assert_eq!(c.deadline(from, limit), from);
    }
}

#[test]
fn natural_hours_ignore_the_calendar() {
    let c = calendar();
    assert_eq!(
        c.deadline(sh(2026, 2, 14, 20, 0), TimeLimit::natural_hours(24)),
        sh(2026, 2, 15, 20, 0)
    );
}

#[test]
fn working_hours() {
    let c = calendar();
    // After hours on Friday: Monday 08:30 + 2 h.
    assert_eq!(
        c.deadline(sh(2026, 11, 27, 18, 0), wh(2)),
        sh(2026, 11, 30, 10, 30)
    );
    // Across lunch: 11:00–12:00, then 13:30–14:30.
    assert_eq!(
        c.deadline(sh(2026, 11, 30, 11, 0), wh(2)),
        sh(2026, 11, 30, 14, 30)
    );
    // Before hours.
    assert_eq!(
        c.deadline(sh(2026, 11, 30, 7, 0), wh(1)),
        sh(2026, 11, 30, 9, 30)
    );
    // Ending exactly at a period's end gives that end.
    assert_eq!(
        c.deadline(sh(2026, 11, 30, 11, 0), wh(1)),
        sh(2026, 11, 30, 12, 0)
    );
    assert_eq!(
        c.deadline(sh(2026, 11, 30, 16, 30), wh(1)),
        sh(2026, 11, 30, 17, 30)
    );
    // During lunch: counting starts at 13:30.
    assert_eq!(
        c.deadline(sh(2026, 11, 30, 12, 10), wh(1)),
        sh(2026, 11, 30, 14, 30)
    );
    // A full day is 7.5 h: 8 h from Monday 08:30 ends Tuesday 09:00.
    assert_eq!(
        c.deadline(sh(2026, 11, 30, 8, 30), wh(8)),
        sh(2026, 12, 1, 9, 0)
    );
}

#[test]
fn working_hours_across_the_spring_festival() {
    let c = calendar();
    // Fri 13 Feb 2026 16:00: 1.5 h left that day; Sat 14 Feb (make-up) gives 7.5 h; 15–23 Feb
    // off; Tue 24 Feb 08:30 + 1 h.
    assert_eq!(
        c.deadline(sh(2026, 2, 13, 16, 0), wh(10)),
        sh(2026, 2, 24, 9, 30)
    );
    // From inside the holiday: the first hour is on Tue 24 Feb.
    assert_eq!(
        c.deadline(sh(2026, 2, 18, 10, 0), wh(1)),
        sh(2026, 2, 24, 9, 30)
    );
}

#[test]
fn year_without_data_falls_back_to_monday_to_friday() {
    let c = calendar();
    assert!(c.has_data_for(2025));
    assert!(c.has_data_for(2026));
    assert!(!c.has_data_for(2031));
    // 1 Jan 2031 is a Wednesday: without data, a working day.
    assert!(c.is_working_day(date(2031, 1, 1)));
    assert!(!c.is_working_day(date(2031, 1, 4))); // Saturday
    // Fri 3 Jan 2031 → Mon 6 Jan is day 1.
    assert_eq!(
        c.deadline(sh(2031, 1, 3, 10, 0), wd(1)),
        sh(2031, 1, 7, 0, 0)
    );
}

#[test]
fn custom_calendar_and_periods() {
    let t = |h: u32, m: u32| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let days = vec![CalendarDay {
        date: date(2031, 1, 1),
        kind: CalendarDayKind::Holiday,
        name: "元旦".into(),
    }];
    let c = Calendar::new(SHANGHAI, days, [(t(9, 0), t(17, 0))]);
    assert!(c.has_data_for(2031));
    assert!(!c.has_data_for(2026));
    assert!(!c.is_working_day(date(2031, 1, 1)));
    assert_eq!(c.working_periods(), &[(t(9, 0), t(17, 0))]);
    assert_eq!(
        c.deadline(sh(2030, 12, 31, 16, 0), wh(2)),
        sh(2031, 1, 2, 10, 0)
    );
    assert_eq!(
        default_working_periods(),
        vec![(t(8, 30), t(12, 0)), (t(13, 30), t(17, 30))]
    );
}

#[test]
fn shipped_files_round_trip() {
    let days = china_official_days();
    assert_eq!(
        parse_calendar_file(&format_calendar_file(&days)).unwrap(),
        days
    );
    // The calendar lists its days in date order; the files group them by holiday.
    let mut sorted = days.clone();
    sorted.sort_by_key(|day| day.date);
    assert_eq!(calendar().days().collect::<Vec<_>>(), sorted);
}

#[test]
fn parse_errors_carry_line_numbers() {
    let text = "# comment\n2026-10-01 holiday 国庆节\n\n2026-10-0x holiday 国庆节\n";
    let err = parse_calendar_file(text).unwrap_err();
    assert_eq!(err.line, 4);
    assert!(err.to_string().contains("line 4"), "{err}");
    assert!(err.to_string().contains("2026-10-0x"), "{err}");
}

/// Working days in Shanghai strictly between two local dates.
fn working_days_between(c: &Calendar, after: NaiveDate, before: NaiveDate) -> u32 {
    after
        .iter_days()
        .skip(1)
        .take_while(|d| *d < before)
        .filter(|d| c.is_working_day(*d))
        .count() as u32
}

fn instant_2025_to_2027() -> impl Strategy<Value = DateTime<Utc>> {
    let start = sh(2025, 1, 1, 0, 0).timestamp();
    let end = sh(2028, 1, 1, 0, 0).timestamp();
    (start..end).prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap())
}

fn day_name() -> impl Strategy<Value = String> {
    "[a-z\u{4e00}-\u{4e2f} ]{0,12}".prop_map(|s| s.trim().to_owned())
}

proptest! {
    #[test]
    fn working_days_properties(from in instant_2025_to_2027(), n in 0u32..=30) {
        let c = calendar();
        let deadline = c.deadline(from, wd(n));
        if n == 0 {
            prop_assert_eq!(deadline, from);
        } else {
            let local = deadline.with_timezone(&SHANGHAI);
            prop_assert_eq!((local.hour(), local.minute(), local.second()), (0, 0, 0));
            let end_date = local.date_naive();
            let last_day = end_date.pred_opt().unwrap();
            prop_assert!(c.is_working_day(last_day));
            prop_assert_eq!(working_days_between(&c, c.local_date(from), end_date), n);
            prop_assert!(deadline > from);
            let earlier = c.deadline(from, wd(n - 1));
            prop_assert!(earlier < deadline);
        }
    }

    #[test]
    fn working_hours_properties(from in instant_2025_to_2027(), n in 0u32..=80) {
        let c = calendar();
        let deadline = c.deadline(from, wh(n));
        if n == 0 {
            prop_assert_eq!(deadline, from);
        } else {
            prop_assert!(deadline > from);
            prop_assert!(c.deadline(from, wh(n - 1)) < deadline);
            let local = deadline.with_timezone(&SHANGHAI);
            prop_assert!(c.is_working_day(local.date_naive()));
            let time = local.time();
            prop_assert!(
                c.working_periods().iter().any(|&(start, end)| start < time && time <= end),
                "{} is outside working hours", local
            );
        }
    }

    #[test]
    fn working_hours_count_exactly(from in instant_2025_to_2027(), n in 1u32..=40) {
        // The working time between from and the deadline, summed period by period, is N hours.
        let c = calendar();
        let deadline = c.deadline(from, wh(n));
        let mut total = chrono::TimeDelta::zero();
        let mut day = c.local_date(from);
        while day <= c.local_date(deadline) {
            if c.is_working_day(day) {
                for &(start, end) in c.working_periods() {
                    let s = SHANGHAI.from_local_datetime(&day.and_time(start)).unwrap()
                        .with_timezone(&Utc).max(from);
                    let e = SHANGHAI.from_local_datetime(&day.and_time(end)).unwrap()
                        .with_timezone(&Utc).min(deadline);
                    if s < e {
                        total += e - s;
                    }
                }
            }
            day = day.succ_opt().unwrap();
        }
        prop_assert_eq!(total, chrono::TimeDelta::hours(i64::from(n)));
    }

    #[test]
    fn natural_hours_are_exact(from in instant_2025_to_2027(), n in 0u32..=10_000) {
        let c = calendar();
        prop_assert_eq!(
            c.deadline(from, TimeLimit::natural_hours(n)),
            from + chrono::TimeDelta::hours(i64::from(n))
        );
    }

    #[test]
    fn large_amounts_terminate(from in instant_2025_to_2027(), n in 0u32..=10_000) {
        let c = calendar();
        prop_assert!(c.deadline(from, wd(n)) >= from);
        prop_assert!(c.deadline(from, wh(n)) >= from);
    }

    #[test]
    fn fast_skip_matches_day_by_day(from in instant_2025_to_2027(), n in 0u32..=400) {
        // The week skipping must agree with counting one working day at a time.
        let c = calendar();
        let mut day = c.local_date(from);
        for _ in 0..n {
            day = c.next_working_day(day);
        }
        prop_assert_eq!(c.nth_working_day_after(c.local_date(from), n), day);
    }

    #[test]
    fn any_instant_does_not_panic(secs in i64::MIN..i64::MAX, n in any::<u16>()) {
        let c = calendar();
        if let Some(from) = DateTime::from_timestamp(secs / 1_000_000, 0) {
            let _ = c.deadline(from, wd(u32::from(n)));
            let _ = c.deadline(from, wh(u32::from(n)));
            let _ = c.deadline(from, TimeLimit::natural_hours(u32::from(n)));
            let _ = c.local_date(from);
        }
    }

    #[test]
    fn any_date_is_classified(days in -100_000_000i64..100_000_000) {
        let c = calendar();
        if let Some(day) = NaiveDate::from_num_days_from_ce_opt(i32::try_from(days).unwrap()) {
            let working = c.is_working_day(day);
            let weekend = day.weekday().number_from_monday() > 5;
            if !c.has_data_for(day.year()) {
                prop_assert_eq!(working, !weekend);
            }
            prop_assert!(c.next_working_day(day) > day || day == NaiveDate::MAX);
        }
    }

    #[test]
    fn parse_format_round_trip(
        entries in proptest::collection::btree_map(
            0i32..3000, (any::<bool>(), day_name()), 0..40)
    ) {
        let base = date(2025, 1, 1);
        let days: Vec<CalendarDay> = entries
            .into_iter()
            .map(|(offset, (holiday, name))| CalendarDay {
                date: base + chrono::Days::new(u64::try_from(offset).unwrap()),
                kind: if holiday { CalendarDayKind::Holiday } else { CalendarDayKind::Workday },
                name,
            })
            .collect();
        let text = format_calendar_file(&days);
        prop_assert_eq!(parse_calendar_file(&text).unwrap(), days);
    }
}
