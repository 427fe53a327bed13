//! Administration: the unit tree, users, categories, time-limit policies, the dispatch catalogue,
//! the calendar and the audit log.
//!
//! Reading units, categories and the calendar is open to every signed-in person (intake needs
//! them); everything else needs the admin role. Every change is validated here and leaves an
//! audit line.

use chrono::{Datelike, NaiveDate};
use minhu_domain::calendar::CalendarDay;
use minhu_domain::{Actor, CalendarDayKind, PolicyRule, Role, UnitInfo, UnitKind};

use super::auth::check_password_strength;
use super::{App, AppError, AppResult};
use crate::storage::{
    AuditEntry, CatalogueEntry, Category, CategoryPatch, NewCatalogueEntry, NewCategory,
    NewPolicyRule, NewUnit, UnitPatch, User, UserPatch, unit_can_handle,
};

/// The most levels the category tree may have.
pub const MAX_CATEGORY_LEVEL: i32 = 4;
/// The largest amount a time-limit policy may have.
pub const MAX_LIMIT_AMOUNT: u32 = 1000;
/// The most audit lines one request may read.
pub const MAX_AUDIT_LIMIT: i64 = 1000;

/// A user to create through the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateUser {
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub roles: Vec<Role>,
    pub password: String,
}

/// Refuses anyone but an admin.
pub fn require_admin(actor: &Actor) -> AppResult<()> {
    if actor.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(AppError::forbidden("没有执行该操作的权限：需要系统管理员"))
    }
}

/// A code: 1–32 ASCII letters, digits, `-` or `_`.
fn check_code(code: &str) -> AppResult<()> {
    let ok = (1..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "code",
            "编码须为1到32位字母、数字、下划线或连字符",
        ))
    }
}

/// A name: trimmed, non-empty, at most `max` characters.
fn check_name(field: &str, name: &str, max: usize) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid(field, "名称不能为空"));
    }
    if name.chars().count() > max {
        return Err(AppError::invalid(field, format!("名称不能超过{max}字")));
    }
    Ok(name.to_owned())
}

fn display_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(AppError::invalid(
            "display_name",
            "姓名不能为空且不超过50字",
        ));
    }
    Ok(name.to_owned())
}

fn to_json(value: &impl serde::Serialize) -> Option<String> {
    serde_json::to_string(value).ok()
}

impl App {
    async fn admin_audit(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        detail: Option<String>,
        address: Option<&str>,
    ) -> AppResult<()> {
        self.audit(Some(actor.user_id), action, target, detail, address)
            .await
    }

    // ---- units ----

