//! The `[booking]` section of preau.toml: what the usage statistics
//! count the resources' occupancy against.

use crate::config::Validate;
use crate::config::problems::{Problems, join};
use crate::msg;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Resource booking (`/reservations`) and its statistics.
///
/// fr: La réservation de ressources (`/reservations`) et ses statistiques.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BookingSettings {
    /// Open hours of a resource per week, for the occupancy rate of the
    /// statistics (`/console/statistiques`): the confirmed hours of a
    /// week divided by these hours and the resource's quantity. From 1
    /// to 168; 40 is Monday to Friday, 8 hours a day.
    ///
    /// fr: Heures d'ouverture d'une ressource par semaine, pour le taux
    /// d'occupation des statistiques (`/console/statistiques`) : les heures
    /// confirmées d'une semaine divisées par ces heures et par la quantité de
    /// la ressource. De 1 à 168 ; 40, c'est du lundi au vendredi, 8 heures par
    /// jour.
    #[serde(default = "default_open_hours")]
    pub open_hours_per_week: u32,
}

fn default_open_hours() -> u32 {
    40
}

impl Default for BookingSettings {
    fn default() -> Self {
        BookingSettings {
            open_hours_per_week: default_open_hours(),
        }
    }
}

impl Validate for BookingSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        if !(1..=168).contains(&self.open_hours_per_week) {
            problems.push(
                join(path, "open_hours_per_week"),
                msg!(en("{} open hours a week is not possible: give 1 to 168 (a week has 168 hours)",
                    self.open_hours_per_week), fr("{} heures d'ouverture par semaine, c'est impossible : donnez de 1 à 168 (une semaine compte 168 heures)",
                    self.open_hours_per_week)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_hours_are_checked() {
        assert_eq!(BookingSettings::default().open_hours_per_week, 40);
        for (hours, ok) in [(0, false), (1, true), (40, true), (168, true), (169, false)] {
            let mut p = Problems::default();
            BookingSettings {
                open_hours_per_week: hours,
            }
            .validate("booking", &mut p);
            assert_eq!(p.is_empty(), ok, "{hours}: {p:?}");
        }
        let s: BookingSettings = toml::from_str("open_hours_per_week = 35").unwrap();
        assert_eq!(s.open_hours_per_week, 35);
        assert!(toml::from_str::<BookingSettings>("open_hours = 35").is_err());
    }
}
