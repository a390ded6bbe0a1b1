//! Loading and validating `preau.toml`.
//!
//! The pipeline, each stage adding to one list of problems:
//! 1. TOML syntax (a syntax error stops here: nothing else can be trusted);
//! 2. structure against the schema derived from the settings types
//!    ([`structure`]): unknown keys, wrong types, values outside enums;
//! 3. serde deserialisation into [`Config`] (only when 2 found nothing);
//! 4. semantic validation ([`Validate`]) with key paths.
//!
//! Every problem is then placed at line:column in the file.

pub mod problems;
pub mod sample;
pub mod schema_refs;
pub mod settings;
pub mod structure;

pub use problems::{ConfigError, ConfigErrors, Msg, Problem, Problems};
pub use settings::{Config, Establishment, Validate};

use serde::Deserialize;
use std::path::Path;

/// Upper bound for a configuration file: anything larger is certainly not
/// one, and reading it whole would be wasteful.
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;

/// The JSON schema of the whole configuration, derived from the types.
///
/// Each doc comment ends with its French text, a last paragraph starting
/// with `fr: `: it is moved from the `description` (English, as the
/// command line, the starter file and docs/settings.md show it) to
/// [`DESCRIPTION_FR`], which the console shows to French readers.
pub fn schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Config)).expect("schema serialises");
    split_french(&mut schema);
    schema
}

/// The schema keyword of a description's French text.
pub const DESCRIPTION_FR: &str = "x-description-fr";

/// The marker of a doc comment's French paragraph.
const FRENCH_MARK: &str = "\n\nfr: ";

/// Splits every `description` of a schema into its English and its French
/// texts (see [`schema`]).
fn split_french(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let split = map.get("description").and_then(Value::as_str).and_then(|d| {
                let d = d
                    .strip_prefix("fr: ")
                    .map_or(d.to_string(), |fr| format!("{FRENCH_MARK}{fr}"));
                d.split_once(FRENCH_MARK)
                    .map(|(en, fr)| (en.trim().to_string(), fr.trim().to_string()))
            });
            if let Some((en, fr)) = split {
                if en.is_empty() {
                    map.remove("description");
                } else {
                    map.insert("description".into(), Value::String(en));
                }
                map.insert(DESCRIPTION_FR.into(), Value::String(fr));
            }
            for sub in map.values_mut() {
                split_french(sub);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(split_french),
        _ => {}
    }
}

/// Parses and validates configuration text. `file` is only used to name
/// the file in errors.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigErrors> {
    let place = |offset: Option<usize>, path: String, message: Msg, hint: Option<Msg>| {
        let (line, column) = problems::line_column(text, offset.unwrap_or(0));
        let (hint, hint_fr) = match hint {
            Some(h) => (Some(h.en), Some(h.fr)),
            None => (None, None),
        };
        ConfigError {
            file: file.to_string(),
            line,
            column,
            path,
            message: message.en,
            hint,
            message_fr: message.fr,
            hint_fr,
        }
    };
    let doc = match toml::de::DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let message = e.message().trim().to_string();
            return Err(ConfigErrors(vec![place(
                e.span().map(|s| s.start),
                String::new(),
                crate::msg!(
                    "TOML syntax error: {message}",
                    "Erreur de syntaxe TOML : {message}"
                ),
                Some(crate::msg!(
                    "fix the syntax first; other checks run once the file parses",
                    "corrigez d'abord la syntaxe ; les autres vérifications ont lieu une fois le fichier lisible"
                )),
            )]));
        }
    };
    let mut found = Problems::default();
    let spans = structure::check(&doc, &schema(), &mut found);
    let structural: Vec<String> = found.iter().map(|p| p.path.clone()).collect();
    let mut config = None;
    if structural.is_empty() {
        match toml::from_str::<Config>(text) {
            Ok(c) => config = Some(c),
            Err(e) => {
                let message = e.message().trim().to_string();
                return Err(ConfigErrors(vec![place(
                    e.span().map(|s| s.start),
                    String::new(),
                    crate::msg!("{message}", "Valeur incorrecte : {message}"),
                    None,
                )]));
            }
        }
    }
    // Semantic checks run even when the structure is wrong somewhere: on
    // the rest of the file, with the broken values left out, so that one
    // `preau check` shows every problem. Problems about values that were
    // left out (now defaults) would be noise and are dropped.
    let semantic_input = match &config {
        Some(c) => Some(c.clone()),
        None => with_defaults(structure::without(&doc, &structural)),
    };
    if let Some(c) = &semantic_input {
        let mut semantic = Problems::default();
        c.validate("", &mut semantic);
        for p in semantic.into_vec() {
            let under_broken = structural.iter().any(|b| {
                p.path == *b || p.path.starts_with(&format!("{b}.")) || p.path.starts_with(&format!("{b}["))
            });
            if !under_broken {
                found.push_problem(p);
            }
        }
    }
    if found.is_empty() {
        return Ok(config.expect("config parsed when no problem was found"));
    }
    let mut errors: Vec<(usize, ConfigError)> = found
        .into_vec()
        .into_iter()
        .map(|p| {
            let offset = spans.locate(&p.path, p.at_key).map(|s| s.start).unwrap_or(0);
            (offset, place(Some(offset), p.path, p.message, p.hint))
        })
        .collect();
    errors.sort_by_key(|(offset, e)| (*offset, e.path.clone()));
    Err(ConfigErrors(errors.into_iter().map(|(_, e)| e).collect()))
}

