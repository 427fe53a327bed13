//! `/admin/units` (the unit tree, create, enable/disable) and `/admin/users` (list, create, edit
//! roles/unit/active, reset password).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use minhu_domain::{Role, UnitInfo, UnitKind};
use serde::Deserialize;

use super::{admin_layout, done_text, parse_id, respond};
use crate::http::extract::ClientAddress;
use crate::service::admin::CreateUser;
use crate::service::{App, AppError};
use crate::storage::{NewUnit, UnitPatch, User, UserPatch};
use crate::web::error::{WebError, render};
use crate::web::layout::{Layout, MenuItem};
use crate::web::session::{CsrfForm, FormData, WebSession};

/// A unit as listed, with its depth in the tree.
#[derive(Debug, Clone)]
pub struct UnitRow {
    pub unit: UnitInfo,
    pub indent: usize,
    pub kind: &'static str,
}

/// A user as listed.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub user: User,
    pub unit: String,
    pub roles: String,
}

#[derive(Template)]
#[template(path = "admin_units.html")]
struct UnitsPage {
    layout: Layout,
    tabs: Vec<MenuItem>,
    units: Vec<UnitRow>,
    kinds: Vec<(&'static str, &'static str)>,
    input: FormData,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    layout: Layout,
    tabs: Vec<MenuItem>,
    users: Vec<UserRow>,
    units: Vec<UnitRow>,
    roles: Vec<(&'static str, &'static str)>,
    input: FormData,
}

#[derive(Template)]
#[template(path = "admin_user_edit.html")]
struct UserEditPage {
    layout: Layout,
    tabs: Vec<MenuItem>,
    user: User,
    units: Vec<UnitRow>,
    roles: Vec<(&'static str, &'static str)>,
}

impl UserEditPage {
    fn has_role(&self, code: &str) -> bool {
        self.user.roles.iter().any(|r| r.as_str() == code)
    }
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/units", get(units).post(create_unit))
        .route("/admin/units/{id}/active", post(unit_active))
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{id}", get(edit_user).post(update_user))
        .route("/admin/users/{id}/password", post(reset_password))
}

/// Query with a flash code.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// An admin page's flash: the refusal if any, else the `?done=` text.
pub fn flash(layout: Layout, error: Option<String>, done: Option<&str>) -> Layout {
    match (error, done_text(done)) {
        (Some(message), _) => layout.flash("error", message),
        (None, Some(text)) => layout.flash("ok", text),
        (None, None) => layout,
    }
}

async fn unit_rows(app: &App, session: &WebSession) -> Result<Vec<UnitRow>, WebError> {
    Ok(app
        .list_units(&session.actor)
        .await?
        .into_iter()
        .map(|unit| UnitRow {
            indent: unit.path.matches('/').count().saturating_sub(2),
            kind: unit.kind.label(),
            unit,
        })
        .collect())
}

async fn units_page(
    app: &App,
    session: &WebSession,
    error: Option<String>,
    done: Option<&str>,
    input: FormData,
) -> Result<Response, WebError> {
    let (layout, tabs) = admin_layout(app, session, "单位管理", "/admin/units")?;
    Ok(render(&UnitsPage {
        layout: flash(layout, error, done),
        tabs,
        units: unit_rows(app, session).await?,
        kinds: UnitKind::ALL
            .iter()
            .filter(|k| **k != UnitKind::CityCentre)
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        input,
    }))
}

/// `GET /admin/units`.
pub async fn units(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    units_page(&app, &session, None, q.done.as_deref(), FormData::default()).await
}

/// `POST /admin/units`: creates a unit.
pub async fn create_unit(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = async {
        let kind: UnitKind = form
            .text("kind")
            .parse()
            .map_err(|_| AppError::invalid("kind", "请选择单位类型"))?;
        let unit = NewUnit {
            code: form.text("code"),
            name: form.text("name"),
            kind,
            parent_id: Some(parse_id("parent_id", &form.text("parent_id"))?),
            is_dispatch_point: form.get("is_dispatch_point").is_some(),
        };
        app.create_unit(&session.actor, unit, Some(&address))
            .await?;
        Ok("/admin/units?done=created".to_owned())
    }
    .await;
    respond(result, |message| {
        units_page(&app, &session, Some(message), None, form)
    })
    .await
}

