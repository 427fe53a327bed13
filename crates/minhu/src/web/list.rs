//! 工单查询: the order list with filters (a GET form), paging and a dense table.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use minhu_domain::{AppealState, OrderState, OrderType, UnitKind, WarningLevel};
use serde::Deserialize;

use super::error::{WebError, render};
use super::format::{Badge, datetime_cn, opt_datetime_cn, state_badge, warning_badge};
use super::layout::Layout;
use super::session::WebSession;
use crate::service::App;
use crate::service::desk::ReferenceData;
use crate::service::orders::warning_of;
use crate::storage::{OrderFilter, PageRequest};
use minhu_text::{Piece, excerpt, highlight};

/// Rows per page.
const PER_PAGE: u32 = 20;
/// Characters of content shown under a search hit.
const EXCERPT_CHARS: usize = 60;

/// The list's query: every filter as typed (empty means "any").
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    /// Words to search for (全文检索): title, content, address, replies; callers' names for
    /// centre roles.
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub state: String,
    #[serde(default, rename = "type")]
    pub order_type: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub warning: String,
    #[serde(default)]
    pub extension: String,
    #[serde(default)]
    pub appeal: String,
    #[serde(default)]
    pub page: String,
}

/// A choice of a select: value, label, selected.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices<'a>(items: impl Iterator<Item = (String, String)> + 'a, current: &str) -> Vec<Choice> {
    items
        .map(|(value, label)| Choice {
            selected: value == current,
            value,
            label,
        })
        .collect()
}

/// A row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: String,
    /// The title with the searched words marked.
    pub title: Vec<Piece>,
    /// With a search: an excerpt of the content around the first match, words marked.
    pub excerpt: Vec<Piece>,
    /// Orders merged into this one (重复件).
    pub repeat_count: i64,
    pub order_type: &'static str,
    pub category: String,
    pub category_path: String,
    pub district: String,
    pub lead_unit: String,
    pub state: Badge,
    pub warning: Option<Badge>,
    pub deadline: String,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct ListPage {
    layout: Layout,
    q: ListQuery,
    states: Vec<Choice>,
    types: Vec<Choice>,
    categories: Vec<Choice>,
    districts: Vec<Choice>,
    units: Vec<Choice>,
    warnings: Vec<Choice>,
    rows: Vec<Row>,
    total: i64,
    /// The search counted only the first `total` matches.
    total_capped: bool,
    page: u32,
    pages: u32,
    prev_href: Option<String>,
    next_href: Option<String>,
    notes: Vec<String>,
    export_href: String,
    export_cap: usize,
}

fn local_day(tz: Tz, text: &str, next_day: bool) -> Option<chrono::DateTime<Utc>> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    let date = if next_day { date.succ_opt()? } else { date };
    tz.from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|at| at.with_timezone(&Utc))
}

impl ListQuery {
    /// The filter this query asks for; values that do not parse are ignored and named in `notes`.
    pub(crate) fn filter(&self, tz: Tz, notes: &mut Vec<String>) -> OrderFilter {
        let mut bad = |what: &str| notes.push(format!("“{what}”条件不正确，已忽略"));
        let id = |text: &str, what: &str, bad: &mut dyn FnMut(&str)| -> Option<i64> {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            text.parse().map_err(|_| bad(what)).ok()
        };
        let mut filter = OrderFilter {
            number: Some(self.number.trim().to_owned()).filter(|s| !s.is_empty()),
            phone: Some(self.phone.trim().to_owned()).filter(|s| !s.is_empty()),
            category_id: id(&self.category, "问题分类", &mut bad),
            district_id: id(&self.district, "区域", &mut bad),
            unit_id: id(&self.unit, "承办单位", &mut bad),
            has_pending_extension: self.extension == "pending",
            ..OrderFilter::default()
        };
        for code in self
            .state
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            match code.parse::<OrderState>() {
                Ok(state) => filter.states.push(state),
                Err(_) => bad("状态"),
            }
        }
        if !self.order_type.is_empty() {
            filter.order_type = self
                .order_type
                .parse::<OrderType>()
                .map_err(|_| bad("类型"))
                .ok();
        }
        if !self.warning.is_empty() {
            filter.warning = self
                .warning
                .parse::<WarningLevel>()
                .map_err(|_| bad("预警"))
                .ok();
        }
        if !self.appeal.is_empty() {
            filter.appeal = self
                .appeal
                .parse::<AppealState>()
                .map_err(|_| bad("申诉"))
                .ok();
        }
        if !self.from.trim().is_empty() {
            filter.created_from = local_day(tz, &self.from, false);
            if filter.created_from.is_none() {
                bad("登记日期起");
            }
        }
        if !self.to.trim().is_empty() {
            filter.created_to = local_day(tz, &self.to, true);
            if filter.created_to.is_none() {
                bad("登记日期止");
            }
        }
        filter
    }

    /// The export link (`/orders/export.xlsx`) with the same filters.
    fn export_href(&self) -> String {
        let href = self.href_for_page(1);
        let query = href.trim_start_matches("/orders?");
        let query = query.trim_end_matches("page=1").trim_end_matches('&');
        if query.is_empty() {
            "/orders/export.xlsx".to_owned()
        } else {
            format!("/orders/export.xlsx?{query}")
        }
    }

    /// The query string for another page with the same filters.
    fn href_for_page(&self, page: u32) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("number", &self.number),
            ("phone", &self.phone),
            ("state", &self.state),
            ("type", &self.order_type),
            ("category", &self.category),
            ("district", &self.district),
            ("unit", &self.unit),
            ("from", &self.from),
            ("to", &self.to),
            ("warning", &self.warning),
            ("extension", &self.extension),
            ("appeal", &self.appeal),
        ] {
            if !v.is_empty() {
                out.append_pair(k, v);
            }
        }
        out.append_pair("page", &page.to_string());
        format!("/orders?{}", out.finish())
    }
}

