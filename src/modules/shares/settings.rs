//! Settings of the `shares` module (`[shares]` in preau.toml).

use crate::config::Validate;
use crate::config::problems::{Problems, index, join};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A role of the establishment, as the shares see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Students.
    Student,
    /// Teachers.
    Teacher,
    /// Non-teaching staff (school life, office, documentation…).
    Staff,
    /// Head and deputies (direction).
    Direction,
    /// Network administrators.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Student,
        Role::Teacher,
        Role::Staff,
        Role::Direction,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Teacher => "teacher",
            Role::Staff => "staff",
            Role::Direction => "direction",
            Role::Admin => "admin",
        }
    }
}

/// Lowest SMB dialect the server accepts. SMB1 is never offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MinProtocol {
    /// SMB 2.0.2 (Windows Vista).
    #[serde(rename = "SMB2_02")]
    Smb2_02,
    /// SMB 2.1 (Windows 7).
    #[serde(rename = "SMB2_10")]
    Smb2_10,
    /// SMB 3.0 (Windows 8).
    #[serde(rename = "SMB3_00")]
    Smb3_00,
    /// SMB 3.0.2 (Windows 8.1).
    #[serde(rename = "SMB3_02")]
    Smb3_02,
    /// SMB 3.1.1 (Windows 10 and later).
    #[serde(rename = "SMB3_11")]
    Smb3_11,
}

impl MinProtocol {
    /// The value of Samba's `server min protocol`.
    pub fn as_samba(self) -> &'static str {
        match self {
            MinProtocol::Smb2_02 => "SMB2_02",
            MinProtocol::Smb2_10 => "SMB2_10",
            MinProtocol::Smb3_00 => "SMB3_00",
            MinProtocol::Smb3_02 => "SMB3_02",
            MinProtocol::Smb3_11 => "SMB3_11",
        }
    }
}

/// Unix groups holding each role's members (made by the `accounts` module).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RoleGroups {
    /// Group of every student.
    pub student: String,
    /// Group of every teacher.
    pub teacher: String,
    /// Group of the non-teaching staff.
    pub staff: String,
    /// Group of the direction (head, deputies).
    pub direction: String,
    /// Group of the network administrators.
    pub admin: String,
}

impl Default for RoleGroups {
    fn default() -> Self {
        Self {
            student: "eleves".into(),
            teacher: "profs".into(),
            staff: "personnels".into(),
            direction: "direction".into(),
            admin: "admins".into(),
        }
    }
}

impl RoleGroups {
    pub fn of(&self, role: Role) -> &str {
        match role {
            Role::Student => &self.student,
            Role::Teacher => &self.teacher,
            Role::Staff => &self.staff,
            Role::Direction => &self.direction,
            Role::Admin => &self.admin,
        }
    }
}

/// Disk quota of each role, in mebibytes; 0 means no limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Quotas {
    /// Whether quotas are set at all (Linux user quotas on the filesystem
    /// holding the shares root; `preau check` says when it has none).
    pub enabled: bool,
    /// Students' quota (MiB).
    pub student_mib: u64,
    /// Teachers' quota (MiB).
    pub teacher_mib: u64,
    /// Staff's quota (MiB).
    pub staff_mib: u64,
    /// Direction's quota (MiB).
    pub direction_mib: u64,
    /// Administrators' quota (MiB).
    pub admin_mib: u64,
    /// Usage (percent of the quota) from which `status` raises an alert.
    #[schemars(range(min = 1, max = 100))]
    pub alert_percent: u8,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            enabled: true,
            student_mib: 500,
            teacher_mib: 4000,
            staff_mib: 2000,
            direction_mib: 4000,
            admin_mib: 0,
            alert_percent: 90,
        }
    }
}

impl Quotas {
    pub fn of(&self, role: Role) -> u64 {
        match role {
            Role::Student => self.student_mib,
            Role::Teacher => self.teacher_mib,
            Role::Staff => self.staff_mib,
            Role::Direction => self.direction_mib,
            Role::Admin => self.admin_mib,
        }
    }
}

/// Which roles may see and open the shared (non-personal) shares. Everyone
/// always gets `perso`; `classes` and `groupes` follow class membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Visibility {
    /// Roles that read `commun` (software and common work).
    pub commun: Vec<Role>,
    /// Roles that open `professeurs`.
    pub professeurs: Vec<Role>,
    /// Roles that open `administratif`.
    pub administratif: Vec<Role>,
}

impl Default for Visibility {
    fn default() -> Self {
        Self {
            commun: vec![
                Role::Student,
                Role::Teacher,
                Role::Staff,
                Role::Direction,
                Role::Admin,
            ],
            professeurs: vec![Role::Teacher, Role::Direction],
            administratif: vec![Role::Staff, Role::Direction],
        }
    }
}

/// The Samba file server: layout, permissions, quotas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SharesSettings {
    /// Directory holding every share (`perso`, `classes`, `groupes`,
    /// `commun`, `professeurs`, `administratif`).
    pub root: String,
    /// Windows workgroup (or domain) name: letters, digits, hyphens, at
    /// most 15 characters.
    pub workgroup: String,
    /// NetBIOS name of the server; empty: the host name in capitals.
    pub netbios_name: String,
    /// Interfaces or addresses Samba listens on (e.g. ["lan0"]); empty:
    /// every interface.
    pub interfaces: Vec<String>,
    /// Lowest SMB dialect accepted ("SMB2_02", "SMB2_10", "SMB3_00",
    /// "SMB3_02", "SMB3_11"). SMB1 is never accepted.
    pub min_protocol: MinProtocol,
    /// Keep deleted files of personal shares in a `.corbeille` folder.
    pub recycle_bin: bool,
    /// Unix groups of each role.
    pub role_groups: RoleGroups,
    /// Disk quotas per role.
    pub quotas: Quotas,
    /// Which roles see which shares.
    pub visibility: Visibility,
}

