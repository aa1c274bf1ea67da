//! Criteria, side by side: `salesplay-expr` and its peers in one run.
//!
//! Groups (one per case, one function per engine):
//! - `a_scalar/*`: evaluate `amount > 50000 && stage == "qualify"` (met);
//!   `a_scalar_unmet/*`: the same with `stage` another value (unmet on the second clause);
//! - `b_exists/*`: evaluate (a) `&& contacts.exists(c, c.role == "champion")` over three
//!   contacts whose champion is the last; `b_exists_unmet/*`: no champion among the three;
//! - `c_compile/*`: turn the text of (b) into each engine's executable form.
//!
//! Evaluation benches time evaluation only: each engine's program is compiled, and its facts
//! are bound, before the timing loop, as that engine's fast path allows. Each engine's answer
//! is checked once before any timing, so no bench times an error.
//!
//! Quick run: `cargo bench -p salesplay-benches --bench criteria -- --warm-up-time 1
//! --measurement-time 3`.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use salesplay_benches::{Account, Case, SCALAR, WITH_CONTACTS, floor_scalar, floor_with_contacts};

/// The evaluation time handed to salesplay: a fixed instant, as the engine never reads the clock.
fn now() -> chrono::DateTime<chrono::Utc> {
    // 2026-01-01T00:00:00Z
    chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("a valid instant")
}

mod salesplay {
    //! `salesplay-expr`: a checked, compiled criterion over facts bound to schema slots.

    use super::{Account, BenchmarkGroup, Case, WallTime};
    use super::{black_box, now};
    use salesplay_expr::{Facts, Schema, Status, Type, Value, compile_criterion};

    /// Declares the facts every case reads, compiles `case`, binds the account, checks the
    /// answer once (`Met` when `expected`, else `Unmet`), then times
    /// [`salesplay_expr::Program::check`].
    pub fn evaluate(
        group: &mut BenchmarkGroup<'_, WallTime>,
        case: &Case,
        account: &Account,
        expected: bool,
    ) {
        let mut schema = Schema::new();
        let amount = schema
            .declare("amount", Type::Number)
            .expect("declare amount");
        let stage = schema
            .declare("stage", Type::String)
            .expect("declare stage");
        let contacts = schema
            .declare("contacts", Type::list_of_records([("role", Type::String)]))
            .expect("declare contacts");

        let program = compile_criterion(case.salesplay, &schema)
            .unwrap_or_else(|diagnostics| panic!("salesplay {}: {diagnostics:?}", case.group));

        let records: Vec<Value> = account
            .contacts
            .iter()
            .map(|contact| Value::Record(vec![Value::String(contact.role.as_str().into())].into()))
            .collect();
        let mut facts = Facts::new(&schema);
        facts
            .set(&schema, amount, Value::Number(account.amount))
            .expect("bind amount");
        facts
            .set(&schema, stage, Value::String(account.stage.as_str().into()))
            .expect("bind stage");
        facts
            .set(&schema, contacts, Value::List(records.into()))
            .expect("bind contacts");

        let now = now();
        let status = if expected { Status::Met } else { Status::Unmet };
        assert_eq!(
            program.check(&facts, now),
            status,
            "salesplay {}",
            case.group
        );

        group.bench_function("salesplay", |b| {
            b.iter(|| black_box(&program).check(black_box(&facts), now));
        });
    }

    /// Times parsing, type-checking and compiling `case` against a schema declared beforehand.
    pub fn compile(group: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
        let mut schema = Schema::new();
        schema
            .declare("amount", Type::Number)
            .expect("declare amount");
        schema
            .declare("stage", Type::String)
            .expect("declare stage");
        schema
            .declare("contacts", Type::list_of_records([("role", Type::String)]))
            .expect("declare contacts");

        if let Err(diagnostics) = compile_criterion(case.salesplay, &schema) {
            panic!("salesplay {}: {diagnostics:?}", case.group);
        }

        group.bench_function("salesplay", |b| {
            b.iter(|| compile_criterion(black_box(case.salesplay), black_box(&schema)));
        });
    }
}

mod cel_peer {
    //! `cel` (cel-rust): a parsed `Program` executed against a `Context` holding the variables.

