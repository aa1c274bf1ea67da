//! Portfolios: many accounts at once, as a funnel.
//!
//! A [`Funnel`] is a streaming accumulator: feed it one account at a time with
//! [`Funnel::add`] (or [`Funnel::add_with`] when the time the account entered its stage, its
//! id or its amount are known), count rejected records with [`Funnel::add_invalid`], and read
//! the result with [`Funnel::report`]. Adding an account allocates nothing unless the account
//! is stalled and kept as an example, so a funnel can take millions of accounts. Funnels of
//! the same playbook combine with [`Funnel::merge`], which is how the `parallel` feature
//! spreads the work over all cores.
//!
//! [`Portfolio`] assesses a whole slice in one call.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use salesplay::Playbook;
//! use salesplay::portfolio::Funnel;
//!
//! let playbook = Playbook::from_yaml_str(r#"
//! id: deals
//! facts: { qualified: bool, signed: bool }
//! stages:
//!   - id: qualify
//!     probability: 0.2
//!     max_days: 14
//!     exit: [{ id: is_qualified, when: qualified }]
//!   - id: negotiate
//!     probability: 0.6
//!     entry: [{ id: qualified_again, when: qualified }]
//!     exit: [{ id: is_signed, when: signed }]
//!   - id: won
//!     probability: 1.0
//!     entry: [{ id: signed_again, when: signed }]
//! "#).unwrap();
//! let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
//! let entered = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
//!
//! let mut funnel = Funnel::new(&playbook);
//! for (facts, amount) in [
//!     (serde_json::json!({ "qualified": false }), 1000.0),
//!     (serde_json::json!({ "qualified": true }), 5000.0),
//!     (serde_json::json!({ "qualified": true, "signed": true }), 2000.0),
//! ] {
//!     let facts = playbook.facts_from_json(&facts).unwrap();
//!     funnel.add_with(&facts, now, Some(entered), None, Some(amount));
//! }
//! funnel.add_invalid("line 4");
//!
//! let report = funnel.report();
//! assert_eq!(report.accounts, 4);
//! assert_eq!(report.invalid, 1);
//! let counts: Vec<usize> = report.stages.iter().map(|s| s.count).collect();
//! assert_eq!(counts, [1, 1, 1]);
//! let reached: Vec<usize> = report.stages.iter().map(|s| s.reached).collect();
//! assert_eq!(reached, [3, 2, 1]);
//! assert_eq!(report.stages[0].conversion, Some(2.0 / 3.0));
//! // 1000 × 0.2 + 5000 × 0.6 + 2000 × 1.0
//! assert_eq!(report.weighted_pipeline, 5200.0);
//! // Only `qualify` has a `max_days`; the account there has stayed 59 days.
//! assert_eq!(report.stalled_total, 1);
//! assert_eq!((report.stalled[0].stage.as_str(), report.stalled[0].days), ("qualify", 59));
//! ```

use std::fmt;

use chrono::{DateTime, Utc};
use salesplay_expr::Facts;
use serde::Serialize;

use crate::playbook::Playbook;

/// How many stalled accounts and invalid records a report keeps as examples by default.
pub const DEFAULT_EXAMPLE_LIMIT: usize = 100;

