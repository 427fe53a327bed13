//! Search and repeats as use cases: the text filter of an order list (`?q=`), the place names
//! added to the dictionary, rebuilding the index, and the similar open orders shown while an
//! agent registers (重复件).

use std::collections::HashMap;

use chrono::Duration;
use minhu_domain::repeats::{self, RepeatEvidence, RepeatScore};
use minhu_domain::{Actor, OrderState};
use minhu_text::{SearchQuery, TextProfile, segmenter};

use super::orders::{CitizenVisibility, present_citizen};
use super::{App, AppResult};
use crate::storage::{OrderListItem, ReindexProgress, RepeatQuery, TextFilter};

/// How many candidates repeat detection compares at most (the newest in the street).
const CANDIDATE_LIMIT: i64 = 400;
/// How many similar orders the panel shows.
const SHOWN: usize = 8;
/// Candidates below this score are not shown at all.
const SHOWN_FROM: f64 = 0.3;

/// A request being registered, as far as repeat detection needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepeatProbe {
    pub title: String,
    pub content: String,
    pub category_id: Option<i64>,
    pub district_id: Option<i64>,
    pub street_id: Option<i64>,
    pub community_id: Option<i64>,
    pub phone: Option<String>,
    /// The order itself, once registered.
    pub exclude_order_id: Option<i64>,
}

/// An open order like the probe, with its score and the reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarOrder {
    /// The order, the citizen masked.
    pub item: OrderListItem,
    pub score: RepeatScore,
    /// At or above the configured threshold.
    pub likely_repeat: bool,
}

/// What the probe and a candidate share, from their places, categories and words.
pub fn evidence(
    probe: &RepeatProbe,
    probe_profile: &TextProfile,
    probe_parent_category: Option<i64>,
    candidate: &OrderListItem,
    candidate_profile: &TextProfile,
    candidate_parent_category: Option<i64>,
) -> RepeatEvidence {
    let o = &candidate.order;
    let same = |a: Option<i64>, b: Option<i64>| a.is_some() && a == b;
    let same_category = probe.category_id == Some(o.category_id);
    RepeatEvidence {
        text_similarity: probe_profile.similarity(candidate_profile),
        shared_words: probe_profile.shared_words(candidate_profile),
        same_community: same(probe.community_id, o.location.community_id),
        different_community: probe.community_id.is_some()
            && o.location.community_id.is_some()
            && probe.community_id != o.location.community_id,
        same_street: same(probe.street_id, o.location.street_id),
        same_category,
        sibling_category: !same_category && same(probe_parent_category, candidate_parent_category),
        same_caller: probe
            .phone
            .as_deref()
            .is_some_and(|p| !p.is_empty() && p == o.citizen.phone),
    }
}

impl App {
    /// The text filter for `q` as `actor` may search: `None` when `q` holds nothing searchable.
    /// Centre staff also search callers' names; units never do (they see them masked).
    pub fn text_filter(&self, actor: &Actor, q: &str) -> Option<TextFilter> {
        SearchQuery::parse(segmenter(), q).map(|query| TextFilter {
            query,
            include_caller: actor.sees_personal_data(),
        })
    }

    /// Adds the names of the unit tree (districts, streets, communities, bureaus) to the
    /// dictionary, with and without their suffix (`青石街道` and `青石`), so that they come out
    /// of segmentation whole. Returns how many words were new.
    pub async fn register_place_names(&self) -> AppResult<usize> {
        let units = self.store.list_units().await?;
        let mut words = Vec::with_capacity(units.len() * 2);
        for unit in &units {
            words.push(unit.name.clone());
            for suffix in [
                "街道办事处",
                "街道",
                "社区",
                "村委会",
                "居委会",
                "镇",
                "乡",
                "区",
                "县",
            ] {
                if let Some(stem) = unit.name.strip_suffix(suffix)
                    && stem.chars().count() >= 2
                {
                    words.push(stem.to_owned());
                    break;
                }
            }
        }
        Ok(segmenter().add_words(words.iter().map(String::as_str)))
    }

