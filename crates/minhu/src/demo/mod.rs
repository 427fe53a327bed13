//! The demo city 云澜市 (fictional): districts, streets and communities, bureaus and public-service
//! companies, a category tree with time-limit policies and a dispatch catalogue, one account per
//! role, about 300 orders in every state and a knowledge base of about 250 entries — all created
//! through the same use cases as real data, so every order's history is real. Deterministic: the
//! same seed gives the same city.

mod categories;
pub mod knowledge;
pub mod knowledge_data;
mod orders;
mod stories;
mod stories_public;
pub(crate) mod texts;
mod units;
mod users;

pub use users::{DemoAccount, demo_accounts};

use minhu_domain::{Role, UnitKind};

use crate::service::bootstrap::ADMIN_USERNAME;
use crate::service::{App, AppError, AppResult};

/// The demo city's name.
pub const CITY_NAME: &str = "云澜市";

/// What the demo created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// District sub-centres (the county included).
    pub districts: usize,
    /// Streets and townships.
    pub streets: usize,
    /// Communities and villages.
    pub communities: usize,
    /// Bureaus, public-service companies and other handling units.
    pub bureaus_and_enterprises: usize,
    /// Category nodes, at every level.
    pub categories: usize,
    /// Categories without children: what orders are filed under.
    pub leaf_categories: usize,
    /// Time-limit rules on categories (besides the global defaults).
    pub policy_rules: usize,
    /// Dispatch catalogue entries.
    pub catalogue_entries: usize,
    /// Accounts created by the demo (besides `admin`).
    pub users: usize,
    /// Orders registered.
    pub orders: usize,
    /// Knowledge entries published (知识库), temporary ones moved to the seeding day.
    pub knowledge_entries: usize,
    /// Order counts per state code, as stored.
    pub orders_by_state: Vec<(String, i64)>,
    /// The accounts created.
    pub accounts: Vec<DemoAccount>,
}

/// Whether the demo city may be seeded: the database holds no units beyond the centre, no
/// orders, and no earlier demo.
pub async fn is_seedable(app: &App) -> AppResult<bool> {
    let units = app.store.list_units().await?;
    let beyond_centre = units.iter().any(|u| u.kind != UnitKind::CityCentre);
    let orders: i64 = app
        .store
        .count_orders_by_state()
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum();
    Ok(!beyond_centre && orders == 0)
}

/// The demo's announcements (系统公告), oldest first.
const ANNOUNCEMENTS: &[(&str, &str)] = &[
    (
        "关于做好冬季供暖诉求办理工作的通知",
        "供暖季期间，涉及室温不达标、暖气不热的工单按“较急”登记，热力公司须在1个工作日内上门。",
    ),
    (
        "2027年元旦假期值班安排",
        "元旦假期热线24小时值守，承办单位须安排专人签收工单，紧急工单2小时内反馈。",
    ),
    (
        "本月“每月一题”：老旧小区加装电梯",
        "请话务员登记相关诉求时加注“每月一题”标签，派单员优先派至住建部门。",
    ),
];

