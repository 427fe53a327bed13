//! Work-order use cases: register, act, read, list.

use chrono::{DateTime, Utc};
use minhu_domain::lifecycle;
use minhu_domain::masking::{mask_name, mask_phone};
use minhu_domain::permissions;
use minhu_domain::{
    Action, ActionContext, Actor, Citizen, NewOrder, Order, OrderAggregate, TimeLimit,
    UnitDirectory, UnitInfo, WarningLevel,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::attachments::Upload;
use super::{App, AppError, AppResult};
use crate::storage::{
    Attachment, HistoryEntry, OrderFilter, OrderListItem, OrderPage, PageRequest, RegisteredOrder,
    Scope,
};

/// How much of the citizen a person may see on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CitizenVisibility {
    /// Centre staff: everything (each view is audited).
    Full,
    /// Handling units: phone and name masked (`138****5678`, `张*`).
    Masked,
    /// Handling units on a confidential (保密) order: nothing.
    Hidden,
}

/// An order as one person may see it, with what they may do to it now.
#[derive(Debug, Clone)]
pub struct OrderDetail {
    pub aggregate: OrderAggregate,
    pub history: Vec<HistoryEntry>,
    /// The files that came with its actions (附件), without their bytes, oldest first.
    pub attachments: Vec<Attachment>,
    pub available_actions: Vec<&'static str>,
    pub citizen_visibility: CitizenVisibility,
    pub warning: Option<WarningLevel>,
    /// For a merged order (已并单): the order it was merged into, with whose answer and visit
    /// it is handled.
    pub merged_into: Option<Order>,
    /// The orders merged into this one (重复件), oldest first, citizens masked: their callers
    /// are answered and visited with this order.
    pub repeats: Vec<OrderListItem>,
}

/// What an order's detail view shows besides the order and its assignments.
struct DetailRelations {
    history: Vec<HistoryEntry>,
    attachments: Vec<Attachment>,
    merged_into: Option<Order>,
    repeats: Vec<OrderListItem>,
}

/// The warning level of an order's active deadline at `now`, if it has one.
#[must_use]
pub fn warning_of(order: &Order, now: DateTime<Utc>) -> Option<WarningLevel> {
    order
        .active_deadline
        .as_ref()
        .map(|d| minhu_domain::warning::warning_level(d, now))
}

/// What `actor` may see of the citizen of `order`.
#[must_use]
pub fn citizen_visibility(actor: &Actor, order: &Order) -> CitizenVisibility {
    if actor.sees_personal_data() {
        CitizenVisibility::Full
    } else if order.citizen.confidential {
        CitizenVisibility::Hidden
    } else {
        CitizenVisibility::Masked
    }
}

/// The citizen as shown under a visibility.
#[must_use]
pub fn present_citizen(citizen: &Citizen, visibility: CitizenVisibility) -> Citizen {
    match visibility {
        CitizenVisibility::Full => citizen.clone(),
        CitizenVisibility::Masked => Citizen {
            name: citizen.name.as_deref().map(mask_name),
            phone: mask_phone(&citizen.phone),
            contact_phone: citizen.contact_phone.as_deref().map(mask_phone),
            gender: citizen.gender,
            enterprise_name: citizen.enterprise_name.clone(),
            confidential: false,
            tags: citizen.tags.clone(),
        },
        CitizenVisibility::Hidden => Citizen {
            name: None,
            phone: String::new(),
            contact_phone: None,
            gender: None,
            enterprise_name: None,
            confidential: true,
            tags: Vec::new(),
        },
    }
}

/// The data scope of an actor for list queries.
#[must_use]
pub fn scope_of(actor: &Actor) -> Scope {
    if actor.is_centre_staff() {
        Scope::All
    } else {
        Scope::UnitSubtree {
            path_prefix: actor.unit.path.clone(),
        }
    }
}

