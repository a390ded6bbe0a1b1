//! Form bodies (`application/x-www-form-urlencoded`) read with limits:
//! the body's size, the number of fields and each value's length. Every
//! refusal is a message in the request's language (French by default);
//! nothing is parsed past a limit.

use super::errors::WebError;
use super::i18n::pick;
use crate::msg;
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use http_body_util::BodyExt;

/// Largest form body accepted.
pub const MAX_BODY: usize = 64 * 1024;
/// Most fields in a form.
pub const MAX_FIELDS: usize = 100;
/// Longest value of one field, in characters.
pub const MAX_VALUE: usize = 4096;

/// The fields of a form, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// Parses a form body (pure).
pub fn parse(bytes: &[u8]) -> Result<Fields, WebError> {
    parse_with(bytes, MAX_BODY, MAX_FIELDS)
}

/// Parses a form body with other limits (a whole marks grid, a class's
/// comments), each value still at most [`MAX_VALUE`] characters.
pub fn parse_with(bytes: &[u8], max_body: usize, max_fields: usize) -> Result<Fields, WebError> {
    if bytes.len() > max_body {
        return Err(WebError::TooLarge);
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(WebError::BadRequest(pick(msg!(
            "The form holds unreadable characters (the text must be UTF-8).",
            "Le formulaire contient des caractères illisibles (le texte doit être en UTF-8)."
        ))));
    }
    let mut fields = Vec::new();
    for (k, v) in form_urlencoded::parse(bytes) {
        if fields.len() == max_fields {
            return Err(WebError::BadRequest(pick(msg!(
                "The form holds too many fields.",
                "Le formulaire contient trop de champs."
            ))));
        }
        if v.chars().count() > MAX_VALUE || k.len() > 100 {
            return Err(WebError::BadRequest(pick(msg!(
                "A field of the form is too long (at most {MAX_VALUE} characters).",
                "Un champ du formulaire est trop long (au plus {MAX_VALUE} caractères)."
            ))));
        }
        if v.contains('\0') {
            return Err(WebError::BadRequest(pick(msg!(
                "The form holds a forbidden character.",
                "Le formulaire contient un caractère interdit."
            ))));
        }
        fields.push((k.into_owned(), v.into_owned()));
    }
    Ok(Fields(fields))
}

/// Reads and parses a request's form body, stopping at [`MAX_BODY`].
pub async fn read(body: Body) -> Result<Fields, WebError> {
    read_with(body, MAX_BODY, MAX_FIELDS).await
}

/// [`read`] with other limits (see [`parse_with`]).
pub async fn read_with(body: Body, max_body: usize, max_fields: usize) -> Result<Fields, WebError> {
    let limited = http_body_util::Limited::new(body, max_body);
    match limited.collect().await {
        Ok(collected) => parse_with(&collected.to_bytes(), max_body, max_fields),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(WebError::TooLarge),
        Err(_) => Err(WebError::BadRequest(pick(msg!(
            "The form was not received whole.",
            "Le formulaire n'a pas été reçu en entier."
        )))),
    }
}

/// A URL's path parameters, as axum's `Path`, but a segment that cannot
/// be read (not UTF-8 once decoded, not a number where one is expected)
/// is the French 404 page rather than axum's bare text: no page has such
/// an address.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(t)) => Ok(Path(t)),
            Err(_) => Err(WebError::NotFound),
        }
    }
}

/// A URL's query as axum's `Query`, but one that cannot be read into `T`
/// (a repeated or mistyped parameter) is a French 400 page.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(t)) => Ok(Query(t)),
            Err(_) => Err(WebError::BadRequest(
                "L'adresse contient des paramètres illisibles ou répétés.".into(),
            )),
        }
    }
}

/// A form body read into `T` within [`MAX_BODY`] and the limits of
/// [`parse`], as axum's `Form` but every refusal a French page: too
/// large (413), not UTF-8, a repeated or mistyped field (400).
#[derive(Debug, Clone)]
pub struct Form<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Form<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, WebError> {
        let fields = read(req.into_body()).await?;
        let pairs: Vec<(&str, &str)> = fields.iter().collect();
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        serde_urlencoded::from_str(&encoded).map(Form).map_err(|_| {
            WebError::BadRequest(
                "Le formulaire n'a pas pu être lu : un champ est répété ou mal formé.".into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields() {
        let f = parse(b"login=l%C3%A9a&password=a+b%26c&x=").unwrap();
        assert_eq!(f.get("login"), "léa");
        assert_eq!(f.get("password"), "a b&c");
        assert_eq!(f.get("missing"), "");
        assert!(f.has("x"));
    }

    #[test]
    fn refuses_bad_and_big_input_in_french() {
        assert!(matches!(
            parse(&vec![b'a'; MAX_BODY + 1]),
            Err(WebError::TooLarge)
        ));
        let long = format!("a={}", "x".repeat(MAX_VALUE + 1));
        let Err(WebError::BadRequest(m)) = parse(long.as_bytes()) else {
            panic!()
        };
        assert!(m.contains("trop long"));
        let Err(WebError::BadRequest(m)) = parse(b"a=\xff\xfe") else {
            panic!()
        };
        assert!(m.contains("UTF-8"));
        let many: String = (0..=MAX_FIELDS).map(|i| format!("f{i}=1&")).collect();
        assert!(matches!(parse(many.as_bytes()), Err(WebError::BadRequest(_))));
        assert!(parse_with(many.as_bytes(), MAX_BODY, 500).is_ok());
        assert!(matches!(parse(b"a=%00"), Err(WebError::BadRequest(_))));
    }
}
