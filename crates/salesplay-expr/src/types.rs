//! The types a fact (and an expression) can have, and the schema that declares facts.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// The type of a fact or of an expression's result.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Type {
    /// `true` or `false`.
    Bool,
    /// A signed 64-bit integer.
    Int,
    /// A 64-bit floating-point number (CEL's `double`).
    Number,
    /// A UTF-8 string.
    String,
    /// A calendar date without a time (`2026-11-22`).
    Date,
    /// An instant (RFC 3339, `2026-11-22T09:00:00Z`).
    Timestamp,
    /// A signed span of time (`36h`, `90m`).
    Duration,
    /// One of a fixed set of names, optionally ordered by rank.
    Enum(Arc<EnumType>),
    /// A list whose elements all have one type.
    List(Arc<Type>),
    /// A record with named, typed fields (the element type of a list of records).
    Record(Arc<RecordType>),
}

impl Type {
    /// A list of records with the given fields; shorthand for the common fact shape.
    ///
    /// ```
    /// use salesplay_expr::Type;
    /// let contacts = Type::list_of_records([("role", Type::String), ("email", Type::String)]);
    /// assert_eq!(contacts.to_string(), "list of records {role: string, email: string}");
    /// ```
    pub fn list_of_records<S: Into<String>>(fields: impl IntoIterator<Item = (S, Type)>) -> Type {
        Type::List(Arc::new(Type::Record(Arc::new(RecordType::new(
            fields.into_iter().map(|(n, t)| (n.into(), t)).collect(),
        )))))
    }

    /// An enum type with the given values.
    ///
    /// ```
    /// use salesplay_expr::Type;
    /// let level = Type::enumeration(["acquainted", "dating", "trusted", "allied"], true);
    /// assert_eq!(level.to_string(), "ordered enum (acquainted, dating, trusted, allied)");
    /// ```
    pub fn enumeration<S: Into<String>>(
        values: impl IntoIterator<Item = S>,
        ordered: bool,
    ) -> Type {
        Type::Enum(Arc::new(EnumType::new(
            values.into_iter().map(Into::into).collect(),
            ordered,
        )))
    }

    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Number)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Date => f.write_str("date"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::Duration => f.write_str("duration"),
            Type::Enum(e) => {
                if e.ordered {
                    f.write_str("ordered ")?;
                }
                write!(f, "enum ({})", e.values.join(", "))
            }
            Type::List(elem) => write!(f, "list of {elem}"),
            Type::Record(r) => {
                f.write_str("records {")?;
                for (i, (name, ty)) in r.fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {ty}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// The values of an enum, in rank order when `ordered`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumType {
    values: Vec<String>,
    ordered: bool,
}

impl EnumType {
    /// An enum with `values` (in rank order if `ordered`).
    pub fn new(values: Vec<String>, ordered: bool) -> EnumType {
        EnumType { values, ordered }
    }

    /// The values, in declaration order.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether `<`, `>=`, ... compare values by rank.
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    /// The index of `name` among the values.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.values
            .iter()
            .position(|v| v == name)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// The name at `index`.
    pub fn name(&self, index: u32) -> Option<&str> {
        self.values.get(index as usize).map(String::as_str)
    }
}

/// The named, typed fields of a record.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordType {
    fields: Vec<(String, Type)>,
}

