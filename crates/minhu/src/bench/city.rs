//! What the bench learns from the server before the load: who signs in as whom, the category
//! tree, the places of the city, the units the dispatch catalogue suggests, order numbers to read
//! and open orders to probe for repeats. Everything comes through the API, so the bench runs
//! against any server holding the demo city (`minhu demo`, `minhu gen`).

use std::collections::BTreeMap;

use anyhow::{Context as _, anyhow, bail};
use minhu_domain::{Role, UnitKind};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Deserialize;
use tokio::task::JoinSet;

use super::client::{Api, CallError, Session};
use crate::demo::demo_accounts;
use crate::demo::texts::Place;

/// The page size used to collect order numbers.
const SAMPLE_PAGE: u32 = 100;
/// The deepest page the samples are drawn from. The list pages by offset, so a page far down a
/// long list costs the server a scan of every row above it: after the tenth round's `create`
/// runs had left 1.9 million orders registered at ten million, the `mixed` set-up's request for
/// page 14,346 of the open orders timed out. 1,000 pages still spread the samples over 100,000
/// orders.
const SAMPLE_DEPTH_PAGES: i64 = 1_000;

/// How many open orders are read to probe for repeats.
const PROBES: usize = 40;

/// A unit as `GET /api/v1/admin/units` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct UnitRow {
    pub id: i64,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    pub active: bool,
}

/// A category as `GET /api/v1/admin/categories` lists it.
#[derive(Debug, Clone, Deserialize)]
struct CategoryRow {
    id: i64,
    code: String,
    name: String,
    parent_id: Option<i64>,
    active: bool,
}

/// A leaf category, where orders are registered.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// A community with its street and district: where a matter happens.
#[derive(Debug, Clone)]
pub struct Area {
    pub district_id: i64,
    pub street_id: i64,
    pub community_id: i64,
    /// The names, for the texts.
    pub place: Place,
}

/// An existing open order to probe `GET /api/v1/orders/similar` with.
#[derive(Debug, Clone)]
pub struct Probe {
    pub title: String,
    pub content: String,
    pub category_id: i64,
    pub district_id: Option<i64>,
    pub street_id: Option<i64>,
    pub community_id: Option<i64>,
}

/// A unit handler that can lead the handling of orders, with the categories the catalogue sends
/// to its unit.
#[derive(Debug, Clone)]
pub struct Handler {
    pub session: Session,
    /// Leaves whose catalogue suggestion is this unit (may be empty: then any leaf).
    pub leaves: Vec<Leaf>,
}

/// Everything the scenarios need.
#[derive(Debug, Clone)]
pub struct City {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Orders in the database when the run started (as the centre sees them).
    pub orders: i64,
    pub agents: Vec<Session>,
    pub dispatcher: Session,
    pub supervisor: Option<Session>,
    pub visitor: Option<Session>,
    /// Handlers of bureaus and companies, who lead orders through the lifecycle.
    pub leads: Vec<Handler>,
    /// Unit staff (bureaus, companies, streets, district sub-centres) whose queues are viewed.
    pub unit_staff: Vec<Session>,
    pub leaves: Vec<Leaf>,
    pub areas: Vec<Area>,
    /// Short place names (street and community names without their suffix) to search for.
    pub place_words: Vec<String>,
    /// Order numbers to read.
    pub numbers: Vec<String>,
    /// Open orders to probe for repeats.
    pub probes: Vec<Probe>,
}

/// What a scenario needs prepared.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// Supervisor, visitor and lead handlers with their catalogue categories.
    pub lifecycle: bool,
    /// Unit staff sessions for queue views.
    pub queues: bool,
    /// Order numbers to read.
    pub numbers: bool,
    /// Open orders to probe.
    pub probes: bool,
}

#[derive(Debug, Deserialize)]
struct Ready {
    backend: String,
}

#[derive(Debug, Deserialize)]
struct ListPage {
    items: Vec<ListItem>,
    total: i64,
}

#[derive(Debug, Deserialize)]
struct ListItem {
    number: String,
}

#[derive(Debug, Deserialize)]
struct SuggestedUnit {
    id: i64,
}

#[derive(Debug, Deserialize)]
struct OrderDetail {
    title: String,
    content: String,
    category_id: i64,
    location: DetailLocation,
}

#[derive(Debug, Deserialize)]
struct DetailLocation {
    district_id: Option<i64>,
    street_id: Option<i64>,
    community_id: Option<i64>,
}

