//! An order's way through the units: dispatch, sign, detours, reply, review, visit, appeal.

use minhu_domain::action::{
    Appeal, Instruct, Redispatch, Reply, RequestExtension, RequestReturn, Review, ReviewAppeal,
    ReviewExtension, ReviewReturn, Sign, Visit,
};
use minhu_domain::{Action, Actor, OrderType, Satisfaction, Solved, UnitInfo, UnitKind};
use rand::RngExt;

use super::plan::{AppealPlan, Ext, Route, Stop};
use super::{Seeder, dispatch, note};
use crate::demo::texts;
use crate::service::AppResult;

/// What the citizen says on the return visit.
fn visit_outcome(roll: u32) -> (Solved, Satisfaction, &'static str) {
    match roll {
        0..55 => (
            Solved::Solved,
            Satisfaction::Satisfied,
            "市民表示问题已解决，对办理结果满意",
        ),
        55..70 => (
            Solved::Solved,
            Satisfaction::BasicallySatisfied,
            "市民表示问题已解决，但希望办理速度再快一些",
        ),
        70..80 => (
            Solved::PartlySolved,
            Satisfaction::BasicallySatisfied,
            "市民表示问题部分解决，后续会继续关注",
        ),
        80..88 => (
            Solved::Unsolved,
            Satisfaction::Unsatisfied,
            "市民对答复不认可，经研判其诉求超出政策规定，不予重办",
        ),
        _ => (
            Solved::Solved,
            Satisfaction::NotRated,
            "市民表示已解决，不愿参与评价",
        ),
    }
}

