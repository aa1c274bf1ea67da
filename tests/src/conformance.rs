//! The typed view of CEL's "simple" conformance test files.
//!
//! The files are protobuf text format for `cel.expr.conformance.test.SimpleTestFile`
//! (`simple.proto`), whose values are `cel.expr.Value` (`value.proto`), bindings
//! `cel.expr.ExprValue` (`eval.proto`) and type environments `cel.expr.Decl` (`checked.proto`).
//! This module turns the generic tree of [`crate::textproto`] into those shapes.
//!
//! Reading is strict: a field this module does not know is an error, never silently dropped,
//! so a new kind of expectation in a future copy of the data cannot pass unnoticed.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::textproto::{self, FieldName, FieldValue, Message, ParseError, Scalar};

/// One conformance file (`SimpleTestFile`).
#[derive(Clone, Debug, PartialEq)]
pub struct ConformanceFile {
    /// The file's name, which should match the file name without extension.
    pub name: String,
    /// What the file covers.
    pub description: String,
    /// The sections, in order.
    pub sections: Vec<Section>,
}

/// A section of related tests (`SimpleTestSection`).
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// The section's name.
    pub name: String,
    /// What the section covers.
    pub description: String,
    /// The tests, in order.
    pub tests: Vec<Test>,
}

/// One test (`SimpleTest`).
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    /// The test's name, unique within its file (in practice within its section).
    pub name: String,
    /// What the test checks.
    pub description: String,
    /// The CEL expression.
    pub expr: String,
    /// Parse without expanding macros.
    pub disable_macros: bool,
    /// Skip the type-check phase (evaluate an unchecked expression).
    pub disable_check: bool,
    /// Type-check only; do not evaluate.
    pub check_only: bool,
    /// The container (namespace) for name resolution; empty when none.
    pub container: String,
    /// The locale for evaluation; empty when none.
    pub locale: String,
    /// Declarations for the type checker.
    pub type_env: Vec<Decl>,
    /// Variable bindings for evaluation, in document order.
    pub bindings: Vec<(String, ExprValue)>,
    /// What evaluation must produce.
    pub expected: Expected,
    /// 1-based line of the `test` field in its file.
    pub line: usize,
}

/// What a test expects (`SimpleTest.result_matcher`).
#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// This exact value (also the default: `true` when no matcher is given).
    Value(CelValue),
    /// A value and the type the checker deduces.
    TypedResult {
        /// The value, if given.
        value: Option<CelValue>,
        /// The deduced type, if given.
        deduced_type: Option<CelType>,
    },
    /// An evaluation error; the messages the reference implementation gives.
    EvalError(Vec<String>),
    /// Any one of several error sets.
    AnyEvalErrors(Vec<Vec<String>>),
    /// An unknown result naming these expression ids.
    Unknown(Vec<i64>),
    /// Any one of several unknown sets.
    AnyUnknowns(Vec<Vec<i64>>),
}

/// A bound value (`ExprValue`).
#[derive(Clone, Debug, PartialEq)]
pub enum ExprValue {
    /// A value.
    Value(CelValue),
    /// An error; its messages.
    Error(Vec<String>),
    /// An unknown; its expression ids.
    Unknown(Vec<i64>),
}

/// A CEL value (`cel.expr.Value`).
#[derive(Clone, Debug, PartialEq)]
pub enum CelValue {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer (`int`).
    Int(i64),
    /// An unsigned integer (`uint`).
    Uint(u64),
    /// A double.
    Double(f64),
    /// A string.
    String(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// An enum value.
    Enum {
        /// The enum's full type name.
        type_name: String,
        /// The numeric value.
        value: i32,
    },
    /// A list.
    List(Vec<CelValue>),
    /// A map, entries in document order.
    Map(Vec<(CelValue, CelValue)>),
    /// A type value, by name (`type_value: "google.protobuf.Timestamp"`).
    Type(String),
    /// A `google.protobuf.Timestamp` object.
    Timestamp {
        /// Seconds since the Unix epoch.
        seconds: i64,
        /// Nanoseconds within the second.
        nanos: i32,
    },
    /// A `google.protobuf.Duration` object.
    Duration {
        /// Whole seconds.
        seconds: i64,
        /// Nanoseconds, with the same sign as `seconds`.
        nanos: i32,
    },
    /// Any other protobuf message, kept as its text-format fields.
    Object {
        /// The `Any` type URL, e.g. `type.googleapis.com/pkg.Message`.
        type_url: String,
        /// The message's fields.
        fields: Message,
    },
}

/// A declaration in a type environment (`cel.expr.Decl`).
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    /// The declared name (may be dotted: `a.b.c`).
    pub name: String,
    /// What is declared.
    pub kind: DeclKind,
}

