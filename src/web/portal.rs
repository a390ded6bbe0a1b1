//! The portal (`/`): a person's home page by role, and self-service:
//! changing one's own password (`/mot-de-passe`) with the CLI's policy,
//! which is also the forced first change of an initial password.

use super::errors::WebError;
use super::i18n::either;
use super::pages::{self, Card, Page, PasswordPage, PortalPage};
use super::{AppState, Signed, audit, authz, csrf, forms, session, signin, system};
use crate::directory::password;
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;

/// The portal's cards; each is shown only when its URL is allowed.
const CARDS: &[Card] = &[
    Card {
        href: "/console",
        title: "card.dashboard",
        text: "card.dashboard.text",
    },
    Card {
        href: "/console/personnes",
        title: "card.people",
        text: "card.people.text",
    },
    Card {
        href: "/console/classe",
        title: "card.classes",
        text: "card.classes.text",
    },
    Card {
        href: "/vie-scolaire/notes",
        title: "card.grades",
        text: "card.grades.text",
    },
    Card {
        href: "/vie-scolaire/mes-notes",
        title: "card.grades",
        text: "card.my_grades.text",
    },
    Card {
        href: "/vie-scolaire/journee",
        title: "card.day",
        text: "card.day.text",
    },
    Card {
        href: "/vie-scolaire/absences",
        title: "card.absences",
        text: "card.absences.text",
    },
    Card {
        href: "/vie-scolaire/assiduite",
        title: "card.attendance",
        text: "card.attendance.text",
    },
    Card {
        href: "/reservations",
        title: "card.bookings",
        text: "card.bookings.text",
    },
    Card {
        href: "/console/statistiques",
        title: "card.statistics",
        text: "card.statistics.text",
    },
    Card {
        href: "/console/journal",
        title: "card.journal",
        text: "card.journal.text",
    },
    Card {
        href: "/mot-de-passe",
        title: "card.password",
        text: "card.password.text",
    },
];

