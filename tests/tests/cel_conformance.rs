//! CEL conformance: runs google/cel-spec's "simple" conformance tests against salesplay-expr.
//!
//! # Data
//!
//! The `.textproto` files live outside the repository, in `shared/cel-conformance` beside it
//! (`$CARGO_MANIFEST_DIR/../../shared/cel-conformance`), or wherever
//! `$SALESPLAY_CEL_CONFORMANCE` points. When the folder is missing the test prints that it
//! was skipped and passes — unless `SALESPLAY_REQUIRE_CONFORMANCE=1`, when it fails.
//!
//! # What runs
//!
//! Every test in every file runs, except those listed one by one, with a reason, in
//! `tests/data/cel-conformance-skips.txt` (`file/section/test  reason`). Only tests outside
//! the criterion language's subset of CEL belong there — uint, bytes, null, maps, protobuf
//! messages, `type()`/`dyn()`, … — never a test that fails because of a bug. There are no
//! wildcards: a whole file or section cannot be skipped at once. An entry naming a test that
//! does not exist (a typo, or a test removed upstream) fails this test, so the list cannot rot.
//!
//! # How a test runs
//!
//! 1. A [`Schema`] is declared from the test's `type_env` (`int` → [`Type::Int`], `double` →
//!    [`Type::Number`], `string` → [`Type::String`], `bool` → [`Type::Bool`],
//!    `google.protobuf.Timestamp` → [`Type::Timestamp`], `google.protobuf.Duration` →
//!    [`Type::Duration`], lists of those → a list type). A binding without a declaration is
//!    declared with the type of its value.
//! 2. The expression is compiled against the schema, the bindings become [`Facts`], and the
//!    program is evaluated at the Unix epoch (no test reads the clock).
//! 3. The outcome is compared with the expectation:
//!    - **a value**: evaluation must succeed with an equal value. Doubles compare exactly
//!      (the sign of zero included) except that NaN equals NaN. Lists compare element-wise.
//!    - **an evaluation error**: evaluation must stop with an error. The message is not
//!      compared: CEL implementations word their errors differently. A *compile* error also
//!      satisfies the expectation in two cases, where the error is reported earlier than in
//!      CEL but is still an error:
//!      - the test sets `disable_check`: CEL's own type checker was switched off because it
//!        would reject the expression (`'foo' < 1024`, `!0`, an undeclared `x`); ours is
//!        always on and rejects it at compile time. Not when the diagnostic is `Unsupported`:
//!        syntax outside the subset is a reason to skip a test, never a way to pass it;
//!      - the diagnostic is `InvalidLiteral`: a constant argument that can never be valid
//!        (`timestamp('0000-01-01T00:00:00Z')`, `duration('320000000000s')`) is rejected
//!        when compiling instead of on every evaluation.
//!    - an unknown result where none is expected, a compile error where a value is expected,
//!      or a panic is a failure.
//!
//! The test prints, per file, how many tests ran, passed and were skipped; then each failure
//! (expression, expectation, outcome), the tests whose expected error came at compile time
//! (with the diagnostic codes), and the skips counted by reason. It fails when any test that
//! ran failed, or when the skip list is stale. With `SALESPLAY_CONFORMANCE_RUN_SKIPPED=1` it
//! also runs the skipped tests and lists those that pass anyway, without changing the verdict.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use salesplay_expr::{Code, Facts, Schema, Slot, Stop, Type, Value, compile};
use salesplay_tests::conformance::{
    CelType, CelValue, ConformanceFile, DeclKind, Expected, ExprValue, Primitive, Test, WellKnown,
    load_dir,
};

/// When `1`, skipped tests are run too, and those that pass anyway are listed: a hint that
/// the subset has grown and their skip entries can go. It never changes the verdict.
const RUN_SKIPPED_VAR: &str = "SALESPLAY_CONFORMANCE_RUN_SKIPPED";

const SKIPS_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/cel-conformance-skips.txt"
);

