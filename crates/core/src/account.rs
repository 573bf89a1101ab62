//! Account fields: a JSON object whose shape each service declares as a JSON Schema.

use serde_json::{Map, Value};

/// What the employee record knows about a person, used to fill account fields the
/// request leaves out.
#[derive(Debug, Clone)]
pub struct EmployeeFacts<'a> {
    pub email: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
}

/// Fills the account fields a request left out from the employee record: only fields the
/// service's schema declares, never overwriting what the person typed. A user name
/// defaults to the email, which is what most SaaS expect when nothing else is given.
pub fn fill_from_employee(
    account: &mut Map<String, Value>,
    employee: &EmployeeFacts<'_>,
    schema: &Value,
) {
    let declared = schema.get("properties").and_then(Value::as_object);
    let known = [
        ("email", employee.email),
        ("given_name", employee.given_name),
        ("family_name", employee.family_name),
        ("user_name", employee.email),
        (
            "display_name",
            &*format!("{} {}", employee.given_name, employee.family_name),
        ),
    ];
    for (field, value) in known {
        let is_declared = declared.is_some_and(|props| props.contains_key(field));
        let is_missing = account.get(field).is_none_or(Value::is_null);
        if is_declared && is_missing && !value.trim().is_empty() {
            account.insert(field.to_owned(), Value::String(value.trim().to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"properties": {"user_name": {}, "email": {}, "given_name": {}, "family_name": {}}})
    }

    fn ada() -> EmployeeFacts<'static> {
        EmployeeFacts {
            email: "ada@example.com",
            given_name: "Ada",
            family_name: "Lovelace",
        }
    }

    #[test]
    fn missing_fields_come_from_the_employee() {
        let mut account = Map::new();
        fill_from_employee(&mut account, &ada(), &schema());
        assert_eq!(
            Value::Object(account),
            json!({"user_name": "ada@example.com", "email": "ada@example.com",
                   "given_name": "Ada", "family_name": "Lovelace"})
        );
    }

    #[test]
    fn fields_the_person_typed_are_kept() {
        let mut account = json!({"user_name": "ada.l", "given_name": null})
            .as_object()
            .cloned()
            .unwrap();
        fill_from_employee(&mut account, &ada(), &schema());
        assert_eq!(account["user_name"], "ada.l");
        assert_eq!(account["given_name"], "Ada");
    }

    #[test]
    fn fields_the_service_does_not_declare_are_not_added() {
        let mut account = Map::new();
        fill_from_employee(&mut account, &ada(), &json!({"properties": {"email": {}}}));
        assert_eq!(Value::Object(account), json!({"email": "ada@example.com"}));
    }
}
