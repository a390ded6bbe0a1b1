//! The `[viescolaire]` section of `preau.toml`: the school-wide rules of
//! school life (half-days, alerts, the right to disconnect, attachments,
//! how averages are rounded when shown).

use super::calendar::Time;
use crate::config::problems::{Problems, index, join};
use crate::config::settings::Validate;
use crate::msg;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// School life (module `viescolaire`).
///
/// fr: La vie scolaire (module `viescolaire`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct VieScolaireSettings {
    /// Boundary between the morning and the afternoon half-days
    /// (demi-journées), "HH:MM": a lesson starting before it belongs to
    /// the morning, one starting at or after it to the afternoon.
    ///
    /// fr: Limite entre les demi-journées du matin et de l'après-midi, « HH:MM
    /// » : un cours qui commence avant appartient au matin, un cours qui
    /// commence à cette heure ou après à l'après-midi.
    pub noon: String,
    /// Unjustified half-days of absence, within `alert_window_days`, from
    /// which the school-life office is alerted about a student (the
    /// legal signalement threshold is 4 in a month).
    ///
    /// fr: Demi-journées d'absence non justifiées, sur `alert_window_days`, à
    /// partir desquelles la vie scolaire est alertée pour un élève (le seuil
    /// légal de signalement est de 4 par mois).
    #[schemars(range(min = 1, max = 100))]
    pub alert_half_days: u32,
    /// Length in days of the sliding window the alert counts over.
    ///
    /// fr: Longueur en jours de la période glissante sur laquelle l'alerte
    /// compte.
    #[schemars(range(min = 1, max = 366))]
    pub alert_window_days: u32,
    /// Start of the daily quiet period, "HH:MM": messages written from
    /// then wait, and no notification is sent, until `quiet_end` (the
    /// right to disconnect). Equal to `quiet_end`: no daily quiet period.
    ///
    /// fr: Début de la période de calme quotidienne, « HH:MM » : les messages
    /// écrits à partir de là attendent, et aucune notification n'est envoyée,
    /// jusqu'à `quiet_end` (droit à la déconnexion). Égal à `quiet_end` : pas
    /// de période de calme quotidienne.
    pub quiet_start: String,
    /// End of the daily quiet period, "HH:MM" (may be earlier than
    /// `quiet_start`: the period then crosses midnight).
    ///
    /// fr: Fin de la période de calme quotidienne, « HH:MM » (peut précéder
    /// `quiet_start` : la période passe alors minuit).
    pub quiet_end: String,
    /// Saturdays and Sundays are quiet all day.
    ///
    /// fr: Le samedi et le dimanche sont calmes toute la journée.
    pub quiet_weekends: bool,
    /// Hour, "HH:MM", before which grades published today are not shown
    /// to students and parents (grades never arrive at 23:00).
    ///
    /// fr: Heure, « HH:MM », avant laquelle les notes publiées le jour même ne
    /// sont pas montrées aux élèves et aux responsables (jamais de notes qui
    /// arrivent à 23 h).
    pub grades_publication_hour: String,
    /// Largest attachment accepted (homework, justification, message), in
    /// bytes.
    ///
    /// fr: Plus grande pièce jointe acceptée (devoir, justificatif, message),
    /// en octets.
    #[schemars(range(min = 1024, max = 104857600))]
    pub attachment_max_bytes: u64,
    /// Media types an attachment may have (judged from its content and
    /// name), e.g. "application/pdf", "image/jpeg".
    ///
    /// fr: Types de média permis pour une pièce jointe (jugés d'après son
    /// contenu et son nom), par exemple « application/pdf », « image/jpeg ».
    pub attachment_types: Vec<String>,
    /// Directory holding attachments; empty: `<state_dir>/viescolaire/attachments`.
    ///
    /// fr: Répertoire des pièces jointes ; vide :
    /// `<state_dir>/viescolaire/attachments`.
    pub attachments_dir: String,
    /// How shown averages are rounded (computed exactly, rounded once when
    /// shown): "hundredth", "tenth", "half" (half point) or "whole".
    ///
    /// fr: Arrondi des moyennes affichées (calculées exactement, arrondies une
    /// seule fois à l'affichage) : « hundredth » (centième), « tenth »
    /// (dixième), « half » (demi-point) ou « whole » (entier).
    pub rounding_step: RoundingStep,
    /// Rounding direction: "nearest" (a half rounds up) or "up".
    ///
    /// fr: Sens de l'arrondi : « nearest » (au plus proche, un demi arrondi
    /// au-dessus) ou « up » (vers le haut).
    pub rounding_mode: RoundingMode,
    /// E-mail notifications of new messages (to the address the directory
    /// knows), through the relay below. Off by default. A message written
    /// during the quiet period is notified only once it ends.
    ///
    /// fr: Notifications par courriel des nouveaux messages (à l'adresse que
    /// connaît l'annuaire), par le relais ci-dessous. Désactivées par défaut.
    /// Un message écrit pendant la période de calme n'est notifié qu'à sa fin.
    pub notify_email: bool,
    /// The SMTP relay's host name (its certificate must name it).
    ///
    /// fr: Nom d'hôte du relais SMTP (son certificat doit le porter).
    pub smtp_host: String,
    /// The relay's port: 587 with STARTTLS, 465 with implicit TLS.
    ///
    /// fr: Port du relais : 587 avec STARTTLS, 465 avec TLS implicite.
    #[schemars(range(min = 1, max = 65535))]
    pub smtp_port: u16,
    /// "starttls" (the connection is upgraded; refused if the relay does
    /// not offer it) or "tls" (implicit TLS). Never in clear.
    ///
    /// fr: « starttls » (la connexion est sécurisée en cours de route ; refusée
    /// si le relais ne le propose pas) ou « tls » (TLS implicite). Jamais en
    /// clair.
    pub smtp_security: SmtpSecurity,
    /// Login on the relay; empty: no authentication.
    ///
    /// fr: Identifiant sur le relais ; vide : pas d'authentification.
    pub smtp_user: String,
    /// File holding the relay password (one line, readable by root only);
    /// the password is never written in this file nor in any log.
    ///
    /// fr: Fichier contenant le mot de passe du relais (une ligne, lisible par
    /// root seul) ; le mot de passe n'est jamais écrit dans ce fichier-ci ni
    /// dans aucun journal.
    pub smtp_password_file: String,
    /// Sender address of the notifications, e.g. "vie-scolaire@college.fr".
    ///
    /// fr: Adresse d'expéditeur des notifications, par exemple «
    /// vie-scolaire@college.fr ».
    pub smtp_from: String,
    /// PEM file of an extra certificate authority to trust for the relay
    /// (a relay with its own certificate); empty: the public authorities.
    ///
    /// fr: Fichier PEM d'une autorité de certification supplémentaire à qui
    /// faire confiance pour le relais (un relais avec son propre certificat) ;
    /// vide : les autorités publiques.
    pub smtp_ca_file: String,
}