    use super::{Account, Arc, BenchmarkGroup, Case, HashMap, WallTime, black_box};
    use cel::objects::Map;
    use cel::{Context, Program, Value};

    /// A context holding the account's facts as CEL values (`amount` a double).
    fn context(account: &Account) -> Context<'static, 'static> {
        let mut context = Context::default();
        context.add_variable_from_value("amount", Value::Float(account.amount));
        context.add_variable_from_value("stage", Value::String(Arc::new(account.stage.clone())));
        let contacts: Vec<Value> = account
            .contacts
            .iter()
            .map(|contact| {
                let record =
                    HashMap::from([("role", Value::String(Arc::new(contact.role.clone())))]);
                Value::Map(Map::from(record))
            })
            .collect();
        context.add_variable_from_value("contacts", Value::List(Arc::new(contacts)));
        context
    }

    /// Compiles `case`, binds the account, checks the answer once, then times `execute`.
    pub fn evaluate(
        group: &mut BenchmarkGroup<'_, WallTime>,
        case: &Case,
        account: &Account,
        expected: bool,
    ) {
        let program = Program::compile(case.cel)
            .unwrap_or_else(|error| panic!("cel {}: {error:?}", case.group));
        let context = context(account);
        assert_eq!(
            program.execute(&context),
            Ok(Value::Bool(expected)),
            "cel {}",
            case.group
        );

        group.bench_function("cel", |b| {
            b.iter(|| black_box(&program).execute(black_box(&context)));
        });
    }

    /// Times `Program::compile` (parsing and macro expansion; cel-rust has no type-checker).
    pub fn compile(group: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
        if let Err(error) = Program::compile(case.cel) {
            panic!("cel {}: {error:?}", case.group);
        }

        group.bench_function("cel", |b| {
            b.iter(|| Program::compile(black_box(case.cel)));
        });
    }
}

mod zen_peer {
    //! `zen-expression`: bytecode compiled once, run by an `Isolate` holding the environment.

    use super::{Account, BenchmarkGroup, Case, WallTime, black_box};
    use zen_expression::Isolate;
    use zen_expression::variable::Variable;

    /// The account's facts as a ZEN environment (an object built from JSON).
    fn environment(account: &Account) -> Variable {
        let contacts: Vec<serde_json::Value> = account
            .contacts
            .iter()
            .map(|contact| serde_json::json!({ "role": contact.role }))
            .collect();
        Variable::from(serde_json::json!({
            "amount": account.amount,
            "stage": account.stage,
            "contacts": contacts,
        }))
    }

    /// Compiles `case`, binds the account, checks the answer once, then times running the
    /// compiled bytecode in the isolate (which reuses its VM's memory from run to run).
    pub fn evaluate(
        group: &mut BenchmarkGroup<'_, WallTime>,
        case: &Case,
        account: &Account,
        expected: bool,
    ) {
        let mut isolate = Isolate::with_environment(environment(account));
        let expression = isolate
            .compile_standard(case.zen)
            .unwrap_or_else(|error| panic!("zen {}: {error:?}", case.group));
        let answer = isolate.run_compiled(expression.bytecode());
        assert!(
            matches!(answer, Ok(Variable::Bool(b)) if b == expected),
            "zen {}: {answer:?}",
            case.group
        );

        group.bench_function("zen", |b| {
            b.iter(|| isolate.run_compiled(black_box(expression.bytecode())));
        });
    }

    /// Times `Isolate::compile_standard`: lexing, parsing and compiling to bytecode.
    pub fn compile(group: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
        let mut isolate = Isolate::new();
        if let Err(error) = isolate.compile_standard(case.zen) {
            panic!("zen {}: {error:?}", case.group);
        }

        group.bench_function("zen", |b| {
            b.iter(|| isolate.compile_standard(black_box(case.zen)));
        });
    }
}

mod rhai_peer {
    //! `rhai`: a compiled `AST` evaluated against a `Scope` holding the facts.

    use super::{Account, BenchmarkGroup, Case, WallTime, black_box};
    use rhai::{Array, Dynamic, Engine, FLOAT, Map, Scope};

