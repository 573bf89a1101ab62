//! Fault injection for the kill-point tests: `PROVISIONER_FREEZE_AT` names a point of
//! an attempt where the worker stops dead (it logs, then waits forever), so that a test
//! can SIGKILL it exactly there. Unset, as it always is in production, it costs one
//! comparison.

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FreezePoint {
    /// Claimed, the SaaS not yet called.
    BeforeCall,
    /// The SaaS answered; nothing committed yet.
    AfterCall,
    /// The outcome is committed; the message not yet acked.
    AfterCommit,
}

impl FreezePoint {
    fn name(self) -> &'static str {
        match self {
            Self::BeforeCall => "before_call",
            Self::AfterCall => "after_call",
            Self::AfterCommit => "after_commit",
        }
    }

    fn configured() -> Option<Self> {
        static CONFIGURED: OnceLock<Option<FreezePoint>> = OnceLock::new();
        *CONFIGURED.get_or_init(|| {
            let wanted = std::env::var("PROVISIONER_FREEZE_AT").ok()?;
            [Self::BeforeCall, Self::AfterCall, Self::AfterCommit]
                .into_iter()
                .find(|point| point.name() == wanted)
        })
    }

    pub(crate) async fn here(self) {
        if Self::configured() == Some(self) {
            tracing::warn!(point = self.name(), "frozen at a fault-injection point");
            std::future::pending::<()>().await;
        }
    }
}
