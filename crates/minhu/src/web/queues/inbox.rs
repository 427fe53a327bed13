//! 承办单位 (`/inbox?tab=…&page=N`): the unit's own queues, one tab each with its true count
//! (the same counts as the desk), 50 rows a page. A sub-centre (分中心) also re-dispatches its
//! signed assignments down its subtree (待转派) and reviews the replies coming back up (待审核)
//! right in the rows: each row's form posts with htmx to `/inbox/{number}/{action}` and the row
//! is swapped in place, with the outcome or, when refused, the reason and what was typed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minhu_domain::{Action, Assignment, AssignmentState};
use serde::Deserialize;

use super::{Pager, UnitChoice, page_number};
use crate::service::App;
use crate::service::desk::ReferenceData;
use crate::service::queues::{DispatchPlanner, InboxEntry, UnitQueue, assignment_warning};
use crate::storage::OrderListItem;
use crate::web::action_forms::parse_action;
use crate::web::auth::expired_post;
use crate::web::error::{WebError, render};
use crate::web::format::{Badge, datetime_cn, opt_datetime_cn, warning_badge};
use crate::web::layout::Layout;
use crate::web::session::{FormData, WebSession, is_htmx};

/// A tab link with its true count.
#[derive(Debug, Clone)]
pub struct Tab {
    pub code: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub active: bool,
}

/// The 转派 form of a 待转派 row.
#[derive(Debug, Clone)]
pub struct RedispatchForm {
    /// The active units below the sub-centre, the catalogue's suggestion (or what was posted)
    /// selected.
    pub units: Vec<UnitChoice>,
    pub note: String,
    pub sign_preview: String,
    pub handle_preview: String,
}

impl RedispatchForm {
    /// Whether no unit is selected (the placeholder option is).
    #[must_use]
    pub fn none_selected(&self) -> bool {
        !self.units.iter().any(|u| u.selected)
    }
}

/// The 审核 form of a 待审核 row.
#[derive(Debug, Clone)]
pub struct ReviewForm {
    /// The lower unit whose reply is reviewed.
    pub unit_id: i64,
    /// `true`, `false` or empty (not chosen yet).
    pub pass: String,
    pub note: String,
}

/// One assignment row of the inbox.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub number: String,
    pub title: String,
    pub version: i64,
    pub role: &'static str,
    pub state: &'static str,
    /// The assignment's unit (待审核: the lower unit that replied).
    pub unit: String,
    pub dispatched_at: String,
    pub sign_deadline: String,
    pub handle_deadline: String,
    pub warning: Option<Badge>,
    pub reply: Option<String>,
    pub replied_at: String,
    pub redispatch: Option<RedispatchForm>,
    pub review: Option<ReviewForm>,
    /// Why the row's action was refused.
    pub error: Option<String>,
    /// What the row's action did (the row is then only this line).
    pub done: Option<String>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    csrf: String,
    tabs: Vec<Tab>,
    /// `plain`, `redispatch` or `review`: which columns the rows have.
    kind: &'static str,
    cols: usize,
    rows: Vec<InboxRow>,
    pager: Pager,
}

/// One row alone, swapped in by htmx after a row action.
#[derive(Template)]
#[template(path = "inbox_row.html")]
struct RowFragment {
    csrf: String,
    kind: &'static str,
    cols: usize,
    r: InboxRow,
}

/// The rows' kind and column count of a queue.
const fn kind_of(queue: UnitQueue) -> (&'static str, usize) {
    match queue {
        UnitQueue::Redispatch => ("redispatch", 7),
        UnitQueue::Review => ("review", 7),
        _ => ("plain", 8),
    }
}

/// What building rows needs, read once per page.
struct RowContext {
    refs: ReferenceData,
    planner: Option<DispatchPlanner>,
    /// The active units strictly below the actor's unit, in tree order (转派 targets).
    below: Vec<(i64, String)>,
    tz: Tz,
    now: DateTime<Utc>,
    yellow_share: f64,
}

impl RowContext {
    /// What the rows of `queue` need: unit names and the units below for 待转派 and 待审核,
    /// the dispatch planner for 待转派; nothing for the other queues.
    async fn load(app: &App, session: &WebSession, queue: UnitQueue) -> Result<Self, WebError> {
        let (refs, planner) = match queue {
            UnitQueue::Redispatch => {
                let (refs, planner) =
                    tokio::try_join!(app.reference_data(), app.dispatch_planner())?;
                (refs, Some(planner))
            }
            UnitQueue::Review => (app.reference_data().await?, None),
            _ => (ReferenceData::default(), None),
        };
        Ok(Self::new(app, session, refs, planner))
    }

