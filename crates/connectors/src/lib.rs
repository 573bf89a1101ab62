//! Connectors to SaaS APIs behind one trait, the provisioning procedure they share, and
//! the catalog of services with the JSON Schemas of their fields.
//!
//! Each connector is its own module and classifies every answer where it arises
//! (`provisioner_core::ConnectorFailure`), from status codes and the vendor's error
//! codes, never from free text.

mod catalog;
mod connector;
mod failure;
mod github;
mod google;
mod hostile;
mod http;
mod limits;
mod microsoft;
mod net;
mod oauth;
mod password;
mod provision;
mod retry_policy;
mod schema;
mod scim;
mod slack;
mod token;
mod zoom;

pub use catalog::{BaseUrlError, Catalog, ServiceDescriptor};
pub use connector::{account_target, Connector, CreateAnswer, IntegrationTarget};
pub use github::GitHubConnector;
pub use google::GoogleConnector;
pub use http::{HttpClient, HttpClientError, HttpOptions};
pub use limits::{vendor_limits, CallLimits};
pub use microsoft::MicrosoftConnector;
pub use provision::provision;
pub use schema::FieldError;
pub use scim::ScimConnector;
pub use slack::SlackConnector;
pub use token::{AccessToken, TokenCache};
pub use zoom::ZoomConnector;
