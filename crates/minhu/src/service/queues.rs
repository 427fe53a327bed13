//! Work queues: the dispatcher's 派单 queue and a unit's own queues (承办单位: 待签收, 待转派,
//! 办理中, 协办, 待审核, 即将超期, 已超期, 退单申请, 延期申请, 已办结, 已退回), paged in the
//! database, with the counts the desk and the inbox's tabs show (both from the same filters, so
//! they agree), and what planning a dispatch needs, loaded once per page.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use minhu_domain::warning::{active_deadline, warning_level};
use minhu_domain::{
    Actor, Assignment, AssignmentRole, AssignmentState, Calendar, Limits, OrderState, OrderType,
    PolicyRule, Role, TimeLimit, Urgency, WarningLevel,
};

use super::desk::ReferenceData;
use super::{App, AppError, AppResult};
use crate::storage::{AssignmentFilter, CatalogueEntry, OrderFilter, OrderListItem, PageRequest};

/// How many orders the review and visit queues show at most.
pub const QUEUE_CAP: i64 = 200;

/// Rows per page of a paged queue.
pub const PAGE_SIZE: i64 = 50;

/// One page of a queue: its rows, the true total and where it stands.
#[derive(Debug, Clone)]
pub struct QueuePage<T> {
    pub items: Vec<T>,
    pub total: i64,
    /// 1-based, at most `pages`.
    pub page: i64,
    /// At least 1.
    pub pages: i64,
}

impl<T> QueuePage<T> {
    fn map<U>(self, items: Vec<U>) -> QueuePage<U> {
        QueuePage {
            items,
            total: self.total,
            page: self.page,
            pages: self.pages,
        }
    }
}

/// How many pages `total` rows fill (at least one).
#[must_use]
pub fn page_count(total: i64) -> i64 {
    ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1)
}

/// One assignment of a unit queue with its order (citizen masked).
#[derive(Debug, Clone)]
pub struct InboxEntry {
    pub item: OrderListItem,
    /// The assignment the row is about: the unit's own, or (待审核) the one passed down that
    /// came back with a reply.
    pub assignment: Assignment,
}

/// An order awaiting review with its lead assignment (whose reply is reviewed).
#[derive(Debug, Clone)]
pub struct ReviewEntry {
    pub item: OrderListItem,
    pub lead: Option<Assignment>,
}

/// The queues of a handling unit (承办单位), each an [`AssignmentFilter`] on the unit's own
/// assignments (待审核: on those passed down from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitQueue {
    /// 待签收: dispatched to the unit, not signed.
    Sign,
    /// 待转派: a sub-centre's signed assignments it has not passed down (nor answered) yet.
    Redispatch,
    /// 办理中: lead assignments in progress (or passed down and waiting).
    Handling,
    /// 协办: open co-handling assignments.
    Co,
    /// 待审核: replies of the units the sub-centre passed orders down to (转派), waiting for its
    /// review.
    Review,
    /// 即将超期: the unit's pending work with a yellow handle deadline.
    Yellow,
    /// 已超期: the unit's pending work past its handle deadline.
    Red,
    /// 退单申请: the unit's return requests waiting for review.
    ReturnRequested,
    /// 延期申请: the unit's extension requests waiting for review.
    Extension,
    /// 已办结.
    Done,
    /// 已退回: returns that were agreed.
    Returned,
}

/// The assignment states in which the unit still owes work (what can turn yellow or red).
const PENDING_WORK: [AssignmentState; 4] = [
    AssignmentState::Dispatched,
    AssignmentState::ReturnRequested,
    AssignmentState::InProgress,
    AssignmentState::Delegated,
];

/// The roles of handling units' staff.
pub const UNIT_ROLES: &[Role] = &[Role::UnitHandler, Role::UnitLeader, Role::SubCentre];

impl UnitQueue {
    /// Every queue, in the inbox's order.
    pub const ALL: [Self; 11] = [
        Self::Sign,
        Self::Redispatch,
        Self::Handling,
        Self::Co,
        Self::Review,
        Self::Yellow,
        Self::Red,
        Self::ReturnRequested,
        Self::Extension,
        Self::Done,
        Self::Returned,
    ];

