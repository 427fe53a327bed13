//! The supervisor's 待审核 queue (`/review`: replied orders oldest first with the lead unit's
//! reply, linking to the detail's review form) and the visitor's 待回访 queue (`/visits`:
//! orders awaiting the return visit with the visit deadline and its warning).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minhu_domain::{OrderState, Role};

use super::error::{WebError, render};
use super::format::{Badge, datetime_cn, opt_datetime_cn, warning_badge};
use super::layout::Layout;
use super::session::WebSession;
use crate::service::App;
use crate::service::orders::warning_of;
use crate::storage::OrderFilter;

/// How many characters of a reply the queue shows.
const EXCERPT_CHARS: usize = 60;

/// The routes of both queues.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/review", get(review))
        .route("/visits", get(visits))
}

fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

fn forbidden(page: &str, who: &str) -> WebError {
    WebError::Page {
        status: StatusCode::FORBIDDEN,
        title: "无权访问",
        message: format!("{page}页面仅供{who}使用。"),
    }
}

/// One replied order awaiting review.
#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub number: String,
    pub title: String,
    pub lead_unit: String,
    pub replied_at: String,
    pub reply: String,
    pub warning: Option<Badge>,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    layout: Layout,
    rows: Vec<ReviewRow>,
}

/// `GET /review` (supervisors): orders in `replied`, oldest first.
pub async fn review(State(app): State<App>, session: WebSession) -> Result<Response, WebError> {
    if !session.actor.has_any_role(&[Role::Supervisor]) {
        return Err(forbidden("待审核", "督查员"));
    }
    let layout = Layout::new(&app, &session, "待审核", "/review").crumb("待审核", None);
    let (entries, refs) = tokio::try_join!(app.review_queue(&session.actor), app.reference_data())?;
    let now = app.now();
    let tz = layout.tz;
    let rows = entries
        .iter()
        .map(|e| {
            let o = &e.item.order;
            let lead = e.lead.as_ref();
            ReviewRow {
                number: o.number.clone(),
                title: o.title.clone(),
                lead_unit: lead
                    .map(|a| a.unit_id)
                    .or(e.item.lead_unit_id)
                    .map_or_else(String::new, |id| refs.unit_name(id)),
                replied_at: opt_datetime_cn(lead.and_then(|a| a.replied_at), tz),
                reply: lead
                    .and_then(|a| a.reply.as_deref())
                    .map(excerpt)
                    .unwrap_or_default(),
                warning: warning_badge(warning_of(o, now)),
            }
        })
        .collect();
    Ok(render(&ReviewPage { layout, rows }))
}

/// One order awaiting its return visit.
#[derive(Debug, Clone)]
pub struct VisitRow {
    pub number: String,
    pub title: String,
    pub lead_unit: String,
    pub visit_deadline: String,
    pub warning: Option<Badge>,
    pub redo_count: i32,
}

#[derive(Template)]
#[template(path = "visits.html")]
struct VisitsPage {
    layout: Layout,
    rows: Vec<VisitRow>,
}

/// `GET /visits` (visitors): orders in `pending_visit`, oldest first.
pub async fn visits(State(app): State<App>, session: WebSession) -> Result<Response, WebError> {
    if !session.actor.has_any_role(&[Role::Visitor]) {
        return Err(forbidden("待回访", "回访员"));
    }
    let layout = Layout::new(&app, &session, "待回访", "/visits").crumb("待回访", None);
    let filter = OrderFilter {
        states: vec![OrderState::PendingVisit],
        ..OrderFilter::default()
    };
    let (items, refs) = tokio::try_join!(
        app.queue_oldest_first(&session.actor, filter),
        app.reference_data()
    )?;
    let now = app.now();
    let tz = layout.tz;
    let rows = items
        .iter()
        .map(|item| {
            let o = &item.order;
            VisitRow {
                number: o.number.clone(),
                title: o.title.clone(),
                lead_unit: item
                    .lead_unit_id
                    .map_or_else(String::new, |id| refs.unit_name(id)),
                visit_deadline: o
                    .visit_deadline_at
                    .map_or_else(|| "—".to_owned(), |at| datetime_cn(at, tz)),
                warning: warning_badge(warning_of(o, now)),
                redo_count: o.redo_count,
            }
        })
        .collect();
    Ok(render(&VisitsPage { layout, rows }))
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn excerpt_cuts_long_replies_on_characters() {
        assert_eq!(excerpt("已修复"), "已修复");
        let long = "修".repeat(70);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), 61);
        assert!(cut.ends_with('…'));
    }
}
