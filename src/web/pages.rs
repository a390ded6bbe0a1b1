//! The page templates (askama, compiled and checked with the binary,
//! HTML auto-escaped) and the chrome every page shares: title, the
//! establishment, the signed-in person, the navigation they may use, the
//! form token, the hashed asset URLs.

use super::authz::{self, Action, Facts};
use super::{Signed, assets};
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One link of the navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What the base layout shows.
#[derive(Debug, Clone)]
pub struct Page {
    pub title: String,
    pub establishment: String,
    /// The signed-in person's name.
    pub user: Option<String>,
    pub nav: Vec<NavLink>,
    pub csrf: String,
    pub css: String,
    pub js: String,
    /// The language of the request ([`super::i18n`]).
    pub lang: super::i18n::Lang,
}

impl Page {
    /// Message `id` of the catalogue in the page's language.
    pub fn t(&self, id: &str) -> &'static str {
        super::i18n::t(self.lang, id)
    }

    /// `fr` or `en`, whichever is the page's language.
    pub fn pick<'s>(&self, fr: &'s str, en: &'s str) -> &'s str {
        match self.lang {
            super::i18n::Lang::Fr => fr,
            super::i18n::Lang::En => en,
        }
    }
}

/// The navigation's candidates; each is shown only when [`authz::decide`]
/// allows its URL.
const NAV: &[(&str, &str)] = &[
    ("/", "nav.home"),
    ("/console", "nav.dashboard"),
    ("/console/personnes", "nav.people"),
    ("/console/imports", "nav.imports"),
    ("/console/journaux", "nav.logs"),
    ("/console/reglages", "nav.settings"),
    ("/console/classe", "nav.classes"),
    ("/console/salles", "nav.rooms"),
    ("/vie-scolaire/notes", "nav.grades"),
    ("/vie-scolaire/mes-notes", "nav.grades"),
    ("/reservations", "nav.bookings"),
    ("/console/journal", "nav.journal"),
    ("/vie-scolaire/emploi-du-temps", "nav.timetable"),
    ("/vie-scolaire/travail", "nav.todo"),
    ("/vie-scolaire/messages", "nav.messages"),
    ("/console/statistiques", "nav.statistics"),
    ("/console/securite", "nav.security"),
    ("/mot-de-passe", "nav.password"),
];

impl Page {
    /// A page for somebody not signed in.
    pub fn anonymous(title: &str) -> Page {
        Page {
            title: title.to_string(),
            establishment: String::new(),
            user: None,
            nav: Vec::new(),
            csrf: String::new(),
            css: assets::url("preau.css"),
            js: assets::url("preau.js"),
            lang: super::i18n::current(),
        }
    }

    /// A page for a signed-in person; `current` is the navigation entry
    /// to mark.
    pub fn signed(title: &str, establishment: &str, signed: &Signed, current: &str) -> Page {
        let nav = NAV
            .iter()
            .filter(|(href, _)| {
                Action::of(&axum::http::Method::GET, href).is_some_and(|a| {
                    authz::decide(
                        &signed.actor,
                        &a,
                        &Facts {
                            target: None,
                            ..signed.facts.clone()
                        },
                    )
                    .allowed()
                })
            })
            .map(|(href, label)| NavLink {
                href,
                label: super::i18n::t(super::i18n::current(), label),
                current: *href == current,
            })
            .collect();
        Page {
            title: title.to_string(),
            establishment: establishment.to_string(),
            user: Some(signed.actor.name.clone()),
            nav,
            csrf: signed.session.csrf.clone(),
            css: assets::url("preau.css"),
            js: assets::url("preau.js"),
            lang: super::i18n::current(),
        }
    }
}

