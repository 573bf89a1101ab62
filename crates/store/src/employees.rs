use chrono::{DateTime, Utc};
use provisioner_core::{EmployeeId, TenantId};
use serde::Serialize;
use uuid::Uuid;

use crate::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewEmployee {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub department: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Employee {
    pub id: EmployeeId,
    #[serde(skip)]
    pub tenant_id: TenantId,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub department: Option<String>,
    pub employment_type: Option<String>,
    pub location: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RawEmployee {
    id: Uuid,
    tenant_id: Uuid,
    email: String,
    given_name: String,
    family_name: String,
    department: Option<String>,
    employment_type: Option<String>,
    location: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<RawEmployee> for Employee {
    fn from(raw: RawEmployee) -> Self {
        Self {
            id: raw.id.into(),
            tenant_id: raw.tenant_id.into(),
            email: raw.email,
            given_name: raw.given_name,
            family_name: raw.family_name,
            department: raw.department,
            employment_type: raw.employment_type,
            location: raw.location,
            created_at: raw.created_at,
        }
    }
}

impl Store {
    pub async fn insert_employee(
        &self,
        tenant_id: TenantId,
        employee: &NewEmployee,
    ) -> Result<Employee, StoreError> {
        let row: RawEmployee = sqlx::query_as(
            "INSERT INTO employees (id, tenant_id, email, given_name, family_name, department)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(tenant_id.as_uuid())
        .bind(&employee.email)
        .bind(&employee.given_name)
        .bind(&employee.family_name)
        .bind(&employee.department)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    pub async fn employee(
        &self,
        tenant_id: TenantId,
        id: EmployeeId,
    ) -> Result<Option<Employee>, StoreError> {
        let row: Option<RawEmployee> =
            sqlx::query_as("SELECT * FROM employees WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Employee::from))
    }

    /// Every employee of the tenant, by family then given name, for people to pick from.
    pub async fn employees(&self, tenant_id: TenantId) -> Result<Vec<Employee>, StoreError> {
        let rows: Vec<RawEmployee> = sqlx::query_as(
            "SELECT * FROM employees WHERE tenant_id = $1
             ORDER BY lower(family_name), lower(given_name), email",
        )
        .bind(tenant_id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Employee::from).collect())
    }
}
