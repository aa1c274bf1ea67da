//! Funnels over many accounts: counts, conversion, weighted pipeline, stalled accounts, and
//! merging (sequential, split, parallel) giving the same report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use salesplay::Playbook;
use salesplay::expr::Facts;
use salesplay::portfolio::{AccountRecord, Funnel, FunnelReport, Portfolio, WeightedBy};
use serde_json::{Value, json};

const KEY_ACCOUNT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../playbooks/key_account_six_steps.yaml"
);

fn key_account() -> Playbook {
    Playbook::load_path(KEY_ACCOUNT, &Default::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .playbook
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap()
}

/// Three stages in a line, each with a probability; the first stalls after 10 days.
const LINE: &str = r#"
id: line
facts: { interested: bool, qualified: bool, signed: bool }
stages:
  - id: a
    probability: 0.1
    max_days: 10
    entry: [{ id: is_interested, when: interested }]
    exit: [{ id: is_qualified, when: qualified }]
  - id: b
    probability: 0.5
    entry: [{ id: qualified_again, when: qualified }]
    exit: [{ id: is_signed, when: signed }]
  - id: c
    probability: 1.0
    entry: [{ id: signed_again, when: signed }]
"#;

fn line_facts(playbook: &Playbook, interested: bool, qualified: bool, signed: bool) -> Facts {
    playbook
        .facts_from_json(&json!({
            "interested": interested, "qualified": qualified, "signed": signed
        }))
        .unwrap()
}

/// 4 accounts in no stage, 3 in `a`, 2 in `b`, 1 in `c`.
fn line_accounts(playbook: &Playbook) -> Vec<Facts> {
    let mut accounts = Vec::new();
    for _ in 0..4 {
        accounts.push(line_facts(playbook, false, true, true));
    }
    for _ in 0..3 {
        accounts.push(line_facts(playbook, true, false, false));
    }
    for _ in 0..2 {
        accounts.push(line_facts(playbook, true, true, false));
    }
    accounts.push(line_facts(playbook, true, true, true));
    accounts
}

fn column<T>(report: &FunnelReport, f: impl Fn(&salesplay::portfolio::FunnelStage) -> T) -> Vec<T> {
    report.stages.iter().map(f).collect()
}

fn assert_adds_up(report: &FunnelReport) {
    let in_stages: usize = report.stages.iter().map(|s| s.count).sum();
    assert_eq!(
        in_stages + report.not_entered + report.invalid,
        report.accounts,
        "{report:#?}"
    );
    for stage in &report.stages {
        assert_eq!(stage.reached, stage.count + stage.advanced, "{}", stage.id);
    }
    let stalled: usize = report.stages.iter().map(|s| s.stalled).sum();
    assert_eq!(stalled, report.stalled_total);
}

#[test]
fn counts_add_up_over_the_key_account_playbook() {
    let playbook = key_account();
    let documents = [
        json!({}),
        json!({"account": {"target_locked": false}}),
        json!({"account": {"target_locked": true}}),
        json!({"account": {"target_locked": true}, "opportunity": {"identified": true}}),
        json!({"account": {"target_locked": true}, "opportunity": {"identified": true},
               "relationship": {"level": "trusted"}}),
        json!({"account": {"target_locked": true}, "opportunity": {"identified": true},
               "relationship": {"level": "trusted"}, "requirements": {"written": true},
               "buying_phase": "selecting"}),
        json!({"account": {"target_locked": true}, "opportunity": {"identified": true},
               "relationship": {"level": "allied"}, "requirements": {"written": true},
               "buying_phase": "buying", "negotiation": {"started": true}}),
        json!({"account": {"target_locked": true}, "opportunity": {"identified": true},
               "relationship": {"level": "allied"}, "requirements": {"written": true},
               "buying_phase": "buying", "negotiation": {"started": true},
               "agreement": {"signed_on": "2026-04-01"}, "payment": {"outstanding": 100.0}}),
        // Wrong types: rejected when bound.
        json!({"account": {"target_locked": "yes"}}),
        json!({"relationship": {"level": "married"}}),
    ];
    let mut funnel = Funnel::new(&playbook);
    for (line, document) in documents.iter().enumerate() {
        match playbook.facts_from_json(document) {
            Ok(facts) => {
                let stage = funnel.add(&facts, now());
                let assessed = playbook.assess(&facts, now()).stage;
                let located = stage.map(|i| playbook.stages()[i].id().to_string());
                assert_eq!(located, assessed, "line {}", line + 1);
            }
            Err(_) => funnel.add_invalid(&format!("line {}", line + 1)),
        }
    }
    let report = funnel.report();
    assert_adds_up(&report);
    assert_eq!(report.accounts, 10);
    assert_eq!(report.invalid, 2);
    assert_eq!(report.invalid_records, ["line 9", "line 10"]);
    assert_eq!(report.not_entered, 2);
    assert_eq!(column(&report, |s| s.count), [1, 1, 1, 1, 1, 1, 0]);
    assert_eq!(column(&report, |s| s.reached), [6, 5, 4, 3, 2, 1, 0]);
    // `lost` is entered from anywhere, never by the walk: no conversion either way.
    assert_eq!(report.stages[6].id, "lost");
    assert_eq!(report.stages[6].conversion, None);
}

#[test]
fn conversion_is_the_share_that_moved_on() {
    let playbook = Playbook::from_yaml_str(LINE).unwrap();
    let report = Portfolio::assess_all(&playbook, &line_accounts(&playbook), now());
    assert_adds_up(&report);
    assert_eq!(report.accounts, 10);
    assert_eq!(report.not_entered, 4);
    assert_eq!(column(&report, |s| s.count), [3, 2, 1]);
    assert_eq!(column(&report, |s| s.reached), [6, 3, 1]);
    assert_eq!(column(&report, |s| s.advanced), [3, 1, 0]);
    // c is terminal: nothing to convert to.
    assert_eq!(
        column(&report, |s| s.conversion),
        [Some(0.5), Some(1.0 / 3.0), None]
    );
}

#[test]
fn conversion_counts_every_successor_of_a_branching_stage() {
    let playbook = Playbook::from_yaml_str(
        r#"
id: branch
facts: { route: { enum: [fast, slow, none] } }
stages:
  - id: start
    next: [{ to: fast, when: 'route == "fast"' }, { to: slow, when: 'route == "slow"' }]
  - id: fast
    next: []
  - id: slow
    next: []
  - id: idle
    from_anywhere: true
"#,
    )
    .unwrap();
    let accounts: Vec<Facts> = ["fast", "fast", "slow", "none"]
        .iter()
        .map(|r| playbook.facts_from_json(&json!({ "route": r })).unwrap())
        .collect();
    let report = Portfolio::assess_all(&playbook, &accounts, now());
    assert_adds_up(&report);
    assert_eq!(column(&report, |s| s.count), [1, 2, 1, 0]);
    assert_eq!(column(&report, |s| s.reached), [4, 2, 1, 0]);
    assert_eq!(
        column(&report, |s| s.conversion),
        [Some(0.75), None, None, None]
    );
}

#[test]
fn an_empty_funnel_has_no_conversion_and_no_pipeline() {
    let playbook = Playbook::from_yaml_str(LINE).unwrap();
    let report = Funnel::new(&playbook).report();
    assert_adds_up(&report);
    assert_eq!(report.accounts, 0);
    assert_eq!(column(&report, |s| s.conversion), [None, None, None]);
    assert_eq!(report.weighted_pipeline, 0.0);
    assert_eq!(report.weighted_by, WeightedBy::Count);
}

#[test]
fn weighted_pipeline_by_count() {
    let playbook = Playbook::from_yaml_str(LINE).unwrap();
    let report = Portfolio::assess_all(&playbook, &line_accounts(&playbook), now());
    assert_eq!(report.weighted_by, WeightedBy::Count);
    assert_eq!(
        column(&report, |s| s.probability),
        [Some(0.1), Some(0.5), Some(1.0)]
    );
    // 3 × 0.1 + 2 × 0.5 + 1 × 1.0
    assert_eq!(column(&report, |s| s.weighted), [3.0 * 0.1, 1.0, 1.0]);
    assert_eq!(report.weighted_pipeline, 3.0 * 0.1 + 2.0);
}

#[test]
fn weighted_pipeline_by_amount() {
    let playbook = Playbook::from_yaml_str(LINE).unwrap();
    let mut funnel = Funnel::new(&playbook);
    let in_a = line_facts(&playbook, true, false, false);
    let in_b = line_facts(&playbook, true, true, false);
    let in_c = line_facts(&playbook, true, true, true);
    let nowhere = line_facts(&playbook, false, false, false);
    funnel.add_with(&in_a, now(), None, None, Some(1000.0));
    funnel.add_with(&in_a, now(), None, None, Some(3000.0));
    funnel.add_with(&in_b, now(), None, None, Some(2000.0));
    // Without an amount, or with a non-finite one: counted, but worth nothing.
    funnel.add_with(&in_b, now(), None, None, None);
    funnel.add_with(&in_c, now(), None, None, Some(f64::NAN));
    funnel.add_with(&in_c, now(), None, None, Some(500.0));
    // Not in the funnel: its amount is not pipeline.
    funnel.add_with(&nowhere, now(), None, None, Some(1e9));
    let report = funnel.report();
    assert_adds_up(&report);
    assert_eq!(report.weighted_by, WeightedBy::Amount);
    assert_eq!(report.priced, 4);
    assert_eq!(column(&report, |s| s.count), [2, 2, 2]);
    assert_eq!(column(&report, |s| s.amount), [4000.0, 2000.0, 500.0]);
    assert_eq!(column(&report, |s| s.weighted), [400.0, 1000.0, 500.0]);
    assert_eq!(report.weighted_pipeline, 1900.0);
}

#[test]
fn a_stage_without_probability_adds_nothing_to_the_pipeline() {
    let playbook =
        Playbook::from_yaml_str("id: p\nstages: [{ id: a, probability: 0.5 }, { id: b }]\n")
            .unwrap();
    let facts = playbook.facts_from_json(&json!({})).unwrap();
    let report = Portfolio::assess_all(&playbook, &[facts], now());
    // With no criteria, every account walks through to the end.
    assert_eq!(column(&report, |s| s.count), [0, 1]);
    assert_eq!(column(&report, |s| s.probability), [Some(0.5), None]);
    assert_eq!(report.weighted_pipeline, 0.0);
}

#[test]
fn stalled_accounts_need_an_entry_time_and_a_max_days() {
    let playbook = Playbook::from_yaml_str(LINE).unwrap();
    let in_a = line_facts(&playbook, true, false, false);
    let in_b = line_facts(&playbook, true, true, false);
    let now = now();
    let mut funnel = Funnel::new(&playbook);
    let cases: [(&Facts, Option<i64>, &str, bool); 6] = [
        (&in_a, Some(10), "on_the_limit", false),
        (&in_a, Some(11), "one_day_over", true),
        (&in_a, Some(40), "long_over", true),
        (&in_a, None, "no_entry_time", false),
        (&in_a, Some(-3), "entered_in_the_future", false),
        // b has no max_days: never stalled.
        (&in_b, Some(400), "no_limit", false),
    ];
    for (facts, days, id, stalled) in cases {
        let entered_at = days.map(|d| now - Duration::days(d) - Duration::hours(1));
        funnel.add_with(facts, now, entered_at, Some(id), None);
        // The same rule as a single assessment.
        assert_eq!(
            playbook.assess_since(facts, now, entered_at).stalled,
            stalled,
            "{id}"
        );
    }
    let report = funnel.report();
    assert_adds_up(&report);
    assert_eq!(report.stalled_total, 2);
    assert_eq!(column(&report, |s| s.stalled), [2, 0, 0]);
    let examples: Vec<(Option<&str>, &str, i64)> = report
        .stalled
        .iter()
        .map(|s| (s.account.as_deref(), s.stage.as_str(), s.days))
        .collect();
    assert_eq!(
        examples,
        [
            (Some("long_over"), "a", 40),
            (Some("one_day_over"), "a", 11)
        ]
    );
}

#[test]
fn stalled_examples_are_bounded_but_all_are_counted() {
    let playbook = Playbook::from_yaml_str(LINE).unwrap();
    let in_a = line_facts(&playbook, true, false, false);
    let now = now();
    let mut funnel = Funnel::with_example_limit(&playbook, 3);
    let days = [20, 50, 11, 50, 30, 12, 90, 30];
    for (i, d) in days.iter().enumerate() {
        let id = format!("acct-{i}");
        funnel.add_with(&in_a, now, Some(now - Duration::days(*d)), Some(&id), None);
    }
    for i in 0..5 {
        funnel.add_invalid(&format!("line {i}"));
    }
    let report = funnel.report();
    assert_eq!(report.stalled_total, days.len());
    let kept: Vec<(String, i64)> = report
        .stalled
        .iter()
        .map(|s| (s.account.clone().unwrap(), s.days))
        .collect();
    // Longest first; between equals, the first added.
    assert_eq!(
        kept,
        [
            ("acct-6".to_string(), 90),
            ("acct-1".to_string(), 50),
            ("acct-3".to_string(), 50)
        ]
    );
    assert_eq!(report.invalid, 5);
    assert_eq!(report.invalid_records, ["line 0", "line 1", "line 2"]);

    let none = {
        let mut funnel = Funnel::with_example_limit(&playbook, 0);
        funnel.add_with(&in_a, now, Some(now - Duration::days(99)), Some("x"), None);
        funnel.add_invalid("line 1");
        funnel.report()
    };
    assert_eq!((none.stalled_total, none.stalled.len()), (1, 0));
    assert_eq!((none.invalid, none.invalid_records.len()), (1, 0));
}

#[test]
fn the_report_has_the_cli_contract_shape() {
    let playbook = Playbook::from_yaml_str(LINE).unwrap();
    let mut funnel = Funnel::new(&playbook);
    for facts in line_accounts(&playbook) {
        funnel.add(&facts, now());
    }
    funnel.add_invalid("line 11");
    let json: Value = serde_json::to_value(funnel.report()).unwrap();
    assert_eq!(json["playbook"], "line");
    assert_eq!(json["accounts"], 11);
    assert_eq!(json["invalid"], 1);
    assert_eq!(json["not_entered"], 4);
    assert_eq!(json["stages"][0]["id"], "a");
    assert_eq!(json["stages"][0]["count"], 3);
    assert_eq!(json["stages"][2]["conversion"], Value::Null);
    assert_eq!(json["weighted_by"], "count");
    assert!(json["stalled"].as_array().unwrap().is_empty());
}

/// Records over the line playbook: every combination of facts, some stalled, some priced
/// (whole amounts, so sums are exact in any order), some invalid.
struct Mixed {
    facts: Vec<Facts>,
    ids: Vec<String>,
}

fn mixed(playbook: &Playbook, n: usize) -> Mixed {
    let facts = (0..n)
        .map(|i| line_facts(playbook, i % 5 != 0, i % 3 != 0, i % 7 == 0))
        .collect();
    let ids = (0..n).map(|i| format!("acct-{i}")).collect();
    Mixed { facts, ids }
}

fn records<'a>(mixed: &'a Mixed, now: DateTime<Utc>) -> Vec<AccountRecord<'a>> {
    mixed
        .facts
        .iter()
        .zip(&mixed.ids)
        .enumerate()
        .map(|(i, (facts, id))| AccountRecord {
            facts,
            id: Some(id),
            entered_at: (i % 4 != 0).then(|| now - Duration::days((i as i64 * 7) % 60)),
            amount: (i % 6 != 0).then_some((i * 100) as f64),
        })
        .collect()
}

