//! An integration as clients see it: never its credentials.

use chrono::{DateTime, Utc};
use provisioner_core::retry::RetryPolicy;
use provisioner_core::{IntegrationId, IntegrationStatus};
use provisioner_store::Integration;
use serde::Serialize;

use super::RetryPolicyView;

#[derive(Debug, Serialize)]
pub struct IntegrationView {
    pub id: IntegrationId,
    pub service: String,
    pub workspace: String,
    pub status: IntegrationStatus,
    pub status_changed_at: DateTime<Utc>,
    pub auth_failures: i32,
    pub checked_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// The overrides this integration sets; a field it leaves to its service is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_calls: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_base_delay_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_max_delay_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_jitter: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_deadline_seconds: Option<u64>,
    /// The policy in effect: the service's, with this integration's overrides.
    pub retry_policy: RetryPolicyView,
}

impl IntegrationView {
    pub fn new(integration: &Integration, service_policy: RetryPolicy) -> Self {
        let retry = &integration.retry;
        Self {
            id: integration.id,
            service: integration.service.clone(),
            workspace: integration.workspace.clone(),
            status: integration.status,
            status_changed_at: integration.status_changed_at,
            auth_failures: integration.auth_failures,
            checked_at: integration.checked_at,
            created_at: integration.created_at,
            base_url: integration.base_url.clone(),
            status_reason: integration.status_reason.clone(),
            requests_per_second: integration.requests_per_second,
            max_concurrent_calls: integration.max_concurrent_calls,
            max_attempts: retry.max_attempts,
            retry_base_delay_seconds: retry.base_delay.map(|d| d.as_secs_f64()),
            retry_max_delay_seconds: retry.max_delay.map(|d| d.as_secs_f64()),
            retry_jitter: retry.jitter.map(|jitter| jitter.as_str()),
            retry_deadline_seconds: retry.deadline.map(|d| d.as_secs()),
            retry_policy: (&service_policy.overridden_by(retry)).into(),
        }
    }
}

/// `GET /v1/integrations`.
#[derive(Debug, Serialize)]
pub struct IntegrationList {
    pub integrations: Vec<IntegrationView>,
}
