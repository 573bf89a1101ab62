//! What every vendor module hands the catalog, and the pieces their descriptions share.
//! This module knows no vendor, so each vendor can use it without an import circle.

use std::sync::Arc;

use provisioner_core::retry::RetryPolicy;
use provisioner_core::ServiceKey;
use serde::Serialize;
use serde_json::{json, Value};

use crate::connector::Connector;
use crate::http::HttpClient;

/// A service as clients see it in `GET /v1/services`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDescriptor {
    pub key: ServiceKey,
    pub name: &'static str,
    /// Whether accounts can be provisioned on it yet; the others are listed so people
    /// see what is coming.
    pub provisioning: bool,
    /// JSON Schema of the account fields; `null` for a service that cannot provision.
    pub account_schema: Value,
    /// JSON Schema of what an integration needs (secrets).
    pub credentials_schema: Value,
    /// Whether an integration must name the base URL of its workspace.
    pub requires_base_url: bool,
    /// Where the vendor's API lives, used when an integration names no base URL of its
    /// own (one naming the simulator or a proxy overrides it).
    pub default_base_url: Option<&'static str>,
}

/// How hard an integration's SaaS may be called, across every worker.
///
/// A vendor's defaults are only what it writes down; a generic SCIM app has no
/// documented limit, so it is not paced unless its integration says so. Each limit is
/// the lowest the vendor applies to creating an account on a plan that can provision at
/// all; a workspace allowed more sets its own.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallLimits {
    pub requests_per_second: Option<f64>,
    pub max_concurrent_calls: Option<u32>,
}

impl CallLimits {
    /// For a vendor that documents no limit.
    pub(crate) const NONE: Self = Self {
        requests_per_second: None,
        max_concurrent_calls: None,
    };
}

/// Everything the catalog knows about one vendor, exposed by the vendor's own module.
pub(crate) struct VendorModule {
    pub key: ServiceKey,
    pub name: &'static str,
    /// `None` for a service listed before it can provision.
    pub provisioning: Option<Provisioning>,
}

/// What a vendor that can provision adds to its name.
pub(crate) struct Provisioning {
    /// The account fields' JSON Schema, as the file under `schemas/connectors/`.
    pub account_schema: &'static str,
    pub credentials_schema: fn() -> Value,
    /// `None` when every workspace lives at its own address, which the integration
    /// must then name.
    pub default_base_url: Option<&'static str>,
    /// How long the vendor is waited for after a failure, unless an integration
    /// overrides it; a `Retry-After` the service sends is honoured on top, up to the cap.
    pub retry_policy: fn() -> RetryPolicy,
    pub call_limits: CallLimits,
    pub connector: fn(HttpClient) -> Arc<dyn Connector>,
}

impl VendorModule {
    /// A service shown in the catalog that has no connector yet.
    pub(crate) const fn listed_only(key: &'static str, name: &'static str) -> Self {
        Self {
            key: ServiceKey::from_static(key),
            name,
            provisioning: None,
        }
    }

    pub(crate) fn descriptor(&self) -> Result<ServiceDescriptor, serde_json::Error> {
        let (account_schema, credentials_schema, default_base_url) = match &self.provisioning {
            Some(vendor) => (
                serde_json::from_str(vendor.account_schema)?,
                (vendor.credentials_schema)(),
                vendor.default_base_url,
            ),
            None => (Value::Null, json!({"type": "object"}), None),
        };
        Ok(ServiceDescriptor {
            key: self.key,
            name: self.name,
            provisioning: self.provisioning.is_some(),
            account_schema,
            credentials_schema,
            requires_base_url: self.provisioning.is_some() && default_base_url.is_none(),
            default_base_url,
        })
    }

    /// The general policy for a vendor without guidance of its own.
    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        self.provisioning
            .as_ref()
            .map_or_else(RetryPolicy::default, |vendor| (vendor.retry_policy)())
    }

    pub(crate) fn call_limits(&self) -> CallLimits {
        self.provisioning
            .as_ref()
            .map_or(CallLimits::NONE, |vendor| vendor.call_limits)
    }

    pub(crate) fn connector(&self, http: &HttpClient) -> Option<Arc<dyn Connector>> {
        let vendor = self.provisioning.as_ref()?;
        Some((vendor.connector)(http.clone()))
    }
}

/// The credentials schema of an integration: exactly these properties, `required` among
/// them.
pub(crate) fn credentials_schema(required: &[&str], properties: Value) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

/// A credential that is one non-empty string, such as a token or a client secret.
pub(crate) fn secret(title: &str, description: &str) -> Value {
    json!({"type": "string", "minLength": 1, "title": title, "description": description})
}

/// Credentials that are one bearer token.
pub(crate) fn token_credentials(title: &str, description: &str) -> Value {
    credentials_schema(&["token"], json!({"token": secret(title, description)}))
}
