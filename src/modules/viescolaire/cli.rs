//! `preau viescolaire …`: the school year, holidays and timetable
//! imports, timetable views, absence reports, averages, closing a
//! period's report cards and the LSU export. Each reporting command
//! honours `--json`.

use super::calendar::{Date, DateTime};
use super::import::{self, Format};
use super::queries::{self, NewPeriod};
use super::timetable::{self, Lesson};
use super::{lsu, report};
use crate::config::Config;
use crate::engine::{Env, exit};
use crate::store::Store;
use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;

/// The school-life module's top-level commands (flattened into `preau`'s).
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// School life: year, timetable, absences, averages, report cards, LSU.
    Viescolaire {
        #[command(subcommand)]
        command: VsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum VsCommand {
    /// The school year and its periods.
    Year {
        #[command(subcommand)]
        command: YearCommand,
    },
    /// School holidays.
    Holidays {
        #[command(subcommand)]
        command: HolidaysCommand,
    },
    /// The weekly timetable.
    Timetable {
        #[command(subcommand)]
        command: TimetableCommand,
    },
    /// Absences and lateness.
    Absences {
        #[command(subcommand)]
        command: AbsencesCommand,
    },
    /// Every student's averages of a class for a period (exact, rounded
    /// once as configured).
    Averages(ClassPeriod),
    /// Close a period for a class: freeze its report cards.
    Close(ClassPeriod),
    /// Write the LSU import file of a class for a period (from its closed
    /// report cards); exits 1 listing what is missing.
    LsuExport {
        #[command(flatten)]
        which: ClassPeriod,
        /// Where to write the XML file.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ClassPeriod {
    /// Class code, e.g. 6A.
    #[arg(long = "class", value_name = "CODE")]
    pub class: String,
    /// Period number (1 for the first term).
    #[arg(long, value_name = "N")]
    pub period: i64,
}

#[derive(Debug, Subcommand)]
pub enum YearCommand {
    /// Define (or redefine) the school year and its periods.
    Set {
        /// e.g. "2026-2027".
        #[arg(long)]
        label: String,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// A period as "LABEL:FROM:TO", in order (repeatable).
        #[arg(long = "period", value_name = "LABEL:FROM:TO")]
        periods: Vec<String>,
        /// The Monday of the first week A: weeks then alternate A, B
        /// (weeks that are all holidays do not count).
        #[arg(long, value_name = "MONDAY")]
        week_a: Option<String>,
    },
    /// The current year, its periods, holidays and weeks A/B.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum HolidaysCommand {
    /// Replace the year's holidays with those of an iCalendar file.
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum TimetableCommand {
    /// Replace the timetable from a CSV file or EDT's EXP_COURS.xml
    /// (by extension); a bad file changes nothing.
    Import {
        file: PathBuf,
        /// The new timetable applies from this date (default: the start of
        /// the year, or today once it has started).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
    },
    /// The lessons of a teacher, class or room on a day or a week.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
#[group(skip)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["teacher", "class", "room"])))]
pub struct ShowArgs {
    #[arg(long, value_name = "LOGIN")]
    pub teacher: Option<String>,
    #[arg(long = "class", value_name = "CODE")]
    pub class: Option<String>,
    #[arg(long, value_name = "R")]
    pub room: Option<String>,
    /// One day (default: today).
    #[arg(long, value_name = "DATE", conflicts_with = "week")]
    pub date: Option<String>,
    /// The week (Monday to Sunday) of this date.
    #[arg(long, value_name = "DATE")]
    pub week: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AbsencesCommand {
    /// Half-days of absence (justified, unjustified), lateness and alerts
    /// of a class's students over dates.
    Report {
        #[arg(long = "class", value_name = "CODE")]
        class: String,
        #[arg(long, value_name = "DATE")]
        from: String,
        #[arg(long, value_name = "DATE")]
        to: String,
        /// CSV on standard output.
        #[arg(long)]
        csv: bool,
    },
}

fn date(s: &str, what: &str) -> anyhow::Result<Date> {
    Date::parse(s).with_context(|| format!("{what} \"{s}\" is not a date: write YYYY-MM-DD"))
}

fn open(env: &Env, config: &Config) -> anyhow::Result<Store> {
    Ok(Store::open_existing(&env.db_path(config))?)
}

fn out(env: &Env, value: serde_json::Value, text: String) -> anyhow::Result<u8> {
    if env.json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{text}");
    }
    Ok(exit::OK)
}

/// Runs one of the module's commands.
pub fn run(env: &Env, command: Commands) -> anyhow::Result<u8> {
    let Commands::Viescolaire { command } = command;
    let config = env.config()?;
    let now = DateTime::now_local();
    let mut store = open(env, &config)?;
    match command {
        VsCommand::Year { command } => year(env, &mut store, command, now),
        VsCommand::Holidays {
            command: HolidaysCommand::Import { file },
        } => {
            let y = queries::year_or_err(store.conn(), now.date)?;
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file.display().to_string();
            match import::holidays(&mut store, &y, &name, &bytes) {
                Ok((kept, outside)) => out(
                    env,
                    json!({"holidays": kept, "outside_year": outside}),
                    format!(
                        "{kept} holidays imported for {} ({outside} outside the year left out)\n",
                        y.label
                    ),
                ),
                Err(p) => bail!(import::report(&p)),
            }
        }
        VsCommand::Timetable {
            command: TimetableCommand::Import { file, from },
        } => {
            let y = queries::year_or_err(store.conn(), now.date)?;
            let from = match from {
                Some(f) => date(&f, "--from")?,
                None => now.date.max(y.starts),
            };
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file.display().to_string();
            match import::timetable(&mut store, &y, &name, &bytes, Format::of(&name), from) {
                Ok(i) => out(
                    env,
                    serde_json::to_value(&i)?,
                    format!(
                        "{} timetable slots imported from {from} ({} earlier slots end the day before, {} unused ones replaced)\n",
                        i.slots, i.ended, i.replaced
                    ),
                ),
                Err(p) => bail!(import::report(&p)),
            }
        }
        VsCommand::Timetable {
            command: TimetableCommand::Show(a),
        } => show(env, &store, &a, now.date),
        VsCommand::Absences {
            command: AbsencesCommand::Report { class, from, to, csv },
        } => {
            let y = queries::year_or_err(store.conn(), now.date)?;
            let (from, to) = (date(&from, "--from")?, date(&to, "--to")?);
            if from > to {
                bail!("--from {from} is after --to {to}");
            }
            let c = class_id(&store, &class)?;
            let rows = queries::absences_report(store.conn(), &y, c, from, to, &config.viescolaire)?;
            if csv {
                println!("login;name;half_days;justified;unjustified;late;missed_lessons;alert");
                for r in &rows {
                    println!(
                        "{};{};{};{};{};{};{};{}",
                        r.login,
                        r.name.replace(';', ","),
                        r.half_days,
                        r.justified,
                        r.unjustified,
                        r.late,
                        r.missed_lessons,
                        if r.alert.is_some() { "yes" } else { "" }
                    );
                }
                return Ok(exit::OK);
            }
            let mut text = format!("{class}, {from} – {to}: half-days (justified/unjustified), late\n");
            for r in &rows {
                text.push_str(&format!(
                    "  {:<32} {:>3} ({}/{})  late {}{}\n",
                    r.name,
                    r.half_days,
                    r.justified,
                    r.unjustified,
                    r.late,
                    if r.alert.is_some() { "  ALERT" } else { "" }
                ));
            }
            out(env, serde_json::to_value(&rows)?, text)
        }
        VsCommand::Averages(w) => averages(env, &store, &config, &w, now.date),
        VsCommand::Close(w) => {
            let y = queries::year_or_err(store.conn(), now.date)?;
            let p = queries::period(store.conn(), y.id, w.period)?;
            let n = report::close(
                &mut store,
                &config.viescolaire,
                &y,
                &p,
                &w.class,
                "admin",
                &now.stamp(),
            )?;
            out(
                env,
                json!({"closed": n}),
                format!("{} period {}: {n} report cards frozen\n", w.class, p.number),
            )
        }
        VsCommand::LsuExport { which, out: file } => {
            let y = queries::year_or_err(store.conn(), now.date)?;
            let p = queries::period(store.conn(), y.id, which.period)?;
            let Some(cards) = report::frozen(store.conn(), &p, &which.class)? else {
                eprintln!(
                    "error: the report cards of {} for period {} are not closed: `preau viescolaire close --class {} --period {}`",
                    which.class, p.number, which.class, p.number
                );
                return Ok(exit::FAILURE);
            };
            let ctx = lsu::Context {
                uai: &config.establishment.uai,
                principal: lsu::principal(store.conn())?,
                millesime: y.starts.parts().0.to_string(),
                periods: queries::periods(store.conn(), y.id)?.len(),
                year_starts: y.starts.to_string(),
            };
            match lsu::export(&ctx, &cards) {
                Ok(xml) => {
                    // The operator's own output file (like `accounts sheets --out`).
                    std::fs::write(&file, &xml)
                        .with_context(|| format!("cannot write {}", file.display()))?;
                    out(
                        env,
                        json!({"file": file, "students": cards.len()}),
                        format!(
                            "{}: LSU file for {} students of {}\n",
                            file.display(),
                            cards.len(),
                            which.class
                        ),
                    )
                }
                Err(missing) => {
                    // The web page's wording (lsu::missing_list), in French.
                    let (heading, missing) = lsu::missing_list(&missing);
                    if env.json {
                        println!("{}", serde_json::to_string_pretty(&json!({"missing": missing}))?);
                    } else {
                        eprintln!("error: {heading}");
                        for m in &missing {
                            eprintln!("  - {m}");
                        }
                    }
                    Ok(exit::FAILURE)
                }
            }
        }
    }
}

fn class_id(store: &Store, code: &str) -> anyhow::Result<i64> {
    crate::directory::structure(store.conn(), code)?
        .map(|s| s.id)
        .with_context(|| format!("no class or group {code} in the directory"))
}

fn year(env: &Env, store: &mut Store, command: YearCommand, now: DateTime) -> anyhow::Result<u8> {
    match command {
        YearCommand::Set {
            label,
            from,
            to,
            periods,
            week_a,
        } => {
            let (starts, ends) = (date(&from, "--from")?, date(&to, "--to")?);
            let mut ps = Vec::new();
            for p in &periods {
                let parts: Vec<&str> = p.rsplitn(3, ':').collect();
                let [to, from, label] = parts[..] else {
                    bail!(
                        "--period \"{p}\": write LABEL:FROM:TO, e.g. \"Trimestre 1:2026-09-01:2026-11-30\""
                    );
                };
                ps.push(NewPeriod {
                    label: label.to_string(),
                    starts: date(from, "a period's start")?,
                    ends: date(to, "a period's end")?,
                });
            }
            let week_a = week_a.map(|w| date(&w, "--week-a")).transpose()?;
            store.write(|tx| {
                let id = queries::set_year(tx, &label, starts, ends, &ps)?;
                if let Some(a) = week_a {
                    let y = queries::Year {
                        id,
                        label: label.clone(),
                        starts,
                        ends,
                    };
                    queries::edit_weeks(
                        tx,
                        &y,
                        &timetable::WeekEdit::AlternateFrom {
                            monday: a.monday(),
                            first: timetable::Weeks::A,
                        },
                    )?;
                }
                Ok::<_, anyhow::Error>(())
            })?;
            out(
                env,
                json!({"year": label, "periods": ps.len()}),
                format!("school year {label}: {starts} – {ends}, {} periods\n", ps.len()),
            )
        }
        YearCommand::Show => {
            let y = queries::year_or_err(store.conn(), now.date)?;
            let periods = queries::periods(store.conn(), y.id)?;
            let holidays = queries::holidays(store.conn(), y.id)?;
            let cal = queries::calendar(store.conn(), &y)?;
            let mut weeks: Vec<(Date, timetable::Weeks)> = cal.weeks.into_iter().collect();
            weeks.sort_by_key(|w| w.0);
            let mut text = format!("school year {}: {} – {}\n", y.label, y.starts, y.ends);
            for p in &periods {
                text.push_str(&format!(
                    "  period {} {}: {} – {}\n",
                    p.number, p.label, p.starts, p.ends
                ));
            }
            for (l, a, b) in &holidays {
                text.push_str(&format!("  holidays {l}: {a} – {b}\n"));
            }
            text.push_str(&format!(
                "  weeks A/B defined: {}\n",
                if weeks.is_empty() {
                    "none".into()
                } else {
                    format!("{} weeks from {}", weeks.len(), weeks[0].0)
                }
            ));
            out(
                env,
                json!({
                    "year": y,
                    "periods": periods,
                    "holidays": holidays.iter().map(|(l, a, b)| json!({"label": l, "from": a, "to": b})).collect::<Vec<_>>(),
                    "weeks": weeks.iter().map(|(m, w)| json!({"monday": m, "week": w.as_str()})).collect::<Vec<_>>(),
                }),
                text,
            )
        }
    }
}

fn show(env: &Env, store: &Store, a: &ShowArgs, today: Date) -> anyhow::Result<u8> {
    let conn = store.conn();
    let y = queries::year_or_err(conn, today)?;
    let (from, to) = match (&a.date, &a.week) {
        (_, Some(w)) => {
            let m = date(w, "--week")?.monday();
            (m, m.add_days(6))
        }
        (Some(d), None) => {
            let d = date(d, "--date")?;
            (d, d)
        }
        (None, None) => (today, today),
    };
    let all = queries::lessons(conn, &y, from, to)?;
    let keep: Box<dyn Fn(&Lesson) -> bool> = if let Some(login) = &a.teacher {
        let p =
            crate::directory::person_by_login(conn, login)?.with_context(|| format!("no person {login}"))?;
        // His lessons, and those he replaces; a replaced lesson stays
        // shown to its own teacher, labelled.
        Box::new(move |l: &Lesson| {
            l.service.teacher_id == p.id
                || l.changes.iter().any(
                    |c| matches!(c, timetable::Change::Replacement { instead_of, .. } if *instead_of == p.id),
                )
        })
    } else if let Some(code) = &a.class {
        let s =
            crate::directory::structure(conn, code)?.with_context(|| format!("no class or group {code}"))?;
        // A class sees its own lessons and its groups'.
        let mut ids = vec![s.id];
        let mut stmt = conn.prepare("SELECT group_id FROM group_classes WHERE class_id = ?1")?;
        ids.extend(
            stmt.query_map([s.id], |r| r.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        );
        Box::new(move |l: &Lesson| ids.contains(&l.service.structure_id))
    } else {
        let room = a.room.clone().unwrap_or_default();
        Box::new(move |l: &Lesson| l.room == room)
    };
    let lessons: Vec<&Lesson> = all.iter().filter(|l| keep(l)).collect();
    let names = |id: i64| -> String {
        conn.query_row("SELECT login FROM people WHERE id = ?1", [id], |r| r.get(0))
            .unwrap_or_else(|_| id.to_string())
    };
    let code = |id: i64| -> String {
        conn.query_row("SELECT code FROM structures WHERE id = ?1", [id], |r| r.get(0))
            .unwrap_or_else(|_| id.to_string())
    };
    let rows: Vec<serde_json::Value> = lessons
        .iter()
        .map(|l| {
            json!({
                "date": l.date, "starts": l.starts, "ends": l.ends,
                "teacher": names(l.service.teacher_id), "subject": l.service.subject_code,
                "structure": code(l.service.structure_id), "room": l.room,
                "takes_place": l.takes_place, "changes": l.changes,
            })
        })
        .collect();
    let mut text = String::new();
    let mut day = None;
    for (l, r) in lessons.iter().zip(&rows) {
        if day != Some(l.date) {
            text.push_str(&format!(
                "{} {}\n",
                super::calendar::DAY_NAMES[usize::from(l.date.weekday() - 1)],
                l.date
            ));
            day = Some(l.date);
        }
        let labels: Vec<String> = l
            .changes
            .iter()
            .map(|c| match c {
                timetable::Change::Cancelled { .. } => "cancelled".to_string(),
                timetable::Change::RoomChanged { from, .. } => format!("room changed (was {from})"),
                timetable::Change::MovedFrom { date, starts, .. } => format!("moved from {date} {starts}"),
                timetable::Change::MovedTo { date, starts, .. } => format!("moved to {date} {starts}"),
                timetable::Change::Replacement { instead_of, .. } => {
                    format!("replacing {}", names(*instead_of))
                }
                timetable::Change::Exceptional { .. } => "exceptional lesson".to_string(),
            })
            .collect();
        text.push_str(&format!(
            "  {}–{}  {:<8} {:<8} {:<20} {}{}\n",
            l.starts,
            l.ends,
            r["subject"].as_str().unwrap_or(""),
            r["structure"].as_str().unwrap_or(""),
            r["teacher"].as_str().unwrap_or(""),
            l.room,
            if labels.is_empty() {
                String::new()
            } else {
                format!("  [{}]", labels.join(", "))
            }
        ));
    }
    if lessons.is_empty() {
        text.push_str(&format!("no lesson from {from} to {to}\n"));
    }
    out(env, json!(rows), text)
}

fn averages(env: &Env, store: &Store, config: &Config, w: &ClassPeriod, today: Date) -> anyhow::Result<u8> {
    let conn = store.conn();
    let y = queries::year_or_err(conn, today)?;
    let p = queries::period(conn, y.id, w.period)?;
    let s = &config.viescolaire;
    let cards = report::build(conn, s, &y, &p, &w.class)?;
    let mut text = format!("{} — {} ({} – {})\n", w.class, p.label, p.starts, p.ends);
    for c in &cards {
        text.push_str(&format!(
            "  {:<32} overall {}\n",
            format!("{} {}", c.last_name, c.first_name),
            c.overall.as_deref().unwrap_or("-")
        ));
        for sub in &c.subjects {
            text.push_str(&format!(
                "      {:<28} {:>6}  (class {} min {} max {})  coef {}  marks {}\n",
                sub.label,
                sub.average.as_deref().unwrap_or("-"),
                sub.class_average.as_deref().unwrap_or("-"),
                sub.class_min.as_deref().unwrap_or("-"),
                sub.class_max.as_deref().unwrap_or("-"),
                sub.coefficient,
                sub.marks.join(" ")
            ));
        }
    }
    if let Some(c) = cards.first() {
        text.push_str(&format!(
            "  class overall average: {}\n",
            c.class_overall.as_deref().unwrap_or("-")
        ));
    }
    out(env, serde_json::to_value(&cards)?, text)
}
