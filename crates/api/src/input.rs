//! Reading client input into typed values, collecting every field error at once so a
//! person fixes a form in one round trip.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use chrono::{DateTime, Utc};
use provisioner_core::text::find_unstorable;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::problem::{FieldError, Problem};

/// A JSON object body. Anything else — another content type, invalid JSON, an array, a
/// string PostgreSQL could not store — is refused with a problem that says which.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(Problem::unsupported_media_type());
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| Problem::payload_too_large())?;
        let value = serde_json::from_slice::<Value>(&bytes)
            .map_err(|error| Problem::malformed_body(error.to_string()))?;
        // Every string of every body, keys included, before any handler sees it.
        if let Some(unstorable) = find_unstorable(&value) {
            return Err(Problem::invalid_field(&unstorable.field, unstorable.reason));
        }
        match value {
            Value::Object(object) => Ok(Self(object)),
            _ => Err(Problem::malformed_body("the body must be a JSON object")),
        }
    }
}

/// Like [`JsonObject`], but an empty body stands for an empty object: for actions whose
/// every field is optional.
pub struct OptionalJsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonObject {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let empty = request
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
            || (request.headers().get(CONTENT_TYPE).is_none()
                && !request
                    .headers()
                    .contains_key(axum::http::header::TRANSFER_ENCODING));
        if empty {
            return Ok(Self(Map::new()));
        }
        JsonObject::from_request(request, state)
            .await
            .map(|JsonObject(object)| Self(object))
    }
}

/// Takes fields out of a JSON object, remembering what was wrong with each.
pub struct Fields {
    object: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Fields {
    pub fn new(object: Map<String, Value>) -> Self {
        Self {
            object,
            errors: Vec::new(),
        }
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        self.object.remove(name).filter(|v| !v.is_null())
    }

    /// Whether the body names the field at all, `null` included: on an update, absent
    /// keeps a value and `null` clears it.
    pub fn names(&self, name: &str) -> bool {
        self.object.contains_key(name)
    }

    pub fn has_error(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    pub fn error(&mut self, field: &str, detail: impl Into<String>) {
        self.errors.push(FieldError::new(field, detail));
    }

    pub fn required_string(&mut self, name: &str, max_len: usize) -> Option<String> {
        let value = self.optional_string(name, max_len);
        if value.is_none() && !self.has_error(name) {
            self.error(name, "is required");
        }
        value
    }

    pub fn optional_string(&mut self, name: &str, max_len: usize) -> Option<String> {
        match self.take(name)? {
            Value::String(s) if s.trim().is_empty() => {
                self.error(name, "must not be empty");
                None
            }
            Value::String(s) if s.chars().count() > max_len => {
                self.error(name, format!("must be at most {max_len} characters"));
                None
            }
            Value::String(s) => Some(s.trim().to_owned()),
            other => {
                self.error(name, format!("must be a string, not {}", json_type(&other)));
                None
            }
        }
    }

    pub fn required_uuid(&mut self, name: &str) -> Option<Uuid> {
        let value = self.optional_uuid(name);
        if value.is_none() && !self.has_error(name) {
            self.error(name, "is required");
        }
        value
    }

    pub fn optional_uuid(&mut self, name: &str) -> Option<Uuid> {
        match self.take(name)? {
            Value::String(s) => match Uuid::parse_str(&s) {
                Ok(id) => Some(id),
                Err(_) => {
                    self.error(name, "must be a UUID");
                    None
                }
            },
            other => {
                self.error(
                    name,
                    format!("must be a UUID string, not {}", json_type(&other)),
                );
                None
            }
        }
    }

    /// A JSON array of at most `max_items` values.
    pub fn required_list(&mut self, name: &str, max_items: usize) -> Option<Vec<Value>> {
        match self.take(name) {
            None => {
                self.error(name, "is required");
                None
            }
            Some(Value::Array(items)) if items.is_empty() => {
                self.error(name, "must name at least one item");
                None
            }
            Some(Value::Array(items)) if items.len() > max_items => {
                self.error(name, format!("must have at most {max_items} items"));
                None
            }
            Some(Value::Array(items)) => Some(items),
            Some(other) => {
                self.error(name, format!("must be a list, not {}", json_type(&other)));
                None
            }
        }
    }

    /// A list of non-empty strings, each at most 100 characters.
    pub fn required_string_list(&mut self, name: &str, max_items: usize) -> Option<Vec<String>> {
        let Some(value) = self.take(name) else {
            self.error(name, "is required");
            return None;
        };
        let Value::Array(items) = value else {
            self.error(
                name,
                format!("must be a list of strings, not {}", json_type(&value)),
            );
            return None;
        };
        if items.len() > max_items {
            self.error(name, format!("must have at most {max_items} items"));
            return None;
        }
        let mut strings = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            match item {
                Value::String(s) if !s.trim().is_empty() && s.len() <= 100 => strings.push(s),
                other => self.error(
                    &format!("{name}.{index}"),
                    format!("must be a non-empty string, not {}", json_type(&other)),
                ),
            }
        }
        Some(strings)
    }

