//! Issue 10, the daily school-life pages (roll call, the office's
//! absences, justifications, timetable and its entry, A/B weeks, the
//! teacher's day) in English have no French left outside data, and are
//! still French by default.

use super::languages::{FRENCH_WORDS, found, visible_text};
use super::schoollog::with_timetable;
use super::*;

async fn get_lang(w: &World, path: &str, cookie: &str, lang: Option<&str>) -> Answer {
    let mut c = cookie.to_string();
    if let Some(l) = lang {
        c.push_str(&format!("; {}={l}", i18n::COOKIE));
    }
    w.send(
        Request::get(path)
            .header(header::COOKIE, c)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn daily_pages_in_english() {
    let w = world();
    let (mut store, slot) = with_timetable(&w);
    // Claire, of the school-life office (CPE).
    store
        .write(|tx| {
            let np = NewPerson {
                kind: Some(Kind::Staff),
                source: "manual".into(),
                first_name: "Claire".into(),
                last_name: "Dumas".into(),
                function: Some("EDU".into()),
                ..Default::default()
            };
            insert_person(tx, &np, "claire.dumas", Some(10004))
        })
        .unwrap();
    // Anne is Tom's legal guardian too: her attendance entry lists both.
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO parent_links (parent_id, child_id, legal) SELECT p.id, c.id, 1 FROM people p, people c WHERE p.login = 'anne.martin' AND c.login = 'tom.roux'",
                [],
            )?;
            Ok::<_, anyhow::Error>(())
        })
        .unwrap();
    let token = session::create(
        &mut store,
        "claire.dumas",
        false,
        false,
        "127.0.0.1",
        session::now(),
    )
    .unwrap();
    let claire = format!("{}={token}", session::COOKIE);
    let csrf = w.csrf_of(&token).await;
    let lea: i64 = store
        .conn()
        .query_row("SELECT id FROM people WHERE login = 'lea.martin'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let reason: String = store
        .conn()
        .query_row("SELECT code FROM vs_reasons ORDER BY rowid LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let paul = format!("{}={paul}", session::COOKIE);
    let anne = w.sign_in("anne.martin", PW).await.unwrap();
    let anne = format!("{}={anne}", session::COOKIE);
    // A roll with Léa late, corrected once; an absence recorded.
    let day = "2026-11-30";
    let date = crate::modules::viescolaire::calendar::Date::parse(day).unwrap();
    let year = crate::modules::viescolaire::queries::current_year(store.conn(), date)
        .unwrap()
        .unwrap();
    let lessons = crate::modules::viescolaire::queries::lessons(store.conn(), &year, date, date).unwrap();
    let key = crate::modules::viescolaire::queries::roll::lesson_key(&lessons[0]);
    let change = format!("{slot}-{day}");
    for form in [
        format!("csrf={csrf}&p{lea}=late&m{lea}=10&r{lea}="),
        format!("csrf={csrf}&p{lea}=absent&m{lea}=&r{lea}=Malade"),
    ] {
        let a = w
            .post(&format!("/vie-scolaire/appel/{key}"), &claire, &form)
            .await;
        assert_eq!(a.status, 303, "{}", a.body);
    }
    let a = w
        .post(
            "/vie-scolaire/absences",
            &claire,
            &format!("csrf={csrf}&eleve=lea.martin&du={day}&debut=08:00&au={day}&fin=17:00&motif={reason}&commentaire=Rendez-vous"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);

    let pages: Vec<(String, &str)> = vec![
        (format!("/vie-scolaire/journee?date={day}"), paul.as_str()),
        (format!("/vie-scolaire/appel/{key}"), paul.as_str()),
        (format!("/vie-scolaire/appel/{key}?enregistre=2"), claire.as_str()),
        (
            format!("/vie-scolaire/emploi-du-temps?semaine={day}"),
            paul.as_str(),
        ),
        (format!("/vie-scolaire/emploi-du-temps?jour={day}"), paul.as_str()),
        (
            format!("/vie-scolaire/emploi-du-temps/classe/6A?semaine={day}"),
            claire.as_str(),
        ),
        (
            format!("/vie-scolaire/absences?date={day}&enregistre=1"),
            claire.as_str(),
        ),
        (
            format!("/vie-scolaire/absences/direct?date={day}"),
            claire.as_str(),
        ),
        (
            format!("/vie-scolaire/absences/bilan?classe=6A&du=2026-11-01&au={day}"),
            claire.as_str(),
        ),
        ("/vie-scolaire/absences/bilan".into(), claire.as_str()),
        ("/vie-scolaire/justificatifs".into(), claire.as_str()),
        (
            format!("/vie-scolaire/eleves/lea.martin/absences?date={day}"),
            claire.as_str(),
        ),
        (
            format!("/vie-scolaire/eleves/lea.martin/absences?date={day}"),
            anne.as_str(),
        ),
        ("/vie-scolaire/assiduite".into(), anne.as_str()),
        ("/vie-scolaire/mes-notes".into(), anne.as_str()),
        ("/vie-scolaire/emploi-du-temps/saisie".into(), claire.as_str()),
        (
            format!("/vie-scolaire/emploi-du-temps/changement/{change}"),
            claire.as_str(),
        ),
        ("/vie-scolaire/emploi-du-temps/semaines".into(), claire.as_str()),
    ];
    let data = [
        "Collège des Tilleuls",
        "Préau",
        "Léa",
        "Martin",
        "Paul Blanc",
        "Claire Dumas",
        "Tom Roux",
        "Malade",
        "Rendez-vous",
    ];
    let mut bad = Vec::new();
    for (path, who) in &pages {
        let a = get_lang(&w, path, who, Some("en")).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert!(
            a.body.contains("<html lang=\"en\">") || path.contains("direct"),
            "{path}"
        );
        let text = visible_text(&a.body, &data);
        let french = found(&text, FRENCH_WORDS);
        if !french.is_empty() {
            bad.push(format!("{path}: {french:?} in {text}"));
        }
        // French by default, and with the cookie: the check is not blind.
        for lang in [None, Some("fr")] {
            let fr = get_lang(&w, path, who, lang).await;
            assert_eq!(fr.status, 200, "{path}");
            assert!(
                !found(&visible_text(&fr.body, &data), FRENCH_WORDS).is_empty(),
                "{path} in French: {}",
                visible_text(&fr.body, &data)
            );
        }
    }
    // Forms refused beside their fields, in English and in French.
    let posts = [
        (
            format!("/vie-scolaire/appel/{key}"),
            format!("csrf={csrf}&p{lea}=malade"),
        ),
        (
            format!("/vie-scolaire/appel/{key}"),
            format!("csrf={csrf}&p{lea}=late&m{lea}=0"),
        ),
        (
            "/vie-scolaire/absences".to_string(),
            format!("csrf={csrf}&eleve=&du={day}&debut=08:00&fin=17:00&motif={reason}"),
        ),
        (
            "/vie-scolaire/absences".to_string(),
            format!("csrf={csrf}&eleve=lea.martin&du={day}&debut=18:00&fin=17:00&motif={reason}"),
        ),
        (
            "/vie-scolaire/emploi-du-temps/saisie".to_string(),
            format!("csrf={csrf}&enseignant=&matiere=&classe=&jour=&debut=8h&fin="),
        ),
        (
            format!("/vie-scolaire/emploi-du-temps/changement/{change}"),
            format!("csrf={csrf}&type=salle&salle="),
        ),
        (
            "/vie-scolaire/emploi-du-temps/semaines".to_string(),
            format!("csrf={csrf}&action=alterner&depuis=demain&premiere=A"),
        ),
    ];
    for (path, form) in &posts {
        for lang in ["en", "fr"] {
            let cookie = format!("{claire}; {}={lang}", i18n::COOKIE);
            let a = w.post(path, &cookie, form).await;
            assert_eq!(a.status, 400, "{path} {form} ({lang}): {}", a.body);
            let french = found(&visible_text(&a.body, &data), FRENCH_WORDS);
            if lang == "fr" {
                assert!(!french.is_empty(), "{path} {form} in French: {}", a.body);
            } else if !french.is_empty() {
                bad.push(format!(
                    "POST {path} {form}: {french:?} in {}",
                    visible_text(&a.body, &data)
                ));
            }
        }
    }
    assert!(bad.is_empty(), "French left:\n{}", bad.join("\n\n"));
}
