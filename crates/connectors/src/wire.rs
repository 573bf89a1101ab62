//! Pieces of the HTTP wire every vendor module builds its calls from: URLs under the
//! integration's base URL, the account fields a vendor requires, ids in answers.

use provisioner_core::ConnectorFailure;
use serde_json::{Map, Value};
use url::Url;

use crate::failure::{classify, ServiceError};
use crate::http::Answer;

/// The failure of a base URL no call can be built on; the integration must change it.
pub(crate) fn invalid_base_url(base: &Url, why: &str) -> ConnectorFailure {
    ConnectorFailure::Permanent {
        code: "invalid_base_url".into(),
        cause: format!("the base URL {base} {why}"),
    }
}

/// `{base}/{segments…}`, whether or not the base URL ends with a slash; the base's query
/// and fragment are dropped. Segments are percent-encoded, so a value (an email, a
/// login) cannot step out of its place in the path.
pub(crate) fn endpoint<'a>(
    base: &Url,
    segments: impl IntoIterator<Item = &'a str>,
) -> Result<Url, ConnectorFailure> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| invalid_base_url(base, "cannot hold a path"))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// `{origin}/{segments…}`: the vendor's own `origin` when the base URL is on the vendor's
/// `api_host`, else the base URL's origin, so the simulator or a proxy serves both.
pub(crate) fn beside_api<'a>(
    base: &Url,
    api_host: &str,
    origin: &str,
    segments: impl IntoIterator<Item = &'a str>,
) -> Result<Url, ConnectorFailure> {
    let root = if base.host_str() == Some(api_host) {
        Url::parse(origin)
    } else {
        base.join("/")
    };
    let mut url = root.map_err(|_| invalid_base_url(base, "has no origin to call"))?;
    url.path_segments_mut()
        .map_err(|()| invalid_base_url(base, "cannot hold a path"))?
        .clear()
        .extend(segments);
    Ok(url)
}

/// Form encoding writes a space as '+', which a service decoding per RFC 3986 reads
/// literally; a '+' of the value itself is already %2B.
pub(crate) fn spaces_as_percent_20(url: &mut Url) {
    let query = url.query().map(|query| query.replace('+', "%20"));
    url.set_query(query.as_deref());
}

/// The account field `name`, which the vendor requires, as given (not blank); `why`
/// completes "the account has no {name}, …".
pub(crate) fn required<'a>(
    account: &'a Map<String, Value>,
    name: &str,
    why: &str,
) -> Result<&'a str, ConnectorFailure> {
    account
        .get(name)
        .and_then(Value::as_str)
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| ConnectorFailure::Permanent {
            code: "invalid_account".into(),
            cause: format!("the account has no {name}, {why}"),
        })
}

/// The account field `name` trimmed, unless it is missing or blank.
pub(crate) fn given<'a>(account: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    account
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// The `id` string of the resource a success answer holds, if it holds one.
pub(crate) fn resource_id(answer: &Answer) -> Result<Option<String>, ConnectorFailure> {
    Ok(answer
        .whole_json()?
        .as_ref()
        .and_then(|resource| resource.get("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned))
}

/// The answer when it is a success, else the vendor's classification of it.
pub(crate) fn success(
    answer: Answer,
    failure: impl Fn(&Answer) -> ConnectorFailure,
) -> Result<Answer, ConnectorFailure> {
    if answer.status.is_success() {
        Ok(answer)
    } else {
        Err(failure(&answer))
    }
}

/// The string at the JSON Pointer `pointer` of a body, if there is one.
pub(crate) fn text_at(body: Option<&Value>, pointer: &str) -> Option<String> {
    body?.pointer(pointer)?.as_str().map(str::to_owned)
}

/// Classifies a refusal from its status and the vendor's error body: its code and its
/// sentence are the strings at these JSON Pointers.
pub(crate) fn refusal(answer: &Answer, code: Option<&str>, message: &str) -> ConnectorFailure {
    let body = answer.error_json();
    let said = ServiceError {
        code: code.and_then(|code| text_at(body.as_ref(), code)),
        message: text_at(body.as_ref(), message),
    };
    classify(answer.status, answer.retry_after, said)
}

/// Classifies a refusal with what the vendor said, read by its own module.
pub(crate) fn refusal_saying(answer: &Answer, said: ServiceError) -> ConnectorFailure {
    classify(answer.status, answer.retry_after, said)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_appended_to_the_base_path_with_or_without_a_slash() {
        for base in ["https://x.example/v2", "https://x.example/v2/?q=1#f"] {
            let url = endpoint(&Url::parse(base).unwrap(), ["users", "a b@x"]).unwrap();
            assert_eq!(url.as_str(), "https://x.example/v2/users/a%20b@x");
        }
        let mailto = Url::parse("mailto:ops@example.com").unwrap();
        assert_eq!(
            endpoint(&mailto, ["users"]).unwrap_err().code(),
            "invalid_base_url"
        );
    }

    #[test]
    fn a_vendor_endpoint_beside_the_api_is_the_vendors_or_at_the_configured_origin() {
        let own = Url::parse("https://api.example.com/v2").unwrap();
        let url = beside_api(&own, "api.example.com", "https://login.example", ["token"]);
        assert_eq!(url.unwrap().as_str(), "https://login.example/token");
        let sim = Url::parse("http://127.0.0.1:9090/v2?x=1").unwrap();
        let url = beside_api(&sim, "api.example.com", "https://login.example", ["a", "t"]);
        assert_eq!(url.unwrap().as_str(), "http://127.0.0.1:9090/a/t");
    }

    #[test]
    fn a_blank_required_field_is_the_accounts_fault() {
        let account = serde_json::json!({"email": "  ", "user_name": " ada "});
        let account = account.as_object().unwrap();
        let missing = required(account, "email", "which X requires").unwrap_err();
        assert_eq!(
            missing,
            ConnectorFailure::Permanent {
                code: "invalid_account".into(),
                cause: "the account has no email, which X requires".into()
            }
        );
        assert_eq!(required(account, "user_name", "").unwrap(), " ada ");
    }
}
