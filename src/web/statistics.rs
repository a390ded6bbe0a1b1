//! The usage statistics page (`/console/statistiques`, administration and
//! direction): bookings per resource and week, per subject, class level
//! and teacher; sign-ins and active accounts per role and week; over any
//! date range (`?du=YYYY-MM-DD&au=YYYY-MM-DD`), with server-side SVG
//! charts and CSV (`format=csv&tableau=…`) and JSON (`format=json`)
//! exports. Counts of people under [`stats::MIN_PEOPLE`] are
//! suppressed (the aggregates are in [`crate::booking::stats`]). The web
//! filtering's counts of requests per category come from the daily
//! summaries of the proxy's connection logs, and from the log files of
//! the days without one (today) ([`proxy::summary::filtering_counts`]).

use super::errors::WebError;
use super::i18n::{self, either};
use super::pages::{self, Page};
use super::{AppState, Signed};
use crate::booking::stats::{self, Dimension, GroupUsage};
use crate::booking::web::unix_of;
use crate::modules::proxy;
use crate::modules::viescolaire::calendar::{Date, DateTime, Time};
use crate::store::Store;
use askama::Template;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Longest range a page computes.
const MAX_DAYS: i32 = 3 * 366;

/// The date range asked for (pure): `du` and `au` included, defaults the
/// last twelve weeks to `today`; a message in the current language
/// otherwise.
pub fn range(q: &HashMap<String, String>, today: Date) -> Result<(Date, Date), String> {
    let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let to = match get("au") {
        Some(s) => Date::parse(s).ok_or(either(
            "La date de fin est invalide (AAAA-MM-JJ).",
            "The end date is not valid (YYYY-MM-DD).",
        ))?,
        None => today,
    };
    let from = match get("du") {
        Some(s) => Date::parse(s).ok_or(either(
            "La date de début est invalide (AAAA-MM-JJ).",
            "The start date is not valid (YYYY-MM-DD).",
        ))?,
        None => to.add_days(-83),
    };
    if to < from {
        return Err(either(
            "La date de fin doit suivre la date de début.",
            "The end date must come after the start date.",
        )
        .into());
    }
    if from.days_until(to) > MAX_DAYS {
        return Err(either(
            "La période fait au plus trois ans.",
            "The period is three years at most.",
        )
        .into());
    }
    Ok((from, to))
}

/// Everything the page shows, as the JSON export gives it.
#[derive(Debug, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub open_hours_per_week: f64,
    pub min_people: i64,
    pub resources: Vec<stats::WeekUsage>,
    pub subjects: Vec<GroupUsage>,
    pub levels: Vec<GroupUsage>,
    pub teachers: Vec<GroupUsage>,
    pub sign_ins: Vec<stats::SignIns>,
    pub shares: Vec<stats::ShareWeek>,
    /// Requests of the web filtering (UTC days of the period).
    pub filtering: proxy::log::FilteringCounts,
}

/// Computes the report over `[from, to]` (local dates, both included)
/// and the proxy's connection logs in `proxy_logs` (their daily
/// summaries, written on the way for finished days that lack one) at
/// `now` (seconds since the epoch); occupancy against `open_hours` a
/// week (`[booking] open_hours_per_week`).
pub fn report(
    store: &mut Store,
    proxy_logs: &std::path::Path,
    open_hours: f64,
    from: Date,
    to: Date,
    now: i64,
) -> Result<Report, WebError> {
    let filtering = proxy::summary::filtering_counts(
        store,
        proxy_logs,
        &from.to_string(),
        &to.to_string(),
        i64::from(MAX_DAYS),
        now,
    )
    .map_err(|e| WebError::Internal(e.context("proxy logs")))?;
    let conn = store.conn();
    let (start, end) = (
        unix_of(from, Time::hm(0, 0)),
        unix_of(to.add_days(1), Time::hm(0, 0)),
    );
    Ok(Report {
        from: from.to_string(),
        to: to.to_string(),
        open_hours_per_week: open_hours,
        min_people: stats::MIN_PEOPLE,
        resources: stats::weekly(conn, start, end, open_hours)?,
        subjects: stats::grouped(conn, start, end, Dimension::Subject)?,
        levels: stats::grouped(conn, start, end, Dimension::Level)?,
        teachers: stats::grouped(conn, start, end, Dimension::Teacher)?,
        sign_ins: stats::sign_ins(
            conn,
            &stats::iso_week(conn, start)?,
            &stats::iso_week(conn, end - 1)?,
        )?,
        shares: stats::share_usage(conn, &from.to_string(), &to.to_string())?,
        filtering,
    })
}