/// Adds records numbered by their line in the whole set; every eleventh line is invalid.
fn add_mixed<'p>(
    mut funnel: Funnel<'p>,
    lines: &[(usize, AccountRecord<'_>)],
    now: DateTime<Utc>,
) -> Funnel<'p> {
    for (line, r) in lines {
        if line % 11 == 10 {
            funnel.add_invalid(&format!("line {line}"));
        } else {
            funnel.add_with(r.facts, now, r.entered_at, r.id, r.amount);
        }
    }
    funnel
}

#[test]
fn merging_any_split_equals_adding_in_sequence() {
    let playbook = Playbook::from_yaml_str(LINE).unwrap();
    let now = now();
    let mixed = mixed(&playbook, 60);
    let records: Vec<(usize, AccountRecord<'_>)> =
        records(&mixed, now).into_iter().enumerate().collect();
    let sequential = add_mixed(Funnel::with_example_limit(&playbook, 5), &records, now).report();
    assert_adds_up(&sequential);
    assert!(sequential.stalled_total > 5, "{sequential:#?}");
    assert!(sequential.invalid > 0);
    for split in 0..=records.len() {
        let (left, right) = records.split_at(split);
        let merged = add_mixed(Funnel::with_example_limit(&playbook, 5), left, now).merge(
            add_mixed(Funnel::with_example_limit(&playbook, 5), right, now),
        );
        assert_eq!(merged.report(), sequential, "split at {split}");
    }
    // Three ways, merged in order.
    let (a, rest) = records.split_at(17);
    let (b, c) = rest.split_at(29);
    let three = add_mixed(Funnel::with_example_limit(&playbook, 5), a, now)
        .merge(add_mixed(Funnel::with_example_limit(&playbook, 5), b, now))
        .merge(add_mixed(Funnel::with_example_limit(&playbook, 5), c, now))
        .report();
    assert_eq!(three, sequential);
}

#[test]
fn merging_keeps_the_first_invalid_records() {
    let playbook = Playbook::from_yaml_str(LINE).unwrap();
    let mut left = Funnel::with_example_limit(&playbook, 3);
    left.add_invalid("line 1");
    left.add_invalid("line 2");
    let mut right = Funnel::with_example_limit(&playbook, 3);
    right.add_invalid("line 7");
    right.add_invalid("line 8");
    let report = left.merge(right).report();
    assert_eq!(report.invalid, 4);
    assert_eq!(report.invalid_records, ["line 1", "line 2", "line 7"]);
}

#[test]
fn assess_records_equals_adding_one_by_one() {
    let playbook = Playbook::from_yaml_str(LINE).unwrap();
    let now = now();
    let mixed = mixed(&playbook, 40);
    let records = records(&mixed, now);
    let mut funnel = Funnel::new(&playbook);
    for r in &records {
        funnel.add_with(r.facts, now, r.entered_at, r.id, r.amount);
    }
    assert_eq!(
        Portfolio::assess_records(&playbook, &records, now),
        funnel.report()
    );
}

#[cfg(feature = "parallel")]
#[test]
fn parallel_equals_sequential() {
    let playbook = key_account();
    let now = now();
    let levels = ["acquainted", "dating", "trusted", "allied"];
    let accounts: Vec<Facts> = (0..5000usize)
        .map(|i| {
            playbook
                .facts_from_json(&json!({
                    "account": {"target_locked": i % 9 != 0},
                    "opportunity": {"identified": i % 4 != 0},
                    "relationship": {"level": levels[i % 4]},
                    "requirements": {"written": i % 3 == 0},
                    "buying_phase": if i % 2 == 0 { Value::from("selecting") } else { Value::Null },
                    "negotiation": {"started": i % 5 < 3},
                    "agreement": {"signed_on": if i % 7 == 0 { Value::from("2026-01-15") } else { Value::Null }},
                    "payment": {"outstanding": (i % 3) as f64 * 10.0},
                }))
                .unwrap()
        })
        .collect();
    let sequential = Portfolio::assess_all(&playbook, &accounts, now);
    assert_adds_up(&sequential);
    assert_eq!(
        Portfolio::assess_all_parallel(&playbook, &accounts, now),
        sequential
    );

    let line = Playbook::from_yaml_str(LINE).unwrap();
    let mixed = mixed(&line, 5000);
    let records = records(&mixed, now);
    let sequential = Portfolio::assess_records(&line, &records, now);
    assert!(sequential.stalled_total > 100);
    assert_eq!(
        Portfolio::assess_records_parallel(&line, &records, now),
        sequential
    );
}

fn level() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!("acquainted")),
        Just(json!("dating")),
        Just(json!("trusted")),
        Just(json!("allied")),
    ]
}

