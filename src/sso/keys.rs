//! The provider's signing keys: ECDSA P-256 (ES256), generated on first
//! use and kept in the store (`sso_keys`, inside the owner-only database).
//!
//! Rotation: the newest key signs; when it is `key_rotation_days` old a
//! new key replaces it and the old one is retired, but stays in the
//! published key set (JWKS) for as long as a token it signed may still be
//! presented (`keep_seconds`), so relying parties never meet a token whose
//! key they cannot find. Then it is deleted.

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rusqlite::{Connection, params};
use serde::Serialize;

/// The signing algorithm of every token.
pub const ALG: Algorithm = Algorithm::ES256;

/// One usable signing key.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    key: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Signs `claims` as a compact JWS with this key; `typ` is the header's
    /// type ("JWT", or "logout+jwt" for back-channel logout tokens).
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(ALG);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_string());
        jsonwebtoken::encode(&header, claims, &self.key)
    }
}

/// The signing key and the published key set.
#[derive(Debug, Clone)]
pub struct KeySet {
    pub signing: SigningKey,
    pub jwks: JwkSet,
    /// When the signing key must be replaced (Unix seconds).
    pub rotate_at: i64,
}

/// Why the keys could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot generate a signing key: {0}")]
    Generate(String),
    #[error("stored signing key {kid} is unreadable: {cause}")]
    Unreadable { kid: String, cause: String },
}

fn generate() -> Result<String, KeyError> {
    rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map(|k| k.serialize_pem())
        .map_err(|e| KeyError::Generate(e.to_string()))
}

fn public_jwk(pem: &str) -> Result<(EncodingKey, Jwk), String> {
    let key = EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
    let mut jwk = Jwk::from_encoding_key(&key, ALG).map_err(|e| e.to_string())?;
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::ES256);
    Ok((key, jwk))
}

/// The key identifier of a new key: its RFC 7638 thumbprint.
fn thumbprint(jwk: &Jwk) -> Result<String, String> {
    jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| e.to_string())
}

/// Brings the keys up to date at `now` inside the caller's transaction
/// (an IMMEDIATE one, so two processes never both rotate): creates the
/// first key, rotates an old one, deletes retired keys past
/// `keep_seconds`, and returns the signing key and the key set.
pub fn ensure(
    conn: &Connection,
    now: i64,
    rotation_seconds: i64,
    keep_seconds: i64,
) -> Result<KeySet, KeyError> {
    let newest: Option<(String, i64)> = conn
        .query_row(
            "SELECT kid, created_at FROM sso_keys WHERE retired_at IS NULL
             ORDER BY created_at DESC, kid LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    let due = newest
        .as_ref()
        .is_none_or(|(_, created)| created + rotation_seconds <= now);
    if due {
        let pem = generate()?;
        let (_, jwk) = public_jwk(&pem).map_err(KeyError::Generate)?;
        let kid = thumbprint(&jwk).map_err(KeyError::Generate)?;
        conn.execute(
            "UPDATE sso_keys SET retired_at = ?1 WHERE retired_at IS NULL",
            [now],
        )?;
        conn.execute(
            "INSERT INTO sso_keys (kid, alg, private_pem, created_at) VALUES (?1, 'ES256', ?2, ?3)",
            params![kid, pem, now],
        )?;
    }
    conn.execute(
        "DELETE FROM sso_keys WHERE retired_at IS NOT NULL AND retired_at + ?1 < ?2",
        params![keep_seconds, now],
    )?;
    let mut stmt = conn.prepare(
        "SELECT kid, private_pem, created_at, retired_at FROM sso_keys
         ORDER BY retired_at IS NOT NULL, created_at DESC, kid",
    )?;
    let rows: Vec<(String, String, i64, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut signing = None;
    let mut keys = Vec::new();
    for (kid, pem, created, retired) in rows {
        let (key, mut jwk) = public_jwk(&pem).map_err(|cause| KeyError::Unreadable {
            kid: kid.clone(),
            cause,
        })?;
        jwk.common.key_id = Some(kid.clone());
        keys.push(jwk);
        if retired.is_none() && signing.is_none() {
            signing = Some((SigningKey { kid, key }, created + rotation_seconds));
        }
    }
    let (signing, rotate_at) =
        signing.ok_or_else(|| KeyError::Generate("no active key after rotation".into()))?;
    Ok(KeySet {
        signing,
        jwks: JwkSet { keys },
        rotate_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    fn db() -> (tempfile::TempDir, crate::store::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("preau.db")).unwrap();
        (dir, store)
    }

    #[derive(Serialize, serde::Deserialize)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    fn verify(jwks: &JwkSet, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let header = jsonwebtoken::decode_header(token)?;
        let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("kid in jwks");
        let mut v = Validation::new(ALG);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_jwk(jwk)?, &v).map(|d| d.claims)
    }

    #[test]
    fn first_key_is_made_and_kept() {
        let (_d, store) = db();
        let a = ensure(store.conn(), 1000, 100, 50).unwrap();
        let b = ensure(store.conn(), 1010, 100, 50).unwrap();
        assert_eq!(a.signing.kid, b.signing.kid);
        assert_eq!(b.jwks.keys.len(), 1);
        assert_eq!(a.rotate_at, 1100);
        let token = a
            .signing
            .sign(
                "JWT",
                &Claims {
                    sub: "x".into(),
                    exp: 0,
                },
            )
            .unwrap();
        assert_eq!(verify(&b.jwks, &token).unwrap().sub, "x");
        let json = serde_json::to_value(&b.jwks).unwrap();
        let key = &json["keys"][0];
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(key["alg"], "ES256");
        assert_eq!(key["use"], "sig");
        assert!(
            key.get("d").is_none(),
            "the private part is never published: {key}"
        );
    }

    #[test]
    fn rotation_keeps_the_old_key_until_its_tokens_expire() {
        let (_d, store) = db();
        let old = ensure(store.conn(), 1000, 100, 50).unwrap();
        let token = old
            .signing
            .sign(
                "JWT",
                &Claims {
                    sub: "old".into(),
                    exp: 0,
                },
            )
            .unwrap();
        let rotated = ensure(store.conn(), 1100, 100, 50).unwrap();
        assert_ne!(rotated.signing.kid, old.signing.kid);
        assert_eq!(rotated.jwks.keys.len(), 2);
        assert_eq!(
            rotated.jwks.keys[0].common.key_id.as_deref(),
            Some(rotated.signing.kid.as_str())
        );
        assert_eq!(verify(&rotated.jwks, &token).unwrap().sub, "old");
        // Still there at the end of the keep period, gone after it.
        assert_eq!(ensure(store.conn(), 1150, 100, 50).unwrap().jwks.keys.len(), 2);
        let later = ensure(store.conn(), 1151, 100, 50).unwrap();
        assert_eq!(later.jwks.keys.len(), 1);
        assert!(later.jwks.find(&old.signing.kid).is_none());
    }
}
