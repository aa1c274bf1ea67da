//! Fuzz target `playbook_load`: the YAML playbook loader.
//!
//! Arbitrary bytes, decoded as lossy UTF-8, are loaded with `Playbook::load_str` and the
//! default `LoadOptions` (default `Limits`). Every diagnostic of a failed load is rendered
//! against the source; a playbook that loads is assessed (and located) over an empty facts
//! document. Seeded with `playbooks/*.yaml` and `crates/salesplay/tests/broken/*.yaml`.
//!
//! Guards against: panics in YAML handling (serde-saphyr spans, BOMs, odd scalars), in
//! validation and type/schema building, in the graph and gap lints (unreachable stages,
//! cycles, empty stage lists) and in diagnostic rendering (spans past the end or inside a
//! multi-byte character); and alias bombs / deep nesting that would exhaust memory or time
//! despite the `max_yaml_*` budgets.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use salesplay::{LoadOptions, Playbook};

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    match Playbook::load_str(&source, "<fuzz>", &LoadOptions::default()) {
        Ok(loaded) => {
            let playbook = &loaded.playbook;
            for d in &loaded.warnings {
                let _ = d.render("<fuzz>", &source);
            }
            let Ok(facts) = playbook.facts_from_json(&serde_json::json!({})) else {
                return;
            };
            let Some(now) = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).single() else {
                return;
            };
            let _ = playbook.assess(&facts, now);
            let _ = playbook.locate(&facts, now);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