    /// The `?tab=` code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Sign => "sign",
            Self::Redispatch => "redispatch",
            Self::Handling => "handling",
            Self::Co => "co",
            Self::Review => "review",
            Self::Yellow => "yellow",
            Self::Red => "red",
            Self::ReturnRequested => "return",
            Self::Extension => "extension",
            Self::Done => "done",
            Self::Returned => "returned",
        }
    }

    /// The Chinese name.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Sign => "待签收",
            Self::Redispatch => "待转派",
            Self::Handling => "办理中",
            Self::Co => "协办",
            Self::Review => "待审核",
            Self::Yellow => "即将超期",
            Self::Red => "已超期",
            Self::ReturnRequested => "退单申请",
            Self::Extension => "延期申请",
            Self::Done => "已办结",
            Self::Returned => "已退回",
        }
    }

    /// The queue with this `?tab=` code.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.code() == code)
    }

    /// Whether the desk shows a counter for it (the work still to do).
    #[must_use]
    pub const fn on_desk(self) -> bool {
        !matches!(self, Self::Done | Self::Returned)
    }

    /// Whether `actor` has this queue: unit staff have the unit's queues; 待转派 is for a
    /// sub-centre's dispatcher in a dispatch point, 待审核 for a sub-centre's dispatcher (the
    /// roles the domain asks of 转派 and of the review of what came back up).
    #[must_use]
    pub fn offered_to(self, actor: &Actor) -> bool {
        if actor.is_centre_staff() || !actor.has_any_role(UNIT_ROLES) {
            return false;
        }
        match self {
            Self::Redispatch => actor.has_role(Role::SubCentre) && actor.unit.is_dispatch_point,
            Self::Review => actor.has_role(Role::SubCentre),
            _ => true,
        }
    }

    /// The queues `actor` has, in order.
    #[must_use]
    pub fn offered(actor: &Actor) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|q| q.offered_to(actor))
            .collect()
    }

    /// Which assignments belong to the queue of unit `unit_id`.
    #[must_use]
    pub fn filter(self, unit_id: i64, yellow_share: f64) -> AssignmentFilter {
        let own = AssignmentFilter {
            unit_id: Some(unit_id),
            yellow_share,
            ..AssignmentFilter::default()
        };
        let states = |states: &[AssignmentState]| AssignmentFilter {
            states: states.to_vec(),
            ..own.clone()
        };
        match self {
            Self::Sign => states(&[AssignmentState::Dispatched]),
            Self::Redispatch => states(&[AssignmentState::InProgress]),
            Self::Handling => AssignmentFilter {
                roles: vec![AssignmentRole::Lead],
                ..states(&[AssignmentState::InProgress, AssignmentState::Delegated])
            },
            Self::Co => AssignmentFilter {
                roles: vec![AssignmentRole::Co],
                ..states(&[
                    AssignmentState::Dispatched,
                    AssignmentState::ReturnRequested,
                    AssignmentState::InProgress,
                    AssignmentState::Delegated,
                    AssignmentState::Replied,
                ])
            },
            Self::Review => AssignmentFilter {
                unit_id: None,
                parent_unit_id: Some(unit_id),
                ..states(&[AssignmentState::Replied])
            },
            Self::Yellow => AssignmentFilter {
                warning: Some(WarningLevel::Yellow),
                ..states(&PENDING_WORK)
            },
            Self::Red => AssignmentFilter {
                warning: Some(WarningLevel::Red),
                ..states(&PENDING_WORK)
            },
            Self::ReturnRequested => states(&[AssignmentState::ReturnRequested]),
            Self::Extension => AssignmentFilter {
                pending_extension: true,
                ..own
            },
            Self::Done => states(&[AssignmentState::Done]),
            Self::Returned => states(&[AssignmentState::Returned]),
        }
    }
}

