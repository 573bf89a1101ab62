use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a token may do. A token carries a set of these; every endpoint names the one it
/// needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "requests:write")]
    RequestsWrite,
    #[serde(rename = "requests:read")]
    RequestsRead,
    #[serde(rename = "log:read")]
    LogRead,
    #[serde(rename = "integrations:admin")]
    IntegrationsAdmin,
    #[serde(rename = "operator")]
    Operator,
    #[serde(rename = "hr:events")]
    HrEvents,
    #[serde(rename = "tokens:admin")]
    TokensAdmin,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Self::RequestsWrite,
        Self::RequestsRead,
        Self::LogRead,
        Self::IntegrationsAdmin,
        Self::Operator,
        Self::HrEvents,
        Self::TokensAdmin,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RequestsWrite => "requests:write",
            Self::RequestsRead => "requests:read",
            Self::LogRead => "log:read",
            Self::IntegrationsAdmin => "integrations:admin",
            Self::Operator => "operator",
            Self::HrEvents => "hr:events",
            Self::TokensAdmin => "tokens:admin",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown scope {0:?}; expected one of requests:write, requests:read, log:read, integrations:admin, operator, hr:events, tokens:admin")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_names() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), scope);
        }
        assert!("admin".parse::<Scope>().is_err());
    }
}
