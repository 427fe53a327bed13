//! The calendar API: deadline arithmetic on the hard cases of the shipped Chinese calendar, bad
//! parameters, and an admin's edit of a day changing the deadline.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use reqwest::StatusCode;
use serde_json::json;
use support::app::{TestApp, assert_error, start};
use support::db::all_backends;

fn deadline_path(from: &str, amount: &str, unit: &str) -> String {
    let from: String = url::form_urlencoded::byte_serialize(from.as_bytes()).collect();
    format!("/api/v1/calendar/deadline?from={from}&amount={amount}&unit={unit}")
}

async fn deadline(t: &TestApp, token: &str, from: &str, amount: u32, unit: &str) -> String {
    let (status, body) = t
        .get(token, &deadline_path(from, &amount.to_string(), unit))
        .await;
    assert_eq!(status, StatusCode::OK, "{from} + {amount} {unit}: {body}");
    body["deadline"]
        .as_str()
        .unwrap_or_else(|| panic!("no deadline in {body}"))
        .to_owned()
}

#[tokio::test]
async fn deadline_endpoint_counts_chinese_working_time() {
    for db in all_backends().await {
        let t = start(db).await;
        let token = t.login("agent1").await;
        let cases = [
            // Eve of the Spring Festival 2026: Sat 14 Feb is a make-up working day, 15–23 off.
            (
                "2026-02-13T10:00:00+08:00",
                2,
                "working_days",
                "2026-02-25T00:00:00+08:00",
            ),
            (
                "2026-02-13T10:00:00+08:00",
                1,
                "working_days",
                "2026-02-15T00:00:00+08:00",
            ),
            // Eve of National Day 2026: 1–7 Oct off, Sat 10 Oct worked.
            (
                "2026-09-30T16:00:00+08:00",
                1,
                "working_days",
                "2026-10-09T00:00:00+08:00",
            ),
            (
                "2026-09-30T16:00:00+08:00",
                3,
                "working_days",
                "2026-10-11T00:00:00+08:00",
            ),
            // A make-up Sunday (20 Sep 2026) counts.
            (
                "2026-09-18T10:00:00+08:00",
                1,
                "working_days",
                "2026-09-21T00:00:00+08:00",
            ),
            // Turn of the year: 1–3 Jan 2026 off, Sunday 4 Jan worked.
            (
                "2025-12-31T10:00:00+08:00",
                1,
                "working_days",
                "2026-01-05T00:00:00+08:00",
            ),
            (
                "2025-12-31T10:00:00+08:00",
                2,
                "working_days",
                "2026-01-06T00:00:00+08:00",
            ),
            // The start's own date never counts, even late at night (UTC input, local date 2 Mar).
            (
                "2026-03-02T15:59:00Z",
                1,
                "working_days",
                "2026-03-04T00:00:00+08:00",
            ),
            // Working hours after hours start the next morning; lunch does not count.
            (
                "2026-03-02T18:00:00+08:00",
                2,
                "working_hours",
                "2026-03-03T10:30:00+08:00",
            ),
            (
                "2026-03-03T11:00:00+08:00",
                2,
                "working_hours",
                "2026-03-03T14:30:00+08:00",
            ),
            // Natural hours ignore the calendar.
            (
                "2026-02-13T10:00:00+08:00",
                24,
                "natural_hours",
                "2026-02-14T10:00:00+08:00",
            ),
            (
                "2026-02-13T10:00:00+08:00",
                0,
                "working_days",
                "2026-02-13T10:00:00+08:00",
            ),
        ];
        for (from, amount, unit, expected) in cases {
            assert_eq!(
                deadline(&t, &token, from, amount, unit).await,
                expected,
                "{from} + {amount} {unit} on {}",
                t.backend()
            );
        }
        // An unencoded `+` (read as a space) is tolerated.
        let (status, body) = t
            .get(
                &token,
                "/api/v1/calendar/deadline?from=2026-02-13T10:00:00+08:00&amount=2&unit=working_days",
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["deadline"], "2026-02-25T00:00:00+08:00");
    }
}

#[tokio::test]
async fn deadline_endpoint_rejects_bad_parameters() {
    for db in all_backends().await {
        let t = start(db).await;
        let token = t.login("unit_water1").await;
        let from = "2026-02-13T10:00:00+08:00";
        for (path, field) in [
            (deadline_path("yesterday", "2", "working_days"), "from"),
            (deadline_path(from, "-1", "working_days"), "amount"),
            (deadline_path(from, "two", "working_days"), "amount"),
            (deadline_path(from, "100000", "working_days"), "amount"),
            (deadline_path(from, "2", "weeks"), "unit"),
            (
                "/api/v1/calendar/deadline?amount=2&unit=working_days".to_owned(),
                "from",
            ),
            (
                format!("{}&colour=red", deadline_path(from, "2", "natural_hours")),
                "colour",
            ),
        ] {
            let answer = t.get(&token, &path).await;
            assert_error(
                &answer,
                StatusCode::BAD_REQUEST,
                "invalid_query",
                Some(field),
            );
        }
        let answer = t.get("", &deadline_path(from, "2", "working_days")).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthenticated", None);
    }
}

