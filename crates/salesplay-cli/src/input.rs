//! Reading an account's facts document (JSON or YAML) for `eval`.

use std::io::Read;
use std::path::Path;

use salesplay::Playbook;
use salesplay::expr::{Facts, JsonKind};

/// The largest facts document read, in bytes.
pub(crate) const MAX_FACTS_BYTES: u64 = 16 * 1024 * 1024;

/// A problem with the facts, as `FILE[:LINE:COL]: error: MESSAGE` plus optional help.
#[derive(Debug)]
pub(crate) struct FactsProblem {
    pub(crate) location: Option<(usize, usize)>,
    pub(crate) message: String,
    pub(crate) help: Option<String>,
}

impl FactsProblem {
    fn new(message: impl Into<String>) -> FactsProblem {
        FactsProblem {
            location: None,
            message: message.into(),
            help: None,
        }
    }
}

/// How a facts file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    Json,
    Yaml,
    /// Unknown extension: JSON, else YAML.
    Either,
}

fn syntax_of(path: &Path) -> Syntax {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => Syntax::Json,
        Some("yaml" | "yml") => Syntax::Yaml,
        _ => Syntax::Either,
    }
}

/// Reads the facts in `path` (`-`: `stdin`) and binds them to `playbook`. Every problem is
/// returned, each naming its fact path or its position in the file.
pub(crate) fn read_facts(
    playbook: &Playbook,
    path: &Path,
    stdin: &mut dyn Read,
) -> Result<Facts, Vec<FactsProblem>> {
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        stdin.take(MAX_FACTS_BYTES + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_FACTS_BYTES + 1).read_to_end(&mut bytes))
    };
    if let Err(e) = read {
        return Err(vec![FactsProblem::new(format!(
            "cannot read the facts: {e}"
        ))]);
    }
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FACTS_BYTES {
        return Err(vec![FactsProblem::new(format!(
            "the facts file is over the limit of {MAX_FACTS_BYTES} bytes"
        ))]);
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        vec![FactsProblem::new(format!(
            "the facts are not valid UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ))]
    })?;
    let json = parse_document(&text, syntax_of(path))?;
    bind(playbook, &json)
}

/// Parses a facts document.
fn parse_document(text: &str, syntax: Syntax) -> Result<serde_json::Value, Vec<FactsProblem>> {
    match syntax {
        Syntax::Json => parse_json(text).map_err(|p| vec![p]),
        Syntax::Yaml => parse_yaml(text).map_err(|p| vec![p]),
        Syntax::Either => parse_json(text).or_else(|_| parse_yaml(text).map_err(|p| vec![p])),
    }
}

/// Parses JSON text, with the position of an error.
pub(crate) fn parse_json(text: &str) -> Result<serde_json::Value, FactsProblem> {
    // A byte-order mark is not JSON, but editors write one: accept it as YAML input does.
    // (Positions in errors then count from after it.)
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    strict::from_str(text).map_err(|e| json_problem(&e, "the facts are not valid JSON"))
}

/// A serde_json error as a problem with its position (the message without serde_json's
/// trailing position).
pub(crate) fn json_problem(e: &serde_json::Error, what: &str) -> FactsProblem {
    let full = e.to_string();
    let message = full
        .rfind(" at line ")
        .and_then(|i| full.get(..i))
        .unwrap_or(&full);
    let help = e
        .is_eof()
        .then(|| "the document ends early: is it truncated?".to_string());
    FactsProblem {
        location: (e.line() > 0).then(|| (e.line(), e.column().max(1))),
        message: format!("{what}: {message}"),
        help,
    }
}

fn parse_yaml(text: &str) -> Result<serde_json::Value, FactsProblem> {
    serde_saphyr::from_str::<serde_json::Value>(text).map_err(|e| {
        let full = e.without_snippet().to_string();
        let message = full
            .find(" at line ")
            .and_then(|i| full.get(..i))
            .unwrap_or(&full);
        let location = e.location().and_then(|l| {
            Some((
                usize::try_from(l.line()).ok()?,
                usize::try_from(l.column()).ok()?,
            ))
        });
        FactsProblem {
            location,
            message: format!("the facts are not valid YAML: {message}"),
            help: None,
        }
    })
}

/// The kind of a JSON value, for messages.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    kind_words(match value {
        serde_json::Value::Null => JsonKind::Null,
        serde_json::Value::Bool(_) => JsonKind::Bool,
        serde_json::Value::Number(_) => JsonKind::Number,
        serde_json::Value::String(_) => JsonKind::String,
        serde_json::Value::Array(_) => JsonKind::List,
        serde_json::Value::Object(_) => JsonKind::Object,
    })
}

/// A JSON kind in the words of the facts errors.
pub(crate) fn kind_words(kind: JsonKind) -> &'static str {
    match kind {
        JsonKind::Null => "nothing (null)",
        JsonKind::Bool => "a boolean",
        JsonKind::Number => "a number",
        JsonKind::String => "a string",
        JsonKind::List => "a list",
        _ => "a map",
    }
}

/// Binds a parsed document to the playbook's facts.
pub(crate) fn bind(
    playbook: &Playbook,
    json: &serde_json::Value,
) -> Result<Facts, Vec<FactsProblem>> {
    if !json.is_object() {
        return Err(vec![FactsProblem {
            location: None,
            message: format!(
                "the facts must be a map of fact names to values, found {}",
                json_kind(json)
            ),
            help: Some(
                "write the facts as an object, such as {\"relationship\": {\"level\": \"dating\"}}"
                    .to_string(),
            ),
        }]);
    }
    playbook.facts_from_json(json).map_err(|e| {
        e.errors
            .into_iter()
            .map(|b| FactsProblem {
                location: None,
                message: b.to_string(),
                help: b.help,
            })
            .collect()
    })
}

/// JSON parsing that rejects a key repeated in one object: `serde_json::Value` keeps the last
/// value silently, and a CRM export with `{"ok": true, "ok": false}` is a bad record, not a
/// quiet `false`.
pub(crate) mod strict {
    use std::fmt;

    use serde::de::{
        self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor,
    };
    use serde_json::{Map, Value};

    /// Parses `text` as JSON, failing on a duplicate key.
    pub(crate) fn from_str(text: &str) -> Result<Value, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let value = Strict.deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }

    struct Strict;

    impl<'de> DeserializeSeed<'de> for Strict {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
            deserializer.deserialize_any(StrictVisitor)
        }
    }

    struct StrictVisitor;

    impl<'de> Visitor<'de> for StrictVisitor {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format!(
                        "the key `{key}` appears twice in one object"
                    )));
                }
                let value = map.next_value_seed(Strict)?;
                out.insert(key, value);
            }
            Ok(Value::Object(out))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut out = Vec::new();
            while let Some(value) = seq.next_element_seed(Strict)? {
                out.push(value);
            }
            Ok(Value::Array(out))
        }

        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }

        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }

        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }

        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
        }

        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_string()))
        }

        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }

        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }

        fn visit_none<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            Value::deserialize(d)
        }
    }
}
