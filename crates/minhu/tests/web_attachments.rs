//! Reply attachments (附件) in the workbench, on both backends: the reply form posts multipart
//! with its CSRF token (plain and through htmx), the detail lists the files under their history
//! event with a download link, downloads are scope-checked, and a refused file keeps the typed
//! reply with a Chinese message next to the file input.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

use reqwest::StatusCode;
use serde_json::json;
use support::app::{TestApp, start};
use support::db::all_backends;
use web_support::{Browser, Page};

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

const BOUNDARY: &str = "----minhu-web-boundary-x8Qd2";

/// A browser-like multipart body: text fields, then the file input's parts.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; \
                 filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

async fn post_multipart(
    b: &mut Browser,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
    htmx: bool,
) -> Page {
    let (content_type, body) = multipart(fields, files);
    let mut request = b
        .client
        .post(format!("{}{path}", b.base))
        .header("content-type", content_type)
        .body(body);
    if htmx {
        request = request.header("hx-request", "true");
    }
    b.send(request).await
}

/// An order dispatched to the water company and signed by it.
async fn signed_order(t: &TestApp) -> String {
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
    t.act_ok(&water, &number, "sign", json!({})).await;
    number
}

/// The download links of the detail page, in order.
fn links(body: &str, number: &str) -> Vec<String> {
    let marker = format!("href=\"/orders/{number}/attachments/");
    let mut out: Vec<String> = Vec::new();
    for (i, _) in body.match_indices(&marker) {
        let start = i + "href=\"".len();
        let len = body[start..].find('"').unwrap();
        let link = body[start..start + len].to_owned();
        if !out.contains(&link) {
            out.push(link);
        }
    }
    out
}

#[tokio::test]
async fn reply_form_with_files() {
    for db in all_backends().await {
        let t = start(db).await;
        let number = signed_order(&t).await;
        let path = format!("/orders/{number}");
        let act = format!("/orders/{number}/act/reply");
        let mut b = Browser::signed_in(&t, "unit_water1").await;
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        let form_start = page.body.find(&format!("action=\"{act}\"")).unwrap();
        let form =
            &page.body[form_start..form_start + page.body[form_start..].find("</form>").unwrap()];
        assert!(form.contains("enctype=\"multipart/form-data\""), "{form}");
        assert!(
            form.contains("type=\"file\" multiple accept=\".jpg,.jpeg,.png"),
            "{form}"
        );
        assert!(form.contains("附件"));
        let csrf = page.hidden("_csrf");
        let version = page.hidden("version");
        let text = "灯杆已扶正，照明恢复。";

        // A refused file: the page again, the message next to the file input, the text kept.
        let fields = [
            ("_csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("text", text),
        ];
        let refused = post_multipart(
            &mut b,
            &act,
            &fields,
            &[("tool.exe", b"MZ\x90\0\x03")],
            false,
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("类型不允许"), "{}", refused.body);
        assert!(refused.body.contains(&format!(">{text}</textarea>")));
        let at = refused
            .body
            .find("class=\"field-error\">附件“tool.exe”")
            .unwrap();
        let input = refused.body[..at].rfind("type=\"file\"").unwrap();
        assert!(
            !refused.body[input..at].contains("<textarea"),
            "the message sits next to the file input"
        );
        // Without the CSRF token: refused, nothing done.
        let forged = post_multipart(&mut b, &act, &fields[1..], &[("a.png", PNG)], false).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(links(&b.get(&path).await.body, &number).is_empty());

        // Through htmx (the CSRF token also as the header): the reply with one file goes
        // through; without a file input choice the browser sends an empty part, skipped.
        let (content_type, body) = multipart(&fields, &[("路灯 修复后.png", PNG), ("", b"")]);
        let done = b
            .send(
                b.client
                    .post(format!("{}{act}", b.base))
                    .header("content-type", content_type)
                    .header("hx-request", "true")
                    .header("x-csrf-token", csrf.as_str())
                    .body(body),
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location(), format!("/orders/{number}?done=reply"));

        // The detail: under the reply event, the name, the size and the download link.
        let page = b.get(&path).await;
        let found = links(&page.body, &number);
        assert_eq!(found.len(), 1, "{}", page.body);
        let event = page
            .body
            .rfind("<span class=\"what\">办结反馈</span>")
            .unwrap();
        let link_at = page.body.find(&found[0]).unwrap();
        assert!(link_at > event, "listed under the reply event");
        assert!(page.body.contains("路灯 修复后.png"));
        assert!(page.body.contains(&format!("{} B", PNG.len())));
        assert!(page.body.contains(">下载</a>"));

        // The download, behind the session cookie.
        let response = b
            .client
            .get(format!("{}{}", b.base, found[0]))
            .header("cookie", b.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "image/png");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("filename*=UTF-8''%E8%B7%AF%E7%81%AF%20%E4%BF%AE%E5%A4%8D%E5%90%8E.png")
        );
        assert_eq!(&response.bytes().await.unwrap()[..], PNG);

        // Scope: another unit gets the 404 page; signed out, the sign-in.
        let mut gas = Browser::signed_in(&t, "unit_gas1").await;
        let page = gas.get(&found[0]).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        let mut centre = Browser::signed_in(&t, "supervisor1").await;
        let page = centre.get(&found[0]).await;
        assert_eq!(page.status, StatusCode::OK);
        let mut anonymous = Browser::new(&t);
        let page = anonymous.get(&found[0]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        // A reply posted after the session expired: the sign-in page keeps the text (the files
        // cannot be carried through a sign-in and are not kept).
        let page = post_multipart(
            &mut anonymous,
            &act,
            &[("version", "1"), ("text", "补充说明")],
            &[("a.png", PNG)],
            false,
        )
        .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("登录已过期"), "{}", page.body);
        let page = b.get(&format!("/orders/{number}/attachments/x")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
    }
}

/// The other action forms still post URL-encoded on the same route.
#[tokio::test]
async fn url_encoded_forms_still_work() {
    for db in all_backends().await {
        let t = start(db).await;
        let number = signed_order(&t).await;
        let mut b = Browser::signed_in(&t, "unit_water1").await;
        let page = b.get(&format!("/orders/{number}")).await;
        let csrf = page.hidden("_csrf");
        let version = page.hidden("version");
        let done = b
            .post(
                &format!("/orders/{number}/act/reply"),
                &[
                    ("_csrf", csrf.as_str()),
                    ("version", version.as_str()),
                    ("text", "已处理"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let page = b.get(&format!("/orders/{number}")).await;
        assert!(links(&page.body, &number).is_empty());
        // A URL-encoded body is still held to the ordinary limit.
        let big = "x".repeat(2 * 1024 * 1024);
        let page = b
            .post(
                &format!("/orders/{number}/act/reply"),
                &[("_csrf", csrf.as_str()), ("text", big.as_str())],
            )
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
    }
}
