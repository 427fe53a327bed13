//! The simulated people: each client task plays one person (or, in `mixed`, one desk that does a
//! bit of everything) and sends one request after the other on its own connection.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use minhu_domain::OrderType;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

use super::Scenario;
use super::city::{City, Handler, Leaf, Probe};
use super::client::{Api, CallError, OrderRef, Session};
use super::stats::{Recorder, Window};
use super::words::{KNOWLEDGE_WORDS, ORDER_WORDS, VARIATIONS};
use crate::demo::texts;

/// How many orders one client walks through the lifecycle at a time (interleaved, so that the
/// server sees every step on many orders at once).
const PIPELINE: usize = 4;

/// A pause after a request that got no answer at all, so that a dead server is not hammered.
const TRANSPORT_PAUSE: Duration = Duration::from_millis(50);

/// What one request of `mixed` is, with its weight: a day at a hotline is mostly reading —
/// order details, the units' work queues, searches — with intake (a registration comes with a
/// look at similar orders and the knowledge base) and the lifecycle's steps in between.
const MIX: &[(Work, u32)] = &[
    (Work::Read, 30),
    (Work::Queue, 25),
    (Work::Search, 15),
    (Work::Knowledge, 8),
    (Work::Similar, 7),
    (Work::Create, 7),
    (Work::Lifecycle, 8),
];

/// The tabs of a unit's inbox the bench opens: 待签收, 办理中, 即将超期, 已超期 (the unit's
/// queues of `/api/v1/queues/{queue}`, 50 a page, as the web inbox shows them).
const QUEUE_TABS: &[&str] = &["sign", "handling", "yellow", "red"];

/// One kind of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    Create,
    Lifecycle,
    Read,
    Queue,
    Search,
    Knowledge,
    Similar,
}

impl Work {
    fn of(scenario: Scenario) -> Option<Self> {
        Some(match scenario {
            Scenario::Create => Self::Create,
            Scenario::Lifecycle => Self::Lifecycle,
            Scenario::Read => Self::Read,
            Scenario::Queue => Self::Queue,
            Scenario::Search => Self::Search,
            Scenario::Knowledge => Self::Knowledge,
            Scenario::Similar => Self::Similar,
            Scenario::Mixed => return None,
        })
    }
}

/// The next step of an order being walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Dispatch,
    Sign,
    Reply,
    Review,
    Visit,
}

/// An order on its way: its number and version, the next step, and the unit's reply to give.
#[derive(Debug, Clone)]
struct Walk {
    order: OrderRef,
    next: Step,
    reply: String,
}

/// One simulated person with their own connection.
pub struct Client {
    index: usize,
    api: Api,
    city: Arc<City>,
    window: Window,
    rng: StdRng,
    pipeline: VecDeque<Walk>,
    counter: usize,
    /// What was measured.
    pub recorder: Recorder,
}

