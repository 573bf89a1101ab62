//! The simulator's memory: workspaces, their accounts, what each one was asked, the
//! access tokens it issued, and the faults it was told to inject.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::allowance::Window;
pub use crate::faults::{FailCreates, Faults, SimError};
use crate::scim::Call;
use crate::setup::{Vendor, WorkspaceSetup};

/// What a workspace holds and was asked, for tests to assert on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceStats {
    pub workspace: String,
    pub accounts: usize,
    /// Every request to the workspace, refused ones included.
    pub calls: u64,
    /// Every `POST /Users`, refused ones included.
    pub create_calls: u64,
    /// Authenticated create calls per lowercased unique key of the vendor: `userName`
    /// for SCIM and Slack, the invitee's email for GitHub, the email for Zoom,
    /// `userPrincipalName` for Microsoft Graph, `primaryEmail` for Google.
    pub create_calls_by_user_name: BTreeMap<String, u64>,
    /// Unique keys that more than one account was created under (only possible when
    /// the workspace allows duplicates).
    #[serde(default)]
    pub duplicate_accounts: u64,
    /// Those keys, to look into.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicated_keys: Vec<String>,
    /// Creates refused for the rate: over the allowance (in the vendor's own shape,
    /// Google's and GitHub's being a 403) or by an injected 429.
    #[serde(default)]
    pub rate_limited_calls: u64,
    /// The most calls the workspace was answering at the same time.
    #[serde(default)]
    pub peak_concurrent_calls: u64,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) workspaces: HashMap<String, Workspace>,
    /// Access tokens issued by the simulated token endpoints, each bound to the
    /// workspace whose credentials obtained it.
    access_tokens: HashMap<String, IssuedToken>,
}

#[derive(Debug)]
struct IssuedToken {
    workspace: String,
    expires_at: Instant,
}

/// How long issued access tokens live: an hour, as Zoom, Entra and Google issue them.
pub(crate) const ACCESS_TOKEN_SECONDS: u64 = 3599;

impl State {
    /// The workspace of `vendor` that `token` opens: its static token, or an access
    /// token it was issued that has not expired.
    pub(crate) fn workspace_for_token(&self, vendor: Vendor, token: &str) -> Option<String> {
        if let Some(issued) = self.access_tokens.get(token) {
            let owner = self.workspaces.get(&issued.workspace)?;
            return (owner.setup.vendor() == vendor && Instant::now() < issued.expires_at)
                .then(|| issued.workspace.clone());
        }
        self.workspaces
            .iter()
            .find(|(_, workspace)| {
                workspace.setup.vendor() == vendor && workspace.setup.static_token() == Some(token)
            })
            .map(|(name, _)| name.clone())
    }

    /// The first workspace of `vendor` whose setup satisfies `matches`.
    pub(crate) fn find_workspace(
        &self,
        vendor: Vendor,
        matches: impl Fn(&WorkspaceSetup) -> bool,
    ) -> Option<String> {
        self.workspaces
            .iter()
            .find(|(_, workspace)| workspace.setup.vendor() == vendor && matches(&workspace.setup))
            .map(|(name, _)| name.clone())
    }

    /// Issues a new access token for the workspace and counts it.
    pub(crate) fn issue_token(&mut self, workspace: &str) -> String {
        let token = format!("sim-at-{}", uuid::Uuid::new_v4().simple());
        if let Some(entry) = self.workspaces.get_mut(workspace) {
            entry.tokens_issued += 1;
        }
        self.access_tokens.insert(
            token.clone(),
            IssuedToken {
                workspace: workspace.to_owned(),
                expires_at: Instant::now() + Duration::from_secs(ACCESS_TOKEN_SECONDS),
            },
        );
        token
    }

    /// Makes every access token of the workspace invalid, as a revoked app consent or
    /// a rotated secret does at the vendor.
    pub(crate) fn revoke_tokens(&mut self, workspace: &str) {
        self.access_tokens
            .retain(|_, issued| issued.workspace != workspace);
    }
}

#[derive(Debug)]
pub(crate) struct Workspace {
    pub(crate) setup: WorkspaceSetup,
    /// In creation order, which is the order of list answers; accounts are never removed,
    /// so the indexes below stay valid.
    users: Vec<Value>,
    by_id: HashMap<String, usize>,
    /// Keyed by the lowercased unique key of the vendor (SCIM's userName is
    /// caseExact=false, emails and UPNs compare without case too).
    by_key: HashMap<String, usize>,
    pub(crate) calls: u64,
    pub(crate) create_calls: u64,
    create_calls_by_user_name: BTreeMap<String, u64>,
    accounts_by_key: HashMap<String, u64>,
    pub(crate) faults: Faults,
    pub(crate) tokens_issued: u64,
    pub(crate) window: Window,
    pub(crate) rate_limited_calls: u64,
    in_flight: u64,
    peak_in_flight: u64,
}

impl Workspace {
    pub(crate) fn new(setup: WorkspaceSetup) -> Self {
        Self {
            setup,
            users: Vec::new(),
            by_id: HashMap::new(),
            by_key: HashMap::new(),
            calls: 0,
            create_calls: 0,
            create_calls_by_user_name: BTreeMap::new(),
            accounts_by_key: HashMap::new(),
            faults: Faults::default(),
            tokens_issued: 0,
            window: Window::default(),
            rate_limited_calls: 0,
            in_flight: 0,
            peak_in_flight: 0,
        }
    }

