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

#[cfg(test)]
mod tests {
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
}
