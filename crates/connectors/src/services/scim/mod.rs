//! SCIM 2.0 (RFC 7643, RFC 7644): any application that speaks it, addressed by the base
//! URL of its workspace, with a bearer token.

mod wire;

use std::sync::Arc;

use provisioner_core::retry::RetryPolicy;
use provisioner_core::ConnectorFailure;
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde_json::{Map, Value};

use crate::connector::{Connector, CreateAnswer, Found, IntegrationTarget, Stamp};
use crate::failure::unreadable;
use crate::http::{Answer, HttpClient};
use crate::token::BearerClient;
use crate::vendor::{token_credentials, CallLimits, Provisioning, VendorModule};
use crate::wire::{resource_id, spaces_as_percent_20};
use wire::{endpoint, failure, is_uniqueness, owner, scim_user, user_name, user_name_filter};

pub(crate) const MODULE: VendorModule = VendorModule {
    key: provisioner_core::ServiceKey::from_static("scim"),
    name: "SCIM 2.0 application",
    provisioning: Some(Provisioning {
        account_schema: include_str!("../../../../../schemas/connectors/scim.json"),
        credentials_schema: || {
            token_credentials("Bearer token", "The API token the application issued for provisioning; sent as Authorization: Bearer.")
        },
        // Every application lives at its own address.
        default_base_url: None,
        // RFC 7644 gives no retry guidance: the general policy.
        retry_policy: RetryPolicy::default,
        // A generic SCIM app documents no limit; its integration may set one.
        call_limits: CallLimits::NONE,
        connector: |http| Arc::new(ScimConnector::new(http)),
    }),
};

const MEDIA_TYPE: &str = "application/scim+json";

#[derive(Debug, Clone)]
pub struct ScimConnector {
    client: BearerClient,
    /// Whether `check` reads `ServiceProviderConfig` before one user.
    discovery: bool,
    conflict: fn(&Answer) -> bool,
}

/// Where a SCIM service departs from RFC 7644: how it is checked and how it words its
/// errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// Whether `check` reads `ServiceProviderConfig` before one user; a service that
    /// serves no discovery endpoint is checked by the user read alone.
    pub discovery: bool,
    pub failure: fn(&Answer) -> ConnectorFailure,
    /// Whether a refused create says the userName (or another unique value) is taken.
    pub conflict: fn(&Answer) -> bool,
}

const RFC_7644: Dialect = Dialect {
    discovery: true,
    failure,
    conflict: is_uniqueness,
};

impl ScimConnector {
    pub fn new(http: HttpClient) -> Self {
        Self::with_dialect(http, RFC_7644)
    }

    pub(crate) fn with_dialect(http: HttpClient, dialect: Dialect) -> Self {
        let headers = &[("accept", MEDIA_TYPE)];
        Self {
            client: BearerClient::new(http, "bearer token", headers, dialect.failure),
            discovery: dialect.discovery,
            conflict: dialect.conflict,
        }
    }
}

impl ScimConnector {
    /// The user holding the account's userName, with its id.
    async fn find_user(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<(String, Value)>, ConnectorFailure> {
        let user_name = user_name(account)?;
        let mut url = endpoint(&target.base_url, "Users")?;
        url.query_pairs_mut()
            .append_pair("filter", &user_name_filter(user_name));
        spaces_as_percent_20(&mut url);
        let answer = self.client.read(target, url).await?;
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
            .find_map(|user| {
                let id = user.get("id").and_then(Value::as_str)?;
                (!id.is_empty()).then(|| (id.to_owned(), user.clone()))
            });
        Ok(found)
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
        if self.discovery {
            users.query_pairs_mut().append_pair("attributes", "id");
            let config = endpoint(&target.base_url, "ServiceProviderConfig")?;
            self.client.read(target, config).await?;
        }
        self.client.read(target, users).await.map(drop)
    }

    async fn find(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        Ok(self.find_user(target, account).await?.map(|(id, _)| id))
    }

    async fn identify(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
        stamp: &Stamp,
        _after_conflict: bool,
    ) -> Result<Option<Found>, ConnectorFailure> {
        let found = self.find_user(target, account).await?;
        Ok(found.map(|(external_id, user)| Found {
            external_id,
            owner: owner(&user, account, stamp),
        }))
    }

    async fn create(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        self.create_stamped(target, account, &Stamp::new(String::new()))
            .await
    }

    async fn create_stamped(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
        stamp: &Stamp,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        user_name(account)?;
        let url = endpoint(&target.base_url, "Users")?;
        let request = self
            .client
            .request(Method::POST, url, target)?
            .header(CONTENT_TYPE, MEDIA_TYPE)
            .body(scim_user(account, stamp).to_string());
        let answer = self.client.send(request).await?;
        if (self.conflict)(&answer) {
            return Ok(CreateAnswer::Conflict);
        }
        let answer = self.client.success(answer)?;
        match resource_id(&answer)? {
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
