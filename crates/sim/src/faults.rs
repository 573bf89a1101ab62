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
