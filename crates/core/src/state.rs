use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The life of a provisioning request: `queued → in_progress → succeeded | failed |
/// rejected | dead`, with `retrying` while a delayed retry waits in the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Queued,
    InProgress,
    Retrying,
    Succeeded,
    Failed,
    Rejected,
    Dead,
}

impl RequestState {
    pub const ALL: [RequestState; 7] = [
        Self::Queued,
        Self::InProgress,
        Self::Retrying,
        Self::Succeeded,
        Self::Failed,
        Self::Rejected,
        Self::Dead,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::InProgress => "in_progress",
            Self::Retrying => "retrying",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Dead => "dead",
        }
    }

    /// A terminal request is never worked on again unless an operator replays it.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Rejected | Self::Dead
        )
    }
}

/// Who moves a request from one state to the next. The store's conditional updates
/// take their `WHERE state` lists from [`RequestState::may_become`], so what PostgreSQL
/// allows and what this machine says cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// A worker takes a queued request, or a retrying one whose time has come.
    Claim,
    /// A worker takes over a claim whose holder died (its lease ran out) or that it held
    /// itself before it lost its database.
    TakeOver,
    /// The holder of a claim starts its lease again; the request stays in progress.
    Renew,
    /// The attempt failed in a way worth another try, planned for later.
    Park,
    /// The attempt gives the request back untouched (it was paced): nothing was called.
    Release,
    /// The attempt records the request's outcome.
    Finish,
    /// An operator sends an unsuccessful request through again.
    Replay,
}

impl Cause {
    pub const ALL: [Cause; 7] = [
        Self::Claim,
        Self::TakeOver,
        Self::Renew,
        Self::Park,
        Self::Release,
        Self::Finish,
        Self::Replay,
    ];

    /// Whether a worker does this on its own; only an operator replays.
    pub const fn is_by_worker(self) -> bool {
        !matches!(self, Self::Replay)
    }
}

impl RequestState {
    /// The request state machine: whether `cause` may move a request in this state to
    /// `next`. A terminal request is left only by an operator's replay, and a success
    /// is never replayed (its account exists).
    pub const fn may_become(self, next: RequestState, cause: Cause) -> bool {
        use RequestState::*;
        match cause {
            Cause::Claim => matches!((self, next), (Queued | Retrying, InProgress)),
            Cause::TakeOver | Cause::Renew => matches!((self, next), (InProgress, InProgress)),
            Cause::Park | Cause::Release => matches!((self, next), (InProgress, Retrying)),
            Cause::Finish => matches!(self, InProgress) && next.is_terminal(),
            Cause::Replay => matches!((self, next), (Failed | Dead | Rejected, Queued)),
        }
    }

    /// Every state `cause` may move a request from into `next`, in [`Self::ALL`] order.
    pub fn sources(next: RequestState, cause: Cause) -> Vec<RequestState> {
        Self::ALL
            .into_iter()
            .filter(|from| from.may_become(next, cause))
            .collect()
    }

    /// States a request may be in while nobody has ended it: its message may still be
    /// lost, and is sent again when it stalls.
    pub fn unfinished() -> Vec<RequestState> {
        Self::ALL
            .into_iter()
            .filter(|state| !state.is_terminal())
            .collect()
    }
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown request state {0:?}; expected one of queued, in_progress, retrying, succeeded, failed, rejected, dead")]
pub struct UnknownState(pub String);

impl FromStr for RequestState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// Whether an integration may be used. `error` stops every request for it until a
/// check at the SaaS succeeds again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationStatus {
    Ok,
    Error,
}

impl IntegrationStatus {
    pub const ALL: [IntegrationStatus; 2] = [Self::Ok, Self::Error];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(Self::Ok),
            "error" => Some(Self::Error),
            _ => None,
        }
    }
}

// Lets a state read from the store be compared with the name a client sees.
impl PartialEq<&str> for RequestState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

