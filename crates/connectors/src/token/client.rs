//! The client of every API that takes short-lived bearer tokens from a token endpoint
//! (OAuth 2.0, RFC 6749 §5): a token is fetched once per integration, reused until
//! shortly before it expires ([`TokenCache`]), and refreshed once when the API answers
//! 401 anyway. A vendor only says where its token endpoint is and how the token is
//! asked for ([`TokenGrant`]).

use std::fmt;
use std::time::Duration;

use provisioner_core::ConnectorFailure;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use url::Url;

use super::{AccessToken, TokenCache};
use crate::connector::{CreateAnswer, IntegrationTarget};
use crate::failure::{classify, unreadable, ServiceError};
use crate::http::{Answer, HttpClient};
use crate::wire::{resource_id, success, text_at};

/// How one vendor issues tokens.
pub(crate) trait TokenGrant: Send + Sync {
    /// Where the integration's tokens come from.
    fn token_endpoint(&self, target: &IntegrationTarget) -> Result<Url, ConnectorFailure>;

    /// The token request to that endpoint, with the integration's credentials.
    fn token_request(
        &self,
        request: RequestBuilder,
        target: &IntegrationTarget,
    ) -> Result<RequestBuilder, ConnectorFailure>;

    /// How the vendor's API words a refusal; a 401 with a fresh token is read with it.
    fn failure(&self, answer: &Answer) -> ConnectorFailure;
}

/// Calls one vendor's API with the integration's current token.
#[derive(Clone)]
pub(crate) struct TokenClient<G> {
    http: HttpClient,
    tokens: TokenCache,
    grant: G,
}

impl<G> fmt::Debug for TokenClient<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenClient").finish_non_exhaustive()
    }
}

impl<G: TokenGrant> TokenClient<G> {
    pub(crate) fn new(http: HttpClient, grant: G) -> Self {
        Self {
            http,
            tokens: TokenCache::default(),
            grant,
        }
    }

    /// Sends a call with a JSON body (or none) with the integration's token; a 401
    /// refreshes the token once ([`TokenCache::with_token`]) and a second 401 is an
    /// authentication failure in the vendor's words. Every other answer is the
    /// caller's to read.
    pub(crate) async fn send(
        &self,
        target: &IntegrationTarget,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorFailure> {
        let key = TokenCache::key(&target.base_url, &target.credentials);
        let call = |token: String| {
            let request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token);
            let request = match body {
                Some(body) => request.json(body),
                None => request,
            };
            async move {
                let answer = self.http.send(request).await?;
                if answer.status == StatusCode::UNAUTHORIZED {
                    return Err(self.grant.failure(&answer));
                }
                Ok(answer)
            }
        };
        self.tokens
            .with_token(&key, || self.fetch(target), call)
            .await
    }

    /// A read that must succeed, such as an integration check.
    pub(crate) async fn read(
        &self,
        target: &IntegrationTarget,
        url: Url,
    ) -> Result<Answer, ConnectorFailure> {
        let answer = self.send(target, Method::GET, url, None).await?;
        self.success(answer)
    }

    /// The id of the user at `url`, or `None` when the API answers 404.
    pub(crate) async fn find_user(
        &self,
        target: &IntegrationTarget,
        url: Url,
    ) -> Result<Option<String>, ConnectorFailure> {
        let not_found = |answer: &Answer| answer.status == StatusCode::NOT_FOUND;
        self.find_user_unless(target, url, not_found).await
    }

    /// The id of the user at `url`, or `None` when `absent` reads the answer as saying
    /// there is no such user, as some vendors say with more than 404.
    pub(crate) async fn find_user_unless(
        &self,
        target: &IntegrationTarget,
        url: Url,
        absent: impl Fn(&Answer) -> bool,
    ) -> Result<Option<String>, ConnectorFailure> {
        let answer = self.send(target, Method::GET, url, None).await?;
        if absent(&answer) {
            return Ok(None);
        }
        self.user_in(answer).map(Some)
    }

