//! When a failed attempt is tried again. The policy is data: each service has one that
//! follows its vendor's guidance, and an integration may override any part of it. The
//! wait itself is parked in the broker, never in a sleeping worker, and the random
//! number behind the jitter is an argument, so the rules here stay deterministic.

use std::time::Duration;

use serde::Serialize;

/// The longest single wait a retry can be parked for: the broker's longest delay queue
/// holds a message no longer than this, so no policy may ask for more.
pub const LONGEST_DELAY: Duration = Duration::from_secs(3600);

/// How the random part of a wait is drawn, after "Exponential Backoff And Jitter"
/// (AWS Architecture Blog, 2015): jitter spreads the retries of requests that failed
/// together, so they do not hit the service together again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Exactly the backoff.
    None,
    /// Anywhere between zero and the backoff: the widest spread.
    Full,
    /// Between half the backoff and the backoff: spread, yet never a retry at once.
    Equal,
}

impl Jitter {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Full => "full",
            Self::Equal => "equal",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(Self::None),
            "full" => Some(Self::Full),
            "equal" => Some(Self::Equal),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles with each further one.
    pub base_delay: Duration,
    /// No wait is longer, whatever the backoff or the service's `Retry-After` say.
    pub max_delay: Duration,
    pub jitter: Jitter,
    /// No attempt starts later than this after the request was accepted.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    /// For a service that says nothing of its own: a few quick tries for a blip, then
    /// waits of minutes for an outage, for at most an hour.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            jitter: Jitter::Equal,
            deadline: Duration::from_secs(3600),
        }
    }
}

/// What an integration changes of its service's policy; `None` keeps the service's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryOverride {
    pub max_attempts: Option<u32>,
    pub base_delay: Option<Duration>,
    pub max_delay: Option<Duration>,
    pub jitter: Option<Jitter>,
    pub deadline: Option<Duration>,
}

/// What to do after a failed attempt that may succeed later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Park the request for this long, then try again.
    RetryAfter(Duration),
    /// The request is dead.
    GiveUp(GiveUpReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    AttemptsExhausted,
    /// The next attempt would start after the request's deadline.
    DeadlinePassed,
}

impl RetryPolicy {
    /// The service's policy with what the integration changes of it.
    pub fn overridden_by(&self, changes: &RetryOverride) -> Self {
        Self {
            max_attempts: changes.max_attempts.unwrap_or(self.max_attempts),
            base_delay: changes.base_delay.unwrap_or(self.base_delay),
            max_delay: changes.max_delay.unwrap_or(self.max_delay),
            jitter: changes.jitter.unwrap_or(self.jitter),
            deadline: changes.deadline.unwrap_or(self.deadline),
        }
    }

    /// The longest wait this policy can ask for, never past what the broker can hold.
    pub fn cap(&self) -> Duration {
        self.max_delay.min(LONGEST_DELAY)
    }

