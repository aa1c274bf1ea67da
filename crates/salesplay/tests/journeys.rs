//! Journeys: every kind of move, refusals that name each unmet criterion, policies, forced
//! moves, time in stage, serde round trips, migration through `renamed_from`, and tampered
//! journeys rejected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::{DateTime, TimeZone, Utc};
use salesplay::Playbook;
use salesplay::expr::Facts;
use salesplay::journey::{
    CheckStatus, CriterionRole, Journey, JourneyError, MoveError, MoveKind, Note, PolicyKind,
};
use serde_json::{Value, json};

/// A small deal flow: a guarded fork, a declared cycle back, a terminal stage and a stage
/// enterable from anywhere. `{policies}` is spliced in.
fn deals_yaml(version: u32, policies: &str) -> String {
    format!(
        r#"
id: deals
version: {version}
facts:
  account.known: bool
  qualified: bool
  budget: number
  champion: bool
  quote.requested: bool
  proposal.sent: bool
  signed: bool
{policies}
stages:
  - id: lead
    max_days: 10
    entry: [{{ id: account_known, when: account.known }}]
    exit: [{{ id: is_qualified, when: qualified }}]
  - id: discovery
    max_days: 30
    entry: [{{ id: qualified_again, when: qualified }}]
    exit:
      - {{ id: has_champion, when: champion }}
      - {{ id: has_budget, when: budget > 1000.0 }}
    next:
      - {{ to: proposal, when: budget > 50000.0 }}
      - quick_quote
  - id: quick_quote
    entry: [{{ id: quote_wanted, when: quote.requested }}]
    next: [closing]
  - id: proposal
    exit: [{{ id: proposal_out, when: proposal.sent }}]
    next:
      - closing
      - {{ to: discovery, when: '!champion' }}
  - id: closing
    entry: [{{ id: is_signed, when: signed }}]
    next: []
  - id: lost
    from_anywhere: true
"#
    )
}

fn deals(policies: &str) -> Playbook {
    Playbook::from_yaml_str(&deals_yaml(1, policies)).unwrap()
}

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap() + chrono::Duration::days(i64::from(d))
}

fn facts(playbook: &Playbook, json: Value) -> Facts {
    playbook.facts_from_json(&json).unwrap()
}

/// Facts under which every criterion of the deal flow holds, for a big deal.
fn all_good() -> Value {
    json!({
        "account": {"known": true}, "qualified": true, "budget": 60000.0, "champion": true,
        "quote": {"requested": true}, "proposal": {"sent": true}, "signed": true,
    })
}