/// `GET /`.
pub async fn home(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    let config = web.config();
    let chrome = Page::signed(
        super::i18n::t(super::i18n::current(), "nav.home"),
        &config.establishment.name,
        &signed,
        "/",
    );
    let facts = authz::Facts {
        target: None,
        ..signed.facts.clone()
    };
    let cards = CARDS
        .iter()
        .filter(|c| {
            authz::Action::of(&Method::GET, c.href)
                .is_some_and(|a| authz::decide(&signed.actor, &a, &facts).allowed())
        })
        .cloned()
        .collect();
    let roles = signed
        .actor
        .roles
        .iter()
        .map(|r| {
            if super::i18n::french() {
                r.label_fr()
            } else {
                r.label_en()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mine = super::tiles::role_names(&signed.actor);
    let tiles = super::tiles::visible(&config.portal.tiles, &mine)
        .into_iter()
        .map(|t| pages::TileView {
            title: t.title.clone(),
            url: t.url.clone(),
            description: t.description.clone(),
            health: (!t.health_url.is_empty()).then(|| {
                let h = web.tiles.get(&t.health_url);
                (
                    if super::i18n::french() {
                        h.label_fr()
                    } else {
                        h.label_en()
                    },
                    h.class(),
                )
            }),
        })
        .collect();
    // Self-service: one's own share usage and quota.
    let usage = match signed.actor.person_id {
        Some(_) => {
            let (w, login) = (web.clone(), signed.actor.login.clone());
            super::i18n::spawn_blocking(move || -> Option<String> {
                let store = w.store().ok()?;
                let p = crate::directory::person_by_login(store.conn(), &login).ok()??;
                crate::modules::shares::web::usage_line(&w.host, &w.config(), &p)
            })
            .await
            .ok()
            .flatten()
        }
        None => None,
    };
    pages::render(&PortalPage {
        page: &chrome,
        name: &signed.actor.name,
        roles,
        cards,
        tiles,
        usage,
    })
}

fn password_page(
    web: &AppState,
    signed: &Signed,
    error: Option<&str>,
    done: bool,
    status: StatusCode,
) -> Response {
    let config = web.config();
    let chrome = Page::signed(
        super::i18n::t(super::i18n::current(), "nav.password"),
        &config.establishment.name,
        signed,
        "/mot-de-passe",
    );
    let mut r = pages::render(&PasswordPage {
        page: &chrome,
        forced: signed.session.must_change,
        error,
        done,
        min_length: password::MIN_LENGTH,
    });
    *r.status_mut() = status;
    r
}

/// `GET /mot-de-passe`.
pub async fn password_form(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
) -> Response {
    password_page(&web, &signed, None, false, StatusCode::OK)
}

/// Why a new password is refused: (French, English) (pure).
pub fn new_password_problem(current: &str, new: &str, confirm: &str) -> Option<(&'static str, &'static str)> {
    if let Some((en, fr)) = password::policy_problem(new) {
        return Some((
            fr,
            if en == "the password is too short" {
                "The password is too short: at least 8 characters."
            } else {
                en
            },
        ));
    }
    if new != confirm {
        return Some((
            "Les deux saisies du nouveau mot de passe diffèrent.",
            "The two entries of the new password differ.",
        ));
    }
    if new == current {
        return Some((
            "Le nouveau mot de passe doit être différent de l'actuel.",
            "The new password must differ from the current one.",
        ));
    }
    None
}

/// `POST /mot-de-passe`: `current`, `new`, `confirm`, `csrf`.
pub async fn password_submit(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let fields = match forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    if !csrf::matches(&signed.session.csrf, fields.get("csrf")) {
        return password_page(
            &web,
            &signed,
            Some(either(
                "Le formulaire a expiré : recommencez.",
                "The form has expired: start again.",
            )),
            false,
            StatusCode::FORBIDDEN,
        );
    }
    let (current, new, confirm) = (
        fields.get("current").to_string(),
        fields.get("new").to_string(),
        fields.get("confirm").to_string(),
    );
    if let Some((fr, en)) = new_password_problem(&current, &new, &confirm) {
        return password_page(
            &web,
            &signed,
            Some(either(fr, en)),
            false,
            StatusCode::BAD_REQUEST,
        );
    }
    let login = signed.actor.login.clone();
    if !web
        .throttle
        .lock()
        .map(|t| t.allowed(&login, signed.peer, Instant::now()))
        .unwrap_or(false)
    {
        return password_page(
            &web,
            &signed,
            Some(either(
                "Trop de tentatives en peu de temps : réessayez dans quinze minutes.",
                "Too many attempts in a short time: try again in fifteen minutes.",
            )),
            false,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let Ok(_permit) = web.hashing.acquire().await else {
        return WebError::Internal(anyhow::anyhow!("password check semaphore closed")).into_response();
    };
    let w = web.clone();
    let s = signed.clone();
    let outcome = crate::web::i18n::spawn_blocking(move || -> Result<Option<system::Projected>, WebError> {
        let mut store = w.store()?;
        let addr = s.peer.to_string();
        let Some(account) = signin::verify(&mut store, &s.actor.login, &current)? else {
            if let Ok(mut t) = w.throttle.lock() {
                t.failed(&s.actor.login, s.peer, Instant::now());
            }
            audit::record(
                &mut store,
                &s.actor.login,
                &addr,
                "changement de mot de passe",
                "",
                "mot de passe actuel faux",
            )?;
            return Ok(None);
        };
        if account.admin {
            store.set_admin_hash(&account.login, &crate::auth::hash_password(&new)?)?;
        } else if let Some(id) = account.person_id {
            store.write(|tx| password::set(tx, id, &new, false, false))?;
        }
        session::password_changed(&mut store, &account.login)?;
        // Other browsers signed in with the old password are signed out.
        session::delete_others(&mut store, &account.login, &s.session.key)?;
        let projected = if account.admin {
            system::Projected::NotEnabled
        } else {
            system::project_accounts(&w.host, &w.config(), &w.config_path)?
        };
        audit::record(
            &mut store,
            &s.actor.login,
            &addr,
            "changement de mot de passe",
            "",
            "fait",
        )?;
        Ok(Some(projected))
    })
    .await;
    match outcome {
        Ok(Ok(None)) => password_page(
            &web,
            &signed,
            Some(either(
                "Le mot de passe actuel est incorrect.",
                "The current password is wrong.",
            )),
            false,
            StatusCode::BAD_REQUEST,
        ),
        Ok(Ok(Some(system::Projected::Failed(e)))) => {
            log::error!(error = e.as_str(); "accounts apply after a password change failed");
            password_page(
                &web,
                &signed,
                Some(either(
                    "Le mot de passe est changé pour cet espace, mais pas encore pour les ordinateurs : prévenez l'administrateur.",
                    "The password is changed for this site, but not yet for the computers: tell the administrator.",
                )),
                false,
                StatusCode::OK,
            )
        }
        Ok(Ok(Some(_))) => {
            if signed.session.must_change {
                super::see_other("/", &[])
            } else {
                let mut s = (*signed).clone();
                s.session.must_change = false;
                password_page(&web, &s, None, true, StatusCode::OK)
            }
        }
        Ok(Err(e)) => e.into_response(),
        Err(e) => WebError::Internal(anyhow::anyhow!("{e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    /// Every card's title and text are messages of the catalogue.
    #[test]
    fn cards_name_known_messages() {
        for c in super::CARDS {
            for id in [c.title, c.text] {
                assert!(
                    super::super::i18n::FR.iter().any(|(k, _)| *k == id),
                    "{}: unknown message id {id:?}",
                    c.href
                );
            }
        }
    }

    #[test]
    fn new_password_rules() {
        use super::new_password_problem as p;
        assert!(p("old", "short", "short").unwrap().0.contains("trop court"));
        assert!(p("old", "short", "short").unwrap().1.contains("too short"));
        assert!(
            p("old", "longenough", "longenougH")
                .unwrap()
                .0
                .contains("diffèrent")
        );
        assert!(
            p("longenough", "longenough", "longenough")
                .unwrap()
                .1
                .contains("differ")
        );
        assert_eq!(p("old", "longenough", "longenough"), None);
    }
}