/// The values that parsed, over the defaults: a required value that was
/// left out for being broken (a wrong type, say) takes its default, so
/// that the semantic checks of its section still run on the others.
fn with_defaults(parsed: toml::Table) -> Option<Config> {
    fn merge(base: &mut toml::Table, over: toml::Table) {
        for (k, v) in over {
            match (base.get_mut(&k), v) {
                (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
                (_, v) => {
                    base.insert(k, v);
                }
            }
        }
    }
    let mut base = match toml::Value::try_from(Config::default()) {
        Ok(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    merge(&mut base, parsed);
    Config::deserialize(toml::Value::Table(base)).ok()
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "cannot read the configuration {path}: {cause}\n    help: run `preau init` to write a starter configuration, or pass --config"
    )]
    Read { path: String, cause: std::io::Error },
    #[error(
        "the configuration {path} is larger than {MAX_CONFIG_BYTES} bytes: it cannot be a Préau configuration"
    )]
    TooLarge { path: String },
    #[error(
        "the configuration {path} is not valid UTF-8 text (byte {offset})\n    help: save the file as UTF-8"
    )]
    Encoding { path: String, offset: usize },
    #[error("the configuration has {count} problem(s):\n{errors}", count = .0.0.len(), errors = .0)]
    Invalid(ConfigErrors),
}