/// What a [`Decl`] declares.
#[derive(Clone, Debug, PartialEq)]
pub enum DeclKind {
    /// A variable of this type.
    Ident(CelType),
    /// A function; its overloads kept as text-format fields.
    Function(Message),
}

/// A CEL type (`cel.expr.Type`).
#[derive(Clone, Debug, PartialEq)]
pub enum CelType {
    /// `dyn`.
    Dyn,
    /// `null_type`.
    Null,
    /// A primitive type.
    Primitive(Primitive),
    /// A protobuf wrapper of a primitive (`google.protobuf.Int64Value`, …).
    Wrapper(Primitive),
    /// A well-known protobuf type.
    WellKnown(WellKnown),
    /// `list(elem)`.
    List(Box<CelType>),
    /// `map(key, value)`.
    Map(Box<CelType>, Box<CelType>),
    /// A function type.
    Function {
        /// The result type.
        result: Box<CelType>,
        /// The argument types.
        args: Vec<CelType>,
    },
    /// A protobuf message type, by full name.
    Message(String),
    /// A type parameter, by name.
    TypeParam(String),
    /// The type of a type value (`type(T)`).
    Type(Box<CelType>),
    /// The error type.
    Error,
    /// An abstract (opaque) type with parameters.
    Abstract {
        /// The type's name.
        name: String,
        /// Its parameter types.
        params: Vec<CelType>,
    },
}

/// A primitive type (`cel.expr.Type.PrimitiveType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Primitive {
    /// `bool`.
    Bool,
    /// `int`.
    Int64,
    /// `uint`.
    Uint64,
    /// `double`.
    Double,
    /// `string`.
    String,
    /// `bytes`.
    Bytes,
}

/// A well-known type (`cel.expr.Type.WellKnownType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WellKnown {
    /// `google.protobuf.Any`.
    Any,
    /// `google.protobuf.Timestamp`.
    Timestamp,
    /// `google.protobuf.Duration`.
    Duration,
}

/// Why a conformance file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The text is not valid text format.
    Syntax(ParseError),
    /// The text format is valid but does not fit the conformance messages.
    Shape {
        /// 1-based line of the offending field (or its enclosing message).
        line: usize,
        /// What does not fit.
        message: String,
    },
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The reason.
        message: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Syntax(error) => write!(f, "{error}"),
            LoadError::Shape { line, message } => write!(f, "{line}: {message}"),
            LoadError::Io { path, message } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<ParseError> for LoadError {
    fn from(error: ParseError) -> Self {
        LoadError::Syntax(error)
    }
}

type Result<T> = std::result::Result<T, LoadError>;

impl ConformanceFile {
    /// Parses the text of one conformance file.
    pub fn parse(source: &str) -> Result<ConformanceFile> {
        let root = textproto::parse(source)?;
        let view = View::new(&root, 1, "SimpleTestFile");
        view.expect_only(&["name", "description", "section"])?;
        let sections = view
            .messages("section")?
            .into_iter()
            .map(|section| read_section(&section))
            .collect::<Result<_>>()?;
        Ok(ConformanceFile {
            name: view.string("name")?,
            description: view.string("description")?,
            sections,
        })
    }

    /// Every test with its section, in order.
    pub fn tests(&self) -> impl Iterator<Item = (&Section, &Test)> {
        self.sections
            .iter()
            .flat_map(|section| section.tests.iter().map(move |test| (section, test)))
    }
}

/// Reads and parses every `*.textproto` file in `dir`, sorted by file name.
pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, ConformanceFile)>> {
    let io_error = |path: &Path, error: std::io::Error| LoadError::Io {
        path: path.to_owned(),
        message: error.to_string(),
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let path = entry.map_err(|e| io_error(dir, e))?.path();
        if path.extension().is_some_and(|ext| ext == "textproto") {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
            let file = ConformanceFile::parse(&source).map_err(|error| LoadError::Io {
                path: path.clone(),
                message: error.to_string(),
            })?;
            Ok((path, file))
        })
        .collect()
}

fn read_section(view: &View<'_>) -> Result<Section> {
    view.expect_only(&["name", "description", "test"])?;
    let tests = view
        .messages("test")?
        .into_iter()
        .map(|test| read_test(&test))
        .collect::<Result<_>>()?;
    Ok(Section {
        name: view.string("name")?,
        description: view.string("description")?,
        tests,
    })
}

const MATCHERS: [&str; 6] = [
    "value",
    "typed_result",
    "eval_error",
    "any_eval_errors",
    "unknown",
    "any_unknowns",
];

