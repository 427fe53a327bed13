//! Web sessions: the `minhu_session` cookie carries an API token (stored only hashed, in
//! `api_tokens`), the CSRF token derived from it, and the form body reader.
//!
//! Every POST checks the CSRF token, sent as the `_csrf` form field or the `X-CSRF-Token` header
//! (htmx), against `hex(SHA-256("csrf:" + session token))`: a handler takes [`CsrfForm`] (or
//! [`KeptCsrfForm`], which keeps the form through a sign-in when the session expired) and gets
//! the session and the checked form. The sign-in form, which has no session yet, uses a
//! double-submit token: a random `minhu_login` cookie repeated in the form.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use minhu_domain::Actor;

use super::auth::expired_post;
use super::error::WebError;
use crate::service::auth::token_hash;
use crate::service::{App, AppError};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "minhu_session";
/// The sign-in form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "minhu_login";

/// The value of cookie `name` in the request, if sent.
#[must_use]
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when configured.
#[must_use]
pub fn set_cookie(app: &App, name: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
    let secure = if app.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{name}={value}; Max-Age={max_age_seconds}; Path=/; HttpOnly; SameSite=Strict{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The CSRF token of a session token.
#[must_use]
pub fn csrf_for(token: &str) -> String {
    token_hash(&format!("csrf:{token}"))
}

/// Whether this request was made by htmx.
#[must_use]
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// A signed-in person in the browser.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub actor: Actor,
    /// The session token (the cookie's value).
    pub token: String,
    /// The CSRF token forms must send back.
    pub csrf: String,
}

impl WebSession {
    /// Refuses a state-changing request whose CSRF token (form field `_csrf` or header
    /// `X-CSRF-Token`) is missing or wrong.
    pub fn check_csrf(&self, headers: &HeaderMap, form: &FormData) -> Result<(), WebError> {
        let sent = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| form.get("_csrf").map(str::to_owned));
        if sent
            .as_deref()
            .is_some_and(|s| constant_time_eq(s, &self.csrf))
        {
            Ok(())
        } else {
            Err(WebError::csrf())
        }
    }
}

/// Compares two strings without an early exit on the first difference.
#[must_use]
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0_u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<App> for WebSession {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let need_sign_in = || WebError::SignIn {
            next: if parts.method == Method::GET {
                next.clone()
            } else {
                parts.uri.path().to_owned()
            },
            htmx: is_htmx(&parts.headers),
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(need_sign_in());
        };
        match app.authenticate(&token).await {
            Ok(actor) => Ok(Self {
                actor,
                csrf: csrf_for(&token),
                token,
            }),
            Err(AppError::Unauthenticated) => Err(need_sign_in()),
            Err(other) => Err(WebError::from(other)),
        }
    }
}

/// A URL-encoded form body as its name/value pairs, in order.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed; `""` when absent.
    #[must_use]
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").trim().to_owned()
    }

    /// Every value of `name`.
    #[must_use]
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body again, URL-encoded, without the CSRF field (to carry it through a sign-in).
    #[must_use]
    pub fn encode_without_csrf(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if k != "_csrf" {
                out.append_pair(k, v);
            }
        }
        out.finish()
    }

    /// Parses a URL-encoded body.
    #[must_use]
    pub fn parse(bytes: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| WebError::bad_request("无法读取提交的表单（内容过大或格式不正确）"))?;
        Ok(Self::parse(&bytes))
    }
}

/// A state-changing request's session and form, the CSRF token checked: the first thing every
/// POST handler of the workbench takes (as its last argument, since it reads the body).
///
/// Rejections: no or an expired session → sign-in (as [`WebSession`]); an unreadable body → 400;
/// a missing or wrong CSRF token → the 403 page. Nothing has been done by then.
#[derive(Debug)]
pub struct CsrfForm {
    pub session: WebSession,
    pub form: FormData,
}

/// Why a [`CsrfForm`] could not be read: the session is gone (with the form read so far, if the
/// body could be read), or another refusal.
enum CsrfRefusal {
    Expired {
        reason: WebError,
        form: Option<FormData>,
        headers: HeaderMap,
        path: String,
    },
    Other(WebError),
}

async fn read_csrf_form(req: Request, app: &App) -> Result<CsrfForm, CsrfRefusal> {
    let (mut parts, body) = req.into_parts();
    let session = WebSession::from_request_parts(&mut parts, app).await;
    let headers = parts.headers.clone();
    let path = parts.uri.path().to_owned();
    let form = FormData::from_request(Request::from_parts(parts, body), app).await;
    match (session, form) {
        (Ok(session), Ok(form)) => {
            session
                .check_csrf(&headers, &form)
                .map_err(CsrfRefusal::Other)?;
            Ok(CsrfForm { session, form })
        }
        (Err(reason @ WebError::SignIn { .. }), form) => Err(CsrfRefusal::Expired {
            reason,
            form: form.ok(),
            headers,
            path,
        }),
        (Err(other), _) | (Ok(_), Err(other)) => Err(CsrfRefusal::Other(other)),
    }
}

impl FromRequest<App> for CsrfForm {
    type Rejection = WebError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        read_csrf_form(req, app)
            .await
            .map_err(|refusal| match refusal {
                CsrfRefusal::Expired { reason, .. } | CsrfRefusal::Other(reason) => reason,
            })
    }
}

/// A [`CsrfForm`] for forms whose input must survive an expired session: instead of the
/// redirect to sign-in, the sign-in page carrying the form (see [`expired_post`]), which the
/// person confirms after signing in.
#[derive(Debug)]
pub struct KeptCsrfForm(pub CsrfForm);

impl FromRequest<App> for KeptCsrfForm {
    type Rejection = Response;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        match read_csrf_form(req, app).await {
            Ok(form) => Ok(Self(form)),
            Err(CsrfRefusal::Expired {
                form: Some(form),
                headers,
                path,
                ..
            }) => Err(expired_post(app, &headers, &path, &form)),
            Err(CsrfRefusal::Expired { reason, .. } | CsrfRefusal::Other(reason)) => {
                Err(reason.into_response())
            }
        }
    }
}

/// Whether `next` is a path on this site (not `//host` or a full URL): where sign-in may return.
#[must_use]
pub fn is_local_path(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_tokens() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; minhu_session=abc-_x; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc-_x"));
        assert_eq!(cookie(&headers, "c"), None);
        assert_eq!(csrf_for("t").len(), 64);
        assert_ne!(csrf_for("t"), csrf_for("u"));
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(is_local_path("/orders?x=1"));
        assert!(!is_local_path("//evil.example"));
        assert!(!is_local_path("https://evil.example"));
        let form = FormData::parse(b"a=1&_csrf=x&b=%E4%BD%A0&a=2");
        assert_eq!(form.all("a"), vec!["1", "2"]);
        assert_eq!(form.text("b"), "你");
        assert_eq!(form.encode_without_csrf(), "a=1&b=%E4%BD%A0&a=2");
    }
}