fn with(mut base: Value, patch: Value) -> Value {
    for (k, v) in patch.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// A journey that has reached `discovery` on day 1.
fn in_discovery(playbook: &Playbook) -> Journey {
    let f = facts(playbook, all_good());
    let mut journey = Journey::start(playbook, &f, day(0), Note::by("ana")).unwrap();
    journey
        .advance(playbook, &f, day(1), Note::by("ana"))
        .unwrap();
    assert_eq!(journey.stage(), Some("discovery"));
    journey
}

fn unmet_ids(err: &MoveError) -> Vec<(&str, CriterionRole, CheckStatus)> {
    match err {
        MoveError::Refused { unmet, .. } => unmet
            .iter()
            .map(|c| (c.id.as_str(), c.role, c.status))
            .collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

// ----- starting -----

#[test]
fn start_enters_the_first_stage_and_records_the_move() {
    let playbook = deals("");
    let f = facts(&playbook, json!({"account": {"known": true}}));
    let journey = Journey::start(&playbook, &f, day(0), Note::by("ana").because("new lead"))
        .unwrap()
        .with_account("acme-1");
    assert_eq!(journey.playbook(), "deals");
    assert_eq!(journey.version(), 1);
    assert_eq!(journey.account(), Some("acme-1"));
    assert_eq!(journey.stage(), Some("lead"));
    assert_eq!(journey.entered_at(), Some(day(0)));
    let m = &journey.history()[0];
    assert_eq!(m.from, None);
    assert_eq!(m.to, "lead");
    assert_eq!(m.kind, MoveKind::Start);
    assert_eq!(m.by.as_deref(), Some("ana"));
    assert_eq!(m.reason.as_deref(), Some("new lead"));
    assert_eq!(m.criteria.len(), 1);
    assert_eq!(m.criteria[0].id, "account_known");
    assert_eq!(m.criteria[0].role, CriterionRole::Entry);
    assert_eq!(m.criteria[0].status, CheckStatus::Met);
    assert!(m.warnings.is_empty());
}

#[test]
fn start_is_refused_naming_the_unmet_entry_criterion_and_its_missing_fact() {
    let playbook = deals("");
    let err = Journey::start(
        &playbook,
        &facts(&playbook, json!({})),
        day(0),
        Note::default(),
    )
    .unwrap_err();
    let MoveError::Refused { from, to, unmet } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(from, &None);
    assert_eq!(to, &["lead".to_string()]);
    assert_eq!(unmet.len(), 1);
    assert_eq!(unmet[0].id, "account_known");
    assert_eq!(unmet[0].status, CheckStatus::Unknown);
    assert_eq!(unmet[0].missing_facts, ["account.known"]);
    let message = err.to_string();
    assert!(
        message.starts_with("cannot move from no stage to `lead`: "),
        "{message}"
    );
    assert!(
        message.contains("entry criterion `account_known` of `lead` is unknown"),
        "{message}"
    );
}

#[test]
fn a_new_journey_is_in_no_stage_until_advanced() {
    let playbook = deals("");
    let mut journey = Journey::new(&playbook);
    assert_eq!(journey.stage(), None);
    assert_eq!(journey.entered_at(), None);
    assert_eq!(journey.days_in_stage(day(5)), None);
    assert!(!journey.is_stalled(&playbook, day(500)));
    let m = journey
        .advance(
            &playbook,
            &facts(&playbook, all_good()),
            day(2),
            Note::default(),
        )
        .unwrap();
    assert_eq!((m.kind, m.to.as_str()), (MoveKind::Start, "lead"));
}

// ----- advance -----

#[test]
fn advance_is_refused_naming_every_unmet_exit_criterion_with_reasons() {
    let playbook = deals("");
    let mut journey = in_discovery(&playbook);
    let before = journey.clone();
    let f = facts(
        &playbook,
        with(all_good(), json!({"champion": false, "budget": 500.0})),
    );
    let err = journey
        .advance(&playbook, &f, day(2), Note::default())
        .unwrap_err();
    assert_eq!(
        unmet_ids(&err),
        [
            ("has_champion", CriterionRole::Exit, CheckStatus::Unmet),
            ("has_budget", CriterionRole::Exit, CheckStatus::Unmet),
            // The guard of the first edge fails too; the second edge's entry holds.
            (
                "discovery -> proposal",
                CriterionRole::Guard,
                CheckStatus::Unmet
            ),
        ]
    );
    let message = err.to_string();
    assert!(message.contains("`has_champion`"), "{message}");
    assert!(
        message.contains("`budget` is `500.0`, needs > `1000.0`"),
        "{message}"
    );
    assert!(
        message.contains("to `proposal` or `quick_quote`"),
        "{message}"
    );
    assert_eq!(journey, before, "a refused move changes nothing");
}

#[test]
fn advance_takes_the_first_successor_whose_guard_and_entry_hold() {
    let playbook = deals("");
    // Big budget: the guarded edge to `proposal` applies.
    let mut big = in_discovery(&playbook);
    let m = big
        .advance(
            &playbook,
            &facts(&playbook, all_good()),
            day(3),
            Note::default(),
        )
        .unwrap();
    assert_eq!((m.kind, m.to.as_str()), (MoveKind::Advance, "proposal"));
    let checked: Vec<(&str, CheckStatus)> = m
        .criteria
        .iter()
        .map(|c| (c.id.as_str(), c.status))
        .collect();
    assert_eq!(
        checked,
        [
            ("has_champion", CheckStatus::Met),
            ("has_budget", CheckStatus::Met),
            ("discovery -> proposal", CheckStatus::Met),
        ]
    );
    // Small budget: the guard fails, so the next edge, to `quick_quote`.
    let mut small = in_discovery(&playbook);
    let f = facts(&playbook, with(all_good(), json!({"budget": 20000.0})));
    let m = small
        .advance(&playbook, &f, day(3), Note::default())
        .unwrap();
    assert_eq!(m.to, "quick_quote");
    assert_eq!(m.criteria.last().unwrap().id, "quote_wanted");
}

#[test]
fn advance_with_no_qualifying_successor_names_each_guard_and_entry_criterion() {
    let playbook = deals("");
    let mut journey = in_discovery(&playbook);
    let f = facts(
        &playbook,
        with(
            all_good(),
            json!({"budget": 20000.0, "quote": {"requested": false}}),
        ),
    );
    let err = journey
        .advance(&playbook, &f, day(3), Note::default())
        .unwrap_err();
    assert_eq!(
        unmet_ids(&err),
        [
            (
                "discovery -> proposal",
                CriterionRole::Guard,
                CheckStatus::Unmet
            ),
            ("quote_wanted", CriterionRole::Entry, CheckStatus::Unmet),
        ]
    );
}

#[test]
fn advance_from_a_terminal_stage_is_refused() {
    let playbook = deals("");
    let mut journey = in_discovery(&playbook);
    let f = facts(&playbook, all_good());
    journey
        .advance(&playbook, &f, day(2), Note::default())
        .unwrap();
    journey
        .advance(&playbook, &f, day(3), Note::default())
        .unwrap();
    assert_eq!(journey.stage(), Some("closing"));
    let err = journey
        .advance(&playbook, &f, day(4), Note::default())
        .unwrap_err();
    assert_eq!(
        err,
        MoveError::Terminal {
            stage: "closing".into()
        }
    );
}

// ----- move_to -----

#[test]
fn move_to_a_declared_successor_needs_exit_guard_and_entry() {
    let playbook = deals("");
    let mut journey = in_discovery(&playbook);
    let f = facts(
        &playbook,
        with(all_good(), json!({"champion": null, "budget": 2000.0})),
    );
    let err = journey
        .move_to(&playbook, "proposal", &f, day(2), Note::default())
        .unwrap_err();
    assert_eq!(
        unmet_ids(&err),
        [
            ("has_champion", CriterionRole::Exit, CheckStatus::Unknown),
            (
                "discovery -> proposal",
                CriterionRole::Guard,
                CheckStatus::Unmet
            ),
        ]
    );
    let m = journey
        .move_to(
            &playbook,
            "proposal",
            &facts(&playbook, all_good()),
            day(2),
            Note::by("bo"),
        )
        .unwrap();
    assert_eq!(m.kind, MoveKind::Advance);
    assert_eq!(m.from.as_deref(), Some("discovery"));
}

#[test]
fn a_declared_edge_back_is_a_normal_move() {
    // proposal → discovery is declared (when the champion left), so no backward policy.
    let playbook = deals("policies: { backward: block }");
    let mut journey = in_discovery(&playbook);
    let f = facts(&playbook, all_good());
    journey
        .advance(&playbook, &f, day(2), Note::default())
        .unwrap();
    assert_eq!(journey.stage(), Some("proposal"));
    // The guard `!champion` does not hold while the champion is there.
    let err = journey
        .move_to(&playbook, "discovery", &f, day(3), Note::default())
        .unwrap_err();
    assert_eq!(
        unmet_ids(&err),
        [(
            "proposal -> discovery",
            CriterionRole::Guard,
            CheckStatus::Unmet
        )]
    );
    let f = facts(&playbook, with(all_good(), json!({"champion": false})));
    let m = journey
        .move_to(&playbook, "discovery", &f, day(3), Note::default())
        .unwrap();
    assert_eq!(m.kind, MoveKind::Advance);
    assert!(m.warnings.is_empty());
}

#[test]
fn a_stage_enterable_from_anywhere_needs_only_its_entry_criteria() {
    let playbook = deals("policies: { backward: block, skip: block }");
    let nothing = facts(&playbook, json!({}));
    // From no stage, and from any stage.
    let mut early = Journey::new(&playbook);
    let m = early
        .move_to(&playbook, "lost", &nothing, day(0), Note::default())
        .unwrap();
    assert_eq!((m.kind, m.from.as_deref()), (MoveKind::Anywhere, None));
    let mut journey = in_discovery(&playbook);
    let m = journey
        .move_to(
            &playbook,
            "lost",
            &nothing,
            day(2),
            Note::by("ana").because("no budget"),
        )
        .unwrap();
    assert_eq!(m.kind, MoveKind::Anywhere);
    assert!(m.criteria.is_empty());
    assert_eq!(m.reason.as_deref(), Some("no budget"));
}

#[test]
fn backward_moves_follow_the_backward_policy() {
    let f = |p: &Playbook| facts(p, all_good());
    // Default: warn, recorded on the move.
    let playbook = deals("");
    let mut journey = in_discovery(&playbook);
    let m = journey
        .move_to(&playbook, "lead", &f(&playbook), day(2), Note::default())
        .unwrap();
    assert_eq!(m.kind, MoveKind::Backward);
    assert_eq!(m.warnings.len(), 1);
    assert!(
        m.warnings[0].contains("policy `backward: warn`"),
        "{:?}",
        m.warnings
    );
    assert_eq!(journey.history().last().unwrap().warnings, m.warnings);

    let playbook = deals("policies: { backward: allow }");
    let mut journey = in_discovery(&playbook);
    let m = journey
        .move_to(&playbook, "lead", &f(&playbook), day(2), Note::default())
        .unwrap();
    assert_eq!(m.kind, MoveKind::Backward);
    assert!(m.warnings.is_empty());

    let playbook = deals("policies: { backward: block }");
    let mut journey = in_discovery(&playbook);
    let before = journey.clone();
    let err = journey
        .move_to(&playbook, "lead", &f(&playbook), day(2), Note::default())
        .unwrap_err();
    assert_eq!(
        err,
        MoveError::Blocked {
            policy: PolicyKind::Backward,
            from: Some("discovery".into()),
            to: "lead".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "moving from `discovery` to `lead` is blocked by the playbook's `backward` policy"
    );
    assert_eq!(journey, before);
}

#[test]
fn an_allowed_backward_move_still_needs_the_target_entry_criteria() {
    let playbook = deals("policies: { backward: allow }");
    let mut journey = in_discovery(&playbook);
    let f = facts(
        &playbook,
        with(all_good(), json!({"account": {"known": false}})),
    );
    let err = journey
        .move_to(&playbook, "lead", &f, day(2), Note::default())
        .unwrap_err();
    assert_eq!(
        unmet_ids(&err),
        [("account_known", CriterionRole::Entry, CheckStatus::Unmet)]
    );
}

#[test]
fn skips_follow_the_skip_policy() {
    // Default: block.
    let playbook = deals("");
    let mut journey = in_discovery(&playbook);
    let err = journey
        .move_to(
            &playbook,
            "closing",
            &facts(&playbook, all_good()),
            day(2),
            Note::default(),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            MoveError::Blocked {
                policy: PolicyKind::Skip,
                ..
            }
        ),
        "{err:?}"
    );

    // Allowed: needs the current stage's exit criteria and the target's entry criteria.
    let playbook = deals("policies: { skip: allow }");
    let mut journey = in_discovery(&playbook);
    let f = facts(
        &playbook,
        with(all_good(), json!({"champion": false, "signed": false})),
    );
    let err = journey
        .move_to(&playbook, "closing", &f, day(2), Note::default())
        .unwrap_err();
    assert_eq!(
        unmet_ids(&err),
        [
            ("has_champion", CriterionRole::Exit, CheckStatus::Unmet),
            ("is_signed", CriterionRole::Entry, CheckStatus::Unmet),
        ]
    );
    let m = journey
        .move_to(
            &playbook,
            "closing",
            &facts(&playbook, all_good()),
            day(2),
            Note::default(),
        )
        .unwrap();
    assert_eq!(m.kind, MoveKind::Skip);
    assert!(m.warnings.is_empty());

    let playbook = deals("policies: { skip: warn }");
    let mut journey = in_discovery(&playbook);
    let m = journey
        .move_to(
            &playbook,
            "closing",
            &facts(&playbook, all_good()),
            day(2),
            Note::default(),
        )
        .unwrap();
    assert_eq!(m.kind, MoveKind::Skip);
    assert!(
        m.warnings[0].contains("policy `skip: warn`"),
        "{:?}",
        m.warnings
    );
}

#[test]
fn entering_a_later_stage_from_no_stage_is_a_skip() {
    let playbook = deals("");
    let mut journey = Journey::new(&playbook);
    let err = journey
        .move_to(
            &playbook,
            "discovery",
            &facts(&playbook, all_good()),
            day(0),
            Note::default(),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        MoveError::Blocked {
            policy: PolicyKind::Skip,
            from: None,
            ..
        }
    ));
    let playbook = deals("policies: { skip: allow }");
    let mut journey = Journey::new(&playbook);
    let m = journey
        .move_to(
            &playbook,
            "discovery",
            &facts(&playbook, all_good()),
            day(0),
            Note::default(),
        )
        .unwrap();
    assert_eq!(m.kind, MoveKind::Skip);
    // From no stage into the first stage is a start.
    let mut journey = Journey::new(&playbook);
    let m = journey
        .move_to(
            &playbook,
            "lead",
            &facts(&playbook, all_good()),
            day(0),
            Note::default(),
        )
        .unwrap();
    assert_eq!(m.kind, MoveKind::Start);
}

#[test]
fn unknown_stages_get_did_you_mean_and_the_same_stage_is_refused() {
    let playbook = deals("");
    let mut journey = in_discovery(&playbook);
    let f = facts(&playbook, all_good());
    let err = journey
        .move_to(&playbook, "propsal", &f, day(2), Note::default())
        .unwrap_err();
    assert_eq!(
        err,
        MoveError::UnknownStage {
            id: "propsal".into(),
            suggestion: Some("proposal".into())
        }
    );
    let help = miette::Diagnostic::help(&err).unwrap().to_string();
    assert_eq!(help, "did you mean `proposal`?");
    let err = journey
        .force(
            &playbook,
            "nowhere",
            &f,
            day(2),
            Note::default().because("x"),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        MoveError::UnknownStage {
            suggestion: None,
            ..
        }
    ));
    let err = journey
        .move_to(&playbook, "discovery", &f, day(2), Note::default())
        .unwrap_err();
    assert_eq!(
        err,
        MoveError::AlreadyInStage {
            stage: "discovery".into()
        }
    );
}

#[test]
fn moves_dated_before_the_last_move_are_refused() {
    let playbook = deals("policies: { backward: allow }");
    let mut journey = in_discovery(&playbook);
    let before = journey.clone();
    let err = journey
        .move_to(
            &playbook,
            "lead",
            &facts(&playbook, all_good()),
            day(0),
            Note::default(),
        )
        .unwrap_err();
    assert_eq!(
        err,
        MoveError::OutOfOrder {
            at: day(0),
            last: day(1)
        }
    );
    assert_eq!(journey, before);
    // The same instant is fine.
    journey
        .move_to(
            &playbook,
            "lead",
            &facts(&playbook, all_good()),
            day(1),
            Note::default(),
        )
        .unwrap();
}

// ----- forced moves -----

#[test]
fn a_forced_move_needs_a_reason() {
    let playbook = deals("");
    let mut journey = in_discovery(&playbook);
    let f = facts(&playbook, json!({}));
    for note in [Note::by("boss"), Note::by("boss").because("  ")] {
        let err = journey
            .force(&playbook, "closing", &f, day(2), note)
            .unwrap_err();
        assert_eq!(
            err,
            MoveError::NoReason {
                to: "closing".into()
            }
        );
    }
}

#[test]
fn a_forced_move_is_recorded_with_what_it_overrode() {
    let playbook = deals(""); // skip: block
    let mut journey = in_discovery(&playbook);
    let f = facts(&playbook, json!({"champion": true, "budget": 10.0}));
    let m = journey
        .force(
            &playbook,
            "closing",
            &f,
            day(2),
            Note::by("boss").because("signed on paper, CRM lagging"),
        )
        .unwrap();
    assert_eq!(journey.stage(), Some("closing"));
    assert_eq!(m.kind, MoveKind::Forced);
    assert_eq!(m.by.as_deref(), Some("boss"));
    assert_eq!(m.reason.as_deref(), Some("signed on paper, CRM lagging"));
    let snapshot: Vec<(&str, CheckStatus)> = m
        .criteria
        .iter()
        .map(|c| (c.id.as_str(), c.status))
        .collect();
    assert_eq!(
        snapshot,
        [
            ("has_champion", CheckStatus::Met),
            ("has_budget", CheckStatus::Unmet),
            ("is_signed", CheckStatus::Unknown),
        ]
    );
    assert_eq!(
        m.criteria[1].reasons,
        ["`budget` is `10.0`, needs > `1000.0`"]
    );
    assert_eq!(
        m.warnings,
        [
            "overrides the policy `skip: block`",
            "overrides unmet criteria `has_budget`, `is_signed`"
        ]
    );
    // A forced move along an edge whose criteria hold overrides nothing.
    let mut journey = in_discovery(&playbook);
    let m = journey
        .force(
            &playbook,
            "proposal",
            &facts(&playbook, all_good()),
            day(2),
            Note::default().because("checking"),
        )
        .unwrap();
    assert!(m.warnings.is_empty());
}

// ----- time -----

#[test]
fn time_in_stage_and_stalling_follow_max_days() {
    let playbook = deals("");
    let f = facts(&playbook, all_good());
    let journey = Journey::start(&playbook, &f, day(0), Note::default()).unwrap();
    assert_eq!(journey.days_in_stage(day(10)), Some(10));
    assert!(
        !journey.is_stalled(&playbook, day(10)),
        "10 days is within max_days: 10"
    );
    assert!(journey.is_stalled(&playbook, day(11)));
    // A stage without max_days never stalls.
    let mut journey = in_discovery(&playbook);
    journey
        .advance(&playbook, &f, day(2), Note::default())
        .unwrap();
    assert_eq!(journey.stage(), Some("proposal"));
    assert!(!journey.is_stalled(&playbook, day(2000)));
}

#[test]
fn assess_knows_the_time_in_stage_when_the_derived_stage_is_the_journeys() {
    let playbook = deals("");
    // Qualified is false, so the derived stage is `lead`, as is the journey's.
    let f = facts(
        &playbook,
        json!({"account": {"known": true}, "qualified": false}),
    );
    let journey = Journey::start(&playbook, &f, day(0), Note::default()).unwrap();
    let a = journey.assess(&playbook, &f, day(12));
    assert_eq!(a.stage.as_deref(), Some("lead"));
    assert_eq!(a.days_in_stage, Some(12));
    assert!(a.stalled);
    // With every criterion met the account derives further on; the journey's time in
    // `lead` says nothing about that stage.
    let all = facts(&playbook, all_good());
    let a = journey.assess(&playbook, &all, day(12));
    assert_ne!(a.stage.as_deref(), Some("lead"));
    assert_eq!(a.days_in_stage, None);
    assert!(!a.stalled);
}

// ----- serde -----

/// A journey with every kind of move and field.
fn rich_journey(playbook: &Playbook) -> Journey {
    let good = facts(playbook, all_good());
    let mut journey = Journey::new(playbook).with_account("acme-7");
    journey
        .advance(playbook, &good, day(0), Note::by("ana"))
        .unwrap();
    journey
        .advance(
            playbook,
            &good,
            day(1),
            Note::by("ana").because("qualified on call"),
        )
        .unwrap();
    journey
        .move_to(playbook, "lead", &good, day(2), Note::default())
        .unwrap(); // backward, warned
    journey
        .force(
            playbook,
            "proposal",
            &facts(playbook, json!({"budget": 3.5})),
            day(3),
            Note::by("boss").because("exec sponsor"),
        )
        .unwrap();
    journey
        .move_to(playbook, "lost", &good, day(4), Note::default())
        .unwrap();
    journey
}

#[test]
fn journeys_round_trip_through_json_without_loss() {
    let playbook = deals("");
    let journey = rich_journey(&playbook);
    let kinds: Vec<MoveKind> = journey.history().iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            MoveKind::Start,
            MoveKind::Advance,
            MoveKind::Backward,
            MoveKind::Forced,
            MoveKind::Anywhere
        ]
    );
    let text = serde_json::to_string_pretty(&journey).unwrap();
    assert_eq!(Journey::from_json(&text).unwrap(), journey);
    let via_serde: Journey = serde_json::from_str(&text).unwrap();
    assert_eq!(via_serde, journey);
    // And again, byte for byte.
    assert_eq!(serde_json::to_string_pretty(&via_serde).unwrap(), text);
    // Sub-second times survive.
    let mut precise = Journey::new(&playbook);
    let at = day(0) + chrono::Duration::nanoseconds(123_456_789);
    precise
        .advance(
            &playbook,
            &facts(&playbook, all_good()),
            at,
            Note::default(),
        )
        .unwrap();
    let back = Journey::from_json(&serde_json::to_string(&precise).unwrap()).unwrap();
    assert_eq!(back.entered_at(), Some(at));
    assert_eq!(back, precise);
}

