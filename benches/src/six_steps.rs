//! The shipped key-account six-step playbook (`playbooks/key_account_six_steps.yaml`) written
//! out by hand, for the whole-assessment benches (`benches/assessment.rs`):
//!
//! - [`CRITERIA`] and [`STAGES`]: every entry and exit criterion of the walk, spelled for each
//!   engine (salesplay, CEL for `cel`, ZEN for `zen-expression`), and the stages in walk order;
//! - [`walk`]: the playbook's walk over that table, for engines that evaluate one criterion at
//!   a time (the peers);
//! - [`SixSteps`] and [`floor_locate`]: the same facts as a plain struct and the derived stage
//!   hand-written in Rust, the floor;
//! - [`SixSteps::to_json`]: the facts as the JSON record every engine binds from, so all
//!   engines read the same account;
//! - [`representative`] and [`SixSteps::random`]: the timed accounts and the cross-check ones.
//!
//! The walk, as `Playbook::locate` defines it for this playbook: enter `customer_analysis`
//! when its entry criteria are met; while the current stage's exit criteria are all met, move
//! to the next stage if its entry criteria are all met. Stages form a chain in file order;
//! `lost` is `from_anywhere`, not on the chain, and takes the account whenever `deal.lost` is
//! met, whatever the walk found. Only `met` counts: an unmet, unknown (absent fact) or failing
//! criterion stops the walk alike.

use std::fmt::Write as _;

use crate::synthetic::Lcg;

/// One criterion of the walk, spelled in each engine's syntax.
#[derive(Debug, Clone, Copy)]
pub struct Criterion {
    /// The criterion's id in the playbook.
    pub id: &'static str,
    /// The condition exactly as the playbook writes it.
    pub salesplay: &'static str,
    /// The condition in CEL for the `cel` crate. `has()` takes only a field selection there,
    /// so a top-level fact's presence is `!= null` (an absent variable is an error, which the
    /// walk counts as not met, as salesplay counts `unknown`); the ordered enum's `>=` is a
    /// membership test, as CEL has no ordered enums.
    pub cel: &'static str,
    /// The condition in ZEN for `zen-expression`: `and`, `!= null` for presence, and the
    /// same membership test for the ordered enum.
    pub zen: &'static str,
}

/// Criterion indexes into [`CRITERIA`], so [`STAGES`] can share them.
const TARGET_LOCKED: usize = 0;
const OPPORTUNITY_IDENTIFIED: usize = 1;
const OPPORTUNITY_CONFIRMED: usize = 2;
const KEY_PEOPLE_DATING: usize = 3;
const RELATIONSHIP_DATING: usize = 4;
const REQUIREMENTS_WRITTEN: usize = 5;
const WRITTEN_REQUIREMENTS: usize = 6;
const NEGOTIATION_STARTED: usize = 7;
const NEGOTIATING: usize = 8;
const AGREEMENT_SIGNED: usize = 9;
const SIGNED: usize = 10;
const PAID_IN_FULL: usize = 11;
const MARKED_LOST: usize = 12;

