//! The `[sso]` section of `preau.toml`: the OpenID Connect clients and
//! CAS services allowed to sign people in through Préau.

use crate::config::problems::{Problems, index, join};
use crate::config::settings::Validate;
use crate::msg;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The roles a client or service may be opened to, as written in
/// `roles`; they are also the values of the `role` claim and attribute.
pub const ROLES: &[&str] = &[
    "admin",
    "direction",
    "cpe",
    "teacher",
    "staff",
    "student",
    "parent",
];

/// Single sign-on: Préau as an OpenID Connect provider and a CAS server
/// for the school's other services (Nextcloud, Moodle, a wiki, GEPI,
/// Pronote…). Served by `preau serve`.
///
/// fr: L'authentification unique : Préau fournisseur OpenID Connect et serveur
/// CAS pour les autres services de l'établissement (Nextcloud, Moodle, un wiki,
/// GEPI, Pronote…). Servi par `preau serve`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SsoSettings {
    /// Public HTTPS address of this server as the services reach it, e.g.
    /// "https://scribe.tilleuls.lan"; it is the OpenID Connect issuer and
    /// the base of every endpoint. Empty: "https://<hostname>.<domain>".
    ///
    /// fr: Adresse HTTPS publique de ce serveur telle que les services
    /// l'atteignent, par exemple « https://scribe.tilleuls.lan » ; c'est
    /// l'émetteur OpenID Connect et la base de chaque point d'accès. Vide : «
    /// https://<hostname>.<domain> ».
    pub issuer: String,
    /// Seconds an authorization code (OpenID Connect) stays valid.
    ///
    /// fr: Secondes de validité d'un code d'autorisation (OpenID Connect).
    #[schemars(range(min = 10, max = 600))]
    pub code_seconds: u32,
    /// Seconds an access token and an ID token stay valid.
    ///
    /// fr: Secondes de validité d'un jeton d'accès et d'un jeton d'identité.
    #[schemars(range(min = 60, max = 86400))]
    pub token_seconds: u32,
    /// Days a refresh token stays valid unused; each use replaces it.
    ///
    /// fr: Jours de validité d'un jeton de rafraîchissement inutilisé ; chaque
    /// usage le remplace.
    #[schemars(range(min = 1, max = 365))]
    pub refresh_days: u32,
    /// Days a signing key is used before a new one replaces it; the old
    /// key stays in the key set until the tokens it signed have expired.
    ///
    /// fr: Jours d'usage d'une clé de signature avant qu'une nouvelle la
    /// remplace ; l'ancienne reste dans le jeu de clés jusqu'à l'expiration des
    /// jetons qu'elle a signés.
    #[schemars(range(min = 1, max = 3650))]
    pub key_rotation_days: u32,
    /// Seconds a CAS service ticket stays valid.
    ///
    /// fr: Secondes de validité d'un ticket de service CAS.
    #[schemars(range(min = 5, max = 300))]
    pub ticket_seconds: u32,
    /// OpenID Connect clients (relying parties).
    ///
    /// fr: Les clients OpenID Connect (services qui s'appuient sur Préau).
    pub oidc_clients: Vec<OidcClient>,
    /// CAS services.
    ///
    /// fr: Les services CAS.
    pub cas_services: Vec<CasService>,
}

impl Default for SsoSettings {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            code_seconds: 60,
            token_seconds: 600,
            refresh_days: 30,
            key_rotation_days: 90,
            ticket_seconds: 10,
            oidc_clients: Vec::new(),
            cas_services: Vec::new(),
        }
    }
}