/// How the connection to the SMTP relay is protected.
///
/// fr: Comment la connexion au relais SMTP est protégée.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
}

/// The step an average is rounded to when shown.
///
/// fr: Le pas auquel une moyenne est arrondie à l'affichage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoundingStep {
    Hundredth,
    Tenth,
    Half,
    Whole,
}

/// How a value between two steps is rounded.
///
/// fr: Comment une valeur entre deux pas est arrondie.
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
                    msg!("\"{v}\" is not a time", "« {v} » n'est pas une heure"),
                    msg!(
                        "write HH:MM, e.g. \"12:00\"",
                        "écrivez HH:MM, par exemple « 12:00 »"
                    ),
                );
            }
        }
        if let Some(n) = Time::parse(&self.noon)
            && !(10 * 60..=15 * 60).contains(&n.minutes())
        {
            problems.push(
                join(path, "noon"),
                msg!(
                    en(
                        "the half-day boundary {} is not between 10:00 and 15:00",
                        self.noon
                    ),
                    fr(
                        "la limite des demi-journées {} n'est pas entre 10:00 et 15:00",
                        self.noon
                    )
                ),
            );
        }
        if self.notify_email {
            if self.smtp_host.trim().is_empty() {
                problems.push_hint(
                    join(path, "smtp_host"),
                    msg!(
                        "e-mail notifications need an SMTP relay",
                        "les notifications par courriel demandent un relais SMTP"
                    ),
                    msg!(
                        "write the relay's host name, e.g. \"smtp.example.fr\"",
                        "écrivez le nom d'hôte du relais, par exemple « smtp.example.fr »"
                    ),
                );
            }
            if !self.smtp_from.contains('@') || self.smtp_from.contains([' ', '<', '>']) {
                problems.push_hint(
                    join(path, "smtp_from"),
                    msg!(
                        en("\"{}\" is not an e-mail address", self.smtp_from),
                        fr("« {} » n'est pas une adresse électronique", self.smtp_from)
                    ),
                    msg!(
                        "write the sender address, e.g. \"vie-scolaire@college.fr\"",
                        "écrivez l'adresse de l'expéditeur, par exemple « vie-scolaire@college.fr »"
                    ),
                );
            }
            if !self.smtp_user.is_empty() && self.smtp_password_file.is_empty() {
                problems.push_hint(
                    join(path, "smtp_password_file"),
                    msg!(
                        "a relay login without a password file",
                        "un identifiant de relais sans fichier de mot de passe"
                    ),
                    msg!(
                        "write the password in a file readable by root only and name it here",
                        "écrivez le mot de passe dans un fichier lisible par root seul et indiquez-le ici"
                    ),
                );
            }
        }
        if self.attachment_types.is_empty() {
            problems.push_hint(
                join(path, "attachment_types"),
                msg!(
                    "no attachment type is allowed",
                    "aucun type de pièce jointe n'est permis"
                ),
                msg!(
                    "list media types, e.g. [\"application/pdf\", \"image/jpeg\"]",
                    "indiquez des types de média, par exemple [\"application/pdf\", \"image/jpeg\"]"
                ),
            );
        }
        for (i, t) in self.attachment_types.iter().enumerate() {
            let ok = t
                .split_once('/')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !t.contains([' ', '*']));
            if !ok {
                problems.push_hint(
                    index(&join(path, "attachment_types"), i),
                    msg!(
                        "\"{t}\" is not a media type",
                        "« {t} » n'est pas un type de média"
                    ),
                    msg!(
                        "write type/subtype, e.g. \"image/png\"",
                        "écrivez type/sous-type, par exemple « image/png »"
                    ),
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
