//! The knowledge editor: `/knowledge/new` and `/knowledge/{id}/edit` — title, category,
//! keywords, Markdown body, source unit, visibility, temporary, effective and expiry times. A
//! refused save shows the form again with the message next to its field and every typed value.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use minhu_domain::knowledge::{
    BODY_MAX, KEYWORD_MAX_CHARS, KEYWORDS_MAX, KnowledgeAction, KnowledgeContent, KnowledgeInput,
    KnowledgeVisibility, TEMPORARY_MAX_DAYS, TITLE_MAX, can_submit_knowledge,
};
use minhu_domain::{Role, UnitKind};

use super::category_choices;
use crate::service::{App, AppError};
use crate::web::error::{WebError, render};
use crate::web::layout::Layout;
use crate::web::list::Choice;
use crate::web::session::{CsrfForm, FormData, WebSession};

/// The messages next to the fields, by field name.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(HashMap<String, String>);

impl FieldErrors {
    /// The message of `field`, if any.
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    fn set(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Template)]
#[template(path = "knowledge_editor.html")]
struct EditorPage {
    layout: Layout,
    /// `None` for a new entry.
    id: Option<i64>,
    action: String,
    input: FormData,
    categories: Vec<Choice>,
    /// Editors pick the source unit; a handling unit speaks for itself (`unit_name`).
    units: Vec<Choice>,
    unit_name: String,
    errors: FieldErrors,
    error: Option<String>,
    notice: Option<&'static str>,
    title_max: usize,
    body_max: usize,
    keywords_max: usize,
    keyword_max_chars: usize,
    temporary_max_days: i64,
}

/// `YYYY-MM-DDTHH:MM` in `tz`, for a `datetime-local` input.
fn local_input(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// A `datetime-local` value in `tz`; `Ok(None)` when empty.
fn parse_local(text: &str, tz: Tz) -> Result<Option<DateTime<Utc>>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| ())?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|at| Some(at.with_timezone(&Utc)))
        .ok_or(())
}

