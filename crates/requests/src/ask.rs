//! What a caller asks for, and the answers it can get.

use provisioner_connectors::FieldError;
use provisioner_core::rules::HiredEmployee;
use provisioner_core::trace::TraceParent;
use provisioner_core::{EmployeeId, IntegrationId, RequestId, RequestState};
use provisioner_store::StoreError;
use serde_json::{Map, Value};

/// What is to be done to the account. Every operation on an account comes in as an ask;
/// so far accounts can only be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
}

/// Whose account it is, as far as the caller knows.
#[derive(Debug, Clone)]
pub enum Employee {
    /// Nobody on record: the account fields must say everything.
    Unnamed,
    /// An employee on record in the tenant, whose record fills missing fields.
    Stored(EmployeeId),
    /// An employee as an HR event describes them, recorded (`id`) or not yet.
    Hired {
        id: Option<EmployeeId>,
        employee: HiredEmployee,
    },
}

#[derive(Debug, Clone)]
pub struct Ask {
    pub action: Action,
    pub integration_id: IntegrationId,
    pub employee: Employee,
    /// The account fields the caller gave; `None` when it gave none at all.
    pub account: Option<Map<String, Value>>,
    pub idempotency_key: Option<String>,
    /// A digest of what the caller sent, so a reused idempotency key with another body
    /// is told apart from an honest retry.
    pub request_hash: Vec<u8>,
    /// The trace the request is accepted under; its message is published with it.
    pub trace: TraceParent,
}

/// The request is durable: committed in the outbox, published or about to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub request_id: RequestId,
    pub state: RequestState,
    /// The service whose queue the request goes to.
    pub service: String,
    /// False when the idempotency key and body were seen before and the first request
    /// stands.
    pub fresh: bool,
}

/// Why an ask cannot be accepted. Several can hold at once; each names its part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No integration with this id in the tenant (another tenant's looks the same).
    UnknownIntegration,
    /// The integration's service cannot provision accounts (yet).
    NotProvisionable {
        service: String,
        name: String,
        workspace: String,
    },
    /// No employee with this id in the tenant.
    UnknownEmployee,
    /// No account fields, and no employee whose record could fill them.
    AccountRequired,
    /// The account does not fit the service's schema; one error per field.
    InvalidFields(Vec<FieldError>),
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the request was refused: {0:?}")]
    Refused(Vec<Refusal>),
    #[error("this idempotency key was already used with a different body")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}