#[test]
fn the_json_shape_is_stable() {
    let playbook = deals("");
    let journey = rich_journey(&playbook);
    let v = serde_json::to_value(&journey).unwrap();
    assert_eq!(v["playbook"], "deals");
    assert_eq!(v["version"], 1);
    assert_eq!(v["account"], "acme-7");
    assert_eq!(v["stage"], "lost");
    assert_eq!(v["entered_at"], "2025-01-05T09:00:00Z");
    let start = &v["history"][0];
    assert_eq!(start["from"], Value::Null);
    assert_eq!(start["to"], "lead");
    assert_eq!(start["kind"], "start");
    assert_eq!(start["by"], "ana");
    assert_eq!(
        start["criteria"][0],
        json!({"id": "account_known", "role": "entry", "stage": "lead", "status": "met"})
    );
    let forced = &v["history"][3];
    assert_eq!(forced["kind"], "forced");
    assert_eq!(forced["reason"], "exec sponsor");
    // Forced past `lead`'s exit criterion, whose fact was absent.
    assert_eq!(forced["criteria"][0]["id"], "is_qualified");
    assert_eq!(forced["criteria"][0]["status"], "unknown");
    assert_eq!(forced["criteria"][0]["missing_facts"], json!(["qualified"]));
    assert_eq!(forced["warnings"].as_array().unwrap().len(), 2);
    assert!(
        v.get("migrations").is_none(),
        "empty migrations are omitted"
    );
}

