//! The JSON Schema of the playbook format: the committed `schema/playbook.schema.json` is the
//! generated one, every shipped playbook points editors at it and validates against it, and
//! files the loader rejects for their shape are rejected by the schema too.
//!
//! The validator below covers the keywords `schemars` emits for the playbook model (and fails
//! on any other keyword, so a new one cannot be silently ignored): a full JSON Schema crate
//! would cost more build time than these 200 lines.
//!
//! Regenerate the committed schema with `UPDATE_SCHEMA=1 cargo test -p salesplay-cli --test schema`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

const MODELINE: &str = "# yaml-language-server: $schema=../schema/playbook.schema.json";

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn schema() -> Value {
    serde_json::from_str(&salesplay_cli::playbook_schema()).expect("the schema is JSON")
}

/// A validator for the subset of JSON Schema 2020-12 that schemars emits.
struct Validator<'s> {
    root: &'s Value,
}

impl Validator<'_> {
    fn check(&self, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.validate(self.root, value, "$", &mut errors);
        errors
    }

    fn resolve(&self, reference: &str) -> &Value {
        let name = reference
            .strip_prefix("#/$defs/")
            .unwrap_or_else(|| panic!("unsupported $ref `{reference}`"));
        self.root["$defs"]
            .get(name)
            .unwrap_or_else(|| panic!("$ref to a missing definition `{reference}`"))
    }

    fn valid(&self, schema: &Value, value: &Value) -> bool {
        let mut errors = Vec::new();
        self.validate(schema, value, "", &mut errors);
        errors.is_empty()
    }

    fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                errors.push(format!("{at}: no value is allowed here"));
                return;
            }
            Value::Object(schema) => schema,
            other => panic!("a schema must be an object or a boolean, found {other}"),
        };
        for (keyword, arg) in schema {
            match keyword.as_str() {
                // Annotations.
                "$schema" | "$defs" | "title" | "description" | "default" | "examples"
                | "deprecated" | "readOnly" | "writeOnly" => {}
                "$ref" => self.validate(self.resolve(arg.as_str().unwrap()), value, at, errors),
                "type" => {
                    let types: Vec<&str> = match arg {
                        Value::String(t) => vec![t.as_str()],
                        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
                        other => panic!("bad `type` {other}"),
                    };
                    if !types.iter().any(|t| has_type(value, t)) {
                        errors.push(format!(
                            "{at}: expected {}, found {value}",
                            types.join(" or ")
                        ));
                    }
                }
                "enum" => {
                    if !arg.as_array().unwrap().contains(value) {
                        errors.push(format!("{at}: {value} is not one of {arg}"));
                    }
                }
                "const" => {
                    if arg != value {
                        errors.push(format!("{at}: expected {arg}, found {value}"));
                    }
                }
                "minimum" => {
                    if let Some(n) = value.as_f64()
                        && n < arg.as_f64().unwrap()
                    {
                        errors.push(format!("{at}: {n} is below the minimum {arg}"));
                    }
                }
                "maximum" => {
                    if let Some(n) = value.as_f64()
                        && n > arg.as_f64().unwrap()
                    {
                        errors.push(format!("{at}: {n} is above the maximum {arg}"));
                    }
                }
                "format" => check_format(arg.as_str().unwrap(), value, at, errors),
                "pattern" => {
                    if let Some(text) = value.as_str()
                        && !matches_pattern(arg.as_str().unwrap(), text)
                    {
                        errors.push(format!("{at}: `{text}` does not match {arg}"));
                    }
                }
                "minItems" => {
                    if let Some(items) = value.as_array()
                        && (items.len() as u64) < arg.as_u64().unwrap()
                    {
                        errors.push(format!("{at}: fewer than {arg} items"));
                    }
                }
                "items" => {
                    for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                        self.validate(arg, item, &format!("{at}[{i}]"), errors);
                    }
                }
                "required" => {
                    if let Some(object) = value.as_object() {
                        for key in arg.as_array().unwrap() {
                            if !object.contains_key(key.as_str().unwrap()) {
                                errors.push(format!("{at}: missing required key {key}"));
                            }
                        }
                    }
                }
                "properties" => {
                    if let Some(object) = value.as_object() {
                        for (key, sub) in arg.as_object().unwrap() {
                            if let Some(v) = object.get(key) {
                                self.validate(sub, v, &format!("{at}.{key}"), errors);
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Some(object) = value.as_object() {
                        let known = schema.get("properties").and_then(Value::as_object);
                        for (key, v) in object {
                            if known.is_some_and(|k| k.contains_key(key)) {
                                continue;
                            }
                            if arg == &Value::Bool(false) {
                                errors.push(format!("{at}: unknown key `{key}`"));
                            } else {
                                self.validate(arg, v, &format!("{at}.{key}"), errors);
                            }
                        }
                    }
                }
                "propertyNames" => {
                    for key in value.as_object().into_iter().flat_map(|o| o.keys()) {
                        self.validate(
                            arg,
                            &Value::String(key.clone()),
                            &format!("{at} key `{key}`"),
                            errors,
                        );
                    }
                }
                "oneOf" => {
                    let matching = arg
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|s| self.valid(s, value))
                        .count();
                    if matching != 1 {
                        errors.push(format!("{at}: {value} matches {matching} of the `oneOf` alternatives, not exactly one"));
                    }
                }
                "anyOf" => {
                    if !arg.as_array().unwrap().iter().any(|s| self.valid(s, value)) {
                        errors.push(format!(
                            "{at}: {value} matches none of the `anyOf` alternatives"
                        ));
                    }
                }
                "allOf" => {
                    for s in arg.as_array().unwrap() {
                        self.validate(s, value, at, errors);
                    }
                }
                other => panic!(
                    "the schema uses keyword `{other}`, which this validator does not know: add it"
                ),
            }
        }
    }
}

