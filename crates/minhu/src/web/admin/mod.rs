//! 系统管理: the admin pages (calendar, units, users, categories with their time-limit policies,
//! the dispatch catalogue, announcements). Admin role only: everyone else gets the 403 page.
//! Every change goes through [`crate::service`] (validated and audited there).

pub mod announcements;
pub mod calendar;
pub mod categories;
pub mod units;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::error::WebError;
use super::layout::{Layout, MenuItem};
use super::session::WebSession;
use crate::service::admin::require_admin;
use crate::service::{App, AppError};

/// The admin routes.
pub fn routes() -> Router<App> {
    Router::new()
        .merge(calendar::routes())
        .merge(units::routes())
        .merge(categories::routes())
        .merge(announcements::routes())
}

/// The admin section's tabs.
const TABS: &[(&str, &str)] = &[
    ("单位管理", "/admin/units"),
    ("用户管理", "/admin/users"),
    ("问题分类", "/admin/categories"),
    ("派单目录", "/admin/catalogue"),
    ("节假日历", "/admin/calendar"),
    ("系统公告", "/admin/announcements"),
];

/// The frame of an admin page, after checking the admin role.
pub fn admin_layout(
    app: &App,
    session: &WebSession,
    title: &str,
    tab: &str,
) -> Result<(Layout, Vec<MenuItem>), WebError> {
    require_admin(&session.actor)?;
    let layout = Layout::new(app, session, title, "/admin/units")
        .crumb("系统管理", Some("/admin/units"))
        .crumb(title, None);
    let tabs = TABS
        .iter()
        .map(|(label, href)| MenuItem {
            label,
            href,
            active: *href == tab,
        })
        .collect();
    Ok((layout, tabs))
}

/// Sorts out the result of an admin POST: `Ok(redirect)` on success (to the returned path), or
/// `Err(message)` for an input the page should show again with the message; a refusal, a missing
/// record or an internal failure becomes the error page.
pub fn outcome(result: Result<String, AppError>) -> Result<Result<Response, String>, WebError> {
    match result {
        Ok(to) => Ok(Ok(Redirect::to(&to).into_response())),
        Err(err) if matches!(err.code(), "forbidden" | "internal" | "not_found") => Err(err.into()),
        Err(err) => Ok(Err(err.to_string())),
    }
}

/// The answer to an admin POST: the redirect to the path `result` returned, or, for an input the
/// page should show again, the page `again` renders with the message (status 422); a refusal, a
/// missing record or an internal failure becomes the error page.
pub async fn respond<F, Fut>(
    result: Result<String, AppError>,
    again: F,
) -> Result<Response, WebError>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<Response, WebError>>,
{
    match outcome(result)? {
        Ok(done) => Ok(done),
        Err(message) => Ok(unprocessable(again(message).await?)),
    }
}

/// A page shown again after a refused input: status 422.
#[must_use]
pub fn unprocessable(mut response: Response) -> Response {
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

/// The flash text of a `?done=` code of the admin pages.
#[must_use]
pub fn done_text(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "saved" => "已保存",
        "created" => "已新增",
        "deleted" => "已删除",
        "password" => "密码已重置",
        _ => return None,
    })
}

/// A form field parsed as an id.
pub fn parse_id(field: &str, value: &str) -> Result<i64, AppError> {
    value
        .trim()
        .parse()
        .map_err(|_| AppError::invalid(field, "请选择"))
}
