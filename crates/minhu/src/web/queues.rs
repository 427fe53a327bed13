//! Work queues: 派单 (`/dispatch`, dispatchers) and the unit inbox 承办单位 (`/inbox`), plus the
//! extension form's live deadline preview (`/inbox/extension-preview`).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use minhu_domain::{
    AssignmentRole, AssignmentState, DeadlineUnit, OrderState, Role, TimeLimit, UnitKind,
};
use serde::Deserialize;

use super::error::{WebError, render};
use super::format::{Badge, datetime_cn, opt_datetime_cn, warning_badge};
use super::layout::Layout;
use super::session::WebSession;
use crate::service::App;
use crate::service::orders::warning_of;
use crate::storage::{OrderFilter, OrderListItem};

/// The queues' routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/dispatch", get(dispatch))
        .route("/inbox", get(inbox))
        .route("/inbox/extension-preview", get(extension_preview))
}

/// A unit choice of the dispatch form.
#[derive(Debug, Clone)]
pub struct UnitChoice {
    pub id: i64,
    pub name: String,
    pub selected: bool,
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
    pub suggested: String,
    pub sign_preview: String,
    pub handle_preview: String,
    pub units: Vec<UnitChoice>,
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

#[derive(Template)]
#[template(path = "dispatch.html")]
struct DispatchPage {
    layout: Layout,
    rows: Vec<DispatchRow>,
    returns: Vec<LinkRow>,
    extensions: Vec<LinkRow>,
}

fn link_rows(
    app: &App,
    items: &[OrderListItem],
    layout: &Layout,
    refs: &crate::service::desk::ReferenceData,
) -> Vec<LinkRow> {
    let now = app.now();
    items
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
        .collect()
}

/// `GET /dispatch`: registered orders oldest first, each with the catalogue's suggestion, a quick
/// dispatch form and the deadlines that would apply; return and extension requests to decide.
pub async fn dispatch(State(app): State<App>, session: WebSession) -> Result<Response, WebError> {
    if !session.actor.has_any_role(&[Role::Dispatcher]) {
        return Err(WebError::Page {
            status: axum::http::StatusCode::FORBIDDEN,
            title: "无权访问",
            message: "派单页面仅供派单员使用。".to_owned(),
        });
    }
    let layout = Layout::new(&app, &session, "派单", "/dispatch").crumb("派单", None);
    let actor = &session.actor;
    let (registered, returns, extensions, refs) = tokio::try_join!(
        app.queue_oldest_first(
            actor,
            OrderFilter {
                states: vec![OrderState::Registered],
                ..OrderFilter::default()
            }
        ),
        app.queue_oldest_first(
            actor,
            OrderFilter {
                states: vec![OrderState::ReturnRequested],
                ..OrderFilter::default()
            }
        ),
        app.queue_oldest_first(
            actor,
            OrderFilter {
                has_pending_extension: true,
                ..OrderFilter::default()
            }
        ),
        app.reference_data()
    )?;
    let now = app.now();
    let tz = layout.tz;
    let mut handling: Vec<_> = refs
        .units
        .iter()
        .filter(|u| u.active && u.kind != UnitKind::CityCentre)
        .collect();
    handling.sort_by(|a, b| a.path.cmp(&b.path));
    let mut suggestions: HashMap<(i64, Option<i64>), Option<i64>> = HashMap::new();
    let mut previews: HashMap<(i64, String, String), (String, String)> = HashMap::new();
    let mut rows = Vec::new();
    for item in &registered {
        let o = &item.order;
        let key = (o.category_id, o.location.district_id);
        let suggested = match suggestions.get(&key) {
            Some(found) => *found,
            None => {
                let found = app
                    .suggest_units(o.category_id, o.location.district_id)
                    .await
                    .ok()
                    .and_then(|units| units.first().map(|u| u.id));
                suggestions.insert(key, found);
                found
            }
        };
        let limits_key = (
            o.category_id,
            o.order_type.as_str().to_owned(),
            o.urgency.as_str().to_owned(),
        );
        let (sign_preview, handle_preview) = if let Some(p) = previews.get(&limits_key) {
            p.clone()
        } else {
            let limits = app
                .limits_for(o.category_id, o.order_type, o.urgency)
                .await?;
            let sign = app.deadline_preview(now, limits.sign).await?;
            let handle = app.deadline_preview(now, limits.handle).await?;
            let p = (datetime_cn(sign, tz), datetime_cn(handle, tz));
            previews.insert(limits_key, p.clone());
            p
        };
        rows.push(DispatchRow {
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
            suggested: suggested
                .map_or_else(|| "（目录中无建议）".to_owned(), |id| refs.unit_name(id)),
            sign_preview,
            handle_preview,
            units: handling
                .iter()
                .map(|u| UnitChoice {
                    id: u.id,
                    name: u.name.clone(),
                    selected: Some(u.id) == suggested,
                })
                .collect(),
        });
    }
    let page = DispatchPage {
        returns: link_rows(&app, &returns, &layout, &refs),
        extensions: link_rows(&app, &extensions, &layout, &refs),
        rows,
        layout,
    };
    Ok(render(&page))
}

/// The inbox's tabs: code, label.
const TABS: [(&str, &str); 5] = [
    ("sign", "待签收"),
    ("handling", "办理中"),
    ("co", "协办"),
    ("done", "已办结"),
    ("returned", "退单"),
];

fn in_tab(tab: &str, role: AssignmentRole, state: AssignmentState) -> bool {
    match tab {
        "sign" => state == AssignmentState::Dispatched,
        "handling" => {
            role == AssignmentRole::Lead
                && matches!(
                    state,
                    AssignmentState::InProgress | AssignmentState::Delegated
                )
        }
        "co" => role == AssignmentRole::Co && state.is_open(),
        "done" => state == AssignmentState::Done,
        "returned" => matches!(
            state,
            AssignmentState::ReturnRequested | AssignmentState::Returned
        ),
        _ => false,
    }
}

/// A tab link.
#[derive(Debug, Clone)]
pub struct Tab {
    pub code: &'static str,
    pub label: &'static str,
    pub count: usize,
    pub active: bool,
}

/// One assignment row of the inbox.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub number: String,
    pub title: String,
    pub role: &'static str,
    pub state: &'static str,
    pub dispatched_at: String,
    pub sign_deadline: String,
    pub handle_deadline: String,
    pub warning: Option<Badge>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    tabs: Vec<Tab>,
    rows: Vec<InboxRow>,
}

