//! The security headers every answer carries, web pages and transport
//! routes alike.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;

/// The Content-Security-Policy: our own files only, no inline script or
/// style, no framing, forms only to ourselves.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The origin ("https://host:port") of an absolute http(s) URL, when it
/// is made of plain host characters only.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')))
    .then(|| format!("{scheme}://{host}"))
}

/// [`CSP`] whose forms may also go to `origins`: a form whose answer
/// redirects to another site (the consent form sends the browser back to
/// the service) is otherwise blocked by the browser.
pub fn csp_with_form_action(origins: &[String]) -> String {
    let mut extra = String::new();
    for o in origins {
        if let Some(o) = origin_of(o)
            && !extra.contains(&o)
        {
            extra.push(' ');
            extra.push_str(&o);
        }
    }
    CSP.replace("form-action 'self'", &format!("form-action 'self'{extra}"))
}

/// Adds the headers to a response.
pub fn add(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // A handler may widen `form-action` (single sign-on sends a form's
    // answer on to a registered service): see [`csp_with_form_action`].
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // Pages show personal data: never cached by the browser or a proxy,
    // unless the handler said otherwise (hashed assets).
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

async fn layer(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    add(&mut response);
    response
}

/// Wraps a whole router.
pub fn secure(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(layer))
}

#[cfg(test)]
mod tests {
    #[test]
    fn csp_forbids_inline_and_framing() {
        assert!(!super::CSP.contains("unsafe-inline"));
        assert!(!super::CSP.contains("unsafe-eval"));
        assert!(super::CSP.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn form_action_widened_to_origins_only() {
        assert_eq!(
            super::origin_of("https://cloud.lan:8443/cb?x=1").as_deref(),
            Some("https://cloud.lan:8443")
        );
        assert_eq!(super::origin_of("javascript:alert(1)"), None);
        assert_eq!(super::origin_of("https://a b/"), None);
        assert_eq!(super::origin_of("https://a;script-src *"), None);
        let csp = super::csp_with_form_action(&["http://localhost:9000/retour".into(), "bad".into()]);
        assert!(csp.contains("form-action 'self' http://localhost:9000;"), "{csp}");
        assert!(!csp.contains("unsafe-inline"));
    }
}