impl Client {
    /// Client number `index` of the run.
    pub fn new(
        index: usize,
        api: Api,
        city: Arc<City>,
        window: Window,
        seed: u64,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            index,
            api,
            city,
            window,
            rng: StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(index as u64)),
            pipeline: VecDeque::new(),
            counter: index,
            recorder: Recorder::new()?,
        })
    }

    /// Sends requests until the window closes.
    pub async fn run(mut self, scenario: Scenario) -> Recorder {
        while !self.window.is_over() {
            let work = match Work::of(scenario) {
                Some(work) => work,
                None => self.pick_mixed(),
            };
            self.work(work).await;
        }
        self.recorder
    }

    fn pick_mixed(&mut self) -> Work {
        MIX.choose_weighted(&mut self.rng, |(_, weight)| *weight)
            .map_or(Work::Read, |(work, _)| *work)
    }

    async fn work(&mut self, work: Work) {
        self.counter = self.counter.wrapping_add(1);
        match work {
            Work::Create => self.create().await,
            Work::Lifecycle => self.lifecycle_step().await,
            Work::Read => self.read().await,
            Work::Queue => self.queue().await,
            Work::Search => self.search().await,
            Work::Knowledge => self.knowledge().await,
            Work::Similar => self.similar().await,
        }
    }

    /// Records a request's outcome; pauses after a request that got no answer.
    async fn note<T>(
        &mut self,
        kind: &'static str,
        started: Instant,
        result: Result<T, CallError>,
    ) -> Option<T> {
        let finished = Instant::now();
        match result {
            Ok(value) => {
                self.recorder
                    .record(&self.window, kind, started, finished, None);
                Some(value)
            }
            Err(err) => {
                let transport = err.is_transport();
                self.recorder
                    .record(&self.window, kind, started, finished, Some(err.to_string()));
                if transport {
                    tokio::time::sleep(TRANSPORT_PAUSE).await;
                }
                None
            }
        }
    }

    fn agent(&self) -> &Session {
        &self.city.agents[self.index % self.city.agents.len()]
    }

    fn lead(&self) -> Option<&Handler> {
        let leads = &self.city.leads;
        (!leads.is_empty()).then(|| &leads[self.index % leads.len()])
    }

    /// A registration body in `leaf`, somewhere in the city, in the demo's words; with the
    /// unit's reply to give later.
    fn order_body(&mut self, leaf: &Leaf, to_dispatch: bool) -> (Value, String) {
        let rng = &mut self.rng;
        let area = self.city.areas.choose(rng).cloned();
        let Some(area) = area else {
            return (Value::Null, String::new());
        };
        let channel = texts::channel(rng);
        let elderly = rng.random_bool(0.1);
        let story = texts::compose(rng, &leaf.code, &leaf.name, &area.place, channel, elderly);
        let confidential = rng.random_bool(0.02);
        let citizen = texts::caller(rng, elderly, confidential);
        let order_type = match story.order_type {
            // A consultation is answered at once, not dispatched.
            OrderType::Consultation if to_dispatch => OrderType::Help,
            other => other,
        };
        let body = json!({
            "channel": channel,
            "citizen": citizen,
            "order_type": order_type,
            "category_id": leaf.id,
            "title": story.title,
            "content": story.content,
            "urgency": texts::urgency(rng, &leaf.code),
            "location": {
                "district_id": area.district_id,
                "street_id": area.street_id,
                "community_id": area.community_id,
                "address": story.address,
            }
        });
        (body, story.reply)
    }

    /// `create`: an agent registers an order in any leaf.
    async fn create(&mut self) {
        let leaf = self.city.leaves.choose(&mut self.rng).cloned();
        let Some(leaf) = leaf else { return };
        self.register(&leaf, false, "create").await;
    }

    /// An agent registers an order in `leaf`, noted as `kind`; returns it with the reply its
    /// story would get.
    async fn register(
        &mut self,
        leaf: &Leaf,
        to_dispatch: bool,
        kind: &'static str,
    ) -> (Option<OrderRef>, String) {
        let (body, reply) = self.order_body(leaf, to_dispatch);
        let token = self.agent().token.clone();
        let started = Instant::now();
        let result = self
            .api
            .post_json::<OrderRef>("/api/v1/orders", &token, &body)
            .await;
        (self.note(kind, started, result).await, reply)
    }

    /// `lifecycle`: registers a new order while fewer than [`PIPELINE`] are on their way, else
    /// takes the next step of the oldest one, each as the demo account whose role takes it.
    async fn lifecycle_step(&mut self) {
        let Some(lead) = self.lead().cloned() else {
            return;
        };
        if self.pipeline.len() < PIPELINE {
            let leaf = lead
                .leaves
                .choose(&mut self.rng)
                .or_else(|| self.city.leaves.choose(&mut self.rng))
                .cloned();
            let Some(leaf) = leaf else { return };
            let (order, reply) = self.register(&leaf, true, "register").await;
            if let Some(order) = order {
                self.pipeline.push_back(Walk {
                    order,
                    next: Step::Dispatch,
                    reply,
                });
            }
            return;
        }
        let Some(walk) = self.pipeline.pop_front() else {
            return;
        };
        let version = walk.order.version;
        let city = Arc::clone(&self.city);
        let (kind, session, body, then) = match walk.next {
            Step::Dispatch => (
                "dispatch",
                Some(&city.dispatcher),
                json!({"lead_unit_id": lead.session.unit_id, "note": "请按时限办理并及时反馈", "version": version}),
                Some(Step::Sign),
            ),
            Step::Sign => (
                "sign",
                Some(&lead.session),
                json!({"version": version}),
                Some(Step::Reply),
            ),
            Step::Reply => (
                "reply",
                Some(&lead.session),
                json!({"text": walk.reply.clone(), "version": version}),
                Some(Step::Review),
            ),
            Step::Review => (
                "review",
                city.supervisor.as_ref(),
                json!({"pass": true, "version": version}),
                Some(Step::Visit),
            ),
            Step::Visit => (
                "visit",
                city.visitor.as_ref(),
                json!({"solved": "solved", "satisfaction": "satisfied", "version": version}),
                None,
            ),
        };
        let Some(session) = session else { return };
        let path = format!("/api/v1/orders/{}/{kind}", walk.order.number);
        let started = Instant::now();
        let result = self
            .api
            .post_json::<OrderRef>(&path, &session.token, &body)
            .await;
        // A failed step leaves the order where it is; it is dropped from the walk.
        if let Some(order) = self.note(kind, started, result).await
            && let Some(next) = then
        {
            self.pipeline.push_back(Walk {
                order,
                next,
                reply: walk.reply,
            });
        }
    }

    /// `read`: an agent opens an order (detail with assignments and history).
    async fn read(&mut self) {
        let number = self.city.numbers.choose(&mut self.rng).cloned();
        let Some(number) = number else { return };
        let token = self.agent().token.clone();
        let started = Instant::now();
        let result = self
            .api
            .get(&format!("/api/v1/orders/{number}"), &token)
            .await;
        self.note("read", started, result).await;
    }

    /// `queue`: a unit's staff opens one tab of their inbox (first page, 50 orders).
    async fn queue(&mut self) {
        let staff = &self.city.unit_staff;
        if staff.is_empty() {
            return;
        }
        let session = staff[self.index % staff.len()].clone();
        let tab = QUEUE_TABS[self.counter % QUEUE_TABS.len()];
        let path = format!("/api/v1/queues/{tab}");
        let started = Instant::now();
        let result = self.api.get(&path, &session.token).await;
        self.note("queue", started, result).await;
    }

    /// `search`: the centre's dispatcher searches the orders for a matter, a place, or both.
    async fn search(&mut self) {
        let matter = ORDER_WORDS[self.counter % ORDER_WORDS.len()];
        let place = self.city.place_words.choose(&mut self.rng).cloned();
        let q = match (self.counter % 4, place) {
            (0, Some(place)) => place,
            (1, Some(place)) => format!("{place} {matter}"),
            _ => matter.to_owned(),
        };
        let path = format!("/api/v1/orders?{}", query(&[("q", &q)]));
        let token = self.city.dispatcher.token.clone();
        let started = Instant::now();
        let result = self.api.get(&path, &token).await;
        self.note("search", started, result).await;
    }

    /// `knowledge`: an agent searches the knowledge base during a call.
    async fn knowledge(&mut self) {
        let word = KNOWLEDGE_WORDS[self.counter % KNOWLEDGE_WORDS.len()];
        let path = format!("/api/v1/knowledge?{}", query(&[("q", word)]));
        let token = self.agent().token.clone();
        let started = Instant::now();
        let result = self.api.get(&path, &token).await;
        self.note("knowledge", started, result).await;
    }

    /// `similar`: an agent registering a call asks for similar open orders (重复件): the text of
    /// an existing order, told a little differently, with its category and place.
    async fn similar(&mut self) {
        let probe = self.city.probes.choose(&mut self.rng).cloned();
        let Some(probe) = probe else { return };
        let (title, content) = vary(&mut self.rng, &probe);
        let mut pairs: Vec<(&str, String)> = vec![
            ("title", title),
            ("content", content),
            ("category_id", probe.category_id.to_string()),
        ];
        for (key, id) in [
            ("district_id", probe.district_id),
            ("street_id", probe.street_id),
            ("community_id", probe.community_id),
        ] {
            if let Some(id) = id {
                pairs.push((key, id.to_string()));
            }
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let path = format!("/api/v1/orders/similar?{}", query(&pairs));
        let token = self.agent().token.clone();
        let started = Instant::now();
        let result = self.api.get(&path, &token).await;
        self.note("similar", started, result).await;
    }
}