#[test]
fn cel_conformance() {
    let dir = salesplay_tests::conformance_dir();
    if !dir.is_dir() {
        assert!(
            !salesplay_tests::conformance_required(),
            "CEL conformance data not found at {} (SALESPLAY_REQUIRE_CONFORMANCE=1)",
            dir.display()
        );
        println!(
            "cel_conformance: skipped, no data at {} (set {} to its folder)",
            dir.display(),
            salesplay_tests::CONFORMANCE_DIR_VAR
        );
        return;
    }

    let skips = read_skips(Path::new(SKIPS_FILE)).unwrap_or_else(|error| panic!("{error}"));
    let files = load_dir(&dir).unwrap_or_else(|error| panic!("{error}"));
    assert!(
        !files.is_empty(),
        "no .textproto files in {}",
        dir.display()
    );

    let run_skipped = std::env::var_os(RUN_SKIPPED_VAR).is_some_and(|v| v == "1");
    let mut report = Report::default();
    let mut seen = HashSet::new();
    for (_, file) in &files {
        let mut counts = Counts::default();
        for (section, test) in file.tests() {
            let id = format!("{}/{}/{}", file.name, section.name, test.name);
            seen.insert(id.clone());
            if let Some(reason) = skips.get(&id) {
                counts.skipped += 1;
                *report.skipped_by_reason.entry(reason.clone()).or_default() += 1;
                if run_skipped && run(test).is_ok() {
                    report.skipped_but_passing.push(format!("{id}  ({reason})"));
                }
                continue;
            }
            counts.ran += 1;
            match run(test) {
                Ok(pass) => {
                    counts.passed += 1;
                    if let Pass::Rejected(why) = pass {
                        report.early_errors.push((id, why));
                    }
                }
                Err(problem) => report.failures.push(Failure {
                    id,
                    expr: test.expr.clone(),
                    expected: describe_expected(&test.expected),
                    problem,
                }),
            }
        }
        report.per_file.push((file.name.clone(), counts));
    }
    let stale: Vec<&String> = skips.keys().filter(|id| !seen.contains(*id)).collect();

    println!("{}", report.render(&files));
    let mut problems = Vec::new();
    if !stale.is_empty() {
        problems.push(format!(
            "{SKIPS_FILE} lists tests that do not exist (remove or fix them): {stale:#?}"
        ));
    }
    if !report.failures.is_empty() {
        problems.push(format!(
            "{} CEL conformance test(s) failed; see the list above",
            report.failures.len()
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ----- the skip list -----

/// Reads `file/section/test  reason` lines; `#` starts a comment line.
fn read_skips(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    parse_skips(&text).map_err(|error| format!("{}:{error}", path.display()))
}

fn parse_skips(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut skips = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = line
            .split_once(char::is_whitespace)
            .map(|(id, reason)| (id, reason.trim()))
            .unwrap_or((line, ""));
        if reason.is_empty() {
            return Err(format!("{line_number}: `{id}` has no reason"));
        }
        let parts: Vec<&str> = id.split('/').collect();
        if parts.len() != 3
            || parts
                .iter()
                .any(|part| part.is_empty() || part.contains('*'))
        {
            return Err(format!(
                "{line_number}: `{id}` is not `file/section/test` (one test per line)"
            ));
        }
        if skips.insert(id.to_owned(), reason.to_owned()).is_some() {
            return Err(format!("{line_number}: `{id}` is listed twice"));
        }
    }
    Ok(skips)
}

// ----- running one test -----

/// How a test passed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pass {
    /// Evaluation produced the expected value or error.
    Evaluated,
    /// The expected evaluation error came at compile time; says why that counts.
    Rejected(String),
}

/// Runs one conformance test; `Err` says how the outcome differs from the expectation.
fn run(test: &Test) -> Result<Pass, String> {
    if test.check_only || test.disable_macros {
        let what = "uses `check_only` or `disable_macros`, which this runner does not support";
        return Err(format!("{what} (skip it with a reason)"));
    }
    let (schema, bindings) = declare(test)?;
    let program = compile(&test.expr, &schema);
    let mut facts = Facts::new(&schema);
    for (slot, value) in bindings {
        facts
            .set(&schema, slot, value)
            .map_err(|error| format!("cannot bind `{}`: {}", error.path, error.message))?;
    }
    let now = DateTime::<Utc>::UNIX_EPOCH;

    match &test.expected {
        Expected::Value(expected) => {
            let program = program.map_err(|diagnostics| {
                format!("compile error: {}", describe_diagnostics(&diagnostics))
            })?;
            match catch(|| program.evaluate(&facts, now))? {
                Ok(actual) if values_equal(&actual, expected) => Ok(Pass::Evaluated),
                Ok(actual) => Err(format!("evaluated to {}", describe_value(&actual))),
                Err(Stop::Unknown) => Err("evaluated to unknown".to_owned()),
                Err(Stop::Error(error)) => Err(format!("evaluation error: {error}")),
            }
        }
        Expected::EvalError(_) => match program {
            Err(diagnostics) => {
                let codes = diagnostics
                    .iter()
                    .map(|d| d.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let unsupported = diagnostics.iter().any(|d| d.code == Code::Unsupported);
                if test.disable_check && !unsupported {
                    Ok(Pass::Rejected(format!(
                        "{codes}: disable_check, CEL's checker rejects it too"
                    )))
                } else if diagnostics.iter().all(|d| d.code == Code::InvalidLiteral) {
                    Ok(Pass::Rejected(format!(
                        "{codes}: invalid constant argument"
                    )))
                } else {
                    Err(format!(
                        "compile error where CEL's checker accepts the expression: {}",
                        describe_diagnostics(&diagnostics)
                    ))
                }
            }
            Ok(program) => match catch(|| program.evaluate(&facts, now))? {
                Err(Stop::Error(_)) => Ok(Pass::Evaluated),
                Err(Stop::Unknown) => Err("evaluated to unknown, not an error".to_owned()),
                Ok(actual) => Err(format!(
                    "evaluated to {}, not an error",
                    describe_value(&actual)
                )),
            },
        },
        other => Err(format!(
            "expects {}, which this runner does not support (skip it with a reason)",
            describe_expected(other)
        )),
    }
}

/// Runs `f`, turning a panic into an error that names it.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        format!("panicked: {message}")
    })
}

