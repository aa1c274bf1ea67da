//! The playbook file as written: the serde model of the YAML format, with the position of
//! everything a diagnostic may point at. Only the loader reads it; it becomes a validated
//! [`crate::Playbook`] or a list of diagnostics.
//!
//! The JSON Schema that editors use is generated from these types (`schemars`), so the schema
//! and the loader cannot disagree.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A playbook file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "salesplay playbook",
    description = "A sales methodology as a typed state machine"
)]
pub struct RawPlaybook {
    /// Stable identifier, such as `key_account_six_steps`.
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// Bumped whenever stages change; journeys pin the version they started on.
    #[serde(default = "default_version")]
    pub version: u32,
    /// Name shown to people: a string or a map of language tag → text.
    #[schemars(with = "Option<Label>")]
    pub name: Option<Spanned<Label>>,
    /// What the playbook is for.
    #[schemars(with = "Option<Label>")]
    pub description: Option<Spanned<Label>>,
    /// Reusable named types, referred to by name in `facts`.
    #[serde(default, deserialize_with = "pairs")]
    #[schemars(with = "BTreeMap<String, FactType>")]
    pub types: Vec<(Spanned<String>, Spanned<FactType>)>,
    /// Every fact the criteria read, by dotted path, with its type.
    #[serde(default, deserialize_with = "pairs")]
    #[schemars(with = "BTreeMap<String, FactType>")]
    pub facts: Vec<(Spanned<String>, Spanned<FactType>)>,
    /// The stages, in order; by default each stage leads to the next.
    #[serde(default)]
    pub stages: Vec<RawStage>,
    /// Rules that recommend actions: when this holds, do that.
    #[serde(default)]
    pub plays: Vec<RawPlay>,
    /// How journeys treat backward moves and skipped stages.
    #[serde(default)]
    pub policies: Policies,
}

fn default_version() -> u32 {
    1
}

/// One stage of the flow.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// Stable identifier, unique in the playbook.
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// Name shown to people.
    #[schemars(with = "Option<Label>")]
    pub name: Option<Spanned<Label>>,
    /// What happens in the stage.
    #[schemars(with = "Option<Label>")]
    pub description: Option<Spanned<Label>>,
    /// Criteria that must all hold to enter the stage (its start markers).
    #[serde(default)]
    pub entry: Vec<RawCriterion>,
    /// Criteria that must all hold to leave the stage (its end markers).
    #[serde(default)]
    pub exit: Vec<RawCriterion>,
    /// The work to do in the stage.
    #[serde(default)]
    pub activities: Vec<RawActivity>,
    /// Successors: stage ids, or `{to, when, label}` with a guard. `[]` marks a terminal
    /// stage; absent means the next stage in the list.
    #[schemars(with = "Option<Vec<Edge>>")]
    pub next: Option<Vec<Spanned<Edge>>>,
    /// Days an account may stay before it counts as stalled.
    #[schemars(with = "Option<u32>")]
    pub max_days: Option<Spanned<u32>>,
    /// Probability (0 to 1) that an account in this stage is won, for the weighted pipeline.
    #[schemars(with = "Option<f64>")]
    pub probability: Option<Spanned<f64>>,
    /// The stage can be entered from any stage (such as `lost` or `disqualified`). Such a
    /// stage is never the default successor of the stage before it.
    #[serde(default)]
    pub from_anywhere: bool,
    /// Former ids of this stage, so journeys recorded on older versions migrate.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub renamed_from: Vec<Spanned<String>>,
}

/// An entry or exit criterion.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCriterion {
    /// Identifier, unique in the playbook.
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// What the criterion means, for people.
    #[schemars(with = "Option<Label>")]
    pub label: Option<Spanned<Label>>,
    /// The condition, in the criterion language (a CEL subset).
    #[schemars(with = "String")]
    pub when: Spanned<String>,
}

/// A piece of work to do in a stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawActivity {
    /// Identifier, unique within the stage.
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// What to do, for people.
    #[schemars(with = "Option<Label>")]
    pub label: Option<Spanned<Label>>,
    /// More detail.
    #[schemars(with = "Option<Label>")]
    pub description: Option<Spanned<Label>>,
}

