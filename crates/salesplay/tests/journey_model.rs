//! Model test of journeys: random sequences of moves (advance, move to a stage, forced moves)
//! under random facts and times, on a small playbook with a guarded fork, a declared cycle,
//! a terminal stage and a stage enterable from anywhere, under every combination of the
//! `backward` and `skip` policies.
//!
//! Each operation's outcome is compared with a model written from the design's rules; after
//! every step the history must hold together, a move that was not forced must have met every
//! criterion it needed (re-checked with the facts of the time), a refused move must change
//! nothing, and the journey must round-trip through JSON.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};
use salesplay::expr::{Facts, Status};
use salesplay::journey::{CheckStatus, Journey, MoveError, MoveKind, Note};
use salesplay::{Criterion, Playbook, Policy, Stage};

const POLICIES: [&str; 3] = ["allow", "warn", "block"];

fn playbook_yaml(backward: &str, skip: &str) -> String {
    format!(
        r#"
id: model
facts: {{ a: bool, b: bool, c: bool, d: bool }}
policies: {{ backward: {backward}, skip: {skip} }}
stages:
  - id: s0
    entry: [{{ id: e0, when: a }}]
    exit: [{{ id: x0, when: b }}]
  - id: s1
    entry: [{{ id: e1, when: b || c }}]
    exit: [{{ id: x1, when: c && !d }}]
    next: [{{ to: s2, when: a }}, s3]
  - id: s2
    entry: [{{ id: e2, when: '!d' }}]
    exit: [{{ id: x2, when: c }}]
    next: [s3, {{ to: s1, when: d }}]
  - id: s3
    entry: [{{ id: e3, when: c }}, {{ id: e3b, when: a || d }}]
    next: []
  - id: out
    from_anywhere: true
    entry: [{{ id: eo, when: d }}]
"#
    )
}

/// The nine playbooks, one per pair of policies, loaded once.
fn playbooks() -> &'static [Playbook] {
    static PLAYBOOKS: OnceLock<Vec<Playbook>> = OnceLock::new();
    PLAYBOOKS.get_or_init(|| {
        let mut out = Vec::new();
        for backward in POLICIES {
            for skip in POLICIES {
                out.push(Playbook::from_yaml_str(&playbook_yaml(backward, skip)).unwrap());
            }
        }
        out
    })
}

/// A deterministic configuration: a fixed seed unless `PROPTEST_RNG_SEED` is set, and no
/// regression files written into the crate.
fn config(cases: u32) -> Config {
    let default = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            cases
        },
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: match default.rng_seed {
            RngSeed::Random => RngSeed::Fixed(0x5a1e_5b1a_70be_0001),
            seed => seed,
        },
        failure_persistence: None,
        ..default
    }
}

#[derive(Clone, Debug)]
enum Action {
    Advance,
    /// To the stage at this index; past the last stage, to an id no stage has.
    MoveTo(usize),
    /// To the stage at this index, with or without a reason.
    Force(usize, bool),
    /// Replace the journey by its JSON round trip.
    Reload,
}

#[derive(Clone, Debug)]
struct Op {
    action: Action,
    /// Values of `a`, `b`, `c`, `d`; `None` is absent.
    facts: [Option<bool>; 4],
    /// Hours the clock moves on before the operation.
    wait: i64,
    /// Hours the operation is dated before the clock (usually none, to test ordering).
    backdate: i64,
}

fn op() -> impl Strategy<Value = Op> {
    let action = prop_oneof![
        4 => Just(Action::Advance),
        4 => (0usize..6).prop_map(Action::MoveTo),
        2 => (0usize..5, proptest::bool::weighted(0.85)).prop_map(|(i, r)| Action::Force(i, r)),
        1 => Just(Action::Reload),
    ];
    let fact = prop_oneof![Just(None), Just(Some(false)), Just(Some(true))];
    let backdate = prop_oneof![6 => Just(0i64), 1 => 1i64..48];
    (
        action,
        [fact.clone(), fact.clone(), fact.clone(), fact],
        0i64..72,
        backdate,
    )
        .prop_map(|(action, facts, wait, backdate)| Op {
            action,
            facts,
            wait,
            backdate,
        })
}

