//! Property tests of the criterion language (STYLE.md item 8).
//!
//! - **Round trip**: a random syntax tree printed with `Display` parses back to the same
//!   tree; text that parses prints to text that parses to the same tree, and printing is a
//!   fixed point. The trees cover every [`ExprKind`]: literals (negative numbers, strings with
//!   quotes, backslashes, control characters and any Unicode), names, selections, indexing,
//!   calls and macros, lists, unary and binary operators, `&&`/`||` chains (nested chains
//!   included) and conditionals.
//! - **Equality ignores spans**: the same text with leading blanks parses to an equal tree.
//! - **Never panics**: random bytes, token soups and deeply nested text go through `parse`,
//!   `compile` and `compile_criterion`; random trees over a fixed schema are compiled, and
//!   well-typed random expressions are compiled and run through `evaluate`, `check` and
//!   `explain` over random facts (absent facts, absent list elements and record fields,
//!   extreme ints, NaN and infinite numbers, empty lists, timestamps at the ends of their
//!   range). A panic fails the property.
//! - **Soundness and agreement**: a well-typed expression compiles; a program that compiled
//!   never yields `null` or a value outside its result type, nor a "wrong fact type" error,
//!   over facts of the declared types; `evaluate`, `check` and `explain` agree on the status;
//!   an explanation names missing facts exactly when the status is unknown.
//! - **Honest unknowns**: when absent facts leave a result known (`false && unknown`),
//!   filling them in with any values keeps it.
//! - **Text round trips of values**: `timestamp(string(t)) == t`, `duration(string(d)) == d`.
//!
//! The well-typed properties run twice: over facts whose lists hold no absent elements, and
//! over facts whose lists may (`"ints": [1, null]`, which `Facts::from_json` accepts), so a
//! failure of one kind does not hide the other.
//!
//! Every property runs from a fixed seed, so the suite is deterministic; set
//! `PROPTEST_RNG_SEED` (and `PROPTEST_CASES`) to explore further.

// Integration-test files are test code, but clippy only treats `#[test]` functions and
// `#[cfg(test)]` modules as tests: the workspace's panic-freedom lints (meant for library
// code) would fire on the helpers below, whose failures are test failures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};
use salesplay_expr::ast::{BinaryOp, Expr, ExprKind, NameSpan, UnaryOp};
use salesplay_expr::{
    AllOf, EvalErrorKind, Facts, Program, Schema, Sequence, Span, Status, Stop, Type, Value,
    compile, compile_criterion, parse,
};

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// A deterministic configuration: a fixed seed unless `PROPTEST_RNG_SEED` is set, `cases`
/// unless `PROPTEST_CASES` is set, and no regression files written into the crate.
fn config(cases: u32) -> Config {
    let default = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            cases
        },
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: match default.rng_seed {
            RngSeed::Random => RngSeed::Fixed(0x5a1e_5b1a_7000_0001),
            seed => seed,
        },
        failure_persistence: None,
        ..default
    }
}

// ---------------------------------------------------------------------------------------------
// Random syntax trees
// ---------------------------------------------------------------------------------------------

/// Words the lexer turns into their own tokens or the parser rejects as names.
const NOT_NAMES: &[&str] = &[
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

fn node(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

/// A name: an identifier, field or function name.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(&[
            "a", "b", "x", "amount", "relationship", "level", "contacts", "now", "_", "r", "R",
            "b2", "e5", "u", "size", "has", "all", "contains", "timestamp", "inside", "nullable",
            "trueish", "_in",
        ][..])
        .prop_map(String::from),
        1 => "[a-zA-Z_][a-zA-Z0-9_]{0,6}".prop_filter("a keyword or reserved word", |s| {
            !NOT_NAMES.contains(&s.as_str())
        }),
    ]
}

fn macro_name() -> impl Strategy<Value = &'static str> {
    select(&["all", "exists", "exists_one", "filter", "map"][..])
}

/// Characters that stress the string printer and lexer.
fn string_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        2 => select(&[
            '"', '\'', '\\', '\n', '\r', '\t', '\0', '\u{7}', '\u{7f}', '\u{85}', '\u{2028}',
            '`', '?', 'é', '客', '😀', '\u{fffd}', ' ', 'a', '/',
        ][..]),
    ]
}

fn int_literal() -> impl Strategy<Value = i64> {
    prop_oneof![
        select(&[0, 1, -1, 5, -5, i64::MAX, i64::MIN, i64::MIN + 1][..]),
        -1000i64..1000,
        any::<i64>(),
    ]
}

/// A finite double: the parser never produces NaN or an infinity.
fn double_literal() -> impl Strategy<Value = f64> {
    prop_oneof![
        select(
            &[
                0.0,
                -0.0,
                0.5,
                -1.5,
                1e16,
                1e-7,
                f64::MAX,
                f64::MIN,
                5e-324,
                1e300
            ][..]
        ),
        -1000.0f64..1000.0,
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        any::<bool>().prop_map(|b| node(ExprKind::Bool(b))),
        int_literal().prop_map(|v| node(ExprKind::Int(v))),
        double_literal().prop_map(|v| node(ExprKind::Double(v))),
        proptest::collection::vec(string_char(), 0..6)
            .prop_map(|cs| node(ExprKind::String(cs.into_iter().collect()))),
        name().prop_map(|n| node(ExprKind::Ident(n))),
        name().prop_map(|n| node(ExprKind::Ident(n))),
    ]
}

fn unary_op() -> impl Strategy<Value = UnaryOp> {
    select(&[UnaryOp::Not, UnaryOp::Neg][..])
}

fn binary_op() -> impl Strategy<Value = BinaryOp> {
    select(
        &[
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Rem,
            BinaryOp::Eq,
            BinaryOp::Ne,
            BinaryOp::Lt,
            BinaryOp::Le,
            BinaryOp::Gt,
            BinaryOp::Ge,
            BinaryOp::In,
        ][..],
    )
}

/// A random syntax tree of bounded depth with every kind of node, as the parser would build
/// it (spans aside).
fn expr_tree() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        let args = proptest::collection::vec(inner.clone(), 0..4);
        prop_oneof![
            (inner.clone(), name()).prop_map(|(operand, field)| node(ExprKind::Select {
                operand: Box::new(operand),
                field,
            })),
            (inner.clone(), inner.clone()).prop_map(|(operand, index)| node(ExprKind::Index {
                operand: Box::new(operand),
                index: Box::new(index),
            })),
            (proptest::option::of(inner.clone()), name(), args.clone()).prop_map(
                |(target, function, args)| node(ExprKind::Call {
                    target: target.map(Box::new),
                    function,
                    function_span: NameSpan::default(),
                    args,
                })
            ),
            // Macros: `range.m(var, body)` and three-argument `map`.
            (
                inner.clone(),
                macro_name(),
                name(),
                proptest::collection::vec(inner.clone(), 1..3)
            )
                .prop_map(|(range, function, var, rest)| {
                    let mut args = vec![node(ExprKind::Ident(var))];
                    args.extend(rest);
                    node(ExprKind::Call {
                        target: Some(Box::new(range)),
                        function: function.to_string(),
                        function_span: NameSpan::default(),
                        args,
                    })
                }),
            // `has(x.f)`
            (inner.clone(), name()).prop_map(|(operand, field)| node(ExprKind::Call {
                target: None,
                function: "has".into(),
                function_span: NameSpan::default(),
                args: vec![node(ExprKind::Select {
                    operand: Box::new(operand),
                    field,
                })],
            })),
            args.prop_map(|items| node(ExprKind::List(items))),
            (unary_op(), inner.clone()).prop_map(|(op, operand)| node(ExprKind::Unary {
                op,
                operand: Box::new(operand),
            })),
            (binary_op(), inner.clone(), inner.clone()).prop_map(|(op, lhs, rhs)| node(
                ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                }
            )),
            proptest::collection::vec(inner.clone(), 2..5)
                .prop_map(|items| node(ExprKind::And(items))),
            proptest::collection::vec(inner.clone(), 2..5)
                .prop_map(|items| node(ExprKind::Or(items))),
            (inner.clone(), inner.clone(), inner).prop_map(|(cond, then, otherwise)| node(
                ExprKind::Conditional {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                }
            )),
        ]
    })
}

