//! One order's life, in memory: registration and every later step applied through the domain's
//! own pure functions ([`minhu_domain::lifecycle`]), so each history line is one the service
//! would have written. Steps stop when their time would pass `now` (recent orders stay open) or
//! when the domain refuses one (the order keeps the state it reached).

use chrono::{DateTime, Duration, Utc};
use minhu_domain::action::{
    CloseDirect, Dispatch, Merge, Note, Reject, Reply, RequestExtension, RequestReturn, Review,
    ReviewExtension, ReviewReturn, Sign, Transfer, Visit,
};
use minhu_domain::lifecycle;
use minhu_domain::{
    Action, ActionContext, Actor, Calendar, HistoryEvent, Limits, NewOrder, Order, OrderAggregate,
    Satisfaction, Solved, Transition, UnitDirectory,
};
use rand::RngExt;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::texts::{EXTENSION_REASONS, REDO_REPLIES, RETURN_REASONS, REVIEW_FAILURES, URGE_NOTES};

/// How a dispatched order goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered at intake from what the agent knows.
    CloseDirect {
        visited: bool,
    },
    Reject,
    Transfer,
    /// Merged into an earlier open order of the same matter.
    Merge,
    /// Dispatched to a unit and handled.
    Handle,
}

/// The people who act on generated orders.
pub struct Cast<'a> {
    pub agent: &'a Actor,
    pub dispatcher: &'a Actor,
    pub supervisor: &'a Actor,
    pub visitor: &'a Actor,
    /// The lead unit's handler.
    pub handler: &'a Actor,
}

/// The fixed facts of one order's run.
pub struct Run<'a> {
    pub units: &'a UnitDirectory,
    pub limits: &'a Limits,
    pub calendar: &'a Calendar,
    pub yellow_share: f64,
    pub now: DateTime<Utc>,
}

/// An order being lived through.
pub struct Life {
    pub aggregate: OrderAggregate,
    pub events: Vec<HistoryEvent>,
    /// The time of the last step.
    pub at: DateTime<Utc>,
    /// Next assignment id to give.
    next_assignment_id: i64,
    /// Whether a step would have been after `now`: nothing more happens.
    pub stopped: bool,
}

impl Life {
    fn ctx<'a>(
        &self,
        run: &'a Run<'a>,
        actor: &'a Actor,
        at: DateTime<Utc>,
        merge_parent: Option<&'a Order>,
    ) -> ActionContext<'a> {
        ActionContext {
            now: at,
            actor,
            units: run.units,
            limits: run.limits,
            calendar: run.calendar,
            yellow_share: run.yellow_share,
            merge_parent,
        }
    }

    fn take(&mut self, transition: Transition) {
        let version = self.aggregate.order.version + 1;
        let mut assignments = transition.assignments;
        for a in &mut assignments {
            if a.id == 0 {
                a.id = self.next_assignment_id;
                a.order_id = self.aggregate.order.id;
                self.next_assignment_id += 1;
            }
        }
        self.aggregate = OrderAggregate {
            order: Order {
                version,
                ..transition.order
            },
            assignments,
        };
        self.events.extend(transition.events);
    }

    /// Applies `action` by `actor` `delay` after the last step, unless that is after `now` (then
    /// the order stops where it is) or the domain refuses. Returns whether it happened.
    pub fn step(
        &mut self,
        run: &Run<'_>,
        actor: &Actor,
        delay: Duration,
        action: &Action,
        merge_parent: Option<&Order>,
    ) -> bool {
        if self.stopped {
            return false;
        }
        let at = self.at + delay;
        if at > run.now {
            self.stopped = true;
            return false;
        }
        let ctx = self.ctx(run, actor, at, merge_parent);
        match lifecycle::apply(&ctx, &self.aggregate, action) {
            Ok(transition) => {
                self.take(transition);
                self.at = at;
                true
            }
            // Refused (a limit of this order's policy, say): the order stays as it is.
            Err(_) => false,
        }
    }
}

/// Registers `new` at `at` as order `id` with `number`; `None` if the domain refuses it.
pub fn register(
    run: &Run<'_>,
    agent: &Actor,
    new: NewOrder,
    at: DateTime<Utc>,
    id: i64,
    number: String,
    first_assignment_id: i64,
) -> Option<Life> {
    let ctx = ActionContext {
        now: at,
        actor: agent,
        units: run.units,
        limits: run.limits,
        calendar: run.calendar,
        yellow_share: run.yellow_share,
        merge_parent: None,
    };
    let transition = lifecycle::register(&ctx, new).ok()?;
    let mut order = transition.order;
    order.id = id;
    order.number = number;
    Some(Life {
        aggregate: OrderAggregate {
            order,
            assignments: Vec::new(),
        },
        events: transition.events,
        at,
        next_assignment_id: first_assignment_id,
        stopped: false,
    })
}