fn flag() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Null), Just(json!(true)), Just(json!(false))]
}

prop_compose! {
    fn key_account_document()(
        locked in flag(),
        identified in flag(),
        level in level(),
        written in flag(),
        phase in prop_oneof![Just(Value::Null), Just(json!("evaluating")), Just(json!(7))],
        started in flag(),
        signed in prop_oneof![Just(Value::Null), Just(json!("2026-02-01"))],
        owed in prop_oneof![Just(Value::Null), Just(json!(0.0)), Just(json!(250.0))],
    ) -> Value {
        json!({
            "account": {"target_locked": locked},
            "opportunity": {"identified": identified},
            "relationship": {"level": level},
            "requirements": {"written": written},
            "buying_phase": phase,
            "negotiation": {"started": started},
            "agreement": {"signed_on": signed},
            "payment": {"outstanding": owed},
        })
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// For any accounts, any split: the funnel adds up, agrees with each assessment's
    /// derived stage and path, and merging equals adding in sequence.
    #[test]
    fn funnels_agree_with_assessments(
        documents in proptest::collection::vec(key_account_document(), 0..40),
        split in any::<prop::sample::Index>(),
    ) {
        let playbook = key_account();
        let now = now();
        let mut sequential = Funnel::new(&playbook);
        let mut halves = (Funnel::new(&playbook), Funnel::new(&playbook));
        let split = split.index(documents.len() + 1);
        let mut expected_counts = vec![0usize; playbook.stages().len()];
        let mut expected_reached = vec![0usize; playbook.stages().len()];
        for (i, document) in documents.iter().enumerate() {
            let half = if i < split { &mut halves.0 } else { &mut halves.1 };
            match playbook.facts_from_json(document) {
                Ok(facts) => {
                    let assessment = playbook.assess(&facts, now);
                    let stage = sequential.add(&facts, now);
                    half.add(&facts, now);
                    prop_assert_eq!(stage, playbook.locate(&facts, now));
                    if let Some(i) = stage {
                        expected_counts[i] += 1;
                    }
                    for id in &assessment.path {
                        expected_reached[playbook.stage(id).unwrap().index()] += 1;
                    }
                }
                Err(_) => {
                    sequential.add_invalid("bad");
                    half.add_invalid("bad");
                }
            }
        }
        let report = sequential.report();
        assert_adds_up(&report);
        prop_assert_eq!(report.accounts, documents.len());
        prop_assert_eq!(column(&report, |s| s.count), expected_counts);
        prop_assert_eq!(column(&report, |s| s.reached), expected_reached);
        prop_assert_eq!(halves.0.merge(halves.1).report(), report);
    }
}
