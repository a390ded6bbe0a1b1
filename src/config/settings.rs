//! The settings of `preau.toml`, declared once.
//!
//! Every section is a Rust type whose doc comments become the descriptions
//! in the JSON schema (`preau config schema`), the comments of the starter
//! file written by `preau init` and the settings reference in
//! `docs/settings.md`. Defaults come from `Default` impls; unknown keys are
//! rejected (`deny_unknown_fields`); semantic rules live in [`Validate`]
//! impls that report every problem with its key path.

use super::problems::{Problems, join};
use crate::msg;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Semantic validation of one settings type: push every problem found,
/// each with the key path of the offending value.
pub trait Validate {
    fn validate(&self, path: &str, problems: &mut Problems);
}

/// The whole configuration file.
///
/// fr: Le fichier de configuration entier.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The establishment this server belongs to.
    ///
    /// fr: L'établissement auquel appartient ce serveur.
    pub establishment: Establishment,
    /// Which modules this server runs.
    ///
    /// fr: Les modules que ce serveur fait tourner.
    #[serde(default)]
    pub modules: ModulesSection,
    /// The `preau serve` daemon: HTTPS listener and TLS material.
    ///
    /// fr: Le service `preau serve` : écoute HTTPS et éléments TLS.
    #[serde(default)]
    pub server: ServerSettings,
    /// Where Préau keeps its state and logs on this server.
    ///
    /// fr: Où Préau garde son état et ses journaux sur ce serveur.
    #[serde(default)]
    pub paths: PathsSettings,
    /// The firewall (module `firewall`): zones, policies, NAT, port
    /// forwards, appliance services per zone, forced proxy.
    ///
    /// fr: Le pare-feu (module `firewall`) : zones, politiques, NAT,
    /// redirections de ports, services du serveur ouverts à chaque zone, proxy
    /// imposé.
    #[serde(default)]
    pub firewall: crate::modules::firewall::FirewallSettings,
    /// Accounts: logins, passwords, imports, Unix and Samba projection.
    ///
    /// fr: Les comptes : identifiants, mots de passe, imports, comptes Unix et
    /// Samba.
    #[serde(default)]
    pub accounts: crate::modules::accounts::settings::AccountsSettings,
    /// The Samba file server (module `shares`).
    ///
    /// fr: Le serveur de fichiers Samba (module `shares`).
    #[serde(default)]
    pub shares: crate::modules::shares::settings::SharesSettings,
    /// The filtering web proxy (module `proxy`).
    ///
    /// fr: Le proxy web filtrant (module `proxy`).
    #[serde(default)]
    pub proxy: crate::modules::proxy::settings::ProxySettings,
    /// School life (module `viescolaire`): half-days, alerts, the quiet
    /// period, attachments, rounding of averages.
    ///
    /// fr: La vie scolaire (module `viescolaire`) : demi-journées, alertes,
    /// période de calme, pièces jointes, arrondi des moyennes.
    #[serde(default)]
    pub viescolaire: crate::modules::viescolaire::settings::VieScolaireSettings,
    /// Single sign-on for the school's other services: OpenID Connect
    /// clients and CAS services (see docs/sso.md).
    ///
    /// fr: L'authentification unique pour les autres services de
    /// l'établissement : clients OpenID Connect et services CAS (voir
    /// docs/sso.md).
    #[serde(default)]
    pub sso: crate::sso::SsoSettings,
    /// Backups (`preau backup`): the nightly ones, their rotation and
    /// encryption.
    ///
    /// fr: Les sauvegardes (`preau backup`) : celles de chaque nuit, leur
    /// rotation et leur chiffrement.
    #[serde(default)]
    pub backup: crate::backup::BackupSettings,
    /// The portal (home page): tiles of the school's services per role,
    /// each showing whether the service is up.
    ///
    /// fr: Le portail (page d'accueil) : les tuiles des services de
    /// l'établissement par rôle, chacune indiquant si le service répond.
    #[serde(default)]
    pub portal: crate::web::tiles::PortalSettings,
    /// Resource booking: the open hours the statistics count the
    /// occupancy against.
    ///
    /// fr: La réservation de ressources : les heures d'ouverture auxquelles les
    /// statistiques rapportent l'occupation.
    #[serde(default)]
    pub booking: crate::booking::settings::BookingSettings,
}

