//! The engine end to end: loading playbooks, assessing accounts, placing portfolios.
//!
//! Groups:
//! - `load/six_steps`: load and validate `playbooks/key_account_six_steps.yaml` from a string
//!   (YAML parsing, model building, criterion compiling, graph and gap lints);
//! - `assess/six_steps_one/{discover_needs,follow_up_service}`: the full report
//!   ([`Playbook::assess`]) for one account whose facts are bound beforehand, one in the middle
//!   of the flow and one that goes all the way;
//! - `locate/six_steps_one/{discover_needs,follow_up_service}`: the derived stage alone
//!   ([`Playbook::locate`]) for the same two accounts;
//! - `batch/{locate,assess_all}/100k`: 100,000 prepared accounts spread over every stage,
//!   some with missing facts: `locate` for each, and [`Portfolio::assess_all`]'s funnel;
//! - `batch_1m/{locate,assess_all,assess_all_parallel}/1m`: the same over 1,000,000 accounts,
//!   on one thread and on all cores (rayon);
//! - `bind/{value,binder}/10k`: 10,000 JSON records bound and placed, through a
//!   `serde_json::Value` tree or straight from the text with `JsonBinder`;
//! - `scaling/stages/{10,100,1000,10000}`: load and validate a generated chain of N stages;
//! - `scaling/plays/1000`: load and validate a playbook with 1,000 plays.
//!
//! Batch and scaling groups set `Throughput::Elements`, so criterion also prints the rate in
//! accounts, stages or plays per second. Every input is checked once before any timing: the
//! playbooks load without warnings, the accounts land where they are meant to.
//!
//! Quick run: `cargo bench -p salesplay-benches --bench engine -- --warm-up-time 1
//! --measurement-time 3`.

use std::cell::OnceCell;
use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use salesplay::expr::Facts;
use salesplay::portfolio::{FunnelReport, Portfolio};
use salesplay::{LoadOptions, Loaded, Playbook};
use salesplay_benches::synthetic::{Lcg, chain_playbook};
use serde_json::{Map, Value, json};

/// The shipped six-step playbook.
const SIX_STEPS: &str = include_str!("../../playbooks/key_account_six_steps.yaml");

/// The evaluation time handed to the engine: a fixed instant, as the engine never reads the
/// clock.
fn now() -> DateTime<Utc> {
    // 2026-01-01T00:00:00Z
    DateTime::from_timestamp(1_767_225_600, 0).expect("a valid instant")
}

/// Loads `source` as the library's users do, with the default options.
fn load(source: &str, origin: &str) -> Loaded {
    Playbook::load_str(source, origin, &LoadOptions::default())
        .unwrap_or_else(|error| panic!("{origin} does not load:\n{error}"))
}

/// Loads `source` and checks that it loads without warnings, so the timed load is the
/// common, clean case.
fn load_clean(source: &str, origin: &str) -> Playbook {
    let loaded = load(source, origin);
    assert!(
        loaded.warnings.is_empty(),
        "{origin} loads with warnings: {:#?}",
        loaded.warnings
    );
    loaded.playbook
}

/// The index of the stage `id` of `playbook`.
fn stage_index(playbook: &Playbook, id: &str) -> usize {
    playbook
        .stage(id)
        .unwrap_or_else(|| panic!("no stage `{id}`"))
        .index()
}

fn bind(playbook: &Playbook, json: &Value) -> Facts {
    playbook
        .facts_from_json(json)
        .unwrap_or_else(|error| panic!("facts do not bind: {error}\n{json:#}"))
}

// ----- the six-step playbook: its accounts -----

