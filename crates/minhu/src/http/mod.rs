//! The JSON API under `/api/v1`, with its OpenAPI 3 document generated from the handlers, and
//! the mount point of the web workbench ([`crate::web`]).
//!
//! Every failure answers one envelope, `{"error": {"code", "message", "field"}}` (see [`error`]):
//! handler errors, bad input (see [`extract`]), unknown routes, wrong methods, oversized bodies and
//! panics alike. Handlers are thin: they read the request, call one use case of
//! [`crate::service`] and shape the answer.

pub mod actions;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod calendar;
pub mod error;
pub mod extract;
pub mod health;
pub mod knowledge;
pub mod orders;
mod query;
pub mod queues;
pub mod similar;
pub mod views;

use std::any::Any;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use bytes::Bytes;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use self::error::{ApiError, ErrorEnvelope};
use crate::service::App;

/// The document's frame: title, tags, the bearer scheme; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "minhu 民呼 API",
        version = "1",
        description = "12345 政务服务便民热线工单平台的 JSON API。登录取得令牌后以 \
            `Authorization: Bearer <token>` 调用；所有错误均为 \
            `{\"error\": {\"code\", \"message\", \"field\"}}`。"
    ),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    components(schemas(ErrorEnvelope)),
    tags(
        (name = "auth", description = "登录与账号"),
        (name = "orders", description = "工单登记、查询"),
        (name = "actions", description = "工单流转操作"),
        (name = "queues", description = "承办单位待办队列"),
        (name = "calendar", description = "工作日历与时限计算"),
        (name = "knowledge", description = "知识库：检索、编辑、审核"),
        (name = "admin", description = "系统管理"),
        (name = "health", description = "健康检查"),
    )
)]
struct ApiDoc;

/// Adds the `bearer` security scheme.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("POST /api/v1/auth/login 取得的令牌"))
                    .build(),
            ),
        );
    }
}

/// Every documented route.
fn api() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes())
        .merge(similar::routes())
        .merge(orders::routes())
        .merge(actions::routes())
        .merge(queues::routes())
        .merge(calendar::routes())
        .merge(knowledge::routes())
        .merge(admin::routes())
        .merge(attachments::routes())
        .merge(health::routes())
}

/// The documented routes that take files (附件): served with a body limit of
/// [`crate::service::attachments::MAX_UPLOAD_BODY_BYTES`] instead of `max_body_bytes`.
fn upload_api() -> OpenApiRouter<App> {
    attachments::upload_routes()
}

/// The OpenAPI 3 document of the API, as served at `/api/v1/openapi.json`.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().merge(upload_api()).into_openapi()
}

/// The whole HTTP application over `app`: the API, the OpenAPI document, health checks, and the
/// layers (tracing, panic catching, body limit, envelope for bare errors).
pub fn router(app: App) -> Router {
    let max_body = app.config.max_body_bytes;
    let (routes, mut doc) = api().split_for_parts();
    let (uploads, upload_doc) = upload_api().split_for_parts();
    doc.merge(upload_doc);
    let doc_json = match doc.to_pretty_json() {
        Ok(json) => Bytes::from(json),
        Err(err) => {
            tracing::error!(error = %err, "cannot serialise the OpenAPI document");
            Bytes::from_static(b"{}")
        }
    };
    let routes = routes
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let body = doc_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .route(
            "/api/v1/orders/{number}/{action}",
            any(actions::unknown_action),
        )
        .merge(crate::web::routes())
        .fallback(not_found_for_path)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app.clone());
    // The routes that take files get their own, larger body limit; the layers of a router wrap
    // only the routes it has when they are added, so the two limits do not stack.
    let uploads = uploads.merge(crate::web::upload_routes()).with_state(app);
    let uploads = with_body_limit(uploads, crate::service::attachments::MAX_UPLOAD_BODY_BYTES);
    with_outer_layers(with_body_limit(routes, max_body).merge(uploads))
}

/// The layers around every route: body limits (413), then [`with_outer_layers`].
#[cfg(test)]
fn with_layers(router: Router, max_body: usize) -> Router {
    with_outer_layers(with_body_limit(router, max_body))
}

/// Refuses request bodies over `max_body` bytes (413) on the routes `router` has.
fn with_body_limit(router: Router, max_body: usize) -> Router {
    router
        .layer(DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body))
}

/// The layers around every route, innermost first: panic catching (500), the envelope for error
/// responses made outside handlers, request tracing.
fn with_outer_layers(router: Router) -> Router {
    router
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::map_response(envelope_bare_errors))
        .layer(TraceLayer::new_for_http())
}

#[cfg(test)]
async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// An unknown path: the JSON envelope under `/api/`, the workbench's 404 page elsewhere.
async fn not_found_for_path(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found().into_response()
    } else {
        crate::web::error::WebError::not_found("您访问的页面不存在。").into_response()
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::for_status(StatusCode::METHOD_NOT_ALLOWED)
}

/// A panic in a handler: logged, answered 500 `internal`.
fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(&format_args!("handler panicked: {detail}")).into_response()
}

/// Error responses made outside the handlers (by a layer or by axum itself) get the envelope too.
/// The workbench's own HTML error pages (and its htmx 401s) pass through unchanged.
async fn envelope_bare_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let keep = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"))
        || response.headers().contains_key("hx-redirect");
    if keep {
        return response;
    }
    let allow: Option<HeaderValue> = response.headers().get(header::ALLOW).cloned();
    let mut replaced = ApiError::for_status(status).into_response();
    if let Some(allow) = allow {
        replaced.headers_mut().insert(header::ALLOW, allow);
    }
    replaced
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::post;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;
    use crate::http::extract::{ApiJson, ClientAddress};

    async fn boom() -> &'static str {
        panic!("boom")
    }

    fn test_router() -> Router {
        let routes = Router::new()
            .route("/boom", get(boom))
            .route(
                "/echo",
                post(
                    |ClientAddress(a): ClientAddress, ApiJson(v): ApiJson<Value>| async move {
                        format!("{a} {v}")
                    },
                ),
            )
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed);
        with_layers(routes, 64)
    }

    async fn call(request: Request<Body>) -> (StatusCode, String, Value) {
        let response = test_router().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, text, json)
    }

    #[tokio::test]
    async fn layers_answer_the_envelope() {
        let (status, _, body) = call(Request::get("/boom").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "internal");
        assert!(
            !body.to_string().contains("boom"),
            "the cause is never sent"
        );

        let big = format!("{{\"x\": \"{}\"}}", "a".repeat(100));
        let (status, _, body) = call(
            Request::post("/echo")
                .header("content-type", "application/json")
                .header("content-length", big.len())
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["error"]["code"], "payload_too_large");
        let (status, _, body) = call(Request::get("/echo").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"]["code"], "method_not_allowed");
        let (status, _, body) = call(Request::get("/nope").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found");

        // Without connection info (in-process calls) the address is `unknown`.
        let (status, text, _) = call(
            Request::post("/echo")
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(text, "unknown {}");
    }
}