/// Source text built from a small grammar of CEL surface syntax, including forms the printer
/// never writes: single quotes, raw and triple-quoted strings, escapes, hex and exponent
/// numbers, redundant parentheses, trailing commas, comments and odd spacing.
fn cel_text() -> impl Strategy<Value = String> {
    let blank = select(&["", " ", "  ", "\n", "\t", " // note\n"][..]);
    let atom = select(
        &[
            "a",
            "b",
            "x.y",
            "now",
            "_z9",
            "0",
            "7",
            "0x1F",
            "0X0",
            "1e3",
            "2.5",
            ".5",
            "1.5e-3",
            "9223372036854775807",
            "-9223372036854775808",
            "-0.0",
            "true",
            "false",
            "'it''s'",
            r#""q\"q""#,
            r"'\x41\u00e9\101\a\v\?\`'",
            r#"r"\n""#,
            "R'raw'",
            "'''tri'ple'''",
            r#""""a"b""""#,
            "\"客户\"",
            "''",
        ][..],
    );
    let op = select(
        &[
            "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in", "&&", "||",
        ][..],
    );
    atom.prop_map(String::from)
        .prop_recursive(4, 32, 3, move |inner| {
            prop_oneof![
                (inner.clone(), blank.clone()).prop_map(|(e, b)| format!("({b}{e}{b})")),
                (inner.clone(), op.clone(), inner.clone(), blank.clone())
                    .prop_map(|(l, o, r, b)| format!("{l}{b} {o} {b}{r}")),
                (select(&["!", "-", "!!", "--"][..]), inner.clone())
                    .prop_map(|(o, e)| format!("{o}{e}")),
                (inner.clone(), select(&["f", "size", "level"][..]))
                    .prop_map(|(e, f)| format!("{e}.{f}")),
                (inner.clone(), inner.clone()).prop_map(|(e, i)| format!("{e}[{i}]")),
                (
                    select(&["size", "f", "timestamp", "has"][..]),
                    proptest::collection::vec(inner.clone(), 0..3),
                    any::<bool>()
                )
                    .prop_map(|(f, args, trailing)| {
                        let comma = if trailing && !args.is_empty() {
                            ","
                        } else {
                            ""
                        };
                        format!("{f}({}{comma})", args.join(", "))
                    }),
                (inner.clone(), macro_name(), inner.clone())
                    .prop_map(|(r, m, b)| format!("{r}.{m}(v, {b})")),
                (
                    proptest::collection::vec(inner.clone(), 0..4),
                    any::<bool>()
                )
                    .prop_map(|(items, trailing)| {
                        let comma = if trailing && !items.is_empty() {
                            ","
                        } else {
                            ""
                        };
                        format!("[{}{comma}]", items.join(","))
                    }),
                (inner.clone(), inner.clone(), inner)
                    .prop_map(|(c, t, o)| format!("{c} ? {t} : {o}")),
            ]
        })
}

/// Checks that `expr` prints to text that parses back to it, and that printing that again
/// gives the same text.
fn assert_round_trip(expr: &Expr) -> Result<(), TestCaseError> {
    let printed = expr.to_string();
    let reparsed = match parse(&printed) {
        Ok(e) => e,
        Err(errors) => {
            let messages: Vec<&str> = errors.iter().map(|d| d.message.as_str()).collect();
            return Err(TestCaseError::fail(format!(
                "printed text does not parse: {printed:?}: {messages:?}\ntree: {expr:?}"
            )));
        }
    };
    prop_assert_eq!(
        &reparsed,
        expr,
        "printed as {:?}, which parses to another tree",
        printed
    );
    prop_assert_eq!(
        reparsed.to_string(),
        printed,
        "printing is not a fixed point"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(1500))]

    /// tree → text → tree gives the tree back.
    #[test]
    fn printed_trees_parse_back(expr in expr_tree()) {
        assert_round_trip(&expr)?;
    }

    /// Text written by hand, in any of CEL's surface forms, that parses, round-trips.
    #[test]
    fn parsed_text_round_trips(text in cel_text()) {
        if let Ok(expr) = parse(&text) {
            assert_round_trip(&expr)?;
        }
    }

    /// Any string over an alphabet of CEL's characters that parses, round-trips.
    #[test]
    fn random_strings_that_parse_round_trip(text in "[ab1.0()\\[\\],!?:<=>&|+*/%'\"\\\\ -]{0,24}") {
        if let Ok(expr) = parse(&text) {
            assert_round_trip(&expr)?;
        }
    }
}

proptest! {
    #![proptest_config(config(500))]

    /// `ast` promises that equality ignores spans: the same text moved right by a few blanks
    /// parses to an equal tree.
    #[test]
    fn equality_ignores_spans(expr in expr_tree(), pad in 1usize..4) {
        let printed = expr.to_string();
        let here = parse(&printed).unwrap();
        let moved = parse(&format!("{}{printed}", " ".repeat(pad))).unwrap();
        prop_assert_eq!(here, moved, "`{}` parses differently when moved right", printed);
    }
}

// ---------------------------------------------------------------------------------------------
// The fixed schema of the "never panics" properties
// ---------------------------------------------------------------------------------------------

const STAGES: &[&str] = &["lead", "qualified", "proposal", "won"];
const KINDS: &[&str] = &["new", "renewal", "upsell"];
const ROLES: &[&str] = &["user", "influencer", "decision_maker"];

/// The types of the typed generator: the fact types of [`schema`] and the element types of
/// its lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Bool,
    Int,
    Num,
    Str,
    Date,
    Ts,
    Dur,
    /// `deal.stage`: an ordered enum.
    Stage,
    /// `kind`: an unordered enum.
    Kind,
    /// A contact's `role`: an ordered enum.
    Role,
    ListInt,
    ListNum,
    ListStr,
    ListContact,
    Contact,
}

impl Ty {
    fn element(self) -> Option<Ty> {
        match self {
            Ty::ListInt => Some(Ty::Int),
            Ty::ListNum => Some(Ty::Num),
            Ty::ListStr => Some(Ty::Str),
            Ty::ListContact => Some(Ty::Contact),
            _ => None,
        }
    }
}

/// Every fact of [`schema`] with its generator type.
const FACTS: &[(&str, Ty)] = &[
    ("a", Ty::Int),
    ("b", Ty::Int),
    ("x", Ty::Num),
    ("y", Ty::Num),
    ("s", Ty::Str),
    ("t", Ty::Str),
    ("flag", Ty::Bool),
    ("deal.won", Ty::Bool),
    ("deal.amount", Ty::Num),
    ("deal.stage", Ty::Stage),
    ("kind", Ty::Kind),
    ("ints", Ty::ListInt),
    ("nums", Ty::ListNum),
    ("tags", Ty::ListStr),
    ("contacts", Ty::ListContact),
    ("signed_on", Ty::Date),
    ("ts", Ty::Ts),
    ("dur", Ty::Dur),
];

/// The fields of a contact, with their generator types.
const CONTACT_FIELDS: &[(&str, Ty)] = &[
    ("name", Ty::Str),
    ("role", Ty::Role),
    ("age", Ty::Int),
    ("score", Ty::Num),
    ("active", Ty::Bool),
    ("labels", Ty::ListStr),
];

fn schema_type(ty: Ty) -> Type {
    match ty {
        Ty::Bool => Type::Bool,
        Ty::Int => Type::Int,
        Ty::Num => Type::Number,
        Ty::Str => Type::String,
        Ty::Date => Type::Date,
        Ty::Ts => Type::Timestamp,
        Ty::Dur => Type::Duration,
        Ty::Stage => Type::enumeration(STAGES.iter().copied(), true),
        Ty::Kind => Type::enumeration(KINDS.iter().copied(), false),
        Ty::Role => Type::enumeration(ROLES.iter().copied(), true),
        Ty::ListInt | Ty::ListNum | Ty::ListStr | Ty::ListContact => {
            Type::List(Arc::new(schema_type(ty.element().unwrap())))
        }
        Ty::Contact => Type::Record(Arc::new(salesplay_expr::RecordType::new(
            CONTACT_FIELDS
                .iter()
                .map(|(n, t)| (n.to_string(), schema_type(*t)))
                .collect(),
        ))),
    }
}

fn schema() -> Schema {
    let mut schema = Schema::new();
    for (path, ty) in FACTS {
        schema.declare(path, schema_type(*ty)).unwrap();
    }
    schema
}

// ---------------------------------------------------------------------------------------------
// Random facts
// ---------------------------------------------------------------------------------------------

const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
/// CEL durations are a signed 64-bit count of nanoseconds.
const MAX_DURATION_SECONDS: i64 = i64::MAX / 1_000_000_000;

const STRINGS: &[&str] = &[
    "",
    "a",
    "ab",
    "A",
    "é",
    "客户",
    "\"",
    "\\",
    "\0",
    "12",
    "-7",
    "9223372036854775808",
    "1e3",
    "1.5",
    "NaN",
    "inf",
    "2026-11-22",
    "2026-02-30",
    "2026-11-22T09:30:00Z",
    "2026-11-22T09:30:00.25+08:00",
    "36h",
    "1h30m",
    "-1.5s",
    "lead",
    "won",
];

fn int_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        select(
            &[
                0,
                1,
                -1,
                2,
                i64::MAX,
                i64::MIN,
                i64::MAX - 1,
                i64::MIN + 1,
                86_400
            ][..]
        ),
        -20i64..20,
        any::<i64>(),
    ]
}

