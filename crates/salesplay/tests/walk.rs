//! The walk (`Playbook::locate`, and the stage and path of `Playbook::assess`) against a
//! reference walk written from the design with `Program::check` alone, on every shipped
//! playbook and many random accounts.
//!
//! `locate` runs a plan compiled at build time (criteria flattened into direct tests, entry
//! tests already known from the stage being left skipped, the walk up to its first fork run
//! as one sequence of checkpoints, a terminal stage's exit criteria not evaluated); `assess`
//! walks the same plan stage by stage. None of that may change a derived stage or a path.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use salesplay::Playbook;
use salesplay::expr::{Facts, Status, Type, Value};

/// A small deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap() // 2026-01-01T00:00:00Z
}

/// A random value of `ty`: bools mostly `true` so walks go deep, numbers and dates around
/// the thresholds playbooks use.
fn value_of(ty: &Type, rng: &mut Lcg, depth: u32) -> Value {
    match ty {
        Type::Bool => Value::Bool(rng.below(5) != 0),
        Type::Int => Value::Int(rng.pick(&[-1, 0, 1, 2, 3, 5, 10, 30, 100, 1000, 100_000])),
        Type::Number => Value::Number(rng.pick(&[
            -1.0, 0.0, 0.5, 1.0, 3.0, 10.0, 50.0, 100.0, 1e4, 1e5, 1e6, 1e7,
        ])),
        Type::String => Value::String(Arc::from(rng.pick(&["", "a", "yes", "signed", "x"]))),
        Type::Date => {
            let days = rng.pick(&[-800i64, -400, -90, -31, -8, -1, 0, 1, 30]);
            let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + TimeDelta::days(days);
            Value::Date(date)
        }
        Type::Timestamp => {
            let hours = rng.pick(&[-20_000i64, -2000, -200, -25, -1, 0, 1, 48]);
            Value::Timestamp(now() + TimeDelta::hours(hours))
        }
        Type::Duration => Value::Duration(TimeDelta::hours(rng.pick(&[-1i64, 0, 1, 24, 1000]))),
        Type::Enum(e) => Value::Enum(rng.below(e.values().len()) as u32),
        Type::List(element) if depth < 2 => {
            let n = rng.below(4);
            Value::List((0..n).map(|_| value_of(element, rng, depth + 1)).collect())
        }
        Type::List(_) => Value::List(Arc::from([])),
        Type::Record(record) => Value::Record(
            record
                .fields()
                .iter()
                .map(|(_, t)| {
                    if rng.below(6) == 0 {
                        Value::Null
                    } else {
                        value_of(t, rng, depth + 1)
                    }
                })
                .collect(),
        ),
        other => panic!("no generator for {other}"),
    }
}

/// An account: each fact absent one time in six.
fn random_facts(playbook: &Playbook, rng: &mut Lcg) -> Facts {
    let schema = playbook.schema();
    let mut facts = Facts::new(schema);
    for decl in schema.facts() {
        if rng.below(6) == 0 {
            continue;
        }
        let (slot, _) = schema.lookup(&decl.path).unwrap();
        let value = value_of(&decl.ty, rng, 0);
        facts.set(schema, slot, value).unwrap();
    }
    facts
}

/// The walk as the design states it, one criterion at a time through `check`: enter the first
/// stage if its entry criteria are all met; while the current stage's exit criteria are all
/// met, move to the first successor not yet visited whose guard and entry criteria are met; a
/// stage enterable from anywhere with entry criteria, all met, takes the account wherever the
/// chain ended. Returns the stage and the stages entered.
fn reference(
    playbook: &Playbook,
    facts: &Facts,
    now: DateTime<Utc>,
) -> (Option<usize>, Vec<usize>) {
    let met = |criteria: &[salesplay::Criterion]| {
        criteria
            .iter()
            .all(|c| c.program().check(facts, now) == Status::Met)
    };
    let stages = playbook.stages();
    let mut path = Vec::new();
    let mut current = None;
    if let Some(first) = stages.first()
        && met(first.entry())
    {
        let mut seen = vec![false; stages.len()];
        seen[0] = true;
        path.push(0);
        let mut at = 0;
        while met(stages[at].exit()) {
            let next = stages[at].next().iter().find(|t| {
                !seen[t.to()]
                    && t.guard().is_none_or(|g| g.check(facts, now) == Status::Met)
                    && met(stages[t.to()].entry())
            });
            match next {
                Some(t) => {
                    at = t.to();
                    seen[at] = true;
                    path.push(at);
                }
                None => break,
            }
        }
        current = Some(at);
    }
    let anywhere = stages
        .iter()
        .find(|s| s.is_from_anywhere() && !s.entry().is_empty() && met(s.entry()))
        .map(|s| s.index());
    if let Some(i) = anywhere {
        path.push(i);
    }
    (anywhere.or(current), path)
}