fn bind(playbook: &Playbook, values: [Option<bool>; 4]) -> Facts {
    let mut json = serde_json::Map::new();
    for (name, value) in ["a", "b", "c", "d"].into_iter().zip(values) {
        if let Some(v) = value {
            json.insert(name.into(), v.into());
        }
    }
    playbook.facts_from_json(&json.into()).unwrap()
}

// ----- the model: the design's rules, written independently of the engine -----

fn met(c: &Criterion, facts: &Facts, at: DateTime<Utc>) -> bool {
    c.program().check(facts, at) == Status::Met
}

fn unmet<'p>(criteria: &'p [Criterion], facts: &Facts, at: DateTime<Utc>) -> Vec<&'p str> {
    criteria
        .iter()
        .filter(|c| !met(c, facts, at))
        .map(Criterion::id)
        .collect()
}

#[derive(Debug, PartialEq)]
enum Expect {
    Moved {
        kind: MoveKind,
        to: String,
        warned: bool,
    },
    Refused(BTreeSet<String>),
    Blocked,
    UnknownStage,
    AlreadyInStage,
    Terminal,
    NoReason,
    OutOfOrder,
}

fn guard_id(from: &Stage, to: &Stage) -> String {
    format!("{} -> {}", from.id(), to.id())
}

fn refused_or(unmet: BTreeSet<String>, moved: Expect) -> Expect {
    if unmet.is_empty() {
        moved
    } else {
        Expect::Refused(unmet)
    }
}

/// What a move to `target` needs: its kind, its policy (if any) and its unmet criteria.
fn classify(
    playbook: &Playbook,
    current: Option<&Stage>,
    target: &Stage,
    facts: &Facts,
    at: DateTime<Utc>,
) -> (MoveKind, Option<Policy>, BTreeSet<String>) {
    let policies = playbook.policies();
    let entry: BTreeSet<String> = unmet(target.entry(), facts, at)
        .into_iter()
        .map(String::from)
        .collect();
    if target.is_from_anywhere() {
        return (MoveKind::Anywhere, None, entry);
    }
    let Some(current) = current else {
        return if target.index() == 0 {
            (MoveKind::Start, None, entry)
        } else {
            (MoveKind::Skip, Some(policies.skip), entry)
        };
    };
    let exit: BTreeSet<String> = unmet(current.exit(), facts, at)
        .into_iter()
        .map(String::from)
        .collect();
    let edges: Vec<_> = current
        .next()
        .iter()
        .filter(|t| t.to() == target.index())
        .collect();
    if !edges.is_empty() {
        let open = edges
            .iter()
            .any(|t| t.guard().is_none_or(|g| g.check(facts, at) == Status::Met));
        // A declared edge back does not wait for the current stage's exit criteria.
        let mut all = if target.index() > current.index() {
            exit
        } else {
            BTreeSet::new()
        };
        all.extend(entry);
        if !open {
            all.insert(guard_id(current, target));
        }
        return (MoveKind::Advance, None, all);
    }
    if target.index() < current.index() {
        (MoveKind::Backward, Some(policies.backward), entry)
    } else {
        let mut all = exit;
        all.extend(entry);
        (MoveKind::Skip, Some(policies.skip), all)
    }
}

