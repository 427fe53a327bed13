//! Seeds the demo city's knowledge base ([`super::knowledge_data`]) through the service, as the
//! demo's knowledge editor (`editor1`, 知识库管理员) creates, submits and approves each entry, so
//! every entry has a real first version and history and is searchable at once. Temporary entries
//! (临时知识库) carry dates around late November 2026 in the data; they are moved to the seeding
//! day so that each is live when the demo starts, keeping its length.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use minhu_domain::knowledge::{KnowledgeAction, KnowledgeInput};

use super::categories::Categories;
use super::knowledge_data::{DemoKnowledge, demo_knowledge};
use crate::service::{App, AppError, AppResult};

/// The demo's knowledge editor.
pub const EDITOR: &str = "editor1";

/// The day the temporary entries' data dates are written around (Beijing time): an entry is
/// moved by the time from this instant to the seeding.
fn data_today() -> AppResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339("2026-11-28T10:00:00+08:00")
        .map(|at| at.with_timezone(&Utc))
        .map_err(|err| AppError::Internal(anyhow::anyhow!("demo knowledge reference day: {err}")))
}

/// A temporary entry's dates moved to `now`: by the distance from the data's day to `now`, and,
/// if it would not yet (or no longer) be in effect, started an hour ago, keeping its length.
#[must_use]
pub fn moved_dates(
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    data_today: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let shift = now - data_today;
    let (from, until) = (from + shift, until + shift);
    if from <= now && until > now {
        (from, until)
    } else {
        let start = now - Duration::hours(1);
        (start, start + (until - from))
    }
}

fn internal(what: String) -> AppError {
    AppError::Internal(anyhow::anyhow!("demo knowledge: {what}"))
}

/// Creates, submits and approves every demo entry as the knowledge editor; returns how many.
pub(super) async fn seed_knowledge(app: &App, categories: &Categories) -> AppResult<usize> {
    let editor = app
        .store
        .find_user_by_username(EDITOR)
        .await?
        .ok_or_else(|| internal(format!("no account {EDITOR}")))?;
    let editor = app.actor_for(&editor).await?;
    let units: HashMap<String, i64> = app
        .store
        .list_units()
        .await?
        .into_iter()
        .map(|u| (u.code, u.id))
        .collect();
    let entries = demo_knowledge().map_err(AppError::Internal)?;
    let today = data_today()?;
    let now = app.now();
    for entry in &entries {
        let input = input_of(entry, categories, &units, today, now)?;
        let created = app
            .create_knowledge(&editor, &input)
            .await
            .map_err(|err| internal(format!("creating “{}” failed: {err}", entry.title)))?;
        let id = created.entry.id;
        for action in [
            KnowledgeAction::Submit,
            KnowledgeAction::Approve { note: None },
        ] {
            app.act_on_knowledge(&editor, id, &action, None)
                .await
                .map_err(|err| {
                    internal(format!(
                        "{} of “{}” failed: {err}",
                        action.code(),
                        entry.title
                    ))
                })?;
        }
    }
    Ok(entries.len())
}

/// What the editor types for a demo entry.
fn input_of(
    entry: &DemoKnowledge,
    categories: &Categories,
    units: &HashMap<String, i64>,
    today: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<KnowledgeInput> {
    let category = categories.get(&entry.category)?;
    let unit_id = *units
        .get(&entry.unit)
        .ok_or_else(|| internal(format!("“{}”: no unit {}", entry.title, entry.unit)))?;
    let (effective_from, expires_at) = match (entry.effective_from, entry.expires_at) {
        (Some(from), Some(until)) if entry.temporary => {
            let (from, until) = moved_dates(from, until, today, now);
            (Some(from), Some(until))
        }
        other => other,
    };
    Ok(KnowledgeInput {
        category_id: category.id,
        title: entry.title.clone(),
        body: entry.body.clone(),
        keywords: entry.keywords.clone(),
        source_unit_id: unit_id,
        visibility: entry.visibility,
        temporary: entry.temporary,
        effective_from,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .with_timezone(&Utc)
    }

    #[test]
    fn every_temporary_entry_is_live_on_any_seeding_day() {
        let today = data_today().unwrap_or_else(|e| panic!("{e}"));
        let entries = demo_knowledge().unwrap_or_else(|e| panic!("{e}"));
        for now in [
            at("2026-11-28T10:00:00+08:00"),
            at("2027-03-01T23:59:00+08:00"),
            at("2026-01-01T00:00:00Z"),
        ] {
            for e in entries.iter().filter(|e| e.temporary) {
                let (Some(from), Some(until)) = (e.effective_from, e.expires_at) else {
                    panic!("{}: no dates", e.title);
                };
                let (f, u) = moved_dates(from, until, today, now);
                assert!(f <= now && u > now, "{} at {now}", e.title);
                assert_eq!(u - f, until - from, "{}: its length is kept", e.title);
            }
        }
    }
}
