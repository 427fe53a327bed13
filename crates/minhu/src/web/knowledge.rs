//! 知识库: browse and search (`/knowledge`), the review queue of knowledge editors
//! (`/knowledge/review`), an entry with its versions, history and actions (`entry`), the editor
//! (`editor`), and the suggestions panel for an order being registered (`/knowledge/suggest`).
//! Every change goes through [`crate::service::knowledge`]; Markdown bodies are rendered with
//! pulldown-cmark and cleaned with ammonia, so no HTML a person wrote reaches a page.

pub mod editor;
pub mod entry;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minhu_domain::Role;
use minhu_domain::knowledge::{
    self, KnowledgeState, KnowledgeVisibility, effective_state, knowledge_action_label,
};
use minhu_text::{Piece, excerpt, highlight};
use pulldown_cmark::{Event, Options, Parser};
use serde::Deserialize;

use super::error::{WebError, render};
use super::format::{Badge, date_cn, datetime_cn};
use super::layout::Layout;
use super::list::Choice;
use super::session::WebSession;
use crate::service::App;
use crate::service::desk::ReferenceData;
use crate::service::knowledge::{KnowledgeQuery, plain_text};
use crate::storage::{KnowledgeListItem, PageRequest};

/// Rows per page.
const PER_PAGE: i64 = 20;
/// Characters of body shown under a row.
const EXCERPT_CHARS: usize = 80;

/// The routes of the knowledge pages.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/knowledge", get(list))
        .route("/knowledge/review", get(review))
        .route("/knowledge/suggest", get(entry::suggest))
        .route("/knowledge/new", get(editor::new_form).post(editor::create))
        .route("/knowledge/{id}", get(entry::show))
        .route(
            "/knowledge/{id}/edit",
            get(editor::edit_form).post(editor::update),
        )
        .route("/knowledge/{id}/act/{action}", post(entry::act))
}

/// A Markdown body as HTML that is safe to show: raw HTML in the text is shown as text, and
/// the result is cleaned by ammonia (no scripts, styles, event handlers or images; links only
/// to http, https, mailto and tel, opened without referrer).
#[must_use]
pub fn render_markdown(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    ammonia::Builder::default()
        .rm_tags(["img"])
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&html)
        .to_string()
}

/// The badge of a knowledge state.
#[must_use]
pub fn knowledge_badge(state: KnowledgeState) -> Badge {
    let class = match state {
        KnowledgeState::Draft => "badge st-new",
        KnowledgeState::InReview => "badge st-check",
        KnowledgeState::Published => "badge st-done",
        KnowledgeState::Scheduled => "badge st-wait",
        KnowledgeState::Expired | KnowledgeState::Withdrawn | KnowledgeState::Superseded => {
            "badge st-end"
        }
    };
    Badge {
        text: state.label().to_owned(),
        class,
    }
}

/// `2026年11月28日 起` / `… 至 2026年12月5日`: when an entry applies.
#[must_use]
pub fn period(from: DateTime<Utc>, until: Option<DateTime<Utc>>, tz: Tz) -> String {
    match until {
        Some(until) => format!("{} 至 {}", date_cn(from, tz), date_cn(until, tz)),
        None => format!("{} 起", date_cn(from, tz)),
    }
}

/// The flash of a `?done=` after a knowledge action.
#[must_use]
pub fn done_text(done: Option<&str>) -> Option<String> {
    let code = done?;
    if code == "create" || knowledge::KnowledgeAction::CODES.contains(&code) {
        Some(format!("操作成功：{}", knowledge_action_label(code)))
    } else {
        None
    }
}

/// The categories as a picker: active ones, indented by level, by code.
#[must_use]
pub fn category_choices(refs: &ReferenceData, current: &str) -> Vec<Choice> {
    let mut categories: Vec<_> = refs.categories.iter().filter(|c| c.active).collect();
    categories.sort_by(|a, b| a.code.cmp(&b.code));
    categories
        .into_iter()
        .map(|c| {
            let indent = "　".repeat(usize::try_from(c.level - 1).unwrap_or(0));
            let value = c.id.to_string();
            Choice {
                selected: value == current,
                value,
                label: format!("{indent}{} {}", c.code, c.name),
            }
        })
        .collect()
}

