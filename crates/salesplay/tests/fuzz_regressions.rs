//! Replays inputs that the fuzz targets in `fuzz/fuzz_targets/` found crashing, hanging or
//! exhausting memory, through the same steps as each target:
//!
//! * `playbook_load`: `Playbook::load_str` with the default options, then assess and locate
//!   an empty facts document;
//! * `facts_assess`: bind JSON to the key-account playbook, assess, locate, explain;
//! * `journey_json`: `Journey::from_json`, check and resume against the key-account
//!   playbook, and a JSON round trip that must give the same journey;
//! * `json_binder`: `Playbook::json_binder` on the key-account playbook against the
//!   `serde_json::Value` path (same facts or same errors, except where the binder is stricter
//!   on purpose), then locate.
//!
//! Inputs live as files in `fuzz/regressions/<target>/` (one raw input per file, as libFuzzer
//! wrote it); every file there is replayed. Each runs on a thread with an 8 MiB stack, the
//! size of the main thread the fuzzer ran it on, must not panic, and must finish within
//! [`HANG`] (a hang guard only: the tests run unoptimised and in parallel, the fuzzer did not).
//! Inputs that were *slow* rather than stuck get a dedicated, tighter test below.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use salesplay::{Journey, LoadOptions, Playbook};

const KEY_ACCOUNT: &str = include_str!("../../../playbooks/key_account_six_steps.yaml");

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

fn key_account() -> Playbook {
    Playbook::from_yaml_str(KEY_ACCOUNT).unwrap()
}

/// The `playbook_load` target's body.
fn replay_playbook_load(data: &[u8]) {
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
            let _ = playbook.assess(&facts, now());
            let _ = playbook.locate(&facts, now());
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

/// The `facts_assess` target's body.
fn replay_facts_assess(data: &[u8]) {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let playbook = key_account();
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
}

/// The `journey_json` target's body.
fn replay_journey_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(journey) = Journey::from_json(&text) else {
        return;
    };
    let playbook = key_account();
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
    let _ = journey.is_stalled(&playbook, now);
    let _ = journey.check(&playbook);
    if let Ok(resumed) = journey.resume(&playbook, now) {
        let _ = resumed.days_in_stage(now);
        let _ = resumed.is_stalled(&playbook, now);
        if let Ok(facts) = playbook.facts_from_json(&serde_json::json!({})) {
            let _ = resumed.assess(&playbook, &facts, now);
        }
    }
    let serialized = serde_json::to_string(&journey).expect("a parsed journey serializes");
    let back = Journey::from_json(&serialized).expect("a serialized journey parses back");
    assert_eq!(back, journey, "journey changed in a JSON round trip");
}

/// Runs `replay` on `data` on a thread with the fuzzer's stack size; fails on a panic or if
/// it takes longer than `budget`.
fn replay_on_big_stack(name: &str, data: Vec<u8>, replay: fn(&[u8]), budget: Duration) {
    let started = Instant::now();
    std::thread::Builder::new()
        .name(name.to_string())
        .stack_size(8 << 20)
        .spawn(move || replay(&data))
        .unwrap()
        .join()
        .unwrap_or_else(|_| panic!("fuzz regression `{name}` panicked"));
    let took = started.elapsed();
    assert!(
        took <= budget,
        "fuzz regression `{name}` took {took:?}, over the budget of {budget:?}"
    );
}

/// The `json_binder` target's body (with a fresh `Bound`: the target reuses one across
/// inputs, which the binder's own tests cover).
fn replay_json_binder(data: &[u8]) {
    use salesplay::expr::{Bound, JsonFactsError};
    let playbook = key_account();
    let mut binder = playbook.json_binder();
    for path in ["id", "account", "entered_at", "amount"] {
        binder.capture(path);
    }
    let mut bound = Bound::new();
    let ours = binder.bind_into(data, &mut bound);
    let reference = serde_json::from_slice::<serde_json::Value>(data);
    match (&ours, reference) {
        (Ok(()), Ok(json)) => {
            assert_eq!(bound.facts(), &playbook.facts_from_json(&json).unwrap());
            let _ = playbook.locate(bound.facts(), now());
        }
        (Ok(()), Err(e)) => panic!("the binder accepted what serde_json rejects: {e}"),
        (Err(JsonFactsError::Syntax(e)), Ok(_)) => assert!(e.to_string().contains("appears twice")),
        (Err(JsonFactsError::Syntax(_)), Err(_)) => {}
        (Err(JsonFactsError::NotAnObject(_)), Ok(json)) => assert!(!json.is_object()),
        (Err(JsonFactsError::Facts(errors)), Ok(json)) => {
            let given_twice = errors.iter().any(|e| e.message.contains("given twice"));
            match playbook.facts_from_json(&json) {
                Err(theirs) if !given_twice => assert_eq!(errors, &theirs.errors),
                Err(_) => {}
                Ok(_) => assert!(given_twice, "{errors:?}"),
            }
        }
        (Err(other), reference) => panic!("{other} (serde_json: {:?})", reference.err()),
    }
}

/// Replays every file in `fuzz/regressions/<target>/`.
fn replay_dir(target: &str, replay: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths.into_iter().filter(|p| p.is_file()) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".md") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        replay_on_big_stack(&format!("{target}/{name}"), data, replay, HANG);
    }
}

/// How long one replayed input may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(60);

#[test]
fn every_saved_playbook_load_input_replays_cleanly() {
    replay_dir("playbook_load", replay_playbook_load);
}

#[test]
fn every_saved_facts_assess_input_replays_cleanly() {
    replay_dir("facts_assess", replay_facts_assess);
}

#[test]
fn every_saved_journey_json_input_replays_cleanly() {
    replay_dir("journey_json", replay_journey_json);
}

#[test]
fn every_saved_json_binder_input_replays_cleanly() {
    replay_dir("json_binder", replay_json_binder);
}

/// `playbook_load` timed out (libFuzzer `-timeout=5`, 2 fuzzers on 2 cores) on mutations of
/// `crates/salesplay/tests/broken/E1003-alias-bomb.yaml`; the seed itself is as slow.
/// Minimised: six levels of anchors (`t0`..`t5`, 668 bytes, below) cost the same as the
/// original nine, because expansion only stops at `Limits::max_yaml_nodes` (2,000,000):
/// about 2.3-2.7 s of CPU and ~165 MB of extra RSS in an optimised build, ~5 s in a debug
/// build, before the load is refused. `max_yaml_aliases` (1,000) does not bound it: the file
/// has only 50 aliases. A 1 KB file should be refused in well under a second.
#[test]
fn small_alias_bomb_is_refused_quickly() {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/regressions/playbook_load/timeout-alias-bomb-minimised.yaml"),
    )
    .unwrap();
    let started = Instant::now();
    let loaded = Playbook::load_str(&source, "<fuzz>", &LoadOptions::default());
    let took = started.elapsed();
    assert!(loaded.is_err(), "the alias bomb loaded");
    assert!(
        took < Duration::from_secs(1),
        "a {}-byte alias bomb took {took:?} to refuse",
        source.len()
    );
}