/// A streaming funnel over the accounts of one playbook.
///
/// `Send`, so funnels can be built on several threads and [merged](Funnel::merge).
///
/// ```
/// use salesplay::{Playbook, portfolio::Funnel};
/// let playbook = Playbook::from_yaml_str(r#"
/// id: p
/// facts: { interested: bool }
/// stages: [{ id: talk, entry: [{ id: is_interested, when: interested }] }]
/// "#).unwrap();
/// let now = chrono::DateTime::UNIX_EPOCH;
/// let mut funnel = Funnel::new(&playbook);
/// for interested in [true, false, true] {
///     let facts = playbook.facts_from_json(&serde_json::json!({ "interested": interested })).unwrap();
///     funnel.add(&facts, now);
/// }
/// let report = funnel.report();
/// assert_eq!((report.accounts, report.not_entered, report.stages[0].count), (3, 1, 2));
/// ```
#[derive(Clone)]
pub struct Funnel<'p> {
    playbook: &'p Playbook,
    /// One tally per stage, in the playbook's order.
    stages: Vec<Tally>,
    accounts: usize,
    invalid: usize,
    not_entered: usize,
    priced: usize,
    stalled_total: usize,
    example_limit: usize,
    /// The longest-stalled accounts, longest first; among equals, first added first.
    // INVARIANT: sorted by `days` descending and never longer than `example_limit`.
    stalled: Vec<Stalled>,
    /// The first invalid records, in the order added.
    invalid_records: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    count: usize,
    reached: usize,
    advanced: usize,
    stalled: usize,
    amount: f64,
}

#[derive(Clone, Debug)]
struct Stalled {
    account: Option<String>,
    stage: usize,
    days: i64,
}

impl fmt::Debug for Funnel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Funnel")
            .field("playbook", &self.playbook.id())
            .field("accounts", &self.accounts)
            .field("invalid", &self.invalid)
            .field("not_entered", &self.not_entered)
            .field("stalled_total", &self.stalled_total)
            .finish_non_exhaustive()
    }
}