/// Unit ids an action names (to be looked up before deciding).
fn units_named_by(action: &Action) -> Vec<i64> {
    match action {
        Action::Dispatch(d) => {
            let mut ids = vec![d.lead_unit_id];
            ids.extend(&d.co_unit_ids);
            ids
        }
        Action::Sign(a) => a.unit_id.into_iter().collect(),
        Action::RequestReturn(a) => a.unit_id.into_iter().collect(),
        Action::ReviewReturn(a) => std::iter::once(a.unit_id).chain(a.new_unit_id).collect(),
        Action::Redispatch(a) => std::iter::once(a.to_unit_id).chain(a.unit_id).collect(),
        Action::RequestExtension(a) => a.unit_id.into_iter().collect(),
        Action::ReviewExtension(a) => vec![a.unit_id],
        Action::Reply(a) => a.unit_id.into_iter().collect(),
        Action::Review(a) => a.unit_id.into_iter().collect(),
        _ => Vec::new(),
    }
}

impl App {
    async fn unit_directory(&self, actor: &Actor, mut ids: Vec<i64>) -> AppResult<UnitDirectory> {
        ids.sort_unstable();
        ids.dedup();
        let mut directory = UnitDirectory::new(self.reference().await?.units_by_ids(&ids));
        directory.insert(actor.unit.clone());
        Ok(directory)
    }

    /// Registers a new order (登记) and gives it its number.
    pub async fn register_order(&self, actor: &Actor, new: NewOrder) -> AppResult<OrderAggregate> {
        self.register_order_with_history(actor, new)
            .await
            .map(|(aggregate, _)| aggregate)
    }

    /// [`App::register_order`], with the order's first history lines as stored.
    async fn register_order_with_history(
        &self,
        actor: &Actor,
        new: NewOrder,
    ) -> AppResult<(OrderAggregate, Vec<HistoryEntry>)> {
        let now = self.now();
        let limits = self
            .limits_for(new.category_id, new.order_type, new.urgency)
            .await?;
        // Borrowed from the held reference data, not cloned for each request.
        let reference = self.reference().await?;
        let calendar = &reference.calendar;
        let location = &new.location;
        let ids = [
            location.district_id,
            location.street_id,
            location.community_id,
        ]
        .into_iter()
        .flatten()
        .collect();
        let units = self.unit_directory(actor, ids).await?;
        let ctx = ActionContext {
            now,
            actor,
            units: &units,
            limits: &limits,
            calendar,
            yellow_share: self.config.yellow_share,
            merge_parent: None,
        };
        let transition = lifecycle::register(&ctx, new)?;
        let local_date = calendar.local_date(now);
        let RegisteredOrder { order, history } = self
            .store
            .create_order_with_history(&transition.order, &transition.events, local_date)
            .await?;
        let aggregate = OrderAggregate {
            order,
            assignments: Vec::new(),
        };
        Ok((aggregate, history))
    }

    /// Loads an order the actor may see, or `NotFound` (whether it does not exist or is out of
    /// scope: existence is not leaked).
    pub(crate) async fn visible_order(
        &self,
        actor: &Actor,
        number: &str,
    ) -> AppResult<OrderAggregate> {
        let aggregate = self
            .store
            .find_order_by_number(number)
            .await?
            .ok_or(AppError::NotFound { what: "工单" })?;
        self.seen_by(actor, aggregate).await
    }

    /// `aggregate` if the actor may see it, else `NotFound`.
    async fn seen_by(&self, actor: &Actor, aggregate: OrderAggregate) -> AppResult<OrderAggregate> {
        if actor.is_centre_staff() {
            return Ok(aggregate);
        }
        let units = self.unit_directory(actor, aggregate.unit_ids()).await?;
        if permissions::can_see_order(actor, &aggregate, &units) {
            Ok(aggregate)
        } else {
            Err(AppError::NotFound { what: "工单" })
        }
    }

    /// Applies a lifecycle action with its files, if any ([`App::act_on_order_with_files`]), and
    /// answers with the order's detail view as the actor sees it now, the citizen masked. The
    /// order and its assignments come from the write itself (the actor must still be able to see
    /// it); only what belongs to the order besides is read: reading the order back as well was
    /// two statements of every action.
    pub async fn act_on_order_detail(
        &self,
        actor: &Actor,
        number: &str,
        action: Action,
        expected_version: Option<i64>,
        uploads: Vec<Upload>,
    ) -> AppResult<OrderDetail> {
        let updated = self
            .act_on_order_with_files(actor, number, action, expected_version, uploads)
            .await?;
        let aggregate = self.seen_by(actor, updated).await?;
        self.detail_of(actor, aggregate, None, false).await
    }

