//! The French page the proxy answers a blocked request with (template
//! `proxy_block.html`, escaped by askama). It is served by the proxy for
//! any site, so its small style sheet is inside the page.

use super::policy::Decision;
use askama::Template;

#[derive(Template)]
#[template(path = "proxy_block.html")]
struct BlockPage<'a> {
    url: String,
    category: Option<&'a str>,
    why: String,
    contact: &'a str,
}

/// The French block page.
pub fn block_page(host: &str, path: &str, d: &Decision, contact: &str) -> String {
    BlockPage {
        url: format!("{host}{path}"),
        category: d.category(),
        why: d.explain(),
        contact,
    }
    .render()
    .unwrap_or_else(|_| String::from("Accès bloqué par le filtrage de l'établissement.\n"))
}
