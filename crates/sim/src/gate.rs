//! What every call of a vendor whose paths carry no workspace goes through: the bearer
//! token names the workspace, the call is counted, the work runs under the lock, and the
//! answer is delayed by the workspace's latency with the lock released.

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::scim::Call;
use crate::setup::Vendor;
use crate::state::Workspace;
use crate::Simulator;

pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Runs `work` for the workspace of `vendor` that the bearer token opens; a token that
/// opens none is answered by `unauthorized`, and counted nowhere, since no workspace
/// can be told.
pub(crate) async fn answer_by_token(
    sim: &Simulator,
    vendor: Vendor,
    headers: &HeaderMap,
    call: Call,
    unauthorized: impl FnOnce() -> Response,
    work: impl FnOnce(&mut Workspace) -> Response,
) -> Response {
    let (latency, response, _in_flight) = {
        let mut state = sim.lock();
        let name = bearer_token(headers).and_then(|token| state.workspace_for_token(vendor, token));
        let Some((name, entry)) =
            name.and_then(|name| state.workspaces.get_mut(&name).map(|entry| (name, entry)))
        else {
            tracing::debug!(?vendor, "simulator refused a bearer token");
            return unauthorized();
        };
        entry.begin_call(call);
        let in_flight = InFlight::new(sim, name);
        (entry.latency(), work(entry), in_flight)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

/// A call the workspace is answering; it ends when this is dropped, after the latency,
/// or earlier if the caller gives up and the answer is never sent.
pub(crate) struct InFlight {
    sim: Simulator,
    workspace: String,
}

impl InFlight {
    pub(crate) fn new(sim: &Simulator, workspace: String) -> Self {
        Self {
            sim: sim.clone(),
            workspace,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(entry) = self.sim.lock().workspaces.get_mut(&self.workspace) {
            entry.end_call();
        }
    }
}