impl<'p> Funnel<'p> {
    /// An empty funnel over `playbook`'s stages, keeping up to [`DEFAULT_EXAMPLE_LIMIT`]
    /// stalled accounts and invalid records as examples.
    pub fn new(playbook: &'p Playbook) -> Funnel<'p> {
        Funnel::with_example_limit(playbook, DEFAULT_EXAMPLE_LIMIT)
    }

    /// An empty funnel that keeps at most `limit` stalled accounts (the longest stalled) and
    /// `limit` invalid records (the first) as examples. Every one is still counted.
    ///
    /// ```
    /// # use salesplay::{Playbook, portfolio::Funnel};
    /// # let playbook = Playbook::from_yaml_str("id: p\nstages: [{ id: only }]").unwrap();
    /// let mut funnel = Funnel::with_example_limit(&playbook, 1);
    /// funnel.add_invalid("line 3");
    /// funnel.add_invalid("line 9");
    /// let report = funnel.report();
    /// assert_eq!((report.invalid, report.invalid_records), (2, vec!["line 3".to_string()]));
    /// ```
    pub fn with_example_limit(playbook: &'p Playbook, limit: usize) -> Funnel<'p> {
        Funnel {
            playbook,
            stages: vec![Tally::default(); playbook.stages().len()],
            accounts: 0,
            invalid: 0,
            not_entered: 0,
            priced: 0,
            stalled_total: 0,
            example_limit: limit,
            stalled: Vec::new(),
            invalid_records: Vec::new(),
        }
    }

    /// The playbook the funnel counts against.
    pub fn playbook(&self) -> &'p Playbook {
        self.playbook
    }

    /// Adds one account, placed at its derived stage as of `now` (see [`Playbook::locate`]).
    /// Returns the stage's index, or `None` when the account has not entered the first stage.
    pub fn add(&mut self, facts: &Facts, now: DateTime<Utc>) -> Option<usize> {
        self.add_with(facts, now, None, None, None)
    }

    /// Adds one account with what the facts do not say:
    ///
    /// - `entered_at`: when the account entered its current stage (from a CRM field or a
    ///   journey). With it, an account in a stage with `max_days` that has been there more
    ///   than `max_days` whole days counts as stalled, as in [`Playbook::assess_since`]. It
    ///   must be the time the account entered its *derived* stage; a journey's
    ///   `entered_at` fits when its stage is the derived one (the returned index says which).
    /// - `account`: an id to name the account by if it is kept as a stalled example.
    /// - `amount`: the deal's value. When any account carries one, the weighted pipeline
    ///   sums amounts × probability instead of counting accounts. A non-finite amount counts
    ///   as none.
    ///
    /// Returns the derived stage's index, or `None` when the account is in no stage.
    /// Allocates nothing unless the account is stalled and kept as an example.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use salesplay::{Playbook, portfolio::Funnel};
    /// let playbook = Playbook::from_yaml_str("id: p\nstages: [{ id: pitch, max_days: 10, probability: 0.5 }]").unwrap();
    /// let facts = playbook.facts_from_json(&serde_json::json!({})).unwrap();
    /// let now = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
    /// let mut funnel = Funnel::new(&playbook);
    /// funnel.add_with(&facts, now, Some(now - Duration::days(30)), Some("acme"), Some(800.0));
    /// funnel.add_with(&facts, now, Some(now - Duration::days(3)), Some("globex"), Some(200.0));
    /// let report = funnel.report();
    /// assert_eq!(report.weighted_pipeline, 500.0);
    /// assert_eq!(report.stalled_total, 1);
    /// assert_eq!(report.stalled[0].account.as_deref(), Some("acme"));
    /// ```
    pub fn add_with(
        &mut self,
        facts: &Facts,
        now: DateTime<Utc>,
        entered_at: Option<DateTime<Utc>>,
        account: Option<&str>,
        amount: Option<f64>,
    ) -> Option<usize> {
        self.accounts += 1;
        let playbook = self.playbook;
        let tallies = &mut self.stages;
        let mut previous: Option<usize> = None;
        let mut record = crate::assess::Recorder(|stage: usize, entered: bool| {
            if !entered {
                return;
            }
            if let Some(from) = previous.and_then(|p| tallies.get_mut(p)) {
                from.advanced += 1;
            }
            if let Some(tally) = tallies.get_mut(stage) {
                tally.reached += 1;
            }
            previous = Some(stage);
        });
        let walk = playbook.walk(facts, now, &mut record);
        let Some(index) = walk.stage else {
            self.not_entered += 1;
            return None;
        };
        let max_days = playbook.stage_at(index).and_then(|s| s.max_days());
        let Some(tally) = self.stages.get_mut(index) else {
            return Some(index);
        };
        tally.count += 1;
        if let Some(amount) = amount.filter(|a| a.is_finite()) {
            tally.amount += amount;
            self.priced += 1;
        }
        if let (Some(max), Some(since)) = (max_days, entered_at) {
            let days = now.signed_duration_since(since).num_days();
            if days > i64::from(max) {
                tally.stalled += 1;
                self.stalled_total += 1;
                self.keep_stalled(account, index, days);
            }
        }
        Some(index)
    }

    /// Counts a record that could not be read or bound (`record` names it, such as
    /// `"line 12"`); the first few are kept in the report.
    pub fn add_invalid(&mut self, record: &str) {
        self.accounts += 1;
        self.invalid += 1;
        if self.invalid_records.len() < self.example_limit {
            self.invalid_records.push(record.to_string());
        }
    }

    /// Adds `other`'s accounts to this funnel, as if they had been added after this one's.
    /// Both must count against the same playbook (stages are matched by position). Keeps
    /// this funnel's example limit.
    ///
    /// Merging is exact for counts and examples, so any split of the accounts gives the
    /// same report; sums of amounts may differ in the last bits of the floating point.
    ///
    /// ```
    /// # use salesplay::{Playbook, portfolio::Funnel};
    /// # let playbook = Playbook::from_yaml_str("id: p\nstages: [{ id: only }]").unwrap();
    /// # let facts = playbook.facts_from_json(&serde_json::json!({})).unwrap();
    /// # let now = chrono::DateTime::UNIX_EPOCH;
    /// let mut left = Funnel::new(&playbook);
    /// left.add(&facts, now);
    /// let mut right = Funnel::new(&playbook);
    /// right.add(&facts, now);
    /// right.add_invalid("line 2");
    /// assert_eq!(left.merge(right).report().accounts, 3);
    /// ```
    #[must_use]
    pub fn merge(mut self, other: Funnel<'_>) -> Funnel<'p> {
        for (mine, theirs) in self.stages.iter_mut().zip(&other.stages) {
            mine.count += theirs.count;
            mine.reached += theirs.reached;
            mine.advanced += theirs.advanced;
            mine.stalled += theirs.stalled;
            mine.amount += theirs.amount;
        }
        self.accounts += other.accounts;
        self.invalid += other.invalid;
        self.not_entered += other.not_entered;
        self.priced += other.priced;
        self.stalled_total += other.stalled_total;
        for example in other.stalled {
            self.insert_stalled(example);
        }
        let room = self
            .example_limit
            .saturating_sub(self.invalid_records.len());
        self.invalid_records
            .extend(other.invalid_records.into_iter().take(room));
        self
    }

    /// The funnel so far.
    pub fn report(&self) -> FunnelReport {
        let by_amount = self.priced > 0;
        let stages: Vec<FunnelStage> = self
            .playbook
            .stages()
            .iter()
            .zip(&self.stages)
            .map(|(stage, tally)| {
                let probability = stage.probability();
                let base = if by_amount {
                    tally.amount
                } else {
                    count_f64(tally.count)
                };
                FunnelStage {
                    id: stage.id().to_string(),
                    count: tally.count,
                    reached: tally.reached,
                    advanced: tally.advanced,
                    conversion: (tally.reached > 0 && !stage.is_terminal())
                        .then(|| count_f64(tally.advanced) / count_f64(tally.reached)),
                    stalled: tally.stalled,
                    probability,
                    amount: tally.amount,
                    weighted: probability.map_or(0.0, |p| base * p),
                }
            })
            .collect();
        let weighted_pipeline = stages.iter().map(|s| s.weighted).sum();
        FunnelReport {
            playbook: self.playbook.id().to_string(),
            version: self.playbook.version(),
            accounts: self.accounts,
            invalid: self.invalid,
            not_entered: self.not_entered,
            stages,
            weighted_by: if by_amount {
                WeightedBy::Amount
            } else {
                WeightedBy::Count
            },
            priced: self.priced,
            weighted_pipeline,
            stalled_total: self.stalled_total,
            stalled: self
                .stalled
                .iter()
                .map(|s| StalledAccount {
                    account: s.account.clone(),
                    stage: self
                        .playbook
                        .stage_at(s.stage)
                        .map(|st| st.id().to_string())
                        .unwrap_or_default(),
                    days: s.days,
                })
                .collect(),
            invalid_records: self.invalid_records.clone(),
        }
    }

    /// Keeps a stalled account if it is among the `example_limit` longest stalled; allocates
    /// only then.
    fn keep_stalled(&mut self, account: Option<&str>, stage: usize, days: i64) {
        if self.has_room_for(days) {
            self.insert_stalled(Stalled {
                account: account.map(str::to_string),
                stage,
                days,
            });
        }
    }

    fn has_room_for(&self, days: i64) -> bool {
        self.example_limit > 0
            && (self.stalled.len() < self.example_limit
                || self.stalled.last().is_some_and(|last| last.days < days))
    }

    fn insert_stalled(&mut self, example: Stalled) {
        if !self.has_room_for(example.days) {
            return;
        }
        // After every example stalled as long or longer: the earlier one stays first.
        let at = self.stalled.partition_point(|e| e.days >= example.days);
        self.stalled.insert(at, example);
        self.stalled.truncate(self.example_limit);
    }
}

/// An account count as a float, for ratios and weights.
#[expect(
    clippy::cast_precision_loss,
    reason = "counts beyond 2^53 accounts lose precision only in ratios"
)]
fn count_f64(n: usize) -> f64 {
    n as f64
}