/// The warning of an assignment's handle deadline at `now`.
#[must_use]
pub fn assignment_warning(a: &Assignment, now: DateTime<Utc>, yellow_share: f64) -> WarningLevel {
    let deadline = active_deadline(a.handle_start_at, a.handle_deadline_at, yellow_share);
    warning_level(&deadline, now)
}

/// Whether assignment `a` of an order (whose assignments are `all`) matches `filter` at `now`:
/// the same test the database makes, to find a listed order's assignment.
#[must_use]
pub fn assignment_matches(
    filter: &AssignmentFilter,
    a: &Assignment,
    all: &[Assignment],
    now: DateTime<Utc>,
) -> bool {
    let parent_unit = a
        .parent_assignment_id
        .and_then(|id| all.iter().find(|p| p.id == id))
        .map(|p| p.unit_id);
    filter.unit_id.is_none_or(|u| a.unit_id == u)
        && filter.parent_unit_id.is_none_or(|u| parent_unit == Some(u))
        && (filter.roles.is_empty() || filter.roles.contains(&a.role))
        && (filter.states.is_empty() || filter.states.contains(&a.state))
        && (!filter.pending_extension || a.extension_request.is_some())
        && filter
            .warning
            .is_none_or(|w| assignment_warning(a, now, filter.yellow_share) == w)
}

/// The units the dispatch catalogue names for a category (given as its chain: itself, then its
/// ancestors) in a district, best first: the nearest category first, then entries for the
/// district before city-wide ones. Duplicates are dropped.
#[must_use]
pub fn rank_catalogue(
    catalogue: &[CatalogueEntry],
    chain: &[i64],
    district_id: Option<i64>,
) -> Vec<i64> {
    let mut ranked: Vec<(usize, u8, i64)> = catalogue
        .iter()
        .filter_map(|entry| {
            let depth = chain.iter().position(|c| *c == entry.category_id)?;
            let district_rank = match (entry.district_id, district_id) {
                (Some(d), Some(wanted)) if d == wanted => 0,
                (None, _) => 1,
                _ => return None,
            };
            Some((depth, district_rank, entry.unit_id))
        })
        .collect();
    ranked.sort_unstable();
    let mut ids: Vec<i64> = Vec::new();
    for (_, _, unit_id) in ranked {
        if !ids.contains(&unit_id) {
            ids.push(unit_id);
        }
    }
    ids
}

/// What planning dispatches needs, read once for a whole page: the catalogue, the time-limit
/// rules and the calendar (with the reference data the page has anyway).
#[derive(Debug, Clone)]
pub struct DispatchPlanner {
    catalogue: Vec<CatalogueEntry>,
    rules: Vec<PolicyRule>,
    calendar: Calendar,
}

impl DispatchPlanner {
    /// The active units the catalogue suggests for an order, best first (as
    /// [`App::suggest_units`]).
    #[must_use]
    pub fn suggestions(
        &self,
        refs: &ReferenceData,
        category_id: i64,
        district_id: Option<i64>,
    ) -> Vec<i64> {
        let chain = refs
            .category(category_id)
            .map(crate::storage::Category::chain)
            .unwrap_or_default();
        rank_catalogue(&self.catalogue, &chain, district_id)
            .into_iter()
            .filter(|id| refs.unit(*id).is_some_and(|u| u.active))
            .collect()
    }

    /// The time limits of an order of this category, type and urgency (as [`App::limits_for`]).
    #[must_use]
    pub fn limits(
        &self,
        refs: &ReferenceData,
        category_id: i64,
        order_type: OrderType,
        urgency: Urgency,
    ) -> Limits {
        let chain = refs
            .category(category_id)
            .map(crate::storage::Category::chain)
            .unwrap_or_default();
        minhu_domain::policy::resolve_limits(&self.rules, &chain, order_type, urgency)
    }

    /// The end of `limit` counted from `from` on the stored calendar.
    #[must_use]
    pub fn deadline(&self, from: DateTime<Utc>, limit: TimeLimit) -> DateTime<Utc> {
        self.calendar.deadline(from, limit)
    }
}

