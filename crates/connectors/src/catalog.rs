//! The services people can integrate, what each needs, and which can provision.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use provisioner_core::retry::RetryPolicy;
use serde::Serialize;
use serde_json::{json, Value};
use url::Url;

use crate::connector::Connector;
use crate::github::{self, GitHubConnector};
use crate::google::{self, GoogleConnector};
use crate::http::HttpClient;
use crate::microsoft::{self, MicrosoftConnector};
use crate::schema::{CompiledSchema, FieldError, InvalidSchema};
use crate::scim::{self, ScimConnector};
use crate::slack::{self, SlackConnector};
use crate::zoom::{self, ZoomConnector};

/// A service as clients see it in `GET /v1/services`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDescriptor {
    pub key: &'static str,
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

struct Entry {
    name: &'static str,
    account: Option<CompiledSchema>,
    credentials: CompiledSchema,
    connector: Option<Arc<dyn Connector>>,
}

/// The built-in services, with their schemas compiled once.
pub struct Catalog {
    services: Vec<ServiceDescriptor>,
    entries: HashMap<&'static str, Entry>,
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
        // One line per service; a connector is its own module.
        let services: Vec<(ServiceDescriptor, Option<Arc<dyn Connector>>)> = vec![
            (
                scim::descriptor()?,
                Some(Arc::new(ScimConnector::new(http.clone()))),
            ),
            (
                slack::descriptor()?,
                Some(Arc::new(SlackConnector::new(http.clone()))),
            ),
            (
                github::descriptor()?,
                Some(Arc::new(GitHubConnector::new(http.clone()))),
            ),
            (
                zoom::descriptor()?,
                Some(Arc::new(ZoomConnector::new(http.clone()))),
            ),
            (
                microsoft::descriptor()?,
                Some(Arc::new(MicrosoftConnector::new(http.clone()))),
            ),
            (
                google::descriptor()?,
                Some(Arc::new(GoogleConnector::new(http.clone()))),
            ),
            (listed_only("salesforce", "Salesforce"), None),
            (listed_only("dropbox", "Dropbox Business"), None),
            (listed_only("notion", "Notion"), None),
        ];
        let mut entries = HashMap::new();
        for (service, connector) in &services {
            let account = match &service.account_schema {
                Value::Null => None,
                schema => Some(CompiledSchema::compile(schema, false)?),
            };
            let entry = Entry {
                name: service.name,
                account,
                credentials: CompiledSchema::compile(&service.credentials_schema, true)?,
                connector: connector.clone(),
            };
            entries.insert(service.key, entry);
        }
        let services = services.into_iter().map(|(service, _)| service).collect();
        Ok(Self {
            services,
            entries,
            allow_plain_http,
        })
    }

    pub fn services(&self) -> &[ServiceDescriptor] {
        &self.services
    }

    pub fn service(&self, key: &str) -> Option<&ServiceDescriptor> {
        self.services.iter().find(|service| service.key == key)
    }

    /// The base URL calls for an integration go to: its own, else the vendor's.
    pub fn base_url(&self, key: &str, configured: Option<&str>) -> Result<Url, BaseUrlError> {
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

    /// How requests for the service are retried unless an integration overrides it.
    pub fn retry_policy(&self, key: &str) -> RetryPolicy {
        crate::retry_policy::for_service(key)
    }

    /// `None` for unknown services and for services that cannot provision.
    pub fn connector(&self, key: &str) -> Option<Arc<dyn Connector>> {
        self.entries.get(key)?.connector.clone()
    }

    /// Checks account fields against the service's `account_schema`; every failing field
    /// is listed, each missing required one by name.
    pub fn validate_account(&self, key: &str, account: &Value) -> Result<(), Vec<FieldError>> {
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
        key: &str,
        credentials: &Value,
    ) -> Result<(), Vec<FieldError>> {
        self.entry(key)?.credentials.validate(credentials)
    }

    fn entry(&self, key: &str) -> Result<&Entry, Vec<FieldError>> {
        self.entries.get(key).ok_or_else(|| {
            vec![FieldError::whole(format!(
                "there is no service named {key:?}; the services are {}",
                self.services
                    .iter()
                    .map(|service| service.key)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))]
        })
    }
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.services.iter().map(|service| service.key).collect();
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

/// A service shown in the catalog that has no connector yet.
fn listed_only(key: &'static str, name: &'static str) -> ServiceDescriptor {
    ServiceDescriptor {
        key,
        name,
        provisioning: false,
        account_schema: Value::Null,
        credentials_schema: json!({"type": "object"}),
        requires_base_url: false,
        default_base_url: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
