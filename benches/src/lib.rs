//! Shared material for the criterion benches of `salesplay-expr` and its peers.
//!
//! The benches themselves live in `benches/criteria.rs`; this library only holds what they
//! share and what a reader should be able to check at a glance:
//!
//! - [`Case`]: one criterion spelled in each engine's own syntax, so the side-by-side numbers
//!   are known to measure the same question;
//! - [`Account`] and the `floor_*` functions: the same criteria hand-written in Rust over a
//!   plain struct, the lower bound no interpreter can beat.
//!
//! Run the benches with `cargo bench -p salesplay-benches --bench criteria`; a quick look is
//! `cargo bench -p salesplay-benches --bench criteria -- --warm-up-time 1 --measurement-time 3`.
//! Every engine's answer is checked once, before any timing, so a bench never times an error.
//!
//! [`synthetic`] holds the generated inputs of the engine benches (`benches/engine.rs`).

pub mod six_steps;
pub mod synthetic;

/// One criterion, spelled in the syntax of each engine that is benched.
///
/// Each spelling asks the same question of the same facts (see [`Account::sample`]), and each
/// is `true` for them.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The benchmark group's name, e.g. `a_scalar`.
    pub group: &'static str,
    /// The criterion in the salesplay criterion language (a CEL subset).
    pub salesplay: &'static str,
    /// The criterion in CEL, for the `cel` crate.
    pub cel: &'static str,
    /// The criterion in ZEN expression language, for the `zen-expression` crate.
    pub zen: &'static str,
    /// The criterion as a Rhai script, for the `rhai` crate.
    pub rhai: &'static str,
}

/// Case (a): two scalar comparisons joined by `&&`.
pub const SCALAR: Case = Case {
    group: "a_scalar",
    salesplay: r#"amount > 50000 && stage == "qualify""#,
    cel: r#"amount > 50000 && stage == "qualify""#,
    zen: r#"amount > 50000 and stage == "qualify""#,
    rhai: r#"amount > 50000 && stage == "qualify""#,
};

/// Case (b): case (a) and a search through a list of records, whose match is the last element.
pub const WITH_CONTACTS: Case = Case {
    group: "b_exists",
    salesplay: r#"amount > 50000 && stage == "qualify" && contacts.exists(c, c.role == "champion")"#,
    cel: r#"amount > 50000 && stage == "qualify" && contacts.exists(c, c.role == "champion")"#,
    zen: r#"amount > 50000 and stage == "qualify" and some(contacts, #.role == "champion")"#,
    rhai: r#"amount > 50000 && stage == "qualify" && contacts.some(|c| c.role == "champion")"#,
};

/// The facts every case reads, as plain Rust data.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// The deal's amount.
    pub amount: f64,
    /// The sales stage the CRM records.
    pub stage: String,
    /// The people at the customer, in the order they were met.
    pub contacts: Vec<Contact>,
}

/// One person at the customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// What the person does in the deal, e.g. `champion`.
    pub role: String,
}

/// The roles of [`Account::sample`]'s contacts, in order: the champion comes last, so a search
/// for it visits every contact.
pub const SAMPLE_ROLES: [&str; 3] = ["user", "influencer", "champion"];

/// The amount of [`Account::sample`].
pub const SAMPLE_AMOUNT: f64 = 75_000.0;

/// The stage of [`Account::sample`].
pub const SAMPLE_STAGE: &str = "qualify";

impl Account {
    /// The account every case is checked against: every case is `true` for it.
    pub fn sample() -> Self {
        Self {
            amount: SAMPLE_AMOUNT,
            stage: SAMPLE_STAGE.to_owned(),
            contacts: SAMPLE_ROLES
                .iter()
                .map(|role| Contact {
                    role: (*role).to_owned(),
                })
                .collect(),
        }
    }
}

/// Case (a) hand-written: the floor for [`SCALAR`].
#[inline]
pub fn floor_scalar(account: &Account) -> bool {
    account.amount > 50_000.0 && account.stage == "qualify"
}

/// Case (b) hand-written: the floor for [`WITH_CONTACTS`].
#[inline]
pub fn floor_with_contacts(account: &Account) -> bool {
    floor_scalar(account)
        && account
            .contacts
            .iter()
            .any(|contact| contact.role == "champion")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_hold_for_the_sample() {
        let account = Account::sample();
        assert!(floor_scalar(&account));
        assert!(floor_with_contacts(&account));
    }

    #[test]
    fn floor_with_contacts_needs_a_champion() {
        let mut account = Account::sample();
        account.contacts.pop();
        assert!(floor_scalar(&account));
        assert!(!floor_with_contacts(&account));
    }
}
