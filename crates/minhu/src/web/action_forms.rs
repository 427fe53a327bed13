//! The small form of each lifecycle action on the detail page, and reading a posted form back
//! into the domain's [`Action`]. The fields mirror the API payloads in `minhu_domain::action`.

use std::collections::HashMap;

use minhu_domain::{
    Action, Actor, AssignmentState, EmergencyLine, LegalChannel, OrderAggregate, Satisfaction,
    Solved, UnitInfo, UnitKind,
};
use serde_json::{Map, Value};

use super::list::Choice;
use super::session::FormData;
use crate::service::desk::ReferenceData;

/// How a field is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Textarea,
    Number,
    Select,
    MultiSelect,
    /// Yes/no radio pair; values `true` / `false`.
    YesNo,
    Checkbox,
    /// A file input (`multiple`): the form is then posted as `multipart/form-data`.
    Files,
}

/// One field of an action form, with what the user typed (kept after a refusal).
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub options: Vec<Choice>,
    /// Labels of the yes/no choice.
    pub yes_no: (&'static str, &'static str),
    pub value: String,
    pub error: Option<String>,
}

impl Field {
    fn new(name: &'static str, label: &'static str, kind: Kind) -> Self {
        Self {
            name,
            label,
            kind,
            required: false,
            options: Vec::new(),
            yes_no: ("是", "否"),
            value: String::new(),
            error: None,
        }
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn options(mut self, options: Vec<(String, String)>) -> Self {
        self.options = options
            .into_iter()
            .map(|(value, label)| Choice {
                value,
                label,
                selected: false,
            })
            .collect();
        self
    }

    fn yes_no(mut self, yes: &'static str, no: &'static str) -> Self {
        self.yes_no = (yes, no);
        self
    }

    /// The kind as a word for the template: `text`, `textarea`, `number`, `select`, `multi`,
    /// `yesno`, `checkbox`, `files`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self.kind {
            Kind::Text => "text",
            Kind::Textarea => "textarea",
            Kind::Number => "number",
            Kind::Select => "select",
            Kind::MultiSelect => "multi",
            Kind::YesNo => "yesno",
            Kind::Checkbox => "checkbox",
            Kind::Files => "files",
        }
    }

    /// Whether the yes/no or checkbox value is on.
    #[must_use]
    pub fn is_on(&self) -> bool {
        matches!(self.value.as_str(), "true" | "on" | "1")
    }

    /// Whether the yes/no value is explicitly off.
    #[must_use]
    pub fn is_off(&self) -> bool {
        self.value == "false"
    }
}

/// A form for one available action.
#[derive(Debug, Clone)]
pub struct ActionForm {
    pub code: &'static str,
    pub label: &'static str,
    pub fields: Vec<Field>,
    /// Open (expanded) when it was just submitted and refused.
    pub open: bool,
    pub error: Option<String>,
}

impl ActionForm {
    /// Whether the form carries files (then it is sent as `multipart/form-data`).
    #[must_use]
    pub fn has_files(&self) -> bool {
        self.fields.iter().any(|f| f.kind == Kind::Files)
    }
}

/// What the user posted and why it was refused, to draw the form again.
#[derive(Debug, Clone, Default)]
pub struct Refusal {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    pub values: Vec<(String, String)>,
}

fn enum_options<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (code(*v).to_owned(), label(*v).to_owned()))
        .collect()
}

fn unit_options<'a>(units: impl Iterator<Item = &'a UnitInfo>) -> Vec<(String, String)> {
    units.map(|u| (u.id.to_string(), u.name.clone())).collect()
}

/// Assignment units the actor covers, filtered by `keep`; a select is offered only when there are
/// several (with one, the server picks it).
fn assignment_units(
    actor: &Actor,
    agg: &OrderAggregate,
    refs: &ReferenceData,
    keep: impl Fn(&minhu_domain::Assignment) -> bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in agg.assignments.iter().filter(|a| keep(a)) {
        if let Some(unit) = refs.unit(a.unit_id)
            && actor.scope_covers(unit)
            && !out
                .iter()
                .any(|(id, _): &(String, String)| *id == unit.id.to_string())
        {
            out.push((
                unit.id.to_string(),
                format!("{}（{}）", unit.name, a.role.label()),
            ));
        }
    }
    out
}

fn unit_choice(label: &'static str, options: Vec<(String, String)>) -> Option<Field> {
    (options.len() > 1).then(|| {
        let mut all = vec![(String::new(), "（自动选择）".to_owned())];
        all.extend(options);
        Field::new("unit_id", label, Kind::Select).options(all)
    })
}

