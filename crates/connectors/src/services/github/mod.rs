//! GitHub organizations: an account is an invitation to the organization, sent by email
//! with a role (`POST /orgs/{org}/invitations`,
//! <https://docs.github.com/rest/orgs/members#create-an-organization-invitation>). The
//! integration's workspace is the organization's login; its token (a fine-grained or
//! classic personal access token, or an app installation token) must be allowed to
//! administer members.
//!
//! An invitation for an email that is already pending, or whose owner is already a
//! member, is refused with 422 and an error `{"resource": "OrganizationInvitation",
//! "field": "data"}`; that refusal is a conflict, resolved by finding the pending
//! invitation for the email, or the membership of the account's `login`
//! (`GET /orgs/{org}/memberships/{username}`). GitHub exposes no member's email, so a
//! member ("Invitee is already a part of this organization") named by no login ends as
//! `already_member`, saying so.
//!
//! Rate limits (<https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api>):
//! a primary limit answers 403 or 429 with `x-ratelimit-remaining: 0` and
//! `x-ratelimit-reset` (epoch seconds); a secondary one answers 403 or 429 with
//! `retry-after`, or with neither, in which case GitHub asks for at least a minute.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use provisioner_core::retry::{Jitter, RetryPolicy};
use provisioner_core::ConnectorFailure;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use url::Url;

use crate::connector::{Connector, CreateAnswer, IntegrationTarget};
use crate::failure::{unreadable, ServiceError};
use crate::http::{Answer, HttpClient};
use crate::token::BearerClient;
use crate::vendor::{token_credentials, CallLimits, Provisioning, VendorModule};
use crate::wire::{endpoint, refusal_saying, required};

pub(crate) const MODULE: VendorModule = VendorModule {
    key: provisioner_core::ServiceKey::from_static("github"),
    name: "GitHub organization",
    provisioning: Some(Provisioning {
        account_schema: include_str!("../../../../../schemas/connectors/github.json"),
        credentials_schema: || {
            token_credentials("Token", "A token allowed to invite members to the organization named as the workspace (admin:org, or the Members organization permission).")
        },
        default_base_url: Some("https://api.github.com"),
        retry_policy,
        // Secondary limits: at most 80 content-creating requests a minute and 100
        // concurrent requests (https://docs.github.com/en/rest/using-the-rest-api/
        // rate-limits-for-the-rest-api). The hourly and daily caps above that are left
        // to the 429s, whose reset time every worker then waits for.
        call_limits: CallLimits {
            requests_per_second: Some(80.0 / 60.0),
            max_concurrent_calls: Some(100),
        },
        connector: |http| Arc::new(GitHubConnector::new(http)),
    }),
};

const MEDIA_TYPE: &str = "application/vnd.github+json";
const API_VERSION: &str = "2022-11-28";
/// GitHub's largest page; an organization rarely has more pending invitations than a
/// few pages of it.
const PAGE_SIZE: usize = 100;
const MAX_PAGES: usize = 10;
/// "If you receive a secondary rate limit without retry-after or x-ratelimit-remaining,
/// wait for at least one minute before retrying."
const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// "Wait for at least one minute before retrying" a secondary limit that names no time,
/// "and wait an exponentially increasing amount of time between retries"; a primary
/// limit resets on the hour, so the cap lets it pass.
/// <https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api>
fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        base_delay: SECONDARY_LIMIT_WAIT,
        max_delay: Duration::from_secs(3600),
        jitter: Jitter::Equal,
        deadline: Duration::from_secs(6 * 3600),
    }
}

#[derive(Debug, Clone)]
pub struct GitHubConnector {
    client: BearerClient,
}

impl GitHubConnector {
    pub fn new(http: HttpClient) -> Self {
        let headers = &[
            ("accept", MEDIA_TYPE),
            ("x-github-api-version", API_VERSION),
        ];
        Self {
            client: BearerClient::new(http, "GitHub token", headers, failure),
        }
    }
}

/// `{base}/orgs/{org}[/invitations]`, the organization being the workspace.
fn org_url(target: &IntegrationTarget, tail: &[&str]) -> Result<Url, ConnectorFailure> {
    if target.workspace.trim().is_empty() {
        return Err(ConnectorFailure::Permanent {
            code: "invalid_integration".into(),
            cause: "the workspace must be the GitHub organization's login".into(),
        });
    }
    let org = ["orgs", target.workspace.trim()];
    endpoint(
        &target.base_url,
        org.into_iter().chain(tail.iter().copied()),
    )
}

