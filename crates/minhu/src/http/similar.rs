//! Repeat and similar orders (重复件) for a request being registered:
//! `GET /api/v1/orders/similar?title=&content=&category_id=&street_id=…`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiResult, StdErrors};
use super::extract::{ApiQuery, CurrentActor};
use super::views::OrderSummary;
use crate::service::App;
use crate::service::search::RepeatProbe;

/// The documented routes of this module.
pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(similar_orders))
}

/// What is known of the request being registered (all optional; the more, the better).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub content: String,
    pub category_id: Option<i64>,
    pub district_id: Option<i64>,
    pub street_id: Option<i64>,
    pub community_id: Option<i64>,
    /// The caller's phone.
    pub phone: Option<String>,
    /// An order already registered, left out of the answer (its own number).
    pub exclude: Option<String>,
}

/// An open order like the request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarOrderView {
    pub order: OrderSummary,
    /// 0 to 1.
    pub score: f64,
    /// At or above the centre's threshold: probably the same matter (merge it, 并单).
    pub likely_repeat: bool,
    /// Why, in Chinese, most telling first (e.g. `内容相似度 72%（共有：路灯、不亮）`, `同一社区`).
    pub reasons: Vec<String>,
}

/// The answer: the most similar open orders, best first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarOrdersResponse {
    pub items: Vec<SimilarOrderView>,
}

/// Open orders of the same street (or district) within the repeat window that are like the
/// request, with a score and the reasons. Centre staff only (they register); others get an
/// empty list.
#[utoipa::path(get, path = "/api/v1/orders/similar", tag = "orders", params(SimilarQuery),
    responses((status = 200, description = "成功", body = SimilarOrdersResponse), StdErrors))]
async fn similar_orders(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(query): ApiQuery<SimilarQuery>,
) -> ApiResult<Json<SimilarOrdersResponse>> {
    let exclude_order_id = match query.exclude.as_deref().map(str::trim) {
        Some(number) if !number.is_empty() => app.order_id_by_number(&actor, number).await?,
        _ => None,
    };
    let probe = RepeatProbe {
        title: query.title,
        content: query.content,
        category_id: query.category_id,
        district_id: query.district_id,
        street_id: query.street_id,
        community_id: query.community_id,
        phone: query.phone.filter(|p| !p.trim().is_empty()),
        exclude_order_id,
    };
    let now = app.now();
    let items = app
        .similar_orders(&actor, &probe)
        .await?
        .into_iter()
        .map(|s| SimilarOrderView {
            order: OrderSummary::new(&s.item, &actor, now),
            score: (s.score.score * 1000.0).round() / 1000.0,
            likely_repeat: s.likely_repeat,
            reasons: s.score.reasons,
        })
        .collect();
    Ok(Json(SimilarOrdersResponse { items }))
}
