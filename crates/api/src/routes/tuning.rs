//! The fields of an integration that say how its calls are paced and its requests
//! retried: read on create and on update (`views::IntegrationView` shows them).

use std::time::Duration;

use provisioner_core::retry::{Jitter, RetryOverride, LONGEST_DELAY};
use provisioner_store::IntegrationTuning;

use crate::input::Fields;

/// The longest overall deadline an integration may set: a week.
const LONGEST_DEADLINE_SECS: i64 = 7 * 24 * 3600;

/// What a body says of each field: `None` when it does not name it, `Some(None)` when
/// it names it as `null` (clearing an override), `Some(Some(v))` for a value.
#[derive(Debug, Default)]
pub struct TuningChanges {
    requests_per_second: Option<Option<f64>>,
    max_concurrent_calls: Option<Option<i32>>,
    max_attempts: Option<Option<u32>>,
    base_delay: Option<Option<Duration>>,
    max_delay: Option<Option<Duration>>,
    jitter: Option<Option<Jitter>>,
    deadline: Option<Option<Duration>>,
}

impl TuningChanges {
    /// Takes the tuning fields out of `fields`, listing every wrong one there.
    pub fn read(fields: &mut Fields) -> Self {
        let longest = LONGEST_DELAY.as_secs_f64();
        let seconds = |fields: &mut Fields, name: &str| {
            let named = fields.names(name);
            let value = fields
                .optional_number(name, 0.001..=longest)
                .map(Duration::from_secs_f64);
            named.then_some(value)
        };
        let requests_per_second = {
            let named = fields.names("requests_per_second");
            let value = fields.optional_number("requests_per_second", 0.0..=10_000.0);
            named.then_some(value)
        };
        let max_concurrent_calls = {
            let named = fields.names("max_concurrent_calls");
            let value = fields
                .optional_integer("max_concurrent_calls", 1..=1000)
                .and_then(|n| i32::try_from(n).ok());
            named.then_some(value)
        };
        let max_attempts = {
            let named = fields.names("max_attempts");
            let value = fields
                .optional_integer("max_attempts", 1..=20)
                .and_then(|n| u32::try_from(n).ok());
            named.then_some(value)
        };
        let base_delay = seconds(fields, "retry_base_delay_seconds");
        let max_delay = seconds(fields, "retry_max_delay_seconds");
        let jitter = {
            let named = fields.names("retry_jitter");
            let raw = fields.optional_string("retry_jitter", 10);
            let value = raw.and_then(|raw| {
                let parsed = Jitter::parse(&raw);
                if parsed.is_none() {
                    fields.error("retry_jitter", "must be one of none, full, equal");
                }
                parsed
            });
            named.then_some(value)
        };
        let deadline = {
            let named = fields.names("retry_deadline_seconds");
            let value = fields
                .optional_integer("retry_deadline_seconds", 1..=LONGEST_DEADLINE_SECS)
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs);
            named.then_some(value)
        };
        Self {
            requests_per_second,
            max_concurrent_calls,
            max_attempts,
            base_delay,
            max_delay,
            jitter,
            deadline,
        }
    }

    /// `current` with what the body named replaced.
    pub fn applied_to(&self, current: IntegrationTuning) -> IntegrationTuning {
        let retry = &current.retry;
        IntegrationTuning {
            requests_per_second: self
                .requests_per_second
                .unwrap_or(current.requests_per_second),
            max_concurrent_calls: self
                .max_concurrent_calls
                .unwrap_or(current.max_concurrent_calls),
            retry: RetryOverride {
                max_attempts: self.max_attempts.unwrap_or(retry.max_attempts),
                base_delay: self.base_delay.unwrap_or(retry.base_delay),
                max_delay: self.max_delay.unwrap_or(retry.max_delay),
                jitter: self.jitter.unwrap_or(retry.jitter),
                deadline: self.deadline.unwrap_or(retry.deadline),
            },
        }
    }
}