fn read_test(view: &View<'_>) -> Result<Test> {
    view.expect_only(&[
        "name",
        "description",
        "expr",
        "disable_macros",
        "disable_check",
        "check_only",
        "type_env",
        "container",
        "locale",
        "bindings",
        "value",
        "typed_result",
        "eval_error",
        "any_eval_errors",
        "unknown",
        "any_unknowns",
    ])?;
    let name = view.string("name")?;
    let given: Vec<&str> = MATCHERS
        .into_iter()
        .filter(|matcher| view.has(matcher))
        .collect();
    if given.len() > 1 {
        return Err(view.shape(format!(
            "test `{name}` has more than one result matcher: {}",
            given.join(", ")
        )));
    }
    let expected = match given.first().copied() {
        None => Expected::Value(CelValue::Bool(true)),
        Some("value") => Expected::Value(read_value(&view.message("value")?)?),
        Some("typed_result") => {
            let typed = view.message("typed_result")?;
            typed.expect_only(&["result", "deduced_type"])?;
            Expected::TypedResult {
                value: typed
                    .optional_message("result")?
                    .map(|v| read_value(&v))
                    .transpose()?,
                deduced_type: typed
                    .optional_message("deduced_type")?
                    .map(|t| read_type(&t))
                    .transpose()?,
            }
        }
        Some("eval_error") => Expected::EvalError(read_error_set(&view.message("eval_error")?)?),
        Some("any_eval_errors") => {
            let matcher = view.message("any_eval_errors")?;
            matcher.expect_only(&["errors"])?;
            Expected::AnyEvalErrors(
                matcher
                    .messages("errors")?
                    .iter()
                    .map(read_error_set)
                    .collect::<Result<_>>()?,
            )
        }
        Some("unknown") => Expected::Unknown(read_unknown_set(&view.message("unknown")?)?),
        Some(_) => {
            let matcher = view.message("any_unknowns")?;
            matcher.expect_only(&["unknowns"])?;
            Expected::AnyUnknowns(
                matcher
                    .messages("unknowns")?
                    .iter()
                    .map(read_unknown_set)
                    .collect::<Result<_>>()?,
            )
        }
    };
    let bindings = view
        .messages("bindings")?
        .iter()
        .map(|entry| {
            entry.expect_only(&["key", "value"])?;
            Ok((
                entry.string("key")?,
                read_expr_value(&entry.message("value")?)?,
            ))
        })
        .collect::<Result<_>>()?;
    let type_env = view
        .messages("type_env")?
        .iter()
        .map(read_decl)
        .collect::<Result<_>>()?;
    Ok(Test {
        description: view.string("description")?,
        expr: view.string("expr")?,
        disable_macros: view.bool("disable_macros")?,
        disable_check: view.bool("disable_check")?,
        check_only: view.bool("check_only")?,
        container: view.string("container")?,
        locale: view.string("locale")?,
        type_env,
        bindings,
        expected,
        line: view.line,
        name,
    })
}

fn read_error_set(view: &View<'_>) -> Result<Vec<String>> {
    view.expect_only(&["errors"])?;
    view.messages("errors")?
        .iter()
        .map(|status| {
            status.expect_only(&["code", "message", "details"])?;
            status.string("message")
        })
        .collect()
}

fn read_unknown_set(view: &View<'_>) -> Result<Vec<i64>> {
    view.expect_only(&["exprs"])?;
    view.scalars("exprs")?
        .into_iter()
        .map(|(line, scalar)| {
            scalar.as_i64().ok_or_else(|| LoadError::Shape {
                line,
                message: format!("expected an expression id, found {scalar}"),
            })
        })
        .collect()
}

fn read_expr_value(view: &View<'_>) -> Result<ExprValue> {
    view.expect_only(&["value", "error", "unknown"])?;
    view.expect_one_of(&["value", "error", "unknown"])?;
    if view.has("value") {
        Ok(ExprValue::Value(read_value(&view.message("value")?)?))
    } else if view.has("error") {
        Ok(ExprValue::Error(read_error_set(&view.message("error")?)?))
    } else {
        Ok(ExprValue::Unknown(read_unknown_set(
            &view.message("unknown")?,
        )?))
    }
}

const VALUE_KINDS: [&str; 12] = [
    "null_value",
    "bool_value",
    "int64_value",
    "uint64_value",
    "double_value",
    "string_value",
    "bytes_value",
    "enum_value",
    "object_value",
    "map_value",
    "list_value",
    "type_value",
];

