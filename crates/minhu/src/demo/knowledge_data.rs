//! The demo city's knowledge base (知识库) as data: a few hundred entries written the way a 12345
//! centre keeps them — policy basis, steps, documents, places and phone numbers in 云澜市, and the
//! answer an agent reads to the caller (答复口径) — in `data/demo/knowledge/*.toml`, one file per
//! area, compiled into the binary and parsed here into plain structs.
//!
//! Each file is a list of `[[entry]]` tables:
//!
//! ```toml
//! [[entry]]
//! title = "居民用水报修流程及责任划分"
//! category = "010104"          # a code of the demo category tree
//! unit = "E-WATER"             # the source unit, by its demo unit code
//! visibility = "public"        # or "internal"; public when absent
//! keywords = ["漏水", "报修"]
//! body = '''Markdown'''
//! # temporary entries (临时知识库) only:
//! temporary = true
//! effective_from = "2026-11-25T08:00:00+08:00"
//! expires_at = "2026-12-05T20:00:00+08:00"
//! ```
//!
//! Units are named by code: a bureau or company (`B-CG`, `E-WATER`, `O-GJJ` …), a district
//! sub-centre (`D01` … `D07`) or the centre itself (`CENTRE`). Nothing here is seeded yet.
//!
//! The files are read with figment's TOML provider (figment is already the configuration loader),
//! so no TOML crate is added for them. Temporary entries carry absolute dates in late 2026;
//! whoever seeds them may shift them to the seeding day.

use anyhow::Context;
use chrono::{DateTime, Utc};
use figment::Figment;
use figment::providers::{Format, Toml};
use minhu_domain::knowledge::KnowledgeVisibility;
use serde::Deserialize;

/// The data files, by name, in the order they are read.
const FILES: &[(&str, &str)] = &[
    (
        "01_water.toml",
        include_str!("../../data/demo/knowledge/01_water.toml"),
    ),
    (
        "02_power.toml",
        include_str!("../../data/demo/knowledge/02_power.toml"),
    ),
    (
        "03_gas.toml",
        include_str!("../../data/demo/knowledge/03_gas.toml"),
    ),
    (
        "04_heating.toml",
        include_str!("../../data/demo/knowledge/04_heating.toml"),
    ),
    (
        "05_urban.toml",
        include_str!("../../data/demo/knowledge/05_urban.toml"),
    ),
    (
        "06_housing.toml",
        include_str!("../../data/demo/knowledge/06_housing.toml"),
    ),
    (
        "07_transport.toml",
        include_str!("../../data/demo/knowledge/07_transport.toml"),
    ),
    (
        "08_market.toml",
        include_str!("../../data/demo/knowledge/08_market.toml"),
    ),
    (
        "09_hrss.toml",
        include_str!("../../data/demo/knowledge/09_hrss.toml"),
    ),
    (
        "10_education.toml",
        include_str!("../../data/demo/knowledge/10_education.toml"),
    ),
    (
        "11_health.toml",
        include_str!("../../data/demo/knowledge/11_health.toml"),
    ),
    (
        "12_environment.toml",
        include_str!("../../data/demo/knowledge/12_environment.toml"),
    ),
    (
        "13_police.toml",
        include_str!("../../data/demo/knowledge/13_police.toml"),
    ),
    (
        "14_civil.toml",
        include_str!("../../data/demo/knowledge/14_civil.toml"),
    ),
    (
        "15_other_bureaus.toml",
        include_str!("../../data/demo/knowledge/15_other_bureaus.toml"),
    ),
    (
        "21_general.toml",
        include_str!("../../data/demo/knowledge/21_general.toml"),
    ),
    (
        "90_temporary.toml",
        include_str!("../../data/demo/knowledge/90_temporary.toml"),
    ),
];

/// One entry of the demo knowledge base, as written in the data files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoKnowledge {
    pub title: String,
    /// The code of its category in the demo tree (`010104`).
    pub category: String,
    /// The code of its source unit (`E-WATER`, `B-RS`, `D01`, `CENTRE`).
    pub unit: String,
    #[serde(default = "public")]
    pub visibility: KnowledgeVisibility,
    pub keywords: Vec<String>,
    /// Markdown.
    pub body: String,
    /// 临时知识: about a current incident, with near dates.
    #[serde(default)]
    pub temporary: bool,
    #[serde(default)]
    pub effective_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

const fn public() -> KnowledgeVisibility {
    KnowledgeVisibility::Public
}

/// The shape of one data file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeFile {
    entry: Vec<DemoKnowledge>,
}