/// Seeds the demo city into an empty centre; every demo account gets `password`. Bootstraps
/// first if needed (a new `admin` then gets `MINHU_ADMIN_PASSWORD` or else `password`). Refuses a
/// database that already holds units or orders.
pub async fn seed_demo(app: &App, password: &str) -> AppResult<DemoSummary> {
    if !is_seedable(app).await? {
        return Err(AppError::invalid(
            "demo",
            "数据库中已有单位或工单，演示城市只能导入空的热线中心",
        ));
    }
    let admin_password = app
        .config
        .admin_password
        .clone()
        .or_else(|| Some(password.to_owned()));
    app.bootstrap_with_admin_password(admin_password).await?;
    let centre = app
        .store
        .list_units()
        .await?
        .into_iter()
        .find(|u| u.kind == UnitKind::CityCentre)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no city centre after bootstrap")))?;

    let city = units::create_city(app, centre).await?;
    let tree = categories::create_categories(app).await?;
    let policy_rules = categories::create_policies(app, &tree).await?;
    let catalogue_entries = categories::create_catalogue(app, &tree, &city).await?;
    let people = users::create_people(app, &city, password).await?;
    // Before the orders, so that orders closed directly can cite an entry.
    let knowledge_entries = knowledge::seed_knowledge(app, &tree).await?;
    let orders = orders::Seeder::new(app, &city, &tree, &people)
        .seed()
        .await?;
    for (title, body) in ANNOUNCEMENTS {
        app.publish_announcement(None, title, body).await?;
    }

    let orders_by_state = app.store.count_orders_by_state().await?;
    let summary = DemoSummary {
        districts: city.districts.len(),
        streets: city.street_count(),
        communities: city.community_count(),
        bureaus_and_enterprises: city.agencies.len(),
        categories: tree.by_code.len(),
        leaf_categories: tree.leaves.len(),
        policy_rules,
        catalogue_entries,
        users: people.accounts.len(),
        orders,
        knowledge_entries,
        orders_by_state,
        accounts: people.accounts.clone(),
    };
    app.audit(
        None,
        "seed_demo",
        CITY_NAME,
        Some(format!(
            "units={} categories={} users={} orders={} knowledge={}",
            1 + summary.districts
                + summary.streets
                + summary.communities
                + summary.bureaus_and_enterprises,
            summary.categories,
            summary.users,
            summary.orders,
            summary.knowledge_entries
        )),
        None,
    )
    .await?;
    Ok(summary)
}

/// The accounts worth trying first, in this order.
const HIGHLIGHTS: &[&str] = &[
    "agent1",
    "dispatcher1",
    "supervisor1",
    "visitor1",
    "inspector1",
    "editor1",
    "leader1",
    "district1",
    "street1",
    "unit_water1",
    "unit_water_leader1",
    "unit_gas1",
    "unit_power1",
    "unit_heat1",
    "unit_cg1",
];

fn role_labels(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join("+")
}

/// Prints the demo accounts; `password` says what their password is, if known, and
/// `admin_note` anything particular about the `admin` account.
pub fn print_accounts(password: Option<&str>, admin_note: Option<&str>) {
    let all = demo_accounts();
    println!();
    match password {
        Some(p) => println!("Demo accounts — password: {p}"),
        None => println!(
            "Demo accounts — their password was printed when the demo was seeded (or is MINHU_DEMO_PASSWORD):"
        ),
    }
    match admin_note {
        Some(note) => println!("  {ADMIN_USERNAME:<20} {} ({note})", Role::Admin.label()),
        None => println!("  {ADMIN_USERNAME:<20} {}", Role::Admin.label()),
    }
    for name in HIGHLIGHTS {
        if let Some((username, display_name, roles)) = all.iter().find(|(u, ..)| u == name) {
            println!("  {username:<20} {} {display_name}", role_labels(roles));
        }
    }
    println!(
        "  … and district2–district7, street2–street7 and unit_<bureau>1 in every bureau and company \
         (`minhu user list` shows all {}).",
        all.len() + 1
    );
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_announcements_are_within_the_limits() {
        for (title, body) in ANNOUNCEMENTS {
            assert!(
                crate::service::announcements::validate(title, body).is_ok(),
                "{title}"
            );
        }
    }

    #[test]
    fn required_usernames_are_in_the_demo() {
        let names: Vec<String> = demo_accounts().into_iter().map(|(u, ..)| u).collect();
        for required in [
            "agent1",
            "agent2",
            "dispatcher1",
            "supervisor1",
            "visitor1",
            "inspector1",
            "editor1",
            "leader1",
            "district1",
            "street1",
            "unit_water1",
            "unit_water_leader1",
            "unit_gas1",
            "unit_power1",
            "unit_heat1",
            "unit_cg1",
        ] {
            assert!(names.iter().any(|n| n == required), "{required}");
        }
        for name in HIGHLIGHTS {
            assert!(names.iter().any(|n| n == name), "{name}");
        }
    }

    #[test]
    fn every_leaf_has_words() {
        // Leaves are computed from the tree the same way `create_categories` does.
        let leaves = categories::leaf_codes();
        assert!(leaves.len() >= 60);
        for leaf in leaves {
            assert!(texts::template(leaf).is_some(), "no story for {leaf}");
        }
    }
}
