//! 系统公告: the admin's list, create, edit and delete of announcements. Every change requires the
//! Admin role and is audited. (The desk reads the newest few through
//! [`App::latest_announcements`].)

use minhu_domain::Actor;

use super::admin::require_admin;
use super::{App, AppError, AppResult};
use crate::storage::{Announcement, NewAnnouncement};

/// The longest title, in characters.
pub const MAX_TITLE: usize = 100;
/// The longest body, in characters: the one limit of the admin pages (their `maxlength` too),
/// the service and the demo's announcements.
pub const MAX_BODY: usize = 5000;

/// Trims and checks a title and body: both required, within [`MAX_TITLE`] and [`MAX_BODY`]
/// characters (line breaks counted, and stored, as one).
pub(crate) fn validate(title: &str, body: &str) -> AppResult<(String, String)> {
    let title = title.trim();
    // Browsers send a textarea's line breaks as CRLF but count them as one character against
    // `maxlength`: store and count them as LF.
    let body = body.replace("\r\n", "\n");
    let body = body.trim();
    if title.is_empty() {
        return Err(AppError::invalid("title", "公告标题不能为空"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(AppError::invalid(
            "title",
            format!("公告标题不超过{MAX_TITLE}字"),
        ));
    }
    if body.is_empty() {
        return Err(AppError::invalid("body", "公告内容不能为空"));
    }
    if body.chars().count() > MAX_BODY {
        return Err(AppError::invalid(
            "body",
            format!(
                "公告内容不超过{MAX_BODY}字（现为{}字）",
                body.chars().count()
            ),
        ));
    }
    Ok((title.to_owned(), body.to_owned()))
}

impl App {
    /// Every announcement, newest first (admin).
    pub async fn list_all_announcements(&self, actor: &Actor) -> AppResult<Vec<Announcement>> {
        require_admin(actor)?;
        Ok(self.store.list_all_announcements().await?)
    }

    /// One announcement (admin).
    pub async fn find_announcement(&self, actor: &Actor, id: i64) -> AppResult<Announcement> {
        self.list_all_announcements(actor)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(AppError::NotFound { what: "公告" })
    }

    /// Publishes an announcement now, as `actor` (admin).
    pub async fn create_announcement(
        &self,
        actor: &Actor,
        title: &str,
        body: &str,
        address: Option<&str>,
    ) -> AppResult<Announcement> {
        require_admin(actor)?;
        let (title, body) = validate(title, body)?;
        let created = self
            .store
            .create_announcement(&NewAnnouncement {
                title,
                body,
                published_at: self.now(),
                created_by: Some(actor.user_id),
            })
            .await?;
        self.audit(
            Some(actor.user_id),
            "create_announcement",
            &created.id.to_string(),
            Some(created.title.clone()),
            address,
        )
        .await?;
        Ok(created)
    }

    /// Changes an announcement's title and body (admin).
    pub async fn update_announcement(
        &self,
        actor: &Actor,
        id: i64,
        title: &str,
        body: &str,
        address: Option<&str>,
    ) -> AppResult<Announcement> {
        require_admin(actor)?;
        let (title, body) = validate(title, body)?;
        let updated = self
            .store
            .update_announcement(id, &title, &body)
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::NotFound { .. } => AppError::NotFound { what: "公告" },
                other => other,
            })?;
        self.audit(
            Some(actor.user_id),
            "update_announcement",
            &id.to_string(),
            Some(updated.title.clone()),
            address,
        )
        .await?;
        Ok(updated)
    }

    /// Removes an announcement (admin).
    pub async fn delete_announcement(
        &self,
        actor: &Actor,
        id: i64,
        address: Option<&str>,
    ) -> AppResult<()> {
        let existing = self.find_announcement(actor, id).await?;
        self.store.delete_announcement(id).await?;
        self.audit(
            Some(actor.user_id),
            "delete_announcement",
            &id.to_string(),
            Some(existing.title),
            address,
        )
        .await
    }
}
