//! The reference data an app node keeps in memory (units, categories, policies, calendar) follows
//! changes made by another app node on the same database: the next signed-in request sees them,
//! and a node that has seen no request checks the database before it answers.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use minhu::config::Config;
use minhu::service::App;
use minhu::storage::{NewPolicyRule, UnitPatch};
use minhu_domain::CalendarDayKind;
use minhu_domain::calendar::CalendarDay;
use minhu_domain::{DeadlineUnit, LimitStep, TimeLimit};
use reqwest::StatusCode;
use serde_json::json;
use support::app::{TestApp, start};
use support::db::all_backends;

/// A registration's creation time and dispatch deadline, through node A's API.
async fn register(t: &TestApp, token: &str) -> (DateTime<Utc>, DateTime<Utc>) {
    let order = t.register(token, t.fixture.new_order()).await;
    let at = |field: &str| {
        order[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} in {order}"))
            .parse::<DateTime<Utc>>()
            .unwrap()
    };
    (at("created_at"), at("dispatch_deadline_at"))
}

#[tokio::test]
async fn a_second_app_node_sees_reference_changes_of_the_other() {
    for db in all_backends().await {
        let url = db.url.clone();
        let t = start(db).await;
        let backend = t.backend();
        let agent = t.login("agent1").await;
        let admin = t.login("admin").await;

        // Node B: its own store and app on the same database.
        let store_b = minhu::storage::connect(&url).await.unwrap();
        let node_b = App::new(
            store_b.clone(),
            Config {
                database_url: url.clone(),
                ..Config::default()
            },
        );

        // Node A has loaded its reference data; the default dispatch limit applies.
        let (created, deadline) = register(&t, &agent).await;
        assert_ne!(
            deadline - created,
            Duration::hours(777),
            "{backend}: not yet the new rule"
        );

        // Node B (or the CLI) writes a rule node A has never heard of.
        store_b
            .create_policy(&NewPolicyRule {
                category_id: Some(t.fixture.cat_water_cut.id),
                order_type: None,
                urgency: None,
                step: LimitStep::Dispatch,
                limit: TimeLimit {
                    amount: 777,
                    unit: DeadlineUnit::NaturalHours,
                },
            })
            .await
            .unwrap();
        let (created, deadline) = register(&t, &agent).await;
        assert_eq!(
            deadline - created,
            Duration::hours(777),
            "{backend}: node A's next request decides with node B's rule"
        );

        // A unit renamed on node B is named anew on node A's next order view.
        store_b
            .update_unit(
                t.fixture.street.id,
                &UnitPatch {
                    name: Some("东华门街道办事处".to_owned()),
                    ..UnitPatch::default()
                },
            )
            .await
            .unwrap();
        let (status, _) = t.get(&agent, "/api/v1/orders?per_page=1").await;
        assert_eq!(status, StatusCode::OK);
        let street_now = t.app.reference().await.unwrap();
        assert_eq!(
            street_now.unit(t.fixture.street.id).unwrap().name,
            "东华门街道办事处",
            "{backend}: node A reloaded after a request saw the new generation"
        );

        // A holiday set through node A's API: node B, which has served no request, checks the
        // database before it answers.
        let before = node_b.calendar().await.unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 12, 9).unwrap(); // a Wednesday
        assert!(before.is_working_day(date), "{backend}");
        let (status, body) = t
            .put(
                &admin,
                "/api/v1/calendar/days/2026-12-09",
                json!({"kind": "holiday", "name": "测试假日"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let after = node_b.calendar().await.unwrap();
        assert!(
            !after.is_working_day(date),
            "{backend}: node B sees node A's holiday"
        );
        assert_eq!(
            after.exception(date),
            Some((CalendarDayKind::Holiday, "测试假日")),
            "{backend}"
        );

        // And node B's own change is seen by node B at once, by node A on its next request.
        store_b
            .upsert_calendar_days(&[CalendarDay {
                date,
                kind: CalendarDayKind::Workday,
                name: "测试调休".to_owned(),
            }])
            .await
            .unwrap();
        assert!(node_b.calendar().await.unwrap().is_working_day(date));
        let (status, _) = t.get(&agent, "/api/v1/orders?per_page=1").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            t.app.calendar().await.unwrap().is_working_day(date),
            "{backend}: node A follows after a request"
        );
    }
}
