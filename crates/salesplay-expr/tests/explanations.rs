//! Explanations of unmet and unknown criteria, as a UI would show them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use salesplay_expr::{Detail, Facts, Status, compile_criterion};

fn explain(source: &str, facts: &Facts) -> (Status, Vec<String>, Vec<String>) {
    let schema = common::schema();
    let program = compile_criterion(source, &schema).unwrap();
    let explanation = program.explain(facts, common::now());
    assert_eq!(
        explanation.status,
        program.check(facts, common::now()),
        "{source}"
    );
    let reasons = explanation
        .reasons
        .iter()
        .map(ToString::to_string)
        .collect();
    (explanation.status, reasons, explanation.missing_facts)
}

#[test]
fn unmet_comparisons_show_actual_and_needed_values() {
    let schema = common::schema();
    let facts = Facts::from_json(
        &schema,
        &serde_json::json!({"relationship": {"level": "acquainted"}, "amount": 20000, "stage": "lead"}),
    )
    .unwrap();
    let (status, reasons, missing) = explain(
        r#"relationship.level >= "dating" && amount > 50000.0 && stage in ["qualify", "propose"]"#,
        &facts,
    );
    assert_eq!(status, Status::Unmet);
    assert_eq!(
        reasons,
        [
            "`relationship.level` is `acquainted`, needs ≥ `dating`",
            "`amount` is `20000.0`, needs > `50000.0`",
            "`stage` is `lead`, needs one of `qualify`, `propose`",
        ]
    );
    assert!(missing.is_empty());
    let (_, reasons, _) = explain("50000.0 < amount", &facts);
    assert_eq!(reasons, ["`amount` is `20000.0`, needs > `50000.0`"]);
    let (_, reasons, _) = explain(r#"stage == "won""#, &facts);
    assert_eq!(reasons, ["`stage` is `lead`, needs `won`"]);
    let (_, reasons, _) = explain(r#"stage != "lead""#, &facts);
    assert_eq!(reasons, ["`stage` is `lead`, must not be `lead`"]);
}

#[test]
fn unknown_criteria_name_their_missing_facts() {
    let schema = common::schema();
    let facts = Facts::from_json(&schema, &serde_json::json!({"flag": true})).unwrap();
    let (status, reasons, missing) =
        explain("flag && count > 1 && days_since(signed_on) < 30", &facts);
    assert_eq!(status, Status::Unknown);
    assert_eq!(reasons, ["`count` is missing", "`signed_on` is missing"]);
    assert_eq!(missing, ["count", "signed_on"]);
}

#[test]
fn false_beats_unknown_and_reports_only_the_false_part() {
    let schema = common::schema();
    let facts = Facts::from_json(&schema, &serde_json::json!({"flag": false})).unwrap();
    let (status, reasons, missing) = explain("flag && count > 1", &facts);
    assert_eq!(status, Status::Unmet);
    assert_eq!(reasons, ["`flag` is false"]);
    assert!(missing.is_empty());
}

#[test]
fn or_lists_every_failing_alternative_and_not_inverts() {
    let schema = common::schema();
    let facts = Facts::from_json(&schema, &serde_json::json!({"flag": true, "count": 1})).unwrap();
    let (_, reasons, _) = explain("!flag || count >= 2", &facts);
    assert_eq!(reasons, ["`flag` is true", "`count` is `1`, needs ≥ `2`"]);
}

#[test]
fn macros_name_the_element_that_fails() {
    let schema = common::schema();
    let facts = common::facts(&schema);
    let (_, reasons, _) = explain(r#"contacts.all(c, c.level >= "dating")"#, &facts);
    assert_eq!(
        reasons,
        ["`contacts[1]` fails: `c.level` is `acquainted`, needs ≥ `dating`"]
    );
    let (_, reasons, _) = explain(r#"contacts.exists(c, c.role == "decision_maker")"#, &facts);
    assert_eq!(
        reasons,
        [r#"no element of `contacts` (3 in all) satisfies `c.role == "decision_maker"`"#]
    );
    let (status, _, missing) = explain(r#"contacts.all(c, c.email.contains("@"))"#, &facts);
    assert_eq!(status, Status::Unknown);
    assert_eq!(missing, ["contacts[1].email"]);
}

#[test]
fn errors_are_explained() {
    let schema = common::schema();
    let facts = Facts::from_json(&schema, &serde_json::json!({"count": 0})).unwrap();
    let program = compile_criterion("10 / count > 1", &schema).unwrap();
    let explanation = program.explain(&facts, common::now());
    assert!(matches!(explanation.status, Status::Error(_)));
    assert!(matches!(
        explanation.reasons[0].detail,
        Detail::Error { .. }
    ));
    assert_eq!(
        explanation.reasons[0].to_string(),
        "`10 / count > 1` failed: division by zero"
    );
}

#[test]
fn met_criteria_have_no_reasons() {
    let schema = common::schema();
    let facts = common::facts(&schema);
    let (status, reasons, missing) = explain("flag && amount > 1.0", &facts);
    assert_eq!(status, Status::Met);
    assert!(reasons.is_empty() && missing.is_empty());
}

#[test]
fn absent_facts_tested_with_has_are_named() {
    let schema = common::schema();
    let facts = Facts::from_json(&schema, &serde_json::json!({})).unwrap();
    let (status, reasons, _) = explain("has(signed_on) && has(missing.num)", &facts);
    assert_eq!(status, Status::Unmet);
    assert_eq!(
        reasons,
        ["`signed_on` is absent", "`missing.num` is absent"]
    );
}
