//! Knowledge base (知识库) use cases: create, edit and the review life cycle through the domain's
//! pure actions (`minhu_domain::knowledge`), reading an entry with its versions and history,
//! browsing and searching what a person may read, the entries suggested for an order being
//! registered, and counting the uses when an order is closed directly with an entry.
//!
//! Who sees what follows `knowledge::can_read`: live entries for all staff (internal ones too),
//! every entry for knowledge editors, and a handling unit's own entries in every state for that
//! unit. Citizens only ever get live public entries ([`App::citizen_knowledge`]). An entry a
//! person may not read answers `not_found`, as orders do.

use std::collections::HashMap;

use minhu_domain::knowledge::{
    self, KnowledgeAction, KnowledgeAggregate, KnowledgeContext, KnowledgeEntry, KnowledgeEvent,
    KnowledgeInput, KnowledgeState, KnowledgeTransition, KnowledgeVisibility,
};
use minhu_domain::{Action, Actor, DomainError, Role, UnitDirectory};
use minhu_text::query::QueryTerm;
use minhu_text::{SearchQuery, segmenter};
use pulldown_cmark::{Event, Parser, TagEnd};

use super::{App, AppError, AppResult};
use crate::storage::{
    KnowledgeFilter, KnowledgeListItem, KnowledgePage, KnowledgeScope, KnowledgeStateFilter,
    KnowledgeText, PageRequest,
};

/// Entries per page of a list, unless asked otherwise.
pub const PAGE_SIZE: i64 = 20;
/// How many entries [`App::suggest_for_order`] returns at most.
pub const SUGGESTIONS: usize = 5;
/// How many candidates of each kind (text, category) the suggestion compares.
const SUGGESTION_CANDIDATES: i64 = 30;
/// How many words of an order the suggestion searches by at most.
const SUGGESTION_WORDS: usize = 12;

/// An entry as one person may see it, with what they may do to it now.
#[derive(Debug, Clone)]
pub struct KnowledgeDetail {
    /// The entry with every version, oldest first.
    pub aggregate: KnowledgeAggregate,
    /// Its history, oldest first.
    pub history: Vec<KnowledgeEvent>,
    /// The state now (未生效 and 已过期 derived from the dates).
    pub state: KnowledgeState,
    /// The codes of the actions the person may take now (`edit`, `submit`, `approve`, `reject`,
    /// `withdraw`, `mark_helpful`); closing an order with the entry is done on the order.
    pub available_actions: Vec<&'static str>,
}

/// What a knowledge list asks for.
#[derive(Debug, Clone)]
pub struct KnowledgeQuery {
    /// Words to search for; every one must occur, or, when that finds nothing, any one.
    pub q: Option<String>,
    /// This category and below.
    pub category_id: Option<i64>,
    /// The state as people name it; live (已发布) when absent.
    pub state: Option<KnowledgeState>,
    /// Entries of this source unit only.
    pub source_unit_id: Option<i64>,
    pub page: PageRequest,
}

impl Default for KnowledgeQuery {
    /// Live entries, the first page of [`PAGE_SIZE`].
    fn default() -> Self {
        Self {
            q: None,
            category_id: None,
            state: None,
            source_unit_id: None,
            page: PageRequest {
                limit: PAGE_SIZE,
                offset: 0,
            },
        }
    }
}

/// One page of a knowledge list.
#[derive(Debug, Clone)]
pub struct KnowledgeResults {
    pub page: KnowledgePage,
    /// The words searched for, to highlight.
    pub query_words: Vec<String>,
    /// Whether no entry held every word and the list shows entries holding any of them.
    pub any_word: bool,
}

/// An entry suggested for an order being registered, with why.
#[derive(Debug, Clone)]
pub struct KnowledgeSuggestion {
    pub item: KnowledgeListItem,
    /// Higher is better; for ordering only.
    pub score: f64,
    /// Why, in Chinese (`命中：停水、阀门`, `同一分类`, `临时知识` …).
    pub reasons: Vec<String>,
}

/// The text of a Markdown body without its markup, for excerpts and previews.
#[must_use]
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::Heading(_))
                if !out.ends_with(' ') && !out.is_empty() =>
            {
                out.push(' ');
            }
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// The domain's refusal, with an entry out of reach said as `not_found` about an entry.
fn knowledge_error(err: DomainError) -> AppError {
    match err {
        DomainError::OutOfScope => not_found(),
        other => AppError::Domain(other),
    }
}