fn number_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        select(
            &[
                0.0,
                -0.0,
                1.5,
                -2.5,
                0.1,
                1e308,
                -1e308,
                f64::MAX,
                f64::MIN_POSITIVE,
                5e-324,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                9.2e18,
                -9.3e18,
            ][..]
        ),
        -100.0f64..100.0,
        any::<f64>(),
    ]
}

fn string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        select(STRINGS).prop_map(String::from),
        proptest::collection::vec(string_char(), 0..5).prop_map(|cs| cs.into_iter().collect()),
    ]
}

fn timestamp_value() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        select(
            &[
                MIN_TIMESTAMP_SECONDS,
                MAX_TIMESTAMP_SECONDS,
                0,
                1_795_000_000
            ][..]
        )
        .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        Just(DateTime::from_timestamp(MAX_TIMESTAMP_SECONDS, 999_999_999).unwrap()),
        (
            MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS,
            0u32..1_000_000_000
        )
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap()),
    ]
}

fn duration_value() -> impl Strategy<Value = TimeDelta> {
    prop_oneof![
        select(&[0, 1, -1, 86_400, i64::MAX, i64::MIN, i64::MAX - 1][..]).prop_map(|n| {
            if n.unsigned_abs() <= 86_400 {
                TimeDelta::seconds(n)
            } else {
                TimeDelta::nanoseconds(n)
            }
        }),
        (
            -MAX_DURATION_SECONDS..MAX_DURATION_SECONDS,
            0u32..1_000_000_000
        )
            .prop_map(|(s, n)| TimeDelta::new(s, n).unwrap()),
    ]
}

fn date_value() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        Just(NaiveDate::from_ymd_opt(1, 1, 1).unwrap()),
        Just(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap()),
        (1i32..=3_652_059).prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).unwrap()),
    ]
}

/// A value of type `ty`; records may lack fields, and with `null_elements` lists may hold
/// absent elements, as JSON such as `"contacts": [null]` binds to.
fn value_of(ty: Ty, null_elements: bool) -> BoxedStrategy<Value> {
    match ty {
        Ty::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Ty::Int => int_value().prop_map(Value::Int).boxed(),
        Ty::Num => number_value().prop_map(Value::Number).boxed(),
        Ty::Str => string_value()
            .prop_map(|s| Value::String(Arc::from(s)))
            .boxed(),
        Ty::Date => date_value().prop_map(Value::Date).boxed(),
        Ty::Ts => timestamp_value().prop_map(Value::Timestamp).boxed(),
        Ty::Dur => duration_value().prop_map(Value::Duration).boxed(),
        Ty::Stage => (0..STAGES.len() as u32).prop_map(Value::Enum).boxed(),
        Ty::Kind => (0..KINDS.len() as u32).prop_map(Value::Enum).boxed(),
        Ty::Role => (0..ROLES.len() as u32).prop_map(Value::Enum).boxed(),
        Ty::ListInt | Ty::ListNum | Ty::ListStr | Ty::ListContact => {
            let element = prop_oneof![
                9 => value_of(ty.element().unwrap(), null_elements),
                u32::from(null_elements) => Just(Value::Null),
            ];
            proptest::collection::vec(element, 0..4)
                .prop_map(|items| Value::List(items.into()))
                .boxed()
        }
        Ty::Contact => CONTACT_FIELDS
            .iter()
            .map(|(_, t)| prop_oneof![6 => value_of(*t, null_elements), 1 => Just(Value::Null)])
            .collect::<Vec<_>>()
            .prop_map(|fields| Value::Record(fields.into()))
            .boxed(),
    }
}

/// One value (or absence) per fact of [`schema`], in slot order; see [`value_of`].
fn fact_values(null_elements: bool) -> impl Strategy<Value = Vec<Value>> {
    FACTS
        .iter()
        .map(|(_, ty)| prop_oneof![1 => Just(Value::Null), 4 => value_of(*ty, null_elements)])
        .collect::<Vec<_>>()
}

/// A value of type `ty` with nothing absent in it, lists non-empty: what an account whose
/// facts are all known could have.
fn complete_value_of(ty: Ty) -> BoxedStrategy<Value> {
    match ty {
        Ty::ListInt | Ty::ListNum | Ty::ListStr | Ty::ListContact => {
            proptest::collection::vec(complete_value_of(ty.element().unwrap()), 1..4)
                .prop_map(|items| Value::List(items.into()))
                .boxed()
        }
        Ty::Contact => CONTACT_FIELDS
            .iter()
            .map(|(_, t)| complete_value_of(*t))
            .collect::<Vec<_>>()
            .prop_map(|fields| Value::Record(fields.into()))
            .boxed(),
        // Small values, often equal to the literals expressions compare them with, so that a
        // filled-in value can flip a result that should not have been known.
        Ty::Int => prop_oneof![-2i64..=2, int_value()]
            .prop_map(Value::Int)
            .boxed(),
        Ty::Str => prop_oneof![
            select(&["", "a", "b"][..]).prop_map(String::from),
            string_value()
        ]
        .prop_map(|s| Value::String(Arc::from(s)))
        .boxed(),
        other => value_of(other, false),
    }
}

fn complete_fact_values() -> impl Strategy<Value = Vec<Value>> {
    FACTS
        .iter()
        .map(|(_, ty)| complete_value_of(*ty))
        .collect::<Vec<_>>()
}

/// `partial` with everything absent in it (the value itself, list elements, record fields)
/// filled in from `complete`, a value of the same type with nothing absent.
fn fill(partial: &Value, complete: &Value) -> Value {
    match (partial, complete) {
        (Value::Null, _) => complete.clone(),
        (Value::List(items), Value::List(fillers)) if !fillers.is_empty() => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| fill(item, &fillers[i % fillers.len()]))
                .collect::<Vec<_>>()
                .into(),
        ),
        (Value::Record(fields), Value::Record(fillers)) => Value::Record(
            fields
                .iter()
                .zip(fillers.iter())
                .map(|(field, filler)| fill(field, filler))
                .collect::<Vec<_>>()
                .into(),
        ),
        _ => partial.clone(),
    }
}

/// Value equality in which NaN equals NaN.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::List(xs), Value::List(ys)) | (Value::Record(xs), Value::Record(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| same(x, y))
        }
        _ => a == b,
    }
}

fn has_absent_parts(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::List(items) | Value::Record(items) => items.iter().any(has_absent_parts),
        _ => false,
    }
}

fn bind(schema: &Schema, values: Vec<Value>) -> Facts {
    let mut facts = Facts::new(schema);
    for (decl, value) in schema.facts().iter().zip(values) {
        let (slot, _) = schema.lookup(&decl.path).unwrap();
        facts.set(schema, slot, value).unwrap();
    }
    facts
}

// ---------------------------------------------------------------------------------------------
// Well-typed random expressions
// ---------------------------------------------------------------------------------------------

/// Writes `s` as a CEL string literal.
fn quote(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Builds a well-typed expression over [`schema`] from a tape of random choices. Each choice
/// reads the next number of the tape; past its end every choice is 0, which always picks a
/// leaf, so generation ends and shrinking the tape simplifies the expression.
struct Gen<'t> {
    tape: &'t [u32],
    pos: usize,
    /// Macro variables in scope, innermost last.
    locals: Vec<(String, Ty)>,
}

const VARIABLES: &[&str] = &["v", "w", "e", "it"];

