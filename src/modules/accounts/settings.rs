//! The `[accounts]` settings.

use crate::config::problems::{Problems, join};
use crate::config::settings::Validate;
use crate::msg;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Accounts: logins, passwords, imports and their projection onto Unix
/// users, groups, home directories and Samba.
///
/// fr: Les comptes : identifiants, mots de passe, imports et leur traduction en
/// utilisateurs, groupes et dossiers personnels Unix et en comptes Samba.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsSettings {
    /// How logins are made from names: `{prenom}` and `{nom}` are the
    /// transliterated first and last names, `{p}` and `{n}` their first
    /// letters; a-z, 0-9, '.', '-' and '_' are kept as written. Logins are
    /// at most 20 characters; a number is appended to make one unique.
    /// Changing it affects new accounts only.
    ///
    /// fr: Comment les identifiants sont formés à partir des noms : `{prenom}`
    /// et `{nom}` sont le prénom et le nom translittérés, `{p}` et `{n}` leurs
    /// initiales ; a-z, 0-9, « . », « - » et « _ » sont gardés tels quels. Un
    /// identifiant a au plus 20 caractères ; un numéro est ajouté pour le
    /// rendre unique. Le changer ne concerne que les nouveaux comptes.
    pub login_scheme: String,
    /// An import that would disable more than this percentage of the active
    /// accounts of one kind (students, teachers, staff, parents) is refused
    /// unless `--allow-mass-disable` is given: it is usually a partial
    /// export.
    ///
    /// fr: Un import qui désactiverait plus que ce pourcentage des comptes
    /// actifs d'une catégorie (élèves, professeurs, personnels, responsables)
    /// est refusé sauf avec `--allow-mass-disable` : c'est en général un export
    /// partiel.
    #[schemars(range(min = 0, max = 100))]
    pub max_disable_percent: u32,
    /// First Unix uid/gid Préau uses. The five role groups take the first
    /// five ids; people, classes and groups get ids from `first_id + 10`.
    /// Nothing else on the server may use this range.
    ///
    /// fr: Premier uid/gid Unix utilisé par Préau. Les cinq groupes de rôle
    /// prennent les cinq premiers ; personnes, classes et groupes reçoivent des
    /// numéros à partir de `first_id + 10`. Rien d'autre sur le serveur ne doit
    /// utiliser cette plage.
    #[schemars(range(min = 1000, max = 4000000000u32))]
    pub first_id: u32,
    /// Last Unix uid/gid Préau uses.
    ///
    /// fr: Dernier uid/gid Unix utilisé par Préau.
    #[schemars(range(min = 1000, max = 4000000000u32))]
    pub last_id: u32,
    /// Unix group of every student (their primary group).
    ///
    /// fr: Groupe Unix de tous les élèves (leur groupe principal).
    pub students_group: String,
    /// Unix group of every teacher.
    ///
    /// fr: Groupe Unix de tous les professeurs.
    pub teachers_group: String,
    /// Unix group of every other member of staff.
    ///
    /// fr: Groupe Unix de tous les autres personnels.
    pub staff_group: String,
    /// Unix group of the direction: the staff whose STS-web function is
    /// `DIR` (head and deputies). The shares module gives it its rights.
    ///
    /// fr: Groupe Unix de la direction : les personnels dont la fonction
    /// STS-web est `DIR` (chef d'établissement et adjoints). Le module des
    /// partages lui donne ses droits.
    pub direction_group: String,
    /// Unix group of the network administrators listed in `admins`.
    ///
    /// fr: Groupe Unix des administrateurs réseau listés dans `admins`.
    pub admins_group: String,
    /// Logins of the people of the directory who administer the network
    /// (members of `admins_group`).
    ///
    /// fr: Identifiants des personnes de l'annuaire qui administrent le réseau
    /// (membres de `admins_group`).
    pub admins: Vec<String>,
    /// Directory holding the home directories (one per login). With the
    /// shares module it must be the shares' `perso` folder, so that each
    /// person's home is their personal share.
    ///
    /// fr: Répertoire des dossiers personnels (un par identifiant). Avec le
    /// module des partages, ce doit être le dossier `perso` des partages, pour
    /// que le dossier personnel de chacun soit son partage personnel.
    pub home_base: String,
    /// Login shell of the Unix accounts (they are for files, not shells).
    ///
    /// fr: Shell de connexion des comptes Unix (ils servent aux fichiers, pas à
    /// ouvrir un shell).
    pub shell: String,
    /// Syllables of an initial password ("ta", "vo"…), each about 6 bits.
    ///
    /// fr: Syllabes d'un mot de passe initial (« ta », « vo »…), chacune
    /// d'environ 6 bits.
    #[schemars(range(min = 2, max = 10))]
    pub password_syllables: u32,
    /// Digits after the syllables of an initial password.
    ///
    /// fr: Chiffres après les syllabes d'un mot de passe initial.
    #[schemars(range(min = 0, max = 6))]
    pub password_digits: u32,
    /// Ask people to change their initial password at first login (web
    /// console; Windows clients are asked by Samba too).
    ///
    /// fr: Demander de changer le mot de passe initial à la première connexion
    /// (console web ; Samba le demande aussi aux postes Windows).
    pub must_change_password: bool,
    /// Days a departed person's account is kept, disabled, before `preau
    /// accounts purge` deletes it.
    ///
    /// fr: Jours pendant lesquels le compte d'une personne partie est gardé,
    /// désactivé, avant que `preau accounts purge` le supprime.
    #[schemars(range(min = 0, max = 3650))]
    pub retention_days: u32,
    /// Pseudo-classes of the student export that are not classes: SIECLE
    /// puts students who left in a division named `Inactifs`. A student
    /// placed only there is leaving (disabled, then deleted after the
    /// retention); no class or Unix group is made for these names.
    /// Compared without regard to case.
    ///
    /// fr: Pseudo-classes de l'export des élèves qui ne sont pas des classes :
    /// SIECLE place les élèves partis dans une division nommée `Inactifs`. Un
    /// élève placé seulement là s'en va (désactivé, puis supprimé après la
    /// durée de conservation) ; aucune classe ni aucun groupe Unix n'est créé
    /// pour ces noms. Comparés sans tenir compte de la casse.
    pub inactive_classes: Vec<String>,
    /// Create Samba accounts (passdb) for students, teachers and staff.
    ///
    /// fr: Créer des comptes Samba (passdb) pour les élèves, les professeurs et
    /// les personnels.
    pub samba: bool,
    /// The Samba passdb Préau writes to (tdbsam).
    ///
    /// fr: La base passdb de Samba où Préau écrit (tdbsam).
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
            problems.push_hint(
                join(path, "login_scheme"),
                m,
                msg!(
                    "the default is \"{{prenom}}.{{nom}}\"",
                    "le modèle par défaut est « {{prenom}}.{{nom}} »"
                ),
            );
        }
        if self.max_disable_percent > 100 {
            problems.push(
                join(path, "max_disable_percent"),
                msg!("a percentage is at most 100", "un pourcentage vaut au plus 100"),
            );
        }
        if self.first_id < 1000 {
            problems.push_hint(
                join(path, "first_id"),
                msg!(
                    en("{} is in the system range", self.first_id),
                    fr("{} est dans la plage réservée au système", self.first_id)
                ),
                msg!(
                    "use 1000 or more; the default is 10000",
                    "utilisez 1000 ou plus ; la valeur par défaut est 10000"
                ),
            );
        }
        if self.last_id < self.first_id.saturating_add(100) {
            problems.push_hint(
                join(path, "last_id"),
                msg!(en("the range {}..{} is too small", self.first_id, self.last_id), fr("la plage {}..{} est trop petite", self.first_id, self.last_id)),
                msg!("leave room for every person, class and group: the default is 10000..59999", "laissez de la place pour chaque personne, classe et groupe : la valeur par défaut est 10000..59999"),
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
                    msg!(
                        "\"{value}\" is not a valid Unix group name",
                        "« {value} » n'est pas un nom de groupe Unix valide"
                    ),
                    msg!(
                        "use lower-case letters, digits, '-' and '_', starting with a letter",
                        "utilisez des minuscules, des chiffres, « - » et « _ », en commençant par une lettre"
                    ),
                );
            }
        }
        if names[0].1 == names[1].1 || names[1].1 == names[2].1 || names[0].1 == names[2].1 {
            problems.push(
                join(path, "staff_group"),
                msg!(
                    "the three role groups must have different names",
                    "les trois groupes de rôle doivent avoir des noms différents"
                ),
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
                    msg!(
                        "\"{value}\" is not an absolute path",
                        "« {value} » n'est pas un chemin absolu"
                    ),
                    msg!(
                        "paths start with / and hold no ..",
                        "un chemin commence par / et ne contient pas .."
                    ),
                );
            }
        }
        if !(2..=10).contains(&self.password_syllables) {
            problems.push(
                join(path, "password_syllables"),
                msg!("use 2 to 10 syllables", "utilisez de 2 à 10 syllabes"),
            );
        }
        if self.password_digits > 6 {
            problems.push(
                join(path, "password_digits"),
                msg!("use at most 6 digits", "utilisez au plus 6 chiffres"),
            );
        }
        let bits = crate::directory::password::entropy_bits(self.password_syllables, self.password_digits);
        if bits < 24.0 {
            problems.push_hint(
                join(path, "password_syllables"),
                msg!(
                    "initial passwords would have only {bits:.0} bits: too easy to guess",
                    "les mots de passe initiaux n'auraient que {bits:.0} bits : trop faciles à deviner"
                ),
                msg!(
                    "use at least 3 syllables and 2 digits",
                    "utilisez au moins 3 syllabes et 2 chiffres"
                ),
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