    /// Applies a lifecycle action to an order. `expected_version`, when given, must be the
    /// order's current version; either way two racing actions cannot both win.
    pub async fn act_on_order(
        &self,
        actor: &Actor,
        number: &str,
        action: Action,
        expected_version: Option<i64>,
    ) -> AppResult<OrderAggregate> {
        self.act_on_order_with_files(actor, number, action, expected_version, Vec::new())
            .await
    }

    /// [`App::act_on_order`] with attached files (附件, replies only): once the domain has
    /// accepted the action the files are checked (see [`super::attachments`]) and stored with
    /// the transition in one transaction, tied to its history event. A refused action, a
    /// version conflict or a refused file stores nothing.
    pub async fn act_on_order_with_files(
        &self,
        actor: &Actor,
        number: &str,
        action: Action,
        expected_version: Option<i64>,
        uploads: Vec<Upload>,
    ) -> AppResult<OrderAggregate> {
        let aggregate = self.visible_order(actor, number).await?;
        let order = &aggregate.order;
        if let Some(expected) = expected_version
            && expected != order.version
        {
            return Err(AppError::Conflict);
        }
        let merge_parent = match &action {
            Action::Merge(merge) => {
                let parent = self
                    .store
                    .find_order_by_number(merge.parent_number.trim())
                    .await?
                    .ok_or_else(|| AppError::invalid("parent_number", "被并入的主工单不存在"))?;
                Some(parent.order)
            }
            _ => None,
        };
        let mut ids = aggregate.unit_ids();
        ids.extend(units_named_by(&action));
        let units = self.unit_directory(actor, ids).await?;
        let limits = self
            .limits_for(order.category_id, order.order_type, order.urgency)
            .await?;
        // Borrowed from the held reference data, not cloned for each request.
        let reference = self.reference().await?;
        let calendar = &reference.calendar;
        let ctx = ActionContext {
            now: self.now(),
            actor,
            units: &units,
            limits: &limits,
            calendar,
            yellow_share: self.config.yellow_share,
            merge_parent: merge_parent.as_ref(),
        };
        let transition = lifecycle::apply(&ctx, &aggregate, &action)?;
        // Closed directly with a knowledge entry: the entry must be live; its use is counted
        // once the order's transition is stored.
        let knowledge_use = self.knowledge_use_for(actor, &action, order.id).await?;
        let saved = if uploads.is_empty() {
            self.store
                .save_transition(order.version, &transition)
                .await?
        } else {
            self.save_with_files(actor, action.code(), order.version, transition, uploads)
                .await?
        };
        if let Some(used) = &knowledge_use {
            self.record_knowledge_use(used).await;
        }
        Ok(saved)
    }

    /// One order with its assignments, history and the actions the actor may take now. The
    /// citizen is masked or hidden for units; a centre user's unmasked view is audited.
    pub async fn get_order(
        &self,
        actor: &Actor,
        number: &str,
        address: Option<&str>,
    ) -> AppResult<OrderDetail> {
        self.order_detail(actor, number, address, true).await
    }

    /// The same view as [`App::get_order`] with the citizen masked for everyone, so nothing is
    /// revealed and nothing audited: the answer to an action, the history.
    pub async fn get_order_masked(&self, actor: &Actor, number: &str) -> AppResult<OrderDetail> {
        self.order_detail(actor, number, None, false).await
    }

    async fn order_detail(
        &self,
        actor: &Actor,
        number: &str,
        address: Option<&str>,
        reveal: bool,
    ) -> AppResult<OrderDetail> {
        let aggregate = self.visible_order(actor, number).await?;
        self.detail_of(actor, aggregate, address, reveal).await
    }

