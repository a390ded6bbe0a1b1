//! Issue 10, French first with a complete English catalogue: the console
//! in English has no French left outside data, and a French settings
//! form shows every validator message in French (English in English).

use super::*;

/// Words of French that an English page must not hold (checked on the
/// page's text: tags, attribute values, quoted examples and data cells
/// removed, see [`visible_text`]).
pub(super) const FRENCH_WORDS: &[&str] = &[
    "le",
    "la",
    "les",
    "des",
    "du",
    "une",
    "est",
    "et",
    "pour",
    "dans",
    "sur",
    "avec",
    "pas",
    "aucun",
    "aucune",
    "personnes",
    "enregistrer",
    "rechercher",
    "chercher",
    "appliquer",
    "retour",
    "réglages",
    "vérifier",
    "valeur",
    "fichier",
    "élèves",
    "ou",
];

/// Words of English that a French validator message must not hold.
const ENGLISH_WORDS: &[&str] = &[
    "the", "is", "not", "must", "expected", "unknown", "needs", "use", "write", "give", "an", "of",
];

/// The text a reader sees, without what is data: tags (so attribute
/// values), the contents of `<pre>`, `<code>`, `<textarea>`, `<option>`,
/// `<td>` and `<dd>` (values), quoted examples ("…", « … »), the printed
/// login slips, and the given data strings (names of the establishment
/// and of people).
pub(super) fn visible_text(html: &str, data: &[&str]) -> String {
    let mut s = html
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    // The login slips themselves are a document for the students, printed
    // in the school's language (as `preau accounts sheets` prints them).
    if let Some(start) = s.find("<div class=\"slips\">") {
        let end = s[start..].find("</main>").map_or(s.len(), |e| start + e);
        s.replace_range(start..end, " ");
    }
    for tag in ["pre", "code", "textarea", "option", "td", "dd", "script"] {
        while let Some(start) = s.find(&format!("<{tag}")) {
            let close = format!("</{tag}>");
            let end = s[start..]
                .find(&close)
                .map_or(s.len(), |e| start + e + close.len());
            s.replace_range(start..end, " ");
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    for (open, close) in [('"', '"'), ('«', '»'), ('“', '”')] {
        let mut kept = String::new();
        let mut inside = false;
        for c in out.chars() {
            if !inside && c == open {
                inside = true;
            } else if inside && c == close {
                inside = false;
            } else if !inside {
                kept.push(c);
            }
        }
        out = kept;
    }
    for d in data {
        out = out.replace(d, " ");
    }
    out
}

/// The words of `text` (letters, lower case).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The words of `list` found in `text`.
pub(super) fn found<'l>(text: &str, list: &[&'l str]) -> Vec<&'l str> {
    let w = words(text);
    list.iter()
        .copied()
        .filter(|l| w.iter().any(|x| x == l))
        .collect()
}

#[test]
fn the_check_sees_french_and_leaves_data_alone() {
    let html = "<h1>Les réglages</h1><td>Léa Martin et les autres</td><p title=\"la page\">Settings of \"la cour\" « le préau »</p>";
    let t = visible_text(html, &[]);
    assert_eq!(found(&t, FRENCH_WORDS), ["les", "réglages"], "{t}");
    assert!(
        found(
            &visible_text("<p>Collège des Tilleuls</p>", &["Collège des Tilleuls"]),
            FRENCH_WORDS
        )
        .is_empty()
    );
}

