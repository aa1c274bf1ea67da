//! The whole assessment: the shipped six-step playbook's derived stage, salesplay against the
//! hand-written floor and against peers that evaluate the same criteria stage by stage.
//!
//! Group `whole/{engine}/{stage}`, for three prepared accounts (early: `build_trust`, middle:
//! `discover_needs`, end: `follow_up_service`):
//! - `salesplay`: [`Playbook::locate`] on facts bound beforehand;
//! - `floor`: [`floor_locate`], the same criteria and walk hand-written over a plain struct;
//! - `zen`: one `zen-expression` program per criterion, run in walk order ([`walk`]) by an
//!   `Isolate` holding the account's environment;
//! - `cel`: one `cel` `Program` per criterion, executed in walk order against a `Context`
//!   holding the account's variables.
//!
//! Every engine binds the same JSON record ([`SixSteps::to_json`]) beforehand; only the walk is
//! timed. Before any timing the bench checks that the hand-written table of criteria matches
//! the loaded playbook (ids, sources, chain), and that all four engines derive the same stage
//! for the three accounts and for 20,000 random ones (absent facts and lost deals included).
//!
//! Quick run: `cargo bench -p salesplay-benches --bench assessment -- --warm-up-time 1
//! --measurement-time 3`.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use salesplay::expr::Facts;
use salesplay::{LoadOptions, Playbook};
use salesplay_benches::six_steps::{
    CRITERIA, STAGES, SixSteps, floor_locate, representative, walk,
};
use salesplay_benches::synthetic::Lcg;

/// The shipped six-step playbook.
const SIX_STEPS: &str = include_str!("../../playbooks/key_account_six_steps.yaml");

/// Random accounts every engine must place alike before anything is timed.
const CROSS_CHECKED: usize = 20_000;

/// The evaluation time: a fixed instant, as no engine reads the clock.
fn now() -> DateTime<Utc> {
    // 2026-01-01T00:00:00Z
    DateTime::from_timestamp(1_767_225_600, 0).expect("a valid instant")
}

/// Loads the playbook (without warnings) and checks that [`STAGES`] and [`CRITERIA`] are
/// its stages and criteria, so the peers and the floor answer the playbook's own questions.
fn load_checked() -> Playbook {
    let loaded = Playbook::load_str(
        SIX_STEPS,
        "key_account_six_steps.yaml",
        &LoadOptions::default(),
    )
    .unwrap_or_else(|error| panic!("the six-step playbook does not load:\n{error}"));
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    let playbook = loaded.playbook;
    assert_eq!(playbook.stages().len(), STAGES.len());
    let chain: Vec<usize> = (0..STAGES.len())
        .filter(|&i| STAGES.get(i).is_some_and(|s| !s.from_anywhere))
        .collect();
    for (index, (stage, table)) in playbook.stages().iter().zip(&STAGES).enumerate() {
        assert_eq!(stage.id(), table.id);
        assert_eq!(
            stage.is_from_anywhere(),
            table.from_anywhere,
            "{}",
            table.id
        );
        for (criteria, rows) in [(stage.entry(), table.entry), (stage.exit(), table.exit)] {
            let ours: Vec<(&str, &str)> = rows
                .iter()
                .filter_map(|&i| CRITERIA.get(i))
                .map(|c| (c.id, c.salesplay))
                .collect();
            let theirs: Vec<(&str, &str)> = criteria.iter().map(|c| (c.id(), c.source())).collect();
            assert_eq!(ours, theirs, "criteria of `{}`", table.id);
        }
        assert!(
            stage.next().iter().all(|t| t.guard().is_none()),
            "{}",
            table.id
        );
        let next: Vec<usize> = stage.next().iter().map(|t| t.to()).collect();
        let expected: Vec<usize> = if table.from_anywhere {
            Vec::new()
        } else {
            chain
                .iter()
                .copied()
                .filter(|&i| i > index)
                .take(1)
                .collect()
        };
        assert_eq!(next, expected, "successors of `{}`", table.id);
    }
    playbook
}

fn bind(playbook: &Playbook, json: &serde_json::Value) -> Facts {
    playbook
        .facts_from_json(json)
        .unwrap_or_else(|error| panic!("facts do not bind: {error}\n{json:#}"))
}

mod zen_peer {
    //! `zen-expression`: one compiled expression per criterion, run by an isolate that holds
    //! the account's environment.

    use super::{CRITERIA, walk};
    use zen_expression::expression::Standard;
    use zen_expression::variable::Variable;
    use zen_expression::{Expression, Isolate};

    /// Every criterion compiled, in [`CRITERIA`] order.
    pub struct Programs {
        expressions: Vec<Expression<Standard>>,
    }

    impl Programs {
        pub fn compile() -> Self {
            let mut isolate = Isolate::new();
            let expressions = CRITERIA
                .iter()
                .map(|c| {
                    isolate
                        .compile_standard(c.zen)
                        .unwrap_or_else(|error| panic!("zen `{}`: {error:?}", c.id))
                })
                .collect();
            Self { expressions }
        }

        /// The derived stage: the walk, one expression per criterion; only `true` is met.
        pub fn locate(&self, isolate: &mut Isolate) -> Option<usize> {
            walk(|i| {
                self.expressions.get(i).is_some_and(|e| {
                    matches!(isolate.run_compiled(e.bytecode()), Ok(Variable::Bool(true)))
                })
            })
        }
    }

    /// An isolate holding the record as its environment.
    pub fn isolate(json: &serde_json::Value) -> Isolate {
        Isolate::with_environment(Variable::from(json.clone()))
    }
}