fn expect(
    playbook: &Playbook,
    journey: &Journey,
    op: &Op,
    facts: &Facts,
    at: DateTime<Utc>,
) -> Expect {
    let current = journey.stage().map(|id| playbook.stage(id).unwrap());
    let late = journey.last_move().is_some_and(|m| at < m.at);
    match op.action {
        Action::Reload => unreachable!(),
        Action::Advance => {
            if late {
                return Expect::OutOfOrder;
            }
            let Some(current) = current else {
                let first = &playbook.stages()[0];
                let unmet = unmet(first.entry(), facts, at)
                    .into_iter()
                    .map(String::from)
                    .collect();
                return refused_or(
                    unmet,
                    Expect::Moved {
                        kind: MoveKind::Start,
                        to: first.id().into(),
                        warned: false,
                    },
                );
            };
            if current.next().iter().all(|t| t.to() == current.index()) {
                return Expect::Terminal;
            }
            let exit = unmet(current.exit(), facts, at);
            let mut all: BTreeSet<String> = exit.iter().map(|s| s.to_string()).collect();
            for t in current.next() {
                let target = &playbook.stages()[t.to()];
                let guard_ok = t.guard().is_none_or(|g| g.check(facts, at) == Status::Met);
                let entry = unmet(target.entry(), facts, at);
                let forward = t.to() > current.index();
                if (exit.is_empty() || !forward) && guard_ok && entry.is_empty() {
                    return Expect::Moved {
                        kind: MoveKind::Advance,
                        to: target.id().into(),
                        warned: false,
                    };
                }
                if !guard_ok {
                    all.insert(guard_id(current, target));
                }
                all.extend(entry.into_iter().map(String::from));
            }
            Expect::Refused(all)
        }
        Action::MoveTo(i) => {
            let Some(target) = playbook.stages().get(i) else {
                return Expect::UnknownStage;
            };
            if current.is_some_and(|c| c.index() == target.index()) {
                return Expect::AlreadyInStage;
            }
            if late {
                return Expect::OutOfOrder;
            }
            let (kind, policy, unmet) = classify(playbook, current, target, facts, at);
            match policy {
                Some(Policy::Block) => Expect::Blocked,
                _ => refused_or(
                    unmet,
                    Expect::Moved {
                        kind,
                        to: target.id().into(),
                        warned: policy == Some(Policy::Warn),
                    },
                ),
            }
        }
        Action::Force(i, with_reason) => {
            let target = &playbook.stages()[i];
            if !with_reason {
                return Expect::NoReason;
            }
            if current.is_some_and(|c| c.index() == target.index()) {
                return Expect::AlreadyInStage;
            }
            if late {
                return Expect::OutOfOrder;
            }
            let (_, policy, unmet) = classify(playbook, current, target, facts, at);
            let warned = matches!(policy, Some(Policy::Warn | Policy::Block)) || !unmet.is_empty();
            Expect::Moved {
                kind: MoveKind::Forced,
                to: target.id().into(),
                warned,
            }
        }
    }
}

fn outcome(result: &Result<salesplay::journey::Move, MoveError>) -> Expect {
    match result {
        Ok(m) => Expect::Moved {
            kind: m.kind,
            to: m.to.clone(),
            warned: !m.warnings.is_empty(),
        },
        Err(MoveError::Refused { unmet, .. }) => {
            Expect::Refused(unmet.iter().map(|c| c.id.clone()).collect())
        }
        Err(MoveError::Blocked { .. }) => Expect::Blocked,
        Err(MoveError::UnknownStage { .. }) => Expect::UnknownStage,
        Err(MoveError::AlreadyInStage { .. }) => Expect::AlreadyInStage,
        Err(MoveError::Terminal { .. }) => Expect::Terminal,
        Err(MoveError::NoReason { .. }) => Expect::NoReason,
        Err(MoveError::OutOfOrder { .. }) => Expect::OutOfOrder,
        Err(other) => panic!("unexpected error: {other}"),
    }
}

// ----- invariants -----

fn assert_consistent(playbook: &Playbook, journey: &Journey) {
    let history = journey.history();
    for pair in history.windows(2) {
        assert_eq!(pair[1].from.as_deref(), Some(pair[0].to.as_str()), "chain");
        assert!(pair[0].at <= pair[1].at, "time order");
    }
    if let Some(first) = history.first() {
        assert_eq!(first.from, None);
    }
    assert_eq!(journey.stage(), history.last().map(|m| m.to.as_str()));
    assert_eq!(journey.entered_at(), history.last().map(|m| m.at));
    journey.check(playbook).unwrap();
    let text = serde_json::to_string(journey).unwrap();
    assert_eq!(
        &Journey::from_json(&text).unwrap(),
        journey,
        "JSON round trip"
    );
}