pub(super) async fn get_in(w: &World, path: &str, session: &str, lang: &str) -> Answer {
    w.send(
        Request::get(path)
            .header(
                header::COOKIE,
                format!("{}={session}; {}={lang}", session::COOKIE, i18n::COOKIE),
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// Issue 10: an administrator who chose English reads every console page
/// of the list in English: no frequent French word outside data.
#[tokio::test]
async fn console_pages_in_english_have_no_french_left() {
    let w = world_with(english_test_config());
    write_config(&w, SETTINGS_FILE);
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let posts = english_test_data(&w, &admin).await;
    let sections: Vec<String> = crate::web::settings_form::sections(&crate::config::schema(), i18n::Lang::En)
        .into_iter()
        .map(|s| format!("/console/reglages/{}", s.key))
        .collect();
    assert!(sections.len() >= 12, "{sections:?}");
    let mut pages: Vec<String> = [
        "/",
        "/mot-de-passe",
        "/console",
        "/console/personnes",
        "/console/personnes?q=martin",
        "/console/personnes/lea.martin",
        "/console/personnes/anne.martin",
        "/console/journal",
        "/console/journaux/mises-en-oeuvre",
        "/console/journaux",
        "/console/journaux/pare-feu",
        "/console/journaux?utilisateur=a%20b&adresse=nope&depuis=hier",
        "/console/imports",
        "/console/securite",
        "/console/classes/6A/fiches",
        "/console/personnes/nouvelle",
        "/console/personnes/partants",
        "/console/reglages",
        "/console/salles",
        "/console/salles?fait=coupe",
        "/console/salles?fait=examen&pare-feu=echec",
        "/console/salles?fait=fin",
        "/console/statistiques?du=2026-13-01",
        "/console/statistiques?du=2026-12-02&au=2026-12-01",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    pages.push(format!(
        "/console/statistiques?du={}&au={}",
        english_test_day(-7),
        english_test_day(7)
    ));
    pages.push("/reservations".into());
    for id in [1, 2] {
        pages.push(format!("/reservations/{id}?date={}", english_test_day(1)));
    }
    pages.push("/reservations/1".into());
    pages.extend(sections);
    let data = [
        "Collège des Tilleuls",
        "Préau",
        "Français",
        "Léa",
        "Martin",
        "Tom Roux",
        "Chariot de portables",
        "Salle 12",
        "Paul Blanc",
    ];
    let mut bad = Vec::new();
    // Forms refused beside their fields or on an error page (400, 403).
    for (path, form) in &posts {
        for (lang, want_french) in [("en", false), ("fr", true)] {
            let cookie = format!("{}={admin}; {}={lang}", session::COOKIE, i18n::COOKIE);
            let a = w.post(path, &cookie, form).await;
            // 400, or 403 for a refused form token.
            let want = if form.contains("csrf=nope") { 403 } else { 400 };
            assert_eq!(a.status, want, "{path} {form} ({lang}): {}", a.body);
            let french = found(&visible_text(&a.body, &data), FRENCH_WORDS);
            if want_french {
                assert!(!french.is_empty(), "{path} {form} in French: {}", a.body);
            } else if !french.is_empty() {
                bad.push(format!(
                    "POST {path} {form}: {french:?} in {}",
                    visible_text(&a.body, &data)
                ));
            }
        }
    }
    for path in &pages {
        let a = get_in(&w, path, &admin, "en").await;
        // 400: a search refused beside its fields.
        assert!(a.status == 200 || a.status == 400, "{path}: {}", a.body);
        assert!(a.body.contains("<html lang=\"en\">"), "{path}");
        let text = visible_text(&a.body, &data);
        let french = found(&text, FRENCH_WORDS);
        if !french.is_empty() {
            bad.push(format!("{path}: {french:?} in {text}"));
        }
        // The same page in French is French (the check is not blind).
        let fr = get_in(&w, path, &admin, "fr").await;
        assert!(
            !found(&visible_text(&fr.body, &data), FRENCH_WORDS).is_empty(),
            "{path} in French: {}",
            visible_text(&fr.body, &data)
        );
    }
    // A booking refused by the booking domain says why in English.
    let csrf = w.csrf_of(&admin).await;
    let en = format!("{}={admin}; {}=en", session::COOKIE, i18n::COOKIE);
    let a = w
        .post(
            "/reservations/2/reserver",
            &en,
            &format!(
                "date={}&debut=10:00&fin=11:00&quantite=5&csrf={csrf}",
                english_test_day(1)
            ),
        )
        .await;
    assert!(
        a.text()
            .contains("Quantity asked 5, the resource has 1: nothing was changed."),
        "{}",
        a.body
    );
    // Single sign-on: the consent and sign-out pages of a teacher, and
    // the refusals a browser may meet on the way.
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let paul_csrf = w.csrf_of(&paul).await;
    let authorize = "/oidc/authorize?response_type=code&client_id=nuage&redirect_uri=https%3A%2F%2Fnuage.example%2Fcb&scope=openid%20profile%20email&state=s1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let sso_data = [&data[..], &["Nuage", "Paul Blanc"]].concat();
    for (method, path, form, status) in [
        ("GET", authorize, String::new(), 200),
        ("GET", "/oidc/logout", String::new(), 200),
        ("GET", "/cas/login", String::new(), 200),
        ("GET", "/oidc/authorize?client_id=", String::new(), 400),
        ("GET", "/oidc/authorize?client_id=autre", String::new(), 400),
        ("GET", "/oidc/authorize?client_id=nuage", String::new(), 400),
        (
            "GET",
            "/oidc/authorize?client_id=nuage&redirect_uri=https%3A%2F%2Failleurs.example%2F",
            String::new(),
            400,
        ),
        (
            "GET",
            "/cas/login?service=https%3A%2F%2Fautre.example%2F",
            String::new(),
            403,
        ),
        (
            "POST",
            "/oidc/authorize",
            format!(
                "response_type=code&client_id=nuage&redirect_uri=https%3A%2F%2Fnuage.example%2Fcb&scope=openid&decision=peut-etre&csrf={paul_csrf}"
            ),
            400,
        ),
        (
            "POST",
            "/oidc/authorize",
            "client_id=nuage&decision=accepter&csrf=nope".to_string(),
            403,
        ),
        ("POST", "/oidc/logout", "csrf=nope".to_string(), 403),
    ] {
        for lang in ["en", "fr"] {
            let cookie = format!("{}={paul}; {}={lang}", session::COOKIE, i18n::COOKIE);
            let a = if method == "GET" {
                get_in(&w, path, &paul, lang).await
            } else {
                w.post(path, &cookie, &form).await
            };
            assert_eq!(
                a.status,
                status,
                "{method} {path} ({lang}): {:?} {}",
                a.headers.get("location"),
                a.body
            );
            assert!(a.body.contains(&format!("<html lang=\"{lang}\">")), "{path}");
            let french = found(&visible_text(&a.body, &sso_data), FRENCH_WORDS);
            if lang == "fr" {
                assert!(!french.is_empty(), "{method} {path} in French: {}", a.body);
            } else if !french.is_empty() {
                bad.push(format!(
                    "{method} {path}: {french:?} in {}",
                    visible_text(&a.body, &sso_data)
                ));
            }
        }
    }
    let consent = get_in(&w, authorize, &paul, "en").await;
    assert!(
        consent.text().contains("Sign in to Nuage") && consent.text().contains("your e-mail address"),
        "{}",
        consent.body
    );
    // The room's state is told in English too.
    let rooms = get_in(&w, "/console/salles", &admin, "en").await;
    assert!(rooms.body.contains("internet off until"), "{}", rooms.body);
    assert!(
        bad.is_empty(),
        "French words on English pages:\n{}",
        bad.join("\n\n")
    );
}

/// An invalid value for one key of each section, that the validator of
/// `preau check` refuses (not the form's own parsing), and a word of its
/// English message.
const INVALID: &[(&str, &str, &str, &str)] = &[
    ("establishment", "uai", "12", "UAI code"),
    ("modules", "enabled", "nonesuch", "unknown module"),
    ("server", "listen", "nowhere", "not an address and port"),
    ("paths", "state_dir", "relative", "not an absolute path"),
    ("firewall", "preset", "nope", "unknown preset"),
    (
        "accounts",
        "students_group",
        "Eleves",
        "not a valid Unix group name",
    ),
    ("shares", "workgroup", "not_a_workgroup!", "not a workgroup name"),
    ("proxy", "parent", "nohost", "is not host:port"),
    ("viescolaire", "noon", "25:00", "is not a time"),
    ("sso", "issuer", "http://x", "not an https address"),
    ("backup", "directory", "relative", "not a plain absolute path"),
    (
        "booking",
        "open_hours_per_week",
        "500",
        "open hours a week is not possible",
    ),
];

/// The text of the error beside field `key`.
fn field_error(body: &str, key: &str) -> String {
    let text = body
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"");
    let mark = format!("id=\"erreur-{key}\" role=\"alert\">");
    let at = text
        .find(&mark)
        .unwrap_or_else(|| panic!("no error beside {key}: {text}"))
        + mark.len();
    text[at..at + text[at..].find("</p>").unwrap()].to_string()
}

/// Issue 10: for an invalid value in every section, the French form shows
/// the validator's message in French beside the field (no English word
/// in it), the English form shows the English message of `preau check`;
/// nothing is written either way.
#[tokio::test]
async fn validator_messages_beside_the_fields_are_in_the_page_s_language() {
    let w = world();
    let path = write_config(&w, SETTINGS_FILE);
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let csrf = w.csrf_of(&admin).await;
    let covered: std::collections::BTreeSet<&str> = INVALID.iter().map(|i| i.0).collect();
    for s in crate::web::settings_form::sections(&crate::config::schema(), i18n::Lang::Fr) {
        let doc: toml_edit::DocumentMut = SETTINGS_FILE.parse().unwrap();
        let editable =
            crate::web::settings_form::fields(&crate::config::schema(), &s.key, &doc, i18n::Lang::Fr)
                .unwrap()
                .iter()
                .any(|f| f.input() != "readonly");
        assert!(
            covered.contains(s.key.as_str()) || !editable,
            "section {} has editable fields but no invalid sample",
            s.key
        );
    }
    for (section, key, value, english) in INVALID {
        let form = format!(
            "csrf={csrf}&f.{key}={}",
            value.replace(':', "%3A").replace('/', "%2F")
        );
        for lang in ["fr", "en"] {
            let cookie = format!("{}={admin}; {}={lang}", session::COOKIE, i18n::COOKIE);
            let a = w
                .post(&format!("/console/reglages/{section}"), &cookie, &form)
                .await;
            assert_eq!(a.status, 400, "{section}.{key} ({lang}): {}", a.body);
            let error = field_error(&a.body, key);
            if lang == "fr" {
                assert!(
                    error.starts_with("Refusé par la vérification (preau check) :"),
                    "{section}.{key}: {error}"
                );
                let text = visible_text(&error, &[]);
                let english_words = found(&text, ENGLISH_WORDS);
                assert!(
                    english_words.is_empty(),
                    "{section}.{key}: English {english_words:?} in « {error} »"
                );
                assert!(!error.contains(english), "{section}.{key}: {error}");
            } else {
                assert!(
                    error.starts_with("Refused by the check (preau check):"),
                    "{section}.{key}: {error}"
                );
                assert!(error.contains(english), "{section}.{key}: {error}");
                assert!(
                    found(&visible_text(&error, &[]), FRENCH_WORDS).is_empty(),
                    "{section}.{key}: {error}"
                );
            }
        }
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SETTINGS_FILE);
}

/// The help under each field follows the page's language.
#[tokio::test]
async fn settings_help_follows_the_page_s_language() {
    let w = world();
    write_config(&w, SETTINGS_FILE);
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let fr = get_in(&w, "/console/reglages/establishment", &admin, "fr").await;
    assert!(fr.text().contains("Code UAI (anciennement RNE)"), "{}", fr.body);
    assert!(!fr.text().contains("UAI (formerly RNE)"));
    let en = get_in(&w, "/console/reglages/establishment", &admin, "en").await;
    assert!(en.text().contains("UAI (formerly RNE) code"), "{}", en.body);
    assert!(!en.text().contains("anciennement"));
}

/// The console's own forms answer in the page's language too: a refused
/// new person, a purge without its confirmation.
#[tokio::test]
async fn console_form_errors_follow_the_page_s_language() {
    let w = world();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let csrf = w.csrf_of(&admin).await;
    let data = ["Collège des Tilleuls", "Préau", "Français"];
    for (path, form) in [
        (
            "/console/personnes/nouvelle",
            format!("csrf={csrf}&type=eleve&nom=&prenom=%01"),
        ),
        ("/console/personnes/partants", format!("csrf={csrf}")),
    ] {
        let en = format!("{}={admin}; {}=en", session::COOKIE, i18n::COOKIE);
        let a = w.post(path, &en, &form).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        let text = visible_text(&a.body, &data);
        assert!(found(&text, FRENCH_WORDS).is_empty(), "{path}: {text}");
        let fr = format!("{}={admin}; {}=fr", session::COOKIE, i18n::COOKIE);
        let a = w.post(path, &fr, &form).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert!(
            !found(&visible_text(&a.body, &data), FRENCH_WORDS).is_empty(),
            "{path}"
        );
    }
}

/// The portal, the self-service pages and the classroom tools of the other
/// roles in English: a teacher, a student, a parent.
#[tokio::test]
async fn portal_and_self_service_in_english_for_every_role() {
    let w = world();
    let data = [
        "Collège des Tilleuls",
        "Préau",
        "Français",
        "Paul Blanc",
        "Anne Martin",
        "Tom Roux",
    ];
    for (login, pages) in [
        (
            "paul.blanc",
            &[
                "/",
                "/mot-de-passe",
                "/console/classe",
                "/console/classe/6A",
                "/console/classe/6A/devoirs/dm1",
                "/console/salles",
                "/reservations",
            ][..],
        ),
        ("tom.roux", &["/", "/mot-de-passe"][..]),
        ("anne.martin", &["/", "/mot-de-passe"][..]),
    ] {
        let token = w.sign_in(login, PW).await.unwrap();
        for path in pages {
            let a = get_in(&w, path, &token, "en").await;
            assert_eq!(a.status, 200, "{login} {path}: {}", a.body);
            assert!(a.body.contains("<html lang=\"en\">"), "{login} {path}");
            let text = visible_text(&a.body, &data);
            assert!(found(&text, FRENCH_WORDS).is_empty(), "{login} {path}: {text}");
        }
    }
}

/// The form reader's refusals and the sign-in's messages follow the
/// language too (French by default, as before).
#[tokio::test]
async fn form_refusals_and_sign_in_messages_follow_the_language() {
    let w = world();
    let token = w.sign_in("paul.blanc", PW).await.unwrap();
    let long = format!("csrf=x&current={}", "a".repeat(forms::MAX_VALUE + 1));
    for (lang, want) in [("en", "too long"), ("fr", "trop long")] {
        let cookie = format!("{}={token}; {}={lang}", session::COOKIE, i18n::COOKIE);
        let a = w.post("/mot-de-passe", &cookie, &long).await;
        assert_eq!(a.status, 400, "{}", a.body);
        assert!(a.text().contains(want), "{lang}: {}", a.body);
    }
    let form = w.get("/connexion", None).await;
    let csrf = cookie_value(&form.cookie(csrf::SIGNIN_COOKIE).unwrap());
    for (lang, want) in [
        ("en", "Wrong login or password."),
        ("fr", "Identifiant ou mot de passe incorrect."),
    ] {
        let a = w
            .post(
                "/connexion",
                &format!("{}={csrf}; {}={lang}", csrf::SIGNIN_COOKIE, i18n::COOKIE),
                &format!("login=paul.blanc&password=wrong-one&csrf={csrf}"),
            )
            .await;
        assert!(a.text().contains(want), "{lang}: {}", a.body);
    }
}

/// An import in English: the preview, the result and the history.
#[tokio::test]
async fn an_import_in_english() {
    let w = world();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let students = demo_export("ElevesSansAdresses.xml");
    let csrf = w.csrf_of(&admin).await;
    let (ct, body) = multipart(&csrf, &[("ElevesSansAdresses.xml", &students)]);
    let en = format!("{}={admin}; {}=en", session::COOKIE, i18n::COOKIE);
    let req = Request::post("/console/imports")
        .header(header::COOKIE, &en)
        .header(header::CONTENT_TYPE, ct)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .unwrap();
    let plan = w.send(req).await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert!(
        plan.body.contains("Import preview") && plan.body.contains("New ("),
        "{}",
        plan.body
    );
    let data = [
        "Collège des Tilleuls",
        "Préau",
        "Français",
        "ElevesSansAdresses.xml",
    ];
    let text = visible_text(&plan.body, &data);
    assert!(found(&text, FRENCH_WORDS).is_empty(), "{text}");
    let done = w
        .post(&confirm_path(&plan.body), &en, &format!("csrf={csrf}"))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("Import done") && done.body.contains(" created, "),
        "{}",
        done.body
    );
    let text = visible_text(&done.body, &data);
    assert!(found(&text, FRENCH_WORDS).is_empty(), "{text}");
    let history = get_in(&w, "/console/imports", &admin, "en").await;
    assert!(history.body.contains(" created, "), "{}", history.body);
    // The audit log keeps the establishment's language.
    let fr = get_in(&w, "/console/journal", &admin, "fr").await;
    assert!(fr.body.contains("créé(s)"), "{}", fr.body);
}

/// The local date `days` from today.
fn english_test_day(days: i32) -> String {
    crate::modules::viescolaire::calendar::DateTime::now_local()
        .date
        .add_days(days)
        .to_string()
}

/// The configuration of the English page test: a classroom room.
fn english_test_config() -> Config {
    let mut config = Config::default();
    config.proxy.sources = vec![crate::modules::proxy::settings::SourceGroup {
        name: "salle-b12".into(),
        addresses: vec!["10.0.12.0/24".into()],
        rooms: vec!["B12".into()],
    }];
    config.sso.oidc_clients = vec![crate::sso::settings::OidcClient {
        id: "nuage".into(),
        name: "Nuage".into(),
        secret_sha256: String::new(),
        redirect_uris: vec!["https://nuage.example/cb".into()],
        post_logout_redirect_uris: vec!["https://nuage.example/".into()],
        backchannel_logout_uri: String::new(),
        roles: Vec::new(),
        consent: true,
        require_pkce: false,
    }];
    config
}

/// Realistic data for the English page test (a room whose internet is
/// off); the forms (path, body) that the test posts and expects refused.
async fn english_test_data(w: &World, admin: &str) -> Vec<(String, String)> {
    let csrf = w.csrf_of(admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    let a = w
        .post(
            "/console/salles/salle-b12",
            &cookie,
            &format!("mode=coupe&duree=30&csrf={csrf}"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    // Two resources, one with a manager; a booking of each tomorrow (the
    // second waits for its manager).
    let tomorrow = english_test_day(1);
    for (form, booking) in [
        (
            "nom=Chariot+de+portables&type=equipment&quantite=16&enseignants=1",
            "debut=10:00&fin=11:00&quantite=2&note=Sortie",
        ),
        (
            "nom=Salle+12&type=room&quantite=1&responsable=paul.blanc",
            "debut=14:00&fin=15:00",
        ),
    ] {
        let a = w
            .post("/reservations", &cookie, &format!("{form}&csrf={csrf}"))
            .await;
        assert_eq!(a.status, 303, "{}", a.body);
        let id = if form.contains("Chariot") { 1 } else { 2 };
        let a = w
            .post(
                &format!("/reservations/{id}/reserver"),
                &cookie,
                &format!("date={tomorrow}&{booking}&csrf={csrf}"),
            )
            .await;
        assert_eq!(a.status, 303, "{}", a.body);
    }
    let mut posts = Vec::new();
    for bad in [
        "mode=coupe&duree=0",
        "mode=x&duree=10",
        "mode=coupe&quand=demain",
        "mode=coupe&duree=10&sites=a.test",
        "mode=examen&duree=10&sites=pas%20un%20nom%20%3C%3E",
        "mode=examen&quand=fin-cours",
    ] {
        posts.push((
            "/console/salles/salle-b12".to_string(),
            format!("{bad}&csrf={csrf}"),
        ));
    }
    posts.push((
        "/console/salles/salle-b12".to_string(),
        "mode=coupe&duree=10&csrf=nope".to_string(),
    ));
    // The booking forms refused: a slot, a resource, a decision.
    for bad in [
        format!("date={tomorrow}&debut=11:00&fin=10:00"),
        format!("date={tomorrow}&debut=10:00&fin=11:00&quantite=0"),
        format!("date={tomorrow}&debut=10:00&fin=11:00&jusqu_au=2020-01-01"),
        "date=demain&debut=10:00&fin=11:00".to_string(),
        format!("date={tomorrow}&debut=10:00&fin=11:00&quantite=5"),
        format!("date={tomorrow}&cours=x"),
        format!("date={tomorrow}&cours=7"),
    ] {
        posts.push(("/reservations/2/reserver".into(), format!("{bad}&csrf={csrf}")));
    }
    for bad in [
        "nom=&type=room&quantite=1",
        "nom=X&type=car&quantite=1",
        "nom=X&type=room&quantite=0",
        "nom=X&type=room&quantite=1&responsable=nobody",
        "nom=Salle+12&type=room&quantite=1",
    ] {
        posts.push(("/reservations".into(), format!("{bad}&csrf={csrf}")));
    }
    posts.push((
        "/reservations/demandes/2/valider".into(),
        format!("decision=x&csrf={csrf}"),
    ));
    posts.push(("/reservations/1/agenda".into(), format!("action=x&csrf={csrf}")));
    posts.push(("/reservations/1/reserver".into(), "date=x&csrf=nope".into()));
    posts
}
