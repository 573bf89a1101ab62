//! `schemas/openapi.yaml` and `schemas/events/` as validators: an answer is matched to
//! its operation by method and path template, and its body is checked against the
//! schema the spec gives for that status and content type, `$ref`s resolved in place.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::{json, Value};

/// What the spec says about one answer, or why it says nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The answer is what the spec promises.
    Valid { operation: String },
    /// The request names no operation of the spec (the console, a wrong method, an
    /// unknown path): the spec makes no promise about it.
    Unspecified,
    /// The answer breaks the spec; the message names operation, status and error.
    Invalid(String),
}

pub struct Spec {
    document: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

/// The spec, parsed once per test process.
pub fn openapi() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::parse(include_str!("../../../schemas/openapi.yaml")))
}

impl Spec {
    pub fn parse(yaml: &str) -> Self {
        let document: Value = serde_norway::from_str(yaml).expect("openapi.yaml parses");
        Self {
            document,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// Checks one answer: `path` without its query, `content_type` as sent.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Verdict {
        let method = method.to_ascii_lowercase();
        let Some(template) = self.template(&method, path) else {
            return Verdict::Unspecified;
        };
        let operation = format!("{} {template}", method.to_uppercase());
        let fail = |why: String| Verdict::Invalid(format!("{operation} answered {status}: {why}"));
        let responses = &self.document["paths"][&template][&method]["responses"];
        let status_key = status.to_string();
        let class_key = format!("{}XX", status / 100);
        let (key, response) = [status_key.as_str(), class_key.as_str(), "default"]
            .into_iter()
            .find_map(|key| responses.get(key).map(|r| (key, r)))
            .map(|(key, r)| (key.to_owned(), self.resolve(r)))
            .unzip();
        let (Some(key), Some(response)) = (key, response) else {
            return fail("the spec lists no such status for this operation".into());
        };
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            if body.is_empty() {
                return Verdict::Valid { operation };
            }
            return fail("the spec promises no body, yet one came".into());
        };
        let media = content_type
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !content.contains_key(&media) {
            let promised: Vec<&String> = content.keys().collect();
            return fail(format!(
                "content type {media:?}, the spec promises {promised:?}"
            ));
        }
        if !media.ends_with("json") {
            return Verdict::Valid { operation };
        }
        let instance: Value = match serde_json::from_slice(body) {
            Ok(instance) => instance,
            Err(error) => return fail(format!("the body is not JSON: {error}")),
        };
        let pointer = self
            .ref_of_response(&template, &method, &key, &media)
            .unwrap_or_else(|| {
                format!(
                    "#/paths/{}/{method}/responses/{key}/content/{}/schema",
                    escape(&template),
                    escape(&media)
                )
            });
        let errors: Vec<String> = self
            .validator(&pointer)
            .iter_errors(&instance)
            .map(|error| format!("{} at {:?}", error, error.instance_path().as_str()))
            .collect();
        if errors.is_empty() {
            Verdict::Valid { operation }
        } else {
            fail(format!("{}; body {instance}", errors.join("; ")))
        }
    }

    /// Whether the spec accepts `body` as the JSON request body of the operation at
    /// `path`: every way it does not, or `None` when the path names no such operation.
    pub fn request_errors(&self, method: &str, path: &str, body: &Value) -> Option<Vec<String>> {
        let method = method.to_ascii_lowercase();
        let template = self.template(&method, path)?;
        let operation = &self.document["paths"][&template][&method];
        operation["requestBody"]["content"]["application/json"]
            .get("schema")
            .filter(|_| operation["requestBody"].get("$ref").is_none())?;
        let pointer = format!(
            "#/paths/{}/{method}/requestBody/content/application~1json/schema",
            escape(&template)
        );
        Some(
            self.validator(&pointer)
                .iter_errors(body)
                .map(|error| format!("{} at {:?}", error, error.instance_path().as_str()))
                .collect(),
        )
    }