impl App {
    /// The catalogue, rules and calendar for planning the dispatches of one page.
    pub async fn dispatch_planner(&self) -> AppResult<DispatchPlanner> {
        let (catalogue, rules, calendar) = tokio::try_join!(
            async { Ok::<_, AppError>(self.store.list_catalogue().await?) },
            async { Ok::<_, AppError>(self.store.list_policies().await?) },
            self.calendar()
        )?;
        Ok(DispatchPlanner {
            catalogue,
            rules,
            calendar,
        })
    }

    /// Page `page` (1-based; past the end: the last) of the orders matching `filter` that the
    /// actor may see, [`PAGE_SIZE`] at a time, in the filter's order, with the true total.
    pub async fn queue_page(
        &self,
        actor: &Actor,
        mut filter: OrderFilter,
        page: i64,
    ) -> AppResult<QueuePage<OrderListItem>> {
        filter.now = Some(filter.now.unwrap_or_else(|| self.now()));
        let page = page.max(1);
        let request = |page: i64| PageRequest {
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
        };
        let mut result = self
            .list_orders(actor, filter.clone(), request(page))
            .await?;
        let pages = page_count(result.total);
        let mut shown = page;
        if page > pages {
            shown = pages;
            result = self.list_orders(actor, filter, request(shown)).await?;
        }
        Ok(QueuePage {
            items: result.orders,
            total: result.total,
            page: shown,
            pages: page_count(result.total),
        })
    }

    /// Orders matching `filter` that the actor may see, oldest first, at most [`QUEUE_CAP`].
    pub async fn queue_oldest_first(
        &self,
        actor: &Actor,
        mut filter: OrderFilter,
    ) -> AppResult<Vec<OrderListItem>> {
        filter.now = Some(self.now());
        filter.oldest_first = true;
        let page = PageRequest {
            limit: QUEUE_CAP,
            offset: 0,
        };
        Ok(self.list_orders(actor, filter, page).await?.orders)
    }

    /// The order filter of the actor's unit queue `queue` (newest first).
    fn unit_queue_filter(&self, actor: &Actor, queue: UnitQueue) -> OrderFilter {
        OrderFilter {
            assignment: Some(queue.filter(actor.unit.id, self.config.yellow_share)),
            now: Some(self.now()),
            ..OrderFilter::default()
        }
    }

