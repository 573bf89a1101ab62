//! Account and credential fields checked against a service's JSON Schema, with one
//! message per failing field that a person can act on (DESIGN.md promise 7).

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, ValidationError, Validator};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One failing field: a JSON Pointer into the checked object (`/user_name`; `""` for the
/// object itself) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub(crate) fn whole(message: String) -> Self {
        Self {
            field: String::new(),
            message,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the JSON Schema of a service does not compile")]
pub(crate) struct InvalidSchema(#[source] ValidationError<'static>);

#[derive(Debug)]
pub(crate) struct CompiledSchema {
    validator: Validator,
    /// The declared properties, to tell a person which fields exist.
    known: Vec<String>,
    /// Values are secrets (credentials), so messages never quote them.
    secret: bool,
}

impl CompiledSchema {
    pub(crate) fn compile(schema: &Value, secret: bool) -> Result<Self, InvalidSchema> {
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            // Formats are annotations only by default in 2020-12; an account with a
            // malformed email must be refused here, not by the SaaS after a retry.
            .should_validate_formats(true)
            .build(schema)
            .map_err(InvalidSchema)?;
        let known = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default();
        Ok(Self {
            validator,
            known,
            secret,
        })
    }

    pub(crate) fn validate(&self, instance: &Value) -> Result<(), Vec<FieldError>> {
        let errors: Vec<FieldError> = self
            .validator
            .iter_errors(instance)
            .flat_map(|error| self.describe(&error))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn describe(&self, error: &ValidationError<'_>) -> Vec<FieldError> {
        let at = error.instance_path().as_str();
        let field_error = |field: String, message: String| FieldError { field, message };
        match error.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                vec![field_error(child(at, name), format!("{name} is required"))]
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
                .iter()
                .map(|name| {
                    let message = format!(
                        "{name} is not a field of this service; the fields are {}",
                        self.known.join(", ")
                    );
                    field_error(child(at, name), message)
                })
                .collect(),
            kind => vec![field_error(at.to_owned(), self.message(error, kind))],
        }
    }

    fn message(&self, error: &ValidationError<'_>, kind: &ValidationErrorKind) -> String {
        match kind {
            ValidationErrorKind::MinLength { limit: 1 } => "must not be empty".into(),
            ValidationErrorKind::MinLength { limit } => {
                format!("must be at least {limit} characters long")
            }
            ValidationErrorKind::MaxLength { limit } => {
                format!("must be at most {limit} characters long")
            }
            ValidationErrorKind::Format { format } if format == "email" => {
                "must be an email address such as ada@example.com".into()
            }
            ValidationErrorKind::Format { format } => format!("must be a valid {format}"),
            ValidationErrorKind::Type {
                kind: TypeKind::Single(expected),
            } => format!("must be a {expected}"),
            _ if self.secret => error.masked().to_string(),
            _ => error.to_string(),
        }
    }
}

/// RFC 6901: `~` and `/` in a property name are escaped in a pointer.
fn child(parent: &str, name: &str) -> String {
    format!("{parent}/{}", name.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> CompiledSchema {
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["token"],
            "properties": {"token": {"type": "string", "minLength": 1}, "email": {"type": "string", "format": "email"}}
        });
        CompiledSchema::compile(&schema, true).unwrap()
    }

    #[test]
    fn every_failing_field_is_listed_with_a_pointer_and_a_sentence() {
        let errors = schema()
            .validate(&json!({"email": "nope", "extra": 1, "a/b": 2}))
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for expected in ["/token", "/email", "/extra", "/a~1b"] {
            assert!(
                fields.contains(&expected),
                "{expected} missing from {errors:?}"
            );
        }
        let token = errors.iter().find(|e| e.field == "/token").unwrap();
        assert_eq!(token.message, "token is required");
    }

    #[test]
    fn secret_values_never_appear_in_messages() {
        let errors = schema().validate(&json!({"token": 12345})).unwrap_err();
        assert_eq!(errors[0].field, "/token");
        assert!(!errors[0].message.contains("12345"), "{errors:?}");
    }

    #[test]
    fn a_valid_object_passes() {
        assert!(schema()
            .validate(&json!({"token": "t", "email": "a@example.com"}))
            .is_ok());
    }
}