fn minutes(rng: &mut StdRng, low: i64, high: i64) -> Duration {
    Duration::minutes(rng.random_range(low..high.max(low + 1)))
}

fn note(rng: &mut StdRng, notes: &[&str]) -> String {
    notes
        .choose(rng)
        .copied()
        .unwrap_or("请尽快办理")
        .to_owned()
}

/// What a visit finds: mostly satisfied, sometimes not.
fn visit_answers(rng: &mut StdRng) -> (Solved, Satisfaction) {
    match rng.random_range(0..100) {
        0..70 => (Solved::Solved, Satisfaction::Satisfied),
        70..84 => (Solved::Solved, Satisfaction::BasicallySatisfied),
        84..90 => (Solved::PartlySolved, Satisfaction::BasicallySatisfied),
        90..94 => (Solved::Unsolved, Satisfaction::Unsatisfied),
        94..97 => (Solved::PartlySolved, Satisfaction::Unsatisfied),
        _ => (Solved::Solved, Satisfaction::NotRated),
    }
}

/// Intake outcomes that end the order at once.
#[allow(clippy::too_many_arguments)]
pub fn end_at_intake(
    life: &mut Life,
    run: &Run<'_>,
    cast: &Cast<'_>,
    rng: &mut StdRng,
    outcome: Outcome,
    answer: &str,
    merge_parent: Option<&Order>,
    special: Option<&Action>,
) {
    let delay = minutes(rng, 1, 12);
    match outcome {
        Outcome::CloseDirect { visited } => {
            let action = Action::CloseDirect(CloseDirect {
                answer: answer.to_owned(),
                knowledge_entry_id: None,
            });
            if life.step(run, cast.agent, delay, &action, None) && visited {
                let (solved, satisfaction) = visit_answers(rng);
                let visit = Action::Visit(Visit {
                    solved,
                    satisfaction,
                    redo: false,
                    note: None,
                });
                let later = minutes(rng, 60 * 4, 60 * 48);
                life.step(run, cast.visitor, later, &visit, None);
            }
        }
        Outcome::Reject | Outcome::Transfer => {
            if let Some(action) = special {
                life.step(run, cast.agent, delay, action, None);
            }
        }
        Outcome::Merge => {
            if let Some(parent) = merge_parent {
                let action = Action::Merge(Merge {
                    parent_number: parent.number.clone(),
                    note: Some("同一地点同一事项重复来电，并入主工单统一办理".to_owned()),
                });
                life.step(run, cast.agent, delay, &action, Some(parent));
            }
        }
        Outcome::Handle => {}
    }
}

