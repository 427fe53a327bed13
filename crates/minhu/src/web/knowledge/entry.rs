//! `/knowledge/{id}`: an entry as the person may see it — the live content rendered, a change
//! being drafted or reviewed (for those who may see it), every version, the history, and one form
//! per action the person may take (htmx, swapping `#knowledge-panel`) — its actions
//! (`POST /knowledge/{id}/act/{action}`), and the suggestions panel for intake.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minhu_domain::knowledge::{
    KnowledgeAction, KnowledgeVisibility, can_edit_entry, knowledge_action_label,
};
use minhu_text::{Piece, excerpt};
use serde::Deserialize;

use super::{done_text, knowledge_badge, period, render_markdown};
use crate::service::App;
use crate::service::knowledge::plain_text;
use crate::web::error::{WebError, render};
use crate::web::format::{Badge, datetime_cn, opt_datetime_cn};
use crate::web::layout::Layout;
use crate::web::session::{CsrfForm, FormData, WebSession, is_htmx};

/// One version in the versions table.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub version: i32,
    pub state: Badge,
    pub title: String,
    pub author: String,
    pub created_at: String,
    pub submitted_at: String,
    pub reviewer: String,
    pub reviewed_at: String,
    pub note: String,
}

/// One line of the history.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub what: &'static str,
    pub version: i32,
    pub to_state: String,
    pub text: String,
}

/// A change being drafted or reviewed while another version is live.
#[derive(Debug, Clone)]
pub struct PendingView {
    pub version: i32,
    pub state: Badge,
    pub title: String,
    /// Sanitised HTML.
    pub body_html: String,
}

/// A form for one action.
#[derive(Debug, Clone)]
pub struct ActionForm {
    pub code: &'static str,
    pub label: &'static str,
    /// The text field (`note` or `reason`), its label and whether it is required.
    pub field: Option<TextField>,
    pub value: String,
    pub error: Option<String>,
    pub danger: bool,
}

#[derive(Template)]
#[template(path = "knowledge_entry.html")]
struct EntryPage {
    layout: Layout,
    id: i64,
    revision: i64,
    title: String,
    body_html: String,
    state: Badge,
    temporary: bool,
    internal: bool,
    category_path: String,
    unit: String,
    period: String,
    keywords: Vec<String>,
    used: i64,
    helpful: i64,
    created_at: String,
    updated_at: String,
    version_label: String,
    pending: Option<PendingView>,
    /// The newest version's review note when it was sent back.
    rejection: Option<String>,
    can_edit: bool,
    versions: Vec<VersionRow>,
    history: Vec<HistoryRow>,
    forms: Vec<ActionForm>,
}

/// A refused action, to show again in its form.
struct Refusal {
    code: String,
    message: String,
    value: String,
}

/// A form's text field: name, label, required.
type TextField = (&'static str, &'static str, bool);

/// The actions offered as forms on the page, in order, with their text field and whether they
/// ask for confirmation.
const FORMS: &[(&str, Option<TextField>, bool)] = &[
    ("submit", None, false),
    ("approve", Some(("note", "审核意见（可选）", false)), false),
    ("reject", Some(("note", "退回意见", true)), false),
    ("withdraw", Some(("reason", "撤回原因", true)), true),
    ("mark_helpful", None, false),
];