/// The two representative accounts, by the stage they are meant to be in.
fn representative_accounts() -> [(&'static str, Value); 2] {
    [
        // In the middle of the flow: trusted, requirements not yet written; no decision maker
        // among the contacts and one contact not updated for more than a year, so two plays
        // match and the unmet exit criterion is explained.
        (
            "discover_needs",
            json!({
                "account": { "target_locked": true },
                "opportunity": { "identified": true },
                "relationship": { "level": "trusted" },
                "requirements": { "written": false },
                "buying_phase": "evaluating",
                "contacts": [
                    { "role": "gatekeeper", "level": "dating", "updated_on": "2025-09-01" },
                    { "role": "user", "level": "trusted", "updated_on": "2024-06-01" },
                    { "role": "influencer", "level": "acquainted", "updated_on": "2025-11-20" },
                ],
            }),
        ),
        // All the way: signed in October, money still owed, so `collect_payment` matches.
        (
            "follow_up_service",
            json!({
                "account": { "target_locked": true },
                "opportunity": { "identified": true },
                "relationship": { "level": "allied" },
                "requirements": { "written": true },
                "buying_phase": "buying",
                "negotiation": { "started": true },
                "agreement": { "signed_on": "2025-10-15" },
                "payment": { "outstanding": 12000.0 },
                "contacts": [
                    { "role": "decision_maker", "level": "allied", "updated_on": "2025-12-01" },
                    { "role": "purchaser", "level": "trusted", "updated_on": "2025-10-10" },
                ],
            }),
        ),
    ]
}

const LEVELS: [&str; 4] = ["acquainted", "dating", "trusted", "allied"];
const ROLES: [&str; 5] = [
    "gatekeeper",
    "decision_maker",
    "purchaser",
    "user",
    "influencer",
];
const PHASES: [&str; 4] = ["unaware", "evaluating", "selecting", "buying"];

/// One of `items`, at random.
fn pick<'a>(rng: &mut Lcg, items: &[&'a str]) -> &'a str {
    let bound = u32::try_from(items.len()).expect("a short list");
    let i = usize::try_from(rng.below(bound)).expect("an index");
    items.get(i).copied().unwrap_or_default()
}

/// A date in 2024 or 2025, as `YYYY-MM-DD`.
fn date(rng: &mut Lcg) -> String {
    format!(
        "{}-{:02}-{:02}",
        2024 + rng.below(2),
        1 + rng.below(12),
        1 + rng.below(28)
    )
}

