//! A worker's deliveries that wait for their call slot. A wait of a couple of seconds is
//! always spent in the worker. A longer one is too, while at most half the worker's
//! prefetch is waiting: a request that keeps its place in the worker does not risk
//! coming back from the broker late for its slot behind a burst, and the other half
//! keeps requests for other integrations flowing. Beyond that, the broker's delay
//! queues hold the wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Always waited out in the worker.
pub(crate) const SHORT_WAIT: Duration = Duration::from_secs(2);
/// Waited out in the worker while it has seats free.
pub(crate) const LONG_WAIT: Duration = Duration::from_secs(10);

/// No seats for long waits until [`WaitingRoom::set_prefetch`] says how many deliveries
/// the worker holds.
#[derive(Debug, Default)]
pub(crate) struct WaitingRoom {
    waiting: AtomicUsize,
    seats: AtomicUsize,
}

/// A delivery's place in the waiting room, given back when dropped.
pub(crate) struct Seat<'a>(&'a AtomicUsize);

impl Drop for Seat<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl WaitingRoom {
    /// Seats for half of `prefetch` deliveries.
    pub(crate) fn set_prefetch(&self, prefetch: u16) {
        self.seats
            .store(usize::from(prefetch / 2), Ordering::Relaxed);
    }

    /// A seat for a wait of `wait`, or `None` when the wait belongs in the broker.
    pub(crate) fn seat(&self, wait: Duration) -> Option<Seat<'_>> {
        if wait > LONG_WAIT {
            return None;
        }
        let before = self.waiting.fetch_add(1, Ordering::Relaxed);
        let seat = Seat(&self.waiting);
        (wait <= SHORT_WAIT || before < self.seats.load(Ordering::Relaxed)).then_some(seat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_waits_always_get_a_seat_and_long_ones_only_while_seats_are_free() {
        let room = WaitingRoom::default();
        room.set_prefetch(4);
        let long = Duration::from_secs(5);
        let first = room.seat(long);
        let second = room.seat(long);
        assert!(first.is_some() && second.is_some());
        assert!(room.seat(long).is_none(), "two of four are waiting already");
        assert!(room.seat(SHORT_WAIT).is_some());
        drop(first);
        assert!(room.seat(long).is_some());
        assert!(room.seat(LONG_WAIT + Duration::from_millis(1)).is_none());
    }
}
