//! Passwords of directory accounts.
//!
//! - Initial passwords are syllables and digits ("tavopiru42"): easy to
//!   read and type for an 11-year-old, no look-alike letters, and with the
//!   default 4 syllables + 2 digits about 31 bits from the OS's CSPRNG —
//!   enough against online guessing (Samba and the web console rate-limit)
//!   and not guessable from the name or birth date as the old
//!   "date of birth" schemes were.
//! - Samba needs the NT hash (MD4 of the UTF-16LE password), computed at
//!   once: MD4 costs nothing.
//! - Préau's own web logins use argon2id. At the default cost one hash takes
//!   tens of milliseconds, so hashing every initial password during an
//!   import of 3,000 people would take minutes. Instead the argon2id hash is
//!   computed lazily ([`verify`]): while a person still has their initial
//!   password, the database keeps it (it is needed anyway to print login
//!   sheets) and the first successful login hashes it. Setting a password
//!   (`accounts passwd`) hashes at once and forgets the clear text.

use md4::{Digest, Md4};
use rand::RngExt;

const CONSONANTS: &[u8] = b"bdfgjkmnprstvz";
const VOWELS: &[u8] = b"aeiou";

/// An initial password: `syllables` consonant+vowel pairs then `digits`
/// digits.
pub fn initial_password(syllables: u32, digits: u32) -> String {
    let mut rng = rand::rng();
    let mut out = String::new();
    for _ in 0..syllables {
        out.push(CONSONANTS[rng.random_range(0..CONSONANTS.len())] as char);
        out.push(VOWELS[rng.random_range(0..VOWELS.len())] as char);
    }
    for _ in 0..digits {
        out.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    out
}

/// Bits of entropy of [`initial_password`] with these settings.
pub fn entropy_bits(syllables: u32, digits: u32) -> f64 {
    syllables as f64 * ((CONSONANTS.len() * VOWELS.len()) as f64).log2() + digits as f64 * 10f64.log2()
}

/// The NT hash Samba stores: MD4 of the UTF-16LE password, upper-case hex.
pub fn nt_hash(password: &str) -> String {
    let mut h = Md4::new();
    for unit in password.encode_utf16() {
        h.update(unit.to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02X}")).collect()
}

/// What [`verify`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Matched the initial password: store this argon2id hash now.
    YesHashNow(String),
}

/// Checks a password against a stored argon2id hash, or the initial
/// password when no hash exists yet (lazy hashing, see the module docs).
pub fn verify(password: &str, hash: Option<&str>, initial: Option<&str>) -> Verified {
    if let Some(h) = hash {
        return if crate::auth::verify_password(password, h) {
            Verified::Yes
        } else {
            Verified::No
        };
    }
    match initial {
        Some(i) if constant_time_eq(i.as_bytes(), password.as_bytes()) => {
            match crate::auth::hash_password(password) {
                Ok(h) => Verified::YesHashNow(h),
                Err(_) => Verified::Yes,
            }
        }
        _ => Verified::No,
    }
}

/// Checks the password of an active account, the one verification of
/// every login (proxy, web console): the stored argon2id hash, or the
/// initial password, whose hash is then stored (lazy hashing; when the
/// connection is read-only the hash is simply computed again next time).
/// Returns the person's kind when the password is theirs; a database
/// error is an error, never "unknown user".
pub fn authenticate(
    conn: &rusqlite::Connection,
    login: &str,
    password: &str,
) -> rusqlite::Result<Option<super::Kind>> {
    use rusqlite::OptionalExtension;
    let row: Option<(String, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT kind, password_hash, initial_password FROM people WHERE login = ?1 AND status = 'active'",
            [login],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((kind, hash, initial)) = row else {
        return Ok(None);
    };
    match verify(password, hash.as_deref(), initial.as_deref()) {
        Verified::No => Ok(None),
        Verified::Yes => Ok(super::Kind::parse(&kind)),
        Verified::YesHashNow(h) => {
            if let Err(e) = conn.execute(
                "UPDATE people SET password_hash = ?2 WHERE login = ?1 AND password_hash IS NULL",
                [login, h.as_str()],
            ) {
                log::warn!(login = login, error = e.to_string().as_str(); "password hash not stored (it is computed again at the next login)");
            }
            Ok(super::Kind::parse(&kind))
        }
    }
}

/// Shortest password a person may choose (the CLI's and the web's rule).
pub const MIN_LENGTH: usize = 8;

/// Why a chosen password is refused, if it is: `(English, French)`.
pub fn policy_problem(password: &str) -> Option<(&'static str, &'static str)> {
    (password.chars().count() < MIN_LENGTH).then_some((
        "the password is too short",
        "Le mot de passe est trop court : au moins 8 caractères.",
    ))
}

/// Sets a person's password in the directory: the argon2id and NT hashes
/// for a chosen one (the clear text is forgotten), or, for a `generated`
/// one, the NT hash and the initial password (printable on a slip, hashed
/// at first use) with `must_change`. Samba and the proxy accept it once the
/// accounts module has projected the NT hash (`preau apply accounts`).
pub fn set(
    conn: &rusqlite::Connection,
    person_id: i64,
    password: &str,
    generated: bool,
    must_change: bool,
) -> anyhow::Result<()> {
    let hash = if generated {
        None
    } else {
        Some(crate::auth::hash_password(password)?)
    };
    conn.execute(
        &format!(
            "UPDATE people SET password_hash = ?2, nt_hash = ?3, initial_password = ?4, must_change = ?5,
                 password_changed_at = {0}, updated_at = {0} WHERE id = ?1",
            super::NOW
        ),
        rusqlite::params![
            person_id,
            hash,
            nt_hash(password),
            if generated { Some(password) } else { None },
            generated && must_change
        ],
    )?;
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nt_hash_known_values() {
        // Reference values from Samba / MS-NLMP.
        assert_eq!(nt_hash("password"), "8846F7EAEE8FB117AD06BDD830B7586C");
        assert_eq!(nt_hash(""), "31D6CFE0D16AE931B73C59D7E0C089C0");
    }

    #[test]
    fn initial_passwords_shape() {
        let p = initial_password(4, 2);
        assert_eq!(p.len(), 10);
        assert!(p[..8].bytes().all(|b| b.is_ascii_lowercase()));
        assert!(p[8..].bytes().all(|b| b.is_ascii_digit()));
        assert!(!p.contains(['l', 'o', 'i']) || p.contains(['o', 'i']));
        assert!(entropy_bits(4, 2) > 30.0);
        let many: std::collections::HashSet<String> = (0..1000).map(|_| initial_password(4, 2)).collect();
        assert!(many.len() > 990);
    }

    #[test]
    fn lazy_hashing() {
        assert_eq!(verify("x", None, Some("y")), Verified::No);
        let Verified::YesHashNow(h) = verify("babi12", None, Some("babi12")) else {
            panic!()
        };
        assert_eq!(verify("babi12", Some(&h), None), Verified::Yes);
        assert_eq!(verify("nope", Some(&h), Some("nope")), Verified::No);
    }
}
