//! The services people can integrate, what each needs, and which can provision: the
//! list of vendor modules, one line each. Everything about a vendor is in its module
//! under `services/`; the catalog performs no HTTP.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use provisioner_core::retry::RetryPolicy;
use provisioner_core::{IntoServiceKey, ServiceKey};
use serde_json::Value;
use url::Url;

use crate::connector::Connector;
use crate::http::HttpClient;
use crate::schema::{CompiledSchema, FieldError, InvalidSchema};
use crate::services::{github, google, listed, microsoft, scim, slack, zoom};
use crate::vendor::{CallLimits, ServiceDescriptor, VendorModule};

/// Every vendor, in the order clients see them. Adding one is a module and a line here.
const VENDORS: &[VendorModule] = &[
    scim::MODULE,
    slack::MODULE,
    github::MODULE,
    zoom::MODULE,
    microsoft::MODULE,
    google::MODULE,
    listed::SALESFORCE,
    listed::DROPBOX,
    listed::NOTION,
];

fn vendor(key: impl IntoServiceKey) -> Option<&'static VendorModule> {
    let key = key.into_service_key().ok()?;
    VENDORS.iter().find(|vendor| vendor.key == key)
}

/// The documented limits of the service `key`; none for services that document none.
pub fn vendor_limits(key: impl IntoServiceKey) -> CallLimits {
    vendor(key).map_or(CallLimits::NONE, VendorModule::call_limits)
}

struct Entry {
    name: &'static str,
    account: Option<CompiledSchema>,
    credentials: CompiledSchema,
    connector: Option<Arc<dyn Connector>>,
}

/// The built-in services, with their schemas compiled once.
pub struct Catalog {
    services: Vec<ServiceDescriptor>,
    entries: HashMap<ServiceKey, Entry>,
    /// Plain http is for the simulator and tests, which also allow private addresses.
    allow_plain_http: bool,
}

