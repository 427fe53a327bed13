//! The demo accounts: one per role with usernames that say the role, a sub-centre account per
//! district, a street account per district, and a handler in every bureau and company.

use std::collections::BTreeMap;

use minhu_domain::{Actor, Role};

use super::units::{AGENCIES, City};
use crate::service::{App, AppError, AppResult};

/// Where an account works.
#[derive(Debug, Clone, Copy)]
enum Place {
    Centre,
    /// The district sub-centre with this index.
    District(usize),
    /// The first street of the district with this index.
    FirstStreet(usize),
    /// The bureau or company with this key.
    Agency(&'static str),
}

/// The centre's staff and the fixed unit accounts.
const FIXED: &[(&str, &str, &[Role], Place)] = &[
    ("agent1", "王芳", &[Role::Agent], Place::Centre),
    ("agent2", "李娜", &[Role::Agent], Place::Centre),
    ("agent3", "赵磊", &[Role::Agent], Place::Centre),
    ("dispatcher1", "陈静", &[Role::Dispatcher], Place::Centre),
    ("supervisor1", "刘洋", &[Role::Supervisor], Place::Centre),
    ("visitor1", "周婷", &[Role::Visitor], Place::Centre),
    ("inspector1", "吴敏", &[Role::Inspector], Place::Centre),
    ("editor1", "孙丽", &[Role::KnowledgeEditor], Place::Centre),
    ("leader1", "郑国强", &[Role::Leader], Place::Centre),
    (
        "unit_water_leader1",
        "马建国",
        &[Role::UnitLeader],
        Place::Agency("water"),
    ),
];

/// Display names for the generated accounts, used in turn.
const NAMES: &[&str] = &[
    "张伟",
    "黄涛",
    "杨帆",
    "徐丽",
    "胡军",
    "郭晓燕",
    "何明",
    "林峰",
    "罗佳",
    "高翔",
    "梁雪",
    "宋雨",
    "谢娜",
    "韩冰",
    "唐亮",
    "冯雷",
    "于洋",
    "董芳",
    "程浩",
    "曹颖",
    "袁斌",
    "邓超",
    "许静",
    "傅强",
    "沈玉兰",
    "曾勇",
    "彭丽华",
    "吕鹏",
    "苏敏",
    "卢建华",
    "蒋文",
    "蔡晓东",
    "贾婷",
    "丁伟",
    "魏红",
    "薛刚",
    "叶子龙",
    "阎凤",
    "余海",
    "潘琳",
    "杜宇",
    "戴玉梅",
];

/// A demo account as listed to people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    /// The sign-in name, saying the role (`agent1`, `unit_water1`, …).
    pub username: String,
    /// A plausible Chinese name.
    pub display_name: String,
    /// The roles held.
    pub roles: Vec<Role>,
    /// The unit's name.
    pub unit: String,
}

/// The signed-in people the order seeding acts as.
#[derive(Debug, Clone)]
pub(super) struct People {
    pub agents: Vec<Actor>,
    pub dispatcher: Actor,
    pub supervisor: Actor,
    pub visitor: Actor,
    pub leader: Actor,
    /// A handler (or sub-centre) account per unit id that handles orders.
    pub handlers: BTreeMap<i64, Actor>,
    /// The accounts, for the summary.
    pub accounts: Vec<DemoAccount>,
}

impl People {
    /// The handler of a unit.
    pub fn handler(&self, unit_id: i64) -> AppResult<&Actor> {
        self.handlers
            .get(&unit_id)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no demo handler in unit {unit_id}")))
    }
}

fn every_account() -> Vec<(String, String, Vec<Role>, Place)> {
    let mut names = NAMES.iter().cycle();
    let mut next_name = || names.next().copied().unwrap_or("张伟").to_owned();
    let mut all: Vec<(String, String, Vec<Role>, Place)> = FIXED
        .iter()
        .map(|(u, n, r, p)| ((*u).to_owned(), (*n).to_owned(), r.to_vec(), *p))
        .collect();
    for d in 0..super::units::DISTRICT_COUNT {
        all.push((
            format!("district{}", d + 1),
            next_name(),
            vec![Role::SubCentre, Role::UnitHandler],
            Place::District(d),
        ));
        all.push((
            format!("street{}", d + 1),
            next_name(),
            vec![Role::UnitHandler],
            Place::FirstStreet(d),
        ));
    }
    for agency in AGENCIES {
        all.push((
            format!("unit_{}1", agency.key),
            next_name(),
            vec![Role::UnitHandler],
            Place::Agency(agency.key),
        ));
    }
    all
}

/// Creates every demo account with `password` and returns the people who will act.
pub(super) async fn create_people(app: &App, city: &City, password: &str) -> AppResult<People> {
    let mut by_username: BTreeMap<String, Actor> = BTreeMap::new();
    let mut handlers = BTreeMap::new();
    let mut accounts = Vec::new();
    for (username, display_name, roles, place) in every_account() {
        let unit = match place {
            Place::Centre => &city.centre,
            Place::District(d) => {
                &city
                    .districts
                    .get(d)
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no demo district {d}")))?
                    .unit
            }
            Place::FirstStreet(d) => {
                &city
                    .districts
                    .get(d)
                    .and_then(|district| district.streets.first())
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no demo street in {d}")))?
                    .unit
            }
            Place::Agency(key) => city.agency(key)?,
        };
        let user = app
            .create_user_with_password(&username, &display_name, unit.id, &roles, password)
            .await?;
        let actor = app.actor_for(&user).await?;
        if roles.contains(&Role::UnitHandler) {
            handlers.entry(unit.id).or_insert_with(|| actor.clone());
        }
        accounts.push(DemoAccount {
            username: username.clone(),
            display_name,
            roles,
            unit: unit.name.clone(),
        });
        by_username.insert(username, actor);
    }
    let take = |name: &str| {
        by_username
            .get(name)
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo account {name} missing")))
    };
    Ok(People {
        agents: vec![take("agent1")?, take("agent2")?, take("agent3")?],
        dispatcher: take("dispatcher1")?,
        supervisor: take("supervisor1")?,
        visitor: take("visitor1")?,
        leader: take("leader1")?,
        handlers,
        accounts,
    })
}

/// The accounts the demo creates (besides `admin`), without touching a database: for printing.
#[must_use]
pub fn demo_accounts() -> Vec<(String, String, Vec<Role>)> {
    every_account()
        .into_iter()
        .map(|(u, n, r, _)| (u, n, r))
        .collect()
}
