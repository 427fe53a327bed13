//! A handling unit's work queues (待办): the same queues as the web inbox, for clients of the
//! API (a unit's own system, a mobile app). Each queue is a filter on the unit's own
//! assignments; every row is an order with the assignment the queue is about.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, StdErrors};
use super::extract::{ApiPath, ApiQuery, CurrentActor};
use super::views::{AssignmentView, OrderSummary};
use crate::service::App;
use crate::service::queues::{PAGE_SIZE, UnitQueue};

/// The documented routes of this module.
pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_queues))
        .routes(routes!(queue_page))
}

/// One of the caller's queues and how many orders it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QueueCount {
    /// `sign` (待签收), `redispatch` (待转派), `handling` (办理中), `co` (协办), `review`
    /// (待审核), `yellow` (即将超期), `red` (已超期), `return` (退单申请), `extension` (延期申请),
    /// `done` (已办结), `returned` (已退回).
    pub queue: String,
    /// The queue's name in Chinese.
    pub label: String,
    pub total: i64,
}

/// The page of a queue to show.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueuePageQuery {
    /// The page, from 1 (default 1); a page past the end shows the last.
    pub page: Option<u32>,
}

/// One row of a queue: the order and the unit's assignment the queue is about.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QueueItem {
    pub order: OrderSummary,
    pub assignment: AssignmentView,
}

/// One page of a queue, newest orders first, 50 to a page.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QueuePageResponse {
    pub queue: String,
    pub label: String,
    pub items: Vec<QueueItem>,
    /// How many orders the queue holds, over all pages.
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub per_page: i64,
}

/// The caller's unit queues with their counts, in the inbox's order. Centre staff have none.
#[utoipa::path(get, path = "/api/v1/queues", tag = "queues",
    responses((status = 200, description = "成功", body = Vec<QueueCount>), StdErrors))]
async fn list_queues(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
) -> ApiResult<Json<Vec<QueueCount>>> {
    let counts = app.unit_queue_counts(&actor).await?;
    Ok(Json(
        counts
            .into_iter()
            .map(|(queue, total)| QueueCount {
                queue: queue.code().to_owned(),
                label: queue.label().to_owned(),
                total,
            })
            .collect(),
    ))
}

/// A page of one of the caller's unit queues. A queue the caller does not have is `not_found`.
#[utoipa::path(get, path = "/api/v1/queues/{queue}", tag = "queues",
    params(("queue" = String, Path, description = "队列：sign、handling、yellow、red 等"),
        QueuePageQuery),
    responses((status = 200, description = "成功", body = QueuePageResponse), StdErrors))]
async fn queue_page(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<QueuePageQuery>,
) -> ApiResult<Json<QueuePageResponse>> {
    let queue = UnitQueue::from_code(&code)
        .filter(|queue| queue.offered_to(&actor))
        .ok_or_else(ApiError::not_found)?;
    let page = query.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::invalid_query("page", "页码从1开始"));
    }
    let result = app.unit_queue(&actor, queue, i64::from(page)).await?;
    let unit_ids: Vec<i64> = result
        .items
        .iter()
        .map(|entry| entry.assignment.unit_id)
        .collect();
    let units = app.reference().await?.units_by_ids(&unit_ids);
    let now = app.now();
    let items = result
        .items
        .iter()
        .map(|entry| QueueItem {
            order: OrderSummary::new(&entry.item, &actor, now),
            assignment: AssignmentView::new(
                &entry.assignment,
                &units,
                now,
                app.config.yellow_share,
            ),
        })
        .collect();
    Ok(Json(QueuePageResponse {
        queue: queue.code().to_owned(),
        label: queue.label().to_owned(),
        items,
        total: result.total,
        page: result.page,
        pages: result.pages,
        per_page: PAGE_SIZE,
    }))
}