async fn build(
    app: &App,
    session: &WebSession,
    id: i64,
    done: Option<&str>,
    refusal: Option<Refusal>,
) -> Result<EntryPage, WebError> {
    let actor = &session.actor;
    let detail = app.get_knowledge(actor, id).await?;
    let (refs, names) = tokio::try_join!(app.reference_data(), async {
        let mut ids: Vec<i64> = detail.history.iter().map(|h| h.actor_id).collect();
        for v in &detail.aggregate.versions {
            ids.push(v.author_id);
            ids.extend(v.reviewer_id);
        }
        ids.sort_unstable();
        ids.dedup();
        app.user_names(&ids).await
    })?;
    let name = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let entry = &detail.aggregate.entry;
    let c = &entry.content;
    let mut layout = Layout::new(app, session, &c.title, "/knowledge")
        .crumb("知识库", Some("/knowledge"))
        .crumb(c.title.clone(), None);
    if let Some(text) = done_text(done) {
        layout = layout.flash("ok", text);
    }
    let tz = layout.tz;
    let can_edit = detail.available_actions.contains(&"edit");
    let latest = detail.aggregate.latest();
    let pending = if detail.aggregate.has_pending_version() && can_edit_entry(actor, entry) {
        latest.map(|v| PendingView {
            version: v.version,
            state: knowledge_badge(v.state),
            title: v.content.title.clone(),
            body_html: render_markdown(&v.content.body),
        })
    } else {
        None
    };
    let rejection = latest
        .filter(|v| v.is_rejected() && can_edit_entry(actor, entry))
        .and_then(|v| v.review_note.clone());
    let versions = detail
        .aggregate
        .versions
        .iter()
        .rev()
        .map(|v| VersionRow {
            version: v.version,
            state: knowledge_badge(v.state),
            title: v.content.title.clone(),
            author: format!(
                "{}（{}）",
                name(v.author_id),
                refs.unit_name(v.author_unit_id)
            ),
            created_at: datetime_cn(v.created_at, tz),
            submitted_at: opt_datetime_cn(v.submitted_at, tz),
            reviewer: v.reviewer_id.map(&name).unwrap_or_default(),
            reviewed_at: opt_datetime_cn(v.reviewed_at, tz),
            note: v.review_note.clone().unwrap_or_default(),
        })
        .collect();
    let history = detail
        .history
        .iter()
        .rev()
        .map(|h| HistoryRow {
            at: datetime_cn(h.at, tz),
            who: name(h.actor_id),
            what: knowledge_action_label(&h.action),
            version: h.version,
            to_state: h.to_state.label().to_owned(),
            text: h.text.clone().unwrap_or_default(),
        })
        .collect();
    let forms = FORMS
        .iter()
        .filter(|(code, ..)| detail.available_actions.contains(code))
        .map(|(code, field, danger)| {
            let refused = refusal.as_ref().filter(|r| r.code == *code);
            ActionForm {
                code,
                label: knowledge_action_label(code),
                field: *field,
                value: refused.map(|r| r.value.clone()).unwrap_or_default(),
                error: refused.map(|r| r.message.clone()),
                danger: *danger,
            }
        })
        .collect();
    let version_label = match entry.published_version {
        Some(n) => format!("第{n}版（共{}版）", entry.latest_version),
        None => format!("第{}版", entry.latest_version),
    };
    Ok(EntryPage {
        id,
        revision: entry.revision,
        title: c.title.clone(),
        body_html: render_markdown(&c.body),
        state: knowledge_badge(detail.state),
        temporary: c.temporary,
        internal: c.visibility == KnowledgeVisibility::Internal,
        category_path: refs.category_path(c.category_id),
        unit: refs.unit_name(c.source_unit_id),
        period: period(c.effective_from, c.expires_at, tz),
        keywords: c.keywords.clone(),
        used: entry.used_count,
        helpful: entry.helpful_count,
        created_at: datetime_cn(entry.created_at, tz),
        updated_at: datetime_cn(entry.updated_at, tz),
        version_label,
        pending,
        rejection,
        can_edit,
        versions,
        history,
        forms,
        layout,
    })
}

/// Query with a flash code.
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// `GET /knowledge/{id}`.
pub async fn show(
    State(app): State<App>,
    session: WebSession,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let done = Some(q.done.as_str()).filter(|d| !d.is_empty());
    Ok(render(&build(&app, &session, id, done, None).await?))
}