/// One account of a portfolio with what its facts do not say; see [`Funnel::add_with`].
#[derive(Clone, Copy, Debug)]
pub struct AccountRecord<'a> {
    /// The account's bound facts.
    pub facts: &'a Facts,
    /// An id to name the account by in the stalled examples.
    pub id: Option<&'a str>,
    /// When the account entered its current stage.
    pub entered_at: Option<DateTime<Utc>>,
    /// The deal's value.
    pub amount: Option<f64>,
}

impl<'a> AccountRecord<'a> {
    /// A record of `facts` alone.
    pub fn new(facts: &'a Facts) -> AccountRecord<'a> {
        AccountRecord {
            facts,
            id: None,
            entered_at: None,
            amount: None,
        }
    }

    fn add_to(&self, funnel: &mut Funnel<'_>, now: DateTime<Utc>) {
        funnel.add_with(self.facts, now, self.entered_at, self.id, self.amount);
    }
}

/// A whole portfolio assessed in one call.
///
/// ```
/// use salesplay::{Playbook, portfolio::Portfolio};
/// let playbook = Playbook::from_yaml_str(r#"
/// id: p
/// facts: { interested: bool }
/// stages: [{ id: talk, entry: [{ id: is_interested, when: interested }] }]
/// "#).unwrap();
/// let accounts: Vec<_> = [true, false, true]
///     .map(|i| playbook.facts_from_json(&serde_json::json!({ "interested": i })).unwrap())
///     .into();
/// let report = Portfolio::assess_all(&playbook, &accounts, chrono::DateTime::UNIX_EPOCH);
/// assert_eq!(report.stages[0].count, 2);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Portfolio;

impl Portfolio {
    /// The funnel of `accounts`, on the calling thread.
    pub fn assess_all(playbook: &Playbook, accounts: &[Facts], now: DateTime<Utc>) -> FunnelReport {
        let mut funnel = Funnel::new(playbook);
        for facts in accounts {
            funnel.add(facts, now);
        }
        funnel.report()
    }