fn read_value(view: &View<'_>) -> Result<CelValue> {
    view.expect_only(&VALUE_KINDS)?;
    let kind = view.expect_one_of(&VALUE_KINDS)?;
    let value = match kind {
        "null_value" => {
            let (line, scalar) = view.scalar("null_value")?;
            let is_null =
                scalar.as_identifier() == Some("NULL_VALUE") || scalar.as_i64() == Some(0);
            if !is_null {
                return Err(LoadError::Shape {
                    line,
                    message: format!("expected `NULL_VALUE`, found {scalar}"),
                });
            }
            CelValue::Null
        }
        "bool_value" => CelValue::Bool(view.bool("bool_value")?),
        "int64_value" => CelValue::Int(view.convert("int64_value", "an int64", Scalar::as_i64)?),
        "uint64_value" => {
            CelValue::Uint(view.convert("uint64_value", "a uint64", Scalar::as_u64)?)
        }
        "double_value" => {
            CelValue::Double(view.convert("double_value", "a double", Scalar::as_f64)?)
        }
        "string_value" => CelValue::String(view.string("string_value")?),
        "bytes_value" => CelValue::Bytes(
            view.convert("bytes_value", "bytes", |s| s.as_bytes().map(<[u8]>::to_vec))?,
        ),
        "enum_value" => {
            let enum_value = view.message("enum_value")?;
            enum_value.expect_only(&["type", "value"])?;
            CelValue::Enum {
                type_name: enum_value.string("type")?,
                value: enum_value
                    .optional_convert("value", "an int32", |s| {
                        s.as_i64().and_then(|v| i32::try_from(v).ok())
                    })?
                    .unwrap_or(0),
            }
        }
        "object_value" => read_any(&view.message("object_value")?)?,
        "map_value" => {
            let map = view.message("map_value")?;
            map.expect_only(&["entries"])?;
            CelValue::Map(
                map.messages("entries")?
                    .iter()
                    .map(|entry| {
                        entry.expect_only(&["key", "value"])?;
                        Ok((
                            read_value(&entry.message("key")?)?,
                            read_value(&entry.message("value")?)?,
                        ))
                    })
                    .collect::<Result<_>>()?,
            )
        }
        "list_value" => {
            let list = view.message("list_value")?;
            list.expect_only(&["values"])?;
            CelValue::List(
                list.messages("values")?
                    .iter()
                    .map(read_value)
                    .collect::<Result<_>>()?,
            )
        }
        _ => CelValue::Type(view.string("type_value")?),
    };
    Ok(value)
}

/// A `google.protobuf.Any` written in the expanded form `[type.url] { fields }`.
fn read_any(view: &View<'_>) -> Result<CelValue> {
    let mut fields = view.message.fields.iter();
    let (Some(field), None) = (fields.next(), fields.next()) else {
        return Err(view.shape("expected exactly one `[type.url] { ... }` in an object value"));
    };
    let (FieldName::Extension(type_url), FieldValue::Message(body)) = (&field.name, &field.value)
    else {
        return Err(LoadError::Shape {
            line: field.line,
            message: "expected an object value in the form `[type.url] { ... }`".to_owned(),
        });
    };
    let body = View::new(body, field.line, type_url);
    let type_name = type_url.rsplit('/').next().unwrap_or(type_url);
    let seconds_and_nanos = || -> Result<(i64, i32)> {
        body.expect_only(&["seconds", "nanos"])?;
        let seconds = body
            .optional_convert("seconds", "an int64", Scalar::as_i64)?
            .unwrap_or(0);
        let nanos = body
            .optional_convert("nanos", "an int32", |s| {
                s.as_i64().and_then(|v| i32::try_from(v).ok())
            })?
            .unwrap_or(0);
        Ok((seconds, nanos))
    };
    Ok(match type_name {
        "google.protobuf.Timestamp" => {
            let (seconds, nanos) = seconds_and_nanos()?;
            CelValue::Timestamp { seconds, nanos }
        }
        "google.protobuf.Duration" => {
            let (seconds, nanos) = seconds_and_nanos()?;
            CelValue::Duration { seconds, nanos }
        }
        _ => CelValue::Object {
            type_url: type_url.clone(),
            fields: body.message.clone(),
        },
    })
}

fn read_decl(view: &View<'_>) -> Result<Decl> {
    view.expect_only(&["name", "ident", "function"])?;
    let kind = match view.expect_one_of(&["ident", "function"])? {
        "ident" => {
            let ident = view.message("ident")?;
            ident.expect_only(&["type", "value", "doc"])?;
            DeclKind::Ident(read_type(&ident.message("type")?)?)
        }
        _ => DeclKind::Function(view.message("function")?.message.clone()),
    };
    Ok(Decl {
        name: view.string("name")?,
        kind,
    })
}

const TYPE_KINDS: [&str; 13] = [
    "dyn",
    "null",
    "primitive",
    "wrapper",
    "well_known",
    "list_type",
    "map_type",
    "function",
    "message_type",
    "type_param",
    "type",
    "error",
    "abstract_type",
];

