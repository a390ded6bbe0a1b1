//! Files attached in school life (a justification's scan, a homework
//! log entry's documents): one way to receive them (multipart, a size
//! limit, judged by their first bytes, the establishment's accepted
//! types), to store them (a name nobody can guess, mode 0600, through the
//! host layer, under the attachments directory) and to serve them back
//! (as an attachment, never sniffed, never cached).

use crate::config::Config;
use crate::host::{Host, Owner};
use crate::web::AppState;
use crate::web::errors::WebError;
use axum::extract::multipart::Field;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// What a file is, from its first bytes (pure): (media type, extension).
/// Only PDF, JPEG and PNG are recognised; the name and the browser's
/// claimed type are never trusted.
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"%PDF-") {
        Some(("application/pdf", "pdf"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(("image/png", "png"))
    } else {
        None
    }
}

/// A received file: its bytes, media type and extension (from its
/// content), and the name the browser gave (untrusted, for display).
#[derive(Debug, Clone)]
pub struct Received {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub ext: &'static str,
    pub name: String,
}

/// Reads a multipart file field with the size limit and judges it by its
/// first bytes; `None` when no file was chosen; a French message when
/// wrong.
pub async fn read_field(mut field: Field<'_>, max_bytes: u64) -> Result<Option<Received>, String> {
    let name = field.file_name().unwrap_or("").to_string();
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(c)) => {
                if (bytes.len() + c.len()) as u64 > max_bytes {
                    return Err(crate::web::i18n::pick(crate::msg!(
                        en(
                            "The file is too large (at most {} MiB).",
                            max_bytes / (1024 * 1024)
                        ),
                        fr(
                            "Le fichier est trop volumineux (au plus {} Mio).",
                            max_bytes / (1024 * 1024)
                        ),
                    )));
                }
                bytes.extend_from_slice(&c);
            }
            Ok(None) => break,
            Err(_) => {
                return Err(crate::web::i18n::pick(crate::msg!(
                    en(
                        "The file was not received in full (at most {} MiB).",
                        max_bytes / (1024 * 1024)
                    ),
                    fr(
                        "Le fichier n'a pas été reçu en entier (au plus {} Mio).",
                        max_bytes / (1024 * 1024)
                    ),
                )));
            }
        }
    }
    if bytes.is_empty() {
        return Ok(None);
    }
    let Some((mime, ext)) = sniff(&bytes) else {
        return Err(crate::web::i18n::either(
            "Le fichier doit être un PDF, une photo JPEG ou une image PNG.",
            "The file must be a PDF, a JPEG photo or a PNG image.",
        )
        .into());
    };
    Ok(Some(Received {
        bytes,
        mime,
        ext,
        name,
    }))
}

/// Whether the establishment accepts this media type (`attachment_types`):
/// a French message when not.
pub fn accepted(config: &Config, mime: &str) -> Result<(), String> {
    if config.viescolaire.attachment_types.iter().any(|t| t == mime) {
        Ok(())
    } else {
        Err(crate::web::i18n::either(
            "Ce type de fichier n'est pas accepté par l'établissement.",
            "This type of file is not accepted by the school.",
        )
        .into())
    }
}

/// A file name fit to show and to offer for download (pure): the
/// browser's name without its folders, only letters, digits, spaces,
/// dashes, underscores and dots, at most 80 characters, with the
/// extension its content gave.
pub fn clean_name(name: &str, ext: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    let kept: String = stem
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        .take(80)
        .collect();
    let kept = kept.trim().trim_matches('.').trim();
    if kept.is_empty() {
        format!("document.{ext}")
    } else {
        format!("{kept}.{ext}")
    }
}

/// Stores a file under `attachments_dir/{folder}/` with a random name,
/// mode 0600: (path relative to the attachments directory, SHA-256 hex).
pub fn store(
    web: &AppState,
    config: &Config,
    folder: &str,
    bytes: &[u8],
    ext: &str,
) -> Result<(String, String), WebError> {
    let dir = crate::modules::viescolaire::attachments_dir(config).join(folder);
    if web.host.meta(&dir).map_err(anyhow::Error::from)?.is_none() {
        web.host
            .create_dir(&dir, 0o700, &Owner::root())
            .map_err(anyhow::Error::from)?;
    }
    let token: [u8; 16] = rand::random();
    let name: String = token.iter().map(|b| format!("{b:02x}")).collect();
    web.host
        .write_file(&dir.join(format!("{name}.{ext}")), bytes, 0o600, &Owner::root())
        .map_err(anyhow::Error::from)?;
    let sha: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    Ok((format!("{folder}/{name}.{ext}"), sha))
}

/// Whether a stored relative path stays under the attachments directory.
fn safe(rel: &str) -> bool {
    !rel.contains("..") && !rel.starts_with('/')
}

/// Reads a stored file back; `None` when gone.
pub fn load(web: &AppState, config: &Config, rel: &str) -> Result<Option<Vec<u8>>, WebError> {
    if !safe(rel) {
        return Ok(None);
    }
    let path = crate::modules::viescolaire::attachments_dir(config).join(rel);
    Ok(web.host.read(&path).map_err(anyhow::Error::from)?)
}

/// Removes a stored file (already gone is fine).
pub fn remove(web: &AppState, config: &Config, rel: &str) -> Result<(), WebError> {
    if !safe(rel) {
        return Ok(());
    }
    let path = crate::modules::viescolaire::attachments_dir(config).join(rel);
    if web.host.meta(&path).map_err(anyhow::Error::from)?.is_some() {
        web.host.remove_file(&path).map_err(anyhow::Error::from)?;
    }
    Ok(())
}

/// The file as a download: its media type, `Content-Disposition:
/// attachment`, `nosniff`, never cached.
pub fn serve(bytes: Vec<u8>, mime: &str, filename: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_judged_by_their_first_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n...").unwrap().0, "application/pdf");
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]).unwrap().1, "jpg");
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0])
                .unwrap()
                .0,
            "image/png"
        );
        for bad in [
            &b"<html><script>alert(1)</script>"[..],
            b"GIF89a",
            b"%PD",
            b"",
            b"PK\x03\x04",
            &[0x89, b'P', b'N', b'G'],
        ] {
            assert_eq!(sniff(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_cleaned_and_take_the_content_extension() {
        assert_eq!(
            clean_name("Exercices fractions.pdf", "pdf"),
            "Exercices fractions.pdf"
        );
        assert_eq!(clean_name("C:\\Users\\x\\carte.PNG", "png"), "carte.png");
        assert_eq!(clean_name("../../etc/passwd", "pdf"), "passwd.pdf");
        assert_eq!(clean_name("<script>.html", "jpg"), "script.jpg");
        assert_eq!(clean_name("", "pdf"), "document.pdf");
        assert_eq!(clean_name("\"; rm", "pdf"), "rm.pdf");
        assert_eq!(clean_name(&"é".repeat(200), "pdf").chars().count(), 84);
    }
}
