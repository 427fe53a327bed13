//! Work queues: the dispatcher's 派单 queue and a unit's inbox (承办单位).

use minhu_domain::{Actor, Assignment, OrderState};

use super::{App, AppResult};
use crate::storage::{OrderFilter, OrderListItem, PageRequest};

/// How many orders a queue shows at most.
pub const QUEUE_CAP: i64 = 200;

/// One of the actor's unit's assignments with its order (citizen masked).
#[derive(Debug, Clone)]
pub struct InboxEntry {
    pub item: OrderListItem,
    pub assignment: Assignment,
}

/// An order awaiting review with its lead assignment (whose reply is reviewed).
#[derive(Debug, Clone)]
pub struct ReviewEntry {
    pub item: OrderListItem,
    pub lead: Option<Assignment>,
}

impl App {
    /// Orders in `states` that the actor may see, oldest first, at most [`QUEUE_CAP`].
    pub async fn queue_oldest_first(
        &self,
        actor: &Actor,
        mut filter: OrderFilter,
    ) -> AppResult<Vec<OrderListItem>> {
        filter.now = Some(self.now());
        let first = PageRequest {
            limit: 1,
            offset: 0,
        };
        let total = self.list_orders(actor, filter.clone(), first).await?.total;
        // The list is newest first: take the oldest page from its end.
        let page = PageRequest {
            limit: QUEUE_CAP,
            offset: (total - QUEUE_CAP).max(0),
        };
        let mut orders = self.list_orders(actor, filter, page).await?.orders;
        orders.reverse();
        Ok(orders)
    }

    /// The assignments of the actor's own unit, each with its order (newest orders first, at
    /// most [`QUEUE_CAP`] orders).
    pub async fn unit_inbox(&self, actor: &Actor) -> AppResult<Vec<InboxEntry>> {
        let filter = OrderFilter {
            unit_id: Some(actor.unit.id),
            states: OrderState::ALL.to_vec(),
            ..OrderFilter::default()
        };
        let page = PageRequest {
            limit: QUEUE_CAP,
            offset: 0,
        };
        let items = self.list_orders(actor, filter, page).await?.orders;
        let ids: Vec<i64> = items.iter().map(|i| i.order.id).collect();
        let assignments = self.store.unit_assignments(actor.unit.id, &ids).await?;
        let mut out = Vec::new();
        for item in items {
            for assignment in assignments.iter().filter(|a| a.order_id == item.order.id) {
                out.push(InboxEntry {
                    item: item.clone(),
                    assignment: assignment.clone(),
                });
            }
        }
        Ok(out)
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
