//! The knowledge base (知识库) in storage: the list filter and page, and the search document of an
//! entry's live content. The SQL is in `shared/knowledge.rs` and, where the backends differ (the
//! text match), in `sqlite.rs` and `postgres.rs`.
//!
//! Only published content is indexed: `knowledge_search` holds a row for an entry exactly while
//! it is published, written (or deleted) in the transaction that publishes (or withdraws) it, so
//! an entry is findable as soon as the approving request returns and never before.

use chrono::{DateTime, Utc};
use minhu_domain::knowledge::{
    KnowledgeContent, KnowledgeEntry, KnowledgeState, KnowledgeVisibility,
};
use minhu_text::{FieldTerms, SearchQuery, Segmenter};

/// The words of an entry's live content, as stored in `knowledge_search`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnowledgeSearchDocument {
    pub title_terms: String,
    pub keyword_terms: String,
    /// The Markdown body's words (its markup is punctuation, which segmentation drops).
    pub body_terms: String,
}

/// The search document of `content`.
pub fn knowledge_document(
    segmenter: &Segmenter,
    content: &KnowledgeContent,
) -> KnowledgeSearchDocument {
    KnowledgeSearchDocument {
        title_terms: FieldTerms::of(segmenter, [content.title.as_str()]).fts_text(),
        keyword_terms: FieldTerms::of(segmenter, content.keywords.iter().map(String::as_str))
            .fts_text(),
        body_terms: FieldTerms::of(segmenter, [content.body.as_str()]).fts_text(),
    }
}

/// The text part of a knowledge search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeText {
    pub query: SearchQuery,
    /// Any one word is enough (the fallback when requiring every word finds nothing).
    pub any: bool,
}

impl KnowledgeText {
    /// The FTS5 MATCH expression.
    pub fn fts5_match(&self) -> String {
        if self.any {
            self.query.fts5_match_any(None)
        } else {
            self.query.fts5_match(None)
        }
    }

    /// The `tsquery` text for `to_tsquery('simple', …)`.
    pub fn tsquery(&self) -> String {
        if self.any {
            self.query.tsquery_literal_any()
        } else {
            self.query.tsquery_literal()
        }
    }
}

/// Which entries a person may list at all (see `minhu_domain::knowledge::can_read`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KnowledgeScope {
    /// Knowledge editors: every entry.
    All,
    /// A handling unit: live entries and every entry the unit is the source of.
    LiveOrUnit { unit_id: i64 },
    /// Everyone else: live entries only.
    Live,
}

/// Entries by their state at the filter's `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KnowledgeStateFilter {
    /// No condition on the state.
    Any,
    /// Live: published, in effect and not expired (已发布, what agents answer from).
    #[default]
    Live,
    /// Published, but not in effect yet (未生效).
    Scheduled,
    /// Published, but expired (已过期).
    Expired,
    /// The latest version is a draft (草稿; also a published entry being changed).
    Draft,
    /// The latest version is in review (待审核; also a changed published entry).
    InReview,
    /// Withdrawn (已撤回).
    Withdrawn,
}

impl KnowledgeStateFilter {
    /// The filter for a state as people name it (`published` is live).
    #[must_use]
    pub const fn of(state: KnowledgeState) -> Self {
        match state {
            KnowledgeState::Published => Self::Live,
            KnowledgeState::Scheduled => Self::Scheduled,
            KnowledgeState::Expired => Self::Expired,
            KnowledgeState::Draft => Self::Draft,
            KnowledgeState::InReview => Self::InReview,
            KnowledgeState::Withdrawn | KnowledgeState::Superseded => Self::Withdrawn,
        }
    }
}

/// What a knowledge list asks for. Text matches only published entries (the only ones indexed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeFilter {
    pub text: Option<KnowledgeText>,
    /// Entries in the category with this path or below it (`/3/17/`)…
    pub category_path: Option<String>,
    /// … or (with `category_path`, either) in one of these categories (its ancestors).
    pub category_ids: Vec<i64>,
    pub state: KnowledgeStateFilter,
    pub visibility: Option<KnowledgeVisibility>,
    /// Entries of this source unit only.
    pub source_unit_id: Option<i64>,
    pub scope: KnowledgeScope,
    /// The instant the states are judged at.
    pub now: DateTime<Utc>,
}

impl KnowledgeFilter {
    /// Live entries for everyone at `now`, no other condition.
    #[must_use]
    pub fn live(now: DateTime<Utc>) -> Self {
        Self {
            text: None,
            category_path: None,
            category_ids: Vec::new(),
            state: KnowledgeStateFilter::Live,
            visibility: None,
            source_unit_id: None,
            scope: KnowledgeScope::Live,
            now,
        }
    }
}

/// One entry of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeListItem {
    pub entry: KnowledgeEntry,
    /// The state of the newest version (a published entry may have a draft or a version in
    /// review).
    pub latest_state: KnowledgeState,
    /// With a text: how well it matched, higher is better (comparable within one list only).
    pub relevance: Option<f64>,
}

/// One page of entries: temporary live entries first, then the best matches (with a text) or
/// the most recently changed.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgePage {
    pub items: Vec<KnowledgeListItem>,
    pub total: i64,
}