    /// A scope holding the account's facts (`amount` a float, `contacts` an array of maps).
    fn scope(account: &Account) -> Scope<'static> {
        let mut scope = Scope::new();
        scope.push("amount", account.amount as FLOAT);
        scope.push("stage", account.stage.clone());
        let contacts: Array = account
            .contacts
            .iter()
            .map(|contact| {
                let mut record = Map::new();
                record.insert("role".into(), Dynamic::from(contact.role.clone()));
                Dynamic::from_map(record)
            })
            .collect();
        scope.push("contacts", contacts);
        scope
    }

    /// Compiles `case` (without the scope, so no fact is folded in as a constant), binds the
    /// account, checks the answer once, then times `eval_ast_with_scope`.
    pub fn evaluate(
        group: &mut BenchmarkGroup<'_, WallTime>,
        case: &Case,
        account: &Account,
        expected: bool,
    ) {
        let engine = Engine::new();
        let ast = engine
            .compile(case.rhai)
            .unwrap_or_else(|error| panic!("rhai {}: {error}", case.group));
        let mut scope = scope(account);
        let answer = engine.eval_ast_with_scope::<bool>(&mut scope, &ast);
        assert!(
            matches!(answer, Ok(b) if b == expected),
            "rhai {}: {answer:?}",
            case.group
        );

        group.bench_function("rhai", |b| {
            b.iter(|| engine.eval_ast_with_scope::<bool>(&mut scope, black_box(&ast)));
        });
        // INVARIANT: the script declares no variable, so the timed runs left the scope as it was.
        assert_eq!(scope.len(), 3, "rhai {}: the scope grew", case.group);
    }

    /// Times `Engine::compile`: parsing and the default (simple) optimisation pass.
    pub fn compile(group: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
        let engine = Engine::new();
        if let Err(error) = engine.compile(case.rhai) {
            panic!("rhai {}: {error}", case.group);
        }

        group.bench_function("rhai", |b| {
            b.iter(|| engine.compile(black_box(case.rhai)));
        });
    }
}

/// One group per evaluation case and account: every engine, then the hand-written floor.
/// Every engine must give the floor's answer.
fn evaluate_case(
    c: &mut Criterion,
    name: &str,
    case: &Case,
    account: &Account,
    floor: impl Fn(&Account) -> bool,
) {
    let expected = floor(account);
    let mut group = c.benchmark_group(name);
    salesplay::evaluate(&mut group, case, account, expected);
    cel_peer::evaluate(&mut group, case, account, expected);
    zen_peer::evaluate(&mut group, case, account, expected);
    rhai_peer::evaluate(&mut group, case, account, expected);
    group.bench_function("floor", |b| b.iter(|| floor(black_box(account))));
    group.finish();
}

/// Case (a): two scalar comparisons, met; and unmet on its second clause (`stage`).
fn a_scalar(c: &mut Criterion) {
    let account = Account::sample();
    assert!(floor_scalar(&account));
    evaluate_case(c, "a_scalar", &SCALAR, &account, floor_scalar);
    let unmet = Account {
        stage: "negotiate".to_owned(),
        ..Account::sample()
    };
    assert!(!floor_scalar(&unmet));
    evaluate_case(c, "a_scalar_unmet", &SCALAR, &unmet, floor_scalar);
}

/// Case (b): case (a) and a search through three records, met; and unmet with no champion
/// (every record searched).
fn b_exists(c: &mut Criterion) {
    let account = Account::sample();
    assert!(floor_with_contacts(&account));
    evaluate_case(c, "b_exists", &WITH_CONTACTS, &account, floor_with_contacts);
    let mut unmet = Account::sample();
    if let Some(last) = unmet.contacts.last_mut() {
        last.role = "user".to_owned();
    }
    assert!(!floor_with_contacts(&unmet));
    evaluate_case(
        c,
        "b_exists_unmet",
        &WITH_CONTACTS,
        &unmet,
        floor_with_contacts,
    );
}

/// Case (c): compiling the text of case (b), for every engine.
fn c_compile(c: &mut Criterion) {
    let case = &WITH_CONTACTS;
    let mut group = c.benchmark_group("c_compile");
    salesplay::compile(&mut group, case);
    cel_peer::compile(&mut group, case);
    zen_peer::compile(&mut group, case);
    rhai_peer::compile(&mut group, case);
    group.finish();
}

criterion_group!(criteria, a_scalar, b_exists, c_compile);
criterion_main!(criteria);
