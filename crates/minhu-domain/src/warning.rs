//! Deadline warnings: when an order turns yellow (黄灯) and red (红灯).

use chrono::{DateTime, TimeDelta, Utc};

use crate::enums::WarningLevel;
use crate::model::ActiveDeadline;

/// The default share of a span left at which the warning turns yellow (20 %).
pub const DEFAULT_YELLOW_SHARE: f64 = 0.2;

/// The active deadline of a span from `start` to `deadline`, yellow once less than `yellow_share`
/// of the span is left: `yellow_at = deadline − yellow_share × (deadline − start)`, to the
/// millisecond.
///
/// `yellow_share` is clamped to `[0, 1]` (NaN counts as 0: no yellow phase). When the span is
/// empty or negative, `yellow_at` is the deadline.
#[must_use]
pub fn active_deadline(
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
    yellow_share: f64,
) -> ActiveDeadline {
    let share = if yellow_share.is_nan() {
        0.0
    } else {
        yellow_share.clamp(0.0, 1.0)
    };
    let span = deadline.signed_duration_since(start);
    let yellow_at = if span <= TimeDelta::zero() {
        deadline
    } else {
        // The product of a share in [0, 1] and a span in milliseconds fits an i64; `as` saturates.
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let lead = (span.num_milliseconds() as f64 * share).round() as i64;
        deadline
            .checked_sub_signed(TimeDelta::milliseconds(lead))
            .unwrap_or(start)
            .max(start)
    };
    ActiveDeadline {
        start_at: start,
        deadline_at: deadline,
        yellow_at,
    }
}

/// The warning level of `deadline` at `now`: red once the deadline is reached, yellow once
/// `yellow_at` is reached, green before.
#[must_use]
pub fn warning_level(deadline: &ActiveDeadline, now: DateTime<Utc>) -> WarningLevel {
    if now >= deadline.deadline_at {
        WarningLevel::Red
    } else if now >= deadline.yellow_at {
        WarningLevel::Yellow
    } else {
        WarningLevel::Green
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap()
    }

    #[test]
    fn yellow_at_is_the_share_before_the_deadline() {
        let d = active_deadline(at(0, 0), at(10, 0), 0.2);
        assert_eq!(d.start_at, at(0, 0));
        assert_eq!(d.deadline_at, at(10, 0));
        assert_eq!(d.yellow_at, at(8, 0));
        assert_eq!(warning_level(&d, at(7, 59)), WarningLevel::Green);
        assert_eq!(warning_level(&d, at(8, 0)), WarningLevel::Yellow);
        assert_eq!(warning_level(&d, at(9, 59)), WarningLevel::Yellow);
        assert_eq!(warning_level(&d, at(10, 0)), WarningLevel::Red);
        assert_eq!(warning_level(&d, at(23, 0)), WarningLevel::Red);
    }

    #[test]
    fn share_is_clamped() {
        assert_eq!(
            active_deadline(at(0, 0), at(10, 0), 1.5).yellow_at,
            at(0, 0)
        );
        assert_eq!(
            active_deadline(at(0, 0), at(10, 0), -0.3).yellow_at,
            at(10, 0)
        );
        assert_eq!(
            active_deadline(at(0, 0), at(10, 0), f64::NAN).yellow_at,
            at(10, 0)
        );
        assert_eq!(
            active_deadline(at(0, 0), at(10, 0), f64::INFINITY).yellow_at,
            at(0, 0)
        );
    }

    #[test]
    fn empty_or_negative_span() {
        let d = active_deadline(at(10, 0), at(9, 0), 0.2);
        assert_eq!(d.yellow_at, at(9, 0));
        assert_eq!(warning_level(&d, at(8, 0)), WarningLevel::Green);
        assert_eq!(warning_level(&d, at(9, 0)), WarningLevel::Red);
        assert_eq!(active_deadline(at(9, 0), at(9, 0), 0.2).yellow_at, at(9, 0));
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let d = active_deadline(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, 0.5);
        assert!(d.yellow_at >= d.start_at && d.yellow_at <= d.deadline_at);
    }
}
