//! Microsoft 365 users through Microsoft Graph (`POST /v1.0/users`,
//! <https://learn.microsoft.com/graph/api/user-post-users>), called with an app-only
//! access token from the client-credentials grant of the Microsoft identity platform.
//!
//! Two hosts: Graph at `https://graph.microsoft.com/v1.0` and the token endpoint at
//! `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`. When the base URL is
//! Graph's own, tokens come from `login.microsoftonline.com`; when an integration names
//! another base URL (the simulator, a proxy), they come from
//! `/{tenant}/oauth2/v2.0/token` at that URL's origin, so one address serves both.
//!
//! A taken `userPrincipalName` is 400 `Request_BadRequest` with a detail coded
//! `ObjectConflict`, or, as Graph also answers it, 409, or 400 without details saying
//! "Another object with the same value for property … already exists." (`mail` and
//! `proxyAddresses` included); each is a conflict, resolved by
//! `$filter=userPrincipalName eq '…'`. Throttling is 429 with `Retry-After`
//! (<https://learn.microsoft.com/graph/throttling>).
//!
//! Graph requires an initial password. It is generated here, random and strong, sent
//! once and never stored; `forceChangePasswordNextSignIn` makes the person replace it
//! (through the admin's reset or self-service reset, or not at all with federated
//! sign-in).

mod wire;

use std::sync::Arc;
use std::time::Duration;

use provisioner_core::retry::{Jitter, RetryPolicy};
use provisioner_core::ConnectorFailure;
use reqwest::RequestBuilder;
use serde_json::{json, Map, Value};
use url::Url;

use crate::connector::{Connector, CreateAnswer, IntegrationTarget};
use crate::failure::unreadable;
use crate::http::{Answer, HttpClient};
use crate::token::{credential, TokenClient, TokenGrant};
use crate::vendor::{credentials_schema, secret, CallLimits, Provisioning, VendorModule};
use crate::wire::{beside_api, endpoint, required, spaces_as_percent_20};
use wire::{failure, is_object_conflict, upn_filter, user_request};

pub(crate) const MODULE: VendorModule = VendorModule {
    key: provisioner_core::ServiceKey::from_static("microsoft365"),
    name: "Microsoft 365",
    provisioning: Some(Provisioning {
        account_schema: include_str!("../../../../../schemas/connectors/microsoft365.json"),
        credentials_schema: credentials,
        default_base_url: Some("https://graph.microsoft.com/v1.0"),
        retry_policy,
        // Identity and access writes: 3,000 per 150 s per app and tenant
        // (https://learn.microsoft.com/graph/throttling-limits).
        call_limits: CallLimits {
            requests_per_second: Some(3_000.0 / 150.0),
            max_concurrent_calls: None,
        },
        connector: |http| Arc::new(MicrosoftConnector::new(http)),
    }),
};

const GRAPH_HOST: &str = "graph.microsoft.com";
const LOGIN_ORIGIN: &str = "https://login.microsoftonline.com";
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Graph: honour Retry-After, and back off exponentially without one
/// (<https://learn.microsoft.com/graph/throttling>); Microsoft's own SDK retry handler
/// waits 3 s, retries 3 times and never more than 180 s at once.
fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_secs(3),
        max_delay: Duration::from_secs(180),
        jitter: Jitter::Equal,
        deadline: Duration::from_secs(3600),
    }
}

fn credentials() -> Value {
    credentials_schema(
        &["tenant_id", "client_id", "client_secret"],
        json!({
            "tenant_id": secret("Tenant ID", "The Microsoft Entra tenant's id or verified domain."),
            "client_id": secret("Application (client) ID", "The app registration's client id; it needs the User.ReadWrite.All application permission, with admin consent."),
            "client_secret": secret("Client secret", "A client secret of the app registration."),
        }),
    )
}

#[derive(Debug, Clone)]
pub struct MicrosoftConnector {
    client: TokenClient<ClientCredentials>,
}

impl MicrosoftConnector {
    pub fn new(http: HttpClient) -> Self {
        Self {
            client: TokenClient::new(http, ClientCredentials),
        }
    }
}

/// The Microsoft identity platform's client-credentials grant, for Graph.
#[derive(Debug, Clone, Copy)]
struct ClientCredentials;

impl TokenGrant for ClientCredentials {
    fn token_endpoint(&self, target: &IntegrationTarget) -> Result<Url, ConnectorFailure> {
        token_url(
            &target.base_url,
            credential(&target.credentials, "tenant_id")?,
        )
    }

    fn token_request(
        &self,
        request: RequestBuilder,
        target: &IntegrationTarget,
    ) -> Result<RequestBuilder, ConnectorFailure> {
        let credentials = &target.credentials;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", credential(credentials, "client_id")?),
            ("client_secret", credential(credentials, "client_secret")?),
            ("scope", GRAPH_SCOPE),
        ];
        Ok(request.form(&form))
    }

    fn failure(&self, answer: &Answer) -> ConnectorFailure {
        failure(answer)
    }
}

fn token_url(base: &Url, tenant: &str) -> Result<Url, ConnectorFailure> {
    beside_api(
        base,
        GRAPH_HOST,
        LOGIN_ORIGIN,
        [tenant, "oauth2", "v2.0", "token"],
    )
}

fn upn(account: &Map<String, Value>) -> Result<&str, ConnectorFailure> {
    required(account, "user_name", "the userPrincipalName Graph requires").map(str::trim)
}

#[async_trait::async_trait]
impl Connector for MicrosoftConnector {
    async fn check(&self, target: &IntegrationTarget) -> Result<(), ConnectorFailure> {
        let url = endpoint(&target.base_url, ["organization"])?;
        self.client.read(target, url).await.map(drop)
    }

    async fn find(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        let upn = upn(account)?;
        let mut url = endpoint(&target.base_url, ["users"])?;
        url.query_pairs_mut()
            .append_pair("$filter", &upn_filter(upn))
            .append_pair("$select", "id,userPrincipalName");
        // Graph reads the query per RFC 3986.
        spaces_as_percent_20(&mut url);
        let answer = self.client.read(target, url).await?;
        let body = answer.whole_json()?;
        let Some(users) = body
            .as_ref()
            .and_then(|b| b.get("value"))
            .and_then(Value::as_array)
        else {
            return Err(unreadable("the user lookup", "holds no value list"));
        };
        let found = users
            .iter()
            .filter(|user| {
                user.get("userPrincipalName")
                    .and_then(Value::as_str)
                    .is_some_and(|found| found.eq_ignore_ascii_case(upn))
            })
            .find_map(|user| user.get("id").and_then(Value::as_str))
            .map(str::to_owned);
        Ok(found)
    }

    async fn create(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        let body = user_request(account, upn(account)?);
        let url = endpoint(&target.base_url, ["users"])?;
        let what = "the user creation";
        self.client
            .create_user(target, url, &body, is_object_conflict, what)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_login_microsoftonline_for_graph_and_the_configured_origin_otherwise() {
        let graph = Url::parse("https://graph.microsoft.com/v1.0").unwrap();
        assert_eq!(
            token_url(&graph, "contoso.onmicrosoft.com")
                .unwrap()
                .as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        let sim = Url::parse("http://127.0.0.1:9090/v1.0").unwrap();
        assert_eq!(
            token_url(&sim, "t1").unwrap().as_str(),
            "http://127.0.0.1:9090/t1/oauth2/v2.0/token"
        );
    }
}
