//! The console's two People actions for the administrator: create a
//! person by hand (`/console/personnes/nouvelle`) and purge the leavers
//! (`/console/personnes/partants`). Both go through the accounts
//! module's shared code ([`crate::modules::accounts::people`], the same
//! as `preau accounts add` / `purge`), are projected onto the system
//! ([`system::project_accounts`]) and audited.

use super::console::{blocking, checked_form, projected_note, respond};
use super::errors::WebError;
use super::i18n::{self, pick};
use super::pages::{self, Page, SlipsPage};
use super::{AppState, Signed, audit, forms, system};
use crate::config::Msg;
use crate::directory::{self, Kind, import};
use crate::modules::accounts::{people, sheets};
use crate::msg;
use askama::Template;
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Longest name accepted, in characters.
pub const MAX_NAME: usize = 60;
/// Longest e-mail address accepted.
pub const MAX_EMAIL: usize = 254;

/// The kinds one may create by hand: (form value, label, English label, kind).
pub const KINDS: [(&str, &str, &str, Kind); 3] = [
    ("eleve", "Élève", "Student", Kind::Student),
    ("enseignant", "Enseignant", "Teacher", Kind::Teacher),
    ("personnel", "Personnel", "Staff", Kind::Staff),
];

/// A field's refusal: (field name, message in French and English).
pub type FieldError = (&'static str, Msg);

/// `label`: the field's name in French and in English.
fn name_error(label: (&str, &str), v: &str) -> Option<Msg> {
    let (fr, en) = label;
    if v.is_empty() {
        Some(msg!("Give the {en}.", "Indiquez le {fr}."))
    } else if v.chars().count() > MAX_NAME {
        Some(msg!(
            "The {en} is too long (at most {MAX_NAME} characters).",
            "Le {fr} est trop long (au plus {MAX_NAME} caractères)."
        ))
    } else if v.chars().any(char::is_control) {
        Some(msg!(
            "The {en} holds a forbidden character.",
            "Le {fr} contient un caractère interdit."
        ))
    } else if !v.chars().any(char::is_alphabetic) {
        Some(msg!(
            "The {en} must hold at least one letter.",
            "Le {fr} doit contenir au moins une lettre."
        ))
    } else {
        None
    }
}

fn email_ok(e: &str) -> bool {
    let Some((user, domain)) = e.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.chars().all(|c| c.is_ascii_graphic())
}

/// The one validation of the « Nouvelle personne » form (pure): the
/// person to create, or every field's French refusal. `classes` are the
/// codes of the existing classes; `today` is `YYYY-MM-DD`.
pub fn validate_new_person(
    f: &forms::Fields,
    classes: &[String],
    today: &str,
) -> Result<people::Manual, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = Vec::new();
    let kind = KINDS.iter().find(|k| k.0 == f.get("type")).map(|k| k.3);
    if kind.is_none() {
        errors.push((
            "type",
            msg!(
                "Choose student, teacher or staff.",
                "Choisissez élève, enseignant ou personnel."
            ),
        ));
    }
    let last = f.get("nom").trim().to_string();
    if let Some(e) = name_error(("nom", "last name"), &last) {
        errors.push(("nom", e));
    }
    let first = f.get("prenom").trim().to_string();
    if let Some(e) = name_error(("prénom", "first name"), &first) {
        errors.push(("prenom", e));
    }
    let student = kind == Some(Kind::Student);
    let raw_birth = f.get("naissance").trim();
    let birth = if raw_birth.is_empty() {
        if student {
            errors.push((
                "naissance",
                msg!(
                    "Give the student's date of birth.",
                    "Indiquez la date de naissance de l'élève."
                ),
            ));
        }
        None
    } else {
        match import::iso_date(raw_birth) {
            Some(d) if d.as_str() <= today => Some(d),
            Some(_) => {
                errors.push((
                    "naissance",
                    msg!(
                        "The date of birth cannot be in the future.",
                        "La date de naissance ne peut pas être dans le futur."
                    ),
                ));
                None
            }
            None => {
                let shown: String = raw_birth.chars().take(20).collect();
                errors.push((
                    "naissance",
                    msg!(
                        "\"{shown}\" is not a date: write DD/MM/YYYY.",
                        "« {shown} » n'est pas une date : écrivez JJ/MM/AAAA."
                    ),
                ));
                None
            }
        }
    };
    let raw_class = f.get("classe").trim();
    let class = if !student {
        None
    } else if raw_class.is_empty() {
        errors.push((
            "classe",
            msg!("Choose the student's class.", "Choisissez la classe de l'élève."),
        ));
        None
    } else if let Some(c) = classes.iter().find(|c| c.as_str() == raw_class) {
        Some(c.clone())
    } else {
        errors.push((
            "classe",
            msg!(
                "This class does not exist: choose one from the list.",
                "Cette classe n'existe pas : choisissez-en une dans la liste."
            ),
        ));
        None
    };
    let raw_email = f.get("courriel").trim();
    let email = if raw_email.is_empty() {
        None
    } else if raw_email.len() > MAX_EMAIL || !email_ok(raw_email) {
        errors.push((
            "courriel",
            msg!(
                "Invalid e-mail address (for example: prenom.nom@exemple.fr).",
                "Adresse électronique invalide (exemple : prenom.nom@exemple.fr)."
            ),
        ));
        None
    } else {
        Some(raw_email.to_string())
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(people::Manual {
        kind,
        first_name: first,
        last_name: last,
        birth_date: if student { birth } else { None },
        class,
        email,
        login: None,
    })
}

#[derive(Template)]
#[template(path = "console/person_new.html")]
struct NewPersonPage<'a> {
    page: &'a Page,
    error: Option<String>,
    errors: Vec<FieldError>,
    /// (form value, label in the page's language).
    kinds: Vec<(&'static str, &'static str)>,
    classes: Vec<(String, String)>,
    kind: String,
    nom: String,
    prenom: String,
    naissance: String,
    classe: String,
    courriel: String,
}

