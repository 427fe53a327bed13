//! Extractors that answer bad input with the error envelope and name the field at fault: JSON
//! bodies ([`ApiJson`]), query strings ([`ApiQuery`]), path parameters ([`ApiPath`]), the signed-in
//! person ([`CurrentActor`]) and the client's address ([`ClientAddress`]).

use std::net::SocketAddr;

use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use minhu_domain::Actor;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;
use super::query::QueryPairs;
use crate::service::{App, AppError};

/// A JSON request body, checked for content type, syntax and shape.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = read_json_value(req, state, false).await?;
        from_json_value(value).map(ApiJson)
    }
}

/// A JSON body as a raw value, allowing an empty body (read as `{}`): for lifecycle actions whose
/// payload may have only optional fields.
#[derive(Debug, Clone)]
pub struct ApiJsonValue(pub Value);

impl<S> FromRequest<S> for ApiJsonValue
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json_value(req, state, true).await.map(ApiJsonValue)
    }
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads the body as JSON: 415 without a JSON content type, 413 when too large, 400
/// `invalid_json` when it does not parse. With `allow_empty`, an empty body is `{}`.
async fn read_json_value<S: Send + Sync>(
    req: Request,
    state: &S,
    allow_empty: bool,
) -> Result<Value, ApiError> {
    let json_type = is_json_content_type(req.headers());
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE)
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", "无法读取请求内容")
        }
    })?;
    if allow_empty && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    if !json_type {
        return Err(ApiError::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    serde_json::from_slice::<Value>(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!(
                "请求内容不是合法的 JSON（第{}行第{}列）",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Deserializes a JSON value into `T`, reporting the JSON path of the first problem.
pub fn from_json_value<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let path = render_path(err.path());
        let message = err.inner().to_string();
        shape_error(&path, &message, StatusCode::UNPROCESSABLE_ENTITY, None)
    })
}

/// A JSON path as `citizen.phone` or `co_unit_ids[1]`; empty for the root.
fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// The text between the first pair of backticks of a serde message.
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message.get(start..)?.find('`')?;
    message.get(start..start + len)
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Turns a serde data error into the envelope: `missing_field`, `unknown_field`, `invalid_type` or
/// `invalid_value` (or `fixed_code` for every kind, e.g. `invalid_query`).
fn shape_error(
    path: &str,
    message: &str,
    status: StatusCode,
    fixed_code: Option<&'static str>,
) -> ApiError {
    let (code, field, text) = if message.starts_with("missing field") {
        let field = backticked(message).map_or_else(|| path.to_owned(), |n| join_path(path, n));
        let text = format!("缺少必填字段：{field}");
        ("missing_field", field, text)
    } else if message.starts_with("unknown field") {
        // The path may or may not already end with the unknown name.
        let field = match backticked(message) {
            Some(name) if !path.ends_with(name) => join_path(path, name),
            _ => path.to_owned(),
        };
        let text = format!("不支持的字段：{field}");
        ("unknown_field", field, text)
    } else if message.starts_with("invalid type") {
        let text = format!("字段类型不正确：{path}");
        ("invalid_type", path.to_owned(), text)
    } else if message.starts_with("unknown variant") {
        let allowed = message
            .split_once("expected one of ")
            .map(|(_, list)| list.replace('`', ""))
            .or_else(|| {
                message
                    .split_once("expected ")
                    .map(|(_, one)| one.replace('`', ""))
            })
            .unwrap_or_default();
        let text = if allowed.is_empty() {
            format!("字段取值不正确：{path}")
        } else {
            format!("字段取值不正确：{path}（可选值：{allowed}）")
        };
        ("invalid_value", path.to_owned(), text)
    } else if message.starts_with("duplicate field") {
        let field = backticked(message).map_or_else(|| path.to_owned(), |n| join_path(path, n));
        let text = format!("字段重复：{field}");
        ("duplicate_field", field, text)
    } else {
        let text = format!("字段取值不正确：{path}");
        ("invalid_value", path.to_owned(), text)
    };
    let code = fixed_code.unwrap_or(code);
    let status = if fixed_code.is_some() {
        status
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    ApiError::new(status, code, text).with_field(field)
}

/// A query string, each parameter parsed into `T`'s field; problems answer 400 `invalid_query`
/// naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = QueryPairs::parse(parts.uri.query());
        serde_path_to_error::deserialize::<_, T>(pairs)
            .map(ApiQuery)
            .map_err(|err| {
                let path = render_path(err.path());
                let message = err.inner().to_string();
                let mut error = shape_error(
                    &path,
                    &message,
                    StatusCode::BAD_REQUEST,
                    Some("invalid_query"),
                );
                error.message = error.message.replace("字段", "查询参数");
                error
            })
    }
}

