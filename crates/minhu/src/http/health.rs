//! Liveness (`/healthz`, no database) and readiness (`/readyz`, pings the store).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::service::App;

/// The documented routes of this module.
pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The process is up (the database is not asked).
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "ok", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReadyResponse {
    /// `ready`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, description = "成功", body = ReadyResponse),
        (status = 503, description = "数据库不可用 (unavailable)", body = ErrorEnvelope)))]
async fn readyz(State(app): State<App>) -> ApiResult<Json<ReadyResponse>> {
    match app.store.ping().await {
        Ok(()) => Ok(Json(ReadyResponse {
            status: "ready".to_owned(),
            backend: app.store.backend().to_owned(),
        })),
        Err(err) => {
            tracing::error!(error = %err, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "数据库暂不可用",
            ))
        }
    }
}
