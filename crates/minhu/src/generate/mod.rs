//! `minhu gen`: fills the demo city with a realistic order history, fast.
//!
//! The days are planned first ([`rhythm`]: weekly and seasonal volumes, storms); then worker
//! threads each take a run of consecutive days, compose the orders' words ([`texts`]), live
//! each order through the domain's pure lifecycle functions ([`flow`]) and cut its search
//! document; the main task writes the finished rows in bulk ([`Store::bulk_insert_orders`]).
//! A load larger than the city it goes into leaves the order tables' non-unique indexes out
//! while it writes and builds them at its end ([`Store::defer_order_indexes`]).
//! Ids and numbers are fixed before the work is shared out, and each run of days has its own
//! random generator seeded from the seed and the run's index, so the same seed on the same
//! database gives the same orders whatever the threads do.

mod flow;
pub mod knowledge;
pub mod rhythm;
mod texts;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use futures::StreamExt as _;
use minhu_domain::policy::resolve_limits;
use minhu_domain::{
    Actor, Calendar, CallerTag, Channel, Limits, Location, NewOrder, Order, OrderType, PolicyRule,
    Role, UnitDirectory, UnitInfo, UnitKind, Urgency,
};
use minhu_text::TermMemo;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};

use self::flow::{Cast, Life, Outcome, Run};
use self::rhythm::{Day, TOP_WEIGHTS};
use crate::demo::texts::{self as demo_texts, Place};
use crate::service::App;
use crate::storage::search::order_document;
use crate::storage::{CatalogueEntry, GeneratedBatch, GeneratedOrder};

/// Orders per run of days handed to one worker. Small runs keep the writer and the workers busy
/// at the same time: 4,000 gave 6,500 orders/s with 103% CPU on 2 cores, 2,000 gives 9,900 with
/// 161% (1,000 is no better).
const CHUNK_ORDERS: u64 = 2_000;
/// At most this many orders per write: the runs that are ready when the writer is free go into
/// one transaction, so that the indexes' pages and the full-text index are written out once for
/// several runs rather than once for each.
const WRITE_ORDERS: usize = 16_000;
/// Clauses each generator thread remembers the terms of, in each of two generations
/// ([`TermMemo`]): a city's stories, replies and places make some hundred thousand distinct
/// clauses a million orders. Measured: the memos of two threads raised the load's peak memory
/// by about 200 MiB (some 1 KB a clause with its terms).
const MEMO_CLAUSES: usize = 50_000;
/// Assignment ids reserved per order (an order gets at most a few assignments).
const ASSIGNMENT_IDS_PER_ORDER: i64 = 8;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub orders: u64,
    pub seed: u64,
    /// Years of history, ending now.
    pub years: u32,
    /// The end of the history.
    pub now: DateTime<Utc>,
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct GenReport {
    pub orders: u64,
    pub history_lines: u64,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    /// Indexes dropped for the load and built at its end (0 if the city was larger).
    pub deferred_indexes: u64,
    /// The time it took to build them, part of the load's.
    pub index_build: std::time::Duration,
}

/// A leaf category with what drawing it needs.
struct Leaf {
    code: String,
    name: String,
    category_id: i64,
    chain: Vec<i64>,
    base_weight: f64,
    consultation: bool,
}

struct Street {
    unit: UnitInfo,
    communities: Vec<UnitInfo>,
}

struct District {
    unit: UnitInfo,
    streets: Vec<Street>,
}

/// The city and its people, as stored.
struct World {
    calendar: Calendar,
    tz: Tz,
    yellow_share: f64,
    now: DateTime<Utc>,
    directory: UnitDirectory,
    districts: Vec<District>,
    leaves: Vec<Leaf>,
    rules: Vec<PolicyRule>,
    catalogue: Vec<CatalogueEntry>,
    agents: Vec<Actor>,
    dispatcher: Actor,
    supervisor: Actor,
    visitor: Actor,
    handlers: HashMap<i64, Actor>,
    first_order_id: i64,
    first_assignment_id: i64,
}