/// Reads and validates the configuration file at `path` (a real path).
pub fn load(path: &Path) -> Result<Config, LoadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|cause| LoadError::Read {
        path: shown.clone(),
        cause,
    })?;
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(LoadError::TooLarge { path: shown });
    }
    let text = String::from_utf8(bytes).map_err(|e| LoadError::Encoding {
        path: shown.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    parse(&text, &shown).map_err(LoadError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[establishment]
uai = "0999999X"
name = "Collège des Tilleuls"
hostname = "scribe"
domain = "tilleuls.lan"
"#;

    #[test]
    fn good_file_parses() {
        let c = parse(GOOD, "preau.toml").unwrap();
        assert_eq!(c.establishment.fqdn(), "scribe.tilleuls.lan");
        assert_eq!(c.server.listen, vec!["[::]:443"]);
    }

    #[test]
    fn three_mistakes_three_errors_with_positions() {
        let text = r#"[establishment]
uai = "0999999X"
name = "Collège"
hostnme = "scribe"

[server]
shutdown_grace_seconds = "two"

[paths]
state_dir = "relative/dir"
"#;
        let errs = parse(text, "preau.toml").unwrap_err().0;
        let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            vec![
                "preau.toml:4:1: establishment.hostnme: unknown key `hostnme`\n    help: did you mean `hostname`?",
                "preau.toml:7:26: server.shutdown_grace_seconds: expected integer, found the string \"two\"\n    help: write a whole number without quotes, e.g. 120",
                "preau.toml:10:13: paths.state_dir: \"relative/dir\" is not an absolute path\n    help: paths start with /",
            ]
        );
    }

    /// Issue 9: a section with an unknown key and a wrong type still gets
    /// its semantic checks on the values that parsed (the UAI here): three
    /// mistakes, three errors.
    #[test]
    fn structural_and_semantic_mistakes_of_one_section_are_all_reported() {
        let text = "[establishment]\nuai = \"12\"\nname = 5\nhostnme = \"x\"\n";
        let errs = parse(text, "preau.toml").unwrap_err().0;
        let shown: Vec<(&str, usize, usize)> =
            errs.iter().map(|e| (e.path.as_str(), e.line, e.column)).collect();
        assert_eq!(
            shown,
            [
                ("establishment.uai", 2, 7),
                ("establishment.name", 3, 8),
                ("establishment.hostnme", 4, 1),
            ],
            "{errs:?}"
        );
    }

    #[test]
    fn semantic_errors_all_reported() {
        let text = r#"[establishment]
uai = "12"
name = ""
hostname = "Scribe"

[server]
listen = ["nowhere"]

[modules]
enabled = ["nonesuch"]
"#;
        let errs = parse(text, "f").unwrap_err().0;
        let paths: Vec<(&str, usize, usize)> =
            errs.iter().map(|e| (e.path.as_str(), e.line, e.column)).collect();
        assert_eq!(
            paths,
            vec![
                ("establishment.uai", 2, 7),
                ("establishment.name", 3, 8),
                ("establishment.hostname", 4, 12),
                ("server.listen[0]", 7, 11),
                ("modules.enabled[0]", 10, 12),
            ]
        );
    }

    #[test]
    fn syntax_error_is_one_error() {
        let errs = parse("[establishment\nuai = 1", "f").unwrap_err().0;
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.starts_with("TOML syntax error"), "{}", errs[0]);
        assert_eq!((errs[0].line, errs[0].column), (1, 15));
    }

    #[test]
    fn missing_section_is_reported() {
        let errs = parse("", "f").unwrap_err().0;
        assert_eq!(errs[0].message, "missing key `establishment`");
    }

    #[test]
    fn homes_must_be_the_personal_shares() {
        let text = format!(
            "{GOOD}\n[modules]\nenabled = [\"accounts\", \"shares\"]\n[accounts]\nhome_base = \"/home\"\n"
        );
        let errs = parse(&text, "f").unwrap_err().0;
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].path, "accounts.home_base");
        assert_eq!(
            errs[0].message,
            "\"/home\" is not the personal share folder /srv/preau/perso"
        );
    }

    #[test]
    fn shares_role_groups_are_the_groups_accounts_makes() {
        let text = format!(
            "{GOOD}\n[modules]\nenabled = [\"accounts\", \"shares\"]\n[accounts]\ndirection_group = \"chefs\"\n"
        );
        let errs = parse(&text, "f").unwrap_err().0;
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].path, "shares.role_groups.direction");
        assert_eq!(
            errs[0].message,
            "\"direction\" is not the group the accounts module makes (accounts.direction_group = \"chefs\")"
        );
    }

    #[test]
    fn proxy_policies_may_name_firewall_zones_with_subnets() {
        let zones = "[firewall]\npreset = \"3-zones\"\n[[firewall.zones]]\nname = \"teaching\"\nsubnets = [\"10.1.0.0/16\"]\n";
        let text = format!(
            "{GOOD}\n[modules]\nenabled = [\"firewall\", \"proxy\"]\n{zones}[proxy]\ntransparent_http = [\"0.0.0.0:3129\"]\ntransparent_https = [\"0.0.0.0:3130\"]\n[[proxy.policies]]\nname = \"p\"\nsources = [\"teaching\"]\n"
        );
        parse(&text, "f").unwrap_or_else(|e| panic!("{e}"));
        // A zone without subnets cannot be recognised by address.
        let text = text.replace("sources = [\"teaching\"]", "sources = [\"outside\"]");
        let errs = parse(&text, "f").unwrap_err().0;
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].path, "proxy.policies[0].sources[0]");
        assert!(
            errs[0]
                .message
                .contains("firewall zone \"outside\" has no subnets"),
            "{errs:?}"
        );
    }

    #[test]
    fn out_of_range() {
        let text = format!("{GOOD}\n[server]\nshutdown_grace_seconds = 99\n");
        let errs = parse(&text, "f").unwrap_err().0;
        assert_eq!(errs[0].message, "99 is out of range: must be between 0 and 30");
    }

    /// The firewall's trial period from the console: 120 s unless set,
    /// never under 10 s (too short to press "Confirmer").
    #[test]
    fn firewall_confirm_seconds_is_bounded() {
        assert_eq!(parse(GOOD, "f").unwrap().firewall.confirm_seconds, 120);
        let ok = format!("{GOOD}\n[firewall]\nconfirm_seconds = 10\n");
        assert_eq!(parse(&ok, "f").unwrap().firewall.confirm_seconds, 10);
        for bad in ["5", "3601"] {
            let text = format!("{GOOD}\n[firewall]\nconfirm_seconds = {bad}\n");
            let errs = parse(&text, "f").unwrap_err().0;
            assert_eq!(errs[0].path, "firewall.confirm_seconds", "{errs:?}");
            assert_eq!(
                errs[0].message,
                format!("{bad} is out of range: must be between 10 and 3600")
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Whatever the bytes, parsing returns (never panics), and every
        /// error has a position inside the file.
        #[test]
        fn arbitrary_text_never_panics(text in "(\\PC|\n|\\[|\\]|=|\"){0,200}") {
            if let Err(errors) = parse(&text, "f") {
                for e in errors.0 {
                    proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1);
                }
            }
        }

        /// Mutations of a valid file (a character changed) never panic.
        #[test]
        fn mutated_valid_file_never_panics(pos in 0usize..120, ch in proptest::char::any()) {
            let mut chars: Vec<char> = GOOD.chars().collect();
            let i = pos % chars.len();
            chars[i] = ch;
            let text: String = chars.into_iter().collect();
            // Either a valid file (the change fell in a comment or kept a
            // valid value) or errors that each say where and what.
            if let Err(errors) = parse(&text, "f") {
                proptest::prop_assert!(!errors.0.is_empty());
                for e in errors.0 {
                    proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1, "{e}");
                    proptest::prop_assert!(e.column >= 1, "{e}");
                    proptest::prop_assert!(!e.message.is_empty(), "{e}");
                }
            }
        }
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for text in [
            "\u{0}",
            "a = [[[[[[[[[[",
            "[[establishment]]\n",
            "x = 1e999999",
            "\"\\u{D800}\"",
        ] {
            let errors = parse(text, "f").expect_err(text).0;
            assert!(!errors.is_empty(), "{text:?}");
            for e in errors {
                assert!(e.line == 1 || e.line == 2, "{text:?}: {e}");
                assert!(!e.message.is_empty(), "{text:?}");
            }
        }
        let deep = format!("a = {}{}", "[".repeat(5000), "]".repeat(5000));
        let errors = parse(&deep, "f").expect_err("deep nesting").0;
        assert!(errors.iter().all(|e| e.line == 1), "{errors:?}");
    }

    /// Every key of the schema, at every depth (sections, lists of
    /// tables, their entries), has its French help beside its English
    /// one; so does every other description (types, variants).
    #[test]
    fn every_setting_has_a_french_help() {
        fn walk(
            path: &str,
            v: &serde_json::Value,
            defs: schema_refs::Defs<'_>,
            missing: &mut Vec<String>,
            keys: &mut usize,
        ) {
            let Some(map) = v.as_object() else {
                if let Some(items) = v.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        walk(&format!("{path}[{i}]"), item, defs, missing, keys);
                    }
                }
                return;
            };
            if map.get("description").is_some_and(serde_json::Value::is_string) {
                let fr = map.get(DESCRIPTION_FR).and_then(|f| f.as_str()).unwrap_or("");
                if fr.trim().is_empty() {
                    missing.push(format!("{path} (a description without French)"));
                }
            }
            if let Some(props) = map.get("properties").and_then(|p| p.as_object()) {
                for (key, sub) in props {
                    *keys += 1;
                    let own = sub.get(DESCRIPTION_FR).and_then(|f| f.as_str());
                    let of_type = defs.resolve(sub).get(DESCRIPTION_FR).and_then(|f| f.as_str());
                    if own.or(of_type).is_none_or(|f| f.trim().is_empty()) {
                        missing.push(format!("{path}.{key} (a key without French help)"));
                    }
                }
            }
            for (k, sub) in map {
                if k != "default" && k != "examples" {
                    walk(&format!("{path}/{k}"), sub, defs, missing, keys);
                }
            }
        }
        let schema = schema();
        let mut missing = Vec::new();
        let mut keys = 0;
        walk(
            "#",
            &schema,
            schema_refs::Defs::of(&schema),
            &mut missing,
            &mut keys,
        );
        assert!(keys > 200, "the walk sees the whole schema ({keys} keys)");
        assert!(
            missing.is_empty(),
            "settings without a French help (add a `fr: ` paragraph to their doc comment):\n{}",
            missing.join("\n")
        );
        // The English descriptions are what they were: no French left in them.
        let text = schema.to_string();
        assert!(!text.contains("fr: "), "a French paragraph left in a description");
        assert_eq!(
            schema["$defs"]["Establishment"]["properties"]["uai"]["description"],
            "UAI (formerly RNE) code of the establishment: seven digits and a\nletter, e.g. \"0750001A\". Imports from SIECLE and STS-web are checked\nagainst it."
        );
        assert!(
            schema["$defs"]["Establishment"]["properties"]["uai"][DESCRIPTION_FR]
                .as_str()
                .unwrap()
                .starts_with("Code UAI (anciennement RNE)")
        );
    }

    /// A problem of every kind the structure and the validators find has
    /// its French text, and it is not the English one.
    #[test]
    fn problems_have_their_french_text() {
        let text = r#"[establishment]
uai = "12"
name = ""
hostname = "Bad Host"
domain = "x..y"
colour = "red"

[server]
shutdown_grace_seconds = "two"
listen = ["nowhere"]

[accounts]
first_id = 10
students_group = "Élèves"

[shares]
root = "relative"

[proxy]
listen = ["x"]

[viescolaire]
noon = "25:00"
alert_half_days = 0

[sso]
issuer = "http://x"

[backup]
keep_daily = 0
keep_weekly = 0
keep_monthly = 0

[booking]
open_hours_per_week = 500

[firewall]
preset = "nope"
"#;
        let errors = parse(text, "f").expect_err("many problems").0;
        assert!(errors.len() >= 12, "{errors:#?}");
        for e in &errors {
            assert!(!e.message_fr.trim().is_empty(), "{e}");
            assert_ne!(e.message_fr, e.message, "{e}");
            assert_eq!(e.hint.is_some(), e.hint_fr.is_some(), "{e}");
            if let (Some(h), Some(f)) = (&e.hint, &e.hint_fr) {
                assert!(!f.trim().is_empty() && f != h, "{e}");
            }
        }
        // `preau check` prints English as before.
        let uai = errors.iter().find(|e| e.path == "establishment.uai").unwrap();
        assert_eq!(uai.message, "\"12\" is not a UAI code");
        assert_eq!(uai.message_fr, "« 12 » n'est pas un code UAI");
        assert!(!format!("{}", ConfigErrors(errors.clone())).contains('«'));
    }
}
