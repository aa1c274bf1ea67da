//! The criterion language of salesplay: a typed, three-valued subset of
//! [CEL](https://cel.dev) for writing stage entry and exit criteria over an account's facts.
//!
//! An expression goes through three phases, each with its own type:
//!
//! 1. [`parse`] turns text into an [`ast::Expr`] with a byte [`Span`] on every node;
//! 2. [`compile`] checks it against a [`Schema`] of declared facts (reporting every problem as
//!    a [`Diagnostic`] with a stable [`Code`], a span and help) and resolves fact paths to slots;
//! 3. [`Program::check`], [`Program::evaluate`] and [`Program::explain`] run it over the
//!    [`Facts`] of one account, with `now` supplied by the caller.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use salesplay_expr::{Facts, Schema, Status, Type, compile_criterion};
//!
//! let mut schema = Schema::new();
//! schema.declare("relationship.level", Type::enumeration(["acquainted", "dating", "trusted", "allied"], true))?;
//! schema.declare("requirements.written", Type::Bool)?;
//!
//! let criterion = compile_criterion(
//!     r#"relationship.level >= "dating" && requirements.written"#,
//!     &schema,
//! ).map_err(|e| e[0].message.clone())?;
//!
//! let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
//! let facts = Facts::from_json(&schema, &serde_json::json!({
//!     "relationship": {"level": "acquainted"}
//! })).map_err(|e| e[0].to_string())?;
//!
//! // `false && unknown` is false: the criterion is unmet, not unknown.
//! assert_eq!(criterion.check(&facts, now), Status::Unmet);
//! let why = criterion.explain(&facts, now);
//! assert_eq!(why.reasons[0].to_string(), "`relationship.level` is `acquainted`, needs ≥ `dating`");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Absent facts make a criterion *unknown*, never false; `&&` and `||` follow CEL's
//! commutative rules (`false && unknown` is `false`, `true || unknown` is `true`). Runtime
//! failures such as integer overflow are errors, distinct from unknown.
//!
//! This crate knows nothing of YAML or playbooks.
#![warn(missing_docs)]

pub mod ast;
mod check;
mod diagnostic;
mod eval;
mod explain;
mod fast;
mod flat;
mod json;
mod lexer;
mod parser;
mod program;
mod render;
mod span;
mod types;
mod value;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use diagnostic::{Code, Diagnostic, did_you_mean};
pub use eval::{EvalError, EvalErrorKind, Stop};
pub use explain::{Detail, Explanation, Reason};
pub use json::{Bound, Captured, JsonBinder, JsonFactsError, JsonKind};
pub use parser::{Limits, MAX_DEPTH_CEILING, parse, parse_with};
pub use render::{Snippet, line_col, render};
pub use span::Span;
pub use types::{EnumType, FactDecl, RecordType, Schema, SchemaError, Slot, Type};
pub use value::{BindError, Facts, Value, parse_date, parse_timestamp};

use program::{Node, Ty};

/// The status of a criterion for one account.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// It holds.
    Met,
    /// It does not hold.
    Unmet,
    /// A fact it needs is absent, so it is not known whether it holds.
    Unknown,
    /// Evaluating it failed.
    Error(EvalError),
}

impl Status {
    /// `met`, `unmet`, `unknown` or `error`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Unmet => "unmet",
            Status::Unknown => "unknown",
            Status::Error(_) => "error",
        }
    }
}

/// A checked, compiled expression, ready to evaluate many times. Immutable, `Send + Sync`.
#[derive(Clone)]
pub struct Program {
    root: Node,
    /// The root compiled to closures, when the result is a `bool`.
    fast: Option<fast::BoolFn>,
    /// The root flattened into tests that must all hold for it to be `true` (one that never
    /// holds when the result is not a `bool`).
    flat: Arc<[flat::Test]>,
    source: Arc<str>,
    /// Slots this program reads, with their paths, sorted by slot.
    facts: Vec<(u32, Arc<str>)>,
    reads_now: bool,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("source", &self.source)
            .field("result_type", &self.result_type())
            .finish_non_exhaustive()
    }
}

/// Parses and checks `source` against `schema` with the default [`Limits`]; the result may
/// have any type.
///
/// ```
/// use salesplay_expr::{Facts, Schema, Type, Value, compile};
/// let mut schema = Schema::new();
/// let x = schema.declare("x", Type::Int).unwrap();
/// let program = compile("x * 2 + 1", &schema).unwrap();
/// let mut facts = Facts::new(&schema);
/// facts.set(&schema, x, Value::Int(20)).unwrap();
/// assert_eq!(program.evaluate(&facts, chrono::DateTime::UNIX_EPOCH), Ok(Value::Int(41)));
/// ```
pub fn compile(source: &str, schema: &Schema) -> Result<Program, Vec<Diagnostic>> {
    compile_with(source, schema, &Limits::default())
}

