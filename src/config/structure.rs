//! Structural validation of a parsed TOML document against the JSON schema
//! derived from the settings types.
//!
//! serde stops at the first unknown key or wrong type; an administrator
//! wants them all. So before serde sees the document, this walk compares
//! the spanned TOML tree with the schema (the same schema `preau config
//! schema` prints) and reports every unknown key, wrong type, value outside
//! an enumeration and number out of range, each with its key path. It also
//! records the byte span of every key and value so that later problems (from
//! serde or from semantic validation) can be placed in the file.
//!
//! Limits: it understands the subset of JSON Schema that schemars emits for
//! our types (`$ref`, `type`, `properties`, `additionalProperties`,
//! `required`, `enum`, `const`, `oneOf`/`anyOf`, `items`, `minimum`,
//! `maximum`); anything else is left to serde.

use super::problems::{Problem, Problems, index, join};
use super::schema_refs::{Defs, required};
use crate::msg;
use serde_json::Value;
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Byte spans of every key and value of a document, by key path.
#[derive(Debug, Default)]
pub struct Spans {
    pub keys: HashMap<String, Range<usize>>,
    pub values: HashMap<String, Range<usize>>,
}

impl Spans {
    /// The best span for a problem: the value (or key) at `path`, else the
    /// closest parent that is present in the file.
    pub fn locate(&self, path: &str, at_key: bool) -> Option<Range<usize>> {
        let mut p = path.to_string();
        loop {
            let found = if at_key {
                self.keys.get(&p).or_else(|| self.values.get(&p))
            } else {
                self.values.get(&p).or_else(|| self.keys.get(&p))
            };
            if let Some(span) = found {
                return Some(span.clone());
            }
            match parent(&p) {
                Some(up) => p = up,
                None => return None,
            }
        }
    }
}

fn parent(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(path[..cut].to_string())
}

/// Walks `doc` against `schema` (the root schema with its `$defs`).
pub fn check(doc: &Spanned<DeTable<'_>>, schema: &Value, problems: &mut Problems) -> Spans {
    let mut walker = Walker {
        defs: Defs::of(schema),
        spans: Spans::default(),
    };
    walker.table("", doc.get_ref(), schema, problems);
    walker.spans
}

struct Walker<'s> {
    defs: Defs<'s>,
    spans: Spans,
}

