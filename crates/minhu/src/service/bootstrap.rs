//! Bootstrap: what an empty centre needs before anyone can sign in.
//!
//! Idempotent: each step looks at what is there and adds only what is missing, so `serve` runs it
//! on every start. The shipped calendar (2025 and 2026) fills an empty calendar table, the
//! default time limits of PRODUCT.md §4 fill an empty policy table, the city centre unit is created
//! in an organisation without units, and an `admin` account in a database without users.

use minhu_domain::calendar::china_official_days;
use minhu_domain::policy::default_rules;
use minhu_domain::{Role, UnitKind};

use super::auth::random_password;
use super::{App, AppError, AppResult};
use crate::storage::{NewPolicyRule, NewUnit};

/// The code of the city centre unit created on an empty database.
pub const CENTRE_CODE: &str = "CENTRE";
/// The name of the city centre unit created on an empty database.
pub const CENTRE_NAME: &str = "市12345热线中心";
/// The username of the first administrator.
pub const ADMIN_USERNAME: &str = "admin";

/// What a bootstrap added. Everything is zero or `false` when the database was already set up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootstrapReport {
    /// Calendar days stored because the calendar was empty.
    pub calendar_days_added: usize,
    /// Global time-limit rules stored because there were none.
    pub policy_rules_added: usize,
    /// Whether the city centre unit was created.
    pub centre_created: bool,
    /// Whether the `admin` account was created.
    pub admin_created: bool,
    /// The generated password of a new `admin` account, to be shown once. `None` when no account
    /// was created or when the password came from the configuration.
    pub generated_admin_password: Option<String>,
}

impl BootstrapReport {
    /// Whether the bootstrap changed anything.
    #[must_use]
    pub fn changed_anything(&self) -> bool {
        self.calendar_days_added > 0
            || self.policy_rules_added > 0
            || self.centre_created
            || self.admin_created
    }
}

impl App {
    /// Sets up an empty centre; does nothing to a database that is already set up. A new `admin`
    /// gets `MINHU_ADMIN_PASSWORD`, or else a random password returned in the report.
    pub async fn bootstrap(&self) -> AppResult<BootstrapReport> {
        let configured = self.config.admin_password.clone();
        self.bootstrap_with_admin_password(configured).await
    }

    /// [`App::bootstrap`] with the password a new `admin` account gets (`None`: random).
    pub async fn bootstrap_with_admin_password(
        &self,
        admin_password: Option<String>,
    ) -> AppResult<BootstrapReport> {
        let mut report = BootstrapReport::default();

        if self.store.list_calendar_days().await?.is_empty() {
            let days = china_official_days();
            self.store.upsert_calendar_days(&days).await?;
            report.calendar_days_added = days.len();
        }

        if self.store.list_policies().await?.is_empty() {
            for rule in default_rules() {
                self.store
                    .create_policy(&NewPolicyRule {
                        category_id: None,
                        order_type: rule.order_type,
                        urgency: rule.urgency,
                        step: rule.step,
                        limit: rule.limit,
                    })
                    .await?;
                report.policy_rules_added += 1;
            }
        }

        let units = self.store.list_units().await?;
        let centre = match units.into_iter().find(|u| u.kind == UnitKind::CityCentre) {
            Some(centre) => centre,
            None => {
                report.centre_created = true;
                self.store
                    .create_unit(&NewUnit {
                        code: CENTRE_CODE.to_owned(),
                        name: CENTRE_NAME.to_owned(),
                        kind: UnitKind::CityCentre,
                        parent_id: None,
                        is_dispatch_point: true,
                    })
                    .await?
            }
        };

        if self.store.count_users().await? == 0 {
            let (password, generated) = match admin_password {
                Some(p) if !p.is_empty() => (p, false),
                _ => (random_password(), true),
            };
            self.create_user_with_password(
                ADMIN_USERNAME,
                "系统管理员",
                centre.id,
                &[Role::Admin],
                &password,
            )
            .await
            .map_err(|e| match e {
                AppError::Invalid { message, .. } => AppError::invalid(
                    "admin_password",
                    format!("MINHU_ADMIN_PASSWORD 不可用：{message}"),
                ),
                other => other,
            })?;
            report.admin_created = true;
            if generated {
                report.generated_admin_password = Some(password);
            }
        }

        if report.changed_anything() {
            let detail = format!(
                "calendar_days={} policy_rules={} centre={} admin={}",
                report.calendar_days_added,
                report.policy_rules_added,
                report.centre_created,
                report.admin_created
            );
            self.audit(None, "bootstrap", "system", Some(detail), None)
                .await?;
        }
        Ok(report)
    }
}
