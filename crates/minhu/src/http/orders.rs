//! Work orders: list, register, read, history, dispatch suggestions. The lifecycle actions are in
//! `actions.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, StatusCode, header};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use minhu_domain::{
    Actor, CallerTag, Channel, Citizen, Gender, Location, NewOrder, OrderState, OrderType,
    UnitInfo, Urgency, WarningLevel,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, StdErrors};
use super::extract::{ApiJson, ApiPath, ApiQuery, ClientAddress, CurrentActor};
use super::views::{OrderListResponse, OrderSummary, OrderView};
use crate::service::App;
use crate::service::orders::OrderDetail;
use crate::storage::{HistoryEntry, OrderFilter, PageRequest};

/// The largest page of the order list.
pub const MAX_PER_PAGE: u32 = 100;

/// The documented routes of this module.
pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_orders, register_order))
        .routes(routes!(get_order))
        .routes(routes!(order_history))
        .routes(routes!(dispatch_suggestions))
}

/// Filters and paging of the order list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderListQuery {
    /// Words to search for (Chinese word segmentation): number, title, content, address and
    /// replies, and the caller's name for centre roles. Every word must occur; the list is then
    /// ranked by relevance (the first pages rank the newest 2,000 matches; `total` counts up to
    /// 10,000 when other filters or a unit's scope apply). Combines with every other filter.
    pub q: Option<String>,
    /// States, comma-separated: `dispatched,in_progress`.
    pub state: Option<String>,
    /// Orders with an assignment on this unit or below it.
    pub unit_id: Option<i64>,
    /// This category or below it.
    pub category_id: Option<i64>,
    pub district_id: Option<i64>,
    /// The order type (`consultation`, `complaint`, …).
    #[serde(rename = "type")]
    #[param(inline, rename = "type")]
    pub order_type: Option<OrderType>,
    #[param(inline)]
    pub channel: Option<Channel>,
    #[param(inline)]
    pub urgency: Option<Urgency>,
    /// Created at or after: RFC 3339, or a local date `YYYY-MM-DD` (from its start).
    pub created_from: Option<String>,
    /// Created before: RFC 3339, or a local date `YYYY-MM-DD` (up to its end).
    pub created_to: Option<String>,
    /// The warning level of the active deadline now.
    #[param(inline)]
    pub warning: Option<WarningLevel>,
    /// The caller's phone, exactly.
    pub phone: Option<String>,
    /// The order number, exactly.
    pub number: Option<String>,
    /// The page, from 1 (default 1).
    pub page: Option<u32>,
    /// Orders per page (default 20, at most 100).
    pub per_page: Option<u32>,
}

/// Reads `created_from` / `created_to`: RFC 3339, or a local date (its start; with `end_of_day`,
/// the start of the next day).
fn parse_instant(
    app: &App,
    field: &str,
    text: &str,
    end_of_day: bool,
) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(at.with_timezone(&Utc));
    }
    let bad = || {
        ApiError::invalid_query(
            field,
            format!("查询参数{field}须为 RFC 3339 时间或 YYYY-MM-DD 日期"),
        )
    };
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    let date = if end_of_day {
        date.succ_opt().ok_or_else(bad)?
    } else {
        date
    };
    let tz = app.config.tz().map_err(|e| ApiError::internal(&e))?;
    tz.from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(bad)
}

impl OrderListQuery {
    fn into_filter(
        self,
        app: &App,
        actor: &Actor,
    ) -> Result<(OrderFilter, PageRequest, u32, u32), ApiError> {
        let mut states = Vec::new();
        for code in self.state.iter().flat_map(|s| s.split(',')) {
            let code = code.trim();
            if code.is_empty() {
                continue;
            }
            let state = code.parse::<OrderState>().map_err(|_| {
                ApiError::invalid_query("state", format!("查询参数state中的“{code}”不是工单状态"))
            })?;
            states.push(state);
        }
        let page = self.page.unwrap_or(1);
        if page == 0 {
            return Err(ApiError::invalid_query("page", "页码从1开始"));
        }
        let per_page = self.per_page.unwrap_or(20);
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::invalid_query(
                "per_page",
                format!("每页条数须在1到{MAX_PER_PAGE}之间"),
            ));
        }
        let created_from = self
            .created_from
            .as_deref()
            .map(|t| parse_instant(app, "created_from", t, false))
            .transpose()?;
        let created_to = self
            .created_to
            .as_deref()
            .map(|t| parse_instant(app, "created_to", t, true))
            .transpose()?;
        let filter = OrderFilter {
            states,
            unit_id: self.unit_id,
            category_id: self.category_id,
            district_id: self.district_id,
            order_type: self.order_type,
            channel: self.channel,
            urgency: self.urgency,
            created_from,
            created_to,
            warning: self.warning,
            now: Some(app.now()),
            phone: self.phone.filter(|p| !p.trim().is_empty()),
            number: self.number.filter(|n| !n.trim().is_empty()),
            text: self.q.as_deref().and_then(|q| app.text_filter(actor, q)),
            ..OrderFilter::default()
        };
        if filter.text.is_none() && self.q.as_deref().is_some_and(|q| !q.trim().is_empty()) {
            return Err(ApiError::invalid_query("q", "检索词中没有可检索的词"));
        }
        let paging = PageRequest {
            limit: i64::from(per_page),
            offset: i64::from(page - 1) * i64::from(per_page),
        };
        Ok((filter, paging, page, per_page))
    }
}

/// The orders the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderListQuery),
    responses((status = 200, description = "成功", body = OrderListResponse), StdErrors))]