impl<'s> Walker<'s> {
    fn resolve(&self, schema: &'s Value) -> &'s Value {
        self.defs.resolve(schema)
    }

    fn record(&mut self, path: &str, value: &Spanned<DeValue<'_>>) {
        self.spans.values.insert(path.to_string(), value.span());
    }

    fn table(&mut self, path: &str, table: &DeTable<'_>, schema: &'s Value, problems: &mut Problems) {
        let schema = self.resolve(schema);
        let properties = schema.get("properties").and_then(Value::as_object);
        let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
        let open_values = schema
            .get("additionalProperties")
            .filter(|v| v.is_object())
            .map(|v| self.resolve(v));
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            let key_path = join(path, name);
            self.spans.keys.insert(key_path.clone(), key.span());
            self.spans.values.insert(key_path.clone(), value.span());
            match properties.and_then(|p| p.get(name)) {
                Some(sub) => self.value(&key_path, value, sub, problems),
                None => {
                    if let Some(sub) = open_values {
                        self.value(&key_path, value, sub, problems);
                    } else if closed {
                        let known: Vec<&str> = properties
                            .map(|p| p.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        problems.push_problem(Problem {
                            path: key_path,
                            message: msg!("unknown key `{name}`", "clé inconnue « {name} »"),
                            hint: Some(suggest(name, &known)),
                            at_key: true,
                        });
                    }
                }
            }
        }
        for req in required(schema) {
            if !table.iter().any(|(k, _)| k.get_ref().as_ref() == req) {
                let full = join(path, req);
                problems.push_hint(
                    path,
                    msg!("missing key `{full}`", "clé manquante « {full} »"),
                    msg!(
                        "add `{req} = ...` to the [{path}] section",
                        "ajoutez « {req} = ... » à la section [{path}]"
                    ),
                );
            }
        }
    }

    fn value(
        &mut self,
        path: &str,
        value: &Spanned<DeValue<'_>>,
        schema: &'s Value,
        problems: &mut Problems,
    ) {
        self.record(path, value);
        let schema = self.resolve(schema);
        // Alternatives (enums with documented variants, optional values).
        for keyword in ["oneOf", "anyOf"] {
            if let Some(branches) = schema.get(keyword).and_then(Value::as_array) {
                self.alternatives(path, value, branches, problems);
                return;
            }
        }
        if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
            if !choices.iter().any(|c| same_scalar(c, value.get_ref())) {
                problems.push_hint(path, not_allowed(value.get_ref()), use_one_of(choices));
            }
            return;
        }
        if let Some(c) = schema.get("const") {
            if !same_scalar(c, value.get_ref()) {
                problems.push(
                    path,
                    msg!(
                        en("expected {c}, found {}", describe(value.get_ref(), false)),
                        fr("{c} attendu, trouvé {}", describe(value.get_ref(), true))
                    ),
                );
            }
            return;
        }
        let types = schema_types(schema);
        if types.is_empty() {
            return; // anything goes (e.g. free-form values)
        }
        let actual = toml_type(value.get_ref());
        let accepted = types.iter().any(|t| match (*t, actual) {
            ("number", "integer") => true,
            (t, a) => t == a,
        });
        if !accepted {
            let wanted: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
            let wanted_fr: Vec<&str> = wanted.iter().map(|t| type_fr(t)).collect();
            problems.push_hint(
                path,
                msg!(
                    en(
                        "expected {}, found {}",
                        wanted.join(" or "),
                        describe(value.get_ref(), false)
                    ),
                    fr(
                        "{} attendu, trouvé {}",
                        wanted_fr.join(" ou "),
                        describe(value.get_ref(), true)
                    )
                ),
                example_for(&wanted),
            );
            return;
        }
        match value.get_ref() {
            DeValue::Table(t) => self.table(path, t, schema, problems),
            DeValue::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.value(&index(path, i), item, item_schema, problems);
                    }
                }
            }
            DeValue::Integer(_) | DeValue::Float(_) => {
                if let Some(n) = number(value.get_ref()) {
                    let min = schema.get("minimum").and_then(Value::as_f64);
                    let max = schema.get("maximum").and_then(Value::as_f64);
                    if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                        let range = match (min, max) {
                            (Some(a), Some(b)) => msg!("between {a} and {b}", "entre {a} et {b}"),
                            (Some(a), None) => msg!("at least {a}", "au moins {a}"),
                            (None, Some(b)) => msg!("at most {b}", "au plus {b}"),
                            (None, None) => crate::config::Msg::new("", ""),
                        };
                        let (en, fr) = (range.en, range.fr);
                        problems.push(
                            path,
                            msg!(
                                "{n} is out of range: must be {en}",
                                "{n} est hors des limites : {fr}"
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn alternatives(
        &mut self,
        path: &str,
        value: &Spanned<DeValue<'_>>,
        branches: &'s [Value],
        problems: &mut Problems,
    ) {
        let mut best: Option<Problems> = None;
        for branch in branches {
            let mut trial = Problems::default();
            self.value(path, value, branch, &mut trial);
            if trial.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|b| trial.len() < b.len()) {
                best = Some(trial);
            }
        }
        // All branches are constants: say which values are allowed.
        let consts: Vec<Value> = branches
            .iter()
            .map(|b| self.resolve(b))
            .filter_map(|b| {
                b.get("const").cloned().or_else(|| {
                    b.get("enum")
                        .and_then(Value::as_array)
                        .and_then(|e| e.first().cloned())
                })
            })
            .collect();
        if consts.len() == branches.len() {
            problems.push_hint(path, not_allowed(value.get_ref()), use_one_of(&consts));
        } else if let Some(best) = best {
            for p in best.into_vec() {
                problems.push_problem(p);
            }
        }
    }
}

fn schema_types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn toml_type(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) | DeValue::Datetime(_) => "string",
        DeValue::Integer(_) => "integer",
        DeValue::Float(_) => "number",
        DeValue::Boolean(_) => "boolean",
        DeValue::Array(_) => "array",
        DeValue::Table(_) => "object",
    }
}

fn number(value: &DeValue<'_>) -> Option<f64> {
    match value {
        DeValue::Integer(i) => {
            let text = i.as_str().replace('_', "");
            let (digits, radix) = match text.get(..2) {
                Some("0x") => (&text[2..], 16),
                Some("0o") => (&text[2..], 8),
                Some("0b") => (&text[2..], 2),
                _ => (text.as_str(), 10),
            };
            i128::from_str_radix(digits, radix).ok().map(|n| n as f64)
        }
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        _ => None,
    }
}

fn same_scalar(expected: &Value, actual: &DeValue<'_>) -> bool {
    match (expected, actual) {
        (Value::String(a), DeValue::String(b)) => a == b.as_ref(),
        (Value::Bool(a), DeValue::Boolean(b)) => a == b,
        (Value::Number(a), v) => number(v).is_some_and(|n| a.as_f64() == Some(n)),
        _ => false,
    }
}

/// A value as a message names it, in English or in French.
fn describe(value: &DeValue<'_>, french: bool) -> String {
    let m = match value {
        DeValue::String(s) => {
            let s = truncate(s, 40);
            msg!("the string \"{s}\"", "le texte « {s} »")
        }
        DeValue::Integer(i) => {
            let i = i.as_str();
            msg!("the integer {i}", "l'entier {i}")
        }
        DeValue::Float(f) => {
            let f = f.as_str();
            msg!("the number {f}", "le nombre {f}")
        }
        DeValue::Boolean(b) => msg!("the boolean {b}", "le booléen {b}"),
        DeValue::Datetime(d) => msg!("the date {d}", "la date {d}"),
        DeValue::Array(_) => msg!("an array", "une liste"),
        DeValue::Table(_) => msg!("a table", "une table"),
    };
    if french { m.fr } else { m.en }
}