/// Keywords as typed: separated by commas (either width), 、, semicolons, spaces or lines.
#[must_use]
pub fn split_keywords(text: &str) -> Vec<String> {
    text.split(|c: char| matches!(c, ',' | '，' | '、' | ';' | '；') || c.is_whitespace())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The form's values for existing content.
fn form_of(content: &KnowledgeContent, tz: Tz) -> FormData {
    let mut values = vec![
        ("title".to_owned(), content.title.clone()),
        ("category_id".to_owned(), content.category_id.to_string()),
        ("keywords".to_owned(), content.keywords.join("，")),
        ("body".to_owned(), content.body.clone()),
        (
            "source_unit_id".to_owned(),
            content.source_unit_id.to_string(),
        ),
        (
            "visibility".to_owned(),
            content.visibility.as_str().to_owned(),
        ),
        (
            "effective_from".to_owned(),
            local_input(content.effective_from, tz),
        ),
        (
            "expires_at".to_owned(),
            content
                .expires_at
                .map(|at| local_input(at, tz))
                .unwrap_or_default(),
        ),
    ];
    if content.temporary {
        values.push(("temporary".to_owned(), "true".to_owned()));
    }
    FormData(values)
}

/// The input the form holds, or the messages of the fields that do not parse.
fn input_of(form: &FormData, session: &WebSession, tz: Tz) -> Result<KnowledgeInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let category_id = form.text("category_id").parse::<i64>().unwrap_or(0);
    let source_unit_id = if session.actor.has_role(Role::KnowledgeEditor) {
        form.text("source_unit_id")
            .parse::<i64>()
            .unwrap_or_else(|_| {
                errors.set("source_unit_id", "请选择来源单位");
                0
            })
    } else {
        session.actor.unit.id
    };
    let visibility = if form.text("visibility") == "internal" {
        KnowledgeVisibility::Internal
    } else {
        KnowledgeVisibility::Public
    };
    let mut time = |field: &str| {
        parse_local(&form.text(field), tz).unwrap_or_else(|()| {
            errors.set(field, "时间格式不正确");
            None
        })
    };
    let effective_from = time("effective_from");
    let expires_at = time("expires_at");
    let input = KnowledgeInput {
        category_id,
        title: form.text("title"),
        body: form.get("body").unwrap_or("").to_owned(),
        keywords: split_keywords(&form.text("keywords")),
        source_unit_id,
        visibility,
        temporary: form.get("temporary").is_some(),
        effective_from,
        expires_at,
    };
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

/// The handling units an editor may name as source (every active unit but communities).
fn unit_choices(app_units: &[minhu_domain::UnitInfo], current: &str) -> Vec<Choice> {
    let mut units: Vec<_> = app_units
        .iter()
        .filter(|u| u.active && u.kind != UnitKind::Community)
        .collect();
    units.sort_by(|a, b| a.path.cmp(&b.path));
    units
        .into_iter()
        .map(|u| {
            let value = u.id.to_string();
            Choice {
                selected: value == current,
                value,
                label: u.name.clone(),
            }
        })
        .collect()
}

/// What the page shows besides the values.
struct Shown {
    errors: FieldErrors,
    error: Option<String>,
}

async fn page(
    app: &App,
    session: &WebSession,
    id: Option<i64>,
    input: FormData,
    shown: Shown,
    published: bool,
) -> Result<Response, WebError> {
    let title = if id.is_some() {
        "编辑知识"
    } else {
        "新建知识"
    };
    let mut layout =
        Layout::new(app, session, title, "/knowledge").crumb("知识库", Some("/knowledge"));
    if let Some(id) = id {
        layout = layout.crumb(format!("知识 {id}"), Some(&format!("/knowledge/{id}")));
    }
    let layout = layout.crumb(title, None);
    let refs = app.reference_data().await?;
    let is_editor = session.actor.has_role(Role::KnowledgeEditor);
    let view = EditorPage {
        id,
        action: id.map_or_else(
            || "/knowledge/new".to_owned(),
            |id| format!("/knowledge/{id}/edit"),
        ),
        categories: category_choices(&refs, &input.text("category_id")),
        units: if is_editor {
            unit_choices(&refs.units, &input.text("source_unit_id"))
        } else {
            Vec::new()
        },
        unit_name: session.actor.unit.name.clone(),
        errors: shown.errors,
        error: shown.error,
        notice: published
            .then_some("该知识已发布：保存后生成新版本，审核通过前线上仍显示当前发布的版本。"),
        title_max: TITLE_MAX,
        body_max: BODY_MAX,
        keywords_max: KEYWORDS_MAX,
        keyword_max_chars: KEYWORD_MAX_CHARS,
        temporary_max_days: TEMPORARY_MAX_DAYS,
        input,
        layout,
    };
    Ok(render(&view))
}

/// Refuses the editor to people who may not write knowledge at all.
fn require_writer(session: &WebSession) -> Result<(), WebError> {
    if can_submit_knowledge(&session.actor) {
        Ok(())
    } else {
        Err(WebError::Page {
            status: StatusCode::FORBIDDEN,
            title: "没有权限",
            message: "只有知识库管理员和承办单位可以编写知识。".to_owned(),
        })
    }
}

/// `GET /knowledge/new`.
pub async fn new_form(State(app): State<App>, session: WebSession) -> Result<Response, WebError> {
    require_writer(&session)?;
    let input = FormData(vec![
        ("visibility".to_owned(), "public".to_owned()),
        (
            "source_unit_id".to_owned(),
            session.actor.unit.id.to_string(),
        ),
    ]);
    let shown = Shown {
        errors: FieldErrors::default(),
        error: None,
    };
    page(&app, &session, None, input, shown, false).await
}

/// `GET /knowledge/{id}/edit`: the form holds the newest version (the draft being written, or
/// the published content to change).
pub async fn edit_form(
    State(app): State<App>,
    session: WebSession,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let detail = app.get_knowledge(&session.actor, id).await?;
    if !detail.available_actions.contains(&"edit") {
        return Err(WebError::Page {
            status: StatusCode::FORBIDDEN,
            title: "不能编辑",
            message: "您不能编辑这条知识（无权限，或它正在审核中）。".to_owned(),
        });
    }
    let tz = app.config.tz().unwrap_or(chrono_tz::Asia::Shanghai);
    let agg = &detail.aggregate;
    let content = agg.latest().map_or(&agg.entry.content, |v| &v.content);
    let mut input = form_of(content, tz);
    input
        .0
        .push(("revision".to_owned(), agg.entry.revision.to_string()));
    let shown = Shown {
        errors: FieldErrors::default(),
        error: None,
    };
    let published = agg.entry.published_version.is_some();
    page(&app, &session, Some(id), input, shown, published).await
}

/// Sorts a refused save into the messages the form shows: next to the field, or at the top; a
/// missing entry, a refusal of the person or an internal failure becomes the error page.
fn shown_for(err: AppError) -> Result<(StatusCode, Shown), WebError> {
    if matches!(err.code(), "not_found" | "internal" | "forbidden") {
        return Err(err.into());
    }
    let mut errors = FieldErrors::default();
    let mut error = None;
    let status = if err.code() == "version_conflict" {
        error = Some("知识已被他人修改，请刷新页面查看最新内容后再保存。".to_owned());
        StatusCode::CONFLICT
    } else {
        match err.field() {
            Some(field) => errors.set(field, err.to_string()),
            None => error = Some(err.to_string()),
        }
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Shown { errors, error }))
}

