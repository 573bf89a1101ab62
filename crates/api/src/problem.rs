//! RFC 9457 problem details: every error a client sees, with a per-field list when the
//! input was at fault. Server faults say so without leaking internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use provisioner_store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `account.user_name`.
    pub field: String,
    /// JSON Pointer to the same field in the request body (RFC 6901).
    pub pointer: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> Self {
        let field = field.into();
        let pointer = format!("/{}", field.replace('.', "/"));
        Self {
            field,
            pointer,
            detail: detail.into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    www_authenticate: bool,
}

impl Problem {
    fn new(status: StatusCode, slug: &str, title: &str, detail: Option<String>) -> Self {
        Self {
            kind: format!("https://provisioner.dev/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors: Vec::new(),
            www_authenticate: false,
        }
    }

    /// The body is well-formed but some fields are wrong; every one of them is listed.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.detail))
            .collect::<Vec<_>>()
            .join("; ");
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request has invalid fields",
            Some(detail),
        );
        problem.errors = errors;
        problem
    }

    pub fn invalid_field(field: &str, detail: impl Into<String>) -> Self {
        Self::invalid_fields(vec![FieldError::new(field, detail)])
    }

    pub fn malformed_body(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-body",
            "The request body is not valid JSON",
            Some(detail.into()),
        )
    }

    pub fn bad_parameter(name: &str, detail: impl Into<String>) -> Self {
        let mut problem = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-parameter",
            "A query or header parameter is invalid",
            Some(format!("{name}: {}", detail.into())),
        );
        problem.errors = vec![FieldError::new(
            name,
            problem.detail.clone().unwrap_or_default(),
        )];
        problem
    }

    pub fn unauthenticated(detail: &str) -> Self {
        let mut problem = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "A valid bearer token is required",
            Some(detail.to_owned()),
        );
        problem.www_authenticate = true;
        problem
    }

    pub fn forbidden(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "The token lacks the scope this needs",
            Some(format!("this needs the scope {scope}")),
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            Some(format!("no {what} with this id")),
        )
    }

    /// A path parameter that could name nothing stored: 404 like any id that is not
    /// one, with the parameter and why.
    pub fn bad_path_parameter(name: &str, detail: impl Into<String>) -> Self {
        let detail = format!("{name}: {}", detail.into());
        let mut problem = Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            Some(detail.clone()),
        );
        problem.errors = vec![FieldError::new(name, detail)];
        problem
    }

    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "No such endpoint", None)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "This endpoint does not accept that method",
            None,
        )
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "conflict",
            "The request conflicts with what exists",
            Some(detail.into()),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "The body must be JSON",
            Some("send Content-Type: application/json".into()),
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The request body is too large",
            None,
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "A backing service is unavailable; nothing was stored, try again",
            None,
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The server failed; nothing was stored",
            None,
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let www_authenticate = self.www_authenticate;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        if error.is_transient() {
            tracing::warn!(error = %error, "database unavailable");
            Self::unavailable()
        } else {
            tracing::error!(error = ?error, "database error");
            Self::internal()
        }
    }
}