// ----- tampering -----

fn tampered(journey: &Journey, edit: impl FnOnce(&mut Value)) -> Result<Journey, JourneyError> {
    let mut v = serde_json::to_value(journey).unwrap();
    edit(&mut v);
    Journey::from_json(&v.to_string())
}

#[test]
fn tampered_histories_are_rejected_when_read() {
    let playbook = deals("");
    let journey = rich_journey(&playbook);

    let err = tampered(&journey, |v| {
        v["history"][2]["at"] = json!("2024-12-31T00:00:00Z")
    })
    .unwrap_err();
    assert_eq!(err, JourneyError::OutOfOrder { index: 2 });
    assert_eq!(
        err.to_string(),
        "move 3 of the history is dated before the move before it"
    );

    let err = tampered(&journey, |v| v["history"][2]["from"] = json!("proposal")).unwrap_err();
    assert_eq!(
        err,
        JourneyError::BrokenChain {
            index: 2,
            expected: Some("discovery".into()),
            found: Some("proposal".into())
        }
    );

    // Dropping a move from the middle breaks the chain.
    let err = tampered(&journey, |v| {
        v["history"].as_array_mut().unwrap().remove(1);
    })
    .unwrap_err();
    assert!(
        matches!(err, JourneyError::BrokenChain { index: 1, .. }),
        "{err:?}"
    );

    let err = tampered(&journey, |v| v["stage"] = json!("closing")).unwrap_err();
    assert!(matches!(err, JourneyError::StageMismatch { .. }), "{err:?}");

    let err = tampered(&journey, |v| {
        v["entered_at"] = json!("2025-01-03T09:00:00Z")
    })
    .unwrap_err();
    assert!(
        matches!(err, JourneyError::EnteredAtMismatch { .. }),
        "{err:?}"
    );

    let err = tampered(&journey, |v| {
        v["history"][3].as_object_mut().unwrap().remove("reason");
    })
    .unwrap_err();
    assert_eq!(err, JourneyError::ForcedWithoutReason { index: 3 });

    let err = tampered(&journey, |v| v["history"][1]["to"] = json!("lead")).unwrap_err();
    assert!(
        matches!(err, JourneyError::SameStage { index: 1, .. }),
        "{err:?}"
    );

    let err = tampered(&journey, |v| v["history"][0]["kind"] = json!("teleport")).unwrap_err();
    assert!(matches!(err, JourneyError::Malformed { .. }), "{err:?}");

    let err = tampered(&journey, |v| v["extra"] = json!(1)).unwrap_err();
    let JourneyError::Malformed { message } = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("unknown field `extra`"), "{message}");

    // `serde_json::from_str` applies the same checks.
    let mut v = serde_json::to_value(&journey).unwrap();
    v["stage"] = json!("closing");
    let err = serde_json::from_value::<Journey>(v)
        .unwrap_err()
        .to_string();
    assert!(err.contains("but its history ends in `lost`"), "{err}");

    assert!(matches!(
        Journey::from_json("not json"),
        Err(JourneyError::Malformed { .. })
    ));
}

