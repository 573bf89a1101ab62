use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use provisioner_core::Scope;
use provisioner_store::{NewEmployee, StoreError};

use crate::auth::Caller;
use crate::input::{Fields, JsonObject};
use crate::problem::Problem;
use crate::routes::path_id;
use crate::views::{EmployeeList, EmployeeView};
use crate::AppState;

pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<EmployeeView>), Problem> {
    caller.require(Scope::RequestsWrite)?;
    let mut fields = Fields::new(body);
    let email = fields.required_string("email", 254);
    let given_name = fields.required_string("given_name", 200);
    let family_name = fields.required_string("family_name", 200);
    let department = fields.optional_string("department", 200);
    if let Some(email) = &email {
        if !looks_like_email(email) {
            fields.error("email", "must be an email address like name@example.com");
        }
    }
    fields.finish()?;
    let (Some(email), Some(given_name), Some(family_name)) = (email, given_name, family_name)
    else {
        return Err(Problem::internal());
    };
    let new = NewEmployee {
        email,
        given_name,
        family_name,
        department,
    };
    match state.store.insert_employee(caller.tenant_id, &new).await {
        Ok(employee) => Ok((StatusCode::CREATED, Json(employee.into()))),
        Err(StoreError::AlreadyExists(_)) => Err(Problem::conflict(format!(
            "an employee with email {} already exists",
            new.email
        ))),
        Err(error) => Err(error.into()),
    }
}

pub async fn show(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<EmployeeView>, Problem> {
    caller.require(Scope::RequestsWrite)?;
    let id = path_id(&id, "employee")?;
    let employee = state
        .store
        .employee(caller.tenant_id, id.into())
        .await?
        .ok_or_else(|| Problem::not_found("employee"))?;
    Ok(Json(employee.into()))
}

/// Every employee of the caller's tenant, for a console to pick from.
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<EmployeeList>, Problem> {
    caller.require(Scope::RequestsWrite)?;
    let employees = state.store.employees(caller.tenant_id).await?;
    let employees = employees.into_iter().map(Into::into).collect();
    Ok(Json(EmployeeList { employees }))
}

/// One `@` with something on each side and a dot in the domain: enough to catch typos;
/// the SaaS has the final word.
fn looks_like_email(raw: &str) -> bool {
    let mut parts = raw.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !raw.chars().any(char::is_whitespace)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_email;

    #[test]
    fn plausible_emails_pass_and_typos_do_not() {
        assert!(looks_like_email("ada@example.com"));
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(!looks_like_email(bad), "{bad} passed");
        }
    }
}
