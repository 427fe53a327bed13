//! Admin resources: units, users, categories, time-limit policies, the dispatch catalogue and the
//! audit log. Thin: permission checks and validation live in `service::admin`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use minhu_domain::{PolicyRule, Role, UnitInfo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiResult, StdErrors};
use super::extract::{ApiJson, ApiPath, ApiQuery, ClientAddress, CurrentActor};
use crate::service::App;
use crate::service::admin::CreateUser;
use crate::storage::{
    AuditEntry, CatalogueEntry, Category, CategoryPatch, NewCatalogueEntry, NewCategory,
    NewPolicyRule, NewUnit, UnitPatch, User, UserPatch,
};

/// The documented routes of this module.
pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_units, create_unit))
        .routes(routes!(update_unit))
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(reset_password))
        .routes(routes!(list_categories, create_category))
        .routes(routes!(update_category))
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(delete_policy))
        .routes(routes!(list_catalogue, create_catalogue_entry))
        .routes(routes!(delete_catalogue_entry))
        .routes(routes!(list_audit))
}

/// An id in the path.
#[derive(Debug, Clone, Copy, Deserialize)]
struct IdPath {
    id: i64,
}

// ---- units ----

/// Every unit as a flat list (with `parent_id` and `path`); any signed-in person.
#[utoipa::path(get, path = "/api/v1/admin/units", tag = "admin",
    responses((status = 200, description = "成功", body = Vec<UnitInfo>), StdErrors))]
async fn list_units(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
) -> ApiResult<Json<Vec<UnitInfo>>> {
    Ok(Json(app.list_units(&actor).await?))
}

/// Creates a unit (admin).
#[utoipa::path(post, path = "/api/v1/admin/units", tag = "admin", request_body = NewUnit,
    responses((status = 201, description = "已创建", body = UnitInfo), StdErrors))]
async fn create_unit(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiJson(unit): ApiJson<NewUnit>,
) -> ApiResult<(StatusCode, Json<UnitInfo>)> {
    let created = app.create_unit(&actor, unit, Some(&address)).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Changes a unit's name, dispatch-point flag or active flag (admin).
#[utoipa::path(patch, path = "/api/v1/admin/units/{id}", tag = "admin",
    params(("id" = i64, Path)), request_body = UnitPatch,
    responses((status = 200, description = "成功", body = UnitInfo), StdErrors))]
async fn update_unit(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiPath(IdPath { id }): ApiPath<IdPath>,
    ApiJson(patch): ApiJson<UnitPatch>,
) -> ApiResult<Json<UnitInfo>> {
    Ok(Json(
        app.update_unit(&actor, id, patch, Some(&address)).await?,
    ))
}

// ---- users ----

/// A user as the admin API shows them (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub roles: Vec<Role>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            unit_id: user.unit_id,
            roles: user.roles,
            active: user.active,
            created_at: user.created_at,
        }
    }
}

/// A user to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// 2–32 ASCII letters, digits, `_`, `-`, `.`.
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub roles: Vec<Role>,
    /// The initial password: at least 8 characters, not all digits.
    pub password: String,
}

/// Every user (admin).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses((status = 200, description = "成功", body = Vec<UserView>), StdErrors))]
async fn list_users(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
) -> ApiResult<Json<Vec<UserView>>> {
    let users = app.list_users(&actor).await?;
    Ok(Json(users.into_iter().map(UserView::from).collect()))
}

/// Creates a user (admin). A taken username answers 409 `duplicate` with `field: username`.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin",
    request_body = CreateUserRequest,
    responses((status = 201, description = "已创建", body = UserView), StdErrors))]
async fn create_user(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let user = CreateUser {
        username: request.username,
        display_name: request.display_name,
        unit_id: request.unit_id,
        roles: request.roles,
        password: request.password,
    };
    let created = app.admin_create_user(&actor, user, Some(&address)).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Changes a user's name, unit, roles or active flag (admin).
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin",
    params(("id" = i64, Path)), request_body = UserPatch,
    responses((status = 200, description = "成功", body = UserView), StdErrors))]
async fn update_user(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiPath(IdPath { id }): ApiPath<IdPath>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<UserView>> {
    let updated = app.update_user(&actor, id, patch, Some(&address)).await?;
    Ok(Json(updated.into()))
}

/// A new password set by the admin.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// At least 8 characters, not all digits.
    pub password: String,
}

/// Sets a new password for a user (admin).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/password", tag = "admin",
    params(("id" = i64, Path)), request_body = ResetPasswordRequest,
    responses((status = 204, description = "密码已重置"), StdErrors))]
