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
    /// Refused whatever was sent (a form without its CSRF token): 403.
    #[error("forbidden: {0}")]
    Forbidden(String),
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
            WebError::Forbidden(m) => page(StatusCode::FORBIDDEN, Some(&m)),
            WebError::Internal(e) => {
                log::error!(error = format!("{e:#}").as_str(); "web request failed");
                page(StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        }
    }
}

/// The heading and default message of an error status (French, or the
/// request's language through the catalogue).
fn texts(status: StatusCode) -> (&'static str, &'static str) {
    let lang = super::i18n::current();
    let id = match status.as_u16() {
        400 => "error.400",
        403 => "error.403",
        404 => "error.404",
        413 => "error.413",
        429 => "error.429",
        _ => "error.500",
    };
    let text = format!("{id}.text");
    (super::i18n::t(lang, id), super::i18n::t(lang, &text))
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