/// Every entry and exit criterion of the six-step playbook, stage by stage, in file order.
pub const CRITERIA: [Criterion; 13] = [
    Criterion {
        id: "target_locked",
        salesplay: "account.target_locked",
        cel: "account.target_locked",
        zen: "account.target_locked",
    },
    Criterion {
        id: "opportunity_identified",
        salesplay: "opportunity.identified",
        cel: "opportunity.identified",
        zen: "opportunity.identified",
    },
    Criterion {
        id: "opportunity_confirmed",
        salesplay: "opportunity.identified",
        cel: "opportunity.identified",
        zen: "opportunity.identified",
    },
    Criterion {
        id: "key_people_dating",
        salesplay: r#"relationship.level >= "dating""#,
        cel: r#"relationship.level in ["dating", "trusted", "allied"]"#,
        zen: r#"relationship.level in ["dating", "trusted", "allied"]"#,
    },
    Criterion {
        id: "relationship_dating",
        salesplay: r#"relationship.level >= "dating""#,
        cel: r#"relationship.level in ["dating", "trusted", "allied"]"#,
        zen: r#"relationship.level in ["dating", "trusted", "allied"]"#,
    },
    Criterion {
        id: "requirements_written",
        salesplay: "requirements.written && has(buying_phase)",
        cel: "requirements.written && buying_phase != null",
        zen: "requirements.written and buying_phase != null",
    },
    Criterion {
        id: "written_requirements",
        salesplay: "requirements.written && has(buying_phase)",
        cel: "requirements.written && buying_phase != null",
        zen: "requirements.written and buying_phase != null",
    },
    Criterion {
        id: "negotiation_started",
        salesplay: "negotiation.started",
        cel: "negotiation.started",
        zen: "negotiation.started",
    },
    Criterion {
        id: "negotiating",
        salesplay: "negotiation.started",
        cel: "negotiation.started",
        zen: "negotiation.started",
    },
    Criterion {
        id: "agreement_signed",
        salesplay: "has(agreement.signed_on)",
        cel: "has(agreement.signed_on)",
        zen: "agreement.signed_on != null",
    },
    Criterion {
        id: "signed",
        salesplay: "has(agreement.signed_on)",
        cel: "has(agreement.signed_on)",
        zen: "agreement.signed_on != null",
    },
    Criterion {
        id: "paid_in_full",
        salesplay: "payment.outstanding <= 0.0",
        cel: "payment.outstanding <= 0.0",
        zen: "payment.outstanding <= 0",
    },
    Criterion {
        id: "marked_lost",
        salesplay: "deal.lost",
        cel: "deal.lost",
        zen: "deal.lost",
    },
];

/// One stage: its id and its criteria, as indexes into [`CRITERIA`].
#[derive(Debug, Clone, Copy)]
pub struct Stage {
    /// The stage's id in the playbook.
    pub id: &'static str,
    /// Entry criteria (all must be met).
    pub entry: &'static [usize],
    /// Exit criteria (all must be met to move on).
    pub exit: &'static [usize],
    /// Whether the stage is entered from anywhere (`lost`), outside the chain.
    pub from_anywhere: bool,
}

/// The stages in file order: six on the chain, then `lost`.
pub const STAGES: [Stage; 7] = [
    Stage {
        id: "customer_analysis",
        entry: &[TARGET_LOCKED],
        exit: &[OPPORTUNITY_IDENTIFIED],
        from_anywhere: false,
    },
    Stage {
        id: "build_trust",
        entry: &[OPPORTUNITY_CONFIRMED],
        exit: &[KEY_PEOPLE_DATING],
        from_anywhere: false,
    },
    Stage {
        id: "discover_needs",
        entry: &[RELATIONSHIP_DATING],
        exit: &[REQUIREMENTS_WRITTEN],
        from_anywhere: false,
    },
    Stage {
        id: "present_value",
        entry: &[WRITTEN_REQUIREMENTS],
        exit: &[NEGOTIATION_STARTED],
        from_anywhere: false,
    },
    Stage {
        id: "win_commitment",
        entry: &[NEGOTIATING],
        exit: &[AGREEMENT_SIGNED],
        from_anywhere: false,
    },
    Stage {
        id: "follow_up_service",
        entry: &[SIGNED],
        exit: &[PAID_IN_FULL],
        from_anywhere: false,
    },
    Stage {
        id: "lost",
        entry: &[MARKED_LOST],
        exit: &[],
        from_anywhere: true,
    },
];

/// The index of `lost` in [`STAGES`] (and in the playbook).
pub const LOST: usize = 6;

/// The derived stage by the playbook's walk over [`STAGES`], asking `met(criterion index)`
/// for one criterion at a time, in the order `Playbook::locate` evaluates them: the first
/// stage's entry; then, per step, the current stage's exit and the next stage's entry; last,
/// the from-anywhere stages' entry. The chain's last stage has no successor, so its exit
/// criteria decide nothing; this walk still evaluates them (`Playbook::locate` no longer does,
/// nor does it re-read an entry criterion equal to the exit criterion just met).
///
/// Returns the stage's index, or `None` when the first stage is not entered (and not lost).
#[inline]
pub fn walk(mut met: impl FnMut(usize) -> bool) -> Option<usize> {
    let mut all = |criteria: &[usize]| criteria.iter().all(|&i| met(i));
    let mut current = None;
    if let Some(first) = STAGES.first()
        && all(first.entry)
    {
        let mut at = 0usize;
        while let Some(stage) = STAGES.get(at) {
            if !all(stage.exit) {
                break;
            }
            // The chain: the next stage in file order that is not from-anywhere.
            let next = STAGES
                .iter()
                .enumerate()
                .skip(at + 1)
                .find(|(_, s)| !s.from_anywhere);
            match next {
                Some((to, next)) if all(next.entry) => at = to,
                _ => break,
            }
        }
        current = Some(at);
    }
    let anywhere = STAGES
        .iter()
        .enumerate()
        .filter(|(_, s)| s.from_anywhere && !s.entry.is_empty())
        .find(|(_, s)| all(s.entry))
        .map(|(i, _)| i);
    anywhere.or(current)
}

