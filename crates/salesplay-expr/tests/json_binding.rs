//! `JsonBinder` (straight from JSON text) against `Facts::from_json` (through a
//! `serde_json::Value`): on random documents over a schema of every type they must bind the
//! same facts or report the same errors, whatever the spelling (nested objects or flat dotted
//! keys), the undeclared keys around the facts and the values of the wrong kind.

// Integration-test helpers are test code; see `properties.rs`.
#![allow(clippy::unwrap_used, clippy::panic)]

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};
use salesplay_expr::{Bound, Facts, JsonBinder, JsonFactsError, Schema, Type};
use serde_json::{Map, Value, json};

fn schema() -> Schema {
    let mut schema = Schema::new();
    let facts = [
        ("flag", Type::Bool),
        ("count", Type::Int),
        ("amount", Type::Number),
        ("name", Type::String),
        ("signed_on", Type::Date),
        ("seen_at", Type::Timestamp),
        ("took", Type::Duration),
        ("level", Type::enumeration(["low", "mid", "high"], true)),
        ("a.b.deep", Type::Int),
        ("a.b.other", Type::String),
        ("a.c", Type::Bool),
        ("tags", Type::List(std::sync::Arc::new(Type::String))),
        (
            "contacts",
            Type::list_of_records([
                ("role", Type::String),
                ("age", Type::Int),
                ("when", Type::Date),
            ]),
        ),
    ];
    for (path, ty) in facts {
        schema.declare(path, ty).unwrap();
    }
    schema
}

/// Any JSON value, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e20f64..1e20).prop_map(Value::from),
        "[a-z0-9 :.-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Text that is, or nearly is, a value of some declared type.
fn typed_text() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("2026-02-28")),
        Just(json!("2026-02-30")),
        Just(json!("0000-01-01")),
        Just(json!("2026-2-28")),
        Just(json!("2026-11-22T09:30:00Z")),
        Just(json!("2026-11-22T09:30:00.250+01:00")),
        Just(json!("2026-11-22T09:30:00")),
        Just(json!("1h30m")),
        Just(json!("-1.5s")),
        Just(json!("1d")),
        Just(json!("low")),
        Just(json!("high")),
        Just(json!("hihg")),
        Just(json!(1.0)),
        Just(json!(2.5)),
        Just(json!(18446744073709551615u64)),
        Just(json!(-9223372036854775808i64)),
    ]
}

fn contact() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop_oneof![typed_text(), any_json()]),
        prop::option::of(prop_oneof![typed_text(), any_json()]),
        prop::option::of(prop_oneof![typed_text(), any_json()]),
        prop::option::of(any_json()),
    )
        .prop_map(|(role, age, when, extra)| {
            let mut m = Map::new();
            for (k, v) in [("role", role), ("age", age), ("when", when), ("zz", extra)] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        })
}

/// A value for a fact: often of the right shape, sometimes anything.
fn fact_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => typed_text(),
        2 => any_json(),
        2 => prop::collection::vec(contact(), 0..4).prop_map(Value::Array),
        1 => prop::collection::vec(prop_oneof![typed_text(), any_json()], 0..4).prop_map(Value::Array),
    ]
}

const PATHS: [&str; 13] = [
    "flag",
    "count",
    "amount",
    "name",
    "signed_on",
    "seen_at",
    "took",
    "level",
    "a.b.deep",
    "a.b.other",
    "a.c",
    "tags",
    "contacts",
];

/// Inserts `value` at dotted `path`, nested (`flat` false) or as one flat key.
fn insert(doc: &mut Map<String, Value>, path: &str, value: Value, flat: bool) {
    if flat {
        doc.insert(path.to_string(), value);
        return;
    }
    match path.split_once('.') {
        None => {
            doc.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = doc
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                insert(inner, rest, value, false);
            }
        }
    }
}

fn document() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(prop::option::of(fact_value()), PATHS.len()),
        any::<bool>(),
        prop::collection::btree_map("[a-z]{4,6}", any_json(), 0..3),
    )
        .prop_map(|(values, flat, extras)| {
            let mut doc = Map::new();
            for (k, v) in extras {
                doc.insert(k, v);
            }
            for (path, value) in PATHS.iter().zip(values) {
                if let Some(value) = value {
                    // The `a` group is spelled one way per document: flat and nested at
                    // once would name a fact twice, which the binder rejects on purpose.
                    insert(&mut doc, path, value, flat && path.contains('.'));
                }
            }
            Value::Object(doc)
        })
}

/// A fixed seed unless `PROPTEST_RNG_SEED` is set, so the suite is deterministic.
fn config() -> Config {
    let default = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            600
        },
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: match default.rng_seed {
            RngSeed::Random => RngSeed::Fixed(0x5a1e_5b1a_7000_0002),
            seed => seed,
        },
        failure_persistence: None,
        ..default
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn binder_agrees_with_binding_a_value(
        docs in prop::collection::vec(document(), 1..4),
        limit in prop_oneof![Just(usize::MAX), 0usize..4],
    ) {
        let schema = schema();
        let binder = JsonBinder::new(&schema).max_list_len(limit);
        // One `Bound` for every document, as a batch run reuses it: what the binder learns
        // of one record's key order must not change the next one's facts.
        let mut bound = Bound::new();
        for doc in docs {
            let text = serde_json::to_string(&doc).unwrap();
            // Both read the same text (serde_json's float parsing may differ from the
            // generated double in the last digit).
            let reparsed: Value = serde_json::from_str(&text).unwrap();
            let expected = Facts::from_json_with(&schema, &reparsed, limit);
            let actual = binder.bind_into(text.as_bytes(), &mut bound);
            match (expected, actual) {
                (Ok(e), Ok(())) => prop_assert_eq!(&e, bound.facts(), "{}", text),
                (Err(e), Err(JsonFactsError::Facts(a))) => prop_assert_eq!(e, a, "{}", text),
                (e, a) => prop_assert!(false, "{}: {:?} vs {:?}", text, e, a),
            }
        }
    }
}