    /// The id of the user a user read answered with, or the vendor's reading of its
    /// refusal.
    pub(crate) fn user_in(&self, answer: Answer) -> Result<String, ConnectorFailure> {
        user_id(&self.success(answer)?, "the user request")
    }

    /// Creates a user from `body`; `exists` tells a refusal that says the user is there
    /// already. `what` names the call should the answer hold no id.
    pub(crate) async fn create_user(
        &self,
        target: &IntegrationTarget,
        url: Url,
        body: &Value,
        exists: impl Fn(&Answer) -> bool,
        what: &str,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        let answer = self.send(target, Method::POST, url, Some(body)).await?;
        if exists(&answer) {
            return Ok(CreateAnswer::Conflict);
        }
        let external_id = user_id(&self.success(answer)?, what)?;
        Ok(CreateAnswer::Created { external_id })
    }

    fn success(&self, answer: Answer) -> Result<Answer, ConnectorFailure> {
        success(answer, |answer| self.grant.failure(answer))
    }

    async fn fetch(&self, target: &IntegrationTarget) -> Result<AccessToken, ConnectorFailure> {
        let url = self.grant.token_endpoint(target)?;
        let request = self.http.request(Method::POST, url);
        let request = self.grant.token_request(request, target)?;
        fetch_token(&self.http, request).await
    }
}

fn user_id(answer: &Answer, what: &str) -> Result<String, ConnectorFailure> {
    resource_id(answer)?.ok_or_else(|| unreadable(what, "holds no user id"))
}

/// Sends the token request and reads the token. A refusal of the credentials (400, 401,
/// 403: `invalid_client`, `invalid_grant`, …) is an authentication failure with the
/// vendor's reason; rate limits and 5xx keep their usual classes.
async fn fetch_token(
    http: &HttpClient,
    request: RequestBuilder,
) -> Result<AccessToken, ConnectorFailure> {
    let answer = http.send(request).await?;
    if !answer.status.is_success() {
        let body = answer.error_json();
        let text = |pointer: &str| text_at(body.as_ref(), pointer);
        // RFC 6749 §5.2 names `error` and `error_description`; Zoom says `reason`.
        let reason = text("/error_description").or_else(|| text("/reason"));
        let message = match (text("/error"), reason) {
            (Some(error), Some(reason)) => Some(format!("{error}: {reason}")),
            (error, reason) => reason.or(error),
        };
        let refused = matches!(answer.status.as_u16(), 400 | 401 | 403);
        if refused {
            let status = answer.status.as_u16();
            let cause = match message {
                Some(message) => {
                    format!("{status} from the token endpoint: {message}")
                }
                None => format!("{status} from the token endpoint"),
            };
            return Err(ConnectorFailure::AuthFailed { cause });
        }
        let said = ServiceError {
            code: None,
            message,
        };
        return Err(classify(answer.status, answer.retry_after, said));
    }
    let body = answer.whole_json()?;
    let value = body
        .as_ref()
        .and_then(|body| body.get("access_token"))
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| unreadable("the token request", "holds no access_token"))?;
    // RFC 6749 §5.1 recommends expires_in; without it the token is used once.
    let expires_in = body
        .as_ref()
        .and_then(|body| body.get("expires_in"))
        .and_then(Value::as_u64)
        .map_or(Duration::ZERO, Duration::from_secs);
    Ok(AccessToken {
        value: value.to_owned(),
        expires_in,
    })
}

/// The credential named `name`, which the credentials schema requires; its absence is
/// the integration's fault.
pub(crate) fn credential<'a>(
    credentials: &'a Value,
    name: &str,
) -> Result<&'a str, ConnectorFailure> {
    credentials
        .get(name)
        .and_then(Value::as_str)
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| ConnectorFailure::AuthFailed {
            cause: format!("the integration's credentials have no {name}"),
        })
}
