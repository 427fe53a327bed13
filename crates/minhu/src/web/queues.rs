//! Work queues: 派单 (`/dispatch`, dispatchers) and the unit inbox 承办单位 (`/inbox`, in
//! [`inbox`]), paged 50 at a time in the database, plus the extension form's live deadline
//! preview (`/inbox/extension-preview`).
//!
//! The dispatch rows do not carry the unit list: each row's pickers start with the catalogue's
//! suggestion alone and load every handling unit (`/dispatch/units`, htmx, one cached answer)
//! when the picker is first hovered or focused, so a page grows with its rows only.

mod inbox;

use askama::Template;
use axum::Router;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use minhu_domain::{DeadlineUnit, OrderState, Role, TimeLimit, UnitInfo, UnitKind};
use serde::Deserialize;

use super::error::{WebError, render};
use super::format::{Badge, datetime_cn, opt_datetime_cn, warning_badge};
use super::layout::Layout;
use super::session::{FormData, WebSession};
use crate::service::App;
use crate::service::desk::ReferenceData;
use crate::service::orders::warning_of;
use crate::service::queues::QueuePage;
use crate::storage::{OrderFilter, OrderListItem};

/// The queues' routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/dispatch", get(dispatch))
        .route("/dispatch/units", get(unit_options))
        .route("/inbox", get(inbox::inbox))
        .route("/inbox/extension-preview", get(extension_preview))
        .route("/inbox/{number}/{action}", post(inbox::act))
}

/// 上一页 / 下一页 and "共 N 条，第 x/y 页" under a paged queue.
#[derive(Debug, Clone)]
pub struct Pager {
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// The pager of `page`; `href` gives the link to another page.
    pub fn new<T>(page: &QueuePage<T>, href: impl Fn(i64) -> String) -> Self {
        Self {
            total: page.total,
            page: page.page,
            pages: page.pages,
            prev: (page.page > 1).then(|| href(page.page - 1)),
            next: (page.page < page.pages).then(|| href(page.page + 1)),
        }
    }
}

/// `?page=N` as typed: anything but a positive number is page 1.
#[must_use]
pub fn page_number(text: &str) -> i64 {
    text.trim().parse::<i64>().unwrap_or(1).clamp(1, 1_000_000)
}

/// The 403 page of a queue for people without its role.
fn forbidden(page: &str, role: &str) -> WebError {
    WebError::Page {
        status: StatusCode::FORBIDDEN,
        title: "无权访问",
        message: format!("{page}页面仅供{role}使用。"),
    }
}

/// One registered order in the dispatch queue.
#[derive(Debug, Clone)]
pub struct DispatchRow {
    pub number: String,
    pub version: i64,
    pub title: String,
    pub category: String,
    pub district: String,
    pub created_at: String,
    pub deadline: String,
    pub warning: Option<Badge>,
    /// The catalogue's first suggestion, preselected as lead.
    pub suggested_id: Option<i64>,
    pub suggested: String,
    pub sign_preview: String,
    pub handle_preview: String,
}

/// An order linked from a queue section.
#[derive(Debug, Clone)]
pub struct LinkRow {
    pub number: String,
    pub title: String,
    pub lead_unit: String,
    pub deadline: String,
    pub warning: Option<Badge>,
}

/// A section of orders to decide elsewhere (the detail's review forms), the oldest first.
#[derive(Debug, Clone)]
pub struct LinkSection {
    pub rows: Vec<LinkRow>,
    pub total: i64,
    /// The full filtered list, when the section shows only its first page.
    pub more: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "dispatch.html")]
struct DispatchPage {
    layout: Layout,
    rows: Vec<DispatchRow>,
    pager: Pager,
    returns: LinkSection,
    extensions: LinkSection,
}

fn link_section(
    app: &App,
    page: &QueuePage<OrderListItem>,
    layout: &Layout,
    refs: &ReferenceData,
    more: &'static str,
) -> LinkSection {
    let now = app.now();
    let rows: Vec<LinkRow> = page
        .items
        .iter()
        .map(|item| LinkRow {
            number: item.order.number.clone(),
            title: item.order.title.clone(),
            lead_unit: item
                .lead_unit_id
                .map_or_else(String::new, |id| refs.unit_name(id)),
            deadline: opt_datetime_cn(item.order.active_deadline.map(|d| d.deadline_at), layout.tz),
            warning: warning_badge(warning_of(&item.order, now)),
        })
        .collect();
    LinkSection {
        more: (page.total > i64::try_from(rows.len()).unwrap_or(i64::MAX)).then_some(more),
        total: page.total,
        rows,
    }
}

/// The dispatch page's query.
#[derive(Debug, Default, Deserialize)]
pub struct DispatchQuery {
    #[serde(default)]
    pub page: String,
}