#[test]
fn locate_and_assess_agree_with_the_reference_walk() {
    let mut rng = Lcg(0x5eed_0001);
    let mut checked = 0usize;
    for (file, playbook, _) in salesplay::builtin::catalogue() {
        let playbook = playbook.unwrap_or_else(|e| panic!("{file} does not load:\n{e}"));
        let mut depths = vec![0usize; playbook.stages().len() + 1];
        for round in 0..2000 {
            let facts = random_facts(playbook, &mut rng);
            let (stage, path) = reference(playbook, &facts, now());
            assert_eq!(
                playbook.locate(&facts, now()),
                stage,
                "{file}, account {round}: {facts:?}"
            );
            depths[stage.map_or(0, |s| s + 1)] += 1;
            if round % 10 == 0 {
                let assessment = playbook.assess(&facts, now());
                let ids = |is: &[usize]| -> Vec<String> {
                    is.iter()
                        .map(|&i| playbook.stages()[i].id().to_string())
                        .collect()
                };
                assert_eq!(
                    assessment.stage,
                    stage.map(|i| playbook.stages()[i].id().to_string()),
                    "{file}, account {round}"
                );
                assert_eq!(assessment.path, ids(&path), "{file}, account {round}");
            }
            checked += 1;
        }
        // The accounts reach past the first stage, so the plan's edges are exercised.
        let beyond_first: usize = depths.iter().skip(2).sum();
        assert!(beyond_first > 100, "{file}: stages reached {depths:?}");
    }
    assert!(checked >= 30_000, "only {checked} accounts");
}

/// Clauses for random playbooks: direct ones the flat path reads from a slot, shared between
/// stages so entry tests are often known from the stage being left, and a few it runs as
/// closures.
const CLAUSES: &[&str] = &[
    "a",
    "b",
    "c",
    "d",
    "!a",
    "!c",
    "has(n)",
    "!has(amt)",
    "n >= 2",
    "n < 3",
    "2 != n",
    r#"lvl >= "l1""#,
    r#"lvl == "l3""#,
    r#"lvl in ["l0", "l2"]"#,
    "amt > 10.0",
    "a && c",
    "b && n >= 2",
    "a || b",
    "n + 1 > 2",
    "!(a && d)",
    "true",
];

/// A random playbook over five facts: two to seven stages, each with zero to two entry and
/// exit criteria (a criterion is one to three clauses joined by `&&`), edges in file order or
/// explicit (to any stage, cycles included, some with guards), some stages enterable from
/// anywhere. `None` when it does not load.
fn random_playbook(rng: &mut Lcg) -> Option<Playbook> {
    let mut yaml = String::from(
        "id: random\nfacts:\n  a: bool\n  b: bool\n  c: bool\n  d: bool\n  n: int\n  amt: number\n  \
         lvl: { type: { enum: [l0, l1, l2, l3], ordered: true } }\nstages:\n",
    );
    let stages = 2 + rng.below(6);
    let mut id = 0;
    let mut criterion = |rng: &mut Lcg| {
        let clauses: Vec<&str> = (0..1 + rng.below(3)).map(|_| rng.pick(CLAUSES)).collect();
        id += 1;
        format!("{{ id: c{id}, when: '{}' }}", clauses.join(" && "))
    };
    for s in 0..stages {
        yaml.push_str(&format!("  - id: s{s}\n"));
        for kind in ["entry", "exit"] {
            let n = rng.below(3);
            let items: Vec<String> = (0..n).map(|_| criterion(rng)).collect();
            yaml.push_str(&format!("    {kind}: [{}]\n", items.join(", ")));
        }
        if s > 0 && rng.below(5) == 0 {
            yaml.push_str("    from_anywhere: true\n");
        }
        if rng.below(3) == 0 {
            let edges: Vec<String> = (0..rng.below(3))
                .map(|_| {
                    let to = rng.below(stages);
                    if rng.below(3) == 0 {
                        format!("{{ to: s{to}, when: '{}' }}", rng.pick(CLAUSES))
                    } else {
                        format!("s{to}")
                    }
                })
                .collect();
            yaml.push_str(&format!("    next: [{}]\n", edges.join(", ")));
        }
    }
    Playbook::from_yaml_str(&yaml).ok()
}