/// Declares the test's variables; returns the schema and each binding's slot and value.
fn declare(test: &Test) -> Result<(Schema, Vec<(Slot, Value)>), String> {
    let mut types: Vec<(String, Type)> = Vec::new();
    for decl in &test.type_env {
        let DeclKind::Ident(cel_type) = &decl.kind else {
            return Err(format!("declares function `{}`", decl.name));
        };
        let ty = to_type(cel_type)
            .ok_or_else(|| format!("`{}` has type {cel_type:?}, outside the subset", decl.name))?;
        types.push((decl.name.clone(), ty));
    }
    let mut values = Vec::new();
    for (name, bound) in &test.bindings {
        let ExprValue::Value(cel_value) = bound else {
            return Err(format!("binds `{name}` to {bound:?}, not a value"));
        };
        let value = to_value(cel_value)
            .ok_or_else(|| format!("binds `{name}` to {cel_value:?}, outside the subset"))?;
        if !types.iter().any(|(declared, _)| declared == name) {
            let ty = type_of(cel_value)
                .ok_or_else(|| format!("cannot infer a type for `{name}` from {cel_value:?}"))?;
            types.push((name.clone(), ty));
        }
        values.push((name.clone(), value));
    }

    let mut schema = Schema::new();
    let mut slots = Vec::new();
    for (name, ty) in types {
        let slot = schema
            .declare(&name, ty)
            .map_err(|error| format!("cannot declare `{name}`: {error}"))?;
        slots.push((name, slot));
    }
    let bindings = values
        .into_iter()
        .filter_map(|(name, value)| {
            slots
                .iter()
                .find(|(declared, _)| *declared == name)
                .map(|(_, slot)| (*slot, value))
        })
        .collect();
    Ok((schema, bindings))
}

