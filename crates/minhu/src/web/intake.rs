//! 来电登记: the agent's intake form, built for a live call. The caller's phone comes first and
//! brings up their earlier orders and tags (htmx), and ticks the tag checkboxes from the caller's
//! known tags (an out-of-band swap; the agent's own ticks stay, see [`caller`]); the category is
//! a searchable picker (typing 路灯 finds it by name); district → street → community cascade
//! (htmx: a new district empties the street and the community, a new street the community). Alt+S saves, Alt+D saves
//! and closes directly with the answer, Alt+P saves and goes on to dispatch. A validation error
//! re-renders the form with every value kept and the message next to the field; a session that
//! expired meanwhile keeps the form through the sign-in (see [`super::auth::expired_post`]).

use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minhu_domain::action::{CloseDirect, Merge};
use minhu_domain::{
    Action, CallerTag, Channel, Citizen, Gender, Location, NewOrder, OrderType, Role, UnitKind,
    Urgency,
};
use serde::Deserialize;

use super::error::{WebError, render};
use super::format::{Badge, date_cn, state_badge};
use super::layout::Layout;
use super::list::Choice;
use super::session::{CsrfForm, FormData, KeptCsrfForm, WebSession};
use crate::service::desk::ReferenceData;
use crate::service::{App, AppError};
use crate::storage::{OrderFilter, PageRequest};

/// A category of the picker: what is typed or chosen, and its full path.
#[derive(Debug, Clone)]
pub struct CategoryOption {
    pub value: String,
    pub path: String,
}

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    layout: Layout,
    form: FormData,
    errors: Vec<(String, String)>,
    categories: Vec<CategoryOption>,
    channels: Vec<Choice>,
    types: Vec<Choice>,
    urgencies: Vec<Choice>,
    genders: Vec<Choice>,
    tag_box: TagBox,
    districts: Vec<Choice>,
    streets: Vec<Choice>,
    communities: Vec<Choice>,
}

impl IntakePage {
    /// What was typed in `name` (empty on a fresh form).
    fn v(&self, name: &str) -> String {
        self.form.text(name)
    }

    /// The error next to `name`, if any.
    fn err(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
    }

    fn on(&self, name: &str) -> bool {
        matches!(self.form.get(name), Some("true" | "on" | "1"))
    }
}

fn enum_choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    selected: &[&str],
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            value: code(*v).to_owned(),
            label: label(*v).to_owned(),
            selected: selected.contains(&code(*v)),
        })
        .collect()
}

fn unit_choices(refs: &ReferenceData, parent: Option<i64>, selected: &str) -> Vec<Choice> {
    let Some(parent) = parent else {
        return Vec::new();
    };
    refs.children(parent)
        .into_iter()
        .map(|u| Choice {
            value: u.id.to_string(),
            label: u.name.clone(),
            selected: u.id.to_string() == selected,
        })
        .collect()
}

/// Leaf categories (and any active node without active children) for the picker.
fn category_options(refs: &ReferenceData) -> Vec<CategoryOption> {
    let mut leaves: Vec<_> = refs
        .categories
        .iter()
        .filter(|c| c.active)
        .filter(|c| {
            !refs
                .categories
                .iter()
                .any(|child| child.active && child.parent_id == Some(c.id))
        })
        .collect();
    leaves.sort_by(|a, b| a.code.cmp(&b.code));
    leaves
        .into_iter()
        .map(|c| CategoryOption {
            value: format!("{} {}", c.code, c.name),
            path: refs.category_path(c.id),
        })
        .collect()
}

/// Finds the category a picker text names: `code name`, a code, or a unique name.
pub(crate) fn resolve_category(refs: &ReferenceData, text: &str) -> Option<i64> {
    let text = text.trim();
    let first = text.split_whitespace().next()?;
    let active = || refs.categories.iter().filter(|c| c.active);
    if let Some(c) = active().find(|c| c.code == first) {
        return Some(c.id);
    }
    let named: Vec<_> = active().filter(|c| c.name == text).collect();
    match named.as_slice() {
        [one] => Some(one.id),
        _ => None,
    }
}

