//! Query strings and path parameters, checked for every route before any handler runs:
//! a value PostgreSQL cannot store, or one longer than any parameter has reason to be,
//! is refused here with the parameter named, so no endpoint can forget to. A query
//! parameter answers 400; a path parameter 404, as any path naming nothing does.

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{Query, RawPathParams, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use provisioner_core::text::unstorable;

use crate::problem::Problem;

/// Longer than any id, time, filter or cursor the API takes.
const MAX_PARAMETER_CHARS: usize = 1000;

pub(crate) async fn checked(
    path: Result<RawPathParams, RawPathParamsRejection>,
    request: Request,
    next: Next,
) -> Response {
    match refusal(path, &request) {
        Some(problem) => problem.into_response(),
        None => next.run(request).await,
    }
}

fn refusal(
    path: Result<RawPathParams, RawPathParamsRejection>,
    request: &Request,
) -> Option<Problem> {
    match path {
        Ok(params) => {
            let refused = params.iter().find_map(|(name, value)| {
                refusal_of(value).map(|reason| Problem::bad_path_parameter(name, reason))
            });
            if refused.is_some() {
                return refused;
            }
        }
        Err(RawPathParamsRejection::InvalidUtf8InPathParam(rejection)) => {
            return Some(Problem::bad_path_parameter("path", rejection.body_text()));
        }
        // Routes without parameters, and the fallback.
        Err(_) => {}
    }
    request.uri().query()?;
    match Query::<Vec<(String, String)>>::try_from_uri(request.uri()) {
        Ok(Query(pairs)) => pairs.iter().find_map(|(name, value)| {
            refusal_of(name)
                .or_else(|| refusal_of(value))
                .map(|reason| Problem::bad_parameter(name, reason))
        }),
        Err(rejection) => Some(Problem::bad_parameter("query", rejection.body_text())),
    }
}

fn refusal_of(value: &str) -> Option<String> {
    if let Some(reason) = unstorable(value) {
        return Some(reason.to_owned());
    }
    (value.chars().count() > MAX_PARAMETER_CHARS)
        .then(|| format!("must be at most {MAX_PARAMETER_CHARS} characters"))
}
