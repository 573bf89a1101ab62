//! What a SaaS answer means for a request. Connectors classify every answer where it
//! arises, from status codes and the vendor's error codes, never from free text.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The end of one call to a SaaS on behalf of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionOutcome {
    /// The account was made by this call.
    Created { external_id: String },
    /// An account that matches already existed (found by lookup or after a conflict); it
    /// is adopted rather than duplicated.
    AlreadyExists { external_id: String },
    /// An account provisioner did not make, for the same person by the identity the
    /// service keys on (its email): taken over rather than duplicated.
    Linked { external_id: String },
}

impl ProvisionOutcome {
    pub fn external_id(&self) -> &str {
        match self {
            Self::Created { external_id }
            | Self::AlreadyExists { external_id }
            | Self::Linked { external_id } => external_id,
        }
    }
}

/// Why a call to a SaaS did not give an account. Each variant says what the worker does
/// next: wait and retry, give up at once, or stop using the integration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorFailure {
    #[error("rate limited by the service")]
    RateLimited { retry_after: Option<Duration> },
    #[error("{cause}")]
    Transient { cause: String },
    #[error("{cause}")]
    Permanent { code: String, cause: String },
    #[error("{cause}")]
    AuthFailed { cause: String },
}

impl ConnectorFailure {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient { .. })
    }

    /// A short machine-readable code kept with the request and shown to clients.
    pub fn code(&self) -> &str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Transient { .. } => "transient",
            Self::Permanent { code, .. } => code,
            Self::AuthFailed { .. } => "auth_failed",
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// The error shown on a request that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestError {
    pub code: String,
    pub message: String,
    pub retryable: bool,
}

impl RequestError {
    pub fn from_failure(failure: &ConnectorFailure) -> Self {
        Self {
            code: failure.code().to_owned(),
            message: failure.to_string(),
            retryable: failure.is_retryable(),
        }
    }

    /// Why a request for an integration in error is refused, in words that tell the
    /// person what to do.
    pub fn integration_not_ok(service: &str, workspace: &str, reason: Option<&str>) -> Self {
        let reason = reason.map(|r| format!(" ({r})")).unwrap_or_default();
        Self {
            code: "integration_error".into(),
            message: format!(
                "the {service} integration for workspace {workspace} is in error{reason}; \
                 re-integrate the service, check that its status is ok, then retry"
            ),
            retryable: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rate_limits_and_transient_failures_are_retried() {
        assert!(ConnectorFailure::RateLimited { retry_after: None }.is_retryable());
        assert!(ConnectorFailure::Transient {
            cause: "503".into()
        }
        .is_retryable());
        assert!(!ConnectorFailure::Permanent {
            code: "invalid_value".into(),
            cause: "bad".into()
        }
        .is_retryable());
        assert!(!ConnectorFailure::AuthFailed {
            cause: "401".into()
        }
        .is_retryable());
    }

    #[test]
    fn a_permanent_failure_keeps_the_services_own_message() {
        let failure = ConnectorFailure::Permanent {
            code: "invalid_value".into(),
            cause: "userName is not valid".into(),
        };
        let error = RequestError::from_failure(&failure);
        assert_eq!(error.message, "userName is not valid");
        assert_eq!(error.code, "invalid_value");
        assert!(!error.retryable);
    }

    #[test]
    fn the_rejection_cause_tells_the_person_to_re_integrate() {
        let error = RequestError::integration_not_ok("scim", "acme", Some("401 from the service"));
        assert!(error.message.contains("re-integrate"));
        assert!(error.message.contains("401 from the service"));
    }
}
