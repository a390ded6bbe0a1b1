//! Settings of the `shares` module (`[shares]` in preau.toml).

use crate::config::Validate;
use crate::config::problems::{Problems, index, join};
use crate::msg;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A role of the establishment, as the shares see it.
///
/// fr: Un rôle de l'établissement, tel que le voient les partages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Students.
    ///
    /// fr: Les élèves.
    Student,
    /// Teachers.
    ///
    /// fr: Les professeurs.
    Teacher,
    /// Non-teaching staff (school life, office, documentation…).
    ///
    /// fr: Les personnels non enseignants (vie scolaire, secrétariat,
    /// documentation…).
    Staff,
    /// Head and deputies (direction).
    ///
    /// fr: Le chef d'établissement et ses adjoints (direction).
    Direction,
    /// Network administrators.
    ///
    /// fr: Les administrateurs réseau.
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
///
/// fr: Plus ancien dialecte SMB accepté par le serveur. SMB1 n'est jamais
/// proposé.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MinProtocol {
    /// SMB 2.0.2 (Windows Vista).
    ///
    /// fr: SMB 2.0.2 (Windows Vista).
    #[serde(rename = "SMB2_02")]
    Smb2_02,
    /// SMB 2.1 (Windows 7).
    ///
    /// fr: SMB 2.1 (Windows 7).
    #[serde(rename = "SMB2_10")]
    Smb2_10,
    /// SMB 3.0 (Windows 8).
    ///
    /// fr: SMB 3.0 (Windows 8).
    #[serde(rename = "SMB3_00")]
    Smb3_00,
    /// SMB 3.0.2 (Windows 8.1).
    ///
    /// fr: SMB 3.0.2 (Windows 8.1).
    #[serde(rename = "SMB3_02")]
    Smb3_02,
    /// SMB 3.1.1 (Windows 10 and later).
    ///
    /// fr: SMB 3.1.1 (Windows 10 et suivants).
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
///
/// fr: Les groupes Unix qui réunissent les membres de chaque rôle (créés par le
/// module `accounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RoleGroups {
    /// Group of every student.
    ///
    /// fr: Groupe de tous les élèves.
    pub student: String,
    /// Group of every teacher.
    ///
    /// fr: Groupe de tous les professeurs.
    pub teacher: String,
    /// Group of the non-teaching staff.
    ///
    /// fr: Groupe des personnels non enseignants.
    pub staff: String,
    /// Group of the direction (head, deputies).
    ///
    /// fr: Groupe de la direction (chef d'établissement, adjoints).
    pub direction: String,
    /// Group of the network administrators.
    ///
    /// fr: Groupe des administrateurs réseau.
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
///
/// fr: Quota de disque de chaque rôle, en Mio ; 0 veut dire sans limite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Quotas {
    /// Whether quotas are set at all (Linux user quotas on the filesystem
    /// holding the shares root; `preau check` says when it has none).
    ///
    /// fr: Poser ou non des quotas (quotas utilisateurs Linux sur le système de
    /// fichiers de la racine des partages ; `preau check` signale quand il n'en
    /// a pas).
    pub enabled: bool,
    /// Students' quota (MiB).
    ///
    /// fr: Quota des élèves (Mio).
    pub student_mib: u64,
    /// Teachers' quota (MiB).
    ///
    /// fr: Quota des professeurs (Mio).
    pub teacher_mib: u64,
    /// Staff's quota (MiB).
    ///
    /// fr: Quota des personnels (Mio).
    pub staff_mib: u64,
    /// Direction's quota (MiB).
    ///
    /// fr: Quota de la direction (Mio).
    pub direction_mib: u64,
    /// Administrators' quota (MiB).
    ///
    /// fr: Quota des administrateurs (Mio).
    pub admin_mib: u64,
    /// Usage (percent of the quota) from which `status` raises an alert.
    ///
    /// fr: Occupation (en pourcentage du quota) à partir de laquelle `status`
    /// lève une alerte.
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
///
/// fr: Les rôles qui peuvent voir et ouvrir les partages communs (non
/// personnels). Chacun a toujours `perso` ; `classes` et `groupes` suivent
/// l'appartenance aux classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Visibility {
    /// Roles that read `commun` (software and common work).
    ///
    /// fr: Rôles qui lisent `commun` (logiciels et travaux communs).
    pub commun: Vec<Role>,
    /// Roles that open `professeurs`.
    ///
    /// fr: Rôles qui ouvrent `professeurs`.
    pub professeurs: Vec<Role>,
    /// Roles that open `administratif`.
    ///
    /// fr: Rôles qui ouvrent `administratif`.
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
///
/// fr: Le serveur de fichiers Samba : organisation, droits, quotas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SharesSettings {
    /// Directory holding every share (`perso`, `classes`, `groupes`,
    /// `commun`, `professeurs`, `administratif`).
    ///
    /// fr: Répertoire qui contient tous les partages (`perso`, `classes`,
    /// `groupes`, `commun`, `professeurs`, `administratif`).
    pub root: String,
    /// Windows workgroup (or domain) name: letters, digits, hyphens, at
    /// most 15 characters.
    ///
    /// fr: Nom du groupe de travail (ou du domaine) Windows : lettres,
    /// chiffres, tirets, 15 caractères au plus.
    pub workgroup: String,
    /// NetBIOS name of the server; empty: the host name in capitals.
    ///
    /// fr: Nom NetBIOS du serveur ; vide : le nom d'hôte en majuscules.
    pub netbios_name: String,
    /// Interfaces or addresses Samba listens on (e.g. ["lan0"]); empty:
    /// every interface.
    ///
    /// fr: Interfaces ou adresses sur lesquelles Samba écoute (par exemple
    /// ["lan0"]) ; vide : toutes les interfaces.
    pub interfaces: Vec<String>,
    /// Lowest SMB dialect accepted ("SMB2_02", "SMB2_10", "SMB3_00",
    /// "SMB3_02", "SMB3_11"). SMB1 is never accepted.
    ///
    /// fr: Plus ancien dialecte SMB accepté (« SMB2_02 », « SMB2_10 », «
    /// SMB3_00 », « SMB3_02 », « SMB3_11 »). SMB1 n'est jamais accepté.
    pub min_protocol: MinProtocol,
    /// Keep deleted files of personal shares in a `.corbeille` folder.
    ///
    /// fr: Garder les fichiers supprimés des partages personnels dans un
    /// dossier `.corbeille`.
    pub recycle_bin: bool,
    /// Unix groups of each role.
    ///
    /// fr: Les groupes Unix de chaque rôle.
    pub role_groups: RoleGroups,
    /// Disk quotas per role.
    ///
    /// fr: Les quotas de disque par rôle.
    pub quotas: Quotas,
    /// Which roles see which shares.
    ///
    /// fr: Quels rôles voient quels partages.
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
                msg!(
                    en("\"{}\" is not an absolute path", self.root),
                    fr("« {} » n'est pas un chemin absolu", self.root)
                ),
                msg!("write e.g. \"/srv/preau\"", "écrivez par exemple « /srv/preau »"),
            );
        } else if self.root == "/" {
            problems.push(
                join(path, "root"),
                msg!(
                    "the shares root cannot be /",
                    "la racine des partages ne peut pas être /"
                ),
            );
        }
        if !is_netbios(&self.workgroup) {
            problems.push_hint(
                join(path, "workgroup"),
                msg!(
                    en("\"{}\" is not a workgroup name", self.workgroup),
                    fr("« {} » n'est pas un nom de groupe de travail", self.workgroup)
                ),
                msg!(
                    "use 1 to 15 letters, digits or hyphens, e.g. \"COLLEGE\"",
                    "utilisez de 1 à 15 lettres, chiffres ou tirets, par exemple « COLLEGE »"
                ),
            );
        }
        if !self.netbios_name.is_empty() && !is_netbios(&self.netbios_name) {
            problems.push_hint(
                join(path, "netbios_name"),
                msg!(en("\"{}\" is not a NetBIOS name", self.netbios_name), fr("« {} » n'est pas un nom NetBIOS", self.netbios_name)),
                msg!("use 1 to 15 letters, digits or hyphens, or leave it empty for the host name", "utilisez de 1 à 15 lettres, chiffres ou tirets, ou laissez vide pour prendre le nom d'hôte"),
            );
        }
        for (i, iface) in self.interfaces.iter().enumerate() {
            if iface.is_empty() || iface.contains(|c: char| c.is_whitespace() || c == ',' || c == ';') {
                problems.push_hint(
                    index(&join(path, "interfaces"), i),
                    msg!(
                        "\"{iface}\" is not an interface name or address",
                        "« {iface} » n'est ni un nom d'interface ni une adresse"
                    ),
                    msg!(
                        "one interface (\"lan0\") or address (\"10.0.0.1/24\") per entry",
                        "une interface (« lan0 ») ou une adresse (« 10.0.0.1/24 ») par entrée"
                    ),
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
                    msg!(
                        "\"{g}\" is not a Unix group name",
                        "« {g} » n'est pas un nom de groupe Unix"
                    ),
                    msg!(
                        "lower-case letters, digits, '-', '_' or '.', at most 32 characters",
                        "des minuscules, des chiffres, « - », « _ » ou « . », 32 caractères au plus"
                    ),
                );
            } else if seen.contains(&g) {
                problems.push_hint(
                    join(&groups, role.as_str()),
                    msg!(
                        "group \"{g}\" is already used by another role",
                        "le groupe « {g} » sert déjà à un autre rôle"
                    ),
                    msg!(
                        "give each role its own group",
                        "donnez à chaque rôle son propre groupe"
                    ),
                );
            }
            seen.push(g);
        }
        if !(1..=100).contains(&self.quotas.alert_percent) {
            problems.push(
                join(&join(path, "quotas"), "alert_percent"),
                msg!(
                    en(
                        "{} is not a percentage between 1 and 100",
                        self.quotas.alert_percent
                    ),
                    fr(
                        "{} n'est pas un pourcentage entre 1 et 100",
                        self.quotas.alert_percent
                    )
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
                    msg!(
                        "nobody would see the {key} share",
                        "personne ne verrait le partage {key}"
                    ),
                    msg!(
                        "list at least one role, e.g. [\"direction\"]",
                        "indiquez au moins un rôle, par exemple [\"direction\"]"
                    ),
                );
            }
            if key != "commun" && roles.contains(&Role::Student) {
                problems.push_hint(
                    join(&vis, key),
                    msg!(
                        "students must not see the {key} share",
                        "les élèves ne doivent pas voir le partage {key}"
                    ),
                    msg!(
                        "remove \"student\" from the list",
                        "retirez « student » de la liste"
                    ),
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
