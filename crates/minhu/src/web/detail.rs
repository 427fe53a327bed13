//! 工单详情: every field, the citizen as the service lets this person see it, the assignments with
//! their deadlines and warning colours, the history as a timeline, and a small form for each
//! action the person may take now. Action forms post with htmx (the panel is swapped in place)
//! and fall back to a plain POST and redirect.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minhu_domain::warning::{active_deadline, warning_level};
use minhu_domain::{Action, Assignment, permissions};
use serde::Deserialize;

use super::action_forms::{ActionForm, Refusal, apply_refusal, fields_for, parse_action};
use super::attachments::{ActionPost, AttachmentLink};
use super::error::{WebError, render};
use super::format::{Badge, datetime_cn, opt_datetime_cn, state_badge, warning_badge};
use super::layout::Layout;
use super::session::{WebSession, is_htmx};
use crate::http::extract::ClientAddress;
use crate::service::orders::CitizenVisibility;
use crate::service::{App, attachments};

/// A label and a value of the facts grid.
#[derive(Debug, Clone)]
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// An assignment as shown.
#[derive(Debug, Clone)]
pub struct AssignmentRow {
    pub unit: String,
    pub role: &'static str,
    pub state: &'static str,
    pub dispatched_at: String,
    pub sign_deadline: String,
    pub handle_deadline: String,
    pub warning: Option<Badge>,
    pub signed_at: String,
    pub reply: Option<String>,
    pub return_reason: Option<String>,
    pub extension: Option<String>,
    pub delegated: bool,
}

/// A history line as shown.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub action: &'static str,
    pub states: String,
    pub unit: Option<String>,
    pub text: Option<String>,
    /// The files that came with this action (附件).
    pub attachments: Vec<AttachmentLink>,
}

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailPage {
    layout: Layout,
    number: String,
    title: String,
    version: i64,
    state: Badge,
    warning: Option<Badge>,
    facts: Vec<Fact>,
    citizen: Vec<Fact>,
    citizen_note: &'static str,
    content: String,
    reply: Option<String>,
    assignments: Vec<AssignmentRow>,
    history: Vec<HistoryRow>,
    forms: Vec<ActionForm>,
    notice: Option<String>,
    error: Option<String>,
    /// What the user typed for an action that is no longer offered (kept, not lost).
    kept: Vec<(String, String)>,
    /// 回访话术, shown above the visit form when the visit action is available.
    visit_script: Option<VisitScript>,
    /// The file input's `accept` list and the hint under it (附件).
    file_accept: &'static str,
    file_hint: String,
    /// 已并单: the order this one is handled with (number, title, state, its answer).
    merged_into: Option<RelatedOrder>,
    /// 重复件: the orders merged into this one; their callers are answered and visited with it.
    repeats: Vec<RelatedOrder>,
}

/// An order linked from another (merge parent or repeat).
#[derive(Debug, Clone)]
pub struct RelatedOrder {
    pub number: String,
    pub title: String,
    pub state: Badge,
    pub caller: String,
    pub created_at: String,
    pub reply: Option<String>,
}

