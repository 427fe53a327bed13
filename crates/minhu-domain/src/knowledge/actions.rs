//! The knowledge actions: one pure function each, checking scope, role, state and input in that
//! order (see the module documentation) and returning a [`KnowledgeTransition`].

use serde_json::{Value, json};

use super::rules::{self, content, guard, not_ended, optional_text, required_text};
use super::{
    KnowledgeAction, KnowledgeAggregate, KnowledgeContent, KnowledgeContext, KnowledgeEntry,
    KnowledgeEvent, KnowledgeInput, KnowledgeState, KnowledgeTransition, KnowledgeVersion,
    NOTE_MAX, missing_version,
};
use crate::action::DomainError;

/// Applies `action` to `agg` on behalf of `ctx.actor`, or says why not.
pub fn apply(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
    action: &KnowledgeAction,
) -> Result<KnowledgeTransition, DomainError> {
    match action {
        KnowledgeAction::Edit(input) => edit(ctx, agg, input),
        KnowledgeAction::Submit => submit(ctx, agg),
        KnowledgeAction::Approve { note } => approve(ctx, agg, note.as_deref()),
        KnowledgeAction::Reject { note } => reject(ctx, agg, note),
        KnowledgeAction::Withdraw { reason } => withdraw(ctx, agg, reason),
        KnowledgeAction::RecordUse { order_id } => record_use(ctx, agg, *order_id),
        KnowledgeAction::MarkHelpful => mark_helpful(ctx, agg),
    }
}

/// A new version by the actor, now.
fn new_version(
    ctx: &KnowledgeContext<'_>,
    entry_id: i64,
    number: i32,
    content: KnowledgeContent,
) -> KnowledgeVersion {
    KnowledgeVersion {
        entry_id,
        version: number,
        content,
        state: KnowledgeState::Draft,
        author_id: ctx.actor.user_id,
        author_unit_id: ctx.actor.unit.id,
        created_at: ctx.now,
        updated_at: ctx.now,
        submitted_at: None,
        review_note: None,
        reviewer_id: None,
        reviewed_at: None,
    }
}

/// The history line of `code` on `version`, from the entry's stored state `from`.
fn event(
    ctx: &KnowledgeContext<'_>,
    code: &str,
    entry: &KnowledgeEntry,
    version: i32,
    from: Option<KnowledgeState>,
    text: Option<String>,
    details: Value,
) -> KnowledgeEvent {
    KnowledgeEvent {
        at: ctx.now,
        entry_id: entry.id,
        version,
        actor_id: ctx.actor.user_id,
        actor_unit_id: ctx.actor.unit.id,
        action: code.to_owned(),
        from_state: from,
        to_state: entry.state,
        text,
        details,
    }
}

/// The latest version, which the guards have looked at.
fn latest(agg: &KnowledgeAggregate) -> Result<&KnowledgeVersion, DomainError> {
    agg.latest()
        .ok_or_else(|| missing_version(agg.entry.latest_version))
}