/// The demo accounts holding exactly `role` (and no other), in the demo's order.
fn accounts_with(role: Role) -> Vec<String> {
    demo_accounts()
        .into_iter()
        .filter(|(_, _, roles)| roles.contains(&role))
        .map(|(username, _, _)| username)
        .collect()
}

/// Signs every account in, `parallel` at a time (a sign-in costs an argon2 hash on the server).
async fn login_all(
    api: &Api,
    password: &str,
    usernames: Vec<String>,
) -> anyhow::Result<Vec<Session>> {
    let mut sessions = Vec::with_capacity(usernames.len());
    for chunk in usernames.chunks(4) {
        let mut set = JoinSet::new();
        for (i, username) in chunk.iter().enumerate() {
            let (api, password, username) = (api.clone(), password.to_owned(), username.clone());
            set.spawn(async move { (i, api.login(&username, &password).await) });
        }
        let mut done: Vec<(usize, Session)> = Vec::with_capacity(chunk.len());
        while let Some(joined) = set.join_next().await {
            let (i, session) = joined.context("a sign-in task failed")?;
            done.push((i, session?));
        }
        done.sort_by_key(|(i, _)| *i);
        sessions.extend(done.into_iter().map(|(_, s)| s));
    }
    Ok(sessions)
}

/// A name without the suffix that says what it is (`湖滨街道` → `湖滨`), when 2–4 characters stay.
fn short_name(name: &str) -> Option<String> {
    let stem = ["街道", "社区", "镇", "乡", "村"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name);
    (2..=4)
        .contains(&stem.chars().count())
        .then(|| stem.to_owned())
}

impl City {
    /// Reads the city from the server at `api`, signing in with the demo `password`; `clients`
    /// bounds how many unit accounts are signed in.
    pub async fn load(
        api: &Api,
        password: &str,
        clients: usize,
        needs: Needs,
    ) -> anyhow::Result<Self> {
        let ready: Ready = api
            .get_json_anonymous("/readyz")
            .await
            .map_err(|e| match e {
                CallError::Transport(message) => anyhow!(
                    "cannot reach a minhu server at {} (is `minhu serve` running there?): {message}",
                    api.base()
                ),
                other => anyhow!("the minhu server at {} is not ready: {other}", api.base()),
            })?;
        let dispatcher = api
            .login(
                accounts_with(Role::Dispatcher)
                    .first()
                    .map_or("dispatcher1", String::as_str),
                password,
            )
            .await?;
        let agents = login_all(api, password, accounts_with(Role::Agent)).await?;
        if agents.is_empty() {
            bail!("the demo has no agent accounts");
        }
        let token = dispatcher.token.as_str();
        let first: ListPage = api
            .get_json("/api/v1/orders?per_page=1", token)
            .await
            .map_err(|e| anyhow!("cannot count the orders: {e}"))?;
        let units: Vec<UnitRow> = api
            .get_json("/api/v1/admin/units", token)
            .await
            .map_err(|e| anyhow!("cannot list the units: {e}"))?;
        let categories: Vec<CategoryRow> = api
            .get_json("/api/v1/admin/categories", token)
            .await
            .map_err(|e| anyhow!("cannot list the categories: {e}"))?;
        let leaves = leaves(&categories);
        if leaves.is_empty() {
            bail!("the server has no categories: is it a demo city (minhu demo / minhu gen)?");
        }
        let (areas, place_words) = areas(&units);
        if areas.is_empty() {
            bail!("the server has no communities: is it a demo city (minhu demo / minhu gen)?");
        }
        let mut city = City {
            backend: ready.backend,
            orders: first.total,
            agents,
            dispatcher,
            supervisor: None,
            visitor: None,
            leads: Vec::new(),
            unit_staff: Vec::new(),
            leaves,
            areas,
            place_words,
            numbers: Vec::new(),
            probes: Vec::new(),
        };
        if needs.lifecycle {
            city.load_lifecycle(api, password, clients, &units).await?;
        }
        if needs.queues {
            let mut staff = accounts_with(Role::UnitHandler);
            staff.truncate(clients.max(1));
            city.unit_staff = login_all(api, password, staff).await?;
        }
        if needs.numbers {
            city.numbers = city.sample_numbers(api, "", 10).await?;
            if city.numbers.is_empty() {
                bail!("the server holds no orders to read: fill it with minhu gen first");
            }
        }
        if needs.probes {
            city.probes = city.load_probes(api).await?;
        }
        Ok(city)
    }

