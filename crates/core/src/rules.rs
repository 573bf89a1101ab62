//! Provisioning rules: which employees get which accounts when an HR system announces a
//! hire, and how their account fields are written from the employee record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a rule matches on; a field left out matches everyone. Values compare without
/// regard to case, the way HR systems are inconsistent about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employment_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// What the HR system told us about a person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HiredEmployee {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub employment_type: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
}

impl HiredEmployee {
    /// The first field an HR system may not send as it is, as `(field, reason)`: the
    /// intake refuses such an event, and a dry run such an employee, alike. Lengths
    /// count characters, as `schemas/events/employee-hired.json` does.
    pub fn invalid_field(&self) -> Option<(&'static str, &'static str)> {
        let email_ok = self.email.chars().count() <= 254
            && self.email.split('@').count() == 2
            && self.email.split('@').all(|part| !part.is_empty());
        if !email_ok {
            return Some(("email", "must be an email address"));
        }
        [
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
        ]
        .into_iter()
        .find(|(_, value)| value.trim().is_empty() || value.chars().count() > 200)
        .map(|(name, _)| (name, "must be 1 to 200 characters"))
    }
}

impl RuleMatch {
    pub fn matches(&self, employee: &HiredEmployee) -> bool {
        let same = |wanted: &Option<String>, actual: &Option<String>| match wanted {
            None => true,
            Some(wanted) => actual
                .as_deref()
                .is_some_and(|actual| actual.trim().eq_ignore_ascii_case(wanted.trim())),
        };
        same(&self.department, &employee.department)
            && same(&self.employment_type, &employee.employment_type)
            && same(&self.location, &employee.location)
    }
}

/// The placeholders a template may use, from the employee record.
pub fn template_facts(employee: &HiredEmployee) -> BTreeMap<&'static str, String> {
    let local = employee
        .email
        .split('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut facts = BTreeMap::from([
        ("email", employee.email.clone()),
        ("email_local", local),
        ("given_name", employee.given_name.clone()),
        ("family_name", employee.family_name.clone()),
        (
            "display_name",
            format!("{} {}", employee.given_name, employee.family_name),
        ),
    ]);
    for (name, value) in [
        ("department", &employee.department),
        ("employment_type", &employee.employment_type),
        ("location", &employee.location),
    ] {
        facts.insert(name, value.clone().unwrap_or_default());
    }
    facts
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("{field}: unknown placeholder {{{{{name}}}}}; known are {known}")]
    UnknownPlaceholder {
        field: String,
        name: String,
        known: String,
    },
    #[error("{field}: a {{{{ has no closing }}}}")]
    Unclosed { field: String },
    #[error("{field}: templates hold strings only")]
    NotAString { field: String },
}

/// Writes account fields from a template such as `{"user_name": "{{email_local}}"}`.
pub fn render_account(
    template: &Map<String, Value>,
    facts: &BTreeMap<&'static str, String>,
) -> Result<Map<String, Value>, TemplateError> {
    let mut account = Map::new();
    for (field, value) in template {
        let Value::String(text) = value else {
            return Err(TemplateError::NotAString {
                field: field.clone(),
            });
        };
        account.insert(field.clone(), Value::String(render(field, text, facts)?));
    }
    Ok(account)
}

fn render(
    field: &str,
    text: &str,
    facts: &BTreeMap<&'static str, String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| TemplateError::Unclosed {
            field: field.to_owned(),
        })?;
        let name = after[..end].trim();
        let value = facts
            .get(name)
            .ok_or_else(|| TemplateError::UnknownPlaceholder {
                field: field.to_owned(),
                name: name.to_owned(),
                known: facts.keys().copied().collect::<Vec<_>>().join(", "),
            })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grace() -> HiredEmployee {
        HiredEmployee {
            email: "grace.hopper@example.com".into(),
            given_name: "Grace".into(),
            family_name: "Hopper".into(),
            department: Some("Engineering".into()),
            employment_type: Some("full_time".into()),
            location: None,
        }
    }

    #[test]
    fn an_empty_match_takes_everyone_and_fields_compare_without_case() {
        assert!(RuleMatch::default().matches(&grace()));
        let engineering = RuleMatch {
            department: Some("engineering".into()),
            ..RuleMatch::default()
        };
        assert!(engineering.matches(&grace()));
        let sales = RuleMatch {
            department: Some("Sales".into()),
            ..RuleMatch::default()
        };
        assert!(!sales.matches(&grace()));
        let berlin = RuleMatch {
            location: Some("Berlin".into()),
            ..RuleMatch::default()
        };
        assert!(
            !berlin.matches(&grace()),
            "an unknown location matches no location rule"
        );
    }

    #[test]
    fn a_template_is_written_from_the_employee() {
        let template = json!({"user_name": "{{email_local}}", "email": "{{ email }}", "display_name": "{{given_name}} {{family_name}} ({{department}})"});
        let account =
            render_account(template.as_object().unwrap(), &template_facts(&grace())).unwrap();
        assert_eq!(
            Value::Object(account),
            json!({"user_name": "grace.hopper", "email": "grace.hopper@example.com",
                   "display_name": "Grace Hopper (Engineering)"})
        );
    }

    #[test]
    fn a_template_with_an_unknown_or_broken_placeholder_is_refused() {
        let facts = template_facts(&grace());
        let unknown = json!({"user_name": "{{nickname}}"});
        let error = render_account(unknown.as_object().unwrap(), &facts).unwrap_err();
        assert!(error.to_string().contains("{{nickname}}"), "{error}");
        let unclosed = json!({"user_name": "{{email"});
        assert!(matches!(
            render_account(unclosed.as_object().unwrap(), &facts),
            Err(TemplateError::Unclosed { .. })
        ));
        let number = json!({"user_name": 7});
        assert!(matches!(
            render_account(number.as_object().unwrap(), &facts),
            Err(TemplateError::NotAString { .. })
        ));
    }
}
