//! Fuzz target `journey_json`: deserializing stored journeys.
//!
//! Arbitrary bytes, decoded as lossy UTF-8, go through `Journey::from_json`. A journey that
//! parses is checked (`Journey::check`) and resumed (`Journey::resume`) against the
//! key-account playbook (`playbooks/key_account_six_steps.yaml`), its accessors and
//! `days_in_stage` / `is_stalled` are exercised, and it is round-tripped: serialized with
//! serde_json and parsed back, which must succeed and give an equal journey.
//!
//! Guards against: panics on tampered journeys — unknown or renamed stages, histories that do
//! not hold together, timestamps at the edges of chrono's range (overflow in
//! `days_in_stage`), versions newer than the playbook, forged migrations — and journeys that
//! deserialize but do not survive their own serialization.
#![no_main]

use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use salesplay::{Journey, Playbook};

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
    let text = String::from_utf8_lossy(data);
    let Ok(journey) = Journey::from_json(&text) else {
        return;
    };
    let playbook = playbook();
    let now = now();
    let _ = (
        journey.playbook(),
        journey.version(),
        journey.account(),
        journey.stage(),
    );
    let _ = (
        journey.entered_at(),
        journey.last_move(),
        journey.migrations().len(),
    );
    let _ = journey.days_in_stage(now);
    let _ = journey.is_stalled(playbook, now);
    let _ = journey.check(playbook);
    if let Ok(resumed) = journey.resume(playbook, now) {
        let _ = resumed.days_in_stage(now);
        let _ = resumed.is_stalled(playbook, now);
        if let Ok(facts) = playbook.facts_from_json(&serde_json::json!({})) {
            let _ = resumed.assess(playbook, &facts, now);
        }
    }
    let serialized = serde_json::to_string(&journey).expect("a parsed journey serializes");
    let back = Journey::from_json(&serialized).expect("a serialized journey parses back");
    assert_eq!(back, journey, "journey changed in a JSON round trip");
});