    /// Whether the spec accepts `value` for the query parameter `name` of the operation
    /// at `path`: every way it does not, or `None` when there is no such parameter.
    pub fn query_errors(
        &self,
        method: &str,
        path: &str,
        name: &str,
        value: &str,
    ) -> Option<Vec<String>> {
        let method = method.to_ascii_lowercase();
        let template = self.template(&method, path)?;
        let parameters = self.document["paths"][&template][&method]["parameters"].as_array()?;
        let (index, parameter) = parameters.iter().enumerate().find(|(_, parameter)| {
            let parameter = self.resolve(parameter);
            parameter["in"] == "query" && parameter["name"] == name
        })?;
        let pointer = match parameter.get("$ref").and_then(Value::as_str) {
            Some(target) => format!("{target}/schema"),
            None => format!(
                "#/paths/{}/{method}/parameters/{index}/schema",
                escape(&template)
            ),
        };
        Some(
            self.validator(&pointer)
                .iter_errors(&json!(value))
                .map(|error| error.to_string())
                .collect(),
        )
    }

    /// A response given as a `$ref` to `components/responses` has its schema there.
    fn ref_of_response(
        &self,
        template: &str,
        method: &str,
        key: &str,
        media: &str,
    ) -> Option<String> {
        let raw = &self.document["paths"][template][method]["responses"][key];
        let target = raw.get("$ref")?.as_str()?;
        Some(format!("{target}/content/{}/schema", escape(media)))
    }

    /// The path template that `path` fills, preferring literal segments over `{id}`
    /// (so `/v1/provisioning-rules/test` is not taken for a rule id).
    fn template(&self, method: &str, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.document["paths"].as_object()?;
        paths
            .iter()
            .filter(|(_, item)| item.get(method).is_some())
            .filter_map(|(template, _)| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut holes = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') && part.ends_with('}') && !segment.is_empty() {
                        holes += 1;
                    } else if part != segment {
                        return None;
                    }
                }
                Some((holes, template.clone()))
            })
            .min()
            .map(|(_, template)| template)
    }

    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(target) => self
                .document
                .pointer(target.trim_start_matches('#'))
                .unwrap_or(&Value::Null),
            None => value,
        }
    }

    /// A validator of the schema at `pointer`, the whole document its root so that every
    /// `#/components/...` reference inside resolves.
    fn validator(&self, pointer: &str) -> Arc<Validator> {
        let mut cache = self.validators.lock().unwrap();
        cache
            .entry(pointer.to_owned())
            .or_insert_with(|| {
                let mut root = self.document.clone();
                root["$ref"] = json!(pointer);
                Arc::new(compile(&root))
            })
            .clone()
    }
}

/// Formats are only annotations in 2020-12 by default; the contract means them.
pub fn compile(schema: &Value) -> Validator {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .build(schema)
        .expect("the schema compiles")
}

/// A JSON Pointer token, percent-encoded as a URI fragment needs (`{id}` holds braces).
fn escape(segment: &str) -> String {
    segment
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// The event schemas, by the exchange the event is published on.
pub struct EventSchemas {
    pub request_message: Validator,
    pub account_result: Validator,
    pub employee_hired: Validator,
}

pub fn events() -> &'static EventSchemas {
    static EVENTS: OnceLock<EventSchemas> = OnceLock::new();
    EVENTS.get_or_init(|| {
        let parse = |raw: &str| compile(&serde_json::from_str(raw).expect("event schema parses"));
        EventSchemas {
            request_message: parse(include_str!("../../../schemas/events/request-message.json")),
            account_result: parse(include_str!("../../../schemas/events/account-result.json")),
            employee_hired: parse(include_str!("../../../schemas/events/employee-hired.json")),
        }
    })
}

/// Every way `event` breaks `schema`, or none.
pub fn event_errors(schema: &Validator, event: &Value) -> Vec<String> {
    schema
        .iter_errors(event)
        .map(|error| format!("{} at {:?}", error, error.instance_path().as_str()))
        .collect()
}
