//! The portal's tiles (`[[portal.tiles]]` in preau.toml): the school's
//! services an administrator lists on the home page per role — local
//! services, the academy's ENT, the school's own pages — each with an
//! optional health address. Health is checked in the background (a
//! short timeout, the answer cached a minute): the portal only ever
//! reads the cache, so a slow or dead service never slows the page.

use crate::config::Validate;
use crate::config::problems::{Problems, join};
use crate::msg;
use crate::web::authz::{Actor, Role};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The portal (home page).
///
/// fr: Le portail (page d'accueil).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PortalSettings {
    /// Tiles of the school's services shown on the home page, in order,
    /// after Préau's own.
    ///
    /// fr: Tuiles des services de l'établissement affichées sur la page
    /// d'accueil, dans l'ordre, après celles de Préau.
    #[serde(default)]
    pub tiles: Vec<Tile>,
}

/// One tile of the portal, e.g. the academy's ENT.
///
/// fr: Une tuile du portail, par exemple l'ENT de l'académie.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tile {
    /// Title of the tile, e.g. "ENT de l'académie".
    ///
    /// fr: Titre de la tuile, par exemple « ENT de l'académie ».
    pub title: String,
    /// Address the tile opens: "https://…", "http://…", or a path of
    /// this server such as "/reservations".
    ///
    /// fr: Adresse qu'ouvre la tuile : « https://… », « http://… » ou un chemin
    /// de ce serveur comme « /reservations ».
    pub url: String,
    /// One line under the title, e.g. "Cahier de textes, messagerie".
    ///
    /// fr: Une ligne sous le titre, par exemple « Cahier de textes, messagerie
    /// ».
    #[serde(default)]
    pub description: String,
    /// Roles that see the tile (admin, direction, cpe, teacher, staff,
    /// student, parent). Empty: everyone.
    ///
    /// fr: Rôles qui voient la tuile (admin, direction, cpe, teacher, staff,
    /// student, parent). Vide : tout le monde.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Address checked in the background to show whether the service is
    /// up ("https://…" or "http://…"; up when it answers below 500
    /// within 3 seconds). Empty: no check.
    ///
    /// fr: Adresse vérifiée en arrière-plan pour montrer si le service répond
    /// (« https://… » ou « http://… » ; il répond quand il donne une réponse en
    /// dessous de 500 en moins de 3 secondes). Vide : pas de vérification.
    #[serde(default)]
    pub health_url: String,
}

fn http_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && s.len() > 8 && !s.contains(char::is_whitespace)
}

impl Validate for PortalSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        for (i, t) in self.tiles.iter().enumerate() {
            let at = format!("{}[{i}]", join(path, "tiles"));
            if t.title.trim().is_empty() {
                problems.push(
                    join(&at, "title"),
                    msg!("a tile needs a title", "une tuile doit avoir un titre"),
                );
            }
            let local = t.url.starts_with('/') && !t.url.starts_with("//");
            if !(local || http_url(&t.url)) {
                problems.push(
                    join(&at, "url"),
                    msg!(
                        en(
                            "\"{}\" is neither an http(s) address nor a path of this server",
                            t.url
                        ),
                        fr(
                            "« {} » n'est ni une adresse http(s) ni un chemin de ce serveur",
                            t.url
                        )
                    ),
                );
            }
            if !t.health_url.is_empty() && !http_url(&t.health_url) {
                problems.push(
                    join(&at, "health_url"),
                    msg!(
                        en("\"{}\" is not an http(s) address", t.health_url),
                        fr("« {} » n'est pas une adresse http(s)", t.health_url)
                    ),
                );
            }
            for (j, r) in t.roles.iter().enumerate() {
                if !crate::sso::settings::ROLES.contains(&r.as_str()) {
                    problems.push(
                        format!("{}[{j}]", join(&at, "roles")),
                        msg!(
                            en(
                                "unknown role \"{r}\" (one of {})",
                                crate::sso::settings::ROLES.join(", ")
                            ),
                            fr(
                                "rôle inconnu « {r} » (l'un de {})",
                                crate::sso::settings::ROLES.join(", ")
                            )
                        ),
                    );
                }
            }
        }
    }
}

/// The role names (as in the settings) of an actor.
pub fn role_names(actor: &Actor) -> Vec<&'static str> {
    actor
        .roles
        .iter()
        .map(|r| match r {
            Role::Admin => "admin",
            Role::Direction => "direction",
            Role::SchoolLife => "cpe",
            Role::Teacher => "teacher",
            Role::Staff => "staff",
            Role::Student => "student",
            Role::Parent => "parent",
        })
        .collect()
}