/// A play: when its condition holds (and the account is in one of its stages), recommend it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlay {
    /// Identifier, unique in the playbook.
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// The recommended action, for people.
    #[schemars(with = "Option<Label>")]
    pub label: Option<Spanned<Label>>,
    /// Why and how, for people.
    #[schemars(with = "Option<Label>")]
    pub description: Option<Spanned<Label>>,
    /// The condition, in the criterion language. Absent means always.
    #[schemars(with = "Option<String>")]
    pub when: Option<Spanned<String>>,
    /// Higher runs first.
    #[serde(default)]
    pub priority: i32,
    /// Only for accounts in these stages. Absent means any stage.
    #[schemars(with = "Option<Vec<String>>")]
    pub stages: Option<Vec<Spanned<String>>>,
    /// Only for accounts that have stayed in their stage longer than its `max_days`
    /// (known from a journey).
    #[serde(default)]
    pub stalled: bool,
}

/// What journeys do on a kind of move.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Allow it.
    Allow,
    /// Allow it and record a warning.
    #[default]
    Warn,
    /// Refuse it (a forced move can still make it, recorded as an override).
    Block,
}

/// Journey policies.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// Moves to an earlier stage that no declared successor edge allows.
    #[serde(default = "warn")]
    pub backward: Policy,
    /// Moves forward to a stage that no successor edge of the current stage leads to.
    #[serde(default = "block")]
    pub skip: Policy,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            backward: Policy::Warn,
            skip: Policy::Block,
        }
    }
}

fn warn() -> Policy {
    Policy::Warn
}

fn block() -> Policy {
    Policy::Block
}

/// Text for people: one string, or a map of BCP-47 language tag → text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Label {
    /// The same text in every language.
    Plain(String),
    /// Text per language tag (`en`, `zh`, `zh-Hant`, ...).
    ByLanguage(BTreeMap<String, String>),
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LabelVisitor;
        impl<'de> Visitor<'de> for LabelVisitor {
            type Value = Label;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a map of language tag to text, such as {en: ..., zh: ...}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Label, E> {
                Ok(Label::Plain(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Label, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((tag, text)) = map.next_entry::<String, String>()? {
                    out.insert(tag, text);
                }
                Ok(Label::ByLanguage(out))
            }
        }
        deserializer.deserialize_any(LabelVisitor)
    }
}

impl JsonSchema for Label {
    fn schema_name() -> Cow<'static, str> {
        "Label".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Text for people: a string, or a map of BCP-47 language tag to text",
            "oneOf": [
                {"type": "string"},
                {"type": "object", "additionalProperties": {"type": "string"},
                 "propertyNames": {"pattern": "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"}}
            ]
        })
    }
}

/// A successor edge: a stage id, or `{to, when, label}`.
#[derive(Debug)]
pub struct Edge {
    /// The successor stage.
    pub to: String,
    /// Where `to` was written, when the edge is a map (`{to: ..., when: ...}`).
    pub to_location: Option<serde_saphyr::Location>,
    /// A guard that must hold to take the edge.
    pub when: Option<Spanned<String>>,
    /// What the edge means, for people.
    pub label: Option<Label>,
}

impl<'de> Deserialize<'de> for Edge {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EdgeVisitor;
        impl<'de> Visitor<'de> for EdgeVisitor {
            type Value = Edge;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a stage id, or a map with `to` and optional `when` and `label`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Edge, E> {
                Ok(Edge {
                    to: v.to_string(),
                    to_location: None,
                    when: None,
                    label: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Edge, A::Error> {
                let (mut to, mut when, mut label) = (None, None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "to" => to = Some(map.next_value::<Spanned<String>>()?),
                        "when" => when = Some(map.next_value::<Spanned<String>>()?),
                        "label" => label = Some(map.next_value::<Label>()?),
                        other => {
                            return Err(de::Error::unknown_field(other, &["to", "when", "label"]));
                        }
                    }
                }
                let to = to.ok_or_else(|| de::Error::missing_field("to"))?;
                Ok(Edge {
                    to: to.value,
                    to_location: Some(to.referenced),
                    when,
                    label,
                })
            }
        }
        deserializer.deserialize_any(EdgeVisitor)
    }
}

impl JsonSchema for Edge {
    fn schema_name() -> Cow<'static, str> {
        "Edge".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A successor: a stage id, or {to, when, label}",
            "oneOf": [
                {"type": "string"},
                {"type": "object", "required": ["to"], "additionalProperties": false,
                 "properties": {
                    "to": {"type": "string"},
                    "when": {"type": "string", "description": "guard, in the criterion language"},
                    "label": {"$ref": "#/$defs/Label"}
                 }}
            ]
        })
    }
}

