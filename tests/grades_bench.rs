//! The grades benchmark, an ordinary test (short by default, every answer
//! checked, figures printed, never asserted): a synthetic school
//! (`gen_school.py`, `PREAU_BENCH_STUDENTS`, default 300) imported into
//! `preau serve`, three evaluations with marks for every class service,
//! then `PREAU_BENCH_SESSIONS` teachers (default 20), each with his own
//! HTTPS connection and session cookie, saving marks for
//! `PREAU_BENCH_SECONDS` (default 2): open loop, one save every
//! `PREAU_BENCH_PAUSE_MS` (default 200) per teacher, one in ten a whole
//! grid, the others one cell. Afterwards the history rows and the stored
//! values are compared with what the teachers sent (no lost write). Then
//! every average of the school for the period recomputed (median of 3),
//! and the report cards of the largest class rendered for print over
//! HTTPS (median of 5). bench/grades.sh runs it at 2,400 students and
//! 200 teachers.

mod support;

use preau::modules::viescolaire::calendar::{Date, DateTime, Time};
use preau::modules::viescolaire::grades::{EvalKind, Mark};
use preau::modules::viescolaire::queries::{self, Audience, NewEvaluation, NewPeriod};
use preau::modules::viescolaire::timetable::Service;
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{TempRoot, free_port, gen_school, show, wait_for};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Session {
    cookie: String,
    csrf: String,
    structure: String,
    subject: String,
    evaluation: i64,
    roster: Vec<i64>,
}

type Sender = hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>;

