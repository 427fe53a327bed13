//! The reference data requests decide with — units, categories, time-limit policies and the
//! working calendar — kept in memory on each app node.
//!
//! Registering an order used to read the category, its policies, every calendar day and the
//! location's units: four statements before the order itself, each a trip to the database's
//! thread, and the calendar rebuilt from its rows every time. These tables change a few times a
//! year; orders come in by the hundred a second.
//!
//! **Staying right across app nodes.** The database keeps a generation number that triggers bump
//! in the same transaction as any change to those tables, whoever writes it (admin API, CLI, demo
//! seeder, another node; `migrations/*/0006_reference_generation.sql`). Every signed-in request
//! reads the generation in the same statement as its token ([`Store::find_token_holder`]) and
//! tells the cache ([`ReferenceCache::observe`]); a cache older than the newest generation any
//! request has seen is reloaded before use. So a request decides with reference data at least as
//! new as the database held when the request began — what it would see if it read the tables
//! itself. When no request has been seen for [`TRUST_OBSERVATION`] (the CLI, the generator, an
//! idle node), the cache asks the database for the generation before it answers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use minhu_domain::calendar::Calendar;
use minhu_domain::{PolicyRule, UnitInfo};

use super::{App, AppResult};
use crate::storage::Category;

/// How long a generation seen by a request vouches for the cache. Past it, the cache checks
/// the database itself before use.
pub const TRUST_OBSERVATION: Duration = Duration::from_secs(1);

/// One consistent load of the reference tables.
#[derive(Debug)]
pub struct ReferenceData {
    /// The generation read before the tables: the tables are at least this new.
    pub generation: i64,
    /// The working calendar with the configured time zone and working hours.
    pub calendar: Calendar,
    units: HashMap<i64, UnitInfo>,
    categories: HashMap<i64, Category>,
    /// Every policy rule, by id.
    policies: Vec<PolicyRule>,
}

impl ReferenceData {
    /// A unit by id.
    #[must_use]
    pub fn unit(&self, id: i64) -> Option<&UnitInfo> {
        self.units.get(&id)
    }

    /// The units of `ids` that exist, by id.
    #[must_use]
    pub fn units_by_ids(&self, ids: &[i64]) -> Vec<UnitInfo> {
        let mut units: Vec<UnitInfo> = ids
            .iter()
            .filter_map(|id| self.units.get(id).cloned())
            .collect();
        units.sort_unstable_by_key(|u| u.id);
        units.dedup_by_key(|u| u.id);
        units
    }

    /// A category by id.
    #[must_use]
    pub fn category(&self, id: i64) -> Option<&Category> {
        self.categories.get(&id)
    }

    /// The rules of the categories in `chain` and the global ones (no category), by id.
    #[must_use]
    pub fn policies_for(&self, chain: &[i64]) -> Vec<PolicyRule> {
        self.policies
            .iter()
            .filter(|rule| rule.category_id.is_none_or(|id| chain.contains(&id)))
            .cloned()
            .collect()
    }
}

/// The reference data of one app node and what it knows of the database's generation.
#[derive(Debug)]
pub struct ReferenceCache {
    current: RwLock<Option<Arc<ReferenceData>>>,
    /// The newest generation any request has read.
    newest_seen: AtomicI64,
    /// When a request last read it, in milliseconds since `started` (0: never).
    seen_at_ms: AtomicU64,
    started: Instant,
    /// One reload at a time; the others wait for it and use its result.
    reloading: tokio::sync::Mutex<()>,
}

impl Default for ReferenceCache {
    fn default() -> Self {
        Self {
            current: RwLock::new(None),
            newest_seen: AtomicI64::new(0),
            seen_at_ms: AtomicU64::new(0),
            started: Instant::now(),
            reloading: tokio::sync::Mutex::new(()),
        }
    }
}

impl ReferenceCache {
    /// A request read `generation` from the database.
    pub fn observe(&self, generation: i64) {
        self.newest_seen.fetch_max(generation, Ordering::AcqRel);
        self.seen_at_ms
            .store(self.elapsed_ms().max(1), Ordering::Release);
    }

    /// This node changed reference data: the next use reloads.
    pub fn forget(&self) {
        if let Ok(mut current) = self.current.write() {
            *current = None;
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether a request has read the generation lately enough to vouch for it.
    fn observation_is_recent(&self) -> bool {
        let seen = self.seen_at_ms.load(Ordering::Acquire);
        seen != 0
            && self.elapsed_ms().saturating_sub(seen)
                < u64::try_from(TRUST_OBSERVATION.as_millis()).unwrap_or(u64::MAX)
    }

    /// The held data if it is at least generation `newest`.
    fn held(&self, newest: i64) -> Option<Arc<ReferenceData>> {
        let current = self.current.read().ok()?;
        current
            .as_ref()
            .filter(|data| data.generation >= newest)
            .cloned()
    }
}

impl App {
    /// The reference data, reloaded first if the database holds a newer generation than the
    /// cache (see the module's documentation).
    pub async fn reference(&self) -> AppResult<Arc<ReferenceData>> {
        let cache = &self.reference;
        if cache.observation_is_recent()
            && let Some(data) = cache.held(cache.newest_seen.load(Ordering::Acquire))
        {
            return Ok(data);
        }
        let _one_at_a_time = cache.reloading.lock().await;
        let generation = self.store.reference_generation().await?;
        // Not an observation that vouches for later uses: only requests' sign-ins do that.
        cache.newest_seen.fetch_max(generation, Ordering::AcqRel);
        if let Some(data) = cache.held(generation) {
            return Ok(data);
        }
        let (units, categories, policies, days) = tokio::try_join!(
            self.store.list_units(),
            self.store.list_categories(),
            self.store.list_policies(),
            self.store.list_calendar_days(),
        )?;
        let mut policies = policies;
        policies.sort_unstable_by_key(|rule| rule.id);
        let data = Arc::new(ReferenceData {
            generation,
            calendar: Calendar::new(self.config.tz()?, days, self.config.working_periods()?),
            units: units.into_iter().map(|u| (u.id, u)).collect(),
            categories: categories.into_iter().map(|c| (c.id, c)).collect(),
            policies,
        });
        if let Ok(mut current) = cache.current.write() {
            *current = Some(Arc::clone(&data));
        }
        Ok(data)
    }
}