fn page(
    app: &App,
    session: &WebSession,
    refs: &ReferenceData,
    form: FormData,
    errors: Vec<(String, String)>,
) -> IntakePage {
    let layout = Layout::new(app, session, "来电登记", "/orders/new").crumb("来电登记", None);
    let centre_districts: Vec<Choice> = refs
        .units
        .iter()
        .filter(|u| u.active && u.kind == UnitKind::DistrictCentre)
        .map(|u| Choice {
            value: u.id.to_string(),
            label: u.name.clone(),
            selected: u.id.to_string() == form.text("district_id"),
        })
        .collect();
    let district = form.text("district_id").parse::<i64>().ok();
    let street = form.text("street_id").parse::<i64>().ok();
    let channel = form.text("channel");
    let channel = if channel.is_empty() {
        "phone".to_owned()
    } else {
        channel
    };
    let urgency = form.text("urgency");
    let urgency = if urgency.is_empty() {
        "normal".to_owned()
    } else {
        urgency
    };
    IntakePage {
        categories: category_options(refs),
        channels: enum_choices(Channel::ALL, Channel::as_str, Channel::label, &[&channel]),
        types: enum_choices(
            OrderType::ALL,
            OrderType::as_str,
            OrderType::label,
            &[&form.text("order_type")],
        ),
        urgencies: enum_choices(Urgency::ALL, Urgency::as_str, Urgency::label, &[&urgency]),
        genders: enum_choices(
            Gender::ALL,
            Gender::as_str,
            Gender::label,
            &[&form.text("gender")],
        ),
        tag_box: TagBox::new(
            &form.all("caller_tags"),
            form.text("tags_for"),
            form.all("tags_auto")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            false,
        ),
        districts: centre_districts,
        streets: unit_choices(refs, district, &form.text("street_id")),
        communities: unit_choices(refs, street, &form.text("community_id")),
        layout,
        form,
        errors,
    }
}

fn require_agent(session: &WebSession) -> Result<(), WebError> {
    if session.actor.has_any_role(&[Role::Agent, Role::Dispatcher]) {
        Ok(())
    } else {
        Err(AppError::forbidden("来电登记需要话务员角色").into())
    }
}

/// `GET /orders/new`.
pub async fn form(State(app): State<App>, session: WebSession) -> Result<Response, WebError> {
    require_agent(&session)?;
    let refs = app.reference_data().await?;
    Ok(render(&page(
        &app,
        &session,
        &refs,
        FormData::default(),
        Vec::new(),
    )))
}

/// Reads the form into a new order, or the errors by input name.
fn read_order(refs: &ReferenceData, form: &FormData) -> Result<NewOrder, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let id = |name: &str| form.text(name).parse::<i64>().ok();
    let category_id = match resolve_category(refs, &form.text("category")) {
        Some(id) => id,
        None => {
            errors.push((
                "category".to_owned(),
                "请从列表中选择问题分类（可输入名称或编码搜索）".to_owned(),
            ));
            0
        }
    };
    let order_type = form
        .text("order_type")
        .parse::<OrderType>()
        .unwrap_or_else(|_| {
            errors.push(("order_type".to_owned(), "请选择工单类型".to_owned()));
            OrderType::Other
        });
    let channel = form
        .text("channel")
        .parse::<Channel>()
        .unwrap_or(Channel::Phone);
    let urgency = form
        .text("urgency")
        .parse::<Urgency>()
        .unwrap_or(Urgency::Normal);
    let optional = |name: &str| Some(form.text(name)).filter(|s| !s.is_empty());
    let tags = form
        .all("caller_tags")
        .iter()
        .filter_map(|t| t.parse::<CallerTag>().ok())
        .collect();
    if form.text("then") == "close" && form.text("answer").is_empty() {
        errors.push(("answer".to_owned(), "直接办结须填写答复内容".to_owned()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewOrder {
        channel,
        citizen: Citizen {
            name: optional("name"),
            phone: form.text("phone"),
            contact_phone: optional("contact_phone"),
            gender: form.text("gender").parse::<Gender>().ok(),
            enterprise_name: optional("enterprise_name"),
            confidential: matches!(form.get("confidential"), Some("true" | "on")),
            tags,
        },
        order_type,
        category_id,
        title: form.text("title"),
        content: form.text("content"),
        tags: Vec::new(),
        urgency,
        location: Location {
            district_id: id("district_id"),
            street_id: id("street_id"),
            community_id: id("community_id"),
            address: form.text("address"),
            longitude: None,
            latitude: None,
        },
    })
}

/// The input a service error's field names (`citizen.phone` → `phone`, `category_id` →
/// `category`).
fn input_for(field: &str) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    let last = last.split('[').next().unwrap_or(last);
    match last {
        "category_id" => "category".to_owned(),
        "tags" => "caller_tags".to_owned(),
        other => other.to_owned(),
    }
}

