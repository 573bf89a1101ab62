//! A SaaS simulator speaking the SCIM 2.0 wire format (RFC 7643, RFC 7644), with fault
//! injection. It is a test double for the SaaS side only: end-to-end tests run it
//! in-process on port 0, the demo runs it with `provisioner sim`, the chaos suite drives
//! its faults. State lives in memory.
//!
//! SCIM: `/scim/{workspace}/v2/{ServiceProviderConfig,Users,Users/{id}}`, bearer token per
//! workspace. Slack: `/scim/v2/{Users,Users/{id}}`, the token names the workspace. GitHub:
//! `/orgs/{org}[/invitations]`, the organization names it. Zoom: `/v2/users[/{id}]`
//! with tokens from `/oauth/token`. Microsoft Graph: `/v1.0/{users,organization}` with
//! tokens from `/{tenant}/oauth2/v2.0/token`. Google: `/admin/directory/v1/users[/{key}]`
//! with tokens from `/token` for signed service-account assertions. Admin (JSON, no auth): `/_sim/workspaces/{workspace}[/users|/faults]`; a
//! workspace body naming a `vendor` ([`WorkspaceSetup`]) sets up that vendor's workspace.
//! Faults include an [`Allowance`] of creates per window, answered past it in each
//! vendor's own rate-limit shape; the stats count those refusals and the peak of calls
//! answered at once.

mod admin;
mod allowance;
mod error;
mod faults;
mod filter;
mod gate;
mod github;
mod google;
mod microsoft;
mod oauth;
mod scim;
mod setup;
mod slack;
mod state;
mod users;
mod zoom;

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::routing::{get, put};
use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;

pub use allowance::Allowance;
pub use faults::{Documented, Member};
pub use setup::{Vendor, WorkspaceSetup};
pub use state::{FailCreates, Faults, SimError, WorkspaceStats};
use state::{State, Workspace};

/// The simulator; clones share the same state.
#[derive(Debug, Clone, Default)]
pub struct Simulator {
    state: Arc<Mutex<State>>,
}

impl Simulator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn router(&self) -> Router {
        let users = get(users::list).post(users::create);
        Router::new()
            .route(
                "/scim/{ws}/v2/ServiceProviderConfig",
                get(scim::service_provider_config).fallback(scim::not_implemented),
            )
            .route("/scim/{ws}/v2/Users", users.fallback(scim::not_implemented))
            .route(
                "/scim/{ws}/v2/Users/{id}",
                get(users::get).fallback(scim::not_implemented),
            )
            .route(
                "/scim/{ws}/v2/{*rest}",
                axum::routing::any(scim::no_such_endpoint),
            )
            .route("/scim/v2/Users", get(slack::list).post(slack::create))
            .route("/scim/v2/Users/{id}", get(slack::get))
            .route("/orgs/{org}", get(github::organization))
            .route(
                "/orgs/{org}/memberships/{username}",
                get(github::membership),
            )
            .route(
                "/orgs/{org}/invitations",
                get(github::invitations).post(github::invite),
            )
            .route("/oauth/token", axum::routing::post(zoom::token))
            .route("/v2/users", axum::routing::post(zoom::create))
            .route("/v2/users/{id}", get(zoom::get_user))
            .route(
                "/{tenant}/oauth2/v2.0/token",
                axum::routing::post(microsoft::token),
            )
            .route("/v1.0/organization", get(microsoft::organization))
            .route(
                "/v1.0/users",
                get(microsoft::list_users).post(microsoft::create),
            )
            .route("/token", axum::routing::post(google::token))
            .route(
                "/admin/directory/v1/users",
                get(google::list).post(google::insert),
            )
            .route("/admin/directory/v1/users/{key}", get(google::get))
            .route(
                "/_sim/workspaces/{ws}",
                put(admin::put_workspace).get(admin::get_workspace),
            )
            .route("/_sim/workspaces/{ws}/users", get(admin::list_users))
            .route(
                "/_sim/workspaces/{ws}/faults",
                put(admin::put_faults).delete(admin::clear_faults),
            )
            .with_state(self.clone())
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "simulator listening");
        }
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Creates the SCIM workspace, or changes its token and keeps its accounts.
    pub fn put_workspace(&self, workspace: &str, token: &str) -> WorkspaceStats {
        let setup = WorkspaceSetup::Scim {
            token: token.to_owned(),
        };
        self.setup_workspace(workspace, setup)
    }

    /// Creates the workspace of any vendor, or changes its credentials and keeps its
    /// accounts; access tokens issued under the old credentials stop working.
    pub fn setup_workspace(&self, workspace: &str, setup: WorkspaceSetup) -> WorkspaceStats {
        let mut state = self.lock();
        state.revoke_tokens(workspace);
        let entry = match state.workspaces.entry(workspace.to_owned()) {
            std::collections::hash_map::Entry::Occupied(occupied) => {
                let existing = occupied.into_mut();
                existing.setup = setup;
                existing
            }
            std::collections::hash_map::Entry::Vacant(vacant) => {
                vacant.insert(Workspace::new(setup))
            }
        };
        entry.stats(workspace)
    }

    /// How many access tokens the workspace's token endpoint issued.
    pub fn tokens_issued(&self, workspace: &str) -> Option<u64> {
        let state = self.lock();
        state.workspaces.get(workspace).map(|w| w.tokens_issued)
    }

    /// Makes the workspace's issued access tokens invalid, so the next call with one is
    /// answered 401, as after a revoked consent or an early expiry.
    pub fn revoke_tokens(&self, workspace: &str) {
        self.lock().revoke_tokens(workspace);
    }

    pub fn stats(&self, workspace: &str) -> Option<WorkspaceStats> {
        let state = self.lock();
        state.workspaces.get(workspace).map(|w| w.stats(workspace))
    }

    /// The stored accounts of a workspace in the vendor's own shape (SCIM User, GitHub
    /// invitation, Zoom user, Graph user, Directory user), oldest first.
    pub fn users(&self, workspace: &str) -> Option<Vec<Value>> {
        let state = self.lock();
        state.workspaces.get(workspace).map(|w| w.users().to_vec())
    }

    /// Replaces the workspace's faults.
    pub fn set_faults(&self, workspace: &str, faults: Faults) -> Result<(), SimError> {
        faults.check()?;
        let mut state = self.lock();
        let entry = state
            .workspaces
            .get_mut(workspace)
            .ok_or_else(|| SimError::UnknownWorkspace(workspace.to_owned()))?;
        entry.faults = faults;
        Ok(())
    }

    pub fn clear_faults(&self, workspace: &str) -> Result<(), SimError> {
        self.set_faults(workspace, Faults::default())
    }

    /// A panic while the lock was held cannot leave the counters half-written in a way
    /// that matters to a test double, so a poisoned lock is simply taken over.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
