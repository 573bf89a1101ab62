//! The store's side of the request state machine (`provisioner_core::state`): every
//! statement that moves a request binds the states it may move it from as computed by
//! [`RequestState::may_become`], so the SQL cannot allow what the machine does not.

use provisioner_core::{Cause, RequestState};

use crate::StoreError;

/// The names of the states `cause` may move a request from into `next`, for binding as
/// a `text[]` (`state = ANY($n)`).
pub(crate) fn from_states(
    next: RequestState,
    cause: Cause,
) -> Result<Vec<&'static str>, StoreError> {
    let names: Vec<&'static str> = RequestState::sources(next, cause)
        .into_iter()
        .map(RequestState::as_str)
        .collect();
    if names.is_empty() {
        return Err(StoreError::Unexpected(
            format!("no request may become {next} by {cause:?}").into(),
        ));
    }
    Ok(names)
}

/// The names of the states in which a request is still unfinished.
pub(crate) fn unfinished() -> Vec<&'static str> {
    RequestState::unfinished()
        .into_iter()
        .map(RequestState::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each statement that moves a request, with the states its SQL allowed it to
    /// move from before the lists came from the machine. Changing the machine changes
    /// this table, on purpose.
    #[test]
    fn each_statements_from_states_are_the_machines() {
        use Cause::*;
        use RequestState::*;
        let cases: [(&str, RequestState, Cause, &[&str]); 9] = [
            (
                "claim a request",
                InProgress,
                Claim,
                &["queued", "retrying"],
            ),
            ("take a claim over", InProgress, TakeOver, &["in_progress"]),
            ("renew a claim", InProgress, Renew, &["in_progress"]),
            ("finish: succeeded", Succeeded, Finish, &["in_progress"]),
            ("finish: dead", Dead, Finish, &["in_progress"]),
            ("park for a retry", Retrying, Park, &["in_progress"]),
            ("release a claim", Retrying, Release, &["in_progress"]),
            ("replay", Queued, Replay, &["failed", "rejected", "dead"]),
            ("finish: rejected", Rejected, Finish, &["in_progress"]),
        ];
        for (statement, next, cause, expected) in cases {
            assert_eq!(from_states(next, cause).unwrap(), expected, "{statement}");
        }
        assert_eq!(unfinished(), ["queued", "in_progress", "retrying"]);
    }

    #[test]
    fn a_move_the_machine_does_not_know_is_refused_before_any_sql() {
        assert!(from_states(RequestState::Queued, Cause::Finish).is_err());
        assert!(from_states(RequestState::Succeeded, Cause::Replay).is_err());
    }

    #[test]
    fn no_statement_that_moves_a_request_names_a_state_itself() {
        for (name, sql) in crate::claims::STATEMENTS
            .iter()
            .chain(crate::replays::STATEMENTS)
            .chain(crate::pacing::STATEMENTS)
            .chain(crate::outbox::STATEMENTS)
        {
            for state in RequestState::ALL {
                let quoted = format!("'{}'", state.as_str());
                assert!(!sql.contains(&quoted), "{name} names {quoted}");
            }
        }
    }
}