#[derive(Debug, thiserror::Error)]
enum CatalogError {
    #[error("the embedded account schema of a service is not JSON")]
    NotJson(#[from] serde_json::Error),
    #[error(transparent)]
    Invalid(#[from] InvalidSchema),
}

impl Catalog {
    /// The built-in services.
    ///
    /// # Panics
    ///
    /// Only if a schema embedded at build time is broken, which the crate's tests rule
    /// out; it never depends on input.
    pub fn new(http: HttpClient) -> Self {
        match Self::builtin(http) {
            Ok(catalog) => catalog,
            Err(error) => panic!("the built-in service catalog is broken: {error:?}"),
        }
    }

    fn builtin(http: HttpClient) -> Result<Self, CatalogError> {
        let allow_plain_http = http.options().allow_private_networks;
        let mut services = Vec::with_capacity(VENDORS.len());
        let mut entries = HashMap::new();
        for vendor in VENDORS {
            let service = vendor.descriptor()?;
            let account = match &service.account_schema {
                Value::Null => None,
                schema => Some(CompiledSchema::compile(schema, false)?),
            };
            let entry = Entry {
                name: service.name,
                account,
                credentials: CompiledSchema::compile(&service.credentials_schema, true)?,
                connector: vendor.connector(&http),
            };
            entries.insert(vendor.key, entry);
            services.push(service);
        }
        Ok(Self {
            services,
            entries,
            allow_plain_http,
        })
    }

    pub fn services(&self) -> &[ServiceDescriptor] {
        &self.services
    }

    pub fn service(&self, key: impl IntoServiceKey) -> Option<&ServiceDescriptor> {
        let key = key.into_service_key().ok()?;
        self.services.iter().find(|service| service.key == key)
    }

    /// The base URL calls for an integration go to: its own, else the vendor's.
    pub fn base_url(
        &self,
        key: impl IntoServiceKey,
        configured: Option<&str>,
    ) -> Result<Url, BaseUrlError> {
        let service = self.service(key).ok_or(BaseUrlError::Missing)?;
        let raw = configured
            .or(service.default_base_url)
            .ok_or(BaseUrlError::Missing)?;
        let url = Url::parse(raw).map_err(|_| BaseUrlError::Invalid)?;
        match url.scheme() {
            "https" => Ok(url),
            // Credentials must not cross the network in the clear.
            "http" if self.allow_plain_http => Ok(url),
            "http" => Err(BaseUrlError::NotHttps),
            _ => Err(BaseUrlError::Invalid),
        }
    }

    /// How requests for the service are retried unless an integration overrides it;
    /// the general policy for a service without guidance of its own.
    pub fn retry_policy(&self, key: impl IntoServiceKey) -> RetryPolicy {
        vendor(key).map_or_else(RetryPolicy::default, VendorModule::retry_policy)
    }

    /// `None` for unknown services and for services that cannot provision.
    pub fn connector(&self, key: impl IntoServiceKey) -> Option<Arc<dyn Connector>> {
        let key = key.into_service_key().ok()?;
        self.entries.get(&key)?.connector.clone()
    }

    /// Checks account fields against the service's `account_schema`; every failing field
    /// is listed, each missing required one by name.
    pub fn validate_account(
        &self,
        key: impl IntoServiceKey,
        account: &Value,
    ) -> Result<(), Vec<FieldError>> {
        let entry = self.entry(key)?;
        match &entry.account {
            Some(schema) => schema.validate(account),
            None => Err(vec![FieldError::whole(format!(
                "{} cannot provision accounts yet",
                entry.name
            ))]),
        }
    }

    /// Checks what an integration needs; messages never quote the values.
    pub fn validate_credentials(
        &self,
        key: impl IntoServiceKey,
        credentials: &Value,
    ) -> Result<(), Vec<FieldError>> {
        self.entry(key)?.credentials.validate(credentials)
    }

    fn entry(&self, key: impl IntoServiceKey) -> Result<&Entry, Vec<FieldError>> {
        let unknown = match key.into_service_key() {
            Ok(key) => match self.entries.get(&key) {
                Some(entry) => return Ok(entry),
                None => format!("there is no service named {key:?}"),
            },
            Err(error) => error.to_string(),
        };
        let known: Vec<&str> = self.services.iter().map(|s| s.key.as_str()).collect();
        Err(vec![FieldError::whole(format!(
            "{unknown}; the services are {}",
            known.join(", ")
        ))])
    }
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self
            .services
            .iter()
            .map(|service| service.key.as_str())
            .collect();
        f.debug_struct("Catalog").field("services", &keys).finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    #[error("the integration names no base URL and the service has no default one")]
    Missing,
    #[error("the base URL must be an https URL")]
    Invalid,
    #[error(
        "the base URL must use https; plain http is allowed only with \
         PROVISIONER_ALLOW_PRIVATE_NETWORKS=true (the simulator, tests)"
    )]
    NotHttps,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> Catalog {
        Catalog::new(HttpClient::new().unwrap())
    }

    #[test]
    fn the_catalog_lists_scim_as_provisioning_and_the_others_as_not_yet() {
        let catalog = catalog();
        let scim = catalog.service("scim").unwrap();
        assert!(scim.provisioning && scim.requires_base_url);
        assert!(catalog.connector("scim").is_some());
        for key in ["salesforce", "dropbox", "notion"] {
            let service = catalog.service(key).unwrap();
            assert!(!service.provisioning);
            assert!(service.account_schema.is_null());
            assert!(catalog.connector(key).is_none());
        }
        assert!(catalog.service("myspace").is_none());
    }

    #[test]
    fn plain_http_is_refused_unless_private_networks_are_allowed() {
        let strict = catalog();
        assert_eq!(
            strict.base_url("scim", Some("http://saas.example.com/scim/v2")),
            Err(BaseUrlError::NotHttps)
        );
        assert!(strict
            .base_url("scim", Some("https://saas.example.com/scim/v2"))
            .is_ok());
    }

    #[test]
    fn every_vendor_provisions_at_its_own_api_by_default() {
        let catalog = catalog();
        let vendors = [
            ("slack", "https://api.slack.com/scim/v2"),
            ("github", "https://api.github.com/"),
            ("zoom", "https://api.zoom.us/v2"),
            ("microsoft365", "https://graph.microsoft.com/v1.0"),
            ("google", "https://admin.googleapis.com/admin/directory/v1"),
        ];
        for (key, url) in vendors {
            let service = catalog.service(key).unwrap();
            assert!(service.provisioning && !service.requires_base_url, "{key}");
            assert!(service.account_schema.is_object(), "{key}");
            assert!(catalog.connector(key).is_some(), "{key}");
            assert_eq!(catalog.base_url(key, None).unwrap().as_str(), url);
        }
    }