fn read_type(view: &View<'_>) -> Result<CelType> {
    view.expect_only(&TYPE_KINDS)?;
    let kind = view.expect_one_of(&TYPE_KINDS)?;
    let primitive = |field: &str| -> Result<Primitive> {
        let (line, scalar) = view.scalar(field)?;
        let primitive = match scalar.as_identifier() {
            Some("BOOL") => Primitive::Bool,
            Some("INT64") => Primitive::Int64,
            Some("UINT64") => Primitive::Uint64,
            Some("DOUBLE") => Primitive::Double,
            Some("STRING") => Primitive::String,
            Some("BYTES") => Primitive::Bytes,
            _ => {
                return Err(LoadError::Shape {
                    line,
                    message: format!("unknown primitive type {scalar}"),
                });
            }
        };
        Ok(primitive)
    };
    let many = |v: &View<'_>, field: &str| -> Result<Vec<CelType>> {
        v.messages(field)?.iter().map(read_type).collect()
    };
    Ok(match kind {
        "dyn" => CelType::Dyn,
        "null" => CelType::Null,
        "primitive" => CelType::Primitive(primitive("primitive")?),
        "wrapper" => CelType::Wrapper(primitive("wrapper")?),
        "well_known" => {
            let (line, scalar) = view.scalar("well_known")?;
            CelType::WellKnown(match scalar.as_identifier() {
                Some("ANY") => WellKnown::Any,
                Some("TIMESTAMP") => WellKnown::Timestamp,
                Some("DURATION") => WellKnown::Duration,
                _ => {
                    return Err(LoadError::Shape {
                        line,
                        message: format!("unknown well-known type {scalar}"),
                    });
                }
            })
        }
        "list_type" => {
            let list = view.message("list_type")?;
            list.expect_only(&["elem_type"])?;
            CelType::List(Box::new(read_type(&list.message("elem_type")?)?))
        }
        "map_type" => {
            let map = view.message("map_type")?;
            map.expect_only(&["key_type", "value_type"])?;
            CelType::Map(
                Box::new(read_type(&map.message("key_type")?)?),
                Box::new(read_type(&map.message("value_type")?)?),
            )
        }
        "function" => {
            let function = view.message("function")?;
            function.expect_only(&["result_type", "arg_types"])?;
            CelType::Function {
                result: Box::new(read_type(&function.message("result_type")?)?),
                args: many(&function, "arg_types")?,
            }
        }
        "message_type" => CelType::Message(view.string("message_type")?),
        "type_param" => CelType::TypeParam(view.string("type_param")?),
        "type" => CelType::Type(Box::new(read_type(&view.message("type")?)?)),
        "error" => CelType::Error,
        _ => {
            let abstract_type = view.message("abstract_type")?;
            abstract_type.expect_only(&["name", "parameter_types"])?;
            CelType::Abstract {
                name: abstract_type.string("name")?,
                params: many(&abstract_type, "parameter_types")?,
            }
        }
    })
}

/// A message being read as a particular protobuf message type.
struct View<'m> {
    message: &'m Message,
    /// Line of the field holding this message (for errors about the message as a whole).
    line: usize,
    /// The protobuf message type, for error messages.
    type_name: &'m str,
}