/// A query string, form-encoded (Chinese, spaces, `+` and `&` in texts included).
fn query(pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

/// The same matter told again: the title kept or shortened, part of the content left out and a
/// phrase of a repeat caller added.
fn vary(rng: &mut StdRng, probe: &Probe) -> (String, String) {
    let title: Vec<char> = probe.title.chars().collect();
    let title = if title.len() > 6 && rng.random_bool(0.5) {
        title[..title.len() - 2].iter().collect()
    } else {
        probe.title.clone()
    };
    let chars: Vec<char> = probe.content.chars().collect();
    let mut content: String = if chars.len() > 20 {
        let cut = rng.random_range(chars.len() * 2 / 3..chars.len());
        chars[..cut].iter().collect()
    } else {
        probe.content.clone()
    };
    content.push_str(VARIATIONS.choose(rng).copied().unwrap_or_default());
    (title, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            query(&[("q", "路灯 a+b&c")]),
            "q=%E8%B7%AF%E7%81%AF+a%2Bb%26c"
        );
    }

    #[test]
    fn a_repeat_is_told_a_little_differently() {
        let probe = Probe {
            title: "幸福里小区路灯不亮".to_owned(),
            content: "来电人反映：幸福里小区3号楼前的路灯已经坏了一个多星期，晚上出行很不方便。"
                .to_owned(),
            category_id: 1,
            district_id: Some(2),
            street_id: None,
            community_id: None,
        };
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..20 {
            let (title, content) = vary(&mut rng, &probe);
            assert!(probe.title.starts_with(&title), "{title}");
            assert!(content.starts_with("来电人反映：幸福里小区"), "{content}");
            assert_ne!(content, probe.content);
        }
    }

    #[test]
    fn the_mix_adds_up_to_one_hundred() {
        assert_eq!(MIX.iter().map(|(_, w)| w).sum::<u32>(), 100);
    }
}
