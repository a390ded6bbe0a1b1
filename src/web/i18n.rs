//! The message catalogue: French first, English beside it.
//!
//! Templates call `page.t("id")` ([`super::pages::Page::t`]) with a message
//! id; [`FR`] is the reference (every id has its French text there),
//! [`EN`] must have the same ids (a test fails otherwise, and another when
//! a template names an id the catalogue lacks). The language of a request
//! is chosen once, in the guard ([`choose`]): the `__Host-preau-lang`
//! cookie set by the switch at the foot of every page (`POST /langue`), else the
//! browser's `Accept-Language`, else French. It is carried by a task-local
//! ([`scope`]) and into blocking work by [`spawn_blocking`], so that
//! `Page::anonymous` and `Page::signed` pick it up wherever they run.

use axum::http::{HeaderMap, header};
use std::cell::Cell;

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other one (the footer's switch offers it).
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }
}

/// The language preference cookie.
pub const COOKIE: &str = "__Host-preau-lang";

/// The `Set-Cookie` of a chosen language (a year).
pub fn set_cookie(lang: Lang) -> String {
    format!(
        "{COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=31536000",
        lang.code()
    )
}

/// The best of French and English in an `Accept-Language` value (by
/// weight, French on a tie or when neither is named).
pub fn from_accept_language(value: &str) -> Lang {
    let mut best: Option<(u32, Lang)> = None;
    for (i, part) in value.split(',').take(20).enumerate() {
        let mut bits = part.split(';');
        let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = bits
            .find_map(|b| b.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let lang = match tag.split('-').next() {
            Some("fr") => Lang::Fr,
            Some("en") => Lang::En,
            _ => continue,
        };
        // Weight first, then order of appearance.
        let score = (q.clamp(0.0, 1.0) * 1000.0) as u32 * 100 + (99 - i.min(99) as u32);
        if q > 0.0 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, lang));
        }
    }
    best.map_or(Lang::Fr, |(_, l)| l)
}

/// The language of a request: the cookie, else `Accept-Language`.
pub fn choose(headers: &HeaderMap) -> Lang {
    if let Some(l) = super::session::cookie(headers, COOKIE).and_then(|v| Lang::parse(&v)) {
        return l;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::Fr, from_accept_language)
}

tokio::task_local! {
    static LANG: Lang;
}

thread_local! {
    static BLOCKING: Cell<Option<Lang>> = const { Cell::new(None) };
}

/// The language of the request being served (French outside one).
pub fn current() -> Lang {
    LANG.try_with(|l| *l)
        .ok()
        .or_else(|| BLOCKING.with(Cell::get))
        .unwrap_or_default()
}

/// Runs `f` with `lang` as the current language.
pub async fn scope<F: std::future::Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// `tokio::task::spawn_blocking` that keeps the current language.
pub fn spawn_blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    let lang = current();
    tokio::task::spawn_blocking(move || {
        BLOCKING.with(|c| c.set(Some(lang)));
        let out = f();
        BLOCKING.with(|c| c.set(None));
        out
    })
}

/// The text of message `id` in `lang` (the id itself if unknown: the
/// tests keep that from happening).
pub fn t(lang: Lang, id: &str) -> &'static str {
    let table = match lang {
        Lang::Fr => FR,
        Lang::En => EN,
    };
    table
        .iter()
        .find(|(k, _)| *k == id)
        .or_else(|| FR.iter().find(|(k, _)| *k == id))
        .map_or("?", |(_, v)| v)
}