/// The fields of action `code` for this order and person. `suggested` are the dispatch
/// catalogue's units for the order (shown first in the dispatch pickers).
#[must_use]
pub fn fields_for(
    code: &str,
    actor: &Actor,
    agg: &OrderAggregate,
    refs: &ReferenceData,
    suggested: &[UnitInfo],
) -> Vec<Field> {
    let handling = || {
        let mut units: Vec<&UnitInfo> = suggested.iter().collect();
        let mut rest: Vec<&UnitInfo> = refs
            .units
            .iter()
            .filter(|u| u.active && u.kind != UnitKind::CityCentre)
            .filter(|u| !suggested.iter().any(|s| s.id == u.id))
            .collect();
        rest.sort_by(|a, b| a.path.cmp(&b.path));
        units.extend(rest);
        unit_options(units.into_iter())
    };
    let open = |a: &minhu_domain::Assignment| a.state.is_open();
    let mut fields = match code {
        "close_direct" => vec![Field::new("answer", "答复内容", Kind::Textarea).required()],
        "reject" => vec![
            Field::new("legal_channel", "法定途径", Kind::Select)
                .required()
                .options(enum_options(
                    LegalChannel::ALL,
                    LegalChannel::as_str,
                    LegalChannel::label,
                )),
            Field::new("explanation", "告知内容", Kind::Textarea).required(),
        ],
        "transfer" => vec![
            Field::new("line", "转至", Kind::Select)
                .required()
                .options(enum_options(
                    EmergencyLine::ALL,
                    EmergencyLine::as_str,
                    EmergencyLine::label,
                )),
            Field::new("note", "说明", Kind::Text),
        ],
        "merge" => vec![
            Field::new("parent_number", "主工单编号", Kind::Text).required(),
            Field::new("note", "说明", Kind::Text),
        ],
        "dispatch" => {
            let units = handling();
            vec![
                Field::new("lead_unit_id", "主办单位", Kind::Select)
                    .required()
                    .options(units.clone()),
                Field::new("co_unit_ids", "协办单位（可多选）", Kind::MultiSelect).options(units),
                Field::new("note", "派单意见", Kind::Textarea),
            ]
        }
        "sign" => Vec::new(),
        "request_return" => vec![Field::new("reason", "退单理由", Kind::Textarea).required()],
        "review_return" => {
            let returning = assignment_units(actor, agg, refs, |a| {
                a.state == AssignmentState::ReturnRequested
            });
            let mut fields = vec![
                Field::new("unit_id", "退单单位", Kind::Select)
                    .required()
                    .options(returning),
                Field::new("agree", "审核结果", Kind::YesNo)
                    .required()
                    .yes_no("同意退单并改派", "驳回退单"),
            ];
            let mut new_units = vec![(String::new(), "（不改派）".to_owned())];
            new_units.extend(handling());
            fields.push(Field::new("new_unit_id", "改派至", Kind::Select).options(new_units));
            fields.push(Field::new("note", "审核意见", Kind::Text));
            fields
        }
        "redispatch" => {
            let below = refs
                .units
                .iter()
                .filter(|u| u.active && u.id != actor.unit.id && actor.unit.contains(u));
            vec![
                Field::new("to_unit_id", "转派至", Kind::Select)
                    .required()
                    .options(unit_options(below)),
                Field::new("note", "转派意见", Kind::Text),
            ]
        }
        "request_extension" => vec![
            Field::new("days", "延期工作日数", Kind::Number).required(),
            Field::new("reason", "延期理由", Kind::Textarea).required(),
        ],
        "review_extension" => vec![
            Field::new("unit_id", "申请单位", Kind::Select)
                .required()
                .options(assignment_units(actor, agg, refs, |a| {
                    a.extension_request.is_some()
                })),
            Field::new("approve", "审核结果", Kind::YesNo)
                .required()
                .yes_no("同意延期", "不同意"),
            Field::new("note", "审核意见", Kind::Text),
        ],
        "reply" => vec![
            Field::new("text", "办理结果", Kind::Textarea).required(),
            Field::new("files", "附件", Kind::Files),
        ],
        "review" => vec![
            Field::new("pass", "审核结果", Kind::YesNo)
                .required()
                .yes_no("通过", "退回重办"),
            Field::new("note", "审核意见", Kind::Textarea),
        ],
        "visit" => vec![
            Field::new("solved", "是否解决", Kind::Select)
                .required()
                .options(enum_options(Solved::ALL, Solved::as_str, Solved::label)),
            Field::new("satisfaction", "满意度", Kind::Select)
                .required()
                .options(enum_options(
                    Satisfaction::ALL,
                    Satisfaction::as_str,
                    Satisfaction::label,
                )),
            Field::new("redo", "不满意且诉求合理：重办", Kind::Checkbox),
            Field::new("note", "回访记录", Kind::Textarea),
        ],
        "appeal" => vec![Field::new("reason", "申诉理由", Kind::Textarea).required()],
        "review_appeal" => vec![
            Field::new("uphold", "审核结果", Kind::YesNo)
                .required()
                .yes_no("申诉成立（不予考核）", "申诉不成立"),
            Field::new("note", "审核意见", Kind::Text),
        ],
        "urge" => vec![Field::new("note", "催办意见", Kind::Textarea).required()],
        "supervise" => vec![Field::new("note", "督办意见", Kind::Textarea).required()],
        "escalate" => vec![Field::new("note", "呈报说明", Kind::Textarea).required()],
        "instruct" => vec![Field::new("instruction", "批示内容", Kind::Textarea).required()],
        _ => Vec::new(),
    };
    let own = |label| unit_choice(label, assignment_units(actor, agg, refs, open));
    let extra = match code {
        "sign" | "request_return" | "request_extension" | "reply" => own("本单位任务"),
        "redispatch" => own("转派的任务"),
        "review" => unit_choice(
            "审核的单位",
            assignment_units(actor, agg, refs, |a| {
                a.state == AssignmentState::Replied && a.parent_assignment_id.is_some()
            }),
        ),
        _ => None,
    };
    fields.extend(extra);
    fields
}