    #[test]
    fn an_integrations_own_base_url_wins_and_scim_has_no_default() {
        let catalog = Catalog::new(
            HttpClient::with_options(crate::HttpOptions {
                allow_private_networks: true,
                ..crate::HttpOptions::default()
            })
            .unwrap(),
        );
        let own = catalog.base_url("scim", Some("http://127.0.0.1:9090/scim/acme/v2"));
        assert_eq!(own.unwrap().as_str(), "http://127.0.0.1:9090/scim/acme/v2");
        assert_eq!(catalog.base_url("scim", None), Err(BaseUrlError::Missing));
        assert_eq!(
            catalog.base_url("scim", Some("ftp://x")),
            Err(BaseUrlError::Invalid)
        );
    }

    #[test]
    fn the_catalog_can_be_shared_across_tasks() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Catalog>();
    }

    #[test]
    fn validate_account_lists_every_missing_required_field() {
        let errors = catalog().validate_account("scim", &json!({})).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["/user_name", "/email", "/given_name", "/family_name"]
        );
        assert_eq!(errors[0].message, "user_name is required");
    }

    #[test]
    fn a_malformed_email_and_an_unknown_field_are_refused() {
        let account = json!({"user_name": "ada", "email": "not-an-email", "given_name": "Ada",
                             "family_name": "Lovelace", "shoe_size": 38});
        let errors = catalog().validate_account("scim", &account).unwrap_err();
        let email = errors.iter().find(|e| e.field == "/email").unwrap();
        assert!(email.message.contains("email address"), "{email:?}");
        let extra = errors.iter().find(|e| e.field == "/shoe_size").unwrap();
        assert!(extra.message.contains("user_name"), "{extra:?}");
    }

    #[test]
    fn a_complete_account_is_valid_and_the_user_name_stays_loose() {
        let account = json!({"user_name": "ada lovelace!", "email": "ada@example.com",
                             "given_name": "Ada", "family_name": "Lovelace"});
        assert_eq!(catalog().validate_account("scim", &account), Ok(()));
    }

    #[test]
    fn scim_credentials_need_a_token() {
        let catalog = catalog();
        assert!(catalog
            .validate_credentials("scim", &json!({"token": "t"}))
            .is_ok());
        let errors = catalog
            .validate_credentials("scim", &json!({"token": ""}))
            .unwrap_err();
        assert_eq!(errors[0].field, "/token");
    }

    #[test]
    fn services_that_cannot_provision_and_unknown_services_refuse_accounts() {
        let catalog = catalog();
        let errors = catalog.validate_account("notion", &json!({})).unwrap_err();
        assert!(errors[0].message.contains("cannot provision"));
        let errors = catalog.validate_account("myspace", &json!({})).unwrap_err();
        assert!(errors[0].message.contains("scim"), "{errors:?}");
    }

    #[test]
    fn every_policy_can_be_held_by_the_broker_and_lets_quarantine_happen() {
        let catalog = catalog();
        for key in [
            "scim",
            "slack",
            "github",
            "zoom",
            "microsoft365",
            "google",
            "notion",
        ] {
            let policy = catalog.retry_policy(key);
            assert!(
                policy.max_delay <= provisioner_core::retry::LONGEST_DELAY,
                "{key}"
            );
            assert!(policy.base_delay <= policy.max_delay, "{key}");
            assert!(
                policy.max_attempts >= provisioner_core::quarantine::AUTH_FAILURES_BEFORE_ERROR,
                "{key}: one request must be able to reveal broken credentials"
            );
        }
    }

    #[test]
    fn documented_vendors_are_paced_and_a_generic_scim_app_is_not() {
        assert_eq!(vendor_limits("slack").requests_per_second, Some(3.0));
        assert_eq!(vendor_limits("github").max_concurrent_calls, Some(100));
        assert_eq!(
            vendor_limits("microsoft365").requests_per_second,
            Some(20.0)
        );
        assert_eq!(vendor_limits("google").requests_per_second, Some(40.0));
        assert_eq!(vendor_limits("scim"), CallLimits::default());
        assert_eq!(vendor_limits("nobody"), CallLimits::default());
    }

    #[test]
    fn every_vendor_is_listed_once() {
        let mut keys: Vec<ServiceKey> = VENDORS.iter().map(|vendor| vendor.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), VENDORS.len());
    }
}