/// `POST /orders/new`.
pub async fn submit(
    State(app): State<App>,
    KeptCsrfForm(CsrfForm { session, form }): KeptCsrfForm,
) -> Result<Response, WebError> {
    require_agent(&session)?;
    let refs = app.reference_data().await?;
    let new = match read_order(&refs, &form) {
        Ok(new) => new,
        Err(errors) => return Ok(refused(&app, &session, &refs, form, errors)),
    };
    let created = match app.register_order(&session.actor, new).await {
        Ok(created) => created,
        Err(err) if matches!(err.code(), "internal" | "forbidden") => return Err(err.into()),
        Err(err) => {
            let field = err.field().map_or_else(|| "form".to_owned(), input_for);
            return Ok(refused(
                &app,
                &session,
                &refs,
                form,
                vec![(field, err.to_string())],
            ));
        }
    };
    let number = created.order.number.clone();
    let target = match form.text("then").as_str() {
        "close" => {
            let action = Action::CloseDirect(CloseDirect {
                answer: form.text("answer"),
                // The entry chosen in the knowledge panel (据此答复), if any.
                knowledge_entry_id: form.text("knowledge_entry_id").trim().parse().ok(),
            });
            match app
                .act_on_order(&session.actor, &number, action, Some(created.order.version))
                .await
            {
                Ok(_) => format!("/orders/{number}?done=register_close"),
                Err(err) => {
                    tracing::warn!(error = %err, %number, "direct close after intake refused");
                    format!("/orders/{number}?done=register")
                }
            }
        }
        "dispatch" => format!("/orders/{number}?done=register#act-dispatch"),
        _ => format!("/orders/{number}?done=register"),
    };
    // 登记并并入: the similar-orders panel's button names the parent. The call is registered
    // (acknowledged) either way; a refused merge leaves it registered, to be merged or
    // dispatched from its page.
    let parent = form.text("merge_into");
    let target = if parent.trim().is_empty() {
        target
    } else {
        let action = Action::Merge(Merge {
            parent_number: parent.trim().to_owned(),
            note: Some("来电登记时并入".to_owned()),
        });
        match app
            .act_on_order(&session.actor, &number, action, Some(created.order.version))
            .await
        {
            Ok(_) => format!("/orders/{number}?done=register_merge"),
            Err(err) => {
                tracing::warn!(error = %err, %number, "merge after intake refused");
                format!("/orders/{number}?done=register")
            }
        }
    };
    Ok(Redirect::to(&target).into_response())
}