pub struct WeekRow {
    pub resource: String,
    pub week: String,
    pub bookings: i64,
    pub cancellations: i64,
    pub hours: f64,
    pub occupancy: String,
    pub people: String,
}

pub struct SignInRow {
    pub week: String,
    pub role: String,
    pub sign_ins: i64,
    pub people: String,
}

pub struct Group {
    pub title: &'static str,
    pub column: &'static str,
    pub rows: Vec<(String, i64, i64, f64)>,
}

#[derive(Template)]
#[template(path = "console/statistiques.html")]
pub struct StatsPage<'a> {
    pub page: &'a Page,
    pub from: String,
    pub to: String,
    pub error: Option<String>,
    pub csv_base: String,
    pub json_url: String,
    pub open_hours: f64,
    pub min_people: i64,
    pub proxy_days: u32,
    /// Days the filtering's daily totals are kept.
    pub summary_days: u32,
    pub weeks: Vec<WeekRow>,
    pub resource_chart: String,
    pub groups: Vec<Group>,
    pub signins: Vec<SignInRow>,
    pub signin_chart: String,
    /// (week, share, size) of the shares' usage samples.
    pub share_rows: Vec<(String, String, String)>,
    pub share_chart: String,
    /// (category, denied requests) of the web filtering.
    pub filtering_rows: Vec<(String, u64)>,
    pub filtering_chart: String,
    pub filtering: proxy::log::FilteringCounts,
}

/// Message `id` in the current language.
fn tr(id: &str) -> &'static str {
    i18n::t(i18n::current(), id)
}

/// A role as counted (the French key of `signin_weeks`, kept as is in
/// the CSV and JSON exports) in the current language.
fn role_label(role: &str) -> String {
    let id = match role {
        "administrateur" => "stats.role.admin",
        "élève" => "stats.role.student",
        "responsable" => "stats.role.parent",
        "enseignant" => "stats.role.teacher",
        "direction" => "stats.role.direction",
        "vie scolaire" => "stats.role.school_life",
        "personnel" => "stats.role.staff",
        _ => return role.to_string(),
    };
    tr(id).to_string()
}

/// A filtering category as the page shows it: the two made-up ones
/// (kept in French in the exports) in the current language.
fn category_label(category: &str) -> String {
    match category {
        proxy::log::NO_CATEGORY => tr("stats.no_category").to_string(),
        proxy::log::OTHER_CATEGORIES => tr("stats.other_categories").to_string(),
        _ => category.to_string(),
    }
}

/// A size as [`crate::modules::shares::usage::human`] writes it, with
/// English units ("MiB" for "Mio") on an English page.
fn size_label(bytes: u64) -> String {
    let fr = crate::modules::shares::usage::human(bytes);
    if i18n::french() {
        return fr;
    }
    match fr.strip_suffix(" o") {
        Some(n) => format!("{n} B"),
        None => fr.strip_suffix("io").map_or(fr.clone(), |n| format!("{n}iB")),
    }
}

fn suppressed(p: Option<i64>) -> String {
    p.map_or(format!("< {}", stats::MIN_PEOPLE), |n| n.to_string())
}

fn labels(
    conn: &Connection,
    dim: Dimension,
    rows: &[GroupUsage],
) -> rusqlite::Result<Vec<(String, i64, i64, f64)>> {
    let mut out = Vec::new();
    for r in rows {
        let label = match dim {
            Dimension::Subject if r.key.is_empty() => tr("stats.free_slot").to_string(),
            Dimension::Subject => conn.query_row(
                "SELECT coalesce((SELECT label FROM subjects WHERE code = ?1), ?1)",
                [&r.key],
                |x| x.get(0),
            )?,
            Dimension::Level if r.key.is_empty() => tr("stats.free_slot").to_string(),
            Dimension::Level => r.key.clone(),
            Dimension::Teacher => crate::directory::person_by_login(conn, &r.key)?
                .map_or_else(|| r.key.clone(), |p| p.full_name()),
        };
        out.push((label, r.bookings, r.cancellations, r.hours));
    }
    Ok(out)
}

