//! The knowledge base (知识库) under `/api/v1/knowledge`: search and browse, create, read and
//! edit an entry, the review life cycle (submit, approve, reject, withdraw), 标记有用, and the
//! entries suggested for an order being registered.
//!
//! A change may carry `revision`, the entry revision the client saw: when the entry changed
//! since, it is refused with 409 `version_conflict`. An entry the caller may not read answers
//! 404 `not_found`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, StatusCode, header};
use chrono::{DateTime, Utc};
use minhu_domain::Actor;
use minhu_domain::knowledge::{
    KnowledgeAction, KnowledgeEntry, KnowledgeEvent, KnowledgeInput, KnowledgeState,
    KnowledgeVersion, KnowledgeVisibility,
};
use minhu_text::excerpt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, StdErrors};
use super::extract::{ApiJson, ApiJsonValue, ApiPath, ApiQuery, CurrentActor, from_json_value};
use crate::service::knowledge::{KnowledgeDetail, KnowledgeQuery, plain_text};
use crate::service::{App, AppError};
use crate::storage::{KnowledgeListItem, PageRequest};

/// The largest page of the knowledge list.
pub const MAX_PER_PAGE: u32 = 100;
/// The length of a list item's excerpt, in characters.
const EXCERPT_CHARS: usize = 120;

/// The documented routes of this module.
pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_knowledge, create_knowledge))
        .routes(routes!(suggest_knowledge))
        .routes(routes!(get_knowledge, edit_knowledge))
        .routes(routes!(submit_knowledge))
        .routes(routes!(approve_knowledge))
        .routes(routes!(reject_knowledge))
        .routes(routes!(withdraw_knowledge))
        .routes(routes!(mark_knowledge_helpful))
}

/// A use-case error as the API answers it; a conflict is said about the entry.
fn api_error(err: AppError) -> ApiError {
    let conflict = matches!(err, AppError::Conflict);
    let mut answer = ApiError::from(err);
    if conflict {
        answer.message = "知识已被他人修改，请刷新后重试".to_owned();
        answer.field = Some("revision".to_owned());
    }
    answer
}

/// Search and browse filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KnowledgeListQuery {
    /// Words to search for (Chinese word segmentation) in the title, keywords and body of
    /// published entries. Every word must occur; when no entry holds them all, entries holding
    /// any of them are listed (`any_word`). Ranked by relevance, live temporary entries first.
    pub q: Option<String>,
    /// This category or below it.
    pub category_id: Option<i64>,
    /// The state now (default `published`: live entries). `draft` and `in_review` name the
    /// newest version's state (a published entry being changed included); `scheduled` and
    /// `expired` are published entries before and after their dates.
    #[param(inline)]
    pub state: Option<KnowledgeState>,
    /// Entries of this source unit only.
    pub source_unit_id: Option<i64>,
    /// The page, from 1 (default 1).
    pub page: Option<u32>,
    /// Entries per page (default 20, at most 100).
    pub per_page: Option<u32>,
}

/// An entry in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KnowledgeSummary {
    pub id: i64,
    pub revision: i64,
    pub title: String,
    pub category_id: i64,
    pub keywords: Vec<String>,
    pub source_unit_id: i64,
    pub visibility: KnowledgeVisibility,
    pub temporary: bool,
    pub effective_from: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The state now (`scheduled` and `expired` derived from the dates).
    pub state: KnowledgeState,
    /// The state of the newest version (a published entry may have a draft or a version in
    /// review).
    pub latest_state: KnowledgeState,
    pub used_count: i64,
    pub helpful_count: i64,
    pub updated_at: DateTime<Utc>,
    /// The body as plain text, cut around the first searched word.
    pub excerpt: String,
}

impl KnowledgeSummary {
    /// The summary of a list item at `now`, its excerpt around `words`.
    #[must_use]
    pub fn new(item: &KnowledgeListItem, words: &[String], now: DateTime<Utc>) -> Self {
        let e = &item.entry;
        let c = &e.content;
        let excerpt = excerpt(&plain_text(&c.body), words, EXCERPT_CHARS)
            .into_iter()
            .map(|p| p.text)
            .collect();
        Self {
            id: e.id,
            revision: e.revision,
            title: c.title.clone(),
            category_id: c.category_id,
            keywords: c.keywords.clone(),
            source_unit_id: c.source_unit_id,
            visibility: c.visibility,
            temporary: c.temporary,
            effective_from: c.effective_from,
            expires_at: c.expires_at,
            state: minhu_domain::knowledge::effective_state(e, now),
            latest_state: item.latest_state,
            used_count: e.used_count,
            helpful_count: e.helpful_count,
            updated_at: e.updated_at,
            excerpt,
        }
    }
}

