//! 工作台: counters for the person's roles, each linking to the filtered list or work queue —
//! for centre staff counts of orders, for unit staff counts of their unit's own assignments by
//! state (the inbox's tabs) — and the latest announcements.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use minhu_domain::{AppealState, OrderState, Role, WarningLevel};
use serde::Deserialize;

use super::error::{WebError, render};
use super::format::datetime_cn;
use super::layout::Layout;
use super::session::WebSession;
use crate::service::App;
use crate::service::queues::UnitQueue;
use crate::storage::OrderFilter;

/// One counter on the desk.
#[derive(Debug, Clone)]
pub struct Tile {
    pub label: &'static str,
    pub count: i64,
    pub href: String,
    /// CSS tone: `plain`, `yellow` or `red`.
    pub tone: &'static str,
}

/// An announcement as shown.
#[derive(Debug, Clone)]
pub struct AnnouncementRow {
    pub title: String,
    pub body: String,
    pub published_at: String,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    layout: Layout,
    tiles: Vec<Tile>,
    announcements: Vec<AnnouncementRow>,
}

const CENTRE_WORK: &[Role] = &[Role::Dispatcher, Role::Supervisor, Role::Leader];

/// A counter's definition: label, link, tone, who sees it, and its filter.
struct TileDef {
    label: &'static str,
    href: &'static str,
    tone: &'static str,
    roles: &'static [&'static [Role]],
    filter: fn() -> OrderFilter,
    /// The work queue that replaces `href` for people with one of these roles.
    queue: Option<(&'static [Role], &'static str)>,
}

fn states(list: &[OrderState]) -> OrderFilter {
    OrderFilter {
        states: list.to_vec(),
        ..OrderFilter::default()
    }
}

const TILES: &[TileDef] = &[
    TileDef {
        label: "待交办",
        href: "/orders?state=registered",
        tone: "plain",
        roles: &[&[Role::Agent, Role::Dispatcher]],
        filter: || states(&[OrderState::Registered]),
        queue: Some((&[Role::Dispatcher], "/dispatch")),
    },
    TileDef {
        label: "待签收",
        href: "/orders?state=dispatched",
        tone: "plain",
        roles: &[&[Role::Dispatcher]],
        filter: || states(&[OrderState::Dispatched]),
        queue: None,
    },
    TileDef {
        label: "办理中",
        href: "/orders?state=in_progress",
        tone: "plain",
        roles: &[CENTRE_WORK],
        filter: || states(&[OrderState::InProgress]),
        queue: None,
    },
    TileDef {
        label: "即将超期",
        href: "/orders?warning=yellow",
        tone: "yellow",
        roles: &[CENTRE_WORK],
        filter: || OrderFilter {
            warning: Some(WarningLevel::Yellow),
            ..OrderFilter::default()
        },
        queue: None,
    },
    TileDef {
        label: "已超期",
        href: "/orders?warning=red",
        tone: "red",
        roles: &[CENTRE_WORK],
        filter: || OrderFilter {
            warning: Some(WarningLevel::Red),
            ..OrderFilter::default()
        },
        queue: None,
    },
    TileDef {
        label: "待审核",
        href: "/orders?state=replied",
        tone: "plain",
        roles: &[&[Role::Supervisor]],
        filter: || states(&[OrderState::Replied]),
        queue: Some((&[Role::Supervisor], "/review")),
    },
    TileDef {
        label: "待回访",
        href: "/orders?state=pending_visit",
        tone: "plain",
        roles: &[&[Role::Visitor, Role::Supervisor]],
        filter: || states(&[OrderState::PendingVisit]),
        queue: Some((&[Role::Visitor], "/visits")),
    },
    TileDef {
        label: "退单审核",
        href: "/orders?state=return_requested",
        tone: "plain",
        roles: &[&[Role::Dispatcher]],
        filter: || states(&[OrderState::ReturnRequested]),
        queue: None,
    },
    TileDef {
        label: "延期申请",
        href: "/orders?extension=pending",
        tone: "plain",
        roles: &[&[Role::Dispatcher]],
        filter: || OrderFilter {
            has_pending_extension: true,
            ..OrderFilter::default()
        },
        queue: None,
    },
    TileDef {
        label: "申诉",
        href: "/orders?appeal=requested",
        tone: "plain",
        roles: &[&[Role::Supervisor]],
        filter: || OrderFilter {
            appeal: Some(AppealState::Requested),
            ..OrderFilter::default()
        },
        queue: None,
    },
];

/// Query of the desk (a flash after a redirect).
#[derive(Debug, Deserialize)]
pub struct DeskQuery {
    done: Option<String>,
}

/// `GET /`.
pub async fn desk(
    State(app): State<App>,
    session: WebSession,
    Query(query): Query<DeskQuery>,
) -> Result<Response, WebError> {
    let actor = &session.actor;
    let defs: Vec<&TileDef> = TILES
        .iter()
        .filter(|d| d.roles.iter().any(|roles| actor.has_any_role(roles)))
        .collect();
    let (counts, unit_counts) = tokio::try_join!(futures_join(&app, actor, &defs), async {
        Ok::<_, WebError>(app.unit_queue_counts(actor).await?)
    })?;
    let mut tiles: Vec<Tile> = defs
        .iter()
        .zip(counts)
        .map(|(d, count)| Tile {
            label: d.label,
            count,
            href: match d.queue {
                Some((roles, queue)) if actor.has_any_role(roles) => queue,
                _ => d.href,
            }
            .to_owned(),
            tone: d.tone,
        })
        .collect();
    // A unit's own work: its assignments by state, each opening the inbox tab that lists them
    // (the same queries, so the counts agree).
    tiles.extend(
        unit_counts
            .into_iter()
            .filter(|(queue, _)| queue.on_desk())
            .map(|(queue, count)| Tile {
                label: queue.label(),
                count,
                href: format!("/inbox?tab={}", queue.code()),
                tone: match queue {
                    UnitQueue::Yellow => "yellow",
                    UnitQueue::Red => "red",
                    _ => "plain",
                },
            }),
    );
    let layout = Layout::new(&app, &session, "工作台", "/").flash_done(query.done.as_deref());
    let tz = layout.tz;
    let announcements = app
        .latest_announcements(5)
        .await?
        .into_iter()
        .map(|a| AnnouncementRow {
            title: a.title,
            body: a.body,
            published_at: datetime_cn(a.published_at, tz),
        })
        .collect();
    let mut layout = layout;
    layout.crumbs.truncate(1);
    Ok(render(&DeskPage {
        layout,
        tiles,
        announcements,
    }))
}

/// Runs the counters' queries concurrently (each is one indexed `COUNT`).
async fn futures_join(
    app: &App,
    actor: &minhu_domain::Actor,
    defs: &[&TileDef],
) -> Result<Vec<i64>, WebError> {
    let mut set = tokio::task::JoinSet::new();
    for (i, def) in defs.iter().enumerate() {
        let app = app.clone();
        let actor = actor.clone();
        let filter = (def.filter)();
        set.spawn(async move { (i, app.count_orders(&actor, filter).await) });
    }
    let mut counts = vec![0; defs.len()];
    while let Some(joined) = set.join_next().await {
        let (i, result) = joined.map_err(|e| WebError::internal(&e))?;
        if let Some(slot) = counts.get_mut(i) {
            *slot = result?;
        }
    }
    Ok(counts)
}
