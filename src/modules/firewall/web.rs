//! The firewall in the console (`/console/journaux/pare-feu`): the zone
//! matrix (which zone may reach which, from the settings: the preset
//! merged with the file, as the ruleset is rendered from) and the live
//! rule counters (`nft -j list table inet preau` through the host; their
//! absence — no nft, no table, not root — is said, never an error).

use super::settings::{APPLIANCE, Action, Effective, Service};
use crate::host::{Command, Host};
use crate::web::errors::WebError;
use crate::web::pages::{self, CounterRow, FirewallPage, MatrixRow};
use crate::web::{AppState, Signed};
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Most counters listed (the busiest first).
const COUNTERS_SHOWN: usize = 300;

/// An action in the page's language.
fn action_fr(a: Action) -> &'static str {
    use crate::web::i18n::either;
    match a {
        Action::Accept => either("autorisé", "allowed"),
        Action::Drop => either("bloqué", "dropped"),
        Action::Reject => either("refusé", "refused"),
    }
}

/// A service in the page's language.
fn service_fr(s: Service) -> &'static str {
    use crate::web::i18n::either;
    match s {
        Service::Console => either("console d'administration", "admin console"),
        Service::Viescolaire => either("vie scolaire (web)", "school life (web)"),
        Service::Smb => either("partages de fichiers (SMB)", "file shares (SMB)"),
        Service::Proxy => either("proxy web", "web proxy"),
        Service::Ssh => "SSH",
        Service::Dns => "DNS",
        Service::Dhcp => "DHCP",
    }
}

/// The zone matrix (pure): one row per zone of origin, one cell per
/// destination zone (the zone itself included: "—" when no policy names
/// it), what happens by default; the default policy for pairs no policy
/// names; and the appliance services each zone may reach.
pub fn matrix(eff: &Effective) -> (Vec<String>, Vec<MatrixRow>) {
    let names: Vec<String> = eff.zones.iter().map(|z| z.name.clone()).collect();
    let rows = eff
        .zones
        .iter()
        .map(|from| MatrixRow {
            zone: from.name.clone(),
            cells: names
                .iter()
                .map(|to| match eff.policies.get(&(from.name.clone(), to.clone())) {
                    Some(a) => (action_fr(*a), *a == Action::Accept),
                    None if *to == from.name => ("—", false),
                    None => (
                        action_fr(eff.settings.default_policy),
                        eff.settings.default_policy == Action::Accept,
                    ),
                })
                .collect(),
            services: from
                .services
                .iter()
                .map(|s| service_fr(*s).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            interfaces: from.interfaces.join(", "),
        })
        .collect();
    (names, rows)
}

/// The rules with a counter in `nft -j` output (pure), busiest first.
pub fn counters(json: &str) -> Result<Vec<CounterRow>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("sortie de nft illisible : {e}"))?;
    let mut out = Vec::new();
    for item in v["nftables"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let Some(rule) = item.get("rule") else { continue };
        let Some(counter) = rule["expr"]
            .as_array()
            .and_then(|e| e.iter().find_map(|x| x.get("counter")))
        else {
            continue;
        };
        out.push(CounterRow {
            chain: rule["chain"].as_str().unwrap_or("").to_string(),
            comment: rule["comment"].as_str().unwrap_or("").to_string(),
            packets: counter["packets"].as_u64().unwrap_or(0),
            bytes: crate::modules::shares::usage::human(counter["bytes"].as_u64().unwrap_or(0)),
            raw_bytes: counter["bytes"].as_u64().unwrap_or(0),
        });
    }
    out.sort_by(|a, b| b.packets.cmp(&a.packets).then(b.raw_bytes.cmp(&a.raw_bytes)));
    out.truncate(COUNTERS_SHOWN);
    Ok(out)
}

/// The live counters, or why there are none.
fn live_counters(host: &dyn Host) -> Result<Vec<CounterRow>, String> {
    let out = host
        .run(&Command::new([
            super::apply::NFT,
            "-j",
            "list",
            "table",
            "inet",
            "preau",
        ]))
        .map_err(|e| {
            crate::web::i18n::pick(crate::msg!(
                "nft could not be started ({e})",
                "nft n'a pas pu être lancé ({e})"
            ))
        })?;
    if !out.success() {
        let why = String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        return Err(crate::web::i18n::pick(crate::msg!(
            "no table \"inet preau\" loaded ({why})",
            "pas de table « inet preau » chargée ({why})"
        )));
    }
    counters(&String::from_utf8_lossy(&out.stdout))
}

/// `GET /console/journaux/pare-feu`.
pub async fn page(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    let run = move || -> Result<Response, WebError> {
        let config = web.config();
        let enabled = config.modules.enabled.iter().any(|m| m == "firewall");
        let eff = config.firewall.effective();
        let (zones, rows) = matrix(&eff);
        let (counters, counters_error) = match live_counters(&web.host) {
            Ok(c) => (c, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let chrome = pages::Page::signed(
            crate::web::i18n::t(crate::web::i18n::current(), "logs.firewall"),
            &config.establishment.name,
            &signed,
            "/console/journaux",
        );
        Ok(pages::render(&FirewallPage {
            page: &chrome,
            enabled,
            zones,
            rows,
            default_policy: action_fr(eff.settings.default_policy),
            appliance: APPLIANCE,
            counters,
            counters_error,
        }))
    };
    crate::web::i18n::spawn_blocking(run)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))
        .and_then(|r| r)
        .unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::firewall::settings::FirewallSettings;

    #[test]
    fn the_zone_matrix_of_the_three_zone_preset() {
        let s = FirewallSettings {
            preset: "3-zones".into(),
            ..Default::default()
        };
        let (zones, rows) = matrix(&s.effective());
        assert_eq!(zones.len(), rows.len());
        assert!(zones.len() >= 3, "{zones:?}");
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.cells.len(), zones.len());
            assert_eq!(r.zone, zones[i]);
        }
        // Somebody inside reaches the outside; nothing from the outside
        // reaches inside by default.
        let outside = s.effective().settings.outside_zone.clone();
        let o = zones
            .iter()
            .position(|z| *z == outside)
            .expect("the outside zone");
        for (i, r) in rows.iter().enumerate() {
            if i != o {
                assert!(!rows[o].cells[i].1, "outside → {} allowed: {r:?}", r.zone);
            }
        }
        assert!(rows.iter().any(|r| r.zone != outside && r.cells[o].1), "{rows:?}");
    }

    #[test]
    fn counters_from_nft_json() {
        let json = r#"{"nftables":[{"metainfo":{"version":"1.0.6"}},
            {"table":{"family":"inet","name":"preau"}},
            {"rule":{"family":"inet","table":"preau","chain":"forward","handle":4,"comment":"teaching -> outside",
              "expr":[{"match":{}},{"counter":{"packets":12,"bytes":3400}},{"accept":null}]}},
            {"rule":{"family":"inet","table":"preau","chain":"input","handle":5,
              "expr":[{"counter":{"packets":99,"bytes":10}},{"drop":null}]}},
            {"rule":{"family":"inet","table":"preau","chain":"input","handle":6,"expr":[{"accept":null}]}}]}"#;
        let c = counters(json).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].packets, c[0].chain.as_str()), (99, "input"));
        assert_eq!(c[1].comment, "teaching -> outside");
        assert!(counters("not json").is_err());
        assert!(counters("{}").unwrap().is_empty());
    }
}
