//! A transition's update of the order, column by column, on every backend. On SQLite the update
//! assigns only the indexed columns whose values change (an assignment rewrites the column's
//! index entries even when the value stays): whichever of them a transition changes or keeps,
//! the stored order is the transition's, and the lists that the indexes answer find it by its
//! new values and no longer by its old ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use minhu::storage::{OrderFilter, Scope, Store};
use minhu_domain::{Order, OrderState, Transition};

use crate::support::builders::{
    at, day, dispatch_transition, event, lamp_order, listed, register, seed_org,
};
use crate::support::db;

fn filter(edit: impl FnOnce(&mut OrderFilter)) -> OrderFilter {
    let mut filter = OrderFilter::default();
    edit(&mut filter);
    filter
}

/// The order stored under `number`.
async fn stored_order(store: &dyn Store, number: &str) -> Order {
    store
        .find_order_by_number(number)
        .await
        .unwrap()
        .unwrap()
        .order
}

#[tokio::test]
async fn transitions_store_every_changed_column_and_keep_the_rest() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let parent = register(store, &lamp_order(&org), &org, day("2026-11-28")).await;
        let order = register(store, &lamp_order(&org), &org, day("2026-11-28")).await;

        // Dispatch: the state, the deadline and the lead unit change; the rest stay.
        let dispatched = store
            .save_transition(1, &dispatch_transition(&order, &org))
            .await
            .unwrap();
        let stored = stored_order(store, &order.number).await;
        assert_eq!(stored, dispatched.order, "{backend}");
        assert_eq!(stored.state, OrderState::Dispatched, "{backend}");
        assert!(stored.active_deadline.is_some(), "{backend}");
        let all = Scope::All;
        let this_order = vec![order.number.clone()];
        let dispatched_only = filter(|f| f.states = vec![OrderState::Dispatched]);
        assert_eq!(
            listed(store, &dispatched_only, &all).await,
            this_order,
            "{backend}"
        );

        // A correction of the category, the caller's phone and the place, and a merge parent,
        // with the state kept: each changed column is stored, and the index finds the new value.
        let mut corrected = dispatched.order.clone();
        corrected.category_id = org.water.id;
        corrected.citizen.phone = "13900009999".to_owned();
        corrected.location.street_id = None;
        corrected.parent_order_id = Some(parent.id);
        corrected.updated_at = at("2026-11-28T05:00:00Z");
        let mut note = event(
            "modify",
            corrected.updated_at,
            Some(OrderState::Dispatched),
            OrderState::Dispatched,
            org.admin.id,
            org.centre.id,
        );
        note.text = Some("更正分类与来电号码".to_owned());
        let saved = store
            .save_transition(
                dispatched.order.version,
                &Transition {
                    order: corrected.clone(),
                    assignments: dispatched.assignments.clone(),
                    events: vec![note],
                },
            )
            .await
            .unwrap();
        let stored = stored_order(store, &order.number).await;
        assert_eq!(stored, saved.order, "{backend}");
        assert_eq!(stored.category_id, org.water.id, "{backend}");
        assert_eq!(stored.citizen.phone, "13900009999", "{backend}");
        assert_eq!(stored.location.street_id, None, "{backend}");
        assert_eq!(stored.parent_order_id, Some(parent.id), "{backend}");
        assert_eq!(stored.state, OrderState::Dispatched, "{backend}");
        assert_eq!(
            stored.active_deadline, dispatched.order.active_deadline,
            "{backend}"
        );
        let by_new_phone = filter(|f| f.phone = Some("13900009999".to_owned()));
        assert_eq!(
            listed(store, &by_new_phone, &all).await,
            this_order,
            "{backend}"
        );
        let by_old_phone = filter(|f| f.phone = Some(order.citizen.phone.clone()));
        assert_eq!(
            listed(store, &by_old_phone, &all).await,
            vec![parent.number.clone()],
            "{backend}"
        );
        let by_water = filter(|f| f.category_id = Some(org.water.id));
        assert_eq!(
            listed(store, &by_water, &all).await,
            this_order,
            "{backend}"
        );
        let merged = filter(|f| f.parent_order_id = Some(parent.id));
        assert_eq!(listed(store, &merged, &all).await, this_order, "{backend}");
        assert_eq!(
            listed(store, &dispatched_only, &all).await,
            this_order,
            "{backend}"
        );
    }
}
