//! Reply attachments (附件) through the API on both backends: a reply with files and their
//! downloads, scope, the limits with their stable codes, and all-or-nothing storage (a refused
//! reply, a version conflict or a failing file stores nothing).

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use bytes::Bytes;
use minhu::service::attachments::{MAX_FILE_BYTES, MAX_FILES};
use minhu::storage::{NewAttachment, StoreError};
use minhu_domain::{HistoryEvent, Transition};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{TestApp, start};
use support::db::all_backends;

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A small PDF.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// One part of a multipart body.
enum Part<'a> {
    Text(&'a str, String),
    File(&'a str, &'a str, &'a [u8]),
}

const BOUNDARY: &str = "----minhu-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body and its content type.
fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(value.as_bytes());
            }
            Part::File(name, file_name, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Files to post: name and bytes.
type Files<'a> = Vec<(&'a str, &'a [u8])>;

/// Posts a multipart reply with `payload` and files.
async fn reply_with(
    t: &TestApp,
    token: &str,
    number: &str,
    payload: Value,
    files: &[(&str, &[u8])],
) -> (StatusCode, Value) {
    let mut parts = vec![Part::Text("payload", payload.to_string())];
    parts.extend(files.iter().map(|(n, b)| Part::File("files", n, b)));
    let (content_type, body) = multipart(&parts);
    t.post_raw(
        token,
        &format!("/api/v1/orders/{number}/reply-with-attachments"),
        Some(&content_type),
        body,
    )
    .await
}

/// A download: status, headers, bytes.
async fn download(
    t: &TestApp,
    token: &str,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Bytes) {
    let response = t
        .client
        .get(format!("{}{path}", t.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap())
}

/// An order dispatched to the water company and signed by it: (number, version).
async fn signed_order(t: &TestApp) -> (String, i64) {
    let f = &t.fixture;
    let agent = t.login("agent1").await;
    let dispatcher = t.login("dispatcher1").await;
    let water = t.login("unit_water1").await;
    let order = t.register(&agent, f.new_order()).await;
    let number = order["number"].as_str().unwrap().to_owned();
    t.act_ok(
        &dispatcher,
        &number,
        "dispatch",
        json!({"lead_unit_id": f.water.id}),
    )
    .await;
    let order = t.act_ok(&water, &number, "sign", json!({})).await;
    (number, order["version"].as_i64().unwrap())
}

async fn stored_count(t: &TestApp, number: &str) -> usize {
    let order = t
        .app
        .store
        .find_order_by_number(number)
        .await
        .unwrap()
        .unwrap();
    t.app
        .store
        .order_attachments(order.order.id)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn reply_with_files_and_download_them() {
    for db in all_backends().await {
        let t = start(db).await;
        let (number, version) = signed_order(&t).await;
        let water = t.login("unit_water1").await;
        let text = "路灯已更换灯泡并恢复照明，附修复后照片和回执。";
        let (status, order) = reply_with(
            &t,
            &water,
            &number,
            json!({"text": text, "version": version}),
            &[("C:\\照片\\路灯修复后.png", PNG), ("回执 2026.pdf", PDF)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{} {order}", t.backend());
        assert_eq!(order["state"], "replied");
        assert_eq!(order["assignments"][0]["reply"], text);
        let files = order["attachments"].as_array().unwrap();
        assert_eq!(files.len(), 2, "{order}");
        let reply_event = order["history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["action"] == "reply")
            .unwrap();
        assert_eq!(reply_event["details"]["attachments"], 2);
        assert_eq!(files[0]["file_name"], "路灯修复后.png", "path stripped");
        assert_eq!(files[0]["content_type"], "image/png");
        assert_eq!(files[0]["size"], PNG.len());
        assert_eq!(files[1]["file_name"], "回执 2026.pdf");
        assert_eq!(files[1]["content_type"], "application/pdf");
        for file in files {
            assert_eq!(file["history_id"], reply_event["id"]);
            assert_eq!(file["action"], "reply");
            assert_eq!(file["unit_id"], t.fixture.water.id);
            assert_eq!(file["uploaded_by"], t.fixture.user("unit_water1"));
            assert_eq!(file["sha256"].as_str().unwrap().len(), 64);
            assert!(file["created_at"].is_string());
        }

        // Both download byte for byte, as attachments with the real name.
        let supervisor = t.login("supervisor1").await;
        for (file, bytes) in files.iter().zip([PNG, PDF]) {
            let path = format!("/api/v1/orders/{number}/attachments/{}", file["id"]);
            for token in [&water, &supervisor] {
                let (status, headers, body) = download(&t, token, &path).await;
                assert_eq!(status, StatusCode::OK, "{path}");
                assert_eq!(&body[..], bytes);
                assert_eq!(
                    headers["content-type"],
                    file["content_type"].as_str().unwrap()
                );
                assert_eq!(headers["x-content-type-options"], "nosniff");
                let disposition = headers["content-disposition"].to_str().unwrap();
                assert!(disposition.starts_with("attachment;"), "{disposition}");
                assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
            }
        }
        let (_, headers, _) = download(
            &t,
            &water,
            &format!("/api/v1/orders/{number}/attachments/{}", files[0]["id"]),
        )
        .await;
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .ends_with("filename*=UTF-8''%E8%B7%AF%E7%81%AF%E4%BF%AE%E5%A4%8D%E5%90%8E.png")
        );

        // The detail lists them too.
        let detail = t.order(&supervisor, &number).await;
        assert_eq!(detail["attachments"].as_array().unwrap().len(), 2);

        // Outside the order's scope: 404, as for the order itself.
        let path = format!("/api/v1/orders/{number}/attachments/{}", files[0]["id"]);
        for who in ["unit_gas1", "street1"] {
            let token = t.login(who).await;
            let (status, _, body) = download(&t, &token, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"]["code"], "not_found");
        }
        let (status, _, _) = download(&t, "", &path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // Unknown ids, and an id of this order asked through another order: 404.
        let (other, _) = signed_order(&t).await;
        for path in [
            format!("/api/v1/orders/{number}/attachments/999999"),
            format!("/api/v1/orders/{other}/attachments/{}", files[0]["id"]),
        ] {
            let (status, _, _) = download(&t, &water, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let (status, _, body) = download(
            &t,
            &water,
            &format!("/api/v1/orders/{number}/attachments/x"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["field"], "id");
    }
}

#[tokio::test]
async fn refused_files_and_replies_store_nothing() {
    for db in all_backends().await {
        let t = start(db).await;
        let (number, version) = signed_order(&t).await;
        let water = t.login("unit_water1").await;
        let payload = json!({"text": "已处理", "version": version});
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        let cases: Vec<(Files<'_>, StatusCode, &str)> = vec![
            (
                vec![("a.png", PNG); MAX_FILES + 1],
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_many_files",
            ),
            (
                vec![("a.png", PNG), ("big.txt", &big)],
                StatusCode::PAYLOAD_TOO_LARGE,
                "file_too_large",
            ),
            (
                vec![("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00")],
                StatusCode::UNPROCESSABLE_ENTITY,
                "file_type_not_allowed",
            ),
            (
                vec![("a.png", PNG), ("photo.jpg", PDF)],
                StatusCode::UNPROCESSABLE_ENTITY,
                "file_type_not_allowed",
            ),
            (
                vec![("empty.pdf", b"")],
                StatusCode::UNPROCESSABLE_ENTITY,
                "empty_file",
            ),
        ];
        for (files, status, code) in cases {
            let (got, body) = reply_with(&t, &water, &number, payload.clone(), &files).await;
            assert_eq!(
                (got, body["error"]["code"].as_str()),
                (status, Some(code)),
                "{body}"
            );
            assert_eq!(body["error"]["field"], "files", "{body}");
        }
        // A stale version, and a reply the order's state does not allow, store nothing either.
        let (status, body) = reply_with(
            &t,
            &water,
            &number,
            json!({"text": "已处理", "version": version - 1}),
            &[("a.png", PNG)],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "version_conflict");
        let gas = t.login("unit_gas1").await;
        let (status, _) = reply_with(&t, &gas, &number, payload.clone(), &[("a.png", PNG)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "outside the scope");
        // Bad requests.
        let (status, body) =
            reply_with(&t, &water, &number, json!({"version": version}), &[]).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_field"))
        );
        let (content_type, body) = multipart(&[
            Part::Text("payload", payload.to_string()),
            Part::File("photo", "a.png", PNG),
        ]);
        let path = format!("/api/v1/orders/{number}/reply-with-attachments");
        let (status, answer) = t.post_raw(&water, &path, Some(&content_type), body).await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("photo"))
        );
        let (status, answer) = t
            .post_raw(&water, &path, Some("application/json"), payload.to_string())
            .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{answer}");
        let (content_type, body) = multipart(&[Part::Text("payload", "{nope".to_owned())]);
        let (status, answer) = t.post_raw(&water, &path, Some(&content_type), body).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_json"))
        );

        assert_eq!(stored_count(&t, &number).await, 0, "{}", t.backend());
        let order = t.order(&water, &number).await;
        assert_eq!(order["state"], "in_progress");
        assert_eq!(order["version"], version);

        // After all that, a good reply goes through; a second reply is refused with its files.
        let (status, body) =
            reply_with(&t, &water, &number, payload.clone(), &[("a.png", PNG)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = reply_with(
            &t,
            &water,
            &number,
            json!({"text": "再次反馈"}),
            &[("b.png", PNG)],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "invalid_state");
        assert_eq!(stored_count(&t, &number).await, 1);

        // Only replies take files.
        let dispatcher = t.login("dispatcher1").await;
        let (other, _) = signed_order(&t).await;
        let outcome = t
            .app
            .act_on_order_with_files(
                &t.app.authenticate(&dispatcher).await.unwrap(),
                &other,
                minhu_domain::Action::Urge(minhu_domain::action::Note {
                    note: "请尽快处理".to_owned(),
                }),
                None,
                vec![minhu::service::attachments::Upload {
                    file_name: "a.png".to_owned(),
                    content: Bytes::from_static(PNG),
                    too_large: false,
                }],
            )
            .await;
        assert_eq!(
            outcome.err().map(|e| e.code()),
            Some("attachments_not_allowed")
        );
        assert_eq!(stored_count(&t, &other).await, 0);
    }
}

/// Storage writes a transition and its files in one transaction: a stale version or a file that
/// cannot be stored leaves neither.
#[tokio::test]
async fn transition_and_files_are_all_or_nothing_in_storage() {
    for db in all_backends().await {
        let t = start(db).await;
        let (number, _) = signed_order(&t).await;
        let store = &t.app.store;
        let agg = store.find_order_by_number(&number).await.unwrap().unwrap();
        let history_before = store.order_history(agg.order.id).await.unwrap().len();
        let water = &t.fixture.water;
        let event = HistoryEvent {
            at: chrono::Utc::now(),
            actor_id: t.fixture.user("unit_water1"),
            actor_unit_id: water.id,
            action: "note".to_owned(),
            from_state: Some(agg.order.state),
            to_state: agg.order.state,
            unit_id: Some(water.id),
            text: Some("测试".to_owned()),
            details: json!({}),
        };
        let transition = Transition {
            order: agg.order.clone(),
            assignments: agg.assignments.clone(),
            events: vec![event],
        };
        let file = |uploaded_by| NewAttachment {
            uploaded_by,
            unit_id: water.id,
            file_name: "a.png".to_owned(),
            content_type: "image/png".to_owned(),
            sha256: "0".repeat(64),
            content: Bytes::from_static(PNG),
            created_at: chrono::Utc::now(),
        };
        let good = file(t.fixture.user("unit_water1"));

        let stale = store
            .save_transition_with_attachments(
                agg.order.version - 1,
                &transition,
                std::slice::from_ref(&good),
            )
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
        // The second file refers to no user: the whole transaction is rolled back.
        let broken = store
            .save_transition_with_attachments(
                agg.order.version,
                &transition,
                &[good.clone(), file(987_654_321)],
            )
            .await;
        assert!(broken.is_err(), "{}", t.backend());
        let after = store.find_order_by_number(&number).await.unwrap().unwrap();
        assert_eq!(after.order.version, agg.order.version, "{}", t.backend());
        assert_eq!(
            store.order_history(agg.order.id).await.unwrap().len(),
            history_before
        );
        assert!(
            store
                .order_attachments(agg.order.id)
                .await
                .unwrap()
                .is_empty()
        );

        // And when it works, every file is there with its bytes.
        let saved = store
            .save_transition_with_attachments(agg.order.version, &transition, &[good.clone(), good])
            .await
            .unwrap();
        assert_eq!(saved.order.version, agg.order.version + 1);
        let stored = store.order_attachments(agg.order.id).await.unwrap();
        assert_eq!(stored.len(), 2);
        let history = store.order_history(agg.order.id).await.unwrap();
        assert_eq!(stored[0].history_id, history.last().unwrap().id);
        assert_eq!(stored[0].action, "note");
        let file = store
            .attachment_file(agg.order.id, stored[1].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(file.content, PNG);
        assert_eq!(file.attachment, stored[1]);
        assert!(
            store
                .attachment_file(agg.order.id + 1, stored[1].id)
                .await
                .unwrap()
                .is_none()
        );
    }
}