/// One OpenID Connect client, e.g. the school's Nextcloud.
///
/// fr: Un client OpenID Connect, par exemple le Nextcloud de l'établissement.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OidcClient {
    /// The client identifier the service is configured with, e.g.
    /// "nextcloud": letters, digits, `-`, `_` and `.`.
    ///
    /// fr: L'identifiant de client avec lequel le service est configuré, par
    /// exemple « nextcloud » : lettres, chiffres, `-`, `_` et `.`.
    pub id: String,
    /// Name shown to people on the consent page, e.g. "Nextcloud du collège".
    ///
    /// fr: Nom montré aux utilisateurs sur la page de consentement, par exemple
    /// « Nextcloud du collège ».
    pub name: String,
    /// SHA-256 (64 hexadecimal digits) of the client secret, e.g. the
    /// output of `printf %s "$SECRET" | sha256sum`; generate the secret
    /// with `openssl rand -hex 32`. Empty: a public client (no secret; it
    /// must use PKCE).
    ///
    /// fr: SHA-256 (64 chiffres hexadécimaux) du secret du client, par exemple
    /// la sortie de `printf %s "$SECRET" | sha256sum` ; créez le secret avec
    /// `openssl rand -hex 32`. Vide : un client public (sans secret ; il doit
    /// utiliser PKCE).
    #[serde(default)]
    pub secret_sha256: String,
    /// Addresses the service may be sent back to after sign-in, compared
    /// exactly (scheme, host, port, path and query).
    ///
    /// fr: Adresses vers lesquelles le service peut être renvoyé après la
    /// connexion, comparées exactement (schéma, hôte, port, chemin et
    /// paramètres).
    pub redirect_uris: Vec<String>,
    /// Addresses the service may ask to be sent to after sign-out.
    ///
    /// fr: Adresses vers lesquelles le service peut demander à être renvoyé
    /// après la déconnexion.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Address Préau posts a logout token to when a person signs out
    /// (OpenID Connect back-channel logout). Empty: none.
    ///
    /// fr: Adresse à laquelle Préau envoie un jeton de déconnexion quand une
    /// personne se déconnecte (déconnexion par canal arrière OpenID Connect).
    /// Vide : aucune.
    #[serde(default)]
    pub backchannel_logout_uri: String,
    /// Roles allowed to use the service (admin, direction, cpe, teacher,
    /// staff, student, parent). Empty: everyone.
    ///
    /// fr: Rôles qui peuvent utiliser le service (admin, direction, cpe,
    /// teacher, staff, student, parent). Vide : tout le monde.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Ask people to agree before their identity is first given to the
    /// service; their answer is remembered per service. Off for services
    /// of the school itself that need no consent.
    ///
    /// fr: Demander l'accord des personnes avant de donner leur identité au
    /// service pour la première fois ; leur réponse est retenue par service.
    /// Désactivé pour les services de l'établissement lui-même, qui n'ont pas
    /// besoin de consentement.
    #[serde(default = "yes")]
    pub consent: bool,
    /// Require PKCE (S256) even from a confidential client.
    ///
    /// fr: Exiger PKCE (S256) même d'un client confidentiel.
    #[serde(default = "yes")]
    pub require_pkce: bool,
}

fn yes() -> bool {
    true
}

/// One CAS service, e.g. GEPI.
///
/// fr: Un service CAS, par exemple GEPI.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CasService {
    /// Name of the service, shown in logs, e.g. "GEPI".
    ///
    /// fr: Nom du service, montré dans les journaux, par exemple « GEPI ».
    pub name: String,
    /// Service addresses allowed to ask for tickets. A pattern is an
    /// address compared exactly, or, when it ends with `*`, a prefix; the
    /// prefix must include the path's first `/` after the host, e.g.
    /// "https://gepi.tilleuls.lan/*".
    ///
    /// fr: Adresses de service autorisées à demander des tickets. Un modèle est
    /// une adresse comparée exactement ou, quand il finit par `*`, un préfixe ;
    /// le préfixe doit comprendre le premier `/` du chemin après l'hôte, par
    /// exemple « https://gepi.tilleuls.lan/* ».
    pub services: Vec<String>,
    /// Roles allowed to use the service. Empty: everyone.
    ///
    /// fr: Rôles qui peuvent utiliser le service. Vide : tout le monde.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl SsoSettings {
    /// The issuer address, without a trailing slash.
    pub fn issuer(&self, establishment: &crate::config::settings::Establishment) -> String {
        if self.issuer.is_empty() {
            format!("https://{}", establishment.fqdn())
        } else {
            self.issuer.trim_end_matches('/').to_string()
        }
    }

    pub fn client(&self, id: &str) -> Option<&OidcClient> {
        self.oidc_clients.iter().find(|c| c.id == id)
    }

    /// The CAS service named `name`.
    pub fn cas_service_named(&self, name: &str) -> Option<&CasService> {
        self.cas_services.iter().find(|s| s.name == name)
    }

    /// The CAS service whose patterns admit `url`.
    pub fn cas_service(&self, url: &str) -> Option<&CasService> {
        self.cas_services
            .iter()
            .find(|s| s.services.iter().any(|p| service_matches(p, url)))
    }
}