/// The type of a fact, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum FactType {
    /// `bool`, `int`, `number`, `string`, `date`, `timestamp`, `duration`, or a name from
    /// `types:`.
    Named(String),
    /// `{enum: [...], ordered: bool}`.
    Enum {
        /// The values, in rank order when ordered.
        values: Vec<String>,
        /// Whether values compare by rank.
        ordered: bool,
    },
    /// `{list: type}` or `{list: {field: type, ...}}` (a list of records).
    List(Box<FactType>),
    /// `{field: type, ...}` inside a `list`.
    Record(Vec<(String, FactType)>),
    /// `{type: ..., label: ...}`: a type with a label for people.
    Labelled {
        /// The type.
        ty: Box<FactType>,
        /// The label.
        label: Label,
    },
}

impl<'de> Deserialize<'de> for FactType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FactTypeVisitor { record: false })
    }
}

struct FactTypeVisitor {
    /// Whether a map is a record's fields (inside `list:`) rather than a type form.
    record: bool,
}

/// Deserializes a `FactType` for the element of a list: a map there is a record.
struct ElementType(FactType);

impl<'de> Deserialize<'de> for ElementType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(FactTypeVisitor { record: true })
            .map(ElementType)
    }
}

impl<'de> Visitor<'de> for FactTypeVisitor {
    type Value = FactType;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a type name (bool, int, number, string, date, timestamp, duration, or a name from `types`), {enum: [...]}, or {list: ...}")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<FactType, E> {
        Ok(FactType::Named(v.to_string()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FactType, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Err(de::Error::custom("a fact type cannot be an empty map"));
        };
        // Inside `list:`, a map is a record's fields unless it starts like a type form.
        if self.record && !matches!(first.as_str(), "enum" | "list" | "type") {
            let mut fields = vec![(first, map.next_value::<FactType>()?)];
            while let Some(entry) = map.next_entry::<String, FactType>()? {
                fields.push(entry);
            }
            return Ok(FactType::Record(fields));
        }
        let (mut values, mut ordered, mut list, mut ty, mut label) = (None, None, None, None, None);
        let mut key = Some(first);
        while let Some(k) = key {
            match k.as_str() {
                "enum" => values = Some(map.next_value::<Vec<String>>()?),
                "ordered" => ordered = Some(map.next_value::<bool>()?),
                "list" => list = Some(map.next_value::<ElementType>()?.0),
                "type" => ty = Some(map.next_value::<FactType>()?),
                "label" => label = Some(map.next_value::<Label>()?),
                other => {
                    return Err(de::Error::unknown_field(
                        other,
                        &["enum", "ordered", "list", "type", "label"],
                    ));
                }
            }
            key = map.next_key::<String>()?;
        }
        let base = match (values, list, ty) {
            (Some(values), None, None) => FactType::Enum {
                values,
                ordered: ordered.unwrap_or(false),
            },
            (None, Some(elem), None) if ordered.is_none() => FactType::List(Box::new(elem)),
            (None, None, Some(ty)) if ordered.is_none() => ty,
            _ => {
                return Err(de::Error::custom(
                    "a fact type needs exactly one of `enum`, `list` or `type` (`ordered` goes with `enum`)",
                ));
            }
        };
        Ok(match label {
            Some(label) => FactType::Labelled {
                ty: Box::new(base),
                label,
            },
            None => base,
        })
    }
}

impl JsonSchema for FactType {
    fn schema_name() -> Cow<'static, str> {
        "FactType".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A fact type: a name (bool, int, number, string, date, timestamp, duration, or a name from `types`), {enum: [...], ordered}, {list: type-or-fields}, or {type, label}",
            "oneOf": [
                {"type": "string"},
                {"type": "object", "required": ["enum"], "additionalProperties": false,
                 "properties": {"enum": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                                "ordered": {"type": "boolean"},
                                "label": {"$ref": "#/$defs/Label"}}},
                {"type": "object", "required": ["list"], "additionalProperties": false,
                 "properties": {"list": {"anyOf": [
                        {"$ref": "#/$defs/FactType"},
                        {"type": "object", "additionalProperties": {"$ref": "#/$defs/FactType"}}]},
                     "label": {"$ref": "#/$defs/Label"}}},
                {"type": "object", "required": ["type"], "additionalProperties": false,
                 "properties": {"type": {"$ref": "#/$defs/FactType"}, "label": {"$ref": "#/$defs/Label"}}}
            ]
        })
    }
}

/// Deserializes a map into its entries in document order, keys and values with positions.
fn pairs<'de, D, K, V>(deserializer: D) -> Result<Vec<(K, V)>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de>,
    V: Deserialize<'de>,
{
    struct PairsVisitor<K, V>(std::marker::PhantomData<(K, V)>);
    impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<K, V> {
        type Value = Vec<(K, V)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(de::Error::custom(
                "expected a map of name to type, found a list",
            ))
        }
    }
    deserializer.deserialize_map(PairsVisitor(std::marker::PhantomData))
}