impl Config {
    /// A valid configuration of the demo establishment "Collège des
    /// Tilleuls" (scribe.tilleuls.lan) with every module off, for tests.
    pub fn example() -> Config {
        let mut c = Config::default();
        c.establishment.uai = "0999999X".into();
        c.establishment.name = "Collège des Tilleuls".into();
        c.establishment.hostname = "scribe".into();
        c.establishment.domain = "tilleuls.lan".into();
        c
    }
}

impl Validate for Config {
    fn validate(&self, path: &str, problems: &mut Problems) {
        self.establishment
            .validate(&join(path, "establishment"), problems);
        self.modules.validate(&join(path, "modules"), problems);
        self.server.validate(&join(path, "server"), problems);
        self.paths.validate(&join(path, "paths"), problems);
        self.firewall.validate(&join(path, "firewall"), problems);
        self.accounts.validate(&join(path, "accounts"), problems);
        self.shares.validate(&join(path, "shares"), problems);
        self.proxy.validate(&join(path, "proxy"), problems);
        self.viescolaire.validate(&join(path, "viescolaire"), problems);
        self.sso.validate(&join(path, "sso"), problems);
        self.backup.validate(&join(path, "backup"), problems);
        self.portal.validate(&join(path, "portal"), problems);
        self.booking.validate(&join(path, "booking"), problems);
        // Rules of a module that read other sections: the module's own.
        if path.is_empty() {
            crate::modules::validate(self, problems);
        }
    }
}

/// Identity of the establishment.
///
/// fr: Identité de l'établissement.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Establishment {
    /// UAI (formerly RNE) code of the establishment: seven digits and a
    /// letter, e.g. "0750001A". Imports from SIECLE and STS-web are checked
    /// against it.
    ///
    /// fr: Code UAI (anciennement RNE) de l'établissement : sept chiffres et
    /// une lettre, par exemple « 0750001A ». Les imports SIECLE et STS-web sont
    /// vérifiés par rapport à lui.
    pub uai: String,
    /// Name of the establishment, shown on web pages and login sheets.
    ///
    /// fr: Nom de l'établissement, affiché sur les pages web et les fiches de
    /// connexion.
    pub name: String,
    /// Host name of this server: one DNS label, lower case.
    ///
    /// fr: Nom d'hôte de ce serveur : un seul mot DNS, en minuscules.
    #[serde(default = "default_hostname")]
    pub hostname: String,
    /// DNS domain of the school network; the server's full name is
    /// `hostname.domain`.
    ///
    /// fr: Domaine DNS du réseau de l'établissement ; le nom complet du serveur
    /// est `hostname.domain`.
    #[serde(default = "default_domain")]
    pub domain: String,
}

impl Default for Establishment {
    fn default() -> Self {
        Self {
            uai: String::new(),
            name: String::new(),
            hostname: default_hostname(),
            domain: default_domain(),
        }
    }
}

fn default_hostname() -> String {
    "preau".into()
}

fn default_domain() -> String {
    "ecole.lan".into()
}

impl Establishment {
    /// The server's fully qualified name.
    pub fn fqdn(&self) -> String {
        format!("{}.{}", self.hostname, self.domain)
    }
}

/// Whether `code` has the shape of a UAI: 7 digits then a letter.
pub fn is_uai(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 8 && b[..7].iter().all(u8::is_ascii_digit) && b[7].is_ascii_uppercase()
}

/// Whether `label` is a valid DNS label (RFC 1123, lower case).
pub fn is_dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

