//! The calendar of volumes: how many orders each day gets (weekly and seasonal rhythm, a slow
//! growth over the years, storm days), at which hour calls come, and how the month shifts the
//! shares of the categories (heating in winter, water and power in summer, flooding after storms).

use chrono::{Datelike, NaiveDate, Weekday};
use rand::RngExt;
use rand::rngs::StdRng;

/// One day of the generated history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Day {
    pub date: NaiveDate,
    /// Orders registered that day.
    pub orders: u64,
    /// A storm hit the city the day before: flooding, blocked drains and outages spike.
    pub storm: bool,
}

/// Relative volume of a weekday: Monday is the busiest, Sunday the quietest.
fn weekday_factor(day: Weekday) -> f64 {
    match day {
        Weekday::Mon => 1.18,
        Weekday::Tue => 1.08,
        Weekday::Wed => 1.04,
        Weekday::Thu => 1.0,
        Weekday::Fri => 0.97,
        Weekday::Sat => 0.78,
        Weekday::Sun => 0.72,
    }
}

/// Relative volume of a month: summer (water, power, noise) and the heating season are busy.
fn month_factor(month: u32) -> f64 {
    match month {
        1 | 12 => 1.12,
        2 => 0.85,
        3 | 4 => 0.92,
        5 => 0.98,
        6 => 1.05,
        7 | 8 => 1.15,
        9 => 1.0,
        10 => 0.95,
        _ => 1.1,
    }
}

/// The days from `first` to `last` with `total` orders spread over them by the rhythm; storms
/// fall on a few summer days. Every order lands on some day (the rounding error goes to the
/// busiest days first).
pub fn plan_days(rng: &mut StdRng, first: NaiveDate, last: NaiveDate, total: u64) -> Vec<Day> {
    let mut days = Vec::new();
    let mut weights = Vec::new();
    let span = (last - first).num_days().max(1) as f64;
    let mut date = first;
    while date <= last {
        let summer = (6..=8).contains(&date.month());
        let storm = rng.random_bool(if summer { 0.06 } else { 0.01 });
        let progress = (date - first).num_days() as f64 / span;
        let noise = rng.random_range(0.9..1.1);
        let weight = weekday_factor(date.weekday())
            * month_factor(date.month())
            * (0.85 + 0.3 * progress)
            * if storm { 1.8 } else { 1.0 }
            * noise;
        days.push(Day {
            date,
            orders: 0,
            storm,
        });
        weights.push(weight);
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    let sum: f64 = weights.iter().sum();
    let mut given = 0u64;
    let mut remainders: Vec<(f64, usize)> = Vec::with_capacity(days.len());
    for (i, (day, weight)) in days.iter_mut().zip(&weights).enumerate() {
        let exact = total as f64 * weight / sum.max(f64::MIN_POSITIVE);
        day.orders = exact.floor() as u64;
        given += day.orders;
        remainders.push((exact - exact.floor(), i));
    }
    remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut missing = total.saturating_sub(given);
    for (_, i) in remainders.iter().cycle() {
        if missing == 0 {
            break;
        }
        if let Some(day) = days.get_mut(*i) {
            day.orders += 1;
            missing -= 1;
        }
    }
    days
}

/// Weights of the hours of the day: a morning and an afternoon peak, a quiet night.
const HOURS: [u32; 24] = [
    2, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 15, 10, 11, 15, 16, 15, 13, 10, 9, 8, 6, 4, 3,
];

/// A second of the day (local) at which a call comes.
pub fn second_of_day(rng: &mut StdRng) -> u32 {
    let total: u32 = HOURS.iter().sum();
    let mut pick = rng.random_range(0..total);
    let mut hour = 0;
    for (h, w) in HOURS.iter().enumerate() {
        if pick < *w {
            hour = h as u32;
            break;
        }
        pick -= w;
    }
    hour * 3600 + rng.random_range(0..3600)
}

/// Shares of the top-level categories (in ‰ of ordinary days).
pub const TOP_WEIGHTS: &[(&str, f64)] = &[
    ("01", 10.0),
    ("02", 6.0),
    ("03", 5.0),
    ("04", 6.0),
    ("05", 16.0),
    ("06", 12.0),
    ("07", 5.0),
    ("08", 7.0),
    ("09", 7.0),
    ("10", 4.0),
    ("11", 4.0),
    ("12", 4.0),
    ("13", 5.0),
    ("14", 3.0),
    ("15", 1.0),
    ("16", 2.0),
    ("17", 2.0),
    ("18", 1.0),
    ("19", 1.0),
    ("20", 2.0),
    ("21", 3.0),
];

/// Whether `month` lies in the heating season (15 November to 15 March, roughly).
pub fn heating_season(month: u32) -> bool {
    matches!(month, 11 | 12 | 1 | 2 | 3)
}

/// How the month and the weather shift a leaf's share.
pub fn season_factor(code: &str, month: u32, storm: bool) -> f64 {
    let summer = (6..=8).contains(&month);
    let mut f = 1.0;
    if code.starts_with("0401") {
        // 暖气不热, 暖气漏水: only in the heating season, a flood at its start.
        f *= match month {
            11 | 12 => 7.0,
            1 | 2 => 5.0,
            3 => 2.5,
            _ => 0.05,
        };
    } else if code.starts_with("0402") {
        f *= if matches!(month, 10 | 11) { 4.0 } else { 0.4 };
    } else if code.starts_with("0101") {
        f *= if summer { 1.8 } else { 0.9 };
    } else if code.starts_with("0102") {
        f *= if summer { 1.6 } else { 0.7 };
        if storm {
            f *= 8.0;
        }
    } else if code.starts_with("0201") {
        f *= if summer { 1.6 } else { 0.9 };
        if storm {
            f *= 4.0;
        }
    } else if code.starts_with("0504") {
        f *= if summer { 1.7 } else { 0.8 };
    } else if code.starts_with("0302") && heating_season(month) {
        f *= 1.5;
    } else if code.starts_with("1001") {
        f *= if matches!(month, 5..=8) { 2.5 } else { 0.6 };
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_order_lands_on_a_day_and_mondays_are_busier() {
        let mut rng = StdRng::seed_from_u64(7);
        let first = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        let days = plan_days(&mut rng, first, last, 100_000);
        assert_eq!(days.iter().map(|d| d.orders).sum::<u64>(), 100_000);
        let on = |w: Weekday| -> u64 {
            days.iter()
                .filter(|d| d.date.weekday() == w)
                .map(|d| d.orders)
                .sum()
        };
        assert!(on(Weekday::Mon) > on(Weekday::Sun));
        assert!(season_factor("040101", 12, false) > 10.0 * season_factor("040101", 7, false));
    }
}
