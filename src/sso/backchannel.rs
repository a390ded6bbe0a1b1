//! Delivery of back-channel logout tokens (OpenID Connect Back-Channel
//! Logout 1.0 §2.5): one form POST of `logout_token` to the client's
//! registered address, over HTTPS checked against the system's
//! certificate authorities (plain HTTP only to localhost, as validated in
//! the settings), within a few seconds; and of CAS single logout
//! requests (one form POST of `logoutRequest` to the service address the
//! ticket was issued for).

use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;
use std::time::Duration;

/// Where Debian keeps the trusted certificate authorities.
const CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";
const TIMEOUT: Duration = Duration::from_secs(5);

fn tls_config() -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    if let Ok(certs) = rustls_pki_types::CertificateDer::pem_file_iter(CA_FILE) {
        for cert in certs.flatten() {
            let _ = roots.add(cert);
        }
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

/// POSTs `logout_token` to `uri`; Ok when the client answers 200 or 204.
pub async fn post_logout_token(uri: &str, token: &str) -> Result<(), String> {
    tokio::time::timeout(TIMEOUT, post(uri, token))
        .await
        .map_err(|_| "no answer within 5 seconds".to_string())?
}

/// How long a CAS service has to take a single logout request.
const CAS_TIMEOUT: Duration = Duration::from_secs(3);

/// POSTs the CAS single logout request `xml` to `service` as the form
/// field `logoutRequest` (CAS Protocol 3.0, Appendix C); Ok when the
/// service answers with a 2xx status within [`CAS_TIMEOUT`].
pub async fn post_cas_logout(service: &str, xml: &str) -> Result<(), String> {
    let body = format!("logoutRequest={}", super::oidc::urlencode(xml));
    match tokio::time::timeout(CAS_TIMEOUT, exchange(service, Some(body))).await {
        Err(_) => Err(format!("no answer within {} seconds", CAS_TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(e),
        Ok(Ok(s)) if (200..300).contains(&s) => Ok(()),
        Ok(Ok(s)) => Err(format!("the service answered {s}")),
    }
}

async fn post(uri: &str, token: &str) -> Result<(), String> {
    let body = format!("logout_token={}", super::oidc::urlencode(token));
    match exchange(uri, Some(body)).await? {
        200 | 204 => Ok(()),
        s => Err(format!("the client answered {s}")),
    }
}

/// One HTTP/1.1 request to `uri` (HTTPS checked against the system's
/// authorities): a form POST of `form` when given, else a GET. Returns
/// the answer's status; no timeout of its own (callers bound it).
pub(crate) async fn exchange(uri: &str, form: Option<String>) -> Result<u16, String> {
    let parsed: hyper::Uri = uri.parse().map_err(|e| format!("bad address: {e}"))?;
    let host = parsed
        .host()
        .ok_or("no host")?
        .trim_matches(['[', ']'])
        .to_string();
    let https = match parsed.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("not an http(s) address".into()),
    };
    let port = parsed.port_u16().unwrap_or(if https { 443 } else { 80 });
    let path = parsed.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let authority = parsed.authority().ok_or("no host")?.to_string();
    let request = match form {
        Some(body) => Request::post(path)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(bytes::Bytes::from(body))),
        None => Request::get(path)
            .header(hyper::header::HOST, authority)
            .body(Full::new(bytes::Bytes::new())),
    }
    .map_err(|e| e.to_string())?;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    if https {
        let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config()?));
        let name = rustls_pki_types::ServerName::try_from(host).map_err(|e| e.to_string())?;
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        send(TokioIo::new(tls), request).await
    } else {
        send(TokioIo::new(tcp), request).await
    }
}

async fn send<T>(io: T, request: Request<Full<bytes::Bytes>>) -> Result<u16, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    Ok(status)
}
