//! The `[proxy]` section of `preau.toml`.

use crate::config::problems::{Problems, index, join};
use crate::config::settings::Validate;
use crate::msg;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The filtering web proxy, run inside `preau serve` when the `proxy`
/// module is enabled.
///
/// fr: Le proxy web filtrant, qui tourne dans `preau serve` quand le module
/// `proxy` est activé.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ProxySettings {
    /// Addresses of the explicit proxy (browsers configured to use it,
    /// absolute-form requests and CONNECT), e.g. ["0.0.0.0:3128"].
    ///
    /// fr: Adresses du proxy explicite (navigateurs réglés pour l'utiliser,
    /// requêtes en forme absolue et CONNECT), par exemple ["0.0.0.0:3128"].
    pub listen: Vec<String>,
    /// Addresses receiving plain HTTP that the firewall redirects
    /// (transparent mode: the destination is taken from the Host header).
    ///
    /// fr: Adresses qui reçoivent le HTTP en clair redirigé par le pare-feu
    /// (mode transparent : la destination est lue dans l'en-tête Host).
    pub transparent_http: Vec<String>,
    /// Addresses receiving HTTPS that the firewall redirects (transparent
    /// mode: the destination name is read from the TLS ClientHello (SNI),
    /// the connection is then spliced, never decrypted).
    ///
    /// fr: Adresses qui reçoivent le HTTPS redirigé par le pare-feu (mode
    /// transparent : le nom de destination est lu dans le ClientHello TLS
    /// (SNI), puis la connexion est relayée telle quelle, jamais déchiffrée).
    pub transparent_https: Vec<String>,
    /// Parent proxy every request is chained to, as "host:port"; empty:
    /// connect to origin servers directly.
    ///
    /// fr: Proxy parent auquel chaque requête est enchaînée, sous la forme «
    /// hôte:port » ; vide : connexion directe aux serveurs d'origine.
    pub parent: String,
    /// Ports CONNECT tunnels may reach; empty: any port.
    ///
    /// fr: Ports que les tunnels CONNECT peuvent atteindre ; vide : tous les
    /// ports.
    pub connect_ports: Vec<u16>,
    /// Allow requests to loopback destinations (127.0.0.0/8, ::1,
    /// localhost, 0.0.0.0). Off: the proxy cannot be used to reach services
    /// that listen on this server's loopback only (names are checked as
    /// written, not after resolution).
    ///
    /// fr: Permettre les requêtes vers les destinations locales (127.0.0.0/8,
    /// ::1, localhost, 0.0.0.0). Désactivé : le proxy ne peut pas servir à
    /// atteindre les services qui n'écoutent que sur la boucle locale de ce
    /// serveur (les noms sont vérifiés tels qu'écrits, pas après résolution).
    pub local_destinations: bool,
    /// Proxy authentication (explicit proxy only): "off" (users are known
    /// by their address only), "optional" (credentials used when given) or
    /// "required" (407 until the browser gives valid credentials).
    ///
    /// fr: Authentification au proxy (proxy explicite seulement) : « off » (les
    /// utilisateurs ne sont connus que par leur adresse), « optional »
    /// (identifiants utilisés quand ils sont donnés) ou « required » (407 tant
    /// que le navigateur ne donne pas d'identifiants valides).
    pub authentication: AuthMode,
    /// Seconds a verified login and password stay cached.
    ///
    /// fr: Secondes pendant lesquelles un identifiant et un mot de passe
    /// vérifiés restent en cache.
    #[schemars(range(min = 0, max = 3600))]
    pub auth_cache_seconds: u32,
    /// Directory holding the installed category lists (UT1 layout: one
    /// folder per category with `domains`, `urls`, `usage`), installed by
    /// `preau blacklists update`. Empty: `<state_dir>/blacklists`.
    ///
    /// fr: Répertoire des listes de catégories installées (organisation UT1 :
    /// un dossier par catégorie avec `domains`, `urls`, `usage`), installées
    /// par `preau blacklists update`. Vide : `<state_dir>/blacklists`.
    pub lists_dir: String,
    /// Days connection logs are kept under `<log_dir>/proxy/` before they
    /// are deleted (a year is the legal habit).
    ///
    /// fr: Jours de conservation des journaux de connexion sous
    /// `<log_dir>/proxy/` avant leur suppression (un an est l'usage légal).
    #[schemars(range(min = 1, max = 3650))]
    pub log_retention_days: u32,
    /// Most client connections open at once; past it new ones are refused.
    ///
    /// fr: Nombre maximal de connexions clientes ouvertes en même temps ;
    /// au-delà, les nouvelles sont refusées.
    #[schemars(range(min = 1, max = 1000000))]
    pub max_connections: u32,
    /// Largest request head (request line and headers) accepted, in bytes.
    ///
    /// fr: Plus grand en-tête de requête accepté (ligne de requête et
    /// en-têtes), en octets.
    #[schemars(range(min = 1024, max = 1048576))]
    pub max_header_bytes: u32,
    /// Seconds a client gets to send a complete request head.
    ///
    /// fr: Secondes laissées à un client pour envoyer un en-tête de requête
    /// complet.
    #[schemars(range(min = 1, max = 600))]
    pub header_timeout_seconds: u32,
    /// Seconds without traffic after which a tunnel or an idle connection
    /// is closed.
    ///
    /// fr: Secondes sans trafic après lesquelles un tunnel ou une connexion
    /// inactive est fermé.
    #[schemars(range(min = 1, max = 86400))]
    pub idle_timeout_seconds: u32,
    /// Seconds allowed to connect to an origin server (or the parent).
    ///
    /// fr: Secondes permises pour se connecter à un serveur d'origine (ou au
    /// parent).
    #[schemars(range(min = 1, max = 300))]
    pub connect_timeout_seconds: u32,
    /// Who to ask to unblock a site, shown on the block page, e.g.
    /// "le professeur documentaliste ou l'administrateur réseau".
    ///
    /// fr: À qui demander le déblocage d'un site, affiché sur la page de
    /// blocage, par exemple « le professeur documentaliste ou l'administrateur
    /// réseau ».
    pub contact: String,
    /// Named groups of source addresses (a computer room, a zone's subnet),
    /// used by policies and exam mode. Policies and exams may also name a
    /// firewall zone (module `firewall`): its `subnets` are its addresses.
    ///
    /// fr: Groupes nommés d'adresses sources (une salle informatique, le
    /// sous-réseau d'une zone), utilisés par les politiques et le mode examen.
    /// Politiques et examens peuvent aussi nommer une zone du pare-feu (module
    /// `firewall`) : ses `subnets` sont ses adresses.
    pub sources: Vec<SourceGroup>,
    /// Domains always reachable in exam mode (whitelist-only), on top of
    /// the ones given to `preau proxy exam`.
    ///
    /// fr: Domaines toujours joignables en mode examen (liste blanche seule),
    /// en plus de ceux donnés à `preau proxy exam`.
    pub exam_allow: Vec<String>,
    /// Filtering policies, tried in order: the first that matches the user
    /// and source of a request decides.
    ///
    /// fr: Politiques de filtrage, essayées dans l'ordre : la première qui
    /// correspond à l'utilisateur et à la source d'une requête décide.
    pub policies: Vec<Policy>,
    /// Policy applied when none of `policies` matches.
    ///
    /// fr: Politique appliquée quand aucune de `policies` ne correspond.
    pub default_policy: Policy,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            listen: vec!["0.0.0.0:3128".into()],
            transparent_http: Vec::new(),
            transparent_https: Vec::new(),
            parent: String::new(),
            connect_ports: vec![443],
            local_destinations: false,
            authentication: AuthMode::Off,
            auth_cache_seconds: 60,
            lists_dir: String::new(),
            log_retention_days: 365,
            max_connections: 10000,
            max_header_bytes: 32 * 1024,
            header_timeout_seconds: 15,
            idle_timeout_seconds: 300,
            connect_timeout_seconds: 10,
            contact: "l'administrateur réseau de l'établissement".into(),
            sources: Vec::new(),
            exam_allow: Vec::new(),
            policies: Vec::new(),
            default_policy: Policy::default(),
        }
    }
}