mod cel_peer {
    //! `cel` (cel-rust): one program per criterion, executed against a context holding each
    //! top-level fact of the record as a variable.

    use std::collections::HashMap;
    use std::sync::Arc;

    use super::{CRITERIA, walk};
    use cel::objects::Map;
    use cel::{Context, Program, Value};

    /// Every criterion compiled, in [`CRITERIA`] order.
    pub struct Programs {
        programs: Vec<Program>,
    }

    impl Programs {
        pub fn compile() -> Self {
            let programs = CRITERIA
                .iter()
                .map(|c| {
                    Program::compile(c.cel)
                        .unwrap_or_else(|error| panic!("cel `{}`: {error:?}", c.id))
                })
                .collect();
            Self { programs }
        }

        /// The derived stage: the walk, one program per criterion; only `true` is met (an
        /// absent variable or key is an error, so not met).
        pub fn locate(&self, context: &Context<'_, '_>) -> Option<usize> {
            walk(|i| {
                self.programs
                    .get(i)
                    .is_some_and(|p| matches!(p.execute(context), Ok(Value::Bool(true))))
            })
        }
    }

    /// A JSON value as a CEL value (numbers as doubles, as the playbook's `number`).
    fn value(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
            serde_json::Value::Array(items) => {
                Value::List(Arc::new(items.iter().map(value).collect()))
            }
            serde_json::Value::Object(fields) => {
                let map: HashMap<String, Value> =
                    fields.iter().map(|(k, v)| (k.clone(), value(v))).collect();
                Value::Map(Map::from(map))
            }
        }
    }

    /// A context with one variable per top-level field of the record.
    pub fn context(json: &serde_json::Value) -> Context<'static, 'static> {
        let mut context = Context::default();
        if let Some(fields) = json.as_object() {
            for (name, field) in fields {
                context.add_variable_from_value(name.clone(), value(field));
            }
        }
        context
    }
}

/// One account as every engine holds it, bound beforehand.
struct Prepared {
    facts: SixSteps,
    bound: Facts,
    zen: zen_expression::Isolate,
    cel: cel::Context<'static, 'static>,
}

fn prepare(playbook: &Playbook, facts: SixSteps) -> Prepared {
    let text = facts.to_json();
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"));
    Prepared {
        bound: bind(playbook, &json),
        zen: zen_peer::isolate(&json),
        cel: cel_peer::context(&json),
        facts,
    }
}

/// The stage every engine derives for `account`, checked to be one and the same.
fn agreed(
    playbook: &Playbook,
    zen: &zen_peer::Programs,
    cel: &cel_peer::Programs,
    account: &mut Prepared,
    now: DateTime<Utc>,
) -> Option<usize> {
    let salesplay = playbook.locate(&account.bound, now);
    let floor = floor_locate(&account.facts);
    let zen = zen.locate(&mut account.zen);
    let cel = cel.locate(&account.cel);
    assert_eq!(
        [floor, zen, cel],
        [salesplay; 3],
        "floor, zen, cel vs salesplay for {}",
        account.facts.to_json()
    );
    salesplay
}

/// Places [`CROSS_CHECKED`] random accounts with every engine; prints the spread.
fn cross_check(
    playbook: &Playbook,
    zen: &zen_peer::Programs,
    cel: &cel_peer::Programs,
    now: DateTime<Utc>,
) {
    let mut rng = Lcg::new(0x5155_5e5a);
    let mut spread = vec![0usize; STAGES.len() + 1];
    for _ in 0..CROSS_CHECKED {
        let mut account = prepare(playbook, SixSteps::random(&mut rng));
        let at = agreed(playbook, zen, cel, &mut account, now).unwrap_or(STAGES.len());
        if let Some(n) = spread.get_mut(at) {
            *n += 1;
        }
    }
    for (i, n) in spread.iter().enumerate() {
        let id = STAGES.get(i).map_or("(not entered)", |s| s.id);
        assert!(
            *n > CROSS_CHECKED / 50,
            "only {n} accounts in `{id}`: {spread:?}"
        );
    }
    eprintln!("{CROSS_CHECKED} random accounts, same stage in all four engines: {spread:?}");
}

/// `whole/{salesplay,floor,zen,cel}/{build_trust,discover_needs,follow_up_service}`.
fn whole(c: &mut Criterion) {
    let playbook = load_checked();
    let now = now();
    let zen = zen_peer::Programs::compile();
    let cel = cel_peer::Programs::compile();
    cross_check(&playbook, &zen, &cel, now);

    let mut accounts: Vec<(&str, Prepared)> = representative()
        .into_iter()
        .map(|(stage, facts)| (stage, prepare(&playbook, facts)))
        .collect();
    for (stage, account) in &mut accounts {
        let at = agreed(&playbook, &zen, &cel, account, now);
        assert_eq!(at.and_then(|i| STAGES.get(i)).map(|s| s.id), Some(*stage));
    }

    let mut group = c.benchmark_group("whole");
    for (stage, account) in &mut accounts {
        group.bench_function(BenchmarkId::new("salesplay", *stage), |b| {
            b.iter(|| black_box(&playbook).locate(black_box(&account.bound), now));
        });
        group.bench_function(BenchmarkId::new("floor", *stage), |b| {
            b.iter(|| floor_locate(black_box(&account.facts)));
        });
        group.bench_function(BenchmarkId::new("zen", *stage), |b| {
            b.iter(|| zen.locate(black_box(&mut account.zen)));
        });
        group.bench_function(BenchmarkId::new("cel", *stage), |b| {
            b.iter(|| cel.locate(black_box(&account.cel)));
        });
    }
    group.finish();
}

criterion_group!(assessment, whole);
criterion_main!(assessment);
