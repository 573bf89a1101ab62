//! The inventory's vocabulary: where an account held at a service stands, and how
//! provisioner came to hold it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an account stands at its service, as far as provisioner has acted on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    Active,
    Suspended,
    Removed,
}

impl AccountState {
    pub const ALL: [AccountState; 3] = [Self::Active, Self::Suspended, Self::Removed];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Removed => "removed",
        }
    }
}

/// How provisioner came to hold an account: made by it (including one it finds again
/// after a lost answer, recognised as its own), or an existing one taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountOrigin {
    Created,
    Linked,
}

impl AccountOrigin {
    pub const ALL: [AccountOrigin; 2] = [Self::Created, Self::Linked];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Linked => "linked",
        }
    }
}

/// What a provisioning request does to its account. Every request so far creates one;
/// lifecycle operations add the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestAction {
    Create,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown account state {0:?}; expected one of active, suspended, removed")]
pub struct UnknownAccountState(pub String);

impl FromStr for AccountState {
    type Err = UnknownAccountState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownAccountState(s.to_owned()))
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for AccountOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_account_state_round_trips_through_its_name() {
        for state in AccountState::ALL {
            assert_eq!(state.as_str().parse::<AccountState>().unwrap(), state);
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::String(state.as_str().into())
            );
        }
    }

    #[test]
    fn an_unknown_account_state_is_refused_with_the_valid_names() {
        let err = "deleted".parse::<AccountState>().unwrap_err();
        assert!(err.to_string().contains("removed"), "{err}");
    }

    #[test]
    fn every_origin_serialises_as_its_name() {
        for origin in AccountOrigin::ALL {
            assert_eq!(
                serde_json::to_value(origin).unwrap(),
                serde_json::Value::String(origin.as_str().into())
            );
        }
    }
}
