//! What every page of the workbench shows around its content: the top bar with the person, the
//! menu their roles allow, breadcrumbs and a flash message.

use chrono_tz::Tz;
use minhu_domain::{Actor, Role};

use super::session::WebSession;
use super::static_files;
use crate::service::App;

/// One entry of the left menu.
#[derive(Debug, Clone)]
pub struct MenuItem {
    pub label: &'static str,
    pub href: &'static str,
    pub active: bool,
}

/// One breadcrumb; the last has no link.
#[derive(Debug, Clone)]
pub struct Crumb {
    pub label: String,
    pub href: Option<String>,
}

/// A message shown once at the top of the content.
#[derive(Debug, Clone)]
pub struct Flash {
    /// `ok` or `error`.
    pub kind: &'static str,
    pub text: String,
}

/// The frame of a page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub user_name: String,
    pub unit_name: String,
    pub roles: String,
    pub csrf: String,
    pub menu: Vec<MenuItem>,
    pub crumbs: Vec<Crumb>,
    pub flash: Option<Flash>,
    /// Appended to asset URLs so that a new build is fetched despite the long cache.
    pub asset_version: &'static str,
    /// The configured time zone, for the templates' dates.
    pub tz: Tz,
}

/// The menu entries: label, link, and the roles that see it (empty: everyone). Each queue
/// appears once per person: unit staff work from 承办单位 (/inbox, whose tabs are 待签收, 待转派,
/// 办理中, 待审核 …), dispatchers from 派单, supervisors from 待审核; 工单查询 stays for search.
const MENU: &[(&str, &str, &[Role])] = &[
    ("工作台", "/", &[]),
    ("来电登记", "/orders/new", &[Role::Agent]),
    ("工单查询", "/orders", &[]),
    ("派单", "/dispatch", &[Role::Dispatcher]),
    (
        "承办单位",
        "/inbox",
        &[Role::UnitHandler, Role::UnitLeader, Role::SubCentre],
    ),
    // Dispatchers work registered orders from the 派单 queue; agents see them as a list.
    ("待派单", "/orders?state=registered", &[Role::Agent]),
    ("办理中", "/orders?state=in_progress", &[Role::Supervisor]),
    ("待审核", "/review", &[Role::Supervisor]),
    ("待回访", "/visits", &[Role::Visitor]),
    (
        "知识库",
        "/knowledge",
        &[
            Role::Agent,
            Role::KnowledgeEditor,
            Role::Dispatcher,
            Role::UnitHandler,
            Role::UnitLeader,
            Role::SubCentre,
        ],
    ),
    ("系统管理", "/admin/units", &[Role::Admin]),
    ("修改密码", "/password", &[]),
];

fn menu_for(actor: &Actor, active: &str) -> Vec<MenuItem> {
    MENU.iter()
        .filter(|(_, _, roles)| roles.is_empty() || actor.has_any_role(roles))
        .map(|(label, href, _)| MenuItem {
            label,
            href,
            active: *href == active,
        })
        .collect()
}

impl Layout {
    /// The frame for `session`'s person; `active` is the menu link to highlight.
    #[must_use]
    pub fn new(app: &App, session: &WebSession, title: &str, active: &str) -> Self {
        let actor = &session.actor;
        Self {
            title: title.to_owned(),
            user_name: actor.display_name.clone(),
            unit_name: actor.unit.name.clone(),
            roles: actor
                .roles
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join("、"),
            csrf: session.csrf.clone(),
            menu: menu_for(actor, active),
            crumbs: vec![Crumb {
                label: "工作台".to_owned(),
                href: Some("/".to_owned()),
            }],
            flash: None,
            asset_version: static_files::version(),
            tz: app.config.tz().unwrap_or(chrono_tz::Asia::Shanghai),
        }
    }

    /// Adds a breadcrumb (without a link when `href` is `None`).
    #[must_use]
    pub fn crumb(mut self, label: impl Into<String>, href: Option<&str>) -> Self {
        self.crumbs.push(Crumb {
            label: label.into(),
            href: href.map(str::to_owned),
        });
        self
    }

    /// Sets the flash message.
    #[must_use]
    pub fn flash(mut self, kind: &'static str, text: impl Into<String>) -> Self {
        self.flash = Some(Flash {
            kind,
            text: text.into(),
        });
        self
    }

    /// Sets the flash for a `?done=<action>` after a redirect, if the code is known.
    #[must_use]
    pub fn flash_done(self, done: Option<&str>) -> Self {
        let text = match done {
            None => return self,
            Some("password") => "密码已修改".to_owned(),
            Some("register") => "工单已登记".to_owned(),
            Some("register_close") => "工单已登记并直接办结".to_owned(),
            Some("register_merge") => "工单已登记，并作为重复件并入主工单".to_owned(),
            Some(code) if minhu_domain::Action::CODES.contains(&code) => {
                format!(
                    "操作成功：{}",
                    minhu_domain::permissions::action_label(code)
                )
            }
            Some(_) => return self,
        };
        self.flash("ok", text)
    }
}