/// Proxy authentication mode.
///
/// fr: Mode d'authentification au proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    #[default]
    Off,
    Optional,
    Required,
}

/// A named group of source addresses.
///
/// fr: Un groupe nommé d'adresses sources.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SourceGroup {
    /// Name used by policies and `preau proxy exam`, e.g. "salle-b12".
    ///
    /// fr: Nom utilisé par les politiques et `preau proxy exam`, par exemple «
    /// salle-b12 ».
    pub name: String,
    /// Addresses and subnets, e.g. ["10.0.12.0/24", "10.0.0.5"].
    ///
    /// fr: Adresses et sous-réseaux, par exemple ["10.0.12.0/24", "10.0.0.5"].
    pub addresses: Vec<String>,
    /// The timetable rooms (the `room` of the school-life timetable, e.g.
    /// ["B12"]) whose computers are on these addresses: a teacher with a
    /// lesson in one of them may switch this group to exam mode or cut its
    /// internet from the classroom tools (`/console/salles`).
    /// Administrators may do it for every group; empty: only them.
    ///
    /// fr: Les salles de l'emploi du temps (le `room` de l'emploi du temps de
    /// la vie scolaire, par exemple ["B12"]) dont les ordinateurs ont ces
    /// adresses : un professeur qui a cours dans l'une d'elles peut passer ce
    /// groupe en mode examen ou lui couper internet depuis les outils de la
    /// classe (`/console/salles`). Les administrateurs le peuvent pour tous les
    /// groupes ; vide : eux seuls.
    pub rooms: Vec<String>,
}

