//! Embedded assets (CSS, JavaScript) served under hashed URLs
//! (`/static/preau.3f2a9c1d.css`) with a year of caching: a new binary
//! with a changed file gets a new URL, so browsers never keep a stale one.

use crate::web::forms::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(RustEmbed)]
#[folder = "src/web/assets/"]
struct Files;

/// One asset: its hashed name, bytes and media type.
struct Asset {
    hashed: String,
    bytes: Vec<u8>,
    mime: &'static str,
}

fn mime_of(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// `name.ext` → `name.<first 8 hex digits of SHA-256>.ext`.
fn hashed_name(name: &str, sha256: &[u8; 32]) -> String {
    let short: String = sha256[..4].iter().map(|b| format!("{b:02x}")).collect();
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{short}.{ext}"),
        None => format!("{name}.{short}"),
    }
}

static ASSETS: LazyLock<HashMap<String, Asset>> = LazyLock::new(|| {
    Files::iter()
        .filter_map(|name| {
            let file = Files::get(&name)?;
            Some((
                name.to_string(),
                Asset {
                    hashed: hashed_name(&name, &file.metadata.sha256_hash()),
                    bytes: file.data.into_owned(),
                    mime: mime_of(&name),
                },
            ))
        })
        .collect()
});

static BY_HASHED: LazyLock<HashMap<&'static str, &'static Asset>> =
    LazyLock::new(|| ASSETS.values().map(|a| (a.hashed.as_str(), a)).collect());

/// The URL of an embedded asset, e.g. `url("preau.css")`. An unknown name
/// gives a URL that answers 404 (and a test lists every name used).
pub fn url(name: &str) -> String {
    match ASSETS.get(name) {
        Some(a) => format!("/static/{}", a.hashed),
        None => format!("/static/{name}"),
    }
}

/// `GET /static/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    match BY_HASHED.get(file.as_str()) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(a.mime)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            a.bytes.clone(),
        )
            .into_response(),
        None => super::errors::page(StatusCode::NOT_FOUND, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_have_hashed_urls() {
        let css = url("preau.css");
        assert!(
            css.starts_with("/static/preau.") && css.ends_with(".css"),
            "{css}"
        );
        assert_eq!(css.len(), "/static/preau.12345678.css".len());
        assert!(url("preau.js").ends_with(".js"));
        let hashed = css.trim_start_matches("/static/");
        assert!(BY_HASHED.contains_key(hashed));
        assert_eq!(hashed_name("a.b.css", &[0xab; 32]), "a.b.abababab.css");
    }
}
