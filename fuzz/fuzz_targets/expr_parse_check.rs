//! Fuzz target `expr_parse_check`: the criterion language end to end.
//!
//! Arbitrary bytes, decoded as lossy UTF-8, go through `salesplay_expr::parse`, then
//! `compile` and `compile_criterion` against a fixed schema that declares a fact of every
//! type (bool, int, number, string, date, timestamp, duration, ordered enum, unordered enum,
//! list of int, list of records). Whatever compiles is run with `evaluate`, `check` and
//! `explain` over a fixed facts document (most facts present, one absent so unknowns occur).
//!
//! Guards against: panics (slicing at a non-char boundary, unwraps, arithmetic overflow in
//! debug builds, unreachable type combinations), stack overflow from deep nesting that slips
//! past the parser's depth limit, and runaway time or memory in the lexer, parser, checker,
//! evaluator or explainer (libFuzzer's `-timeout` / `-rss_limit_mb` report those).
#![no_main]

use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use salesplay_expr::{Facts, Schema, Type, compile, compile_criterion, parse};

struct Fixture {
    schema: Schema,
    facts: Facts,
    now: DateTime<Utc>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut schema = Schema::new();
        let level = Type::enumeration(["acquainted", "dating", "trusted", "allied"], true);
        let decls: Vec<(&str, Type)> = vec![
            ("deal.signed", Type::Bool),
            ("deal.seats", Type::Int),
            ("deal.amount", Type::Number),
            ("account.name", Type::String),
            ("agreement.signed_on", Type::Date),
            ("meeting.at", Type::Timestamp),
            ("sla.response", Type::Duration),
            ("relationship.level", level.clone()),
            (
                "buying_phase",
                Type::enumeration(["unaware", "evaluating", "selecting", "buying"], false),
            ),
            ("scores", Type::List(std::sync::Arc::new(Type::Int))),
            (
                "contacts",
                Type::list_of_records([
                    ("role", Type::String),
                    ("level", level),
                    ("updated_on", Type::Date),
                    ("weight", Type::Number),
                ]),
            ),
            ("missing.flag", Type::Bool),
        ];
        for (path, ty) in decls {
            schema.declare(path, ty).expect("fixture schema declares");
        }
        let json = serde_json::json!({
            "deal": {"signed": true, "seats": 9_223_372_036_854_775_807i64, "amount": 1.5e300},
            "account": {"name": "Acme 株式会社"},
            "agreement": {"signed_on": "2026-11-01"},
            "meeting": {"at": "2026-11-22T09:00:00Z"},
            "sla": {"response": "36h"},
            "relationship": {"level": "dating"},
            "buying_phase": "selecting",
            "scores": [1, -2, 3, 9_223_372_036_854_775_807i64, -9_223_372_036_854_775_807i64],
            "contacts": [
                {"role": "cto", "level": "trusted", "updated_on": "2026-10-01", "weight": 0.5},
                {"role": "cfo", "level": "acquainted", "updated_on": "2020-02-29"},
                {"role": "", "level": null, "updated_on": null, "weight": -0.0}
            ]
        });
        let facts = Facts::from_json(&schema, &json).expect("fixture facts bind");
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
            .single()
            .expect("valid now");
        Fixture { schema, facts, now }
    })
}

fuzz_target!(|data: &[u8]| {
    let fx = fixture();
    let source = String::from_utf8_lossy(data);
    let _ = parse(&source);
    for compiled in [
        compile(&source, &fx.schema),
        compile_criterion(&source, &fx.schema),
    ] {
        match compiled {
            Ok(program) => {
                let _ = program.result_type();
                let _ = program.facts_read().count();
                let _ = program.is_constant();
                let _ = program.evaluate(&fx.facts, fx.now);
                let _ = program.check(&fx.facts, fx.now);
                let why = program.explain(&fx.facts, fx.now);
                for reason in &why.reasons {
                    let _ = reason.to_string();
                }
            }
            Err(diagnostics) => {
                for d in &diagnostics {
                    // Rendering slices the source at the diagnostic's span.
                    let _ = d.render("<fuzz>", &source);
                }
            }
        }
    }
});