/// The relationship ladder, in order (`relationship_level` in the playbook).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `acquainted`.
    Acquainted,
    /// `dating`.
    Dating,
    /// `trusted`.
    Trusted,
    /// `allied`.
    Allied,
}

impl Level {
    /// Every level, in order.
    pub const ALL: [Level; 4] = [
        Level::Acquainted,
        Level::Dating,
        Level::Trusted,
        Level::Allied,
    ];

    /// The playbook's name for the level.
    pub fn name(self) -> &'static str {
        match self {
            Level::Acquainted => "acquainted",
            Level::Dating => "dating",
            Level::Trusted => "trusted",
            Level::Allied => "allied",
        }
    }
}

/// The customer's buying phases (`buying_phase`).
pub const PHASES: [&str; 4] = ["unaware", "evaluating", "selecting", "buying"];

/// Contact roles.
pub const ROLES: [&str; 5] = [
    "gatekeeper",
    "decision_maker",
    "purchaser",
    "user",
    "influencer",
];

/// One contact at the customer (read by plays only, never by the walk).
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// One of [`ROLES`].
    pub role: &'static str,
    /// The relationship with the contact.
    pub level: Level,
    /// Last updated, `YYYY-MM-DD`.
    pub updated_on: String,
}

/// The facts of one account of the six-step playbook; `None` is an absent fact.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SixSteps {
    /// `account.target_locked`.
    pub target_locked: Option<bool>,
    /// `opportunity.identified`.
    pub opportunity_identified: Option<bool>,
    /// `relationship.level`.
    pub relationship_level: Option<Level>,
    /// `requirements.written`.
    pub requirements_written: Option<bool>,
    /// `buying_phase`, one of [`PHASES`].
    pub buying_phase: Option<&'static str>,
    /// `negotiation.started`.
    pub negotiation_started: Option<bool>,
    /// `agreement.signed_on`, `YYYY-MM-DD`.
    pub agreement_signed_on: Option<String>,
    /// `payment.outstanding`.
    pub payment_outstanding: Option<f64>,
    /// `deal.lost`.
    pub deal_lost: Option<bool>,
    /// `contacts`.
    pub contacts: Vec<Contact>,
}

/// The derived stage hand-written: the floor. Same criteria, same order and the same
/// `lost`-wins rule as [`walk`], over plain fields; the last stage's exit criterion is left
/// out, as it decides nothing.
#[inline]
pub fn floor_locate(facts: &SixSteps) -> Option<usize> {
    let lost = facts.deal_lost == Some(true);
    if facts.target_locked != Some(true) {
        return lost.then_some(LOST);
    }
    let written = facts.requirements_written == Some(true) && facts.buying_phase.is_some();
    let stage = if facts.opportunity_identified != Some(true) {
        0
    } else if facts.relationship_level.is_none_or(|l| l < Level::Dating) {
        1
    } else if !written {
        2
    } else if facts.negotiation_started != Some(true) {
        3
    } else if facts.agreement_signed_on.is_none() {
        4
    } else {
        5
    };
    Some(if lost { LOST } else { stage })
}

