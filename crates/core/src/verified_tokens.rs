//! Access tokens whose RS256 signature this process has already checked.
//!
//! Apps send the same access token with many calls (GetUser on every page load is common), and
//! the RSA verification is the largest single cost of such a call. Whether a signature is valid
//! never changes, so this cache keeps only that fact, with the claims the signature covers,
//! keyed by the whole token. Everything that can change is still checked on every call: expiry,
//! revocation, the user, the pool and whether the signing key is still one of the pool's.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Tokens kept at most; past that, expired ones are dropped, and if that is not enough the map
/// starts over (each entry is about the size of its token, ~1 KB).
const MAX_TOKENS: usize = 4096;

/// The claims of a signed token that the access-token checks read.
#[derive(Debug)]
pub(crate) struct TokenClaims {
    /// The key that signed it.
    pub kid: String,
    /// From `iss`.
    pub pool_id: String,
    pub token_use: Option<String>,
    pub exp: Option<i64>,
    pub client_id: Option<String>,
    pub origin_jti: Option<String>,
    pub username: Option<String>,
    /// `scope`, space-separated.
    pub scope: Option<String>,
    /// ID tokens' audience (their client).
    pub aud: Option<String>,
}

#[derive(Default)]
pub(crate) struct VerifiedTokens {
    tokens: RwLock<HashMap<Box<str>, Arc<TokenClaims>>>,
}

impl VerifiedTokens {
    pub(crate) fn get(&self, token: &str) -> Option<Arc<TokenClaims>> {
        self.tokens
            .read()
            .expect("verified tokens")
            .get(token)
            .cloned()
    }

    /// Remembers a token whose signature was just verified; `now` (epoch s) decides which
    /// entries are expired when the map is full.
    pub(crate) fn put(&self, token: &str, claims: Arc<TokenClaims>, now: i64) {
        let mut tokens = self.tokens.write().expect("verified tokens");
        if tokens.len() >= MAX_TOKENS {
            tokens.retain(|_, c| c.exp.is_some_and(|exp| exp > now));
            if tokens.len() >= MAX_TOKENS {
                tokens.clear();
            }
        }
        tokens.insert(token.into(), claims);
    }

    pub(crate) fn clear(&self) {
        self.tokens.write().expect("verified tokens").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Arc<TokenClaims> {
        Arc::new(TokenClaims {
            kid: "k".into(),
            pool_id: "p".into(),
            token_use: Some("access".into()),
            exp: Some(exp),
            client_id: None,
            origin_jti: None,
            username: None,
            scope: None,
            aud: None,
        })
    }

    #[test]
    fn a_full_cache_drops_expired_tokens_first_then_everything() {
        let cache = VerifiedTokens::default();
        for i in 0..MAX_TOKENS {
            // Half expire at 100, half at 1000.
            let exp = if i % 2 == 0 { 100 } else { 1000 };
            cache.put(&format!("t{i}"), claims(exp), 50);
        }
        cache.put("new", claims(1000), 500);
        assert!(cache.get("t0").is_none(), "expired at 100, dropped at 500");
        assert!(cache.get("t1").is_some(), "still valid, kept");
        assert!(cache.get("new").is_some());

        let cache = VerifiedTokens::default();
        for i in 0..MAX_TOKENS {
            cache.put(&format!("t{i}"), claims(1000), 50);
        }
        cache.put("new", claims(1000), 500);
        assert!(
            cache.get("t1").is_none(),
            "nothing expired: the map starts over"
        );
        assert!(cache.get("new").is_some());
    }

    #[test]
    fn only_the_exact_token_hits() {
        let cache = VerifiedTokens::default();
        cache.put("a.b.c", claims(1000), 0);
        assert!(cache.get("a.b.c").is_some());
        assert!(cache.get("a.b.d").is_none());
        assert!(cache.get("a.b.c ").is_none());
    }
}