    /// The funnel of `accounts` with their ids, stage entry times and amounts, on the
    /// calling thread.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use salesplay::{Playbook, portfolio::{AccountRecord, Portfolio}};
    /// let playbook = Playbook::from_yaml_str("id: p\nstages: [{ id: pitch, max_days: 7 }]").unwrap();
    /// let facts = playbook.facts_from_json(&serde_json::json!({})).unwrap();
    /// let now = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    /// let records = [AccountRecord {
    ///     id: Some("acme"),
    ///     entered_at: Some(now - Duration::days(8)),
    ///     ..AccountRecord::new(&facts)
    /// }];
    /// let report = Portfolio::assess_records(&playbook, &records, now);
    /// assert_eq!(report.stalled[0].days, 8);
    /// ```
    pub fn assess_records(
        playbook: &Playbook,
        accounts: &[AccountRecord<'_>],
        now: DateTime<Utc>,
    ) -> FunnelReport {
        let mut funnel = Funnel::new(playbook);
        for record in accounts {
            record.add_to(&mut funnel, now);
        }
        funnel.report()
    }

    /// [`Portfolio::assess_all`] on all cores (rayon). Gives the same report. Needs the
    /// `parallel` feature.
    ///
    /// ```
    /// # use salesplay::{Playbook, portfolio::Portfolio};
    /// # let playbook = Playbook::from_yaml_str("id: p\nstages: [{ id: only }]").unwrap();
    /// # let now = chrono::DateTime::UNIX_EPOCH;
    /// let accounts = vec![playbook.facts_from_json(&serde_json::json!({})).unwrap(); 1000];
    /// assert_eq!(
    ///     Portfolio::assess_all_parallel(&playbook, &accounts, now),
    ///     Portfolio::assess_all(&playbook, &accounts, now),
    /// );
    /// ```
    #[cfg(feature = "parallel")]
    pub fn assess_all_parallel(
        playbook: &Playbook,
        accounts: &[Facts],
        now: DateTime<Utc>,
    ) -> FunnelReport {
        fold_parallel(playbook, accounts, |funnel, facts| {
            funnel.add(facts, now);
        })
    }

    /// [`Portfolio::assess_records`] on all cores (rayon). Gives the same report, up to the
    /// last bits of summed amounts. Needs the `parallel` feature.
    #[cfg(feature = "parallel")]
    pub fn assess_records_parallel(
        playbook: &Playbook,
        accounts: &[AccountRecord<'_>],
        now: DateTime<Utc>,
    ) -> FunnelReport {
        fold_parallel(playbook, accounts, |funnel, record| {
            record.add_to(funnel, now);
        })
    }
}

#[cfg(feature = "parallel")]
fn fold_parallel<T: Sync>(
    playbook: &Playbook,
    items: &[T],
    add: impl Fn(&mut Funnel<'_>, &T) + Sync + Send,
) -> FunnelReport {
    use rayon::prelude::*;
    items
        .par_iter()
        .fold(
            || Funnel::new(playbook),
            |mut funnel, item| {
                add(&mut funnel, item);
                funnel
            },
        )
        .reduce(|| Funnel::new(playbook), Funnel::merge)
        .report()
}

/// A funnel: where the accounts stand, how they convert, which have stalled and what the
/// pipeline is worth.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunnelReport {
    /// The playbook's id.
    pub playbook: String,
    /// The playbook's version.
    pub version: u32,
    /// Records seen, valid or not.
    pub accounts: usize,
    /// Records rejected (not readable, or facts of the wrong type).
    pub invalid: usize,
    /// Valid accounts that have not met the first stage's entry criteria.
    pub not_entered: usize,
    /// Every stage, in the playbook's order. The counts, `not_entered` and `invalid` add up
    /// to `accounts`.
    pub stages: Vec<FunnelStage>,
    /// What the weighted figures weigh: `amount` when any account carried one, else `count`.
    pub weighted_by: WeightedBy,
    /// Accounts in a stage that carried an amount.
    pub priced: usize,
    /// The sum of the stages' `weighted`.
    pub weighted_pipeline: f64,
    /// Accounts that have stayed in their stage longer than its `max_days`.
    pub stalled_total: usize,
    /// The longest stalled of them (up to the example limit), longest first.
    pub stalled: Vec<StalledAccount>,
    /// The first invalid records, as named when added (up to the example limit).
    pub invalid_records: Vec<String>,
}

/// One stage of a funnel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunnelStage {
    /// The stage's id.
    pub id: String,
    /// Accounts whose derived stage it is.
    pub count: usize,
    /// Accounts whose walk entered it: those in it and those that moved on from it.
    pub reached: usize,
    /// Accounts whose walk entered it and moved on to a successor.
    pub advanced: usize,
    /// `advanced / reached`: the share of the accounts that reached the stage and moved on.
    /// `None` when no account reached it, and for terminal stages.
    pub conversion: Option<f64>,
    /// Accounts in it for longer than its `max_days`.
    pub stalled: usize,
    /// The stage's win probability.
    pub probability: Option<f64>,
    /// The sum of the amounts of the accounts in it.
    pub amount: f64,
    /// `amount × probability` (or `count × probability`, see [`FunnelReport::weighted_by`]);
    /// 0 for a stage without a probability.
    pub weighted: f64,
}

/// An account that has stayed in its stage longer than the stage's `max_days`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StalledAccount {
    /// The account's id, when one was given.
    pub account: Option<String>,
    /// The stage it is stuck in.
    pub stage: String,
    /// Whole days it has been there.
    pub days: i64,
}

/// What a funnel's weighted pipeline weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightedBy {
    /// Each account counts as one.
    Count,
    /// Each account counts by its amount.
    Amount,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn funnel_is_send() {
        assert_send::<Funnel<'static>>();
        assert_send::<FunnelReport>();
    }
}
