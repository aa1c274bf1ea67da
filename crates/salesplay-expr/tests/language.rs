//! Every operator, function and macro of the language, driven by `data/cases.txt`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use salesplay_expr::{AllOf, Stop, Value, compile};

#[test]
fn every_case_in_the_table() {
    let schema = common::schema();
    let facts = common::facts(&schema);
    let table = include_str!("data/cases.txt");
    let mut failures = Vec::new();
    let mut ran = 0;
    // Every criterion with its line and whether it is met, for the joined checks below.
    let mut criteria = Vec::new();
    for (number, line) in table.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (expr, expected) = line
            .rsplit_once(" => ")
            .unwrap_or_else(|| panic!("line {}: no ` => `", number + 1));
        ran += 1;
        let program = match compile(expr, &schema) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!(
                    "line {}: `{expr}` does not compile: {e:?}",
                    number + 1
                ));
                continue;
            }
        };
        let actual = program.evaluate(&facts, common::now());
        // The fast boolean path must agree with the full evaluator.
        let fast = program.check(&facts, common::now());
        let slow = match &actual {
            Ok(Value::Bool(true)) => Some(salesplay_expr::Status::Met),
            Ok(Value::Bool(false)) => Some(salesplay_expr::Status::Unmet),
            Err(Stop::Unknown) => Some(salesplay_expr::Status::Unknown),
            Err(Stop::Error(e)) => Some(salesplay_expr::Status::Error(e.clone())),
            Ok(_) => None,
        };
        if let Some(slow) = &slow
            && *slow != fast
        {
            failures.push(format!(
                "line {}: `{expr}`: check() gave {fast:?}, evaluate() {slow:?}",
                number + 1
            ));
        }
        // The flat path of the walk must say "met" exactly when the evaluator yields `true`.
        if let Some(slow) = &slow {
            let met = *slow == salesplay_expr::Status::Met;
            let all = AllOf::new([&program]);
            let (holds, all_holds) = (
                program.holds(&facts, common::now()),
                all.holds(&facts, common::now()),
            );
            if holds != met || all_holds != met {
                failures.push(format!(
                    "line {}: `{expr}`: holds() gave {holds}, AllOf {all_holds} ({all:?}), \
                     evaluate() {slow:?}",
                    number + 1
                ));
            }
            // And with every fact absent.
            let none = salesplay_expr::Facts::new(&schema);
            let met_none =
                program.evaluate(&none, common::now()) == Ok(salesplay_expr::Value::Bool(true));
            if program.holds(&none, common::now()) != met_none {
                failures.push(format!(
                    "line {}: `{expr}`: holds() disagrees with evaluate() without facts",
                    number + 1
                ));
            }
            criteria.push((number + 1, expr, program.clone(), met));
        }
        let ok = match expected {
            "unknown" => actual == Err(Stop::Unknown),
            e if e.starts_with("error: ") => match &actual {
                Err(Stop::Error(err)) => err.kind.to_string() == e["error: ".len()..],
                _ => false,
            },
            e => {
                let want = compile(e, &schema)
                    .unwrap_or_else(|d| {
                        panic!(
                            "line {}: expected `{e}` does not compile: {d:?}",
                            number + 1
                        )
                    })
                    .evaluate(&facts, common::now())
                    .unwrap();
                match (&actual, &want) {
                    (Ok(Value::Number(a)), Value::Number(b)) => a == b,
                    (Ok(a), b) => a == b,
                    _ => false,
                }
            }
        };
        if !ok {
            failures.push(format!(
                "line {}: `{expr}` gave {actual:?}, expected {expected}",
                number + 1
            ));
        }
    }
    // Criteria joined in pairs: all of two is met exactly when both are, and the second
    // where the first is known to hold is met exactly when it is.
    for pair in criteria.windows(2) {
        let [(la, ea, a, met_a), (lb, eb, b, met_b)] = pair else {
            continue;
        };
        let (all_a, all_b) = (AllOf::new([a]), AllOf::new([b]));
        let both = AllOf::new([a, b]).holds(&facts, common::now());
        let joined = all_a.and(&all_b).holds(&facts, common::now());
        if both != (*met_a && *met_b) || joined != both {
            failures.push(format!(
                "lines {la} and {lb}: all of `{ea}` and `{eb}` gave {both} (joined {joined})"
            ));
        }
        let passed =
            salesplay_expr::Sequence::new([&all_a, &all_b, &all_a]).passed(&facts, common::now());
        let expected = [*met_a, *met_b, *met_a].iter().take_while(|m| **m).count();
        if passed != expected {
            failures.push(format!(
                "lines {la} and {lb}: the sequence `{ea}`, `{eb}`, `{ea}` passed {passed}, \
                 not {expected}"
            ));
        }
        if *met_a && all_b.given(&all_a).holds(&facts, common::now()) != *met_b {
            failures.push(format!(
                "lines {la} and {lb}: `{eb}` given `{ea}` disagrees with evaluate()"
            ));
        }
    }
    assert!(criteria.len() >= 80, "only {} criteria", criteria.len());
    assert!(ran >= 140, "only {ran} cases ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn criteria_need_bool_results() {
    let schema = common::schema();
    let errors = salesplay_expr::compile_criterion("amount + 1.0", &schema).unwrap_err();
    assert_eq!(errors[0].code, salesplay_expr::Code::NotBool);
}

#[test]
fn constant_criteria_are_detected() {
    let schema = common::schema();
    assert!(compile("1 + 1 == 2", &schema).unwrap().is_constant());
    assert!(!compile("count == 2", &schema).unwrap().is_constant());
    assert!(
        !compile("days_since(date(\"2026-01-01\")) > 3", &schema)
            .unwrap()
            .is_constant()
    );
    let facts: Vec<String> = compile("count > 1 && has(signed_on) && amount > 1.0", &schema)
        .unwrap()
        .facts_read()
        .map(String::from)
        .collect();
    assert_eq!(facts, ["amount", "count", "signed_on"]);
}

#[test]
fn the_deepest_accepted_trees_evaluate_on_a_small_stack() {
    // Test threads have 2 MiB stacks; the depth ceiling must leave the checker and both
    // evaluators room on them, in debug builds too.
    let schema = common::schema();
    let facts = common::facts(&schema);
    let nots = format!("{}flag", "!".repeat(96));
    let parens = format!("{}flag{}", "(".repeat(96), ")".repeat(96));
    let sum = format!("{} > 0", vec!["count"; 96].join(" + "));
    for source in [nots, parens, sum] {
        let program = salesplay_expr::compile_criterion(&source, &schema).unwrap();
        assert_ne!(
            program.check(&facts, common::now()),
            salesplay_expr::Status::Unknown
        );
        let _ = program.evaluate(&facts, common::now());
        let _ = program.explain(&facts, common::now());
    }
}