/// French, the reference.
pub const FR: &[(&str, &str)] = &[
    ("base.skip", "Aller au contenu"),
    ("base.nav", "Navigation principale"),
    ("base.sign_out", "Se déconnecter"),
    ("base.switch", "English"),
    ("base.switch_label", "Read this site in English"),
    ("nav.home", "Accueil"),
    ("nav.dashboard", "Tableau de bord"),
    ("nav.people", "Personnes"),
    ("nav.classes", "Mes classes"),
    ("nav.rooms", "Salles"),
    ("nav.journal", "Journal"),
    ("nav.security", "Sécurité"),
    ("nav.password", "Mot de passe"),
    ("nav.imports", "Imports"),
    ("nav.logs", "Journaux"),
    ("nav.grades", "Notes"),
    ("nav.bookings", "Réservations"),
    ("nav.timetable", "Emploi du temps"),
    ("nav.todo", "Travail à faire"),
    ("nav.messages", "Messages"),
    ("nav.statistics", "Statistiques"),
    ("nav.settings", "Réglages"),
    ("error.home", "Retour à l'accueil"),
    ("error.400", "Demande incorrecte"),
    ("error.400.text", "La demande envoyée n'a pas pu être comprise."),
    ("error.403", "Accès refusé"),
    ("error.403.text", "Vous n'avez pas le droit d'ouvrir cette page."),
    ("error.404", "Page introuvable"),
    ("error.404.text", "Cette page n'existe pas, ou plus."),
    ("error.413", "Envoi trop volumineux"),
    (
        "error.413.text",
        "Les données envoyées dépassent la taille permise.",
    ),
    ("error.429", "Trop de tentatives"),
    (
        "error.429.text",
        "Trop de tentatives en peu de temps : réessayez dans quelques minutes.",
    ),
    ("error.500", "Erreur du serveur"),
    (
        "error.500.text",
        "Le serveur n'a pas pu répondre. L'erreur est notée dans son journal ; réessayez plus tard ou prévenez l'administrateur.",
    ),
    ("signin.title", "Connexion"),
    ("signin.login", "Identifiant"),
    ("signin.password", "Mot de passe"),
    ("signin.submit", "Se connecter"),
    (
        "signin.help",
        "Identifiant et mot de passe figurent sur la fiche remise par l'établissement. En cas d'oubli, adressez-vous à votre professeur principal ou à l'administrateur.",
    ),
    ("code.title", "Code de connexion"),
    (
        "code.intro",
        "Votre mot de passe est juste. Saisissez maintenant le code à six chiffres affiché par votre application d'authentification.",
    ),
    ("code.label", "Code"),
    ("code.submit", "Valider"),
    (
        "code.help",
        "Sans votre téléphone, saisissez l'un de vos codes de secours : chacun ne sert qu'une fois.",
    ),
    ("portal.hello", "Bonjour"),
    ("portal.files", "Mon espace de fichiers"),
    ("portal.sessions", "Mes connexions"),
    ("portal.sign_out_all", "Se déconnecter de tous les appareils"),
    ("card.dashboard", "Tableau de bord"),
    (
        "card.dashboard.text",
        "L'état du serveur, des modules, des disques ; les dernières mises en œuvre et les derniers imports.",
    ),
    ("card.people", "Personnes"),
    (
        "card.people.text",
        "Chercher un élève, un personnel ou un responsable ; mots de passe et fiches de connexion.",
    ),
    ("card.classes", "Mes classes"),
    (
        "card.classes.text",
        "Les élèves de vos classes et groupes : nouveau mot de passe, fiches de connexion.",
    ),
    ("card.journal", "Journal des actions"),
    (
        "card.journal.text",
        "Qui s'est connecté, qui a fait quoi, et d'où.",
    ),
    ("card.password", "Changer de mot de passe"),
    (
        "card.password.text",
        "Le même mot de passe sert pour cet espace, les ordinateurs et l'accès à internet.",
    ),
    ("password.title", "Changer de mot de passe"),
    (
        "password.forced",
        "Votre mot de passe est encore celui de la fiche remise par l'établissement : choisissez-en un nouveau pour continuer. Il servira partout (cet espace, les ordinateurs de l'établissement, l'accès à internet).",
    ),
    ("password.done", "Votre mot de passe a été changé."),
    ("password.current", "Mot de passe actuel"),
    ("password.new", "Nouveau mot de passe"),
    ("password.rule_before", "Au moins"),
    ("password.rule_after", "caractères, différent de l'actuel."),
    ("password.confirm", "Nouveau mot de passe, encore une fois"),
    ("password.submit", "Changer le mot de passe"),
    ("classroom.title", "Mes classes"),
    (
        "classroom.none",
        "Aucune classe ni aucun groupe ne vous est attribué dans l'emploi du temps importé.",
    ),
    ("class.slips", "Fiches de connexion de la classe"),
    ("class.slips_csv", "Les mêmes en CSV"),
    ("class.student", "Élève"),
    ("class.login", "Identifiant"),
    ("class.password", "Mot de passe"),
    ("class.action", "Action"),
    ("class.pw_initial", "celui de la fiche"),
    ("class.pw_own", "personnalisé"),
    ("class.new_password", "Nouveau mot de passe"),
    ("class.homework", "Devoirs"),
    ("class.hw_name", "Nom du devoir (dossier créé chez chaque élève)"),
    ("class.hw_files", "Fichiers"),
    ("class.hw_max", "au plus"),
    ("class.hw_total", "Mo en tout"),
    ("class.hw_submit", "Distribuer à la classe"),
];