/// A row of a knowledge list.
#[derive(Debug, Clone)]
pub struct KnowledgeRow {
    pub id: i64,
    /// The title with the searched words marked.
    pub title: Vec<Piece>,
    /// The body as text around the first searched word, words marked.
    pub excerpt: Vec<Piece>,
    pub category: String,
    pub category_path: String,
    pub unit: String,
    pub state: Badge,
    /// The newest version's state when it is not the live one (a change being drafted or
    /// reviewed).
    pub pending: Option<Badge>,
    pub temporary: bool,
    pub internal: bool,
    pub period: String,
    pub used: i64,
    pub helpful: i64,
    pub updated_at: String,
}

impl KnowledgeRow {
    /// The row of a list item at `now`, its words marked.
    #[must_use]
    pub fn new(
        item: &KnowledgeListItem,
        words: &[String],
        refs: &ReferenceData,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Self {
        let e = &item.entry;
        let c = &e.content;
        let state = effective_state(e, now);
        let pending = (e.published_version.is_some()
            && matches!(
                item.latest_state,
                KnowledgeState::Draft | KnowledgeState::InReview
            ))
        .then(|| knowledge_badge(item.latest_state));
        Self {
            id: e.id,
            title: highlight(&c.title, words),
            excerpt: excerpt(&plain_text(&c.body), words, EXCERPT_CHARS),
            category: refs
                .category(c.category_id)
                .map_or_else(String::new, |cat| cat.name.clone()),
            category_path: refs.category_path(c.category_id),
            unit: refs.unit_name(c.source_unit_id),
            state: knowledge_badge(state),
            pending,
            temporary: c.temporary,
            internal: c.visibility == KnowledgeVisibility::Internal,
            period: period(c.effective_from, c.expires_at, tz),
            used: e.used_count,
            helpful: e.helpful_count,
            updated_at: datetime_cn(e.updated_at, tz),
        }
    }
}

/// The list's query as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub state: String,
    /// `1`: the person's own unit's entries only.
    #[serde(default)]
    pub mine: String,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub done: String,
}

impl ListQuery {
    /// The link to another page with the same filters.
    fn href_for_page(&self, page: i64) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("category", &self.category),
            ("state", &self.state),
            ("mine", &self.mine),
        ] {
            if !v.is_empty() {
                out.append_pair(k, v);
            }
        }
        out.append_pair("page", &page.to_string());
        format!("/knowledge?{}", out.finish())
    }
}

#[derive(Template)]
#[template(path = "knowledge_list.html")]
struct ListPage {
    layout: Layout,
    q: ListQuery,
    /// The review queue rather than the browser.
    review: bool,
    categories: Vec<Choice>,
    /// Empty when the person reads live entries only.
    states: Vec<Choice>,
    /// Whether to offer 只看本单位.
    offer_mine: bool,
    can_create: bool,
    is_editor: bool,
    rows: Vec<KnowledgeRow>,
    total: i64,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    notes: Vec<String>,
}

/// The states a person may filter by: only 已发布 for readers; editors and handling units all.
fn state_choices(session: &WebSession, current: &str) -> Vec<Choice> {
    if !knowledge::can_submit_knowledge(&session.actor) {
        return Vec::new();
    }
    [
        KnowledgeState::Published,
        KnowledgeState::Draft,
        KnowledgeState::InReview,
        KnowledgeState::Scheduled,
        KnowledgeState::Expired,
        KnowledgeState::Withdrawn,
    ]
    .into_iter()
    .map(|s| Choice {
        selected: s.as_str() == current,
        value: s.as_str().to_owned(),
        label: s.label().to_owned(),
    })
    .collect()
}

