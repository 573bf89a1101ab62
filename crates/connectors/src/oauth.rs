//! Exchanging credentials for an access token at a vendor's OAuth 2.0 token endpoint
//! (RFC 6749 §5), shared by the connectors whose vendors issue short-lived tokens.

use std::future::Future;
use std::time::Duration;

use provisioner_core::ConnectorFailure;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use url::Url;

use crate::connector::IntegrationTarget;
use crate::failure::{classify, unreadable, ServiceError};
use crate::http::{Answer, HttpClient};
use crate::token::{AccessToken, TokenCache};

/// Sends the token request and reads the token. A refusal of the credentials (400, 401,
/// 403: `invalid_client`, `invalid_grant`, …) is an authentication failure with the
/// vendor's reason; rate limits and 5xx keep their usual classes.
pub(crate) async fn fetch_token(
    http: &HttpClient,
    request: RequestBuilder,
) -> Result<AccessToken, ConnectorFailure> {
    let answer = http.send(request).await?;
    if !answer.status.is_success() {
        let body = answer.error_json();
        let text = |name: &str| {
            body.as_ref()
                .and_then(|body| body.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        // RFC 6749 §5.2 names `error` and `error_description`; Zoom says `reason`.
        let reason = text("error_description").or_else(|| text("reason"));
        let message = match (text("error"), reason) {
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

/// A call with a JSON body (or none) to an API that takes short-lived bearer tokens.
pub(crate) struct TokenCall<'a> {
    pub target: &'a IntegrationTarget,
    pub method: Method,
    pub url: Url,
    pub body: Option<&'a Value>,
}

/// Sends the call with the integration's cached access token; a 401 refreshes the token
/// once ([`TokenCache::with_token`]) and a second 401 is `refused`'s authentication
/// failure. Every other answer is the caller's to read.
pub(crate) async fn send_with_token<F, Fut>(
    http: &HttpClient,
    tokens: &TokenCache,
    call: TokenCall<'_>,
    fetch: F,
    refused: impl Fn(&Answer) -> ConnectorFailure,
) -> Result<Answer, ConnectorFailure>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<AccessToken, ConnectorFailure>>,
{
    let key = TokenCache::key(&call.target.base_url, &call.target.credentials);
    tokens
        .with_token(&key, fetch, |token| {
            let request = http
                .request(call.method.clone(), call.url.clone())
                .bearer_auth(token);
            let request = match call.body {
                Some(body) => request.json(body),
                None => request,
            };
            let refused = &refused;
            async move {
                let answer = http.send(request).await?;
                if answer.status == StatusCode::UNAUTHORIZED {
                    return Err(refused(&answer));
                }
                Ok(answer)
            }
        })
        .await
}
