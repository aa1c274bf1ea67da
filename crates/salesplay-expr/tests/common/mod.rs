//! The fixture schema and facts the language tests evaluate against.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use salesplay_expr::{Facts, Schema, Type};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

pub fn schema() -> Schema {
    let level = Type::enumeration(["acquainted", "dating", "trusted", "allied"], true);
    let mut schema = Schema::new();
    for (path, ty) in [
        ("amount", Type::Number),
        ("stage", Type::String),
        ("count", Type::Int),
        ("flag", Type::Bool),
        ("absent_flag", Type::Bool),
        ("relationship.level", level.clone()),
        (
            "segment",
            Type::enumeration(["smb", "mid", "enterprise"], false),
        ),
        ("signed_on", Type::Date),
        ("created_at", Type::Timestamp),
        ("cycle", Type::Duration),
        (
            "contacts",
            Type::list_of_records([
                ("role", Type::String),
                ("level", level),
                ("email", Type::String),
            ]),
        ),
        ("tags", Type::List(std::sync::Arc::new(Type::String))),
        ("scores", Type::List(std::sync::Arc::new(Type::Int))),
        ("missing.num", Type::Number),
    ] {
        schema.declare(path, ty).unwrap();
    }
    schema
}

pub fn facts(schema: &Schema) -> Facts {
    Facts::from_json(
        schema,
        &serde_json::json!({
            "amount": 75000.0,
            "stage": "qualify",
            "count": 3,
            "flag": true,
            "relationship": {"level": "dating"},
            "segment": "mid",
            "signed_on": "2026-10-01",
            "created_at": "2026-01-15T10:00:00Z",
            "cycle": "36h",
            "contacts": [
                {"role": "user", "level": "trusted", "email": "li@example.cn"},
                {"role": "influencer", "level": "acquainted"},
                {"role": "champion", "level": "dating", "email": "wang@example.com"}
            ],
            "tags": ["a", "b"],
            "scores": [1, 2, 3]
        }),
    )
    .unwrap()
}