/// One run of consecutive days for one worker.
struct Chunk {
    index: usize,
    seed: u64,
    /// Each day with the last number its sequence held before.
    days: Vec<(Day, i64)>,
    first_order_id: i64,
}

impl World {
    async fn load(app: &App, now: DateTime<Utc>) -> anyhow::Result<Self> {
        let store = &app.store;
        let units = store.list_units().await?;
        let mut districts: Vec<District> = units
            .iter()
            .filter(|u| u.kind == UnitKind::DistrictCentre && u.active)
            .map(|u| District {
                unit: u.clone(),
                streets: Vec::new(),
            })
            .collect();
        for district in &mut districts {
            for street in units
                .iter()
                .filter(|u| u.kind == UnitKind::Street && u.parent_id == Some(district.unit.id))
            {
                let communities: Vec<UnitInfo> = units
                    .iter()
                    .filter(|u| u.kind == UnitKind::Community && u.parent_id == Some(street.id))
                    .cloned()
                    .collect();
                if !communities.is_empty() {
                    district.streets.push(Street {
                        unit: street.clone(),
                        communities,
                    });
                }
            }
        }
        districts.retain(|d| !d.streets.is_empty());
        if districts.is_empty() {
            return Err(anyhow!(
                "no districts with streets and communities: seed the demo city first (minhu demo)"
            ));
        }
        let categories = store.list_categories().await?;
        let parents: std::collections::HashSet<i64> =
            categories.iter().filter_map(|c| c.parent_id).collect();
        let mut leaves: Vec<Leaf> = categories
            .iter()
            .filter(|c| c.active && !parents.contains(&c.id))
            .map(|c| {
                let consultation = demo_texts::template(&c.code)
                    .is_some_and(|t| t.types.first() == Some(&OrderType::Consultation));
                Leaf {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    category_id: c.id,
                    chain: c.chain(),
                    base_weight: 0.0,
                    consultation,
                }
            })
            .collect();
        leaves.sort_by(|a, b| a.code.cmp(&b.code));
        for i in 0..leaves.len() {
            let top: String = leaves
                .get(i)
                .map(|l| l.code.chars().take(2).collect())
                .unwrap_or_default();
            let siblings = leaves
                .iter()
                .filter(|l| l.code.starts_with(&top))
                .count()
                .max(1);
            let weight = TOP_WEIGHTS
                .iter()
                .find(|(code, _)| *code == top)
                .map_or(1.0, |(_, w)| *w);
            if let Some(leaf) = leaves.get_mut(i) {
                leaf.base_weight = weight / siblings as f64;
            }
        }
        if leaves.is_empty() {
            return Err(anyhow!(
                "no categories: seed the demo city first (minhu demo)"
            ));
        }
        let mut users = store.list_users().await?;
        users.sort_by_key(|u| u.id);
        let by_id: HashMap<i64, &UnitInfo> = units.iter().map(|u| (u.id, u)).collect();
        let actors: Vec<Actor> = users
            .iter()
            .filter(|u| u.active)
            .filter_map(|u| {
                by_id.get(&u.unit_id).map(|unit| Actor {
                    user_id: u.id,
                    username: u.username.clone(),
                    display_name: u.display_name.clone(),
                    roles: u.roles.clone(),
                    unit: (*unit).clone(),
                })
            })
            .collect();
        let centre_with = |role: Role| {
            actors
                .iter()
                .find(|a| a.is_centre_staff() && a.has_role(role))
                .cloned()
                .ok_or_else(|| anyhow!("no centre account with the role {}", role.as_str()))
        };
        let agents: Vec<Actor> = actors
            .iter()
            .filter(|a| a.is_centre_staff() && a.has_role(Role::Agent))
            .cloned()
            .collect();
        if agents.is_empty() {
            return Err(anyhow!(
                "no agent account: seed the demo city first (minhu demo)"
            ));
        }
        let mut handlers = HashMap::new();
        for actor in &actors {
            if !actor.is_centre_staff() && actor.has_role(Role::UnitHandler) {
                handlers
                    .entry(actor.unit.id)
                    .or_insert_with(|| actor.clone());
            }
        }
        let start = store.generator_start().await?;
        Ok(Self {
            calendar: app.calendar().await?,
            tz: app.config.tz()?,
            yellow_share: app.config.yellow_share,
            now,
            directory: UnitDirectory::new(units.iter().cloned()),
            districts,
            leaves,
            rules: store.list_policies().await?,
            catalogue: store.list_catalogue().await?,
            dispatcher: centre_with(Role::Dispatcher)?,
            supervisor: centre_with(Role::Supervisor)?,
            visitor: centre_with(Role::Visitor)?,
            agents,
            handlers,
            first_order_id: start.next_order_id,
            first_assignment_id: start.next_assignment_id,
        })
    }