/// English, beside it: the same ids.
pub const EN: &[(&str, &str)] = &[
    ("base.skip", "Skip to content"),
    ("base.nav", "Main navigation"),
    ("base.sign_out", "Sign out"),
    ("base.switch", "Français"),
    ("base.switch_label", "Lire ce site en français"),
    ("nav.home", "Home"),
    ("nav.dashboard", "Dashboard"),
    ("nav.people", "People"),
    ("nav.classes", "My classes"),
    ("nav.rooms", "Rooms"),
    ("nav.journal", "Log"),
    ("nav.security", "Security"),
    ("nav.password", "Password"),
    ("nav.imports", "Imports"),
    ("nav.logs", "Logs"),
    ("nav.grades", "Marks"),
    ("nav.bookings", "Bookings"),
    ("nav.timetable", "Timetable"),
    ("nav.todo", "Homework to do"),
    ("nav.messages", "Messages"),
    ("nav.statistics", "Statistics"),
    ("nav.settings", "Settings"),
    ("error.home", "Back to the home page"),
    ("error.400", "Bad request"),
    ("error.400.text", "The request could not be understood."),
    ("error.403", "Access denied"),
    ("error.403.text", "You are not allowed to open this page."),
    ("error.404", "Page not found"),
    ("error.404.text", "This page does not exist, or no longer does."),
    ("error.413", "Too much data"),
    ("error.413.text", "What was sent is larger than allowed."),
    ("error.429", "Too many attempts"),
    (
        "error.429.text",
        "Too many attempts in a short time: try again in a few minutes.",
    ),
    ("error.500", "Server error"),
    (
        "error.500.text",
        "The server could not answer. The error is in its log; try again later or tell the administrator.",
    ),
    ("signin.title", "Sign in"),
    ("signin.login", "Login"),
    ("signin.password", "Password"),
    ("signin.submit", "Sign in"),
    (
        "signin.help",
        "Your login and password are on the slip the school gave you. If you have lost them, ask your form teacher or the administrator.",
    ),
    ("code.title", "Sign-in code"),
    (
        "code.intro",
        "Your password is right. Now type the six-digit code your authenticator application shows.",
    ),
    ("code.label", "Code"),
    ("code.submit", "Confirm"),
    (
        "code.help",
        "Without your phone, type one of your recovery codes: each works only once.",
    ),
    ("portal.hello", "Hello"),
    ("portal.files", "My files"),
    ("portal.sessions", "My sessions"),
    ("portal.sign_out_all", "Sign out of every device"),
    ("card.dashboard", "Dashboard"),
    (
        "card.dashboard.text",
        "The state of the server, its modules and disks; the latest applies and imports.",
    ),
    ("card.people", "People"),
    (
        "card.people.text",
        "Find a student, a member of staff or a parent; passwords and login slips.",
    ),
    ("card.classes", "My classes"),
    (
        "card.classes.text",
        "The students of your classes and groups: new password, login slips.",
    ),
    ("card.journal", "Activity log"),
    (
        "card.journal.text",
        "Who signed in, who did what, and from where.",
    ),
    ("card.password", "Change my password"),
    (
        "card.password.text",
        "The same password is used here, on the computers and for internet access.",
    ),
    ("password.title", "Change my password"),
    (
        "password.forced",
        "Your password is still the one on the school's slip: choose a new one to go on. It will be used everywhere (here, on the school's computers, for internet access).",
    ),
    ("password.done", "Your password has been changed."),
    ("password.current", "Current password"),
    ("password.new", "New password"),
    ("password.rule_before", "At least"),
    ("password.rule_after", "characters, not the current one."),
    ("password.confirm", "New password, once more"),
    ("password.submit", "Change the password"),
    ("classroom.title", "My classes"),
    (
        "classroom.none",
        "No class or group is given to you in the imported timetable.",
    ),
    ("class.slips", "Login slips of the class"),
    ("class.slips_csv", "The same as CSV"),
    ("class.student", "Student"),
    ("class.login", "Login"),
    ("class.password", "Password"),
    ("class.action", "Action"),
    ("class.pw_initial", "the slip's one"),
    ("class.pw_own", "their own"),
    ("class.new_password", "New password"),
    ("class.homework", "Homework"),
    (
        "class.hw_name",
        "Name of the homework (a folder made for each student)",
    ),
    ("class.hw_files", "Files"),
    ("class.hw_max", "at most"),
    ("class.hw_total", "MiB in all"),
    ("class.hw_submit", "Hand out to the class"),
];

