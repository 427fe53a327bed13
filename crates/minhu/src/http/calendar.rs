//! The working-time calendar: deadline arithmetic for previews, and the holiday list admins edit.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use minhu_domain::calendar::CalendarDay;
use minhu_domain::{CalendarDayKind, DeadlineUnit, TimeLimit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, StdErrors};
use super::extract::{ApiJson, ApiPath, ApiQuery, ClientAddress, CurrentActor};
use crate::service::App;

/// The largest amount the deadline preview accepts.
pub const MAX_PREVIEW_AMOUNT: u32 = 1000;

/// The documented routes of this module.
pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(deadline))
        .routes(routes!(list_days))
        .routes(routes!(put_day, delete_day))
}

/// A deadline to compute.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadlineQuery {
    /// The start, RFC 3339 (e.g. `2026-02-13T10:00:00+08:00`; an unencoded `+` read as a space
    /// is tolerated).
    pub from: String,
    /// How many units (0–1000).
    pub amount: u32,
    /// `working_days`, `working_hours` or `natural_hours`.
    #[param(inline)]
    pub unit: DeadlineUnit,
}

/// A computed deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeadlineResponse {
    /// RFC 3339 in the centre's time zone, e.g. `2026-02-25T00:00:00+08:00`.
    pub deadline: String,
}

/// When `amount` working days / working hours / natural hours from `from` run out. Working days
/// end at 24:00 of the Nth working day after `from`'s date (that date does not count).
#[utoipa::path(get, path = "/api/v1/calendar/deadline", tag = "calendar", params(DeadlineQuery),
    responses((status = 200, description = "成功", body = DeadlineResponse), StdErrors))]
async fn deadline(
    State(app): State<App>,
    CurrentActor(_actor): CurrentActor,
    ApiQuery(query): ApiQuery<DeadlineQuery>,
) -> ApiResult<Json<DeadlineResponse>> {
    if query.amount > MAX_PREVIEW_AMOUNT {
        return Err(ApiError::invalid_query(
            "amount",
            format!("查询参数amount须在0到{MAX_PREVIEW_AMOUNT}之间"),
        ));
    }
    let from = parse_rfc3339(&query.from).ok_or_else(|| {
        ApiError::invalid_query(
            "from",
            "查询参数from须为 RFC 3339 时间，如 2026-02-13T10:00:00+08:00",
        )
    })?;
    let limit = TimeLimit {
        amount: query.amount,
        unit: query.unit,
    };
    let at = app.deadline_preview(from, limit).await?;
    let tz = app.config.tz().map_err(|e| ApiError::internal(&e))?;
    Ok(Json(DeadlineResponse {
        deadline: at
            .with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::AutoSi, false),
    }))
}

/// An RFC 3339 instant; a `+` of the offset that arrived as a space (unencoded in the query) is
/// read as `+`.
fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim_start();
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc3339(&text.replace(' ', "+")))
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// Which year of the calendar to list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// Only this year; every stored day when absent.
    pub year: Option<i32>,
}

/// The holidays and make-up working days (调休上班) stored.
#[utoipa::path(get, path = "/api/v1/calendar/days", tag = "calendar", params(DaysQuery),
    responses((status = 200, description = "成功", body = Vec<CalendarDay>), StdErrors))]
async fn list_days(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(query): ApiQuery<DaysQuery>,
) -> ApiResult<Json<Vec<CalendarDay>>> {
    Ok(Json(app.list_calendar_days(&actor, query.year).await?))
}

/// A day's kind and name.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayRequest {
    /// `holiday` (day off) or `workday` (调休上班).
    pub kind: CalendarDayKind,
    /// e.g. `春节` or `春节调休上班`.
    pub name: String,
}

/// Sets a date as a holiday or a make-up working day (admin).
#[utoipa::path(put, path = "/api/v1/calendar/days/{date}", tag = "calendar",
    params(("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    request_body = CalendarDayRequest,
    responses((status = 200, description = "成功", body = CalendarDay), StdErrors))]
async fn put_day(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiPath(date): ApiPath<NaiveDate>,
    ApiJson(request): ApiJson<CalendarDayRequest>,
) -> ApiResult<Json<CalendarDay>> {
    let day = app
        .set_calendar_day(&actor, date, request.kind, &request.name, Some(&address))
        .await?;
    Ok(Json(day))
}

/// Removes a date's exception: it follows the Monday–Friday week again (admin).
#[utoipa::path(delete, path = "/api/v1/calendar/days/{date}", tag = "calendar",
    params(("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    responses((status = 204, description = "已删除"), StdErrors))]
async fn delete_day(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ClientAddress(address): ClientAddress,
    ApiPath(date): ApiPath<NaiveDate>,
) -> ApiResult<StatusCode> {
    app.delete_calendar_day(&actor, date, Some(&address))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
