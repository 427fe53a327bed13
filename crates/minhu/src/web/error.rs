//! Failures of web pages: a redirect to sign-in, or a Chinese error page with the right status.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::service::AppError;

/// Why a page cannot be shown.
#[derive(Debug)]
pub enum WebError {
    /// Not signed in (or the session expired): to `/login?next=…`; htmx gets 401 + `HX-Redirect`.
    SignIn { next: String, htmx: bool },
    /// An error page.
    Page {
        status: StatusCode,
        title: &'static str,
        message: String,
    },
}

impl WebError {
    /// 403: the CSRF token is missing or wrong.
    #[must_use]
    pub fn csrf() -> Self {
        Self::Page {
            status: StatusCode::FORBIDDEN,
            title: "安全校验失败",
            message: "表单安全校验失败（CSRF），请返回并刷新页面后重试。".to_owned(),
        }
    }

    /// 404.
    #[must_use]
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::Page {
            status: StatusCode::NOT_FOUND,
            title: "页面不存在",
            message: message.into(),
        }
    }

    /// 400.
    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::Page {
            status: StatusCode::BAD_REQUEST,
            title: "请求不正确",
            message: message.into(),
        }
    }

    /// 500 after logging `err`.
    #[must_use]
    pub fn internal(err: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %err, "web page failed");
        Self::Page {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "系统错误",
            message: "服务器内部错误，请稍后重试或联系系统管理员。".to_owned(),
        }
    }
}

impl From<AppError> for WebError {
    fn from(err: AppError) -> Self {
        let message = err.to_string();
        match err.code() {
            "not_found" => Self::Page {
                status: StatusCode::NOT_FOUND,
                title: "未找到",
                message,
            },
            "forbidden" => Self::Page {
                status: StatusCode::FORBIDDEN,
                title: "没有权限",
                message,
            },
            "unauthenticated" => Self::SignIn {
                next: "/".to_owned(),
                htmx: false,
            },
            "internal" => Self::internal(&format_args!("{err:?}")),
            "version_conflict" => Self::Page {
                status: StatusCode::CONFLICT,
                title: "操作冲突",
                message,
            },
            _ => Self::Page {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "无法完成操作",
                message,
            },
        }
    }
}

/// The stand-alone error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// Renders a template into an HTML response, or a 500 when rendering fails.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => WebError::internal(&err).into_response(),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { next, htmx } => {
                let target = format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                if htmx {
                    let mut response = StatusCode::UNAUTHORIZED.into_response();
                    if let Ok(value) = HeaderValue::from_str(&target) {
                        response.headers_mut().insert("hx-redirect", value);
                    }
                    response
                } else {
                    Redirect::to(&target).into_response()
                }
            }
            Self::Page {
                status,
                title,
                message,
            } => {
                let page = ErrorPage {
                    status: status.as_u16(),
                    title,
                    message: &message,
                };
                let body = page.render().unwrap_or_else(|_| message.clone());
                let mut response = (status, Html(body)).into_response();
                let headers = response.headers_mut();
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                // Also when answered outside the workbench's routes (the site's 404 page).
                super::security::add_headers(headers);
                response
            }
        }
    }
}
