//! The OpenAPI lock: the document generated from the code must equal
//! `tests/snapshots/openapi.json`. After an intended API change, regenerate it with
//! `MINHU_UPDATE_SNAPSHOTS=1 cargo test -p minhu --test api_openapi` and review the diff.
//! Also: the served document, `/healthz` and `/readyz`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::Value;
use support::app::start;
use support::db::all_backends;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json")
}

fn generated() -> String {
    let mut text = minhu::http::openapi()
        .to_pretty_json()
        .expect("serialise the OpenAPI document");
    text.push('\n');
    text
}

#[test]
fn openapi_document_matches_the_snapshot() {
    let path = snapshot_path();
    let current = generated();
    if std::env::var("MINHU_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("a parent folder"))
            .expect("create the folder");
        std::fs::write(&path, &current).expect("write the snapshot");
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    if stored != current {
        let first_difference = stored
            .lines()
            .zip(current.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map_or_else(
                || {
                    format!(
                        "the documents differ in length ({} vs {} lines)",
                        stored.lines().count(),
                        current.lines().count()
                    )
                },
                |(i, (a, b))| {
                    format!(
                        "first difference at line {}:\n  snapshot:  {a}\n  generated: {b}",
                        i + 1
                    )
                },
            );
        panic!(
            "The OpenAPI document changed; {first_difference}\n\
             If the API change is intended, update the lock with\n  \
             MINHU_UPDATE_SNAPSHOTS=1 cargo test -p minhu --test api_openapi\n\
             and commit crates/minhu/tests/snapshots/openapi.json."
        );
    }
}

#[test]
fn openapi_document_covers_every_action_and_is_secured() {
    let doc: Value = serde_json::from_str(&generated()).expect("JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for code in minhu_domain::Action::CODES {
        let path = format!("/api/v1/orders/{{number}}/{code}");
        let op = &doc["paths"][&path]["post"];
        assert!(op.is_object(), "no {path}");
        assert!(op["requestBody"].is_object(), "no body schema for {path}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());
}

/// The enum values the document lists are the ones the API sends and accepts.
#[test]
fn openapi_enum_values_match_the_wire_format() {
    let doc: Value = serde_json::from_str(&generated()).expect("JSON");
    let schemas = &doc["components"]["schemas"];
    macro_rules! check {
        ($($ty:ident),+) => {$(
            let expected: Vec<&str> = minhu_domain::$ty::ALL.iter().map(|v| v.as_str()).collect();
            let listed: Vec<&str> = schemas[stringify!($ty)]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("no enum schema {}", stringify!($ty)))
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(listed, expected, "{} in the OpenAPI document", stringify!($ty));
        )+};
    }
    check!(
        Role,
        UnitKind,
        Channel,
        OrderType,
        Urgency,
        Gender,
        CallerTag,
        OrderState,
        AssignmentRole,
        AssignmentState,
        Solved,
        Satisfaction,
        EmergencyLine,
        LegalChannel,
        AppealState,
        EscalationState,
        DeadlineUnit,
        LimitStep,
        WarningLevel,
        CalendarDayKind
    );
}

#[tokio::test]
async fn health_readiness_and_the_served_document() {
    for db in all_backends().await {
        let t = start(db).await;
        let response = t
            .client
            .get(format!("{}/healthz", t.base))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.text().await.expect("text"), "ok");

        let (status, body) = t.get("", "/readyz").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "ready");
        assert_eq!(body["backend"], t.backend());

        let (status, served) = t.get("", "/api/v1/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        let generated: Value = serde_json::from_str(&generated()).expect("JSON");
        assert_eq!(served, generated);
    }
}