impl SixSteps {
    /// The facts as one JSON object (one JSONL record): groups nested (`{"account":
    /// {"target_locked": true}}`), absent facts left out, and a group with none of its facts
    /// left out too.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push('{');
        let mut first = true;
        let mut field = |out: &mut String, key: &str, value: Option<String>| {
            if let Some(value) = value {
                if !first {
                    out.push(',');
                }
                first = false;
                let _ = write!(out, "\"{key}\":{value}");
            }
        };
        let group =
            |inner: &str, value: Option<String>| value.map(|v| format!("{{\"{inner}\":{v}}}"));
        let boolean = |b: Option<bool>| b.map(|b| b.to_string());
        let text = |s: Option<&str>| s.map(|s| format!("\"{s}\""));
        field(
            &mut out,
            "account",
            group("target_locked", boolean(self.target_locked)),
        );
        field(
            &mut out,
            "opportunity",
            group("identified", boolean(self.opportunity_identified)),
        );
        field(
            &mut out,
            "relationship",
            group("level", text(self.relationship_level.map(Level::name))),
        );
        field(
            &mut out,
            "requirements",
            group("written", boolean(self.requirements_written)),
        );
        field(&mut out, "buying_phase", text(self.buying_phase));
        field(
            &mut out,
            "negotiation",
            group("started", boolean(self.negotiation_started)),
        );
        field(
            &mut out,
            "agreement",
            group("signed_on", text(self.agreement_signed_on.as_deref())),
        );
        field(
            &mut out,
            "payment",
            group(
                "outstanding",
                self.payment_outstanding.map(|x| format!("{x:?}")),
            ),
        );
        field(&mut out, "deal", group("lost", boolean(self.deal_lost)));
        if !self.contacts.is_empty() {
            let contacts: Vec<String> = self
                .contacts
                .iter()
                .map(|c| {
                    format!(
                        "{{\"role\":\"{}\",\"level\":\"{}\",\"updated_on\":\"{}\"}}",
                        c.role,
                        c.level.name(),
                        c.updated_on
                    )
                })
                .collect();
            field(
                &mut out,
                "contacts",
                Some(format!("[{}]", contacts.join(","))),
            );
        }
        out.push('}');
        out
    }

    /// A random account: how far it gets is spread over not entered, the six chain stages
    /// and lost; the fact that stops it is, one time in four, absent rather than false, and
    /// any other fact may be absent too. Deterministic for a given generator.
    pub fn random(rng: &mut Lcg) -> SixSteps {
        let target = rng.below(7);
        let maybe = |rng: &mut Lcg, b: bool| (!rng.chance(1, 4)).then_some(b);
        let mut facts = SixSteps {
            target_locked: maybe(rng, target >= 1),
            opportunity_identified: maybe(rng, target >= 2),
            ..SixSteps::default()
        };
        let level = if target >= 3 {
            pick(rng, &Level::ALL[1..])
        } else {
            Level::Acquainted
        };
        facts.relationship_level = maybe(rng, true).map(|_| level);
        facts.requirements_written = maybe(rng, target >= 4);
        facts.buying_phase = maybe(rng, true).map(|_| pick(rng, &PHASES));
        facts.negotiation_started = maybe(rng, target >= 5);
        if target >= 6 {
            facts.agreement_signed_on = Some(date(rng));
        }
        facts.payment_outstanding = maybe(rng, true).map(|_| f64::from(rng.below(3) * 5_000));
        // One account in eight is lost, at whatever stage; half the others say so.
        facts.deal_lost = if rng.chance(1, 8) {
            Some(true)
        } else {
            maybe(rng, false).filter(|_| rng.chance(1, 2))
        };
        facts.contacts = (0..rng.below(4)).map(|_| contact(rng)).collect();
        facts
    }
}

/// One of `items`, at random.
fn pick<T: Copy>(rng: &mut Lcg, items: &[T]) -> T {
    let bound = u32::try_from(items.len()).unwrap_or(u32::MAX);
    let i = usize::try_from(rng.below(bound)).unwrap_or(0);
    // INVARIANT: `i < items.len()`; the benches never pass an empty slice.
    items[i.min(items.len().saturating_sub(1))]
}

/// A date in 2024 or 2025, `YYYY-MM-DD`.
fn date(rng: &mut Lcg) -> String {
    format!(
        "{}-{:02}-{:02}",
        2024 + rng.below(2),
        1 + rng.below(12),
        1 + rng.below(28)
    )
}

fn contact(rng: &mut Lcg) -> Contact {
    Contact {
        role: pick(rng, &ROLES),
        level: pick(rng, &Level::ALL),
        updated_on: date(rng),
    }
}