/// [`compile`] within `limits`.
pub fn compile_with(
    source: &str,
    schema: &Schema,
    limits: &Limits,
) -> Result<Program, Vec<Diagnostic>> {
    build(source, schema, limits, false)
}

/// Parses and checks a criterion: like [`compile`], and its result must be a `bool`.
///
/// ```
/// use salesplay_expr::{Code, Schema, Type, compile_criterion};
/// let mut schema = Schema::new();
/// schema.declare("amount", Type::Number).unwrap();
/// let errors = compile_criterion("amout > 5.0", &schema).unwrap_err();
/// assert_eq!(errors[0].code, Code::UnknownFact);
/// assert_eq!(errors[0].help.as_deref(), Some("did you mean `amount`?"));
/// ```
pub fn compile_criterion(source: &str, schema: &Schema) -> Result<Program, Vec<Diagnostic>> {
    compile_criterion_with(source, schema, &Limits::default())
}

/// [`compile_criterion`] within `limits`.
pub fn compile_criterion_with(
    source: &str,
    schema: &Schema,
    limits: &Limits,
) -> Result<Program, Vec<Diagnostic>> {
    build(source, schema, limits, true)
}

fn build(
    source: &str,
    schema: &Schema,
    limits: &Limits,
    criterion: bool,
) -> Result<Program, Vec<Diagnostic>> {
    let expr = parse_with(source, limits)?;
    let mut checker = check::Checker::new(schema);
    let root = if criterion {
        checker.check_bool(&expr, "a criterion")
    } else {
        checker.check(&expr)
    };
    if !checker.errors.is_empty() {
        let mut errors = checker.errors;
        errors.sort_by_key(|d| d.span.start);
        return Err(errors);
    }
    let mut slots = checker.facts_read;
    slots.sort_unstable();
    slots.dedup();
    let facts = slots
        .into_iter()
        .filter_map(|slot| Some((slot, Arc::from(schema.fact(Slot(slot))?.path.as_str()))))
        .collect();
    let reads_now = checker.reads_now;
    let fast = (root.ty == Ty::Known(Type::Bool)).then(|| fast::compile(&root));
    let mut tests = Vec::new();
    if fast.is_some() {
        flat::flatten(&root, &mut tests);
    } else {
        tests.push(flat::Test::Never);
    }
    let flat = flat::join(&tests).into();
    Ok(Program {
        root,
        fast,
        flat,
        source: Arc::from(source),
        facts,
        reads_now,
    })
}

impl Program {
    /// The source text the program was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The static type of the result (`None` for an empty list literal, whose element type is
    /// not known).
    pub fn result_type(&self) -> Option<&Type> {
        self.root.ty.known()
    }

    /// The paths of the facts the program reads, in slot order.
    pub fn facts_read(&self) -> impl Iterator<Item = &str> {
        self.facts.iter().map(|(_, p)| &**p)
    }

    /// Whether the result depends on neither facts nor `now`: such a criterion is constant.
    pub fn is_constant(&self) -> bool {
        self.facts.is_empty() && !self.reads_now
    }

    pub(crate) fn fact_path(&self, slot: u32) -> Option<&str> {
        self.facts
            .binary_search_by_key(&slot, |(s, _)| *s)
            .ok()
            .and_then(|i| self.facts.get(i))
            .map(|(_, p)| &**p)
    }

    /// Evaluates the program over `facts` at time `now`.
    pub fn evaluate(&self, facts: &Facts, now: DateTime<Utc>) -> Result<Value, Stop> {
        let env = eval::Env {
            facts,
            now,
            scope: None,
        };
        eval::eval(&self.root, &env, &mut eval::NoTrace).map(std::borrow::Cow::into_owned)
    }