#[test]
fn tampered_stage_ids_and_playbook_ids_are_rejected_against_the_playbook() {
    let playbook = deals("");
    let journey = rich_journey(&playbook);
    journey.check(&playbook).unwrap();

    // A consistent edit to an id the playbook does not have.
    let renamed = tampered(&journey, |v| {
        v["history"][0]["to"] = json!("leed");
        v["history"][1]["from"] = json!("leed");
    })
    .unwrap();
    let err = renamed.check(&playbook).unwrap_err();
    assert_eq!(
        err,
        JourneyError::UnknownStage {
            id: "leed".into(),
            place: "move 1".into(),
            version: 1,
            suggestion: Some("lead".into())
        }
    );
    assert_eq!(
        err.to_string(),
        "the journey's move 1 names stage `leed`, which version 1 of the playbook does not have"
    );
    assert_eq!(renamed.resume(&playbook, day(9)).unwrap_err(), err);

    let other = tampered(&journey, |v| v["playbook"] = json!("other")).unwrap();
    let expected = JourneyError::WrongPlaybook {
        journey: "other".into(),
        playbook: "deals".into(),
    };
    assert_eq!(other.check(&playbook).unwrap_err(), expected);
    assert_eq!(other.resume(&playbook, day(9)).unwrap_err(), expected);
    let mut other = other;
    let err = other
        .move_to(
            &playbook,
            "lead",
            &facts(&playbook, all_good()),
            day(9),
            Note::default(),
        )
        .unwrap_err();
    assert_eq!(err, MoveError::Journey(expected));

    // A current stage the playbook does not have stops every move.
    let mut gone = tampered(&journey, |v| {
        v["history"][4]["to"] = json!("lots");
        v["stage"] = json!("lots");
    })
    .unwrap();
    let err = gone
        .advance(
            &playbook,
            &facts(&playbook, all_good()),
            day(9),
            Note::default(),
        )
        .unwrap_err();
    assert!(
        matches!(&err, MoveError::Journey(JourneyError::UnknownStage { id, suggestion: Some(s), .. }) if id == "lots" && s == "lost"),
        "{err:?}"
    );
}

