//! An integration whose credentials keep being refused is set aside (its status turns
//! `error`) so that no more calls are made with them, as Entra's provisioning does. One
//! refusal is not enough: a token being rotated, or a vendor's passing hiccup on its
//! auth path, should cost a retry, not a person's re-integration.

/// Consecutive authentication failures on one integration, across every worker, that
/// set it to `error`. Any successful call, or a check that passes, starts the count
/// again.
pub const AUTH_FAILURES_BEFORE_ERROR: u32 = 3;

/// What one more authentication failure means, given how many there were in a row
/// (this one included) and the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailureVerdict {
    /// Retried like a transient failure: the credentials may work again.
    Retry,
    /// The integration is set to `error`; the request is rejected.
    Quarantine,
}

pub fn after_auth_failure(consecutive: u32, threshold: u32) -> AuthFailureVerdict {
    if consecutive >= threshold.max(1) {
        AuthFailureVerdict::Quarantine
    } else {
        AuthFailureVerdict::Retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_below_the_threshold_are_retried_and_the_threshold_quarantines() {
        let verdicts: Vec<_> = (1..=4)
            .map(|n| after_auth_failure(n, AUTH_FAILURES_BEFORE_ERROR))
            .collect();
        assert_eq!(
            verdicts,
            [
                AuthFailureVerdict::Retry,
                AuthFailureVerdict::Retry,
                AuthFailureVerdict::Quarantine,
                AuthFailureVerdict::Quarantine
            ]
        );
    }

    #[test]
    fn a_threshold_of_zero_means_the_first_failure() {
        assert_eq!(after_auth_failure(1, 0), AuthFailureVerdict::Quarantine);
    }
}
