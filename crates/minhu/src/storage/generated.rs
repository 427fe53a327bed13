//! What the generator (`minhu gen`) hands to storage: finished orders with their assignments,
//! history and search documents, ids and numbers already given, written in bulk.

use chrono::NaiveDate;
use minhu_domain::{HistoryEvent, OrderAggregate};

use super::search::OrderSearchDocument;

/// Where a bulk load starts: the next free ids and the daily number sequences as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratorStart {
    /// The first order id the generator may use.
    pub next_order_id: i64,
    /// The first assignment id the generator may use.
    pub next_assignment_id: i64,
    /// `(local day, last number of that day)` for every day that has numbers.
    pub sequences: Vec<(NaiveDate, i64)>,
}

/// One finished order: the aggregate as it ends (order and assignments with their final ids and
/// number), every history line and the search document.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedOrder {
    pub aggregate: OrderAggregate,
    pub events: Vec<HistoryEvent>,
    pub search: OrderSearchDocument,
}

/// A batch of generated orders, written in one transaction, with the daily sequences it used
/// (`(day, last number)`; the stored value is raised to it, never lowered).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeneratedBatch {
    pub orders: Vec<GeneratedOrder>,
    pub sequences: Vec<(NaiveDate, i64)>,
}
