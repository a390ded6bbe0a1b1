//! The `[viescolaire]` section of `preau.toml`: the school-wide rules of
//! school life (half-days, alerts, the right to disconnect, attachments,
//! how averages are rounded when shown).

use super::calendar::Time;
use crate::config::problems::{Problems, index, join};
use crate::config::settings::Validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// School life (module `viescolaire`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct VieScolaireSettings {
    /// Boundary between the morning and the afternoon half-days
    /// (demi-journées), "HH:MM": a lesson starting before it belongs to
    /// the morning, one starting at or after it to the afternoon.
    pub noon: String,
    /// Unjustified half-days of absence, within `alert_window_days`, from
    /// which the school-life office is alerted about a student (the
    /// legal signalement threshold is 4 in a month).
    #[schemars(range(min = 1, max = 100))]
    pub alert_half_days: u32,
    /// Length in days of the sliding window the alert counts over.
    #[schemars(range(min = 1, max = 366))]
    pub alert_window_days: u32,
    /// Start of the daily quiet period, "HH:MM": messages written from
    /// then wait, and no notification is sent, until `quiet_end` (the
    /// right to disconnect). Equal to `quiet_end`: no daily quiet period.
    pub quiet_start: String,
    /// End of the daily quiet period, "HH:MM" (may be earlier than
    /// `quiet_start`: the period then crosses midnight).
    pub quiet_end: String,
    /// Saturdays and Sundays are quiet all day.
    pub quiet_weekends: bool,
    /// Hour, "HH:MM", before which grades published today are not shown
    /// to students and parents (grades never arrive at 23:00).
    pub grades_publication_hour: String,
    /// Largest attachment accepted (homework, justification, message), in
    /// bytes.
    #[schemars(range(min = 1024, max = 104857600))]
    pub attachment_max_bytes: u64,
    /// Media types an attachment may have (judged from its content and
    /// name), e.g. "application/pdf", "image/jpeg".
    pub attachment_types: Vec<String>,
    /// Directory holding attachments; empty: `<state_dir>/viescolaire/attachments`.
    pub attachments_dir: String,
    /// How shown averages are rounded (computed exactly, rounded once when
    /// shown): "hundredth", "tenth", "half" (half point) or "whole".
    pub rounding_step: RoundingStep,
    /// Rounding direction: "nearest" (a half rounds up) or "up".
    pub rounding_mode: RoundingMode,
}

/// The step an average is rounded to when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoundingStep {
    Hundredth,
    Tenth,
    Half,
    Whole,
}

/// How a value between two steps is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoundingMode {
    Nearest,
    Up,
}

impl Default for VieScolaireSettings {
    fn default() -> Self {
        Self {
            noon: "12:00".into(),
            alert_half_days: 4,
            alert_window_days: 30,
            quiet_start: "20:00".into(),
            quiet_end: "07:00".into(),
            quiet_weekends: true,
            grades_publication_hour: "17:00".into(),
            attachment_max_bytes: 5 * 1024 * 1024,
            attachment_types: vec![
                "application/pdf".into(),
                "image/jpeg".into(),
                "image/png".into(),
                "text/plain".into(),
                "application/vnd.oasis.opendocument.text".into(),
            ],
            attachments_dir: String::new(),
            rounding_step: RoundingStep::Hundredth,
            rounding_mode: RoundingMode::Nearest,
        }
    }
}

impl VieScolaireSettings {
    /// The noon boundary (12:00 when the setting is broken; `check`
    /// refuses such a file).
    pub fn noon(&self) -> Time {
        Time::parse(&self.noon).unwrap_or(Time::from_minutes(12 * 60))
    }

    /// The daily quiet period, `(start, end)`.
    pub fn quiet(&self) -> (Time, Time) {
        (
            Time::parse(&self.quiet_start).unwrap_or(Time::from_minutes(20 * 60)),
            Time::parse(&self.quiet_end).unwrap_or(Time::from_minutes(7 * 60)),
        )
    }

    pub fn grades_publication_hour(&self) -> Time {
        Time::parse(&self.grades_publication_hour).unwrap_or(Time::from_minutes(17 * 60))
    }
}

impl Validate for VieScolaireSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        for (key, v) in [
            ("noon", &self.noon),
            ("quiet_start", &self.quiet_start),
            ("quiet_end", &self.quiet_end),
            ("grades_publication_hour", &self.grades_publication_hour),
        ] {
            if Time::parse(v).is_none() {
                problems.push_hint(
                    join(path, key),
                    format!("\"{v}\" is not a time"),
                    "write HH:MM, e.g. \"12:00\"",
                );
            }
        }
        if let Some(n) = Time::parse(&self.noon)
            && !(10 * 60..=15 * 60).contains(&n.minutes())
        {
            problems.push(
                join(path, "noon"),
                format!(
                    "the half-day boundary {} is not between 10:00 and 15:00",
                    self.noon
                ),
            );
        }
        if self.attachment_types.is_empty() {
            problems.push_hint(
                join(path, "attachment_types"),
                "no attachment type is allowed",
                "list media types, e.g. [\"application/pdf\", \"image/jpeg\"]",
            );
        }
        for (i, t) in self.attachment_types.iter().enumerate() {
            let ok = t
                .split_once('/')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !t.contains([' ', '*']));
            if !ok {
                problems.push_hint(
                    index(&join(path, "attachment_types"), i),
                    format!("\"{t}\" is not a media type"),
                    "write type/subtype, e.g. \"image/png\"",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_reported() {
        let mut p = Problems::default();
        VieScolaireSettings::default().validate("viescolaire", &mut p);
        assert!(p.is_empty(), "{:?}", p.into_vec());
        let s = VieScolaireSettings {
            noon: "9:7".into(),
            quiet_end: "25:00".into(),
            attachment_types: vec!["pdf".into()],
            ..Default::default()
        };
        let mut p = Problems::default();
        s.validate("viescolaire", &mut p);
        let paths: Vec<String> = p.into_vec().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "viescolaire.noon",
                "viescolaire.quiet_end",
                "viescolaire.attachment_types[0]"
            ]
        );
        let s = VieScolaireSettings {
            noon: "09:00".into(),
            ..Default::default()
        };
        let mut p = Problems::default();
        s.validate("viescolaire", &mut p);
        assert_eq!(p.len(), 1);
    }
}