/// `POST /langue`: `langue=fr|en`; back to the page it came from.
pub async fn switch(headers: HeaderMap, body: axum::body::Body) -> axum::response::Response {
    use axum::response::IntoResponse;
    let fields = match super::forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let Some(lang) = Lang::parse(fields.get("langue")) else {
        return super::errors::WebError::BadRequest("Langue inconnue : « fr » ou « en ».".into())
            .into_response();
    };
    // Back to the same site's page (the Referer, same-origin by policy).
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .filter(|p| super::signin::safe_next(p))
        .unwrap_or("/")
        .to_string();
    super::see_other(&back, &[set_cookie(lang)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(table: &[(&'static str, &str)]) -> BTreeSet<&'static str> {
        table.iter().map(|(k, _)| *k).collect()
    }

    #[test]
    fn every_message_has_an_english_text_and_no_more() {
        let (fr, en) = (ids(FR), ids(EN));
        assert_eq!(fr.len(), FR.len(), "an id twice in FR");
        assert_eq!(en.len(), EN.len(), "an id twice in EN");
        let missing: Vec<_> = fr.difference(&en).collect();
        assert!(missing.is_empty(), "ids without an English text: {missing:?}");
        let extra: Vec<_> = en.difference(&fr).collect();
        assert!(extra.is_empty(), "English ids without French: {extra:?}");
        for (k, v) in EN {
            assert!(!v.is_empty(), "{k}");
        }
    }

    /// Every `t("…")` of the templates names a message of the catalogue.
    #[test]
    fn templates_name_known_messages() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/templates");
        let fr = ids(FR);
        let mut seen = 0;
        let mut todo = vec![dir];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    todo.push(p);
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, _) in text.match_indices("t(\"") {
                    let rest = &text[i + 3..];
                    let id = &rest[..rest.find('"').unwrap()];
                    assert!(fr.contains(id), "{}: unknown message id {id:?}", p.display());
                    seen += 1;
                }
            }
        }
        assert!(seen > 20, "the templates use the catalogue ({seen} calls)");
    }

    #[test]
    fn language_from_accept_language() {
        assert_eq!(from_accept_language(""), Lang::Fr);
        assert_eq!(from_accept_language("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr);
        assert_eq!(from_accept_language("de-DE,en;q=0.5,fr;q=0.4"), Lang::En);
        assert_eq!(
            from_accept_language("en;q=0.5,fr;q=0.5"),
            Lang::En,
            "order on a tie"
        );
        assert_eq!(from_accept_language("de,es"), Lang::Fr);
        assert_eq!(from_accept_language("en;q=0"), Lang::Fr);
        assert_eq!(t(Lang::En, "signin.title"), "Sign in");
        assert_eq!(t(Lang::Fr, "signin.title"), "Connexion");
    }
}