async fn list_orders(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(query): ApiQuery<OrderListQuery>,
) -> ApiResult<Json<OrderListResponse>> {
    let (filter, paging, page, per_page) = query.into_filter(&app, &actor)?;
    let query_words = filter
        .text
        .as_ref()
        .map(|t| t.query.words())
        .unwrap_or_default();
    let result = app.list_orders(&actor, filter, paging).await?;
    let now = app.now();
    Ok(Json(OrderListResponse {
        items: result
            .orders
            .iter()
            .map(|item| OrderSummary::new(item, &actor, now))
            .collect(),
        total: result.total,
        total_capped: result.total_capped,
        page,
        per_page,
        query_words,
    }))
}

/// The citizen of a new order.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CitizenInput {
    /// The caller's name; leave out when withheld.
    #[serde(default)]
    pub name: Option<String>,
    pub phone: String,
    #[serde(default)]
    pub contact_phone: Option<String>,
    #[serde(default)]
    pub gender: Option<Gender>,
    /// 企业名称 (涉企).
    #[serde(default)]
    pub enterprise_name: Option<String>,
    /// 保密: hide the citizen from handling units.
    #[serde(default)]
    pub confidential: bool,
    #[serde(default)]
    pub tags: Vec<CallerTag>,
}

/// Where the matter is.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    #[serde(default)]
    pub district_id: Option<i64>,
    #[serde(default)]
    pub street_id: Option<i64>,
    #[serde(default)]
    pub community_id: Option<i64>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub latitude: Option<f64>,
}

/// A new order, as an agent registers it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterOrderRequest {
    pub channel: Channel,
    pub citizen: CitizenInput,
    pub order_type: OrderType,
    pub category_id: i64,
    pub title: String,
    pub content: String,
    /// Free tags such as `每月一题`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Default `normal`.
    #[serde(default = "normal_urgency")]
    pub urgency: Urgency,
    #[serde(default)]
    pub location: LocationInput,
}

fn normal_urgency() -> Urgency {
    Urgency::Normal
}

impl From<RegisterOrderRequest> for NewOrder {
    fn from(r: RegisterOrderRequest) -> Self {
        NewOrder {
            channel: r.channel,
            citizen: Citizen {
                name: r.citizen.name,
                phone: r.citizen.phone,
                contact_phone: r.citizen.contact_phone,
                gender: r.citizen.gender,
                enterprise_name: r.citizen.enterprise_name,
                confidential: r.citizen.confidential,
                tags: r.citizen.tags,
            },
            order_type: r.order_type,
            category_id: r.category_id,
            title: r.title,
            content: r.content,
            tags: r.tags,
            urgency: r.urgency,
            location: Location {
                district_id: r.location.district_id,
                street_id: r.location.street_id,
                community_id: r.location.community_id,
                address: r.location.address,
                longitude: r.location.longitude,
                latitude: r.location.latitude,
            },
        }
    }
}

/// Registers a new order (话务员登记).
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = RegisterOrderRequest,
    responses((status = 201, description = "已登记；Location 指向新工单", body = OrderView), StdErrors))]
async fn register_order(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiJson(request): ApiJson<RegisterOrderRequest>,
) -> ApiResult<(StatusCode, [(HeaderName, String); 1], Json<OrderView>)> {
    let detail = app.register_order_detail(&actor, request.into()).await?;
    let view = view_of(&app, detail).await?;
    let location = format!("/api/v1/orders/{}", view.number);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view),
    ))
}

/// The API's view of an order's detail, with the units it names (from the reference data the
/// node holds, not read again).
pub(crate) async fn view_of(app: &App, detail: OrderDetail) -> ApiResult<OrderView> {
    let unit_ids = detail.aggregate.unit_ids();
    let units: Vec<UnitInfo> = if unit_ids.is_empty() {
        Vec::new()
    } else {
        app.reference().await?.units_by_ids(&unit_ids)
    };
    Ok(OrderView::new(
        detail,
        &units,
        app.now(),
        app.config.yellow_share,
    ))
}

/// One order with its assignments, history and the actions the caller may take.
#[utoipa::path(get, path = "/api/v1/orders/{number}", tag = "orders",
    params(("number" = String, Path, description = "工单编号")),
    responses((status = 200, description = "成功", body = OrderView), StdErrors))]
async fn get_order(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    address: ClientAddress,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<OrderView>> {
    // The citizen is revealed to centre staff, and the view audited with the client's address.
    let detail = app.get_order(&actor, &number, Some(&address.0)).await?;
    view_of(&app, detail).await.map(Json)
}

/// An order's history, oldest first.
#[utoipa::path(get, path = "/api/v1/orders/{number}/history", tag = "orders",
    params(("number" = String, Path, description = "工单编号")),
    responses((status = 200, description = "成功", body = Vec<HistoryEntry>), StdErrors))]
async fn order_history(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    let detail = app.get_order_masked(&actor, &number).await?;
    Ok(Json(detail.history))
}

/// Where to look for dispatch suggestions.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    pub category_id: i64,
    /// The district of the matter, if known.
    pub district_id: Option<i64>,
}

/// Units the dispatch catalogue suggests for a category (and district).
#[utoipa::path(get, path = "/api/v1/dispatch/suggestions", tag = "orders",
    params(SuggestionQuery), responses((status = 200, description = "成功", body = Vec<UnitInfo>), StdErrors))]
async fn dispatch_suggestions(
    State(app): State<App>,
    CurrentActor(_actor): CurrentActor,
    ApiQuery(query): ApiQuery<SuggestionQuery>,
) -> ApiResult<Json<Vec<UnitInfo>>> {
    Ok(Json(
        app.suggest_units(query.category_id, query.district_id)
            .await?,
    ))
}