/// The inbox query: which tab.
#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    pub tab: String,
}

/// `GET /inbox?tab=sign|handling|co|done|returned`: the unit's own assignments.
pub async fn inbox(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<InboxQuery>,
) -> Result<Response, WebError> {
    let tab = TABS
        .iter()
        .map(|(c, _)| *c)
        .find(|c| *c == q.tab)
        .unwrap_or("sign");
    let layout = Layout::new(&app, &session, "承办单位", "/inbox").crumb("承办单位", None);
    let entries = app.unit_inbox(&session.actor).await?;
    let now = app.now();
    let tz = layout.tz;
    let tabs = TABS
        .iter()
        .map(|(code, label)| Tab {
            code,
            label,
            count: entries
                .iter()
                .filter(|e| in_tab(code, e.assignment.role, e.assignment.state))
                .count(),
            active: *code == tab,
        })
        .collect();
    let rows = entries
        .iter()
        .filter(|e| in_tab(tab, e.assignment.role, e.assignment.state))
        .map(|e| {
            let a = &e.assignment;
            let warning = a.state.is_open().then(|| {
                let d = minhu_domain::warning::active_deadline(
                    a.handle_start_at,
                    a.handle_deadline_at,
                    app.config.yellow_share,
                );
                minhu_domain::warning::warning_level(&d, now)
            });
            InboxRow {
                number: e.item.order.number.clone(),
                title: e.item.order.title.clone(),
                role: a.role.label(),
                state: a.state.label(),
                dispatched_at: datetime_cn(a.dispatched_at, tz),
                sign_deadline: datetime_cn(a.sign_deadline_at, tz),
                handle_deadline: datetime_cn(a.handle_deadline_at, tz),
                warning: warning_badge(warning),
            }
        })
        .collect();
    Ok(render(&InboxPage { layout, tabs, rows }))
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
