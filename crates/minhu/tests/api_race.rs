//! Two people acting on one order at once: exactly one wins, the others are told (409), and the
//! order holds exactly one result.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use support::app::{history_actions, start};
use support::db::all_backends;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_dispatches_one_wins_the_others_conflict() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let dispatcher = t.login("dispatcher1").await;
        let order = t.register(&agent, f.new_order()).await;
        let number = order["number"].as_str().unwrap().to_owned();
        let version = order["version"].as_i64().unwrap();

        // Eight dispatchers (one account, eight requests) send the order to different leads at
        // the same moment, each against the version they saw.
        let leads = [f.water.id, f.gas.id, f.district.id, f.street.id];
        let requests = (0..8).map(|i| {
            let body = json!({"version": version, "lead_unit_id": leads[i % leads.len()]});
            t.act(&dispatcher, &number, "dispatch", body)
        });
        let answers = join_all(requests).await;

        let wins = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        assert_eq!(wins, 1, "{answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            let code = body["error"]["code"].as_str().unwrap();
            assert!(
                code == "version_conflict" || code == "invalid_state",
                "{body}"
            );
        }

        let order = t.order(&dispatcher, &number).await;
        assert_eq!(order["state"], "dispatched");
        assert_eq!(order["version"], version + 1);
        assert_eq!(order["assignments"].as_array().unwrap().len(), 1);
        assert_eq!(history_actions(&order), ["register", "dispatch"]);

        // Without a version the check still holds: the lead unit signs four times at once; one
        // sign wins, the others are refused, one history line.
        let lead = order["assignments"][0]["unit_id"].as_i64().unwrap();
        let username = [
            (f.water.id, "unit_water1"),
            (f.gas.id, "unit_gas1"),
            (f.district.id, "district1"),
            (f.street.id, "street1"),
        ]
        .into_iter()
        .find(|(id, _)| *id == lead)
        .map(|(_, name)| name)
        .unwrap();
        let unit = t.login(username).await;
        let answers = join_all((0..4).map(|_| t.act(&unit, &number, "sign", json!({})))).await;
        let wins = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        assert_eq!(wins, 1, "{answers:?}");
        assert!(
            answers
                .iter()
                .all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
            "{answers:?}"
        );
        let order = t.order(&dispatcher, &number).await;
        assert_eq!(order["state"], "in_progress");
        assert_eq!(history_actions(&order), ["register", "dispatch", "sign"]);
    }
}