fn email(account: &Map<String, Value>) -> Result<&str, ConnectorFailure> {
    required(account, "email", "which a GitHub invitation requires").map(str::trim)
}

fn invitation(account: &Map<String, Value>, email: &str) -> Value {
    let role = account
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or("direct_member");
    let mut body = json!({"email": email, "role": role});
    if let Some(teams) = account.get("team_ids").filter(|teams| teams.is_array()) {
        body["team_ids"] = teams.clone();
    }
    body
}

#[async_trait::async_trait]
impl Connector for GitHubConnector {
    async fn check(&self, target: &IntegrationTarget) -> Result<(), ConnectorFailure> {
        let url = org_url(target, &[])?;
        self.client.read(target, url).await.map(drop)
    }

    async fn find(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        let wanted = email(account)?.to_lowercase();
        for page in 1..=MAX_PAGES {
            let mut url = org_url(target, &["invitations"])?;
            url.query_pairs_mut()
                .append_pair("per_page", &PAGE_SIZE.to_string())
                .append_pair("page", &page.to_string());
            let answer = self.client.read(target, url).await?;
            let Some(Value::Array(invitations)) = answer.whole_json()? else {
                return Err(unreadable("the invitation list", "is not a list"));
            };
            let found = invitations.iter().find(|invitation| {
                invitation
                    .get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|email| email.to_lowercase() == wanted)
            });
            if let Some(invitation) = found {
                return Ok(invitation_id(invitation));
            }
            if invitations.len() < PAGE_SIZE {
                break;
            }
        }
        match login(account) {
            Some(login) => self.membership(target, login).await,
            None => Ok(None),
        }
    }

    async fn create(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        let email = email(account)?;
        let url = org_url(target, &["invitations"])?;
        let request = self
            .client
            .request(Method::POST, url, target)?
            .json(&invitation(account, email));
        let answer = self.client.send(request).await?;
        if answer.status == StatusCode::UNPROCESSABLE_ENTITY && names_the_invitee(&answer) {
            if names_a_member(&answer) && login(account).is_none() {
                return Err(already_a_member(target, email));
            }
            return Ok(CreateAnswer::Conflict);
        }
        match self
            .client
            .success(answer)?
            .whole_json()?
            .as_ref()
            .and_then(invitation_id)
        {
            Some(external_id) => Ok(CreateAnswer::Created { external_id }),
            None => Err(unreadable("the invitation", "holds no invitation id")),
        }
    }
}

impl GitHubConnector {
    /// The member's user id when `login` is a member of the organization (or has a
    /// pending membership), from `GET /orgs/{org}/memberships/{username}`; 404 means none.
    async fn membership(
        &self,
        target: &IntegrationTarget,
        login: &str,
    ) -> Result<Option<String>, ConnectorFailure> {
        let url = org_url(target, &["memberships", login])?;
        let request = self.client.request(Method::GET, url, target)?;
        let answer = self.client.send(request).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = self.client.success(answer)?.whole_json()?;
        let state = body
            .as_ref()
            .and_then(|b| b.get("state"))
            .and_then(Value::as_str);
        if !matches!(state, Some("active" | "pending")) {
            return Ok(None);
        }
        match body
            .as_ref()
            .and_then(|body| body.get("user"))
            .and_then(invitation_id)
        {
            Some(id) => Ok(Some(id)),
            None => Err(unreadable("the membership", "holds no user id")),
        }
    }
}

/// The member's GitHub login, when the account names it: the only way to match a
/// member, since GitHub shows no member's email.
fn login(account: &Map<String, Value>) -> Option<&str> {
    crate::wire::given(account, "login")
}

/// An invitee who is a member already, with no login to match the membership by: the
/// account exists, but which member it is cannot be told.
fn already_a_member(target: &IntegrationTarget, email: &str) -> ConnectorFailure {
    ConnectorFailure::Permanent {
        code: "already_member".into(),
        cause: format!(
            "{email} already belongs to a member of the GitHub organization {}; GitHub \
             shows no member's email, so give the account's GitHub login to adopt that \
             membership",
            target.workspace.trim()
        ),
    }
}

