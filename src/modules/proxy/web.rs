//! The proxy's connection log in the console (`/console/journaux`):
//! search by user, client address, host, decision and time range, newest
//! first, a page at a time ([`super::log::newest`]: reads the daily files
//! from the newest, memory bounded by the page, whatever the logs' size).

use super::log::{self, Filter};
use crate::msg;
use crate::web::errors::WebError;
use crate::web::pages::{self, LogRow, ProxyLogPage};
use crate::web::{AppState, Signed};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// Entries per page.
pub const PAGE: usize = 50;
/// The last page one may ask for (memory: `PAGE × MAX_PAGE` entries).
pub const MAX_PAGE: usize = 200;

/// The search form as sent, and what it means once checked.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Search {
    pub user: String,
    pub ip: String,
    pub host: String,
    pub decision: String,
    pub since: String,
    pub until: String,
    pub page: usize,
}

/// A problem of one field of the search form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    /// In French and English.
    pub message: crate::config::Msg,
}

/// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS` (a space
/// instead of the T too): the prefix the log's UTC times are compared
/// with; None when it is not such a time.
pub fn time_bound(s: &str) -> Option<String> {
    let s = s.trim().replacen(' ', "T", 1);
    let date = s.get(..10)?;
    crate::directory::import::iso_date(date).filter(|d| d == date)?;
    let rest = &s[10..];
    let ok = match rest.len() {
        0 => true,
        6 | 9 => {
            let b = rest.as_bytes();
            let two = |i: usize, max: u32| {
                rest.get(i..i + 2)
                    .and_then(|x| x.parse::<u32>().ok())
                    .is_some_and(|v| v <= max && rest.as_bytes()[i].is_ascii_digit())
            };
            b[0] == b'T'
                && b[3] == b':'
                && two(1, 23)
                && two(4, 59)
                && (rest.len() == 6 || (b[6] == b':' && two(7, 59)))
        }
        _ => false,
    };
    ok.then_some(s)
}

impl Search {
    /// Reads the query string (every value bounded).
    pub fn from_query(q: &HashMap<String, String>) -> Search {
        let get = |k: &str| -> String {
            q.get(k)
                .map(|v| v.trim().chars().take(300).collect())
                .unwrap_or_default()
        };
        Search {
            user: get("utilisateur"),
            ip: get("adresse"),
            host: get("site"),
            decision: get("decision"),
            since: get("depuis"),
            until: get("jusqua"),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
        }
    }

    /// The log filter, or every field's problem in French (pure).
    pub fn filter(&self) -> Result<Filter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut bad = |field, message: crate::config::Msg| errors.push(FieldError { field, message });
        if self.user.chars().count() > 64 || self.user.chars().any(|c| c.is_control() || c.is_whitespace()) {
            bad(
                "utilisateur",
                msg!(
                    "A login: at most 64 characters, no space.",
                    "Un identifiant : au plus 64 caractères, sans espace."
                ),
            );
        }
        if !self.ip.is_empty()
            && self.ip.parse::<std::net::IpAddr>().is_err()
            && self.ip.parse::<std::net::SocketAddr>().is_err()
        {
            bad(
                "adresse",
                msg!(
                    "An IP address (10.0.0.12 or 2001:db8::1), or address:port.",
                    "Une adresse IP (10.0.0.12 ou 2001:db8::1), ou adresse:port."
                ),
            );
        }
        let host = self.host.trim_end_matches('.').to_ascii_lowercase();
        if host.len() > 253
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        {
            bad(
                "site",
                msg!(
                    "A site name (example.org): letters, digits, dots and hyphens.",
                    "Un nom de site (exemple.fr) : lettres, chiffres, points et tirets."
                ),
            );
        }
        if !["", "allow", "deny", "error"].contains(&self.decision.as_str()) {
            bad(
                "decision",
                msg!(
                    "Choose \"allowed\", \"denied\" or \"error\".",
                    "Choisissez « autorisé », « refusé » ou « erreur »."
                ),
            );
        }
        let since = (!self.since.is_empty()).then(|| time_bound(&self.since));
        let until = (!self.until.is_empty()).then(|| time_bound(&self.until));
        if since == Some(None) {
            bad(
                "depuis",
                msg!(
                    "A date YYYY-MM-DD, or YYYY-MM-DDTHH:MM (UTC).",
                    "Une date AAAA-MM-JJ, ou AAAA-MM-JJTHH:MM (heure UTC)."
                ),
            );
        }
        if until == Some(None) {
            bad(
                "jusqua",
                msg!(
                    "A date YYYY-MM-DD, or YYYY-MM-DDTHH:MM (UTC).",
                    "Une date AAAA-MM-JJ, ou AAAA-MM-JJTHH:MM (heure UTC)."
                ),
            );
        }
        if let (Some(Some(s)), Some(Some(u))) = (&since, &until)
            && s >= u
        {
            bad(
                "jusqua",
                msg!(
                    "The end must come after the start.",
                    "La fin doit venir après le début."
                ),
            );
        }
        if self.page > MAX_PAGE {
            bad(
                "page",
                msg!(
                    "At most {MAX_PAGE} pages: narrow the search (dates, user…).",
                    "Au plus {MAX_PAGE} pages : resserrez la recherche (dates, utilisateur…)."
                ),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Ok(Filter {
            user: some(&self.user),
            address: some(&self.ip),
            host: some(&host),
            since: since.flatten(),
            until: until.flatten(),
            decision: some(&self.decision),
        })
    }

    /// The URL of another page of the same search.
    pub fn link(&self, page: usize) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("utilisateur", &self.user),
            ("adresse", &self.ip),
            ("site", &self.host),
            ("decision", &self.decision),
            ("depuis", &self.since),
            ("jusqua", &self.until),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.append_pair("page", &page.to_string());
        format!("/console/journaux?{}", s.finish())
    }
}