/// 新建: a draft entry with its first version. Editors create for any unit, handling units for
/// their own. The result has `id == 0` (storage assigns it) and revision 1.
pub fn create(
    ctx: &KnowledgeContext<'_>,
    input: &KnowledgeInput,
) -> Result<KnowledgeTransition, DomainError> {
    const CODE: &str = "create";
    if !rules::can_submit_knowledge(ctx.actor) {
        return Err(DomainError::Forbidden {
            required: "知识库管理员或承办单位经办人".to_owned(),
        });
    }
    let content = content(ctx, input)?;
    let version = new_version(ctx, 0, 1, content.clone());
    let entry = KnowledgeEntry {
        id: 0,
        revision: 1,
        content,
        state: KnowledgeState::Draft,
        published_version: None,
        latest_version: 1,
        used_count: 0,
        helpful_count: 0,
        created_by: ctx.actor.user_id,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let event = event(ctx, CODE, &entry, 1, None, None, json!({}));
    Ok(KnowledgeTransition {
        entry,
        versions: vec![version],
        event,
    })
}

/// 编辑. A draft (new, or sent back by a rejection) is changed in place. A published entry gets a
/// new draft version while the published one stays live; a withdrawn entry gets a new draft
/// version and is a draft again. A version under review cannot be edited.
pub fn edit(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
    input: &KnowledgeInput,
) -> Result<KnowledgeTransition, DomainError> {
    const CODE: &str = "edit";
    guard(ctx, agg, CODE)?;
    let content = content(ctx, input)?;
    let latest = latest(agg)?;
    let mut entry = agg.entry.clone();
    let from = entry.state;
    entry.updated_at = ctx.now;
    let row = if latest.state == KnowledgeState::Draft {
        let mut row = latest.clone();
        row.content = content.clone();
        row.updated_at = ctx.now;
        row
    } else {
        entry.latest_version = latest.version + 1;
        if entry.state == KnowledgeState::Withdrawn {
            entry.state = KnowledgeState::Draft;
        }
        new_version(ctx, entry.id, entry.latest_version, content.clone())
    };
    if entry.published_version.is_none() {
        entry.content = content;
    }
    let new = row.version != latest.version;
    let event = event(
        ctx,
        CODE,
        &entry,
        row.version,
        Some(from),
        None,
        json!({ "new_version": new }),
    );
    Ok(KnowledgeTransition {
        entry,
        versions: vec![row],
        event,
    })
}

/// 提交审核: the latest draft goes to review. An entry not yet published is 待审核 meanwhile; a
/// published entry stays published.
pub fn submit(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
) -> Result<KnowledgeTransition, DomainError> {
    const CODE: &str = "submit";
    guard(ctx, agg, CODE)?;
    let mut row = latest(agg)?.clone();
    not_ended(&row.content, ctx.now)?;
    row.state = KnowledgeState::InReview;
    row.submitted_at = Some(ctx.now);
    row.updated_at = ctx.now;
    let mut entry = agg.entry.clone();
    let from = entry.state;
    if entry.published_version.is_none() {
        entry.state = KnowledgeState::InReview;
    }
    entry.updated_at = ctx.now;
    let event = event(ctx, CODE, &entry, row.version, Some(from), None, json!({}));
    Ok(KnowledgeTransition {
        entry,
        versions: vec![row],
        event,
    })
}

/// 审核通过: the version under review is published and replaces the one published before, if any.
pub fn approve(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
    note: Option<&str>,
) -> Result<KnowledgeTransition, DomainError> {
    const CODE: &str = "approve";
    guard(ctx, agg, CODE)?;
    let note = optional_text("note", "审核意见", note, NOTE_MAX)?;
    let mut row = latest(agg)?.clone();
    not_ended(&row.content, ctx.now)?;
    let mut rows = Vec::new();
    let replaced = agg.entry.published_version;
    if let Some(number) = replaced {
        let mut old = agg
            .version(number)
            .cloned()
            .ok_or_else(|| missing_version(number))?;
        old.state = KnowledgeState::Superseded;
        old.updated_at = ctx.now;
        rows.push(old);
    }
    row.state = KnowledgeState::Published;
    row.review_note.clone_from(&note);
    row.reviewer_id = Some(ctx.actor.user_id);
    row.reviewed_at = Some(ctx.now);
    row.updated_at = ctx.now;
    let mut entry = agg.entry.clone();
    let from = entry.state;
    entry.content = row.content.clone();
    entry.state = KnowledgeState::Published;
    entry.published_version = Some(row.version);
    entry.updated_at = ctx.now;
    let version = row.version;
    rows.push(row);
    let details = json!({ "replaced_version": replaced });
    let event = event(ctx, CODE, &entry, version, Some(from), note, details);
    Ok(KnowledgeTransition {
        entry,
        versions: rows,
        event,
    })
}

/// 审核退回: the version under review goes back to draft with the reviewer's note. A published
/// entry stays published with its live version.
pub fn reject(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
    note: &str,
) -> Result<KnowledgeTransition, DomainError> {
    const CODE: &str = "reject";
    guard(ctx, agg, CODE)?;
    let note = required_text("note", "退回意见", note, NOTE_MAX)?;
    let mut row = latest(agg)?.clone();
    row.state = KnowledgeState::Draft;
    row.review_note = Some(note.clone());
    row.reviewer_id = Some(ctx.actor.user_id);
    row.reviewed_at = Some(ctx.now);
    row.updated_at = ctx.now;
    let mut entry = agg.entry.clone();
    let from = entry.state;
    if entry.published_version.is_none() {
        entry.state = KnowledgeState::Draft;
    }
    entry.updated_at = ctx.now;
    let event = event(
        ctx,
        CODE,
        &entry,
        row.version,
        Some(from),
        Some(note),
        json!({}),
    );
    Ok(KnowledgeTransition {
        entry,
        versions: vec![row],
        event,
    })
}

/// 撤回: a knowledge editor takes the entry out of use. The live version and any version being
/// drafted or reviewed are withdrawn with it; editing the entry later starts a new draft.
pub fn withdraw(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
    reason: &str,
) -> Result<KnowledgeTransition, DomainError> {
    const CODE: &str = "withdraw";
    guard(ctx, agg, CODE)?;
    let reason = required_text("reason", "撤回原因", reason, NOTE_MAX)?;
    let mut numbers = vec![agg.entry.latest_version];
    numbers.extend(agg.entry.published_version);
    numbers.sort_unstable();
    numbers.dedup();
    let mut rows = Vec::new();
    for number in numbers {
        let mut row = agg
            .version(number)
            .cloned()
            .ok_or_else(|| missing_version(number))?;
        if matches!(
            row.state,
            KnowledgeState::Draft | KnowledgeState::InReview | KnowledgeState::Published
        ) {
            row.state = KnowledgeState::Withdrawn;
            row.updated_at = ctx.now;
            rows.push(row);
        }
    }
    let mut entry = agg.entry.clone();
    let from = entry.state;
    let was_published = entry.published_version.take();
    entry.state = KnowledgeState::Withdrawn;
    entry.updated_at = ctx.now;
    let version = was_published.unwrap_or(entry.latest_version);
    let details = json!({ "published_version": was_published });
    let event = event(
        ctx,
        CODE,
        &entry,
        version,
        Some(from),
        Some(reason),
        details,
    );
    Ok(KnowledgeTransition {
        entry,
        versions: rows,
        event,
    })
}

/// The common part of the two counters: only a live entry counts.
fn count(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
    code: &str,
    bump: impl FnOnce(&mut KnowledgeEntry),
    details: Value,
) -> Result<KnowledgeTransition, DomainError> {
    guard(ctx, agg, code)?;
    let mut entry = agg.entry.clone();
    bump(&mut entry);
    let version = entry.published_version.unwrap_or(entry.latest_version);
    let state = entry.state;
    let event = event(ctx, code, &entry, version, Some(state), None, details);
    Ok(KnowledgeTransition {
        entry,
        versions: Vec::new(),
        event,
    })
}

/// 引用办结: an order was closed directly with this entry's answer; only a live entry counts.
pub fn record_use(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
    order_id: i64,
) -> Result<KnowledgeTransition, DomainError> {
    count(
        ctx,
        agg,
        "record_use",
        |e| e.used_count = e.used_count.saturating_add(1),
        json!({ "order_id": order_id }),
    )
}

/// 标记有用: an agent found the entry helpful; only a live entry counts.
pub fn mark_helpful(
    ctx: &KnowledgeContext<'_>,
    agg: &KnowledgeAggregate,
) -> Result<KnowledgeTransition, DomainError> {
    count(
        ctx,
        agg,
        "mark_helpful",
        |e| e.helpful_count = e.helpful_count.saturating_add(1),
        json!({}),
    )
}
