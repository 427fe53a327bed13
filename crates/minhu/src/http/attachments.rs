//! Attachments (附件) over HTTP: the reply with files, reading `multipart/form-data` bodies
//! (shared with the workbench's reply form), and the download.
//!
//! - `POST /api/v1/orders/{number}/reply-with-attachments` — `multipart/form-data` with one
//!   `payload` part (the JSON of `POST …/reply`: `text`, optional `unit_id` and `version`) and up
//!   to [`MAX_FILES`] `files` parts. The JSON route `POST …/reply` stays as it is. Its body may be
//!   as large as [`crate::service::attachments::MAX_UPLOAD_BODY_BYTES`] (see `http::router`).
//! - `GET /api/v1/orders/{number}/attachments/{id}` — the file, scope-checked like the order
//!   (404 outside it), as a download: `Content-Disposition: attachment; filename*=UTF-8''…`, the
//!   stored content type, `X-Content-Type-Options: nosniff`.

use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use minhu_domain::Action;
use minhu_domain::action::Reply;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::actions::split_version;
use super::error::{ApiError, ApiResult, StdErrors};
use super::extract::{ApiPath, CurrentActor};
use super::orders::view_of;
use super::views::OrderView;
use crate::service::App;
use crate::service::attachments::{MAX_FILE_BYTES, MAX_FILES, Upload};
use crate::storage::AttachmentFile;

/// The most bytes one text part of a multipart body may have.
pub const MAX_TEXT_PART_BYTES: usize = 256 * 1024;

/// A `multipart/form-data` body as read: the text parts in order, the file parts of the file
/// field, and why reading stopped early, if it did (what was read until then is kept, so that
/// a form can be drawn again with what the person typed).
#[derive(Debug, Default)]
pub struct MultipartBody {
    pub fields: Vec<(String, String)>,
    /// At most [`MAX_FILES`] + 1 files (one more shows there were too many); a file longer than
    /// [`MAX_FILE_BYTES`] is kept empty and flagged.
    pub files: Vec<Upload>,
    pub failure: Option<ApiError>,
}

/// The error of a multipart body that cannot be read: 413 `payload_too_large` past the body
/// limit, else 400 `invalid_multipart`.
fn multipart_error(err: &MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE)
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_multipart",
            "无法读取 multipart/form-data 请求内容",
        )
    }
}

/// The error of a request that is not `multipart/form-data`.
pub fn not_multipart(rejection: &MultipartRejection) -> ApiError {
    tracing::debug!(%rejection, "not a multipart body");
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "请求内容类型须为 multipart/form-data",
    )
}

/// Reads the rest of one part, keeping at most `limit` bytes; `None` when it was longer.
async fn read_part(
    field: &mut axum::extract::multipart::Field<'_>,
    limit: usize,
) -> Result<Option<Bytes>, MultipartError> {
    let mut buf = BytesMut::new();
    let mut over = false;
    while let Some(chunk) = field.chunk().await? {
        if over || buf.len() + chunk.len() > limit {
            // Keep reading (the stream goes on) but keep nothing.
            over = true;
            buf = BytesMut::new();
            continue;
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((!over).then(|| buf.freeze()))
}

/// Reads a multipart body: parts with a file name under `file_field` are files, parts without
/// are text (at most [`MAX_TEXT_PART_BYTES`] each, UTF-8). A file part under another name is
/// refused (`unknown_field`); an empty file part without a name (a file input left empty) is
/// skipped. Without `keep_files` the files are read past and dropped (a request nobody is
/// signed in for keeps only its text). Stops at the first problem, recorded in `failure`.
pub async fn read_multipart(
    mut multipart: Multipart,
    file_field: &str,
    keep_files: bool,
) -> MultipartBody {
    let mut body = MultipartBody::default();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => {
                body.failure = Some(multipart_error(&err));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                if name != file_field {
                    body.failure = Some(
                        ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "unknown_field",
                            format!("未知的文件字段：{name}（文件须放在 {file_field} 中）"),
                        )
                        .with_field(name),
                    );
                    break;
                }
                let limit = if keep_files { MAX_FILE_BYTES } else { 0 };
                let content = match read_part(&mut field, limit).await {
                    Ok(content) => content,
                    Err(err) => {
                        body.failure = Some(multipart_error(&err));
                        break;
                    }
                };
                let upload = match content {
                    Some(content) if content.is_empty() && file_name.is_empty() => continue,
                    Some(content) => Upload {
                        file_name,
                        content,
                        too_large: false,
                    },
                    None => Upload {
                        file_name,
                        content: Bytes::new(),
                        too_large: true,
                    },
                };
                if keep_files && body.files.len() <= MAX_FILES {
                    body.files.push(upload);
                }
            }
            None => {
                let text = match read_part(&mut field, MAX_TEXT_PART_BYTES).await {
                    Ok(Some(bytes)) => String::from_utf8(bytes.to_vec()).map_err(|_| {
                        ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "invalid_multipart",
                            format!("字段 {name} 不是 UTF-8 文本"),
                        )
                        .with_field(name.clone())
                    }),
                    Ok(None) => Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        format!("字段 {name} 的内容过长"),
                    )
                    .with_field(name.clone())),
                    Err(err) => Err(multipart_error(&err)),
                };
                match text {
                    Ok(text) => body.fields.push((name, text)),
                    Err(err) => {
                        body.failure = Some(err);
                        break;
                    }
                }
            }
        }
    }
    body
}

/// `filename*` of RFC 5987/6266: UTF-8, percent-encoded but for the attribute characters.
fn rfc5987(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `Content-Disposition` of a download: an ASCII `filename` for old clients (other characters
/// become `_`) and the real name as `filename*=UTF-8''…`.
#[must_use]
pub fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        rfc5987(file_name)
    )
}

