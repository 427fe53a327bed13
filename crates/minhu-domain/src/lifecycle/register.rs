//! 登记: registering a new order, with the validation of what the agent typed.

use serde_json::json;

use crate::action::{ActionContext, DomainError, Transition};
use crate::enums::{OrderState, Role, UnitKind};
use crate::lifecycle::common::{LONG_TEXT_MAX, optional_text, required_text, span};
use crate::lifecycle::guards::{INTAKE_ROLES, forbidden};
use crate::model::{Citizen, HistoryEvent, Location, NewOrder, Order, UnitInfo};

const TITLE_MAX: usize = 200;
const NAME_MAX: usize = 50;
const ADDRESS_MAX: usize = 500;
const ENTERPRISE_MAX: usize = 200;
const TAGS_MAX: usize = 20;
const TAG_MAX: usize = 30;

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A phone number: 3 to 20 characters, digits, `+` and `-` only.
fn phone(field: &str, label: &str, value: &str) -> Result<String, DomainError> {
    let t = value.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(field, format!("{label}不能为空")));
    }
    let n = chars(t);
    if !(3..=20).contains(&n)
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || c == '+' || c == '-')
    {
        return Err(DomainError::invalid(
            field,
            format!("{label}格式不正确：应为3到20位数字，可含“+”“-”"),
        ));
    }
    Ok(t.to_owned())
}

fn citizen(c: Citizen) -> Result<Citizen, DomainError> {
    let phone_no = phone("citizen.phone", "来电号码", &c.phone)?;
    let contact = match c.contact_phone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(phone("citizen.contact_phone", "联系电话", p)?),
    };
    let name = optional_text("citizen.name", "姓名", c.name.as_deref(), NAME_MAX)?;
    let enterprise_name = optional_text(
        "citizen.enterprise_name",
        "企业名称",
        c.enterprise_name.as_deref(),
        ENTERPRISE_MAX,
    )?;
    let mut tags = c.tags;
    tags.sort_unstable();
    tags.dedup();
    Ok(Citizen {
        name,
        phone: phone_no,
        contact_phone: contact,
        enterprise_name,
        tags,
        ..c
    })
}

fn tags(values: Vec<String>) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let tag = required_text("tags", "标签", &value, TAG_MAX)?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > TAGS_MAX {
        return Err(DomainError::invalid(
            "tags",
            format!("标签不能超过{TAGS_MAX}个"),
        ));
    }
    Ok(out)
}

/// A unit of the location: it must exist with the expected kind and lie under `within`.
fn location_unit<'u>(
    ctx: &'u ActionContext<'_>,
    field: &str,
    label: &str,
    id: Option<i64>,
    kind: UnitKind,
    within: Option<&UnitInfo>,
) -> Result<Option<&'u UnitInfo>, DomainError> {
    let Some(id) = id else { return Ok(None) };
    let unit = ctx
        .units
        .get(id)
        .filter(|u| u.kind == kind)
        .ok_or_else(|| DomainError::invalid(field, format!("所选{label}不存在")))?;
    if within.is_some_and(|w| !w.contains(unit)) {
        return Err(DomainError::invalid(
            field,
            format!("所选{label}不在上级区域内"),
        ));
    }
    Ok(Some(unit))
}

fn location(ctx: &ActionContext<'_>, l: Location) -> Result<Location, DomainError> {
    let address = optional_text(
        "location.address",
        "地址",
        Some(l.address.as_str()),
        ADDRESS_MAX,
    )?
    .unwrap_or_default();
    let district = location_unit(
        ctx,
        "location.district_id",
        "区",
        l.district_id,
        UnitKind::DistrictCentre,
        None,
    )?;
    let street = location_unit(
        ctx,
        "location.street_id",
        "街道/乡镇",
        l.street_id,
        UnitKind::Street,
        district,
    )?;
    location_unit(
        ctx,
        "location.community_id",
        "社区/村",
        l.community_id,
        UnitKind::Community,
        street.or(district),
    )?;
    if l.longitude
        .is_some_and(|x| !x.is_finite() || !(-180.0..=180.0).contains(&x))
    {
        return Err(DomainError::invalid("location.longitude", "经度不正确"));
    }
    if l.latitude
        .is_some_and(|y| !y.is_finite() || !(-90.0..=90.0).contains(&y))
    {
        return Err(DomainError::invalid("location.latitude", "纬度不正确"));
    }
    Ok(Location { address, ..l })
}

/// Registers a new order (登记); see [`crate::lifecycle::register`].
pub(crate) fn register(ctx: &ActionContext<'_>, new: NewOrder) -> Result<Transition, DomainError> {
    let actor = ctx.actor;
    if !actor.has_any_role(INTAKE_ROLES) {
        return Err(forbidden(&[Role::Agent, Role::Dispatcher]));
    }
    let title = required_text("title", "标题", &new.title, TITLE_MAX)?;
    let content = required_text("content", "诉求内容", &new.content, LONG_TEXT_MAX)?;
    let citizen = citizen(new.citizen)?;
    let tags = tags(new.tags)?;
    let location = location(ctx, new.location)?;
    if new.category_id <= 0 {
        return Err(DomainError::invalid("category_id", "请选择诉求分类"));
    }

    let now = ctx.now;
    let dispatch_deadline_at = ctx.calendar.deadline(now, ctx.limits.dispatch);
    let order = Order {
        id: 0,
        number: String::new(),
        version: 1,
        channel: new.channel,
        created_at: now,
        created_by: actor.user_id,
        updated_at: now,
        citizen,
        order_type: new.order_type,
        category_id: new.category_id,
        title,
        content,
        tags,
        urgency: new.urgency,
        location,
        state: OrderState::Registered,
        dispatch_deadline_at,
        active_deadline: Some(span(ctx, now, dispatch_deadline_at)),
        visit_deadline_at: None,
        reply: None,
        knowledge_entry_id: None,
        transfer_line: None,
        legal_channel: None,
        terminal_note: None,
        parent_order_id: None,
        closed_at: None,
        solved: None,
        satisfaction: None,
        visited_at: None,
        redo_count: 0,
        urge_count: 0,
        supervision_count: 0,
        escalation: None,
        leader_instruction: None,
        appeal: None,
        evaluation_excluded: false,
    };
    let event = HistoryEvent {
        at: now,
        actor_id: actor.user_id,
        actor_unit_id: actor.unit.id,
        action: "register".to_owned(),
        from_state: None,
        to_state: OrderState::Registered,
        unit_id: None,
        text: None,
        details: json!({
            "channel": order.channel,
            "order_type": order.order_type,
            "category_id": order.category_id,
            "urgency": order.urgency,
            "dispatch_deadline_at": dispatch_deadline_at,
        }),
    };
    Ok(Transition {
        order,
        assignments: Vec::new(),
        events: vec![event],
    })
}
