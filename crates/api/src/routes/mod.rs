pub mod accounts;
pub mod employees;
pub mod health;
pub mod hr;
pub mod integrations;
pub mod log;
pub mod replays;
pub mod requests;
pub mod rules;
pub mod services;
pub mod tokens;
pub mod tuning;

use uuid::Uuid;

use crate::problem::Problem;

/// An id in a path that is not even a UUID names nothing that exists.
pub fn path_id(raw: &str, what: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(raw).map_err(|_| Problem::not_found(what))
}
