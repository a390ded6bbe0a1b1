//! Single sign-on: Préau as an OpenID Connect provider ([`oidc`]) and a
//! CAS server ([`cas`]) for the school's other services.
//!
//! The protocol decisions are pure functions of their inputs (the request,
//! the settings, the clock as `now`, rows read from the store) so that
//! they are tested without sockets; the HTTP handlers only parse, call
//! them and render. State lives in the store (migration "sso"): signing
//! keys ([`keys`]), authorization codes, access and refresh tokens,
//! consents, the services a sign-in session reached (for sign-out) and CAS
//! tickets. Tokens, codes and tickets are stored as SHA-256 hashes only,
//! and never logged.

pub mod backchannel;
pub mod cas;
pub mod claims;
pub mod keys;
pub mod oidc;
pub mod settings;
pub mod web;

pub use settings::SsoSettings;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A new random secret of 256 bits, base64url without padding
/// (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of `text`, in lower-case hexadecimal: how tokens are stored.
pub fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// base64url (no padding) of SHA-256 of `text`: the PKCE S256 transform.
pub fn s256(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_transform_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn tokens_are_random_and_hashes_hex() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert_eq!(sha256_hex("abc").len(), 64);
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
