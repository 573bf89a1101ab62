//! Connectors to SaaS APIs behind one trait, the provisioning procedure they share, and
//! the catalog of services with the JSON Schemas of their fields.
//!
//! Each vendor is one module under `services/` holding everything about it, and
//! classifies every answer where it arises (`provisioner_core::ConnectorFailure`), from
//! status codes and the vendor's error codes, never from free text. The catalog lists
//! the modules; the modules share only pieces that know no vendor (`vendor`, `wire`,
//! `token`, `http`).

mod catalog;
mod connector;
mod failure;
mod hostile;
mod http;
mod net;
mod password;
mod provision;
mod schema;
mod services;
mod token;
mod vendor;
mod wire;

pub use catalog::{vendor_limits, BaseUrlError, Catalog};
pub use connector::{
    account_target, Connector, CreateAnswer, Found, IntegrationTarget, Owner, Stamp,
};
pub use http::{HttpClient, HttpClientError, HttpOptions};
pub use provision::{provision, provision_stamped};
pub use provisioner_core::{IntoServiceKey, ServiceKey};
pub use schema::FieldError;
pub use services::github::GitHubConnector;
pub use services::google::GoogleConnector;
pub use services::microsoft::MicrosoftConnector;
pub use services::scim::ScimConnector;
pub use services::slack::SlackConnector;
pub use services::zoom::ZoomConnector;
pub use token::{AccessToken, TokenCache};
pub use vendor::{CallLimits, ServiceDescriptor};