impl Validate for Establishment {
    fn validate(&self, path: &str, problems: &mut Problems) {
        if !is_uai(&self.uai) {
            problems.push_hint(
                join(path, "uai"),
                msg!(
                    en("\"{}\" is not a UAI code", self.uai),
                    fr("« {} » n'est pas un code UAI", self.uai)
                ),
                msg!(
                    "a UAI is seven digits followed by an upper-case letter, e.g. \"0750001A\"",
                    "un UAI, ce sont sept chiffres suivis d'une lettre majuscule, par exemple « 0750001A »"
                ),
            );
        }
        if self.name.trim().is_empty() {
            problems.push_hint(
                join(path, "name"),
                msg!(
                    "the establishment name is empty",
                    "le nom de l'établissement est vide"
                ),
                msg!(
                    "write the name shown to users, e.g. \"Collège des Tilleuls\"",
                    "écrivez le nom montré aux utilisateurs, par exemple « Collège des Tilleuls »"
                ),
            );
        }
        if !is_dns_label(&self.hostname) {
            problems.push_hint(
                join(path, "hostname"),
                msg!(
                    en("\"{}\" is not a valid host name", self.hostname),
                    fr("« {} » n'est pas un nom d'hôte valide", self.hostname)
                ),
                msg!(
                    "use lower-case letters, digits and hyphens, at most 63 characters",
                    "utilisez des minuscules, des chiffres et des tirets, 63 caractères au plus"
                ),
            );
        }
        if self.domain.is_empty() || !self.domain.split('.').all(is_dns_label) {
            problems.push_hint(
                join(path, "domain"),
                msg!(en("\"{}\" is not a valid DNS domain", self.domain), fr("« {} » n'est pas un domaine DNS valide", self.domain)),
                msg!("use dot-separated lower-case labels, e.g. \"college-tilleuls.lan\"", "utilisez des mots en minuscules séparés par des points, par exemple « college-tilleuls.lan »"),
            );
        }
    }
}

/// Modules to run on this server. The `system` module (the appliance
/// itself) always runs and is not listed.
///
/// fr: Les modules à faire tourner sur ce serveur. Le module `system` (le
/// serveur lui-même) tourne toujours et n'est pas listé.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModulesSection {
    /// Names of the enabled modules; `preau modules list` shows them all.
    ///
    /// fr: Noms des modules activés ; `preau modules list` les montre tous.
    #[serde(default)]
    pub enabled: Vec<String>,
}

impl Validate for ModulesSection {
    fn validate(&self, path: &str, problems: &mut Problems) {
        let registry = crate::modules::registry();
        let known: Vec<&str> = registry.iter().map(|m| m.name()).collect();
        for (i, name) in self.enabled.iter().enumerate() {
            let at = super::problems::index(&join(path, "enabled"), i);
            match registry.iter().find(|m| m.name() == name) {
                None => problems.push_hint(
                    at,
                    msg!("unknown module \"{name}\"", "module inconnu « {name} »"),
                    msg!(
                        en("known modules: {}", known.join(", ")),
                        fr("modules connus : {}", known.join(", "))
                    ),
                ),
                Some(module) => {
                    for dep in module.depends_on() {
                        if dep != "system" && !self.enabled.iter().any(|e| e == dep) {
                            problems.push_hint(
                                at.clone(),
                                msg!(
                                    "module \"{name}\" needs module \"{dep}\"",
                                    "le module « {name} » a besoin du module « {dep} »"
                                ),
                                msg!(
                                    "add \"{dep}\" to modules.enabled",
                                    "ajoutez « {dep} » à modules.enabled"
                                ),
                            );
                        }
                    }
                }
            }
            if self.enabled[..i].contains(name) {
                problems.push(
                    super::problems::index(&join(path, "enabled"), i),
                    msg!(
                        "module \"{name}\" is listed twice",
                        "le module « {name} » est cité deux fois"
                    ),
                );
            }
        }
    }
}

/// The HTTPS daemon (`preau serve`).
///
/// fr: Le service HTTPS (`preau serve`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Addresses and ports the HTTPS server listens on.
    ///
    /// fr: Adresses et ports sur lesquels le serveur HTTPS écoute.
    pub listen: Vec<String>,
    /// PEM certificate chain. Empty: the self-signed certificate that
    /// `preau init` generated in the state directory.
    ///
    /// fr: Chaîne de certificats PEM. Vide : le certificat auto-signé que
    /// `preau init` a créé dans le répertoire d'état.
    pub certificate: String,
    /// PEM private key matching `certificate`. Empty: the generated one.
    ///
    /// fr: Clé privée PEM correspondant à `certificate`. Vide : celle qui a été
    /// créée.
    pub private_key: String,
    /// Seconds open connections get to finish when the daemon stops.
    ///
    /// fr: Secondes laissées aux connexions ouvertes pour se terminer quand le
    /// service s'arrête.
    #[schemars(range(min = 0, max = 30))]
    pub shutdown_grace_seconds: u32,
    /// Addresses of a plain-HTTP listener that only redirects to HTTPS,
    /// e.g. ["[::]:80"]. Empty: no plain-HTTP listener.
    ///
    /// fr: Adresses d'une écoute HTTP en clair qui ne fait que rediriger vers
    /// HTTPS, par exemple ["[::]:80"]. Vide : pas d'écoute HTTP en clair.
    pub redirect_listen: Vec<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: vec!["[::]:443".into()],
            certificate: String::new(),
            private_key: String::new(),
            shutdown_grace_seconds: 1,
            redirect_listen: Vec::new(),
        }
    }
}