/// One page of entries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KnowledgeListResponse {
    pub items: Vec<KnowledgeSummary>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    /// The searched words as the index cut them, to highlight in titles and excerpts.
    pub query_words: Vec<String>,
    /// No entry held every word: these hold any of them.
    pub any_word: bool,
}

/// An entry with every version, its history and the actions the caller may take now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KnowledgeView {
    #[serde(flatten)]
    pub entry: KnowledgeEntry,
    /// The state now (`scheduled` and `expired` derived from the dates).
    pub effective_state: KnowledgeState,
    /// Every version, oldest first.
    pub versions: Vec<KnowledgeVersion>,
    /// Oldest first.
    pub history: Vec<KnowledgeEvent>,
    /// `edit`, `submit`, `approve`, `reject`, `withdraw`, `mark_helpful`, as allowed now.
    pub available_actions: Vec<String>,
}

impl From<KnowledgeDetail> for KnowledgeView {
    fn from(d: KnowledgeDetail) -> Self {
        Self {
            entry: d.aggregate.entry,
            effective_state: d.state,
            versions: d.aggregate.versions,
            history: d.history,
            available_actions: d.available_actions.into_iter().map(str::to_owned).collect(),
        }
    }
}

/// Searches and browses the entries the caller may read (live ones for every staff member,
/// internal ones included; editors every entry; a handling unit also its own in every state).
#[utoipa::path(get, path = "/api/v1/knowledge", tag = "knowledge", params(KnowledgeListQuery),
    responses((status = 200, description = "成功", body = KnowledgeListResponse), StdErrors))]
async fn list_knowledge(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(query): ApiQuery<KnowledgeListQuery>,
) -> ApiResult<Json<KnowledgeListResponse>> {
    let page = query.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::invalid_query("page", "页码从1开始"));
    }
    let per_page = query.per_page.unwrap_or(20);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::invalid_query(
            "per_page",
            format!("每页条数须在1到{MAX_PER_PAGE}之间"),
        ));
    }
    if query.state == Some(KnowledgeState::Superseded) {
        return Err(ApiError::invalid_query(
            "state",
            "“已替换”是版本的状态，不能按此筛选知识",
        ));
    }
    let request = KnowledgeQuery {
        q: query.q.clone(),
        category_id: query.category_id,
        state: query.state,
        source_unit_id: query.source_unit_id,
        page: PageRequest {
            limit: i64::from(per_page),
            offset: i64::from(page - 1) * i64::from(per_page),
        },
    };
    let results = app
        .search_knowledge(&actor, &request)
        .await
        .map_err(|err| match err.field() {
            Some(field @ ("q" | "category_id")) => ApiError::invalid_query(field, err.to_string()),
            _ => api_error(err),
        })?;
    let now = app.now();
    Ok(Json(KnowledgeListResponse {
        items: results
            .page
            .items
            .iter()
            .map(|item| KnowledgeSummary::new(item, &results.query_words, now))
            .collect(),
        total: results.page.total,
        page,
        per_page,
        query_words: results.query_words,
        any_word: results.any_word,
    }))
}

async fn view(app: &App, actor: &Actor, id: i64) -> ApiResult<KnowledgeView> {
    Ok(app
        .get_knowledge(actor, id)
        .await
        .map_err(api_error)?
        .into())
}

/// Creates a draft entry with its first version (knowledge editors for any unit; handling units
/// for their own unit only, then submit it for review).
#[utoipa::path(post, path = "/api/v1/knowledge", tag = "knowledge", request_body = KnowledgeInput,
    responses((status = 201, description = "已新建草稿；Location 指向新知识", body = KnowledgeView), StdErrors))]