// ----- versions and migration -----

/// Version 2 renames `discovery` to `qualification` and `quick_quote` to `fast_quote`.
fn deals_v2() -> Playbook {
    let yaml = deals_yaml(2, "")
        .replace(
            "- id: discovery",
            "- id: qualification\n    renamed_from: [discovery]",
        )
        .replace(
            "- id: quick_quote",
            "- id: fast_quote\n    renamed_from: [quick_quote]",
        )
        .replace("- quick_quote", "- fast_quote")
        .replace("to: discovery", "to: qualification");
    Playbook::from_yaml_str(&yaml).unwrap()
}

#[test]
fn a_journey_moves_only_on_its_own_version() {
    let v1 = deals("");
    let v2 = deals_v2();
    let mut journey = in_discovery(&v1);
    let err = journey
        .advance(&v2, &facts(&v2, all_good()), day(5), Note::default())
        .unwrap_err();
    assert_eq!(
        err,
        MoveError::Journey(JourneyError::VersionMismatch {
            playbook: "deals".into(),
            journey: 1,
            current: 2
        })
    );
    let help = miette::Diagnostic::help(&err).unwrap().to_string();
    assert!(help.contains("migrate"), "{help}");
    assert!(matches!(
        journey.check(&v2),
        Err(JourneyError::VersionMismatch { .. })
    ));
}

