//! The demo orders: about 300 matters registered and moved through the service by the demo
//! people, so that every history line is real. Each order follows a [`Path`] that says how far it
//! goes and which detours it takes (co-handling units, returns, extensions, urging, sub-centre
//! re-dispatch, failed reviews, redo, appeals).

use minhu_domain::action::{CloseDirect, Dispatch, Merge, Note, Reject, Sign, Transfer, Visit};
use minhu_domain::{
    Action, Actor, CallerTag, Channel, Location, NewOrder, OrderAggregate, OrderType, Satisfaction,
    Solved, UnitInfo,
};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{RngExt, SeedableRng};

use self::plan::{Path, WEIGHTS, plan};
use super::categories::Categories;
use super::texts::{self, Place, REJECTIONS, TRANSFERS};
use super::units::City;
use super::users::People;
use crate::service::{App, AppError, AppResult};

/// Places and words for one order.
struct Draft {
    district: usize,
    street: usize,
    community: usize,
    leaf: &'static str,
}

/// Seeds orders.
pub(super) struct Seeder<'a> {
    app: &'a App,
    rng: StdRng,
    city: &'a City,
    categories: &'a Categories,
    people: &'a People,
    turn: usize,
    phones: Vec<String>,
}

fn failed(what: &str, number: &str, actor: &Actor, err: &AppError) -> AppError {
    AppError::Internal(anyhow::anyhow!(
        "demo: {what} on {number} as {} failed: {err} ({})",
        actor.username,
        err.code()
    ))
}

impl<'a> Seeder<'a> {
    pub(super) fn new(
        app: &'a App,
        city: &'a City,
        categories: &'a Categories,
        people: &'a People,
    ) -> Self {
        Self {
            app,
            rng: StdRng::seed_from_u64(12345),
            city,
            categories,
            people,
            turn: 0,
            phones: Vec::new(),
        }
    }

    /// Registers and moves every planned order; returns how many were registered.
    pub(super) async fn seed(&mut self) -> AppResult<usize> {
        let mut count = self.merge_clusters().await?;
        let mut paths: Vec<Path> = plan()
            .into_iter()
            .flat_map(|(path, n)| std::iter::repeat_n(path, n))
            .collect();
        paths.shuffle(&mut self.rng);
        for path in paths {
            self.follow(path).await?;
            count += 1;
        }
        Ok(count)
    }

    async fn act(&self, actor: &Actor, number: &str, action: Action) -> AppResult<OrderAggregate> {
        let code = action.code();
        self.app
            .act_on_order(actor, number, action, None)
            .await
            .map_err(|e| failed(code, number, actor, &e))
    }

    fn agent(&mut self) -> Actor {
        self.turn += 1;
        let agents = &self.people.agents;
        agents
            .get(self.turn % agents.len().max(1))
            .cloned()
            .unwrap_or_else(|| self.people.dispatcher.clone())
    }