impl Seeder<'_> {
    fn handler_of(&self, unit_id: i64) -> AppResult<Actor> {
        self.people.handler(unit_id).cloned()
    }

    fn return_reason(&self, lead: &UnitInfo, district_name: &str) -> String {
        if lead.kind == UnitKind::DistrictCentre {
            "经现场核实，该事项属于行业主管部门执法职责，不属于属地街道处置范围，申请退回改派市城市管理局。"
                .to_owned()
        } else {
            format!(
                "经现场核实，该处设施产权及维护责任属于小区物业，不属于{}职责范围，申请退回并建议改派属地{district_name}办理。",
                lead.name
            )
        }
    }

    /// One order that goes to units, along `r`.
    pub(super) async fn handle(&mut self, r: Route) -> AppResult<()> {
        let mut draft = self.place_in(None, r.via_sub_centre);
        draft.leaf = if r.via_sub_centre {
            self.leaf(|l| l.starts_with("05") || l.starts_with("0601"))
        } else {
            self.leaf(|l| {
                texts::template(l).is_none_or(|t| t.types.first() != Some(&OrderType::Consultation))
            })
        };
        let (order, reply) = self.register(&draft, None, None).await?;
        let number = order.order.number;
        let dispatcher = self.people.dispatcher.clone();
        let supervisor = self.people.supervisor.clone();
        let (district, first_street, _) = self.units(&draft)?;
        let (district, first_street) = (district.clone(), first_street.clone());

        let mut lead = if r.via_sub_centre {
            district.clone()
        } else {
            self.lead_unit(&draft).await?
        };
        let co: Vec<UnitInfo> = if r.co {
            vec![self.other_unit(&draft, lead.id)?]
        } else {
            Vec::new()
        };
        self.act(
            &dispatcher,
            &number,
            dispatch(lead.id, co.iter().map(|u| u.id).collect()),
        )
        .await?;
        let mut handler = self.handler_of(lead.id)?;

        if r.return_agreed || r.return_refused || r.stop == Stop::ReturnRequested {
            let reason = self.return_reason(&lead, &district.name);
            self.act(
                &handler,
                &number,
                Action::RequestReturn(RequestReturn {
                    reason,
                    unit_id: None,
                }),
            )
            .await?;
            if r.stop == Stop::ReturnRequested {
                return Ok(());
            }
            if r.return_agreed {
                let new_unit = self.other_unit(&draft, lead.id)?;
                self.act(
                    &dispatcher,
                    &number,
                    Action::ReviewReturn(ReviewReturn {
                        unit_id: lead.id,
                        agree: true,
                        new_unit_id: Some(new_unit.id),
                        note: Some(format!("退单理由成立，改派{}办理", new_unit.name)),
                    }),
                )
                .await?;
                lead = new_unit;
                handler = self.handler_of(lead.id)?;
            } else {
                self.act(
                    &dispatcher,
                    &number,
                    Action::ReviewReturn(ReviewReturn {
                        unit_id: lead.id,
                        agree: false,
                        new_unit_id: None,
                        note: Some(
                            "经核查派单目录，该事项属于你单位职责范围，退单不予通过，请按时限办理。"
                                .to_owned(),
                        ),
                    }),
                )
                .await?;
            }
        }

        if r.stop == Stop::Dispatched {
            if r.urge {
                self.act(
                    &dispatcher,
                    &number,
                    Action::Urge(note(
                        "工单派发后尚未签收，市民再次来电询问，请尽快签收办理。",
                    )),
                )
                .await?;
            }
            return Ok(());
        }

        self.act(&handler, &number, Action::Sign(Sign::default()))
            .await?;
        for unit in &co {
            let co_handler = self.handler_of(unit.id)?;
            self.act(&co_handler, &number, Action::Sign(Sign::default()))
                .await?;
        }

        let street_handler = if r.via_sub_centre {
            self.act(
                &handler,
                &number,
                Action::Redispatch(Redispatch {
                    to_unit_id: first_street.id,
                    unit_id: None,
                    note: Some(format!(
                        "属地事项，转{}核实处置，请于时限内反馈",
                        first_street.name
                    )),
                }),
            )
            .await?;
            let street_handler = self.handler_of(first_street.id)?;
            if !r.street_signs {
                return Ok(());
            }
            self.act(&street_handler, &number, Action::Sign(Sign::default()))
                .await?;
            Some(street_handler)
        } else {
            None
        };

        if let Some(ext) = r.extension {
            let days = self.rng.random_range(3..8);
            self.act(
                &handler,
                &number,
                Action::RequestExtension(RequestExtension {
                    days,
                    reason: format!(
                        "该问题涉及地下管网及设施改造，需协调施工单位办理占道审批，无法在时限内办结，申请延期{days}个工作日。"
                    ),
                    unit_id: None,
                }),
            )
            .await?;
            let decision = match ext {
                Ext::Pending => None,
                Ext::Approved => Some((true, "延期理由充分，同意延期，请在新时限内办结并反馈。")),
                Ext::Refused => Some((
                    false,
                    "该事项不属于复杂疑难问题，延期申请不予通过，请按原时限办结。",
                )),
            };
            if let Some((approve, text)) = decision {
                self.act(
                    &dispatcher,
                    &number,
                    Action::ReviewExtension(ReviewExtension {
                        unit_id: lead.id,
                        approve,
                        note: Some(text.to_owned()),
                    }),
                )
                .await?;
            }
        }

        self.oversee(&r, &number, &lead).await?;
        if r.stop == Stop::InProgress {
            return Ok(());
        }

        for unit in &co {
            let co_handler = self.handler_of(unit.id)?;
            self.act(
                &co_handler,
                &number,
                Action::Reply(Reply {
                    text: format!(
                        "{}已配合主办单位开展联合检查，相关情况已由主办单位一并反馈。",
                        unit.name
                    ),
                    unit_id: None,
                }),
            )
            .await?;
        }

        if let Some(street_handler) = &street_handler {
            self.act(
                street_handler,
                &number,
                Action::Reply(Reply {
                    text: format!("{}：{reply}", first_street.name),
                    unit_id: None,
                }),
            )
            .await?;
            if r.stop == Stop::StreetReplied {
                return Ok(());
            }
            self.act(
                &handler,
                &number,
                Action::Review(Review {
                    pass: true,
                    note: Some("街道处置到位，答复属实，同意上报".to_owned()),
                    unit_id: Some(first_street.id),
                }),
            )
            .await?;
        } else {
            self.reply(&handler, &number, &reply).await?;
        }

        if r.review_failed {
            self.act(
                &supervisor,
                &number,
                Action::Review(Review {
                    pass: false,
                    note: Some(
                        "答复内容过于简单，未说明具体处理结果和完成时间，请补充完善后重新反馈。"
                            .to_owned(),
                    ),
                    unit_id: None,
                }),
            )
            .await?;
            let fuller = format!("{reply}补充说明：已于现场复核，整改照片已上传，后续将持续跟踪。");
            self.reply(&handler, &number, &fuller).await?;
        }
        if r.stop == Stop::Replied {
            return Ok(());
        }
        self.pass_review(&number).await?;
        if r.stop == Stop::PendingVisit {
            return Ok(());
        }

        let visitor = self.people.visitor.clone();
        if r.stop == Stop::Redo || r.redo_then_close {
            self.act(
                &visitor,
                &number,
                Action::Visit(Visit {
                    solved: Solved::Unsolved,
                    satisfaction: Satisfaction::Unsatisfied,
                    redo: true,
                    note: Some(
                        "市民表示问题仍未解决，现场情况与答复不符，经研判诉求合理，转重办"
                            .to_owned(),
                    ),
                }),
            )
            .await?;
            if r.stop == Stop::Redo {
                return Ok(());
            }
            let redo_reply =
                format!("重办情况：{reply}单位负责人已带队再次到现场，问题已彻底整改。");
            self.reply(&handler, &number, &redo_reply).await?;
            self.pass_review(&number).await?;
            self.visit(&number, 0).await?;
        } else if r.appeal.is_some() {
            self.visit(&number, 85).await?;
        } else {
            let roll = self.rng.random_range(0..100);
            self.visit(&number, roll).await?;
        }

        if let Some(plan) = r.appeal {
            self.act(
                &handler,
                &number,
                Action::Appeal(Appeal {
                    reason: "市民诉求为要求减免法定收费，超出政策规定范围，我单位已依法依规解释到位，申请不予考核。".to_owned(),
                }),
            )
            .await?;
            let decision = match plan {
                AppealPlan::Pending => None,
                AppealPlan::Upheld => {
                    Some((true, "经核实，诉求超出政策规定，申诉成立，该件不纳入考核。"))
                }
                AppealPlan::Rejected => Some((
                    false,
                    "单位答复未见实质性办理措施，申诉不成立，维持考核结果。",
                )),
            };
            if let Some((uphold, text)) = decision {
                self.act(
                    &supervisor,
                    &number,
                    Action::ReviewAppeal(ReviewAppeal {
                        uphold,
                        note: Some(text.to_owned()),
                    }),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn reply(&self, handler: &Actor, number: &str, text: &str) -> AppResult<()> {
        self.act(
            handler,
            number,
            Action::Reply(Reply {
                text: text.to_owned(),
                unit_id: None,
            }),
        )
        .await?;
        Ok(())
    }

    async fn pass_review(&self, number: &str) -> AppResult<()> {
        let supervisor = self.people.supervisor.clone();
        self.act(
            &supervisor,
            number,
            Action::Review(Review {
                pass: true,
                note: Some("答复规范，处理到位，审核通过".to_owned()),
                unit_id: None,
            }),
        )
        .await?;
        Ok(())
    }

    async fn visit(&self, number: &str, roll: u32) -> AppResult<()> {
        let (solved, satisfaction, text) = visit_outcome(roll);
        let visitor = self.people.visitor.clone();
        self.act(
            &visitor,
            number,
            Action::Visit(Visit {
                solved,
                satisfaction,
                redo: false,
                note: Some(text.to_owned()),
            }),
        )
        .await?;
        Ok(())
    }

    /// Urging, supervision, escalation and the leader's instruction.
    async fn oversee(&self, r: &Route, number: &str, lead: &UnitInfo) -> AppResult<()> {
        let supervisor = self.people.supervisor.clone();
        if r.urge {
            self.act(
                &supervisor,
                number,
                Action::Urge(note("市民多次来电催促，请加快办理进度并及时与市民沟通。")),
            )
            .await?;
        }
        if r.supervise {
            self.act(
                &supervisor,
                number,
                Action::Supervise(note(
                    "该工单经催办仍未办结，现予督办，请单位主要负责人亲自过问，限期办结。",
                )),
            )
            .await?;
        }
        if r.escalate {
            self.act(
                &supervisor,
                number,
                Action::Escalate(note("该诉求涉及多个部门，群众反映强烈，呈报领导阅示。")),
            )
            .await?;
        }
        if r.instruct {
            let leader = self.people.leader.clone();
            self.act(
                &leader,
                number,
                Action::Instruct(Instruct {
                    instruction: format!(
                        "请{}高度重视，主要负责同志牵头，三日内拿出解决方案，并向群众反馈。",
                        lead.name
                    ),
                }),
            )
            .await?;
        }
        Ok(())
    }
}