impl RecordType {
    /// A record type with `fields` in this order.
    pub fn new(fields: Vec<(String, Type)>) -> RecordType {
        RecordType { fields }
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[(String, Type)] {
        &self.fields
    }

    /// The position and type of field `name`.
    pub fn field(&self, name: &str) -> Option<(u32, &Type)> {
        self.fields
            .iter()
            .position(|(n, _)| n == name)
            .and_then(|i| Some((u32::try_from(i).ok()?, &self.fields.get(i)?.1)))
    }
}

/// The position of a declared fact in [`Facts`](crate::Facts): fact paths are resolved to
/// slots once, when a criterion is compiled, so evaluation never looks a name up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot(pub(crate) u32);

impl Slot {
    /// The slot's index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One declared fact: its dotted path and its type.
#[derive(Clone, Debug, PartialEq)]
pub struct FactDecl {
    /// The dotted path, such as `relationship.level`.
    pub path: String,
    /// The declared type.
    pub ty: Type,
}

/// The facts criteria may read: dotted paths with types, each given a [`Slot`].
///
/// ```
/// use salesplay_expr::{Schema, Type};
/// let mut schema = Schema::new();
/// let amount = schema.declare("opportunity.amount", Type::Number).unwrap();
/// assert_eq!(schema.lookup("opportunity.amount").map(|(slot, _)| slot), Some(amount));
/// assert!(schema.declare("opportunity.amount", Type::Int).is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Schema {
    facts: Vec<FactDecl>,
    index: HashMap<String, Slot>,
    /// Every proper prefix of a declared path (`relationship` for `relationship.level`),
    /// with one path that lies under it: declaring stays linear in the number of facts.
    groups: HashMap<String, String>,
}

/// Why a fact could not be declared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The path was declared before.
    #[error("fact `{0}` is declared twice")]
    Duplicate(String),
    /// The path is not a dotted sequence of identifiers.
    #[error("`{0}` is not a valid fact path: use dot-separated names of letters, digits and `_`")]
    InvalidPath(String),
    /// One declared path lies inside another (`a` and `a.b`).
    #[error("fact `{inner}` lies inside fact `{outer}`")]
    Nested {
        /// The shorter path.
        outer: String,
        /// The longer path.
        inner: String,
    },
    /// The first segment is a name the language reserves.
    #[error("`{0}` is reserved and cannot start a fact path")]
    Reserved(String),
    /// Too many facts to number.
    #[error("too many facts")]
    TooMany,
}

const RESERVED_FIRST_SEGMENTS: &[&str] = &[
    "now",
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

impl Schema {
    /// An empty schema.
    pub fn new() -> Schema {
        Schema::default()
    }

    /// Declares fact `path` of type `ty` and returns its slot.
    pub fn declare(&mut self, path: &str, ty: Type) -> Result<Slot, SchemaError> {
        let segments: Vec<&str> = path.split('.').collect();
        let valid = segments.iter().all(|s| {
            let mut chars = s.chars();
            chars
                .next()
                .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        });
        if !valid {
            return Err(SchemaError::InvalidPath(path.to_string()));
        }
        if let Some(first) = segments
            .first()
            .filter(|f| RESERVED_FIRST_SEGMENTS.contains(f))
        {
            return Err(SchemaError::Reserved((*first).to_string()));
        }
        if self.index.contains_key(path) {
            return Err(SchemaError::Duplicate(path.to_string()));
        }
        for i in 1..segments.len() {
            let prefix = segments.get(..i).unwrap_or_default().join(".");
            if self.index.contains_key(&prefix) {
                return Err(SchemaError::Nested {
                    outer: prefix,
                    inner: path.to_string(),
                });
            }
        }
        if let Some(inner) = self.groups.get(path) {
            return Err(SchemaError::Nested {
                outer: path.to_string(),
                inner: inner.clone(),
            });
        }
        let slot = Slot(u32::try_from(self.facts.len()).map_err(|_| SchemaError::TooMany)?);
        self.facts.push(FactDecl {
            path: path.to_string(),
            ty,
        });
        self.index.insert(path.to_string(), slot);
        for i in 1..segments.len() {
            let prefix = segments.get(..i).unwrap_or_default().join(".");
            self.groups
                .entry(prefix)
                .or_insert_with(|| path.to_string());
        }
        Ok(slot)
    }

    /// The slot and type of fact `path`.
    pub fn lookup(&self, path: &str) -> Option<(Slot, &Type)> {
        let slot = *self.index.get(path)?;
        Some((slot, &self.facts.get(slot.index())?.ty))
    }

    /// The declaration in `slot`.
    pub fn fact(&self, slot: Slot) -> Option<&FactDecl> {
        self.facts.get(slot.index())
    }

    /// Every declared fact, in slot order.
    pub fn facts(&self) -> &[FactDecl] {
        &self.facts
    }

    /// Number of declared facts.
    pub fn len(&self) -> usize {
        self.facts.len()
    }

    /// Whether no fact is declared.
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }
}