    /// Indexes orders without a search document (after an upgrade, or a deleted index), in
    /// batches of `batch`, calling `progress` after each. Returns how many were indexed.
    pub async fn index_missing_orders(
        &self,
        batch: i64,
        progress: impl FnMut(&ReindexProgress),
    ) -> AppResult<u64> {
        // Counting both is far cheaper than looking for the missing ones among a million.
        let (orders, indexed) = self.store.search_coverage().await?;
        if indexed >= orders {
            return Ok(0);
        }
        self.reindex_orders(true, batch, progress).await
    }

    /// Rebuilds every order's search document (after dictionary changes, or to repair), in
    /// batches of `batch`, calling `progress` after each. Returns how many were indexed.
    pub async fn reindex_orders(
        &self,
        only_missing: bool,
        batch: i64,
        mut progress: impl FnMut(&ReindexProgress),
    ) -> AppResult<u64> {
        let mut after = 0;
        let mut total = 0;
        loop {
            let step = self
                .store
                .reindex_orders(after, batch.max(1), only_missing)
                .await?;
            let Some(last) = step.last_id else { break };
            total += step.indexed;
            after = last;
            progress(&step);
        }
        Ok(total)
    }

    /// The id of order `number` if `actor` may see it (404 otherwise).
    pub async fn order_id_by_number(&self, actor: &Actor, number: &str) -> AppResult<Option<i64>> {
        Ok(Some(self.visible_order(actor, number).await?.order.id))
    }

    /// The open orders most like `probe` (same street — or district without one — within the
    /// configured window), best first, with why. Only centre staff register, so only they get
    /// an answer; others get an empty list.
    pub async fn similar_orders(
        &self,
        actor: &Actor,
        probe: &RepeatProbe,
    ) -> AppResult<Vec<SimilarOrder>> {
        if !actor.is_centre_staff() {
            return Ok(Vec::new());
        }
        let text = format!("{} {}", probe.title, probe.content);
        let probe_profile = TextProfile::of(segmenter(), &text);
        if probe_profile.is_empty() && probe.phone.is_none() {
            return Ok(Vec::new());
        }
        let window = Duration::days(i64::from(self.config.repeat_window_days));
        let query = RepeatQuery {
            street_id: probe.street_id,
            district_id: probe.district_id,
            since: self.now() - window,
            states: OrderState::ALL
                .iter()
                .copied()
                .filter(|s| !s.is_terminal())
                .collect(),
            exclude_order_id: probe.exclude_order_id,
            limit: CANDIDATE_LIMIT,
        };
        let (candidates, categories) = tokio::try_join!(
            self.store.repeat_candidates(&query),
            self.store.list_categories()
        )?;
        let parents: HashMap<i64, Option<i64>> =
            categories.iter().map(|c| (c.id, c.parent_id)).collect();
        let parent_of = |id: Option<i64>| id.and_then(|id| parents.get(&id).copied().flatten());
        let probe_parent = parent_of(probe.category_id);
        let threshold = self.config.repeat_threshold;
        let mut similar: Vec<SimilarOrder> = candidates
            .into_iter()
            .filter_map(|candidate| {
                let profile = TextProfile::from_words(
                    segmenter(),
                    candidate
                        .similarity_words
                        .split_whitespace()
                        .map(str::to_owned),
                );
                let found = evidence(
                    probe,
                    &probe_profile,
                    probe_parent,
                    &candidate.item,
                    &profile,
                    parent_of(Some(candidate.item.order.category_id)),
                );
                let score = repeats::score(&found);
                (score.score >= SHOWN_FROM).then(|| {
                    let mut item = candidate.item;
                    item.order.citizen =
                        present_citizen(&item.order.citizen, CitizenVisibility::Masked);
                    SimilarOrder {
                        likely_repeat: score.score >= threshold,
                        item,
                        score,
                    }
                })
            })
            .collect();
        similar.sort_by(|a, b| b.score.score.total_cmp(&a.score.score));
        similar.truncate(SHOWN);
        Ok(similar)
    }
}
