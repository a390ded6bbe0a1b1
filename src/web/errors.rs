//! Error pages in French, and the handlers' error type. Bad input is a
//! 400 or 413 with a message; a 500 only ever comes from the server's own
//! trouble (a database it cannot open), logged, never from what was sent.

use super::pages::{self, ErrorPage, Page};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("too large")]
    TooLarge,
    #[error("{0:#}")]
    Internal(anyhow::Error),
}

impl From<rusqlite::Error> for WebError {
    fn from(e: rusqlite::Error) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<crate::store::StoreError> for WebError {
    fn from(e: crate::store::StoreError) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<anyhow::Error> for WebError {
    fn from(e: anyhow::Error) -> Self {
        WebError::Internal(e)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::NotFound => page(StatusCode::NOT_FOUND, None),
            WebError::BadRequest(m) => page(StatusCode::BAD_REQUEST, Some(&m)),
            WebError::TooLarge => page(StatusCode::PAYLOAD_TOO_LARGE, None),
            WebError::Internal(e) => {
                log::error!(error = format!("{e:#}").as_str(); "web request failed");
                page(StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        }
    }
}

/// The heading and default message of an error status.
fn texts(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => (
            "Demande incorrecte",
            "La demande envoyée n'a pas pu être comprise.",
        ),
        403 => ("Accès refusé", "Vous n'avez pas le droit d'ouvrir cette page."),
        404 => ("Page introuvable", "Cette page n'existe pas, ou plus."),
        413 => (
            "Envoi trop volumineux",
            "Les données envoyées dépassent la taille permise.",
        ),
        429 => (
            "Trop de tentatives",
            "Trop de tentatives en peu de temps : réessayez dans quelques minutes.",
        ),
        _ => (
            "Erreur du serveur",
            "Le serveur n'a pas pu répondre. L'erreur est notée dans son journal ; réessayez plus tard ou prévenez l'administrateur.",
        ),
    }
}

/// A French error page.
pub fn page(status: StatusCode, message: Option<&str>) -> Response {
    let (heading, default) = texts(status);
    let chrome = Page::anonymous(heading);
    let body = ErrorPage {
        page: &chrome,
        heading,
        message: message.unwrap_or(default),
    };
    let mut r = pages::render(&body);
    *r.status_mut() = status;
    r
}