/// A decision in the page's language.
fn decision_fr(d: &str) -> &'static str {
    use crate::web::i18n::either;
    match d {
        "allow" => either("autorisé", "allowed"),
        "deny" => either("refusé", "denied"),
        "error" => either("erreur", "error"),
        _ => "—",
    }
}

/// `GET /console/journaux`: the connection log search.
pub async fn search(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let run = move || -> Result<Response, WebError> {
        let search = Search::from_query(&q);
        let config = web.config();
        let enabled = config.modules.enabled.iter().any(|m| m == "proxy");
        let dir = {
            use crate::host::Host;
            web.host.real_path(&super::log_dir(&config))
        };
        let (rows, more, errors, read_error) = match search.filter() {
            Err(errors) => (Vec::new(), false, errors, None),
            Ok(filter) => match log::newest(&dir, &filter, search.page * PAGE, PAGE) {
                Ok((entries, more)) => (
                    entries
                        .into_iter()
                        .map(|e| LogRow {
                            time: e.time.replace('T', " ").trim_end_matches('Z').to_string(),
                            source: e.source,
                            user: e.user,
                            target: format!("{} {}{}", e.method, e.host, e.path),
                            status: e.status,
                            decision: decision_fr(&e.decision),
                            denied: e.decision != "allow",
                            category: e.category,
                            bytes: crate::modules::shares::usage::human(e.bytes_up + e.bytes_down),
                        })
                        .collect(),
                    more,
                    Vec::new(),
                    None,
                ),
                Err(e) => (
                    Vec::new(),
                    false,
                    Vec::new(),
                    Some(crate::web::i18n::pick(msg!(
                        en("The logs of {} could not be read: {e}.", dir.display()),
                        fr("Les journaux de {} n'ont pas pu être lus : {e}.", dir.display())
                    ))),
                ),
            },
        };
        let err = |f: &str| {
            errors
                .iter()
                .find(|e| e.field == f)
                .map(|e| crate::web::i18n::pick(e.message.clone()))
        };
        let chrome = pages::Page::signed(
            crate::web::i18n::t(crate::web::i18n::current(), "logs.proxy_title"),
            &config.establishment.name,
            &signed,
            "/console/journaux",
        );
        let bad = !errors.is_empty();
        let mut r = pages::render(&ProxyLogPage {
            page: &chrome,
            enabled,
            user_error: err("utilisateur"),
            ip_error: err("adresse"),
            host_error: err("site"),
            decision_error: err("decision"),
            since_error: err("depuis"),
            until_error: err("jusqua"),
            page_error: err("page"),
            read_error,
            prev: (search.page > 0 && !bad).then(|| search.link(search.page - 1)),
            next: (more && search.page < MAX_PAGE).then(|| search.link(search.page + 1)),
            page_no: search.page + 1,
            rows,
            search,
        });
        if bad {
            *r.status_mut() = StatusCode::BAD_REQUEST;
        }
        Ok(r)
    };
    crate::web::i18n::spawn_blocking(run)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))
        .and_then(|r| r)
        .unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds() {
        assert_eq!(time_bound("2026-11-28").as_deref(), Some("2026-11-28"));
        assert_eq!(
            time_bound("2026-11-28 14:05").as_deref(),
            Some("2026-11-28T14:05")
        );
        assert_eq!(
            time_bound("2026-11-28T14:05:09").as_deref(),
            Some("2026-11-28T14:05:09")
        );
        for bad in [
            "",
            "28/11/2026",
            "2026-13-01",
            "2026-11-28T24:00",
            "2026-11-28T14:5",
            "2026-11-28T14:05x",
            "2026-11-28é",
        ] {
            assert_eq!(time_bound(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_search_form_is_checked_field_by_field() {
        let q = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let ok = Search::from_query(&q(&[
            ("utilisateur", "lea.martin"),
            ("adresse", "10.0.0.5"),
            ("site", "Example.TEST."),
            ("decision", "deny"),
            ("depuis", "2026-11-28"),
            ("jusqua", "2026-11-29 08:00"),
        ]));
        let f = ok.filter().unwrap();
        assert_eq!(f.host.as_deref(), Some("example.test"));
        assert_eq!(f.until.as_deref(), Some("2026-11-29T08:00"));
        assert_eq!(f.decision.as_deref(), Some("deny"));
        let bad = Search::from_query(&q(&[
            ("utilisateur", "a b"),
            ("adresse", "10.0.0"),
            ("site", "<script>"),
            ("decision", "peut-être"),
            ("depuis", "2026-11-29"),
            ("jusqua", "2026-11-28"),
            ("page", "100000"),
        ]));
        let errors = bad.filter().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["utilisateur", "adresse", "site", "decision", "jusqua", "page"]
        );
        assert!(Search::default().filter().unwrap().user.is_none());
        assert_eq!(
            ok.link(2),
            "/console/journaux?utilisateur=lea.martin&adresse=10.0.0.5&site=Example.TEST.&decision=deny&depuis=2026-11-28&jusqua=2026-11-29+08%3A00&page=2"
        );
    }
}