/// The action a form asks for, or the message for its field.
fn parse_action(code: &str, form: &FormData) -> Option<KnowledgeAction> {
    Some(match code {
        "submit" => KnowledgeAction::Submit,
        "approve" => KnowledgeAction::Approve {
            note: Some(form.text("note")).filter(|n| !n.is_empty()),
        },
        "reject" => KnowledgeAction::Reject {
            note: form.text("note"),
        },
        "withdraw" => KnowledgeAction::Withdraw {
            reason: form.text("reason"),
        },
        "mark_helpful" => KnowledgeAction::MarkHelpful,
        _ => return None,
    })
}

/// `POST /knowledge/{id}/act/{action}`: a success redirects to the entry (htmx follows it and
/// selects the panel); a refusal shows the page again with the message in the action's form
/// (200 to htmx, which swaps only successes; 409 or 422 to a plain form).
pub async fn act(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, code)): Path<(i64, String)>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let Some(action) = parse_action(&code, &form) else {
        return Err(WebError::not_found("没有这个知识库操作"));
    };
    let revision = form.text("revision").parse::<i64>().ok();
    let err = match app
        .act_on_knowledge(&session.actor, id, &action, revision)
        .await
    {
        Ok(_) => {
            return Ok(Redirect::to(&format!("/knowledge/{id}?done={code}")).into_response());
        }
        Err(err) if matches!(err.code(), "internal" | "not_found") => return Err(err.into()),
        Err(err) => err,
    };
    let (status, message) = if err.code() == "version_conflict" {
        (
            StatusCode::CONFLICT,
            "知识已被他人修改，请查看最新内容后重试".to_owned(),
        )
    } else {
        (StatusCode::UNPROCESSABLE_ENTITY, err.to_string())
    };
    let value = form.text(if code == "withdraw" { "reason" } else { "note" });
    let refusal = Refusal {
        code,
        message,
        value,
    };
    let page = build(&app, &session, id, None, Some(refusal)).await?;
    let status = if is_htmx(&headers) {
        StatusCode::OK
    } else {
        status
    };
    Ok((status, render(&page)).into_response())
}

/// What intake knows of the order being registered.
#[derive(Debug, Default, Deserialize)]
pub struct SuggestQuery {
    #[serde(default)]
    pub category_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub content: String,
}

/// A suggested entry in the panel.
#[derive(Debug, Clone)]
pub struct SuggestionRow {
    pub id: i64,
    pub title: String,
    pub excerpt: Vec<Piece>,
    pub reasons: String,
    pub temporary: bool,
    pub internal: bool,
}

#[derive(Template)]
#[template(path = "knowledge_suggest.html")]
struct SuggestPanel {
    rows: Vec<SuggestionRow>,
    asked: bool,
}

/// `GET /knowledge/suggest?category_id=&title=&content=`: the panel of the live entries best
/// matching an order being registered (an htmx fragment for intake). Each row links to the entry
/// and offers a `knowledge_entry_id` radio, so that a form holding the panel closes the order
/// directly with the chosen entry.
pub async fn suggest(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<SuggestQuery>,
) -> Result<Response, WebError> {
    let category_id = q.category_id.trim().parse::<i64>().ok();
    let asked = category_id.is_some() || !q.title.trim().is_empty() || !q.content.trim().is_empty();
    let suggestions = if asked {
        app.suggest_for_order(&session.actor, category_id, &q.title, &q.content)
            .await?
    } else {
        Vec::new()
    };
    let words: Vec<String> = minhu_text::segmenter()
        .query_terms(&format!("{} {}", q.title, q.content))
        .into_iter()
        .filter(|w| w.chars().count() >= 2)
        .collect();
    let rows = suggestions
        .into_iter()
        .map(|s| {
            let c = &s.item.entry.content;
            SuggestionRow {
                id: s.item.entry.id,
                title: c.title.clone(),
                excerpt: excerpt(&plain_text(&c.body), &words, 60),
                reasons: s.reasons.join("；"),
                temporary: c.temporary,
                internal: c.visibility == KnowledgeVisibility::Internal,
            }
        })
        .collect();
    Ok(render(&SuggestPanel { rows, asked }))
}