/// `GET /dispatch?page=N`: registered orders oldest first, 50 a page, each with the catalogue's
/// suggestion, a quick dispatch form and the deadlines that would apply; the return and
/// extension requests to decide (the oldest 50 of each, with the full count).
pub async fn dispatch(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<DispatchQuery>,
) -> Result<Response, WebError> {
    if !session.actor.has_any_role(&[Role::Dispatcher]) {
        return Err(forbidden("派单", "派单员"));
    }
    let layout = Layout::new(&app, &session, "派单", "/dispatch").crumb("派单", None);
    let actor = &session.actor;
    let oldest = |filter: OrderFilter| OrderFilter {
        oldest_first: true,
        ..filter
    };
    let (registered, returns, extensions, refs, planner) = tokio::try_join!(
        app.queue_page(
            actor,
            oldest(OrderFilter {
                states: vec![OrderState::Registered],
                ..OrderFilter::default()
            }),
            page_number(&q.page)
        ),
        app.queue_page(
            actor,
            oldest(OrderFilter {
                states: vec![OrderState::ReturnRequested],
                ..OrderFilter::default()
            }),
            1
        ),
        app.queue_page(
            actor,
            oldest(OrderFilter {
                has_pending_extension: true,
                ..OrderFilter::default()
            }),
            1
        ),
        app.reference_data(),
        app.dispatch_planner()
    )?;
    let now = app.now();
    let tz = layout.tz;
    let rows = registered
        .items
        .iter()
        .map(|item| {
            let o = &item.order;
            let suggested_id = planner
                .suggestions(&refs, o.category_id, o.location.district_id)
                .first()
                .copied();
            let limits = planner.limits(&refs, o.category_id, o.order_type, o.urgency);
            DispatchRow {
                number: o.number.clone(),
                version: o.version,
                title: o.title.clone(),
                category: refs.category_path(o.category_id),
                district: o
                    .location
                    .district_id
                    .map_or_else(String::new, |id| refs.unit_name(id)),
                created_at: datetime_cn(o.created_at, tz),
                deadline: opt_datetime_cn(o.active_deadline.map(|d| d.deadline_at), tz),
                warning: warning_badge(warning_of(o, now)),
                suggested_id,
                suggested: suggested_id
                    .map_or_else(|| "（目录中无建议）".to_owned(), |id| refs.unit_name(id)),
                sign_preview: datetime_cn(planner.deadline(now, limits.sign), tz),
                handle_preview: datetime_cn(planner.deadline(now, limits.handle), tz),
            }
        })
        .collect();
    let page = DispatchPage {
        pager: Pager::new(&registered, |p| format!("/dispatch?page={p}")),
        returns: link_section(
            &app,
            &returns,
            &layout,
            &refs,
            "/orders?state=return_requested",
        ),
        extensions: link_section(
            &app,
            &extensions,
            &layout,
            &refs,
            "/orders?extension=pending",
        ),
        rows,
        layout,
    };
    Ok(render(&page))
}

/// The units an order may be dispatched to: active, not the centre, in tree order.
#[must_use]
pub fn handling_units(refs: &ReferenceData) -> Vec<&UnitInfo> {
    let mut units: Vec<&UnitInfo> = refs
        .units
        .iter()
        .filter(|u| u.active && u.kind != UnitKind::CityCentre)
        .collect();
    units.sort_by(|a, b| a.path.cmp(&b.path));
    units
}

/// A unit choice of a picker.
#[derive(Debug, Clone)]
pub struct UnitChoice {
    pub id: i64,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(
    source = "{% if placeholder %}<option value=\"\">（请选择主办单位）</option>{% endif %}\
{% for u in units %}<option value=\"{{ u.id }}\"{% if u.selected %} selected{% endif %}>{{ u.name }}</option>{% endfor %}",
    ext = "html"
)]
struct UnitOptions {
    placeholder: bool,
    units: Vec<UnitChoice>,
}

/// `GET /dispatch/units?role=lead|co&lead_unit_id=…&co_unit_ids=…` (htmx, from a dispatch
/// row's picker on first hover or focus): every handling unit as `<option>`s, those the
/// picker holds now selected. Cached briefly by the browser, so a page's pickers share it.
pub async fn unit_options(
    State(app): State<App>,
    session: WebSession,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    if !session.actor.has_any_role(&[Role::Dispatcher]) {
        return Err(forbidden("派单", "派单员"));
    }
    let q = FormData::parse(query.unwrap_or_default().as_bytes());
    let lead = q.get("role") != Some("co");
    let chosen: Vec<i64> = if lead {
        q.all("lead_unit_id")
    } else {
        q.all("co_unit_ids")
    }
    .iter()
    .filter_map(|v| v.trim().parse().ok())
    .collect();
    let refs = app.reference_data().await?;
    let units = handling_units(&refs)
        .into_iter()
        .map(|u| UnitChoice {
            id: u.id,
            name: u.name.clone(),
            selected: chosen.contains(&u.id),
        })
        .collect();
    let options = UnitOptions {
        placeholder: lead && chosen.is_empty(),
        units,
    };
    let mut response = render(&options);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=60"),
    );
    Ok(response)
}

/// The preview query: the order and the working days asked for.
#[derive(Debug, Default, Deserialize)]
pub struct PreviewQuery {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub days: String,
}

/// `GET /inbox/extension-preview?number=…&days=N` (htmx): the handle deadline of the actor's
/// open assignment moved by N working days, as a line of text.
pub async fn extension_preview(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<PreviewQuery>,
) -> Result<Response, WebError> {
    let Ok(days) = q.days.trim().parse::<u32>() else {
        return Ok(Html("<span class=\"muted\">请输入延期工作日数</span>").into_response());
    };
    if !(1..=60).contains(&days) {
        return Ok(Html("<span class=\"muted\">延期天数须在1到60之间</span>").into_response());
    }
    let detail = app
        .get_order_masked(&session.actor, q.number.trim())
        .await?;
    let Some(a) = detail
        .aggregate
        .assignments
        .iter()
        .find(|a| a.unit_id == session.actor.unit.id && a.state.is_open())
    else {
        return Ok(
            Html("<span class=\"muted\">本单位在该工单上没有办理中的任务</span>").into_response(),
        );
    };
    let limit = TimeLimit {
        amount: days,
        unit: DeadlineUnit::WorkingDays,
    };
    let until = app.deadline_preview(a.handle_deadline_at, limit).await?;
    let tz = Layout::new(&app, &session, "", "").tz;
    Ok(Html(format!(
        "<span class=\"preview\">延期后办结时限：{}（原 {}）</span>",
        datetime_cn(until, tz),
        datetime_cn(a.handle_deadline_at, tz)
    ))
    .into_response())
}
