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
    /// E-mail notifications of new messages (to the address the directory
    /// knows), through the relay below. Off by default. A message written
    /// during the quiet period is notified only once it ends.
    pub notify_email: bool,
    /// The SMTP relay's host name (its certificate must name it).
    pub smtp_host: String,
    /// The relay's port: 587 with STARTTLS, 465 with implicit TLS.
    #[schemars(range(min = 1, max = 65535))]
    pub smtp_port: u16,
    /// "starttls" (the connection is upgraded; refused if the relay does
    /// not offer it) or "tls" (implicit TLS). Never in clear.
    pub smtp_security: SmtpSecurity,
    /// Login on the relay; empty: no authentication.
    pub smtp_user: String,
    /// File holding the relay password (one line, readable by root only);
    /// the password is never written in this file nor in any log.
    pub smtp_password_file: String,
    /// Sender address of the notifications, e.g. "vie-scolaire@college.fr".
    pub smtp_from: String,
    /// PEM file of an extra certificate authority to trust for the relay
    /// (a relay with its own certificate); empty: the public authorities.
    pub smtp_ca_file: String,
}

/// How the connection to the SMTP relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
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
            notify_email: false,
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_user: String::new(),
            smtp_password_file: String::new(),
            smtp_from: String::new(),
            smtp_ca_file: String::new(),
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
        if self.notify_email {
            if self.smtp_host.trim().is_empty() {
                problems.push_hint(
                    join(path, "smtp_host"),
                    "e-mail notifications need an SMTP relay",
                    "write the relay's host name, e.g. \"smtp.example.fr\"",
                );
            }
            if !self.smtp_from.contains('@') || self.smtp_from.contains([' ', '<', '>']) {
                problems.push_hint(
                    join(path, "smtp_from"),
                    format!("\"{}\" is not an e-mail address", self.smtp_from),
                    "write the sender address, e.g. \"vie-scolaire@college.fr\"",
                );
            }
            if !self.smtp_user.is_empty() && self.smtp_password_file.is_empty() {
                problems.push_hint(
                    join(path, "smtp_password_file"),
                    "a relay login without a password file",
                    "write the password in a file readable by root only and name it here",
                );
            }
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
            notify_email: true,
            smtp_from: "nobody".into(),
            smtp_user: "u".into(),
            ..Default::default()
        };
        let mut p = Problems::default();
        s.validate("viescolaire", &mut p);
        let paths: Vec<String> = p.into_vec().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "viescolaire.smtp_host",
                "viescolaire.smtp_from",
                "viescolaire.smtp_password_file"
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