fn refused(
    app: &App,
    session: &WebSession,
    refs: &ReferenceData,
    form: FormData,
    errors: Vec<(String, String)>,
) -> Response {
    let mut page = page(app, session, refs, form, errors);
    let summary = if page.errors.len() == 1 {
        "登记未保存：请修改标红的项目后重新保存".to_owned()
    } else {
        format!("登记未保存：有{}处需要修改", page.errors.len())
    };
    page.layout = page.layout.clone().flash("error", summary);
    (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
}

/// An earlier order of the caller.
#[derive(Debug, Clone)]
pub struct CallerOrder {
    pub number: String,
    pub created: String,
    pub title: String,
    pub state: Badge,
}

/// The caller-tag checkboxes (`#caller-tags`) with what they were last ticked for: the phone
/// whose known tags were applied (`tags_for`) and those tags (`tags_auto`), sent back with the
/// next caller-panel request so that the panel can tell the agent's own ticks from its own.
#[derive(Debug, Clone)]
pub struct TagBox {
    pub choices: Vec<Choice>,
    pub for_phone: String,
    pub auto: Vec<String>,
    /// Rendered as an htmx out-of-band swap (in the caller panel's answer).
    pub oob: bool,
}

impl TagBox {
    fn new(ticked: &[&str], for_phone: String, auto: Vec<String>, oob: bool) -> Self {
        Self {
            choices: enum_choices(CallerTag::ALL, CallerTag::as_str, CallerTag::label, ticked),
            for_phone,
            auto,
            oob,
        }
    }
}

#[derive(Template)]
#[template(path = "intake_caller.html")]
struct CallerPanel {
    phone: String,
    total: i64,
    orders: Vec<CallerOrder>,
    /// The labels of the caller's known tags.
    labels: Vec<&'static str>,
    malicious: bool,
    /// The tag checkboxes again, ticked from the caller's known tags, when the phone changed.
    tag_box: Option<TagBox>,
    /// The labels this answer ticked, to tell the agent.
    ticked_now: Vec<&'static str>,
}

/// The caller's known tags: every tag on their earlier orders (newest eight), and 重复来电 when
/// they called at least twice before.
fn known_tags(orders: &[crate::storage::OrderListItem], total: i64) -> Vec<CallerTag> {
    let mut tags: Vec<CallerTag> = Vec::new();
    for item in orders {
        for tag in &item.order.citizen.tags {
            if !tags.contains(tag) {
                tags.push(*tag);
            }
        }
    }
    if total >= 2 && !tags.contains(&CallerTag::RepeatCaller) {
        tags.push(CallerTag::RepeatCaller);
    }
    tags.sort_by_key(|t| CallerTag::ALL.iter().position(|a| a == t));
    tags
}

/// The ticks after the phone changed: the agent's own ticks stay (what is ticked now but was
/// not ticked by the previous phone's known tags), the previous phone's tags go, the new
/// phone's known tags are ticked. `None` when the phone is the one the ticks were made for, so
/// that a repeated request (the `change` after the typing) never undoes the agent's ticks.
fn retick(query: &FormData, phone: &str, known: &[CallerTag]) -> Option<TagBox> {
    if query.text("tags_for") == phone {
        return None;
    }
    let previous = query.all("tags_auto");
    let mut ticked: Vec<&str> = query
        .all("caller_tags")
        .into_iter()
        .filter(|t| !previous.contains(t))
        .collect();
    for tag in known {
        if !ticked.contains(&tag.as_str()) {
            ticked.push(tag.as_str());
        }
    }
    let auto = known.iter().map(|t| t.as_str().to_owned()).collect();
    Some(TagBox::new(&ticked, phone.to_owned(), auto, true))
}

/// `GET /orders/new/caller?phone=…&caller_tags=…&tags_for=…&tags_auto=…` (htmx, sent with the
/// tag checkboxes): the caller's earlier orders and tags and, when the phone changed, the tag
/// checkboxes ticked from the caller's known tags (an out-of-band swap of `#caller-tags`).
pub async fn caller(
    State(app): State<App>,
    session: WebSession,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let query = FormData::parse(raw.unwrap_or_default().as_bytes());
    let phone = query.text("phone");
    if phone.chars().count() < 3 {
        return Ok(render(&CallerPanel {
            tag_box: retick(&query, &phone, &[]),
            phone,
            total: 0,
            orders: Vec::new(),
            labels: Vec::new(),
            malicious: false,
            ticked_now: Vec::new(),
        }));
    }
    let filter = OrderFilter {
        phone: Some(phone.clone()),
        ..OrderFilter::default()
    };
    let result = app
        .list_orders(
            &session.actor,
            filter,
            PageRequest {
                limit: 8,
                offset: 0,
            },
        )
        .await?;
    let tz = app.config.tz().map_err(|e| WebError::internal(&e))?;
    let known = known_tags(&result.orders, result.total);
    let orders = result
        .orders
        .iter()
        .map(|item| CallerOrder {
            number: item.order.number.clone(),
            created: date_cn(item.order.created_at, tz),
            title: item.order.title.clone(),
            state: state_badge(item.order.state),
        })
        .collect();
    let tag_box = retick(&query, &phone, &known);
    Ok(render(&CallerPanel {
        ticked_now: if tag_box.is_some() {
            known.iter().map(|t| t.label()).collect()
        } else {
            Vec::new()
        },
        tag_box,
        phone,
        total: result.total,
        orders,
        malicious: known.contains(&CallerTag::Malicious),
        labels: known.iter().map(|t| t.label()).collect(),
    }))
}

#[derive(Template)]
#[template(
    source = r#"<option value="">{{ placeholder }}</option>{% for c in options %}<option value="{{ c.value }}">{{ c.label }}</option>{% endfor %}{% if reset_communities %}<select id="community_id" hx-swap-oob="innerHTML"><option value="">（社区/村）</option></select>{% endif %}"#,
    ext = "html"
)]
struct AreaOptions {
    placeholder: &'static str,
    options: Vec<Choice>,
    /// Also empties the community select (out of band): its street is gone.
    reset_communities: bool,
}

/// Query of the area cascade: the district select sends `district_id`, the street select
/// `street_id` (each only its own value).
#[derive(Debug, Deserialize)]
pub struct AreaQuery {
    district_id: Option<String>,
    street_id: Option<String>,
}

/// `GET /orders/new/areas` (htmx): for `district_id`, the district's streets as `<option>`s for
/// `#street_id`, none chosen, and the community select emptied out of band (so that no
/// community of the previous street stays); for `street_id`, the street's communities for
/// `#community_id`. An empty id answers the placeholder alone.
pub async fn areas(
    State(app): State<App>,
    _session: WebSession,
    Query(query): Query<AreaQuery>,
) -> Result<Response, WebError> {
    let refs = app.reference_data().await?;
    let id = |v: &Option<String>| v.as_deref().and_then(|v| v.trim().parse::<i64>().ok());
    let areas = match &query.street_id {
        Some(_) => AreaOptions {
            placeholder: "（社区/村）",
            options: unit_choices(&refs, id(&query.street_id), ""),
            reset_communities: false,
        },
        None => AreaOptions {
            placeholder: "（街道/乡镇）",
            options: unit_choices(&refs, id(&query.district_id), ""),
            reset_communities: true,
        },
    };
    Ok(render(&areas))
}