    /// Counts a call that reached the workspace; it is in flight until [`end_call`].
    ///
    /// [`end_call`]: Workspace::end_call
    pub(crate) fn begin_call(&mut self, call: Call) {
        self.calls += 1;
        if call == Call::Create {
            self.create_calls += 1;
        }
        self.in_flight += 1;
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight);
    }

    pub(crate) fn end_call(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    pub(crate) fn stats(&self, name: &str) -> WorkspaceStats {
        WorkspaceStats {
            workspace: name.to_owned(),
            accounts: self.users.len(),
            calls: self.calls,
            create_calls: self.create_calls,
            create_calls_by_user_name: self.create_calls_by_user_name.clone(),
            duplicate_accounts: self.accounts_by_key.values().filter(|&&n| n > 1).count() as u64,
            duplicated_keys: {
                let mut keys: Vec<String> = self
                    .accounts_by_key
                    .iter()
                    .filter(|(_, &n)| n > 1)
                    .map(|(key, _)| key.clone())
                    .collect();
                keys.sort();
                keys
            },
            rate_limited_calls: self.rate_limited_calls,
            peak_concurrent_calls: self.peak_in_flight,
        }
    }

    pub(crate) fn latency(&self) -> Duration {
        let jitter = match self.faults.latency_jitter_ms {
            0 => 0,
            max => rand::random::<u64>() % (max + 1),
        };
        Duration::from_millis(self.faults.latency_ms + jitter)
    }

    pub(crate) fn count_create_for(&mut self, key: &str) {
        *self
            .create_calls_by_user_name
            .entry(key.to_lowercase())
            .or_default() += 1;
    }

    pub(crate) fn users(&self) -> &[Value] {
        &self.users
    }

    pub(crate) fn user(&self, id: &str) -> Option<&Value> {
        self.by_id.get(id).and_then(|&index| self.users.get(index))
    }

    pub(crate) fn user_by_key(&self, key: &str) -> Option<&Value> {
        self.by_key
            .get(&key.to_lowercase())
            .and_then(|&index| self.users.get(index))
    }

    /// Whether a create under `key` must be refused as a conflict.
    pub(crate) fn holds_key(&self, key: &str) -> bool {
        !self.faults.allow_duplicates && self.by_key.contains_key(&key.to_lowercase())
    }

    /// Stores a resource under its `id` and unique key; the caller checked uniqueness.
    pub(crate) fn insert(&mut self, id: String, key: &str, resource: Value) {
        let index = self.users.len();
        self.users.push(resource);
        self.by_id.insert(id, index);
        self.by_key.insert(key.to_lowercase(), index);
        *self.accounts_by_key.entry(key.to_lowercase()).or_default() += 1;
    }

    /// Takes one injected create failure, if any is left.
    pub(crate) fn take_create_failure(&mut self) -> Option<FailCreates> {
        let fail = self
            .take_counted_failure()
            .or_else(|| self.random_failure(rand::random::<u8>() % 100));
        if fail.as_ref().is_some_and(|fail| fail.status == 429) {
            self.rate_limited_calls += 1;
        }
        fail
    }

    /// `roll` is uniform in 0..100.
    fn random_failure(&self, roll: u8) -> Option<FailCreates> {
        let errors = self.faults.create_error_percent;
        let limits = self.faults.create_rate_limit_percent;
        let (status, retry_after_secs) = if roll < errors {
            (503, None)
        } else if roll < errors.saturating_add(limits) {
            (429, Some(1))
        } else {
            return None;
        };
        Some(FailCreates {
            count: 1,
            status,
            retry_after_secs,
            detail: None,
        })
    }

    fn take_counted_failure(&mut self) -> Option<FailCreates> {
        let fail = self.faults.fail_next_creates.as_mut()?;
        if fail.count == 0 {
            self.faults.fail_next_creates = None;
            return None;
        }
        fail.count -= 1;
        let taken = fail.clone();
        if fail.count == 0 {
            self.faults.fail_next_creates = None;
        }
        Some(taken)
    }

    pub(crate) fn take_lost_response(&mut self) -> bool {
        if self.faults.lose_next_create_responses == 0 {
            return rand::random::<u8>() % 100 < self.faults.lose_create_response_percent;
        }
        self.faults.lose_next_create_responses -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace_with(faults: Faults) -> Workspace {
        let mut workspace = Workspace::new(WorkspaceSetup::Scim { token: "t".into() });
        workspace.faults = faults;
        workspace
    }

    #[test]
    fn random_failures_split_the_rolls_by_share() {
        let workspace = workspace_with(Faults {
            create_error_percent: 30,
            create_rate_limit_percent: 10,
            ..Faults::default()
        });
        let statuses: Vec<Option<u16>> = (0..100)
            .map(|roll| workspace.random_failure(roll).map(|fail| fail.status))
            .collect();
        assert_eq!(statuses.iter().filter(|s| **s == Some(503)).count(), 30);
        assert_eq!(statuses.iter().filter(|s| **s == Some(429)).count(), 10);
        assert_eq!(statuses.iter().filter(|s| s.is_none()).count(), 60);
        let limited = workspace.random_failure(35).unwrap();
        assert_eq!(limited.retry_after_secs, Some(1));
    }

    #[test]
    fn shares_over_a_hundred_percent_are_refused() {
        let faults = Faults {
            create_error_percent: 80,
            create_rate_limit_percent: 30,
            ..Faults::default()
        };
        assert_eq!(faults.check(), Err(SimError::InvalidFaultShare(110)));
    }

    #[test]
    fn duplicates_are_counted_only_where_allowed() {
        let mut strict = workspace_with(Faults::default());
        strict.insert("1".into(), "Ada", Value::Null);
        assert!(strict.holds_key("ada"));

        let mut lax = workspace_with(Faults {
            allow_duplicates: true,
            ..Faults::default()
        });
        lax.insert("1".into(), "Ada", Value::Null);
        assert!(!lax.holds_key("ada"));
        lax.insert("2".into(), "ada", Value::Null);
        assert_eq!(lax.stats("w").duplicate_accounts, 1);
    }
}
