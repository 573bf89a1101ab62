//! The domain of provisioner: identifiers, request states, what a SaaS answer means,
//! the events that travel between components and the rules that need no I/O.

pub mod account;
pub mod cursor;
pub mod event;
mod hostile;
pub mod ids;
pub mod inventory;
pub mod outcome;
pub mod quarantine;
pub mod retry;
pub mod rules;
pub mod scope;
pub mod service_key;
pub mod state;
pub mod text;
pub mod trace;

pub use ids::{AccountId, EmployeeId, EventId, IntegrationId, RequestId, TenantId};
pub use inventory::{AccountOrigin, AccountState, RequestAction};
pub use outcome::{ConnectorFailure, ProvisionOutcome, RequestError};
pub use scope::Scope;
pub use service_key::{IntoServiceKey, InvalidServiceKey, ServiceKey};
pub use state::{Cause, IntegrationStatus, RequestState};