impl Default for SharesSettings {
    fn default() -> Self {
        Self {
            root: "/srv/preau".into(),
            workgroup: "PREAU".into(),
            netbios_name: String::new(),
            interfaces: Vec::new(),
            min_protocol: MinProtocol::Smb2_10,
            recycle_bin: true,
            role_groups: RoleGroups::default(),
            quotas: Quotas::default(),
            visibility: Visibility::default(),
        }
    }
}

/// Whether `name` is a NetBIOS-style name: 1 to 15 letters, digits, hyphens.
pub fn is_netbios(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        && !name.starts_with('-')
}

/// Whether `name` is a usable Unix group name.
pub fn is_unix_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_' || c == b'.')
        && !name.starts_with('-')
}

impl SharesSettings {
    /// The NetBIOS name to use, given the host name.
    pub fn netbios(&self, hostname: &str) -> String {
        if self.netbios_name.is_empty() {
            hostname.to_ascii_uppercase().chars().take(15).collect()
        } else {
            self.netbios_name.clone()
        }
    }
}

impl Validate for SharesSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        if !self.root.starts_with('/') || self.root.split('/').any(|c| c == "..") {
            problems.push_hint(
                join(path, "root"),
                format!("\"{}\" is not an absolute path", self.root),
                "write e.g. \"/srv/preau\"",
            );
        } else if self.root == "/" {
            problems.push(join(path, "root"), "the shares root cannot be /");
        }
        if !is_netbios(&self.workgroup) {
            problems.push_hint(
                join(path, "workgroup"),
                format!("\"{}\" is not a workgroup name", self.workgroup),
                "use 1 to 15 letters, digits or hyphens, e.g. \"COLLEGE\"",
            );
        }
        if !self.netbios_name.is_empty() && !is_netbios(&self.netbios_name) {
            problems.push_hint(
                join(path, "netbios_name"),
                format!("\"{}\" is not a NetBIOS name", self.netbios_name),
                "use 1 to 15 letters, digits or hyphens, or leave it empty for the host name",
            );
        }
        for (i, iface) in self.interfaces.iter().enumerate() {
            if iface.is_empty() || iface.contains(|c: char| c.is_whitespace() || c == ',' || c == ';') {
                problems.push_hint(
                    index(&join(path, "interfaces"), i),
                    format!("\"{iface}\" is not an interface name or address"),
                    "one interface (\"lan0\") or address (\"10.0.0.1/24\") per entry",
                );
            }
        }
        let groups = join(path, "role_groups");
        let mut seen: Vec<&str> = Vec::new();
        for role in Role::ALL {
            let g = self.role_groups.of(role);
            if !is_unix_name(g) {
                problems.push_hint(
                    join(&groups, role.as_str()),
                    format!("\"{g}\" is not a Unix group name"),
                    "lower-case letters, digits, '-', '_' or '.', at most 32 characters",
                );
            } else if seen.contains(&g) {
                problems.push_hint(
                    join(&groups, role.as_str()),
                    format!("group \"{g}\" is already used by another role"),
                    "give each role its own group",
                );
            }
            seen.push(g);
        }
        if !(1..=100).contains(&self.quotas.alert_percent) {
            problems.push(
                join(&join(path, "quotas"), "alert_percent"),
                format!(
                    "{} is not a percentage between 1 and 100",
                    self.quotas.alert_percent
                ),
            );
        }
        let vis = join(path, "visibility");
        for (key, roles) in [
            ("commun", &self.visibility.commun),
            ("professeurs", &self.visibility.professeurs),
            ("administratif", &self.visibility.administratif),
        ] {
            if roles.is_empty() {
                problems.push_hint(
                    join(&vis, key),
                    format!("nobody would see the {key} share"),
                    "list at least one role, e.g. [\"direction\"]",
                );
            }
            if key != "commun" && roles.contains(&Role::Student) {
                problems.push_hint(
                    join(&vis, key),
                    format!("students must not see the {key} share"),
                    "remove \"student\" from the list",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(s: &SharesSettings) -> Vec<String> {
        let mut p = Problems::default();
        s.validate("shares", &mut p);
        p.iter().map(|p| format!("{}: {}", p.path, p.message)).collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert!(problems_of(&SharesSettings::default()).is_empty());
    }

    #[test]
    fn every_problem_with_its_path() {
        let mut s = SharesSettings {
            root: "srv".into(),
            workgroup: "MUCH-TOO-LONG-WORKGROUP".into(),
            interfaces: vec!["lan0, lan1".into()],
            ..Default::default()
        };
        s.role_groups.teacher = "eleves".into();
        s.quotas.alert_percent = 0;
        s.visibility.professeurs.push(Role::Student);
        assert_eq!(
            problems_of(&s),
            vec![
                "shares.root: \"srv\" is not an absolute path",
                "shares.workgroup: \"MUCH-TOO-LONG-WORKGROUP\" is not a workgroup name",
                "shares.interfaces[0]: \"lan0, lan1\" is not an interface name or address",
                "shares.role_groups.teacher: group \"eleves\" is already used by another role",
                "shares.quotas.alert_percent: 0 is not a percentage between 1 and 100",
                "shares.visibility.professeurs: students must not see the professeurs share",
            ]
        );
    }

    #[test]
    fn netbios_from_hostname() {
        let s = SharesSettings::default();
        assert_eq!(s.netbios("scribe"), "SCRIBE");
    }
}