    fn new(
        app: &App,
        session: &WebSession,
        refs: ReferenceData,
        planner: Option<DispatchPlanner>,
    ) -> Self {
        let own = &session.actor.unit;
        let mut below: Vec<_> = refs
            .units
            .iter()
            .filter(|u| u.active && u.id != own.id && own.contains(u))
            .collect();
        below.sort_by(|a, b| a.path.cmp(&b.path));
        // Indent by depth below the sub-centre, so that streets and their communities read as
        // a tree.
        let base = own.path.matches('/').count();
        let below = below
            .into_iter()
            .map(|u| {
                let depth = u.path.matches('/').count().saturating_sub(base + 1);
                (u.id, format!("{}{}", "　".repeat(depth), u.name))
            })
            .collect();
        Self {
            refs,
            planner,
            below,
            tz: app.config.tz().unwrap_or(chrono_tz::Asia::Shanghai),
            now: app.now(),
            yellow_share: app.config.yellow_share,
        }
    }

    /// The row of `a` on `item`'s order in `queue`, with its form where the queue has one.
    fn row(&self, queue: UnitQueue, item: &OrderListItem, a: &Assignment) -> InboxRow {
        let tz = self.tz;
        let o = &item.order;
        let pending = matches!(
            a.state,
            AssignmentState::Dispatched
                | AssignmentState::ReturnRequested
                | AssignmentState::InProgress
                | AssignmentState::Delegated
        );
        let warning = pending.then(|| assignment_warning(a, self.now, self.yellow_share));
        let redispatch = (queue == UnitQueue::Redispatch).then(|| {
            let (suggested, sign_preview) = match &self.planner {
                Some(p) => {
                    let suggested = p
                        .suggestions(&self.refs, o.category_id, o.location.district_id)
                        .into_iter()
                        .find(|id| self.below.iter().any(|(b, _)| b == id));
                    let limits = p.limits(&self.refs, o.category_id, o.order_type, o.urgency);
                    (
                        suggested,
                        datetime_cn(p.deadline(self.now, limits.sign), tz),
                    )
                }
                None => (None, "—".to_owned()),
            };
            RedispatchForm {
                units: self
                    .below
                    .iter()
                    .map(|(id, name)| UnitChoice {
                        id: *id,
                        name: name.clone(),
                        selected: Some(*id) == suggested,
                    })
                    .collect(),
                note: String::new(),
                sign_preview,
                handle_preview: datetime_cn(a.handle_deadline_at, tz),
            }
        });
        let review = (queue == UnitQueue::Review).then(|| ReviewForm {
            unit_id: a.unit_id,
            pass: String::new(),
            note: String::new(),
        });
        InboxRow {
            number: o.number.clone(),
            title: o.title.clone(),
            version: o.version,
            role: a.role.label(),
            state: a.state.label(),
            unit: self.refs.unit_name(a.unit_id),
            dispatched_at: datetime_cn(a.dispatched_at, tz),
            sign_deadline: datetime_cn(a.sign_deadline_at, tz),
            handle_deadline: datetime_cn(a.handle_deadline_at, tz),
            warning: warning_badge(warning),
            reply: a.reply.clone(),
            replied_at: opt_datetime_cn(a.replied_at, tz),
            redispatch,
            review,
            error: None,
            done: None,
        }
    }
}

/// Puts what was posted back into a row's form, with the reason it was refused.
fn keep_input(row: &mut InboxRow, form: &FormData, message: String) {
    if let Some(f) = &mut row.redispatch {
        let chosen = form.text("to_unit_id").parse::<i64>().ok();
        for u in &mut f.units {
            u.selected = Some(u.id) == chosen;
        }
        f.note = form.text("note");
    }
    if let Some(f) = &mut row.review {
        f.pass = form.text("pass");
        f.note = form.text("note");
    }
    row.error = Some(message);
}

/// The inbox's query: which tab and page (and a flash after a plain form's redirect).
#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    pub tab: String,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub done: Option<String>,
}

