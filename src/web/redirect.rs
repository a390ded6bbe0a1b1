//! The plain-HTTP listener (`[server] redirect_listen`): every request is
//! answered with a permanent redirect to the same host and path over
//! HTTPS, and nothing else is served on it.

use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// Where a plain-HTTP request is sent: `https://<host><path>`, the host
/// without its port when `https_port` is 443, with it otherwise. None when
/// the Host header is missing or not a plausible host name.
pub fn target(headers: &HeaderMap, uri: &Uri, https_port: u16) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = match host.rsplit_once(':') {
        Some((n, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !n.ends_with(':') => n,
        _ => host,
    };
    let plausible = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    if !plausible {
        return None;
    }
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    Some(if https_port == 443 {
        format!("https://{name}{path}")
    } else {
        format!("https://{name}:{https_port}{path}")
    })
}

/// The handler of every plain-HTTP request.
pub fn answer(headers: &HeaderMap, uri: &Uri, https_port: u16) -> Response {
    match target(headers, uri, https_port) {
        Some(to) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, to)]).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Adresse invalide : utilisez https://\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::HOST, h.parse().unwrap());
        m
    }

    #[test]
    fn redirects_to_https_same_host() {
        let uri: Uri = "/console?x=1".parse().unwrap();
        assert_eq!(
            target(&host("preau.lan"), &uri, 443).as_deref(),
            Some("https://preau.lan/console?x=1")
        );
        assert_eq!(
            target(&host("preau.lan:80"), &uri, 8443).as_deref(),
            Some("https://preau.lan:8443/console?x=1")
        );
        assert_eq!(
            target(&host("[::1]:80"), &uri, 443).as_deref(),
            Some("https://[::1]/console?x=1")
        );
        assert_eq!(target(&host("evil/x"), &uri, 443), None);
        assert_eq!(target(&HeaderMap::new(), &uri, 443), None);
    }
}
