//! TLS material: the self-signed certificate `init` generates, and the
//! rustls server configuration `serve` builds from PEM files.

use crate::config::Establishment;
use anyhow::{Context as _, bail};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// A certificate and its key, PEM-encoded.
pub struct Material {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A self-signed certificate for the server's names: its full name, its
/// short name and localhost (the demo and tests reach it so).
pub fn self_signed(establishment: &Establishment) -> anyhow::Result<Material> {
    let names = vec![
        establishment.fqdn(),
        establishment.hostname.clone(),
        "localhost".to_string(),
    ];
    let mut params = rcgen::CertificateParams::new(names).context("invalid certificate names")?;
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress(std::net::IpAddr::V4(
            std::net::Ipv4Addr::LOCALHOST,
        )));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, establishment.fqdn());
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, establishment.name.clone());
    let now = std::time::SystemTime::now();
    params.not_before = now.into();
    params.not_after = (now + std::time::Duration::from_secs(825 * 24 * 3600)).into();
    let key =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).context("cannot generate a key")?;
    let cert = params.self_signed(&key).context("cannot sign the certificate")?;
    Ok(Material {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Installs ring as rustls' process-wide crypto provider (idempotent).
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A rustls server configuration from PEM files (real paths).
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    install_provider();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate chain", cert.display()))?;
    if certs.is_empty() {
        bail!("{} holds no certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the private key {} (PEM expected)", key.display()))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and private key do not match")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_loads() {
        let e = Establishment {
            uai: "0999999X".into(),
            name: "Collège".into(),
            hostname: "scribe".into(),
            domain: "ecole.lan".into(),
        };
        let m = self_signed(&e).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c"), &m.cert_pem).unwrap();
        std::fs::write(dir.path().join("k"), &m.key_pem).unwrap();
        server_config(&dir.path().join("c"), &dir.path().join("k")).unwrap();
        std::fs::write(dir.path().join("bad"), "not pem").unwrap();
        let err = server_config(&dir.path().join("bad"), &dir.path().join("k")).unwrap_err();
        assert!(format!("{err:#}").contains("holds no certificate"), "{err:#}");
    }
}
