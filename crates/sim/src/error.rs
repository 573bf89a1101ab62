//! SCIM error answers (RFC 7644 §3.12) and the SCIM media type.

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub(crate) const SCIM_MEDIA_TYPE: &str = "application/scim+json";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM answer with a JSON body.
pub(crate) fn scim_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(SCIM_MEDIA_TYPE))],
        body.to_string(),
    )
        .into_response()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
    retry_after_secs: Option<u64>,
    /// Slack's description of a taken value (`username_taken`), for its own shape.
    taken: Option<&'static str>,
}

impl ScimError {
    pub(crate) fn new(status: StatusCode, scim_type: Option<&'static str>, detail: String) -> Self {
        Self {
            status,
            scim_type,
            detail,
            retry_after_secs: None,
            taken: None,
        }
    }

    pub(crate) fn bad_request(scim_type: &'static str, detail: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub(crate) fn not_found(detail: String) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "the bearer token is missing or is not the token of this workspace".into(),
        )
    }

    pub(crate) fn taken(mut self, description: &'static str) -> Self {
        self.taken = Some(description);
        self
    }

    pub(crate) fn with_retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after_secs = seconds;
        self
    }
}

impl ScimError {
    /// Slack's SCIM API answers errors in its own shape, `{"Errors": {"description",
    /// "code"}}`, not RFC 7644's; `description` replaces the detail when given, and a
    /// taken value is described in Slack's words.
    pub(crate) fn into_slack(self, description: Option<String>) -> Response {
        let description = description
            .or(self.taken.map(str::to_owned))
            .unwrap_or(self.detail);
        let body = json!({"Errors": {
            "description": description,
            "code": self.status.as_u16(),
        }});
        let mut response = (
            self.status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body.to_string(),
        )
            .into_response();
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = scim_type.into();
        }
        let mut response = scim_json(self.status, &body);
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a refused bearer token is answered with a challenge.
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after_secs {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