impl NewPersonPage<'_> {
    fn err(&self, field: &str) -> Option<&str> {
        let french = self.page.lang == i18n::Lang::Fr;
        self.errors
            .iter()
            .find(|e| e.0 == field)
            .map(|e| e.1.text(french))
    }
}

fn classes_of(conn: &rusqlite::Connection) -> Result<Vec<(String, String)>, WebError> {
    Ok(directory::classes(conn)?
        .into_iter()
        .map(|s| (s.code, s.label))
        .collect())
}

fn new_person_page(
    web: &super::Web,
    signed: &Signed,
    values: Option<&forms::Fields>,
    error: Option<String>,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let store = web.store()?;
    let classes = classes_of(store.conn())?;
    let config = web.config();
    let chrome = Page::signed(
        i18n::t(i18n::current(), "people.new"),
        &config.establishment.name,
        signed,
        "/console/personnes",
    );
    let v = |k: &str| values.map(|f| f.get(k).trim().to_string()).unwrap_or_default();
    let refused = error.is_some() || !errors.is_empty();
    let mut r = pages::render(&NewPersonPage {
        page: &chrome,
        error,
        errors,
        kinds: KINDS
            .iter()
            .map(|k| (k.0, if i18n::french() { k.1 } else { k.2 }))
            .collect(),
        classes,
        kind: v("type"),
        nom: v("nom"),
        prenom: v("prenom"),
        naissance: v("naissance"),
        classe: v("classe"),
        courriel: v("courriel"),
    });
    if refused {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /console/personnes/nouvelle`.
pub async fn new_person(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    respond(blocking(move || new_person_page(&web, &signed, None, None, Vec::new())).await)
}

/// `POST /console/personnes/nouvelle`: validated, created in one
/// transaction, projected, audited; the answer is the person's slip.
pub async fn create_person(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let fields = match checked_form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    respond(
        blocking(move || {
            let config = web.config();
            let mut store = web.store()?;
            let codes: Vec<String> = classes_of(store.conn())?.into_iter().map(|c| c.0).collect();
            let manual = match validate_new_person(&fields, &codes, &import::today()) {
                Ok(m) => m,
                Err(errors) => {
                    drop(store);
                    return new_person_page(
                        &web,
                        &signed,
                        Some(&fields),
                        Some(pick(msg!(
                            "The person was not created: correct the fields marked.",
                            "La personne n'a pas été créée : corrigez les champs signalés."
                        ))),
                        errors,
                    );
                }
            };
            let created = match people::create(&web.host, &config, &mut store, &manual) {
                Ok(c) => c,
                Err(e) => {
                    drop(store);
                    let detail = format!("{e:#}");
                    let msg = pick(if detail.contains("no free uid") {
                        msg!(
                            "The person was not created: no free account number left (see the accounts' settings).",
                            "La personne n'a pas été créée : plus aucun numéro de compte libre (voir les réglages des comptes)."
                        )
                    } else {
                        msg!(
                            "The person was not created, nothing is saved. Detail: {detail}",
                            "La personne n'a pas été créée, rien n'est enregistré. Détail : {detail}"
                        )
                    });
                    return new_person_page(&web, &signed, Some(&fields), Some(msg), Vec::new());
                }
            };
            // The directory has changed: a failed projection is said on
            // the page (and in the applies' history), never a lost answer.
            let projected = system::project_accounts(&web.host, &config, &web.config_path)
                .unwrap_or_else(|e| system::Projected::Failed(format!("{e:#}")));
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "création d'une personne",
                &created.login,
                "fait",
            )?;
            let Some(p) = directory::person_by_login(store.conn(), &created.login)? else {
                return Err(WebError::NotFound);
            };
            let group = manual
                .class
                .clone()
                .unwrap_or_else(|| p.kind.label_fr().to_string());
            let mut notice = pick(msg!(
                en(
                    "{} is created: login {}, initial password {}.",
                    p.full_name(),
                    created.login,
                    created.password
                ),
                fr(
                    "{} est créé(e) : identifiant {}, mot de passe initial {}.",
                    p.full_name(),
                    created.login,
                    created.password
                )
            ));
            if let Some(n) = projected_note(&projected) {
                notice.push(' ');
                notice.push_str(&n);
            }
            let heading = pick(msg!(
                en("Login slip of {}", p.full_name()),
                fr("Fiche de connexion de {}", p.full_name())
            ));
            let slip = sheets::Slip {
                person: p,
                group,
                password: Some(created.password),
            };
            let chrome = Page::signed(
                &pick(msg!("Person created", "Personne créée")),
                &config.establishment.name,
                &signed,
                "/console/personnes",
            );
            Ok(pages::render(&SlipsPage {
                page: &chrome,
                heading,
                notice: Some(notice),
                back: Some(format!("/console/personnes/{}", created.login)),
                establishment: &config.establishment.name,
                slips: vec![slip.view()],
            }))
        })
        .await,
    )
}

/// One leaver due for deletion, as listed.
pub struct LeaverRow {
    pub name: String,
    pub login: String,
    pub kind: &'static str,
    pub left: String,
    pub due: String,
}

#[derive(Template)]
#[template(path = "console/leavers.html")]
struct LeaversPage<'a> {
    page: &'a Page,
    error: Option<String>,
    notices: Vec<String>,
    leavers: Vec<LeaverRow>,
    retention_days: u32,
}

fn leavers_page(
    web: &super::Web,
    signed: &Signed,
    error: Option<String>,
    notices: Vec<String>,
) -> Result<Response, WebError> {
    let store = web.store()?;
    let due = people::due_for_purge(store.conn()).map_err(WebError::Internal)?;
    let leavers = due
        .into_iter()
        .map(|p| LeaverRow {
            name: format!("{} {}", p.last_name, p.first_name),
            kind: super::console::kind_label(p.kind),
            left: p.disabled_at.clone().unwrap_or_else(|| "?".into()),
            due: p.delete_after.clone().unwrap_or_else(|| "?".into()),
            login: p.login,
        })
        .collect();
    let config = web.config();
    let chrome = Page::signed(
        i18n::t(i18n::current(), "people.leavers"),
        &config.establishment.name,
        signed,
        "/console/personnes",
    );
    let refused = error.is_some();
    let mut r = pages::render(&LeaversPage {
        page: &chrome,
        error,
        notices,
        leavers,
        retention_days: config.accounts.retention_days,
    });
    if refused {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /console/personnes/partants`: who a purge would remove (the
/// selection of `preau accounts purge`, nothing changed).
pub async fn leavers(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    respond(blocking(move || leavers_page(&web, &signed, None, Vec::new())).await)
}

/// The notices after a purge (pure).
pub fn purge_notices(p: &people::Purged, projected: Option<String>) -> Vec<Msg> {
    let (deleted, homes) = (p.deleted.len(), p.homes_removed);
    let mut out = vec![msg!(
        "{deleted} account(s) deleted from the directory, {homes} personal folder(s) erased.",
        "{deleted} compte(s) supprimé(s) de l'annuaire, {homes} dossier(s) personnel(s) effacé(s)."
    )];
    if !p.kept_home.is_empty() {
        let who = p.kept_home.join(", ");
        out.push(msg!(
            "Kept while their personal folder exists (it is erased at the next apply of the accounts): {who}.",
            "Gardés tant que leur dossier personnel existe (il sera effacé à la prochaine mise en œuvre des comptes) : {who}."
        ));
    }
    if !p.kept_records.is_empty() {
        let who = p.kept_records.join(", ");
        out.push(msg!(
            "Kept because school-life records (absences, marks…) name them: {who}.",
            "Gardés parce que des données de vie scolaire (absences, notes…) les nomment : {who}."
        ));
    }
    out.extend(projected.map(|n| Msg::new(n.clone(), n)));
    out
}

/// `POST /console/personnes/partants`: with the CSRF token and the
/// ticked confirmation, the purge of `preau accounts purge --apply`:
/// projected (accounts and folders removed), then the directory forgets
/// them; audited.
pub async fn purge_leavers(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let fields = match checked_form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    respond(
        blocking(move || {
            if fields.get("confirme") != "oui" {
                return leavers_page(
                    &web,
                    &signed,
                    Some(pick(msg!(
                        "Nothing was deleted: tick the confirmation box.",
                        "Rien n'a été supprimé : cochez la case de confirmation."
                    ))),
                    Vec::new(),
                );
            }
            let config = web.config();
            let mut store = web.store()?;
            let due = people::due_for_purge(store.conn()).map_err(WebError::Internal)?;
            if due.is_empty() {
                drop(store);
                return leavers_page(
                    &web,
                    &signed,
                    None,
                    vec![pick(msg!(
                        "No leaver to delete: nothing has changed.",
                        "Aucun partant à supprimer : rien n'a changé."
                    ))],
                );
            }
            let had_home = people::homes_before(&web.host, &config, &due);
            // The directory has changed: a failed projection is said on
            // the page (and in the applies' history), never a lost answer.
            let projected = system::project_accounts(&web.host, &config, &web.config_path)
                .unwrap_or_else(|e| system::Projected::Failed(format!("{e:#}")));
            let purged = people::forget(&web.host, &config, &mut store, &due, &had_home)
                .map_err(WebError::Internal)?;
            let kept: Vec<&str> = purged
                .kept_home
                .iter()
                .chain(&purged.kept_records)
                .map(String::as_str)
                .collect();
            let mut outcome = format!("supprimés : {}", purged.deleted.join(", "));
            if !kept.is_empty() {
                outcome.push_str(&format!(" ; gardés : {}", kept.join(", ")));
            }
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "suppression des partants",
                &format!("{} compte(s)", due.len()),
                &outcome,
            )?;
            drop(store);
            let notices = purge_notices(&purged, projected_note(&projected))
                .into_iter()
                .map(pick)
                .collect();
            leavers_page(&web, &signed, None, notices)
        })
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(s: &str) -> forms::Fields {
        forms::parse(s.as_bytes()).unwrap()
    }

    fn fields_of(r: Result<people::Manual, Vec<FieldError>>) -> Vec<&'static str> {
        r.unwrap_err().into_iter().map(|e| e.0).collect()
    }

    #[test]
    fn a_new_person_form_is_validated_in_one_place() {
        let classes = vec!["6A".to_string(), "5B".to_string()];
        let today = "2026-12-01";
        let ok = validate_new_person(
            &form("type=eleve&nom=+Dupont+&prenom=Zo%C3%A9&naissance=03%2F04%2F2014&classe=6A&courriel="),
            &classes,
            today,
        )
        .unwrap();
        assert_eq!(ok.kind, Some(Kind::Student));
        assert_eq!((ok.last_name.as_str(), ok.first_name.as_str()), ("Dupont", "Zoé"));
        assert_eq!(ok.birth_date.as_deref(), Some("2014-04-03"));
        assert_eq!(ok.class.as_deref(), Some("6A"));
        assert_eq!(ok.email, None);
        // A teacher: no birth date nor class needed (a class given is ignored).
        let t = validate_new_person(
            &form("type=enseignant&nom=Blanc&prenom=Paul&classe=6A&courriel=paul.blanc%40ac-exemple.fr"),
            &classes,
            today,
        )
        .unwrap();
        assert_eq!(
            (t.kind, t.class, t.email.as_deref()),
            (Some(Kind::Teacher), None, Some("paul.blanc@ac-exemple.fr"))
        );
        // Every refusal names its field, in French.
        let table: &[(&str, &[&str])] = &[
            ("", &["type", "nom", "prenom"]),
            ("type=parent&nom=A&prenom=B", &["type"]),
            ("type=eleve&nom=A&prenom=B", &["naissance", "classe"]),
            (
                "type=eleve&nom=A&prenom=B&naissance=31%2F02%2F2014&classe=6A",
                &["naissance"],
            ),
            (
                "type=eleve&nom=A&prenom=B&naissance=01%2F01%2F2030&classe=6A",
                &["naissance"],
            ),
            (
                "type=eleve&nom=A&prenom=B&naissance=01%2F01%2F2014&classe=4Z",
                &["classe"],
            ),
            ("type=personnel&nom=123&prenom=B", &["nom"]),
            ("type=personnel&nom=A%01&prenom=B", &["nom"]),
            (
                "type=personnel&nom=A&prenom=B&courriel=pas-une-adresse",
                &["courriel"],
            ),
            ("type=personnel&nom=A&prenom=B&courriel=a%40b", &["courriel"]),
            ("type=personnel&nom=A&prenom=B&courriel=a+b%40c.fr", &["courriel"]),
        ];
        for (body, expected) in table {
            assert_eq!(
                fields_of(validate_new_person(&form(body), &classes, today)),
                *expected,
                "{body}"
            );
        }
        let long = format!("type=personnel&nom={}&prenom=B", "x".repeat(MAX_NAME + 1));
        let errs = validate_new_person(&form(&long), &classes, today).unwrap_err();
        assert!(errs[0].1.fr.contains("trop long"), "{errs:?}");
        assert!(errs[0].1.en.contains("too long"), "{errs:?}");
    }

    #[test]
    fn purge_notices_say_who_is_kept_and_why() {
        let p = people::Purged {
            deleted: vec!["a".into(), "b".into()],
            homes_removed: 1,
            kept_home: vec![],
            kept_records: vec!["c".into()],
        };
        let n = purge_notices(&p, None);
        assert_eq!(n.len(), 2, "{n:?}");
        assert!(n[0].fr.starts_with("2 compte(s) supprimé(s)"), "{n:?}");
        assert!(n[0].en.starts_with("2 account(s) deleted"), "{n:?}");
        assert!(
            n[1].fr.contains("vie scolaire") && n[1].fr.ends_with(": c."),
            "{n:?}"
        );
        let n: Vec<String> = purge_notices(&people::Purged::default(), Some("x".into()))
            .into_iter()
            .map(|m| m.fr)
            .collect();
        assert_eq!(
            n,
            vec![
                "0 compte(s) supprimé(s) de l'annuaire, 0 dossier(s) personnel(s) effacé(s).".to_string(),
                "x".into()
            ]
        );
    }
}