impl OidcClient {
    pub fn is_public(&self) -> bool {
        self.secret_sha256.is_empty()
    }
}

/// Whether the CAS service address `url` matches `pattern` (see
/// [`CasService::services`]).
pub fn service_matches(pattern: &str, url: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => url.starts_with(prefix),
        None => url == pattern,
    }
}

/// Splits an absolute http(s) address into (scheme, authority, rest).
fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return None;
    }
    Some((scheme, authority, tail))
}

/// Why `url` cannot be a redirect address, if it cannot.
/// Why `url` cannot be a redirect address, if it cannot: the end of a
/// sentence about it, in English and in French.
fn redirect_problem(url: &str) -> Option<(&'static str, &'static str)> {
    let Some((scheme, authority, tail)) = split_url(url) else {
        return Some((
            "is not an absolute http(s) address",
            "n'est pas une adresse http(s) absolue",
        ));
    };
    if tail.contains('#') {
        return Some((
            "must not contain a fragment (#)",
            "ne doit pas contenir de fragment (#)",
        ));
    }
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let loopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
    if scheme == "http" && !loopback {
        return Some((
            "must use https (http is allowed for localhost only)",
            "doit être en https (http n'est permis que pour localhost)",
        ));
    }
    None
}

fn client_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn check_roles(path: &str, roles: &[String], problems: &mut Problems) {
    for (i, role) in roles.iter().enumerate() {
        if !ROLES.contains(&role.as_str()) {
            problems.push_hint(
                index(&join(path, "roles"), i),
                msg!("unknown role \"{role}\"", "rôle inconnu « {role} »"),
                msg!(
                    en("roles are: {}", ROLES.join(", ")),
                    fr("les rôles sont : {}", ROLES.join(", "))
                ),
            );
        }
    }
}

