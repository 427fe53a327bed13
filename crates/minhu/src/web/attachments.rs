//! Attachments (附件) in the workbench: reading an action form that may carry files, the links
//! the detail page shows under each history event, and the download route.
//!
//! The detail's action forms post to `POST /orders/{number}/act/{action}` either URL-encoded or,
//! the reply form with its file input, as `multipart/form-data` (htmx 2 sends a form with that
//! enctype as multipart too). [`ActionPost`] reads both, checks the CSRF token like every form
//! (the `_csrf` part or the `X-CSRF-Token` header) and keeps what was typed when the files
//! cannot be read. The route is served with the upload body limit (see `http::router`); a
//! URL-encoded body is still held to `max_body_bytes`.

use axum::extract::multipart::Multipart;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::auth::expired_post;
use super::error::WebError;
use super::session::{FormData, WebSession};
use crate::http::attachments::{attachment_response, read_multipart};
use crate::service::App;
use crate::service::attachments::{MAX_FILE_BYTES, MAX_FILES, Upload, human_size};
use crate::storage::Attachment;

/// A posted action form: who posts it, its text fields and its files, the CSRF token checked.
///
/// Rejections: an expired session → the sign-in page carrying the form's text (files cannot be
/// carried); a body that cannot be read → 400; a missing or wrong CSRF token → the 403 page.
#[derive(Debug)]
pub struct ActionPost {
    pub session: WebSession,
    pub form: FormData,
    pub files: Vec<Upload>,
    /// Why the files could not be read (too large a body, a broken upload), in Chinese; the
    /// text fields read before are in `form`.
    pub file_failure: Option<String>,
}

/// Whether a request body is `multipart/form-data`.
fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Reads the body of an action form: its text fields, files (only when `keep_files`: someone
/// is signed in) and a file failure.
async fn read_body(
    req: Request,
    app: &App,
    keep_files: bool,
) -> Result<(FormData, Vec<Upload>, Option<String>), WebError> {
    let unreadable = || WebError::bad_request("无法读取提交的表单（内容过大或格式不正确）");
    if !is_multipart(req.headers()) {
        let bytes = axum::body::to_bytes(req.into_body(), app.config.max_body_bytes)
            .await
            .map_err(|_| unreadable())?;
        return Ok((FormData::parse(&bytes), Vec::new(), None));
    }
    let multipart = Multipart::from_request(req, app)
        .await
        .map_err(|_| unreadable())?;
    let body = read_multipart(multipart, "files", keep_files).await;
    let failure = body.failure.map(|err| {
        if err.status == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "附件过大：每次最多{MAX_FILES}个附件，每个不超过{}",
                human_size(i64::try_from(MAX_FILE_BYTES).unwrap_or(i64::MAX))
            )
        } else {
            "无法读取上传的附件，请重新选择文件后再提交".to_owned()
        }
    });
    Ok((FormData(body.fields), body.files, failure))
}

impl FromRequest<App> for ActionPost {
    type Rejection = Response;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = WebSession::from_request_parts(&mut parts, app).await;
        let headers = parts.headers.clone();
        let path = parts.uri.path().to_owned();
        let signed_in = session.is_ok();
        let (form, files, file_failure) =
            read_body(Request::from_parts(parts, body), app, signed_in)
                .await
                .map_err(IntoResponse::into_response)?;
        let session = match session {
            Ok(session) => session,
            Err(WebError::SignIn { .. }) => return Err(expired_post(app, &headers, &path, &form)),
            Err(other) => return Err(other.into_response()),
        };
        session
            .check_csrf(&headers, &form)
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            session,
            form,
            files,
            file_failure,
        })
    }
}

/// An attachment as the detail page links it.
#[derive(Debug, Clone)]
pub struct AttachmentLink {
    pub name: String,
    /// e.g. `1.2 MB`.
    pub size: String,
    pub href: String,
}

impl AttachmentLink {
    /// The link to attachment `a` of order `number`.
    #[must_use]
    pub fn new(number: &str, a: &Attachment) -> Self {
        Self {
            name: a.file_name.clone(),
            size: human_size(a.size),
            href: format!("/orders/{number}/attachments/{}", a.id),
        }
    }
}

/// `GET /orders/{number}/attachments/{id}`: the file as a download, if the person may see the
/// order (else the 404 page, as for the order).
pub async fn download(
    State(app): State<App>,
    session: WebSession,
    Path((number, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id: i64 = id.parse().map_err(|_| WebError::not_found("附件不存在"))?;
    let file = app.attachment_file(&session.actor, &number, id).await?;
    Ok(attachment_response(file))
}
