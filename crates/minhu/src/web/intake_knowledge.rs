//! The knowledge panel of 来电登记 (知识库): the live entries that answer the call being registered
//! — suggested from its category, title and content as the agent types, or found with the panel's
//! own search box — each with a 据此答复 choice that fills the answer with the entry's text and
//! names the entry, so that 保存并直接办结 closes the order with it (and counts the use).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use minhu_domain::knowledge::KnowledgeVisibility;
use minhu_text::{Piece, excerpt, segmenter};

use super::error::{WebError, render};
use super::intake::resolve_category;
use super::session::{FormData, WebSession};
use crate::service::App;
use crate::service::knowledge::{KnowledgeQuery, plain_text};
use crate::storage::PageRequest;

/// How many entries the panel shows.
const SHOWN: i64 = 5;
/// The longest answer filled in from an entry (the direct answer's own limit is larger).
const ANSWER_CHARS: usize = 2000;

/// One entry of the panel.
#[derive(Debug, Clone)]
pub struct KnowledgeRow {
    pub id: i64,
    pub title: Vec<Piece>,
    pub excerpt: Vec<Piece>,
    pub reasons: String,
    pub temporary: bool,
    pub internal: bool,
    pub used: i64,
}

#[derive(Template)]
#[template(path = "intake_knowledge.html")]
struct KnowledgePanel {
    /// What was searched in the panel's box, if anything.
    searched: String,
    asked: bool,
    rows: Vec<KnowledgeRow>,
}

/// `GET /orders/new/knowledge?<the intake form>&kq=…` (htmx): entries suggested for the call, or
/// those matching `kq` when the agent searched.
pub async fn panel(
    State(app): State<App>,
    session: WebSession,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let form = FormData::parse(raw.unwrap_or_default().as_bytes());
    let searched = form.text("kq").trim().to_owned();
    let (title, content) = (form.text("title"), form.text("content"));
    let mut rows = Vec::new();
    let asked;
    if searched.is_empty() {
        let refs = app.reference_data().await?;
        let category_id = resolve_category(&refs, &form.text("category"));
        asked = category_id.is_some() || !title.trim().is_empty() || !content.trim().is_empty();
        if asked {
            let words: Vec<String> = segmenter()
                .query_terms(&format!("{title} {content}"))
                .into_iter()
                .filter(|w| w.chars().count() >= 2)
                .collect();
            for s in app
                .suggest_for_order(&session.actor, category_id, &title, &content)
                .await?
            {
                rows.push(row(&s.item.entry, &words, s.reasons.join("；")));
            }
        }
    } else {
        asked = true;
        let results = app
            .search_knowledge(
                &session.actor,
                &KnowledgeQuery {
                    q: Some(searched.clone()),
                    page: PageRequest {
                        limit: SHOWN,
                        offset: 0,
                    },
                    ..KnowledgeQuery::default()
                },
            )
            .await?;
        for item in &results.page.items {
            rows.push(row(&item.entry, &results.query_words, String::new()));
        }
    }
    Ok(render(&KnowledgePanel {
        searched,
        asked,
        rows,
    }))
}

fn row(
    entry: &minhu_domain::knowledge::KnowledgeEntry,
    words: &[String],
    reasons: String,
) -> KnowledgeRow {
    let c = &entry.content;
    KnowledgeRow {
        id: entry.id,
        title: minhu_text::highlight(&c.title, words),
        excerpt: excerpt(&plain_text(&c.body), words, 80),
        reasons,
        temporary: c.temporary,
        internal: c.visibility == KnowledgeVisibility::Internal,
        used: entry.used_count,
    }
}

/// The part of an entry the agent reads to the caller: the section under a heading naming
/// 答复口径 when the entry has one, else the whole body.
fn answer_section(markdown: &str) -> &str {
    let mut start = None;
    let mut offset = 0;
    for line in markdown.split_inclusive('\n') {
        let heading = line.trim_start().starts_with('#');
        match start {
            None if heading && line.contains("答复口径") => start = Some(offset + line.len()),
            Some(from) if heading => return markdown[from..offset].trim(),
            _ => {}
        }
        offset += line.len();
    }
    match start {
        Some(from) if !markdown[from..].trim().is_empty() => markdown[from..].trim(),
        _ => markdown,
    }
}

#[derive(Template)]
#[template(
    source = r#"<textarea id="answer" name="answer" rows="6" data-knowledge="{{ id }}">{{ answer }}</textarea><p id="answer-source" class="muted" hx-swap-oob="true"><input type="hidden" name="knowledge_entry_id" value="{{ id }}">答复取自知识库：<a href="/knowledge/{{ id }}" target="_blank" rel="noopener">{{ title }}</a>（可修改后再保存）</p>"#,
    ext = "html"
)]
struct AnswerBox {
    id: i64,
    title: String,
    answer: String,
}

/// `GET /orders/new/knowledge/answer?knowledge_pick=N` (htmx, from the 据此答复 choice): the
/// answer box filled with the entry's text, and a note naming the entry that carries the form's
/// `knowledge_entry_id`. The choice itself lives outside the panel, so a panel that refreshes
/// (the agent types on, or searches again) keeps it.
pub async fn answer(
    State(app): State<App>,
    session: WebSession,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let form = FormData::parse(raw.unwrap_or_default().as_bytes());
    let Ok(id) = form.text("knowledge_pick").trim().parse::<i64>() else {
        return Err(WebError::not_found("没有这条知识"));
    };
    let detail = app.get_knowledge(&session.actor, id).await?;
    let content = &detail.aggregate.entry.content;
    let answer: String = plain_text(answer_section(&content.body))
        .chars()
        .take(ANSWER_CHARS)
        .collect();
    Ok(render(&AnswerBox {
        id,
        title: content.title.clone(),
        answer,
    }))
}

#[cfg(test)]
mod tests {
    use super::answer_section;

    #[test]
    fn the_answer_section_is_taken_when_there_is_one() {
        let body =
            "## 政策依据\n\n条例。\n\n## 答复口径\n\n请拨打热线。\n\n## 办理地点\n\n市政务中心";
        assert_eq!(answer_section(body), "请拨打热线。");
        assert_eq!(answer_section("## 答复口径\n\n最后一节"), "最后一节");
        assert_eq!(answer_section("没有标题"), "没有标题");
        assert_eq!(answer_section("## 答复口径\n"), "## 答复口径\n");
    }
}