    /// Supervisor, visitor, and a lead handler per client (bureaus and companies, up to all of
    /// them) with the leaves the catalogue suggests for their units.
    async fn load_lifecycle(
        &mut self,
        api: &Api,
        password: &str,
        clients: usize,
        units: &[UnitRow],
    ) -> anyhow::Result<()> {
        let first = |role| accounts_with(role).into_iter().next();
        let supervisor = first(Role::Supervisor).ok_or_else(|| anyhow!("no demo supervisor"))?;
        let visitor = first(Role::Visitor).ok_or_else(|| anyhow!("no demo visitor"))?;
        self.supervisor = Some(api.login(&supervisor, password).await?);
        self.visitor = Some(api.login(&visitor, password).await?);

        // Which leaves the catalogue sends to which unit.
        let suggestions = self.suggested_units(api).await?;
        let mut leaves_of: BTreeMap<i64, Vec<Leaf>> = BTreeMap::new();
        for (leaf, unit_id) in self.leaves.iter().zip(suggestions) {
            if let Some(unit_id) = unit_id {
                leaves_of.entry(unit_id).or_default().push(leaf.clone());
            }
        }
        // The handlers of bureaus and companies (`unit_<key>1`, handling only), signed in a few
        // at a time until every client has one.
        let kinds: BTreeMap<i64, UnitKind> = units.iter().map(|u| (u.id, u.kind)).collect();
        let candidates: Vec<String> = demo_accounts()
            .into_iter()
            .filter(|(username, _, roles)| {
                username.starts_with("unit_") && roles.as_slice() == [Role::UnitHandler]
            })
            .map(|(username, _, _)| username)
            .collect();
        let wanted = clients.clamp(1, candidates.len().max(1));
        let mut leads = Vec::new();
        for chunk in candidates.chunks(4) {
            if leads.len() >= wanted {
                break;
            }
            for session in login_all(api, password, chunk.to_vec()).await? {
                if matches!(
                    kinds.get(&session.unit_id),
                    Some(UnitKind::Bureau | UnitKind::Enterprise | UnitKind::Other)
                ) {
                    let leaves = leaves_of.get(&session.unit_id).cloned().unwrap_or_default();
                    leads.push(Handler { session, leaves });
                }
            }
        }
        if leads.is_empty() {
            bail!("the demo has no handler accounts in bureaus or companies");
        }
        leads.truncate(wanted);
        self.leads = leads;
        Ok(())
    }

    /// The unit the dispatch catalogue suggests first for each leaf, in the order of the leaves.
    async fn suggested_units(&self, api: &Api) -> anyhow::Result<Vec<Option<i64>>> {
        let mut units = vec![None; self.leaves.len()];
        let indexed: Vec<(usize, i64)> = self.leaves.iter().map(|l| l.id).enumerate().collect();
        for chunk in indexed.chunks(8) {
            let mut set = JoinSet::new();
            for &(i, category_id) in chunk {
                let (api, token) = (api.clone(), self.dispatcher.token.clone());
                set.spawn(async move {
                    let path = format!("/api/v1/dispatch/suggestions?category_id={category_id}");
                    (i, api.get_json::<Vec<SuggestedUnit>>(&path, &token).await)
                });
            }
            while let Some(joined) = set.join_next().await {
                let (i, suggested) = joined.context("a setup task failed")?;
                let suggested =
                    suggested.map_err(|e| anyhow!("cannot read the dispatch suggestions: {e}"))?;
                if let Some(slot) = units.get_mut(i) {
                    *slot = suggested.first().map(|u| u.id);
                }
            }
        }
        Ok(units)
    }

    /// Order numbers from up to `pages` pages spread over the list down to
    /// [`SAMPLE_DEPTH_PAGES`] (`filter` is extra query text such as `&state=in_progress`),
    /// shuffled.
    async fn sample_numbers(
        &self,
        api: &Api,
        filter: &str,
        pages: i64,
    ) -> anyhow::Result<Vec<String>> {
        let token = &self.dispatcher.token;
        let first: ListPage = api
            .get_json(&format!("/api/v1/orders?per_page=1{filter}"), token)
            .await
            .map_err(|e| anyhow!("cannot list the orders: {e}"))?;
        let last_page = ((first.total + i64::from(SAMPLE_PAGE) - 1) / i64::from(SAMPLE_PAGE))
            .min(SAMPLE_DEPTH_PAGES);
        let mut numbers = Vec::new();
        let mut seen_pages = Vec::new();
        for i in 0..pages.min(last_page) {
            let page = 1 + i * last_page / pages.min(last_page).max(1);
            if seen_pages.contains(&page) {
                continue;
            }
            seen_pages.push(page);
            let list: ListPage = api
                .get_json(
                    &format!("/api/v1/orders?per_page={SAMPLE_PAGE}&page={page}{filter}"),
                    token,
                )
                .await
                .map_err(|e| anyhow!("cannot list the orders: {e}"))?;
            numbers.extend(list.items.into_iter().map(|item| item.number));
        }
        numbers.shuffle(&mut StdRng::seed_from_u64(7));
        Ok(numbers)
    }