    /// The detail view of `aggregate`, which the actor may see: what belongs to the order is
    /// read, then the view assembled ([`App::assemble_detail`]).
    async fn detail_of(
        &self,
        actor: &Actor,
        aggregate: OrderAggregate,
        address: Option<&str>,
        reveal: bool,
    ) -> AppResult<OrderDetail> {
        let (history, attachments) = tokio::try_join!(
            self.store.order_history(aggregate.order.id),
            self.store.order_attachments(aggregate.order.id)
        )?;
        let (merged_into, repeats) = self.merge_relatives(actor, &aggregate.order).await?;
        let relations = DetailRelations {
            history,
            attachments,
            merged_into,
            repeats,
        };
        self.assemble_detail(actor, aggregate, relations, address, reveal)
            .await
    }

    /// Registers a new order ([`App::register_order`]) and answers with its detail view, the
    /// citizen masked, built from what was written: a new order has no assignments, files,
    /// parent or repeats, and its history lines come back from their insert. Reading the
    /// whole view again, as for any other order, was six statements of the eight a
    /// registration cost; reading the history lines again was the last read of a registration,
    /// a read transaction that under steady writes starts on a changed database (SQLite then
    /// drops the connection's page cache and its file mapping).
    pub async fn register_order_detail(
        &self,
        actor: &Actor,
        new: NewOrder,
    ) -> AppResult<OrderDetail> {
        let (aggregate, history) = self.register_order_with_history(actor, new).await?;
        let relations = DetailRelations {
            history,
            attachments: Vec::new(),
            merged_into: None,
            repeats: Vec::new(),
        };
        self.assemble_detail(actor, aggregate, relations, None, false)
            .await
    }

    /// The detail view of an order the actor may see, from the order and what belongs to it:
    /// the actions the actor may take now, the citizen as the actor may see them (revealed to
    /// the centre only with `reveal`, and then audited with the client's `address`).
    async fn assemble_detail(
        &self,
        actor: &Actor,
        mut aggregate: OrderAggregate,
        relations: DetailRelations,
        address: Option<&str>,
        reveal: bool,
    ) -> AppResult<OrderDetail> {
        let now = self.now();
        let units = self.unit_directory(actor, aggregate.unit_ids()).await?;
        let limits = self
            .limits_for(
                aggregate.order.category_id,
                aggregate.order.order_type,
                aggregate.order.urgency,
            )
            .await?;
        // Borrowed from the held reference data, not cloned for each request.
        let reference = self.reference().await?;
        let calendar = &reference.calendar;
        let ctx = ActionContext {
            now,
            actor,
            units: &units,
            limits: &limits,
            calendar,
            yellow_share: self.config.yellow_share,
            merge_parent: None,
        };
        let available_actions = permissions::available_actions(&ctx, &aggregate);
        let visibility = match citizen_visibility(actor, &aggregate.order) {
            CitizenVisibility::Full if !reveal => CitizenVisibility::Masked,
            other => other,
        };
        if visibility == CitizenVisibility::Full {
            self.audit(
                Some(actor.user_id),
                "view_personal_data",
                &aggregate.order.number,
                None,
                address,
            )
            .await?;
        }
        aggregate.order.citizen = present_citizen(&aggregate.order.citizen, visibility);
        let warning = warning_of(&aggregate.order, now);
        let DetailRelations {
            history,
            attachments,
            merged_into,
            repeats,
        } = relations;
        Ok(OrderDetail {
            aggregate,
            history,
            attachments,
            available_actions,
            citizen_visibility: visibility,
            warning,
            merged_into,
            repeats,
        })
    }

    /// The order `order` was merged into (citizen masked), and the orders merged into it.
    async fn merge_relatives(
        &self,
        actor: &Actor,
        order: &Order,
    ) -> AppResult<(Option<Order>, Vec<OrderListItem>)> {
        let parent = match order.parent_order_id {
            Some(id) => self.store.find_order(id).await?.map(|agg| {
                let mut parent = agg.order;
                parent.citizen = present_citizen(&parent.citizen, CitizenVisibility::Masked);
                parent
            }),
            None => None,
        };
        let filter = OrderFilter {
            parent_order_id: Some(order.id),
            oldest_first: true,
            ..OrderFilter::default()
        };
        let page = PageRequest {
            limit: 100,
            offset: 0,
        };
        let repeats = self.list_orders(actor, filter, page).await?.orders;
        Ok((parent, repeats))
    }