/// `GET /knowledge`: browse and search what the person may read.
pub async fn list(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let layout = Layout::new(&app, &session, "知识库", "/knowledge").crumb("知识库", None);
    let layout = match done_text(Some(q.done.as_str()).filter(|d| !d.is_empty())) {
        Some(text) => layout.flash("ok", text),
        None => layout,
    };
    let actor = &session.actor;
    let mut notes = Vec::new();
    let state = match q.state.trim() {
        "" => None,
        code => match code.parse::<KnowledgeState>() {
            Ok(state) if state != KnowledgeState::Superseded => Some(state),
            _ => {
                notes.push("“状态”条件不正确，已忽略".to_owned());
                None
            }
        },
    };
    let category_id = match q.category.trim() {
        "" => None,
        text => text.parse::<i64>().ok().or_else(|| {
            notes.push("“问题分类”条件不正确，已忽略".to_owned());
            None
        }),
    };
    let offer_mine =
        knowledge::can_submit_knowledge(actor) && !actor.has_role(Role::KnowledgeEditor);
    let page = q.page.trim().parse::<i64>().unwrap_or(1).max(1);
    let mut query = KnowledgeQuery {
        q: Some(q.q.clone()),
        category_id,
        state,
        source_unit_id: (offer_mine && q.mine == "1").then_some(actor.unit.id),
        page: PageRequest {
            limit: PER_PAGE,
            offset: (page - 1) * PER_PAGE,
        },
    };
    let results = match app.search_knowledge(actor, &query).await {
        Ok(results) => results,
        Err(err) if err.field() == Some("q") || err.field() == Some("category_id") => {
            notes.push(format!("{err}，已忽略"));
            if err.field() == Some("q") {
                query.q = None;
            } else {
                query.category_id = None;
            }
            app.search_knowledge(actor, &query).await?
        }
        Err(err) => return Err(err.into()),
    };
    if results.any_word {
        notes.push("没有同时包含所有检索词的知识，以下为包含任一检索词的结果".to_owned());
    }
    let refs = app.reference_data().await?;
    let now = app.now();
    let tz = layout.tz;
    let rows = results
        .page
        .items
        .iter()
        .map(|item| KnowledgeRow::new(item, &results.query_words, &refs, now, tz))
        .collect();
    let total = results.page.total;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let view = ListPage {
        categories: category_choices(&refs, &q.category),
        states: state_choices(&session, &q.state),
        offer_mine,
        can_create: knowledge::can_submit_knowledge(actor),
        is_editor: actor.has_role(Role::KnowledgeEditor),
        review: false,
        rows,
        total,
        page,
        pages,
        prev_href: (page > 1).then(|| q.href_for_page(page - 1)),
        next_href: (page < pages).then(|| q.href_for_page(page + 1)),
        notes,
        layout,
        q,
    };
    Ok(render(&view))
}

/// `GET /knowledge/review`: 待审核, the entries (new or changed) waiting for a knowledge editor,
/// for knowledge editors only.
pub async fn review(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let actor = &session.actor;
    if !actor.has_role(Role::KnowledgeEditor) {
        return Err(WebError::Page {
            status: axum::http::StatusCode::FORBIDDEN,
            title: "没有权限",
            message: "待审核知识仅知识库管理员可见。".to_owned(),
        });
    }
    let layout = Layout::new(&app, &session, "待审核知识", "/knowledge")
        .crumb("知识库", Some("/knowledge"))
        .crumb("待审核", None);
    let page = q.page.trim().parse::<i64>().unwrap_or(1).max(1);
    let results = app
        .knowledge_review_queue(
            actor,
            PageRequest {
                limit: PER_PAGE,
                offset: (page - 1) * PER_PAGE,
            },
        )
        .await?;
    let refs = app.reference_data().await?;
    let now = app.now();
    let tz = layout.tz;
    let rows = results
        .page
        .items
        .iter()
        .map(|item| KnowledgeRow::new(item, &[], &refs, now, tz))
        .collect();
    let total = results.page.total;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let href = |p: i64| format!("/knowledge/review?page={p}");
    let view = ListPage {
        categories: Vec::new(),
        states: Vec::new(),
        offer_mine: false,
        can_create: false,
        is_editor: true,
        review: true,
        rows,
        total,
        page,
        pages,
        prev_href: (page > 1).then(|| href(page - 1)),
        next_href: (page < pages).then(|| href(page + 1)),
        notes: Vec::new(),
        layout,
        q,
    };
    Ok(render(&view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_and_cleaned() {
        let html = render_markdown(
            "**停水**通知\n\n- 第一条\n- 第二条\n\n<script>alert(1)</script>\n\n\
             [官网](https://example.cn) [坏链接](javascript:alert(1)) \
             <img src=x onerror=alert(1)> <b onclick=\"x()\">粗</b>",
        );
        assert!(html.contains("<strong>停水</strong>"), "{html}");
        assert!(html.contains("<li>第一条</li>"));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b onclick"), "{html}");
        assert!(html.contains("&lt;b onclick="), "shown as text: {html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            html.contains("&lt;script&gt;"),
            "raw HTML shown as text: {html}"
        );
        assert!(html.contains("href=\"https://example.cn\""));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
    }
}