/// Renders a template as an HTML response; a template error (never from
/// input) is logged and becomes a 500.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            html,
        )
            .into_response(),
        Err(e) => {
            log::error!(error = e.to_string().as_str(); "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Erreur du serveur").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub page: &'a Page,
    pub heading: &'a str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignInPage<'a> {
    pub page: &'a Page,
    pub login: &'a str,
    pub error: Option<&'a str>,
    pub next: &'a str,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage<'a> {
    pub page: &'a Page,
    pub forced: bool,
    pub error: Option<&'a str>,
    pub done: bool,
    pub min_length: usize,
}

/// A card of the portal.
#[derive(Debug, Clone)]
pub struct Card {
    pub href: &'static str,
    pub title: &'static str,
    pub text: &'static str,
}

#[derive(Template)]
#[template(path = "portal.html")]
pub struct PortalPage<'a> {
    pub page: &'a Page,
    pub name: &'a str,
    pub roles: String,
    pub cards: Vec<Card>,
    /// The school's services (`[[portal.tiles]]`).
    pub tiles: Vec<TileView>,
    pub usage: Option<String>,
}

/// A tile of the portal as shown.
#[derive(Debug, Clone)]
pub struct TileView {
    pub title: String,
    pub url: String,
    pub description: String,
    /// (label, CSS class) when the tile has a health address.
    pub health: Option<(&'static str, &'static str)>,
}

/// One disk line of the dashboard.
#[derive(Debug, Clone)]
pub struct DiskRow {
    pub mount: String,
    pub fs: String,
    pub total: String,
    pub free: String,
    pub used: String,
    pub full: bool,
}

/// One module line of the dashboard.
#[derive(Debug, Clone)]
pub struct ModuleRow {
    pub name: String,
    /// Its state in French, and in English.
    pub state: &'static str,
    pub state_en: &'static str,
    pub ok: bool,
    pub details: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
pub struct DashboardPage<'a> {
    pub page: &'a Page,
    pub alerts: &'a [String],
    pub hostname: &'a str,
    pub cpus: usize,
    pub cpu: String,
    pub load: String,
    pub memory: String,
    pub uptime: String,
    pub counts: &'a crate::directory::Counts,
    pub disks: &'a [DiskRow],
    pub modules: &'a [ModuleRow],
    pub applies: &'a [crate::store::ApplyRecord],
    pub imports: &'a [(String, String)],
}

/// One line of the people search.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub name: String,
    pub login: String,
    pub kind: &'static str,
    pub class: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "console/people.html")]
pub struct PeoplePage<'a> {
    pub page: &'a Page,
    pub q: &'a str,
    pub summary: String,
    pub people: Vec<PersonRow>,
    /// The administrator's links: a new person, the leavers.
    pub can_manage: bool,
}

#[derive(Template)]
#[template(path = "console/person.html")]
pub struct PersonPage<'a> {
    pub page: &'a Page,
    pub notice: Option<String>,
    pub name: String,
    pub login: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub active: bool,
    pub structures: String,
    /// (login, name).
    pub parents: Vec<(String, String)>,
    pub children: Vec<(String, String)>,
    pub link_people: bool,
    pub initial: bool,
    pub last_signin: String,
    /// Personal share usage and quota (module `shares`).
    pub usage: Option<String>,
    pub can_reset: bool,
    pub can_set_status: bool,
}

pub use crate::modules::accounts::sheets::SlipView;

#[derive(Template)]
#[template(path = "console/slips.html")]
pub struct SlipsPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub notice: Option<String>,
    pub back: Option<String>,
    pub establishment: &'a str,
    pub slips: Vec<SlipView>,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct AuditPage<'a> {
    pub page: &'a Page,
    pub q: &'a str,
    pub entries: Vec<super::audit::Entry>,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// One lesson of a teacher's day.
#[derive(Debug, Clone)]
pub struct DayLesson {
    pub time: String,
    pub subject: String,
    pub structure: String,
    pub room: String,
    /// Labelled changes ("annulé", "salle changée"…).
    pub changes: Vec<String>,
    pub taught: bool,
    /// The lesson's key for its roll (`/vie-scolaire/appel/{key}`).
    pub roll: Option<String>,
}

#[derive(Template)]
#[template(path = "viescolaire/day.html")]
pub struct DayPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub lessons: Vec<DayLesson>,
}

#[derive(Template)]
#[template(path = "console/classroom.html")]
pub struct ClassroomPage<'a> {
    pub page: &'a Page,
    /// (code, label).
    pub classes: Vec<(String, String)>,
}

/// One student of a class page.
#[derive(Debug, Clone)]
pub struct StudentRow {
    pub name: String,
    pub login: String,
    pub initial: bool,
}

