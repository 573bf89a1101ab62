//! Webhook signatures in the Standard Webhooks style: headers `webhook-id`,
//! `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64>` entries,
//! space-separated, so a sender can sign with an old and a new secret while rotating).
//! The MAC is HMAC-SHA256 over `timestamp.body` with the secret's bytes (the part after
//! `whsec_`, base64), compared in constant time; a timestamp outside the tolerance is
//! refused so a captured request cannot be replayed later.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const TOLERANCE: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the webhook-timestamp header is missing or not Unix seconds")]
    BadTimestamp,
    #[error("the webhook-timestamp is more than 5 minutes away from now")]
    Stale,
    #[error("the webhook-signature header is missing or holds no v1 signature")]
    NoSignature,
    #[error("no signature matches a signing secret of this tenant")]
    Mismatch,
}

/// The signature a sender computes; used by tests and by anyone writing a client.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = mac(&key_bytes(secret), timestamp, body);
    format!("v1,{}", STANDARD.encode(mac))
}

/// Checks a request against every active secret of the tenant.
pub fn verify(
    secrets: &[String],
    timestamp: Option<&str>,
    signatures: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let timestamp: i64 = timestamp
        .and_then(|t| t.trim().parse().ok())
        .ok_or(SignatureError::BadTimestamp)?;
    if now_unix.abs_diff(timestamp) > TOLERANCE.as_secs() {
        return Err(SignatureError::Stale);
    }
    let offered: Vec<Vec<u8>> = signatures
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .collect();
    if offered.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    let matched = secrets.iter().any(|secret| {
        let expected = mac(&key_bytes(secret), timestamp, body);
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

fn key_bytes(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    URL_SAFE_NO_PAD
        .decode(encoded)
        .or_else(|_| STANDARD.decode(encoded))
        .unwrap_or_else(|_| secret.as_bytes().to_vec())
}

fn mac(key: &[u8], timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
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

    #[test]
    fn a_correct_signature_within_the_tolerance_passes() {
        let body = br#"{"id":"1"}"#;
        let signature = sign(SECRET, NOW, body);
        let secrets = vec![SECRET.to_owned()];
        assert_eq!(
            verify(
                &secrets,
                Some(&NOW.to_string()),
                Some(&signature),
                body,
                NOW + 60
            ),
            Ok(())
        );
        let rotating = format!("v1,AAAA {signature}");
        assert_eq!(
            verify(&secrets, Some(&NOW.to_string()), Some(&rotating), body, NOW),
            Ok(())
        );
    }

    #[test]
    fn altered_bodies_other_secrets_stale_or_missing_headers_fail() {
        let body = br#"{"id":"1"}"#;
        let signature = sign(SECRET, NOW, body);
        let secrets = vec![SECRET.to_owned()];
        let ts = NOW.to_string();
        assert_eq!(
            verify(
                &secrets,
                Some(&ts),
                Some(&signature),
                b"{\"id\":\"2\"}",
                NOW
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                &["whsec_b3RoZXI".to_owned()],
                Some(&ts),
                Some(&signature),
                body,
                NOW
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&secrets, Some(&ts), Some(&signature), body, NOW + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(&secrets, None, Some(&signature), body, NOW),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify(&secrets, Some("soon"), Some(&signature), body, NOW),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify(&secrets, Some(&ts), None, body, NOW),
            Err(SignatureError::NoSignature)
        );
        assert_eq!(
            verify(&secrets, Some(&ts), Some("v2,abc"), body, NOW),
            Err(SignatureError::NoSignature)
        );
        assert_eq!(
            verify(&[], Some(&ts), Some(&signature), body, NOW),
            Err(SignatureError::Mismatch)
        );
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
            timestamp in proptest::option::of(".{0,30}"),
            signature in proptest::option::of(".{0,300}"),
            body in prop::collection::vec(any::<u8>(), 0..1024),
        ) {
            let secrets = vec!["whsec_c2VjcmV0LWJ5dGVzLWZvci10ZXN0cw".to_owned()];
            let result = verify(&secrets, timestamp.as_deref(), signature.as_deref(), &body, 1_790_000_000);
            prop_assert!(result.is_err());
        }

        #[test]
        fn any_secret_text_signs_and_verifies_its_own_body(
            secret in ".{0,80}", body in prop::collection::vec(any::<u8>(), 0..512)
        ) {
            let signature = sign(&secret, 1_790_000_000, &body);
            let verified = verify(&[secret], Some("1790000000"), Some(&signature), &body, 1_790_000_000);
            prop_assert_eq!(verified, Ok(()));
        }
    }
}
