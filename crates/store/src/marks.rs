//! Confirmed publishes, recorded in groups. A mark only spares the relay a re-send, so it
//! may wait for the statement in flight; meanwhile every other mark that comes joins the
//! next one. Under load that is one transaction for many requests instead of one each.

use std::mem;

use provisioner_core::{EventId, RequestId};
use uuid::Uuid;

use crate::{Store, StoreError};

/// Items waiting to be marked, and the right to write them: whoever holds `writing`
/// writes everything queued so far.
#[derive(Debug)]
struct MarkQueue<T> {
    queued: std::sync::Mutex<Vec<T>>,
    writing: tokio::sync::Mutex<()>,
}

impl<T> Default for MarkQueue<T> {
    fn default() -> Self {
        Self {
            queued: std::sync::Mutex::new(Vec::new()),
            writing: tokio::sync::Mutex::new(()),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct PublishMarks {
    requests: MarkQueue<Uuid>,
    /// (request, result event): a replay gives a request a new event, which an old
    /// event's confirmation must not mark.
    results: MarkQueue<(Uuid, Uuid)>,
}

impl<T> MarkQueue<T> {
    /// Returns once `item` is written, by this call or by one that took it along. A
    /// failed group is reported only to the call that wrote it: the relay re-sends what
    /// stays unmarked, and a second copy is harmless.
    async fn mark<F>(&self, item: T, write: F) -> Result<(), StoreError>
    where
        F: AsyncFnOnce(Vec<T>) -> Result<(), StoreError>,
    {
        self.queued.lock().expect("mark queue poisoned").push(item);
        let _writing = self.writing.lock().await;
        let group = mem::take(&mut *self.queued.lock().expect("mark queue poisoned"));
        if group.is_empty() {
            return Ok(());
        }
        write(group).await
    }
}

impl Store {
    /// Records that the broker confirmed request `id`'s message.
    pub async fn mark_request_published(&self, id: RequestId) -> Result<(), StoreError> {
        self.marks
            .requests
            .mark(id.as_uuid(), async |ids| {
                sqlx::query(
                    "UPDATE provisioning_requests SET published_at = now()
                     WHERE id = ANY($1) AND published_at IS NULL",
                )
                .bind(ids)
                .execute(&self.pool)
                .await?;
                Ok(())
            })
            .await
    }

    /// Records that the broker confirmed request `id`'s result event `event_id`.
    pub async fn mark_result_published(
        &self,
        id: RequestId,
        event_id: EventId,
    ) -> Result<(), StoreError> {
        self.marks
            .results
            .mark((id.as_uuid(), event_id.as_uuid()), async |pairs| {
                let (ids, events): (Vec<Uuid>, Vec<Uuid>) = pairs.into_iter().unzip();
                sqlx::query(
                    "UPDATE provisioning_requests p SET result_published_at = now()
                     FROM unnest($1::uuid[], $2::uuid[]) AS m(id, event_id)
                     WHERE p.id = m.id AND p.result_event_id = m.event_id
                       AND p.result_published_at IS NULL",
                )
                .bind(ids)
                .bind(events)
                .execute(&self.pool)
                .await?;
                Ok(())
            })
            .await
    }
}
