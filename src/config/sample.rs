//! Documents generated from the settings declaration: the commented starter
//! file that `preau init` writes, and the Markdown settings reference in
//! `docs/settings.md`. Both walk the JSON schema (for descriptions and types,
//! in declaration order) beside a serialised configuration (for values).

use super::Config;
use super::schema_refs::{Defs, required};
use serde_json::Value;

const WIDTH: usize = 78;

struct Walk<'a> {
    defs: Defs<'a>,
}

impl<'a> Walk<'a> {
    fn resolve(&self, schema: &'a Value) -> &'a Value {
        self.defs.resolve(schema)
    }

    fn description(&self, schema: &'a Value) -> Option<&'a str> {
        schema
            .get("description")
            .or_else(|| self.resolve(schema).get("description"))
            .and_then(Value::as_str)
    }

    /// Is this schema a table with named keys (rendered as a [section])?
    fn is_table(&self, schema: &'a Value) -> bool {
        self.resolve(schema).get("properties").is_some()
    }

    /// The item schema of a list whose items are tables, if this is one.
    fn list_item_table(&self, schema: &'a Value) -> Option<&'a Value> {
        let s = self.resolve(schema);
        let items = s.get("items")?;
        self.is_table(items).then_some(items)
    }

    fn type_name(&self, schema: &'a Value) -> String {
        let s = self.resolve(schema);
        for keyword in ["oneOf", "anyOf"] {
            if let Some(branches) = s.get(keyword).and_then(Value::as_array) {
                let consts: Vec<String> = branches
                    .iter()
                    .filter_map(|b| self.resolve(b).get("const").map(literal))
                    .collect();
                if consts.len() == branches.len() {
                    return format!("one of {}", consts.join(", "));
                }
                let names: Vec<String> = branches
                    .iter()
                    .map(|b| self.type_name(b))
                    .filter(|n| n != "null")
                    .collect();
                return names.join(" or ");
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            return format!("one of {}", e.iter().map(literal).collect::<Vec<_>>().join(", "));
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect(),
            _ => vec![],
        };
        match types.first().copied() {
            Some("array") => match s.get("items") {
                Some(items) => format!("list of {}", self.type_name(items)),
                None => "list".into(),
            },
            Some("object") if self.is_table(s) => "table".into(),
            Some("object") => "table of values".into(),
            Some(t) => t.into(),
            None => "value".into(),
        }
    }
}

fn literal(v: &Value) -> String {
    match json_to_toml(v) {
        Some(t) => t.to_string(),
        None => "(none)".into(),
    }
}

fn json_to_toml(v: &Value) -> Option<toml::Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(a.iter().filter_map(json_to_toml).collect()),
        Value::Object(o) => toml::Value::Table(
            o.iter()
                .filter_map(|(k, v)| json_to_toml(v).map(|v| (k.clone(), v)))
                .collect(),
        ),
    })
}

fn comment(out: &mut String, text: &str) {
    for paragraph in text.split("\n\n") {
        let mut line = String::from("#");
        for word in paragraph.split_whitespace() {
            if line.len() + 1 + word.len() > WIDTH && line.len() > 1 {
                out.push_str(&line);
                out.push('\n');
                line = String::from("#");
            }
            line.push(' ');
            line.push_str(word);
        }
        out.push_str(&line);
        out.push('\n');
    }
}

/// The commented starter configuration for `config`'s values.
pub fn starter(config: &Config) -> String {
    let schema = super::schema();
    let values = serde_json::to_value(config).expect("config serialises");
    let defaults = serde_json::to_value(Config::default()).expect("config serialises");
    let walk = Walk {
        defs: Defs::of(&schema),
    };
    let mut out = String::new();
    out.push_str(
        "# Préau configuration (/etc/preau/preau.toml).\n\
         #\n\
         # Check it with `preau check`, see what would change with `preau plan`,\n\
         # perform it with `preau apply`. Every key is described in\n\
         # docs/settings.md and `preau config schema` prints its JSON schema.\n\
         # Keys left commented out take the default shown.\n",
    );
    table(&walk, &mut out, "", &schema, &values, &defaults);
    out
}

/// Writes the keys of one table: required keys and values that differ
/// from the default are set; the others are shown commented out.
fn table(walk: &Walk<'_>, out: &mut String, path: &str, schema: &Value, values: &Value, defaults: &Value) {
    let resolved = walk.resolve(schema);
    let Some(props) = resolved.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required = required(resolved);
    let mut subtables = Vec::new();
    for (key, sub) in props {
        if walk.is_table(sub) {
            subtables.push((key, sub));
            continue;
        }
        let value = values.get(key).unwrap_or(&Value::Null);
        out.push('\n');
        if let Some(d) = walk.description(sub) {
            comment(out, d);
        }
        let is_default = defaults.get(key) == Some(value);
        match json_to_toml(value) {
            Some(v) if required.contains(&key.as_str()) || !is_default => {
                out.push_str(&format!("{key} = {v}\n"));
            }
            Some(v) => out.push_str(&format!("#{key} = {v}\n")),
            None => out.push_str(&format!("#{key} =\n")),
        }
    }
    for (key, sub) in subtables {
        let sub_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        out.push('\n');
        if let Some(d) = walk.description(sub) {
            comment(out, d);
        }
        out.push_str(&format!("[{sub_path}]\n"));
        table(
            walk,
            out,
            &sub_path,
            sub,
            values.get(key).unwrap_or(&Value::Null),
            defaults.get(key).unwrap_or(&Value::Null),
        );
    }
}

/// The Markdown settings reference (docs/settings.md).
pub fn reference() -> String {
    let schema = super::schema();
    let defaults = serde_json::to_value(Config::default()).expect("config serialises");
    let walk = Walk {
        defs: Defs::of(&schema),
    };
    let mut out = String::from(
        "# Settings reference\n\n\
         Generated from the settings types by `preau config reference`; do not edit by hand\n\
         (a test fails when this file and the code disagree).\n\n\
         The configuration lives in `/etc/preau/preau.toml`. `preau check` validates it and\n\
         reports every problem with its line and column; `preau config schema` prints the\n\
         JSON schema of the same settings.\n",
    );
    section(&walk, &mut out, "", &schema, &defaults);
    out
}

fn section(walk: &Walk<'_>, out: &mut String, path: &str, schema: &Value, defaults: &Value) {
    let resolved = walk.resolve(schema);
    let Some(props) = resolved.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required = required(resolved);
    let (tables, keys): (Vec<_>, Vec<_>) = props.iter().partition(|(_, s)| walk.is_table(s));
    if !path.is_empty() && !keys.is_empty() {
        out.push_str("\n| key | type | default | description |\n|---|---|---|---|\n");
        for (key, sub) in keys {
            let default = if required.contains(&key.as_str()) {
                "required".to_string()
            } else {
                match defaults.get(key) {
                    Some(v) if !v.is_null() => format!("`{}`", literal(v).replace('|', "\\|")),
                    _ => "—".into(),
                }
            };
            let desc = walk
                .description(sub)
                .unwrap_or("")
                .replace('\n', " ")
                .replace('|', "\\|");
            out.push_str(&format!(
                "| `{key}` | {} | {default} | {desc} |\n",
                walk.type_name(sub).replace('|', "\\|")
            ));
        }
    }
    // Lists of tables (`[[section.key]]`): document the keys of one entry.
    for (key, sub) in props {
        let Some(item) = walk.list_item_table(sub) else {
            continue;
        };
        let sub_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        out.push_str(&format!("\n### `[[{sub_path}]]`\n\n"));
        out.push_str(&format!("Each entry of `{key}`"));
        match walk.description(item) {
            Some(d) => out.push_str(&format!(": {d}\n")),
            None => out.push_str(".\n"),
        }
        section(walk, out, &sub_path, item, &Value::Null);
    }
    for (key, sub) in tables {
        let sub_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        out.push_str(&format!("\n## `[{sub_path}]`\n\n"));
        if let Some(d) = walk.description(sub) {
            out.push_str(d);
            out.push('\n');
        }
        section(
            walk,
            out,
            &sub_path,
            sub,
            defaults.get(key).unwrap_or(&Value::Null),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Config {
        Config::example()
    }

    #[test]
    fn starter_file_parses_back_to_the_same_settings() {
        let text = starter(&example());
        let parsed = super::super::parse(&text, "starter").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            serde_json::to_value(example()).unwrap()
        );
        assert!(text.contains("# UAI (formerly RNE) code"));
    }

    #[test]
    fn starter_file_snapshot() {
        insta::assert_snapshot!(starter(&example()));
    }

    #[test]
    fn docs_settings_reference_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/settings.md");
        let want = reference();
        if std::env::var_os("PREAU_UPDATE_DOCS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "docs/settings.md is stale: run `PREAU_UPDATE_DOCS=1 cargo test docs_settings` and commit it"
        );
    }
}