#[test]
fn locate_agrees_with_the_reference_walk_on_random_playbooks() {
    let mut rng = Lcg(0x5eed_0002);
    let (mut loaded, mut deep) = (0usize, 0usize);
    for _ in 0..3000 {
        let Some(playbook) = random_playbook(&mut rng) else {
            continue;
        };
        loaded += 1;
        for round in 0..50 {
            let facts = random_facts(&playbook, &mut rng);
            let (stage, path) = reference(&playbook, &facts, now());
            assert_eq!(
                playbook.locate(&facts, now()),
                stage,
                "account {round}: {facts:?}\nin {:#?}",
                playbook.stages()
            );
            if round % 10 == 0 {
                let assessment = playbook.assess(&facts, now());
                let ids: Vec<String> = path
                    .iter()
                    .map(|&i| playbook.stages()[i].id().to_string())
                    .collect();
                assert_eq!(assessment.path, ids, "account {round}");
            }
            deep += usize::from(path.len() > 2);
        }
    }
    assert!(loaded > 1500, "only {loaded} random playbooks loaded");
    assert!(
        deep > 3000,
        "only {deep} walks of {loaded} playbooks went past two stages"
    );
}

/// More stages than the walk's small bitset holds: a chain of 300 stages over 8 bool facts,
/// with a fork at stage 150 (back to the start, or on) and a loop from the end to stage 200.
#[test]
fn long_chains_with_forks_and_cycles_agree_with_the_reference_walk() {
    let mut yaml = String::from("id: long\nfacts:\n");
    for f in 0..8 {
        yaml.push_str(&format!("  f{f}: bool\n"));
    }
    yaml.push_str("stages:\n");
    let n = 300;
    for s in 0..n {
        let clause = format!("f{}", s % 8);
        yaml.push_str(&format!(
            "  - id: s{s}\n    entry: [{{ id: in{s}, when: '{clause}' }}]\n    exit: [{{ id: out{s}, when: 'f{}' }}]\n",
            (s + 1) % 8
        ));
        if s == 150 {
            yaml.push_str("    next: [{ to: s0, when: f3 }, s151]\n");
        }
        if s == n - 1 {
            yaml.push_str("    next: [s200]\n");
        }
    }
    let playbook = Playbook::from_yaml_str(&yaml).unwrap();
    let mut rng = Lcg(0x5eed_0003);
    let mut far = 0;
    for round in 0..3000 {
        let facts = random_facts(&playbook, &mut rng);
        let (stage, path) = reference(&playbook, &facts, now());
        assert_eq!(playbook.locate(&facts, now()), stage, "account {round}");
        if round % 20 == 0 {
            let ids: Vec<String> = path.iter().map(|i| format!("s{i}")).collect();
            assert_eq!(playbook.assess(&facts, now()).path, ids, "account {round}");
        }
        far += usize::from(stage.is_some_and(|s| s >= 128));
    }
    // Bools are true four times in five and absent one time in six: the accounts with every
    // fact true walk the whole chain.
    assert!(far > 50, "only {far} accounts went past stage 127");
}
