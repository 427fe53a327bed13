//! The web workbench (工作台): server-rendered Chinese pages for every role, served by the same
//! binary next to `/api/v1`. Templates are askama (compiled into the binary, HTML-escaped);
//! assets are embedded (`/static/`); sessions are a cookie over the API's token table; every form
//! carries a CSRF token. Handlers call [`crate::service`] only.

pub mod action_forms;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod desk;
pub mod detail;
pub mod error;
pub mod export;
pub mod format;
pub mod intake;
pub mod intake_knowledge;
pub mod intake_similar;
pub mod knowledge;
pub mod layout;
pub mod list;
pub mod queues;
pub mod review_visit;
pub mod security;
pub mod session;
pub mod static_files;

use axum::Router;
use axum::routing::get;

use crate::service::App;

/// The routes of the workbench.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(desk::desk))
        .route("/login", get(auth::login_form).post(auth::login_submit))
        .route("/logout", axum::routing::post(auth::logout))
        .route(
            "/password",
            get(auth::password_form).post(auth::password_submit),
        )
        .route("/orders", get(list::list))
        .route("/orders/new", get(intake::form).post(intake::submit))
        .route("/orders/new/caller", get(intake::caller))
        .route("/orders/new/areas", get(intake::areas))
        .route("/orders/new/similar", get(intake_similar::similar))
        .route("/orders/new/knowledge", get(intake_knowledge::panel))
        .route(
            "/orders/new/knowledge/answer",
            get(intake_knowledge::answer),
        )
        .route("/orders/{number}", get(detail::show))
        .route(
            "/orders/{number}/attachments/{id}",
            get(attachments::download),
        )
        .route("/static/{*path}", get(static_files::serve))
        .merge(admin::routes())
        .merge(export::routes())
        .merge(queues::routes())
        .merge(review_visit::routes())
        .merge(knowledge::routes())
        // Last, so that it covers every route above: CSP, nosniff, Referrer-Policy.
        .layer(axum::middleware::map_response(security::headers))
}

/// The routes of the workbench whose forms may carry files (附件): the detail's action forms.
/// `http::router` serves them with the upload body limit.
pub fn upload_routes() -> Router<App> {
    Router::new()
        .route(
            "/orders/{number}/act/{action}",
            axum::routing::post(detail::act),
        )
        .layer(axum::middleware::map_response(security::headers))
}
