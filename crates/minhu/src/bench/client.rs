//! The load generator's HTTP client: one `reqwest` client (so one keep-alive connection) per
//! simulated person, bearer tokens, and failures as short messages rather than panics.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How much of an error answer's body a message quotes.
const QUOTED_BODY: usize = 300;

/// A request that did not succeed.
#[derive(Debug, Clone)]
pub enum CallError {
    /// The server answered with a status outside 2xx.
    Status(StatusCode, String),
    /// No answer: refused, reset, timed out.
    Transport(String),
    /// A 2xx answer whose body was not what was expected.
    Decode(String),
}

impl CallError {
    /// Whether the server could not be reached at all (worth a pause before trying again).
    #[must_use]
    pub fn is_transport(&self) -> bool {
        matches!(self, Self::Transport(_))
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status(status, body) => write!(f, "HTTP {status}: {body}"),
            Self::Transport(message) => write!(f, "no answer: {message}"),
            Self::Decode(message) => write!(f, "unexpected answer: {message}"),
        }
    }
}

impl std::error::Error for CallError {}

/// A signed-in demo account.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token.
    pub token: String,
    /// The id of the account's unit.
    pub unit_id: i64,
}

/// The answer to a sign-in, as far as the bench needs it.
#[derive(Debug, Deserialize)]
struct LoginAnswer {
    token: String,
    user: LoginUser,
}

#[derive(Debug, Deserialize)]
struct LoginUser {
    unit: LoginUnit,
}

#[derive(Debug, Deserialize)]
struct LoginUnit {
    id: i64,
}

/// A client of one minhu server.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A client with its own connection to `base` (`http://127.0.0.1:8080`).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// The server's address.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request and returns the body of a 2xx answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<bytes::Bytes, CallError> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| CallError::Transport(error_chain(&e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CallError::Transport(error_chain(&e)))?;
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(CallError::Status(status, quote(&bytes)))
        }
    }

    /// GET with a token; the body is read and dropped.
    pub async fn get(&self, path: &str, token: &str) -> Result<(), CallError> {
        self.send(Method::GET, path, Some(token), None)
            .await
            .map(drop)
    }

    /// GET with a token, the answer parsed as `T`.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
    ) -> Result<T, CallError> {
        let bytes = self.send(Method::GET, path, Some(token), None).await?;
        parse(&bytes)
    }

    /// GET without a token, the answer parsed as `T`.
    pub async fn get_json_anonymous<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, CallError> {
        let bytes = self.send(Method::GET, path, None, None).await?;
        parse(&bytes)
    }

    /// POST JSON with a token, the answer parsed as `T`.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        body: &Value,
    ) -> Result<T, CallError> {
        let bytes = self
            .send(Method::POST, path, Some(token), Some(body))
            .await?;
        parse(&bytes)
    }

    /// Signs `username` in; a refused sign-in or an unreachable server is an error that says so.
    pub async fn login(&self, username: &str, password: &str) -> anyhow::Result<Session> {
        let body = json!({"username": username, "password": password});
        let bytes = self
            .send(Method::POST, "/api/v1/auth/login", None, Some(&body))
            .await
            .map_err(|e| match e {
                CallError::Transport(message) => {
                    anyhow!("cannot reach the minhu server at {}: {message}", self.base)
                }
                CallError::Status(status, body) => anyhow!(
                    "the server refused the sign-in of the demo account {username} (HTTP \
                     {status}: {body}); is it a demo city (minhu demo / minhu gen), and is the \
                     password right (--password or MINHU_DEMO_PASSWORD)?"
                ),
                CallError::Decode(message) => anyhow!("sign-in of {username}: {message}"),
            })?;
        let answer: LoginAnswer =
            parse(&bytes).map_err(|e| anyhow!("sign-in of {username}: {e}"))?;
        Ok(Session {
            token: answer.token,
            unit_id: answer.user.unit.id,
        })
    }
}

/// Parses a JSON answer.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CallError> {
    serde_json::from_slice(bytes).map_err(|e| CallError::Decode(format!("{e}: {}", quote(bytes))))
}

/// The start of a body, for messages.
fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut quoted: String = text.chars().take(QUOTED_BODY).collect();
    if quoted.len() < text.len() {
        quoted.push('…');
    }
    quoted
}

/// An error with its causes (reqwest hides the useful part, e.g. "connection refused", in them).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The number and version of an order in an answer.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderRef {
    /// 工单编号.
    pub number: String,
    /// The version, for the next action's optimistic check.
    pub version: i64,
}