fn to_type(cel_type: &CelType) -> Option<Type> {
    Some(match cel_type {
        CelType::Primitive(Primitive::Int64) => Type::Int,
        CelType::Primitive(Primitive::Double) => Type::Number,
        CelType::Primitive(Primitive::String) => Type::String,
        CelType::Primitive(Primitive::Bool) => Type::Bool,
        CelType::WellKnown(WellKnown::Timestamp) => Type::Timestamp,
        CelType::WellKnown(WellKnown::Duration) => Type::Duration,
        CelType::Message(name) if name == "google.protobuf.Timestamp" => Type::Timestamp,
        CelType::Message(name) if name == "google.protobuf.Duration" => Type::Duration,
        CelType::List(element) => Type::List(Arc::new(to_type(element)?)),
        _ => return None,
    })
}

/// The type of a bound value that has no declaration (lists need at least one element).
fn type_of(value: &CelValue) -> Option<Type> {
    Some(match value {
        CelValue::Bool(_) => Type::Bool,
        CelValue::Int(_) => Type::Int,
        CelValue::Double(_) => Type::Number,
        CelValue::String(_) => Type::String,
        CelValue::Timestamp { .. } => Type::Timestamp,
        CelValue::Duration { .. } => Type::Duration,
        CelValue::List(items) => Type::List(Arc::new(type_of(items.first()?)?)),
        _ => return None,
    })
}

fn to_value(value: &CelValue) -> Option<Value> {
    Some(match value {
        CelValue::Bool(b) => Value::Bool(*b),
        CelValue::Int(i) => Value::Int(*i),
        CelValue::Double(d) => Value::Number(*d),
        CelValue::String(s) => Value::String(Arc::from(s.as_str())),
        CelValue::Timestamp { seconds, nanos } => Value::Timestamp(DateTime::from_timestamp(
            *seconds,
            u32::try_from(*nanos).ok()?,
        )?),
        CelValue::Duration { seconds, nanos } => Value::Duration(
            TimeDelta::new(*seconds, 0)? + TimeDelta::nanoseconds(i64::from(*nanos)),
        ),
        CelValue::List(items) => Value::List(
            items
                .iter()
                .map(to_value)
                .collect::<Option<Arc<[Value]>>>()?,
        ),
        _ => return None,
    })
}

// ----- comparing -----

fn values_equal(actual: &Value, expected: &CelValue) -> bool {
    match (actual, expected) {
        (Value::Bool(a), CelValue::Bool(e)) => a == e,
        (Value::Int(a), CelValue::Int(e)) => a == e,
        (Value::Number(a), CelValue::Double(e)) => doubles_equal(*a, *e),
        (Value::String(a), CelValue::String(e)) => **a == **e,
        (Value::List(a), CelValue::List(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(a, e)| values_equal(a, e))
        }
        (Value::Timestamp(a), CelValue::Timestamp { seconds, nanos }) => {
            a.timestamp() == *seconds && i64::from(a.timestamp_subsec_nanos()) == i64::from(*nanos)
        }
        (Value::Duration(a), CelValue::Duration { seconds, nanos }) => TimeDelta::new(*seconds, 0)
            .map(|whole| whole + TimeDelta::nanoseconds(i64::from(*nanos)))
            .is_some_and(|e| *a == e),
        _ => false,
    }
}

/// Exact equality, the sign of zero included, except that any NaN equals any NaN.
fn doubles_equal(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a == b && a.is_sign_negative() == b.is_sign_negative())
}

// ----- reporting -----

#[derive(Default)]
struct Counts {
    ran: usize,
    passed: usize,
    skipped: usize,
}

struct Failure {
    id: String,
    expr: String,
    expected: String,
    problem: String,
}

#[derive(Default)]
struct Report {
    per_file: Vec<(String, Counts)>,
    failures: Vec<Failure>,
    /// Tests whose expected evaluation error was met by a compile error, and why that counts.
    early_errors: Vec<(String, String)>,
    /// Skipped tests that pass anyway (only with `SALESPLAY_CONFORMANCE_RUN_SKIPPED=1`).
    skipped_but_passing: Vec<String>,
    skipped_by_reason: BTreeMap<String, usize>,
}

