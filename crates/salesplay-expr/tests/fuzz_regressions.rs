//! Replays inputs the `expr_parse_check` fuzz target (`fuzz/fuzz_targets/expr_parse_check.rs`)
//! found crashing, hanging or exhausting memory, through the same steps as the target: parse,
//! compile and compile_criterion against a schema with a fact of every type, then evaluate,
//! check and explain over a fixed facts document.
//!
//! Inputs live as files in `fuzz/regressions/expr_parse_check/` (one raw input per file, as
//! libFuzzer wrote it); every file there is replayed. Each runs on a thread with an 8 MiB
//! stack, the size of the main thread the fuzzer ran it on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use salesplay_expr::{Facts, Schema, Type, compile, compile_criterion, parse};

/// The fuzz target's body, step for step.
fn replay(data: &[u8]) {
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
        ("scores", Type::List(Arc::new(Type::Int))),
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
        schema.declare(path, ty).unwrap();
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
    let facts = Facts::from_json(&schema, &json).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();

    let source = String::from_utf8_lossy(data);
    let _ = parse(&source);
    for compiled in [
        compile(&source, &schema),
        compile_criterion(&source, &schema),
    ] {
        match compiled {
            Ok(program) => {
                let _ = program.result_type();
                let _ = program.facts_read().count();
                let _ = program.is_constant();
                let _ = program.evaluate(&facts, now);
                let _ = program.check(&facts, now);
                let why = program.explain(&facts, now);
                for reason in &why.reasons {
                    let _ = reason.to_string();
                }
            }
            Err(diagnostics) => {
                for d in &diagnostics {
                    let _ = d.render("<fuzz>", &source);
                }
            }
        }
    }
}

/// Runs `replay` on a thread with the fuzzer's stack size; a panic fails the test.
fn replay_on_big_stack(name: &str, data: Vec<u8>) {
    std::thread::Builder::new()
        .name(name.to_string())
        .stack_size(8 << 20)
        .spawn(move || replay(&data))
        .unwrap()
        .join()
        .unwrap_or_else(|_| panic!("fuzz regression `{name}` panicked"));
}

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/expr_parse_check")
}

#[test]
fn every_saved_expr_input_replays_cleanly() {
    let Ok(entries) = std::fs::read_dir(regressions_dir()) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths.into_iter().filter(|p| p.is_file()) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".md") {
            continue;
        }
        replay_on_big_stack(&name, std::fs::read(&path).unwrap());
    }
}
