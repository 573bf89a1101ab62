//! What every SCIM request of a workspace goes through (counting, the bearer token, the
//! injected latency), and the endpoints that hold no accounts.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::header::HOST;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{scim_json, ScimError};
use crate::gate::{bearer_token, InFlight};
use crate::setup::Vendor;
use crate::state::Workspace;
use crate::Simulator;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Create,
    Other,
}

/// Counts the call (refused ones too, so a test can assert that nothing reached the
/// service), checks the token, runs `work` under the lock, then delays the answer by the
/// workspace's latency with the lock released.
pub(crate) async fn answer(
    sim: &Simulator,
    workspace: &str,
    headers: &HeaderMap,
    call: Call,
    work: impl FnOnce(&mut Workspace) -> Response,
) -> Response {
    let (latency, response, _in_flight) = {
        let mut state = sim.lock();
        // Only SCIM workspaces are addressed by name in the path.
        let found = state
            .workspaces
            .get_mut(workspace)
            .filter(|entry| entry.setup.vendor() == Vendor::Scim);
        let Some(entry) = found else {
            return ScimError::not_found(format!("there is no workspace named {workspace:?}"))
                .into_response();
        };
        entry.begin_call(call);
        let in_flight = InFlight::new(sim, workspace.to_owned());
        let token = bearer_token(headers);
        let response = if token.is_some() && token == entry.setup.static_token() {
            work(entry)
        } else {
            tracing::debug!(workspace, "simulator refused a bearer token");
            ScimError::unauthorized().into_response()
        };
        (entry.latency(), response, in_flight)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

/// The workspace's SCIM base URL as the client addressed it, for `meta.location`.
pub(crate) fn base_url(headers: &HeaderMap, workspace: &str) -> String {
    let host = headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/scim/{workspace}/v2")
}

pub(crate) async fn service_provider_config(
    State(sim): State<Simulator>,
    Path(workspace): Path<String>,
    headers: HeaderMap,
) -> Response {
    let location = format!("{}/ServiceProviderConfig", base_url(&headers, &workspace));
    answer(&sim, &workspace, &headers, Call::Other, |_| {
        scim_json(StatusCode::OK, &service_provider_config_document(&location))
    })
    .await
}

/// RFC 7643 §5: what this service supports, so a client can discover it.
fn service_provider_config_document(location: &str) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": false},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": crate::users::MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token issued per workspace",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": location}
    })
}

/// A known SCIM path with a method this simulator does not offer; RFC 7644 §3.12 answers
/// unsupported operations with 501.
pub(crate) async fn not_implemented(
    State(sim): State<Simulator>,
    Path(params): Path<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let workspace = params.get("ws").cloned().unwrap_or_default();
    answer(&sim, &workspace, &headers, Call::Other, |_| {
        let detail = format!("this service does not implement {method} {}", uri.path());
        ScimError::new(StatusCode::NOT_IMPLEMENTED, None, detail).into_response()
    })
    .await
}

pub(crate) async fn no_such_endpoint(
    State(sim): State<Simulator>,
    Path(params): Path<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let workspace = params.get("ws").cloned().unwrap_or_default();
    answer(&sim, &workspace, &headers, Call::Other, |_| {
        ScimError::not_found(format!("this service has no endpoint {}", uri.path())).into_response()
    })
    .await
}