/// The French name of a schema type.
fn type_fr(t: &str) -> &str {
    match t {
        "string" => "un texte",
        "integer" => "un entier",
        "number" => "un nombre",
        "boolean" => "un booléen (true ou false)",
        "array" => "une liste",
        "object" => "une table",
        other => other,
    }
}

fn not_allowed(value: &DeValue<'_>) -> crate::config::Msg {
    msg!(
        en("{} is not one of the allowed values", describe(value, false)),
        fr(
            "{} ne fait pas partie des valeurs permises",
            describe(value, true)
        )
    )
}

fn use_one_of(choices: &[Value]) -> crate::config::Msg {
    let list = list_choices(choices);
    msg!("use one of: {list}", "choisissez parmi : {list}")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

fn list_choices(choices: &[Value]) -> String {
    choices
        .iter()
        .map(|c| match c {
            Value::String(s) => format!("\"{s}\""),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn example_for(types: &[&str]) -> crate::config::Msg {
    match types.first().copied() {
        Some("string") => msg!(
            "write the value in double quotes, e.g. \"text\"",
            "écrivez la valeur entre guillemets droits, par exemple \"texte\""
        ),
        Some("integer") => msg!(
            "write a whole number without quotes, e.g. 120",
            "écrivez un nombre entier sans guillemets, par exemple 120"
        ),
        Some("number") => msg!(
            "write a number without quotes, e.g. 1.5",
            "écrivez un nombre sans guillemets, par exemple 1.5"
        ),
        Some("boolean") => msg!(
            "write true or false, without quotes",
            "écrivez true (oui) ou false (non), sans guillemets"
        ),
        Some("array") => msg!(
            "write a list in brackets, e.g. [\"a\", \"b\"]",
            "écrivez une liste entre crochets, par exemple [\"a\", \"b\"]"
        ),
        Some("object") => msg!(
            "write a table: a [section] or {{ key = value }}",
            "écrivez une table : une [section] ou {{ clé = valeur }}"
        ),
        _ => msg!(
            "see `preau config schema` for the expected type",
            "le type attendu est donné par « preau config schema »"
        ),
    }
}

/// "did you mean" for a mistyped key: the known key with the smallest edit
/// distance, or the list of known keys.
fn suggest(name: &str, known: &[&str]) -> crate::config::Msg {
    let best = known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .min()
        .filter(|(d, k)| *d <= 2.max(k.len() / 3));
    match best {
        Some((_, k)) => msg!("did you mean `{k}`?", "vouliez-vous écrire « {k} » ?"),
        None if known.is_empty() => msg!(
            "remove it: this table takes no keys",
            "supprimez-la : cette table n'a pas de clés"
        ),
        None => {
            let known = known.join(", ");
            msg!("known keys here: {known}", "clés connues ici : {known}")
        }
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The document as a plain TOML table without the values at `bad` paths
/// (and anything under them), so that serde and semantic validation can
/// still look at the rest of a file that has structural problems.
pub fn without(doc: &Spanned<DeTable<'_>>, bad: &[String]) -> toml::Table {
    fn convert(path: &str, value: &DeValue<'_>, bad: &[String]) -> Option<toml::Value> {
        if bad.iter().any(|b| b == path) {
            return None;
        }
        Some(match value {
            DeValue::String(s) => toml::Value::String(s.to_string()),
            DeValue::Integer(_) => toml::Value::Integer(number(value)? as i64),
            DeValue::Float(_) => toml::Value::Float(number(value)?),
            DeValue::Boolean(b) => toml::Value::Boolean(*b),
            DeValue::Datetime(d) => toml::Value::Datetime(*d),
            DeValue::Array(items) => toml::Value::Array(
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| convert(&index(path, i), v.get_ref(), bad))
                    .collect(),
            ),
            DeValue::Table(t) => toml::Value::Table(table(path, t, bad)),
        })
    }
    fn table(path: &str, t: &DeTable<'_>, bad: &[String]) -> toml::Table {
        t.iter()
            .filter_map(|(k, v)| {
                let key = k.get_ref().to_string();
                convert(&join(path, &key), v.get_ref(), bad).map(|v| (key, v))
            })
            .collect()
    }
    table("", doc.get_ref(), bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys() {
        assert_eq!(
            suggest("hostnam", &["hostname", "domain"]).en,
            "did you mean `hostname`?"
        );
        assert_eq!(
            suggest("hostnam", &["hostname", "domain"]).fr,
            "vouliez-vous écrire « hostname » ?"
        );
        assert_eq!(suggest("zzz", &["uai", "name"]).en, "known keys here: uai, name");
    }

    #[test]
    fn parents() {
        assert_eq!(parent("a.b[2].c").as_deref(), Some("a.b[2]"));
        assert_eq!(parent("a.b[2]").as_deref(), Some("a.b"));
        assert_eq!(parent("a").as_deref(), Some(""));
        assert_eq!(parent(""), None);
    }
}
