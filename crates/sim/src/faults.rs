//! What a workspace is told to get wrong: failures, lost answers, latency, an
//! allowance, duplicates let through; and the check that a set of faults makes sense.

use serde::{Deserialize, Serialize};

use crate::allowance::Allowance;

/// Faults a workspace injects into its answers. Setting faults replaces the previous
/// ones, so a test states the whole situation it wants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Delays every SCIM answer of the workspace, after the work is done, so a client
    /// that gives up early leaves the effect behind as a real slow service would.
    #[serde(default)]
    pub latency_ms: u64,
    /// Refuses the next creates without creating anything.
    #[serde(default)]
    pub fail_next_creates: Option<FailCreates>,
    /// The next creates do create the account but answer 500, as if the response was
    /// lost on the way back; a client must look up before it retries.
    #[serde(default)]
    pub lose_next_create_responses: u32,
    /// The vendor's own error code carried by the injected create failures, where the
    /// vendor has one: Google's `reason` (`userRateLimitExceeded`, `quotaExceeded`, …),
    /// Graph's `error.code`, Zoom's numeric `code`, Slack's `description`. SCIM ignores
    /// it. A code fitting the status when absent. For GitHub, `"primary"` makes an
    /// injected 403 or 429 a primary rate limit (`x-ratelimit-reset`) instead of a
    /// secondary one (`retry-after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<String>,
    /// Adds a random extra delay of up to this much to every answer, so calls overtake
    /// one another as they do over a real network.
    #[serde(default)]
    pub latency_jitter_ms: u64,
    /// The share of creates, in percent, refused at random with 503 and nothing created
    /// (after any counted `fail_next_creates`).
    #[serde(default)]
    pub create_error_percent: u8,
    /// The share of creates, in percent, refused at random with 429 and `Retry-After: 1`.
    #[serde(default)]
    pub create_rate_limit_percent: u8,
    /// The share of creates, in percent, that create the account and then answer 500,
    /// as if the answer was lost (after any counted `lose_next_create_responses`).
    #[serde(default)]
    pub lose_create_response_percent: u8,
    /// The workspace does not enforce unique user names, as some services don't: a
    /// repeated create makes a second account, which `duplicate_accounts` counts. Only a
    /// client that never repeats a create that took effect keeps it at zero.
    #[serde(default)]
    pub allow_duplicates: bool,
    /// Creates accepted per window; the ones over it are refused in the vendor's own
    /// rate-limit shape with the truthful wait (see [`Allowance`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_allowance: Option<Allowance>,
    /// Appended to the id of every user a SCIM create makes, so a client can be
    /// handed an id it cannot store (a NUL character, which PostgreSQL text refuses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_id_suffix: Option<String>,
    /// Answers the workspace gives in the other ways its vendor documents (see
    /// [`Documented`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documented: Vec<Documented>,
    /// Emails held by accounts the integration may not see (Google: a user of another
    /// domain or customer): a create for one answers 409 `duplicate` and its `users.get`
    /// 403 `forbidden`, as Google answers them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taken_elsewhere: Vec<String>,
    /// GitHub: people already members of the organization; an invitation for their
    /// email is refused as "already a part of this organization", and their membership
    /// is served at `GET /orgs/{org}/memberships/{login}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
}

/// A documented answer a vendor gives instead of its usual one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Documented {
    /// A taken unique key is answered 400 instead of the usual status: SCIM with
    /// `scimType: uniqueness` (RFC 7644 §3.12 pairs it with 409, servers send 400),
    /// Slack with the description `username_taken`, Graph as `Request_BadRequest`
    /// without `details`.
    ConflictAs400,
    /// Graph: a taken key is answered 409, with no `details`.
    ConflictAs409,
    /// Graph: a taken key is reported on `proxyAddresses`, the addresses derived from
    /// `mail`, without `details`.
    ProxyAddressesConflict,
    /// Zoom: `GET /users/{userId}` of an unknown user answers 400 with code 1120
    /// instead of 404 with code 1001.
    UnknownUserAs1120,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub login: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailCreates {
    pub count: u32,
    /// Any 4xx or 5xx status; 429 carries `Retry-After` when `retry_after_secs` is set.
    pub status: u16,
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    /// The vendor's sentence for the error (SCIM `detail`, GitHub `message`, …); one
    /// fitting the status when absent.
    #[serde(default)]
    pub detail: Option<String>,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SimError {
    #[error("there is no workspace named {0:?}; create it first")]
    UnknownWorkspace(String),
    #[error("a failing create must answer a 4xx or 5xx status, not {0}")]
    InvalidFaultStatus(u16),
    #[error("create_error_percent and create_rate_limit_percent add up to {0}, more than 100")]
    InvalidFaultShare(u16),
    #[error("an allowance needs at least one create and a window of at least one second")]
    InvalidAllowance,
}

impl Faults {
    pub(crate) fn answers(&self, documented: Documented) -> bool {
        self.documented.contains(&documented)
    }

    pub(crate) fn taken_elsewhere(&self, email: &str) -> bool {
        self.taken_elsewhere
            .iter()
            .any(|taken| taken.eq_ignore_ascii_case(email))
    }

    pub(crate) fn check(&self) -> Result<(), SimError> {
        if self.create_allowance.is_some_and(|a| !a.is_valid()) {
            return Err(SimError::InvalidAllowance);
        }
        match &self.fail_next_creates {
            Some(fail) if !(400..=599).contains(&fail.status) => {
                Err(SimError::InvalidFaultStatus(fail.status))
            }
            _ => {
                let share = u16::from(self.create_error_percent)
                    + u16::from(self.create_rate_limit_percent);
                if share > 100 {
                    return Err(SimError::InvalidFaultShare(share));
                }
                Ok(())
            }
        }
    }
}
