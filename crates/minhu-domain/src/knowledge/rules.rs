//! Who may do what with an entry, the states derived from its dates, and the checks of the input.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::{
    BODY_MAX, KEYWORD_MAX_CHARS, KEYWORDS_MAX, KnowledgeAggregate, KnowledgeContent,
    KnowledgeContext, KnowledgeEntry, KnowledgeInput, KnowledgeState, KnowledgeVisibility,
    TEMPORARY_MAX_DAYS, TITLE_MAX,
};
use crate::action::DomainError;
use crate::enums::{Role, UnitKind};
use crate::model::Actor;

/// The roles of a handling unit that may submit the unit's own entries (政策更新).
const SUBMITTER_ROLES: &[Role] = &[Role::UnitHandler, Role::UnitLeader, Role::SubCentre];

/// The Chinese name of a knowledge action code, for buttons and messages.
#[must_use]
pub fn knowledge_action_label(code: &str) -> &'static str {
    match code {
        "create" => "新建知识",
        "edit" => "编辑",
        "submit" => "提交审核",
        "approve" => "审核通过",
        "reject" => "审核退回",
        "withdraw" => "撤回",
        "record_use" => "引用办结",
        "mark_helpful" => "标记有用",
        _ => "该操作",
    }
}

/// The state an entry is in at `now`: a published entry is 未生效 before its `effective_from` and
/// 已过期 from its `expires_at` on; every other state is the stored one.
#[must_use]
pub fn effective_state(entry: &KnowledgeEntry, now: DateTime<Utc>) -> KnowledgeState {
    if entry.state != KnowledgeState::Published {
        return entry.state;
    }
    if now < entry.content.effective_from {
        KnowledgeState::Scheduled
    } else if entry.content.expires_at.is_some_and(|end| now >= end) {
        KnowledgeState::Expired
    } else {
        KnowledgeState::Published
    }
}

/// Whether the entry is live at `now`: published, in effect and not expired — what agents
/// search and answer from.
#[must_use]
pub fn is_live(entry: &KnowledgeEntry, now: DateTime<Utc>) -> bool {
    effective_state(entry, now) == KnowledgeState::Published
}

/// Whether citizens may be shown the entry (on the portal): live and public.
#[must_use]
pub fn shown_to_citizens(entry: &KnowledgeEntry, now: DateTime<Utc>) -> bool {
    entry.content.visibility == KnowledgeVisibility::Public && is_live(entry, now)
}

/// Whether the actor submits for a handling unit (and not as a knowledge editor).
fn is_unit_submitter(actor: &Actor) -> bool {
    actor.unit.kind != UnitKind::CityCentre && actor.has_any_role(SUBMITTER_ROLES)
}

/// Whether the actor may create entries at all (for any unit as an editor, for their own unit as
/// a handling unit).
#[must_use]
pub fn can_submit_knowledge(actor: &Actor) -> bool {
    actor.has_role(Role::KnowledgeEditor) || is_unit_submitter(actor)
}

/// Whether the actor may edit and submit the entry: an editor any entry, a handling unit the
/// entries it is the source of.
#[must_use]
pub fn can_edit_entry(actor: &Actor, entry: &KnowledgeEntry) -> bool {
    actor.has_role(Role::KnowledgeEditor)
        || (is_unit_submitter(actor) && entry.content.source_unit_id == actor.unit.id)
}

/// Whether the actor may see the entry at `now`: every staff member sees live entries (internal
/// ones included); editors see every entry, handling units also their own unit's entries in every
/// state.
#[must_use]
pub fn can_read(actor: &Actor, entry: &KnowledgeEntry, now: DateTime<Utc>) -> bool {
    is_live(entry, now) || can_edit_entry(actor, entry)
}

/// The codes of the actions (in [`super::KnowledgeAction::CODES`] order) whose preconditions of
/// scope, role and state hold for the actor on the entry now; the input is not considered.
#[must_use]
pub fn available_knowledge_actions(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
) -> Vec<&'static str> {
    super::KnowledgeAction::CODES
        .iter()
        .copied()
        .filter(|code| guard(ctx, agg, code).is_ok())
        .collect()
}

pub(super) fn invalid_state(code: &str, state: KnowledgeState) -> DomainError {
    DomainError::InvalidState {
        action: knowledge_action_label(code).to_owned(),
        state: state.label().to_owned(),
    }
}

fn forbidden(required: &str) -> DomainError {
    DomainError::Forbidden {
        required: required.to_owned(),
    }
}

