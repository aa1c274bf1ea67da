//! Fuzz target `json_binder`: `JsonBinder` (facts straight from JSON text, the path of
//! `salesplay report`) against the reference path through a `serde_json::Value`.
//!
//! Arbitrary bytes are bound to the key-account playbook (`playbooks/
//! key_account_six_steps.yaml`) with `Playbook::json_binder`, capturing `id`, `entered_at`,
//! `amount` and `account` as the report does, into one `Bound` reused from input to input (so
//! the key-order guesses carried between records are exercised). Whatever binds is placed with
//! `locate`.
//!
//! Guards against: panics and hangs in the binder on any bytes (invalid UTF-8, deep nesting,
//! many keys, escapes in keys, huge numbers, truncated text), and any disagreement with the
//! reference: when `serde_json` parses the bytes, the binder must bind the same facts or report
//! the same errors, except where it is stricter on purpose (a key repeated in one object, a
//! fact given both flat and nested, a document that is not an object); when `serde_json` does
//! not parse them, the binder must report a syntax error too.
#![no_main]

use std::cell::RefCell;
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use salesplay::Playbook;
use salesplay::expr::{Bound, JsonFactsError};

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

thread_local! {
    static BOUND: RefCell<Bound> = RefCell::new(Bound::new());
}

fuzz_target!(|data: &[u8]| {
    let playbook = playbook();
    let mut binder = playbook.json_binder();
    for path in ["id", "account", "entered_at", "amount"] {
        binder.capture(path);
    }
    BOUND.with_borrow_mut(|bound| {
        let ours = binder.bind_into(data, bound);
        let reference = serde_json::from_slice::<serde_json::Value>(data);
        match (&ours, reference) {
            (Ok(()), Ok(json)) => {
                let theirs = playbook
                    .facts_from_json(&json)
                    .expect("the reference binds what the binder binds");
                assert_eq!(bound.facts(), &theirs, "facts differ");
                let _ = playbook.locate(bound.facts(), now());
            }
            (Ok(()), Err(e)) => panic!("the binder accepted what serde_json rejects: {e}"),
            (Err(JsonFactsError::Syntax(e)), Ok(_)) => {
                assert!(
                    e.to_string().contains("appears twice"),
                    "syntax error on JSON serde_json parses: {e}"
                );
            }
            (Err(JsonFactsError::Syntax(_)), Err(_)) => {}
            (Err(JsonFactsError::NotAnObject(_)), Ok(json)) => assert!(!json.is_object()),
            (Err(JsonFactsError::NotAnObject(_)), Err(e)) => {
                panic!("not-an-object for text serde_json rejects: {e}")
            }
            (Err(JsonFactsError::Facts(errors)), Ok(json)) => {
                let given_twice = errors.iter().any(|e| e.message.contains("given twice"));
                match playbook.facts_from_json(&json) {
                    Err(theirs) => {
                        if !given_twice {
                            assert_eq!(errors, &theirs.errors, "errors differ");
                        }
                    }
                    Ok(_) => assert!(given_twice, "the reference binds: {errors:?}"),
                }
            }
            (Err(JsonFactsError::Facts(errors)), Err(e)) => {
                panic!("fact errors for text serde_json rejects ({e}): {errors:?}")
            }
            (Err(other), _) => {
                let _ = other.to_string();
            }
        }
    });
});