#[tokio::test]
async fn admin_edits_a_calendar_day_and_the_deadline_moves() {
    for db in all_backends().await {
        let t = start(db).await;
        let admin = t.login("admin").await;
        let agent = t.login("agent1").await;
        let from = "2026-03-03T10:00:00+08:00";
        assert_eq!(
            deadline(&t, &agent, from, 1, "working_days").await,
            "2026-03-05T00:00:00+08:00"
        );

        // The shipped calendar is listed.
        let (status, days) = t.get(&agent, "/api/v1/calendar/days?year=2026").await;
        assert_eq!(status, StatusCode::OK, "{days}");
        let days = days.as_array().expect("a list of days");
        assert!(
            days.iter()
                .any(|d| d["date"] == "2026-02-17" && d["kind"] == "holiday")
        );
        assert!(
            days.iter()
                .all(|d| d["date"].as_str().is_some_and(|s| s.starts_with("2026-")))
        );

        // Only an admin edits it.
        let body = json!({"kind": "holiday", "name": "临时停工"});
        let answer = t
            .put(&agent, "/api/v1/calendar/days/2026-03-04", body.clone())
            .await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);

        let (status, day) = t
            .put(&admin, "/api/v1/calendar/days/2026-03-04", body)
            .await;
        assert_eq!(status, StatusCode::OK, "{day}");
        assert_eq!(
            day,
            json!({"date": "2026-03-04", "kind": "holiday", "name": "临时停工"})
        );
        assert_eq!(
            deadline(&t, &agent, from, 1, "working_days").await,
            "2026-03-06T00:00:00+08:00"
        );
        // A Saturday made a working day counts too.
        let (status, _) = t
            .put(
                &admin,
                "/api/v1/calendar/days/2026-03-07",
                json!({"kind": "workday", "name": "调休上班"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            deadline(&t, &agent, "2026-03-05T10:00:00+08:00", 2, "working_days").await,
            "2026-03-08T00:00:00+08:00"
        );

        // Bad input on the edit.
        let answer = t
            .put(
                &admin,
                "/api/v1/calendar/days/2026-13-01",
                json!({"kind": "holiday", "name": "x"}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_path",
            Some("date"),
        );
        let answer = t
            .put(
                &admin,
                "/api/v1/calendar/days/2026-03-09",
                json!({"kind": "vacation", "name": "x"}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("kind"),
        );
        let answer = t
            .put(
                &admin,
                "/api/v1/calendar/days/2026-03-09",
                json!({"kind": "holiday", "name": " "}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("name"),
        );

        // Deleting restores the normal week; deleting again is a 404.
        let (status, _) = t.delete(&admin, "/api/v1/calendar/days/2026-03-04").await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            deadline(&t, &agent, from, 1, "working_days").await,
            "2026-03-05T00:00:00+08:00"
        );
        let answer = t.delete(&admin, "/api/v1/calendar/days/2026-03-04").await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);

        // Every change is audited.
        let (_, audit) = t.get(&admin, "/api/v1/admin/audit?limit=100").await;
        let actions: Vec<&str> = audit
            .as_array()
            .expect("audit lines")
            .iter()
            .filter_map(|a| a["action"].as_str())
            .collect();
        assert!(actions.contains(&"set_calendar_day"), "{actions:?}");
        assert!(actions.contains(&"delete_calendar_day"), "{actions:?}");
    }
}

#[tokio::test]
async fn calendar_gaps_name_the_years_without_holiday_data() {
    use chrono::Datelike as _;
    for db in all_backends().await {
        let t = start(db).await;
        let this_year = chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .year();
        // The shipped data covers 2025 and 2026; any other year of (this, next) is a gap.
        let expected: Vec<i32> = [this_year, this_year + 1]
            .into_iter()
            .filter(|y| !(2025..=2026).contains(y))
            .collect();
        assert_eq!(t.app.calendar_gaps().await.unwrap(), expected);

        // Importing a day of a missing year closes that gap.
        let admin = t.login("admin").await;
        for year in &expected {
            let (status, body) = t
                .put(
                    &admin,
                    &format!("/api/v1/calendar/days/{year}-01-01"),
                    json!({"kind": "holiday", "name": "元旦"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        assert!(t.app.calendar_gaps().await.unwrap().is_empty());
    }
}
