//! Access tokens for services that issue short-lived ones (OAuth 2.0 client credentials,
//! service-account JWTs): fetched once, reused until shortly before they expire, and
//! refreshed once when the service answers 401 anyway.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use provisioner_core::ConnectorFailure;
use serde_json::Value;
use url::Url;

/// A token is dropped this long before the service says it expires, so a call never
/// leaves with a token that dies on the way.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// A token as the service issued it.
#[derive(Clone)]
pub struct AccessToken {
    pub value: String,
    pub expires_in: Duration,
}

#[derive(Clone)]
struct Cached {
    value: String,
    usable_until: Instant,
}

/// Tokens of every integration a connector serves, keyed by [`TokenCache::key`].
#[derive(Clone, Default)]
pub struct TokenCache {
    tokens: Arc<Mutex<HashMap<String, Cached>>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

impl TokenCache {
    /// Identifies an integration's token by where it is used and with which
    /// credentials, so rotated credentials never reuse the old token. The key holds a
    /// digest, never the secret itself.
    pub fn key(base_url: &Url, credentials: &Value) -> String {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut hasher = DefaultHasher::new();
        credentials.to_string().hash(&mut hasher);
        format!("{base_url}#{:016x}", hasher.finish())
    }

    /// The cached token, or a fresh one from `fetch`.
    pub async fn get<F, Fut>(&self, key: &str, fetch: F) -> Result<String, ConnectorFailure>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, ConnectorFailure>>,
    {
        if let Some(value) = self.cached(key) {
            return Ok(value);
        }
        let token = fetch().await?;
        let usable_for = token.expires_in.saturating_sub(EXPIRY_MARGIN);
        if !usable_for.is_zero() {
            self.lock().insert(
                key.to_owned(),
                Cached {
                    value: token.value.clone(),
                    usable_until: Instant::now() + usable_for,
                },
            );
        }
        Ok(token.value)
    }

    /// Drops the token, so the next call fetches a new one.
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Runs `call` with a token; when the service answers that the token is not valid,
    /// fetches a new one and tries once more. A second refusal is a real
    /// authentication failure.
    pub async fn with_token<T, F, Fut, C, CFut>(
        &self,
        key: &str,
        fetch: F,
        call: C,
    ) -> Result<T, ConnectorFailure>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<AccessToken, ConnectorFailure>>,
        C: Fn(String) -> CFut,
        CFut: Future<Output = Result<T, ConnectorFailure>>,
    {
        let token = self.get(key, &fetch).await?;
        match call(token).await {
            Err(ConnectorFailure::AuthFailed { .. }) => {
                self.forget(key);
                let token = self.get(key, &fetch).await?;
                call(token).await
            }
            other => other,
        }
    }

    fn cached(&self, key: &str) -> Option<String> {
        let tokens = self.lock();
        let cached = tokens.get(key)?;
        (Instant::now() < cached.usable_until).then(|| cached.value.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        // A panic while holding the lock cannot leave the map half-written.
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use serde_json::json;

    fn token(value: &str, seconds: u64) -> AccessToken {
        AccessToken {
            value: value.into(),
            expires_in: Duration::from_secs(seconds),
        }
    }

    #[tokio::test]
    async fn a_token_is_fetched_once_and_reused() {
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        for _ in 0..3 {
            let value = cache
                .get("k", || async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    Ok(token("t1", 3600))
                })
                .await
                .unwrap();
            assert_eq!(value, "t1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_token_about_to_expire_is_not_kept() {
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        for _ in 0..2 {
            cache
                .get("k", || async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    Ok(token("short", 30))
                })
                .await
                .unwrap();
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_401_refreshes_the_token_once_then_is_an_auth_failure() {
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let fetch = || async {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            Ok(token(&format!("t{n}"), 3600))
        };
        let seen = Mutex::new(Vec::new());
        let result: Result<(), _> = cache
            .with_token("k", fetch, |token| {
                seen.lock().unwrap().push(token);
                async {
                    Err(ConnectorFailure::AuthFailed {
                        cause: "401".into(),
                    })
                }
            })
            .await;
        assert!(matches!(result, Err(ConnectorFailure::AuthFailed { .. })));
        assert_eq!(*seen.lock().unwrap(), ["t0", "t1"]);

        let ok = cache
            .with_token("k", fetch, |token| async move { Ok(token) })
            .await
            .unwrap();
        assert_eq!(ok, "t1", "the refreshed token is kept");
    }

    #[test]
    fn rotated_credentials_get_their_own_token() {
        let url = Url::parse("https://api.example.com/").unwrap();
        let a = TokenCache::key(&url, &json!({"secret": "a"}));
        let b = TokenCache::key(&url, &json!({"secret": "b"}));
        assert_ne!(a, b);
        assert!(!a.contains("secret"));
    }
}