    /// The lead unit the catalogue suggests for a leaf in a district that has a handler, else
    /// the district's sub-centre.
    fn lead_unit(&self, leaf: &Leaf, district: &UnitInfo) -> i64 {
        let mut ranked: Vec<(usize, u8, i64)> = self
            .catalogue
            .iter()
            .filter_map(|entry| {
                let depth = leaf.chain.iter().position(|c| *c == entry.category_id)?;
                let rank = match entry.district_id {
                    Some(d) if d == district.id => 0,
                    None => 1,
                    Some(_) => return None,
                };
                Some((depth, rank, entry.unit_id))
            })
            .collect();
        ranked.sort_unstable();
        ranked
            .into_iter()
            .map(|(_, _, unit)| unit)
            .find(|unit| self.handlers.contains_key(unit))
            .unwrap_or(district.id)
    }
}

/// Generates `options.orders` orders into the app's database; `progress` is told how many
/// orders each written batch held.
pub async fn generate(
    app: &App,
    options: &GenOptions,
    progress: impl Fn(u64),
) -> anyhow::Result<GenReport> {
    // Place names must be in the dictionary before the texts are cut.
    app.register_place_names().await?;
    let world = Arc::new(World::load(app, options.now).await?);
    let start = app.store.generator_start().await?;
    let last = world.calendar.local_date(options.now);
    let years = i32::try_from(options.years.max(1)).unwrap_or(1);
    let first = last
        .with_year(last.year() - years)
        .and_then(|d| d.succ_opt())
        .unwrap_or(last);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let days = rhythm::plan_days(&mut rng, first, last, options.orders);
    let sequences: HashMap<NaiveDate, i64> = start.sequences.iter().copied().collect();

    // Runs of whole days, each about CHUNK_ORDERS orders.
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut next_id = world.first_order_id;
    let mut current: Vec<(Day, i64)> = Vec::new();
    let mut current_orders = 0;
    let mut chunk_first_id = next_id;
    for day in days.iter().filter(|d| d.orders > 0) {
        current.push((*day, sequences.get(&day.date).copied().unwrap_or(0)));
        current_orders += day.orders;
        next_id += i64::try_from(day.orders).unwrap_or(0);
        if current_orders >= CHUNK_ORDERS {
            chunks.push(Chunk {
                index: chunks.len(),
                seed: 0,
                days: std::mem::take(&mut current),
                first_order_id: chunk_first_id,
            });
            chunk_first_id = next_id;
            current_orders = 0;
        }
    }
    if !current.is_empty() {
        chunks.push(Chunk {
            index: chunks.len(),
            seed: 0,
            days: current,
            first_order_id: chunk_first_id,
        });
    }
    for chunk in &mut chunks {
        chunk.seed = options
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(chunk.index as u64 + 1);
    }
    let total_chunks = chunks.len();

    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let queue = Arc::new(std::sync::Mutex::new(chunks.into_iter()));
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(usize, GeneratedBatch)>(threads * 4);
    let mut workers = Vec::with_capacity(threads);
    for _ in 0..threads {
        let queue = Arc::clone(&queue);
        let world = Arc::clone(&world);
        let sender = sender.clone();
        workers.push(std::thread::spawn(move || {
            let terms = TermMemo::new(minhu_text::segmenter(), MEMO_CLAUSES);
            loop {
                let next = match queue.lock() {
                    Ok(mut chunks) => chunks.next(),
                    Err(_) => None,
                };
                let Some(chunk) = next else { break };
                let batch = generate_chunk(&world, &chunk, &terms);
                if sender.blocking_send((chunk.index, batch)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(sender);

    let mut report = GenReport {
        first_day: days.first().map(|d| d.date),
        last_day: days.last().map(|d| d.date),
        ..GenReport::default()
    };
    // A load larger than the city builds the order tables' indexes once at its end: a sort
    // each, instead of an insert at a random place of each index per row.
    let existing_orders = start.next_order_id.saturating_sub(1);
    if existing_orders < i64::try_from(options.orders).unwrap_or(i64::MAX) {
        report.deferred_indexes = app.store.defer_order_indexes().await?;
    }
    let written = write_batches(app, &mut receiver, total_chunks, &mut report, progress).await;
    // Built again even if the load failed; what cannot be built now is built at the next start.
    let indexes_started = std::time::Instant::now();
    let restored = app.store.restore_deferred_indexes().await;
    report.index_build = indexes_started.elapsed();
    let next_index = written?;
    restored?;
    for worker in workers {
        if worker.join().is_err() {
            return Err(anyhow!("a generator thread panicked"));
        }
    }
    if next_index < total_chunks {
        return Err(anyhow!("the generator threads stopped early"));
    }
    Ok(report)
}

/// Writes the runs of days as they come, in order, several to a transaction, with up to
/// [`Store::bulk_writers`](crate::storage::Store::bulk_writers) transactions at a time; returns
/// how many runs were written.
///
/// A run is taken off the channel only while the next one to write is missing: while every
/// writer is busy and the next run is waiting, the channel fills and the generator threads wait.
/// (Draining it regardless, as a first try at two writers did, held a run in eight in memory for
/// good when the writers were the slower side: 3 KB per order.)
async fn write_batches(
    app: &App,
    receiver: &mut tokio::sync::mpsc::Receiver<(usize, GeneratedBatch)>,
    total_chunks: usize,
    report: &mut GenReport,
    progress: impl Fn(u64),
) -> anyhow::Result<usize> {
    let writers = app.store.bulk_writers().max(1);
    let mut waiting: BTreeMap<usize, GeneratedBatch> = BTreeMap::new();
    let mut writing = futures::stream::FuturesUnordered::new();
    let mut next_index = 0;
    let mut written = 0;
    loop {
        // The runs that are ready, in order, go into one transaction, while a writer is free.
        while writing.len() < writers && waiting.contains_key(&next_index) {
            let mut batch = GeneratedBatch::default();
            let mut runs = 0;
            while batch.orders.len() < WRITE_ORDERS
                && let Some(run) = waiting.remove(&next_index)
            {
                batch.orders.extend(run.orders);
                batch.sequences.extend(run.sequences);
                next_index += 1;
                runs += 1;
            }
            writing.push(write_batch(app, batch, runs));
        }
        if written == total_chunks || (writing.is_empty() && next_index == total_chunks) {
            break;
        }
        let receive = next_index < total_chunks && !waiting.contains_key(&next_index);
        tokio::select! {
            done = writing.next(), if !writing.is_empty() => {
                let Some(done) = done else { continue };
                written += tally(done?, report, &progress);
            }
            received = receiver.recv(), if receive => {
                let Some((index, batch)) = received else {
                    // The threads stopped early: finish what is being written, then stop.
                    while let Some(done) = writing.next().await {
                        written += tally(done?, report, &progress);
                    }
                    break;
                };
                waiting.insert(index, batch);
            }
            else => break,
        }
    }
    Ok(written)
}

/// Counts a written transaction's orders and history lines into the report and the progress;
/// returns its runs.
fn tally(
    (runs, orders, history_lines): (usize, u64, u64),
    report: &mut GenReport,
    progress: &impl Fn(u64),
) -> usize {
    report.orders += orders;
    report.history_lines += history_lines;
    progress(orders);
    runs
}

/// Writes one transaction of runs; returns the runs, the orders and the history lines in it.
async fn write_batch(
    app: &App,
    batch: GeneratedBatch,
    runs: usize,
) -> anyhow::Result<(usize, u64, u64)> {
    app.store
        .bulk_insert_orders(&batch)
        .await
        .context("writing generated orders")?;
    let history_lines = batch
        .orders
        .iter()
        .map(|o| o.events.len() as u64)
        .sum::<u64>();
    Ok((runs, batch.orders.len() as u64, history_lines))
}

/// Weights of the leaves for a month and weather.
fn leaf_weights(world: &World, month: u32, storm: bool) -> Vec<f64> {
    world
        .leaves
        .iter()
        .map(|l| l.base_weight * rhythm::season_factor(&l.code, month, storm))
        .collect()
}

/// A recent order other calls about the same matter can be merged into.
#[derive(Clone)]
struct Recent {
    order: Order,
    leaf: usize,
    place: (usize, usize, usize),
}

/// Generates every order of one run of days; `terms` cuts the search documents.
fn generate_chunk(world: &World, chunk: &Chunk, terms: &TermMemo<'_>) -> GeneratedBatch {
    let mut rng = StdRng::seed_from_u64(chunk.seed);
    let mut limits_cache: HashMap<(i64, OrderType, Urgency), Limits> = HashMap::new();
    let mut weights_cache: HashMap<(u32, bool), Vec<f64>> = HashMap::new();
    let mut phones: Vec<String> = Vec::new();
    let mut recent: Vec<Recent> = Vec::new();
    let mut batch = GeneratedBatch::default();
    let mut id = chunk.first_order_id;
    let district_weights: Vec<f64> = (0..world.districts.len())
        .map(|i| 1.5 - 0.12 * i as f64)
        .map(|w| w.max(0.4))
        .collect();
    for (day, last_seq) in &chunk.days {
        let month = day.date.month();
        let weights = weights_cache
            .entry((month, day.storm))
            .or_insert_with(|| leaf_weights(world, month, day.storm))
            .clone();
        let mut times: Vec<DateTime<Utc>> = (0..day.orders)
            .map(|_| local_time(world, &mut rng, day.date))
            .collect();
        times.sort_unstable();
        recent.clear();
        for (k, at) in times.iter().enumerate() {
            let seq = last_seq + k as i64 + 1;
            let number = format!("{}{seq:06}", day.date.format("%Y%m%d"));
            let first_assignment =
                world.first_assignment_id + (id - world.first_order_id) * ASSIGNMENT_IDS_PER_ORDER;
            let order = one_order(
                world,
                &mut rng,
                &weights,
                &district_weights,
                &mut limits_cache,
                &mut phones,
                &mut recent,
                (*day, *at),
                (id, number, first_assignment),
            );
            if let Some(life) = order {
                let replies: Vec<&str> = life
                    .aggregate
                    .assignments
                    .iter()
                    .filter_map(|a| a.reply.as_deref())
                    .collect();
                let search = order_document(terms, &life.aggregate.order, replies);
                batch.orders.push(GeneratedOrder {
                    aggregate: life.aggregate,
                    events: life.events,
                    search,
                });
            }
            id += 1;
        }
        batch
            .sequences
            .push((day.date, last_seq + day.orders as i64));
    }
    batch
}

/// A moment of `date` (local) at which a call comes, never after `now`.
fn local_time(world: &World, rng: &mut StdRng, date: NaiveDate) -> DateTime<Utc> {
    let second = rhythm::second_of_day(rng);
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    let local = midnight + Duration::seconds(i64::from(second));
    let at = world
        .tz
        .from_local_datetime(&local)
        .earliest()
        .map_or(world.now, |t| t.with_timezone(&Utc));
    if at < world.now {
        at
    } else {
        // Today: a moment of the hours gone by.
        let start = world
            .tz
            .from_local_datetime(&midnight)
            .earliest()
            .map_or(world.now, |t| t.with_timezone(&Utc));
        let span = (world.now - start).num_seconds().max(1);
        start + Duration::seconds(rng.random_range(0..span))
    }
}

/// Registers one order and lives it through; `None` if the domain refused the registration.
#[allow(clippy::too_many_arguments)]
fn one_order(
    world: &World,
    rng: &mut StdRng,
    weights: &[f64],
    district_weights: &[f64],
    limits_cache: &mut HashMap<(i64, OrderType, Urgency), Limits>,
    phones: &mut Vec<String>,
    recent: &mut Vec<Recent>,
    (day, at): (Day, DateTime<Utc>),
    (id, number, first_assignment): (i64, String, i64),
) -> Option<Life> {
    let roll = rng.random_range(0..1000);
    let mut outcome = match roll {
        0..15 => Outcome::Reject,
        15..25 => Outcome::Transfer,
        25..65 => Outcome::Merge,
        65..160 => Outcome::CloseDirect {
            visited: rng.random_bool(0.3),
        },
        _ => Outcome::Handle,
    };
    let parent = if outcome == Outcome::Merge {
        let p = recent.choose(rng).cloned();
        if p.is_none() {
            outcome = Outcome::Handle;
        }
        p
    } else {
        None
    };
    // Which matter, where.
    let (leaf_index, (d, s, c)) = match &parent {
        Some(p) => (p.leaf, p.place),
        None => {
            let leaf_index = if matches!(outcome, Outcome::CloseDirect { .. }) {
                let consult: Vec<usize> = (0..world.leaves.len())
                    .filter(|i| world.leaves.get(*i).is_some_and(|l| l.consultation))
                    .collect();
                consult
                    .choose_weighted(rng, |i| weights.get(*i).copied().unwrap_or(0.0))
                    .copied()
                    .unwrap_or(0)
            } else {
                let all: Vec<usize> = (0..world.leaves.len()).collect();
                all.choose_weighted(rng, |i| weights.get(*i).copied().unwrap_or(0.0))
                    .copied()
                    .unwrap_or(0)
            };
            let indices: Vec<usize> = (0..world.districts.len()).collect();
            let d = indices
                .choose_weighted(rng, |i| district_weights.get(*i).copied().unwrap_or(1.0))
                .copied()
                .unwrap_or(0);
            let streets = world.districts.get(d).map_or(1, |x| x.streets.len());
            let s = rng.random_range(0..streets.max(1));
            let communities = world
                .districts
                .get(d)
                .and_then(|x| x.streets.get(s))
                .map_or(1, |x| x.communities.len());
            (leaf_index, (d, s, rng.random_range(0..communities.max(1))))
        }
    };
    let leaf = world.leaves.get(leaf_index)?;
    let district = world.districts.get(d)?;
    let street = district.streets.get(s)?;
    let community = street.communities.get(c)?;
    let place = Place {
        district: district.unit.name.clone(),
        street: street.unit.name.clone(),
        community: community.name.clone(),
    };
    let channel = demo_texts::channel(rng);
    let elderly = rng.random_bool(0.08);
    let words = texts::compose(
        rng,
        &leaf.code,
        &leaf.name,
        &place,
        channel,
        elderly,
        day.storm,
        day.date.month(),
    );
    let special = flow::special_action(outcome, rng);
    let (title, content) = match &special {
        Some((_, title, body)) => (
            demo_texts::special(rng, title, &place),
            demo_texts::special(rng, body, &place),
        ),
        None => (words.title.clone(), words.content.clone()),
    };
    let mut order_type = words.story.order_type;
    if matches!(outcome, Outcome::CloseDirect { .. }) {
        order_type = OrderType::Consultation;
    }
    let confidential =
        matches!(order_type, OrderType::Report | OrderType::Complaint) && rng.random_bool(0.06);
    let mut citizen = demo_texts::caller(rng, elderly, confidential);
    if !phones.is_empty() && rng.random_bool(0.08) {
        if let Some(phone) = phones.choose(rng) {
            citizen.phone.clone_from(phone);
            citizen.tags.push(CallerTag::RepeatCaller);
        }
    } else if phones.len() < 5_000 {
        phones.push(citizen.phone.clone());
    }
    let mut tags = Vec::new();
    if rng.random_bool(0.05) {
        citizen.enterprise_name = Some(demo_texts::enterprise(rng));
        tags.push("营商环境".to_owned());
    }
    if day.storm && (leaf.code.starts_with("0102") || leaf.code.starts_with("0201")) {
        tags.push("汛期".to_owned());
    }
    let urgency = demo_texts::urgency(rng, &leaf.code);
    let located = matches!(channel, Channel::MobileApp | Channel::Open311);
    let new = NewOrder {
        channel,
        citizen,
        order_type,
        category_id: leaf.category_id,
        title,
        content,
        tags,
        urgency,
        location: Location {
            district_id: Some(district.unit.id),
            street_id: Some(street.unit.id),
            community_id: Some(community.id),
            address: words.address.clone(),
            longitude: located.then(|| 120.10 + rng.random_range(0.0..0.3)),
            latitude: located.then(|| 30.20 + rng.random_range(0.0..0.2)),
        },
    };
    let limits = *limits_cache
        .entry((leaf.category_id, order_type, urgency))
        .or_insert_with(|| resolve_limits(&world.rules, &leaf.chain, order_type, urgency));
    let run = Run {
        units: &world.directory,
        limits: &limits,
        calendar: &world.calendar,
        yellow_share: world.yellow_share,
        now: world.now,
    };
    let agent = world
        .agents
        .get(id.unsigned_abs() as usize % world.agents.len())?;
    let mut life = flow::register(&run, agent, new, at, id, number, first_assignment)?;
    let lead = world.lead_unit(leaf, &district.unit);
    let handler = world
        .handlers
        .get(&lead)
        .or_else(|| world.handlers.get(&district.unit.id))
        .unwrap_or(&world.dispatcher);
    let cast = Cast {
        agent,
        dispatcher: &world.dispatcher,
        supervisor: &world.supervisor,
        visitor: &world.visitor,
        handler,
    };
    match outcome {
        Outcome::Handle => {
            if recent.len() >= 64 {
                recent.remove(0);
            }
            recent.push(Recent {
                order: life.aggregate.order.clone(),
                leaf: leaf_index,
                place: (d, s, c),
            });
            let co = if lead != district.unit.id
                && world.handlers.contains_key(&district.unit.id)
                && rng.random_bool(0.05)
            {
                vec![district.unit.id]
            } else {
                Vec::new()
            };
            let old = world.now - at > Duration::days(30);
            let stall = (old && rng.random_bool(0.02)).then(|| rng.random_range(0..5));
            flow::handle(&mut life, &run, &cast, rng, lead, co, &words.reply, stall);
        }
        other => {
            let parent_order = parent.as_ref().map(|p| &p.order);
            let special_action = special.as_ref().map(|(a, _, _)| a);
            flow::end_at_intake(
                &mut life,
                &run,
                &cast,
                rng,
                other,
                &words.reply,
                parent_order,
                special_action,
            );
        }
    }
    Some(life)
}