    /// Page `page` of the actor's unit queue `queue`, newest orders first, each order with the
    /// assignment the queue is about. Queues the actor does not have are empty.
    pub async fn unit_queue(
        &self,
        actor: &Actor,
        queue: UnitQueue,
        page: i64,
    ) -> AppResult<QueuePage<InboxEntry>> {
        if !queue.offered_to(actor) {
            return Ok(QueuePage {
                items: Vec::new(),
                total: 0,
                page: 1,
                pages: 1,
            });
        }
        let filter = self.unit_queue_filter(actor, queue);
        let now = filter.now.unwrap_or_else(|| self.now());
        let assignment_filter = filter.assignment.clone().unwrap_or_default();
        let result = self.queue_page(actor, filter, page).await?;
        let ids: Vec<i64> = result.items.iter().map(|i| i.order.id).collect();
        let assignments = self.store.order_assignments(&ids).await?;
        let mut by_order: HashMap<i64, Vec<Assignment>> = HashMap::new();
        for a in assignments {
            by_order.entry(a.order_id).or_default().push(a);
        }
        let mut entries = Vec::new();
        for item in &result.items {
            let all = by_order
                .get(&item.order.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            // Newest matching assignment first (a unit may have been given one order twice).
            if let Some(a) = all
                .iter()
                .rev()
                .find(|a| assignment_matches(&assignment_filter, a, all, now))
            {
                entries.push(InboxEntry {
                    item: item.clone(),
                    assignment: a.clone(),
                });
            }
        }
        Ok(result.map(entries))
    }

    /// The entry of order `number` in the actor's queue `queue`, if it is (still) there; for
    /// 待审核, the one of the unit `unit_id` when given.
    pub async fn unit_queue_entry(
        &self,
        actor: &Actor,
        queue: UnitQueue,
        number: &str,
        unit_id: Option<i64>,
    ) -> AppResult<Option<InboxEntry>> {
        if !queue.offered_to(actor) {
            return Ok(None);
        }
        let mut filter = self.unit_queue_filter(actor, queue);
        filter.number = Some(number.to_owned());
        let now = filter.now.unwrap_or_else(|| self.now());
        let assignment_filter = filter.assignment.clone().unwrap_or_default();
        let page = PageRequest {
            limit: 1,
            offset: 0,
        };
        let Some(item) = self
            .list_orders(actor, filter, page)
            .await?
            .orders
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let all = self.store.order_assignments(&[item.order.id]).await?;
        let found = all
            .iter()
            .rev()
            .filter(|a| unit_id.is_none_or(|u| a.unit_id == u))
            .find(|a| assignment_matches(&assignment_filter, a, &all, now))
            .cloned();
        Ok(found.map(|assignment| InboxEntry { item, assignment }))
    }

    /// How many orders each of the actor's unit queues holds (those the actor has, in order),
    /// in one query: the counts of the desk and of the inbox's tabs, each what the queue's own
    /// list counts.
    pub async fn unit_queue_counts(&self, actor: &Actor) -> AppResult<Vec<(UnitQueue, i64)>> {
        let queues = UnitQueue::offered(actor);
        let filters: Vec<AssignmentFilter> = queues
            .iter()
            .map(|q| q.filter(actor.unit.id, self.config.yellow_share))
            .collect();
        let counts = self
            .store
            .count_assignment_queues(&filters, self.now())
            .await?;
        Ok(queues.into_iter().zip(counts).collect())
    }

    /// The orders awaiting reply review (`replied`) that the actor may see, oldest first, each
    /// with its top-level lead assignment (the reply to review), if any.
    pub async fn review_queue(&self, actor: &Actor) -> AppResult<Vec<ReviewEntry>> {
        let items = self
            .queue_oldest_first(
                actor,
                OrderFilter {
                    states: vec![OrderState::Replied],
                    ..OrderFilter::default()
                },
            )
            .await?;
        let ids: Vec<i64> = items.iter().map(|i| i.order.id).collect();
        let assignments = self.store.order_assignments(&ids).await?;
        Ok(items
            .into_iter()
            .map(|item| {
                let lead = assignments
                    .iter()
                    .find(|a| {
                        a.order_id == item.order.id
                            && a.is_lead()
                            && a.parent_assignment_id.is_none()
                    })
                    .cloned();
                ReviewEntry { item, lead }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_codes_round_trip_and_pages_count() {
        for q in UnitQueue::ALL {
            assert_eq!(UnitQueue::from_code(q.code()), Some(q));
        }
        assert_eq!(UnitQueue::from_code("nonsense"), None);
        assert_eq!(page_count(0), 1);
        assert_eq!(page_count(50), 1);
        assert_eq!(page_count(51), 2);
    }

    #[test]
    fn the_catalogue_ranks_nearest_category_then_district() {
        let entry = |id, category_id, district_id, unit_id| CatalogueEntry {
            id,
            category_id,
            district_id,
            unit_id,
            note: None,
        };
        let catalogue = [
            entry(1, 10, None, 100),
            entry(2, 11, Some(5), 101),
            entry(3, 11, None, 102),
            entry(4, 11, Some(6), 103),
            entry(5, 10, Some(5), 101),
        ];
        assert_eq!(
            rank_catalogue(&catalogue, &[11, 10], Some(5)),
            vec![101, 102, 100]
        );
        assert_eq!(rank_catalogue(&catalogue, &[11, 10], None), vec![102, 100]);
        assert!(rank_catalogue(&catalogue, &[12], Some(5)).is_empty());
    }
}
