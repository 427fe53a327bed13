//! `/admin/categories` (the category tree: create, rename, enable/disable; the selected category's
//! time-limit policy rules with add and delete) and `/admin/catalogue` (the dispatch catalogue:
//! category, district or 全市, unit; add and delete).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use minhu_domain::{DeadlineUnit, LimitStep, OrderType, TimeLimit, UnitInfo, UnitKind, Urgency};
use serde::Deserialize;

use super::units::flash;
use super::{admin_layout, parse_id, respond};
use crate::http::extract::ClientAddress;
use crate::service::{App, AppError};
use crate::storage::{
    Category, CategoryPatch, NewCatalogueEntry, NewCategory, NewPolicyRule, unit_can_handle,
};
use crate::web::error::{WebError, render};
use crate::web::layout::{Layout, MenuItem};
use crate::web::session::{CsrfForm, FormData, WebSession};

/// A category as listed, with its depth and its path of names.
#[derive(Debug, Clone)]
pub struct CategoryRow {
    pub category: Category,
    pub indent: usize,
    pub path: String,
}

/// A policy rule as listed, with Chinese labels.
#[derive(Debug, Clone)]
pub struct PolicyRow {
    pub id: i64,
    pub step: &'static str,
    pub order_type: &'static str,
    pub urgency: &'static str,
    pub amount: u32,
    pub unit: &'static str,
}

/// A catalogue entry as listed.
#[derive(Debug, Clone)]
pub struct CatalogueRow {
    pub id: i64,
    pub category: String,
    pub district: String,
    pub unit: String,
    pub note: String,
}

type Options = Vec<(&'static str, &'static str)>;

#[derive(Template)]
#[template(path = "admin_categories.html")]
struct CategoriesPage {
    layout: Layout,
    tabs: Vec<MenuItem>,
    categories: Vec<CategoryRow>,
    selected: Option<CategoryRow>,
    policies: Vec<PolicyRow>,
    steps: Options,
    order_types: Options,
    urgencies: Options,
    units: Options,
    input: FormData,
}

#[derive(Template)]
#[template(path = "admin_catalogue.html")]
struct CataloguePage {
    layout: Layout,
    tabs: Vec<MenuItem>,
    entries: Vec<CatalogueRow>,
    categories: Vec<CategoryRow>,
    districts: Vec<UnitInfo>,
    units: Vec<UnitInfo>,
    input: FormData,
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/categories", get(categories).post(create_category))
        .route("/admin/categories/{id}", post(rename_category))
        .route("/admin/categories/{id}/active", post(category_active))
        .route("/admin/categories/{id}/policies", post(create_policy))
        .route(
            "/admin/categories/{id}/policies/{policy}/delete",
            post(delete_policy),
        )
        .route("/admin/catalogue", get(catalogue).post(create_entry))
        .route("/admin/catalogue/{id}/delete", post(delete_entry))
}

/// Query of the category page.
#[derive(Debug, Deserialize)]
pub struct CategoryQuery {
    selected: Option<i64>,
    done: Option<String>,
}

/// Query of the catalogue page.
#[derive(Debug, Deserialize)]
pub struct CatalogueQuery {
    done: Option<String>,
}

async fn category_rows(app: &App, session: &WebSession) -> Result<Vec<CategoryRow>, WebError> {
    let categories = app.list_categories(&session.actor).await?;
    let names: HashMap<i64, String> = categories.iter().map(|c| (c.id, c.name.clone())).collect();
    Ok(categories
        .into_iter()
        .map(|category| {
            let path = category
                .path
                .split('/')
                .filter_map(|id| id.parse::<i64>().ok())
                .filter_map(|id| names.get(&id).cloned())
                .collect::<Vec<_>>()
                .join(" › ");
            CategoryRow {
                indent: usize::try_from(category.level.saturating_sub(1)).unwrap_or(0),
                path,
                category,
            }
        })
        .collect())
}

fn options<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Options {
    all.iter().map(|v| (code(*v), label(*v))).collect()
}