/// Every entry of the demo knowledge base, in file order.
///
/// # Errors
///
/// A data file that does not parse, naming the file (a bug in the compiled-in data).
pub fn demo_knowledge() -> anyhow::Result<Vec<DemoKnowledge>> {
    let mut entries = Vec::new();
    for (name, text) in FILES {
        let file: KnowledgeFile = Figment::from(Toml::string(text))
            .extract()
            .with_context(|| format!("demo knowledge file {name}"))?;
        entries.extend(file.entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use chrono::Duration;
    use minhu_domain::knowledge::{self, KnowledgeContext, KnowledgeInput, TEMPORARY_MAX_DAYS};
    use minhu_domain::{Actor, Role, UnitDirectory, UnitInfo, UnitKind};

    use super::*;
    use crate::demo::categories::leaf_codes;
    use crate::demo::units::{AGENCIES, DISTRICT_COUNT};
    use crate::service::bootstrap::CENTRE_CODE;

    /// Every code of the demo category tree: the leaves and all their ancestors.
    fn category_codes() -> BTreeSet<String> {
        leaf_codes()
            .iter()
            .flat_map(|leaf| (2..=leaf.len()).step_by(2).map(|n| leaf[..n].to_owned()))
            .collect()
    }

    /// Every unit code the demo creates that an entry may name.
    fn unit_codes() -> BTreeSet<String> {
        let mut codes: BTreeSet<String> = AGENCIES.iter().map(|a| a.code.to_owned()).collect();
        codes.extend((1..=DISTRICT_COUNT).map(|d| format!("D{d:02}")));
        codes.insert(CENTRE_CODE.to_owned());
        codes
    }

    #[test]
    fn the_demo_knowledge_base_parses_and_fits_the_demo_city() {
        let entries = demo_knowledge().unwrap();
        assert!(entries.len() >= 200, "only {} entries", entries.len());
        let categories = category_codes();
        let units = unit_codes();
        let mut titles = BTreeSet::new();
        for e in &entries {
            let t = &e.title;
            assert!(titles.insert(t.clone()), "duplicate title {t}");
            assert!(
                categories.contains(&e.category),
                "{t}: category {}",
                e.category
            );
            assert!(units.contains(&e.unit), "{t}: unit {}", e.unit);
            assert!((3..=8).contains(&e.keywords.len()), "{t}: keywords");
            assert!(e.body.trim().chars().count() >= 80, "{t}: body too short");
            assert_eq!(e.temporary, e.expires_at.is_some(), "{t}: expiry");
            assert_eq!(e.temporary, e.effective_from.is_some(), "{t}: start");
        }
        let temporary = entries.iter().filter(|e| e.temporary).count();
        assert!(temporary >= 10, "only {temporary} temporary entries");
        let internal = entries
            .iter()
            .filter(|e| e.visibility == KnowledgeVisibility::Internal)
            .count();
        assert!(
            internal >= 5 && internal * 4 < entries.len(),
            "{internal} internal"
        );
        // Every top-level category has entries.
        let tops: BTreeSet<&str> = entries.iter().map(|e| &e.category[..2]).collect();
        let all_tops: BTreeSet<&str> = categories
            .iter()
            .filter(|c| c.len() == 2)
            .map(String::as_str)
            .collect();
        assert_eq!(tops, all_tops);
    }

    #[test]
    fn the_words_agents_search_by_are_there() {
        let entries = demo_knowledge().unwrap();
        let mut hits: BTreeMap<&str, usize> = BTreeMap::new();
        let words = [
            "停水",
            "停电",
            "路灯",
            "井盖",
            "噪音",
            "油烟",
            "社保卡",
            "公积金提取",
            "欠薪",
            "劳动仲裁",
            "预付卡",
            "居住证",
            "入学",
            "养犬",
            "停车",
            "暖气",
        ];
        for word in words {
            let n = entries
                .iter()
                .filter(|e| e.title.contains(word) || e.keywords.iter().any(|k| k.contains(word)))
                .count();
            hits.insert(word, n);
        }
        let missing: Vec<_> = hits.iter().filter(|(_, n)| **n == 0).collect();
        assert!(missing.is_empty(), "no entry for {missing:?}");
    }

    /// Every entry passes the domain's own checks of a knowledge entry, as an editor would save
    /// it on the first of its days.
    #[test]
    fn every_entry_passes_the_domain_rules() {
        let centre = UnitInfo {
            id: 1,
            code: CENTRE_CODE.to_owned(),
            name: "市热线中心".to_owned(),
            kind: UnitKind::CityCentre,
            parent_id: None,
            path: "/1/".to_owned(),
            is_dispatch_point: true,
            active: true,
        };
        let ids: BTreeMap<String, i64> = unit_codes().into_iter().zip(2..).collect();
        let units = UnitDirectory::new(ids.iter().map(|(code, id)| UnitInfo {
            id: *id,
            code: code.clone(),
            name: code.clone(),
            kind: UnitKind::Bureau,
            parent_id: Some(1),
            path: format!("/1/{id}/"),
            is_dispatch_point: false,
            active: true,
        }));
        let editor = Actor {
            user_id: 1,
            username: "editor1".to_owned(),
            display_name: "孙丽".to_owned(),
            roles: vec![Role::KnowledgeEditor],
            unit: centre,
        };
        let start = DateTime::parse_from_rfc3339("2026-11-01T00:00:00+08:00")
            .unwrap()
            .with_timezone(&Utc);
        for e in demo_knowledge().unwrap() {
            let ctx = KnowledgeContext {
                now: e.effective_from.unwrap_or(start),
                actor: &editor,
                units: &units,
            };
            let input = KnowledgeInput {
                category_id: 1,
                title: e.title.clone(),
                body: e.body.clone(),
                keywords: e.keywords.clone(),
                source_unit_id: ids[&e.unit],
                visibility: e.visibility,
                temporary: e.temporary,
                effective_from: e.effective_from,
                expires_at: e.expires_at,
            };
            let created = knowledge::create(&ctx, &input);
            let t = created.unwrap_or_else(|err| panic!("{}: {err}", e.title));
            assert_eq!(
                t.entry.content.keywords.len(),
                e.keywords.len(),
                "{}",
                e.title
            );
            if let (Some(from), Some(until)) = (e.effective_from, e.expires_at) {
                assert!(until - from <= Duration::days(TEMPORARY_MAX_DAYS));
            }
        }
    }
}
