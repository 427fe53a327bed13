//! Use cases: each gathers the facts a decision needs from storage, lets the domain decide, stores
//! the result and writes the audit trail. HTTP handlers and the CLI call these and nothing below.

pub mod admin;
pub mod announcements;
pub mod attachments;
pub mod auth;
pub mod bootstrap;
pub mod desk;
pub mod knowledge;
pub mod orders;
pub mod password;
pub mod queues;
pub mod reference;
pub mod search;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use minhu_domain::calendar::Calendar;
use minhu_domain::{DomainError, Limits, OrderType, Urgency};

use crate::config::Config;
use crate::storage::{NewAuditEntry, Store, StoreError};

/// The application: configuration and storage, shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    /// Units, categories, policies and the calendar, held between requests.
    pub reference: Arc<reference::ReferenceCache>,
    /// Password hashing for sign-ins, password changes and new users: one hashing per core at a
    /// time, each in one of at most that many reused 19 MiB buffers. Fresh buffers per hash stayed
    /// resident in glibc's per-thread arenas (32 sign-ins at once left 100–470 MB behind).
    pub password_work: password::PasswordWork,
}

/// Why a use case failed. Each variant has a stable code (the API's `error.code`).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A lifecycle rule refused the action.
    #[error("{0}")]
    Domain(#[from] DomainError),
    /// No valid credentials were presented.
    #[error("请先登录")]
    Unauthenticated,
    /// Wrong username or password.
    #[error("用户名或密码错误")]
    InvalidCredentials,
    /// Too many failed sign-ins recently.
    #[error("登录失败次数过多，请{retry_after_minutes}分钟后再试")]
    TooManyAttempts { retry_after_minutes: u32 },
    /// The thing asked for does not exist or is outside the caller's scope.
    #[error("{what}不存在或不在您的数据范围内")]
    NotFound { what: &'static str },
    /// The record changed since the caller read it; someone else acted first.
    #[error("工单已被他人处理或已更新，请刷新后重试")]
    Conflict,
    /// A field's value is wrong.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// A unique value is already taken.
    #[error("{field}已存在")]
    Duplicate { field: String },
    /// The caller lacks the right for this.
    #[error("{message}")]
    Forbidden { message: String },
    /// An attached file is refused (too many, too large, wrong kind, no name); `code` says
    /// which (see [`attachments::check_uploads`]). The field is `files`.
    #[error("{message}")]
    File { code: &'static str, message: String },
    /// Anything unexpected; logged, answered as a 500 without details.
    #[error("服务器内部错误")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// The stable error code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Domain(e) => e.code(),
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::NotFound { .. } => "not_found",
            Self::Conflict => "version_conflict",
            Self::Invalid { .. } => "invalid_field",
            Self::Duplicate { .. } => "duplicate",
            Self::Forbidden { .. } => "forbidden",
            Self::File { code, .. } => code,
            Self::Internal(_) => "internal",
        }
    }

    /// The request field the error concerns, if any.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Domain(e) => e.field(),
            Self::Invalid { field, .. } | Self::Duplicate { field } => Some(field),
            Self::File { .. } => Some("files"),
            _ => None,
        }
    }

    /// An invalid-field error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// A missing-right error.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            message: message.into(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict => Self::Conflict,
            StoreError::NotFound => Self::NotFound { what: "记录" },
            StoreError::Duplicate { field } => Self::Duplicate { field },
            StoreError::InvalidReference { field } => Self::Invalid {
                message: format!("{field}引用的记录不存在"),
                field,
            },
            StoreError::Database(e) => Self::Internal(e),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(err)
    }
}

/// The result of a use case.
pub type AppResult<T> = Result<T, AppError>;

impl App {
    /// An app over a store with a configuration.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, config: Config) -> Self {
        Self {
            store,
            config: Arc::new(config),
            reference: Arc::default(),
            password_work: password::PasswordWork::per_core(),
        }
    }

    /// The current instant. One place, so that the rest never calls the clock itself.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// The working-time calendar as stored (holidays, make-up days) with the configured time zone
    /// and working hours.
    pub async fn calendar(&self) -> AppResult<Calendar> {
        Ok(self.reference().await?.calendar.clone())
    }

    /// This year and next (in the configured time zone) if the stored calendar has no holiday
    /// data for them: deadlines in such a year count Monday to Friday only, so an admin should
    /// import the State Council's notice (`minhu calendar import`).
    pub async fn calendar_gaps(&self) -> AppResult<Vec<i32>> {
        use chrono::Datelike as _;
        let calendar = self.calendar().await?;
        let year = calendar.local_date(self.now()).year();
        Ok([year, year + 1]
            .into_iter()
            .filter(|y| !calendar.has_data_for(*y))
            .collect())
    }

    /// The time limits of an order of this category, type and urgency.
    pub async fn limits_for(
        &self,
        category_id: i64,
        order_type: OrderType,
        urgency: Urgency,
    ) -> AppResult<Limits> {
        let reference = self.reference().await?;
        let category = reference
            .category(category_id)
            .ok_or_else(|| AppError::invalid("category_id", "问题分类不存在"))?;
        let chain = category.chain();
        let rules = reference.policies_for(&chain);
        Ok(minhu_domain::policy::resolve_limits(
            &rules, &chain, order_type, urgency,
        ))
    }

    /// Writes one audit line; a failure to audit fails the request that caused it.
    pub async fn audit(
        &self,
        user_id: Option<i64>,
        action: &str,
        target: &str,
        detail: Option<String>,
        address: Option<&str>,
    ) -> AppResult<()> {
        self.store
            .write_audit(&NewAuditEntry {
                at: self.now(),
                user_id,
                action: action.to_owned(),
                target: target.to_owned(),
                detail,
                address: address.map(str::to_owned),
            })
            .await?;
        Ok(())
    }
}