    /// Evaluates a criterion: `Met` when it yields `true`, `Unmet` when `false`. Allocates
    /// nothing when the criterion reads only scalar facts.
    #[inline]
    pub fn check(&self, facts: &Facts, now: DateTime<Utc>) -> Status {
        let env = eval::Env {
            facts,
            now,
            scope: None,
        };
        let truth = match &self.fast {
            Some(fast) => fast(&env),
            // Not a criterion: the result is not a bool.
            None => eval::Truth::Error,
        };
        match truth {
            eval::Truth::True => Status::Met,
            eval::Truth::False => Status::Unmet,
            eval::Truth::Unknown => Status::Unknown,
            eval::Truth::Error => {
                // Rare: run the full evaluator to learn which error it was.
                match eval::as_bool(
                    &eval::eval(&self.root, &env, &mut eval::NoTrace),
                    self.root.span,
                ) {
                    Err(Stop::Error(e)) => Status::Error(e),
                    Err(Stop::Unknown) => Status::Unknown,
                    Ok(true) => Status::Met,
                    Ok(false) => Status::Unmet,
                }
            }
        }
    }

    /// Whether a criterion is met: `true` exactly when [`Program::check`] would say
    /// [`Status::Met`]. Unmet, unknown and failing criteria are all `false`, and telling them
    /// apart costs nothing here, so this is the call for walks and filters that only need
    /// "met or not". Allocates nothing when the criterion reads only scalar facts.
    ///
    /// ```
    /// use salesplay_expr::{Facts, Schema, Type, Value, compile_criterion};
    /// let mut schema = Schema::new();
    /// let won = schema.declare("won", Type::Bool).unwrap();
    /// let criterion = compile_criterion("won && has(won)", &schema).unwrap();
    /// let mut facts = Facts::new(&schema);
    /// let now = chrono::DateTime::UNIX_EPOCH;
    /// assert!(!criterion.holds(&facts, now)); // unknown is not met
    /// facts.set(&schema, won, Value::Bool(true)).unwrap();
    /// assert!(criterion.holds(&facts, now));
    /// ```
    #[inline]
    pub fn holds(&self, facts: &Facts, now: DateTime<Utc>) -> bool {
        flat::all_hold(&self.flat, facts, now)
    }

    /// Evaluates a criterion and explains its status: the failing clauses with the actual
    /// values, and the absent facts that make it unknown. Slower than [`Program::check`];
    /// call it when a person will read the answer.
    pub fn explain(&self, facts: &Facts, now: DateTime<Utc>) -> Explanation {
        explain::explain(self, facts, now)
    }
}

/// Criteria that must all be met, compiled together into one list of tests: a stage's entry
/// or exit criteria, for a walk that only asks whether they all hold. Immutable,
/// `Send + Sync`.
///
/// The criteria's `&&` clauses are flattened into the list, and the same test written twice
/// (in one criterion or in two) is read once. Common clauses (a bool fact, `has(x)`, their
/// negations, a fact compared with a constant, `x in [constants]`) are read straight from the
/// fact's slot; any other clause runs as [`Program::check`] would.
///
/// ```
/// use salesplay_expr::{AllOf, Facts, Schema, Type, Value, compile_criterion};
/// let mut schema = Schema::new();
/// let level = schema.declare("level", Type::enumeration(["low", "mid", "high"], true)).unwrap();
/// let written = schema.declare("written", Type::Bool).unwrap();
/// let exit = compile_criterion(r#"level >= "mid""#, &schema).unwrap();
/// let entry = compile_criterion(r#"level >= "mid" && written"#, &schema).unwrap();
/// let mut facts = Facts::new(&schema);
/// facts.set(&schema, level, Value::Enum(2)).unwrap();
/// facts.set(&schema, written, Value::Bool(true)).unwrap();
/// let now = chrono::DateTime::UNIX_EPOCH;
///
/// let exit = AllOf::new([&exit]);
/// let entry = AllOf::new([&entry]);
/// assert!(exit.holds(&facts, now) && entry.holds(&facts, now));
/// // Where `exit` is known to hold, only `written` is left to read.
/// assert_eq!(entry.given(&exit).len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct AllOf {
    tests: Arc<[flat::Test]>,
}