/// Path parameters; a parameter that does not parse answers 400 `invalid_path` naming it.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(err)) => {
                use axum::extract::path::ErrorKind;
                let field = match err.kind() {
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::InvalidUtf8InPathParam { key }
                    | ErrorKind::DeserializeError { key, .. } => key.clone(),
                    _ => {
                        // A single unnamed value: name it after the route's only parameter.
                        let raw = RawPathParams::from_request_parts(parts, state).await.ok();
                        let names: Vec<String> = raw
                            .iter()
                            .flat_map(|params| params.iter().map(|(k, _)| k.to_owned()))
                            .collect();
                        match names.as_slice() {
                            [only] => only.clone(),
                            _ => String::new(),
                        }
                    }
                };
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_path",
                    format!("路径参数不正确：{field}"),
                )
                .with_field(field))
            }
            Err(other) => Err(ApiError::internal(&other)),
        }
    }
}

/// How a request proves who sends it. Today only API tokens (`Authorization: Bearer …`); the web
/// workbench will add its session cookie here, and every handler keeps using [`CurrentActor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API token from the `Authorization: Bearer` header.
    Bearer(String),
}

impl Credential {
    /// The credential a request carries, if any.
    #[must_use]
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
            .then(|| Self::Bearer(token.to_owned()))
    }
}

/// The signed-in person making the request; 401 `unauthenticated` without valid credentials.
#[derive(Debug, Clone)]
pub struct CurrentActor(pub Actor);

impl FromRequestParts<App> for CurrentActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if let Some(actor) = parts.extensions.get::<Actor>() {
            return Ok(Self(actor.clone()));
        }
        let actor = match Credential::from_headers(&parts.headers) {
            Some(Credential::Bearer(token)) => app.authenticate(&token).await?,
            None => return Err(AppError::Unauthenticated.into()),
        };
        parts.extensions.insert(actor.clone());
        Ok(Self(actor))
    }
}

/// The bearer token of the request itself (for signing out); 401 when absent.
#[derive(Debug, Clone)]
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match Credential::from_headers(&parts.headers) {
            Some(Credential::Bearer(token)) => Ok(Self(token)),
            None => Err(AppError::Unauthenticated.into()),
        }
    }
}

/// The client's address from the peer socket, or `unknown` when the server was not started with
/// connection info (as in in-process tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
        Ok(Self(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        phone: String,
        tags: Vec<minhu_domain::CallerTag>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        count: u32,
        citizen: Inner,
    }

    fn err(json: Value) -> ApiError {
        from_json_value::<Outer>(json).unwrap_err()
    }

    #[test]
    fn shape_errors_name_the_path() {
        let e = err(serde_json::json!({"count": 1, "citizen": {"tags": []}}));
        assert_eq!(
            (e.code.as_ref(), e.field.as_deref()),
            ("missing_field", Some("citizen.phone"))
        );
        let e = err(serde_json::json!({"count": "x", "citizen": {"phone": "1", "tags": []}}));
        assert_eq!(
            (e.code.as_ref(), e.field.as_deref()),
            ("invalid_type", Some("count"))
        );
        let e = err(serde_json::json!({"count": 1, "citizen": {"phone": "1", "tags": ["x"]}}));
        assert_eq!(
            (e.code.as_ref(), e.field.as_deref()),
            ("invalid_value", Some("citizen.tags[0]"))
        );
        let e =
            err(serde_json::json!({"count": 1, "citizen": {"phone": "1", "tags": [], "foo": 1}}));
        assert_eq!(
            (e.code.as_ref(), e.field.as_deref()),
            ("unknown_field", Some("citizen.foo"))
        );
        let e = err(serde_json::json!({"count": -1, "citizen": {"phone": "1", "tags": []}}));
        assert_eq!(
            (e.code.as_ref(), e.field.as_deref()),
            ("invalid_value", Some("count"))
        );
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Q {
        page: Option<u32>,
        unit: minhu_domain::DeadlineUnit,
        from: chrono::DateTime<chrono::Utc>,
    }

    fn query(q: &str) -> Result<Q, ApiError> {
        serde_path_to_error::deserialize::<_, Q>(QueryPairs::parse(Some(q))).map_err(|err| {
            shape_error(
                &render_path(err.path()),
                &err.inner().to_string(),
                StatusCode::BAD_REQUEST,
                Some("invalid_query"),
            )
        })
    }

    #[test]
    fn queries_parse_and_name_the_parameter() {
        let q = query("page=2&unit=working_days&from=2026-02-13T10:00:00%2B08:00").unwrap();
        assert_eq!(q.page, Some(2));
        assert_eq!(q.unit, minhu_domain::DeadlineUnit::WorkingDays);
        assert_eq!(q.from.to_rfc3339(), "2026-02-13T02:00:00+00:00");
        for (text, field) in [
            ("page=x&unit=working_days&from=2026-02-13T10:00:00Z", "page"),
            ("unit=weeks&from=2026-02-13T10:00:00Z", "unit"),
            ("unit=working_days&from=yesterday", "from"),
            ("unit=working_days", "from"),
            ("unit=working_days&from=2026-02-13T10:00:00Z&x=1", "x"),
        ] {
            let e = query(text).unwrap_err();
            assert_eq!(e.code, "invalid_query", "{text}");
            assert_eq!(e.field.as_deref(), Some(field), "{text}");
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
        }
    }
}
