//! The security headers every answer carries, web pages and transport
//! routes alike.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;

/// The Content-Security-Policy: our own files only, no inline script or
/// style, no framing, forms only to ourselves.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

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
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
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
}
