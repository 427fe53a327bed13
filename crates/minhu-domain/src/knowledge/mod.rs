//! The knowledge base (知识库): entries that agents answer callers from, their versions and the
//! review life cycle, who may do what with them, and the invariants every entry keeps.
//!
//! **Life cycle.** An entry is created as a draft (草稿), submitted for review (待审核) and
//! approved (已发布) or rejected back to draft with a note; a knowledge editor may withdraw
//! (已撤回) any entry. Every version is kept: editing a published entry creates a new draft version
//! while the published one stays live — searchable and shown — until the new version is approved
//! and replaces it (the replaced version becomes 已替换). A draft, new or sent back by a rejection,
//! is edited in place: a version number names what was submitted, reviewed and published, not each
//! save, and the history events record every submission and review with its note.
//!
//! **Derived states.** Nothing needs a timer: a published entry before its `effective_from` is
//! 未生效 and after its `expires_at` is 已过期, as [`effective_state`] tells at any instant.
//! Temporary entries (临时知识库, for a current incident such as a water cut in one district) must
//! expire at most [`TEMPORARY_MAX_DAYS`] days after they take effect.
//!
//! **Who.** Knowledge editors (知识库管理员) create, edit, approve, reject and withdraw any entry.
//! Handling units (经办人, 负责人, 分中心) create, edit and submit entries of their own unit only
//! (政策更新) and never approve. Everyone reads effective published entries; internal ones (内部) are
//! for staff only, public ones (公开) may also be shown to citizens ([`shown_to_citizens`]).
//!
//! Each action checks, in this order, that the actor may see the entry
//! ([`DomainError::OutOfScope`]), the actor's role ([`DomainError::Forbidden`]), the state
//! ([`DomainError::InvalidState`]) and the input ([`DomainError::InvalidField`],
//! [`DomainError::UnknownUnit`]), and yields a [`KnowledgeTransition`].

mod actions;
mod invariants;
mod rules;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::action::DomainError;
use crate::enums::{UnknownCode, labelled_enum};
use crate::model::{Actor, UnitDirectory};

pub use actions::{
    apply, approve, create, edit, mark_helpful, record_use, reject, submit, withdraw,
};
pub use invariants::check_knowledge_invariants;
pub use rules::{
    available_knowledge_actions, can_edit_entry, can_read, can_submit_knowledge, effective_state,
    is_live, knowledge_action_label, shown_to_citizens,
};

/// The longest title, in characters.
pub const TITLE_MAX: usize = 100;
/// The longest body (Markdown), in characters.
pub const BODY_MAX: usize = 20_000;
/// The most keywords of one entry.
pub const KEYWORDS_MAX: usize = 20;
/// The longest keyword, in characters.
pub const KEYWORD_MAX_CHARS: usize = 20;
/// The longest review note or withdrawal reason, in characters.
pub const NOTE_MAX: usize = 2000;
/// The longest life of a temporary entry (临时知识), in days from when it takes effect.
pub const TEMPORARY_MAX_DAYS: i64 = 30;

labelled_enum! {
    /// Who may read an entry.
    KnowledgeVisibility {
        /// 公开: staff, and later citizens on the portal.
        Public => "public", "公开";
        /// 内部: staff only (答复口径, internal procedures).
        Internal => "internal", "内部";
    }
}

labelled_enum! {
    /// The state of a knowledge entry or of one of its versions.
    ///
    /// Stored on entries: `draft`, `in_review`, `published`, `withdrawn`. Stored on versions: those
    /// and `superseded`. `scheduled` and `expired` are never stored: [`effective_state`] derives
    /// them from a published entry's dates.
    KnowledgeState {
        /// 草稿: being written, or sent back by a rejected review (its version carries the note).
        Draft => "draft", "草稿";
        /// 待审核: submitted, waiting for a knowledge editor.
        InReview => "in_review", "待审核";
        /// 已发布: live, searchable and shown.
        Published => "published", "已发布";
        /// 未生效: published, but its `effective_from` is still ahead (derived).
        Scheduled => "scheduled", "未生效";
        /// 已过期: published, but its `expires_at` has passed (derived).
        Expired => "expired", "已过期";
        /// 已撤回: taken out of use by a knowledge editor.
        Withdrawn => "withdrawn", "已撤回";
        /// 已替换: a version that was published and then replaced by a newer one (versions only).
        Superseded => "superseded", "已替换";
    }
}