/// One filtering policy.
///
/// fr: Une politique de filtrage.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Name shown in `preau proxy check`, the logs and the block page
    /// (the default policy is called "défaut" when unnamed).
    ///
    /// fr: Nom montré par `preau proxy check`, dans les journaux et sur la page
    /// de blocage (la politique par défaut s'appelle « défaut » quand elle n'a
    /// pas de nom).
    pub name: String,
    /// Directory groups of the user (e.g. "eleves", "profs"); empty: any
    /// user, authenticated or not.
    ///
    /// fr: Groupes de l'annuaire de l'utilisateur (par exemple « eleves », «
    /// profs ») ; vide : tout utilisateur, authentifié ou non.
    pub groups: Vec<String>,
    /// Source groups (from `sources`) the request must come from; empty:
    /// any address.
    ///
    /// fr: Groupes de sources (de `sources`) d'où la requête doit venir ; vide
    /// : toute adresse.
    pub sources: Vec<String>,
    /// Time windows when the policy applies; empty: always.
    ///
    /// fr: Plages horaires pendant lesquelles la politique s'applique ; vide :
    /// toujours.
    pub windows: Vec<TimeWindow>,
    /// Categories of the lists that are blocked, e.g. ["adult", "games"];
    /// by default the categories harmful to minors.
    ///
    /// fr: Catégories des listes qui sont bloquées, par exemple ["adult",
    /// "games"] ; par défaut les catégories nuisibles aux mineurs.
    pub block: Vec<String>,
    /// Domains always allowed (with their subdomains), before any list.
    ///
    /// fr: Domaines toujours permis (avec leurs sous-domaines), avant toute
    /// liste.
    pub allow: Vec<String>,
    /// Domains always denied (with their subdomains).
    ///
    /// fr: Domaines toujours refusés (avec leurs sous-domaines).
    pub deny: Vec<String>,
    /// Deny everything not in `allow` (or an allowing category of
    /// `allow_categories`).
    ///
    /// fr: Refuser tout ce qui n'est pas dans `allow` (ou dans une catégorie
    /// permise de `allow_categories`).
    pub whitelist_only: bool,
    /// Categories whose sites are allowed even in whitelist-only mode,
    /// e.g. ["liste_blanche"].
    ///
    /// fr: Catégories dont les sites sont permis même en mode liste blanche
    /// seule, par exemple ["liste_blanche"].
    pub allow_categories: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            name: String::new(),
            groups: Vec::new(),
            sources: Vec::new(),
            windows: Vec::new(),
            block: ["adult", "agressif", "malware", "phishing"]
                .map(String::from)
                .to_vec(),
            allow: Vec::new(),
            deny: Vec::new(),
            whitelist_only: false,
            allow_categories: Vec::new(),
        }
    }
}

/// A weekly time window, in the server's local time.
///
/// fr: Une plage horaire hebdomadaire, à l'heure locale du serveur.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TimeWindow {
    /// Days: "mon" "tue" "wed" "thu" "fri" "sat" "sun"; empty: every day.
    ///
    /// fr: Jours : « mon » « tue » « wed » « thu » « fri » « sat » « sun » ;
    /// vide : tous les jours.
    pub days: Vec<String>,
    /// Start, "HH:MM" (included).
    ///
    /// fr: Début, « HH:MM » (compris).
    pub from: String,
    /// End, "HH:MM" (excluded); may be earlier than `from` to cross midnight.
    ///
    /// fr: Fin, « HH:MM » (exclue) ; peut précéder `from` pour passer minuit.
    pub to: String,
}

