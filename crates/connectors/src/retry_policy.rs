//! How long each service is waited for after a failure, from the vendor's own guidance
//! where it gives any. An integration may override any part (`max_attempts`, the
//! `retry_*` fields); a `Retry-After` the service sends is honoured on top, up to the
//! cap.

use std::time::Duration;

use provisioner_core::retry::{Jitter, RetryPolicy};

use crate::{github, google, microsoft, slack, zoom};

const fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// The policy for the service `key`; the general one for SCIM apps, which RFC 7644
/// gives no retry guidance for, and for any service without guidance of its own.
pub(crate) fn for_service(key: &str) -> RetryPolicy {
    let general = RetryPolicy::default();
    match key {
        // Slack counts SCIM calls per minute (writes 180/min, burst 20) and answers 429
        // with Retry-After, which the general policy honours; its cap lets a minute's
        // window pass. https://api.slack.com/scim#ratelimits
        slack::KEY => general,
        // "Wait for at least one minute before retrying" a secondary limit that names
        // no time, "and wait an exponentially increasing amount of time between
        // retries"; a primary limit resets on the hour, so the cap lets it pass.
        // https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
        github::KEY => RetryPolicy {
            max_attempts: 6,
            base_delay: secs(60),
            max_delay: secs(3600),
            jitter: Jitter::Equal,
            deadline: secs(6 * 3600),
        },
        // Graph: honour Retry-After, and back off exponentially without one
        // (https://learn.microsoft.com/graph/throttling); Microsoft's own SDK retry
        // handler waits 3 s, retries 3 times and never more than 180 s at once.
        microsoft::KEY => RetryPolicy {
            max_attempts: 4,
            base_delay: secs(3),
            max_delay: secs(180),
            jitter: Jitter::Equal,
            deadline: secs(3600),
        },
        // Directory API: truncated exponential backoff from 1 s (1, 2, 4, 8, 16 s, each
        // plus up to a second at random) to a maximum of 32 or 64 s, for its 403
        // `userRateLimitExceeded`/`quotaExceeded` as for 5xx.
        // https://developers.google.com/admin-sdk/directory/v1/limits
        google::KEY => RetryPolicy {
            max_attempts: 7,
            base_delay: secs(1),
            max_delay: secs(64),
            jitter: Jitter::Equal,
            deadline: secs(3600),
        },
        // Zoom's limits are per second (daily for a few heavy APIs) and it documents no
        // backoff of its own: the general policy, with Retry-After honoured when sent.
        // https://developers.zoom.us/docs/api/rate-limits/
        zoom::KEY => general,
        _ => general,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_can_be_held_by_the_broker_and_lets_quarantine_happen() {
        for key in [
            "scim",
            "slack",
            "github",
            "zoom",
            "microsoft365",
            "google",
            "notion",
        ] {
            let policy = for_service(key);
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
    fn github_waits_at_least_the_minute_it_asks_for() {
        let policy = for_service("github");
        let asked = crate::github::SECONDARY_LIMIT_WAIT;
        let decision = policy.decide(1, Some(asked), Duration::ZERO, 0.0);
        assert_eq!(
            decision,
            provisioner_core::retry::RetryDecision::RetryAfter(secs(60))
        );
    }
}