impl Gen<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let choice = self.tape.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        choice as usize % n.max(1)
    }

    fn one<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.pick(options.len())]
    }

    /// The macro variables of type `ty` that are not shadowed.
    fn visible(&self, ty: Ty) -> Vec<String> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for (name, t) in self.locals.iter().rev() {
            if seen.contains(name) {
                continue;
            }
            seen.push(name.clone());
            if *t == ty {
                out.push(name.clone());
            }
        }
        out
    }

    fn expr(&mut self, ty: Ty, depth: u32) -> String {
        if depth == 0 || self.pick(4) == 0 {
            self.leaf(ty)
        } else {
            self.compound(ty, depth - 1)
        }
    }

    fn leaf(&mut self, ty: Ty) -> String {
        let mut options: Vec<String> = match ty {
            Ty::Bool => vec!["true".into(), "false".into()],
            Ty::Int => [
                "0",
                "1",
                "-1",
                "2",
                "7",
                "-7",
                "86400",
                "9223372036854775807",
                "-9223372036854775808",
                "0x10",
            ]
            .map(String::from)
            .to_vec(),
            Ty::Num => [
                "0.0", "1.5", "-2.5", "0.1", "1e308", "-1e308", "5e-324", "1e16", "-0.0",
            ]
            .map(String::from)
            .to_vec(),
            Ty::Str => STRINGS.iter().map(|s| quote(s)).collect(),
            Ty::Date => vec![
                r#"date("2026-11-22")"#.into(),
                r#"date("0001-01-01")"#.into(),
                r#"date("9999-12-31")"#.into(),
            ],
            Ty::Ts => vec![
                "now".into(),
                r#"timestamp("2026-11-22T09:30:00Z")"#.into(),
                r#"timestamp("0001-01-01T00:00:00Z")"#.into(),
                r#"timestamp("9999-12-31T23:59:59.999999999Z")"#.into(),
            ],
            Ty::Dur => vec![
                r#"duration("36h")"#.into(),
                r#"duration("-1.5s")"#.into(),
                r#"duration("0")"#.into(),
                r#"duration("9223372036.854775807s")"#.into(),
                r#"duration("1ns")"#.into(),
            ],
            // `[]` is written only where an empty list literal is allowed: see `empty_list`.
            Ty::ListInt => vec!["[1, 2, 3]".into()],
            Ty::ListNum => vec!["[0.5, -1.0]".into()],
            Ty::ListStr => vec![r#"["a", "b"]"#.into()],
            Ty::Contact => vec!["contacts[0]".into()],
            Ty::Stage | Ty::Kind | Ty::Role | Ty::ListContact => Vec::new(),
        };
        options.extend(
            FACTS
                .iter()
                .filter(|(_, t)| *t == ty)
                .map(|(p, _)| p.to_string()),
        );
        options.extend(self.visible(ty));
        for contact in self.visible(Ty::Contact) {
            for (field, t) in CONTACT_FIELDS {
                if *t == ty {
                    options.push(format!("{contact}.{field}"));
                }
            }
        }
        if ty == Ty::Role {
            options.push("contacts[0].role".into());
        }
        let i = self.pick(options.len());
        options.swap_remove(i)
    }

    /// An expression of some type that `ordering` comparisons (or equality) accept.
    fn comparison(&mut self, depth: u32) -> String {
        let op = self.one(&["==", "!=", "<", "<=", ">", ">="]);
        let equality = matches!(op, "==" | "!=");
        match self.pick(12) {
            0 => format!(
                "({} {op} {})",
                self.expr(Ty::Int, depth),
                self.expr(Ty::Int, depth)
            ),
            1 => format!(
                "({} {op} {})",
                self.expr(Ty::Num, depth),
                self.expr(Ty::Num, depth)
            ),
            2 => format!(
                "({} {op} {})",
                self.expr(Ty::Int, depth),
                self.expr(Ty::Num, depth)
            ),
            3 => format!(
                "({} {op} {})",
                self.expr(Ty::Num, depth),
                self.expr(Ty::Int, depth)
            ),
            4 => format!(
                "({} {op} {})",
                self.expr(Ty::Str, depth),
                self.expr(Ty::Str, depth)
            ),
            5 => format!(
                "({} {op} {})",
                self.expr(Ty::Ts, depth),
                self.expr(Ty::Ts, depth)
            ),
            6 => format!(
                "({} {op} {})",
                self.expr(Ty::Dur, depth),
                self.expr(Ty::Dur, depth)
            ),
            7 => format!(
                "({} {op} {})",
                self.expr(Ty::Date, depth),
                self.expr(Ty::Date, depth)
            ),
            8 => format!(
                "({} {op} {})",
                self.expr(Ty::Bool, depth),
                self.expr(Ty::Bool, depth)
            ),
            9 => {
                let stage = quote(self.one(STAGES));
                if self.pick(2) == 0 {
                    format!("({} {op} {stage})", self.expr(Ty::Stage, depth))
                } else {
                    format!("({stage} {op} {})", self.expr(Ty::Stage, depth))
                }
            }
            10 => {
                let role = quote(self.one(ROLES));
                format!("({} {op} {role})", self.expr(Ty::Role, depth))
            }
            _ => {
                let eq = if equality { op } else { "==" };
                match self.pick(4) {
                    0 => format!("(kind {eq} {})", quote(self.one(KINDS))),
                    1 => format!(
                        "({} {eq} {})",
                        self.expr(Ty::ListInt, depth),
                        self.expr(Ty::ListInt, depth)
                    ),
                    2 => format!(
                        "({} {eq} {})",
                        self.expr(Ty::Contact, depth),
                        self.expr(Ty::Contact, depth)
                    ),
                    _ => format!(
                        "({} {eq} {})",
                        self.expr(Ty::ListStr, depth),
                        self.expr(Ty::ListStr, depth)
                    ),
                }
            }
        }
    }

    fn list_type(&mut self) -> Ty {
        [Ty::ListInt, Ty::ListNum, Ty::ListStr, Ty::ListContact][self.pick(4)]
    }

    /// `range.name(var, ...)` with `var` bound to the range's element type while `body`
    /// writes the rest of the arguments.
    fn macro_call(
        &mut self,
        depth: u32,
        name: &str,
        range_ty: Ty,
        body: impl FnOnce(&mut Self) -> String,
    ) -> String {
        let range = self.expr(range_ty, depth);
        let var = self.one(VARIABLES).to_string();
        self.locals.push((var.clone(), range_ty.element().unwrap()));
        let rest = body(self);
        self.locals.pop();
        format!("{range}.{name}({var}, {rest})")
    }

    fn compound(&mut self, ty: Ty, d: u32) -> String {
        match ty {
            Ty::Bool => match self.pick(13) {
                0 => format!("!{}", self.expr(Ty::Bool, d)),
                1 | 2 => {
                    let op = if self.pick(2) == 0 { " && " } else { " || " };
                    let n = 2 + self.pick(2);
                    let items: Vec<String> = (0..n).map(|_| self.expr(Ty::Bool, d)).collect();
                    format!("({})", items.join(op))
                }
                3 => format!(
                    "({} ? {} : {})",
                    self.expr(Ty::Bool, d),
                    self.expr(Ty::Bool, d),
                    self.expr(Ty::Bool, d)
                ),
                4 | 5 => self.comparison(d),
                6 => match self.pick(6) {
                    0 => format!(
                        "({} in {})",
                        self.expr(Ty::Int, d),
                        self.expr(Ty::ListInt, d)
                    ),
                    1 => format!(
                        "({} in {})",
                        self.expr(Ty::Num, d),
                        self.expr(Ty::ListNum, d)
                    ),
                    2 => format!(
                        "({} in {})",
                        self.expr(Ty::Int, d),
                        self.expr(Ty::ListNum, d)
                    ),
                    3 => format!(
                        "({} in {})",
                        self.expr(Ty::Str, d),
                        self.expr(Ty::ListStr, d)
                    ),
                    4 => r#"(kind in ["new", "upsell"])"#.to_string(),
                    _ => format!(
                        r#"({} in ["user", "decision_maker"])"#,
                        self.expr(Ty::Role, d)
                    ),
                },
                7 => self.empty_list(d),
                8 => match self.pick(3) {
                    0 => format!(
                        "has({})",
                        self.one(&["deal.won", "deal.amount", "deal.stage"])
                    ),
                    _ => {
                        let contact = self.expr(Ty::Contact, d);
                        let field = CONTACT_FIELDS[self.pick(CONTACT_FIELDS.len())].0;
                        format!("has({contact}.{field})")
                    }
                },
                9 => {
                    let m = self.one(&["contains", "startsWith", "endsWith"]);
                    format!("{}.{m}({})", self.expr(Ty::Str, d), self.expr(Ty::Str, d))
                }
                _ => {
                    let m = self.one(&["all", "exists", "exists_one"]);
                    let range_ty = self.list_type();
                    self.macro_call(d, m, range_ty, |g| g.expr(Ty::Bool, d))
                }
            },
            Ty::Int => match self.pick(9) {
                0 | 1 => {
                    let op = self.one(&["+", "-", "*", "/", "%"]);
                    format!("({} {op} {})", self.expr(Ty::Int, d), self.expr(Ty::Int, d))
                }
                2 => format!("-({})", self.expr(Ty::Int, d)),
                3 => match self.pick(4) {
                    0 => format!("size({})", self.expr(Ty::Str, d)),
                    1 => format!("{}.size()", self.expr(Ty::Str, d)),
                    2 => {
                        let list = self.list_type();
                        format!("size({})", self.expr(list, d))
                    }
                    _ => format!("{}.size()", self.expr(Ty::ListInt, d)),
                },
                4 => {
                    let from = [Ty::Int, Ty::Num, Ty::Str, Ty::Ts][self.pick(4)];
                    format!("int({})", self.expr(from, d))
                }
                5 => {
                    let from = [Ty::Date, Ty::Ts][self.pick(2)];
                    format!("days_since({})", self.expr(from, d))
                }
                6 => format!("{}[{}]", self.expr(Ty::ListInt, d), self.expr(Ty::Int, d)),
                7 => format!("({}).age", self.expr(Ty::Contact, d)),
                _ => self.conditional(Ty::Int, d),
            },
            Ty::Num => match self.pick(7) {
                0 | 1 => {
                    let op = self.one(&["+", "-", "*", "/"]);
                    format!("({} {op} {})", self.expr(Ty::Num, d), self.expr(Ty::Num, d))
                }
                2 => format!("-({})", self.expr(Ty::Num, d)),
                3 => {
                    let from = [Ty::Int, Ty::Num, Ty::Str][self.pick(3)];
                    format!("double({})", self.expr(from, d))
                }
                4 => format!("{}[{}]", self.expr(Ty::ListNum, d), self.expr(Ty::Int, d)),
                5 => format!("({}).score", self.expr(Ty::Contact, d)),
                _ => self.conditional(Ty::Num, d),
            },
            Ty::Str => match self.pick(5) {
                0 => format!("({} + {})", self.expr(Ty::Str, d), self.expr(Ty::Str, d)),
                1 => {
                    let from = [
                        Ty::Int,
                        Ty::Num,
                        Ty::Str,
                        Ty::Bool,
                        Ty::Date,
                        Ty::Ts,
                        Ty::Dur,
                        Ty::Stage,
                        Ty::Kind,
                        Ty::Role,
                    ][self.pick(10)];
                    format!("string({})", self.expr(from, d))
                }
                2 => format!("{}[{}]", self.expr(Ty::ListStr, d), self.expr(Ty::Int, d)),
                3 => format!("({}).name", self.expr(Ty::Contact, d)),
                _ => self.conditional(Ty::Str, d),
            },
            Ty::Date => match self.pick(3) {
                0 => format!("date({})", self.expr(Ty::Ts, d)),
                1 => format!("date({})", self.text_argument(d, r#""2026-02-28""#)),
                _ => self.conditional(Ty::Date, d),
            },
            Ty::Ts => match self.pick(5) {
                0 => format!("({} + {})", self.expr(Ty::Ts, d), self.expr(Ty::Dur, d)),
                1 => format!("({} + {})", self.expr(Ty::Dur, d), self.expr(Ty::Ts, d)),
                2 => format!("({} - {})", self.expr(Ty::Ts, d), self.expr(Ty::Dur, d)),
                3 => {
                    let argument = match self.pick(3) {
                        0 => self.expr(Ty::Int, d),
                        1 => self.text_argument(d, r#""2026-11-22T09:30:00.25+08:00""#),
                        _ => self.expr(Ty::Ts, d),
                    };
                    format!("timestamp({argument})")
                }
                _ => self.conditional(Ty::Ts, d),
            },
            Ty::Dur => match self.pick(5) {
                0 => {
                    let op = self.one(&["+", "-"]);
                    format!("({} {op} {})", self.expr(Ty::Dur, d), self.expr(Ty::Dur, d))
                }
                1 => format!("({} - {})", self.expr(Ty::Ts, d), self.expr(Ty::Ts, d)),
                2 => format!("-({})", self.expr(Ty::Dur, d)),
                3 => {
                    let argument = match self.pick(2) {
                        0 => self.text_argument(d, r#""1h30m""#),
                        _ => self.expr(Ty::Dur, d),
                    };
                    format!("duration({argument})")
                }
                _ => self.conditional(Ty::Dur, d),
            },
            Ty::Stage | Ty::Kind => self.conditional(ty, d),
            Ty::Role => match self.pick(2) {
                0 => format!("({}).role", self.expr(Ty::Contact, d)),
                _ => self.conditional(Ty::Role, d),
            },
            Ty::ListInt | Ty::ListNum | Ty::ListStr | Ty::ListContact => {
                let element = ty.element().unwrap();
                match self.pick(6) {
                    0 if ty != Ty::ListContact => {
                        // At least one element: `[]` is written by `empty_list` alone.
                        let n = 1 + self.pick(3);
                        let items: Vec<String> = (0..n).map(|_| self.expr(element, d)).collect();
                        format!("[{}]", items.join(", "))
                    }
                    1 => format!("({} + {})", self.expr(ty, d), self.expr(ty, d)),
                    2 => self.macro_call(d, "filter", ty, |g| g.expr(Ty::Bool, d)),
                    3 if ty != Ty::ListContact => {
                        let range_ty = self.list_type();
                        self.macro_call(d, "map", range_ty, |g| g.expr(element, d))
                    }
                    4 if ty != Ty::ListContact => {
                        let range_ty = self.list_type();
                        self.macro_call(d, "map", range_ty, |g| {
                            let filter = g.expr(Ty::Bool, d);
                            format!("{filter}, {}", g.expr(element, d))
                        })
                    }
                    5 if ty == Ty::ListInt => match self.pick(2) {
                        0 => format!("({} + [])", self.expr(ty, d)),
                        _ => format!("([] + {})", self.expr(ty, d)),
                    },
                    _ if ty == Ty::ListStr && self.pick(2) == 0 => {
                        format!("({}).labels", self.expr(Ty::Contact, d))
                    }
                    _ => self.conditional(ty, d),
                }
            }
            Ty::Contact => match self.pick(2) {
                0 => format!(
                    "{}[{}]",
                    self.expr(Ty::ListContact, d),
                    self.expr(Ty::Int, d)
                ),
                _ => self.conditional(Ty::Contact, d),
            },
        }
    }

    /// A criterion using the empty list literal `[]`, whose element type is not known, where
    /// the language allows it (everywhere but indexing).
    fn empty_list(&mut self, d: u32) -> String {
        match self.pick(6) {
            0 => "(size([]) == 0)".to_string(),
            1 => format!("({} == [])", self.expr(Ty::ListInt, d)),
            2 => format!("({} in [])", self.expr(Ty::Int, d)),
            3 => format!("(size({} + []) > 0)", self.expr(Ty::ListStr, d)),
            4 => {
                let m = self.one(&["all", "exists", "exists_one"]);
                let var = self.one(VARIABLES).to_string();
                format!("[].{m}({var}, {})", self.expr(Ty::Bool, d))
            }
            // A macro over `[]`: its variable's type is not known, so the body may use it
            // in any way; the result is an empty list (or a bool), never an error.
            _ => {
                let var = self.one(VARIABLES).to_string();
                self.locals.push((var.clone(), Ty::Int));
                let body = self.expr(Ty::Int, d);
                self.locals.pop();
                let m = self.one(&["map", "filter"]);
                let body = if m == "filter" {
                    format!("{body} > 0")
                } else {
                    body
                };
                format!("(size([].{m}({var}, {body})) == 0)")
            }
        }
    }

    /// A string argument for `date`, `timestamp` or `duration`: a constant argument is checked
    /// when compiling (an invalid one is a compile error), so a literal is replaced by `valid`.
    fn text_argument(&mut self, d: u32, valid: &str) -> String {
        let argument = self.expr(Ty::Str, d);
        match parse(&argument).map(|e| e.kind) {
            Ok(ExprKind::String(_)) => valid.to_string(),
            _ => argument,
        }
    }

    fn conditional(&mut self, ty: Ty, d: u32) -> String {
        format!(
            "({} ? {} : {})",
            self.expr(Ty::Bool, d),
            self.expr(ty, d),
            self.expr(ty, d)
        )
    }
}

/// The generator types a well-typed expression may have at its root.
const ROOT_TYPES: &[Ty] = &[
    Ty::Bool,
    Ty::Bool,
    Ty::Bool,
    Ty::Int,
    Ty::Num,
    Ty::Str,
    Ty::Date,
    Ty::Ts,
    Ty::Dur,
    Ty::Stage,
    Ty::ListInt,
    Ty::ListStr,
    Ty::ListContact,
    Ty::Contact,
];

/// A well-typed expression over [`schema`], of one of the types `roots`, and that type.
fn typed_expr(roots: &'static [Ty]) -> impl Strategy<Value = (Ty, String)> {
    (
        select(roots),
        proptest::collection::vec(any::<u32>(), 0..80),
    )
        .prop_map(|(ty, tape)| {
            let mut generator = Gen {
                tape: &tape,
                pos: 0,
                locals: Vec::new(),
            };
            let source = generator.expr(ty, 5);
            (ty, source)
        })
}

// ---------------------------------------------------------------------------------------------
// Never panics
// ---------------------------------------------------------------------------------------------

/// Tokens, valid and not, to make soups of.
const TOKENS: &[&str] = &[
    "a",
    "b",
    "x",
    "s",
    "flag",
    "deal",
    ".",
    "won",
    "stage",
    "contacts",
    "ints",
    "ts",
    "dur",
    "now",
    "c",
    "v",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    "?",
    ":",
    "!",
    "-",
    "+",
    "*",
    "/",
    "%",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "&&",
    "||",
    "in",
    "=",
    "&",
    "|",
    "#",
    "$",
    "\\",
    "1",
    "0",
    "-1",
    "2.5",
    "1e999",
    "0x",
    "0xFFFFFFFFFFFFFFFFF",
    "99999999999999999999",
    "9223372036854775808",
    "1u",
    "'s'",
    "\"",
    "'",
    "\"abc",
    "'''",
    "r'",
    "b'x'",
    "'\\q'",
    "'\\u12'",
    "'\\U0011FFFF'",
    "'\\400'",
    "null",
    "true",
    "false",
    "if",
    "while",
    "size",
    "has",
    "all",
    "exists",
    "exists_one",
    "filter",
    "map",
    "contains",
    "startsWith",
    "timestamp",
    "duration",
    "date",
    "days_since",
    "int",
    "double",
    "string",
    "“",
    "（",
    "é",
    "\u{0}",
    "//",
    "\n",
    " ",
];

/// Whole expressions that parse and check, to splice into soups.
const SNIPPETS: &[&str] = &[
    "a + b",
    "deal.stage >= 'qualified'",
    "contacts.exists(c, c.role == 'user')",
    "ints.map(v, v * 2)",
    "ts + duration('1h') < now",
    "days_since(signed_on) > 30",
    "size(tags) == 0 ? x : y",
];

fn soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            8 => select(TOKENS),
            1 => select(SNIPPETS),
        ],
        0..24,
    )
    .prop_flat_map(|tokens| {
        let n = tokens.len();
        (
            Just(tokens),
            proptest::collection::vec(select(&["", " "][..]), n),
        )
    })
    .prop_map(|(tokens, gaps)| {
        tokens
            .iter()
            .zip(gaps)
            .map(|(t, g)| format!("{t}{g}"))
            .collect()
    })
}

/// Runs every entry point over `source`; returns the program when it compiled.
fn run_all(source: &str, schema: &Schema, facts: &Facts, now: DateTime<Utc>) {
    let _ = parse(source);
    let _ = compile_criterion(source, schema);
    if let Ok(program) = compile(source, schema) {
        let _ = program.result_type();
        let _ = program.facts_read().count();
        let _ = program.is_constant();
        let _ = program.evaluate(facts, now);
        let _ = program.check(facts, now);
        let explanation = program.explain(facts, now);
        for reason in &explanation.reasons {
            let _ = reason.to_string();
        }
    }
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let source = String::from_utf8_lossy(&bytes);
        let schema = schema();
        run_all(&source, &schema, &Facts::new(&schema), DateTime::UNIX_EPOCH);
    }

    #[test]
    fn token_soups_never_panic(source in soup(), values in fact_values(true), now in timestamp_value()) {
        let schema = schema();
        let facts = bind(&schema, values);
        run_all(&source, &schema, &facts, now);
        // The soups that parse round-trip too.
        if let Ok(expr) = parse(&source) {
            assert_round_trip(&expr)?;
        }
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// Nesting far past the depth limit is an error, not a stack overflow.
    #[test]
    fn deep_nesting_never_panics(
        open in select(&["(", "!", "-", "[", "a[", "f(", "a.all(v, ", "true ? ", "1 + ", "a && ("][..]),
        core in select(&["a", "1", "", "x)", "]"][..]),
        close in select(&[")", "]", "", ")]", " : 1"][..]),
        n in 0usize..3000,
        m in 0usize..3000,
    ) {
        let source = format!("{}{core}{}", open.repeat(n), close.repeat(m));
        let schema = schema();
        run_all(&source, &schema, &Facts::new(&schema), DateTime::UNIX_EPOCH);
    }
}

/// A random tree whose names are the schema's facts, macro variables and `now`.
fn schema_tree() -> impl Strategy<Value = String> {
    expr_tree().prop_map(|e| rename(&e).to_string())
}

/// `expr` with identifiers and fields renamed to names the schema knows, so that random
/// trees reach the checker's and evaluator's deeper paths.
fn rename(expr: &Expr) -> Expr {
    const NAMES: &[&str] = &[
        "a",
        "b",
        "x",
        "s",
        "flag",
        "deal",
        "kind",
        "ints",
        "nums",
        "tags",
        "contacts",
        "signed_on",
        "ts",
        "dur",
        "now",
        "v",
        "won",
        "stage",
        "amount",
    ];
    const FIELDS: &[&str] = &[
        "won", "stage", "amount", "name", "role", "age", "score", "labels",
    ];
    let pick = |s: &str, from: &[&'static str]| -> String {
        let h = s
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
        from[h % from.len()].to_string()
    };
    let r = |e: &Expr| Box::new(rename(e));
    let kind = match &expr.kind {
        ExprKind::Ident(n) => ExprKind::Ident(pick(n, NAMES)),
        ExprKind::Select { operand, field } => ExprKind::Select {
            operand: r(operand),
            field: pick(field, FIELDS),
        },
        ExprKind::Index { operand, index } => ExprKind::Index {
            operand: r(operand),
            index: r(index),
        },
        ExprKind::Call {
            target,
            function,
            function_span,
            args,
        } => ExprKind::Call {
            target: target.as_deref().map(r),
            function: function.clone(),
            function_span: *function_span,
            args: args.iter().map(rename).collect(),
        },
        ExprKind::List(items) => ExprKind::List(items.iter().map(rename).collect()),
        ExprKind::Unary { op, operand } => ExprKind::Unary {
            op: *op,
            operand: r(operand),
        },
        ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
            op: *op,
            lhs: r(lhs),
            rhs: r(rhs),
        },
        ExprKind::And(items) => ExprKind::And(items.iter().map(rename).collect()),
        ExprKind::Or(items) => ExprKind::Or(items.iter().map(rename).collect()),
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => ExprKind::Conditional {
            cond: r(cond),
            then: r(then),
            otherwise: r(otherwise),
        },
        other => other.clone(),
    };
    node(kind)
}

