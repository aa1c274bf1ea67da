//! Fuzz target `facts_assess`: binding facts to a real playbook and assessing them.
//!
//! Arbitrary bytes are parsed with `serde_json::from_slice::<serde_json::Value>` (invalid
//! JSON is skipped) and bound to the key-account playbook
//! (`playbooks/key_account_six_steps.yaml`, compiled in with `include_str!`) with
//! `Playbook::facts_from_json`. Whatever binds is assessed (`assess`, `locate`) and every
//! criterion of every stage, every edge guard and every play condition is explained.
//!
//! Guards against: panics on odd fact values — huge or non-finite-looking numbers, integers
//! beyond i64/u64, deep nesting, wrong types, dotted flat keys colliding with nested objects,
//! invalid dates, enum names that are not in the enum, over-long lists — and panics in the
//! assessment and explanation of whatever did bind.
#![no_main]

use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use salesplay::Playbook;

const KEY_ACCOUNT: &str = include_str!("../../playbooks/key_account_six_steps.yaml");

fn playbook() -> &'static Playbook {
    static PLAYBOOK: OnceLock<Playbook> = OnceLock::new();
    PLAYBOOK
        .get_or_init(|| Playbook::from_yaml_str(KEY_ACCOUNT).expect("key-account playbook loads"))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
        .single()
        .expect("valid now")
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let playbook = playbook();
    let facts = match playbook.facts_from_json(&json) {
        Ok(facts) => facts,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let now = now();
    let _ = playbook.assess(&facts, now);
    let _ = playbook.locate(&facts, now);
    for stage in playbook.stages() {
        for criterion in stage.entry().iter().chain(stage.exit()) {
            let why = criterion.program().explain(&facts, now);
            for reason in &why.reasons {
                let _ = reason.to_string();
            }
        }
        for edge in stage.next() {
            if let Some(guard) = edge.guard() {
                let _ = guard.explain(&facts, now);
            }
        }
    }
    for play in playbook.plays() {
        if let Some(condition) = play.condition() {
            let _ = condition.explain(&facts, now);
        }
    }
});