/// The tiles a person with `roles` sees (pure).
pub fn visible<'a>(tiles: &'a [Tile], roles: &[&str]) -> Vec<&'a Tile> {
    tiles
        .iter()
        .filter(|t| t.roles.is_empty() || t.roles.iter().any(|r| roles.contains(&r.as_str())))
        .collect()
}

/// What the portal says of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not checked yet (or no health address).
    Unknown,
    Up,
    Down,
}

impl Health {
    /// A status code (or no answer) as health (pure).
    pub fn of(answer: Result<u16, String>) -> Health {
        match answer {
            Ok(s) if s < 500 => Health::Up,
            _ => Health::Down,
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Health::Unknown => "état inconnu",
            Health::Up => "en service",
            Health::Down => "indisponible",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Health::Unknown => "state unknown",
            Health::Up => "up",
            Health::Down => "unavailable",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Health::Unknown => "state-unknown",
            Health::Up => "state-ok",
            Health::Down => "state-bad",
        }
    }
}

/// How long an answer is believed.
pub const FRESH: Duration = Duration::from_secs(60);
/// How long a check may take.
pub const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Default)]
struct Entry {
    health: Option<(Instant, Health)>,
    checking: bool,
}

/// The cache of health checks, shared by the daemon's requests.
#[derive(Default)]
pub struct Checks {
    by_url: Mutex<HashMap<String, Entry>>,
}

impl Checks {
    /// The health last seen for `url`; starts a background check (one
    /// at a time per address) when there is none or it is stale. Never
    /// waits. Outside a tokio runtime, only reads.
    pub fn get(self: &std::sync::Arc<Self>, url: &str) -> Health {
        let mut map = self.by_url.lock().unwrap_or_else(|p| p.into_inner());
        let e = map.entry(url.to_string()).or_default();
        let known = e.health.map(|(_, h)| h).unwrap_or(Health::Unknown);
        let stale = e.health.is_none_or(|(at, _)| at.elapsed() > FRESH);
        if stale
            && !e.checking
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            e.checking = true;
            let me = self.clone();
            let url = url.to_string();
            rt.spawn(async move {
                let answer = match tokio::time::timeout(
                    TIMEOUT,
                    crate::sso::backchannel::exchange(&url, None),
                )
                .await
                {
                    Ok(a) => a,
                    Err(_) => Err("no answer in time".into()),
                };
                let h = Health::of(answer);
                let mut map = me.by_url.lock().unwrap_or_else(|p| p.into_inner());
                let e = map.entry(url).or_default();
                e.health = Some((Instant::now(), h));
                e.checking = false;
            });
        }
        known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(title: &str, roles: &[&str]) -> Tile {
        Tile {
            title: title.into(),
            url: "https://ent.example".into(),
            description: String::new(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            health_url: String::new(),
        }
    }

    #[test]
    fn tiles_by_role() {
        let tiles = [
            tile("ENT", &[]),
            tile("Pronote", &["teacher", "student", "parent"]),
            tile("Intendance", &["admin", "direction"]),
        ];
        let titles = |roles: &[&str]| -> Vec<String> {
            visible(&tiles, roles).iter().map(|t| t.title.clone()).collect()
        };
        assert_eq!(titles(&["student"]), ["ENT", "Pronote"]);
        assert_eq!(titles(&["direction"]), ["ENT", "Intendance"]);
        assert_eq!(
            titles(&["teacher", "direction"]),
            ["ENT", "Pronote", "Intendance"]
        );
        assert_eq!(titles(&["staff"]), ["ENT"]);
    }

    #[test]
    fn health_from_the_answer() {
        assert_eq!(Health::of(Ok(200)), Health::Up);
        assert_eq!(Health::of(Ok(302)), Health::Up);
        assert_eq!(Health::of(Ok(401)), Health::Up);
        assert_eq!(Health::of(Ok(503)), Health::Down);
        assert_eq!(Health::of(Err("cannot connect".into())), Health::Down);
    }

    #[test]
    fn settings_are_checked() {
        let mut bad = tile("", &["prof"]);
        bad.url = "ent.example".into();
        bad.health_url = "ftp://x".into();
        let s = PortalSettings {
            tiles: vec![tile("ENT", &["teacher"]), bad],
        };
        let mut p = Problems::default();
        s.validate("portal", &mut p);
        let text = format!("{p:?}");
        for path in [
            "portal.tiles[1].title",
            "portal.tiles[1].url",
            "portal.tiles[1].health_url",
            "portal.tiles[1].roles[0]",
        ] {
            assert!(text.contains(path), "{path}: {text}");
        }
        assert!(!text.contains("tiles[0]"), "{text}");
    }
}