/// Parses "HH:MM" into minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Whether `s` is a host:port (name or address).
fn is_host_port(s: &str) -> bool {
    if s.parse::<SocketAddr>().is_ok() {
        return true;
    }
    match s.rsplit_once(':') {
        Some((h, p)) => !h.is_empty() && p.parse::<u16>().is_ok() && !h.contains(['/', ' ']),
        None => false,
    }
}

fn check_policy(p: &Policy, path: &str, problems: &mut Problems) {
    for (i, w) in p.windows.iter().enumerate() {
        let at = index(&join(path, "windows"), i);
        for (key, v) in [("from", &w.from), ("to", &w.to)] {
            if parse_hhmm(v).is_none() {
                problems.push_hint(
                    join(&at, key),
                    msg!("\"{v}\" is not a time", "« {v} » n'est pas une heure"),
                    msg!(
                        "write HH:MM, e.g. \"12:00\"",
                        "écrivez HH:MM, par exemple « 12:00 »"
                    ),
                );
            }
        }
        for (j, d) in w.days.iter().enumerate() {
            if !DAYS.contains(&d.as_str()) {
                problems.push_hint(
                    index(&join(&at, "days"), j),
                    msg!("\"{d}\" is not a day", "« {d} » n'est pas un jour"),
                    msg!(
                        "use mon tue wed thu fri sat sun",
                        "utilisez mon tue wed thu fri sat sun (lundi … dimanche)"
                    ),
                );
            }
        }
    }
    for key in ["allow", "deny"] {
        let list = if key == "allow" { &p.allow } else { &p.deny };
        for (i, d) in list.iter().enumerate() {
            if super::lists::normalize_host(d).is_none() {
                problems.push_hint(
                    index(&join(path, key), i),
                    msg!(
                        "\"{d}\" is not a domain name",
                        "« {d} » n'est pas un nom de domaine"
                    ),
                    msg!(
                        "write a bare name such as \"wikipedia.org\" (its subdomains are included)",
                        "écrivez un nom seul comme « wikipedia.org » (ses sous-domaines sont compris)"
                    ),
                );
            }
        }
    }
}

impl ProxySettings {
    /// The source names of the policies: a declared source group, or a
    /// firewall zone with subnets (`zones`: [`super::zone_sources`]); a
    /// source group may not take a zone's name. Run by the module's
    /// `validate`, which sees the firewall's settings.
    pub fn check_sources(&self, path: &str, zones: &[SourceGroup], problems: &mut Problems) {
        for (i, g) in self.sources.iter().enumerate() {
            if zones.iter().any(|z| z.name == g.name) {
                problems.push_hint(
                    join(&index(&join(path, "sources"), i), "name"),
                    msg!(
                        en("source group \"{}\" has the name of a firewall zone", g.name),
                        fr(
                            "le groupe de sources « {} » porte le nom d'une zone du pare-feu",
                            g.name
                        )
                    ),
                    msg!(
                        "name the zone directly in policies, or give the group another name",
                        "nommez directement la zone dans les politiques, ou donnez un autre nom au groupe"
                    ),
                );
            }
        }
        let policies = self
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| (index(&join(path, "policies"), i), p))
            .chain(std::iter::once((
                join(path, "default_policy"),
                &self.default_policy,
            )));
        for (at, p) in policies {
            for (i, s) in p.sources.iter().enumerate() {
                let at = index(&join(&at, "sources"), i);
                if self.sources.iter().any(|g| &g.name == s) {
                    continue;
                }
                match zones.iter().find(|z| &z.name == s) {
                    Some(z) if z.addresses.is_empty() => problems.push_hint(
                        at,
                        msg!("firewall zone \"{s}\" has no subnets: the proxy cannot tell its addresses", "la zone du pare-feu « {s} » n'a pas de sous-réseaux : le proxy ne peut pas reconnaître ses adresses"),
                        msg!("give the zone its subnets ([[firewall.zones]] name = \"{s}\", subnets = [\"10.1.0.0/16\"])", "donnez ses sous-réseaux à la zone ([[firewall.zones]] name = \"{s}\", subnets = [\"10.1.0.0/16\"])"),
                    ),
                    Some(_) => {}
                    None => problems.push_hint(
                        at,
                        msg!("unknown source group \"{s}\"", "groupe de sources inconnu « {s} »"),
                        msg!("declare it in [[proxy.sources]] with its addresses, or name a firewall zone that has subnets", "déclarez-le dans [[proxy.sources]] avec ses adresses, ou nommez une zone du pare-feu qui a des sous-réseaux"),
                    ),
                }
            }
        }
    }
}