/// The facts of one random account of the six-step playbook.
///
/// `target` (0 to 6) picks how far the account gets: 0 is not entered, `s + 1` is the stage of
/// index `s` (the `lost` stage is entered from anywhere, never by the walk). The fact that
/// stops the account is, one time in four, absent rather than false, so the walk meets unknown
/// criteria too. About one account in five has no contacts at all.
fn random_account(rng: &mut Lcg, target: u32) -> Value {
    let absent = rng.chance(1, 4);
    let mut facts = Map::new();
    let mut set = |path: [&str; 2], value: Value| {
        let [outer, inner] = path;
        if inner.is_empty() {
            facts.insert(outer.to_owned(), value);
        } else if let Value::Object(object) = facts
            .entry(outer.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
        {
            object.insert(inner.to_owned(), value);
        }
    };

    // customer_analysis: entered with a locked target.
    if target >= 1 || !absent {
        set(["account", "target_locked"], json!(target >= 1));
    }
    // build_trust: entered with an identified opportunity.
    if target >= 2 || (target == 1 && !absent) {
        set(["opportunity", "identified"], json!(target >= 2));
    }
    // discover_needs: entered at `dating` or above.
    if target >= 3 {
        set(["relationship", "level"], json!(pick(rng, &LEVELS[1..])));
    } else if target == 2 && !absent {
        set(["relationship", "level"], json!("acquainted"));
    }
    // present_value: entered with written requirements and a known buying phase.
    if target >= 4 {
        set(["requirements", "written"], json!(true));
        set(["buying_phase", ""], json!(pick(rng, &PHASES)));
    } else if target == 3 {
        if absent {
            // Written, but the buying phase is not known yet.
            set(["requirements", "written"], json!(true));
        } else {
            set(["requirements", "written"], json!(false));
            set(["buying_phase", ""], json!(pick(rng, &PHASES)));
        }
    }
    // win_commitment: entered once negotiation starts.
    if target >= 5 || (target == 4 && !absent) {
        set(["negotiation", "started"], json!(target >= 5));
    }
    // follow_up_service: entered once signed; some are paid in full, some owe, some unknown.
    if target >= 6 {
        set(["agreement", "signed_on"], json!(date(rng)));
        if !absent {
            let owed = if rng.chance(1, 2) {
                0.0
            } else {
                f64::from(rng.below(50_000))
            };
            set(["payment", "outstanding"], json!(owed));
        }
    }
    if !rng.chance(1, 5) {
        let contacts: Vec<Value> = (0..1 + rng.below(4))
            .map(|_| {
                json!({
                    "role": pick(rng, &ROLES),
                    "level": pick(rng, &LEVELS),
                    "updated_on": date(rng),
                })
            })
            .collect();
        set(["contacts", ""], Value::Array(contacts));
    }
    Value::Object(facts)
}

/// `count` random accounts of the six-step playbook, bound to it, spread evenly over "not
/// entered" and the six stages the walk can reach. Deterministic for a given `seed`.
fn random_accounts(playbook: &Playbook, count: usize, seed: u64) -> Vec<Facts> {
    let mut rng = Lcg::new(seed);
    (0..count)
        .map(|_| {
            let target = rng.below(7);
            bind(playbook, &random_account(&mut rng, target))
        })
        .collect()
}

/// Checks that `accounts` are spread over every stage the walk can reach (and over "not
/// entered"), and that the full assessment agrees with `locate` on a sample; prints the spread.
fn check_spread(playbook: &Playbook, accounts: &[Facts], now: DateTime<Utc>) -> FunnelReport {
    let report = Portfolio::assess_all(playbook, accounts, now);
    let mut spread = vec![("(not entered)", report.not_entered)];
    for (stage, counted) in playbook.stages().iter().zip(&report.stages) {
        if !stage.is_from_anywhere() {
            spread.push((stage.id(), counted.count));
        }
    }
    let share = accounts.len() / 10;
    for (id, count) in &spread {
        assert!(
            *count > share,
            "only {count} accounts in `{id}`: {spread:?}"
        );
    }
    eprintln!("{} accounts by derived stage: {spread:?}", accounts.len());
    for facts in accounts.iter().step_by(accounts.len() / 1000 + 1) {
        let located = playbook.locate(facts, now);
        let assessed = playbook.assess(facts, now).stage;
        let expected = located
            .and_then(|i| playbook.stage_at(i))
            .map(|s| s.id().to_owned());
        assert_eq!(assessed, expected, "assess and locate disagree");
    }
    report
}

/// The sum of the derived stages (counted from 1; 0 for not entered) of `accounts`, one
/// `locate` each: the single-thread batch loop.
fn locate_all(playbook: &Playbook, accounts: &[Facts], now: DateTime<Utc>) -> usize {
    accounts
        .iter()
        .map(|facts| playbook.locate(black_box(facts), now).map_or(0, |i| i + 1))
        .sum()
}

// ----- benches -----

/// `load/six_steps`: the shipped playbook from its text to a validated `Playbook`.
fn load_six_steps(c: &mut Criterion) {
    load_clean(SIX_STEPS, "key_account_six_steps.yaml");
    let mut group = c.benchmark_group("load");
    group.bench_function("six_steps", |b| {
        b.iter(|| load(black_box(SIX_STEPS), "key_account_six_steps.yaml"));
    });
    group.finish();
}

/// `assess/six_steps_one/*` and `locate/six_steps_one/*`: one prepared account.
fn one_account(c: &mut Criterion) {
    let playbook = load_clean(SIX_STEPS, "key_account_six_steps.yaml");
    let now = now();
    let accounts: Vec<(&str, Facts)> = representative_accounts()
        .into_iter()
        .map(|(stage, json)| (stage, bind(&playbook, &json)))
        .collect();
    for (stage, facts) in &accounts {
        let index = stage_index(&playbook, stage);
        assert_eq!(playbook.locate(facts, now), Some(index), "{stage}");
        let assessment = playbook.assess(facts, now);
        assert_eq!(assessment.stage.as_deref(), Some(*stage));
        assert!(!assessment.plays.is_empty(), "{stage}: no play matches");
    }

    let mut group = c.benchmark_group("assess");
    for (stage, facts) in &accounts {
        group.bench_with_input(
            BenchmarkId::new("six_steps_one", stage),
            facts,
            |b, facts| b.iter(|| black_box(&playbook).assess(black_box(facts), now)),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("locate");
    for (stage, facts) in &accounts {
        group.bench_with_input(
            BenchmarkId::new("six_steps_one", stage),
            facts,
            |b, facts| b.iter(|| black_box(&playbook).locate(black_box(facts), now)),
        );
    }
    group.finish();
}

/// `batch/*/100k`: 100,000 prepared accounts, placed one by one and as a funnel. The accounts
/// are generated only when a bench of the group runs, so a filtered run skips them.
fn batch_100k(c: &mut Criterion) {
    const COUNT: usize = 100_000;
    let playbook = load_clean(SIX_STEPS, "key_account_six_steps.yaml");
    let now = now();
    let prepared: OnceCell<Vec<Facts>> = OnceCell::new();
    let accounts = || {
        prepared.get_or_init(|| {
            let accounts = random_accounts(&playbook, COUNT, 0x5a1e_5b1a);
            check_spread(&playbook, &accounts, now);
            accounts
        })
    };

    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(COUNT as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("locate", "100k"), |b| {
        let accounts = accounts();
        b.iter(|| locate_all(&playbook, black_box(accounts), now));
    });
    group.bench_function(BenchmarkId::new("assess_all", "100k"), |b| {
        let accounts = accounts();
        b.iter(|| Portfolio::assess_all(&playbook, black_box(accounts), now));
    });
    group.finish();
}

/// `batch_1m/*/1m`: 1,000,000 prepared accounts on one thread and on all cores. The accounts
/// are generated only when a bench of the group runs, so a filtered run skips the seconds
/// that takes.
fn batch_1m(c: &mut Criterion) {
    const COUNT: usize = 1_000_000;
    let playbook = load_clean(SIX_STEPS, "key_account_six_steps.yaml");
    let now = now();
    let prepared: OnceCell<Vec<Facts>> = OnceCell::new();
    let accounts = || {
        prepared.get_or_init(|| {
            let accounts = random_accounts(&playbook, COUNT, 0x0001_0000_0000);
            let report = check_spread(&playbook, &accounts, now);
            assert_eq!(
                Portfolio::assess_all_parallel(&playbook, &accounts, now),
                report,
                "the parallel funnel differs"
            );
            accounts
        })
    };

    let mut group = c.benchmark_group("batch_1m");
    group.throughput(Throughput::Elements(COUNT as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("locate", "1m"), |b| {
        let accounts = accounts();
        b.iter(|| locate_all(&playbook, black_box(accounts), now));
    });
    group.bench_function(BenchmarkId::new("assess_all", "1m"), |b| {
        let accounts = accounts();
        b.iter(|| Portfolio::assess_all(&playbook, black_box(accounts), now));
    });
    group.bench_function(BenchmarkId::new("assess_all_parallel", "1m"), |b| {
        let accounts = accounts();
        b.iter(|| Portfolio::assess_all_parallel(&playbook, black_box(accounts), now));
    });
    group.finish();
}

/// `bind/{value,binder}/10k`: 10,000 JSON records of the six-step playbook bound to facts,
/// through a `serde_json::Value` tree and `Playbook::facts_from_json` (the path of a single
/// account) against `JsonBinder` straight from the text (the path of `salesplay report`).
/// Both must bind the same facts before anything is timed.
fn bind_json(c: &mut Criterion) {
    const COUNT: usize = 10_000;
    let playbook = load_clean(SIX_STEPS, "key_account_six_steps.yaml");
    let mut rng = Lcg::new(0x0b1d);
    let lines: Vec<String> = (0..COUNT)
        .map(|_| {
            let target = rng.below(7);
            random_account(&mut rng, target).to_string()
        })
        .collect();
    let binder = playbook.json_binder();
    let mut bound = salesplay::expr::Bound::new();
    for line in &lines {
        let value: Value = serde_json::from_str(line).expect("generated JSON");
        binder
            .bind_into(line.as_bytes(), &mut bound)
            .expect("the binder binds every generated record");
        assert_eq!(bound.facts(), &bind(&playbook, &value), "{line}");
    }
    let bytes: usize = lines.iter().map(String::len).sum();
    println!("bind: {COUNT} records, {} bytes on average", bytes / COUNT);

    let now = now();
    let mut group = c.benchmark_group("bind");
    group.throughput(Throughput::Elements(COUNT as u64));
    group.bench_function(BenchmarkId::new("value", "10k"), |b| {
        b.iter(|| {
            let mut placed = 0usize;
            for line in black_box(&lines) {
                let value: Value = serde_json::from_str(line).expect("generated JSON");
                let facts = playbook.facts_from_json(&value).expect("valid facts");
                placed += usize::from(playbook.locate(&facts, now).is_some());
            }
            placed
        });
    });
    group.bench_function(BenchmarkId::new("binder", "10k"), |b| {
        let mut bound = salesplay::expr::Bound::new();
        b.iter(|| {
            let mut placed = 0usize;
            for line in black_box(&lines) {
                binder
                    .bind_into(line.as_bytes(), &mut bound)
                    .expect("valid facts");
                placed += usize::from(playbook.locate(bound.facts(), now).is_some());
            }
            placed
        });
    });
    group.finish();
}

/// `scaling/stages/N` and `scaling/plays/1000`: load and validate generated playbooks.
fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling");
    for stages in [10usize, 100, 1_000, 10_000] {
        let yaml = chain_playbook(stages, 4);
        let origin = format!("synthetic_{stages}.yaml");
        let checked = OnceCell::new();
        group.throughput(Throughput::Elements(stages as u64));
        if stages >= 1_000 {
            group.sampling_mode(SamplingMode::Flat);
            group.sample_size(10);
        } else {
            group.sampling_mode(SamplingMode::Auto);
            group.sample_size(50);
        }
        group.bench_with_input(BenchmarkId::new("stages", stages), &yaml, |b, yaml| {
            // Checked here, not above, so a filtered run skips the big loads; criterion calls
            // this closure once per sample, the check runs once.
            checked.get_or_init(|| assert_eq!(load_clean(yaml, &origin).stages().len(), stages));
            b.iter(|| load(black_box(yaml), &origin));
        });
    }

    const PLAYS: usize = 1_000;
    let yaml = chain_playbook(10, PLAYS);
    let origin = format!("synthetic_plays_{PLAYS}.yaml");
    let checked = OnceCell::new();
    group.throughput(Throughput::Elements(PLAYS as u64));
    group.sampling_mode(SamplingMode::Auto);
    group.sample_size(50);
    group.bench_with_input(BenchmarkId::new("plays", PLAYS), &yaml, |b, yaml| {
        checked.get_or_init(|| assert_eq!(load_clean(yaml, &origin).plays().len(), PLAYS));
        b.iter(|| load(black_box(yaml), &origin));
    });
    group.finish();
}

criterion_group!(
    engine,
    load_six_steps,
    one_account,
    batch_100k,
    batch_1m,
    bind_json,
    scaling
);
criterion_main!(engine);