proptest! {
    #![proptest_config(config(1000))]

    /// Random (mostly ill-typed) trees over the schema's names: compiling reports errors or
    /// gives a program that runs.
    #[test]
    fn random_trees_over_the_schema_never_panic(
        source in schema_tree(),
        values in fact_values(true),
        now in timestamp_value(),
    ) {
        let schema = schema();
        let facts = bind(&schema, values);
        run_all(&source, &schema, &facts, now);
    }
}

// ---------------------------------------------------------------------------------------------
// Well-typed expressions: compile, run, agree
// ---------------------------------------------------------------------------------------------

fn status_of(result: &Result<Value, Stop>) -> Status {
    match result {
        Ok(Value::Bool(true)) => Status::Met,
        Ok(Value::Bool(false)) => Status::Unmet,
        Ok(other) => panic!("a criterion evaluated to {other:?}"),
        Err(Stop::Unknown) => Status::Unknown,
        Err(Stop::Error(e)) => Status::Error(e.clone()),
    }
}

/// Compiles a generated well-typed expression, failing the case if it does not compile.
fn compile_typed(source: &str, schema: &Schema) -> Result<Program, TestCaseError> {
    compile(source, schema).map_err(|errors| {
        let messages: Vec<&str> = errors.iter().map(|d| d.message.as_str()).collect();
        TestCaseError::fail(format!(
            "well-typed `{source}` does not compile: {messages:?}"
        ))
    })
}

