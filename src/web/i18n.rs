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

/// A message built in Rust ([`crate::msg!`]) in the current language.
pub fn pick(m: crate::config::Msg) -> String {
    match current() {
        Lang::Fr => m.fr,
        Lang::En => m.en,
    }
}

/// `fr` or `en`, whichever is the current language.
pub fn either(fr: &'static str, en: &'static str) -> &'static str {
    match current() {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

/// Whether the current language is French.
pub fn french() -> bool {
    current() == Lang::Fr
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
    ("settings.title", "Réglages"),
    (
        "settings.intro_before",
        "Chaque section est une table du fichier de configuration",
    ),
    (
        "settings.intro_after",
        "Les valeurs modifiées ici sont vérifiées comme par « preau check », puis vous voyez ce que l'application changera (« preau plan ») avant d'appliquer.",
    ),
    ("settings.refused", "Réglages refusés"),
    ("settings.nothing_saved", "Rien n'a été enregistré."),
    (
        "settings.fix_fields",
        "Corrigez les champs signalés : rien n'a été enregistré.",
    ),
    ("settings.read_only", "lecture seule : à modifier dans"),
    ("settings.one_per_line", "une valeur par ligne"),
    ("settings.default", "absent du fichier : valeur par défaut"),
    ("settings.check", "Vérifier et voir le plan"),
    ("settings.back", "Retour aux réglages"),
    ("settings.plan_title", "Plan des réglages"),
    (
        "settings.plan_valid",
        "Les nouvelles valeurs sont valides. Rien n'est encore enregistré : relisez ce que l'application changera, puis appliquez.",
    ),
    ("settings.changed", "Réglages modifiés"),
    ("settings.setting", "Réglage"),
    ("settings.before", "Avant"),
    ("settings.after", "Après"),
    ("settings.plan_impossible", "Plan impossible"),
    ("settings.will_change", "Ce que l'application changera"),
    (
        "settings.fw_before",
        "Le pare-feu change : il sera appliqué à l'essai. Confirmez-le dans les",
    ),
    (
        "settings.fw_after",
        "secondes qui suivent, sinon l'ancien jeu de règles est rétabli (comme",
    ),
    ("settings.apply", "Appliquer"),
    ("settings.cancel", "Annuler"),
    ("settings.back_form", "Retour au formulaire"),
    ("settings.report", "Rapport"),
    ("settings.confirm_heading", "Confirmez le changement du pare-feu"),
    (
        "settings.confirm_before",
        "Si la console répond encore, confirmez : sans confirmation, l'ancien jeu de règles sera rétabli dans",
    ),
    ("settings.seconds", "secondes."),
    ("settings.confirm", "Confirmer"),
    (
        "settings.refused_by_check",
        "Refusé par la vérification (preau check) :",
    ),
    (
        "settings.unchanged",
        "Aucun réglage n'a changé : rien à appliquer.",
    ),
    ("settings.nothing_to_change", "Rien à changer sur le système."),
    (
        "settings.plan_expired",
        "Ce plan a expiré ou a déjà servi : rien n'a été enregistré. Vérifiez à nouveau les réglages.",
    ),
    (
        "settings.file_changed",
        "Le fichier de configuration a changé depuis le plan : rien n'a été enregistré. Vérifiez à nouveau les réglages.",
    ),
    (
        "settings.apply_failed",
        "L'application a échoué : la configuration est enregistrée, le système n'est qu'en partie à jour (voir le rapport).",
    ),
    (
        "settings.up_to_date",
        "Configuration enregistrée ; le système était déjà à jour.",
    ),
    ("settings.applied", "Réglages appliqués"),
    ("settings.failed", "Application échouée"),
    (
        "settings.confirmed",
        "Confirmé : le nouveau jeu de règles du pare-feu est conservé, et c'est lui qui sera rétabli au démarrage.",
    ),
    ("settings.not_confirmed", "Rien n'a été confirmé :"),
    ("settings.confirm_title", "Confirmation du pare-feu"),
    (
        "form.expired",
        "Le formulaire a expiré : rechargez la page et recommencez.",
    ),
    ("dash.alerts", "Alertes"),
    ("dash.server", "Serveur"),
    ("dash.name", "Nom"),
    ("dash.cpus", "Processeurs"),
    ("dash.used", "utilisés"),
    ("dash.load", "Charge"),
    ("dash.memory", "Mémoire"),
    ("dash.uptime", "En marche depuis"),
    ("dash.directory", "Annuaire"),
    ("dash.students", "Élèves"),
    ("dash.teachers", "Enseignants"),
    ("dash.staff", "Personnels"),
    ("dash.parents", "Responsables"),
    ("dash.disabled", "Désactivés"),
    ("dash.classes_groups", "Classes, groupes"),
    ("dash.find_person", "Chercher une personne"),
    ("dash.disks", "Disques"),
    ("dash.mount", "Point de montage"),
    ("dash.fs", "Système"),
    ("dash.size", "Taille"),
    ("dash.free", "Libre"),
    ("dash.occupied", "Occupé"),
    ("dash.modules", "Modules"),
    ("dash.module", "Module"),
    ("dash.state", "État"),
    ("dash.details", "Détails"),
    ("dash.applies", "Dernières mises en œuvre"),
    ("dash.none_yet", "Aucune pour l'instant."),
    ("dash.date", "Date"),
    ("dash.changes", "Changements"),
    ("dash.result", "Résultat"),
    ("dash.succeeded", "réussie"),
    ("dash.failed", "échec"),
    ("dash.imports", "Derniers imports"),
    ("dash.no_import", "Aucun import pour l'instant."),
    ("people.new", "Nouvelle personne"),
    ("people.leavers", "Partants à supprimer"),
    ("people.search_label", "Nom, prénom, identifiant ou classe"),
    ("people.search", "Chercher"),
    ("people.name", "Nom"),
    ("people.login", "Identifiant"),
    ("people.kind", "Qualité"),
    ("people.class", "Classe"),
    ("people.state", "État"),
    ("person.login", "Identifiant"),
    ("person.kind", "Qualité"),
    ("person.state", "État"),
    ("person.structures", "Classes et groupes"),
    ("person.parents", "Responsables"),
    ("person.children", "Enfants"),
    ("person.password", "Mot de passe"),
    ("person.pw_initial", "celui de la fiche (pas encore changé)"),
    ("person.pw_own", "personnalisé"),
    ("person.last_signin", "Dernière connexion"),
    ("person.files", "Espace de fichiers"),
    ("person.confirm_reset", "Donner un nouveau mot de passe à"),
    ("person.reset", "Nouveau mot de passe et fiche"),
    ("person.disable", "Désactiver le compte"),
    ("person.enable", "Réactiver le compte"),
    ("audit.search_label", "Qui, quoi ou adresse"),
    ("audit.at", "Date (UTC)"),
    ("audit.who", "Qui"),
    ("audit.address", "Adresse"),
    ("audit.action", "Action"),
    ("audit.target", "Cible"),
    ("audit.outcome", "Résultat"),
    ("pager.label", "Pages"),
    ("pager.newer", "Plus récents"),
    ("pager.older", "Plus anciens"),
    ("applies.title", "Mises en œuvre"),
    ("logs.title", "Journaux"),
    ("applies.none", "Aucune mise en œuvre enregistrée."),
    ("applies.changes_in", "changement(s) en"),
    ("applies.nothing", "Rien à changer."),
    ("applies.change", "Changement"),
    ("applies.others_before", "… et"),
    ("applies.others_after", "autre(s) étape(s)"),
    ("applies.newer", "← Plus récentes"),
    ("applies.older", "Plus anciennes →"),
    ("imports.title", "Imports de l'annuaire"),
    (
        "imports.files",
        "Exports nationaux : SIECLE (ElevesSansAdresses.xml, ResponsablesAvecAdresses.xml), STS-web (sts_emp_….xml), CSV, ou un zip de ces fichiers",
    ),
    ("imports.at_most", "Au plus"),
    (
        "imports.nothing_before",
        "Mio en tout. Rien ne change avant votre confirmation : vous verrez d'abord les arrivées, les changements et les départs.",
    ),
    (
        "imports.force",
        "Accepter la désactivation d'une grande part des comptes (export partiel : à éviter)",
    ),
    ("imports.preview", "Voir l'aperçu"),
    ("imports.history", "Historique"),
    ("imports.by", "Par"),
    ("imports.files_col", "Fichiers"),
    ("logs.proxy_title", "Journaux du proxy"),
    ("logs.proxy", "Connexions du proxy"),
    ("logs.firewall", "Pare-feu"),
    (
        "new.intro",
        "Pour un élève, un enseignant ou un personnel arrivé entre deux imports. L'identifiant est fabriqué comme à l'import ; le mot de passe initial s'affiche ensuite avec sa fiche à imprimer.",
    ),
    ("new.kind", "Qualité"),
    ("new.last_name", "Nom"),
    ("new.first_name", "Prénom"),
    ("new.birth", "Date de naissance"),
    ("new.birth_hint", "(élèves ; JJ/MM/AAAA)"),
    ("new.birth_placeholder", "JJ/MM/AAAA"),
    ("new.class", "Classe"),
    ("new.class_hint", "(élèves)"),
    ("new.email", "Adresse électronique"),
    ("new.optional", "(facultative)"),
    ("new.create", "Créer le compte"),
    (
        "leavers.intro_before",
        "Les comptes désactivés par un import (élèves et personnels partis) sont gardés",
    ),
    (
        "leavers.intro_after",
        "jours, puis supprimés ici, comme avec « preau accounts purge » : comptes des ordinateurs et dossiers personnels effacés, identifiants jamais redonnés. Une personne que des données de vie scolaire nomment (absences, notes…) est gardée avec ces données.",
    ),
    (
        "leavers.none",
        "Aucun partant dont la durée de conservation est passée.",
    ),
    ("leavers.count", "compte(s) à supprimer."),
    ("leavers.left", "Parti le"),
    ("leavers.due", "Suppression prévue le"),
    (
        "leavers.confirm_before",
        "Je confirme la suppression définitive de ces",
    ),
    (
        "leavers.confirm_after",
        "compte(s) et de leurs dossiers personnels.",
    ),
    ("leavers.delete", "Supprimer les partants"),
    ("leavers.back", "Retour aux personnes"),
    ("card.grades", "Notes et bulletins"),
    (
        "card.grades.text",
        "Évaluations et saisie des notes de vos services, appréciations, compétences, bulletins.",
    ),
    (
        "card.my_grades.text",
        "Les notes publiées, les moyennes, les compétences et les bulletins.",
    ),
    ("card.day", "Ma journée"),
    (
        "card.day.text",
        "Vos cours du jour et l'appel de chacun, depuis un téléphone.",
    ),
    ("card.absences", "Absences"),
    (
        "card.absences.text",
        "Les absences et retards du jour au fil des appels, les justificatifs, les bilans.",
    ),
    ("card.attendance", "Absences et retards"),
    (
        "card.attendance.text",
        "La journée, les absences et les retards ; envoyer un justificatif en ligne.",
    ),
    ("card.bookings", "Réservations"),
    (
        "card.bookings.text",
        "Salles et matériel (chariots d'ordinateurs, tablettes…) : réserver pour un cours, la feuille du jour.",
    ),
    ("card.statistics", "Statistiques d'usage"),
    (
        "card.statistics.text",
        "Réservations par ressource, matière, niveau et enseignant ; connexions et comptes actifs par semaine.",
    ),
    ("portal.services", "Les services de l'établissement"),
    ("sec.title", "Double authentification"),
    ("sec.codes", "Vos codes de secours"),
    (
        "sec.codes_text",
        "Notez-les ou imprimez-les maintenant et rangez-les en lieu sûr : ils ne seront plus jamais affichés. Chacun remplace une fois le code de l'application.",
    ),
    (
        "sec.off_text",
        "La connexion à la console ne demande que le mot de passe. Activez un second facteur : un code à six chiffres donné par une application d'authentification (FreeOTP, Aegis, Google Authenticator…) sera demandé après le mot de passe.",
    ),
    ("sec.start", "Activer la double authentification"),
    (
        "sec.step1",
        "Dans votre application d'authentification, ajoutez un compte en photographiant ce code :",
    ),
    ("sec.qr_alt", "Code QR du secret de double authentification"),
    ("sec.step2", "ou saisissez ce secret à la main :"),
    (
        "sec.step3",
        "puis saisissez le code à six chiffres qu'elle affiche :",
    ),
    ("sec.code", "Code de l'application"),
    (
        "sec.on_text",
        "Active : un code est demandé à chaque connexion. Codes de secours restants :",
    ),
    ("sec.code_off", "Code de l'application (ou code de secours)"),
    ("sec.stop", "Désactiver la double authentification"),
    ("slips.print", "Imprimer"),
    ("slips.back", "Retour"),
    ("hw.title", "Devoir"),
    ("hw.back", "Retour à la classe"),
    ("hw.distributed", "Distribué"),
    ("hw.collected", "Ramassé"),
    ("hw.returned", "Rendu"),
    ("hw.files", "Fichiers"),
    ("hw.collect", "Ramasser les copies"),
    ("hw.return", "Rendre les corrections"),
    (
        "hw.help_before",
        "Les copies ramassées arrivent dans votre dossier personnel, sous",
    ),
    (
        "hw.help_middle",
        "; corrigez-les là, puis « Rendre » les place dans le dossier",
    ),
    ("hw.help_after", "de chaque élève."),
    ("hw.copy", "Copie"),
    ("imp.preview", "Aperçu de l'import"),
    ("imp.files", "Fichiers :"),
    ("imp.refused", "Import refusé"),
    (
        "imp.refused_text",
        "Rien n'a été modifié. Si l'export est bien complet, renvoyez-le en cochant « Accepter la désactivation d'une grande part des comptes ».",
    ),
    ("imp.summary", "Résumé"),
    ("imp.unchanged", "Inchangés"),
    ("imp.new_structures", "Nouvelles classes et groupes"),
    ("imp.warnings", "Avertissements"),
    ("imp.detail", "Détail"),
    ("imp.others_before", "… et"),
    ("imp.others_after", "autre(s)."),
    ("imp.confirm", "Confirmer l'import"),
    (
        "imp.nothing",
        "L'annuaire correspond déjà à ces fichiers : rien à faire.",
    ),
    ("imp.back", "Retour aux imports"),
    ("imp.done", "Import effectué"),
    (
        "imp.done_slips_before",
        "Les fiches de connexion des nouveaux comptes s'impriment depuis chaque classe (« Mes classes » ou la fiche d'une classe), ou avec",
    ),
    (
        "plog.off",
        "Le module « proxy » n'est pas activé : seules d'anciennes connexions peuvent figurer ici.",
    ),
    ("plog.user", "Utilisateur"),
    ("plog.address", "Adresse du poste"),
    ("plog.site", "Site (et ses sous-domaines)"),
    ("plog.decision", "Décision"),
    ("plog.all", "toutes"),
    ("plog.allow", "autorisé"),
    ("plog.deny", "refusé"),
    ("plog.error", "erreur"),
    ("plog.since", "Depuis (UTC, AAAA-MM-JJ ou AAAA-MM-JJTHH:MM)"),
    ("plog.until", "Jusqu'à (exclu)"),
    ("plog.none", "Aucune connexion ne correspond."),
    ("plog.page", "Page"),
    ("plog.newest_first", "les plus récentes d'abord."),
    ("plog.time", "Heure (UTC)"),
    ("plog.computer", "Poste"),
    ("plog.request", "Demande"),
    ("plog.code", "Code"),
    ("plog.category", "Catégorie"),
    ("plog.volume", "Volume"),
    ("fwpage.title", "Pare-feu : qui peut joindre qui"),
    (
        "fwpage.off",
        "Le module « firewall » n'est pas activé : la matrice montre ce que donneraient les réglages actuels.",
    ),
    (
        "fwpage.no_zone",
        "Aucune zone n'est définie (réglages [firewall] preset et zones).",
    ),
    (
        "fwpage.caption",
        "Ligne : zone d'où part le trafic ; colonne : zone où il va. Par défaut (paire qu'aucune règle ne nomme) :",
    ),
    ("fwpage.from_to", "De \\ vers"),
    ("fwpage.interfaces", "Interfaces"),
    ("fwpage.services", "Services de l'appliance"),
    ("fwpage.counters", "Compteurs des règles (en direct)"),
    ("fwpage.no_counters", "Compteurs indisponibles :"),
    ("fwpage.none", "Aucune règle avec compteur."),
    ("fwpage.chain", "Chaîne"),
    ("fwpage.rule", "Règle"),
    ("fwpage.packets", "Paquets"),
    // Classroom rooms (/console/salles).
    ("rooms.title", "Salles et internet"),
    (
        "rooms.firewall_failed",
        "Le pare-feu n'a pas pu être mis à jour : pour l'instant seul le proxy applique ce réglage (le web). Le service réessaie dans quelques secondes ; si cela dure, prévenez l'administrateur.",
    ),
    (
        "rooms.firewall_on",
        "Le pare-feu coupe aussi la salle d'internet, pour tous les protocoles et pas seulement le web, jusqu'à la fin du réglage ; le serveur lui-même (proxy, DNS, console) reste joignable, ce qui laisse passer les sites de l'examen.",
    ),
    (
        "rooms.firewall_off",
        "Le pare-feu (module « firewall ») n'est pas activé : seul le proxy applique ces réglages, au web qui passe par lui. Un poste de la salle peut encore joindre internet par d'autres moyens (autres protocoles, proxy contourné).",
    ),
    (
        "rooms.proxy_off_firewall_on",
        "Le filtrage web (module « proxy ») n'est pas activé sur ce serveur : le pare-feu coupe bien la salle, mais aucun site n'y reste joignable, même en mode examen.",
    ),
    (
        "rooms.proxy_off",
        "Le filtrage web (module « proxy ») n'est pas activé sur ce serveur : ces réglages ne s'appliqueront que lorsqu'il le sera.",
    ),
    (
        "rooms.exam_only",
        "Le mode examen ne laisse joindre que les sites de l'examen",
    ),
    ("rooms.always_allowed", "toujours autorisés"),
    (
        "rooms.exam_rest",
        " ; internet coupé refuse tout le web. Le réglage s'arrête seul à la fin de la durée choisie.",
    ),
    (
        "rooms.none",
        "Aucune salle ne vous est attribuée : l'administrateur associe les salles de l'emploi du temps aux réseaux des salles (réglage",
    ),
    ("rooms.addresses", "Adresses :"),
    ("rooms.now", "En cours :"),
    ("rooms.sites", "sites :"),
    ("rooms.restore", "Rétablir internet maintenant"),
    ("rooms.normal", "Accès habituel à internet."),
    ("rooms.new", "Nouveau réglage"),
    ("rooms.mode_exam", "Mode examen (liste blanche)"),
    ("rooms.mode_off", "Internet coupé"),
    ("rooms.until", "Jusqu'à quand"),
    ("rooms.for_a_time", "Pendant une durée :"),
    ("rooms.minutes", "Durée en minutes (au plus"),
    ("rooms.lesson_end", "Jusqu'à la fin du cours"),
    (
        "rooms.exam_sites",
        "Sites de l'examen (mode examen ; séparés par des espaces)",
    ),
    ("rooms.apply_to", "Appliquer à"),
    (
        "rooms.done_exam",
        "Le mode examen est en place : le proxy l'applique dans les deux secondes.",
    ),
    (
        "rooms.done_exam_firewall",
        "Le mode examen est en place : le pare-feu coupe la salle dès maintenant, le proxy n'y laisse passer que les sites de l'examen dans les deux secondes.",
    ),
    (
        "rooms.done_off",
        "Internet est coupé dans la salle : le proxy l'applique dans les deux secondes.",
    ),
    (
        "rooms.done_off_firewall",
        "Internet est coupé dans la salle : le pare-feu l'applique dès maintenant, le proxy dans les deux secondes.",
    ),
    (
        "rooms.done_end",
        "La salle retrouve son accès habituel à internet.",
    ),
    // Usage statistics (/console/statistiques).
    ("stats.title", "Statistiques d'usage"),
    ("stats.from", "Du"),
    ("stats.to", "au (inclus)"),
    ("stats.show", "Afficher"),
    ("stats.export", "Exporter :"),
    ("stats.csv_resources", "ressources (CSV)"),
    ("stats.csv_subjects", "matières (CSV)"),
    ("stats.csv_levels", "niveaux (CSV)"),
    ("stats.csv_teachers", "enseignants (CSV)"),
    ("stats.csv_signins", "connexions (CSV)"),
    ("stats.csv_shares", "partages (CSV)"),
    ("stats.csv_filtering", "filtrage web (CSV)"),
    ("stats.json_all", "tout (JSON)"),
    ("stats.counted", "Ce qui est compté"),
    (
        "stats.li_bookings_before",
        "Réservations : celles qui commencent dans la période ; les heures sont celles des réservations confirmées (unités × heures pour le matériel) ; le taux d'occupation rapporte les heures confirmées à",
    ),
    (
        "stats.li_bookings_after",
        "heures ouvertes par semaine et par unité.",
    ),
    (
        "stats.li_signins",
        "Connexions : les connexions réussies à Préau, comptées par semaine entière (ISO) pour chaque compte ; un compte actif est un compte qui s'est connecté au moins une fois dans la semaine.",
    ),
    (
        "stats.li_shares",
        "Partages : l'espace occupé par chaque partage, relevé une fois par jour par le serveur (module « shares » actif) ; la semaine montre le plus grand relevé.",
    ),
    (
        "stats.li_filtering",
        "Filtrage web : les requêtes enregistrées par le proxy dans ses journaux de connexion, jours entiers en temps universel (UTC) ; ce sont des nombres de requêtes, pas de personnes ni de postes (une page en fait souvent plusieurs). Les refus sans catégorie viennent d'une règle de politique (liste locale, horaire).",
    ),
    (
        "stats.li_privacy_before",
        "Confidentialité : tout nombre de personnes inférieur à",
    ),
    ("stats.li_privacy_masked", "est masqué"),
    ("stats.open_quote", "« "),
    ("stats.close_quote", " »"),
    (
        "stats.li_privacy_after",
        ", pour qu'aucune case ne désigne une personne.",
    ),
    (
        "stats.li_keep_a",
        "Conservation : le journal des actions, le décompte hebdomadaire des connexions et les réservations sont conservés sur le serveur jusqu'à leur suppression par l'administrateur (pas de purge automatique) ; les journaux du filtrage web,",
    ),
    (
        "stats.li_keep_b",
        "jours. Les totaux quotidiens du filtrage web (nombres de requêtes autorisées, refusées, en erreur et refusées par catégorie, sans compte, adresse ni site) sont faits par le serveur chaque jour terminé et gardés",
    ),
    (
        "stats.li_keep_c",
        "jours, plus longtemps que les journaux : ils ne désignent personne. Le jour en cours est lu dans son journal.",
    ),
    ("stats.by_resource", "Réservations par ressource et par semaine"),
    ("stats.no_bookings_period", "Aucune réservation dans la période."),
    ("stats.resource", "Ressource"),
    ("stats.week", "Semaine"),
    ("stats.bookings", "Réservations"),
    ("stats.cancellations", "Annulations"),
    ("stats.hours", "Heures"),
    ("stats.occupancy", "Occupation"),
    ("stats.people", "Personnes"),
    ("stats.no_bookings", "Aucune réservation."),
    ("stats.by_subject", "Par matière"),
    ("stats.subject", "Matière"),
    ("stats.by_level", "Par niveau de classe"),
    ("stats.level", "Niveau"),
    ("stats.by_teacher", "Par enseignant"),
    ("stats.who", "Qui"),
    ("stats.free_slot", "créneau libre (hors cours)"),
    ("stats.signins_title", "Connexions et comptes actifs par semaine"),
    ("stats.no_signins", "Aucune connexion dans la période."),
    ("stats.role", "Profil"),
    ("stats.signins", "Connexions"),
    ("stats.active_accounts", "Comptes actifs"),
    ("stats.shares_title", "Espace utilisé par les partages"),
    ("stats.no_samples", "Aucun relevé dans la période."),
    ("stats.share", "Partage"),
    ("stats.space_used", "Espace utilisé"),
    (
        "stats.filtering_title",
        "Filtrage web : requêtes refusées par catégorie",
    ),
    ("stats.f_allowed", "Requêtes autorisées :"),
    ("stats.f_denied", "refusées :"),
    ("stats.f_errors", "en erreur :"),
    ("stats.f_days", "(jours comptés :"),
    ("stats.f_of_which", ", dont"),
    (
        "stats.f_summaries",
        "par leurs totaux quotidiens). Nombres de requêtes, pas de personnes.",
    ),
    ("stats.no_denied", "Aucune requête refusée dans la période."),
    ("stats.category", "Catégorie"),
    ("stats.denied_requests", "Requêtes refusées"),
    ("stats.chart_hours", "Heures réservées par ressource"),
    ("stats.chart_signins", "Connexions par semaine"),
    ("stats.chart_shares", "Espace utilisé par les partages (Mo)"),
    ("stats.chart_mb", "Mo"),
    ("stats.chart_denied", "Requêtes refusées par catégorie"),
    ("stats.no_category", "(sans catégorie)"),
    ("stats.other_categories", "(autres catégories)"),
    ("stats.role.admin", "administrateur"),
    ("stats.role.student", "élève"),
    ("stats.role.parent", "responsable"),
    ("stats.role.teacher", "enseignant"),
    ("stats.role.direction", "direction"),
    ("stats.role.school_life", "vie scolaire"),
    ("stats.role.staff", "personnel"),
    // Bookings (/reservations).
    (
        "book.no_resources",
        "Aucune ressource n'est encore proposée à la réservation.",
    ),
    ("book.resources", "Ressources réservables"),
    ("book.resource", "Ressource"),
    ("book.kind", "Type"),
    ("book.quantity", "Quantité"),
    ("book.approval", "Validation"),
    ("book.teachers", "Enseignants"),
    ("book.mine", "Mes réservations à venir"),
    ("book.none_coming", "Aucune réservation à venir."),
    ("book.number", "N°"),
    ("book.when", "Quand"),
    ("book.for", "Pour"),
    ("book.status", "État"),
    ("book.actions", "Actions"),
    ("book.cancel", "Annuler"),
    ("book.to_approve", "Demandes à valider"),
    ("book.who", "Qui"),
    ("book.decision", "Décision"),
    ("book.accept", "Accepter"),
    ("book.refuse", "Refuser"),
    ("book.add_resource", "Ajouter une ressource"),
    ("book.name", "Nom"),
    ("book.equipment", "Matériel"),
    ("book.room", "Salle"),
    ("book.units", "Quantité (unités)"),
    (
        "book.manager",
        "Responsable qui valide les demandes (identifiant, facultatif)",
    ),
    ("book.teachers_may", "Les enseignants peuvent réserver"),
    ("book.add", "Ajouter"),
    ("book.days", "Jours"),
    ("book.prev_day", "Jour précédent"),
    ("book.next_day", "Jour suivant"),
    ("book.ical", "Agenda (iCalendar)"),
    ("book.none_today", "Aucune réservation ce jour."),
    ("book.hours", "Heures"),
    ("book.swap_with", "Échanger avec"),
    ("book.swap", "Échanger"),
    ("book.subscribe", "Abonnement depuis un agenda"),
    (
        "book.subscribe_text",
        "Un lien privé permet à une application d'agenda (téléphone, messagerie) de s'abonner aux réservations de cette ressource sans se connecter. Quiconque a le lien voit les réservations : ne le donnez qu'aux personnes concernées. Un nouveau lien remplace l'ancien, qui cesse de fonctionner.",
    ),
    ("book.link_made", "Nouveau lien créé (il ne sera plus affiché) :"),
    ("book.link_current", "Lien actuel créé le"),
    ("book.no_link", "Aucun lien pour l'instant."),
    ("book.new_link", "Nouveau lien d'abonnement"),
    ("book.for_lesson", "Réserver pour un de mes cours"),
    (
        "book.no_lessons",
        "Aucun cours dans votre emploi du temps ce jour.",
    ),
    ("book.subject", "Matière"),
    ("book.class", "Classe"),
    ("book.book", "Réserver"),
    ("book.weekly_until", "Chaque semaine jusqu'au (facultatif)"),
    ("book.book_lesson", "Réserver pour ce cours"),
    ("book.other_slot", "Réserver un autre créneau"),
    ("book.date", "Date"),
    ("book.start", "Début"),
    ("book.end", "Fin"),
    ("book.note", "Motif (facultatif)"),
    // Single sign-on (consent, sign-out).
    ("sso.sign_in_to", "Se connecter à"),
    ("sso.the_service", "Le service"),
    ("sso.asks", "demande à"),
    ("sso.to_identify", "de vous identifier. Il recevra :"),
    (
        "sso.never_given",
        "Votre mot de passe ne lui est jamais transmis. Votre réponse est retenue pour les prochaines fois.",
    ),
    ("sso.allow", "Autoriser"),
    ("sso.refuse", "Refuser"),
    ("sso.sign_out_q", "Se déconnecter ?"),
    (
        "sso.sign_out_text",
        "Vous allez être déconnecté de Préau et des services de l'établissement.",
    ),
    // --- vsterm (begin)
    ("vsterm.periods", "Périodes"),
    ("vsterm.home.title", "Mes notes"),
    (
        "vsterm.home.no_service",
        "Vous n'avez aucun service d'enseignement.",
    ),
    ("vsterm.class_or_group", "Classe ou groupe"),
    ("vsterm.subject", "Matière"),
    ("vsterm.evaluations", "Évaluations"),
    ("vsterm.report_cards", "Bulletins"),
    ("vsterm.comments", "Appréciations"),
    ("vsterm.competences", "Compétences"),
    ("vsterm.head_teacher", "Professeur principal"),
    (
        "vsterm.home.council",
        "appréciations générales et conseil de classe",
    ),
    ("vsterm.home.cards", "bulletins"),
    (
        "vsterm.grid.none",
        "Aucune évaluation dans cette période : créez-en une ci-dessous.",
    ),
    (
        "vsterm.grid.help",
        "Flèches pour se déplacer, Entrée pour descendre ; collez une colonne d'un tableur dans une case. Valeurs : une note, ou ABS (absent, non compté), DISP (dispensé, non compté), NN (non noté, non compté), NR (non rendu, compte 0). Une case vide n'a pas de note.",
    ),
    ("vsterm.student", "Élève"),
    ("vsterm.average", "Moyenne"),
    ("vsterm.grid.class_average", "Classe : moyenne"),
    ("vsterm.grid.save", "Enregistrer la grille"),
    ("vsterm.grid.new", "Nouvelle évaluation"),
    ("vsterm.grid.create", "Créer l'évaluation"),
    (
        "vsterm.grid.publication",
        "Les notes d'une publication du jour ne paraissent pas avant",
    ),
    ("vsterm.grid.disconnect", "(droit à la déconnexion)."),
    ("vsterm.eval.back", "Retour à la grille"),
    ("vsterm.save", "Enregistrer"),
    ("vsterm.eval.history", "Historique des notes"),
    ("vsterm.eval.no_mark", "Aucune note saisie."),
    ("vsterm.eval.when", "Quand"),
    ("vsterm.eval.who", "Qui"),
    ("vsterm.eval.before", "Avant"),
    ("vsterm.eval.after", "Après"),
    ("vsterm.fields.title", "Titre"),
    ("vsterm.fields.date", "Date"),
    ("vsterm.fields.coefficient", "Coefficient (0 à 99)"),
    ("vsterm.fields.out_of", "Noté sur"),
    ("vsterm.fields.counting", "Prise en compte"),
    ("vsterm.fields.counts", "compte dans la moyenne"),
    (
        "vsterm.fields.optional",
        "facultative (compte seulement si elle monte la moyenne)",
    ),
    (
        "vsterm.fields.bonus",
        "bonus (seuls les points au-dessus de la moitié du barème)",
    ),
    ("vsterm.fields.publication", "Publication"),
    ("vsterm.fields.students_on", "Aux élèves le"),
    ("vsterm.fields.at", "à"),
    (
        "vsterm.fields.parents_on",
        "Aux responsables le (vide : en même temps)",
    ),
    ("vsterm.nothing_saved", "Rien n'a été enregistré."),
    (
        "vsterm.coef.class",
        "Coefficients de la classe (moyenne générale)",
    ),
    (
        "vsterm.coef.save_class",
        "Enregistrer les coefficients de la classe",
    ),
    (
        "vsterm.coef.help",
        "Un coefficient changé alors que des notes existent est signalé aux élèves de la classe sur leur page.",
    ),
    ("vsterm.coef.own", "Coefficients propres à un élève"),
    ("vsterm.none", "Aucun."),
    ("vsterm.coef.coefficient", "Coefficient"),
    (
        "vsterm.coef.empty_class",
        "Coefficient (vide : celui de la classe)",
    ),
    ("vsterm.comp.place_on", "Positionner sur"),
    ("vsterm.comp.whole_period", "toute la période (bilan)"),
    ("vsterm.comp.show", "Afficher"),
    ("vsterm.comp.levels", "Niveaux :"),
    (
        "vsterm.comments.frozen",
        "Cette période est close pour la classe : les bulletins sont figés.",
    ),
    ("vsterm.comments.general", "Appréciation générale"),
    ("vsterm.comments.comment", "Appréciation"),
    ("vsterm.comments.decision", "Décision du conseil"),
    ("vsterm.comments.mention", "Mention"),
    ("vsterm.comments.comment_of", "Appréciation de"),
    ("vsterm.comments.decision_for", "Décision pour"),
    ("vsterm.comments.mention_of", "Mention de"),
    ("vsterm.comments.no_mention", "aucune"),
    (
        "vsterm.marks.partial",
        "Seules les notes publiées sont affichées ; les moyennes sont calculées sur ces notes, comme au bulletin.",
    ),
    ("vsterm.marks.none", "Aucune note pour cette période."),
    ("vsterm.marks.coef", "Coef."),
    ("vsterm.marks.marks", "Notes"),
    ("vsterm.marks.class", "Classe"),
    ("vsterm.overall", "Moyenne générale"),
    ("vsterm.marks.changes", "Changements de coefficient"),
    ("vsterm.marks.socle", "Compétences du socle"),
    ("vsterm.marks.no_card", "Aucun bulletin publié."),
    ("vsterm.rc.frozen", "Période close : bulletins figés."),
    (
        "vsterm.rc.provisional",
        "Bulletins provisoires : la période n'est pas close.",
    ),
    ("vsterm.rc.print", "Imprimer"),
    ("vsterm.rc.council", "Appréciations générales et conseil"),
    ("vsterm.rc.lsu", "Fichier LSU"),
    ("vsterm.rc.coefficients", "Coefficients des matières"),
    (
        "vsterm.rc.close_confirm",
        "Clore la période ? Les bulletins seront figés et ne changeront plus.",
    ),
    ("vsterm.rc.close", "Clore la période et figer les bulletins"),
    (
        "vsterm.rc.not_published",
        "Le bulletin de cette période n'est pas encore publié.",
    ),
    ("vsterm.rc.year", "année"),
    ("vsterm.rc.card_of", "Bulletin du"),
    ("vsterm.rc.from", "Du"),
    ("vsterm.rc.to", "au"),
    ("vsterm.rc.frozen_on", "figé le"),
    ("vsterm.rc.absences", "Absences :"),
    ("vsterm.rc.justified", "demi-journée(s) justifiée(s),"),
    ("vsterm.rc.unjustified", "non justifiée(s) ; retards :"),
    ("vsterm.rc.decision", "Décision du conseil :"),
    ("vsterm.lsu.back", "Retour aux bulletins"),
    (
        "vsterm.lsu.not_closed",
        "La période n'est pas close pour cette classe : le fichier LSU se fait à partir des bulletins figés.",
    ),
    ("vsterm.log.title", "Cahier de textes"),
    (
        "vsterm.nothing_saved_fix",
        "Rien n'a été enregistré : corrigez les champs signalés.",
    ),
    ("vsterm.log.done", "Ce qui a été fait"),
    ("vsterm.log.homework", "Travail à faire"),
    ("vsterm.log.due", "Pour le"),
    ("vsterm.log.documents", "Documents joints"),
    ("vsterm.log.none_attached", "Aucun document n'a été joint."),
    ("vsterm.log.no_document", "Aucun document joint."),
    ("vsterm.log.kib", "Kio"),
    ("vsterm.log.remove_x", "Retirer"),
    ("vsterm.log.remove", "Retirer"),
    (
        "vsterm.log.attach_label",
        "Joindre un document (PDF, JPEG ou PNG,",
    ),
    ("vsterm.log.mib_max", "Mio au plus)"),
    ("vsterm.log.attach", "Joindre"),
    (
        "vsterm.log.save_first",
        "Enregistrez d'abord le cahier de textes de la séance pour y joindre des documents.",
    ),
    ("vsterm.back_timetable", "Retour à l'emploi du temps"),
    (
        "vsterm.class_log.none",
        "Aucune séance n'a de cahier de textes sur cette période.",
    ),
    ("vsterm.class_log.lesson", "Séance"),
    ("vsterm.class_log.teacher", "Enseignant"),
    ("vsterm.class_log.done", "Fait"),
    ("vsterm.class_log.documents", "Documents"),
    ("vsterm.todo.none", "Aucun travail à faire pour le moment."),
    ("vsterm.todo.no_student", "Aucun élève rattaché à votre compte."),
    ("vsterm.agenda.title", "Agenda du téléphone"),
    (
        "vsterm.agenda.intro",
        "Un lien privé permet à l'agenda de votre téléphone ou de votre ordinateur de s'abonner à votre emploi du temps (format iCalendar). Ne le communiquez à personne : qui a le lien voit l'emploi du temps.",
    ),
    ("vsterm.agenda.your_link", "Votre lien"),
    (
        "vsterm.agenda.once",
        "(il n'est affiché qu'une fois : copiez-le maintenant) :",
    ),
    ("vsterm.agenda.active_since", "Un lien est actif depuis le"),
    (
        "vsterm.agenda.find_again",
        "Pour le retrouver, créez-en un nouveau : l'ancien cessera de fonctionner.",
    ),
    ("vsterm.agenda.no_link", "Vous n'avez pas encore de lien."),
    ("vsterm.agenda.new", "Créer un nouveau lien"),
    (
        "vsterm.agenda.revoke_confirm",
        "Révoquer le lien ? Les agendas abonnés ne seront plus mis à jour.",
    ),
    ("vsterm.agenda.revoke", "Révoquer le lien"),
    ("vsterm.msg.write", "Écrire un message"),
    ("vsterm.msg.none", "Aucun message."),
    ("vsterm.msg.to", "à"),
    ("vsterm.msg.unread", "non lu"),
    (
        "vsterm.msg.waiting_quiet",
        "en attente de la fin de la période de calme",
    ),
    ("vsterm.msg.to_cap", "À"),
    ("vsterm.msg.waiting", "En attente : distribué le"),
    ("vsterm.msg.quiet", "(période de calme)."),
    ("vsterm.msg.receipts", "Accusés de lecture"),
    ("vsterm.msg.read_on", "lu le"),
    ("vsterm.msg.reply", "Répondre"),
    ("vsterm.msg.your_reply", "Votre réponse"),
    ("vsterm.msg.send_reply", "Envoyer la réponse"),
    ("vsterm.msg.all", "Tous les messages"),
    ("vsterm.msg.new", "Nouveau message"),
    ("vsterm.msg.to_colon", "À :"),
    ("vsterm.msg.recipient", "destinataire"),
    (
        "vsterm.msg.not_sent",
        "Le message n'a pas été envoyé : corrigez les champs signalés.",
    ),
    ("vsterm.msg.subject", "Objet"),
    ("vsterm.msg.message", "Message"),
    ("vsterm.msg.send", "Envoyer"),
    ("vsterm.msg.whom", "À qui écrire ?"),
    (
        "vsterm.msg.no_class",
        "Aucune classe ni aucun groupe ne vous est attribué.",
    ),
    ("vsterm.msg.to_parents", "Aux responsables des élèves"),
    ("vsterm.msg.to_students", "Aux élèves"),
    ("vsterm.msg.to_one", "À un élève ou à ses responsables"),
    ("vsterm.msg.to_student", "à l'élève"),
    ("vsterm.msg.to_their_parents", "à ses responsables"),
    // --- vsterm (end)
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
    ("settings.title", "Settings"),
    (
        "settings.intro_before",
        "Each section is a table of the configuration file",
    ),
    (
        "settings.intro_after",
        "Values changed here are checked as \"preau check\" does, then you see what applying will change (\"preau plan\") before you apply.",
    ),
    ("settings.refused", "Settings refused"),
    ("settings.nothing_saved", "Nothing has been saved."),
    (
        "settings.fix_fields",
        "Correct the fields marked: nothing has been saved.",
    ),
    ("settings.read_only", "read only: change it in"),
    ("settings.one_per_line", "one value per line"),
    ("settings.default", "not in the file: default value"),
    ("settings.check", "Check and see the plan"),
    ("settings.back", "Back to the settings"),
    ("settings.plan_title", "Settings plan"),
    (
        "settings.plan_valid",
        "The new values are valid. Nothing is saved yet: read what applying will change, then apply.",
    ),
    ("settings.changed", "Changed settings"),
    ("settings.setting", "Setting"),
    ("settings.before", "Before"),
    ("settings.after", "After"),
    ("settings.plan_impossible", "No plan possible"),
    ("settings.will_change", "What applying will change"),
    (
        "settings.fw_before",
        "The firewall changes: it will be applied on trial. Confirm it within",
    ),
    (
        "settings.fw_after",
        "seconds, or the previous ruleset comes back (as",
    ),
    ("settings.apply", "Apply"),
    ("settings.cancel", "Cancel"),
    ("settings.back_form", "Back to the form"),
    ("settings.report", "Report"),
    ("settings.confirm_heading", "Confirm the firewall change"),
    (
        "settings.confirm_before",
        "If the console still answers, confirm: without a confirmation the previous ruleset comes back in",
    ),
    ("settings.seconds", "seconds."),
    ("settings.confirm", "Confirm"),
    ("settings.refused_by_check", "Refused by the check (preau check):"),
    ("settings.unchanged", "No setting has changed: nothing to apply."),
    ("settings.nothing_to_change", "Nothing to change on the system."),
    (
        "settings.plan_expired",
        "This plan has expired or was already used: nothing has been saved. Check the settings again.",
    ),
    (
        "settings.file_changed",
        "The configuration file changed since the plan: nothing has been saved. Check the settings again.",
    ),
    (
        "settings.apply_failed",
        "Applying failed: the configuration is saved, the system is only partly up to date (see the report).",
    ),
    (
        "settings.up_to_date",
        "Configuration saved; the system was already up to date.",
    ),
    ("settings.applied", "Settings applied"),
    ("settings.failed", "Applying failed"),
    (
        "settings.confirmed",
        "Confirmed: the firewall's new ruleset is kept, and it is the one restored at start-up.",
    ),
    ("settings.not_confirmed", "Nothing was confirmed:"),
    ("settings.confirm_title", "Firewall confirmation"),
    (
        "form.expired",
        "The form has expired: reload the page and start again.",
    ),
    ("dash.alerts", "Alerts"),
    ("dash.server", "Server"),
    ("dash.name", "Name"),
    ("dash.cpus", "Processors"),
    ("dash.used", "used"),
    ("dash.load", "Load"),
    ("dash.memory", "Memory"),
    ("dash.uptime", "Up for"),
    ("dash.directory", "Directory"),
    ("dash.students", "Students"),
    ("dash.teachers", "Teachers"),
    ("dash.staff", "Staff"),
    ("dash.parents", "Parents"),
    ("dash.disabled", "Disabled"),
    ("dash.classes_groups", "Classes, groups"),
    ("dash.find_person", "Find a person"),
    ("dash.disks", "Disks"),
    ("dash.mount", "Mount point"),
    ("dash.fs", "File system"),
    ("dash.size", "Size"),
    ("dash.free", "Free"),
    ("dash.occupied", "Used"),
    ("dash.modules", "Modules"),
    ("dash.module", "Module"),
    ("dash.state", "State"),
    ("dash.details", "Details"),
    ("dash.applies", "Latest applies"),
    ("dash.none_yet", "None yet."),
    ("dash.date", "Date"),
    ("dash.changes", "Changes"),
    ("dash.result", "Result"),
    ("dash.succeeded", "succeeded"),
    ("dash.failed", "failed"),
    ("dash.imports", "Latest imports"),
    ("dash.no_import", "No import yet."),
    ("people.new", "New person"),
    ("people.leavers", "Leavers to delete"),
    ("people.search_label", "Last name, first name, login or class"),
    ("people.search", "Search"),
    ("people.name", "Name"),
    ("people.login", "Login"),
    ("people.kind", "Kind"),
    ("people.class", "Class"),
    ("people.state", "State"),
    ("person.login", "Login"),
    ("person.kind", "Kind"),
    ("person.state", "State"),
    ("person.structures", "Classes and groups"),
    ("person.parents", "Parents"),
    ("person.children", "Children"),
    ("person.password", "Password"),
    ("person.pw_initial", "the slip's one (not changed yet)"),
    ("person.pw_own", "their own"),
    ("person.last_signin", "Last sign-in"),
    ("person.files", "File space"),
    ("person.confirm_reset", "Give a new password to"),
    ("person.reset", "New password and slip"),
    ("person.disable", "Disable the account"),
    ("person.enable", "Enable the account"),
    ("audit.search_label", "Who, what or address"),
    ("audit.at", "Date (UTC)"),
    ("audit.who", "Who"),
    ("audit.address", "Address"),
    ("audit.action", "Action"),
    ("audit.target", "Target"),
    ("audit.outcome", "Outcome"),
    ("pager.label", "Pages"),
    ("pager.newer", "Newer"),
    ("pager.older", "Older"),
    ("applies.title", "Applies"),
    ("logs.title", "Logs"),
    ("applies.none", "No apply recorded."),
    ("applies.changes_in", "change(s) in"),
    ("applies.nothing", "Nothing to change."),
    ("applies.change", "Change"),
    ("applies.others_before", "… and"),
    ("applies.others_after", "other step(s)"),
    ("applies.newer", "← Newer"),
    ("applies.older", "Older →"),
    ("imports.title", "Directory imports"),
    (
        "imports.files",
        "National exports: SIECLE (ElevesSansAdresses.xml, ResponsablesAvecAdresses.xml), STS-web (sts_emp_….xml), CSV, or a zip of these files",
    ),
    ("imports.at_most", "At most"),
    (
        "imports.nothing_before",
        "MiB in all. Nothing changes before you confirm: you first see who arrives, what changes and who leaves.",
    ),
    (
        "imports.force",
        "Accept disabling a large share of the accounts (a partial export: to avoid)",
    ),
    ("imports.preview", "See the preview"),
    ("imports.history", "History"),
    ("imports.by", "By"),
    ("imports.files_col", "Files"),
    ("logs.proxy_title", "Proxy logs"),
    ("logs.proxy", "Proxy connections"),
    ("logs.firewall", "Firewall"),
    (
        "new.intro",
        "For a student, a teacher or a member of staff who arrived between two imports. The login is made as an import makes it; the initial password is then shown with its slip to print.",
    ),
    ("new.kind", "Kind"),
    ("new.last_name", "Last name"),
    ("new.first_name", "First name"),
    ("new.birth", "Date of birth"),
    ("new.birth_hint", "(students; DD/MM/YYYY)"),
    ("new.birth_placeholder", "DD/MM/YYYY"),
    ("new.class", "Class"),
    ("new.class_hint", "(students)"),
    ("new.email", "E-mail address"),
    ("new.optional", "(optional)"),
    ("new.create", "Create the account"),
    (
        "leavers.intro_before",
        "Accounts an import disabled (students and staff who left) are kept for",
    ),
    (
        "leavers.intro_after",
        "days, then deleted here, as \"preau accounts purge\" does: computer accounts and personal folders erased, logins never given again. A person whom school-life records name (absences, marks…) is kept with those records.",
    ),
    ("leavers.none", "No leaver whose keeping time is over."),
    ("leavers.count", "account(s) to delete."),
    ("leavers.left", "Left on"),
    ("leavers.due", "To be deleted on"),
    ("leavers.confirm_before", "I confirm the final deletion of these"),
    (
        "leavers.confirm_after",
        "account(s) and of their personal folders.",
    ),
    ("leavers.delete", "Delete the leavers"),
    ("leavers.back", "Back to the people"),
    ("card.grades", "Marks and report cards"),
    (
        "card.grades.text",
        "Assessments and marks of your services, comments, skills, report cards.",
    ),
    (
        "card.my_grades.text",
        "The published marks, the averages, the skills and the report cards.",
    ),
    ("card.day", "My day"),
    (
        "card.day.text",
        "Your lessons of the day and the roll call of each, from a phone.",
    ),
    ("card.absences", "Absences"),
    (
        "card.absences.text",
        "The day's absences and late arrivals as the rolls come in, the justifications, the summaries.",
    ),
    ("card.attendance", "Absences and late arrivals"),
    (
        "card.attendance.text",
        "The day, the absences and late arrivals; send a justification online.",
    ),
    ("card.bookings", "Bookings"),
    (
        "card.bookings.text",
        "Rooms and equipment (laptop trolleys, tablets…): book for a lesson, the day's sheet.",
    ),
    ("card.statistics", "Usage statistics"),
    (
        "card.statistics.text",
        "Bookings by resource, subject, year and teacher; sign-ins and active accounts per week.",
    ),
    ("portal.services", "The school's services"),
    ("sec.title", "Two-factor authentication"),
    ("sec.codes", "Your recovery codes"),
    (
        "sec.codes_text",
        "Write them down or print them now and keep them somewhere safe: they will never be shown again. Each one stands in once for the application's code.",
    ),
    (
        "sec.off_text",
        "Signing in to the console asks only for the password. Turn on a second factor: a six-digit code given by an authenticator application (FreeOTP, Aegis, Google Authenticator…) will be asked after the password.",
    ),
    ("sec.start", "Turn on two-factor authentication"),
    (
        "sec.step1",
        "In your authenticator application, add an account by taking a picture of this code:",
    ),
    ("sec.qr_alt", "QR code of the two-factor secret"),
    ("sec.step2", "or type this secret by hand:"),
    ("sec.step3", "then type the six-digit code it shows:"),
    ("sec.code", "Code of the application"),
    (
        "sec.on_text",
        "On: a code is asked at every sign-in. Recovery codes left:",
    ),
    ("sec.code_off", "Code of the application (or a recovery code)"),
    ("sec.stop", "Turn off two-factor authentication"),
    ("slips.print", "Print"),
    ("slips.back", "Back"),
    ("hw.title", "Homework"),
    ("hw.back", "Back to the class"),
    ("hw.distributed", "Handed out"),
    ("hw.collected", "Collected"),
    ("hw.returned", "Returned"),
    ("hw.files", "Files"),
    ("hw.collect", "Collect the work"),
    ("hw.return", "Return the corrections"),
    (
        "hw.help_before",
        "Collected work arrives in your personal folder, under",
    ),
    (
        "hw.help_middle",
        "; correct it there, then \"Return\" puts it in the folder",
    ),
    ("hw.help_after", "of each student."),
    ("hw.copy", "Work"),
    ("imp.preview", "Import preview"),
    ("imp.files", "Files:"),
    ("imp.refused", "Import refused"),
    (
        "imp.refused_text",
        "Nothing has changed. If the export is really complete, send it again with \"Accept disabling a large share of the accounts\" ticked.",
    ),
    ("imp.summary", "Summary"),
    ("imp.unchanged", "Unchanged"),
    ("imp.new_structures", "New classes and groups"),
    ("imp.warnings", "Warnings"),
    ("imp.detail", "Detail"),
    ("imp.others_before", "… and"),
    ("imp.others_after", "other(s)."),
    ("imp.confirm", "Confirm the import"),
    (
        "imp.nothing",
        "The directory already matches these files: nothing to do.",
    ),
    ("imp.back", "Back to the imports"),
    ("imp.done", "Import done"),
    (
        "imp.done_slips_before",
        "The login slips of the new accounts are printed from each class (\"My classes\" or a class's page), or with",
    ),
    (
        "plog.off",
        "The \"proxy\" module is not enabled: only older connections may be listed here.",
    ),
    ("plog.user", "User"),
    ("plog.address", "Computer's address"),
    ("plog.site", "Site (and its subdomains)"),
    ("plog.decision", "Decision"),
    ("plog.all", "all"),
    ("plog.allow", "allowed"),
    ("plog.deny", "denied"),
    ("plog.error", "error"),
    ("plog.since", "Since (UTC, YYYY-MM-DD or YYYY-MM-DDTHH:MM)"),
    ("plog.until", "Until (excluded)"),
    ("plog.none", "No connection matches."),
    ("plog.page", "Page"),
    ("plog.newest_first", "newest first."),
    ("plog.time", "Time (UTC)"),
    ("plog.computer", "Computer"),
    ("plog.request", "Request"),
    ("plog.code", "Code"),
    ("plog.category", "Category"),
    ("plog.volume", "Volume"),
    ("fwpage.title", "Firewall: who may reach whom"),
    (
        "fwpage.off",
        "The \"firewall\" module is not enabled: the matrix shows what the current settings would give.",
    ),
    (
        "fwpage.no_zone",
        "No zone is defined (settings [firewall] preset and zones).",
    ),
    (
        "fwpage.caption",
        "Row: the zone the traffic leaves; column: the zone it goes to. By default (a pair no rule names):",
    ),
    ("fwpage.from_to", "From \\ to"),
    ("fwpage.interfaces", "Interfaces"),
    ("fwpage.services", "Services of the appliance"),
    ("fwpage.counters", "Rule counters (live)"),
    ("fwpage.no_counters", "Counters unavailable:"),
    ("fwpage.none", "No rule with a counter."),
    ("fwpage.chain", "Chain"),
    ("fwpage.rule", "Rule"),
    ("fwpage.packets", "Packets"),
    // Classroom rooms (/console/salles).
    ("rooms.title", "Rooms and internet"),
    (
        "rooms.firewall_failed",
        "The firewall could not be updated: for now only the proxy applies this switch (the web). The service tries again within seconds; if it lasts, tell the administrator.",
    ),
    (
        "rooms.firewall_on",
        "The firewall also cuts the room off from the internet, for every protocol and not only the web, until the switch ends; the server itself (proxy, DNS, console) stays reachable, which lets the exam's sites through.",
    ),
    (
        "rooms.firewall_off",
        "The firewall (module \"firewall\") is not enabled: only the proxy applies these switches, to the web that goes through it. A computer of the room can still reach the internet in other ways (other protocols, bypassing the proxy).",
    ),
    (
        "rooms.proxy_off_firewall_on",
        "Web filtering (module \"proxy\") is not enabled on this server: the firewall does cut the room off, but no site stays reachable there, even in exam mode.",
    ),
    (
        "rooms.proxy_off",
        "Web filtering (module \"proxy\") is not enabled on this server: these switches will apply only once it is.",
    ),
    (
        "rooms.exam_only",
        "Exam mode lets the room reach only the exam's sites",
    ),
    ("rooms.always_allowed", "always allowed"),
    (
        "rooms.exam_rest",
        "; internet off refuses the whole web. A switch ends by itself at the end of the chosen time.",
    ),
    (
        "rooms.none",
        "No room is assigned to you: the administrator links the timetable's rooms to the rooms' networks (setting",
    ),
    ("rooms.addresses", "Addresses:"),
    ("rooms.now", "Now:"),
    ("rooms.sites", "sites:"),
    ("rooms.restore", "Restore the internet now"),
    ("rooms.normal", "Usual internet access."),
    ("rooms.new", "New switch"),
    ("rooms.mode_exam", "Exam mode (whitelist)"),
    ("rooms.mode_off", "Internet off"),
    ("rooms.until", "Until when"),
    ("rooms.for_a_time", "For a time:"),
    ("rooms.minutes", "Duration in minutes (at most"),
    ("rooms.lesson_end", "Until the end of the lesson"),
    ("rooms.exam_sites", "Exam sites (exam mode; separated by spaces)"),
    ("rooms.apply_to", "Apply to"),
    (
        "rooms.done_exam",
        "Exam mode is on: the proxy applies it within two seconds.",
    ),
    (
        "rooms.done_exam_firewall",
        "Exam mode is on: the firewall cuts the room off now, the proxy lets only the exam's sites through within two seconds.",
    ),
    (
        "rooms.done_off",
        "The internet is off in the room: the proxy applies it within two seconds.",
    ),
    (
        "rooms.done_off_firewall",
        "The internet is off in the room: the firewall applies it now, the proxy within two seconds.",
    ),
    ("rooms.done_end", "The room has its usual internet access again."),
    // Usage statistics (/console/statistiques).
    ("stats.title", "Usage statistics"),
    ("stats.from", "From"),
    ("stats.to", "to (included)"),
    ("stats.show", "Show"),
    ("stats.export", "Export:"),
    ("stats.csv_resources", "resources (CSV)"),
    ("stats.csv_subjects", "subjects (CSV)"),
    ("stats.csv_levels", "levels (CSV)"),
    ("stats.csv_teachers", "teachers (CSV)"),
    ("stats.csv_signins", "sign-ins (CSV)"),
    ("stats.csv_shares", "shares (CSV)"),
    ("stats.csv_filtering", "web filtering (CSV)"),
    ("stats.json_all", "everything (JSON)"),
    ("stats.counted", "What is counted"),
    (
        "stats.li_bookings_before",
        "Bookings: those that start in the period; the hours are those of confirmed bookings (units × hours for equipment); the occupancy rate compares the confirmed hours with",
    ),
    ("stats.li_bookings_after", "open hours a week and a unit."),
    (
        "stats.li_signins",
        "Sign-ins: the successful sign-ins to Préau, counted by whole (ISO) week for each account; an active account is one that signed in at least once in the week.",
    ),
    (
        "stats.li_shares",
        "Shares: the space each share takes, sampled once a day by the server (module \"shares\" enabled); a week shows its largest sample.",
    ),
    (
        "stats.li_filtering",
        "Web filtering: the requests the proxy wrote to its connection logs, whole days in universal time (UTC); these are numbers of requests, not of people or computers (a page often makes several). Refusals without a category come from a policy rule (local list, hours).",
    ),
    ("stats.li_privacy_before", "Privacy: any number of people below"),
    ("stats.li_privacy_masked", "is hidden"),
    ("stats.open_quote", "\""),
    ("stats.close_quote", "\""),
    (
        "stats.li_privacy_after",
        ", so that no cell points at one person.",
    ),
    (
        "stats.li_keep_a",
        "Retention: the audit log, the weekly count of sign-ins and the bookings are kept on the server until the administrator deletes them (no automatic purge); the web filtering's logs,",
    ),
    (
        "stats.li_keep_b",
        "days. The web filtering's daily totals (numbers of requests allowed, refused, in error and refused by category, without account, address or site) are made by the server for each finished day and kept",
    ),
    (
        "stats.li_keep_c",
        "days, longer than the logs: they point at nobody. The current day is read from its log.",
    ),
    ("stats.by_resource", "Bookings by resource and week"),
    ("stats.no_bookings_period", "No booking in the period."),
    ("stats.resource", "Resource"),
    ("stats.week", "Week"),
    ("stats.bookings", "Bookings"),
    ("stats.cancellations", "Cancellations"),
    ("stats.hours", "Hours"),
    ("stats.occupancy", "Occupancy"),
    ("stats.people", "People"),
    ("stats.no_bookings", "No booking."),
    ("stats.by_subject", "By subject"),
    ("stats.subject", "Subject"),
    ("stats.by_level", "By class level"),
    ("stats.level", "Level"),
    ("stats.by_teacher", "By teacher"),
    ("stats.who", "Who"),
    ("stats.free_slot", "free slot (no lesson)"),
    ("stats.signins_title", "Sign-ins and active accounts by week"),
    ("stats.no_signins", "No sign-in in the period."),
    ("stats.role", "Role"),
    ("stats.signins", "Sign-ins"),
    ("stats.active_accounts", "Active accounts"),
    ("stats.shares_title", "Space used by the shares"),
    ("stats.no_samples", "No sample in the period."),
    ("stats.share", "Share"),
    ("stats.space_used", "Space used"),
    (
        "stats.filtering_title",
        "Web filtering: refused requests by category",
    ),
    ("stats.f_allowed", "Requests allowed:"),
    ("stats.f_denied", "refused:"),
    ("stats.f_errors", "in error:"),
    ("stats.f_days", "(days counted:"),
    ("stats.f_of_which", ", of which"),
    (
        "stats.f_summaries",
        "from their daily totals). Numbers of requests, not of people.",
    ),
    ("stats.no_denied", "No refused request in the period."),
    ("stats.category", "Category"),
    ("stats.denied_requests", "Refused requests"),
    ("stats.chart_hours", "Hours booked by resource"),
    ("stats.chart_signins", "Sign-ins by week"),
    ("stats.chart_shares", "Space used by the shares (MB)"),
    ("stats.chart_mb", "MB"),
    ("stats.chart_denied", "Refused requests by category"),
    ("stats.no_category", "(no category)"),
    ("stats.other_categories", "(other categories)"),
    ("stats.role.admin", "administrator"),
    ("stats.role.student", "student"),
    ("stats.role.parent", "parent"),
    ("stats.role.teacher", "teacher"),
    ("stats.role.direction", "management"),
    ("stats.role.school_life", "school life"),
    ("stats.role.staff", "staff"),
    // Bookings (/reservations).
    ("book.no_resources", "No resource can be booked yet."),
    ("book.resources", "Resources that can be booked"),
    ("book.resource", "Resource"),
    ("book.kind", "Kind"),
    ("book.quantity", "Quantity"),
    ("book.approval", "Approval"),
    ("book.teachers", "Teachers"),
    ("book.mine", "My coming bookings"),
    ("book.none_coming", "No coming booking."),
    ("book.number", "No."),
    ("book.when", "When"),
    ("book.for", "For"),
    ("book.status", "Status"),
    ("book.actions", "Actions"),
    ("book.cancel", "Cancel"),
    ("book.to_approve", "Requests to approve"),
    ("book.who", "Who"),
    ("book.decision", "Decision"),
    ("book.accept", "Accept"),
    ("book.refuse", "Refuse"),
    ("book.add_resource", "Add a resource"),
    ("book.name", "Name"),
    ("book.equipment", "Equipment"),
    ("book.room", "Room"),
    ("book.units", "Quantity (units)"),
    (
        "book.manager",
        "Manager who approves the requests (login, optional)",
    ),
    ("book.teachers_may", "Teachers may book"),
    ("book.add", "Add"),
    ("book.days", "Days"),
    ("book.prev_day", "Previous day"),
    ("book.next_day", "Next day"),
    ("book.ical", "Calendar (iCalendar)"),
    ("book.none_today", "No booking this day."),
    ("book.hours", "Hours"),
    ("book.swap_with", "Exchange with"),
    ("book.swap", "Exchange"),
    ("book.subscribe", "Subscribing from a calendar"),
    (
        "book.subscribe_text",
        "A private link lets a calendar application (phone, mail) subscribe to this resource's bookings without signing in. Anyone who has the link sees the bookings: give it only to the people concerned. A new link replaces the old one, which stops working.",
    ),
    ("book.link_made", "New link made (it will not be shown again):"),
    ("book.link_current", "Current link made on"),
    ("book.no_link", "No link yet."),
    ("book.new_link", "New subscription link"),
    ("book.for_lesson", "Book for one of my lessons"),
    ("book.no_lessons", "No lesson in your timetable this day."),
    ("book.subject", "Subject"),
    ("book.class", "Class"),
    ("book.book", "Book"),
    ("book.weekly_until", "Every week until (optional)"),
    ("book.book_lesson", "Book for this lesson"),
    ("book.other_slot", "Book another slot"),
    ("book.date", "Date"),
    ("book.start", "Start"),
    ("book.end", "End"),
    ("book.note", "Reason (optional)"),
    // Single sign-on (consent, sign-out).
    ("sso.sign_in_to", "Sign in to"),
    ("sso.the_service", "The service"),
    ("sso.asks", "asks"),
    ("sso.to_identify", "to identify you. It will receive:"),
    (
        "sso.never_given",
        "Your password is never passed on to it. Your answer is remembered for the next times.",
    ),
    ("sso.allow", "Allow"),
    ("sso.refuse", "Refuse"),
    ("sso.sign_out_q", "Sign out?"),
    (
        "sso.sign_out_text",
        "You are about to be signed out of Préau and of the school's services.",
    ),
    // --- vsterm (begin)
    ("vsterm.periods", "Periods"),
    ("vsterm.home.title", "My marks"),
    ("vsterm.home.no_service", "You have no teaching assignment."),
    ("vsterm.class_or_group", "Class or group"),
    ("vsterm.subject", "Subject"),
    ("vsterm.evaluations", "Assessments"),
    ("vsterm.report_cards", "Report cards"),
    ("vsterm.comments", "Comments"),
    ("vsterm.competences", "Skills"),
    ("vsterm.head_teacher", "Head teacher"),
    ("vsterm.home.council", "general comments and class council"),
    ("vsterm.home.cards", "report cards"),
    (
        "vsterm.grid.none",
        "No assessment in this period: create one below.",
    ),
    (
        "vsterm.grid.help",
        "Arrows to move, Enter to go down; paste a spreadsheet column into a cell. Values: a mark, or ABS (absent, not counted), DISP (exempted, not counted), NN (not marked, not counted), NR (not handed in, counts 0). An empty cell has no mark.",
    ),
    ("vsterm.student", "Student"),
    ("vsterm.average", "Average"),
    ("vsterm.grid.class_average", "Class: average"),
    ("vsterm.grid.save", "Save the grid"),
    ("vsterm.grid.new", "New assessment"),
    ("vsterm.grid.create", "Create the assessment"),
    (
        "vsterm.grid.publication",
        "Marks published today do not appear before",
    ),
    ("vsterm.grid.disconnect", "(right to disconnect)."),
    ("vsterm.eval.back", "Back to the grid"),
    ("vsterm.save", "Save"),
    ("vsterm.eval.history", "History of the marks"),
    ("vsterm.eval.no_mark", "No mark entered."),
    ("vsterm.eval.when", "When"),
    ("vsterm.eval.who", "Who"),
    ("vsterm.eval.before", "Before"),
    ("vsterm.eval.after", "After"),
    ("vsterm.fields.title", "Title"),
    ("vsterm.fields.date", "Date"),
    ("vsterm.fields.coefficient", "Coefficient (0 to 99)"),
    ("vsterm.fields.out_of", "Marked out of"),
    ("vsterm.fields.counting", "Counting"),
    ("vsterm.fields.counts", "counts in the average"),
    (
        "vsterm.fields.optional",
        "optional (counts only if it raises the average)",
    ),
    (
        "vsterm.fields.bonus",
        "bonus (only the points above half of the scale)",
    ),
    ("vsterm.fields.publication", "Publication"),
    ("vsterm.fields.students_on", "To the students on"),
    ("vsterm.fields.at", "at"),
    (
        "vsterm.fields.parents_on",
        "To the parents on (empty: at the same time)",
    ),
    ("vsterm.nothing_saved", "Nothing was saved."),
    ("vsterm.coef.class", "Coefficients of the class (overall average)"),
    ("vsterm.coef.save_class", "Save the coefficients of the class"),
    (
        "vsterm.coef.help",
        "A coefficient changed while marks exist is shown to the students of the class on their page.",
    ),
    ("vsterm.coef.own", "Coefficients of one student"),
    ("vsterm.none", "None."),
    ("vsterm.coef.coefficient", "Coefficient"),
    ("vsterm.coef.empty_class", "Coefficient (empty: the class's)"),
    ("vsterm.comp.place_on", "Assess on"),
    ("vsterm.comp.whole_period", "the whole period (summary)"),
    ("vsterm.comp.show", "Show"),
    ("vsterm.comp.levels", "Levels:"),
    (
        "vsterm.comments.frozen",
        "This period is closed for the class: the report cards are frozen.",
    ),
    ("vsterm.comments.general", "General comment"),
    ("vsterm.comments.comment", "Comment"),
    ("vsterm.comments.decision", "Council's decision"),
    ("vsterm.comments.mention", "Distinction"),
    ("vsterm.comments.comment_of", "Comment for"),
    ("vsterm.comments.decision_for", "Decision for"),
    ("vsterm.comments.mention_of", "Distinction for"),
    ("vsterm.comments.no_mention", "none"),
    (
        "vsterm.marks.partial",
        "Only the published marks are shown; the averages are computed on these marks, as on the report card.",
    ),
    ("vsterm.marks.none", "No mark for this period."),
    ("vsterm.marks.coef", "Coef."),
    ("vsterm.marks.marks", "Marks"),
    ("vsterm.marks.class", "Class"),
    ("vsterm.overall", "Overall average"),
    ("vsterm.marks.changes", "Coefficient changes"),
    ("vsterm.marks.socle", "Skills of the common core"),
    ("vsterm.marks.no_card", "No report card published."),
    ("vsterm.rc.frozen", "Period closed: report cards frozen."),
    (
        "vsterm.rc.provisional",
        "Provisional report cards: the period is not closed.",
    ),
    ("vsterm.rc.print", "Print"),
    ("vsterm.rc.council", "General comments and council"),
    ("vsterm.rc.lsu", "LSU file"),
    ("vsterm.rc.coefficients", "Coefficients of the subjects"),
    (
        "vsterm.rc.close_confirm",
        "Close the period? The report cards will be frozen and will not change any more.",
    ),
    ("vsterm.rc.close", "Close the period and freeze the report cards"),
    (
        "vsterm.rc.not_published",
        "The report card of this period is not published yet.",
    ),
    ("vsterm.rc.year", "year"),
    ("vsterm.rc.card_of", "Report card of the"),
    ("vsterm.rc.from", "From"),
    ("vsterm.rc.to", "to"),
    ("vsterm.rc.frozen_on", "frozen on"),
    ("vsterm.rc.absences", "Absences:"),
    ("vsterm.rc.justified", "justified half-day(s),"),
    ("vsterm.rc.unjustified", "unjustified; late arrivals:"),
    ("vsterm.rc.decision", "Council's decision:"),
    ("vsterm.lsu.back", "Back to the report cards"),
    (
        "vsterm.lsu.not_closed",
        "The period is not closed for this class: the LSU file is made from the frozen report cards.",
    ),
    ("vsterm.log.title", "Class log"),
    (
        "vsterm.nothing_saved_fix",
        "Nothing was saved: correct the fields shown.",
    ),
    ("vsterm.log.done", "What was done"),
    ("vsterm.log.homework", "Homework"),
    ("vsterm.log.due", "Due on"),
    ("vsterm.log.documents", "Attached documents"),
    ("vsterm.log.none_attached", "No document was attached."),
    ("vsterm.log.no_document", "No document attached."),
    ("vsterm.log.kib", "KiB"),
    ("vsterm.log.remove_x", "Remove"),
    ("vsterm.log.remove", "Remove"),
    ("vsterm.log.attach_label", "Attach a document (PDF, JPEG or PNG,"),
    ("vsterm.log.mib_max", "MiB at most)"),
    ("vsterm.log.attach", "Attach"),
    (
        "vsterm.log.save_first",
        "Save the class log of the lesson first to attach documents to it.",
    ),
    ("vsterm.back_timetable", "Back to the timetable"),
    (
        "vsterm.class_log.none",
        "No lesson has a class log in this period.",
    ),
    ("vsterm.class_log.lesson", "Lesson"),
    ("vsterm.class_log.teacher", "Teacher"),
    ("vsterm.class_log.done", "Done"),
    ("vsterm.class_log.documents", "Documents"),
    ("vsterm.todo.none", "No homework for now."),
    ("vsterm.todo.no_student", "No student linked to your account."),
    ("vsterm.agenda.title", "Phone calendar"),
    (
        "vsterm.agenda.intro",
        "A private link lets the calendar of your phone or computer subscribe to your timetable (iCalendar format). Share it with nobody: whoever has the link sees the timetable.",
    ),
    ("vsterm.agenda.your_link", "Your link"),
    ("vsterm.agenda.once", "(it is shown only once: copy it now):"),
    ("vsterm.agenda.active_since", "A link has been active since"),
    (
        "vsterm.agenda.find_again",
        "To get it again, create a new one: the old one will stop working.",
    ),
    ("vsterm.agenda.no_link", "You have no link yet."),
    ("vsterm.agenda.new", "Create a new link"),
    (
        "vsterm.agenda.revoke_confirm",
        "Revoke the link? The subscribed calendars will no longer be updated.",
    ),
    ("vsterm.agenda.revoke", "Revoke the link"),
    ("vsterm.msg.write", "Write a message"),
    ("vsterm.msg.none", "No message."),
    ("vsterm.msg.to", "to"),
    ("vsterm.msg.unread", "unread"),
    (
        "vsterm.msg.waiting_quiet",
        "waiting for the end of the quiet period",
    ),
    ("vsterm.msg.to_cap", "To"),
    ("vsterm.msg.waiting", "Waiting: delivered on"),
    ("vsterm.msg.quiet", "(quiet period)."),
    ("vsterm.msg.receipts", "Read receipts"),
    ("vsterm.msg.read_on", "read on"),
    ("vsterm.msg.reply", "Reply"),
    ("vsterm.msg.your_reply", "Your reply"),
    ("vsterm.msg.send_reply", "Send the reply"),
    ("vsterm.msg.all", "All the messages"),
    ("vsterm.msg.new", "New message"),
    ("vsterm.msg.to_colon", "To:"),
    ("vsterm.msg.recipient", "recipient"),
    (
        "vsterm.msg.not_sent",
        "The message was not sent: correct the fields shown.",
    ),
    ("vsterm.msg.subject", "Subject"),
    ("vsterm.msg.message", "Message"),
    ("vsterm.msg.send", "Send"),
    ("vsterm.msg.whom", "Whom to write to?"),
    ("vsterm.msg.no_class", "No class or group is assigned to you."),
    ("vsterm.msg.to_parents", "To the students' parents"),
    ("vsterm.msg.to_students", "To the students"),
    ("vsterm.msg.to_one", "To one student or to his or her parents"),
    ("vsterm.msg.to_student", "to the student"),
    ("vsterm.msg.to_their_parents", "to his or her parents"),
    // --- vsterm (end)
];

/// `POST /langue`: `langue=fr|en`; back to the page it came from.
pub async fn switch(headers: HeaderMap, body: axum::body::Body) -> axum::response::Response {
    use axum::response::IntoResponse;
    let fields = match super::forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let Some(lang) = Lang::parse(fields.get("langue")) else {
        return super::errors::WebError::BadRequest(
            either(
                "Langue inconnue : « fr » ou « en ».",
                "Unknown language: \"fr\" or \"en\".",
            )
            .into(),
        )
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
