//! Webhook signatures as the Standard Webhooks specification has them
//! (<https://www.standardwebhooks.com>), so an HR system can sign with any of its
//! libraries: headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature` (`v1,<base64>` entries, space-separated, so a sender can sign with
//! an old and a new secret while rotating). The MAC is HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}` with the secret's bytes (the part after
//! `whsec_`, base64), compared in constant time. Signing the id binds the signature to one
//! message; a timestamp outside the tolerance is refused so a captured request cannot be
//! replayed later.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const TOLERANCE: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the webhook-id header is missing or empty")]
    NoId,
    #[error("the webhook-timestamp header is missing or not Unix seconds")]
    BadTimestamp,
    #[error("the webhook-timestamp is more than 5 minutes away from now")]
    Stale,
    #[error("the webhook-signature header is missing or holds no v1 signature")]
    NoSignature,
    #[error("no signature matches a signing secret of this tenant")]
    Mismatch,
}

/// The three headers a signed webhook carries, as they arrived.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignedHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// The `webhook-signature` a sender computes for message `id`; used by tests and by
/// anyone writing a client.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = mac(&key_bytes(secret), id, timestamp, body);
    format!("v1,{}", STANDARD.encode(mac))
}

/// Checks a request against every active secret of the tenant.
pub fn verify(
    secrets: &[String],
    headers: SignedHeaders<'_>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let id = headers
        .id
        .filter(|id| !id.is_empty())
        .ok_or(SignatureError::NoId)?;
    let timestamp: i64 = headers
        .timestamp
        .and_then(|t| t.trim().parse().ok())
        .ok_or(SignatureError::BadTimestamp)?;
    if now_unix.abs_diff(timestamp) > TOLERANCE.as_secs() {
        return Err(SignatureError::Stale);
    }
    let offered: Vec<Vec<u8>> = headers
        .signature
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .collect();
    if offered.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    let matched = secrets.iter().any(|secret| {
        let expected = mac(&key_bytes(secret), id, timestamp, body);
        offered
            .iter()
            .any(|candidate| bool::from(candidate.as_slice().ct_eq(&expected)))
    });
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The specification's secrets are standard base64; secrets made before this service
/// followed it are URL-safe base64 without padding, and still verify.
fn key_bytes(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .or_else(|_| URL_SAFE_NO_PAD.decode(encoded))
        .unwrap_or_else(|_| secret.as_bytes().to_vec())
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_c2VjcmV0LWJ5dGVzLWZvci10ZXN0cw";
    const NOW: i64 = 1_790_000_000;
    const ID: &str = "msg_2mF1";

    fn headers<'a>(timestamp: &'a str, signature: &'a str) -> SignedHeaders<'a> {
        SignedHeaders {
            id: Some(ID),
            timestamp: Some(timestamp),
            signature: Some(signature),
        }
    }

    #[test]
    fn a_correct_signature_within_the_tolerance_passes() {
        let body = br#"{"id":"1"}"#;
        let signature = sign(SECRET, ID, NOW, body);
        let secrets = vec![SECRET.to_owned()];
        let ts = NOW.to_string();
        assert_eq!(
            verify(&secrets, headers(&ts, &signature), body, NOW + 60),
            Ok(())
        );
        let rotating = format!("v1,AAAA {signature}");
        assert_eq!(verify(&secrets, headers(&ts, &rotating), body, NOW), Ok(()));
    }

    /// The example of the Standard Webhooks specification's reference libraries:
    /// secret, id, timestamp and body give exactly this signature.
    #[test]
    fn the_signature_is_the_one_the_specification_computes() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            expected
        );
        let verified = verify(
            &[secret.to_owned()],
            SignedHeaders {
                id: Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
                timestamp: Some("1614265330"),
                signature: Some(expected),
            },
            body,
            1_614_265_330,
        );
        assert_eq!(verified, Ok(()));
    }

    #[test]
    fn altered_bodies_ids_other_secrets_stale_or_missing_headers_fail() {
        let body = br#"{"id":"1"}"#;
        let signature = sign(SECRET, ID, NOW, body);
        let secrets = vec![SECRET.to_owned()];
        let ts = NOW.to_string();
        let good = headers(&ts, &signature);
        assert_eq!(
            verify(&secrets, good, b"{\"id\":\"2\"}", NOW),
            Err(SignatureError::Mismatch)
        );
        let other_id = SignedHeaders {
            id: Some("msg_other"),
            ..good
        };
        assert_eq!(
            verify(&secrets, other_id, body, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&["whsec_b3RoZXI".to_owned()], good, body, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&secrets, good, body, NOW + 301),
            Err(SignatureError::Stale)
        );
        for id in [None, Some("")] {
            assert_eq!(
                verify(&secrets, SignedHeaders { id, ..good }, body, NOW),
                Err(SignatureError::NoId)
            );
        }
        for timestamp in [None, Some("soon")] {
            assert_eq!(
                verify(&secrets, SignedHeaders { timestamp, ..good }, body, NOW),
                Err(SignatureError::BadTimestamp)
            );
        }
        for signature in [None, Some("v2,abc")] {
            assert_eq!(
                verify(&secrets, SignedHeaders { signature, ..good }, body, NOW),
                Err(SignatureError::NoSignature)
            );
        }
        assert_eq!(verify(&[], good, body, NOW), Err(SignatureError::Mismatch));
    }
}

#[cfg(test)]
mod hostile {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Forged headers and bodies are refused, never accepted and never a panic.
        #[test]
        fn random_signatures_never_verify(
            id in proptest::option::of(".{0,40}"),
            timestamp in proptest::option::of(".{0,30}"),
            signature in proptest::option::of(".{0,300}"),
            body in prop::collection::vec(any::<u8>(), 0..1024),
        ) {
            let secrets = vec!["whsec_c2VjcmV0LWJ5dGVzLWZvci10ZXN0cw".to_owned()];
            let headers = SignedHeaders {
                id: id.as_deref(),
                timestamp: timestamp.as_deref(),
                signature: signature.as_deref(),
            };
            let result = verify(&secrets, headers, &body, 1_790_000_000);
            prop_assert!(result.is_err());
        }

        #[test]
        fn any_secret_text_signs_and_verifies_its_own_body(
            secret in ".{0,80}", id in ".{1,40}", body in prop::collection::vec(any::<u8>(), 0..512)
        ) {
            let signature = sign(&secret, &id, 1_790_000_000, &body);
            let headers = SignedHeaders {
                id: Some(&id),
                timestamp: Some("1790000000"),
                signature: Some(&signature),
            };
            let verified = verify(&[secret], headers, &body, 1_790_000_000);
            prop_assert_eq!(verified, Ok(()));
        }
    }
}