/// The actor's queue `tab` (the first they have when unknown), or the 403 page.
fn queue_for(session: &WebSession, tab: &str) -> Result<UnitQueue, WebError> {
    let offered = UnitQueue::offered(&session.actor);
    let Some(first) = offered.first().copied() else {
        return Err(super::forbidden("承办单位", "承办单位人员"));
    };
    Ok(UnitQueue::from_code(tab)
        .filter(|q| offered.contains(q))
        .unwrap_or(first))
}

async fn build_page(
    app: &App,
    session: &WebSession,
    queue: UnitQueue,
    page: i64,
    done: Option<&str>,
) -> Result<InboxPage, WebError> {
    let actor = &session.actor;
    let (counts, entries, ctx) = tokio::try_join!(
        async { Ok::<_, WebError>(app.unit_queue_counts(actor).await?) },
        async { Ok::<_, WebError>(app.unit_queue(actor, queue, page).await?) },
        RowContext::load(app, session, queue)
    )?;
    let layout = Layout::new(app, session, "承办单位", "/inbox")
        .crumb("承办单位", None)
        .flash_done(done);
    let tabs = counts
        .into_iter()
        .map(|(q, count)| Tab {
            code: q.code(),
            label: q.label(),
            count,
            active: q == queue,
        })
        .collect();
    let rows = entries
        .items
        .iter()
        .map(|e| ctx.row(queue, &e.item, &e.assignment))
        .collect();
    let code = queue.code();
    let (kind, cols) = kind_of(queue);
    Ok(InboxPage {
        csrf: layout.csrf.clone(),
        pager: Pager::new(&entries, |p| format!("/inbox?tab={code}&page={p}")),
        layout,
        tabs,
        kind,
        cols,
        rows,
    })
}

/// `GET /inbox?tab=…&page=N`.
pub async fn inbox(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<InboxQuery>,
) -> Result<Response, WebError> {
    let queue = queue_for(&session, &q.tab)?;
    let page = build_page(
        &app,
        &session,
        queue,
        page_number(&q.page),
        q.done.as_deref(),
    )
    .await?;
    Ok(render(&page))
}

/// The row of order `number` as it stands now in `queue` (or, when it left the queue, the
/// actor's or the reviewed unit's latest assignment on it), with what was posted kept and the
/// reason of the refusal.
async fn refused_row(
    app: &App,
    session: &WebSession,
    queue: UnitQueue,
    number: &str,
    form: &FormData,
    message: String,
) -> Result<InboxRow, WebError> {
    let actor = &session.actor;
    let unit_id = form.text("unit_id").parse::<i64>().ok();
    let ctx = RowContext::load(app, session, queue).await?;
    let entry = app
        .unit_queue_entry(
            actor,
            queue,
            number,
            unit_id.filter(|_| queue == UnitQueue::Review),
        )
        .await?;
    let (entry, message) = match entry {
        Some(entry) => (entry, message),
        None => {
            let detail = app.get_order_masked(actor, number).await?;
            let wanted = match queue {
                UnitQueue::Review => unit_id.unwrap_or(0),
                _ => actor.unit.id,
            };
            let Some(assignment) = detail
                .aggregate
                .assignments
                .iter()
                .rev()
                .find(|a| a.unit_id == wanted)
                .cloned()
            else {
                return Err(WebError::not_found("本单位在该工单上没有相应的任务"));
            };
            let item = OrderListItem {
                order: detail.aggregate.order,
                lead_unit_id: None,
                repeat_count: 0,
            };
            let message = format!("该工单已不在「{}」中：{message}", queue.label());
            (InboxEntry { item, assignment }, message)
        }
    };
    let mut row = ctx.row(queue, &entry.item, &entry.assignment);
    keep_input(&mut row, form, message);
    Ok(row)
}

/// What a row action did, in a sentence.
fn done_text(refs: &ReferenceData, action: &Action) -> String {
    match action {
        Action::Redispatch(r) => format!("已转派至{}", refs.unit_name(r.to_unit_id)),
        Action::Review(r) => {
            let unit = r.unit_id.map(|u| refs.unit_name(u)).unwrap_or_default();
            if r.pass {
                format!("已审核通过{unit}的办理结果，结果已随本单位任务上报")
            } else {
                format!("已退回{unit}重新办理")
            }
        }
        _ => "操作成功".to_owned(),
    }
}

