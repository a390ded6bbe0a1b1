//! The daemon's routes: `/` (landing page), `/healthz`, `/metrics`.
//! Later modules merge their own routers here.

use super::Shared;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            count_and_secure,
        ))
        .with_state(shared)
}

/// Counts requests and sets the security headers every page carries:
/// HTTPS only (HSTS), no framing, no sniffing, no third-party anything.
async fn count_and_secure(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let mut response = next.run(request).await;
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
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
    );
    response
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let config = shared.config();
    let body = serde_json::json!({
        "status": "ok",
        "establishment": config.establishment.uai,
        "uptime_seconds": shared.started.elapsed().as_secs(),
    });
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    // Module health reads files and the database: off the async threads.
    let text = tokio::task::spawn_blocking(move || super::metrics::render(&shared))
        .await
        .unwrap_or_else(|_| String::from("# metrics unavailable\n"));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn index(State(shared): State<Arc<Shared>>) -> Html<String> {
    let config = shared.config();
    Html(format!(
        "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Préau — {name}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         code{{background:#eee;padding:0 .2em}}</style></head>\
         <body><h1>Préau</h1><p>Serveur de l'établissement <strong>{name}</strong> (UAI {uai}).</p>\
         <ul><li><a href=\"/healthz\">État du service</a> (<code>/healthz</code>)</li>\
         <li><a href=\"/metrics\">Mesures Prometheus</a> (<code>/metrics</code>)</li></ul>\
         </body></html>\n",
        name = escape(&config.establishment.name),
        uai = escape(&config.establishment.uai),
    ))
}

async fn not_found() -> (StatusCode, Html<&'static str>) {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>Page introuvable</title><h1>Page introuvable</h1><p><a href=\"/\">Retour à l'accueil</a></p></html>\n",
        ),
    )
}