async fn reset_password(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiPath(IdPath { id }): ApiPath<IdPath>,
    ApiJson(request): ApiJson<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    app.reset_password(&actor, id, &request.password, Some(&address))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- categories ----

/// The category tree as a flat list (with `parent_id`, `level`, `path`); any signed-in person.
#[utoipa::path(get, path = "/api/v1/admin/categories", tag = "admin",
    responses((status = 200, description = "成功", body = Vec<Category>), StdErrors))]
async fn list_categories(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
) -> ApiResult<Json<Vec<Category>>> {
    Ok(Json(app.list_categories(&actor).await?))
}

/// Creates a category, at most four levels deep (admin).
#[utoipa::path(post, path = "/api/v1/admin/categories", tag = "admin",
    request_body = NewCategory, responses((status = 201, description = "已创建", body = Category), StdErrors))]
async fn create_category(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiJson(category): ApiJson<NewCategory>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    let created = app
        .create_category(&actor, category, Some(&address))
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Renames or (de)activates a category (admin).
#[utoipa::path(patch, path = "/api/v1/admin/categories/{id}", tag = "admin",
    params(("id" = i64, Path)), request_body = CategoryPatch,
    responses((status = 200, description = "成功", body = Category), StdErrors))]
async fn update_category(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiPath(IdPath { id }): ApiPath<IdPath>,
    ApiJson(patch): ApiJson<CategoryPatch>,
) -> ApiResult<Json<Category>> {
    Ok(Json(
        app.update_category(&actor, id, patch, Some(&address))
            .await?,
    ))
}

// ---- policies ----

/// Every time-limit policy rule (admin).
#[utoipa::path(get, path = "/api/v1/admin/policies", tag = "admin",
    responses((status = 200, description = "成功", body = Vec<PolicyRule>), StdErrors))]
async fn list_policies(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
) -> ApiResult<Json<Vec<PolicyRule>>> {
    Ok(Json(app.list_policies(&actor).await?))
}

/// Adds a time-limit policy rule (admin).
#[utoipa::path(post, path = "/api/v1/admin/policies", tag = "admin",
    request_body = NewPolicyRule, responses((status = 201, description = "已创建", body = PolicyRule), StdErrors))]
async fn create_policy(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiJson(rule): ApiJson<NewPolicyRule>,
) -> ApiResult<(StatusCode, Json<PolicyRule>)> {
    let created = app.create_policy(&actor, rule, Some(&address)).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Removes a time-limit policy rule (admin).
#[utoipa::path(delete, path = "/api/v1/admin/policies/{id}", tag = "admin",
    params(("id" = i64, Path)), responses((status = 204, description = "已删除"), StdErrors))]
async fn delete_policy(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiPath(IdPath { id }): ApiPath<IdPath>,
) -> ApiResult<StatusCode> {
    app.delete_policy(&actor, id, Some(&address)).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- dispatch catalogue ----

/// The dispatch catalogue (派单目录) (admin).
#[utoipa::path(get, path = "/api/v1/admin/catalogue", tag = "admin",
    responses((status = 200, description = "成功", body = Vec<CatalogueEntry>), StdErrors))]
async fn list_catalogue(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
) -> ApiResult<Json<Vec<CatalogueEntry>>> {
    Ok(Json(app.list_catalogue(&actor).await?))
}

/// Adds a catalogue entry (admin).
#[utoipa::path(post, path = "/api/v1/admin/catalogue", tag = "admin",
    request_body = NewCatalogueEntry,
    responses((status = 201, description = "已创建", body = CatalogueEntry), StdErrors))]
async fn create_catalogue_entry(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiJson(entry): ApiJson<NewCatalogueEntry>,
) -> ApiResult<(StatusCode, Json<CatalogueEntry>)> {
    let created = app
        .create_catalogue_entry(&actor, entry, Some(&address))
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Removes a catalogue entry (admin).
#[utoipa::path(delete, path = "/api/v1/admin/catalogue/{id}", tag = "admin",
    params(("id" = i64, Path)), responses((status = 204, description = "已删除"), StdErrors))]
async fn delete_catalogue_entry(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiPath(IdPath { id }): ApiPath<IdPath>,
) -> ApiResult<StatusCode> {
    app.delete_catalogue_entry(&actor, id, Some(&address))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- audit ----

/// How many audit lines to read.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The newest `limit` lines (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// The newest audit lines (admin).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, description = "成功", body = Vec<AuditEntry>), StdErrors))]
async fn list_audit(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    Ok(Json(
        app.list_audit(&actor, query.limit.unwrap_or(100)).await?,
    ))
}