/// A well-typed expression, its generator type, facts and `now`.
type Case = ((Ty, String), Vec<Value>, DateTime<Utc>);

/// A well-typed expression of any type; facts as [`fact_values`] makes them.
fn typed_case(null_elements: bool) -> impl Strategy<Value = Case> {
    (
        typed_expr(ROOT_TYPES),
        fact_values(null_elements),
        timestamp_value(),
    )
}

/// A well-typed criterion (a `bool` expression); facts as [`fact_values`] makes them.
fn criterion_case(null_elements: bool) -> impl Strategy<Value = Case> {
    (
        typed_expr(&[Ty::Bool]),
        fact_values(null_elements),
        timestamp_value(),
    )
}

/// Well-typed expressions compile, and `evaluate`, `check` and `explain` return.
fn compiles_and_runs(
    (_, source): &(Ty, String),
    values: Vec<Value>,
    now: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    let schema = schema();
    let facts = bind(&schema, values);
    let program = compile_typed(source, &schema)?;
    let _ = program.evaluate(&facts, now);
    let _ = program.check(&facts, now);
    let explanation = program.explain(&facts, now);
    for reason in &explanation.reasons {
        let _ = reason.to_string();
    }
    Ok(())
}

/// Over facts of their declared types, a program that compiled never yields `null` or a value
/// outside its result type, and never fails with a "wrong fact type" error.
fn is_type_sound(
    (ty, source): &(Ty, String),
    values: Vec<Value>,
    now: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    let schema = schema();
    let facts = bind(&schema, values);
    let program = compile_typed(source, &schema)?;
    match &program.evaluate(&facts, now) {
        Ok(value) => {
            prop_assert!(
                !matches!(value, Value::Null),
                "`{}` (a {:?}) evaluated to null",
                source,
                ty
            );
            if let Some(result_type) = program.result_type() {
                prop_assert!(
                    value.conforms_to(result_type),
                    "`{}` evaluated to {:?}, not a `{}`",
                    source,
                    value,
                    result_type
                );
            }
        }
        Err(Stop::Error(e)) => prop_assert!(
            e.kind != EvalErrorKind::WrongFactType,
            "`{}` failed with a wrong-fact-type error over well-typed facts",
            source
        ),
        Err(Stop::Unknown) => {}
    }
    if *ty == Ty::Bool {
        let status = program.check(&facts, now);
        prop_assert!(
            !matches!(&status, Status::Error(e) if e.kind == EvalErrorKind::WrongFactType),
            "`{}` checks to a wrong-fact-type error over well-typed facts",
            source
        );
    }
    Ok(())
}