fn has_type(value: &Value, ty: &str) -> bool {
    match ty {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        other => panic!("unknown type `{other}`"),
    }
}

fn check_format(format: &str, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(n) = value.as_f64() else { return };
    let range = match format {
        "uint32" => (0.0, f64::from(u32::MAX)),
        "int32" => (f64::from(i32::MIN), f64::from(i32::MAX)),
        "uint" | "uint64" | "int64" | "int" | "double" | "float" => return,
        other => panic!("unknown format `{other}`"),
    };
    if n < range.0 || n > range.1 {
        errors.push(format!("{at}: {n} does not fit format {format}"));
    }
}

/// The patterns the schema uses, matched by hand (no regex engine in the tests).
fn matches_pattern(pattern: &str, text: &str) -> bool {
    match pattern {
        // A BCP-47-like language tag: `en`, `zh`, `zh-Hant`, `en-GB`.
        "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$" => {
            let mut parts = text.split('-');
            let first = parts.next().unwrap_or("");
            (2..=8).contains(&first.len())
                && first.chars().all(|c| c.is_ascii_alphabetic())
                && parts.all(|p| {
                    (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric())
                })
        }
        other => {
            panic!("the schema uses pattern {other}, which this validator does not know: add it")
        }
    }
}

fn yaml_to_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
}

fn shipped_playbooks() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("playbooks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| salesplay::is_playbook_file(p))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no playbooks shipped");
    paths
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let path = root().join("schema/playbook.schema.json");
    let generated = salesplay_cli::playbook_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/playbook.schema.json is out of date: run `UPDATE_SCHEMA=1 cargo test -p salesplay-cli --test schema`"
    );
}

#[test]
fn every_shipped_playbook_points_editors_at_the_schema() {
    for path in shipped_playbooks() {
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().next(),
            Some(MODELINE),
            "{} must start with `{MODELINE}`",
            path.display()
        );
    }
}

#[test]
fn every_shipped_playbook_validates_against_the_schema() {
    let schema = schema();
    let validator = Validator { root: &schema };
    let mut failures = Vec::new();
    for path in shipped_playbooks()
        .into_iter()
        .chain([root().join("crates/salesplay-cli/tests/data/deal.yaml")])
    {
        for error in validator.check(&yaml_to_json(&path)) {
            failures.push(format!("{}: {error}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_schema_rejects_what_the_loader_rejects_for_its_shape() {
    let schema = schema();
    let validator = Validator { root: &schema };
    let good = json!({
        "id": "p",
        "facts": { "deal.signed": "bool", "contacts": { "list": { "role": { "enum": ["user"] } } } },
        "stages": [{ "id": "a", "name": { "en": "A", "zh-Hant": "甲" }, "next": ["b", { "to": "b", "when": "deal.signed" }] }, { "id": "b", "max_days": 3 }],
        "policies": { "backward": "allow" }
    });
    assert_eq!(validator.check(&good), Vec::<String>::new());
    let bad = [
        json!({ "stages": [] }),
        json!({ "id": "p", "stagse": [] }),
        json!({ "id": "p", "stages": [{ "id": "a", "entyr": [] }] }),
        json!({ "id": "p", "stages": [{ "id": "a", "max_days": -30 }] }),
        json!({ "id": "p", "stages": [{ "id": "a", "probability": "high" }] }),
        json!({ "id": "p", "stages": [{ "id": "a", "next": [{ "when": "x" }] }] }),
        json!({ "id": "p", "stages": [{ "id": "a", "name": ["A"] }] }),
        json!({ "id": "p", "stages": [{ "id": "a", "name": { "English!": "A" } }] }),
        json!({ "id": "p", "stages": [{ "id": "a", "entry": [{ "id": "c" }] }] }),
        json!({ "id": "p", "facts": { "x": { "enum": [] } }, "stages": [] }),
        json!({ "id": "p", "facts": { "x": { "enum": ["a"], "list": "bool" } }, "stages": [] }),
        json!({ "id": "p", "policies": { "backward": "maybe" }, "stages": [] }),
        json!({ "id": "p", "plays": [{ "id": "x", "priority": 2.5 }], "stages": [] }),
        json!({ "id": "p", "version": 4294967296u64, "stages": [] }),
    ];
    for document in bad {
        assert!(
            !validator.check(&document).is_empty(),
            "the schema accepts {document}"
        );
    }
}

#[test]
fn the_schema_rejects_the_broken_examples_with_unknown_keys() {
    let schema = schema();
    let validator = Validator { root: &schema };
    let dir = root().join("crates/salesplay/tests/broken");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("E1002-") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Some examples are not YAML the way the author meant; only documents count here.
        let Ok(document) = serde_saphyr::from_str::<Value>(&text) else {
            continue;
        };
        assert!(
            !validator.check(&document).is_empty(),
            "the schema accepts {name}, which the loader rejects"
        );
        checked += 1;
    }
    assert!(checked > 0, "no E1002 examples in {}", dir.display());
}
