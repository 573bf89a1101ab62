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
//! `ObjectConflict`; that code makes it a conflict, resolved by
//! `$filter=userPrincipalName eq '…'`. Throttling is 429 with `Retry-After`
//! (<https://learn.microsoft.com/graph/throttling>).
//!
//! Graph requires an initial password. It is generated here, random and strong, sent
//! once and never stored; `forceChangePasswordNextSignIn` makes the person replace it
//! (through the admin's reset or self-service reset, or not at all with federated
//! sign-in).

mod wire;

use provisioner_core::ConnectorFailure;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use url::Url;

use crate::catalog::ServiceDescriptor;
use crate::connector::{Connector, CreateAnswer, IntegrationTarget};
use crate::failure::unreadable;
use crate::http::{Answer, HttpClient};
use crate::oauth::{credential, fetch_token, send_with_token, TokenCall};
use crate::token::{AccessToken, TokenCache};
use wire::{failure, is_object_conflict, upn_filter, user_request};

pub(crate) const KEY: &str = "microsoft365";
const ACCOUNT_SCHEMA: &str = include_str!("../../../schemas/connectors/microsoft365.json");
const GRAPH_HOST: &str = "graph.microsoft.com";
const LOGIN_ORIGIN: &str = "https://login.microsoftonline.com";
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

pub(crate) fn descriptor() -> Result<ServiceDescriptor, serde_json::Error> {
    let field = |title: &str, description: &str| json!({"type": "string", "minLength": 1, "title": title, "description": description});
    Ok(ServiceDescriptor {
        key: KEY,
        name: "Microsoft 365",
        provisioning: true,
        account_schema: serde_json::from_str(ACCOUNT_SCHEMA)?,
        credentials_schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["tenant_id", "client_id", "client_secret"],
            "properties": {
                "tenant_id": field("Tenant ID", "The Microsoft Entra tenant's id or verified domain."),
                "client_id": field("Application (client) ID", "The app registration's client id; it needs the User.ReadWrite.All application permission, with admin consent."),
                "client_secret": field("Client secret", "A client secret of the app registration."),
            }
        }),
        requires_base_url: false,
        default_base_url: Some("https://graph.microsoft.com/v1.0"),
    })
}

#[derive(Debug, Clone)]
pub struct MicrosoftConnector {
    http: HttpClient,
    tokens: TokenCache,
}

impl MicrosoftConnector {
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            tokens: TokenCache::default(),
        }
    }

    async fn fetch(&self, target: &IntegrationTarget) -> Result<AccessToken, ConnectorFailure> {
        let credentials = &target.credentials;
        let tenant = credential(credentials, "tenant_id")?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", credential(credentials, "client_id")?),
            ("client_secret", credential(credentials, "client_secret")?),
            ("scope", GRAPH_SCOPE),
        ];
        let url = token_url(&target.base_url, tenant)?;
        let request = self.http.request(Method::POST, url).form(&form);
        fetch_token(&self.http, request).await
    }

    async fn send(
        &self,
        target: &IntegrationTarget,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorFailure> {
        let call = TokenCall {
            target,
            method,
            url,
            body,
        };
        send_with_token(
            &self.http,
            &self.tokens,
            call,
            || self.fetch(target),
            failure,
        )
        .await
    }
}

fn invalid_base(base: &Url) -> ConnectorFailure {
    ConnectorFailure::Permanent {
        code: "invalid_base_url".into(),
        cause: format!("the base URL {base} cannot hold a path"),
    }
}

fn token_url(base: &Url, tenant: &str) -> Result<Url, ConnectorFailure> {
    let origin = if base.host_str() == Some(GRAPH_HOST) {
        Url::parse(LOGIN_ORIGIN).map_err(|_| invalid_base(base))?
    } else {
        base.join("/").map_err(|_| invalid_base(base))?
    };
    let mut url = origin;
    url.path_segments_mut()
        .map_err(|()| invalid_base(base))?
        .clear()
        .extend([tenant, "oauth2", "v2.0", "token"]);
    Ok(url)
}

fn graph_url(base: &Url, segment: &str) -> Result<Url, ConnectorFailure> {
    let mut url = base.clone();
    url.set_query(None);
    url.path_segments_mut()
        .map_err(|()| invalid_base(base))?
        .pop_if_empty()
        .push(segment);
    Ok(url)
}

fn upn(account: &Map<String, Value>) -> Result<&str, ConnectorFailure> {
    account
        .get("user_name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|upn| !upn.is_empty())
        .ok_or_else(|| ConnectorFailure::Permanent {
            code: "invalid_account".into(),
            cause: "the account has no user_name, the userPrincipalName Graph requires".into(),
        })
}

#[async_trait::async_trait]
impl Connector for MicrosoftConnector {
    async fn check(&self, target: &IntegrationTarget) -> Result<(), ConnectorFailure> {
        let url = graph_url(&target.base_url, "organization")?;
        let answer = self.send(target, Method::GET, url, None).await?;
        if !answer.status.is_success() {
            return Err(failure(&answer));
        }
        Ok(())
    }

    async fn find(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        let upn = upn(account)?;
        let mut url = graph_url(&target.base_url, "users")?;
        url.query_pairs_mut()
            .append_pair("$filter", &upn_filter(upn))
            .append_pair("$select", "id,userPrincipalName");
        // Form encoding writes a space as '+'; Graph reads the query per RFC 3986.
        let query = url.query().map(|query| query.replace('+', "%20"));
        url.set_query(query.as_deref());
        let answer = self.send(target, Method::GET, url, None).await?;
        if !answer.status.is_success() {
            return Err(failure(&answer));
        }
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
        let url = graph_url(&target.base_url, "users")?;
        let answer = self.send(target, Method::POST, url, Some(&body)).await?;
        if answer.status == StatusCode::BAD_REQUEST && is_object_conflict(&answer) {
            return Ok(CreateAnswer::Conflict);
        }
        if !answer.status.is_success() {
            return Err(failure(&answer));
        }
        let id = answer
            .whole_json()?
            .as_ref()
            .and_then(|user| user.get("id"))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        match id {
            Some(external_id) => Ok(CreateAnswer::Created { external_id }),
            None => Err(unreadable("the user creation", "holds no user id")),
        }
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