/// `check` and `explain` give a criterion the status `evaluate` implies; an explanation's
/// missing facts are sorted and unique, and a met criterion has no reasons.
fn check_and_explain_agree(
    (_, source): &(Ty, String),
    values: Vec<Value>,
    now: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    let schema = schema();
    let facts = bind(&schema, values);
    let program = compile_typed(source, &schema)?;
    let result = program.evaluate(&facts, now);
    // A criterion evaluating to something else than a bool is for the soundness property.
    if !matches!(result, Ok(Value::Bool(_)) | Err(_)) {
        return Ok(());
    }
    let expected = status_of(&result);
    prop_assert_eq!(
        program.holds(&facts, now),
        expected == Status::Met,
        "`{}`: holds disagrees with evaluate",
        source
    );
    prop_assert_eq!(
        &program.check(&facts, now),
        &expected,
        "`{}`: check disagrees with evaluate",
        source
    );
    let explanation = program.explain(&facts, now);
    prop_assert_eq!(
        &explanation.status,
        &expected,
        "`{}`: explain disagrees with evaluate",
        source
    );
    let mut sorted = explanation.missing_facts.clone();
    sorted.sort();
    sorted.dedup();
    prop_assert_eq!(
        &sorted,
        &explanation.missing_facts,
        "`{}`: missing facts",
        source
    );
    if expected == Status::Met {
        prop_assert!(
            explanation.reasons.is_empty(),
            "`{}` is met but has reasons",
            source
        );
    }
    Ok(())
}

/// A criterion is unknown exactly when its explanation names a missing fact (DESIGN.md: an
/// unknown criterion "reports the missing fact paths").
fn unknown_names_missing_facts(
    (_, source): &(Ty, String),
    values: Vec<Value>,
    now: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    let schema = schema();
    let facts = bind(&schema, values);
    let program = compile_typed(source, &schema)?;
    let explanation = program.explain(&facts, now);
    prop_assert_eq!(
        explanation.status == Status::Unknown,
        !explanation.missing_facts.is_empty(),
        "`{}` is {:?} and names missing facts {:?}",
        source,
        explanation.status,
        explanation.missing_facts
    );
    Ok(())
}

/// Three-valued logic is honest: when some facts (or list elements, or record fields) are
/// absent and the result is nevertheless known, filling them in with any values does not
/// change it. (`has` is left out: it reads presence itself.)
fn filling_in_keeps_known_results(
    (_, source): &(Ty, String),
    values: Vec<Value>,
    now: DateTime<Utc>,
    complete: &[Value],
) -> Result<(), TestCaseError> {
    if source.contains("has(") {
        return Ok(());
    }
    let schema = schema();
    let program = compile_typed(source, &schema)?;
    let filled: Vec<Value> = values
        .iter()
        .zip(complete)
        .map(|(p, c)| fill(p, c))
        .collect();
    let partial = program.evaluate(&bind(&schema, values.clone()), now);
    let full = program.evaluate(&bind(&schema, filled.clone()), now);
    match (&partial, &full) {
        // A value with absent parts (a record with an absent field) is only partly known.
        (Ok(a), _) if has_absent_parts(a) => {}
        (Ok(a), Ok(b)) => prop_assert!(
            same(a, b),
            "`{}` is {:?} with facts {:?} but {:?} once they are filled in as {:?}",
            source,
            a,
            values,
            b,
            filled
        ),
        (Ok(_), Err(_)) | (Err(Stop::Error(_)), Ok(_) | Err(Stop::Unknown)) => {
            return Err(TestCaseError::fail(format!(
                "`{source}` is {partial:?} with facts {values:?} but {full:?} once they are \
                 filled in as {filled:?}"
            )));
        }
        _ => {}
    }
    Ok(())
}

// Facts whose lists hold no absent elements: absent facts and absent record fields only.
proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn well_typed_expressions_compile_and_run((expr, values, now) in typed_case(false)) {
        compiles_and_runs(&expr, values, now)?;
    }

    #[test]
    fn compiled_programs_are_type_sound((expr, values, now) in typed_case(false)) {
        is_type_sound(&expr, values, now)?;
    }

    #[test]
    fn check_and_explain_agree_with_evaluate((expr, values, now) in criterion_case(false)) {
        check_and_explain_agree(&expr, values, now)?;
    }

    #[test]
    fn unknown_criteria_name_their_missing_facts((expr, values, now) in criterion_case(false)) {
        unknown_names_missing_facts(&expr, values, now)?;
    }

    #[test]
    fn filling_in_absent_facts_keeps_a_known_result(
        (expr, values, now) in typed_case(false),
        complete in complete_fact_values(),
    ) {
        filling_in_keeps_known_results(&expr, values, now, &complete)?;
    }
}

/// Small lists of small ints or strings, some elements absent.
fn small_list(strings: bool) -> impl Strategy<Value = Value> {
    let element = if strings {
        select(&["", "a", "b"][..])
            .prop_map(|s| Value::String(Arc::from(s)))
            .boxed()
    } else {
        (-2i64..=2).prop_map(Value::Int).boxed()
    };
    proptest::collection::vec(prop_oneof![2 => element, 1 => Just(Value::Null)], 0..4)
        .prop_map(|items| Value::List(items.into()))
}

proptest! {
    #![proptest_config(config(500))]

    /// The honest-unknowns property, aimed at what reads every element of a list at once:
    /// membership, equality and macros over lists with absent elements.
    #[test]
    fn whole_list_reads_with_absent_elements_are_honest(
        source in select(&[
            "a in ints",
            "ints == [1, 2]",
            "[0] == ints",
            "ints != [1]",
            "s in tags",
            r#"tags == ["a"]"#,
            "ints.exists(v, v == a)",
            "ints.all(v, v != a)",
            "ints.exists_one(v, v == a)",
            "a in ints.map(v, v)",
            "size(ints.filter(v, v == a)) == 0",
        ][..]),
        a in -2i64..=2,
        s in select(&["", "a", "b"][..]),
        ints in small_list(false),
        tags in small_list(true),
        complete in complete_fact_values(),
    ) {
        let slot = |path: &str| FACTS.iter().position(|(p, _)| *p == path).unwrap();
        let mut values = vec![Value::Null; FACTS.len()];
        values[slot("a")] = Value::Int(a);
        values[slot("s")] = Value::String(Arc::from(s));
        values[slot("ints")] = ints;
        values[slot("tags")] = tags;
        filling_in_keeps_known_results(
            &(Ty::Bool, source.to_string()),
            values,
            DateTime::UNIX_EPOCH,
            &complete,
        )?;
    }
}