impl Validate for SsoSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        if !self.issuer.is_empty() {
            match split_url(&self.issuer) {
                Some(("https", _, tail)) if !tail.contains(['?', '#']) => {}
                _ => problems.push_hint(
                    join(path, "issuer"),
                    msg!(
                        en("\"{}\" is not an https address", self.issuer),
                        fr("« {} » n'est pas une adresse https", self.issuer)
                    ),
                    msg!(
                        "write e.g. \"https://scribe.tilleuls.lan\", without query or fragment",
                        "écrivez par exemple « https://scribe.tilleuls.lan », sans paramètres ni fragment"
                    ),
                ),
            }
        }
        let clients = join(path, "oidc_clients");
        for (i, c) in self.oidc_clients.iter().enumerate() {
            let at = index(&clients, i);
            if !client_id_ok(&c.id) {
                problems.push_hint(
                    join(&at, "id"),
                    msg!(
                        en("\"{}\" is not a client identifier", c.id),
                        fr("« {} » n'est pas un identifiant de client", c.id)
                    ),
                    msg!(
                        "use 1 to 64 letters, digits, '-', '_' or '.'",
                        "utilisez de 1 à 64 lettres, chiffres, « - », « _ » ou « . »"
                    ),
                );
            } else if self.oidc_clients[..i].iter().any(|o| o.id == c.id) {
                problems.push(
                    join(&at, "id"),
                    msg!(
                        en("client \"{}\" is declared twice", c.id),
                        fr("le client « {} » est déclaré deux fois", c.id)
                    ),
                );
            }
            if c.name.trim().is_empty() {
                problems.push_hint(
                    join(&at, "name"),
                    msg!("the name is empty", "le nom est vide"),
                    msg!(
                        "people see it on the consent page",
                        "les utilisateurs le voient sur la page de consentement"
                    ),
                );
            }
            let hex = c.secret_sha256.len() == 64 && c.secret_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !c.secret_sha256.is_empty() && !hex {
                problems.push_hint(
                    join(&at, "secret_sha256"),
                    msg!(
                        "is not a SHA-256 in hexadecimal (64 digits)",
                        "n'est pas une empreinte SHA-256 en hexadécimal (64 chiffres)"
                    ),
                    msg!(
                        "write the output of `printf %s \"$SECRET\" | sha256sum`, never the secret itself",
                        "écrivez la sortie de `printf %s \"$SECRET\" | sha256sum`, jamais le secret lui-même"
                    ),
                );
            }
            if c.redirect_uris.is_empty() {
                problems.push_hint(
                    join(&at, "redirect_uris"),
                    msg!("no redirect address", "aucune adresse de retour"),
                    msg!("give the address the service documents, e.g. \"https://cloud.tilleuls.lan/apps/user_oidc/code\"", "donnez l'adresse que le service documente, par exemple « https://cloud.tilleuls.lan/apps/user_oidc/code »"),
                );
            }
            for (key, list) in [
                ("redirect_uris", &c.redirect_uris),
                ("post_logout_redirect_uris", &c.post_logout_redirect_uris),
            ] {
                for (j, uri) in list.iter().enumerate() {
                    if let Some(why) = redirect_problem(uri) {
                        problems.push(
                            index(&join(&at, key), j),
                            msg!(en("\"{uri}\" {}", why.0), fr("« {uri} » {}", why.1)),
                        );
                    }
                }
            }
            if !c.backchannel_logout_uri.is_empty()
                && let Some(why) = redirect_problem(&c.backchannel_logout_uri)
            {
                problems.push(
                    join(&at, "backchannel_logout_uri"),
                    msg!(
                        en("\"{}\" {}", c.backchannel_logout_uri, why.0),
                        fr("« {} » {}", c.backchannel_logout_uri, why.1)
                    ),
                );
            }
            check_roles(&at, &c.roles, problems);
        }
        let services = join(path, "cas_services");
        for (i, s) in self.cas_services.iter().enumerate() {
            let at = index(&services, i);
            if s.name.trim().is_empty() {
                problems.push(join(&at, "name"), msg!("the name is empty", "le nom est vide"));
            }
            if s.services.is_empty() {
                problems.push_hint(
                    join(&at, "services"),
                    msg!("no service address", "aucune adresse de service"),
                    msg!(
                        "give e.g. \"https://gepi.tilleuls.lan/*\"",
                        "donnez par exemple « https://gepi.tilleuls.lan/* »"
                    ),
                );
            }
            for (j, pattern) in s.services.iter().enumerate() {
                let p = index(&join(&at, "services"), j);
                let literal = pattern.strip_suffix('*').unwrap_or(pattern);
                if literal.contains('*') {
                    problems.push_hint(
                        p,
                        msg!(
                            "\"{pattern}\" has a * before its end",
                            "« {pattern} » a un * avant sa fin"
                        ),
                        msg!("only a final * is allowed", "seul un * final est permis"),
                    );
                    continue;
                }
                match split_url(literal) {
                    Some((_, _, tail)) if !pattern.ends_with('*') || tail.starts_with('/') => {
                        if let Some(why) = redirect_problem(literal.trim_end_matches(['?', '&'])) {
                            problems.push(p, msg!(en("\"{pattern}\" {}", why.0), fr("« {pattern} » {}", why.1)));
                        }
                    }
                    Some(_) => problems.push_hint(
                        p,
                        msg!("\"{pattern}\" would match other hosts", "« {pattern} » reconnaîtrait d'autres hôtes"),
                        msg!("end the host with a '/' before the '*', e.g. \"https://gepi.tilleuls.lan/*\"", "terminez l'hôte par un « / » avant le « * », par exemple « https://gepi.tilleuls.lan/* »"),
                    ),
                    None => problems.push(p, msg!("\"{pattern}\" is not an absolute http(s) address", "« {pattern} » n'est pas une adresse http(s) absolue")),
                }
            }
            check_roles(&at, &s.roles, problems);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str) -> OidcClient {
        OidcClient {
            id: id.into(),
            name: "Nextcloud".into(),
            secret_sha256: String::new(),
            redirect_uris: vec!["https://cloud.tilleuls.lan/apps/user_oidc/code".into()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: String::new(),
            roles: vec![],
            consent: true,
            require_pkce: true,
        }
    }

    fn problems_of(s: &SsoSettings) -> Vec<(String, String)> {
        let mut p = Problems::default();
        s.validate("sso", &mut p);
        p.into_vec()
            .into_iter()
            .inspect(|p| assert!(!p.message.fr.is_empty() && p.message.fr != p.message.en, "{p:?}"))
            .map(|p| (p.path, p.message.en))
            .collect()
    }

    #[test]
    fn a_good_section_has_no_problem() {
        let s = SsoSettings {
            issuer: "https://scribe.tilleuls.lan/".into(),
            oidc_clients: vec![client("nextcloud")],
            cas_services: vec![CasService {
                name: "GEPI".into(),
                services: vec![
                    "https://gepi.tilleuls.lan/*".into(),
                    "http://localhost:8080/cas".into(),
                ],
                roles: vec!["teacher".into()],
            }],
            ..SsoSettings::default()
        };
        assert_eq!(problems_of(&s), vec![]);
    }

    #[test]
    fn every_problem_is_reported_with_its_key_path() {
        let mut bad = client("next cloud");
        bad.name = " ".into();
        bad.secret_sha256 = "secret".into();
        bad.redirect_uris = vec![
            "http://cloud.tilleuls.lan/cb".into(),
            "https://a/#x".into(),
            "cloud".into(),
        ];
        bad.roles = vec!["eleve".into()];
        bad.backchannel_logout_uri = "ftp://x".into();
        let s = SsoSettings {
            issuer: "http://scribe".into(),
            oidc_clients: vec![client("moodle"), client("moodle"), bad],
            cas_services: vec![CasService {
                name: "".into(),
                services: vec![
                    "https://gepi.tilleuls.lan*".into(),
                    "https://*.lan/".into(),
                    "gepi".into(),
                ],
                roles: vec!["prof".into()],
            }],
            ..SsoSettings::default()
        };
        let paths: Vec<String> = problems_of(&s).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            vec![
                "sso.issuer",
                "sso.oidc_clients[1].id",
                "sso.oidc_clients[2].id",
                "sso.oidc_clients[2].name",
                "sso.oidc_clients[2].secret_sha256",
                "sso.oidc_clients[2].redirect_uris[0]",
                "sso.oidc_clients[2].redirect_uris[1]",
                "sso.oidc_clients[2].redirect_uris[2]",
                "sso.oidc_clients[2].backchannel_logout_uri",
                "sso.oidc_clients[2].roles[0]",
                "sso.cas_services[0].name",
                "sso.cas_services[0].services[0]",
                "sso.cas_services[0].services[1]",
                "sso.cas_services[0].services[2]",
                "sso.cas_services[0].roles[0]",
            ]
        );
    }

    #[test]
    fn service_patterns() {
        assert!(service_matches(
            "https://gepi.lan/*",
            "https://gepi.lan/login.php?x=1"
        ));
        assert!(!service_matches(
            "https://gepi.lan/*",
            "https://gepi.lan.evil.fr/"
        ));
        assert!(service_matches("https://gepi.lan/cas", "https://gepi.lan/cas"));
        assert!(!service_matches("https://gepi.lan/cas", "https://gepi.lan/cas?x"));
    }
}