/// A stored file as a download response (the API's and the workbench's).
#[must_use]
pub fn attachment_response(file: AttachmentFile) -> Response {
    let a = &file.attachment;
    let content_type = HeaderValue::from_str(&a.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&content_disposition(&a.file_name))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let mut response = (StatusCode::OK, file.content).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    response
}

/// The parts of `POST /api/v1/orders/{number}/reply-with-attachments` (for the OpenAPI
/// document; the handler reads the parts itself).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request; never built
struct ReplyWithAttachmentsForm {
    /// The reply as JSON, the body of `POST /api/v1/orders/{number}/reply`: `text`, optionally
    /// `unit_id` and `version`, e.g. `{"text": "路灯已修复", "version": 4}`.
    #[schema(content_media_type = "application/json")]
    payload: String,
    /// Up to 5 files, each at most 10 MiB: JPEG, PNG, GIF, WebP, PDF, DOC, DOCX, XLS, XLSX or
    /// TXT. The kind is judged from the file's leading bytes and its name's extension.
    #[schema(inline, value_type = Vec<FileContent>, required = false)]
    files: Vec<Vec<u8>>,
}

/// The bytes of a file.
#[derive(ToSchema)]
#[schema(value_type = String, content_media_type = "application/octet-stream")]
#[allow(dead_code)] // describes the response; never built
struct FileContent(Vec<u8>);

/// 办结反馈 with attachments: the reply and its files are stored together or not at all.
#[utoipa::path(post, path = "/api/v1/orders/{number}/reply-with-attachments", tag = "actions",
    summary = "办结反馈（带附件）",
    description = "`multipart/form-data`：一个 `payload` 部分（与 `POST /api/v1/orders/{number}/reply` \
        相同的 JSON）和至多 5 个 `files` 部分（每个不超过 10 MiB；JPG、PNG、GIF、WebP、PDF、DOC、DOCX、XLS、\
        XLSX、TXT，按文件头和扩展名判断类型）。附件与反馈在同一事务中保存：反馈被拒绝时不保存任何附件。\
        附件错误的 `field` 为 `files`，`code` 为 `too_many_files`、`file_too_large`（413）、\
        `file_type_not_allowed`、`empty_file` 或 `invalid_file_name`。",
    params(("number" = String, Path, description = "工单编号")),
    request_body(content = inline(ReplyWithAttachmentsForm), content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "操作后的工单（含附件列表）", body = OrderView),
        (status = 413, description = "附件或请求过大 (file_too_large, payload_too_large)",
            body = super::error::ErrorEnvelope),
        (status = 415, description = "请求内容类型须为 multipart/form-data (unsupported_media_type)",
            body = super::error::ErrorEnvelope),
        StdErrors))]
async fn reply_with_attachments(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(number): ApiPath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<OrderView>> {
    let multipart = multipart.map_err(|r| not_multipart(&r))?;
    let body = read_multipart(multipart, "files", true).await;
    if let Some(failure) = body.failure {
        return Err(failure);
    }
    let mut payload = None;
    for (name, text) in body.fields {
        if name != "payload" || payload.is_some() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
                format!("未知或重复的字段：{name}（只接受 payload 和 files）"),
            )
            .with_field(name));
        }
        payload = Some(text);
    }
    let payload = payload.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
            "缺少 payload 部分（办结反馈的 JSON）",
        )
        .with_field("payload")
    })?;
    let value: Value = serde_json::from_str(&payload).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!(
                "payload 不是合法的 JSON（第{}行第{}列）",
                e.line(),
                e.column()
            ),
        )
        .with_field("payload")
    })?;
    let (version, reply) = split_version::<Reply>(value)?;
    let detail = app
        .act_on_order_detail(&actor, &number, Action::Reply(reply), version, body.files)
        .await?;
    view_of(&app, detail).await.map(Json)
}

/// The path of a download (named, so that a bad `id` is reported as such).
#[derive(Debug, Deserialize)]
struct AttachmentPath {
    number: String,
    id: i64,
}

/// Downloads one attachment of an order the caller may see.
#[utoipa::path(get, path = "/api/v1/orders/{number}/attachments/{id}", tag = "orders",
    summary = "下载附件",
    params(("number" = String, Path, description = "工单编号"),
        ("id" = i64, Path, description = "附件 id（见工单详情的 attachments）")),
    responses(
        (status = 200, description = "附件内容：Content-Type 为保存时判定的类型，\
            Content-Disposition: attachment; filename*=UTF-8''…，X-Content-Type-Options: nosniff",
            content_type = "application/octet-stream", body = inline(FileContent)),
        StdErrors))]
async fn download_attachment(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(path): ApiPath<AttachmentPath>,
) -> ApiResult<Response> {
    let file = app.attachment_file(&actor, &path.number, path.id).await?;
    Ok(attachment_response(file))
}

/// The routes under the normal body limit.
pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(download_attachment))
}

/// The routes that take files, to be served with a body limit of
/// [`crate::service::attachments::MAX_UPLOAD_BODY_BYTES`].
pub(crate) fn upload_routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(reply_with_attachments))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_carry_the_real_name() {
        assert_eq!(
            content_disposition("路灯 修复.jpg"),
            "attachment; filename=\"__ __.jpg\"; filename*=UTF-8''%E8%B7%AF%E7%81%AF%20%E4%BF%AE%E5%A4%8D.jpg"
        );
        assert_eq!(
            content_disposition("a\"b.pdf"),
            "attachment; filename=\"a_b.pdf\"; filename*=UTF-8''a%22b.pdf"
        );
    }
}