    /// A whole number within `range`.
    pub fn optional_integer(
        &mut self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        match self.take(name)? {
            Value::Number(n) if whole(&n).is_some_and(|n| range.contains(&n)) => whole(&n),
            other => {
                self.error(
                    name,
                    format!(
                        "must be a whole number from {} to {}, not {other}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// A number within `range`.
    pub fn optional_number(
        &mut self,
        name: &str,
        range: std::ops::RangeInclusive<f64>,
    ) -> Option<f64> {
        match self.take(name)? {
            Value::Number(n) => match n.as_f64() {
                Some(n) if range.contains(&n) && n > 0.0 => Some(n),
                _ => {
                    self.error(
                        name,
                        format!("must be a number above 0 and at most {}", range.end()),
                    );
                    None
                }
            },
            other => {
                self.error(name, format!("must be a number, not {}", json_type(&other)));
                None
            }
        }
    }

    pub fn optional_bool(&mut self, name: &str) -> Option<bool> {
        match self.take(name)? {
            Value::Bool(b) => Some(b),
            other => {
                self.error(
                    name,
                    format!("must be true or false, not {}", json_type(&other)),
                );
                None
            }
        }
    }

    pub fn optional_time(&mut self, name: &str) -> Option<DateTime<Utc>> {
        let raw = self.optional_string(name, 64)?;
        match DateTime::parse_from_rfc3339(&raw) {
            Ok(time) => Some(time.with_timezone(&Utc)),
            Err(_) => {
                self.error(
                    name,
                    "must be an RFC 3339 time such as 2026-01-31T09:00:00Z",
                );
                None
            }
        }
    }

    pub fn optional_object(&mut self, name: &str) -> Option<Map<String, Value>> {
        match self.take(name)? {
            Value::Object(object) => Some(object),
            other => {
                self.error(
                    name,
                    format!("must be an object, not {}", json_type(&other)),
                );
                None
            }
        }
    }

    pub fn required_object(&mut self, name: &str) -> Option<Map<String, Value>> {
        let value = self.optional_object(name);
        if value.is_none() && !self.has_error(name) {
            self.error(name, "is required");
        }
        value
    }

    /// Fails with every error found, including fields this endpoint does not know (a
    /// client that sends `tenant_id` or `state` learns they are not its to set).
    pub fn finish(mut self) -> Result<(), Problem> {
        let mut unknown: Vec<String> = self.object.keys().cloned().collect();
        unknown.sort();
        for name in unknown {
            self.error(&name, "is not a field of this request");
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::invalid_fields(self.errors))
        }
    }
}

/// The dotted name of a field inside `parent`, from the JSON Pointer a schema validator
/// gives (`/user_name` in `account` is `account.user_name`).
pub fn nested_field(parent: &str, pointer: &str) -> String {
    format!(
        "{parent}{}",
        pointer.trim_end_matches('/').replace('/', ".")
    )
}

/// JSON Schema's integer: `3.0` is one as much as `3`.
fn whole(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
