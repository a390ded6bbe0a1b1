//! The TOTP second factor of console administrators (RFC 6238 over the
//! HOTP of RFC 4226, HMAC-SHA1, 6 digits, 30-second steps — what every
//! authenticator application speaks), and its one-time recovery codes.
//!
//! Pure parts: [`hotp`], [`verify`] (±1 step, a step never accepted
//! twice nor before the last accepted one), [`otpauth_uri`], [`qr_svg`]
//! (drawn on the server, no external service), [`normalize_recovery`].
//! Store parts (tables of migration 10): enrolment begun ([`begin`]),
//! confirmed by a first code ([`confirm`], which returns the recovery
//! codes to show once; only their SHA-256 is kept), the check at sign-in
//! ([`check`]: a code, or a recovery code used once), and [`disable`].
//! The pending sign-in between the password and the code is
//! [`pending_create`] / [`pending_take`].

use crate::store::{Store, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

/// Seconds per step.
pub const STEP: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Recovery codes given at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// How long a sign-in may wait for its code, in seconds.
pub const PENDING_SECONDS: i64 = 300;
/// Wrong codes after which a pending sign-in is dropped.
pub const PENDING_FAILURES: i64 = 5;
/// The pending sign-in's cookie.
pub const COOKIE: &str = "__Host-preau-2fa";

/// HOTP (RFC 4226): the `digits`-digit code of `secret` at `counter`.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = ring::hmac::sign(&key, &counter.to_be_bytes());
    let h = tag.as_ref();
    let offset = (h[h.len() - 1] & 0x0f) as usize;
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    bin % 10u32.pow(digits)
}

/// The time step of `unix`.
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP)
}

/// The step a 6-digit `code` matches at `now` (the step before, this one
/// or the next, for clocks a little off), provided it is later than
/// `last_step`: a code already used (or an older one) is refused.
pub fn verify(secret: &[u8], code: &str, now: i64, last_step: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let given: u32 = code.parse().ok()?;
    let now_step = step_of(now);
    let mut found = None;
    // Every candidate is computed (no early exit), compared in constant time.
    for step in [now_step - 1, now_step, now_step + 1] {
        if step < 0 {
            continue;
        }
        let expected = hotp(secret, step as u64, DIGITS);
        let same = crate::web::csrf::matches(&format!("{expected:06}"), &format!("{given:06}"));
        if same && step > last_step && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The secret as people type it (RFC 4648 base32, no padding).
pub fn secret_text(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The secret in groups of four, easier to type.
pub fn secret_grouped(secret: &[u8]) -> String {
    let s = secret_text(secret);
    s.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn uri_part(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The `otpauth://` URI authenticator applications read from the QR code.
pub fn otpauth_uri(issuer: &str, login: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        uri_part(issuer),
        uri_part(login),
        secret_text(secret),
        uri_part(issuer)
    )
}

/// The QR code of `text` as an SVG document (dark modules on white).
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build(),
    )
}

/// A recovery code as typed: lower case, without spaces or dashes.
pub fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn sha256_hex(s: &str) -> String {
    crate::web::session::token_hash(s)
}

/// New recovery codes: ten of 10 base32 characters shown as "xxxxx-xxxxx".
fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes: [u8; 7] = rand::random();
            let s = data_encoding::BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
            format!("{}-{}", &s[..5], &s[5..10])
        })
        .collect()
}

/// An administrator's second factor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub secret: Vec<u8>,
    pub confirmed: bool,
    pub last_step: i64,
    /// Recovery codes not used yet.
    pub recovery_left: i64,
}

