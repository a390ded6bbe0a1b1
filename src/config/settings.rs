//! The settings of `preau.toml`, declared once.
//!
//! Every section is a Rust type whose doc comments become the descriptions
//! in the JSON schema (`preau config schema`), the comments of the starter
//! file written by `preau init` and the settings reference in
//! `docs/settings.md`. Defaults come from `Default` impls; unknown keys are
//! rejected (`deny_unknown_fields`); semantic rules live in [`Validate`]
//! impls that report every problem with its key path.

use super::problems::{Problems, join};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Semantic validation of one settings type: push every problem found,
/// each with the key path of the offending value.
pub trait Validate {
    fn validate(&self, path: &str, problems: &mut Problems);
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The establishment this server belongs to.
    pub establishment: Establishment,
    /// Which modules this server runs.
    #[serde(default)]
    pub modules: ModulesSection,
    /// The `preau serve` daemon: HTTPS listener and TLS material.
    #[serde(default)]
    pub server: ServerSettings,
    /// Where Préau keeps its state and logs on this server.
    #[serde(default)]
    pub paths: PathsSettings,
    /// The firewall (module `firewall`): zones, policies, NAT, port
    /// forwards, appliance services per zone, forced proxy.
    #[serde(default)]
    pub firewall: crate::modules::firewall::FirewallSettings,
    /// Accounts: logins, passwords, imports, Unix and Samba projection.
    #[serde(default)]
    pub accounts: crate::modules::accounts::settings::AccountsSettings,
    /// The Samba file server (module `shares`).
    #[serde(default)]
    pub shares: crate::modules::shares::settings::SharesSettings,
    /// The filtering web proxy (module `proxy`).
    #[serde(default)]
    pub proxy: crate::modules::proxy::settings::ProxySettings,
    /// School life (module `viescolaire`): half-days, alerts, the quiet
    /// period, attachments, rounding of averages.
    #[serde(default)]
    pub viescolaire: crate::modules::viescolaire::settings::VieScolaireSettings,
    /// Single sign-on for the school's other services: OpenID Connect
    /// clients and CAS services (see docs/sso.md).
    #[serde(default)]
    pub sso: crate::sso::SsoSettings,
    /// Backups (`preau backup`): the nightly ones, their rotation and
    /// encryption.
    #[serde(default)]
    pub backup: crate::backup::BackupSettings,
    /// The portal (home page): tiles of the school's services per role,
    /// each showing whether the service is up.
    #[serde(default)]
    pub portal: crate::web::tiles::PortalSettings,
    /// Resource booking: the open hours the statistics count the
    /// occupancy against.
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
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Establishment {
    /// UAI (formerly RNE) code of the establishment: seven digits and a
    /// letter, e.g. "0750001A". Imports from SIECLE and STS-web are checked
    /// against it.
    pub uai: String,
    /// Name of the establishment, shown on web pages and login sheets.
    pub name: String,
    /// Host name of this server: one DNS label, lower case.
    #[serde(default = "default_hostname")]
    pub hostname: String,
    /// DNS domain of the school network; the server's full name is
    /// `hostname.domain`.
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
                format!("\"{}\" is not a UAI code", self.uai),
                "a UAI is seven digits followed by an upper-case letter, e.g. \"0750001A\"",
            );
        }
        if self.name.trim().is_empty() {
            problems.push_hint(
                join(path, "name"),
                "the establishment name is empty",
                "write the name shown to users, e.g. \"Collège des Tilleuls\"",
            );
        }
        if !is_dns_label(&self.hostname) {
            problems.push_hint(
                join(path, "hostname"),
                format!("\"{}\" is not a valid host name", self.hostname),
                "use lower-case letters, digits and hyphens, at most 63 characters",
            );
        }
        if self.domain.is_empty() || !self.domain.split('.').all(is_dns_label) {
            problems.push_hint(
                join(path, "domain"),
                format!("\"{}\" is not a valid DNS domain", self.domain),
                "use dot-separated lower-case labels, e.g. \"college-tilleuls.lan\"",
            );
        }
    }
}

/// Modules to run on this server. The `system` module (the appliance
/// itself) always runs and is not listed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModulesSection {
    /// Names of the enabled modules; `preau modules list` shows them all.
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
                    format!("unknown module \"{name}\""),
                    format!("known modules: {}", known.join(", ")),
                ),
                Some(module) => {
                    for dep in module.depends_on() {
                        if dep != "system" && !self.enabled.iter().any(|e| e == dep) {
                            problems.push_hint(
                                at.clone(),
                                format!("module \"{name}\" needs module \"{dep}\""),
                                format!("add \"{dep}\" to modules.enabled"),
                            );
                        }
                    }
                }
            }
            if self.enabled[..i].contains(name) {
                problems.push(
                    super::problems::index(&join(path, "enabled"), i),
                    format!("module \"{name}\" is listed twice"),
                );
            }
        }
    }
}

/// The HTTPS daemon (`preau serve`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Addresses and ports the HTTPS server listens on.
    pub listen: Vec<String>,
    /// PEM certificate chain. Empty: the self-signed certificate that
    /// `preau init` generated in the state directory.
    pub certificate: String,
    /// PEM private key matching `certificate`. Empty: the generated one.
    pub private_key: String,
    /// Seconds open connections get to finish when the daemon stops.
    #[schemars(range(min = 0, max = 30))]
    pub shutdown_grace_seconds: u32,
    /// Addresses of a plain-HTTP listener that only redirects to HTTPS,
    /// e.g. ["[::]:80"]. Empty: no plain-HTTP listener.
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
                "no listen address",
                "give at least one, e.g. [\"[::]:443\"]",
            );
        }
        for (i, addr) in self.listen.iter().enumerate() {
            if addr.parse::<SocketAddr>().is_err() {
                problems.push_hint(
                    super::problems::index(&join(path, "listen"), i),
                    format!("\"{addr}\" is not an address and port"),
                    "write e.g. \"0.0.0.0:443\" or \"[::]:8443\"",
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
                "certificate and private_key go together",
                "set both, or neither to use the generated certificate",
            );
        }
        for (key, value) in [
            ("certificate", &self.certificate),
            ("private_key", &self.private_key),
        ] {
            if !value.is_empty() && !value.starts_with('/') {
                problems.push(join(path, key), format!("\"{value}\" is not an absolute path"));
            }
        }
    }
}

/// Directories Préau uses on the server.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PathsSettings {
    /// State directory: database, TLS material, saved rulesets.
    pub state_dir: String,
    /// Log directory (proxy connection logs).
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
                    format!("\"{value}\" is not an absolute path"),
                    "paths start with /",
                );
            } else if value.split('/').any(|c| c == "..") {
                problems.push(join(path, key), format!("\"{value}\" must not contain .."));
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
