//! Sign-in, sign-out and the change-password page.
//!
//! A form posted after the session expired is not lost: the sign-in page carries its fields
//! (`replay_to`, `replay_body`) and, once signed in, shows them again in a form to confirm with the
//! new session's CSRF token.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::error::{WebError, render};
use super::layout::Layout;
use super::session::{
    FormData, LOGIN_COOKIE, SESSION_COOKIE, WebSession, constant_time_eq, cookie, csrf_for,
    is_htmx, is_local_path, set_cookie,
};
use super::static_files;
use crate::http::extract::ClientAddress;
use crate::service::App;
use crate::service::auth::random_secret;

/// The sign-in page.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    asset_version: &'static str,
    csrf: String,
    username: String,
    next: String,
    message: Option<String>,
    notice: Option<String>,
    replay_to: String,
    replay_body: String,
}

/// A form carried through a sign-in, shown again to confirm.
#[derive(Template)]
#[template(path = "replay.html")]
struct ReplayPage {
    asset_version: &'static str,
    action: String,
    csrf: String,
    fields: Vec<(String, String)>,
}

/// The change-password page.
#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    error_field: String,
    message: Option<String>,
}

/// What the sign-in page is rendered with.
#[derive(Debug, Default)]
pub struct LoginState {
    pub username: String,
    pub next: String,
    pub message: Option<String>,
    pub notice: Option<String>,
    pub replay_to: String,
    pub replay_body: String,
}

/// Renders the sign-in page with a fresh double-submit token (cookie + hidden field).
#[must_use]
pub fn login_page(app: &App, status: StatusCode, state: LoginState) -> Response {
    let csrf = random_secret();
    let page = LoginPage {
        asset_version: static_files::version(),
        csrf: csrf.clone(),
        username: state.username,
        next: state.next,
        message: state.message,
        notice: state.notice,
        replay_to: state.replay_to,
        replay_body: state.replay_body,
    };
    let mut response = (status, render(&page)).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(app, LOGIN_COOKIE, &csrf, 3600),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The answer to a POST whose session is gone: for a plain form, the sign-in page carrying the
/// form; for htmx, the same page swapped into the whole body (so the typed text survives too).
#[must_use]
pub fn expired_post(app: &App, headers: &HeaderMap, path: &str, form: &FormData) -> Response {
    let state = LoginState {
        message: Some("登录已过期，请重新登录。您填写的内容已保留，登录后可确认提交。".to_owned()),
        replay_to: path.to_owned(),
        replay_body: form.encode_without_csrf(),
        next: path.to_owned(),
        ..LoginState::default()
    };
    let htmx = is_htmx(headers);
    let status = if htmx {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    };
    let mut response = login_page(app, status, state);
    if htmx {
        let h = response.headers_mut();
        h.insert("hx-retarget", HeaderValue::from_static("body"));
        h.insert("hx-reswap", HeaderValue::from_static("innerHTML"));
        h.insert("hx-reselect", HeaderValue::from_static("#login-shell"));
    }
    response
}

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    done: Option<String>,
}

/// `GET /login`.
pub async fn login_form(State(app): State<App>, Query(query): Query<LoginQuery>) -> Response {
    let notice = (query.done.as_deref() == Some("logout")).then(|| "您已安全退出。".to_owned());
    login_page(
        &app,
        StatusCode::OK,
        LoginState {
            next: query.next.filter(|n| is_local_path(n)).unwrap_or_default(),
            notice,
            ..LoginState::default()
        },
    )
}

/// `POST /login`.
pub async fn login_submit(
    State(app): State<App>,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    form: FormData,
) -> Response {
    let mut state = LoginState {
        username: form.text("username"),
        next: form.text("next"),
        replay_to: form.text("replay_to"),
        replay_body: form.get("replay_body").unwrap_or("").to_owned(),
        ..LoginState::default()
    };
    let sent = form.get("_csrf").unwrap_or("");
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(sent, &expected) {
        state.message = Some("登录页面已过期，请重新输入后登录。".to_owned());
        return login_page(&app, StatusCode::FORBIDDEN, state);
    }
    let password = form.get("password").unwrap_or("");
    let outcome = match app.login(&state.username, password, &address).await {
        Ok(outcome) => outcome,
        Err(err) => {
            let status = match err.code() {
                "too_many_attempts" => StatusCode::TOO_MANY_REQUESTS,
                "internal" => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNAUTHORIZED,
            };
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(error = ?err, "sign-in failed");
            }
            state.message = Some(err.to_string());
            return login_page(&app, status, state);
        }
    };
    let max_age = i64::from(app.config.token_ttl_hours) * 3600;
    let session_cookie = set_cookie(&app, SESSION_COOKIE, &outcome.token, max_age);
    let clear_login = set_cookie(&app, LOGIN_COOKIE, "", 0);
    let mut response = if is_local_path(&state.replay_to) && !state.replay_body.is_empty() {
        let page = ReplayPage {
            asset_version: static_files::version(),
            action: state.replay_to.clone(),
            csrf: csrf_for(&outcome.token),
            fields: FormData::parse(state.replay_body.as_bytes()).0,
        };
        render(&page)
    } else {
        let next = if is_local_path(&state.next) {
            state.next.as_str()
        } else {
            "/"
        };
        Redirect::to(next).into_response()
    };
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, session_cookie);
    h.append(header::SET_COOKIE, clear_login);
    response
}

/// `POST /logout`.
pub async fn logout(
    State(app): State<App>,
    session: WebSession,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, WebError> {
    session.check_csrf(&headers, &form)?;
    app.logout(&session.token).await?;
    let mut response = Redirect::to("/login?done=logout").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&app, SESSION_COOKIE, "", 0));
    Ok(response)
}

fn password_layout(app: &App, session: &WebSession) -> Layout {
    Layout::new(app, session, "修改密码", "/password").crumb("修改密码", None)
}

/// `GET /password`.
pub async fn password_form(State(app): State<App>, session: WebSession) -> Response {
    render(&PasswordPage {
        layout: password_layout(&app, &session),
        error_field: String::new(),
        message: None,
    })
}

/// `POST /password`.
pub async fn password_submit(
    State(app): State<App>,
    session: Result<WebSession, WebError>,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, WebError> {
    let session = session?;
    session.check_csrf(&headers, &form)?;
    let current = form.get("current_password").unwrap_or("");
    let new_password = form.get("new_password").unwrap_or("");
    let failure = if new_password != form.get("confirm_password").unwrap_or("") {
        Some((
            "confirm_password".to_owned(),
            "两次输入的新密码不一致".to_owned(),
        ))
    } else {
        match app
            .change_password(&session.actor, current, new_password)
            .await
        {
            Ok(()) => None,
            Err(err) if err.code() == "invalid_field" => {
                let field = match err.field() {
                    Some("password") => "new_password",
                    Some(other) => other,
                    None => "",
                };
                Some((field.to_owned(), err.to_string()))
            }
            Err(err) => return Err(err.into()),
        }
    };
    match failure {
        None => Ok(Redirect::to("/?done=password").into_response()),
        Some((error_field, message)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&PasswordPage {
                layout: password_layout(&app, &session),
                error_field,
                message: Some(message),
            }),
        )
            .into_response()),
    }
}