// Facts whose lists may hold absent elements, as `Facts::from_json` binds `"ints": [1, null]`.
proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn with_absent_list_elements_expressions_compile_and_run(
        (expr, values, now) in typed_case(true),
    ) {
        compiles_and_runs(&expr, values, now)?;
    }

    #[test]
    fn with_absent_list_elements_programs_are_type_sound(
        (expr, values, now) in typed_case(true),
    ) {
        is_type_sound(&expr, values, now)?;
    }

    #[test]
    fn with_absent_list_elements_check_and_explain_agree(
        (expr, values, now) in criterion_case(true),
    ) {
        check_and_explain_agree(&expr, values, now)?;
    }

    #[test]
    fn with_absent_list_elements_unknown_criteria_name_their_missing_facts(
        (expr, values, now) in criterion_case(true),
    ) {
        unknown_names_missing_facts(&expr, values, now)?;
    }

    #[test]
    fn with_absent_list_elements_filling_in_keeps_a_known_result(
        (expr, values, now) in typed_case(true),
        complete in complete_fact_values(),
    ) {
        filling_in_keeps_known_results(&expr, values, now, &complete)?;
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// `string()` of a timestamp or a duration is text that `timestamp()` or `duration()`
    /// reads back to the same value.
    #[test]
    fn timestamps_and_durations_round_trip_through_strings(
        t in timestamp_value(),
        d in duration_value(),
    ) {
        let schema = schema();
        let mut values = vec![Value::Null; FACTS.len()];
        let slot = |path: &str| FACTS.iter().position(|(p, _)| *p == path).unwrap();
        values[slot("ts")] = Value::Timestamp(t);
        values[slot("dur")] = Value::Duration(d);
        let facts = bind(&schema, values);
        for source in ["timestamp(string(ts)) == ts", "duration(string(dur)) == dur"] {
            let program = compile_criterion(source, &schema).unwrap();
            prop_assert_eq!(
                program.check(&facts, DateTime::UNIX_EPOCH),
                Status::Met,
                "`{}` with ts = {:?}, dur = {:?}",
                source, t, d
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The flat path of the walk (`Program::holds`, `AllOf`) against the evaluator
// ---------------------------------------------------------------------------------------------

/// Clauses the flat path reads straight from a fact: bool facts and their negation, `has()`
/// and its negation, a fact against a constant of each type on either side (int constants
/// against number facts and the reverse, ordered and unordered enums, strings with `==` and
/// with an ordering, durations and bools through the generic test), and `in` over constant
/// lists (enum bit sets, numbers, strings, the empty list).
const FLAT_CLAUSES: &[&str] = &[
    "flag",
    "deal.won",
    "!flag",
    "!deal.won",
    "has(a)",
    "has(deal.stage)",
    "has(contacts)",
    "!has(x)",
    "!has(signed_on)",
    "a == 1",
    "a != 0",
    "a < 2",
    "2 >= b",
    "a > -1",
    "a <= 9223372036854775807",
    "a < 1.5",
    "1.5 > b",
    "x > 0.0",
    "x <= 1.5",
    "0.1 < y",
    "x == 1",
    "x != -2.5",
    "deal.amount >= 1e16",
    r#"deal.stage >= "qualified""#,
    r#"deal.stage < "won""#,
    r#""proposal" <= deal.stage"#,
    r#"deal.stage == "lead""#,
    r#"kind == "new""#,
    r#"kind != "renewal""#,
    r#""upsell" == kind"#,
    r#"s == "a""#,
    r#"s != """#,
    r#""b" == t"#,
    r#"s < "b""#,
    r#"t >= "a""#,
    r#"signed_on >= date("2026-11-22")"#,
    r#"signed_on < date("9999-12-31")"#,
    r#"date("0001-01-01") != signed_on"#,
    r#"ts > timestamp("2026-11-22T09:30:00Z")"#,
    r#"ts <= timestamp("9999-12-31T23:59:59.999999999Z")"#,
    r#"dur >= duration("0")"#,
    r#"dur != duration("36h")"#,
    "flag == true",
    "deal.won != false",
    r#"kind in ["new", "upsell"]"#,
    r#"deal.stage in ["lead", "won"]"#,
    "a in [1, 2, -2]",
    "b in [0.5, 2.0]",
    "x in [1.5, 0.0, -2.5]",
    "x in [1, 2]",
    r#"s in ["a", "b", ""]"#,
    "a in []",
    "true",
];

/// Clauses the flat path keeps as closures: everything else it does not read directly.
const CLOSURE_CLAUSES: &[&str] = &[
    "(flag || deal.won)",
    "a + b > 1",
    "ints.exists(v, v > 0)",
    "!(a > 1)",
    "size(tags) > 0",
    "days_since(signed_on) > 30",
    "false",
];

/// Facts with small values, often equal to the constants of [`FLAT_CLAUSES`]; some absent.
fn small_fact_values() -> impl Strategy<Value = Vec<Value>> {
    FACTS
        .iter()
        .map(|(_, ty)| prop_oneof![1 => Just(Value::Null), 3 => complete_value_of(*ty), 1 => value_of(*ty, true)])
        .collect::<Vec<_>>()
}

/// A conjunction of clauses, mostly direct ones, split in two criteria.
fn flat_case() -> impl Strategy<Value = (Vec<&'static str>, usize)> {
    let clause = prop_oneof![
        6 => select(FLAT_CLAUSES),
        1 => select(CLOSURE_CLAUSES),
    ];
    proptest::collection::vec(clause, 1..7).prop_flat_map(|clauses| {
        let n = clauses.len();
        (Just(clauses), 0..=n)
    })
}

/// The facts of [`schema`] declared in reverse order, so each slot has another type.
fn reversed_schema() -> Schema {
    let mut schema = Schema::new();
    for (path, ty) in FACTS.iter().rev() {
        schema.declare(path, schema_type(*ty)).unwrap();
    }
    schema
}

/// Whether a criterion is met according to the tree-walking evaluator.
fn met_by_evaluate(program: &Program, facts: &Facts, now: DateTime<Utc>) -> bool {
    program.evaluate(facts, now) == Ok(Value::Bool(true))
}

fn criterion_of(clauses: &[&str]) -> String {
    if clauses.is_empty() {
        "true".to_string()
    } else {
        clauses.join(" && ")
    }
}

proptest! {
    #![proptest_config(config(3000))]

    /// `Program::holds` and `AllOf` say "met" exactly when the evaluator yields `true`, for
    /// one criterion, for two joined, and for the second where the first is known to hold.
    #[test]
    fn the_flat_path_agrees_with_evaluate(
        (clauses, split) in flat_case(),
        values in small_fact_values(),
        now in timestamp_value(),
    ) {
        let schema = schema();
        let facts = bind(&schema, values);
        let whole = criterion_of(&clauses);
        let (first, second) = clauses.split_at(split);
        let (first, second) = (criterion_of(first), criterion_of(second));
        let compile = |s: &str| compile_criterion(s, &schema).unwrap();
        let (whole_p, first_p, second_p) = (compile(&whole), compile(&first), compile(&second));
        let met = met_by_evaluate(&whole_p, &facts, now);
        let first_met = met_by_evaluate(&first_p, &facts, now);
        let second_met = met_by_evaluate(&second_p, &facts, now);
        // `&&` is true exactly when every clause is.
        prop_assert_eq!(met, first_met && second_met, "`{}` against its halves", whole);
        prop_assert_eq!(whole_p.holds(&facts, now), met, "holds `{}`", whole);
        prop_assert_eq!(whole_p.check(&facts, now) == Status::Met, met, "check `{}`", whole);
        prop_assert_eq!(first_p.holds(&facts, now), first_met, "holds `{}`", first);
        let (a, b) = (AllOf::new([&first_p]), AllOf::new([&second_p]));
        prop_assert_eq!(AllOf::new([&whole_p]).holds(&facts, now), met, "AllOf `{}`", whole);
        prop_assert_eq!(AllOf::new([&first_p, &second_p]).holds(&facts, now), met, "AllOf `{}`, `{}`", first, second);
        prop_assert_eq!(a.and(&b).holds(&facts, now), met, "`{}` and `{}`", first, second);
        prop_assert_eq!(AllOf::new([&whole_p, &first_p]).holds(&facts, now), met, "AllOf with a repeat `{}`", whole);
        // Checkpoints in a row: the first, the second, the whole, the first again.
        let checkpoints = [a.clone(), b.clone(), AllOf::new([&whole_p]), a.clone()];
        let expected = [first_met, second_met, met, first_met]
            .iter()
            .take_while(|m| **m)
            .count();
        prop_assert_eq!(
            Sequence::new(&checkpoints).passed(&facts, now),
            expected,
            "sequence `{}`, `{}`, `{}`",
            first,
            second,
            whole
        );
        if first_met {
            prop_assert_eq!(b.given(&a).holds(&facts, now), second_met, "`{}` given `{}`", second, first);
            prop_assert_eq!(AllOf::new([&whole_p]).given(&a).holds(&facts, now), met, "`{}` given `{}`", whole, first);
        }
        // Over facts bound for another schema (the same facts declared in reverse order),
        // slots hold values of other types than the program expects: the flat path's
        // fallbacks must still answer as the evaluator does.
        let reversed = reversed_schema();
        let misread = compile_criterion(&whole, &reversed).unwrap();
        let misread_met = met_by_evaluate(&misread, &facts, now);
        prop_assert_eq!(misread.holds(&facts, now), misread_met, "misread `{}`", whole);
        prop_assert_eq!(
            misread.check(&facts, now) == Status::Met,
            misread_met,
            "misread check `{}`",
            whole
        );
        // Only the closure clauses run as closures (never merged); `false` is one test.
        let all = AllOf::new([&whole_p]);
        if clauses.contains(&"false") {
            prop_assert_eq!((all.len(), all.indirect()), (1, 0), "`{}`", whole);
        } else {
            let closures = clauses.iter().filter(|c| CLOSURE_CLAUSES.contains(c)).count();
            prop_assert_eq!(all.indirect(), closures, "closures in `{}`: {:?}", whole, all);
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// `holds` agrees with `evaluate` on every generated well-typed criterion, whatever its
    /// shape; the leaves it reads directly are at any depth under `&&`.
    #[test]
    fn holds_agrees_with_evaluate((expr, values, now) in criterion_case(true)) {
        let schema = schema();
        let facts = bind(&schema, values);
        let program = compile_typed(&expr.1, &schema)?;
        let met = met_by_evaluate(&program, &facts, now);
        prop_assert_eq!(program.holds(&facts, now), met, "holds `{}`", expr.1);
        prop_assert_eq!(AllOf::new([&program]).holds(&facts, now), met, "AllOf `{}`", expr.1);
    }
}
