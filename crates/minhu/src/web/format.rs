//! Chinese dates and the small labels pages show (badges, masked values).

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use minhu_domain::{OrderState, WarningLevel};

/// `2026年11月28日 14:05` in `tz`.
#[must_use]
pub fn datetime_cn(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    format!(
        "{}年{}月{}日 {:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// `2026年11月28日` in `tz`.
#[must_use]
pub fn date_cn(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    format!("{}年{}月{}日", local.year(), local.month(), local.day())
}

/// An optional instant as a Chinese date and time, `—` when absent.
#[must_use]
pub fn opt_datetime_cn(at: Option<DateTime<Utc>>, tz: Tz) -> String {
    at.map_or_else(|| "—".to_owned(), |at| datetime_cn(at, tz))
}

/// A badge: its text and CSS class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub text: String,
    pub class: &'static str,
}

/// The badge of an order state, coloured by phase.
#[must_use]
pub fn state_badge(state: OrderState) -> Badge {
    let class = match state {
        OrderState::Registered => "badge st-new",
        OrderState::Dispatched | OrderState::ReturnRequested => "badge st-wait",
        OrderState::InProgress => "badge st-work",
        OrderState::Replied | OrderState::PendingVisit => "badge st-check",
        OrderState::Closed | OrderState::ClosedDirect => "badge st-done",
        OrderState::Transferred | OrderState::Rejected | OrderState::Merged => "badge st-end",
    };
    Badge {
        text: state.label().to_owned(),
        class,
    }
}

/// The badge of a warning level; `None` for green (nothing to say).
#[must_use]
pub fn warning_badge(level: Option<WarningLevel>) -> Option<Badge> {
    match level? {
        WarningLevel::Green => None,
        WarningLevel::Yellow => Some(Badge {
            text: "黄灯".to_owned(),
            class: "badge warn-yellow",
        }),
        WarningLevel::Red => Some(Badge {
            text: "红灯超期".to_owned(),
            class: "badge warn-red",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn chinese_dates_in_the_zone() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 6, 5, 0).unwrap();
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(datetime_cn(at, tz), "2026年11月28日 14:05");
        assert_eq!(date_cn(at, tz), "2026年11月28日");
        let late = Utc.with_ymd_and_hms(2026, 1, 31, 16, 30, 0).unwrap();
        assert_eq!(datetime_cn(late, tz), "2026年2月1日 00:30");
        assert_eq!(opt_datetime_cn(None, tz), "—");
    }

    #[test]
    fn badges() {
        assert_eq!(state_badge(OrderState::Replied).text, "待审核");
        assert!(warning_badge(Some(WarningLevel::Green)).is_none());
        assert_eq!(
            warning_badge(Some(WarningLevel::Red)).map(|b| b.class),
            Some("badge warn-red")
        );
    }
}
