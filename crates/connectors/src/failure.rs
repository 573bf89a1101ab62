//! What a non-success answer means, from its status code and the service's own error
//! code, never from its free text (STYLE.md).

use std::time::Duration;

use chrono::{DateTime, Utc};
use provisioner_core::ConnectorFailure;
use reqwest::StatusCode;

/// What the service said about a refusal, in its own words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServiceError {
    /// A machine-readable code, such as SCIM's `scimType`.
    pub code: Option<String>,
    /// The human sentence, such as SCIM's `detail`.
    pub message: Option<String>,
}

/// A person reads causes in the integration log; a runaway message must not flood it.
const MAX_MESSAGE_CHARS: usize = 1_000;

pub(crate) fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    said: ServiceError,
) -> ConnectorFailure {
    let message = said
        .message
        .map(|message| {
            message
                .trim()
                .chars()
                .take(MAX_MESSAGE_CHARS)
                .collect::<String>()
        })
        .filter(|message| !message.is_empty());
    let from_service = format!("{} from the service", status.as_u16());
    let with_message = match &message {
        Some(message) => format!("{from_service}: {message}"),
        None => from_service.clone(),
    };
    match status.as_u16() {
        401 | 403 => ConnectorFailure::AuthFailed {
            cause: with_message,
        },
        429 => ConnectorFailure::RateLimited { retry_after },
        408 | 500..=599 => ConnectorFailure::Transient {
            cause: with_message,
        },
        _ => {
            let code = said
                .code
                .map(|code| snake_case(&code))
                .filter(|code| !code.is_empty())
                .unwrap_or_else(|| format!("http_{}", status.as_u16()));
            let cause = match message {
                // The service's sentence is what the person needs, e.g. why a user name
                // is refused.
                Some(message) => message,
                None if status.is_redirection() => format!(
                    "{from_service}, a redirect; connectors do not follow redirects, \
                     so check the base URL"
                ),
                None => from_service,
            };
            ConnectorFailure::Permanent { code, cause }
        }
    }
}

/// A success answer without what it must hold.
pub(crate) fn unreadable(what: &str, why: &str) -> ConnectorFailure {
    ConnectorFailure::Permanent {
        code: "invalid_answer".into(),
        cause: format!("the service's answer to {what} {why}"),
    }
}

/// `invalidValue` → `invalid_value`; anything but letters and digits becomes `_`.
pub(crate) fn snake_case(code: &str) -> String {
    let mut snake = String::with_capacity(code.len() + 4);
    for c in code.trim().chars().take(64) {
        if c.is_ascii_uppercase() {
            if !snake.is_empty() && !snake.ends_with('_') {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            snake.push(c);
        } else if !snake.ends_with('_') {
            snake.push('_');
        }
    }
    snake.trim_matches('_').to_owned()
}

/// `Retry-After` is either seconds or an HTTP-date (RFC 9110 §10.2.3); a date in the past
/// means now.
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(code: Option<&str>, message: Option<&str>) -> ServiceError {
        ServiceError {
            code: code.map(str::to_owned),
            message: message.map(str::to_owned),
        }
    }

    #[test]
    fn each_status_family_means_what_the_worker_must_do() {
        let classify_status = |status: u16| {
            classify(
                StatusCode::from_u16(status).unwrap(),
                None,
                ServiceError::default(),
            )
        };
        assert!(matches!(
            classify_status(401),
            ConnectorFailure::AuthFailed { .. }
        ));
        assert!(matches!(
            classify_status(403),
            ConnectorFailure::AuthFailed { .. }
        ));
        assert!(matches!(
            classify_status(429),
            ConnectorFailure::RateLimited { .. }
        ));
        for status in [408, 500, 502, 503, 504] {
            assert!(matches!(
                classify_status(status),
                ConnectorFailure::Transient { .. }
            ));
        }
        assert_eq!(
            classify_status(404),
            ConnectorFailure::Permanent {
                code: "http_404".into(),
                cause: "404 from the service".into()
            }
        );
        assert!(classify_status(302).to_string().contains("redirect"));
    }

    #[test]
    fn a_permanent_failure_carries_the_services_code_and_sentence() {
        let failure = classify(
            StatusCode::BAD_REQUEST,
            None,
            said(Some("invalidValue"), Some("userName is not valid")),
        );
        assert_eq!(
            failure,
            ConnectorFailure::Permanent {
                code: "invalid_value".into(),
                cause: "userName is not valid".into()
            }
        );
    }

    #[test]
    fn auth_and_transient_causes_keep_the_status_and_the_services_sentence() {
        let failure = classify(
            StatusCode::UNAUTHORIZED,
            None,
            said(None, Some("bad token")),
        );
        assert_eq!(failure.to_string(), "401 from the service: bad token");
    }

    #[test]
    fn vendor_codes_become_snake_case() {
        assert_eq!(snake_case("invalidValue"), "invalid_value");
        assert_eq!(snake_case("tooMany"), "too_many");
        assert_eq!(snake_case("uniqueness"), "uniqueness");
        assert_eq!(snake_case("user-not found"), "user_not_found");
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