/// `POST /admin/units/{id}/active`: enables (`active=1`) or disables a unit.
pub async fn unit_active(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let patch = UnitPatch {
        active: Some(form.text("active") == "1"),
        ..UnitPatch::default()
    };
    let result = app
        .update_unit(&session.actor, id, patch, Some(&address))
        .await
        .map(|_| "/admin/units?done=saved".to_owned());
    respond(result, |message| {
        units_page(&app, &session, Some(message), None, FormData::default())
    })
    .await
}

fn role_options() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect()
}

fn roles_of(form: &FormData) -> Vec<Role> {
    form.all("roles")
        .into_iter()
        .filter_map(|code| code.parse().ok())
        .collect()
}

async fn users_page(
    app: &App,
    session: &WebSession,
    error: Option<String>,
    done: Option<&str>,
    input: FormData,
) -> Result<Response, WebError> {
    let (layout, tabs) = admin_layout(app, session, "用户管理", "/admin/users")?;
    let units = unit_rows(app, session).await?;
    let names: HashMap<i64, String> = units
        .iter()
        .map(|u| (u.unit.id, u.unit.name.clone()))
        .collect();
    let users = app
        .list_users(&session.actor)
        .await?
        .into_iter()
        .map(|user| UserRow {
            unit: names.get(&user.unit_id).cloned().unwrap_or_default(),
            roles: user
                .roles
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join("、"),
            user,
        })
        .collect();
    Ok(render(&UsersPage {
        layout: flash(layout, error, done),
        tabs,
        users,
        units,
        roles: role_options(),
        input,
    }))
}

/// `GET /admin/users`.
pub async fn users(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    users_page(&app, &session, None, q.done.as_deref(), FormData::default()).await
}

/// `POST /admin/users`: creates a user.
pub async fn create_user(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = async {
        let roles = roles_of(&form);
        if roles.is_empty() {
            return Err(AppError::invalid("roles", "至少需要一个角色"));
        }
        let user = CreateUser {
            username: form.text("username"),
            display_name: form.text("display_name"),
            unit_id: parse_id("unit_id", &form.text("unit_id"))?,
            roles,
            password: form.get("password").unwrap_or("").to_owned(),
        };
        app.admin_create_user(&session.actor, user, Some(&address))
            .await?;
        Ok("/admin/users?done=created".to_owned())
    }
    .await;
    let mut kept = form;
    kept.0.retain(|(k, _)| k != "password");
    respond(result, |message| {
        users_page(&app, &session, Some(message), None, kept)
    })
    .await
}

async fn edit_page(
    app: &App,
    session: &WebSession,
    id: i64,
    error: Option<String>,
    done: Option<&str>,
) -> Result<Response, WebError> {
    let (layout, tabs) = admin_layout(app, session, "编辑用户", "/admin/users")?;
    let user = app
        .list_users(&session.actor)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| WebError::not_found("用户不存在"))?;
    Ok(render(&UserEditPage {
        layout: flash(layout, error, done),
        tabs,
        user,
        units: unit_rows(app, session).await?,
        roles: role_options(),
    }))
}

/// `GET /admin/users/{id}`.
pub async fn edit_user(
    State(app): State<App>,
    session: WebSession,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    edit_page(&app, &session, id, None, q.done.as_deref()).await
}

/// `POST /admin/users/{id}`: name, unit, roles, active.
pub async fn update_user(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = async {
        let patch = UserPatch {
            display_name: Some(form.text("display_name")),
            unit_id: Some(parse_id("unit_id", &form.text("unit_id"))?),
            roles: Some(roles_of(&form)),
            active: Some(form.get("active").is_some()),
        };
        app.update_user(&session.actor, id, patch, Some(&address))
            .await?;
        Ok(format!("/admin/users/{id}?done=saved"))
    }
    .await;
    respond(result, |message| {
        edit_page(&app, &session, id, Some(message), None)
    })
    .await
}

/// `POST /admin/users/{id}/password`: sets a new password.
pub async fn reset_password(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = app
        .reset_password(
            &session.actor,
            id,
            form.get("password").unwrap_or(""),
            Some(&address),
        )
        .await
        .map(|()| format!("/admin/users/{id}?done=password"));
    respond(result, |message| {
        edit_page(&app, &session, id, Some(message), None)
    })
    .await
}
