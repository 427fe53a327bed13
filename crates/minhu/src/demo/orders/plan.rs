//! The plan of the demo orders: how many go which way, and how often each top-level category
//! comes up.

/// Where an order that goes to units stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    Dispatched,
    ReturnRequested,
    InProgress,
    /// Via a sub-centre: the street has replied, the sub-centre has not reviewed yet.
    StreetReplied,
    Replied,
    PendingVisit,
    /// Visited unsatisfied and sent back (重办), not yet replied again.
    Redo,
    Closed,
}

/// What becomes of an extension request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ext {
    Pending,
    Approved,
    Refused,
}

/// What becomes of an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AppealPlan {
    Pending,
    Upheld,
    Rejected,
}

/// How one order goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Path {
    Registered,
    ClosedDirect { visited: bool },
    Transferred,
    Rejected,
    Units(Route),
}

/// The way of an order that goes to units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // a plain record of independent detours
pub(super) struct Route {
    pub stop: Stop,
    pub co: bool,
    pub return_refused: bool,
    pub return_agreed: bool,
    pub via_sub_centre: bool,
    pub street_signs: bool,
    pub extension: Option<Ext>,
    pub urge: bool,
    pub supervise: bool,
    pub escalate: bool,
    pub instruct: bool,
    pub review_failed: bool,
    pub redo_then_close: bool,
    pub appeal: Option<AppealPlan>,
}

/// A detour of a [`Route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flag {
    /// Dispatched with a co-handling unit.
    Co,
    ReturnRefused,
    ReturnAgreed,
    /// Handled by the district sub-centre, which passes it down to a street.
    SubCentre,
    /// Passed down, but the street has not signed yet.
    StreetUnsigned,
    ExtPending,
    ExtApproved,
    ExtRefused,
    Urge,
    Supervise,
    Escalate,
    Instruct,
    ReviewFailed,
    RedoThenClose,
    AppealPending,
    AppealUpheld,
    AppealRejected,
}

fn route(stop: Stop, flags: &[Flag]) -> Path {
    let mut r = Route {
        stop,
        co: false,
        return_refused: false,
        return_agreed: false,
        via_sub_centre: false,
        street_signs: true,
        extension: None,
        urge: false,
        supervise: false,
        escalate: false,
        instruct: false,
        review_failed: false,
        redo_then_close: false,
        appeal: None,
    };
    for flag in flags {
        match flag {
            Flag::Co => r.co = true,
            Flag::ReturnRefused => r.return_refused = true,
            Flag::ReturnAgreed => r.return_agreed = true,
            Flag::SubCentre => r.via_sub_centre = true,
            Flag::StreetUnsigned => r.street_signs = false,
            Flag::ExtPending => r.extension = Some(Ext::Pending),
            Flag::ExtApproved => r.extension = Some(Ext::Approved),
            Flag::ExtRefused => r.extension = Some(Ext::Refused),
            Flag::Urge => r.urge = true,
            Flag::Supervise => r.supervise = true,
            Flag::Escalate => r.escalate = true,
            Flag::Instruct => r.instruct = true,
            Flag::ReviewFailed => r.review_failed = true,
            Flag::RedoThenClose => r.redo_then_close = true,
            Flag::AppealPending => r.appeal = Some(AppealPlan::Pending),
            Flag::AppealUpheld => r.appeal = Some(AppealPlan::Upheld),
            Flag::AppealRejected => r.appeal = Some(AppealPlan::Rejected),
        }
    }
    Path::Units(r)
}

/// How many orders go each way: 288, plus 12 in the merge clusters.
pub(super) fn plan() -> Vec<(Path, usize)> {
    use Flag::*;
    use Stop::*;
    vec![
        (Path::Registered, 18),
        (Path::ClosedDirect { visited: false }, 18),
        (Path::ClosedDirect { visited: true }, 12),
        (Path::Transferred, 6),
        (Path::Rejected, 5),
        (route(Dispatched, &[]), 14),
        (route(Dispatched, &[Co]), 4),
        (route(Dispatched, &[Urge]), 4),
        (route(Dispatched, &[ReturnRefused]), 3),
        (route(ReturnRequested, &[]), 8),
        (route(InProgress, &[]), 16),
        (route(InProgress, &[Co]), 5),
        (route(InProgress, &[ExtPending]), 7),
        (route(InProgress, &[ExtApproved]), 4),
        (route(InProgress, &[ExtRefused]), 2),
        (route(InProgress, &[Urge]), 4),
        (route(InProgress, &[Urge, Supervise]), 4),
        (route(InProgress, &[Escalate]), 3),
        (route(InProgress, &[Escalate, Instruct]), 3),
        (route(InProgress, &[ReturnAgreed]), 4),
        (route(InProgress, &[SubCentre, StreetUnsigned]), 2),
        (route(InProgress, &[SubCentre]), 6),
        (route(StreetReplied, &[SubCentre]), 4),
        (route(Replied, &[SubCentre]), 3),
        (route(Closed, &[SubCentre]), 4),
        (route(Replied, &[]), 14),
        (route(Replied, &[ReviewFailed]), 4),
        (route(PendingVisit, &[]), 25),
        (route(Closed, &[]), 54),
        (route(Closed, &[Co]), 6),
        (route(Closed, &[RedoThenClose]), 6),
        (route(Closed, &[AppealPending]), 5),
        (route(Closed, &[AppealUpheld]), 3),
        (route(Closed, &[AppealRejected]), 3),
        (route(Redo, &[]), 5),
    ]
}

/// Top-level categories and how often citizens call about them.
#[rustfmt::skip]
pub(super) const WEIGHTS: &[(&str, u32)] = &[
    ("01", 10), ("02", 6), ("03", 5), ("04", 6), ("05", 16), ("06", 12), ("07", 5),
    ("08", 7), ("09", 7), ("10", 4), ("11", 4), ("12", 4), ("13", 5), ("14", 3),
    ("15", 1), ("16", 2), ("17", 2), ("18", 1), ("19", 1), ("20", 2), ("21", 3),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_adds_up_to_about_300() {
        let total: usize = plan().iter().map(|(_, n)| n).sum();
        assert_eq!(total + 12, 300);
    }
}
