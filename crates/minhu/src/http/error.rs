//! The one error envelope of the API: `{"error": {"code", "message", "field"}}`, and how every
//! failure (use-case errors, bad input, unknown routes, panics) becomes one.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, ResponseBuilder, ResponsesBuilder};

use crate::service::AppError;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorEnvelope {
    /// What went wrong.
    pub error: ErrorBody,
}

/// What went wrong, for programs (`code`, `field`) and for people (`message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `invalid_state`, `missing_field`, `version_conflict`.
    pub code: String,
    /// A Chinese explanation for people.
    pub message: String,
    /// The request field concerned, as a JSON path (`citizen.phone`) or a parameter name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answer: a status and the envelope's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code.
    pub code: Cow<'static, str>,
    /// The Chinese message.
    pub message: String,
    /// The field concerned, if any.
    pub field: Option<String>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    /// The same error, about `field`.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        let field = field.into();
        self.field = (!field.is_empty()).then_some(field);
        self
    }

    /// 404 `not_found` for a route or resource that does not exist.
    #[must_use]
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "请求的资源不存在")
    }

    /// 400 `invalid_query`: a query parameter is missing or malformed.
    pub fn invalid_query(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query", message).with_field(field)
    }

    /// 422 `invalid_field`: a value is well-formed but not acceptable.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with_field(field)
    }

    /// 500 `internal`, logging the cause (which is never sent).
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误，请稍后再试",
        )
    }

    /// The envelope this error is sent as.
    #[must_use]
    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code.to_string(),
                message: self.message.clone(),
                field: self.field.clone(),
            },
        }
    }

    /// The default error of a bare status (for responses made by layers rather than handlers).
    #[must_use]
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::BAD_REQUEST => ("bad_request", "请求格式不正确"),
            StatusCode::UNAUTHORIZED => ("unauthenticated", "请先登录"),
            StatusCode::FORBIDDEN => ("forbidden", "没有执行该操作的权限"),
            StatusCode::NOT_FOUND => ("not_found", "请求的资源不存在"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "该资源不支持此请求方法"),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "请求超时"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "请求内容过大"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "请求内容类型须为 application/json",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => ("invalid_field", "请求内容不正确"),
            StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "请求过于频繁，请稍后再试"),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "服务暂不可用，请稍后再试"),
            s if s.is_client_error() => ("bad_request", "请求不正确"),
            _ => ("internal", "服务器内部错误，请稍后再试"),
        };
        Self::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, Json(self.envelope())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"minhu\""),
            );
        }
        response
    }
}

/// The Chinese name of a field that can be duplicated, for messages.
fn field_label(field: &str) -> &str {
    match field {
        "username" => "用户名",
        "code" => "编码",
        "name" => "名称",
        "date" => "日期",
        "number" => "工单编号",
        other => other,
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        let status = match &err {
            AppError::Unauthenticated | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict | AppError::Duplicate { .. } => StatusCode::CONFLICT,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::File { code, .. } if *code == "file_too_large" => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            AppError::File { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Domain(e) => match e.code() {
                "forbidden" => StatusCode::FORBIDDEN,
                "not_found" => StatusCode::NOT_FOUND,
                "invalid_state" => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            AppError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                return Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "服务器内部错误，请稍后再试",
                );
            }
        };
        let message = match &err {
            AppError::Duplicate { field } => format!("{}已存在", field_label(field)),
            other => other.to_string(),
        };
        let field = err.field().map(str::to_owned);
        Self {
            status,
            code: Cow::Borrowed(err.code()),
            message,
            field,
        }
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// The error responses every protected endpoint may give, for the OpenAPI document.
pub struct StdErrors;

impl utoipa::IntoResponses for StdErrors {
    fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        let envelope = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name(
                            "ErrorEnvelope",
                        )))
                        .build(),
                )
                .build()
        };
        ResponsesBuilder::new()
            .response("400", envelope("请求格式不正确 (invalid_json, invalid_query …)"))
            .response("401", envelope("未登录或令牌无效 (unauthenticated)"))
            .response("403", envelope("没有权限 (forbidden)"))
            .response("404", envelope("不存在或不在数据范围内 (not_found)"))
            .response(
                "409",
                envelope("状态不允许、版本冲突或重复 (invalid_state, version_conflict, duplicate)"),
            )
            .response(
                "422",
                envelope("字段不正确 (missing_field, invalid_type, invalid_value, unknown_field, invalid_field)"),
            )
            .build()
            .into()
    }
}
