//! Upgrades of the configuration file: a `preau.toml` of every version
//! Préau has shipped is kept in `tests/fixtures/config/shipped-DATE.toml`
//! (what that version's `preau init` wrote, completed as an administrator
//! of the time would), never regenerated. Today's code must read each one
//! as it is, with the same meaning: an upgraded server keeps its file and
//! no upgrade step rewrites it.
//!
//! So far every change of the settings has been an addition with a
//! default (docs/settings.md of each version shows it). The day a key is
//! renamed or removed, the fixture of the version that had it fails here:
//! the change then needs a migration of the file (keep the old key as an
//! alias, or rewrite it at load) rather than a broken server after
//! `apt upgrade`.

use preau::config::{self, Config};
use std::path::PathBuf;

fn fixture(name: &str) -> (String, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (text, path.display().to_string())
}

fn load(name: &str) -> Config {
    let (text, file) = fixture(name);
    match config::parse(&text, &file) {
        Ok(config) => config,
        Err(errors) => panic!("a configuration shipped as {name} no longer loads:\n{errors}"),
    }
}

#[test]
fn every_shipped_configuration_is_a_fixture_here() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["shipped-2026-11-28.toml", "shipped-2026-12-01.toml"]);
    for name in &names {
        load(name);
    }
}

#[test]
fn the_first_shipped_configuration_keeps_its_meaning() {
    let config = load("shipped-2026-11-28.toml");
    assert_eq!(config.establishment.uai, "0999999X");
    assert_eq!(
        config.modules.enabled,
        ["accounts", "shares", "firewall", "proxy"]
    );
    let zones: Vec<&str> = config.firewall.zones.iter().map(|z| z.name.as_str()).collect();
    assert_eq!(zones, ["teaching", "admin"]);
    assert_eq!(config.firewall.port_forwards.len(), 1);
    assert_eq!(config.firewall.port_forwards[0].port, 8080);
    assert_eq!(config.proxy.sources.len(), 1);
    assert_eq!(config.proxy.policies[0].name, "eleves-cours");
    assert!(config.proxy.policies[0].block.iter().any(|c| c == "games"));
}

#[test]
fn the_second_shipped_configuration_keeps_its_meaning() {
    let config = load("shipped-2026-12-01.toml");
    assert_eq!(
        config.modules.enabled,
        ["accounts", "shares", "firewall", "proxy", "viescolaire"]
    );
    assert_eq!(config.firewall.zones.len(), 2);
    assert_eq!(config.sso.oidc_clients[0].id, "nextcloud");
    assert_eq!(config.sso.cas_services[0].name, "GEPI");
}