#[test]
fn resuming_on_a_newer_version_migrates_through_renamed_from() {
    let v1 = deals("");
    let v2 = deals_v2();
    let journey = in_discovery(&v1);
    let migrated = journey.resume(&v2, day(5)).unwrap();
    assert_eq!(migrated.version(), 2);
    assert_eq!(migrated.stage(), Some("qualification"));
    assert_eq!(
        migrated.entered_at(),
        Some(day(1)),
        "migrating is not a move"
    );
    assert_eq!(migrated.history().len(), 2);
    assert_eq!(migrated.history()[1].to, "qualification");
    let migration = &migrated.migrations()[0];
    assert_eq!((migration.from_version, migration.to_version), (1, 2));
    assert_eq!(migration.at, day(5));
    assert_eq!(
        migration.renamed.iter().collect::<Vec<_>>(),
        [(&"discovery".to_string(), &"qualification".to_string())]
    );
    migrated.check(&v2).unwrap();
    // The original is untouched and still fits v1.
    assert_eq!(journey.version(), 1);
    journey.check(&v1).unwrap();

    // The migrated journey moves on v2 and round-trips.
    let mut moved = migrated.clone();
    moved
        .advance(&v2, &facts(&v2, all_good()), day(6), Note::default())
        .unwrap();
    assert_eq!(moved.stage(), Some("proposal"));
    let text = serde_json::to_string(&moved).unwrap();
    let back = Journey::from_json(&text).unwrap();
    assert_eq!(back, moved);
    assert_eq!(
        back.resume(&v2, day(7)).unwrap(),
        moved,
        "same version: unchanged"
    );

    // Never back to an older version.
    assert_eq!(
        moved.resume(&v1, day(7)).unwrap_err(),
        JourneyError::NewerThanPlaybook {
            playbook: "deals".into(),
            journey: 2,
            current: 1
        }
    );
}

#[test]
fn migrating_over_several_versions_chains_the_records() {
    let v1 = deals("");
    let v2 = deals_v2();
    let yaml3 = deals_yaml(3, "")
        .replace(
            "- id: discovery",
            "- id: qualify\n    renamed_from: [qualification, discovery]",
        )
        .replace("to: discovery", "to: qualify");
    let v3 = Playbook::from_yaml_str(&yaml3).unwrap();
    let journey = in_discovery(&v1);
    let twice = journey
        .resume(&v2, day(5))
        .unwrap()
        .resume(&v3, day(6))
        .unwrap();
    assert_eq!(twice.stage(), Some("qualify"));
    assert_eq!(twice.migrations().len(), 2);
    assert_eq!(twice.migrations()[1].renamed["qualification"], "qualify");
    // Straight from v1 to v3 works too, through v3's `renamed_from`.
    let once = journey.resume(&v3, day(6)).unwrap();
    assert_eq!(once.stage(), Some("qualify"));
    assert_eq!(
        (
            once.migrations()[0].from_version,
            once.migrations()[0].to_version
        ),
        (1, 3)
    );

    // Tampered migration records are rejected.
    let err = tampered(&twice, |v| v["migrations"][1]["from_version"] = json!(1)).unwrap_err();
    assert_eq!(err, JourneyError::MigrationChain { index: 1 });
    let err = tampered(&twice, |v| v["version"] = json!(4)).unwrap_err();
    assert!(
        matches!(err, JourneyError::MigrationChain { .. }),
        "{err:?}"
    );
}

#[test]
fn a_stage_that_is_neither_kept_nor_renamed_fails_the_migration_clearly() {
    let v1 = deals("policies: { backward: allow }");
    // v2 drops `quick_quote` and `lead` without saying where they went.
    let yaml = deals_yaml(2, "")
        .replace(
            "  - id: quick_quote\n    entry: [{ id: quote_wanted, when: quote.requested }]\n    next: [closing]\n",
            "",
        )
        .replace("      - quick_quote\n", "      - closing\n")
        .replace("  - id: lead\n    max_days: 10\n    entry: [{ id: account_known, when: account.known }]\n    exit: [{ id: is_qualified, when: qualified }]\n", "");
    let v2 = Playbook::from_yaml_str(&yaml).unwrap();
    assert!(v2.stage("quick_quote").is_none() && v2.stage("lead").is_none());

    // A journey that never was in either... still started in `lead`.
    let mut journey = in_discovery(&v1);
    let f = facts(&v1, with(all_good(), json!({"budget": 20000.0})));
    journey.advance(&v1, &f, day(2), Note::default()).unwrap();
    assert_eq!(journey.stage(), Some("quick_quote"));
    let before = journey.clone();
    let err = journey.resume(&v2, day(3)).unwrap_err();
    assert_eq!(
        err,
        JourneyError::Unmapped {
            playbook: "deals".into(),
            from_version: 1,
            to_version: 2,
            stages: vec!["lead".into(), "quick_quote".into()]
        }
    );
    assert_eq!(
        err.to_string(),
        "cannot migrate the journey from version 1 to 2 of `deals`: `lead`, `quick_quote` no longer exist, and no stage is `renamed_from` them"
    );
    let help = miette::Diagnostic::help(&err).unwrap().to_string();
    assert!(help.contains("renamed_from"), "{help}");
    assert_eq!(journey, before, "nothing is dropped or changed");
}

