//! The client of APIs called with a long-lived token the integration holds as its
//! `token` credential (SCIM applications, Slack, GitHub).

use provisioner_core::ConnectorFailure;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use url::Url;

use crate::connector::IntegrationTarget;
use crate::http::{Answer, HttpClient};
use crate::wire::success;

#[derive(Debug, Clone)]
pub(crate) struct BearerClient {
    http: HttpClient,
    /// What a person calls the token, for the message when it is missing.
    token_name: &'static str,
    /// Sent with every call, such as the media type and API version the vendor wants.
    headers: &'static [(&'static str, &'static str)],
    failure: fn(&Answer) -> ConnectorFailure,
}

impl BearerClient {
    pub(crate) fn new(
        http: HttpClient,
        token_name: &'static str,
        headers: &'static [(&'static str, &'static str)],
        failure: fn(&Answer) -> ConnectorFailure,
    ) -> Self {
        Self {
            http,
            token_name,
            headers,
            failure,
        }
    }

    /// A call with the integration's token and the vendor's headers.
    pub(crate) fn request(
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
                cause: format!("the integration has no {}", self.token_name),
            })?;
        let request = self.http.request(method, url).bearer_auth(token);
        Ok(self.headers.iter().fold(request, |request, (name, value)| {
            request.header(*name, *value)
        }))
    }

    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Answer, ConnectorFailure> {
        self.http.send(request).await
    }

    /// A read that must succeed.
    pub(crate) async fn read(
        &self,
        target: &IntegrationTarget,
        url: Url,
    ) -> Result<Answer, ConnectorFailure> {
        let answer = self.send(self.request(Method::GET, url, target)?).await?;
        self.success(answer)
    }

    /// The answer when it is a success, else the vendor's classification of it.
    pub(crate) fn success(&self, answer: Answer) -> Result<Answer, ConnectorFailure> {
        success(answer, self.failure)
    }
}