/// Checks what the domain would only name by field: a unit to pass the order to, a verdict.
fn missing_choice(queue: UnitQueue, form: &FormData) -> Option<&'static str> {
    match queue {
        UnitQueue::Redispatch if form.text("to_unit_id").is_empty() => Some("请选择转派的下级单位"),
        UnitQueue::Review if form.text("pass").is_empty() => Some("请选择审核结果：通过或退回重办"),
        UnitQueue::Review if form.text("unit_id").is_empty() => Some("请指定审核的下级单位"),
        _ => None,
    }
}

/// `POST /inbox/{number}/redispatch|review`: a row's 转派 or 审核 (the same use case as the
/// detail page's forms). htmx gets the row back — the outcome, or the refusal with the input
/// kept; a plain form is redirected to the tab, or shown the page with the refused row.
pub async fn act(
    State(app): State<App>,
    session: Result<WebSession, WebError>,
    headers: HeaderMap,
    Path((number, code)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    let session = match session {
        Ok(session) => session,
        Err(WebError::SignIn { .. }) => {
            let path = format!("/inbox/{number}/{code}");
            return Ok(expired_post(&app, &headers, &path, &form));
        }
        Err(other) => return Err(other),
    };
    session.check_csrf(&headers, &form)?;
    let queue = match code.as_str() {
        "redispatch" => UnitQueue::Redispatch,
        "review" => UnitQueue::Review,
        _ => return Err(WebError::not_found("没有这个操作")),
    };
    if !queue.offered_to(&session.actor) {
        return Err(super::forbidden(queue.label(), "分中心派单员"));
    }
    let version = form.text("version").parse::<i64>().ok();
    let outcome = match missing_choice(queue, &form) {
        Some(message) => Err((StatusCode::UNPROCESSABLE_ENTITY, message.to_owned())),
        None => match parse_action(queue.code(), &form) {
            Err((_, message)) => Err((StatusCode::UNPROCESSABLE_ENTITY, message)),
            Ok(action) => match app
                .act_on_order(&session.actor, &number, action.clone(), version)
                .await
            {
                Ok(aggregate) => Ok((action, aggregate)),
                Err(err) if matches!(err.code(), "internal" | "not_found") => {
                    return Err(err.into());
                }
                Err(err) if err.code() == "version_conflict" => Err((
                    StatusCode::CONFLICT,
                    "工单已被他人处理或更新（版本已变化），本行已刷新为最新内容，请核对后重新提交"
                        .to_owned(),
                )),
                Err(err) => Err((StatusCode::UNPROCESSABLE_ENTITY, err.to_string())),
            },
        },
    };
    let htmx = is_htmx(&headers);
    let (kind, cols) = kind_of(queue);
    match outcome {
        Ok((action, aggregate)) if htmx => {
            let refs = app.reference_data().await?;
            let ctx = RowContext::new(&app, &session, refs, None);
            let order = aggregate.order.clone();
            let a = aggregate
                .assignments
                .iter()
                .rev()
                .find(|a| match &action {
                    Action::Review(r) => Some(a.unit_id) == r.unit_id,
                    _ => a.unit_id == session.actor.unit.id,
                })
                .cloned();
            let mut row = match a {
                Some(a) => ctx.row(
                    UnitQueue::Done,
                    &OrderListItem {
                        order,
                        lead_unit_id: None,
                        repeat_count: 0,
                    },
                    &a,
                ),
                None => return Err(WebError::not_found("任务不存在")),
            };
            row.done = Some(done_text(&ctx.refs, &action));
            Ok(render(&RowFragment {
                csrf: session.csrf.clone(),
                kind,
                cols,
                r: row,
            }))
        }
        Ok(_) => Ok(Redirect::to(&format!("/inbox?tab={code}&done={code}")).into_response()),
        Err((status, message)) => {
            let row = refused_row(&app, &session, queue, &number, &form, message).await?;
            if htmx {
                return Ok(render(&RowFragment {
                    csrf: session.csrf.clone(),
                    kind,
                    cols,
                    r: row,
                }));
            }
            let mut page = build_page(&app, &session, queue, 1, None).await?;
            match page.rows.iter_mut().find(|r| r.number == row.number) {
                Some(slot) => *slot = row,
                None => page.rows.insert(0, row),
            }
            Ok((status, render(&page)).into_response())
        }
    }
}
