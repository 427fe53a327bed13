//! The closed vocabularies of the work order: each value has a stable snake_case code (what the API
//! and the database store) and a Chinese label (what people read).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The error of parsing a code that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code `{code}`")]
pub struct UnknownCode {
    /// Which vocabulary was asked for.
    pub kind: &'static str,
    /// The code that did not match.
    pub code: String,
}

/// Declares an enum whose values carry a stable code and a Chinese label.
macro_rules! labelled_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $code:tt, $label:literal; )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in the database and used by the API.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Chinese label shown to people.
            #[must_use]
            pub const fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(code: &str) -> Result<Self, Self::Err> {
                match code {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode { kind: stringify!($name), code: code.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use labelled_enum;

labelled_enum! {
    /// What a person may do (PRODUCT.md §1). A user holds one or more roles in one unit.
    Role {
        /// 话务员: takes calls, registers orders, closes directly.
        Agent => "agent", "话务员";
        /// 派单员: dispatches, arbitrates returns, reviews extensions.
        Dispatcher => "dispatcher", "派单员";
        /// 督查考评: reviews replies, urges, supervises, reviews appeals.
        Supervisor => "supervisor", "督查考评员";
        /// 回访员: return visits.
        Visitor => "visitor", "回访员";
        /// 承办单位经办人: signs for, returns, handles, replies.
        UnitHandler => "unit_handler", "承办单位经办人";
        /// 承办单位负责人: the unit's leader.
        UnitLeader => "unit_leader", "承办单位负责人";
        /// 分中心: re-dispatches down its own subtree and reviews what comes back up.
        SubCentre => "sub_centre", "分中心派单员";
        /// 质检员: quality inspection of calls.
        Inspector => "inspector", "质检员";
        /// 知识库管理员.
        KnowledgeEditor => "knowledge_editor", "知识库管理员";
        /// 领导: dashboards, instructions on escalated orders.
        Leader => "leader", "领导";
        /// 系统管理员: organisation, users, categories, calendar, settings.
        Admin => "admin", "系统管理员";
    }
}

labelled_enum! {
    /// The kind of a unit in the organisation tree.
    UnitKind {
        /// 市级热线中心 (the root).
        CityCentre => "city_centre", "市热线中心";
        /// 区分中心 / 区政府: a district sub-centre, itself a dispatch point.
        DistrictCentre => "district_centre", "区分中心";
        /// 街道/乡镇.
        Street => "street", "街道/乡镇";
        /// 社区/村.
        Community => "community", "社区/村";
        /// 委办局: a government bureau.
        Bureau => "bureau", "委办局";
        /// 国有企业: water, power, gas, heating companies.
        Enterprise => "enterprise", "公共服务企业";
        /// 其他承办单位.
        Other => "other", "其他单位";
    }
}

labelled_enum! {
    /// How a request reached the centre.
    Channel {
        Phone => "phone", "电话";
        Web => "web", "网站";
        MobileApp => "mobile_app", "移动端";
        Sms => "sms", "短信";
        LeaderMailbox => "leader_mailbox", "领导信箱";
        Transfer110 => "transfer_110", "110转入";
        HigherLevel => "higher_level", "上级派发";
        Open311 => "open311", "Open311";
    }
}

labelled_enum! {
    /// The type of the matter (工单类型).
    OrderType {
        Consultation => "consultation", "咨询";
        Help => "help", "求助";
        Complaint => "complaint", "投诉";
        Report => "report", "举报";
        Suggestion => "suggestion", "建议";
        Praise => "praise", "表扬";
        Other => "other", "其他";
    }
}

labelled_enum! {
    /// How urgent the matter is.
    Urgency {
        Emergency => "emergency", "紧急";
        Urgent => "urgent", "较急";
        Normal => "normal", "一般";
    }
}

labelled_enum! {
    /// A caller's gender, as stated.
    Gender {
        Male => "male", "男";
        Female => "female", "女";
        Unknown => "unknown", "未知";
    }
}

labelled_enum! {
    /// Tags on a caller that change how agents treat the call.
    CallerTag {
        Elderly => "elderly", "老年人";
        Vip => "vip", "VIP";
        KeyPerson => "key_person", "重要客户";
        RepeatCaller => "repeat_caller", "重复来电";
        Malicious => "malicious", "恶意骚扰";
    }
}

labelled_enum! {
    /// The state of a work order (PRODUCT.md §3).
    OrderState {
        /// 已登记/待交办.
        Registered => "registered", "待交办";
        /// 直接办结: answered at intake.
        ClosedDirect => "closed_direct", "直接办结";
        /// 已转应急: handed to 110/119/120/122.
        Transferred => "transferred", "已转应急";
        /// 不予受理: out of scope, the legal channel told.
        Rejected => "rejected", "不予受理";
        /// 已并单: merged into a parent order.
        Merged => "merged", "已并单";
        /// 待签收: dispatched, the lead unit has not signed.
        Dispatched => "dispatched", "待签收";
        /// 退单审核: the lead unit asked to return it.
        ReturnRequested => "return_requested", "退单审核";
        /// 办理中.
        InProgress => "in_progress", "办理中";
        /// 待审核: the lead unit replied.
        Replied => "replied", "待审核";
        /// 待回访: the reply passed review.
        PendingVisit => "pending_visit", "待回访";
        /// 已办结: visited and closed.
        Closed => "closed", "已办结";
    }
}

impl OrderState {
    /// Whether the order has reached an end: nothing more happens but an appeal.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::ClosedDirect | Self::Transferred | Self::Rejected | Self::Merged | Self::Closed
        )
    }

    /// Whether the order is with handling units (dispatched and not yet closed).
    #[must_use]
    pub const fn is_with_units(self) -> bool {
        matches!(
            self,
            Self::Dispatched
                | Self::ReturnRequested
                | Self::InProgress
                | Self::Replied
                | Self::PendingVisit
        )
    }
}

labelled_enum! {
    /// Whether a unit leads the handling or helps (工单性质).
    AssignmentRole {
        Lead => "lead", "主办";
        Co => "co", "协办";
    }
}

labelled_enum! {
    /// The state of one unit's assignment on an order.
    AssignmentState {
        /// 待签收.
        Dispatched => "dispatched", "待签收";
        /// 退单待审核.
        ReturnRequested => "return_requested", "退单待审核";
        /// 办理中.
        InProgress => "in_progress", "办理中";
        /// 已转派: a sub-centre passed it down its subtree and waits for the reply.
        Delegated => "delegated", "已转派";
        /// 已反馈, waiting for review by whoever dispatched it.
        Replied => "replied", "已反馈待审核";
        /// 已办结: the reply was accepted.
        Done => "done", "已办结";
        /// 已退回: the return was agreed; the assignment is over.
        Returned => "returned", "已退回";
    }
}

impl AssignmentState {
    /// Whether the assignment still expects work from its unit or its reviewer.
    #[must_use]
    pub const fn is_open(self) -> bool {
        !matches!(self, Self::Done | Self::Returned)
    }
}

labelled_enum! {
    /// Whether the matter was solved, as the citizen says on the return visit.
    Solved {
        Solved => "solved", "解决";
        PartlySolved => "partly_solved", "部分解决";
        Unsolved => "unsolved", "未解决";
    }
}

labelled_enum! {
    /// The citizen's satisfaction on the return visit.
    Satisfaction {
        Satisfied => "satisfied", "满意";
        BasicallySatisfied => "basically_satisfied", "基本满意";
        Unsatisfied => "unsatisfied", "不满意";
        NotRated => "not_rated", "未评价";
    }
}

labelled_enum! {
    /// The emergency lines an order can be transferred to.
    EmergencyLine {
        Police110 => "110", "110 报警";
        Fire119 => "119", "119 火警";
        Ambulance120 => "120", "120 急救";
        Traffic122 => "122", "122 交通事故";
    }
}

labelled_enum! {
    /// The legal channel a citizen is told to use when the hotline cannot accept a request.
    LegalChannel {
        Litigation => "litigation", "诉讼";
        Arbitration => "arbitration", "仲裁";
        AdministrativeReview => "administrative_review", "行政复议";
        Petition => "petition", "信访";
        InformationDisclosure => "information_disclosure", "政府信息公开";
        Other => "other", "其他法定途径";
    }
}

labelled_enum! {
    /// Where a unit's appeal for exclusion from evaluation stands (申诉/不予考核).
    AppealState {
        Requested => "requested", "申诉待审核";
        Upheld => "upheld", "申诉成立（不予考核）";
        Rejected => "rejected", "申诉不成立（维持）";
    }
}

labelled_enum! {
    /// Where an escalation to a leader stands (呈报 / 批示).
    EscalationState {
        Pending => "pending", "已呈报待批示";
        Instructed => "instructed", "领导已批示";
    }
}

labelled_enum! {
    /// How a time limit is counted.
    DeadlineUnit {
        /// Natural hours, day and night.
        NaturalHours => "natural_hours", "自然小时";
        /// Hours inside the configured working hours of working days.
        WorkingHours => "working_hours", "工作小时";
        /// Working days: N working days from T end at 24:00 of the Nth working day after T's date.
        WorkingDays => "working_days", "工作日";
    }
}

labelled_enum! {
    /// The steps of an order that have a time limit.
    LimitStep {
        /// 派单时限: from registration to dispatch.
        Dispatch => "dispatch", "派单时限";
        /// 签收时限: from dispatch to sign-for.
        Sign => "sign", "签收时限";
        /// 退单时限: how long after dispatch a unit may still return.
        ReturnWindow => "return_window", "退单时限";
        /// 办结时限: from dispatch to reply.
        Handle => "handle", "办结时限";
        /// 重办时限: from a redo decision to the new reply.
        Redo => "redo", "重办时限";
        /// 最长延期: the most an extension may add.
        ExtensionMax => "extension_max", "最长延期";
        /// 回访时限: from the reply's approval to the visit.
        Visit => "visit", "回访时限";
    }
}

labelled_enum! {
    /// How close a deadline is.
    WarningLevel {
        /// 正常.
        Green => "green", "正常";
        /// 黄灯: less than the configured share of the span is left.
        Yellow => "yellow", "黄灯预警";
        /// 红灯: the deadline has passed.
        Red => "red", "红灯超期";
    }
}

labelled_enum! {
    /// Calendar exceptions to the Monday–Friday week.
    CalendarDayKind {
        /// 法定节假日 or a weekday off by 调休.
        Holiday => "holiday", "节假日";
        /// 调休上班: a weekend day that is a working day.
        Workday => "workday", "调休上班";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_reject_unknown() {
        for state in OrderState::ALL {
            assert_eq!(state.as_str().parse::<OrderState>(), Ok(*state));
        }
        let err = "finished".parse::<OrderState>().unwrap_err();
        assert_eq!(err.code, "finished");
        assert_eq!(EmergencyLine::Police110.as_str(), "110");
        assert_eq!(
            serde_json::to_string(&EmergencyLine::Fire119).unwrap(),
            "\"119\""
        );
        assert_eq!(
            serde_json::from_str::<Role>("\"unit_handler\"").unwrap(),
            Role::UnitHandler
        );
    }
}