/// The pickers' choices from the reference data.
fn pickers(refs: &ReferenceData, q: &ListQuery) -> (Vec<Choice>, Vec<Choice>, Vec<Choice>) {
    let mut categories: Vec<_> = refs.categories.iter().filter(|c| c.active).collect();
    categories.sort_by(|a, b| a.code.cmp(&b.code));
    let categories = choices(
        categories.into_iter().map(|c| {
            let indent = "　".repeat(usize::try_from(c.level - 1).unwrap_or(0));
            (c.id.to_string(), format!("{indent}{} {}", c.code, c.name))
        }),
        &q.category,
    );
    let districts = choices(
        refs.units
            .iter()
            .filter(|u| u.kind == UnitKind::DistrictCentre)
            .map(|u| (u.id.to_string(), u.name.clone())),
        &q.district,
    );
    let mut handling: Vec<_> = refs
        .units
        .iter()
        .filter(|u| u.kind != UnitKind::CityCentre && u.kind != UnitKind::Community)
        .collect();
    handling.sort_by(|a, b| a.path.cmp(&b.path));
    let units = choices(
        handling
            .into_iter()
            .map(|u| (u.id.to_string(), u.name.clone())),
        &q.unit,
    );
    (categories, districts, units)
}

/// `GET /orders`.
pub async fn list(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let layout = Layout::new(&app, &session, "工单查询", "/orders").crumb("工单查询", None);
    let tz = layout.tz;
    let mut notes = Vec::new();
    let mut filter = q.filter(tz, &mut notes);
    filter.text = app.text_filter(&session.actor, &q.q);
    if filter.text.is_none() && !q.q.trim().is_empty() {
        notes.push(format!("“{}”中没有可检索的词，已忽略", q.q.trim()));
    }
    let words = filter
        .text
        .as_ref()
        .map(|t| t.query.words())
        .unwrap_or_default();
    let page = q.page.trim().parse::<u32>().unwrap_or(1).max(1);
    let paging = PageRequest {
        limit: i64::from(PER_PAGE),
        offset: i64::from(page - 1) * i64::from(PER_PAGE),
    };
    let (result, refs) = tokio::try_join!(
        app.list_orders(&session.actor, filter, paging),
        app.reference_data()
    )?;
    let now = app.now();
    let rows = result
        .orders
        .iter()
        .map(|item| {
            let o = &item.order;
            Row {
                number: o.number.clone(),
                title: highlight(&o.title, &words),
                excerpt: if words.is_empty() {
                    Vec::new()
                } else {
                    excerpt(&o.content, &words, EXCERPT_CHARS)
                },
                repeat_count: item.repeat_count,
                order_type: o.order_type.label(),
                category: refs
                    .category(o.category_id)
                    .map_or_else(String::new, |c| c.name.clone()),
                category_path: refs.category_path(o.category_id),
                district: o
                    .location
                    .district_id
                    .map_or_else(String::new, |id| refs.unit_name(id)),
                lead_unit: item
                    .lead_unit_id
                    .map_or_else(String::new, |id| refs.unit_name(id)),
                state: state_badge(o.state),
                warning: warning_badge(warning_of(o, now)),
                deadline: opt_datetime_cn(o.active_deadline.map(|d| d.deadline_at), tz),
                created_at: datetime_cn(o.created_at, tz),
            }
        })
        .collect();
    let total = result.total;
    let pages = u32::try_from((total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
        .unwrap_or(u32::MAX)
        .max(1);
    let (categories, districts, units) = pickers(&refs, &q);
    let page_view = ListPage {
        states: choices(
            OrderState::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
            &q.state,
        ),
        types: choices(
            OrderType::ALL
                .iter()
                .map(|t| (t.as_str().to_owned(), t.label().to_owned())),
            &q.order_type,
        ),
        warnings: choices(
            [
                ("yellow", "黄灯（即将超期）"),
                ("red", "红灯（已超期）"),
                ("green", "正常"),
            ]
            .into_iter()
            .map(|(v, l)| (v.to_owned(), l.to_owned())),
            &q.warning,
        ),
        categories,
        districts,
        units,
        prev_href: (page > 1).then(|| q.href_for_page(page - 1)),
        next_href: (page < pages).then(|| q.href_for_page(page + 1)),
        layout,
        rows,
        total,
        total_capped: result.total_capped,
        page,
        pages,
        notes,
        export_href: q.export_href(),
        export_cap: crate::service::orders::EXPORT_CAP,
        q,
    };
    Ok(render(&page_view))
}