impl AllOf {
    /// All of `criteria`; with none, it always holds.
    pub fn new<'a>(criteria: impl IntoIterator<Item = &'a Program>) -> AllOf {
        let programs: Vec<&Program> = criteria.into_iter().collect();
        AllOf {
            tests: flat::join(programs.iter().flat_map(|p| p.flat.iter())).into(),
        }
    }

    /// Whether every criterion is met (each would [`Program::check`] to [`Status::Met`]).
    #[inline(always)]
    pub fn holds(&self, facts: &Facts, now: DateTime<Utc>) -> bool {
        flat::all_hold(&self.tests, facts, now)
    }

    /// What is left to test where `known` is known to hold: the tests of `self` that `known`
    /// does not include. For facts and a time at which `known` holds,
    /// `self.given(known).holds(facts, now) == self.holds(facts, now)`; elsewhere the
    /// answer means nothing.
    pub fn given(&self, known: &AllOf) -> AllOf {
        AllOf {
            tests: self
                .tests
                .iter()
                .filter(|t| !known.tests.iter().any(|k| k.same(t)))
                .cloned()
                .collect(),
        }
    }

    /// Both `self` and `other`.
    pub fn and(&self, other: &AllOf) -> AllOf {
        AllOf {
            tests: flat::join(self.tests.iter().chain(other.tests.iter())).into(),
        }
    }

    /// The number of tests: clauses read straight from a fact, or run as a criterion.
    pub fn len(&self) -> usize {
        self.tests.len()
    }

    /// Whether there is nothing to test, so it always holds.
    pub fn is_empty(&self) -> bool {
        self.tests.is_empty()
    }

    /// How many tests run as a whole criterion or clause would (a compiled closure) rather
    /// than being read straight from a fact.
    pub fn indirect(&self) -> usize {
        self.tests.iter().filter(|t| t.is_closure()).count()
    }
}

/// Checkpoints passed in order, each an [`AllOf`]: [`Sequence::passed`] counts how many hold
/// in a row, reading the tests of all of them in one loop. A test repeated from an earlier
/// checkpoint is read once: it is reached only when the earlier one held. Immutable,
/// `Send + Sync`.
///
/// ```
/// use salesplay_expr::{AllOf, Facts, Schema, Sequence, Type, Value, compile_criterion};
/// let mut schema = Schema::new();
/// let locked = schema.declare("locked", Type::Bool).unwrap();
/// let found = schema.declare("found", Type::Bool).unwrap();
/// let steps = ["locked", "found", "locked && found && false"]
///     .map(|c| AllOf::new([&compile_criterion(c, &schema).unwrap()]));
/// let sequence = Sequence::new(&steps);
/// let mut facts = Facts::new(&schema);
/// let now = chrono::DateTime::UNIX_EPOCH;
/// assert_eq!(sequence.passed(&facts, now), 0);
/// facts.set(&schema, locked, Value::Bool(true)).unwrap();
/// assert_eq!(sequence.passed(&facts, now), 1);
/// facts.set(&schema, found, Value::Bool(true)).unwrap();
/// assert_eq!(sequence.passed(&facts, now), 2); // the third never holds
/// assert_eq!(sequence.len(), 3);
/// ```
#[derive(Clone, Default)]
pub struct Sequence {
    tests: Arc<[flat::Test]>,
    /// For each test, the checkpoint it belongs to: how many checkpoints passed when it is
    /// the first test that does not hold.
    checkpoint: Arc<[usize]>,
    /// The number of checkpoints.
    len: usize,
}

impl Sequence {
    /// The checkpoints, in order.
    pub fn new<'a>(checkpoints: impl IntoIterator<Item = &'a AllOf>) -> Sequence {
        let mut tests = flat::Distinct::default();
        let mut of = Vec::new();
        let mut len = 0;
        for checkpoint in checkpoints {
            for test in checkpoint.tests.iter() {
                // INVARIANT: a test is dropped only after the same test in an earlier
                // checkpoint, which held if this one is reached.
                if tests.push(test) {
                    of.push(len);
                }
            }
            len += 1;
        }
        Sequence {
            tests: tests.tests.into(),
            checkpoint: of.into(),
            len,
        }
    }

    /// How many checkpoints, from the first, all hold: `k` when the first `k` hold and the
    /// next does not (or there is none).
    #[inline(always)]
    pub fn passed(&self, facts: &Facts, now: DateTime<Utc>) -> usize {
        flat::first_failing(&self.tests, facts, now)
            .and_then(|i| self.checkpoint.get(i).copied())
            .unwrap_or(self.len)
    }

    /// The number of checkpoints.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no checkpoints.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for Sequence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequence")
            .field("tests", &self.tests)
            .field("checkpoint", &self.checkpoint)
            .finish()
    }
}

impl std::fmt::Debug for AllOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tests.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn programs_are_send_and_sync() {
        assert_send_sync::<Program>();
        assert_send_sync::<AllOf>();
        assert_send_sync::<Sequence>();
        assert_send_sync::<Facts>();
        assert_send_sync::<Schema>();
    }

    #[test]
    fn ty_is_used() {
        assert_eq!(Ty::EmptyList.describe(), "empty list");
    }
}
