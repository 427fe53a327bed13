//! `minhu gen --knowledge N`: a city-sized knowledge base grown from the demo's hand-written
//! entries ([`crate::demo::knowledge_data`]).
//!
//! A big centre's 知识库 holds thousands of entries, and most of them are local or dated forms
//! of a few hundred policies: the same 社保卡补办 answer with each street's service hall, a
//! water tariff as revised in a given year, the questions citizens actually ask about one
//! policy. Each generated entry takes one demo entry (never a temporary one: an incident does
//! not repeat) and makes one of those three forms of it, so searches meet the same words many
//! times over, as they do in a real base. Entries go through the service as the demo's
//! knowledge editor, so each has its versions, history and search document like a typed one;
//! most are published, some wait in review and some are still drafts. Deterministic for a seed.

use std::collections::HashMap;

use anyhow::{Context as _, anyhow};
use minhu_domain::knowledge::{KnowledgeAction, KnowledgeInput};
use minhu_domain::{UnitInfo, UnitKind};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};

use crate::demo::knowledge::EDITOR;
use crate::demo::knowledge_data::{DemoKnowledge, demo_knowledge};
use crate::service::App;

/// Where a generated entry stops on its way: most are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Draft,
    InReview,
    Published,
}

/// A street with its district, for local entries.
struct StreetPlace {
    district: String,
    street: String,
}

/// What one generated entry says (pure: no I/O), from its template and the random draw.
fn compose(
    template: &DemoKnowledge,
    places: &[StreetPlace],
    rng: &mut StdRng,
    serial: u64,
) -> (String, String, Vec<String>) {
    let mut keywords = template.keywords.clone();
    let form = rng.random_range(0..10);
    let (title, body) = if form < 5 {
        // The same policy with a street's own service hall.
        let place = places.choose(rng);
        let (district, street) =
            place.map_or(("", "本"), |p| (p.district.as_str(), p.street.as_str()));
        let number = rng.random_range(1..300);
        let phone = rng.random_range(10_000_000..99_999_999);
        let (open, close) = [("8:30", "17:00"), ("9:00", "17:30"), ("8:00", "16:30")]
            .choose(rng)
            .copied()
            .unwrap_or(("9:00", "17:00"));
        keywords.push(street.to_owned());
        (
            format!("{street}：{}", template.title),
            format!(
                "{}\n\n## {street}办理点\n\n{district}{street}便民服务中心（{street}{number}号）\
                 受理，工作日 {open}–{close}，中午不休息；咨询电话 0571-{phone}。\
                 行动不便的老人可预约上门服务。",
                template.body
            ),
        )
    } else if form < 8 {
        // A dated revision of the policy.
        let year = rng.random_range(2019..=2026);
        let month = rng.random_range(1..=12);
        (
            format!("{}（{year}年修订）", template.title),
            format!(
                "{}\n\n## 修订说明\n\n本口径依据{year}年{month}月的通知修订，\
                 此前的答复口径同时废止；办理中的事项按受理时的规定执行。",
                template.body
            ),
        )
    } else {
        // The questions citizens ask about it.
        let keyword = template
            .keywords
            .choose(rng)
            .cloned()
            .unwrap_or_else(|| template.title.clone());
        let asks = [
            "怎么办理",
            "要带什么材料",
            "多久能办好",
            "在哪里办",
            "可以网上办吗",
            "收费吗",
        ];
        let ask = asks.choose(rng).copied().unwrap_or("怎么办理");
        (
            format!("{keyword}{ask}？（问答{serial}）"),
            format!(
                "## 市民常问\n\n{keyword}{ask}？\n\n## 答复口径\n\n{}",
                template.body
            ),
        )
    };
    (title, body, keywords)
}

/// Creates `count` knowledge entries as the demo's knowledge editor; calls `progress` with the
/// number finished after each. Returns how many were created.
pub async fn generate_knowledge(
    app: &App,
    count: u64,
    seed: u64,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let templates: Vec<DemoKnowledge> = demo_knowledge()?
        .into_iter()
        .filter(|t| !t.temporary)
        .collect();
    if templates.is_empty() {
        return Err(anyhow!(
            "the demo knowledge base has no entries to grow from"
        ));
    }
    let editor = app
        .store
        .find_user_by_username(EDITOR)
        .await?
        .with_context(|| format!("no account {EDITOR}: seed the demo city first (minhu demo)"))?;
    let editor = app.actor_for(&editor).await?;
    let units = app.store.list_units().await?;
    let unit_ids: HashMap<&str, i64> = units.iter().map(|u| (u.code.as_str(), u.id)).collect();
    let categories: HashMap<String, i64> = app
        .store
        .list_categories()
        .await?
        .into_iter()
        .map(|c| (c.code, c.id))
        .collect();
    let places = street_places(&units);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6b6e_6f77_6c65_6467);
    for serial in 1..=count {
        let template = templates
            .choose(&mut rng)
            .ok_or_else(|| anyhow!("no template"))?;
        let (title, body, keywords) = compose(template, &places, &mut rng, serial);
        let input = KnowledgeInput {
            category_id: *categories
                .get(&template.category)
                .with_context(|| format!("no category {}", template.category))?,
            title,
            body,
            keywords,
            source_unit_id: *unit_ids
                .get(template.unit.as_str())
                .with_context(|| format!("no unit {}", template.unit))?,
            visibility: template.visibility,
            temporary: false,
            effective_from: None,
            expires_at: None,
        };
        let stage = match rng.random_range(0..100) {
            0..4 => Stage::Draft,
            4..8 => Stage::InReview,
            _ => Stage::Published,
        };
        let created = app.create_knowledge(&editor, &input).await?;
        let id = created.entry.id;
        if stage != Stage::Draft {
            app.act_on_knowledge(&editor, id, &KnowledgeAction::Submit, None)
                .await?;
        }
        if stage == Stage::Published {
            app.act_on_knowledge(&editor, id, &KnowledgeAction::Approve { note: None }, None)
                .await?;
        }
        progress(1);
    }
    Ok(count)
}

fn street_places(units: &[UnitInfo]) -> Vec<StreetPlace> {
    let names: HashMap<i64, &str> = units.iter().map(|u| (u.id, u.name.as_str())).collect();
    units
        .iter()
        .filter(|u| u.kind == UnitKind::Street)
        .map(|street| StreetPlace {
            district: street
                .parent_id
                .and_then(|p| names.get(&p))
                .map(|n| (*n).to_owned())
                .unwrap_or_default(),
            street: street.name.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_keep_the_policy_and_are_deterministic() {
        let templates = demo_knowledge().unwrap_or_else(|e| panic!("{e}"));
        let template = templates
            .iter()
            .find(|t| !t.temporary)
            .unwrap_or_else(|| panic!("a permanent template"));
        let places = vec![StreetPlace {
            district: "东城区".to_owned(),
            street: "和平街道".to_owned(),
        }];
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..30)
                .map(|i| compose(template, &places, &mut rng, i))
                .collect::<Vec<_>>()
        };
        let first = draw(7);
        assert_eq!(first, draw(7), "the same seed gives the same entries");
        assert!(
            first
                .iter()
                .all(|(_, body, _)| body.contains(&template.body))
        );
        assert!(
            first
                .iter()
                .any(|(title, _, keywords)| title.starts_with("和平街道：")
                    && keywords.iter().any(|k| k == "和平街道"))
        );
        assert!(first.iter().any(|(title, _, _)| title.contains("年修订）")));
        assert!(first.iter().any(|(title, _, _)| title.contains("（问答")));
    }
}