impl<'m> View<'m> {
    fn new(message: &'m Message, line: usize, type_name: &'m str) -> View<'m> {
        View {
            message,
            line,
            type_name,
        }
    }

    fn shape(&self, message: impl Into<String>) -> LoadError {
        LoadError::Shape {
            line: self.line,
            message: message.into(),
        }
    }

    fn expect_only(&self, known: &[&str]) -> Result<()> {
        for field in &self.message.fields {
            if !field.name.plain().is_some_and(|name| known.contains(&name)) {
                return Err(LoadError::Shape {
                    line: field.line,
                    message: format!("unknown field `{}` in a `{}`", field.name, self.type_name),
                });
            }
        }
        Ok(())
    }

    /// Checks that exactly one of the `oneof` members is set, and returns it.
    fn expect_one_of<'k>(&self, members: &[&'k str]) -> Result<&'k str> {
        let set: Vec<&'k str> = members.iter().copied().filter(|m| self.has(m)).collect();
        match set.as_slice() {
            [one] => Ok(one),
            [] => Err(self.shape(format!(
                "a `{}` needs one of: {}",
                self.type_name,
                members.join(", ")
            ))),
            _ => Err(self.shape(format!(
                "a `{}` has more than one of: {}",
                self.type_name,
                set.join(", ")
            ))),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.message.all(name).next().is_some()
    }

    fn fields(&self, name: &'m str) -> impl Iterator<Item = &'m textproto::Field> + 'm {
        self.message
            .fields
            .iter()
            .filter(move |field| field.name.plain() == Some(name))
    }

    /// The single field called `name`, if present; an error if it is repeated.
    fn single(&self, name: &'m str) -> Result<Option<&'m textproto::Field>> {
        let mut fields = self.fields(name);
        let first = fields.next();
        if let Some(second) = fields.next() {
            return Err(LoadError::Shape {
                line: second.line,
                message: format!("`{name}` given twice in a `{}`", self.type_name),
            });
        }
        Ok(first)
    }

    fn optional_scalar(&self, name: &'m str) -> Result<Option<(usize, &'m Scalar)>> {
        match self.single(name)? {
            None => Ok(None),
            Some(field) => match &field.value {
                FieldValue::Scalar(scalar) => Ok(Some((field.line, scalar))),
                FieldValue::Message(_) => Err(LoadError::Shape {
                    line: field.line,
                    message: format!("`{name}` must be a scalar, not a message"),
                }),
            },
        }
    }

    fn scalar(&self, name: &'m str) -> Result<(usize, &'m Scalar)> {
        self.optional_scalar(name)?
            .ok_or_else(|| self.shape(format!("a `{}` needs `{name}`", self.type_name)))
    }

    fn scalars(&self, name: &'m str) -> Result<Vec<(usize, &'m Scalar)>> {
        self.fields(name)
            .map(|field| match &field.value {
                FieldValue::Scalar(scalar) => Ok((field.line, scalar)),
                FieldValue::Message(_) => Err(LoadError::Shape {
                    line: field.line,
                    message: format!("`{name}` must be a scalar, not a message"),
                }),
            })
            .collect()
    }

    fn optional_convert<T>(
        &self,
        name: &'m str,
        what: &str,
        convert: impl Fn(&Scalar) -> Option<T>,
    ) -> Result<Option<T>> {
        let Some((line, scalar)) = self.optional_scalar(name)? else {
            return Ok(None);
        };
        convert(scalar).map(Some).ok_or_else(|| LoadError::Shape {
            line,
            message: format!("`{name}` must be {what}, found {scalar}"),
        })
    }

    fn convert<T>(
        &self,
        name: &'m str,
        what: &str,
        convert: impl Fn(&Scalar) -> Option<T>,
    ) -> Result<T> {
        self.optional_convert(name, what, convert)?
            .ok_or_else(|| self.shape(format!("a `{}` needs `{name}`", self.type_name)))
    }

    /// A `string` field; empty when absent (proto3 default).
    fn string(&self, name: &'m str) -> Result<String> {
        Ok(self
            .optional_convert(name, "a UTF-8 string", |s| s.as_str().map(str::to_owned))?
            .unwrap_or_default())
    }

    /// A `bool` field; false when absent (proto3 default).
    fn bool(&self, name: &'m str) -> Result<bool> {
        Ok(self
            .optional_convert(name, "a boolean", Scalar::as_bool)?
            .unwrap_or(false))
    }

    fn optional_message(&self, name: &'m str) -> Result<Option<View<'m>>> {
        match self.single(name)? {
            None => Ok(None),
            Some(field) => match &field.value {
                FieldValue::Message(message) => Ok(Some(View::new(message, field.line, name))),
                FieldValue::Scalar(_) => Err(LoadError::Shape {
                    line: field.line,
                    message: format!("`{name}` must be a message, not a scalar"),
                }),
            },
        }
    }

    fn message(&self, name: &'m str) -> Result<View<'m>> {
        self.optional_message(name)?
            .ok_or_else(|| self.shape(format!("a `{}` needs `{name}`", self.type_name)))
    }

    fn messages(&self, name: &'m str) -> Result<Vec<View<'m>>> {
        self.fields(name)
            .map(|field| match &field.value {
                FieldValue::Message(message) => Ok(View::new(message, field.line, name)),
                FieldValue::Scalar(_) => Err(LoadError::Shape {
                    line: field.line,
                    message: format!("`{name}` must be a message, not a scalar"),
                }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_test(source: &str) -> Test {
        let file = ConformanceFile::parse(source).unwrap();
        let mut tests: Vec<Test> = file.tests().map(|(_, test)| test.clone()).collect();
        assert_eq!(tests.len(), 1);
        tests.remove(0)
    }

    #[test]
    fn a_whole_small_file() {
        let file = ConformanceFile::parse(
            r#"
            # proto-message: cel.expr.conformance.test.SimpleTestFile
            name: "basic"
            description: "Basic conformance tests."
            section {
              name: "self_eval_zeroish"
              test { name: "self_eval_int_zero" expr: "0" value: { int64_value: 0 } }
              test { name: "no_matcher" expr: "true" }
            }
            section { name: "empty" }
            "#,
        )
        .unwrap();
        assert_eq!(file.name, "basic");
        assert_eq!(file.sections.len(), 2);
        let tests: Vec<_> = file.tests().map(|(s, t)| (s.name.as_str(), t)).collect();
        assert_eq!(tests.len(), 2);
        assert_eq!(tests[0].0, "self_eval_zeroish");
        assert_eq!(tests[0].1.expected, Expected::Value(CelValue::Int(0)));
        assert_eq!(tests[0].1.line, 7);
        // No matcher means "evaluates to true".
        assert_eq!(tests[1].1.expected, Expected::Value(CelValue::Bool(true)));
    }

    #[test]
    fn bindings_and_type_env() {
        let test = only_test(
            r#"section { name: "s" test {
                name: "t"
                expr: "x + y.size()"
                disable_check: true
                container: "cel.expr"
                type_env: { name: "x", ident: { type: { primitive: INT64 } } }
                type_env { name: "y" ident { type { list_type { elem_type { message_type: "google.protobuf.Timestamp" } } } } }
                type_env { name: "m" ident { type { map_type { key_type { primitive: STRING } value_type { null: NULL_VALUE } } } } }
                type_env { name: "w" ident { type { well_known: DURATION } } }
                bindings: { key: "x" value: { value: { int64_value: -123 } } }
                bindings { key: "y" value { value { list_value { values { double_value: -inf } values { uint64_value: 7 } } } } }
                bindings { key: "e" value { error { errors { message: "boom" } } } }
                bindings { key: "u" value { unknown { exprs: 4 exprs: 5 } } }
                eval_error { errors: { message: "no such overload" } }
            } }"#,
        );
        assert!(test.disable_check);
        assert_eq!(test.container, "cel.expr");
        assert_eq!(
            test.type_env,
            [
                Decl {
                    name: "x".into(),
                    kind: DeclKind::Ident(CelType::Primitive(Primitive::Int64)),
                },
                Decl {
                    name: "y".into(),
                    kind: DeclKind::Ident(CelType::List(Box::new(CelType::Message(
                        "google.protobuf.Timestamp".into()
                    )))),
                },
                Decl {
                    name: "m".into(),
                    kind: DeclKind::Ident(CelType::Map(
                        Box::new(CelType::Primitive(Primitive::String)),
                        Box::new(CelType::Null)
                    )),
                },
                Decl {
                    name: "w".into(),
                    kind: DeclKind::Ident(CelType::WellKnown(WellKnown::Duration)),
                },
            ]
        );
        assert_eq!(
            test.bindings,
            [
                ("x".into(), ExprValue::Value(CelValue::Int(-123))),
                (
                    "y".into(),
                    ExprValue::Value(CelValue::List(vec![
                        CelValue::Double(f64::NEG_INFINITY),
                        CelValue::Uint(7)
                    ]))
                ),
                ("e".into(), ExprValue::Error(vec!["boom".into()])),
                ("u".into(), ExprValue::Unknown(vec![4, 5])),
            ]
        );
        assert_eq!(
            test.expected,
            Expected::EvalError(vec!["no such overload".into()])
        );
    }

    #[test]
    fn every_value_kind() {
        let value_of = |text: &str| {
            let test = only_test(&format!(
                "section {{ name: 's' test {{ name: 't' expr: 'x' value {{ {text} }} }} }}"
            ));
            match test.expected {
                Expected::Value(value) => value,
                other => panic!("expected a value, got {other:?}"),
            }
        };
        assert_eq!(value_of("null_value: NULL_VALUE"), CelValue::Null);
        assert_eq!(value_of("null_value: 0"), CelValue::Null);
        assert_eq!(value_of("bool_value: true"), CelValue::Bool(true));
        assert_eq!(value_of("int64_value: 0x10"), CelValue::Int(16));
        assert_eq!(
            value_of("uint64_value: 18446744073709551615"),
            CelValue::Uint(u64::MAX)
        );
        assert_eq!(value_of("double_value: 30"), CelValue::Double(30.0));
        assert_eq!(
            value_of("string_value: '\\u00e1' \"b\""),
            CelValue::String("áb".into())
        );
        assert_eq!(
            value_of(r"bytes_value: '\377\x00'"),
            CelValue::Bytes(vec![0xff, 0])
        );
        assert_eq!(
            value_of("enum_value { type: 'a.B' value: -1 }"),
            CelValue::Enum {
                type_name: "a.B".into(),
                value: -1
            }
        );
        assert_eq!(
            value_of(
                "map_value { entries { key { string_value: 'k' } value { int64_value: 1 } } }"
            ),
            CelValue::Map(vec![(CelValue::String("k".into()), CelValue::Int(1))])
        );
        assert_eq!(value_of("list_value {}"), CelValue::List(vec![]));
        assert_eq!(
            value_of("type_value: 'google.protobuf.Duration'"),
            CelValue::Type("google.protobuf.Duration".into())
        );
        assert_eq!(
            value_of(
                "object_value { [type.googleapis.com/google.protobuf.Duration] { seconds: 123 nanos: 321456789 } }"
            ),
            CelValue::Duration {
                seconds: 123,
                nanos: 321_456_789
            }
        );
        assert_eq!(
            value_of(
                "object_value { [type.googleapis.com/google.protobuf.Timestamp] { seconds: -1 } }"
            ),
            CelValue::Timestamp {
                seconds: -1,
                nanos: 0
            }
        );
        let CelValue::Object { type_url, fields } = value_of(
            "object_value { [type.googleapis.com/cel.expr.conformance.proto3.TestAllTypes] { as: true } }",
        ) else {
            panic!("expected an object")
        };
        assert_eq!(
            type_url,
            "type.googleapis.com/cel.expr.conformance.proto3.TestAllTypes"
        );
        assert_eq!(fields.fields.len(), 1);
    }

    #[test]
    fn other_matchers() {
        let expected = |text: &str| {
            only_test(&format!(
                "section {{ name: 's' test {{ name: 't' expr: 'x' {text} }} }}"
            ))
            .expected
        };
        assert_eq!(
            expected(
                "any_eval_errors { errors { errors { message: 'a' } } errors { errors { message: 'b' } } }"
            ),
            Expected::AnyEvalErrors(vec![vec!["a".into()], vec!["b".into()]])
        );
        assert_eq!(
            expected("unknown { exprs: [1, 2] }"),
            Expected::Unknown(vec![1, 2])
        );
        assert_eq!(
            expected("any_unknowns { unknowns { exprs: 1 } }"),
            Expected::AnyUnknowns(vec![vec![1]])
        );
        assert_eq!(
            expected(
                "typed_result { result { bool_value: false } deduced_type { primitive: BOOL } }"
            ),
            Expected::TypedResult {
                value: Some(CelValue::Bool(false)),
                deduced_type: Some(CelType::Primitive(Primitive::Bool)),
            }
        );
    }

    #[test]
    fn misshapen_files_are_errors() {
        let error = |source: &str| ConformanceFile::parse(source).unwrap_err().to_string();
        assert!(error("nmae: 'x'").contains("unknown field `nmae`"));
        assert!(error("section { test { name: 't' valeu {} } }").contains("`valeu`"));
        assert!(
            error("section { test { name: 't' value { int64_value: 1 } eval_error {} } }")
                .contains("more than one result matcher")
        );
        assert!(error("section { test { value {} } }").contains("needs one of"));
        assert!(
            error("section { test { value { int64_value: 1 bool_value: true } } }")
                .contains("more than one of")
        );
        assert!(error("section { test { value { int64_value: 1.5 } } }").contains("an int64"));
        assert!(error("section { test { value { null_value: 3 } } }").contains("NULL_VALUE"));
        assert!(error("section { test { name: 'a' name: 'b' } }").contains("given twice"));
        assert!(error("section { test { name { } } }").contains("must be a scalar"));
        assert!(error("section: 'x'").contains("must be a message"));
        assert!(error("[ext] { }").contains("unknown field `[ext]`"));
        assert!(error("section { test { value { string_value: '\\xff' } } }").contains("UTF-8"));
        assert!(error("section { test { value { object_value { } } } }").contains("exactly one"));
        assert!(
            error(
                "section { test { type_env { name: 'x' ident { type { primitive: INT32 } } } } }"
            )
            .contains("INT32")
        );
        assert!(error("section {").starts_with("1:"));
    }
}

/// Reads the real conformance data, when it is there (see [`crate::conformance_dir`]).
#[cfg(test)]
mod data_files {
    use super::*;

    #[test]
    fn every_conformance_file_parses() {
        let dir = crate::conformance_dir();
        if !dir.is_dir() {
            assert!(
                !crate::conformance_required(),
                "CEL conformance data not found at {}",
                dir.display()
            );
            println!("skipped: no CEL conformance data at {}", dir.display());
            return;
        }
        let files = load_dir(&dir).unwrap_or_else(|error| panic!("{error}"));
        assert!(
            !files.is_empty(),
            "no .textproto files in {}",
            dir.display()
        );
        let mut total = 0;
        for (path, file) in &files {
            let stem = path.file_stem().unwrap().to_string_lossy();
            assert_eq!(file.name, stem, "the `name` of {}", path.display());
            let sections = file.sections.len();
            let tests = file.tests().count();
            assert!(tests > 0, "{} has no tests", path.display());
            println!("{stem:<16} {sections:>3} sections {tests:>5} tests");
            total += tests;
        }
        println!(
            "{:<16} {:>3} files    {total:>5} tests",
            "total",
            files.len()
        );
    }
}
