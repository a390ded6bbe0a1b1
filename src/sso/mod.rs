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

/// A service of `[sso]` a person signs in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service<'a> {
    /// An OpenID Connect client, by its id.
    Oidc(&'a str),
    /// A CAS service, by its name.
    Cas(&'a str),
}

/// Whether `who` may use `service`: decided by the web's one
/// authorization function (`authz::Action::SsoUse`), from the roles
/// `settings` declare for the service (an empty list: everyone; a
/// service not declared: refused) and the person's role.
pub fn may_use(
    settings: &SsoSettings,
    service: Service<'_>,
    who: &claims::Identity,
) -> crate::web::authz::Decision {
    use crate::web::authz::{self, Action, Actor, Facts, Role, SsoServiceFacts};
    let (name, roles) = match service {
        Service::Oidc(id) => (id, settings.client(id).map(|c| c.roles.clone())),
        Service::Cas(name) => (name, settings.cas_service_named(name).map(|s| s.roles.clone())),
    };
    let actor = Actor {
        login: who.login.clone(),
        name: who.name(),
        roles: Role::of_sso_name(&who.role).into_iter().collect(),
        person_id: None,
    };
    let facts = Facts {
        sso_service: roles.map(|roles| SsoServiceFacts { roles }),
        ..Facts::default()
    };
    authz::decide(
        &actor,
        &Action::SsoUse {
            service: name.to_string(),
        },
        &facts,
    )
}

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