/// The timed accounts, by the stage they are meant to be in: early (`build_trust`), middle
/// (`discover_needs`) and end (`follow_up_service`). Every fact the walk reads on the way is
/// present, `deal.lost` included (`false`), so no engine times an error path.
pub fn representative() -> [(&'static str, SixSteps); 3] {
    let contact = |role, level, updated_on: &str| Contact {
        role,
        level,
        updated_on: updated_on.to_owned(),
    };
    [
        (
            "build_trust",
            SixSteps {
                target_locked: Some(true),
                opportunity_identified: Some(true),
                relationship_level: Some(Level::Acquainted),
                deal_lost: Some(false),
                contacts: vec![contact("gatekeeper", Level::Acquainted, "2025-11-02")],
                ..SixSteps::default()
            },
        ),
        (
            "discover_needs",
            SixSteps {
                target_locked: Some(true),
                opportunity_identified: Some(true),
                relationship_level: Some(Level::Trusted),
                requirements_written: Some(false),
                buying_phase: Some("evaluating"),
                deal_lost: Some(false),
                contacts: vec![
                    contact("gatekeeper", Level::Dating, "2025-09-01"),
                    contact("user", Level::Trusted, "2024-06-01"),
                    contact("influencer", Level::Acquainted, "2025-11-20"),
                ],
                ..SixSteps::default()
            },
        ),
        (
            "follow_up_service",
            SixSteps {
                target_locked: Some(true),
                opportunity_identified: Some(true),
                relationship_level: Some(Level::Allied),
                requirements_written: Some(true),
                buying_phase: Some("buying"),
                negotiation_started: Some(true),
                agreement_signed_on: Some("2025-10-15".to_owned()),
                payment_outstanding: Some(12_000.0),
                deal_lost: Some(false),
                contacts: vec![
                    contact("decision_maker", Level::Allied, "2025-12-01"),
                    contact("purchaser", Level::Trusted, "2025-10-10"),
                ],
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk over the table, answering each criterion from the struct.
    fn table_locate(f: &SixSteps) -> Option<usize> {
        walk(|i| match i {
            TARGET_LOCKED => f.target_locked == Some(true),
            OPPORTUNITY_IDENTIFIED | OPPORTUNITY_CONFIRMED => {
                f.opportunity_identified == Some(true)
            }
            KEY_PEOPLE_DATING | RELATIONSHIP_DATING => {
                f.relationship_level.is_some_and(|l| l >= Level::Dating)
            }
            REQUIREMENTS_WRITTEN | WRITTEN_REQUIREMENTS => {
                f.requirements_written == Some(true) && f.buying_phase.is_some()
            }
            NEGOTIATION_STARTED | NEGOTIATING => f.negotiation_started == Some(true),
            AGREEMENT_SIGNED | SIGNED => f.agreement_signed_on.is_some(),
            PAID_IN_FULL => f.payment_outstanding.is_some_and(|x| x <= 0.0),
            _ => f.deal_lost == Some(true),
        })
    }

    #[test]
    fn representative_accounts_are_where_they_say() {
        for (stage, facts) in representative() {
            let at = floor_locate(&facts)
                .and_then(|i| STAGES.get(i))
                .map(|s| s.id);
            assert_eq!(at, Some(stage));
            assert_eq!(table_locate(&facts), floor_locate(&facts));
        }
    }

    #[test]
    fn floor_and_table_walk_agree_and_spread() {
        let mut rng = Lcg::new(11);
        let mut seen = [0usize; 8];
        for _ in 0..20_000 {
            let facts = SixSteps::random(&mut rng);
            let at = floor_locate(&facts);
            assert_eq!(table_locate(&facts), at, "{facts:?}");
            seen[at.map_or(7, |i| i)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 200), "{seen:?}");
    }

    #[test]
    fn lost_wins_and_json_is_nested() {
        let mut facts = representative()[2].1.clone();
        facts.deal_lost = Some(true);
        assert_eq!(floor_locate(&facts), Some(LOST));
        let json = facts.to_json();
        assert!(
            json.starts_with(r#"{"account":{"target_locked":true},"#),
            "{json}"
        );
        assert!(
            json.contains(r#""payment":{"outstanding":12000.0}"#),
            "{json}"
        );
        assert!(json.contains(r#""deal":{"lost":true}"#), "{json}");
        assert_eq!(SixSteps::default().to_json(), "{}");
    }
}
