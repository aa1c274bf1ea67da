//! Embedding salesplay in a CRM, in five minutes: the CRM's own `Account` struct is bound to
//! a playbook's facts with serde, assessed (stage, what blocks it and why, missing facts,
//! next plays), and a few accounts are rolled up into a funnel.
//!
//! Run with `cargo run -p salesplay --example embed`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use salesplay::journey::{Journey, MoveError, Note};
use salesplay::portfolio::Funnel;
use salesplay::{Assessment, LoadOptions, Playbook};
use serde::Serialize;

const PLAYBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../playbooks/key_account_six_steps.yaml"
);

/// The language labels are printed in (any BCP-47 tag; `zh` works too).
const LANG: &str = "en";

// ---------------------------------------------------------------------------------------
// The CRM's data model. Field names follow the playbook's fact paths (`relationship.level`
// is `relationship: { level }`); fields the playbook does not declare (`name`, `amount`, …)
// are ignored when binding, and `None` becomes an unknown fact, not a false one.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Serialize)]
struct Account {
    id: &'static str,
    name: &'static str,
    /// Expected deal value; weights the pipeline.
    amount: f64,
    /// When the account entered its current stage, as the CRM recorded it.
    stage_entered_at: DateTime<Utc>,
    #[serde(rename = "account")]
    targeting: Targeting,
    opportunity: Opportunity,
    relationship: Relationship,
    requirements: Requirements,
    buying_phase: Option<BuyingPhase>,
    negotiation: Negotiation,
    agreement: Agreement,
    payment: Payment,
    contacts: Vec<Contact>,
}

#[derive(Clone, Serialize)]
struct Targeting {
    target_locked: bool,
}

#[derive(Clone, Serialize)]
struct Opportunity {
    identified: bool,
}

#[derive(Clone, Serialize)]
struct Relationship {
    level: Option<Level>,
}

#[derive(Clone, Serialize)]
struct Requirements {
    written: Option<bool>,
}

#[derive(Clone, Serialize)]
struct Negotiation {
    started: bool,
}

#[derive(Clone, Serialize)]
struct Agreement {
    signed_on: Option<NaiveDate>,
}

#[derive(Clone, Serialize)]
struct Payment {
    outstanding: Option<f64>,
}

#[derive(Clone, Serialize)]
struct Contact {
    name: &'static str,
    role: Role,
    level: Level,
    updated_on: NaiveDate,
}

#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
enum Level {
    Acquainted,
    Dating,
    Trusted,
    Allied,
}

#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
enum Role {
    Gatekeeper,
    DecisionMaker,
    Purchaser,
    User,
    Influencer,
}

#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
enum BuyingPhase {
    Evaluating,
    Selecting,
    Buying,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap()
}