fn csv(body: String, name: &str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /console/statistiques`.
pub async fn page(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let run = move || -> Result<Response, WebError> {
        let today = DateTime::now_local().date;
        let (range, error) = match range(&q, today) {
            Ok(r) => (r, None),
            Err(m) => ((today.add_days(-83), today), Some(m)),
        };
        let format = q.get("format").map(String::as_str).unwrap_or("");
        if error.is_some() && !format.is_empty() {
            return Err(WebError::BadRequest(error.unwrap_or_default()));
        }
        let mut store = web.store()?;
        let config = web.config();
        let proxy_logs = {
            use crate::host::Host;
            web.host.real_path(&proxy::log_dir(&config))
        };
        let rep = report(
            &mut store,
            &proxy_logs,
            f64::from(config.booking.open_hours_per_week),
            range.0,
            range.1,
            crate::sso::now(),
        )?;
        let conn = store.conn();
        let stem = format!("statistiques-{}-{}", rep.from, rep.to);
        match format {
            "json" => {
                let mut r = axum::Json(&rep).into_response();
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                return Ok(r);
            }
            "csv" => {
                return Ok(
                    match q.get("tableau").map(String::as_str).unwrap_or("ressources") {
                        "ressources" => csv(stats::csv(&rep.resources), &format!("{stem}-ressources.csv")),
                        "matieres" => csv(
                            stats::grouped_csv("subject", &rep.subjects),
                            &format!("{stem}-matieres.csv"),
                        ),
                        "niveaux" => csv(
                            stats::grouped_csv("level", &rep.levels),
                            &format!("{stem}-niveaux.csv"),
                        ),
                        "enseignants" => csv(
                            stats::grouped_csv("login", &rep.teachers),
                            &format!("{stem}-enseignants.csv"),
                        ),
                        "connexions" => csv(
                            stats::sign_ins_csv(&rep.sign_ins),
                            &format!("{stem}-connexions.csv"),
                        ),
                        "partages" => csv(
                            stats::share_usage_csv(&rep.shares),
                            &format!("{stem}-partages.csv"),
                        ),
                        "filtrage" => csv(
                            proxy::log::filtering_csv(&rep.filtering),
                            &format!("{stem}-filtrage.csv"),
                        ),
                        _ => {
                            return Err(WebError::BadRequest(
                                either(
                                    "Tableau inconnu : ressources, matieres, niveaux, enseignants, connexions, partages ou filtrage.",
                                    "Unknown table: ressources, matieres, niveaux, enseignants, connexions, partages or filtrage.",
                                )
                                .into(),
                            ));
                        }
                    },
                );
            }
            "" | "html" => {}
            _ => {
                return Err(WebError::BadRequest(
                    either("Format inconnu : csv ou json.", "Unknown format: csv or json.").into(),
                ));
            }
        }
        // Charts: hours per resource over the period, sign-ins per week.
        let mut per_resource: Vec<(String, f64)> = Vec::new();
        for w in &rep.resources {
            match per_resource.iter_mut().find(|(n, _)| *n == w.resource) {
                Some(e) => e.1 += w.hours,
                None => per_resource.push((w.resource.clone(), w.hours)),
            }
        }
        let mut per_week: Vec<(String, f64)> = Vec::new();
        for s in &rep.sign_ins {
            match per_week.iter_mut().find(|(n, _)| *n == s.week) {
                Some(e) => e.1 += s.sign_ins as f64,
                None => per_week.push((s.week.clone(), s.sign_ins as f64)),
            }
        }
        let mut per_share_week: Vec<(String, f64)> = Vec::new();
        for s in &rep.shares {
            let mb = s.bytes as f64 / 1_000_000.0;
            match per_share_week.iter_mut().find(|(n, _)| *n == s.week) {
                Some(e) => e.1 += mb,
                None => per_share_week.push((s.week.clone(), mb)),
            }
        }
        let groups = vec![
            Group {
                title: tr("stats.by_subject"),
                column: tr("stats.subject"),
                rows: labels(conn, Dimension::Subject, &rep.subjects)?,
            },
            Group {
                title: tr("stats.by_level"),
                column: tr("stats.level"),
                rows: labels(conn, Dimension::Level, &rep.levels)?,
            },
            Group {
                title: tr("stats.by_teacher"),
                column: tr("stats.who"),
                rows: labels(conn, Dimension::Teacher, &rep.teachers)?,
            },
        ];
        let chrome = Page::signed(
            tr("nav.statistics"),
            &config.establishment.name,
            &signed,
            "/console/statistiques",
        );
        let query = format!("du={}&au={}", rep.from, rep.to);
        let mut resp = pages::render(&StatsPage {
            page: &chrome,
            from: rep.from.clone(),
            to: rep.to.clone(),
            error: error.clone(),
            csv_base: format!("/console/statistiques?{query}&format=csv"),
            json_url: format!("/console/statistiques?{query}&format=json"),
            open_hours: rep.open_hours_per_week,
            min_people: stats::MIN_PEOPLE,
            proxy_days: config.proxy.log_retention_days,
            summary_days: proxy::summary::keep_days(config.proxy.log_retention_days),
            weeks: rep
                .resources
                .iter()
                .map(|w| WeekRow {
                    resource: w.resource.clone(),
                    week: w.week.clone(),
                    bookings: w.bookings,
                    cancellations: w.cancellations,
                    hours: w.hours,
                    occupancy: format!("{:.1} %", w.occupancy * 100.0),
                    people: suppressed(w.people),
                })
                .collect(),
            resource_chart: stats::svg_bars(tr("stats.chart_hours"), &per_resource, "h"),
            groups,
            signins: rep
                .sign_ins
                .iter()
                .map(|s| SignInRow {
                    week: s.week.clone(),
                    role: role_label(&s.role),
                    sign_ins: s.sign_ins,
                    people: suppressed(s.people),
                })
                .collect(),
            signin_chart: stats::svg_bars(tr("stats.chart_signins"), &per_week, ""),
            share_rows: rep
                .shares
                .iter()
                .map(|s| (s.week.clone(), s.share.clone(), size_label(s.bytes.max(0) as u64)))
                .collect(),
            share_chart: stats::svg_bars(tr("stats.chart_shares"), &per_share_week, tr("stats.chart_mb")),
            filtering_rows: rep
                .filtering
                .denied_by_category
                .iter()
                .map(|(c, n)| (category_label(c), *n))
                .collect(),
            filtering_chart: stats::svg_bars(
                tr("stats.chart_denied"),
                &rep.filtering
                    .denied_by_category
                    .iter()
                    .map(|(c, n)| (category_label(c), *n as f64))
                    .collect::<Vec<_>>(),
                "",
            ),
            filtering: rep.filtering.clone(),
        });
        if error.is_some() {
            *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        }
        Ok(resp)
    };
    match crate::web::i18n::spawn_blocking(run).await {
        Ok(r) => r.unwrap_or_else(IntoResponse::into_response),
        Err(e) => WebError::Internal(anyhow::anyhow!("{e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occupancy_counts_against_the_open_hours_set() {
        let (dir, store) = crate::booking::tests::store();
        // 2026-09-07 08:00 UTC, a Monday: two hours of a one-unit room.
        store
            .conn()
            .execute_batch(
                "INSERT INTO booking_resources (id, name, kind, quantity) VALUES (1, 'Salle 12', 'room', 1);
                 INSERT INTO bookings (resource_id, login, starts, ends, quantity, status, created_at)
                     VALUES (1, 'paul', 1788768000, 1788775200, 1, 'confirmed', 0);",
            )
            .unwrap();
        let logs = dir.path().join("no-proxy-logs");
        let (from, to) = (
            Date::parse("2026-09-07").unwrap(),
            Date::parse("2026-09-13").unwrap(),
        );
        let mut store = store;
        let at40 = report(&mut store, &logs, 40.0, from, to, 0).unwrap();
        let at20 = report(&mut store, &logs, 20.0, from, to, 0).unwrap();
        assert_eq!(at40.open_hours_per_week, 40.0);
        assert_eq!(at40.resources[0].occupancy, 0.05);
        assert_eq!(at20.resources[0].occupancy, 0.1);
        assert_eq!(at20.filtering, proxy::log::FilteringCounts::default());
    }

    #[test]
    fn date_ranges_are_checked_in_french() {
        let today = Date::parse("2026-12-01").unwrap();
        let q = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let (f, t) = range(&q(&[]), today).unwrap();
        assert_eq!((f.to_string(), t), ("2026-09-09".to_string(), today));
        let (f, t) = range(&q(&[("du", "2025-09-01"), ("au", "2026-07-04")]), today).unwrap();
        assert_eq!(
            (f.to_string(), t.to_string()),
            ("2025-09-01".into(), "2026-07-04".into())
        );
        assert!(
            range(&q(&[("du", "hier")]), today)
                .unwrap_err()
                .contains("début est invalide")
        );
        assert!(
            range(&q(&[("du", "2026-12-02")]), today)
                .unwrap_err()
                .contains("suivre")
        );
        assert!(
            range(&q(&[("du", "2020-01-01")]), today)
                .unwrap_err()
                .contains("trois ans")
        );
    }
}