async fn connect(port: u16, tls: &tokio_rustls::TlsConnector) -> Sender {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let stream = tls.connect("localhost".try_into().unwrap(), tcp).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

async fn send(
    sender: &mut Sender,
    port: u16,
    cookie: &str,
    path: &str,
    form: Option<String>,
) -> (u16, String) {
    use http_body_util::BodyExt;
    let mut b = hyper::Request::builder()
        .uri(path)
        .header("host", format!("localhost:{port}"))
        .header("cookie", format!("__Host-preau={cookie}"));
    let body = match form {
        Some(f) => {
            b = b
                .method("POST")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", format!("https://localhost:{port}"));
            f
        }
        None => String::new(),
    };
    sender.ready().await.unwrap();
    let res = sender
        .send_request(
            b.body(http_body_util::Full::new(bytes::Bytes::from(body)))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn grades_benchmark() {
    let students = env("PREAU_BENCH_STUDENTS", 300) as usize;
    let sessions = env("PREAU_BENCH_SESSIONS", 20) as usize;
    let seconds = env("PREAU_BENCH_SECONDS", 2);
    let pause = env("PREAU_BENCH_PAUSE_MS", 200);

    // The school, its year, a term of marks.
    let root = TempRoot::new();
    let out = root.run(&["init", "--name", "Collège du banc d'essai"]);
    assert!(out.status.success(), "{}", show(&out));
    let exports = tempfile::tempdir().unwrap();
    gen_school(exports.path(), students, &[]);
    let mut args = vec![
        "accounts".to_string(),
        "import".into(),
        "--apply".into(),
        "--no-system".into(),
        "--allow-mass-disable".into(),
    ];
    for e in std::fs::read_dir(exports.path()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "xml") {
            args.push(p.to_string_lossy().into_owned());
        }
    }
    let out = root.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", show(&out));
    let db = root.path().join("var/lib/preau/preau.db");
    let today = DateTime::now_local().date;
    let mut store = preau::store::Store::open_existing(&db).unwrap();
    let (year, period) = store
        .write(|tx| {
            let starts = today.add_days(-90);
            let ends = today.add_days(200);
            let id = queries::set_year(
                tx,
                "banc",
                starts,
                ends,
                &[
                    NewPeriod {
                        label: "Trimestre 1".into(),
                        starts,
                        ends: today.add_days(30),
                    },
                    NewPeriod {
                        label: "Trimestre 2".into(),
                        starts: today.add_days(31),
                        ends,
                    },
                ],
            )?;
            let year = queries::Year {
                id,
                label: "banc".into(),
                starts,
                ends,
            };
            let period = queries::period(tx, id, 1)?;
            Ok::<_, anyhow::Error>((year, period))
        })
        .unwrap();
    // Class services: (teacher, subject, class id, class code).
    let services: Vec<(i64, String, i64, String)> = {
        let mut st = store
            .conn()
            .prepare(
                "SELECT v.teacher_id, v.subject_code, s.id, s.code FROM services v JOIN structures s ON s.id = v.structure_id
                 WHERE s.kind = 'class' ORDER BY s.code, v.subject_code, v.teacher_id",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(!services.is_empty(), "the synthetic school has no class service");
    let published = DateTime {
        date: today.add_days(-1),
        time: Time::hm(18, 0),
    };
    let started = Instant::now();
    let mut marks = 0usize;
    store
        .write(|tx| {
            for (n, (teacher, subject, class, _)) in services.iter().enumerate() {
                let roster = queries::roster(tx, *class)?;
                for k in 0..3 {
                    let id = queries::add_evaluation(
                        tx,
                        &NewEvaluation {
                            period_id: period.id,
                            service: Service {
                                teacher_id: *teacher,
                                subject_code: subject.clone(),
                                structure_id: *class,
                            },
                            title: format!("Devoir {}", k + 1),
                            date: today.add_days(-10 - k),
                            coefficient: 100 + 50 * k as u32,
                            out_of: 2000,
                            kind: EvalKind::Counts,
                            publish_students_at: published,
                            publish_parents_at: published,
                        },
                        "bench",
                    )?;
                    for (i, (s, _, _)) in roster.iter().enumerate() {
                        let v = ((i * 7 + n * 3 + k as usize * 5) % 41) as u32 * 50;
                        queries::set_mark(tx, id, *s, Some(Mark::Value(v)), "bench", "bench")?;
                        marks += 1;
                    }
                }
            }
            Ok::<_, anyhow::Error>(())
        })
        .unwrap();
    let seeded = started.elapsed();

    // One session per teacher, each on its own new evaluation of one of
    // his class services.
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut plan = Vec::new();
    let mut used = std::collections::HashSet::new();
    for (teacher, subject, class, code) in services.iter().cycle() {
        if plan.len() == sessions {
            break;
        }
        if !used.insert((*teacher, subject.clone(), *class)) && used.len() < services.len() {
            continue;
        }
        let login: String = store
            .conn()
            .query_row("SELECT login FROM people WHERE id = ?1", [teacher], |r| r.get(0))
            .unwrap();
        let cookie =
            preau::web::session::create(&mut store, &login, false, false, "127.0.0.1", now_unix).unwrap();
        let csrf: String = store
            .conn()
            .query_row(
                "SELECT csrf FROM web_sessions WHERE token_sha256 = ?1",
                [preau::web::session::token_hash(&cookie)],
                |r| r.get(0),
            )
            .unwrap();
        let roster: Vec<i64> = queries::roster(store.conn(), *class)
            .unwrap()
            .iter()
            .map(|r| r.0)
            .collect();
        let evaluation = store
            .write(|tx| {
                queries::add_evaluation(
                    tx,
                    &NewEvaluation {
                        period_id: period.id,
                        service: Service {
                            teacher_id: *teacher,
                            subject_code: subject.clone(),
                            structure_id: *class,
                        },
                        title: format!("Banc {}", plan.len()),
                        date: today,
                        coefficient: 100,
                        out_of: 2000,
                        kind: EvalKind::Counts,
                        publish_students_at: published,
                        publish_parents_at: published,
                    },
                    "bench",
                )
            })
            .unwrap();
        plan.push(Session {
            cookie,
            csrf,
            structure: code.clone(),
            subject: subject.clone(),
            evaluation,
            roster,
        });
    }
    let admin = preau::web::session::create(&mut store, "admin", true, false, "127.0.0.1", now_unix).unwrap();
    drop(store);

    // preau serve.
    let port = free_port();
    let config = root.read("/etc/preau/preau.toml").replace(
        "#listen = [\"[::]:443\"]",
        &format!("listen = [\"127.0.0.1:{port}\"]"),
    );
    root.write("/etc/preau/preau.toml", &config);
    let mut child = root
        .preau(&["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_for(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        for cert in CertificateDer::pem_file_iter(root.path().join("var/lib/preau/tls/cert.pem")).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let tls = tokio_rustls::TlsConnector::from(Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ));

    // The load: every teacher saves on his schedule (open loop).
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (n, s) in plan.into_iter().enumerate() {
        let tls = tls.clone();
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(port, &tls).await;
            let mut last: HashMap<i64, String> = HashMap::new();
            let (mut cells, mut grids, mut changes, mut errors) = (Vec::new(), Vec::new(), 0usize, 0usize);
            // Teachers start spread over one pause.
            tokio::time::sleep(Duration::from_millis(pause * n as u64 / sessions.max(1) as u64)).await;
            let mut tick = tokio::time::interval(Duration::from_millis(pause));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut k = 0usize;
            while Instant::now() < deadline {
                tick.tick().await;
                let t0 = Instant::now();
                if k % 10 == 9 {
                    let value = if last.values().all(|v| v == "12") {
                        "13"
                    } else {
                        "12"
                    };
                    let mut form = format!("csrf={}&periode=1", enc(&s.csrf));
                    for st in &s.roster {
                        form.push_str(&format!("&n-{}-{st}={value}", s.evaluation));
                    }
                    let (status, _) = send(
                        &mut sender,
                        port,
                        &s.cookie,
                        &format!("/vie-scolaire/notes/{}/{}", s.structure, s.subject),
                        Some(form),
                    )
                    .await;
                    grids.push(t0.elapsed().as_secs_f64() * 1000.0);
                    if status == 303 {
                        for st in &s.roster {
                            if last.get(st).map(String::as_str) != Some(value) {
                                changes += 1;
                            }
                            last.insert(*st, value.to_string());
                        }
                    } else {
                        errors += 1;
                    }
                } else {
                    let st = s.roster[k % s.roster.len()];
                    let value = if last.get(&st).map(String::as_str) == Some("10") {
                        "11"
                    } else {
                        "10"
                    };
                    let form = format!("csrf={}&eleve={st}&valeur={value}", enc(&s.csrf));
                    let (status, body) = send(
                        &mut sender,
                        port,
                        &s.cookie,
                        &format!("/vie-scolaire/notes/evaluations/{}/cellule", s.evaluation),
                        Some(form),
                    )
                    .await;
                    cells.push(t0.elapsed().as_secs_f64() * 1000.0);
                    if status == 200 && body.contains("\"ok\":true") {
                        changes += 1;
                        last.insert(st, value.to_string());
                    } else {
                        errors += 1;
                    }
                }
                k += 1;
            }
            (s.evaluation, last, cells, grids, changes, errors)
        }));
    }
    let load_started = Instant::now();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let elapsed = load_started.elapsed().as_secs_f64();

    // No lost write: history rows and stored values.
    let store = preau::store::Store::open_existing(&db).unwrap();
    let (mut cells, mut grids, mut changes, mut errors, mut lost) = (Vec::new(), Vec::new(), 0, 0, 0);
    for (evaluation, last, c, g, ch, e) in &results {
        cells.extend(c);
        grids.extend(g);
        changes += ch;
        errors += e;
        let rows: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM vs_marks_history WHERE evaluation_id = ?1",
                [evaluation],
                |r| r.get(0),
            )
            .unwrap();
        let rows = rows as usize;
        if rows != *ch {
            lost += ch.abs_diff(rows);
        }
        for (st, v) in last {
            let got: Option<i64> = store
                .conn()
                .query_row(
                    "SELECT value FROM vs_marks WHERE evaluation_id = ?1 AND student_id = ?2",
                    [evaluation, st],
                    |r| r.get(0),
                )
                .ok();
            if got != Some(v.parse::<i64>().unwrap() * 100) {
                lost += 1;
            }
        }
    }
    let saves = cells.len() + grids.len();
    let mut all: Vec<f64> = cells.iter().chain(grids.iter()).copied().collect();

    // Every average of the school for the period.
    let settings = preau::modules::viescolaire::settings::VieScolaireSettings::default();
    let classes: Vec<(i64, String)> = {
        let mut st = store
            .conn()
            .prepare("SELECT id, code FROM structures WHERE kind = 'class' ORDER BY code")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let mut recompute = Vec::new();
    let mut averages = 0usize;
    for _ in 0..3 {
        let t0 = Instant::now();
        averages = 0;
        for (id, _) in &classes {
            let list = queries::class_averages(
                store.conn(),
                period.id,
                *id,
                Audience::All,
                settings.grades_publication_hour(),
            )
            .unwrap();
            let mut by_subject: HashMap<String, Vec<Option<preau::modules::viescolaire::grades::Q>>> =
                HashMap::new();
            for s in &list {
                for l in &s.subjects {
                    by_subject
                        .entry(l.subject_code.clone())
                        .or_default()
                        .push(l.average.clone());
                    averages += 1;
                }
                averages += 1;
            }
            for v in by_subject.values() {
                let _ = preau::modules::viescolaire::grades::class_stats(v);
            }
        }
        recompute.push(t0.elapsed().as_secs_f64() * 1000.0);
    }

    // The report cards of the largest class, rendered for print.
    let (class_code, size) = classes
        .iter()
        .map(|(id, code)| (code.clone(), queries::roster(store.conn(), *id).unwrap().len()))
        .max_by_key(|c| c.1)
        .unwrap();
    let mut sender = connect(port, &tls).await;
    let mut cards = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let (status, body) = send(
            &mut sender,
            port,
            &admin,
            &format!("/vie-scolaire/bulletins/{class_code}"),
            None,
        )
        .await;
        cards.push(t0.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body.matches("<article class=\"bulletin\">").count(), size);
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = (year, Date::parse("2026-01-01"));

    let figures = serde_json::json!({
        "students": students,
        "sessions": sessions,
        "seconds": seconds,
        "pause_ms": pause,
        "seeded_marks": marks,
        "seed_s": (seeded.as_secs_f64() * 10.0).round() / 10.0,
        "saves": saves,
        "saves_per_s": (saves as f64 / elapsed).round(),
        "cells": cells.len(),
        "grids": grids.len(),
        "cell_p50_ms": pct(&mut cells, 0.5),
        "cell_p99_ms": pct(&mut cells, 0.99),
        "grid_p50_ms": pct(&mut grids, 0.5),
        "grid_p99_ms": pct(&mut grids, 0.99),
        "all_p99_ms": pct(&mut all, 0.99),
        "all_max_ms": pct(&mut all, 1.0),
        "errors": errors,
        "changes": changes,
        "lost_writes": lost,
        "averages": averages,
        "recompute_median_ms": pct(&mut recompute, 0.5),
        "cards_class": class_code,
        "cards_students": size,
        "cards_median_ms": pct(&mut cards, 0.5),
    });
    println!("{figures}");
    assert_eq!(errors, 0, "{figures}");
    assert_eq!(lost, 0, "{figures}");
}