async fn create_knowledge(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiJson(input): ApiJson<KnowledgeInput>,
) -> ApiResult<(StatusCode, [(HeaderName, String); 1], Json<KnowledgeView>)> {
    let created = app
        .create_knowledge(&actor, &input)
        .await
        .map_err(api_error)?;
    let id = created.entry.id;
    let view = view(&app, &actor, id).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/knowledge/{id}"))],
        Json(view),
    ))
}

/// One entry with every version, its history and the actions the caller may take.
#[utoipa::path(get, path = "/api/v1/knowledge/{id}", tag = "knowledge",
    params(("id" = i64, Path, description = "知识编号")),
    responses((status = 200, description = "成功", body = KnowledgeView), StdErrors))]
async fn get_knowledge(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<KnowledgeView>> {
    view(&app, &actor, id).await.map(Json)
}

/// The new content of an entry, and optionally the revision the client saw.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeEditRequest {
    /// The entry revision the client saw; a changed entry answers 409 `version_conflict`.
    #[serde(default)]
    pub revision: Option<i64>,
    pub category_id: i64,
    pub title: String,
    /// Markdown.
    pub body: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub source_unit_id: i64,
    pub visibility: KnowledgeVisibility,
    #[serde(default)]
    pub temporary: bool,
    #[serde(default)]
    pub effective_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Edits an entry: a draft in place; a published entry gets a new draft version while the
/// published one stays live until the new one is approved; a withdrawn entry becomes a draft.
#[utoipa::path(put, path = "/api/v1/knowledge/{id}", tag = "knowledge",
    params(("id" = i64, Path, description = "知识编号")),
    request_body = KnowledgeEditRequest,
    responses((status = 200, description = "编辑后的知识", body = KnowledgeView), StdErrors))]
async fn edit_knowledge(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<KnowledgeEditRequest>,
) -> ApiResult<Json<KnowledgeView>> {
    let input = KnowledgeInput {
        category_id: r.category_id,
        title: r.title,
        body: r.body,
        keywords: r.keywords,
        source_unit_id: r.source_unit_id,
        visibility: r.visibility,
        temporary: r.temporary,
        effective_from: r.effective_from,
        expires_at: r.expires_at,
    };
    act(&app, &actor, id, KnowledgeAction::Edit(input), r.revision).await
}

/// A change of state with nothing else to say.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeRevisionRequest {
    /// The entry revision the client saw.
    #[serde(default)]
    pub revision: Option<i64>,
}

/// An approval.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeApproveRequest {
    #[serde(default)]
    pub revision: Option<i64>,
    /// 审核意见 (optional).
    #[serde(default)]
    pub note: Option<String>,
}

/// A rejection back to draft.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeRejectRequest {
    #[serde(default)]
    pub revision: Option<i64>,
    /// 退回意见 (required): what to change.
    pub note: String,
}

/// A withdrawal.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeWithdrawRequest {
    #[serde(default)]
    pub revision: Option<i64>,
    /// 撤回原因 (required).
    pub reason: String,
}

async fn act(
    app: &App,
    actor: &Actor,
    id: i64,
    action: KnowledgeAction,
    revision: Option<i64>,
) -> ApiResult<Json<KnowledgeView>> {
    app.act_on_knowledge(actor, id, &action, revision)
        .await
        .map_err(api_error)?;
    view(app, actor, id).await.map(Json)
}

/// Reads an optional JSON body (empty is `{}`) as `T`.
fn body<T: DeserializeOwned>(value: serde_json::Value) -> ApiResult<T> {
    from_json_value(value)
}

/// 提交审核: the newest draft goes to a knowledge editor.
#[utoipa::path(post, path = "/api/v1/knowledge/{id}/submit", tag = "knowledge",
    params(("id" = i64, Path, description = "知识编号")),
    request_body = KnowledgeRevisionRequest,
    responses((status = 200, description = "操作后的知识", body = KnowledgeView), StdErrors))]
async fn submit_knowledge(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJsonValue(value): ApiJsonValue,
) -> ApiResult<Json<KnowledgeView>> {
    let r: KnowledgeRevisionRequest = body(value)?;
    act(&app, &actor, id, KnowledgeAction::Submit, r.revision).await
}

/// 审核通过 (knowledge editors): the version in review is published, replacing the one before.
#[utoipa::path(post, path = "/api/v1/knowledge/{id}/approve", tag = "knowledge",
    params(("id" = i64, Path, description = "知识编号")),
    request_body = KnowledgeApproveRequest,
    responses((status = 200, description = "操作后的知识", body = KnowledgeView), StdErrors))]