fn not_found() -> AppError {
    AppError::NotFound { what: "知识" }
}

/// Which entries `actor` may list (see `knowledge::can_read`).
#[must_use]
pub fn knowledge_scope(actor: &Actor) -> KnowledgeScope {
    if actor.has_role(Role::KnowledgeEditor) {
        KnowledgeScope::All
    } else if knowledge::can_submit_knowledge(actor) {
        KnowledgeScope::LiveOrUnit {
            unit_id: actor.unit.id,
        }
    } else {
        KnowledgeScope::Live
    }
}

impl App {
    /// The actor's unit and the units an input names, for the domain's checks.
    async fn knowledge_units(&self, actor: &Actor, ids: &[i64]) -> AppResult<UnitDirectory> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut directory = UnitDirectory::new(self.store.units_by_ids(&ids).await?);
        directory.insert(actor.unit.clone());
        Ok(directory)
    }

    /// Refuses a category that does not exist or is disabled.
    async fn check_knowledge_category(&self, category_id: i64) -> AppResult<()> {
        match self.store.find_category(category_id).await? {
            Some(category) if category.active => Ok(()),
            _ => Err(AppError::invalid("category_id", "问题分类不存在或已停用")),
        }
    }

    /// An entry the actor may read, or `not_found` (whether it does not exist or is out of
    /// reach: existence is not leaked).
    async fn readable_knowledge(&self, actor: &Actor, id: i64) -> AppResult<KnowledgeAggregate> {
        let aggregate = self.store.find_knowledge(id).await?.ok_or_else(not_found)?;
        if knowledge::can_read(actor, &aggregate.entry, self.now()) {
            Ok(aggregate)
        } else {
            Err(not_found())
        }
    }

    /// 新建: a draft entry with its first version (knowledge editors for any unit, handling
    /// units for their own).
    pub async fn create_knowledge(
        &self,
        actor: &Actor,
        input: &KnowledgeInput,
    ) -> AppResult<KnowledgeAggregate> {
        let units = self.knowledge_units(actor, &[input.source_unit_id]).await?;
        let ctx = KnowledgeContext {
            now: self.now(),
            actor,
            units: &units,
        };
        let transition = knowledge::create(&ctx, input).map_err(knowledge_error)?;
        self.check_knowledge_category(input.category_id).await?;
        Ok(self.store.create_knowledge(&transition).await?)
    }

    /// Applies a knowledge action to entry `id`. `expected_revision`, when given, must be the
    /// entry's current revision (`version_conflict` otherwise); either way two racing changes
    /// cannot both win. The counters (标记有用, 引用办结) never conflict.
    pub async fn act_on_knowledge(
        &self,
        actor: &Actor,
        id: i64,
        action: &KnowledgeAction,
        expected_revision: Option<i64>,
    ) -> AppResult<KnowledgeAggregate> {
        let aggregate = self.readable_knowledge(actor, id).await?;
        let counter = matches!(
            action,
            KnowledgeAction::MarkHelpful | KnowledgeAction::RecordUse { .. }
        );
        if !counter
            && let Some(expected) = expected_revision
            && expected != aggregate.entry.revision
        {
            return Err(AppError::Conflict);
        }
        let named: Vec<i64> = match action {
            KnowledgeAction::Edit(input) => vec![input.source_unit_id],
            _ => Vec::new(),
        };
        let units = self.knowledge_units(actor, &named).await?;
        let ctx = KnowledgeContext {
            now: self.now(),
            actor,
            units: &units,
        };
        let transition = knowledge::apply(&ctx, &aggregate, action).map_err(knowledge_error)?;
        if let KnowledgeAction::Edit(input) = action {
            self.check_knowledge_category(input.category_id).await?;
        }
        if counter {
            let used = i64::from(matches!(action, KnowledgeAction::RecordUse { .. }));
            self.count_knowledge(&transition, used, 1 - used).await?;
            return self.readable_knowledge(actor, id).await;
        }
        Ok(self
            .store
            .save_knowledge(aggregate.entry.revision, &transition)
            .await?)
    }

    /// Adds to an entry's counters (the transition of `record_use` or `mark_helpful`).
    async fn count_knowledge(
        &self,
        transition: &KnowledgeTransition,
        used: i64,
        helpful: i64,
    ) -> AppResult<KnowledgeEntry> {
        self.store
            .add_knowledge_counts(&transition.event, used, helpful)
            .await
            .map_err(|err| match err {
                // Withdrawn meanwhile.
                crate::storage::StoreError::Conflict => {
                    AppError::invalid("knowledge_entry_id", "该知识已撤回或不在有效期内")
                }
                other => other.into(),
            })
    }

    /// One entry with its versions, its history and the actions the actor may take now. Those
    /// who may edit the entry (editors, its unit) get every version; other readers only the
    /// versions that were published, not drafts or versions in review.
    pub async fn get_knowledge(&self, actor: &Actor, id: i64) -> AppResult<KnowledgeDetail> {
        let mut aggregate = self.readable_knowledge(actor, id).await?;
        let history = self.store.knowledge_history(id).await?;
        let now = self.now();
        let units = self.knowledge_units(actor, &[]).await?;
        let ctx = KnowledgeContext {
            now,
            actor,
            units: &units,
        };
        let available_actions = knowledge::available_knowledge_actions(&ctx, &aggregate)
            .into_iter()
            .filter(|code| *code != "record_use")
            .collect();
        if !knowledge::can_edit_entry(actor, &aggregate.entry) {
            aggregate.versions.retain(|v| {
                matches!(
                    v.state,
                    KnowledgeState::Published | KnowledgeState::Superseded
                )
            });
        }
        Ok(KnowledgeDetail {
            state: knowledge::effective_state(&aggregate.entry, now),
            aggregate,
            history,
            available_actions,
        })
    }

    /// The search terms of `q`, or `invalid_field` on `q` when nothing in it is searchable.
    fn knowledge_terms(q: Option<&str>) -> AppResult<Option<SearchQuery>> {
        match q.map(str::trim) {
            None | Some("") => Ok(None),
            Some(q) => SearchQuery::parse(segmenter(), q)
                .map(Some)
                .ok_or_else(|| AppError::invalid("q", "检索词中没有可检索的词")),
        }
    }

    /// One page of the entries the actor may read, by the query: live temporary entries first,
    /// then the best matches (or the most recently changed). Every word must occur; when no
    /// entry holds them all, entries holding any of them are listed (`any_word`). Words match
    /// published content only.
    pub async fn search_knowledge(
        &self,
        actor: &Actor,
        query: &KnowledgeQuery,
    ) -> AppResult<KnowledgeResults> {
        let mut filter = KnowledgeFilter::live(self.now());
        filter.scope = knowledge_scope(actor);
        filter.state = query
            .state
            .map_or(KnowledgeStateFilter::Live, KnowledgeStateFilter::of);
        filter.source_unit_id = query.source_unit_id;
        self.run_knowledge_search(filter, query).await
    }

    /// What citizens may be shown (the portal): live public entries only.
    pub async fn citizen_knowledge(
        &self,
        q: Option<&str>,
        page: PageRequest,
    ) -> AppResult<KnowledgeResults> {
        let mut filter = KnowledgeFilter::live(self.now());
        filter.visibility = Some(KnowledgeVisibility::Public);
        let query = KnowledgeQuery {
            q: q.map(str::to_owned),
            page,
            ..KnowledgeQuery::default()
        };
        self.run_knowledge_search(filter, &query).await
    }

    async fn run_knowledge_search(
        &self,
        mut filter: KnowledgeFilter,
        query: &KnowledgeQuery,
    ) -> AppResult<KnowledgeResults> {
        if let Some(id) = query.category_id {
            let category = self
                .store
                .find_category(id)
                .await?
                .ok_or_else(|| AppError::invalid("category_id", "问题分类不存在"))?;
            filter.category_path = Some(category.path);
        }
        let terms = Self::knowledge_terms(query.q.as_deref())?;
        let query_words = terms.as_ref().map(SearchQuery::words).unwrap_or_default();
        let several = terms.as_ref().is_some_and(|t| t.terms.len() > 1);
        filter.text = terms.map(|query| KnowledgeText { query, any: false });
        let mut page = self.store.list_knowledge(&filter, &query.page).await?;
        let mut any_word = false;
        if page.total == 0
            && several
            && let Some(text) = &mut filter.text
        {
            text.any = true;
            page = self.store.list_knowledge(&filter, &query.page).await?;
            any_word = true;
        }
        Ok(KnowledgeResults {
            page,
            query_words,
            any_word,
        })
    }

    /// The entries whose latest version waits for review (待审核), oldest change first is not
    /// kept: newest first, as the list orders. Knowledge editors see all; a unit its own.
    pub async fn knowledge_review_queue(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> AppResult<KnowledgeResults> {
        self.search_knowledge(
            actor,
            &KnowledgeQuery {
                state: Some(KnowledgeState::InReview),
                page,
                ..KnowledgeQuery::default()
            },
        )
        .await
    }

    /// The best live entries (at most [`SUGGESTIONS`]) for an order being registered: those
    /// sharing its words (title words first) and those of its category, its ancestors and its
    /// descendants, combined (see `Candidates::score`): a live temporary entry about the matter
    /// first, then a text match and the same category weigh most, much used entries a little
    /// more.
    pub async fn suggest_for_order(
        &self,
        _actor: &Actor,
        category_id: Option<i64>,
        title: &str,
        content: &str,
    ) -> AppResult<Vec<KnowledgeSuggestion>> {
        let now = self.now();
        let seg = segmenter();
        let mut words: Vec<String> = Vec::new();
        for word in seg
            .content_words(title)
            .into_iter()
            .chain(seg.content_words(content))
        {
            if word.chars().count() >= 2 && !words.contains(&word) {
                words.push(word);
            }
            if words.len() >= SUGGESTION_WORDS {
                break;
            }
        }
        let category = match category_id {
            Some(id) => self.store.find_category(id).await?,
            None => None,
        };
        let page = PageRequest {
            limit: SUGGESTION_CANDIDATES,
            offset: 0,
        };
        let mut by_text = Vec::new();
        if !words.is_empty() {
            let mut filter = KnowledgeFilter::live(now);
            filter.text = Some(KnowledgeText {
                query: SearchQuery {
                    terms: words
                        .iter()
                        .map(|w| QueryTerm {
                            text: w.clone(),
                            prefix: false,
                        })
                        .collect(),
                },
                any: true,
            });
            by_text = self.store.list_knowledge(&filter, &page).await?.items;
        }
        let mut by_category = Vec::new();
        if let Some(category) = &category {
            let mut filter = KnowledgeFilter::live(now);
            filter.category_path = Some(category.path.clone());
            filter.category_ids = category.chain();
            by_category = self.store.list_knowledge(&filter, &page).await?.items;
        }
        let candidates = Candidates {
            words: &words,
            related: by_category.iter().map(|i| i.entry.id).collect(),
            chain: category.as_ref().map(|c| c.chain()).unwrap_or_default(),
            best: by_text
                .iter()
                .filter_map(|i| i.relevance)
                .fold(0.0_f64, f64::max),
        };
        let mut scored: HashMap<i64, KnowledgeSuggestion> = HashMap::new();
        for item in by_text.into_iter().chain(by_category) {
            scored
                .entry(item.entry.id)
                .or_insert_with(|| candidates.score(item));
        }
        let mut suggestions: Vec<KnowledgeSuggestion> = scored.into_values().collect();
        suggestions.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| b.item.entry.used_count.cmp(&a.item.entry.used_count))
                .then_with(|| a.item.entry.id.cmp(&b.item.entry.id))
        });
        suggestions.truncate(SUGGESTIONS);
        Ok(suggestions)
    }

    /// Cuts the published entries' words again (after the dictionary gained place names, or to
    /// repair the index); returns how many entries were indexed.
    pub async fn reindex_knowledge(&self) -> AppResult<u64> {
        Ok(self.store.reindex_knowledge().await?)
    }

    /// For an order about to be closed directly with a knowledge entry (直接办结, `close_direct`
    /// with `knowledge_entry_id`): the use to record, once the order's transition is stored. An
    /// unknown entry, one the actor may not read or one not live now is refused on the field
    /// `knowledge_entry_id`. Any other action needs nothing.
    pub(crate) async fn knowledge_use_for(
        &self,
        actor: &Actor,
        action: &Action,
        order_id: i64,
    ) -> AppResult<Option<KnowledgeTransition>> {
        let Action::CloseDirect(close) = action else {
            return Ok(None);
        };
        let Some(entry_id) = close.knowledge_entry_id else {
            return Ok(None);
        };
        let refused = || {
            AppError::invalid(
                "knowledge_entry_id",
                format!("知识{entry_id}不存在、未发布或不在有效期内，不能据此直接办结"),
            )
        };
        let aggregate = self
            .store
            .find_knowledge(entry_id)
            .await?
            .ok_or_else(refused)?;
        let units = self.knowledge_units(actor, &[]).await?;
        let ctx = KnowledgeContext {
            now: self.now(),
            actor,
            units: &units,
        };
        knowledge::record_use(&ctx, &aggregate, order_id)
            .map(Some)
            .map_err(|_| refused())
    }

    /// Counts the use of an entry an order was closed with (after the order's transition was
    /// stored). A failure — the entry withdrawn in the instant between — is logged: the order
    /// is closed either way.
    pub(crate) async fn record_knowledge_use(&self, used: &KnowledgeTransition) {
        if let Err(err) = self.count_knowledge(used, 1, 0).await {
            tracing::warn!(entry = used.entry.id, error = %err, "knowledge use not counted");
        }
    }
}

