//! Cross-site request forgery: two locks, both required for a form post.
//! 1. [`same_origin`]: the browser says where the form comes from
//!    (`Sec-Fetch-Site`, else `Origin` against `Host`); another site's
//!    form is refused before anything runs.
//! 2. A token in every form: the session's own token once signed in, or
//!    the `__Host-preau-csrf` cookie's value on the sign-in form (before a
//!    session exists), compared in constant time ([`matches`]).

use axum::http::{HeaderMap, header};

/// The cookie carrying the sign-in form's token.
pub const SIGNIN_COOKIE: &str = "__Host-preau-csrf";

/// Whether a state-changing request comes from our own pages.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let origin_host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .unwrap_or("");
            !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
        }
        // Neither header: not a browser's cross-site post (browsers send
        // Origin with every cross-site POST); the token still has to match.
        None => true,
    }
}

/// Constant-time comparison of the expected and the given token.
pub fn matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    !a.is_empty() && a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Set-Cookie` value for the sign-in form's token.
pub fn signin_cookie(token: &str) -> String {
    format!("{SIGNIN_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[
            ("origin", "https://preau.lan"),
            ("host", "preau.lan")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "https://evil.test"),
            ("host", "preau.lan")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "null"),
            ("host", "preau.lan")
        ])));
        assert!(same_origin(&headers(&[])));
    }

    #[test]
    fn tokens() {
        assert!(matches("abc", "abc"));
        assert!(!matches("abc", "abd"));
        assert!(!matches("abc", "ab"));
        assert!(!matches("", ""));
    }
}