#[derive(Template)]
#[template(path = "console/class.html")]
pub struct ClassPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub notice: Option<String>,
    pub code: String,
    pub students: Vec<StudentRow>,
    /// A teacher of the class: the hand-out form and his homework.
    pub can_hand_out: bool,
    /// (name, "distribué le …") of the homework he handed out here.
    pub homework: Vec<(String, String)>,
    pub max_files: usize,
    pub max_mb: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page with fixed chrome (asset hashes replaced, so that a CSS
    /// change does not churn every snapshot).
    fn chrome(title: &str) -> Page {
        Page {
            title: title.into(),
            establishment: "Collège des Tilleuls".into(),
            user: Some("Paul Blanc".into()),
            nav: vec![
                NavLink {
                    href: "/",
                    label: "Accueil",
                    current: true,
                },
                NavLink {
                    href: "/console/classe",
                    label: "Mes classes",
                    current: false,
                },
            ],
            csrf: "TOKEN".into(),
            css: "/static/preau.HASH.css".into(),
            js: "/static/preau.HASH.js".into(),
            lang: crate::web::i18n::Lang::Fr,
        }
    }

    fn html<T: Template>(t: &T) -> String {
        t.render().unwrap()
    }

    #[test]
    fn sign_in_page() {
        let mut page = chrome("Connexion");
        page.user = None;
        page.nav.clear();
        insta::assert_snapshot!(html(&SignInPage {
            page: &page,
            login: "lea.<martin>",
            error: Some("Identifiant ou mot de passe incorrect."),
            next: "/console",
        }));
    }

    #[test]
    fn forced_password_page() {
        insta::assert_snapshot!(html(&PasswordPage {
            page: &chrome("Mot de passe"),
            forced: true,
            error: None,
            done: false,
            min_length: 8,
        }));
    }

    #[test]
    fn portal_page() {
        insta::assert_snapshot!(html(&PortalPage {
            page: &chrome("Accueil"),
            name: "Paul Blanc",
            roles: "enseignant".into(),
            cards: vec![Card {
                href: "/console/classe",
                title: "card.classes",
                text: "card.classes.text",
            }],
            tiles: vec![TileView {
                title: "ENT de l'académie".into(),
                url: "https://ent.example".into(),
                description: "Messagerie".into(),
                health: Some(("en service", "state-ok")),
            }],
            usage: None,
        }));
    }

    #[test]
    fn person_page() {
        insta::assert_snapshot!(html(&PersonPage {
            page: &chrome("Léa Martin"),
            notice: None,
            name: "Léa Martin".into(),
            login: "lea.martin".into(),
            kind: "élève",
            status: "actif",
            active: true,
            structures: "6A, LATIN".into(),
            parents: vec![("anne.martin".into(), "Anne Martin".into())],
            children: vec![],
            link_people: false,
            initial: true,
            last_signin: "jamais".into(),
            usage: Some("2.0 Mio utilisés sur 500.0 Mio (0 %)".into()),
            can_reset: true,
            can_set_status: false,
        }));
    }

    #[test]
    fn slips_page() {
        insta::assert_snapshot!(html(&SlipsPage {
            page: &chrome("Nouveau mot de passe"),
            heading: "Fiche de connexion de Léa Martin".into(),
            notice: Some("Nouveau mot de passe pour Léa Martin.".into()),
            back: Some("/console/classe/6A".into()),
            establishment: "Collège des Tilleuls",
            slips: vec![SlipView {
                name: "Léa Martin".into(),
                group: "6A".into(),
                login: "lea.martin".into(),
                password: Some("tavopiru42".into()),
            }],
        }));
    }

    #[test]
    fn error_page() {
        let mut page = chrome("Page introuvable");
        page.user = None;
        page.nav.clear();
        insta::assert_snapshot!(html(&ErrorPage {
            page: &page,
            heading: "Page introuvable",
            message: "Cette page n'existe pas, ou plus.",
        }));
    }
}

/// `/console/imports`: the upload form and the history of imports.
#[derive(Template)]
#[template(path = "console/imports.html")]
pub struct ImportsPage<'a> {
    pub page: &'a Page,
    pub error: Option<String>,
    pub max_mib: usize,
    pub history: Vec<crate::modules::accounts::web::HistoryRow>,
}

/// An import's diff, before its confirmation.
#[derive(Template)]
#[template(path = "console/import_plan.html")]
pub struct ImportPlanPage<'a> {
    pub page: &'a Page,
    pub files: String,
    pub sections: Vec<crate::modules::accounts::web::DiffSection>,
    pub unchanged: usize,
    pub new_structures: String,
    pub warnings: Vec<String>,
    pub refusal: Option<String>,
    pub empty: bool,
    /// The confirmation's token; None when it may not be applied.
    pub token: Option<String>,
}

/// An import done.
#[derive(Template)]
#[template(path = "console/import_done.html")]
pub struct ImportDonePage<'a> {
    pub page: &'a Page,
    pub counts: String,
    pub system_note: String,
    pub created: usize,
}

