//! The embedded static assets under `/static/`: the stylesheet, our script (`app.js`: what would
//! otherwise be inline, e.g. the `data-confirm` questions) and the vendored htmx. Served with
//! a year-long cache; pages link them with `?v=<hash of the assets>` so a new build is fetched.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::WebError;

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");
const HTMX_JS: &[u8] = include_bytes!("../../static/vendor/htmx.min.js");
const HTMX_LICENSE: &str = include_str!("../../static/vendor/htmx.LICENSE.txt");

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = Sha256::new();
    hasher.update(APP_CSS.as_bytes());
    hasher.update(APP_JS.as_bytes());
    hasher.update(HTMX_JS);
    hasher
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// A short hash of the embedded assets.
#[must_use]
pub fn version() -> &'static str {
    VERSION.as_str()
}

/// `GET /static/{*path}`.
pub async fn serve(Path(path): Path<String>) -> Response {
    let (body, content_type): (&'static [u8], &'static str) = match path.as_str() {
        "app.css" => (APP_CSS.as_bytes(), "text/css; charset=utf-8"),
        "app.js" => (APP_JS.as_bytes(), "text/javascript; charset=utf-8"),
        "vendor/htmx.min.js" => (HTMX_JS, "text/javascript; charset=utf-8"),
        "vendor/htmx.LICENSE.txt" => (HTMX_LICENSE.as_bytes(), "text/plain; charset=utf-8"),
        _ => return WebError::not_found("没有这个静态文件").into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