/// The checks of scope, role and state of the action `code` on `agg`, in that order.
pub(super) fn guard(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
    code: &str,
) -> Result<(), DomainError> {
    let actor = ctx.actor;
    let entry = &agg.entry;
    if !can_read(actor, entry, ctx.now) {
        return Err(DomainError::OutOfScope);
    }
    let editor = actor.has_role(Role::KnowledgeEditor);
    let latest = agg.latest().map_or(entry.state, |v| v.state);
    match code {
        "edit" | "submit" => {
            if !can_edit_entry(actor, entry) {
                return Err(forbidden("知识库管理员或本单位经办人"));
            }
            let ok = if code == "edit" {
                matches!(
                    latest,
                    KnowledgeState::Draft | KnowledgeState::Published | KnowledgeState::Withdrawn
                )
            } else {
                latest == KnowledgeState::Draft
            };
            ensure_state(ok, code, latest)
        }
        "approve" | "reject" => {
            if !editor {
                return Err(forbidden(Role::KnowledgeEditor.label()));
            }
            ensure_state(latest == KnowledgeState::InReview, code, latest)
        }
        "withdraw" => {
            if !editor {
                return Err(forbidden(Role::KnowledgeEditor.label()));
            }
            ensure_state(entry.state != KnowledgeState::Withdrawn, code, entry.state)
        }
        "record_use" | "mark_helpful" => {
            let state = effective_state(entry, ctx.now);
            ensure_state(state == KnowledgeState::Published, code, state)
        }
        _ => Err(forbidden("该操作")),
    }
}

fn ensure_state(ok: bool, code: &str, state: KnowledgeState) -> Result<(), DomainError> {
    if ok {
        Ok(())
    } else {
        Err(invalid_state(code, state))
    }
}

/// The free-text rules of the lifecycle: trimmed, non-empty (or absent), at most `max` characters.
pub(super) use crate::lifecycle::common::{optional_text, required_text};

/// The keywords trimmed, empty ones dropped, duplicates removed (first kept), then checked.
fn keywords(values: &[String]) -> Result<Vec<String>, DomainError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for word in values.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        if word.chars().count() > KEYWORD_MAX_CHARS {
            return Err(DomainError::invalid(
                "keywords",
                format!("关键词“{word}”超过{KEYWORD_MAX_CHARS}字"),
            ));
        }
        if seen.insert(word.to_owned()) {
            out.push(word.to_owned());
        }
    }
    if out.len() > KEYWORDS_MAX {
        return Err(DomainError::invalid(
            "keywords",
            format!("关键词不能超过{KEYWORDS_MAX}个"),
        ));
    }
    Ok(out)
}

/// Checks and normalises what the actor wrote into the content of a version.
pub(super) fn content(
    ctx: &KnowledgeContext<'_>,
    input: &KnowledgeInput,
) -> Result<KnowledgeContent, DomainError> {
    let title = required_text("title", "标题", &input.title, TITLE_MAX)?;
    let body = required_text("body", "正文", &input.body, BODY_MAX)?;
    let keywords = keywords(&input.keywords)?;
    if input.category_id <= 0 {
        return Err(DomainError::invalid("category_id", "请选择问题分类"));
    }
    let actor = ctx.actor;
    if !actor.has_role(Role::KnowledgeEditor) && input.source_unit_id != actor.unit.id {
        return Err(DomainError::invalid(
            "source_unit_id",
            "承办单位只能提交本单位的知识",
        ));
    }
    match ctx.units.get(input.source_unit_id) {
        Some(unit) if unit.active => {}
        _ => {
            return Err(DomainError::UnknownUnit {
                field: "source_unit_id".to_owned(),
                unit_id: input.source_unit_id,
            });
        }
    }
    let effective_from = input.effective_from.unwrap_or(ctx.now);
    match input.expires_at {
        Some(end) if end <= effective_from => {
            return Err(DomainError::invalid(
                "expires_at",
                "失效时间必须晚于生效时间",
            ));
        }
        None if input.temporary => {
            return Err(DomainError::invalid(
                "expires_at",
                "临时知识必须设置失效时间",
            ));
        }
        Some(end)
            if input.temporary && end > effective_from + Duration::days(TEMPORARY_MAX_DAYS) =>
        {
            return Err(DomainError::invalid(
                "expires_at",
                format!("临时知识的有效期不能超过{TEMPORARY_MAX_DAYS}天"),
            ));
        }
        _ => {}
    }
    Ok(KnowledgeContent {
        category_id: input.category_id,
        title,
        body,
        keywords,
        source_unit_id: input.source_unit_id,
        visibility: input.visibility,
        temporary: input.temporary,
        effective_from,
        expires_at: input.expires_at,
    })
}

/// Refuses to put up for review or publish content whose end has already passed.
pub(super) fn not_ended(content: &KnowledgeContent, now: DateTime<Utc>) -> Result<(), DomainError> {
    match content.expires_at {
        Some(end) if end <= now => Err(DomainError::invalid(
            "expires_at",
            "失效时间已过，请修改后重新提交",
        )),
        _ => Ok(()),
    }
}
