//! The service account's signed assertion exchanged for an access token (RFC 7523,
//! <https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests>):
//! a JWT signed with RS256 by the service account's private key, impersonating the
//! admin named as `subject` (domain-wide delegation). ring, already in the tree through
//! rustls, signs it; the JWT itself is two base64url JSON objects.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use provisioner_core::ConnectorFailure;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::json;

/// Google accepts assertions valid for at most an hour.
const LIFETIME_SECONDS: i64 = 3600;

pub(super) struct Claims<'a> {
    pub client_email: &'a str,
    pub key_id: Option<&'a str>,
    pub subject: &'a str,
    pub scope: &'a str,
    pub token_uri: &'a str,
    pub now: i64,
}

fn refused(why: &str) -> ConnectorFailure {
    ConnectorFailure::AuthFailed {
        cause: format!("the service account's private key {why}; download a new key"),
    }
}

/// The PEM `-----BEGIN PRIVATE KEY-----` of a service-account JSON, as PKCS#8 DER.
fn pkcs8_der(pem: &str) -> Result<Vec<u8>, ConnectorFailure> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).map_err(|_| refused("is not PEM"))
}

pub(super) fn sign(private_key_pem: &str, claims: &Claims<'_>) -> Result<String, ConnectorFailure> {
    let key = RsaKeyPair::from_pkcs8(&pkcs8_der(private_key_pem)?)
        .map_err(|_| refused("is not an RSA key in PKCS#8"))?;
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(key_id) = claims.key_id {
        header["kid"] = key_id.into();
    }
    let payload = json!({
        "iss": claims.client_email,
        "sub": claims.subject,
        "scope": claims.scope,
        "aud": claims.token_uri,
        "iat": claims.now,
        "exp": claims.now + LIFETIME_SECONDS,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| refused("could not sign"))?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        include_str!("../../../../../tests/fixtures/google/test-service-account-key.pem");

    #[test]
    fn the_assertion_names_the_service_account_the_admin_and_the_token_endpoint() {
        let claims = Claims {
            client_email: "sa@project.iam.gserviceaccount.com",
            key_id: Some("k1"),
            subject: "admin@example.com",
            scope: "scope",
            token_uri: "https://oauth2.googleapis.com/token",
            now: 1_700_000_000,
        };
        let jwt = sign(KEY, &claims).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(payload["sub"], "admin@example.com");
        assert_eq!(payload["aud"], "https://oauth2.googleapis.com/token");
        assert_eq!(payload["exp"], 1_700_003_600);
    }

    #[test]
    fn a_key_that_is_not_pkcs8_is_an_authentication_failure() {
        let claims = Claims {
            client_email: "sa",
            key_id: None,
            subject: "admin",
            scope: "s",
            token_uri: "t",
            now: 0,
        };
        let failure = sign(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            &claims,
        )
        .unwrap_err();
        assert!(matches!(failure, ConnectorFailure::AuthFailed { .. }));
    }
}