    /// The wait after `attempts_made` failures: `base × 2^(n-1)`, capped, then jittered
    /// with `random` in `[0, 1)`.
    pub fn backoff(&self, attempts_made: u32, random: f64) -> Duration {
        let doublings = attempts_made.saturating_sub(1).min(31);
        let exponential = self
            .base_delay
            .checked_mul(1 << doublings)
            .unwrap_or(Duration::MAX);
        let capped = exponential.min(self.cap());
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.0
        };
        match self.jitter {
            Jitter::None => capped,
            Jitter::Full => capped.mul_f64(random),
            Jitter::Equal => capped / 2 + (capped / 2).mul_f64(random),
        }
    }

    /// `attempts_made` counts the attempt that just failed; `elapsed` is the time since
    /// the request was accepted; `retry_after` is what the service asked for, if
    /// anything; `random` is in `[0, 1)`. The wait is the longer of the backoff and
    /// `Retry-After`, clamped to the cap, so a service's word is honoured unless it
    /// asks for more than the policy allows.
    pub fn decide(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
        elapsed: Duration,
        random: f64,
    ) -> RetryDecision {
        if attempts_made >= self.max_attempts {
            return RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted);
        }
        let backoff = self.backoff(attempts_made, random);
        let delay = backoff.max(retry_after.unwrap_or_default()).min(self.cap());
        if elapsed.saturating_add(delay) > self.deadline {
            return RetryDecision::GiveUp(GiveUpReason::DeadlinePassed);
        }
        RetryDecision::RetryAfter(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn plain(max_attempts: u32, base: u64, cap: u64, deadline: u64) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: secs(base),
            max_delay: secs(cap),
            jitter: Jitter::None,
            deadline: secs(deadline),
        }
    }

    fn delay(decision: RetryDecision) -> Duration {
        match decision {
            RetryDecision::RetryAfter(delay) => delay,
            RetryDecision::GiveUp(reason) => panic!("gave up: {reason:?}"),
        }
    }

    #[test]
    fn the_backoff_doubles_with_each_attempt_until_the_cap() {
        let policy = plain(10, 1, 20, 3600);
        let waits: Vec<_> = (1..8)
            .map(|n| delay(policy.decide(n, None, Duration::ZERO, 0.5)))
            .collect();
        assert_eq!(
            waits,
            [
                secs(1),
                secs(2),
                secs(4),
                secs(8),
                secs(16),
                secs(20),
                secs(20)
            ]
        );
    }

    #[test]
    fn a_huge_attempt_count_stays_at_the_cap_without_overflowing() {
        let policy = plain(u32::MAX, 1, 600, u64::MAX / 4);
        assert_eq!(policy.backoff(u32::MAX - 1, 0.5), secs(600));
    }

    #[test]
    fn the_cap_never_passes_what_the_broker_can_hold() {
        let policy = plain(10, 1, 86_400, 10 * 86_400);
        assert_eq!(policy.cap(), LONGEST_DELAY);
        assert_eq!(
            delay(policy.decide(1, Some(secs(86_400)), Duration::ZERO, 0.0)),
            LONGEST_DELAY
        );
    }

    #[test]
    fn equal_jitter_keeps_at_least_half_the_backoff() {
        let policy = RetryPolicy {
            jitter: Jitter::Equal,
            ..plain(10, 4, 600, 3600)
        };
        assert_eq!(policy.backoff(1, 0.0), secs(2));
        assert!(policy.backoff(1, 0.999_999) < secs(4));
        assert_eq!(policy.backoff(2, 0.5), secs(6));
    }

    #[test]
    fn full_jitter_spreads_from_zero_to_the_backoff() {
        let policy = RetryPolicy {
            jitter: Jitter::Full,
            ..plain(10, 4, 600, 3600)
        };
        assert_eq!(policy.backoff(1, 0.0), Duration::ZERO);
        assert_eq!(policy.backoff(1, 0.25), secs(1));
    }

    #[test]
    fn a_random_number_out_of_range_is_held_inside_it() {
        let policy = RetryPolicy {
            jitter: Jitter::Full,
            ..plain(10, 4, 600, 3600)
        };
        assert_eq!(policy.backoff(1, 7.0), secs(4));
        assert_eq!(policy.backoff(1, -1.0), Duration::ZERO);
        assert_eq!(policy.backoff(1, f64::NAN), Duration::ZERO);
    }

    proptest! {
        #[test]
        fn a_jittered_wait_stays_within_its_bounds(
            attempt in 1u32..40,
            random in 0.0f64..1.0,
            base_ms in 1u64..10_000,
            cap_ms in 1u64..4_000_000,
        ) {
            for jitter in [Jitter::None, Jitter::Full, Jitter::Equal] {
                let policy = RetryPolicy {
                    max_attempts: 50,
                    base_delay: Duration::from_millis(base_ms),
                    max_delay: Duration::from_millis(cap_ms),
                    jitter,
                    deadline: secs(1_000_000),
                };
                let unjittered = RetryPolicy { jitter: Jitter::None, ..policy }.backoff(attempt, 0.0);
                let wait = policy.backoff(attempt, random);
                prop_assert!(wait <= unjittered && wait <= policy.cap());
                if jitter == Jitter::Equal {
                    prop_assert!(wait >= unjittered / 2);
                }
            }
        }

        #[test]
        fn a_retry_never_comes_before_retry_after_within_the_cap(
            attempt in 1u32..10,
            random in 0.0f64..1.0,
            retry_after_ms in 0u64..3_600_000,
        ) {
            let policy = RetryPolicy { jitter: Jitter::Full, ..plain(20, 1, 3600, 1_000_000) };
            let retry_after = Duration::from_millis(retry_after_ms);
            let wait = delay(policy.decide(attempt, Some(retry_after), Duration::ZERO, random));
            prop_assert!(wait >= retry_after);
        }
    }

    #[test]
    fn retry_after_wins_over_a_shorter_backoff() {
        let policy = plain(10, 1, 600, 3600);
        assert_eq!(
            delay(policy.decide(1, Some(secs(7)), Duration::ZERO, 0.5)),
            secs(7)
        );
        assert_eq!(
            delay(policy.decide(5, Some(secs(7)), Duration::ZERO, 0.5)),
            secs(16),
            "a longer backoff wins over a short Retry-After"
        );
    }

    #[test]
    fn a_retry_after_beyond_the_cap_is_clamped_to_it() {
        let policy = plain(10, 1, 600, 86_400);
        assert_eq!(
            delay(policy.decide(1, Some(secs(86_400)), Duration::ZERO, 0.5)),
            secs(600)
        );
    }

    #[test]
    fn the_last_attempt_gives_up() {
        let policy = plain(3, 1, 600, 3600);
        assert!(matches!(
            policy.decide(2, None, Duration::ZERO, 0.5),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(
            policy.decide(3, None, Duration::ZERO, 0.5),
            RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted)
        );
    }

    #[test]
    fn no_attempt_is_planned_past_the_deadline() {
        let policy = plain(10, 4, 600, 60);
        assert_eq!(
            delay(policy.decide(1, None, secs(56), 0.5)),
            secs(4),
            "exactly at the deadline is still allowed"
        );
        assert_eq!(
            policy.decide(1, None, secs(57), 0.5),
            RetryDecision::GiveUp(GiveUpReason::DeadlinePassed)
        );
        assert_eq!(
            policy.decide(1, Some(secs(30)), secs(40), 0.5),
            RetryDecision::GiveUp(GiveUpReason::DeadlinePassed),
            "a Retry-After that would land past the deadline gives up too"
        );
    }

    #[test]
    fn an_override_changes_only_what_it_names() {
        let service = RetryPolicy::default();
        let changes = RetryOverride {
            max_attempts: Some(2),
            base_delay: Some(Duration::from_millis(50)),
            ..RetryOverride::default()
        };
        let policy = service.overridden_by(&changes);
        assert_eq!(policy.max_attempts, 2);
        assert_eq!(policy.base_delay, Duration::from_millis(50));
        assert_eq!(policy.max_delay, service.max_delay);
        assert_eq!(policy.jitter, service.jitter);
        assert_eq!(policy.deadline, service.deadline);
        assert_eq!(service.overridden_by(&RetryOverride::default()), service);
    }

    #[test]
    fn jitter_names_read_back() {
        for jitter in [Jitter::None, Jitter::Full, Jitter::Equal] {
            assert_eq!(Jitter::parse(jitter.as_str()), Some(jitter));
        }
        assert_eq!(Jitter::parse("some"), None);
    }
}
