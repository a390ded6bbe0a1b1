//! Reading the JSON schema that schemars derives from the settings types:
//! following `$ref`s to `#/$defs/…` and listing required keys. Shared by
//! the structural validation and the generated documents.

use serde_json::{Map, Value};

/// The `$defs` of a root schema, to resolve references against.
#[derive(Clone, Copy)]
pub struct Defs<'a>(Option<&'a Map<String, Value>>);

impl<'a> Defs<'a> {
    pub fn of(root: &'a Value) -> Defs<'a> {
        Defs(root.get("$defs").and_then(Value::as_object))
    }

    /// The schema a `$ref` points to (followed a bounded number of times),
    /// or `schema` itself.
    pub fn resolve(self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
                break;
            };
            match self
                .0
                .and_then(|d| d.get(reference.trim_start_matches("#/$defs/")))
            {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }
}

/// The keys an object schema requires.
pub fn required(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}
