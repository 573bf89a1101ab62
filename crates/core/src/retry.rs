//! When a transient failure is tried again. The policy is data; the wait itself is
//! parked in the broker, never in a sleeping worker.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    /// The delays a retry may wait, shortest first; they must match the broker's delay
    /// queues, because a message can only wait as long as some queue holds it.
    pub delays: Vec<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            delays: [1, 5, 30, 120, 600]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        }
    }
}

/// What to do after a retryable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait in the delay queue with this index, then try again.
    RetryAfter { delay_index: usize, delay: Duration },
    /// Attempts are used up; the request is dead.
    GiveUp,
}

impl RetryPolicy {
    /// `attempts_made` counts the attempt that just failed. The delay grows with each
    /// attempt, and a `Retry-After` from the service is honoured by picking the first
    /// delay at least that long (the longest one caps it).
    pub fn decide(&self, attempts_made: u32, retry_after: Option<Duration>) -> RetryDecision {
        if attempts_made >= self.max_attempts || self.delays.is_empty() {
            return RetryDecision::GiveUp;
        }
        let last = self.delays.len() - 1;
        let by_attempt = (attempts_made.saturating_sub(1) as usize).min(last);
        let by_service = retry_after
            .and_then(|wanted| self.delays.iter().position(|d| *d >= wanted))
            .unwrap_or(if retry_after.is_some() { last } else { 0 });
        let delay_index = by_attempt.max(by_service);
        RetryDecision::RetryAfter {
            delay_index,
            delay: self.delays[delay_index],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn delays_grow_with_each_attempt() {
        let policy = RetryPolicy::default();
        let delays: Vec<_> = (1..5)
            .map(|attempt| match policy.decide(attempt, None) {
                RetryDecision::RetryAfter { delay, .. } => delay,
                RetryDecision::GiveUp => panic!("gave up too early"),
            })
            .collect();
        assert_eq!(delays, [secs(1), secs(5), secs(30), secs(120)]);
    }

    #[test]
    fn the_last_attempt_gives_up() {
        assert_eq!(
            RetryPolicy::default().decide(5, None),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn retry_after_picks_a_delay_at_least_that_long() {
        let decision = RetryPolicy::default().decide(1, Some(secs(7)));
        assert_eq!(
            decision,
            RetryDecision::RetryAfter {
                delay_index: 2,
                delay: secs(30)
            }
        );
    }

    #[test]
    fn a_huge_retry_after_is_clamped_to_the_longest_delay() {
        let decision = RetryPolicy::default().decide(1, Some(secs(86_400)));
        assert_eq!(
            decision,
            RetryDecision::RetryAfter {
                delay_index: 4,
                delay: secs(600)
            }
        );
    }
}