/// Invitation ids are numbers; they are kept as text like every external id.
fn invitation_id(invitation: &Value) -> Option<String> {
    match invitation.get("id")? {
        Value::Number(id) => Some(id.to_string()),
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        _ => None,
    }
}

/// The refusal of an invitation for who the invitee is, rather than for a field we
/// sent: GitHub's error names the invitation's `data`.
fn names_the_invitee(answer: &Answer) -> bool {
    let Some(body) = answer.error_json() else {
        return false;
    };
    let errors = body.get("errors").and_then(Value::as_array);
    errors.into_iter().flatten().any(|error| {
        error.get("resource").and_then(Value::as_str) == Some("OrganizationInvitation")
            && error.get("field").and_then(Value::as_str) == Some("data")
    })
}

/// Classifies a refusal: rate limits by GitHub's headers, then by status; the cause is
/// GitHub's `message` with the messages of its `errors`.
fn failure(answer: &Answer) -> ConnectorFailure {
    if matches!(answer.status.as_u16(), 403 | 429) {
        if let Some(retry_after) = answer.retry_after {
            return ConnectorFailure::RateLimited {
                retry_after: Some(retry_after),
            };
        }
        if header(answer, "x-ratelimit-remaining") == Some("0") {
            let reset = header(answer, "x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok());
            let retry_after = reset.map(|reset| {
                let seconds = reset.saturating_sub(Utc::now().timestamp()).max(0);
                Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
            });
            return ConnectorFailure::RateLimited { retry_after };
        }
        if answer.status == StatusCode::TOO_MANY_REQUESTS || is_secondary_limit(answer) {
            return ConnectorFailure::RateLimited {
                retry_after: Some(SECONDARY_LIMIT_WAIT),
            };
        }
    }
    let body = answer.error_json();
    let message = body
        .as_ref()
        .and_then(|body| body.get("message"))
        .and_then(Value::as_str);
    let errors = body
        .as_ref()
        .and_then(|body| body.get("errors"))
        .and_then(Value::as_array);
    let details: Vec<&str> = errors
        .into_iter()
        .flatten()
        .filter_map(|error| error.get("message").and_then(Value::as_str))
        .collect();
    let code = errors
        .and_then(|errors| errors.first())
        .and_then(|error| error.get("code"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let message = match (message, details.is_empty()) {
        (Some(message), false) => Some(format!("{message}: {}", details.join("; "))),
        (Some(message), true) => Some(message.to_owned()),
        (None, false) => Some(details.join("; ")),
        (None, true) => None,
    };
    refusal_saying(answer, ServiceError { code, message })
}

/// A secondary limit "will receive a 403 or 429 response and an error message that
/// indicates that you exceeded a secondary rate limit"; without `retry-after` or
/// `x-ratelimit-remaining: 0`, that documented message ("You have exceeded a secondary
/// rate limit…") is the only sign GitHub gives that a 403 is not a refused token, and
/// GitHub then asks for at least a minute's wait
/// (<https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit>).
fn is_secondary_limit(answer: &Answer) -> bool {
    let body = answer.error_json();
    let message = body
        .as_ref()
        .and_then(|body| body.get("message"))
        .and_then(Value::as_str);
    message.is_some_and(|message| {
        message
            .to_lowercase()
            .contains("you have exceeded a secondary rate limit")
    })
}

/// GitHub's sentence for an invitation whose invitee is a member already.
fn names_a_member(answer: &Answer) -> bool {
    invitee_errors(answer).any(|message| message.contains("already a part of this organization"))
}

fn invitee_errors(answer: &Answer) -> impl Iterator<Item = String> {
    let body = answer.error_json();
    let errors = body
        .as_ref()
        .and_then(|body| body.get("errors"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    errors.into_iter().filter_map(|error| {
        let on_data = error.get("field").and_then(Value::as_str) == Some("data");
        let message = error.get("message").and_then(Value::as_str)?;
        on_data.then(|| message.to_lowercase())
    })
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer.headers.get(name)?.to_str().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_waits_at_least_the_minute_it_asks_for() {
        let policy = retry_policy();
        let decision = policy.decide(1, Some(SECONDARY_LIMIT_WAIT), Duration::ZERO, 0.0);
        assert_eq!(
            decision,
            provisioner_core::retry::RetryDecision::RetryAfter(Duration::from_secs(60))
        );
    }
}