/// The second factor of `login`, begun or confirmed.
pub fn enrolment(conn: &Connection, login: &str) -> rusqlite::Result<Option<Enrolment>> {
    conn.query_row(
        "SELECT secret, confirmed_at IS NOT NULL, last_step,
                (SELECT count(*) FROM admin_recovery_codes r WHERE r.login = t.login AND r.used_at IS NULL)
         FROM admin_totp t WHERE login = ?1",
        [login],
        |r| {
            Ok(Enrolment {
                secret: r.get(0)?,
                confirmed: r.get(1)?,
                last_step: r.get(2)?,
                recovery_left: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Whether `login` must give a code at sign-in.
pub fn required(conn: &Connection, login: &str) -> rusqlite::Result<bool> {
    Ok(enrolment(conn, login)?.is_some_and(|e| e.confirmed))
}

/// Begins (or begins again) an enrolment with a new secret; a confirmed
/// one is left alone (None).
pub fn begin(store: &mut Store, login: &str, now: i64) -> Result<Option<Vec<u8>>, StoreError> {
    let secret: [u8; 20] = rand::random();
    let changed = store.write(|tx| {
        tx.execute(
            "INSERT INTO admin_totp (login, secret, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(login) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at
             WHERE admin_totp.confirmed_at IS NULL",
            params![login, secret.to_vec(), now],
        )
    })?;
    Ok((changed > 0).then(|| secret.to_vec()))
}

/// Confirms a begun enrolment with a first code; returns the recovery
/// codes (to show once), or None when the code is wrong.
pub fn confirm(
    store: &mut Store,
    login: &str,
    code: &str,
    now: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    store.write(|tx| {
        let Some(e) = enrolment(tx, login)? else {
            return Ok(None);
        };
        if e.confirmed {
            return Ok(None);
        }
        let Some(step) = verify(&e.secret, code, now, e.last_step) else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE admin_totp SET confirmed_at = ?2, last_step = ?3 WHERE login = ?1",
            params![login, now, step],
        )?;
        tx.execute("DELETE FROM admin_recovery_codes WHERE login = ?1", [login])?;
        let codes = new_recovery_codes();
        for c in &codes {
            tx.execute(
                "INSERT INTO admin_recovery_codes (login, code_sha256) VALUES (?1, ?2)",
                params![login, sha256_hex(&normalize_recovery(c))],
            )?;
        }
        Ok(Some(codes))
    })
}

/// How a second factor was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Given {
    Code,
    Recovery,
}

/// Checks a code (or a recovery code, used up) for a confirmed
/// enrolment; records the accepted step so the code cannot be replayed.
pub fn check(store: &mut Store, login: &str, given: &str, now: i64) -> Result<Option<Given>, StoreError> {
    store.write(|tx| {
        let Some(e) = enrolment(tx, login)? else {
            return Ok(None);
        };
        if !e.confirmed {
            return Ok(None);
        }
        if let Some(step) = verify(&e.secret, given, now, e.last_step) {
            tx.execute(
                "UPDATE admin_totp SET last_step = ?2 WHERE login = ?1 AND last_step < ?2",
                params![login, step],
            )?;
            return Ok(Some(Given::Code));
        }
        let norm = normalize_recovery(given);
        if norm.len() != 10 {
            return Ok(None);
        }
        let used = tx.execute(
            "UPDATE admin_recovery_codes SET used_at = ?3
             WHERE login = ?1 AND code_sha256 = ?2 AND used_at IS NULL",
            params![login, sha256_hex(&norm), now],
        )?;
        Ok((used > 0).then_some(Given::Recovery))
    })
}

/// Removes the second factor (and its recovery codes).
pub fn disable(store: &mut Store, login: &str) -> Result<(), StoreError> {
    store.write(|tx| {
        tx.execute("DELETE FROM admin_recovery_codes WHERE login = ?1", [login])?;
        tx.execute("DELETE FROM admin_totp WHERE login = ?1", [login])?;
        tx.execute("DELETE FROM admin_totp_pending WHERE login = ?1", [login])?;
        Ok(())
    })
}

/// Records a sign-in waiting for its code; returns the browser's token.
pub fn pending_create(store: &mut Store, login: &str, address: &str, now: i64) -> Result<String, StoreError> {
    let token = crate::web::session::new_token();
    store.write(|tx| {
        tx.execute(
            "DELETE FROM admin_totp_pending WHERE created_at < ?1",
            [now - PENDING_SECONDS],
        )?;
        tx.execute(
            "INSERT INTO admin_totp_pending (token_sha256, login, created_at, address) VALUES (?1, ?2, ?3, ?4)",
            params![sha256_hex(&token), login, now, address],
        )
    })?;
    Ok(token)
}

/// The login of a pending sign-in still in time, if any.
pub fn pending_login(conn: &Connection, token: &str, now: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT login FROM admin_totp_pending WHERE token_sha256 = ?1 AND created_at >= ?2 AND failures < ?3",
        params![sha256_hex(token), now - PENDING_SECONDS, PENDING_FAILURES],
        |r| r.get(0),
    )
    .optional()
}

/// Counts a wrong code for a pending sign-in.
pub fn pending_failed(store: &mut Store, token: &str) -> Result<(), StoreError> {
    store.write(|tx| {
        tx.execute(
            "UPDATE admin_totp_pending SET failures = failures + 1 WHERE token_sha256 = ?1",
            [sha256_hex(token)],
        )
    })?;
    Ok(())
}

/// Ends a pending sign-in (done or abandoned).
pub fn pending_end(store: &mut Store, token: &str) -> Result<(), StoreError> {
    store.write(|tx| {
        tx.execute(
            "DELETE FROM admin_totp_pending WHERE token_sha256 = ?1",
            [sha256_hex(token)],
        )
    })?;
    Ok(())
}

/// The `Set-Cookie` of a pending sign-in.
pub fn set_cookie(token: &str) -> String {
    format!("{COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={PENDING_SECONDS}")
}

/// The `Set-Cookie` that removes it.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    /// RFC 6238, appendix B (SHA-1 column), 8 digits.
    #[test]
    fn rfc_6238_test_vectors() {
        for (time, code) in [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(RFC_SECRET, step_of(time) as u64, 8), code, "T = {time}");
        }
    }

    /// RFC 4226, appendix D: HOTP values for counters 0 to 9.
    #[test]
    fn rfc_4226_test_vectors() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64, 6), *code);
        }
    }

    #[test]
    fn codes_are_accepted_one_step_either_side_and_never_twice() {
        let now = 1_111_111_111;
        let step = step_of(now);
        let code = |s: i64| format!("{:06}", hotp(RFC_SECRET, s as u64, 6));
        assert_eq!(verify(RFC_SECRET, &code(step), now, 0), Some(step));
        assert_eq!(verify(RFC_SECRET, &code(step - 1), now, 0), Some(step - 1));
        assert_eq!(verify(RFC_SECRET, &code(step + 1), now, 0), Some(step + 1));
        assert_eq!(verify(RFC_SECRET, &code(step - 2), now, 0), None);
        assert_eq!(verify(RFC_SECRET, &code(step + 2), now, 0), None);
        // Replay: the step was already used, or a later one was.
        assert_eq!(verify(RFC_SECRET, &code(step), now, step), None);
        assert_eq!(verify(RFC_SECRET, &code(step - 1), now, step - 1), None);
        assert_eq!(verify(RFC_SECRET, &code(step), now, step - 1), Some(step));
        // Spaces are allowed, anything else is not a code.
        let spaced = format!("{} {}", &code(step)[..3], &code(step)[3..]);
        assert_eq!(verify(RFC_SECRET, &spaced, now, 0), Some(step));
        for bad in ["", "12345", "1234567", "abcdef", "-12345", "+12345"] {
            assert_eq!(verify(RFC_SECRET, bad, now, 0), None, "{bad}");
        }
    }

    #[test]
    fn uri_secret_and_qr_code() {
        assert_eq!(secret_text(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(secret_grouped(RFC_SECRET).split(' ').count(), 8);
        let uri = otpauth_uri("Préau Collège", "admin", RFC_SECRET);
        assert!(
            uri.starts_with("otpauth://totp/Pr%C3%A9au%20Coll%C3%A8ge:admin?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer="),
            "{uri}"
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn recovery_codes_are_normalized() {
        assert_eq!(normalize_recovery(" AbCde-fGh12 "), "abcdefgh12");
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(normalize_recovery(c).len(), 10, "{c}");
        }
    }

    #[test]
    fn enrol_confirm_check_replay_recover_disable() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("p.db")).unwrap();
        store.add_admin("admin", "x").unwrap();
        let now = 1_790_000_000;
        assert!(!required(store.conn(), "admin").unwrap());
        let secret = begin(&mut store, "admin", now).unwrap().unwrap();
        assert!(
            !required(store.conn(), "admin").unwrap(),
            "not before confirmation"
        );
        let code = |t: i64| format!("{:06}", hotp(&secret, step_of(t) as u64, 6));
        assert_eq!(confirm(&mut store, "admin", "000000x", now).unwrap(), None);
        let codes = confirm(&mut store, "admin", &code(now), now).unwrap().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(required(store.conn(), "admin").unwrap());
        // A confirmed enrolment is not restarted.
        assert_eq!(begin(&mut store, "admin", now).unwrap(), None);
        // The code of the confirmation cannot sign in (replay); the next one can, once.
        assert_eq!(check(&mut store, "admin", &code(now), now).unwrap(), None);
        let later = now + STEP;
        assert_eq!(
            check(&mut store, "admin", &code(later), later).unwrap(),
            Some(Given::Code)
        );
        assert_eq!(check(&mut store, "admin", &code(later), later).unwrap(), None);
        // A recovery code works once.
        assert_eq!(
            check(&mut store, "admin", &codes[0].to_uppercase(), later).unwrap(),
            Some(Given::Recovery)
        );
        assert_eq!(check(&mut store, "admin", &codes[0], later).unwrap(), None);
        assert_eq!(
            enrolment(store.conn(), "admin").unwrap().unwrap().recovery_left,
            RECOVERY_CODES as i64 - 1
        );
        // Nothing stored in clear.
        let stored: String = store
            .conn()
            .query_row(
                "SELECT group_concat(code_sha256) FROM admin_recovery_codes",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!stored.contains(&normalize_recovery(&codes[1])));
        // Pending sign-ins expire and count failures.
        let t = pending_create(&mut store, "admin", "192.0.2.1", now).unwrap();
        assert_eq!(
            pending_login(store.conn(), &t, now).unwrap().as_deref(),
            Some("admin")
        );
        assert_eq!(
            pending_login(store.conn(), &t, now + PENDING_SECONDS + 1).unwrap(),
            None
        );
        for _ in 0..PENDING_FAILURES {
            pending_failed(&mut store, &t).unwrap();
        }
        assert_eq!(pending_login(store.conn(), &t, now).unwrap(), None);
        disable(&mut store, "admin").unwrap();
        assert!(!required(store.conn(), "admin").unwrap());
        assert!(enrolment(store.conn(), "admin").unwrap().is_none());
    }
}
