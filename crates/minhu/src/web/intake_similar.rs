//! The similar-orders panel of 来电登记 (重复件): while the agent types the title and content and
//! picks the category and place, `GET /orders/new/similar` (htmx, sent with the whole form)
//! answers the open orders of the street that look like the same matter, with a score and why,
//! and a button that registers the call and merges it into one of them (并单).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::error::{WebError, render};
use super::format::{Badge, datetime_cn, state_badge};
use super::intake::resolve_category;
use super::session::{FormData, WebSession};
use crate::service::App;
use crate::service::search::RepeatProbe;

/// One similar order of the panel.
#[derive(Debug, Clone)]
pub struct SimilarRow {
    pub number: String,
    pub title: String,
    pub state: Badge,
    pub created_at: String,
    /// e.g. `72%`.
    pub score: String,
    pub likely_repeat: bool,
    pub reasons: String,
    pub repeat_count: i64,
}

#[derive(Template)]
#[template(path = "intake_similar.html")]
struct SimilarPanel {
    /// Whether there was enough to compare (some text, or a place).
    asked: bool,
    rows: Vec<SimilarRow>,
}

fn id(form: &FormData, name: &str) -> Option<i64> {
    form.text(name).trim().parse().ok()
}

/// `GET /orders/new/similar?<the intake form>`.
pub async fn similar(
    State(app): State<App>,
    session: WebSession,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let form = FormData::parse(raw.unwrap_or_default().as_bytes());
    let (title, content) = (form.text("title"), form.text("content"));
    if title.trim().is_empty() && content.trim().is_empty() {
        return Ok(render(&SimilarPanel {
            asked: false,
            rows: Vec::new(),
        }));
    }
    let refs = app.reference_data().await?;
    let probe = RepeatProbe {
        title,
        content,
        category_id: resolve_category(&refs, &form.text("category")),
        district_id: id(&form, "district_id"),
        street_id: id(&form, "street_id"),
        community_id: id(&form, "community_id"),
        phone: Some(form.text("phone")).filter(|p| !p.trim().is_empty()),
        exclude_order_id: None,
    };
    let tz = app.config.tz().map_err(|e| WebError::internal(&e))?;
    let rows = app
        .similar_orders(&session.actor, &probe)
        .await?
        .into_iter()
        .map(|s| SimilarRow {
            number: s.item.order.number.clone(),
            title: s.item.order.title.clone(),
            state: state_badge(s.item.order.state),
            created_at: datetime_cn(s.item.order.created_at, tz),
            score: format!("{:.0}%", s.score.score * 100.0),
            likely_repeat: s.likely_repeat,
            reasons: s.score.reasons.join("；"),
            repeat_count: s.item.repeat_count,
        })
        .collect();
    Ok(render(&SimilarPanel { asked: true, rows }))
}