    /// A leaf in a weighted top-level category that satisfies `keep`.
    fn leaf(&mut self, keep: impl Fn(&str) -> bool) -> &'static str {
        let leaves: Vec<&'static str> = self
            .categories
            .leaves
            .iter()
            .copied()
            .filter(|l| keep(l))
            .collect();
        let top = WEIGHTS
            .choose_weighted(&mut self.rng, |(_, w)| *w)
            .map(|(code, _)| *code)
            .unwrap_or("05");
        let in_top: Vec<&'static str> = leaves
            .iter()
            .copied()
            .filter(|l| l.starts_with(top))
            .collect();
        let pool = if in_top.is_empty() { &leaves } else { &in_top };
        pool.choose(&mut self.rng).copied().unwrap_or("210101")
    }

    fn place(&mut self, district: Option<usize>) -> Draft {
        self.place_in(district, false)
    }

    /// A random place, in `district` if given, in its first street if `first_street`.
    fn place_in(&mut self, district: Option<usize>, first_street: bool) -> Draft {
        let d = district.unwrap_or_else(|| self.rng.random_range(0..self.city.districts.len()));
        let streets = self.city.districts.get(d).map_or(1, |x| x.streets.len());
        let s = if first_street {
            0
        } else {
            self.rng.random_range(0..streets.max(1))
        };
        let communities = self
            .city
            .districts
            .get(d)
            .and_then(|x| x.streets.get(s))
            .map_or(1, |x| x.communities.len());
        Draft {
            district: d,
            street: s,
            community: self.rng.random_range(0..communities.max(1)),
            leaf: "210101",
        }
    }

    /// The units of a draft's place.
    fn units(&self, draft: &Draft) -> AppResult<(&'a UnitInfo, &'a UnitInfo, &'a UnitInfo)> {
        let district = self
            .city
            .districts
            .get(draft.district)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo district missing")))?;
        let street = district
            .streets
            .get(draft.street)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo street missing")))?;
        let community = street
            .communities
            .get(draft.community)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo community missing")))?;
        Ok((&district.unit, &street.unit, community))
    }

    /// Registers an order with generated words; `words` overrides title and content.
    async fn register(
        &mut self,
        draft: &Draft,
        words: Option<(String, String)>,
        force_type: Option<OrderType>,
    ) -> AppResult<(OrderAggregate, String)> {
        let (district, street, community) = self.units(draft)?;
        let place = Place {
            district: district.name.clone(),
            street: street.name.clone(),
            community: community.name.clone(),
        };
        let channel = texts::channel(&mut self.rng);
        let elderly = self.rng.random_bool(0.08);
        let leaf_name = self.categories.name(draft.leaf);
        let story = texts::compose(
            &mut self.rng,
            draft.leaf,
            &leaf_name,
            &place,
            channel,
            elderly,
        );
        let order_type = force_type.unwrap_or(story.order_type);
        let confidential = matches!(order_type, OrderType::Report | OrderType::Complaint)
            && self.rng.random_bool(0.06);
        let mut citizen = texts::caller(&mut self.rng, elderly, confidential);
        if !self.phones.is_empty() && self.rng.random_bool(0.07) {
            if let Some(phone) = self.phones.choose(&mut self.rng) {
                citizen.phone.clone_from(phone);
                citizen.tags.push(CallerTag::RepeatCaller);
            }
        } else {
            self.phones.push(citizen.phone.clone());
        }
        let mut tags = Vec::new();
        if self.rng.random_bool(0.05) {
            citizen.enterprise_name = Some(texts::enterprise(&mut self.rng));
            tags.push("营商环境".to_owned());
        }
        if (draft.leaf.starts_with("05") || draft.leaf.starts_with("06"))
            && self.rng.random_bool(0.12)
        {
            tags.push("每月一题".to_owned());
        }
        let located = matches!(channel, Channel::MobileApp | Channel::Open311);
        let (title, content) = words.unwrap_or((story.title, story.content));
        let category_id = self.categories.get(draft.leaf)?.id;
        let new = NewOrder {
            channel,
            citizen,
            order_type,
            category_id,
            title,
            content,
            tags,
            urgency: texts::urgency(&mut self.rng, draft.leaf),
            location: Location {
                district_id: Some(district.id),
                street_id: Some(street.id),
                community_id: Some(community.id),
                address: story.address,
                longitude: located.then(|| 120.10 + self.rng.random_range(0.0..0.3)),
                latitude: located.then(|| 30.20 + self.rng.random_range(0.0..0.2)),
            },
        };
        let agent = self.agent();
        let created = self
            .app
            .register_order(&agent, new)
            .await
            .map_err(|e| failed("register", "(new)", &agent, &e))?;
        Ok((created, story.reply))
    }

    /// Several calls about one outage: the first is dispatched, the others merged into it.
    async fn merge_clusters(&mut self) -> AppResult<usize> {
        let mut count = 0;
        for (leaf, d) in [("010101", 0), ("020101", 3), ("040101", 2)] {
            let mut draft = self.place(Some(d));
            draft.leaf = leaf;
            let (parent, _) = self.register(&draft, None, Some(OrderType::Help)).await?;
            let number = parent.order.number.clone();
            let lead = self.lead_unit(&draft).await?;
            let dispatcher = self.people.dispatcher.clone();
            self.act(&dispatcher, &number, dispatch(lead.id, Vec::new()))
                .await?;
            if leaf != "040101" {
                let handler = self.people.handler(lead.id)?.clone();
                self.act(&handler, &number, Action::Sign(Sign::default()))
                    .await?;
            }
            count += 1;
            for _ in 0..3 {
                let (child, _) = self.register(&draft, None, Some(OrderType::Help)).await?;
                let agent = self.agent();
                self.act(
                    &agent,
                    &child.order.number,
                    Action::Merge(Merge {
                        parent_number: number.clone(),
                        note: Some("同一小区同一时段反映同一事项，并入主工单统一办理".to_owned()),
                    }),
                )
                .await?;
                count += 1;
            }
        }
        Ok(count)
    }

    async fn lead_unit(&self, draft: &Draft) -> AppResult<UnitInfo> {
        let (district, _, _) = self.units(draft)?;
        let category_id = self.categories.get(draft.leaf)?.id;
        let suggested = self
            .app
            .suggest_units(category_id, Some(district.id))
            .await?;
        Ok(suggested
            .into_iter()
            .find(|u| self.people.handlers.contains_key(&u.id))
            .unwrap_or_else(|| district.clone()))
    }

    /// Another unit with a handler: the district for a bureau's order, 城管 for a district's.
    fn other_unit(&self, draft: &Draft, not: i64) -> AppResult<UnitInfo> {
        let (district, _, _) = self.units(draft)?;
        if district.id != not {
            return Ok(district.clone());
        }
        Ok(self.city.agency("cg")?.clone())
    }

    async fn follow(&mut self, path: Path) -> AppResult<()> {
        match path {
            Path::Registered => {
                let mut draft = self.place(None);
                draft.leaf = self.leaf(|_| true);
                self.register(&draft, None, None).await?;
            }
            Path::ClosedDirect { visited } => self.close_direct(visited).await?,
            Path::Transferred => self.transfer().await?,
            Path::Rejected => self.reject().await?,
            Path::Units(route) => self.handle(route).await?,
        }
        Ok(())
    }

    async fn close_direct(&mut self, visited: bool) -> AppResult<()> {
        let mut draft = self.place(None);
        draft.leaf = self.leaf(|l| {
            texts::template(l).is_some_and(|t| t.types.first() == Some(&OrderType::Consultation))
        });
        let (order, answer) = self
            .register(&draft, None, Some(OrderType::Consultation))
            .await?;
        let agent = self.agent();
        // The agent answers from the knowledge base's best entry for the call, if any.
        let knowledge_entry_id = self
            .app
            .suggest_for_order(
                &agent,
                Some(order.order.category_id),
                &order.order.title,
                &order.order.content,
            )
            .await?
            .first()
            .map(|s| s.item.entry.id);
        let number = order.order.number;
        self.act(
            &agent,
            &number,
            Action::CloseDirect(CloseDirect {
                answer,
                knowledge_entry_id,
            }),
        )
        .await?;
        if visited {
            let visitor = self.people.visitor.clone();
            let satisfaction = if self.rng.random_bool(0.8) {
                Satisfaction::Satisfied
            } else {
                Satisfaction::BasicallySatisfied
            };
            self.act(
                &visitor,
                &number,
                Action::Visit(Visit {
                    solved: Solved::Solved,
                    satisfaction,
                    redo: false,
                    note: Some("市民表示已清楚了解相关政策".to_owned()),
                }),
            )
            .await?;
        }
        Ok(())
    }

    async fn transfer(&mut self) -> AppResult<()> {
        let mut draft = self.place(None);
        draft.leaf = "210101";
        let Some((line, title, content)) = TRANSFERS.choose(&mut self.rng).copied() else {
            return Ok(());
        };
        let place = self.place_names(&draft)?;
        let words = (
            texts::special(&mut self.rng, title, &place),
            format!(
                "来电人反映：{}",
                texts::special(&mut self.rng, content, &place)
            ),
        );
        let (order, _) = self
            .register(&draft, Some(words), Some(OrderType::Help))
            .await?;
        let agent = self.agent();
        self.act(
            &agent,
            &order.order.number,
            Action::Transfer(Transfer {
                line,
                note: Some(format!(
                    "属{}受理范围，已三方通话一键转接{}",
                    line.label(),
                    line.as_str()
                )),
            }),
        )
        .await?;
        Ok(())
    }

    async fn reject(&mut self) -> AppResult<()> {
        let mut draft = self.place(None);
        draft.leaf = "210101";
        let Some((channel, title, content, explanation)) =
            REJECTIONS.choose(&mut self.rng).copied()
        else {
            return Ok(());
        };
        let words = (title.to_owned(), format!("来电人反映：{content}"));
        let (order, _) = self
            .register(&draft, Some(words), Some(OrderType::Other))
            .await?;
        let agent = self.agent();
        self.act(
            &agent,
            &order.order.number,
            Action::Reject(Reject {
                legal_channel: channel,
                explanation: explanation.to_owned(),
            }),
        )
        .await?;
        Ok(())
    }

    fn place_names(&self, draft: &Draft) -> AppResult<Place> {
        let (d, s, c) = self.units(draft)?;
        Ok(Place {
            district: d.name.clone(),
            street: s.name.clone(),
            community: c.name.clone(),
        })
    }
}

fn dispatch(lead: i64, co: Vec<i64>) -> Action {
    Action::Dispatch(Dispatch {
        lead_unit_id: lead,
        co_unit_ids: co,
        note: Some("请按时限办理并及时反馈".to_owned()),
    })
}

fn note(text: &str) -> Note {
    Note {
        note: text.to_owned(),
    }
}

mod handling;
mod plan;
