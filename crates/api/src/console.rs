//! The console: plain HTML, CSS and JavaScript modules embedded in the binary and served
//! outside the `/v1` API (so they are in neither `ROUTES` nor `openapi.yaml`). The page
//! itself holds no secret: every call it makes carries the token the person pasted.

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::problem::Problem;

/// `(name, content type, body)` of every file under `/console/`.
const FILES: &[(&str, &str, &str)] = &[
    ("app.js", JS, include_str!("../console/app.js")),
    ("api.js", JS, include_str!("../console/api.js")),
    ("dom.js", JS, include_str!("../console/dom.js")),
    ("form.js", JS, include_str!("../console/form.js")),
    ("services.js", JS, include_str!("../console/services.js")),
    ("provision.js", JS, include_str!("../console/provision.js")),
    ("log.js", JS, include_str!("../console/log.js")),
    ("operators.js", JS, include_str!("../console/operators.js")),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../console/style.css"),
    ),
];

const JS: &str = "text/javascript; charset=utf-8";
const INDEX: &str = include_str!("../console/index.html");

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/console/{file}", get(file))
}

async fn index() -> Response {
    served("text/html; charset=utf-8", INDEX)
}

async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => served(content_type, body),
        None => Problem::not_found("console file").into_response(),
    }
}

fn served(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_served() {
        let sources = FILES.iter().map(|(_, _, body)| *body).chain([INDEX]);
        for source in sources {
            for (at, prefix) in source
                .match_indices("./")
                .chain(source.match_indices("/console/"))
            {
                let name: String = source[at + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                    .collect();
                if name.ends_with(".js") || name.ends_with(".css") {
                    assert!(
                        FILES.iter().any(|(file, _, _)| *file == name),
                        "{name} is imported but not served"
                    );
                }
            }
        }
    }
}