fn main() {
    // 1. Load the playbook once at start-up; it is immutable and `Send + Sync`, so a service
    //    shares it behind an `Arc`. Loading validates everything and reports every problem
    //    with its `file:line:col`.
    let loaded = match Playbook::load_path(PLAYBOOK, &LoadOptions::default()) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    for warning in &loaded.warnings {
        eprintln!("{}", warning.message);
    }
    let playbook = loaded.playbook;
    println!(
        "Playbook `{}` v{}: {}",
        playbook.id(),
        playbook.version(),
        playbook.name().get(LANG)
    );

    // The library never reads the clock: the caller says what "now" is. A service passes
    // `Utc::now()`; a fixed date keeps this example's output the same on every run.
    let now = at(2026, 6, 1);

    // 2. Bind one account straight from the CRM struct, and assess it.
    let accounts = crm_accounts();
    let northwind = &accounts[1];
    let facts = playbook
        .facts_from(northwind)
        .expect("the CRM's fields have the playbook's types");
    let assessment = playbook.assess_since(&facts, now, Some(northwind.stage_entered_at));
    println!();
    println!("== {} ({}) ==", northwind.name, northwind.id);
    print_assessment(&playbook, &assessment);

    // 3. Journeys, the stateful side: every move goes through the engine and is recorded
    //    with who, why and the criteria checked. Northwind's journey so far:
    let mut journey = Journey::start(&playbook, &facts, at(2026, 1, 5), Note::by("li.wei"))
        .expect("the target is locked");
    for day in [at(2026, 2, 1), at(2026, 3, 2)] {
        journey
            .advance(&playbook, &facts, day, Note::by("li.wei"))
            .expect("the exit and entry criteria hold");
    }
    println!();
    println!("== Journey of {} ==", northwind.name);
    // Today the engine refuses to move on, and says exactly why.
    match journey.advance(&playbook, &facts, now, Note::by("li.wei")) {
        Ok(moved) => println!("Moved to `{}`", moved.to),
        Err(MoveError::Refused { to, unmet, .. }) => {
            println!("Refused to move on to `{}`:", to.join("`, `"));
            for criterion in &unmet {
                println!("  ✗ {criterion}");
            }
        }
        Err(e) => println!("Refused: {e}"),
    }
    // The customer sends written requirements; the CRM updates the account.
    let mut updated = northwind.clone();
    updated.requirements.written = Some(true);
    let facts = playbook.facts_from(&updated).expect("same types as before");
    let note = Note::by("li.wei").because("requirements received by email");
    match journey.advance(&playbook, &facts, now, note) {
        Ok(moved) => {
            let checked: Vec<String> = moved
                .criteria
                .iter()
                .map(|c| format!("{} {}", c.id, c.status.as_str()))
                .collect();
            println!("Moved to `{}` (checked: {})", moved.to, checked.join(", "));
        }
        Err(e) => println!("Refused: {e}"),
    }
    println!("History:");
    for m in journey.history() {
        println!(
            "  {}  {:<17} → {:<17} {:<8} by {}{}",
            m.at.format("%Y-%m-%d"),
            m.from.as_deref().unwrap_or("(none)"),
            m.to,
            m.kind.as_str(),
            m.by.as_deref().unwrap_or("?"),
            m.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default(),
        );
    }
    // Journeys are plain serde: store them in the CRM's database as JSON.
    let json = serde_json::to_string(&journey).expect("a journey serializes");
    let reloaded = Journey::from_json(&json).expect("and reads back");
    println!(
        "Saved as {} bytes of JSON; reloaded {}",
        json.len(),
        if reloaded == journey {
            "identical"
        } else {
            "DIFFERENT"
        }
    );

    // 4. The whole book of accounts as a funnel. `add_with` takes what the facts do not
    //    say: when the account entered its stage (for stall detection), an id, an amount.
    let mut funnel = Funnel::new(&playbook);
    for account in &accounts {
        match playbook.facts_from(account) {
            Ok(facts) => {
                funnel.add_with(
                    &facts,
                    now,
                    Some(account.stage_entered_at),
                    Some(account.id),
                    Some(account.amount),
                );
            }
            Err(e) => {
                eprintln!("{}: {e}", account.id);
                funnel.add_invalid(account.id);
            }
        }
    }
    // A record from an import that does not fit the playbook: counted, never lost.
    let bad = serde_json::json!({ "id": "crm-9", "relationship": { "level": "married" } });
    if let Err(e) = playbook.facts_from_json(&bad) {
        println!();
        println!("Rejected crm-9: {e}");
        funnel.add_invalid("crm-9");
    }
    println!();
    print_funnel(&funnel);
}