    /// One page of the orders the actor may see. Phones and names in lists are masked for
    /// everyone (lists are not audited); the detail view shows them to the centre.
    pub async fn list_orders(
        &self,
        actor: &Actor,
        mut filter: OrderFilter,
        page: PageRequest,
    ) -> AppResult<OrderPage> {
        if filter.warning.is_some() && filter.now.is_none() {
            filter.now = Some(self.now());
        }
        // A queue of the actor's own unit's assignments is within the actor's scope by itself
        // (a unit is in its own subtree): testing the subtree again, order by order, was most
        // of a unit's inbox page at a million orders.
        let own_queue = filter
            .assignment
            .as_ref()
            .is_some_and(|a| a.unit_id == Some(actor.unit.id));
        let scope = if own_queue {
            Scope::All
        } else {
            scope_of(actor)
        };
        let mut result = self.store.list_orders(&filter, &scope, &page).await?;
        for item in &mut result.orders {
            let visibility = match citizen_visibility(actor, &item.order) {
                CitizenVisibility::Full => CitizenVisibility::Masked,
                other => other,
            };
            item.order.citizen = present_citizen(&item.order.citizen, visibility);
        }
        Ok(result)
    }

    /// When a limit counted from `from` runs out on the stored calendar.
    pub async fn deadline_preview(
        &self,
        from: DateTime<Utc>,
        limit: TimeLimit,
    ) -> AppResult<DateTime<Utc>> {
        if limit.amount > 10_000 {
            return Err(AppError::invalid("amount", "时长不能超过10000"));
        }
        Ok(self.calendar().await?.deadline(from, limit))
    }

    /// The units the dispatch catalogue suggests for a category (and its ancestors) in a
    /// district: entries for the district first, then city-wide ones, nearest category first.
    pub async fn suggest_units(
        &self,
        category_id: i64,
        district_id: Option<i64>,
    ) -> AppResult<Vec<UnitInfo>> {
        let category = self
            .store
            .find_category(category_id)
            .await?
            .ok_or_else(|| AppError::invalid("category_id", "问题分类不存在"))?;
        let chain = category.chain();
        let catalogue = self.store.list_catalogue().await?;
        let ids = super::queues::rank_catalogue(&catalogue, &chain, district_id);
        let units = self.store.units_by_ids(&ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| units.iter().find(|u| u.id == *id && u.active).cloned())
            .collect())
    }
}

/// The most rows one export (导出Excel) holds.
pub const EXPORT_CAP: usize = 10_000;

impl App {
    /// Every order of the list under `filter` that the actor may see, up to [`EXPORT_CAP`], for
    /// an export. Phones and names are masked for everyone, as in the list; each export is
    /// written to the audit log (`export`, with the filter and the row count).
    pub async fn export_orders(
        &self,
        actor: &Actor,
        mut filter: OrderFilter,
        address: Option<&str>,
    ) -> AppResult<Vec<crate::storage::OrderListItem>> {
        const BATCH: i64 = 500;
        if filter.now.is_none() {
            filter.now = Some(self.now());
        }
        let mut rows = Vec::new();
        loop {
            let page = PageRequest {
                limit: BATCH,
                offset: i64::try_from(rows.len()).unwrap_or(i64::MAX),
            };
            let result = self.list_orders(actor, filter.clone(), page).await?;
            let fetched = result.orders.len();
            rows.extend(result.orders);
            if fetched < usize::try_from(BATCH).unwrap_or(usize::MAX) || rows.len() >= EXPORT_CAP {
                break;
            }
        }
        rows.truncate(EXPORT_CAP);
        let detail = serde_json::json!({
            "filter": format!("{filter:?}"),
            "rows": rows.len(),
        });
        self.audit(
            Some(actor.user_id),
            "export",
            "orders",
            Some(detail.to_string()),
            address,
        )
        .await?;
        Ok(rows)
    }
}
