//! A workspace's allowance of creates per window, held the way GitHub holds its primary
//! limit: a fixed window opens with the first call after the previous one closed, and
//! a call over the allowance is refused until the window closes, with the time left as
//! `Retry-After` (GitHub: `x-ratelimit-reset`). Only creates count, because the vendors
//! limit them apart from reads: Slack's `POST /Users` tier (180/min), Graph's write
//! limit, GitHub's content-creation limit. Refused calls take nothing from the window.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::state::{FailCreates, Workspace};

/// `{"creates": N, "window_seconds": W}`: N creates accepted in each window of W seconds
/// (a minute unless told).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowance {
    pub creates: u32,
    #[serde(default = "Allowance::minute")]
    pub window_seconds: u32,
}

impl Allowance {
    fn minute() -> u32 {
        60
    }

    /// N creates per minute.
    pub fn per_minute(creates: u32) -> Self {
        Self {
            creates,
            window_seconds: Self::minute(),
        }
    }

    fn window(&self) -> Duration {
        Duration::from_secs(u64::from(self.window_seconds))
    }

    pub(crate) fn is_valid(&self) -> bool {
        self.creates > 0 && self.window_seconds > 0
    }
}

/// The open window: when it opened and how much of the allowance it has used.
#[derive(Debug, Default)]
pub(crate) struct Window {
    opened_at: Option<Instant>,
    used: u32,
}

/// A create over the allowance: how long until the window frees a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverAllowance {
    pub(crate) wait: Duration,
    pub(crate) limit: u32,
}

impl OverAllowance {
    /// `Retry-After` carries whole seconds; rounding down would send the caller back
    /// before the window closes.
    pub(crate) fn retry_after_secs(&self) -> u64 {
        let whole = self.wait.as_secs() + u64::from(self.wait.subsec_nanos() > 0);
        whole.max(1)
    }

    /// The refusal as a failure of `status`, for vendors whose rate-limit answer is their
    /// usual error shape with `Retry-After`.
    pub(crate) fn as_failure(&self, status: u16) -> FailCreates {
        FailCreates {
            count: 1,
            status,
            retry_after_secs: Some(self.retry_after_secs()),
            detail: None,
        }
    }

    /// When the window closes, in Unix seconds, as GitHub's `x-ratelimit-reset`.
    pub(crate) fn reset_epoch_secs(&self) -> u64 {
        let reset = std::time::SystemTime::now() + self.wait;
        let since = reset
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        since.as_secs() + u64::from(since.subsec_nanos() > 0)
    }
}

impl Window {
    /// Takes one create from the allowance at `now`, or refuses it.
    fn admit(&mut self, allowance: &Allowance, now: Instant) -> Result<(), OverAllowance> {
        let closes_at = self.opened_at.map(|opened| opened + allowance.window());
        if closes_at.is_none_or(|closes| now >= closes) {
            self.opened_at = Some(now);
            self.used = 0;
        }
        if self.used < allowance.creates {
            self.used += 1;
            return Ok(());
        }
        let closes = closes_at.unwrap_or(now);
        Err(OverAllowance {
            wait: closes.saturating_duration_since(now),
            limit: allowance.creates,
        })
    }
}

impl Workspace {
    /// Takes this create from the workspace's allowance, if it has one; a refusal is
    /// counted among the rate-limited calls.
    pub(crate) fn over_allowance(&mut self) -> Option<OverAllowance> {
        let allowance = self.faults.create_allowance?;
        let refused = self.window.admit(&allowance, Instant::now()).err()?;
        self.rate_limited_calls += 1;
        Some(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWANCE: Allowance = Allowance {
        creates: 3,
        window_seconds: 10,
    };

    #[test]
    fn the_allowance_is_spent_then_refused_until_the_window_closes() {
        let start = Instant::now();
        let mut window = Window::default();
        for n in 0..3 {
            let at = start + Duration::from_secs(n);
            assert_eq!(window.admit(&ALLOWANCE, at), Ok(()));
        }
        let refused = window
            .admit(&ALLOWANCE, start + Duration::from_millis(7_500))
            .unwrap_err();
        assert_eq!(refused.wait, Duration::from_millis(2_500));
        assert_eq!(refused.retry_after_secs(), 3);
        assert_eq!(refused.limit, 3);
    }

    #[test]
    fn a_refused_call_takes_nothing_and_the_next_window_opens_with_the_next_call() {
        let start = Instant::now();
        let mut window = Window::default();
        for _ in 0..3 {
            window.admit(&ALLOWANCE, start).unwrap();
        }
        for _ in 0..5 {
            assert!(window.admit(&ALLOWANCE, start).is_err());
        }
        // The next window opens at 12 s, not 10 s, and holds three more.
        let later = start + Duration::from_secs(12);
        for _ in 0..3 {
            assert_eq!(window.admit(&ALLOWANCE, later), Ok(()));
        }
        let refused = window
            .admit(&ALLOWANCE, later + Duration::from_secs(9))
            .unwrap_err();
        assert_eq!(refused.wait, Duration::from_secs(1));
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        let over = |millis| OverAllowance {
            wait: Duration::from_millis(millis),
            limit: 1,
        };
        assert_eq!(over(0).retry_after_secs(), 1);
        assert_eq!(over(1).retry_after_secs(), 1);
        assert_eq!(over(1_000).retry_after_secs(), 1);
        assert_eq!(over(1_001).retry_after_secs(), 2);
    }

    #[test]
    fn the_window_is_a_minute_unless_told() {
        let allowance: Allowance = serde_json::from_str(r#"{"creates": 100}"#).unwrap();
        assert_eq!(allowance, Allowance::per_minute(100));
        assert!(!Allowance::per_minute(0).is_valid());
    }
}
