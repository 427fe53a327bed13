//! `/admin/calendar`: the holiday calendar as a year view (12 month grids) with holidays (休),
//! make-up working days (班) and weekends marked; set or delete one day.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate, Weekday};
use minhu_domain::CalendarDayKind;
use serde::Deserialize;

use super::{admin_layout, done_text, respond};
use crate::http::extract::ClientAddress;
use crate::service::{App, AppError};
use crate::web::error::{WebError, render};
use crate::web::layout::{Layout, MenuItem};
use crate::web::session::{CsrfForm, FormData, WebSession};

/// One day cell of a month grid (`day == 0`: padding).
#[derive(Debug, Clone)]
pub struct Cell {
    pub day: u32,
    /// `holiday`, `workday`, `weekend` or `plain`.
    pub class: &'static str,
    pub mark: &'static str,
    pub title: String,
}

/// A month as weeks of seven cells, Monday first.
#[derive(Debug, Clone)]
pub struct Month {
    pub title: String,
    pub weeks: Vec<Vec<Cell>>,
}

/// A stored exception day as listed.
#[derive(Debug, Clone)]
pub struct DayRow {
    pub date: String,
    pub kind: &'static str,
    pub is_holiday: bool,
    pub name: String,
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct CalendarPage {
    layout: Layout,
    tabs: Vec<MenuItem>,
    year: i32,
    months: Vec<Month>,
    days: Vec<DayRow>,
    input: FormData,
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/calendar", get(show))
        .route("/admin/calendar/set", post(set_day))
        .route("/admin/calendar/delete", post(delete_day))
}

/// Query of the calendar page.
#[derive(Debug, Deserialize)]
pub struct CalendarQuery {
    year: Option<i32>,
    done: Option<String>,
}

/// The 12 month grids of `year` with `exceptions` marked.
#[must_use]
pub fn year_grid(
    year: i32,
    exceptions: &BTreeMap<NaiveDate, (CalendarDayKind, String)>,
) -> Vec<Month> {
    (1..=12)
        .filter_map(|month| {
            let first = NaiveDate::from_ymd_opt(year, month, 1)?;
            let mut cells: Vec<Cell> = (0..first.weekday().num_days_from_monday())
                .map(|_| Cell {
                    day: 0,
                    class: "pad",
                    mark: "",
                    title: String::new(),
                })
                .collect();
            let mut date = first;
            while date.month() == month {
                let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
                let cell = match exceptions.get(&date) {
                    Some((CalendarDayKind::Holiday, name)) => Cell {
                        day: date.day(),
                        class: "holiday",
                        mark: "休",
                        title: format!("{date} {name}（节假日）"),
                    },
                    Some((CalendarDayKind::Workday, name)) => Cell {
                        day: date.day(),
                        class: "workday",
                        mark: "班",
                        title: format!("{date} {name}（调休上班）"),
                    },
                    None => Cell {
                        day: date.day(),
                        class: if weekend { "weekend" } else { "plain" },
                        mark: "",
                        title: date.to_string(),
                    },
                };
                cells.push(cell);
                date = date.succ_opt()?;
            }
            while !cells.len().is_multiple_of(7) {
                cells.push(Cell {
                    day: 0,
                    class: "pad",
                    mark: "",
                    title: String::new(),
                });
            }
            Some(Month {
                title: format!("{month}月"),
                weeks: cells.chunks(7).map(<[Cell]>::to_vec).collect(),
            })
        })
        .collect()
}

async fn page(
    app: &App,
    session: &WebSession,
    year: i32,
    flash: Option<(&'static str, String)>,
    input: FormData,
) -> Result<Response, WebError> {
    let (mut layout, tabs) = admin_layout(app, session, "节假日历", "/admin/calendar")?;
    if let Some((kind, text)) = flash {
        layout = layout.flash(kind, text);
    }
    let stored = app.list_calendar_days(&session.actor, Some(year)).await?;
    let exceptions = stored
        .iter()
        .map(|d| (d.date, (d.kind, d.name.clone())))
        .collect();
    let days = stored
        .iter()
        .map(|d| DayRow {
            date: d.date.to_string(),
            kind: d.kind.label(),
            is_holiday: d.kind == CalendarDayKind::Holiday,
            name: d.name.clone(),
        })
        .collect();
    Ok(render(&CalendarPage {
        layout,
        tabs,
        year,
        months: year_grid(year, &exceptions),
        days,
        input,
    }))
}

fn current_year(app: &App) -> i32 {
    let tz = app.config.tz().unwrap_or(chrono_tz::Asia::Shanghai);
    app.now().with_timezone(&tz).year()
}

/// `GET /admin/calendar?year=`.
pub async fn show(
    State(app): State<App>,
    session: WebSession,
    Query(query): Query<CalendarQuery>,
) -> Result<Response, WebError> {
    let year = query
        .year
        .filter(|y| (1900..=2200).contains(y))
        .unwrap_or_else(|| current_year(&app));
    let flash = done_text(query.done.as_deref()).map(|t| ("ok", t.to_owned()));
    page(&app, &session, year, flash, FormData::default()).await
}

fn parse_date(form: &FormData) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(&form.text("date"), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("date", "请填写正确的日期（如 2026-10-01）"))
}

fn form_year(app: &App, form: &FormData) -> i32 {
    parse_date(form).map_or_else(|_| current_year(app), |d| d.year())
}

/// `POST /admin/calendar/set`.
pub async fn set_day(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = async {
        let date = parse_date(&form)?;
        let kind: CalendarDayKind = form
            .text("kind")
            .parse()
            .map_err(|_| AppError::invalid("kind", "请选择类型"))?;
        app.set_calendar_day(
            &session.actor,
            date,
            kind,
            &form.text("name"),
            Some(&address),
        )
        .await?;
        Ok(format!("/admin/calendar?year={}&done=saved", date.year()))
    }
    .await;
    again(&app, &session, result, form).await
}

async fn again(
    app: &App,
    session: &WebSession,
    result: Result<String, AppError>,
    form: FormData,
) -> Result<Response, WebError> {
    let year = form_year(app, &form);
    respond(result, |message| {
        page(app, session, year, Some(("error", message)), form)
    })
    .await
}

/// `POST /admin/calendar/delete`.
pub async fn delete_day(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = async {
        let date = parse_date(&form)?;
        app.delete_calendar_day(&session.actor, date, Some(&address))
            .await?;
        Ok(format!("/admin/calendar?year={}&done=deleted", date.year()))
    }
    .await;
    again(&app, &session, result, FormData::default()).await
}
