//! The daemon's transport routes, `/healthz` and `/metrics`, merged with
//! the web application ([`crate::web::router`]) and wrapped in the
//! security headers every answer carries.

use super::Shared;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub fn router(shared: Arc<Shared>) -> Router {
    let s = shared.clone();
    let r = shared.clone();
    // After a settings apply the console has the daemon reload, through
    // the serve loop, exactly as SIGHUP does.
    let web = crate::web::Web::new(shared.host.clone(), shared.config_path.clone(), move || {
        s.config()
    })
    .with_reload(move || r.reload_now());
    let transport = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(shared.clone());
    let web = Arc::new(web);
    crate::web::headers::secure(transport.merge(crate::web::router(web)))
        .layer(axum::middleware::from_fn_with_state(shared, count))
}

/// Counts requests for `/metrics`.
async fn count(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    next.run(request).await
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