/// What a suggestion's candidates are judged by.
struct Candidates<'a> {
    /// The order's words, title words first.
    words: &'a [String],
    /// The candidates in the order's category, its ancestors or its descendants.
    related: Vec<i64>,
    /// The order's category and its ancestors, the category first.
    chain: Vec<i64>,
    /// The best text relevance among the candidates.
    best: f64,
}

impl Candidates<'_> {
    /// Scores one candidate: the text (its relevance against the best, and how many of the
    /// order's words it holds, in its title or keywords counting double), the category (the
    /// same 0.35, below it 0.25, above it 0.15), a live temporary entry about the matter first
    /// (+1: a current incident is what the caller most likely asks about), much use a little.
    fn score(&self, item: KnowledgeListItem) -> KnowledgeSuggestion {
        let content = &item.entry.content;
        let in_heading: Vec<&str> = self
            .words
            .iter()
            .map(String::as_str)
            .filter(|w| content.title.contains(w) || content.keywords.iter().any(|k| k.contains(w)))
            .collect();
        let in_body: Vec<&str> = self
            .words
            .iter()
            .map(String::as_str)
            .filter(|w| !in_heading.contains(w) && content.body.contains(w))
            .collect();
        #[allow(clippy::cast_precision_loss)] // a handful of words
        let coverage = if self.words.is_empty() {
            0.0
        } else {
            ((2 * in_heading.len() + in_body.len()) as f64 / self.words.len() as f64).min(1.0)
        };
        let relevance = match item.relevance {
            Some(r) if self.best > 0.0 => (r / self.best).clamp(0.0, 1.0),
            Some(_) => 1.0,
            None => 0.0,
        };
        let mut score = 0.3 * relevance + 0.3 * coverage;
        let mut reasons = Vec::new();
        if !in_heading.is_empty() {
            reasons.push(format!("命中：{}", join_some(&in_heading)));
        } else if !in_body.is_empty() {
            reasons.push(format!("正文提及：{}", join_some(&in_body)));
        }
        let mut close_category = false;
        if self.related.contains(&item.entry.id) {
            let (boost, reason) = if self.chain.first() == Some(&content.category_id) {
                close_category = true;
                (0.35, "同一分类")
            } else if self.chain.contains(&content.category_id) {
                (0.15, "上级分类")
            } else {
                close_category = true;
                (0.25, "下级分类")
            };
            score += boost;
            reasons.push(reason.to_owned());
        }
        if content.temporary {
            score += if close_category || !in_heading.is_empty() {
                1.0
            } else {
                0.1
            };
            reasons.push("临时知识".to_owned());
        }
        #[allow(clippy::cast_precision_loss)] // a count, far below 2^52
        let used = item.entry.used_count.max(0) as f64;
        score += 0.05 * (used.ln_1p() / 100_f64.ln_1p()).min(1.0);
        KnowledgeSuggestion {
            item,
            score,
            reasons,
        }
    }
}

/// At most three words, joined with 、.
fn join_some(words: &[&str]) -> String {
    words.iter().take(3).copied().collect::<Vec<_>>().join("、")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_to_plain_text() {
        let text = plain_text(
            "**责任划分**\n\n- 水表之前：水务集团负责\n- 水表之后：业主自行维修\n\n请拨打`12345`<b>即可</b>。",
        );
        assert_eq!(
            text,
            "责任划分 水表之前：水务集团负责 水表之后：业主自行维修 请拨打12345即可。"
        );
    }
}
