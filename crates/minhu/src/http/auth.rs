//! Sign-in and the signed-in person: login, logout, who am I, change my password.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use minhu_domain::{Actor, Role, UnitKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiResult, ErrorEnvelope, StdErrors};
use super::extract::{ApiJson, BearerToken, ClientAddress, CurrentActor};
use crate::service::App;

/// The documented routes of this module.
pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

/// Username and password.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A unit, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnitRef {
    pub id: i64,
    pub name: String,
    pub kind: UnitKind,
}

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MeResponse {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub unit: UnitRef,
}

impl From<&Actor> for MeResponse {
    fn from(actor: &Actor) -> Self {
        Self {
            id: actor.user_id,
            username: actor.username.clone(),
            display_name: actor.display_name.clone(),
            roles: actor.roles.clone(),
            unit: UnitRef {
                id: actor.unit.id,
                name: actor.unit.name.clone(),
                kind: actor.unit.kind,
            },
        }
    }
}

/// A new API token for `Authorization: Bearer …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Shown once; send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: MeResponse,
}

/// Signs in with username and password. Throttled per account and per client address.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    security(()),
    responses(
        (status = 200, description = "成功", body = LoginResponse),
        (status = 401, description = "用户名或密码错误 (invalid_credentials)", body = ErrorEnvelope),
        (status = 429, description = "失败次数过多 (too_many_attempts)", body = ErrorEnvelope),
        (status = 422, description = "请求内容不正确", body = ErrorEnvelope)))]
async fn login(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let outcome = app
        .login(&request.username, &request.password, &address)
        .await?;
    Ok(Json(LoginResponse {
        token: outcome.token,
        expires_at: outcome.expires_at,
        user: MeResponse::from(&outcome.actor),
    }))
}

/// Ends the token's life.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "已退出"), StdErrors))]
async fn logout(
    State(app): State<App>,
    CurrentActor(_actor): CurrentActor,
    BearerToken(token): BearerToken,
) -> ApiResult<StatusCode> {
    app.logout(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, description = "成功", body = MeResponse), StdErrors))]
async fn me(CurrentActor(actor): CurrentActor) -> Json<MeResponse> {
    Json(MeResponse::from(&actor))
}

/// The current and the new password.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 8 characters, not all digits.
    pub new_password: String,
}

/// Changes one's own password.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth",
    request_body = ChangePasswordRequest,
    responses((status = 204, description = "密码已修改"), StdErrors))]
async fn change_password(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    app.change_password(&actor, &request.current_password, &request.new_password)
        .await
        .map_err(|e| match e {
            crate::service::AppError::Invalid { field, message } if field == "password" => {
                crate::service::AppError::Invalid {
                    field: "new_password".to_owned(),
                    message,
                }
            }
            other => other,
        })?;
    Ok(StatusCode::NO_CONTENT)
}
