//! SCIM 2.0 (RFC 7643, RFC 7644): any application that speaks it, addressed by the base
//! URL of its workspace, with a bearer token.

mod wire;

use provisioner_core::ConnectorFailure;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Map, Value};
use url::Url;

use crate::catalog::ServiceDescriptor;
use crate::connector::{Connector, CreateAnswer, IntegrationTarget};
use crate::http::{Answer, HttpClient};
use wire::{endpoint, failure, scim_user, unreadable, user_name, user_name_filter};

pub(crate) const KEY: &str = "scim";
const ACCOUNT_SCHEMA: &str = include_str!("../../../schemas/connectors/scim.json");
const MEDIA_TYPE: &str = "application/scim+json";

pub(crate) fn descriptor() -> Result<ServiceDescriptor, serde_json::Error> {
    Ok(ServiceDescriptor {
        key: KEY,
        name: "SCIM 2.0 application",
        provisioning: true,
        account_schema: serde_json::from_str(ACCOUNT_SCHEMA)?,
        credentials_schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["token"],
            "properties": {
                "token": {
                    "type": "string",
                    "minLength": 1,
                    "title": "Bearer token",
                    "description": "The API token the application issued for provisioning; sent as Authorization: Bearer."
                }
            }
        }),
        requires_base_url: true,
        default_base_url: None,
    })
}

#[derive(Debug, Clone)]
pub struct ScimConnector {
    http: HttpClient,
    dialect: Dialect,
}

/// Where a SCIM service departs from RFC 7644: how it is checked and how it words its
/// errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Rfc7644,
    /// Slack: checked by reading one user, the resource provisioning needs, and
    /// errors worded as `{"Errors": {"description", "code"}}`.
    Slack,
}

impl ScimConnector {
    pub fn new(http: HttpClient) -> Self {
        Self::with_dialect(http, Dialect::Rfc7644)
    }

    pub(crate) fn with_dialect(http: HttpClient, dialect: Dialect) -> Self {
        Self { http, dialect }
    }

    fn failure(&self, answer: &Answer) -> ConnectorFailure {
        match self.dialect {
            Dialect::Rfc7644 => failure(answer),
            Dialect::Slack => crate::slack::failure(answer),
        }
    }

    fn request(
        &self,
        method: Method,
        url: Url,
        target: &IntegrationTarget,
    ) -> Result<RequestBuilder, ConnectorFailure> {
        let token = target
            .credentials
            .get("token")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ConnectorFailure::AuthFailed {
                cause: "the integration has no bearer token".into(),
            })?;
        Ok(self
            .http
            .request(method, url)
            .bearer_auth(token)
            .header(ACCEPT, MEDIA_TYPE))
    }
}

#[async_trait::async_trait]
impl Connector for ScimConnector {
    /// Reads the service's configuration (is this a SCIM service?), then one user (does
    /// the token work?): RFC 7644 §4 lets the discovery endpoints answer without
    /// authentication, so the first read alone would pass a revoked token.
    async fn check(&self, target: &IntegrationTarget) -> Result<(), ConnectorFailure> {
        let mut users = endpoint(&target.base_url, "Users")?;
        users.query_pairs_mut().append_pair("count", "1");
        let reads = match self.dialect {
            Dialect::Rfc7644 => {
                users.query_pairs_mut().append_pair("attributes", "id");
                vec![endpoint(&target.base_url, "ServiceProviderConfig")?, users]
            }
            // The cheapest authenticated read Slack offers: one user.
            Dialect::Slack => vec![users],
        };
        for url in reads {
            let answer = self
                .http
                .send(self.request(Method::GET, url, target)?)
                .await?;
            if !answer.status.is_success() {
                return Err(self.failure(&answer));
            }
        }
        Ok(())
    }

    async fn find(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        let user_name = user_name(account)?;
        let mut url = endpoint(&target.base_url, "Users")?;
        url.query_pairs_mut()
            .append_pair("filter", &user_name_filter(user_name));
        // Form encoding writes a space as '+', which a service decoding per RFC 3986
        // reads literally; a '+' of the value itself is already %2B.
        let query = url.query().map(|query| query.replace('+', "%20"));
        url.set_query(query.as_deref());

        let answer = self
            .http
            .send(self.request(Method::GET, url, target)?)
            .await?;
        if !answer.status.is_success() {
            return Err(self.failure(&answer));
        }
        let Some(list) = answer.whole_json()? else {
            return Err(unreadable("the lookup", "is not a SCIM list response"));
        };
        let resources = match list.get("Resources") {
            Some(Value::Array(resources)) => resources.as_slice(),
            // RFC 7644 §3.4.2: Resources may be left out when nothing matched.
            None | Some(Value::Null) => &[],
            Some(_) => {
                return Err(unreadable(
                    "the lookup",
                    "holds Resources that are not a list",
                ))
            }
        };
        // A service that ignores the filter answers with everyone; adopting someone
        // else's account would be worse than any error, so the name is checked here.
        let found = resources
            .iter()
            .filter(|user| {
                user.get("userName")
                    .and_then(Value::as_str)
                    .is_some_and(|name| name.to_lowercase() == user_name.to_lowercase())
            })
            .find_map(|user| user.get("id").and_then(Value::as_str))
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        Ok(found)
    }

    async fn create(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        user_name(account)?;
        let url = endpoint(&target.base_url, "Users")?;
        let request = self
            .request(Method::POST, url, target)?
            .header(CONTENT_TYPE, MEDIA_TYPE)
            .body(scim_user(account).to_string());
        let answer = self.http.send(request).await?;
        if answer.status == StatusCode::CONFLICT {
            return Ok(CreateAnswer::Conflict);
        }
        if !answer.status.is_success() {
            return Err(self.failure(&answer));
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
            None => Err(ConnectorFailure::Permanent {
                code: "missing_id".into(),
                cause: format!(
                    "the service answered {} to the create without an account id",
                    answer.status.as_u16()
                ),
            }),
        }
    }
}