async fn categories_page(
    app: &App,
    session: &WebSession,
    selected: Option<i64>,
    error: Option<String>,
    done: Option<&str>,
    input: FormData,
) -> Result<Response, WebError> {
    let (layout, tabs) = admin_layout(app, session, "问题分类", "/admin/categories")?;
    let categories = category_rows(app, session).await?;
    let selected = match selected {
        Some(id) => Some(
            categories
                .iter()
                .find(|c| c.category.id == id)
                .cloned()
                .ok_or_else(|| WebError::not_found("问题分类不存在"))?,
        ),
        None => None,
    };
    let policies = match &selected {
        Some(row) => app
            .list_policies(&session.actor)
            .await?
            .into_iter()
            .filter(|p| p.category_id == Some(row.category.id))
            .map(|p| PolicyRow {
                id: p.id,
                step: p.step.label(),
                order_type: p.order_type.map_or("全部", OrderType::label),
                urgency: p.urgency.map_or("全部", Urgency::label),
                amount: p.limit.amount,
                unit: p.limit.unit.label(),
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(render(&CategoriesPage {
        layout: flash(layout, error, done),
        tabs,
        categories,
        selected,
        policies,
        steps: options(LimitStep::ALL, LimitStep::as_str, LimitStep::label),
        order_types: options(OrderType::ALL, OrderType::as_str, OrderType::label),
        urgencies: options(Urgency::ALL, Urgency::as_str, Urgency::label),
        units: options(DeadlineUnit::ALL, DeadlineUnit::as_str, DeadlineUnit::label),
        input,
    }))
}

/// `GET /admin/categories`.
pub async fn categories(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<CategoryQuery>,
) -> Result<Response, WebError> {
    categories_page(
        &app,
        &session,
        q.selected,
        None,
        q.done.as_deref(),
        FormData::default(),
    )
    .await
}

/// The category page again after a POST: the redirect, or the page with the refusal (422).
async fn after_category_post(
    app: &App,
    session: &WebSession,
    selected: Option<i64>,
    result: Result<String, AppError>,
    input: FormData,
) -> Result<Response, WebError> {
    respond(result, |message| {
        categories_page(app, session, selected, Some(message), None, input)
    })
    .await
}

/// `POST /admin/categories`: creates a category (no parent: a top-level one).
pub async fn create_category(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = async {
        let parent = form.text("parent_id");
        let category = NewCategory {
            code: form.text("code"),
            name: form.text("name"),
            parent_id: if parent.trim().is_empty() {
                None
            } else {
                Some(parse_id("parent_id", &parent)?)
            },
        };
        let created = app
            .create_category(&session.actor, category, Some(&address))
            .await?;
        Ok(format!(
            "/admin/categories?selected={}&done=created",
            created.id
        ))
    }
    .await;
    after_category_post(&app, &session, None, result, form).await
}

/// `POST /admin/categories/{id}`: renames a category.
pub async fn rename_category(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let patch = CategoryPatch {
        name: Some(form.text("name")),
        ..CategoryPatch::default()
    };
    let result = app
        .update_category(&session.actor, id, patch, Some(&address))
        .await
        .map(|_| format!("/admin/categories?selected={id}&done=saved"));
    after_category_post(&app, &session, Some(id), result, form).await
}

/// `POST /admin/categories/{id}/active`: enables (`active=1`) or disables a category.
pub async fn category_active(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let patch = CategoryPatch {
        active: Some(form.text("active") == "1"),
        ..CategoryPatch::default()
    };
    let result = app
        .update_category(&session.actor, id, patch, Some(&address))
        .await
        .map(|_| format!("/admin/categories?selected={id}&done=saved"));
    after_category_post(&app, &session, Some(id), result, FormData::default()).await
}

/// An optional enum field: empty means 全部.
fn optional<T: std::str::FromStr>(form: &FormData, field: &str) -> Result<Option<T>, AppError> {
    let value = form.text(field);
    if value.trim().is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| AppError::invalid(field, "请选择"))
}

/// `POST /admin/categories/{id}/policies`: adds a time-limit rule to the category.
pub async fn create_policy(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = async {
        let rule = NewPolicyRule {
            category_id: Some(id),
            order_type: optional(&form, "order_type")?,
            urgency: optional(&form, "urgency")?,
            step: form
                .text("step")
                .parse()
                .map_err(|_| AppError::invalid("step", "请选择环节"))?,
            limit: TimeLimit {
                amount: form
                    .text("amount")
                    .trim()
                    .parse()
                    .map_err(|_| AppError::invalid("amount", "请填写时限（正整数）"))?,
                unit: form
                    .text("unit")
                    .parse()
                    .map_err(|_| AppError::invalid("unit", "请选择计时方式"))?,
            },
        };
        app.create_policy(&session.actor, rule, Some(&address))
            .await?;
        Ok(format!("/admin/categories?selected={id}&done=created"))
    }
    .await;
    after_category_post(&app, &session, Some(id), result, form).await
}

/// `POST /admin/categories/{id}/policies/{policy}/delete`.
pub async fn delete_policy(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path((id, policy)): Path<(i64, i64)>,
    CsrfForm { session, .. }: CsrfForm,
) -> Result<Response, WebError> {
    let result = app
        .delete_policy(&session.actor, policy, Some(&address))
        .await
        .map(|()| format!("/admin/categories?selected={id}&done=deleted"));
    after_category_post(&app, &session, Some(id), result, FormData::default()).await
}

async fn catalogue_page(
    app: &App,
    session: &WebSession,
    error: Option<String>,
    done: Option<&str>,
    input: FormData,
) -> Result<Response, WebError> {
    let (layout, tabs) = admin_layout(app, session, "派单目录", "/admin/catalogue")?;
    let categories = category_rows(app, session).await?;
    let all_units = app.list_units(&session.actor).await?;
    let category_names: HashMap<i64, String> = categories
        .iter()
        .map(|c| (c.category.id, c.path.clone()))
        .collect();
    let unit_names: HashMap<i64, String> =
        all_units.iter().map(|u| (u.id, u.name.clone())).collect();
    let entries = app
        .list_catalogue(&session.actor)
        .await?
        .into_iter()
        .map(|e| CatalogueRow {
            id: e.id,
            category: category_names
                .get(&e.category_id)
                .cloned()
                .unwrap_or_default(),
            district: e.district_id.map_or_else(
                || "全市".to_owned(),
                |d| unit_names.get(&d).cloned().unwrap_or_default(),
            ),
            unit: unit_names.get(&e.unit_id).cloned().unwrap_or_default(),
            note: e.note.unwrap_or_default(),
        })
        .collect();
    let districts = all_units
        .iter()
        .filter(|u| u.kind == UnitKind::DistrictCentre)
        .cloned()
        .collect();
    let units = all_units
        .into_iter()
        .filter(|u| u.active && unit_can_handle(u.kind))
        .collect();
    Ok(render(&CataloguePage {
        layout: flash(layout, error, done),
        tabs,
        entries,
        categories,
        districts,
        units,
        input,
    }))
}

/// `GET /admin/catalogue`.
pub async fn catalogue(
    State(app): State<App>,
    session: WebSession,
    Query(q): Query<CatalogueQuery>,
) -> Result<Response, WebError> {
    catalogue_page(&app, &session, None, q.done.as_deref(), FormData::default()).await
}

/// `POST /admin/catalogue`: adds an entry (no district: 全市).
pub async fn create_entry(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    CsrfForm { session, form }: CsrfForm,
) -> Result<Response, WebError> {
    let result = async {
        let district = form.text("district_id");
        let entry = NewCatalogueEntry {
            category_id: parse_id("category_id", &form.text("category_id"))?,
            district_id: if district.trim().is_empty() {
                None
            } else {
                Some(parse_id("district_id", &district)?)
            },
            unit_id: parse_id("unit_id", &form.text("unit_id"))?,
            note: Some(form.text("note")),
        };
        app.create_catalogue_entry(&session.actor, entry, Some(&address))
            .await?;
        Ok("/admin/catalogue?done=created".to_owned())
    }
    .await;
    respond(result, |message| {
        catalogue_page(&app, &session, Some(message), None, form)
    })
    .await
}

/// `POST /admin/catalogue/{id}/delete`.
pub async fn delete_entry(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    CsrfForm { session, .. }: CsrfForm,
) -> Result<Response, WebError> {
    let result = app
        .delete_catalogue_entry(&session.actor, id, Some(&address))
        .await
        .map(|()| "/admin/catalogue?done=deleted".to_owned());
    respond(result, |message| {
        catalogue_page(&app, &session, Some(message), None, FormData::default())
    })
    .await
}
