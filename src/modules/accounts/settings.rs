//! The `[accounts]` settings.

use crate::config::problems::{Problems, join};
use crate::config::settings::Validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Accounts: logins, passwords, imports and their projection onto Unix
/// users, groups, home directories and Samba.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsSettings {
    /// How logins are made from names: `{prenom}` and `{nom}` are the
    /// transliterated first and last names, `{p}` and `{n}` their first
    /// letters; a-z, 0-9, '.', '-' and '_' are kept as written. Logins are
    /// at most 20 characters; a number is appended to make one unique.
    /// Changing it affects new accounts only.
    pub login_scheme: String,
    /// An import that would disable more than this percentage of the active
    /// accounts of one kind (students, teachers, staff, parents) is refused
    /// unless `--allow-mass-disable` is given: it is usually a partial
    /// export.
    #[schemars(range(min = 0, max = 100))]
    pub max_disable_percent: u32,
    /// First Unix uid/gid Préau uses. The five role groups take the first
    /// five ids; people, classes and groups get ids from `first_id + 10`.
    /// Nothing else on the server may use this range.
    #[schemars(range(min = 1000, max = 4000000000u32))]
    pub first_id: u32,
    /// Last Unix uid/gid Préau uses.
    #[schemars(range(min = 1000, max = 4000000000u32))]
    pub last_id: u32,
    /// Unix group of every student (their primary group).
    pub students_group: String,
    /// Unix group of every teacher.
    pub teachers_group: String,
    /// Unix group of every other member of staff.
    pub staff_group: String,
    /// Unix group of the direction: the staff whose STS-web function is
    /// `DIR` (head and deputies). The shares module gives it its rights.
    pub direction_group: String,
    /// Unix group of the network administrators listed in `admins`.
    pub admins_group: String,
    /// Logins of the people of the directory who administer the network
    /// (members of `admins_group`).
    pub admins: Vec<String>,
    /// Directory holding the home directories (one per login). With the
    /// shares module it must be the shares' `perso` folder, so that each
    /// person's home is their personal share.
    pub home_base: String,
    /// Login shell of the Unix accounts (they are for files, not shells).
    pub shell: String,
    /// Syllables of an initial password ("ta", "vo"…), each about 6 bits.
    #[schemars(range(min = 2, max = 10))]
    pub password_syllables: u32,
    /// Digits after the syllables of an initial password.
    #[schemars(range(min = 0, max = 6))]
    pub password_digits: u32,
    /// Ask people to change their initial password at first login (web
    /// console; Windows clients are asked by Samba too).
    pub must_change_password: bool,
    /// Days a departed person's account is kept, disabled, before `preau
    /// accounts purge` deletes it.
    #[schemars(range(min = 0, max = 3650))]
    pub retention_days: u32,
    /// Pseudo-classes of the student export that are not classes: SIECLE
    /// puts students who left in a division named `Inactifs`. A student
    /// placed only there is leaving (disabled, then deleted after the
    /// retention); no class or Unix group is made for these names.
    /// Compared without regard to case.
    pub inactive_classes: Vec<String>,
    /// Create Samba accounts (passdb) for students, teachers and staff.
    pub samba: bool,
    /// The Samba passdb Préau writes to (tdbsam).
    pub samba_passdb: String,
}

impl Default for AccountsSettings {
    fn default() -> Self {
        Self {
            login_scheme: "{prenom}.{nom}".into(),
            max_disable_percent: 10,
            first_id: 10_000,
            last_id: 59_999,
            students_group: "eleves".into(),
            teachers_group: "profs".into(),
            staff_group: "personnels".into(),
            direction_group: "direction".into(),
            admins_group: "admins".into(),
            admins: Vec::new(),
            home_base: "/srv/preau/perso".into(),
            shell: "/usr/sbin/nologin".into(),
            password_syllables: 4,
            password_digits: 2,
            must_change_password: false,
            retention_days: 365,
            inactive_classes: vec!["Inactifs".into()],
            samba: true,
            samba_passdb: "/var/lib/samba/private/passdb.tdb".into(),
        }
    }
}

fn is_unix_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Validate for AccountsSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        if let Err(m) = crate::directory::login::check_scheme(&self.login_scheme) {
            problems.push_hint(join(path, "login_scheme"), m, "the default is \"{prenom}.{nom}\"");
        }
        if self.max_disable_percent > 100 {
            problems.push(join(path, "max_disable_percent"), "a percentage is at most 100");
        }
        if self.first_id < 1000 {
            problems.push_hint(
                join(path, "first_id"),
                format!("{} is in the system range", self.first_id),
                "use 1000 or more; the default is 10000",
            );
        }
        if self.last_id < self.first_id.saturating_add(100) {
            problems.push_hint(
                join(path, "last_id"),
                format!("the range {}..{} is too small", self.first_id, self.last_id),
                "leave room for every person, class and group: the default is 10000..59999",
            );
        }
        let names = [
            ("students_group", &self.students_group),
            ("teachers_group", &self.teachers_group),
            ("staff_group", &self.staff_group),
            ("direction_group", &self.direction_group),
            ("admins_group", &self.admins_group),
        ];
        for (key, value) in names {
            if !is_unix_name(value) {
                problems.push_hint(
                    join(path, key),
                    format!("\"{value}\" is not a valid Unix group name"),
                    "use lower-case letters, digits, '-' and '_', starting with a letter",
                );
            }
        }
        if names[0].1 == names[1].1 || names[1].1 == names[2].1 || names[0].1 == names[2].1 {
            problems.push(
                join(path, "staff_group"),
                "the three role groups must have different names",
            );
        }
        for (key, value) in [
            ("home_base", &self.home_base),
            ("shell", &self.shell),
            ("samba_passdb", &self.samba_passdb),
        ] {
            if !value.starts_with('/') || value.split('/').any(|c| c == "..") {
                problems.push_hint(
                    join(path, key),
                    format!("\"{value}\" is not an absolute path"),
                    "paths start with / and hold no ..",
                );
            }
        }
        if !(2..=10).contains(&self.password_syllables) {
            problems.push(join(path, "password_syllables"), "use 2 to 10 syllables");
        }
        if self.password_digits > 6 {
            problems.push(join(path, "password_digits"), "use at most 6 digits");
        }
        let bits = crate::directory::password::entropy_bits(self.password_syllables, self.password_digits);
        if bits < 24.0 {
            problems.push_hint(
                join(path, "password_syllables"),
                format!("initial passwords would have only {bits:.0} bits: too easy to guess"),
                "use at least 3 syllables and 2 digits",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_mistakes_are_found() {
        let mut p = Problems::default();
        AccountsSettings::default().validate("accounts", &mut p);
        assert!(p.is_empty(), "{p:?}");
        let s = AccountsSettings {
            login_scheme: "{nom}".into(),
            first_id: 10,
            students_group: "Élèves".into(),
            password_syllables: 2,
            password_digits: 0,
            ..Default::default()
        };
        let mut p = Problems::default();
        s.validate("accounts", &mut p);
        let text = format!("{p:?}");
        for key in ["login_scheme", "first_id", "students_group", "password_syllables"] {
            assert!(text.contains(&format!("accounts.{key}")), "{key}: {text}");
        }
    }
}
