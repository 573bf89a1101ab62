//! Integration credentials are encrypted at rest with ChaCha20-Poly1305 (an AEAD). The
//! associated data binds each ciphertext to its tenant and integration, so a sealed
//! value copied onto another row does not open. Keys have ids: the first configured key
//! seals, every configured key opens, which lets keys be rotated without downtime.

use std::collections::HashMap;
use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use uuid::Uuid;

const NONCE_BYTES: usize = 12;

/// The id of the key compiled into the binary for development machines and tests. A
/// production installation sets `PROVISIONER_CREDENTIAL_KEYS`; the process warns when
/// it runs on this one.
pub const DEVELOPMENT_KEY_ID: &str = "development";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyringError {
    #[error("name at least one key as id:base64 (32 bytes), e.g. k1:{example}")]
    Empty { example: String },
    #[error("key number {0} is not written as id:base64")]
    Malformed(usize),
    #[error("key {0:?} is not 32 bytes of base64")]
    WrongLength(String),
    #[error("key id {0:?} appears twice")]
    Duplicate(String),
}

/// The keys credentials are sealed and opened with.
#[derive(Clone)]
pub struct Keyring {
    current: String,
    keys: HashMap<String, ChaCha20Poly1305>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("ids", &ids)
            .finish()
    }
}

impl Keyring {
    /// Parses `id:base64,id:base64,…`; the first key seals.
    pub fn parse(spec: &str) -> Result<Self, KeyringError> {
        let mut current = None;
        let mut keys = HashMap::new();
        let entries = spec.split(',').map(str::trim).filter(|e| !e.is_empty());
        for (index, entry) in entries.enumerate() {
            let (id, encoded) = entry
                .split_once(':')
                .filter(|(id, _)| !id.is_empty())
                .ok_or(KeyringError::Malformed(index + 1))?;
            let bytes = STANDARD
                .decode(encoded)
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| KeyringError::WrongLength(id.to_owned()))?;
            let cipher = ChaCha20Poly1305::new(Key::from_slice(&bytes));
            if keys.insert(id.to_owned(), cipher).is_some() {
                return Err(KeyringError::Duplicate(id.to_owned()));
            }
            current.get_or_insert_with(|| id.to_owned());
        }
        let current = current.ok_or_else(|| KeyringError::Empty {
            example: STANDARD.encode([7u8; 32]),
        })?;
        Ok(Self { current, keys })
    }

    /// The key every development machine shares: fine for a laptop, never for real data.
    pub fn development() -> Self {
        let key = STANDARD.encode(*b"provisioner-development-key-0001");
        match Self::parse(&format!("{DEVELOPMENT_KEY_ID}:{key}")) {
            Ok(keyring) => keyring,
            Err(error) => unreachable!("the development key is well-formed: {error}"),
        }
    }

    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    pub(crate) fn seal(&self, tenant_id: Uuid, integration_id: Uuid, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(tenant_id, integration_id);
        let cipher = &self.keys[&self.current];
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            // Encryption fails only for messages beyond 256 GiB.
            .unwrap_or_default();
        [nonce.as_slice(), &sealed].concat()
    }

    /// Opens a sealed value; `None` if the key is not configured or the value was
    /// altered or moved to another row.
    pub(crate) fn open(
        &self,
        key_id: &str,
        tenant_id: Uuid,
        integration_id: Uuid,
        sealed: &[u8],
    ) -> Option<Vec<u8>> {
        let cipher = self.keys.get(key_id)?;
        if sealed.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let aad = associated_data(tenant_id, integration_id);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .ok()
    }
}

fn associated_data(tenant_id: Uuid, integration_id: Uuid) -> Vec<u8> {
    [tenant_id.as_bytes().as_slice(), integration_id.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        STANDARD.encode([byte; 32])
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_row_only() {
        let keyring = Keyring::parse(&format!("k1:{}", key(1))).unwrap();
        let (tenant, integration) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = keyring.seal(tenant, integration, b"{\"token\":\"s3cret\"}");
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"));
        assert_eq!(
            keyring.open("k1", tenant, integration, &sealed).as_deref(),
            Some(b"{\"token\":\"s3cret\"}".as_slice())
        );
        assert_eq!(
            keyring.open("k1", tenant, Uuid::new_v4(), &sealed),
            None,
            "moved to another row"
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(keyring.open("k1", tenant, integration, &tampered), None);
        assert_eq!(keyring.open("k9", tenant, integration, &sealed), None);
    }

    #[test]
    fn the_first_key_seals_and_every_key_opens() {
        let old = Keyring::parse(&format!("k1:{}", key(1))).unwrap();
        let rotated = Keyring::parse(&format!("k2:{},k1:{}", key(2), key(1))).unwrap();
        let (tenant, integration) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed_by_old = old.seal(tenant, integration, b"x");
        assert_eq!(rotated.current_key_id(), "k2");
        assert!(rotated
            .open("k1", tenant, integration, &sealed_by_old)
            .is_some());
    }

    #[test]
    fn malformed_key_lists_are_refused_without_echoing_keys() {
        assert!(matches!(
            Keyring::parse(""),
            Err(KeyringError::Empty { .. })
        ));
        assert_eq!(
            Keyring::parse("k1:c2hvcnQ=").unwrap_err(),
            KeyringError::WrongLength("k1".into())
        );
        let error = Keyring::parse("no-colon-secretmaterial").unwrap_err();
        assert_eq!(error, KeyringError::Malformed(1));
        assert!(!error.to_string().contains("secretmaterial"));
        let both = format!("k1:{},k1:{}", key(1), key(2));
        assert_eq!(
            Keyring::parse(&both).unwrap_err(),
            KeyringError::Duplicate("k1".into())
        );
        assert!(
            !format!("{:?}", Keyring::parse(&format!("k1:{}", key(1))).unwrap()).contains(&key(1))
        );
    }
}
