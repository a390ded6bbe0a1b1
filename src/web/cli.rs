//! `preau web explain --as LOGIN URL`: the authorization decision the web
//! server would take for an account and a URL, with the facts it used.

use super::authz::{self, Action, Actor, Decision, Facts};
use crate::engine::{Env, exit};
use crate::store::Store;
use anyhow::bail;
use axum::http::Method;

/// The path of a URL given whole (`https://preau.lan/console?x=1`) or as
/// a path (`/console`); the query is dropped.
pub fn path_of(url: &str) -> String {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .map(|r| r.find('/').map_or("/", |i| &r[i..]))
        .unwrap_or(url);
    let path = rest.split(['?', '#']).next().unwrap_or("/");
    if path.is_empty() {
        "/".into()
    } else {
        path.to_string()
    }
}

/// What `explain` found.
#[derive(Debug, serde::Serialize)]
pub struct Explained {
    pub login: String,
    pub method: String,
    pub path: String,
    pub action: Option<Action>,
    pub actor: Option<Actor>,
    pub facts: Option<Facts>,
    pub decision: Option<Decision>,
    /// The HTTP status the person would get.
    pub status: u16,
}

/// Decides for `login` (a console administrator or a directory person).
pub fn explain_in(
    store: &Store,
    sources: &[crate::modules::proxy::settings::SourceGroup],
    login: &str,
    method: &Method,
    path: &str,
) -> anyhow::Result<Explained> {
    let action = Action::of(method, path);
    let admin = store.admin_hash(login)?.is_some();
    let actor = Actor::load(store.conn(), login, admin)?;
    let (facts, decision, status) = match (&action, &actor) {
        (None, _) => (None, None, 404),
        (Some(a), _) if a.is_public() => (None, Some(Decision::Allow), 200),
        (Some(_), None) => (None, None, 303),
        (Some(a), Some(actor)) => {
            let facts = Facts::load(store.conn(), actor, a, sources)?;
            let d = authz::decide(actor, a, &facts);
            let status = match &d {
                Decision::Allow => 200,
                Decision::Deny(_) if actor.sees_404_when_denied() => 404,
                Decision::Deny(_) => 403,
            };
            (Some(facts), Some(d), status)
        }
    };
    Ok(Explained {
        login: login.to_string(),
        method: method.to_string(),
        path: path.to_string(),
        action,
        actor,
        facts,
        decision,
        status,
    })
}

/// `preau web explain`.
pub fn explain(env: &Env, login: &str, method: &str, url: &str) -> anyhow::Result<u8> {
    let config = env.config()?;
    let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
        bail!("\"{method}\" is not an HTTP method\n    help: GET or POST");
    };
    let store = Store::open_existing(&env.db_path(&config))?;
    let e = explain_in(&store, &config.proxy.sources, login, &method, &path_of(url))?;
    if env.json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        println!("{} {} as {}", e.method, e.path, e.login);
        match &e.action {
            None => println!("  no route: 404 for everybody"),
            Some(a) => println!("  action: {a:?}"),
        }
        match &e.actor {
            Some(a) => println!(
                "  actor: {} ({})",
                a.name,
                a.roles
                    .iter()
                    .map(|r| format!("{r:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => println!("  actor: unknown or disabled account (it cannot sign in)"),
        }
        if let Some(f) = &e.facts {
            println!(
                "  facts: teaches [{}], children [{}], target {}",
                f.teaches.iter().cloned().collect::<Vec<_>>().join(", "),
                f.children.iter().cloned().collect::<Vec<_>>().join(", "),
                match &f.target {
                    Some(t) => format!(
                        "{} in [{}]",
                        t.kind,
                        t.structures.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    None => "none".into(),
                }
            );
        }
        match &e.decision {
            Some(Decision::Allow) => println!("  decision: allow ({})", e.status),
            Some(Decision::Deny(r)) => println!("  decision: deny: {r} ({})", e.status),
            None if e.status == 303 => println!("  decision: not signed in: sent to /connexion (303)"),
            None => println!("  decision: not found (404)"),
        }
    }
    Ok(if e.status == 200 { exit::OK } else { exit::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_urls() {
        assert_eq!(path_of("https://preau.lan/console?x=1"), "/console");
        assert_eq!(path_of("https://preau.lan"), "/");
        assert_eq!(path_of("/console/personnes/lea"), "/console/personnes/lea");
        assert_eq!(path_of("http://h:8443/a#b"), "/a");
    }
}