impl Report {
    fn render(&self, files: &[(std::path::PathBuf, ConformanceFile)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "CEL conformance ({} files)\n{:<16} {:>6} {:>6} {:>7} {:>6}",
            files.len(),
            "file",
            "ran",
            "passed",
            "skipped",
            "failed"
        );
        let mut total = Counts::default();
        for (name, counts) in &self.per_file {
            let _ = writeln!(
                out,
                "{name:<16} {:>6} {:>6} {:>7} {:>6}",
                counts.ran,
                counts.passed,
                counts.skipped,
                counts.ran - counts.passed
            );
            total.ran += counts.ran;
            total.passed += counts.passed;
            total.skipped += counts.skipped;
        }
        let _ = writeln!(
            out,
            "{:<16} {:>6} {:>6} {:>7} {:>6}",
            "total",
            total.ran,
            total.passed,
            total.skipped,
            total.ran - total.passed
        );
        if !self.failures.is_empty() {
            let _ = writeln!(out, "\nfailures:");
            for failure in &self.failures {
                let _ = writeln!(
                    out,
                    "  {}\n      expr:     {}\n      expected: {}\n      got:      {}",
                    failure.id,
                    failure.expr.replace('\n', "\\n"),
                    failure.expected,
                    failure.problem
                );
            }
        }
        let _ = writeln!(
            out,
            "\nexpected evaluation errors met by compile errors ({}):",
            self.early_errors.len()
        );
        for (id, why) in &self.early_errors {
            let _ = writeln!(out, "  {id:<72} {why}");
        }
        let _ = writeln!(out, "\nskipped, by reason:");
        for (reason, count) in &self.skipped_by_reason {
            let _ = writeln!(out, "  {count:>5}  {reason}");
        }
        if !self.skipped_but_passing.is_empty() {
            let _ = writeln!(
                out,
                "\nskipped tests that pass anyway ({}), perhaps no longer outside the subset:",
                self.skipped_but_passing.len()
            );
            for id in &self.skipped_but_passing {
                let _ = writeln!(out, "  {id}");
            }
        }
        out
    }
}

fn describe_expected(expected: &Expected) -> String {
    match expected {
        Expected::Value(value) => format!("value {value:?}"),
        Expected::EvalError(messages) => format!("evaluation error {messages:?}"),
        Expected::AnyEvalErrors(sets) => format!("one of the evaluation errors {sets:?}"),
        Expected::Unknown(ids) => format!("unknown {ids:?}"),
        Expected::AnyUnknowns(sets) => format!("one of the unknowns {sets:?}"),
        Expected::TypedResult {
            value,
            deduced_type,
        } => format!("typed result {value:?} of type {deduced_type:?}"),
    }
}

fn describe_value(value: &Value) -> String {
    format!("{value:?}")
}

fn describe_diagnostics(diagnostics: &[salesplay_expr::Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("[{}] {}", d.code, d.message))
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn skip_lines_are_checked() {
    let skips = parse_skips(
        "# comment\n\nbasic/self_eval/uint  uint64 is outside the subset\n\
         a/b/c\tbytes are outside the subset  \n",
    )
    .unwrap();
    assert_eq!(skips.len(), 2);
    assert_eq!(skips["a/b/c"], "bytes are outside the subset");
    assert!(parse_skips("a/b/c").unwrap_err().contains("no reason"));
    assert!(
        parse_skips("a/b/c r\na/b/c r")
            .unwrap_err()
            .contains("twice")
    );
    assert!(
        parse_skips("basic reason")
            .unwrap_err()
            .contains("one test per line")
    );
    assert!(
        parse_skips("basic/*/x reason")
            .unwrap_err()
            .contains("one test per line")
    );
    assert!(
        parse_skips("a/b/c/d reason")
            .unwrap_err()
            .contains("one test per line")
    );
}

#[test]
fn doubles_compare_exactly_but_nan_equals_nan() {
    assert!(doubles_equal(f64::NAN, -f64::NAN));
    assert!(doubles_equal(1.5, 1.5));
    assert!(!doubles_equal(0.0, -0.0));
    assert!(!doubles_equal(0.1 + 0.2, 0.3));
    assert!(doubles_equal(f64::INFINITY, f64::INFINITY));
}