/// Prints one assessment the way a CRM sidebar would.
fn print_assessment(playbook: &Playbook, assessment: &Assessment) {
    let stage_name = |id: &str| {
        playbook
            .stage(id)
            .map_or(id.to_string(), |s| s.name().get(LANG).to_string())
    };
    match &assessment.stage {
        Some(id) => println!("Stage:        {} (`{id}`)", stage_name(id)),
        None => println!("Stage:        not entered yet"),
    }
    let path: Vec<String> = assessment.path.iter().map(|id| stage_name(id)).collect();
    println!("Path:         {}", path.join(" → "));
    if let Some(days) = assessment.days_in_stage {
        let stalled = if assessment.stalled {
            " — stalled"
        } else {
            ""
        };
        println!("In stage:     {days} days{stalled}");
    }

    println!("Blocked by:");
    if assessment.blocked_by.is_empty() {
        println!("  nothing");
    }
    for id in &assessment.blocked_by {
        let label = criterion_label(playbook, id).unwrap_or(id);
        println!("  ✗ {label} (`{id}`)");
        // The reasons are on the criterion's status, in whichever stage lists it.
        let status = assessment
            .stages
            .iter()
            .flat_map(|s| s.exit.iter().chain(&s.entry))
            .find(|c| &c.id == id);
        for reason in status.map(|c| c.reasons.as_slice()).unwrap_or_default() {
            println!("      {reason}");
        }
    }

    println!("Missing facts:");
    if assessment.missing_facts.is_empty() {
        println!("  none");
    }
    for path in &assessment.missing_facts {
        match playbook.fact_label(path) {
            Some(label) => println!("  ? {} (`{path}`)", label.get(LANG)),
            None => println!("  ? `{path}`"),
        }
    }

    println!("Activities:");
    for id in &assessment.activities {
        let label = assessment
            .stage
            .as_deref()
            .and_then(|s| playbook.stage(s))
            .and_then(|s| s.activities().iter().find(|a| a.id() == id))
            .map_or(id.as_str(), |a| a.label().get(LANG));
        println!("  • {label}");
    }

    println!("Next plays:");
    if assessment.plays.is_empty() {
        println!("  none");
    }
    for play in &assessment.plays {
        let label = playbook
            .plays()
            .iter()
            .find(|p| p.id() == play.id)
            .map_or(play.id.as_str(), |p| p.label().get(LANG));
        println!("  [{:>3}] {label}", play.priority);
    }
}

/// The label of criterion `id`, entry or exit, in whichever stage declares it.
fn criterion_label<'a>(playbook: &'a Playbook, id: &str) -> Option<&'a str> {
    playbook
        .stages()
        .iter()
        .flat_map(|s| s.entry().iter().chain(s.exit()))
        .find(|c| c.id() == id)
        .map(|c| c.label().get(LANG))
}

fn print_funnel(funnel: &Funnel<'_>) {
    let report = funnel.report();
    println!(
        "== Funnel: {} accounts ({} invalid, {} not entered) ==",
        report.accounts, report.invalid, report.not_entered
    );
    println!(
        "{:<20} {:>5} {:>7} {:>10} {:>7} {:>11}",
        "stage", "count", "reached", "conversion", "stalled", "weighted"
    );
    for stage in &report.stages {
        let conversion = stage
            .conversion
            .map_or("-".to_string(), |c| format!("{:.0}%", c * 100.0));
        println!(
            "{:<20} {:>5} {:>7} {:>10} {:>7} {:>11.2}",
            stage.id, stage.count, stage.reached, conversion, stage.stalled, stage.weighted
        );
    }
    println!(
        "Weighted pipeline: {:.2} (amount × stage probability; {} accounts priced)",
        report.weighted_pipeline, report.priced
    );
    println!("Stalled accounts: {}", report.stalled_total);
    for s in &report.stalled {
        println!(
            "  {} in `{}` for {} days",
            s.account.as_deref().unwrap_or("(no id)"),
            s.stage,
            s.days
        );
    }
    if !report.invalid_records.is_empty() {
        println!("Invalid records: {}", report.invalid_records.join(", "));
    }
}

