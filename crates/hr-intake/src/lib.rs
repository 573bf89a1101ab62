//! HR intake: an HR system announces a hire (`com.provisioner.hr.employee.hired`, on
//! the `hr.events` exchange or through the signed webhook); the employee record is
//! created or updated, and the tenant's provisioning rules give one request per account.
//! Each event id is handled once per tenant, however often it arrives.

mod plan;
pub mod signature;

pub use plan::PlannedRequest;

use std::sync::Arc;

use provisioner_broker::{ack, run_consumer, set_aside, ConsumerSpec, Delivery, Publisher};
use provisioner_connectors::Catalog;
use provisioner_core::event::HrEvent;
use provisioner_core::rules::HiredEmployee;
use provisioner_core::trace::TraceParent;
use provisioner_core::TenantId;
use provisioner_requests::Requests;
use provisioner_store::{through_outages, Store, StoreError};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Clone)]
pub struct Intake {
    store: Store,
    publisher: Arc<Publisher>,
    requests: Requests,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeOutcome {
    /// The event id was handled before; nothing changed.
    Duplicate,
    Recorded {
        employee_id: Uuid,
        queued: usize,
        failed: usize,
    },
}

impl Intake {
    pub fn new(store: Store, publisher: Arc<Publisher>, catalog: Arc<Catalog>) -> Self {
        let requests = Requests::new(store.clone(), publisher.clone(), catalog);
        Self {
            store,
            publisher,
            requests,
        }
    }

    /// Records the hire and its requests in one transaction, then publishes the queued
    /// requests (the relay covers a publish that fails).
    pub async fn hire(
        &self,
        tenant_id: TenantId,
        event: &HrEvent,
    ) -> Result<IntakeOutcome, StoreError> {
        let employee = &event.data.employee;
        let planned = self.preview(tenant_id, employee).await?;
        let mut writes = self.store.begin().await?;
        let Some(employee_id) = writes
            .record_hire(tenant_id, &event.id, &event.source, employee)
            .await?
        else {
            tracing::info!(event_id = %event.id, "hire event seen before; nothing to do");
            return Ok(IntakeOutcome::Duplicate);
        };
        let trace = TraceParent::new_root();
        let prepared = planned
            .into_iter()
            .map(|request| request.prepare(&event.id, employee_id, &trace))
            .collect();
        let stored = self
            .requests
            .submit_all(tenant_id, writes, prepared)
            .await?;
        let queued = stored.accepted.len();
        let failed = stored.failed;
        tracing::info!(event_id = %event.id, employee_id = %employee_id, queued, failed, "hire recorded");
        Ok(IntakeOutcome::Recorded {
            employee_id: employee_id.as_uuid(),
            queued,
            failed,
        })
    }

    /// What the rules would give this employee, without recording anything.
    pub async fn preview(
        &self,
        tenant_id: TenantId,
        employee: &HiredEmployee,
    ) -> Result<Vec<PlannedRequest>, StoreError> {
        plan::plan(&self.store, &self.requests, tenant_id, employee).await
    }

    /// Consumes hires published on the `hr.events` exchange. There no token names the
    /// tenant, so the event's `tenantid` extension attribute does.
    pub async fn run(self, spec: ConsumerSpec, shutdown: CancellationToken) {
        let topology = self.publisher.topology().clone();
        run_consumer(spec, topology, shutdown, move |delivery| {
            let intake = self.clone();
            async move { intake.handle(delivery).await }
        })
        .await;
        tracing::info!("hr intake stopped");
    }

    async fn handle(&self, delivery: Delivery) {
        let event = match HrEvent::parse(&delivery.data) {
            Ok(event) => event,
            Err(error) => return set_aside(&self.publisher, &delivery, &error.to_string()).await,
        };
        let Some(tenant_id) = event
            .tenantid
            .as_deref()
            .and_then(|t| t.parse::<TenantId>().ok())
        else {
            let reason = "the event has no tenantid attribute naming a tenant (a UUID)";
            return set_aside(&self.publisher, &delivery, reason).await;
        };
        match through_outages("hire", || self.hire(tenant_id, &event)).await {
            Ok(_) => ack(&delivery).await,
            Err(StoreError::MissingReference(_)) => {
                let reason = format!("tenant {tenant_id} does not exist");
                set_aside(&self.publisher, &delivery, &reason).await;
            }
            Err(error) => {
                let reason = format!("the hire could not be recorded: {error}");
                set_aside(&self.publisher, &delivery, &reason).await;
            }
        }
    }
}