impl Validate for ServerSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        if self.listen.is_empty() {
            problems.push_hint(
                join(path, "listen"),
                msg!("no listen address", "aucune adresse d'écoute"),
                msg!(
                    "give at least one, e.g. [\"[::]:443\"]",
                    "donnez-en au moins une, par exemple [\"[::]:443\"]"
                ),
            );
        }
        for (i, addr) in self.listen.iter().enumerate() {
            if addr.parse::<SocketAddr>().is_err() {
                problems.push_hint(
                    super::problems::index(&join(path, "listen"), i),
                    msg!(
                        "\"{addr}\" is not an address and port",
                        "« {addr} » n'est pas une adresse suivie d'un port"
                    ),
                    msg!(
                        "write e.g. \"0.0.0.0:443\" or \"[::]:8443\"",
                        "écrivez par exemple « 0.0.0.0:443 » ou « [::]:8443 »"
                    ),
                );
            }
        }
        if self.certificate.is_empty() != self.private_key.is_empty() {
            problems.push_hint(
                join(
                    path,
                    if self.certificate.is_empty() {
                        "certificate"
                    } else {
                        "private_key"
                    },
                ),
                msg!(
                    "certificate and private_key go together",
                    "certificate et private_key vont ensemble"
                ),
                msg!(
                    "set both, or neither to use the generated certificate",
                    "renseignez les deux, ou aucun pour utiliser le certificat généré"
                ),
            );
        }
        for (key, value) in [
            ("certificate", &self.certificate),
            ("private_key", &self.private_key),
        ] {
            if !value.is_empty() && !value.starts_with('/') {
                problems.push(
                    join(path, key),
                    msg!(
                        "\"{value}\" is not an absolute path",
                        "« {value} » n'est pas un chemin absolu"
                    ),
                );
            }
        }
    }
}

/// Directories Préau uses on the server.
///
/// fr: Les répertoires que Préau utilise sur le serveur.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PathsSettings {
    /// State directory: database, TLS material, saved rulesets.
    ///
    /// fr: Répertoire d'état : base de données, éléments TLS, jeux de règles
    /// enregistrés.
    pub state_dir: String,
    /// Log directory (proxy connection logs).
    ///
    /// fr: Répertoire des journaux (journaux de connexion du proxy).
    pub log_dir: String,
}

impl Default for PathsSettings {
    fn default() -> Self {
        Self {
            state_dir: "/var/lib/preau".into(),
            log_dir: "/var/log/preau".into(),
        }
    }
}

impl Validate for PathsSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        for (key, value) in [("state_dir", &self.state_dir), ("log_dir", &self.log_dir)] {
            if !value.starts_with('/') {
                problems.push_hint(
                    join(path, key),
                    msg!(
                        "\"{value}\" is not an absolute path",
                        "« {value} » n'est pas un chemin absolu"
                    ),
                    msg!("paths start with /", "un chemin commence par /"),
                );
            } else if value.split('/').any(|c| c == "..") {
                problems.push(
                    join(path, key),
                    msg!(
                        "\"{value}\" must not contain ..",
                        "« {value} » ne doit pas contenir .."
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
    fn uai_shape() {
        assert!(is_uai("0999999X"));
        assert!(!is_uai("0999999x"));
        assert!(!is_uai("099999X"));
        assert!(!is_uai("09999999"));
    }

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("scribe-1"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label("Majuscule"));
        assert!(!is_dns_label(""));
    }
}