impl KnowledgeState {
    /// Whether the state is only ever derived, never stored.
    #[must_use]
    pub const fn is_derived(self) -> bool {
        matches!(self, Self::Scheduled | Self::Expired)
    }
}

/// What an entry says and where it applies: the part of an entry that a version fixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeContent {
    /// The category (问题分类) the entry answers.
    pub category_id: i64,
    pub title: String,
    /// Markdown; rendered safely by the pages.
    pub body: String,
    /// Words agents search by, trimmed and without duplicates.
    pub keywords: Vec<String>,
    /// The unit whose policy or information this is (来源单位).
    pub source_unit_id: i64,
    pub visibility: KnowledgeVisibility,
    /// 临时知识: about a current incident; then `expires_at` is set and near.
    pub temporary: bool,
    /// From when the entry applies.
    pub effective_from: DateTime<Utc>,
    /// Until when the entry applies (exclusive); `None` for no end.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A knowledge entry as it is live: its content is that of the published version, or of the
/// latest version while none is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeEntry {
    /// 0 for an entry that is not stored yet.
    pub id: i64,
    /// Bumped by storage on every change; a change made against an older revision is refused.
    /// The actions leave it alone.
    pub revision: i64,
    #[serde(flatten)]
    pub content: KnowledgeContent,
    /// The stored state: `draft`, `in_review`, `published` or `withdrawn`. A published entry
    /// stays published while a newer version is drafted or reviewed.
    pub state: KnowledgeState,
    /// The number of the live version, while the entry is published.
    pub published_version: Option<i32>,
    /// The number of the newest version (1 for a new entry).
    pub latest_version: i32,
    /// How many orders were closed directly with this entry (直接办结引用次数).
    pub used_count: i64,
    /// How many times agents marked it helpful.
    pub helpful_count: i64,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    /// When the content or state last changed (the counters do not count).
    pub updated_at: DateTime<Utc>,
}

/// One version of an entry. Every version is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeVersion {
    /// The entry's id; 0 while the entry is not stored yet.
    pub entry_id: i64,
    /// 1, 2, 3… in order of creation.
    pub version: i32,
    #[serde(flatten)]
    pub content: KnowledgeContent,
    /// `draft`, `in_review`, `published`, `superseded` or `withdrawn`.
    pub state: KnowledgeState,
    /// Who wrote the version, and in which unit.
    pub author_id: i64,
    pub author_unit_id: i64,
    pub created_at: DateTime<Utc>,
    /// When the draft was last saved or its state changed.
    pub updated_at: DateTime<Utc>,
    /// When it was last submitted for review.
    pub submitted_at: Option<DateTime<Utc>>,
    /// The reviewer's note: required on a rejection, optional on an approval.
    pub review_note: Option<String>,
    pub reviewer_id: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl KnowledgeVersion {
    /// Whether the version is a draft sent back by a rejected review.
    #[must_use]
    pub fn is_rejected(&self) -> bool {
        self.state == KnowledgeState::Draft && self.reviewed_at.is_some()
    }
}

/// An entry with its versions: what an action reads. The actions look only at the latest and
/// the published version, so storage may load just those two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnowledgeAggregate {
    pub entry: KnowledgeEntry,
    pub versions: Vec<KnowledgeVersion>,
}

impl KnowledgeAggregate {
    /// The version with this number, if loaded.
    #[must_use]
    pub fn version(&self, number: i32) -> Option<&KnowledgeVersion> {
        self.versions.iter().find(|v| v.version == number)
    }

    /// The newest version.
    #[must_use]
    pub fn latest(&self) -> Option<&KnowledgeVersion> {
        self.version(self.entry.latest_version)
    }

    /// The live version, while the entry is published.
    #[must_use]
    pub fn published(&self) -> Option<&KnowledgeVersion> {
        self.entry.published_version.and_then(|n| self.version(n))
    }