/// Fills the fields with what was posted and marks the field at fault.
pub fn apply_refusal(fields: &mut [Field], refusal: &Refusal) {
    let values: HashMap<&str, Vec<&str>> =
        refusal
            .values
            .iter()
            .fold(HashMap::new(), |mut map, (k, v)| {
                map.entry(k.as_str()).or_default().push(v.as_str());
                map
            });
    for field in fields.iter_mut() {
        let posted = values.get(field.name).cloned().unwrap_or_default();
        field.value = posted.first().copied().unwrap_or("").to_owned();
        for option in &mut field.options {
            option.selected = posted.contains(&option.value.as_str());
        }
        if refusal.field.as_deref() == Some(field.name) {
            field.error = Some(refusal.message.clone());
        }
    }
}

const INT_FIELDS: &[&str] = &[
    "unit_id",
    "new_unit_id",
    "lead_unit_id",
    "to_unit_id",
    "days",
];
const BOOL_FIELDS: &[&str] = &["agree", "approve", "pass", "redo", "uphold"];

/// Reads a posted action form into an [`Action`], or `(field, message)` in Chinese.
pub fn parse_action(code: &str, form: &FormData) -> Result<Action, (Option<String>, String)> {
    let mut map = Map::new();
    map.insert("action".to_owned(), Value::String(code.to_owned()));
    for (name, value) in &form.0 {
        let name = name.as_str();
        if matches!(name, "_csrf" | "version" | "action") {
            continue;
        }
        let value = value.trim();
        let json = if name == "co_unit_ids" {
            if value.is_empty() {
                continue;
            }
            let id: i64 = value
                .parse()
                .map_err(|_| (Some(name.to_owned()), "请选择有效的协办单位".to_owned()))?;
            let list = map
                .entry(name.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = list {
                items.push(Value::from(id));
            }
            continue;
        } else if value.is_empty() {
            continue;
        } else if INT_FIELDS.contains(&name) {
            let n: i64 = value
                .parse()
                .map_err(|_| (Some(name.to_owned()), "请填写有效的数字或选项".to_owned()))?;
            Value::from(n)
        } else if BOOL_FIELDS.contains(&name) {
            Value::Bool(matches!(value, "true" | "on" | "1"))
        } else {
            Value::String(value.to_owned())
        };
        map.insert(name.to_owned(), json);
    }
    crate::http::extract::from_json_value::<Action>(Value::Object(map)).map_err(|e| {
        let message = match e.code.as_ref() {
            "missing_field" => format!("请填写必填项：{}", e.field.as_deref().unwrap_or("")),
            _ => e.message.clone(),
        };
        (e.field, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_parse_into_actions() {
        let form =
            FormData::parse(b"_csrf=x&version=3&lead_unit_id=7&co_unit_ids=8&co_unit_ids=9&note=");
        let action = parse_action("dispatch", &form).unwrap();
        assert_eq!(
            action,
            Action::Dispatch(minhu_domain::action::Dispatch {
                lead_unit_id: 7,
                co_unit_ids: vec![8, 9],
                note: None
            })
        );
        let form = FormData::parse(b"solved=solved&satisfaction=unsatisfied&redo=on");
        assert!(matches!(
            parse_action("visit", &form),
            Ok(Action::Visit(v)) if v.redo
        ));
        let (field, message) = parse_action("reply", &FormData::parse(b"text=")).unwrap_err();
        assert_eq!(field.as_deref(), Some("text"));
        assert!(message.contains("必填"));
        let (field, _) =
            parse_action("request_extension", &FormData::parse(b"days=x")).unwrap_err();
        assert_eq!(field.as_deref(), Some("days"));
    }
}