// Lets a status read from the store be compared with the name a client sees.
impl PartialEq<&str> for IntegrationStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for IntegrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn every_state_round_trips_through_its_name() {
        for state in RequestState::ALL {
            assert_eq!(state.as_str().parse::<RequestState>().unwrap(), state);
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::String(state.as_str().into())
            );
        }
    }

    #[test]
    fn an_unknown_state_is_refused_with_the_valid_names() {
        let err = "done".parse::<RequestState>().unwrap_err();
        assert!(err.to_string().contains("succeeded"));
    }

    #[test]
    fn only_the_four_end_states_are_terminal() {
        let terminal: Vec<_> = RequestState::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [
                RequestState::Succeeded,
                RequestState::Failed,
                RequestState::Rejected,
                RequestState::Dead
            ]
        );
    }

    fn state() -> impl Strategy<Value = RequestState> {
        proptest::sample::select(RequestState::ALL.to_vec())
    }

    fn cause() -> impl Strategy<Value = Cause> {
        proptest::sample::select(Cause::ALL.to_vec())
    }

    /// The states a walk of allowed steps from `start` reaches.
    fn reachable(start: RequestState, causes: &[Cause]) -> Vec<RequestState> {
        let mut seen = vec![start];
        let mut frontier = vec![start];
        while let Some(from) = frontier.pop() {
            for cause in causes {
                for next in RequestState::ALL {
                    if from.may_become(next, *cause) && !seen.contains(&next) {
                        seen.push(next);
                        frontier.push(next);
                    }
                }
            }
        }
        seen
    }

    proptest! {
        #[test]
        fn a_terminal_state_is_left_only_by_a_replay(from in state(), next in state(), by in cause()) {
            if from.is_terminal() && from.may_become(next, by) {
                prop_assert_eq!(by, Cause::Replay);
                prop_assert_eq!(next, RequestState::Queued);
            }
        }

        #[test]
        fn no_worker_step_leaves_a_terminal_state(from in state(), next in state(), by in cause()) {
            if by.is_by_worker() && from.is_terminal() {
                prop_assert!(!from.may_become(next, by));
            }
        }

        #[test]
        fn a_replay_starts_only_from_an_unsuccessful_end(from in state(), next in state()) {
            if from.may_become(next, Cause::Replay) {
                prop_assert!(from.is_terminal() && from != RequestState::Succeeded);
            }
        }

        #[test]
        fn only_a_claim_puts_a_request_in_progress(from in state(), by in cause()) {
            if from != RequestState::InProgress && from.may_become(RequestState::InProgress, by) {
                prop_assert_eq!(by, Cause::Claim);
            }
        }

        #[test]
        fn every_outcome_and_every_retry_is_recorded_by_the_holder_of_a_claim(
            from in state(), next in state(), by in cause()
        ) {
            if matches!(by, Cause::Finish | Cause::Park | Cause::Release | Cause::Renew)
                && from.may_become(next, by)
            {
                prop_assert_eq!(from, RequestState::InProgress);
            }
        }

        #[test]
        fn sources_are_exactly_the_states_allowed_to_move(next in state(), by in cause()) {
            let sources = RequestState::sources(next, by);
            for from in RequestState::ALL {
                prop_assert_eq!(sources.contains(&from), from.may_become(next, by));
            }
        }

        #[test]
        fn a_walk_of_allowed_steps_from_a_terminal_state_by_workers_goes_nowhere(
            from in state().prop_filter("terminal", |s| s.is_terminal())
        ) {
            let worker: Vec<Cause> = Cause::ALL.into_iter().filter(|c| c.is_by_worker()).collect();
            prop_assert_eq!(reachable(from, &worker), vec![from]);
        }
    }

    #[test]
    fn every_state_is_reachable_from_queued_by_workers_alone() {
        let worker: Vec<Cause> = Cause::ALL
            .into_iter()
            .filter(|c| c.is_by_worker())
            .collect();
        let mut reached = reachable(RequestState::Queued, &worker);
        reached.sort_by_key(|s| s.as_str());
        let mut all = RequestState::ALL.to_vec();
        all.sort_by_key(|s| s.as_str());
        assert_eq!(reached, all);
    }

    #[test]
    fn a_replayed_request_can_end_again() {
        for end in [
            RequestState::Failed,
            RequestState::Dead,
            RequestState::Rejected,
        ] {
            assert!(reachable(end, &Cause::ALL).contains(&RequestState::Succeeded));
        }
        assert_eq!(
            reachable(RequestState::Succeeded, &Cause::ALL),
            [RequestState::Succeeded]
        );
    }
}
