//! What the web workbench needs besides the order use cases: counts for the desk, announcements,
//! and the small reference lists (units, categories, people's names) a page shows by name.

use std::collections::HashMap;

use minhu_domain::{Actor, Role, UnitInfo};

use super::orders::scope_of;
use super::{App, AppError, AppResult};
use crate::storage::{Announcement, Category, NewAnnouncement, OrderFilter, PageRequest};

/// The units and categories of the centre, looked up by id. Both lists are small (hundreds of
/// rows), so a page loads them once instead of asking per row.
#[derive(Debug, Clone, Default)]
pub struct ReferenceData {
    pub units: Vec<UnitInfo>,
    pub categories: Vec<Category>,
    unit_index: HashMap<i64, usize>,
    category_index: HashMap<i64, usize>,
}

impl ReferenceData {
    /// Indexes the lists.
    #[must_use]
    pub fn new(units: Vec<UnitInfo>, categories: Vec<Category>) -> Self {
        let unit_index = units.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
        let category_index = categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        Self {
            units,
            categories,
            unit_index,
            category_index,
        }
    }

    /// A unit by id.
    #[must_use]
    pub fn unit(&self, id: i64) -> Option<&UnitInfo> {
        self.unit_index.get(&id).and_then(|i| self.units.get(*i))
    }

    /// A unit's name, or `#id` when unknown.
    #[must_use]
    pub fn unit_name(&self, id: i64) -> String {
        self.unit(id)
            .map_or_else(|| format!("#{id}"), |u| u.name.clone())
    }

    /// A category by id.
    #[must_use]
    pub fn category(&self, id: i64) -> Option<&Category> {
        self.category_index
            .get(&id)
            .and_then(|i| self.categories.get(*i))
    }

    /// A category's full name from the root, `城乡建设 › 供水 › 停水`.
    #[must_use]
    pub fn category_path(&self, id: i64) -> String {
        let Some(category) = self.category(id) else {
            return format!("#{id}");
        };
        let mut chain = category.chain();
        chain.reverse();
        chain
            .iter()
            .filter_map(|c| self.category(*c).map(|c| c.name.as_str()))
            .collect::<Vec<_>>()
            .join(" › ")
    }

    /// Active units directly under `parent`, by code.
    #[must_use]
    pub fn children(&self, parent: i64) -> Vec<&UnitInfo> {
        let mut list: Vec<&UnitInfo> = self
            .units
            .iter()
            .filter(|u| u.active && u.parent_id == Some(parent))
            .collect();
        list.sort_by(|a, b| a.code.cmp(&b.code));
        list
    }
}

impl App {
    /// The units and categories, for showing names and building pickers.
    pub async fn reference_data(&self) -> AppResult<ReferenceData> {
        let (units, categories) =
            tokio::try_join!(self.store.list_units(), self.store.list_categories())?;
        Ok(ReferenceData::new(units, categories))
    }

    /// Display names of the people with these ids (for history lines), by id.
    pub async fn user_names(&self, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| ids.contains(&u.id))
            .map(|u| (u.id, u.display_name))
            .collect())
    }

    /// How many orders the actor may see match `filter` (for the desk's counters).
    pub async fn count_orders(&self, actor: &Actor, mut filter: OrderFilter) -> AppResult<i64> {
        if filter.now.is_none() {
            filter.now = Some(self.now());
        }
        let page = PageRequest {
            limit: 0,
            offset: 0,
        };
        Ok(self
            .store
            .list_orders(&filter, &scope_of(actor), &page)
            .await?
            .total)
    }

    /// The newest announcements, newest first.
    pub async fn latest_announcements(&self, limit: i64) -> AppResult<Vec<Announcement>> {
        Ok(self.store.list_announcements(limit).await?)
    }

    /// Publishes an announcement (admins; the demo seeds a few as the system).
    pub async fn publish_announcement(
        &self,
        actor: Option<&Actor>,
        title: &str,
        body: &str,
    ) -> AppResult<Announcement> {
        if let Some(actor) = actor
            && !actor.has_role(Role::Admin)
        {
            return Err(AppError::forbidden("只有系统管理员可以发布公告"));
        }
        let (title, body) = super::announcements::validate(title, body)?;
        let created = self
            .store
            .create_announcement(&NewAnnouncement {
                title,
                body,
                published_at: self.now(),
                created_by: actor.map(|a| a.user_id),
            })
            .await?;
        self.audit(
            actor.map(|a| a.user_id),
            "publish_announcement",
            &created.id.to_string(),
            Some(created.title.clone()),
            None,
        )
        .await?;
        Ok(created)
    }
}