/// One connection of the proxy's log.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub time: String,
    pub source: String,
    pub user: String,
    pub target: String,
    pub status: u16,
    pub decision: &'static str,
    pub denied: bool,
    pub category: String,
    pub bytes: String,
}

/// `/console/journaux`: the proxy's connection log search.
#[derive(Template)]
#[template(path = "console/logs.html")]
pub struct ProxyLogPage<'a> {
    pub page: &'a Page,
    pub enabled: bool,
    pub search: crate::modules::proxy::web::Search,
    pub user_error: Option<String>,
    pub ip_error: Option<String>,
    pub host_error: Option<String>,
    pub decision_error: Option<String>,
    pub since_error: Option<String>,
    pub until_error: Option<String>,
    pub page_error: Option<String>,
    pub read_error: Option<String>,
    pub rows: Vec<LogRow>,
    pub page_no: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// A zone of origin in the firewall's matrix.
#[derive(Debug, Clone)]
pub struct MatrixRow {
    pub zone: String,
    /// Per destination zone: (what happens, allowed).
    pub cells: Vec<(&'static str, bool)>,
    pub services: String,
    pub interfaces: String,
}

/// A rule's live counter.
#[derive(Debug, Clone)]
pub struct CounterRow {
    pub chain: String,
    pub comment: String,
    pub packets: u64,
    pub bytes: String,
    pub raw_bytes: u64,
}

/// `/console/journaux/pare-feu`.
#[derive(Template)]
#[template(path = "console/firewall.html")]
pub struct FirewallPage<'a> {
    pub page: &'a Page,
    pub enabled: bool,
    pub zones: Vec<String>,
    pub rows: Vec<MatrixRow>,
    pub default_policy: &'static str,
    pub appliance: &'static str,
    pub counters: Vec<CounterRow>,
    pub counters_error: Option<String>,
}

/// One step of an apply's report.
#[derive(Debug, Clone)]
pub struct StepRow {
    pub module: String,
    pub change: String,
    pub result: &'static str,
    pub failed: bool,
    pub error: Option<String>,
}

/// One apply.
#[derive(Debug, Clone)]
pub struct ApplyRow {
    pub id: i64,
    pub at: String,
    pub modules: String,
    pub changes: i64,
    pub duration_ms: i64,
    pub ok: bool,
    pub error: Option<String>,
    pub steps: Vec<StepRow>,
    pub total_steps: usize,
}

/// `/console/journaux/mises-en-oeuvre`.
#[derive(Template)]
#[template(path = "console/applies.html")]
pub struct AppliesPage<'a> {
    pub page: &'a Page,
    pub applies: Vec<ApplyRow>,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// `/console/reglages`: the sections of the configuration.
#[derive(Template)]
#[template(path = "console/settings.html")]
pub struct SettingsListPage<'a> {
    pub page: &'a Page,
    pub path: String,
    pub sections: Vec<crate::web::settings_form::Section>,
}

/// `/console/reglages/{section}`: the section's form.
#[derive(Template)]
#[template(path = "console/settings_form.html")]
pub struct SettingsFormPage<'a> {
    pub page: &'a Page,
    pub section: &'a crate::web::settings_form::Section,
    pub path: String,
    pub fields: Vec<crate::web::settings_form::Field>,
    /// Errors not about one field.
    pub errors: Vec<String>,
    /// Whether a field has an error.
    pub invalid: bool,
    pub notice: Option<String>,
}

/// The plan of a section's new values, before "Appliquer".
#[derive(Template)]
#[template(path = "console/settings_plan.html")]
pub struct SettingsPlanPage<'a> {
    pub page: &'a Page,
    pub section: &'a crate::web::settings_form::Section,
    /// Key, value before, value after.
    pub changed: Vec<(String, String, String)>,
    pub plan: String,
    pub plan_error: Option<String>,
    pub firewall: bool,
    pub confirm_seconds: u64,
    pub token: Option<String>,
}

/// The result of an apply of settings (or of a firewall confirmation).
#[derive(Template)]
#[template(path = "console/settings_done.html")]
pub struct SettingsDonePage<'a> {
    pub page: &'a Page,
    pub section: &'a crate::web::settings_form::Section,
    pub ok: bool,
    pub summary: String,
    pub report: String,
    pub notes: Vec<String>,
    /// Seconds before a firewall change rolls back, when one waits.
    pub countdown: Option<i64>,
}
