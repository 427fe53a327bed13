//! `/admin/announcements` (系统公告): list every announcement, publish, edit and delete.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::units::flash;
use super::{admin_layout, respond};
use crate::http::extract::ClientAddress;
use crate::service::App;
use crate::service::announcements::{MAX_BODY, MAX_TITLE};
use crate::web::error::{WebError, render};
use crate::web::format::datetime_cn;
use crate::web::layout::{Layout, MenuItem};
use crate::web::session::{CsrfForm, FormData, WebSession};

/// Query with a flash code.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// An announcement as listed.
#[derive(Debug, Clone)]
pub struct AnnouncementRow {
    pub id: i64,
    pub title: String,
    pub published_at: String,
    pub author: String,
}

#[derive(Template)]
#[template(path = "admin_announcements.html")]
struct AnnouncementsPage {
    layout: Layout,
    tabs: Vec<MenuItem>,
    announcements: Vec<AnnouncementRow>,
    input: FormData,
    max_title: usize,
    max_body: usize,
}

#[derive(Template)]
#[template(path = "admin_announcement_edit.html")]
struct AnnouncementEditPage {
    layout: Layout,
    tabs: Vec<MenuItem>,
    id: i64,
    input: FormData,
    max_title: usize,
    max_body: usize,
}

pub fn routes() -> Router<App> {
    Router::new()
        .route(
            "/admin/announcements",
            get(announcements).post(create_announcement),
        )
        .route(
            "/admin/announcements/{id}",
            get(edit_announcement).post(update_announcement),
        )
        .route(
            "/admin/announcements/{id}/delete",
            post(delete_announcement),
        )
}

async fn list_page(
    app: &App,
    session: &WebSession,
    error: Option<String>,
    done: Option<&str>,
    input: FormData,
) -> Result<Response, WebError> {
    let (layout, tabs) = admin_layout(app, session, "系统公告", "/admin/announcements")?;
    let names: HashMap<i64, String> = app
        .list_users(&session.actor)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let tz = layout.tz;
    let announcements = app
        .list_all_announcements(&session.actor)
        .await?
        .into_iter()
        .map(|a| AnnouncementRow {
            id: a.id,
            title: a.title,
            published_at: datetime_cn(a.published_at, tz),
            author: match a.created_by {
                Some(id) => names.get(&id).cloned().unwrap_or_default(),
                None => "系统".to_owned(),
            },
        })
        .collect();
    Ok(render(&AnnouncementsPage {
        layout: flash(layout, error, done),
        tabs,
        announcements,
        input,
        max_title: MAX_TITLE,
        max_body: MAX_BODY,
    }))
}

/// `GET /admin/announcements`.
pub async fn announcements(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    list_page(&app, &session, None, q.done.as_deref(), FormData::default()).await
}

/// `POST /admin/announcements`: publishes an announcement.
pub async fn create_announcement(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = app
        .create_announcement(
            &session.actor,
            &form.text("title"),
            &form.text("body"),
            Some(&address),
        )
        .await
        .map(|_| "/admin/announcements?done=created".to_owned());
    respond(result, |message| {
        list_page(&app, &session, Some(message), None, form)
    })
    .await
}

async fn edit_page(
    app: &App,
    session: &WebSession,
    id: i64,
    error: Option<String>,
    done: Option<&str>,
    input: Option<FormData>,
) -> Result<Response, WebError> {
    let (layout, tabs) = admin_layout(app, session, "编辑公告", "/admin/announcements")?;
    let input = match input {
        Some(input) => input,
        None => {
            let a = app.find_announcement(&session.actor, id).await?;
            FormData(vec![
                ("title".to_owned(), a.title),
                ("body".to_owned(), a.body),
            ])
        }
    };
    Ok(render(&AnnouncementEditPage {
        layout: flash(layout, error, done),
        tabs,
        id,
        input,
        max_title: MAX_TITLE,
        max_body: MAX_BODY,
    }))
}

/// `GET /admin/announcements/{id}`.
pub async fn edit_announcement(
    State(app): State<App>,
    session: WebSession,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    edit_page(&app, &session, id, None, q.done.as_deref(), None).await
}

/// `POST /admin/announcements/{id}`: changes the title and body.
pub async fn update_announcement(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = app
        .update_announcement(
            &session.actor,
            id,
            &form.text("title"),
            &form.text("body"),
            Some(&address),
        )
        .await
        .map(|_| format!("/admin/announcements/{id}?done=saved"));
    respond(result, |message| {
        edit_page(&app, &session, id, Some(message), None, Some(form))
    })
    .await
}

/// `POST /admin/announcements/{id}/delete`.
pub async fn delete_announcement(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    CsrfForm { session, .. }: CsrfForm,
) -> Result<Response, WebError> {
    let result = app
        .delete_announcement(&session.actor, id, Some(&address))
        .await
        .map(|()| "/admin/announcements?done=deleted".to_owned());
    respond(result, |message| {
        list_page(&app, &session, Some(message), None, FormData::default())
    })
    .await
}