    /// Whether a newer version than the published one is being drafted or reviewed.
    #[must_use]
    pub fn has_pending_version(&self) -> bool {
        self.latest().is_some_and(|v| {
            matches!(v.state, KnowledgeState::Draft | KnowledgeState::InReview)
                && self.entry.published_version.is_some()
        })
    }

    /// Applies a transition as storage would: the entry replaced, each version row inserted or
    /// replaced by its number, the versions kept in order.
    pub fn apply(&mut self, transition: &KnowledgeTransition) {
        self.entry = transition.entry.clone();
        for row in &transition.versions {
            match self.versions.iter_mut().find(|v| v.version == row.version) {
                Some(existing) => *existing = row.clone(),
                None => self.versions.push(row.clone()),
            }
        }
        self.versions.sort_by_key(|v| v.version);
    }
}

/// One line of an entry's append-only history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeEvent {
    pub at: DateTime<Utc>,
    /// The entry's id; 0 for the creation of an entry not stored yet.
    pub entry_id: i64,
    /// The version the action concerned.
    pub version: i32,
    pub actor_id: i64,
    pub actor_unit_id: i64,
    /// The action's code (`create`, `edit`, `submit`, `approve`, …).
    pub action: String,
    /// The entry's stored state before (`None` for the creation) and after.
    pub from_state: Option<KnowledgeState>,
    pub to_state: KnowledgeState,
    /// The note or reason written.
    pub text: Option<String>,
    /// Structured details (the order an entry answered, the replaced version…).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// What a permitted action yields: the entry as it is now, the version rows that are new or
/// changed, and the history line.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeTransition {
    pub entry: KnowledgeEntry,
    /// New rows (a version number the entry did not have) and changed rows.
    pub versions: Vec<KnowledgeVersion>,
    pub event: KnowledgeEvent,
}

/// What a person writes when creating or editing an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeInput {
    pub category_id: i64,
    pub title: String,
    /// Markdown.
    pub body: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The unit the entry speaks for; a handling unit may name only itself.
    pub source_unit_id: i64,
    pub visibility: KnowledgeVisibility,
    #[serde(default)]
    pub temporary: bool,
    /// From when it applies; the moment of saving when absent.
    #[serde(default)]
    pub effective_from: Option<DateTime<Utc>>,
    /// Until when it applies; required for a temporary entry.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Every knowledge action after creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum KnowledgeAction {
    /// 编辑: a draft in place, or a new draft version of a published or withdrawn entry.
    Edit(KnowledgeInput),
    /// 提交审核.
    Submit,
    /// 审核通过: publish the version under review.
    Approve {
        #[serde(default)]
        note: Option<String>,
    },
    /// 审核退回: back to draft, with the reason.
    Reject { note: String },
    /// 撤回: take the entry out of use.
    Withdraw { reason: String },
    /// 引用办结: an order was closed directly with the entry.
    RecordUse { order_id: i64 },
    /// 标记有用.
    MarkHelpful,
}

impl KnowledgeAction {
    /// The action's code, as in the history.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Edit(_) => "edit",
            Self::Submit => "submit",
            Self::Approve { .. } => "approve",
            Self::Reject { .. } => "reject",
            Self::Withdraw { .. } => "withdraw",
            Self::RecordUse { .. } => "record_use",
            Self::MarkHelpful => "mark_helpful",
        }
    }

    /// Every action code after creation, in life-cycle order.
    pub const CODES: &'static [&'static str] = &[
        "edit",
        "submit",
        "approve",
        "reject",
        "withdraw",
        "record_use",
        "mark_helpful",
    ];
}

/// Everything a knowledge decision needs besides the entry itself.
#[derive(Debug, Clone, Copy)]
pub struct KnowledgeContext<'a> {
    pub now: DateTime<Utc>,
    pub actor: &'a Actor,
    /// The actor's unit and the source unit the input names.
    pub units: &'a UnitDirectory,
}

/// Reports an unexpected aggregate (a version the entry names is not loaded) as an invalid
/// state rather than panicking.
fn missing_version(number: i32) -> DomainError {
    DomainError::InvalidState {
        action: "读取知识版本".to_owned(),
        state: format!("版本{number}缺失"),
    }
}
