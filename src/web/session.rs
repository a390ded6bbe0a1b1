//! Server-side sessions in the store (`web_sessions`).
//!
//! The cookie `__Host-preau` holds a 256-bit random token; the database
//! keeps only its SHA-256, so a copy of the database opens no session. A
//! session ends after [`Timeouts::idle`] without a request or
//! [`Timeouts::absolute`] after sign-in, whichever comes first. Signing in
//! always creates a new token (rotation); "sign out everywhere" deletes
//! every session of the account.

use crate::store::{Store, StoreError};
use axum::http::HeaderMap;
use axum::http::header;
use base64::Engine;
use rusqlite::{OptionalExtension, params};
use sha2::Digest;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The session cookie's name (`__Host-`: Secure, Path=/, no Domain).
pub const COOKIE: &str = "__Host-preau";

/// When sessions end.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
        }
    }
}

/// How often `seen_at` is written: at most once a minute per session, so
/// that reading pages does not write to the database each time.
const SEEN_RESOLUTION: i64 = 60;

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub login: String,
    /// A console administrator (the `admins` table), not a directory person.
    pub admin: bool,
    /// The per-session token every form carries.
    pub csrf: String,
    /// The person must change their initial password first.
    pub must_change: bool,
    /// SHA-256 of the token (hex): the row's key.
    pub key: String,
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A new random token (256 bits, base64url).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a session created at `created` and last seen at `seen` has
/// ended at `now`.
pub fn expired(created: i64, seen: i64, now: i64, t: &Timeouts) -> bool {
    now - seen > t.idle.as_secs() as i64 || now - created > t.absolute.as_secs() as i64 || now < created
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The session token of a request, if any.
pub fn token_from(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// The `Set-Cookie` value for a session token.
pub fn set_cookie(token: &str) -> String {
    format!("{COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Creates a session; returns its token (to put in the cookie).
pub fn create(
    store: &mut Store,
    login: &str,
    admin: bool,
    must_change: bool,
    address: &str,
    now: i64,
) -> Result<String, StoreError> {
    let token = new_token();
    let key = token_hash(&token);
    let csrf = new_token();
    store.write(|tx| {
        tx.execute(
            "INSERT INTO web_sessions (token_sha256, login, admin, csrf, created_at, seen_at, address, must_change)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
            params![key, login, admin, csrf, now, address, must_change],
        )?;
        // Old sessions of everybody are swept here, at sign-in.
        tx.execute(
            "DELETE FROM web_sessions WHERE created_at < ?1",
            [now - Timeouts::default().absolute.as_secs() as i64],
        )?;
        Ok::<_, StoreError>(())
    })?;
    Ok(token)
}

/// The live session of `token`; an expired one is deleted.
pub fn lookup(store: &mut Store, token: &str, now: i64, t: &Timeouts) -> Result<Option<Session>, StoreError> {
    let key = token_hash(token);
    let row: Option<(String, bool, String, bool, i64, i64)> = store
        .conn()
        .prepare_cached(
            "SELECT login, admin, csrf, must_change, created_at, seen_at FROM web_sessions WHERE token_sha256 = ?1",
        )?
        .query_row([&key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?;
    let Some((login, admin, csrf, must_change, created, seen)) = row else {
        return Ok(None);
    };
    if expired(created, seen, now, t) {
        delete(store, token)?;
        return Ok(None);
    }
    if now - seen >= SEEN_RESOLUTION {
        store.write(|tx| {
            tx.execute(
                "UPDATE web_sessions SET seen_at = ?2 WHERE token_sha256 = ?1",
                params![key, now],
            )
        })?;
    }
    Ok(Some(Session {
        login,
        admin,
        csrf,
        must_change,
        key,
    }))
}

/// Ends one session.
pub fn delete(store: &mut Store, token: &str) -> Result<(), StoreError> {
    let key = token_hash(token);
    store.write(|tx| tx.execute("DELETE FROM web_sessions WHERE token_sha256 = ?1", [key]))?;
    Ok(())
}

/// Ends every session of an account ("sign out everywhere", disabling).
pub fn delete_all(store: &mut Store, login: &str) -> Result<usize, StoreError> {
    Ok(store.write(|tx| tx.execute("DELETE FROM web_sessions WHERE login = ?1", [login]))?)
}

/// Ends every session of an account but `keep` (a session key).
pub fn delete_others(store: &mut Store, login: &str, keep: &str) -> Result<usize, StoreError> {
    Ok(store.write(|tx| {
        tx.execute(
            "DELETE FROM web_sessions WHERE login = ?1 AND token_sha256 != ?2",
            [login, keep],
        )
    })?)
}

/// Marks the password as changed in the account's sessions.
pub fn password_changed(store: &mut Store, login: &str) -> Result<(), StoreError> {
    store.write(|tx| {
        tx.execute(
            "UPDATE web_sessions SET must_change = 0 WHERE login = ?1",
            [login],
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        let t = Timeouts {
            idle: Duration::from_secs(100),
            absolute: Duration::from_secs(1000),
        };
        assert!(!expired(0, 0, 100, &t));
        assert!(expired(0, 0, 101, &t));
        assert!(!expired(0, 950, 1000, &t));
        assert!(expired(0, 950, 1001, &t));
        assert!(expired(10, 10, 5, &t), "a clock going back ends the session");
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 43, "256 bits in base64url");
        assert_ne!(a, new_token());
        let h = token_hash(&a);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&a));
    }

    #[test]
    fn cookie_flags() {
        let c = set_cookie("abc");
        assert!(c.starts_with("__Host-preau=abc;"));
        for flag in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
            assert!(c.contains(flag), "{c}");
        }
        assert!(!c.contains("Domain"));
    }

    #[test]
    fn cookies_are_parsed() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; __Host-preau=tok; b=2".parse().unwrap());
        assert_eq!(token_from(&h).as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn store_sessions() {
        let (_d, mut store) = crate::directory::tests::store();
        let t = Timeouts::default();
        let tok = create(&mut store, "lea", false, true, "127.0.0.1", 1000).unwrap();
        let s = lookup(&mut store, &tok, 1010, &t).unwrap().unwrap();
        assert_eq!((s.login.as_str(), s.must_change), ("lea", true));
        let stored: String = store
            .conn()
            .query_row("SELECT group_concat(token_sha256) FROM web_sessions", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(!stored.contains(&tok));
        assert!(
            lookup(&mut store, &tok, 1000 + 31 * 60, &t).unwrap().is_none(),
            "idle timeout"
        );
        assert!(
            lookup(&mut store, &tok, 1010, &t).unwrap().is_none(),
            "expired sessions are deleted"
        );
        let a = create(&mut store, "lea", false, false, "::1", 2000).unwrap();
        let b = create(&mut store, "lea", false, false, "::1", 2000).unwrap();
        assert_eq!(delete_all(&mut store, "lea").unwrap(), 2);
        assert!(lookup(&mut store, &a, 2001, &t).unwrap().is_none());
        assert!(lookup(&mut store, &b, 2001, &t).unwrap().is_none());
    }
}