    /// Up to [`PROBES`] open orders with their texts and places.
    async fn load_probes(&self, api: &Api) -> anyhow::Result<Vec<Probe>> {
        let mut numbers = self
            .sample_numbers(api, "&state=registered,dispatched,in_progress", 3)
            .await?;
        if numbers.is_empty() {
            numbers = self.sample_numbers(api, "", 3).await?;
        }
        numbers.truncate(PROBES);
        let mut probes = Vec::with_capacity(numbers.len());
        for chunk in numbers.chunks(8) {
            let mut set = JoinSet::new();
            for number in chunk {
                let (api, token) = (api.clone(), self.dispatcher.token.clone());
                let path = format!("/api/v1/orders/{number}");
                set.spawn(async move { api.get_json::<OrderDetail>(&path, &token).await });
            }
            while let Some(joined) = set.join_next().await {
                let detail = joined
                    .context("a setup task failed")?
                    .map_err(|e| anyhow!("cannot read an order to probe: {e}"))?;
                probes.push(Probe {
                    title: detail.title,
                    content: detail.content,
                    category_id: detail.category_id,
                    district_id: detail.location.district_id,
                    street_id: detail.location.street_id,
                    community_id: detail.location.community_id,
                });
            }
        }
        if probes.is_empty() {
            bail!("the server holds no orders to probe for repeats: fill it with minhu gen first");
        }
        Ok(probes)
    }
}

/// The active leaves of the category tree.
fn leaves(categories: &[CategoryRow]) -> Vec<Leaf> {
    categories
        .iter()
        .filter(|c| c.active && !categories.iter().any(|o| o.parent_id == Some(c.id)))
        .map(|c| Leaf {
            id: c.id,
            code: c.code.clone(),
            name: c.name.clone(),
        })
        .collect()
}

/// Every active community with its street and district, and the short place names.
fn areas(units: &[UnitRow]) -> (Vec<Area>, Vec<String>) {
    let by_id: BTreeMap<i64, &UnitRow> = units.iter().map(|u| (u.id, u)).collect();
    let mut areas = Vec::new();
    let mut words = Vec::new();
    for community in units
        .iter()
        .filter(|u| u.active && u.kind == UnitKind::Community)
    {
        let Some(street) = community.parent_id.and_then(|id| by_id.get(&id)) else {
            continue;
        };
        let Some(district) = street.parent_id.and_then(|id| by_id.get(&id)) else {
            continue;
        };
        if street.kind != UnitKind::Street || district.kind != UnitKind::DistrictCentre {
            continue;
        }
        areas.push(Area {
            district_id: district.id,
            street_id: street.id,
            community_id: community.id,
            place: Place {
                district: district.name.trim_end_matches("分中心").to_owned(),
                street: street.name.clone(),
                community: community.name.clone(),
            },
        });
        for name in [&street.name, &community.name] {
            if let Some(word) = short_name(name)
                && !words.contains(&word)
            {
                words.push(word);
            }
        }
    }
    (areas, words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_names_lose_their_suffix() {
        assert_eq!(short_name("湖滨街道").as_deref(), Some("湖滨"));
        assert_eq!(short_name("工人村社区").as_deref(), Some("工人村"));
        assert_eq!(short_name("马家庄村").as_deref(), Some("马家庄"));
        assert_eq!(short_name("村"), None);
    }

    #[test]
    fn the_demo_has_the_roles_the_bench_signs_in_as() {
        for role in [
            Role::Agent,
            Role::Dispatcher,
            Role::Supervisor,
            Role::Visitor,
            Role::UnitHandler,
        ] {
            assert!(!accounts_with(role).is_empty(), "{role:?}");
        }
    }
}
