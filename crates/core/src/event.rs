//! CloudEvents 1.0 in structured JSON mode, and the messages that travel through the
//! broker.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, EmployeeId, EventId, IntegrationId, RequestId, TenantId};
use crate::inventory::AccountOrigin;
use crate::outcome::RequestError;
use crate::state::RequestState;

pub const SPEC_VERSION: &str = "1.0";
pub const SOURCE: &str = "urn:provisioner:worker";
pub const ACCOUNT_CREATED: &str = "com.provisioner.account.created";
pub const ACCOUNT_FAILED: &str = "com.provisioner.account.failed";
pub const EMPLOYEE_HIRED: &str = "com.provisioner.hr.employee.hired";

/// An HR system's announcement of a hire, as it arrives (webhook or `hr.events`). On
/// the broker, where no token names the tenant, the `tenantid` extension attribute does.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HrEvent {
    pub specversion: String,
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default)]
    pub time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub tenantid: Option<String>,
    pub data: HiredData,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HiredData {
    pub employee: crate::rules::HiredEmployee,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HrEventError {
    #[error("not a CloudEvent of type {EMPLOYEE_HIRED}: {0}")]
    Malformed(String),
    #[error("specversion must be 1.0, not {0:?}")]
    SpecVersion(String),
    #[error("type must be {EMPLOYEE_HIRED}, not {0:?}")]
    Type(String),
    #[error("{0}")]
    Field(String),
    #[error("{0}")]
    Unstorable(crate::text::Unstorable),
}

impl HrEvent {
    /// Parses and checks an event; every refusal says what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, HrEventError> {
        let event: Self = crate::text::parse_message(bytes).map_err(|error| match error {
            crate::text::MessageError::Unstorable(unstorable) => {
                HrEventError::Unstorable(unstorable)
            }
            crate::text::MessageError::Malformed(error) => {
                HrEventError::Malformed(error.to_string())
            }
        })?;
        if event.specversion != SPEC_VERSION {
            return Err(HrEventError::SpecVersion(event.specversion));
        }
        if event.event_type != EMPLOYEE_HIRED {
            return Err(HrEventError::Type(event.event_type));
        }
        if event.id.trim().is_empty() || event.id.len() > 200 {
            return Err(HrEventError::Field("id must be 1 to 200 characters".into()));
        }
        if let Some((field, reason)) = event.data.employee.invalid_field() {
            return Err(HrEventError::Field(format!(
                "data.employee.{field} {reason}"
            )));
        }
        Ok(event)
    }
}

/// A CloudEvent in structured mode. Unknown attributes are refused, so a message that
/// merely looks like JSON never reaches the log half-understood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudEvent<T> {
    pub specversion: String,
    pub id: EventId,
    pub source: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub time: DateTime<Utc>,
    pub subject: String,
    pub datacontenttype: String,
    /// The W3C trace context of the work this event reports (CloudEvents' distributed
    /// tracing extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    pub data: T,
}

/// The payload of `com.provisioner.account.*`: one terminal outcome of one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountResult {
    pub tenant_id: TenantId,
    pub request_id: RequestId,
    pub integration_id: IntegrationId,
    pub employee_id: Option<EmployeeId>,
    pub state: RequestState,
    pub service: String,
    pub workspace: String,
    /// Who or what the account is for, as a person reads it (user name or email).
    pub target: String,
    pub attempts: i32,
    pub external_account_id: Option<String>,
    pub error: Option<RequestError>,
    /// The account in the inventory a success recorded; absent when none is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<AccountId>,
    /// How a success came to hold its account: `linked` when it took over the person's
    /// existing one; absent when it holds none or before linking existed (`created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_origin: Option<AccountOrigin>,
}

impl CloudEvent<AccountResult> {
    pub fn account_result(id: EventId, time: DateTime<Utc>, data: AccountResult) -> Self {
        let event_type = if data.state == RequestState::Succeeded {
            ACCOUNT_CREATED
        } else {
            ACCOUNT_FAILED
        };
        Self {
            specversion: SPEC_VERSION.into(),
            id,
            source: SOURCE.into(),
            event_type: event_type.into(),
            time,
            subject: data.request_id.to_string(),
            datacontenttype: "application/json".into(),
            traceparent: None,
            data,
        }
    }
}

/// The body of a message on the requests queue. It names the request only: the row in
/// PostgreSQL is the truth, so a stale or duplicated message can do no harm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestMessage {
    pub tenant_id: TenantId,
    pub request_id: RequestId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(state: RequestState) -> AccountResult {
        AccountResult {
            tenant_id: TenantId::new(),
            request_id: RequestId::new(),
            integration_id: IntegrationId::new(),
            employee_id: None,
            state,
            service: "scim".into(),
            workspace: "acme".into(),
            target: "ada".into(),
            attempts: 1,
            external_account_id: Some("u-1".into()),
            error: None,
            account_id: None,
            account_origin: None,
        }
    }

    #[test]
    fn a_success_is_an_account_created_event_with_the_required_attributes() {
        let event =
            CloudEvent::account_result(EventId::new(), Utc::now(), result(RequestState::Succeeded));
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["specversion"], "1.0");
        assert_eq!(value["type"], ACCOUNT_CREATED);
        for attribute in ["id", "source", "time", "subject", "data"] {
            assert!(value.get(attribute).is_some(), "missing {attribute}");
        }
        let back: CloudEvent<AccountResult> = serde_json::from_value(value).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn any_other_end_is_an_account_failed_event() {
        for state in [
            RequestState::Failed,
            RequestState::Rejected,
            RequestState::Dead,
        ] {
            let event = CloudEvent::account_result(EventId::new(), Utc::now(), result(state));
            assert_eq!(event.event_type, ACCOUNT_FAILED);
        }
    }

    #[test]
    fn a_hire_event_parses_and_bad_ones_say_why() {
        let good = json!({"specversion": "1.0", "id": "evt-1", "source": "urn:hr", "type": EMPLOYEE_HIRED,
            "data": {"employee": {"email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace", "department": "R&D"}}});
        let event = HrEvent::parse(good.to_string().as_bytes()).unwrap();
        assert_eq!(event.data.employee.department.as_deref(), Some("R&D"));
        let mut wrong_type = good.clone();
        wrong_type["type"] = json!("com.example.fired");
        assert!(matches!(
            HrEvent::parse(wrong_type.to_string().as_bytes()),
            Err(HrEventError::Type(_))
        ));
        let mut bad_email = good.clone();
        bad_email["data"]["employee"]["email"] = json!("ada");
        assert!(HrEvent::parse(bad_email.to_string().as_bytes())
            .unwrap_err()
            .to_string()
            .contains("email"));
        assert!(matches!(
            HrEvent::parse(b"[]"),
            Err(HrEventError::Malformed(_))
        ));
    }

    #[test]
    fn a_request_message_with_extra_fields_is_refused() {
        let raw = json!({"tenant_id": TenantId::new(), "request_id": RequestId::new(), "x": 1});
        assert!(serde_json::from_value::<RequestMessage>(raw).is_err());
    }
}