    /// Every unit, as a flat list with parent and path (any signed-in person).
    pub async fn list_units(&self, _actor: &Actor) -> AppResult<Vec<UnitInfo>> {
        let mut units = self.store.list_units().await?;
        units.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id)));
        Ok(units)
    }

    /// Creates a unit under an existing parent.
    pub async fn create_unit(
        &self,
        actor: &Actor,
        unit: NewUnit,
        address: Option<&str>,
    ) -> AppResult<UnitInfo> {
        require_admin(actor)?;
        check_code(&unit.code)?;
        let name = check_name("name", &unit.name, 100)?;
        match unit.parent_id {
            Some(parent_id) => {
                if self.store.find_unit(parent_id).await?.is_none() {
                    return Err(AppError::invalid("parent_id", "上级单位不存在"));
                }
                if unit.kind == UnitKind::CityCentre {
                    return Err(AppError::invalid("kind", "市热线中心只能是根单位"));
                }
            }
            None if unit.kind != UnitKind::CityCentre => {
                return Err(AppError::invalid("parent_id", "请指定上级单位"));
            }
            None => {}
        }
        let new = NewUnit { name, ..unit };
        let created = self.store.create_unit(&new).await?;
        self.reference.forget();
        self.admin_audit(actor, "create_unit", &created.code, to_json(&new), address)
            .await?;
        Ok(created)
    }

    /// Renames, (de)activates or changes a unit's dispatch-point flag.
    pub async fn update_unit(
        &self,
        actor: &Actor,
        id: i64,
        patch: UnitPatch,
        address: Option<&str>,
    ) -> AppResult<UnitInfo> {
        require_admin(actor)?;
        let existing = self
            .store
            .find_unit(id)
            .await?
            .ok_or(AppError::NotFound { what: "单位" })?;
        let name = match &patch.name {
            Some(name) => Some(check_name("name", name, 100)?),
            None => None,
        };
        if patch.active == Some(false) && existing.kind == UnitKind::CityCentre {
            return Err(AppError::invalid("active", "不能停用市热线中心"));
        }
        let patch = UnitPatch { name, ..patch };
        let updated = self.store.update_unit(id, &patch).await?;
        self.reference.forget();
        self.admin_audit(
            actor,
            "update_unit",
            &updated.code,
            to_json(&patch),
            address,
        )
        .await?;
        Ok(updated)
    }

    // ---- users ----

    /// Every user (admin only). Password hashes stay in storage.
    pub async fn list_users(&self, actor: &Actor) -> AppResult<Vec<User>> {
        require_admin(actor)?;
        Ok(self.store.list_users().await?)
    }

    /// Creates a user with an initial password.
    pub async fn admin_create_user(
        &self,
        actor: &Actor,
        user: CreateUser,
        address: Option<&str>,
    ) -> AppResult<User> {
        require_admin(actor)?;
        super::auth::validate_username(&user.username)?;
        if self
            .store
            .find_user_by_username(&user.username)
            .await?
            .is_some()
        {
            return Err(AppError::Duplicate {
                field: "username".to_owned(),
            });
        }
        let created = self
            .create_user_with_password(
                &user.username,
                &user.display_name,
                user.unit_id,
                &user.roles,
                &user.password,
            )
            .await?;
        let detail = serde_json::json!({
            "display_name": created.display_name,
            "unit_id": created.unit_id,
            "roles": created.roles,
        });
        self.admin_audit(
            actor,
            "create_user",
            &created.username,
            Some(detail.to_string()),
            address,
        )
        .await?;
        Ok(created)
    }

    /// Changes a user's name, unit, roles or active flag.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: i64,
        patch: UserPatch,
        address: Option<&str>,
    ) -> AppResult<User> {
        require_admin(actor)?;
        if self.store.find_user(id).await?.is_none() {
            return Err(AppError::NotFound { what: "用户" });
        }
        let display_name = match &patch.display_name {
            Some(name) => Some(display_name(name)?),
            None => None,
        };
        if let Some(unit_id) = patch.unit_id
            && self.store.find_unit(unit_id).await?.is_none()
        {
            return Err(AppError::invalid("unit_id", "所属单位不存在"));
        }
        if let Some(roles) = &patch.roles
            && roles.is_empty()
        {
            return Err(AppError::invalid("roles", "至少需要一个角色"));
        }
        if id == actor.user_id {
            if patch.active == Some(false) {
                return Err(AppError::invalid("active", "不能停用自己的账号"));
            }
            if let Some(roles) = &patch.roles
                && !roles.contains(&Role::Admin)
            {
                return Err(AppError::invalid("roles", "不能去掉自己的系统管理员角色"));
            }
        }
        let patch = UserPatch {
            display_name,
            ..patch
        };
        let updated = self.store.update_user(id, &patch).await?;
        self.admin_audit(
            actor,
            "update_user",
            &updated.username,
            to_json(&patch),
            address,
        )
        .await?;
        Ok(updated)
    }

    /// Sets a new password for a user (who forgot theirs).
    pub async fn reset_password(
        &self,
        actor: &Actor,
        id: i64,
        password: &str,
        address: Option<&str>,
    ) -> AppResult<()> {
        require_admin(actor)?;
        let user = self
            .store
            .find_user(id)
            .await?
            .ok_or(AppError::NotFound { what: "用户" })?;
        check_password_strength(password)?;
        let hash = self.password_work.hash(password).await?;
        self.store.set_password(id, &hash).await?;
        self.admin_audit(actor, "reset_password", &user.username, None, address)
            .await
    }

    // ---- categories ----

    /// The category tree as a flat list in tree order (any signed-in person).
    pub async fn list_categories(&self, _actor: &Actor) -> AppResult<Vec<Category>> {
        let mut categories = self.store.list_categories().await?;
        categories.sort_by(|a, b| a.code.cmp(&b.code).then(a.id.cmp(&b.id)));
        Ok(categories)
    }

    /// Creates a category under an existing parent, at most four levels deep.
    pub async fn create_category(
        &self,
        actor: &Actor,
        category: NewCategory,
        address: Option<&str>,
    ) -> AppResult<Category> {
        require_admin(actor)?;
        check_code(&category.code)?;
        let name = check_name("name", &category.name, 100)?;
        if let Some(parent_id) = category.parent_id {
            let parent = self
                .store
                .find_category(parent_id)
                .await?
                .ok_or_else(|| AppError::invalid("parent_id", "上级分类不存在"))?;
            if parent.level >= MAX_CATEGORY_LEVEL {
                return Err(AppError::invalid(
                    "parent_id",
                    format!("问题分类最多{MAX_CATEGORY_LEVEL}级"),
                ));
            }
        }
        let new = NewCategory { name, ..category };
        let created = self.store.create_category(&new).await?;
        self.reference.forget();
        self.admin_audit(
            actor,
            "create_category",
            &created.code,
            to_json(&new),
            address,
        )
        .await?;
        Ok(created)
    }

    /// Renames or (de)activates a category.
    pub async fn update_category(
        &self,
        actor: &Actor,
        id: i64,
        patch: CategoryPatch,
        address: Option<&str>,
    ) -> AppResult<Category> {
        require_admin(actor)?;
        if self.store.find_category(id).await?.is_none() {
            return Err(AppError::NotFound {
                what: "问题分类"
            });
        }
        let name = match &patch.name {
            Some(name) => Some(check_name("name", name, 100)?),
            None => None,
        };
        let patch = CategoryPatch { name, ..patch };
        let updated = self.store.update_category(id, &patch).await?;
        self.reference.forget();
        self.admin_audit(
            actor,
            "update_category",
            &updated.code,
            to_json(&patch),
            address,
        )
        .await?;
        Ok(updated)
    }

    // ---- time-limit policies ----

    /// Every stored policy rule (admin).
    pub async fn list_policies(&self, actor: &Actor) -> AppResult<Vec<PolicyRule>> {
        require_admin(actor)?;
        Ok(self.store.list_policies().await?)
    }

    /// Adds a policy rule.
    pub async fn create_policy(
        &self,
        actor: &Actor,
        rule: NewPolicyRule,
        address: Option<&str>,
    ) -> AppResult<PolicyRule> {
        require_admin(actor)?;
        if let Some(category_id) = rule.category_id
            && self.store.find_category(category_id).await?.is_none()
        {
            return Err(AppError::invalid("category_id", "问题分类不存在"));
        }
        if !(1..=MAX_LIMIT_AMOUNT).contains(&rule.limit.amount) {
            return Err(AppError::invalid(
                "limit.amount",
                format!("时限须在1到{MAX_LIMIT_AMOUNT}之间"),
            ));
        }
        let created = self.store.create_policy(&rule).await?;
        self.reference.forget();
        self.admin_audit(
            actor,
            "create_policy",
            &created.id.to_string(),
            to_json(&rule),
            address,
        )
        .await?;
        Ok(created)
    }

    /// Removes a policy rule.
    pub async fn delete_policy(
        &self,
        actor: &Actor,
        id: i64,
        address: Option<&str>,
    ) -> AppResult<()> {
        require_admin(actor)?;
        let existing = self
            .store
            .list_policies()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(AppError::NotFound {
                what: "时限规则"
            })?;
        self.store.delete_policy(id).await?;
        self.reference.forget();
        self.admin_audit(
            actor,
            "delete_policy",
            &id.to_string(),
            to_json(&existing),
            address,
        )
        .await
    }

    // ---- dispatch catalogue ----

    /// The dispatch catalogue (admin; dispatchers get its suggestions from
    /// [`App::suggest_units`]).
    pub async fn list_catalogue(&self, actor: &Actor) -> AppResult<Vec<CatalogueEntry>> {
        require_admin(actor)?;
        Ok(self.store.list_catalogue().await?)
    }

    /// Adds a catalogue entry: this category (in this district) goes to this unit.
    pub async fn create_catalogue_entry(
        &self,
        actor: &Actor,
        entry: NewCatalogueEntry,
        address: Option<&str>,
    ) -> AppResult<CatalogueEntry> {
        require_admin(actor)?;
        if self.store.find_category(entry.category_id).await?.is_none() {
            return Err(AppError::invalid("category_id", "问题分类不存在"));
        }
        match self.store.find_unit(entry.unit_id).await? {
            Some(unit) if unit_can_handle(unit.kind) && unit.active => {}
            _ => {
                return Err(AppError::invalid("unit_id", "承办单位不存在或不能承办工单"));
            }
        }
        if let Some(district_id) = entry.district_id {
            match self.store.find_unit(district_id).await? {
                Some(unit) if unit.kind == UnitKind::DistrictCentre => {}
                _ => return Err(AppError::invalid("district_id", "区不存在")),
            }
        }
        let note = match entry.note.as_deref().map(str::trim) {
            Some(note) if note.chars().count() > 500 => {
                return Err(AppError::invalid("note", "备注不能超过500字"));
            }
            Some("") | None => None,
            Some(note) => Some(note.to_owned()),
        };
        let entry = NewCatalogueEntry { note, ..entry };
        let created = self.store.create_catalogue_entry(&entry).await?;
        self.admin_audit(
            actor,
            "create_catalogue_entry",
            &created.id.to_string(),
            to_json(&entry),
            address,
        )
        .await?;
        Ok(created)
    }

    /// Removes a catalogue entry.
    pub async fn delete_catalogue_entry(
        &self,
        actor: &Actor,
        id: i64,
        address: Option<&str>,
    ) -> AppResult<()> {
        require_admin(actor)?;
        let existing = self
            .store
            .list_catalogue()
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or(AppError::NotFound {
                what: "派单目录条目",
            })?;
        self.store.delete_catalogue_entry(id).await?;
        self.admin_audit(
            actor,
            "delete_catalogue_entry",
            &id.to_string(),
            to_json(&existing),
            address,
        )
        .await
    }

    // ---- calendar ----

    /// The calendar's exception days, optionally of one year (any signed-in person).
    pub async fn list_calendar_days(
        &self,
        _actor: &Actor,
        year: Option<i32>,
    ) -> AppResult<Vec<CalendarDay>> {
        let mut days = self.store.list_calendar_days().await?;
        if let Some(year) = year {
            days.retain(|d| d.date.year() == year);
        }
        days.sort_by_key(|d| d.date);
        Ok(days)
    }

    /// Marks a date as a holiday or a make-up working day (replacing what was there).
    pub async fn set_calendar_day(
        &self,
        actor: &Actor,
        date: NaiveDate,
        kind: CalendarDayKind,
        name: &str,
        address: Option<&str>,
    ) -> AppResult<CalendarDay> {
        require_admin(actor)?;
        let name = check_name("name", name, 50)?;
        let day = CalendarDay { date, kind, name };
        self.store
            .upsert_calendar_days(std::slice::from_ref(&day))
            .await?;
        self.reference.forget();
        self.admin_audit(
            actor,
            "set_calendar_day",
            &date.to_string(),
            to_json(&day),
            address,
        )
        .await?;
        Ok(day)
    }

    /// Removes a date's exception: it follows the Monday–Friday week again.
    pub async fn delete_calendar_day(
        &self,
        actor: &Actor,
        date: NaiveDate,
        address: Option<&str>,
    ) -> AppResult<()> {
        require_admin(actor)?;
        if !self.store.delete_calendar_day(date).await? {
            return Err(AppError::NotFound {
                what: "日历日期"
            });
        }
        self.reference.forget();
        self.admin_audit(
            actor,
            "delete_calendar_day",
            &date.to_string(),
            None,
            address,
        )
        .await
    }

    // ---- audit ----

    /// The newest audit lines, at most [`MAX_AUDIT_LIMIT`].
    pub async fn list_audit(&self, actor: &Actor, limit: i64) -> AppResult<Vec<AuditEntry>> {
        require_admin(actor)?;
        if !(1..=MAX_AUDIT_LIMIT).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                format!("条数须在1到{MAX_AUDIT_LIMIT}之间"),
            ));
        }
        Ok(self.store.list_audit(limit).await?)
    }
}