async fn approve_knowledge(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJsonValue(value): ApiJsonValue,
) -> ApiResult<Json<KnowledgeView>> {
    let r: KnowledgeApproveRequest = body(value)?;
    let action = KnowledgeAction::Approve { note: r.note };
    act(&app, &actor, id, action, r.revision).await
}

/// 审核退回 (knowledge editors): the version in review goes back to draft with the note.
#[utoipa::path(post, path = "/api/v1/knowledge/{id}/reject", tag = "knowledge",
    params(("id" = i64, Path, description = "知识编号")),
    request_body = KnowledgeRejectRequest,
    responses((status = 200, description = "操作后的知识", body = KnowledgeView), StdErrors))]
async fn reject_knowledge(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<KnowledgeRejectRequest>,
) -> ApiResult<Json<KnowledgeView>> {
    let action = KnowledgeAction::Reject { note: r.note };
    act(&app, &actor, id, action, r.revision).await
}

/// 撤回 (knowledge editors): the entry is taken out of use.
#[utoipa::path(post, path = "/api/v1/knowledge/{id}/withdraw", tag = "knowledge",
    params(("id" = i64, Path, description = "知识编号")),
    request_body = KnowledgeWithdrawRequest,
    responses((status = 200, description = "操作后的知识", body = KnowledgeView), StdErrors))]
async fn withdraw_knowledge(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<KnowledgeWithdrawRequest>,
) -> ApiResult<Json<KnowledgeView>> {
    let action = KnowledgeAction::Withdraw { reason: r.reason };
    act(&app, &actor, id, action, r.revision).await
}

/// 标记有用: the caller found the live entry helpful (counted; never a conflict).
#[utoipa::path(post, path = "/api/v1/knowledge/{id}/helpful", tag = "knowledge",
    params(("id" = i64, Path, description = "知识编号")),
    request_body = KnowledgeRevisionRequest,
    responses((status = 200, description = "操作后的知识", body = KnowledgeView), StdErrors))]
async fn mark_knowledge_helpful(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJsonValue(value): ApiJsonValue,
) -> ApiResult<Json<KnowledgeView>> {
    let _: KnowledgeRevisionRequest = body(value)?;
    act(&app, &actor, id, KnowledgeAction::MarkHelpful, None).await
}

/// What is known of the order being registered.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KnowledgeSuggestQuery {
    /// The order's category, if chosen.
    pub category_id: Option<i64>,
    /// The order's title (its words count first).
    #[serde(default)]
    pub title: String,
    /// What the caller said (the order's content).
    #[serde(default)]
    pub text: String,
}

/// An entry suggested for an order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KnowledgeSuggestionView {
    pub entry: KnowledgeSummary,
    /// Higher is better (for ordering only).
    pub score: f64,
    /// Why, in Chinese: `命中：停水、阀门`, `同一分类`, `临时知识` …
    pub reasons: Vec<String>,
}

/// The suggested entries, best first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KnowledgeSuggestResponse {
    pub items: Vec<KnowledgeSuggestionView>,
}

/// The best live entries (at most 5) for an order being registered: from its words and its
/// category (with the category's ancestors and descendants), live temporary entries favoured.
#[utoipa::path(get, path = "/api/v1/knowledge/suggest", tag = "knowledge",
    params(KnowledgeSuggestQuery),
    responses((status = 200, description = "成功", body = KnowledgeSuggestResponse), StdErrors))]
async fn suggest_knowledge(
    State(app): State<App>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(query): ApiQuery<KnowledgeSuggestQuery>,
) -> ApiResult<Json<KnowledgeSuggestResponse>> {
    let suggestions = app
        .suggest_for_order(&actor, query.category_id, &query.title, &query.text)
        .await
        .map_err(api_error)?;
    let now = app.now();
    let words: Vec<String> = Vec::new();
    Ok(Json(KnowledgeSuggestResponse {
        items: suggestions
            .into_iter()
            .map(|s| KnowledgeSuggestionView {
                entry: KnowledgeSummary::new(&s.item, &words, now),
                score: (s.score * 1000.0).round() / 1000.0,
                reasons: s.reasons,
            })
            .collect(),
    }))
}
