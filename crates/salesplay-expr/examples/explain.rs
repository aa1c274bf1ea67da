//! Checks a criterion against an account's facts and explains the answer.
//!
//! ```text
//! cargo run -p salesplay-expr --example explain -- 'relationship.level >= "trusted"'
//! ```
//!
//! The schema and the facts are those of the key-account six-step flow's "discover needs"
//! step; pass your own criterion as the first argument.
#![allow(clippy::print_stdout)]

use chrono::{TimeZone, Utc};
use salesplay_expr::{Facts, Schema, Type, compile_criterion};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let level = Type::enumeration(["acquainted", "dating", "trusted", "allied"], true);
    let mut schema = Schema::new();
    schema.declare("relationship.level", level.clone())?;
    schema.declare("requirements.written", Type::Bool)?;
    schema.declare("buying_phase", Type::String)?;
    schema.declare("agreement.signed_on", Type::Date)?;
    schema.declare(
        "contacts",
        Type::list_of_records([
            (
                "role",
                Type::enumeration(
                    [
                        "gatekeeper",
                        "decision_maker",
                        "purchaser",
                        "user",
                        "influencer",
                    ],
                    false,
                ),
            ),
            ("level", level),
        ]),
    )?;

    let source = std::env::args().nth(1).unwrap_or_else(|| {
        r#"relationship.level >= "dating" && requirements.written && contacts.exists(c, c.role == "decision_maker" && c.level >= "trusted")"#.to_string()
    });
    let criterion = match compile_criterion(&source, &schema) {
        Ok(c) => c,
        Err(errors) => {
            for e in errors {
                eprint!("{}", e.render("criterion", &source));
            }
            std::process::exit(1);
        }
    };
    let facts = Facts::from_json(
        &schema,
        &serde_json::json!({
            "relationship": {"level": "dating"},
            "contacts": [
                {"role": "user", "level": "trusted"},
                {"role": "decision_maker", "level": "acquainted"}
            ]
        }),
    )
    .map_err(|e| format!("{e:?}"))?;
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
        .single()
        .ok_or("bad time")?;

    let explanation = criterion.explain(&facts, now);
    println!("criterion: {source}");
    println!("status:    {}", explanation.status.as_str());
    for reason in &explanation.reasons {
        println!("  - {reason}");
    }
    if !explanation.missing_facts.is_empty() {
        println!("missing:   {}", explanation.missing_facts.join(", "));
    }
    Ok(())
}