fn related(order: &minhu_domain::Order, tz: chrono_tz::Tz) -> RelatedOrder {
    let c = &order.citizen;
    RelatedOrder {
        number: order.number.clone(),
        title: order.title.clone(),
        state: state_badge(order.state),
        caller: [c.name.clone().unwrap_or_default(), c.phone.clone()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        created_at: datetime_cn(order.created_at, tz),
        reply: order.reply.clone(),
    }
}

/// The return-visit script the visitor reads to the caller.
#[derive(Debug, Clone)]
pub struct VisitScript {
    pub greeting: String,
    pub reply: String,
    pub questions: [&'static str; 2],
}

/// The script for `order`: greeting with the masked caller name, the order, the reply that
/// passed review and the two questions.
#[must_use]
pub fn visit_script(order: &minhu_domain::Order) -> VisitScript {
    let c = &order.citizen;
    let salutation = match (c.name.as_deref().map(str::trim), c.gender) {
        (Some(name), gender) if !name.is_empty() => {
            let masked = minhu_domain::masking::mask_name(name);
            match gender {
                Some(minhu_domain::Gender::Male) => format!("{masked}先生"),
                Some(minhu_domain::Gender::Female) => format!("{masked}女士"),
                _ => masked,
            }
        }
        _ => "市民朋友".to_owned(),
    };
    VisitScript {
        greeting: format!(
            "您好，请问是{salutation}吗？这里是12345政务服务便民热线，就您反映的工单 {}（{}）进行回访。",
            order.number, order.title
        ),
        reply: order
            .reply
            .clone()
            .unwrap_or_else(|| "（无答复内容）".to_owned()),
        questions: ["您反映的问题是否已解决？", "您对办理结果是否满意？"],
    }
}

/// Query of the detail page (a flash after a redirect).
#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    done: Option<String>,
}

/// `GET /orders/{number}`.
pub async fn show(
    State(app): State<App>,
    session: WebSession,
    ClientAddress(address): ClientAddress,
    Path(number): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, WebError> {
    let page = build(
        &app,
        &session,
        &address,
        &number,
        query.done.as_deref(),
        None,
    )
    .await?;
    Ok(render(&page))
}

/// `POST /orders/{number}/act/{action}`: one lifecycle action from its form (URL-encoded, or
/// multipart when it carries files: the reply's 附件).
pub async fn act(
    State(app): State<App>,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    Path((number, code)): Path<(String, String)>,
    post: ActionPost,
) -> Result<Response, WebError> {
    let ActionPost {
        session,
        form,
        files,
        file_failure,
    } = post;
    let Some(code) = Action::CODES.iter().copied().find(|c| *c == code) else {
        return Err(WebError::not_found("没有这个工单操作"));
    };
    let version = form.text("version").parse::<i64>().ok();
    let parsed = match file_failure {
        Some(message) => Err((Some("files".to_owned()), message)),
        None => parse_action(code, &form),
    };
    let outcome = match parsed {
        Err((field, message)) => Err((StatusCode::UNPROCESSABLE_ENTITY, field, message)),
        Ok(action) => match app
            .act_on_order_with_files(&session.actor, &number, action, version, files)
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if matches!(err.code(), "internal" | "not_found") => return Err(err.into()),
            Err(err) => {
                let status = if err.code() == "version_conflict" {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                let field = err
                    .field()
                    .map(|f| f.rsplit('.').next().unwrap_or(f).to_owned());
                Err((status, field, err.to_string()))
            }
        },
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/orders/{number}?done={code}")).into_response()),
        Err((status, field, message)) => {
            let refusal = Refusal {
                code: code.to_owned(),
                message,
                field,
                values: form
                    .0
                    .into_iter()
                    .filter(|(k, _)| k != "_csrf" && k != "version")
                    .collect(),
            };
            let page = build(&app, &session, &address, &number, None, Some(refusal)).await?;
            // htmx swaps only successful answers; a plain form shows the status.
            let status = if is_htmx(&headers) {
                StatusCode::OK
            } else {
                status
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

fn assignment_row(
    app: &App,
    a: &Assignment,
    refs: &crate::service::desk::ReferenceData,
    layout: &Layout,
) -> AssignmentRow {
    let tz = layout.tz;
    let now = app.now();
    let warning = a.state.is_open().then(|| {
        let d = active_deadline(
            a.handle_start_at,
            a.handle_deadline_at,
            app.config.yellow_share,
        );
        warning_level(&d, now)
    });
    AssignmentRow {
        unit: refs.unit_name(a.unit_id),
        role: a.role.label(),
        state: a.state.label(),
        dispatched_at: datetime_cn(a.dispatched_at, tz),
        sign_deadline: datetime_cn(a.sign_deadline_at, tz),
        handle_deadline: datetime_cn(a.handle_deadline_at, tz),
        warning: warning_badge(warning),
        signed_at: opt_datetime_cn(a.signed_at, tz),
        reply: a.reply.clone(),
        return_reason: a.return_reason.clone(),
        extension: a.extension_request.as_ref().map(|e| {
            format!(
                "申请延期{}个工作日至{}：{}",
                e.days,
                datetime_cn(e.proposed_deadline_at, tz),
                e.reason
            )
        }),
        delegated: a.parent_assignment_id.is_some(),
    }
}

/// Gathers the whole page: the order as this person may see it, names, forms.
async fn build(
    app: &App,
    session: &WebSession,
    address: &str,
    number: &str,
    done: Option<&str>,
    refusal: Option<Refusal>,
) -> Result<DetailPage, WebError> {
    let (detail, refs) = tokio::try_join!(
        app.get_order(&session.actor, number, Some(address)),
        app.reference_data()
    )?;
    let agg = &detail.aggregate;
    let order = &agg.order;
    let mut people: Vec<i64> = detail.history.iter().map(|h| h.event.actor_id).collect();
    people.sort_unstable();
    people.dedup();
    let names = app.user_names(&people).await?;
    let suggested = if detail.available_actions.contains(&"dispatch")
        || detail.available_actions.contains(&"review_return")
    {
        app.suggest_units(order.category_id, order.location.district_id)
            .await?
    } else {
        Vec::new()
    };
    let layout = Layout::new(app, session, &format!("工单 {number}"), "/orders")
        .crumb("工单查询", Some("/orders"))
        .crumb(number.to_owned(), None);
    let tz = layout.tz;
    let mut notice = None;
    if let Some(done) = done {
        notice = layout.clone().flash_done(Some(done)).flash.map(|f| f.text);
    }

    let area = [
        order.location.district_id,
        order.location.street_id,
        order.location.community_id,
    ]
    .into_iter()
    .flatten()
    .map(|id| refs.unit_name(id))
    .collect::<Vec<_>>()
    .join(" › ");
    let mut facts = vec![
        Fact {
            label: "工单编号",
            value: order.number.clone(),
        },
        Fact {
            label: "受理渠道",
            value: order.channel.label().to_owned(),
        },
        Fact {
            label: "工单类型",
            value: order.order_type.label().to_owned(),
        },
        Fact {
            label: "紧急程度",
            value: order.urgency.label().to_owned(),
        },
        Fact {
            label: "问题分类",
            value: refs.category_path(order.category_id),
        },
        Fact {
            label: "所属区域",
            value: if area.is_empty() {
                "—".to_owned()
            } else {
                area
            },
        },
        Fact {
            label: "详细地址",
            value: order.location.address.clone(),
        },
        Fact {
            label: "登记时间",
            value: datetime_cn(order.created_at, tz),
        },
        Fact {
            label: "派单时限",
            value: datetime_cn(order.dispatch_deadline_at, tz),
        },
        Fact {
            label: "当前时限",
            value: opt_datetime_cn(order.active_deadline.map(|d| d.deadline_at), tz),
        },
        Fact {
            label: "回访时限",
            value: opt_datetime_cn(order.visit_deadline_at, tz),
        },
        Fact {
            label: "办结时间",
            value: opt_datetime_cn(order.closed_at, tz),
        },
    ];
    if !order.tags.is_empty() {
        facts.push(Fact {
            label: "工单标签",
            value: order.tags.join("、"),
        });
    }
    let counts = format!(
        "重办 {} 次 · 催办 {} 次 · 督办 {} 次",
        order.redo_count, order.urge_count, order.supervision_count
    );
    facts.push(Fact {
        label: "督办情况",
        value: counts,
    });
    if let Some(s) = order.solved {
        facts.push(Fact {
            label: "是否解决",
            value: s.label().to_owned(),
        });
    }
    if let Some(s) = order.satisfaction {
        facts.push(Fact {
            label: "满意度",
            value: s.label().to_owned(),
        });
    }
    if let Some(e) = order.escalation {
        facts.push(Fact {
            label: "呈报",
            value: e.label().to_owned(),
        });
    }
    if let Some(text) = &order.leader_instruction {
        facts.push(Fact {
            label: "领导批示",
            value: text.clone(),
        });
    }
    if let Some(a) = order.appeal {
        facts.push(Fact {
            label: "申诉",
            value: a.label().to_owned(),
        });
    }
    if let Some(text) = &order.terminal_note {
        facts.push(Fact {
            label: "处理说明",
            value: text.clone(),
        });
    }

    let c = &order.citizen;
    let (citizen, citizen_note) = match detail.citizen_visibility {
        CitizenVisibility::Hidden => (Vec::new(), "保密工单：来电人信息不向承办单位显示"),
        visibility => {
            let mut rows = vec![
                Fact {
                    label: "姓名",
                    value: c.name.clone().unwrap_or_else(|| "（未留名）".to_owned()),
                },
                Fact {
                    label: "来电号码",
                    value: c.phone.clone(),
                },
            ];
            if let Some(p) = &c.contact_phone {
                rows.push(Fact {
                    label: "联系电话",
                    value: p.clone(),
                });
            }
            if let Some(g) = c.gender {
                rows.push(Fact {
                    label: "性别",
                    value: g.label().to_owned(),
                });
            }
            if let Some(e) = &c.enterprise_name {
                rows.push(Fact {
                    label: "企业名称",
                    value: e.clone(),
                });
            }
            if !c.tags.is_empty() {
                let tags = c
                    .tags
                    .iter()
                    .map(|t| t.label())
                    .collect::<Vec<_>>()
                    .join("、");
                rows.push(Fact {
                    label: "来电人标签",
                    value: tags,
                });
            }
            if c.confidential {
                rows.push(Fact {
                    label: "保密",
                    value: "是（承办单位不可见）".to_owned(),
                });
            }
            let note = if visibility == CitizenVisibility::Masked {
                "个人信息已脱敏"
            } else {
                "完整信息，查看已记入审计日志"
            };
            (rows, note)
        }
    };

    let assignments = agg
        .assignments
        .iter()
        .map(|a| assignment_row(app, a, &refs, &layout))
        .collect();
    let history = detail
        .history
        .iter()
        .map(|h| {
            let e = &h.event;
            HistoryRow {
                at: datetime_cn(e.at, tz),
                who: format!(
                    "{}（{}）",
                    names
                        .get(&e.actor_id)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", e.actor_id)),
                    refs.unit_name(e.actor_unit_id)
                ),
                action: permissions::action_label(&e.action),
                states: match e.from_state {
                    Some(from) if from != e.to_state => {
                        format!("{} → {}", from.label(), e.to_state.label())
                    }
                    _ => e.to_state.label().to_owned(),
                },
                unit: e.unit_id.map(|id| refs.unit_name(id)),
                text: e.text.clone(),
                attachments: detail
                    .attachments
                    .iter()
                    .filter(|a| a.history_id == h.id)
                    .map(|a| AttachmentLink::new(&order.number, a))
                    .collect(),
            }
        })
        .collect();

    let mut forms: Vec<ActionForm> = detail
        .available_actions
        .iter()
        .map(|code| ActionForm {
            code,
            label: permissions::action_label(code),
            fields: fields_for(code, &session.actor, agg, &refs, &suggested),
            open: false,
            error: None,
        })
        .collect();
    let mut error = None;
    let mut kept = Vec::new();
    if let Some(refusal) = refusal {
        match forms.iter_mut().find(|f| f.code == refusal.code) {
            Some(form) => {
                apply_refusal(&mut form.fields, &refusal);
                form.open = true;
                form.error = Some(refusal.message.clone());
            }
            None => {
                kept = refusal
                    .values
                    .into_iter()
                    .filter(|(_, v)| !v.trim().is_empty())
                    .collect()
            }
        }
        error = Some(refusal.message);
    }

    let visit_script = detail
        .available_actions
        .contains(&"visit")
        .then(|| visit_script(order));
    let tz = layout.tz;
    Ok(DetailPage {
        merged_into: detail.merged_into.as_ref().map(|p| related(p, tz)),
        repeats: detail
            .repeats
            .iter()
            .map(|r| related(&r.order, tz))
            .collect(),
        visit_script,
        file_accept: attachments::ACCEPT,
        file_hint: format!(
            "可选，最多{}个，每个不超过{}；{}",
            attachments::MAX_FILES,
            attachments::human_size(i64::try_from(attachments::MAX_FILE_BYTES).unwrap_or(i64::MAX)),
            attachments::ALLOWED_LABEL
        ),
        number: order.number.clone(),
        title: order.title.clone(),
        version: order.version,
        state: state_badge(order.state),
        warning: warning_badge(detail.warning),
        facts,
        citizen,
        citizen_note,
        content: order.content.clone(),
        reply: order.reply.clone(),
        assignments,
        history,
        forms,
        notice,
        error,
        kept,
        layout,
    })
}