/// What the CRM would load from its database.
fn crm_accounts() -> Vec<Account> {
    let contact = |name, role, level| Contact {
        name,
        role,
        level,
        updated_on: date(2026, 2, 1),
    };
    vec![
        Account {
            id: "crm-1",
            name: "Contoso",
            amount: 120_000.0,
            stage_entered_at: at(2026, 5, 20),
            targeting: Targeting {
                target_locked: true,
            },
            opportunity: Opportunity { identified: false },
            relationship: Relationship { level: None },
            requirements: Requirements {
                written: Some(false),
            },
            buying_phase: None,
            negotiation: Negotiation { started: false },
            agreement: Agreement { signed_on: None },
            payment: Payment { outstanding: None },
            contacts: vec![],
        },
        Account {
            id: "crm-2",
            name: "Northwind",
            amount: 250_000.0,
            stage_entered_at: at(2026, 3, 2),
            targeting: Targeting {
                target_locked: true,
            },
            opportunity: Opportunity { identified: true },
            relationship: Relationship {
                level: Some(Level::Trusted),
            },
            // Nobody has asked yet: unknown, not false.
            requirements: Requirements { written: None },
            buying_phase: Some(BuyingPhase::Evaluating),
            negotiation: Negotiation { started: false },
            agreement: Agreement { signed_on: None },
            payment: Payment { outstanding: None },
            contacts: vec![
                contact("Li Wei", Role::Purchaser, Level::Trusted),
                Contact {
                    updated_on: date(2024, 11, 3),
                    ..contact("Ana Souza", Role::User, Level::Dating)
                },
            ],
        },
        Account {
            id: "crm-3",
            name: "Fabrikam",
            amount: 80_000.0,
            stage_entered_at: at(2026, 5, 1),
            targeting: Targeting {
                target_locked: true,
            },
            opportunity: Opportunity { identified: true },
            relationship: Relationship {
                level: Some(Level::Allied),
            },
            requirements: Requirements {
                written: Some(true),
            },
            buying_phase: Some(BuyingPhase::Selecting),
            negotiation: Negotiation { started: false },
            agreement: Agreement { signed_on: None },
            payment: Payment { outstanding: None },
            contacts: vec![
                contact("Sam Okafor", Role::DecisionMaker, Level::Allied),
                contact("Jo Park", Role::Gatekeeper, Level::Acquainted),
            ],
        },
        Account {
            id: "crm-4",
            name: "Tailspin",
            amount: 60_000.0,
            stage_entered_at: at(2026, 4, 10),
            targeting: Targeting {
                target_locked: true,
            },
            opportunity: Opportunity { identified: true },
            relationship: Relationship {
                level: Some(Level::Allied),
            },
            requirements: Requirements {
                written: Some(true),
            },
            buying_phase: Some(BuyingPhase::Buying),
            negotiation: Negotiation { started: true },
            agreement: Agreement {
                signed_on: Some(date(2026, 4, 10)),
            },
            payment: Payment {
                outstanding: Some(15_000.0),
            },
            contacts: vec![contact("Mia Chen", Role::DecisionMaker, Level::Allied)],
        },
        Account {
            id: "crm-5",
            name: "Wingtip",
            amount: 40_000.0,
            stage_entered_at: at(2026, 1, 15),
            targeting: Targeting {
                target_locked: true,
            },
            opportunity: Opportunity { identified: true },
            relationship: Relationship {
                level: Some(Level::Acquainted),
            },
            requirements: Requirements {
                written: Some(false),
            },
            buying_phase: Some(BuyingPhase::Evaluating),
            negotiation: Negotiation { started: false },
            agreement: Agreement { signed_on: None },
            payment: Payment { outstanding: None },
            contacts: vec![contact("Raj Patel", Role::Influencer, Level::Acquainted)],
        },
        Account {
            id: "crm-6",
            name: "Litware",
            amount: 30_000.0,
            stage_entered_at: at(2026, 5, 28),
            targeting: Targeting {
                target_locked: false,
            },
            opportunity: Opportunity { identified: false },
            relationship: Relationship { level: None },
            requirements: Requirements {
                written: Some(false),
            },
            buying_phase: None,
            negotiation: Negotiation { started: false },
            agreement: Agreement { signed_on: None },
            payment: Payment { outstanding: None },
            contacts: vec![],
        },
    ]
}