#[test]
fn merging_two_stages_a_move_went_between_fails_the_migration() {
    let v1 = deals("");
    let journey = in_discovery(&v1); // lead → discovery
    let yaml = deals_yaml(2, "")
        .replace(
            "  - id: lead\n    max_days: 10\n    entry: [{ id: account_known, when: account.known }]\n    exit: [{ id: is_qualified, when: qualified }]\n",
            "",
        )
        .replace("- id: discovery", "- id: qualification\n    renamed_from: [lead, discovery]")
        .replace("to: discovery", "to: qualification");
    let v2 = Playbook::from_yaml_str(&yaml).unwrap();
    let err = journey.resume(&v2, day(3)).unwrap_err();
    assert!(
        matches!(&err, JourneyError::Merged { index: 1, into, .. } if into == "qualification"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("merges into `qualification`"),
        "{err}"
    );
}

#[test]
fn errors_have_codes_for_tools() {
    let playbook = deals("");
    let mut journey = in_discovery(&playbook);
    let err = journey
        .advance(
            &playbook,
            &facts(&playbook, json!({})),
            day(2),
            Note::default(),
        )
        .unwrap_err();
    let code = miette::Diagnostic::code(&err).unwrap().to_string();
    assert_eq!(code, "salesplay::journey::refused");
    assert!(miette::Diagnostic::help(&err).is_some());
}

// ----- a shipped playbook -----

#[test]
fn a_key_account_journey_through_the_shipped_playbook() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../playbooks/key_account_six_steps.yaml"
    );
    let playbook = Playbook::from_yaml_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut facts_json = json!({"account": {"target_locked": true}});
    let f = facts(&playbook, facts_json.clone());
    let mut journey = Journey::start(&playbook, &f, day(0), Note::by("li.wei")).unwrap();
    assert_eq!(journey.stage(), Some("customer_analysis"));
    let err = journey
        .advance(&playbook, &f, day(5), Note::default())
        .unwrap_err();
    assert_eq!(
        unmet_ids(&err),
        [
            (
                "opportunity_identified",
                CriterionRole::Exit,
                CheckStatus::Unknown
            ),
            (
                "opportunity_confirmed",
                CriterionRole::Entry,
                CheckStatus::Unknown
            ),
        ]
    );
    facts_json["opportunity"] = json!({"identified": true});
    let f = facts(&playbook, facts_json.clone());
    journey
        .advance(&playbook, &f, day(6), Note::default())
        .unwrap();
    assert_eq!(journey.stage(), Some("build_trust"));
    // The relationship is still at `acquainted`: the refusal says so.
    facts_json["relationship"] = json!({"level": "acquainted"});
    let f = facts(&playbook, facts_json.clone());
    let err = journey
        .advance(&playbook, &f, day(7), Note::default())
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("`key_people_dating`"), "{message}");
    assert!(
        message.contains("`relationship.level` is `acquainted`"),
        "{message}"
    );
    // Lost from anywhere, once the deal is marked lost (the entry criterion of `lost`).
    facts_json["deal"] = json!({"lost": true});
    let f = facts(&playbook, facts_json.clone());
    journey
        .move_to(
            &playbook,
            "lost",
            &f,
            day(8),
            Note::by("li.wei").because("competitor won"),
        )
        .unwrap();
    assert_eq!(journey.stage(), Some("lost"));
    let text = serde_json::to_string(&journey).unwrap();
    assert_eq!(Journey::from_json(&text).unwrap(), journey);
}

#[test]
fn a_declared_edge_back_does_not_wait_for_the_stage_left() {
    // The relationship cycle: a change of key people sends the account back to phase 1,
    // even though phase 2 is not finished.
    let playbook = Playbook::from_yaml_str(
        r#"
id: cycle
facts: { trusted: bool, stable: bool, people_changed: bool }
stages:
  - id: establish
    exit: [{ id: is_trusted, when: trusted }]
  - id: stabilise
    entry: [{ id: trusted_again, when: trusted }]
    exit: [{ id: is_stable, when: stable }]
    next:
      - strengthen
      - { to: establish, when: people_changed }
  - id: strengthen
    entry: [{ id: stable_again, when: stable }]
    next: [{ to: establish, when: people_changed }]
"#,
    )
    .unwrap();
    let at = |d| Utc.with_ymd_and_hms(2026, 1, d, 9, 0, 0).unwrap();
    let f = |v: serde_json::Value| playbook.facts_from_json(&v).unwrap();
    let mut journey = Journey::start(
        &playbook,
        &f(json!({"trusted": true})),
        at(1),
        Note::default(),
    )
    .unwrap();
    journey
        .advance(
            &playbook,
            &f(json!({"trusted": true})),
            at(2),
            Note::default(),
        )
        .unwrap();
    assert_eq!(journey.stage(), Some("stabilise"));
    let changed = f(json!({"trusted": true, "stable": false, "people_changed": true}));
    let moved = journey
        .advance(&playbook, &changed, at(3), Note::by("li"))
        .unwrap();
    assert_eq!(
        (moved.kind, moved.to.as_str()),
        (MoveKind::Advance, "establish")
    );
    assert!(
        moved.criteria.iter().all(|c| c.id != "is_stable"),
        "{:?}",
        moved.criteria
    );
}
