//! The `viescolaire` module: school life, hosted on site.
//!
//! The domain of the school year (periods, holidays, weeks A/B), the
//! timetable (weekly slots on the directory's teaching services, concrete
//! lessons derived per date with labelled exceptions), rolls and
//! absences (half-days, alerts), the homework log, messages, grades with
//! exact averages, competences and report cards, and the LSU export.
//! Pure computations live in their own files ([`timetable`],
//! [`attendance`], [`grades`]); SQL lives in [`queries`] and [`facts`]
//! (the relationships the web's authorization decides with); importers
//! in [`import`]. Nothing here sees HTTP: the pages (`web.rs`, with the
//! web platform) call these functions.
//!
//! Every row about a pupil references the person, never the class: a
//! student who changes class keeps his rolls, marks and report cards.
//!
//! Limits: one establishment, local time without time zones (the
//! appliance's calendar); iCalendar feeds and e-mail notifications belong
//! with the web pages.

pub mod attendance;
pub mod calendar;
pub mod cli;
pub mod demo;
pub mod facts;
pub mod grades;
pub mod import;
pub mod lsu;
pub mod notify;
pub mod queries;
pub mod report;
pub mod settings;
pub mod timetable;
pub mod web;

use super::{Context, Finding, Health, Module, ModuleInfo, State};
use crate::config::Config;
use crate::engine::{Change, dir};
use crate::host::Owner;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

pub struct VieScolaire;

pub static VIESCOLAIRE: VieScolaire = VieScolaire;

static INFO: LazyLock<ModuleInfo> =
    LazyLock::new(|| ModuleInfo::parse(include_str!("../../../modules/viescolaire/module.toml")));

/// Where attachments are stored (logical host path).
pub fn attachments_dir(config: &Config) -> PathBuf {
    if config.viescolaire.attachments_dir.is_empty() {
        Path::new(&config.paths.state_dir)
            .join("viescolaire")
            .join("attachments")
    } else {
        PathBuf::from(&config.viescolaire.attachments_dir)
    }
}

impl Module for VieScolaire {
    fn name(&self) -> &'static str {
        "viescolaire"
    }

    fn info(&self) -> &ModuleInfo {
        &INFO
    }

    fn check(&self, _ctx: &Context<'_>) -> Vec<Finding> {
        Vec::new()
    }

    /// The attachments directory, private to the daemon.
    fn plan(&self, ctx: &Context<'_>) -> anyhow::Result<Vec<Change>> {
        let parent = attachments_dir(ctx.config)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Ok([
            dir(ctx.host, &parent, 0o700, Owner::root())?,
            dir(ctx.host, attachments_dir(ctx.config), 0o700, Owner::root())?,
        ]
        .into_iter()
        .flatten()
        .collect())
    }

    fn status(&self, ctx: &Context<'_>) -> Health {
        let mut details = Vec::new();
        let state = match crate::store::Store::open_existing(&ctx.db) {
            Err(e) => {
                details.push(format!("no database: {e}"));
                State::Degraded
            }
            Ok(store) => {
                let conn = store.conn();
                let year: Option<(String, i64)> = conn
                    .query_row(
                        "SELECT label, (SELECT count(*) FROM vs_slots s WHERE s.year_id = y.id)
                         FROM vs_years y ORDER BY starts DESC LIMIT 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .ok();
                match year {
                    Some((label, slots)) => {
                        details.push(format!("school year {label}: {slots} timetable slots"));
                        State::Ok
                    }
                    None => {
                        details.push("no school year: `preau viescolaire year set`".into());
                        State::Degraded
                    }
                }
            }
        };
        Health {
            module: "viescolaire",
            state,
            details,
        }
    }
}