impl Validate for ProxySettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        for key in ["listen", "transparent_http", "transparent_https"] {
            let list = match key {
                "listen" => &self.listen,
                "transparent_http" => &self.transparent_http,
                _ => &self.transparent_https,
            };
            for (i, a) in list.iter().enumerate() {
                if a.parse::<SocketAddr>().is_err() {
                    problems.push_hint(
                        index(&join(path, key), i),
                        msg!(
                            "\"{a}\" is not an address and port",
                            "« {a} » n'est pas une adresse suivie d'un port"
                        ),
                        msg!(
                            "write e.g. \"0.0.0.0:3128\"",
                            "écrivez par exemple « 0.0.0.0:3128 »"
                        ),
                    );
                }
            }
        }
        if !self.parent.is_empty() && !is_host_port(&self.parent) {
            problems.push_hint(
                join(path, "parent"),
                msg!(
                    en("\"{}\" is not host:port", self.parent),
                    fr("« {} » n'est pas de la forme hôte:port", self.parent)
                ),
                msg!(
                    "write e.g. \"proxy.ac-exemple.fr:3128\", or leave it empty",
                    "écrivez par exemple « proxy.ac-exemple.fr:3128 », ou laissez vide"
                ),
            );
        }
        if !self.lists_dir.is_empty() && !self.lists_dir.starts_with('/') {
            problems.push(
                join(path, "lists_dir"),
                msg!(
                    en("\"{}\" is not an absolute path", self.lists_dir),
                    fr("« {} » n'est pas un chemin absolu", self.lists_dir)
                ),
            );
        }
        for (i, g) in self.sources.iter().enumerate() {
            let at = index(&join(path, "sources"), i);
            if g.name.is_empty() {
                problems.push(
                    join(&at, "name"),
                    msg!(
                        "a source group needs a name",
                        "un groupe de sources doit avoir un nom"
                    ),
                );
            }
            if self.sources[..i].iter().any(|o| o.name == g.name) {
                problems.push(
                    join(&at, "name"),
                    msg!(
                        en("source group \"{}\" is declared twice", g.name),
                        fr("le groupe de sources « {} » est déclaré deux fois", g.name)
                    ),
                );
            }
            for (j, a) in g.addresses.iter().enumerate() {
                if super::policy::Cidr::parse(a).is_none() {
                    problems.push_hint(
                        index(&join(&at, "addresses"), j),
                        msg!(
                            "\"{a}\" is not an address or subnet",
                            "« {a} » n'est ni une adresse ni un sous-réseau"
                        ),
                        msg!(
                            "write e.g. \"10.0.12.0/24\" or \"10.0.0.5\"",
                            "écrivez par exemple « 10.0.12.0/24 » ou « 10.0.0.5 »"
                        ),
                    );
                }
            }
        }
        for (i, p) in self.policies.iter().enumerate() {
            let at = index(&join(path, "policies"), i);
            if p.name.is_empty() {
                problems.push(
                    join(&at, "name"),
                    msg!("a policy needs a name", "une politique doit avoir un nom"),
                );
            }
            check_policy(p, &at, problems);
        }
        check_policy(&self.default_policy, &join(path, "default_policy"), problems);
        for (i, d) in self.exam_allow.iter().enumerate() {
            if super::lists::normalize_host(d).is_none() {
                problems.push(
                    index(&join(path, "exam_allow"), i),
                    msg!(
                        "\"{d}\" is not a domain name",
                        "« {d} » n'est pas un nom de domaine"
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
    fn times() {
        assert_eq!(parse_hhmm("12:30"), Some(750));
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("7:00"), None);
    }

    #[test]
    fn bad_values_are_reported_with_their_path() {
        let mut s = ProxySettings {
            listen: vec!["nope".into()],
            ..ProxySettings::default()
        };
        s.policies.push(Policy {
            name: "p".into(),
            sources: vec!["ghost".into()],
            windows: vec![TimeWindow {
                days: vec!["lun".into()],
                from: "12:00".into(),
                to: "25:00".into(),
            }],
            ..Policy::default()
        });
        let mut problems = Problems::default();
        s.validate("proxy", &mut problems);
        s.check_sources("proxy", &[], &mut problems);
        let paths: Vec<String> = problems.iter().map(|p| p.path.clone()).collect();
        assert!(paths.contains(&"proxy.listen[0]".to_string()), "{paths:?}");
        assert!(
            paths.contains(&"proxy.policies[0].sources[0]".to_string()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"proxy.policies[0].windows[0].to".to_string()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"proxy.policies[0].windows[0].days[0]".to_string()),
            "{paths:?}"
        );
    }
}