/// A move that was not forced met everything it needed, re-checked with the facts of its time.
fn assert_earned(playbook: &Playbook, m: &salesplay::journey::Move, facts: &Facts) {
    let target = playbook.stage(&m.to).unwrap();
    let from = m.from.as_deref().map(|id| playbook.stage(id).unwrap());
    if m.kind == MoveKind::Forced {
        assert!(m.reason.as_deref().is_some_and(|r| !r.trim().is_empty()));
        return;
    }
    assert!(
        m.criteria.iter().all(|c| c.status == CheckStatus::Met),
        "{m:?}"
    );
    assert!(
        target.entry().iter().all(|c| met(c, facts, m.at)),
        "entered `{}` with unmet entry criteria",
        m.to
    );
    let edge = from.and_then(|f| f.next().iter().find(|t| t.to() == target.index()));
    match m.kind {
        MoveKind::Advance => {
            let from = from.unwrap();
            assert!(edge.is_some(), "no edge {} -> {}", from.id(), m.to);
            if target.index() > from.index() {
                assert!(from.exit().iter().all(|c| met(c, facts, m.at)));
            }
        }
        MoveKind::Start => assert!(from.is_none() && target.index() == 0),
        MoveKind::Anywhere => assert!(target.is_from_anywhere()),
        MoveKind::Backward => {
            assert_ne!(playbook.policies().backward, Policy::Block);
            assert!(edge.is_none() && target.index() < from.unwrap().index());
        }
        MoveKind::Skip => {
            assert_ne!(playbook.policies().skip, Policy::Block);
            assert!(edge.is_none());
            if let Some(from) = from {
                assert!(from.exit().iter().all(|c| met(c, facts, m.at)));
            }
        }
        other => panic!("unexpected kind {other}"),
    }
}

fn run(playbook: &Playbook, ops: &[Op]) {
    let base = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let mut clock = base;
    let mut journey = Journey::new(playbook).with_account("model");
    for op in ops {
        clock += Duration::hours(op.wait);
        let at = clock - Duration::hours(op.backdate);
        let facts = bind(playbook, op.facts);
        if let Action::Reload = op.action {
            let text = serde_json::to_string(&journey).unwrap();
            journey = Journey::from_json(&text)
                .unwrap()
                .resume(playbook, at)
                .unwrap();
            continue;
        }
        let expected = expect(playbook, &journey, op, &facts, at);
        let before = journey.clone();
        let note = Note::by("model");
        let result = match op.action {
            Action::Advance => journey.advance(playbook, &facts, at, note),
            Action::MoveTo(i) => {
                let id = playbook
                    .stages()
                    .get(i)
                    .map_or("nowhere".to_string(), |s| s.id().to_string());
                journey.move_to(playbook, &id, &facts, at, note)
            }
            Action::Force(i, with_reason) => {
                let id = playbook.stages()[i].id().to_string();
                let note = if with_reason {
                    note.because("model override")
                } else {
                    note
                };
                journey.force(playbook, &id, &facts, at, note)
            }
            Action::Reload => unreachable!(),
        };
        assert_eq!(
            outcome(&result),
            expected,
            "{op:?} from {:?}",
            before.stage()
        );
        match &result {
            Ok(m) => {
                assert_eq!(journey.history().len(), before.history().len() + 1);
                assert_eq!(journey.last_move(), Some(m));
                assert_eq!(
                    &journey.history()[..before.history().len()],
                    before.history()
                );
                assert_earned(playbook, m, &facts);
            }
            Err(err) => {
                assert_eq!(journey, before, "a refused move changes nothing");
                if let MoveError::Refused { unmet, .. } = err {
                    assert!(!unmet.is_empty());
                    for c in unmet {
                        assert_ne!(c.status, CheckStatus::Met);
                        let message = err.to_string();
                        assert!(message.contains(&format!("`{}`", c.id)), "{message}");
                    }
                }
            }
        }
        assert_consistent(playbook, &journey);
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn journeys_follow_the_rules(policies in 0usize..9, ops in proptest::collection::vec(op(), 1..40)) {
        run(&playbooks()[policies], &ops);
    }
}