/// The handling path: dispatch, sign, perhaps urging or an extension, reply, review (perhaps
/// failed once), visit, perhaps redo and a second round. `stall` ends the path early at a random
/// step (a backlog order).
#[allow(clippy::too_many_arguments)]
pub fn handle(
    life: &mut Life,
    run: &Run<'_>,
    cast: &Cast<'_>,
    rng: &mut StdRng,
    lead_unit_id: i64,
    co_unit_ids: Vec<i64>,
    reply: &str,
    stall: Option<u32>,
) {
    let stops = |step: u32| stall.is_some_and(|s| s <= step);
    let dispatch = Action::Dispatch(Dispatch {
        lead_unit_id,
        co_unit_ids,
        note: None,
    });
    if !life.step(run, cast.dispatcher, minutes(rng, 5, 240), &dispatch, None) || stops(0) {
        return;
    }
    if rng.random_bool(0.03) {
        // 退单: the unit says it is not its matter; the dispatcher disagrees and it goes on.
        let request = Action::RequestReturn(RequestReturn {
            reason: note(rng, RETURN_REASONS),
            unit_id: None,
        });
        if life.step(run, cast.handler, minutes(rng, 20, 60 * 6), &request, None) {
            let refuse = Action::ReviewReturn(ReviewReturn {
                unit_id: lead_unit_id,
                agree: false,
                new_unit_id: None,
                note: Some("经核实属于贵单位职责范围，请继续办理".to_owned()),
            });
            if !life.step(
                run,
                cast.dispatcher,
                minutes(rng, 30, 60 * 8),
                &refuse,
                None,
            ) {
                return;
            }
        }
    }
    let sign = Action::Sign(Sign::default());
    if !life.step(run, cast.handler, minutes(rng, 10, 60 * 20), &sign, None) || stops(1) {
        return;
    }
    if rng.random_bool(0.06) {
        let urge = Action::Urge(Note {
            note: note(rng, URGE_NOTES),
        });
        life.step(
            run,
            cast.dispatcher,
            minutes(rng, 60 * 24, 60 * 72),
            &urge,
            None,
        );
    }
    if rng.random_bool(0.04) {
        let request = Action::RequestExtension(RequestExtension {
            days: rng.random_range(3..11),
            reason: note(rng, EXTENSION_REASONS),
            unit_id: None,
        });
        if life.step(
            run,
            cast.handler,
            minutes(rng, 60 * 24, 60 * 96),
            &request,
            None,
        ) {
            let decide = Action::ReviewExtension(ReviewExtension {
                unit_id: lead_unit_id,
                approve: rng.random_bool(0.8),
                note: None,
            });
            life.step(
                run,
                cast.dispatcher,
                minutes(rng, 30, 60 * 8),
                &decide,
                None,
            );
        }
    }
    if stops(2) {
        return;
    }
    let reply_action = Action::Reply(Reply {
        text: reply.to_owned(),
        unit_id: None,
    });
    if !life.step(
        run,
        cast.handler,
        minutes(rng, 60 * 6, 60 * 24 * 8),
        &reply_action,
        None,
    ) || stops(3)
    {
        return;
    }
    if rng.random_bool(0.07) {
        let fail = Action::Review(Review {
            pass: false,
            note: Some(note(rng, REVIEW_FAILURES)),
            unit_id: None,
        });
        if life.step(run, cast.supervisor, minutes(rng, 30, 60 * 24), &fail, None) {
            let again = Action::Reply(Reply {
                text: format!("{reply}补充说明：已电话联系来电人，告知处理情况。"),
                unit_id: None,
            });
            life.step(
                run,
                cast.handler,
                minutes(rng, 60 * 2, 60 * 48),
                &again,
                None,
            );
        }
    }
    let pass = Action::Review(Review {
        pass: true,
        note: None,
        unit_id: None,
    });
    if !life.step(run, cast.supervisor, minutes(rng, 30, 60 * 30), &pass, None) || stops(4) {
        return;
    }
    let redo = rng.random_bool(0.04);
    let (solved, satisfaction) = if redo {
        (Solved::Unsolved, Satisfaction::Unsatisfied)
    } else {
        visit_answers(rng)
    };
    let visit = Action::Visit(Visit {
        solved,
        satisfaction,
        redo,
        note: redo.then(|| "来电人表示问题仍未解决，诉求合理，退回重办".to_owned()),
    });
    if !life.step(
        run,
        cast.visitor,
        minutes(rng, 60 * 2, 60 * 72),
        &visit,
        None,
    ) || !redo
    {
        return;
    }
    // 重办: the unit works again; the second round ends at a visit without redo.
    if rng.random_bool(0.3) {
        // Left in progress after the redo.
        return;
    }
    let second = Action::Reply(Reply {
        text: note(rng, REDO_REPLIES),
        unit_id: None,
    });
    if !life.step(
        run,
        cast.handler,
        minutes(rng, 60 * 12, 60 * 24 * 5),
        &second,
        None,
    ) {
        return;
    }
    if !life.step(run, cast.supervisor, minutes(rng, 30, 60 * 24), &pass, None) {
        return;
    }
    let last = Action::Visit(Visit {
        solved: Solved::Solved,
        satisfaction: Satisfaction::BasicallySatisfied,
        redo: false,
        note: None,
    });
    life.step(
        run,
        cast.visitor,
        minutes(rng, 60 * 2, 60 * 48),
        &last,
        None,
    );
}

/// The intake action of a rejected or transferred call, from the demo's words.
pub fn special_action(outcome: Outcome, rng: &mut StdRng) -> Option<(Action, String, String)> {
    use crate::demo::texts::{REJECTIONS, TRANSFERS};
    match outcome {
        Outcome::Reject => REJECTIONS.choose(rng).map(|(channel, title, body, told)| {
            (
                Action::Reject(Reject {
                    legal_channel: *channel,
                    explanation: (*told).to_owned(),
                }),
                (*title).to_owned(),
                (*body).to_owned(),
            )
        }),
        Outcome::Transfer => TRANSFERS.choose(rng).map(|(line, title, body)| {
            (
                Action::Transfer(Transfer {
                    line: *line,
                    note: Some("已电话转接并告知来电人".to_owned()),
                }),
                (*title).to_owned(),
                (*body).to_owned(),
            )
        }),
        _ => None,
    }
}