/// The answer to a refused save: the form again, with the status.
async fn again(
    app: &App,
    session: &WebSession,
    id: Option<i64>,
    form: FormData,
    status: StatusCode,
    shown: Shown,
    published: bool,
) -> Result<Response, WebError> {
    let mut response = page(app, session, id, form, shown, published).await?;
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /knowledge/new`: creates a draft; then to the entry, to submit it.
pub async fn create(
    State(app): State<App>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    require_writer(&session)?;
    let tz = app.config.tz().unwrap_or(chrono_tz::Asia::Shanghai);
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    let input = match input_of(&form, &session, tz) {
        Ok(input) => input,
        Err(errors) => {
            let shown = Shown {
                errors,
                error: None,
            };
            return again(&app, &session, None, form, status, shown, false).await;
        }
    };
    match app.create_knowledge(&session.actor, &input).await {
        Ok(created) => Ok(
            Redirect::to(&format!("/knowledge/{}?done=create", created.entry.id)).into_response(),
        ),
        Err(err) => {
            let (status, shown) = shown_for(err)?;
            again(&app, &session, None, form, status, shown, false).await
        }
    }
}

/// `POST /knowledge/{id}/edit`: saves the newest version (a new one for a published entry).
pub async fn update(
    State(app): State<App>,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let tz = app.config.tz().unwrap_or(chrono_tz::Asia::Shanghai);
    let published = form.get("published").is_some();
    let input = match input_of(&form, &session, tz) {
        Ok(input) => input,
        Err(errors) => {
            let shown = Shown {
                errors,
                error: None,
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return again(&app, &session, Some(id), form, status, shown, published).await;
        }
    };
    let revision = form.text("revision").parse::<i64>().ok();
    let action = KnowledgeAction::Edit(input);
    match app
        .act_on_knowledge(&session.actor, id, &action, revision)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/knowledge/{id}?done=edit")).into_response()),
        Err(err) => {
            let (status, shown) = shown_for(err)?;
            again(&app, &session, Some(id), form, status, shown, published).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_local_times() {
        assert_eq!(
            split_keywords(" 停水，没水、 抢修;漏水\n水表 ,"),
            vec!["停水", "没水", "抢修", "漏水", "水表"]
        );
        let tz = chrono_tz::Asia::Shanghai;
        let at = parse_local("2026-11-28T14:05", tz).unwrap_or(None);
        assert_eq!(
            at.map(|at| at.to_rfc3339()),
            Some("2026-11-28T06:05:00+00:00".to_owned())
        );
        assert_eq!(parse_local("", tz), Ok(None));
        assert_eq!(parse_local("明天", tz), Err(()));
        let back = at.map(|at| local_input(at, tz));
        assert_eq!(back.as_deref(), Some("2026-11-28T14:05"));
    }
}
