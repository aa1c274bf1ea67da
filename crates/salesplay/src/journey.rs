//! Journeys: an account's recorded path through one playbook version.
//!
//! A [`Journey`] is pinned to a playbook id and version. It holds the current stage, when it
//! was entered and the full history of [`Move`]s: from, to, when, who, why, and a snapshot of
//! the criteria the engine checked. Moves go through the engine only:
//!
//! - [`Journey::advance`] moves to the first successor whose guard and entry criteria hold,
//!   once the current stage's exit criteria hold;
//! - [`Journey::move_to`] moves to a named stage, under the same criteria, the playbook's
//!   `backward` and `skip` [`Policies`](crate::Policies), and `from_anywhere` stages;
//! - [`Journey::force`] moves anywhere, as an explicit override with a required reason; the
//!   snapshot records what was unmet.
//!
//! A refused move names every unmet criterion. A journey serializes with serde and
//! round-trips losslessly; deserializing rejects a journey whose history does not hold
//! together, and [`Journey::resume`] checks it against a playbook, migrating it to a newer
//! version through `renamed_from` or failing with the stages that have no successor.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use salesplay::Playbook;
//! use salesplay::journey::{Journey, MoveKind, Note};
//!
//! let playbook = Playbook::from_yaml_str(r#"
//! id: demo
//! facts: { qualified: bool, signed: bool }
//! stages:
//!   - id: lead
//!     exit: [{ id: is_qualified, when: qualified }]
//!   - id: proposal
//!     exit: [{ id: is_signed, when: signed }]
//!   - id: won
//! "#).unwrap();
//! let day = |d| Utc.with_ymd_and_hms(2025, 3, d, 9, 0, 0).unwrap();
//!
//! let facts = playbook.facts_from_json(&serde_json::json!({ "qualified": false })).unwrap();
//! let mut journey = Journey::start(&playbook, &facts, day(1), Note::by("li.wei")).unwrap();
//! assert_eq!(journey.stage(), Some("lead"));
//!
//! // Refused: the exit criterion of `lead` does not hold, and the error says so.
//! let refused = journey.advance(&playbook, &facts, day(2), Note::default()).unwrap_err();
//! assert!(refused.to_string().contains("`is_qualified`"));
//!
//! let facts = playbook.facts_from_json(&serde_json::json!({ "qualified": true })).unwrap();
//! let moved = journey.advance(&playbook, &facts, day(3), Note::by("li.wei")).unwrap();
//! assert_eq!((moved.kind, moved.to.as_str()), (MoveKind::Advance, "proposal"));
//! assert_eq!(journey.days_in_stage(day(10)), Some(7));
//!
//! // Lossless round trip through JSON.
//! let json = serde_json::to_string(&journey).unwrap();
//! assert_eq!(Journey::from_json(&json).unwrap(), journey);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use salesplay_expr::{Facts, Program, Status, did_you_mean};
use serde::{Deserialize, Serialize};

use crate::assess::Assessment;
use crate::model::Policy;
use crate::playbook::{Criterion, Playbook, Stage};

/// An account's path through one version of a playbook.
///
/// Its fields are private: only the engine's moves ([`Journey::advance`],
/// [`Journey::move_to`], [`Journey::force`]) and [`Journey::resume`] change them. It
/// serializes as
/// `{"playbook", "version", "account"?, "stage", "entered_at", "history", "migrations"?}`;
/// deserializing checks that the history holds together (see [`JourneyError`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "JourneyRecord")]
pub struct Journey {
    playbook: String,
    version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    stage: Option<String>,
    entered_at: Option<DateTime<Utc>>,
    history: Vec<Move>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    migrations: Vec<Migration>,
}

/// A journey as read, before its history is checked. Same fields as [`Journey`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JourneyRecord {
    playbook: String,
    version: u32,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    entered_at: Option<DateTime<Utc>>,
    #[serde(default)]
    history: Vec<Move>,
    #[serde(default)]
    migrations: Vec<Migration>,
}

/// One recorded move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Move {
    /// The stage left, or `None` when the journey was in no stage.
    pub from: Option<String>,
    /// The stage entered.
    pub to: String,
    /// When, as given by the caller.
    pub at: DateTime<Utc>,
    /// How the engine classified the move.
    pub kind: MoveKind,
    /// Who made it, if the caller said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Why; always present on a forced move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Policies that warned, and what a forced move overrode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The criteria the engine checked for this move, with their status at the time.
    #[serde(default)]
    pub criteria: Vec<CriterionCheck>,
}

/// How a move was classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MoveKind {
    /// From no stage into the first stage (its entry criteria).
    Start,
    /// Along a declared successor edge (the edge's guard and the entry criteria of the stage
    /// entered; on a forward edge also the exit criteria of the stage left — a declared edge
    /// back, such as a relationship reset, does not wait for the stage left to be finished).
    Advance,
    /// Into a stage enterable from anywhere (its entry criteria).
    Anywhere,
    /// To an earlier stage no edge leads to, under the `backward` policy (entry criteria).
    Backward,
    /// Forward to a stage no edge leads to, under the `skip` policy (exit criteria of the
    /// stage left, entry criteria of the stage entered).
    Skip,
    /// An explicit override, with a reason; its criteria may be unmet.
    Forced,
}

impl MoveKind {
    /// `start`, `advance`, `anywhere`, `backward`, `skip` or `forced`.
    pub fn as_str(self) -> &'static str {
        match self {
            MoveKind::Start => "start",
            MoveKind::Advance => "advance",
            MoveKind::Anywhere => "anywhere",
            MoveKind::Backward => "backward",
            MoveKind::Skip => "skip",
            MoveKind::Forced => "forced",
        }
    }
}

impl fmt::Display for MoveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a checked criterion was to the move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionRole {
    /// An entry criterion of the stage entered.
    Entry,
    /// An exit criterion of the stage left.
    Exit,
    /// The guard of a successor edge.
    Guard,
}

impl CriterionRole {
    /// `entry`, `exit` or `guard`.
    pub fn as_str(self) -> &'static str {
        match self {
            CriterionRole::Entry => "entry",
            CriterionRole::Exit => "exit",
            CriterionRole::Guard => "guard",
        }
    }
}

/// A criterion's status when it was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// It held.
    Met,
    /// It did not hold.
    Unmet,
    /// A fact it needs was absent.
    Unknown,
    /// Evaluating it failed.
    Error,
}

impl CheckStatus {
    /// `met`, `unmet`, `unknown` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Met => "met",
            CheckStatus::Unmet => "unmet",
            CheckStatus::Unknown => "unknown",
            CheckStatus::Error => "error",
        }
    }
}

impl From<&Status> for CheckStatus {
    fn from(status: &Status) -> CheckStatus {
        match status {
            Status::Met => CheckStatus::Met,
            Status::Unmet => CheckStatus::Unmet,
            Status::Unknown => CheckStatus::Unknown,
            Status::Error(_) => CheckStatus::Error,
        }
    }
}

/// One criterion the engine checked for a move, with its status and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CriterionCheck {
    /// The criterion's id; for a guard, the edge as `from -> to`.
    pub id: String,
    /// Entry, exit or guard.
    pub role: CriterionRole,
    /// The stage the criterion belongs to (for a guard, the stage the edge leaves).
    pub stage: String,
    /// Its status.
    pub status: CheckStatus,
    /// Why it is not met: one sentence per failing clause.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Absent facts that make it unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_facts: Vec<String>,
}

impl CriterionCheck {
    /// Whether it held.
    pub fn is_met(&self) -> bool {
        self.status == CheckStatus::Met
    }
}

impl fmt::Display for CriterionCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.role {
            CriterionRole::Guard => {
                write!(f, "the guard of `{}` is {}", self.id, self.status.as_str())?
            }
            role => write!(
                f,
                "{} criterion `{}` of `{}` is {}",
                role.as_str(),
                self.id,
                self.stage,
                self.status.as_str()
            )?,
        }
        if !self.reasons.is_empty() {
            write!(f, ": {}", self.reasons.join(" and "))?;
        } else if !self.missing_facts.is_empty() {
            f.write_str(": missing ")?;
            write_ids(f, &self.missing_facts)?;
        }
        Ok(())
    }
}

/// A record of a journey moved to a newer playbook version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Migration {
    /// The version the journey was on.
    pub from_version: u32,
    /// The version it moved to.
    pub to_version: u32,
    /// When, as given by the caller.
    pub at: DateTime<Utc>,
    /// Stage ids that changed, old → new (through `renamed_from`). The history now uses the
    /// new ids; this map keeps the old ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub renamed: BTreeMap<String, String>,
}

/// Who makes a move and why, recorded with it.
///
/// ```
/// use salesplay::journey::Note;
/// let note = Note::by("li.wei").because("the customer asked to restart");
/// assert_eq!(note.who(), Some("li.wei"));
/// assert_eq!(Note::default().reason(), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Note {
    by: Option<String>,
    reason: Option<String>,
}

impl Note {
    /// A note saying who makes the move.
    pub fn by(who: impl Into<String>) -> Note {
        Note {
            by: Some(who.into()),
            reason: None,
        }
    }

    /// This note with a reason: why the move is made.
    #[must_use]
    pub fn because(mut self, why: impl Into<String>) -> Note {
        self.reason = Some(why.into());
        self
    }

    /// Who makes the move.
    pub fn who(&self) -> Option<&str> {
        self.by.as_deref()
    }

    /// Why.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
}

/// The policy a move fell under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// `policies.backward`: a move to an earlier stage no edge leads to.
    Backward,
    /// `policies.skip`: a move forward to a stage no edge leads to.
    Skip,
}

impl PolicyKind {
    /// `backward` or `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Backward => "backward",
            PolicyKind::Skip => "skip",
        }
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a move was not made. The journey is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoveError {
    /// Criteria the move needs are not met; `unmet` names every one.
    #[error("{}", refused_message(from.as_deref(), to, unmet))]
    Refused {
        /// The current stage.
        from: Option<String>,
        /// The stage asked for, or for [`Journey::advance`] every successor tried.
        to: Vec<String>,
        /// Every criterion the move needs that is not met (unmet, unknown or failed).
        unmet: Vec<CriterionCheck>,
    },
    /// The playbook's policy blocks this kind of move.
    #[error(
        "moving from {} to `{to}` is blocked by the playbook's `{policy}` policy",
        stage_or_none(from.as_deref())
    )]
    Blocked {
        /// Which policy.
        policy: PolicyKind,
        /// The current stage.
        from: Option<String>,
        /// The stage asked for.
        to: String,
    },
    /// No stage has this id.
    #[error("unknown stage `{id}`")]
    UnknownStage {
        /// The id asked for.
        id: String,
        /// The closest stage id, if one is close.
        suggestion: Option<String>,
    },
    /// The journey is already in the stage asked for.
    #[error("the journey is already in stage `{stage}`")]
    AlreadyInStage {
        /// The current stage.
        stage: String,
    },
    /// [`Journey::advance`] from a stage with no successors.
    #[error("stage `{stage}` is terminal: it has no successor to advance to")]
    Terminal {
        /// The current stage.
        stage: String,
    },
    /// A forced move needs a reason.
    #[error("a forced move to `{to}` needs a reason")]
    NoReason {
        /// The stage asked for.
        to: String,
    },
    /// The move is dated before the journey's last move.
    #[error("the move is dated {at}, before the journey's last move at {last}")]
    OutOfOrder {
        /// When the move was asked for.
        at: DateTime<Utc>,
        /// When the last move was made.
        last: DateTime<Utc>,
    },
    /// The journey does not fit the playbook (another playbook, another version, or a stage
    /// it does not have).
    #[error(transparent)]
    Journey(#[from] JourneyError),
}

/// A journey that does not hold together, or does not fit a playbook.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JourneyError {
    /// The text is not a journey.
    #[error("not a valid journey: {message}")]
    Malformed {
        /// What the parser said.
        message: String,
    },
    /// The journey follows another playbook.
    #[error("the journey follows playbook `{journey}`, not `{playbook}`")]
    WrongPlaybook {
        /// The journey's playbook id.
        journey: String,
        /// The playbook given.
        playbook: String,
    },
    /// The playbook is newer than the journey, which must be migrated first.
    #[error(
        "the journey is pinned to version {journey} of `{playbook}`, but the playbook is version {current}"
    )]
    VersionMismatch {
        /// The playbook's id.
        playbook: String,
        /// The journey's version.
        journey: u32,
        /// The playbook's version.
        current: u32,
    },
    /// The playbook is older than the journey; journeys never migrate back.
    #[error(
        "the journey is on version {journey} of `{playbook}`, newer than the playbook's version {current}"
    )]
    NewerThanPlaybook {
        /// The playbook's id.
        playbook: String,
        /// The journey's version.
        journey: u32,
        /// The playbook's version.
        current: u32,
    },
    /// A stage the journey names is not in the playbook (same version).
    #[error(
        "the journey's {place} names stage `{id}`, which version {version} of the playbook does not have"
    )]
    UnknownStage {
        /// The stage id.
        id: String,
        /// Where: `current stage` or `move N`.
        place: String,
        /// The playbook version.
        version: u32,
        /// The closest stage id, if one is close.
        suggestion: Option<String>,
    },
    /// Migrating: stages of the old version that are not in the new one, under their id or
    /// a `renamed_from`.
    #[error(
        "cannot migrate the journey from version {from_version} to {to_version} of `{playbook}`: {} no longer {}, and no stage is `renamed_from` {}",
        ids_list(stages),
        if stages.len() == 1 { "exists" } else { "exist" },
        if stages.len() == 1 { "it" } else { "them" }
    )]
    Unmapped {
        /// The playbook's id.
        playbook: String,
        /// The journey's version.
        from_version: u32,
        /// The playbook's version.
        to_version: u32,
        /// Every stage id of the journey that cannot be mapped, sorted.
        stages: Vec<String>,
    },
    /// Migrating: the new version merges two stages a recorded move went between, so the
    /// move would vanish.
    #[error(
        "cannot migrate the journey to version {to_version} of `{playbook}`: move {} went from `{from}` to `{to}`, which that version merges into `{into}`",
        index + 1
    )]
    Merged {
        /// The playbook's id.
        playbook: String,
        /// The playbook's version.
        to_version: u32,
        /// Position of the move in the history (0-based).
        index: usize,
        /// The stage the move left (old id).
        from: String,
        /// The stage the move entered (old id).
        to: String,
        /// The stage both became.
        into: String,
    },
    /// A move does not start where the one before it ended.
    #[error(
        "move {} of the history starts from {}, but the move before it ended in {}",
        index + 1,
        stage_or_none(found.as_deref()),
        stage_or_none(expected.as_deref())
    )]
    BrokenChain {
        /// Position in the history (0-based).
        index: usize,
        /// Where the move before it ended (`None` for the first move).
        expected: Option<String>,
        /// Where the move says it started.
        found: Option<String>,
    },
    /// A move is dated before the move before it.
    #[error("move {} of the history is dated before the move before it", index + 1)]
    OutOfOrder {
        /// Position in the history (0-based).
        index: usize,
    },
    /// A move goes nowhere.
    #[error("move {} of the history leaves and enters the same stage `{stage}`", index + 1)]
    SameStage {
        /// Position in the history (0-based).
        index: usize,
        /// The stage.
        stage: String,
    },
    /// A forced move without a reason.
    #[error("move {} of the history is forced but gives no reason", index + 1)]
    ForcedWithoutReason {
        /// Position in the history (0-based).
        index: usize,
    },
    /// The recorded current stage is not where the history ends.
    #[error(
        "the journey says it is in {}, but its history ends in {}",
        stage_or_none(recorded.as_deref()),
        stage_or_none(history.as_deref())
    )]
    StageMismatch {
        /// The recorded current stage.
        recorded: Option<String>,
        /// Where the history ends.
        history: Option<String>,
    },
    /// The recorded time of entering the stage is not the time of the last move.
    #[error("the journey's `entered_at` is not the time of its last move")]
    EnteredAtMismatch {
        /// The recorded time.
        recorded: Option<DateTime<Utc>>,
        /// The time of the last move.
        history: Option<DateTime<Utc>>,
    },
    /// The migration records do not lead, version by version, to the journey's version.
    #[error("migration {} of the journey does not follow from the versions before it", index + 1)]
    MigrationChain {
        /// Position in the migrations (0-based).
        index: usize,
    },
}

fn stage_or_none(stage: Option<&str>) -> String {
    match stage {
        Some(s) => format!("`{s}`"),
        None => "no stage".to_string(),
    }
}

fn write_ids(f: &mut impl fmt::Write, ids: &[String]) -> fmt::Result {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "`{id}`")?;
    }
    Ok(())
}

fn ids_list(ids: &[String]) -> String {
    let mut out = String::new();
    let _ = write_ids(&mut out, ids);
    out
}

fn refused_message(from: Option<&str>, to: &[String], unmet: &[CriterionCheck]) -> String {
    let mut out = format!("cannot move from {} to ", stage_or_none(from));
    for (i, t) in to.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == to.len() { " or " } else { ", " });
        }
        out.push('`');
        out.push_str(t);
        out.push('`');
    }
    out.push_str(": ");
    for (i, c) in unmet.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&c.to_string());
    }
    out
}

impl miette::Diagnostic for MoveError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let code = match self {
            MoveError::Refused { .. } => "salesplay::journey::refused",
            MoveError::Blocked { .. } => "salesplay::journey::blocked",
            MoveError::UnknownStage { .. } => "salesplay::journey::unknown_stage",
            MoveError::AlreadyInStage { .. } => "salesplay::journey::already_in_stage",
            MoveError::Terminal { .. } => "salesplay::journey::terminal",
            MoveError::NoReason { .. } => "salesplay::journey::no_reason",
            MoveError::OutOfOrder { .. } => "salesplay::journey::out_of_order",
            MoveError::Journey(e) => return e.code(),
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let help: String = match self {
            MoveError::Refused { .. } => {
                "meet the criteria listed, or force the move with a reason to override them".into()
            }
            MoveError::Blocked { policy, .. } => format!(
                "force the move with a reason, or set `policies: {{ {policy}: warn }}` in the playbook"
            ),
            MoveError::UnknownStage {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            MoveError::NoReason { .. } => "say why the criteria are overridden".into(),
            MoveError::OutOfOrder { .. } => "moves are recorded in time order".into(),
            MoveError::Journey(e) => return e.help(),
            _ => return None,
        };
        Some(Box::new(help))
    }
}

impl miette::Diagnostic for JourneyError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let code = match self {
            JourneyError::Malformed { .. } => "salesplay::journey::malformed",
            JourneyError::WrongPlaybook { .. } => "salesplay::journey::wrong_playbook",
            JourneyError::VersionMismatch { .. } => "salesplay::journey::version_mismatch",
            JourneyError::NewerThanPlaybook { .. } => "salesplay::journey::newer_than_playbook",
            JourneyError::UnknownStage { .. } => "salesplay::journey::unknown_stage",
            JourneyError::Unmapped { .. } => "salesplay::journey::unmapped_stage",
            JourneyError::Merged { .. } => "salesplay::journey::merged_stages",
            JourneyError::BrokenChain { .. }
            | JourneyError::OutOfOrder { .. }
            | JourneyError::SameStage { .. }
            | JourneyError::ForcedWithoutReason { .. }
            | JourneyError::StageMismatch { .. }
            | JourneyError::EnteredAtMismatch { .. }
            | JourneyError::MigrationChain { .. } => "salesplay::journey::inconsistent",
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let help: String = match self {
            JourneyError::VersionMismatch { .. } => {
                "resume the journey against the playbook to migrate it to the newer version".into()
            }
            JourneyError::NewerThanPlaybook { .. } => {
                "load the newer playbook; journeys never migrate to an older version".into()
            }
            JourneyError::UnknownStage {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            JourneyError::Unmapped { to_version, .. } => format!(
                "in version {to_version}, list each old id under `renamed_from` of the stage that replaced it"
            ),
            JourneyError::Merged { .. } => {
                "keep the two stages apart in the new version, or keep the journey on its version".into()
            }
            JourneyError::BrokenChain { .. }
            | JourneyError::OutOfOrder { .. }
            | JourneyError::SameStage { .. }
            | JourneyError::ForcedWithoutReason { .. }
            | JourneyError::StageMismatch { .. }
            | JourneyError::EnteredAtMismatch { .. }
            | JourneyError::MigrationChain { .. } => {
                "the journey was edited or corrupted outside the engine; restore it from a good copy"
                    .into()
            }
            _ => return None,
        };
        Some(Box::new(help))
    }
}

impl TryFrom<JourneyRecord> for Journey {
    type Error = JourneyError;

    fn try_from(r: JourneyRecord) -> Result<Journey, JourneyError> {
        let journey = Journey {
            playbook: r.playbook,
            version: r.version,
            account: r.account,
            stage: r.stage,
            entered_at: r.entered_at,
            history: r.history,
            migrations: r.migrations,
        };
        journey.check_history()?;
        Ok(journey)
    }
}

/// What a move needs, as the engine classified it.
struct Plan {
    kind: MoveKind,
    /// The policy the move falls under, if any, and its setting.
    policy: Option<(PolicyKind, Policy)>,
    criteria: Vec<CriterionCheck>,
}

impl Journey {
    /// A journey on `playbook`'s current version, in no stage yet.
    ///
    /// ```
    /// # let playbook = salesplay::Playbook::from_yaml_str("id: p\nstages: [{ id: only }]").unwrap();
    /// let journey = salesplay::journey::Journey::new(&playbook).with_account("acme-42");
    /// assert_eq!(journey.stage(), None);
    /// assert_eq!(journey.account(), Some("acme-42"));
    /// ```
    pub fn new(playbook: &Playbook) -> Journey {
        Journey {
            playbook: playbook.id.clone(),
            version: playbook.version,
            account: None,
            stage: None,
            entered_at: None,
            history: Vec::new(),
            migrations: Vec::new(),
        }
    }

    /// This journey, labelled with the caller's id for the account.
    #[must_use]
    pub fn with_account(mut self, account: impl Into<String>) -> Journey {
        self.account = Some(account.into());
        self
    }

    /// A new journey that enters the playbook's first stage at `at`, if the stage's entry
    /// criteria hold. Otherwise the error names each unmet one; use [`Journey::new`] for a
    /// journey in no stage.
    pub fn start(
        playbook: &Playbook,
        facts: &Facts,
        at: DateTime<Utc>,
        note: Note,
    ) -> Result<Journey, MoveError> {
        let mut journey = Journey::new(playbook);
        journey.advance(playbook, facts, at, note)?;
        Ok(journey)
    }

    /// Parses a journey from JSON, checking that its history holds together. Check it
    /// against a playbook with [`Journey::resume`] before moving it.
    pub fn from_json(text: &str) -> Result<Journey, JourneyError> {
        // A byte-order mark is not JSON, but editors write one.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let record: JourneyRecord =
            serde_json::from_str(text).map_err(|e| JourneyError::Malformed {
                message: e.to_string(),
            })?;
        Journey::try_from(record)
    }

    /// The playbook's id.
    pub fn playbook(&self) -> &str {
        &self.playbook
    }

    /// The playbook version the journey is pinned to.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The caller's id for the account, if given.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// The current stage's id, or `None` before the first move.
    pub fn stage(&self) -> Option<&str> {
        self.stage.as_deref()
    }

    /// When the current stage was entered.
    pub fn entered_at(&self) -> Option<DateTime<Utc>> {
        self.entered_at
    }

    /// Every move, oldest first.
    pub fn history(&self) -> &[Move] {
        &self.history
    }

    /// The last move.
    pub fn last_move(&self) -> Option<&Move> {
        self.history.last()
    }

    /// The migrations to newer playbook versions, oldest first.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// Whole days in the current stage at `now` (negative if `now` is before entering), or
    /// `None` in no stage.
    pub fn days_in_stage(&self, now: DateTime<Utc>) -> Option<i64> {
        self.entered_at
            .map(|t| now.signed_duration_since(t).num_days())
    }

    /// Whether the journey has stayed in its stage longer than the stage's `max_days` at
    /// `now`. False in no stage, for a stage without `max_days`, or for a stage `playbook`
    /// does not have.
    pub fn is_stalled(&self, playbook: &Playbook, now: DateTime<Utc>) -> bool {
        let max = self
            .stage
            .as_deref()
            .and_then(|id| playbook.stage(id))
            .and_then(|s| s.max_days);
        match (max, self.days_in_stage(now)) {
            (Some(max), Some(days)) => days > i64::from(max),
            _ => false,
        }
    }

    /// Assesses the account with `facts` at `now` ([`Playbook::assess_since`]). When the
    /// derived stage is the journey's stage, the assessment knows the time in stage, so
    /// stalling and plays marked `stalled` apply; otherwise the time is not known.
    pub fn assess(&self, playbook: &Playbook, facts: &Facts, now: DateTime<Utc>) -> Assessment {
        let derived = playbook
            .locate(facts, now)
            .and_then(|i| playbook.stages.get(i))
            .map(|s| s.id.as_str());
        let entered_at = if derived.is_some() && derived == self.stage.as_deref() {
            self.entered_at
        } else {
            None
        };
        playbook.assess_since(facts, now, entered_at)
    }

    /// Moves to the next stage at `at`: from no stage, into the first stage if its entry
    /// criteria hold; otherwise, once the current stage's exit criteria hold, to the first
    /// successor (in edge order) whose guard and entry criteria hold.
    ///
    /// Returns the recorded move. When no successor qualifies, the error names every unmet
    /// criterion: the current stage's exit criteria, and each successor's guard and entry
    /// criteria.
    pub fn advance(
        &mut self,
        playbook: &Playbook,
        facts: &Facts,
        at: DateTime<Utc>,
        note: Note,
    ) -> Result<Move, MoveError> {
        self.ensure_pinned(playbook)?;
        self.ensure_after(at)?;
        let Some(current) = self.current(playbook)? else {
            // INVARIANT: a loaded playbook has at least one stage (E1021); this arm is only
            // a panic-free answer if that ever changes.
            let Some(first) = playbook.stages.first() else {
                return Err(MoveError::UnknownStage {
                    id: String::new(),
                    suggestion: None,
                });
            };
            let criteria = entry_checks(first, facts, at);
            return self.commit_checked(first, MoveKind::Start, criteria, Vec::new(), at, note);
        };
        let successors: Vec<_> = current
            .next
            .iter()
            .filter(|t| t.to != current.index)
            .collect();
        if successors.is_empty() {
            return Err(MoveError::Terminal {
                stage: current.id.clone(),
            });
        }
        let exit = exit_checks(current, facts, at);
        let exit_met = exit.iter().all(CriterionCheck::is_met);
        let mut unmet: Vec<CriterionCheck> = exit.iter().filter(|c| !c.is_met()).cloned().collect();
        let mut tried = Vec::new();
        for t in successors {
            let Some(target) = playbook.stages.get(t.to) else {
                continue;
            };
            if !tried.contains(&target.id) {
                tried.push(target.id.clone());
            }
            let guard = t
                .guard
                .as_ref()
                .map(|g| guard_check(g, current, target, facts, at));
            let entry = entry_checks(target, facts, at);
            let ok = guard.as_ref().is_none_or(CriterionCheck::is_met)
                && entry.iter().all(CriterionCheck::is_met);
            let forward = t.to > current.index;
            if ok && (exit_met || !forward) {
                let mut criteria = if forward { exit } else { Vec::new() };
                criteria.extend(guard);
                criteria.extend(entry);
                let m = self.make_move(target, MoveKind::Advance, criteria, Vec::new(), at, note);
                return Ok(self.commit(m));
            }
            for c in guard.into_iter().chain(entry) {
                if !c.is_met() && !unmet.contains(&c) {
                    unmet.push(c);
                }
            }
        }
        Err(MoveError::Refused {
            from: Some(current.id.clone()),
            to: tried,
            unmet,
        })
    }

    /// Moves to stage `to` at `at`, if the engine allows it:
    ///
    /// - along a declared successor edge: the edge's guard and the target's entry criteria,
    ///   and on a forward edge the current stage's exit criteria too (a declared edge back,
    ///   on a cycle, does not wait for the current stage to be finished);
    /// - into a stage enterable from anywhere: its entry criteria;
    /// - from no stage into the first stage: its entry criteria;
    /// - to an earlier stage no edge leads to: the `backward` policy, then the target's
    ///   entry criteria;
    /// - forward to a stage no edge leads to: the `skip` policy, then the current stage's
    ///   exit criteria and the target's entry criteria.
    ///
    /// A policy set to `warn` records a warning on the move; `block` refuses it. A refusal
    /// names every unmet criterion. `to` may be a former id listed in `renamed_from`.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use salesplay::journey::{Journey, MoveError, MoveKind, Note};
    /// let playbook = salesplay::Playbook::from_yaml_str(r#"
    /// id: demo
    /// facts: { qualified: bool }
    /// policies: { backward: warn, skip: block }
    /// stages:
    ///   - id: lead
    ///   - id: proposal
    ///     entry: [{ id: is_qualified, when: qualified }]
    ///   - id: won
    ///   - { id: lost, from_anywhere: true }
    /// "#).unwrap();
    /// let at = Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap();
    /// let no = playbook.facts_from_json(&serde_json::json!({ "qualified": false })).unwrap();
    /// let mut journey = Journey::start(&playbook, &no, at, Note::default()).unwrap();
    ///
    /// let err = journey.move_to(&playbook, "proposal", &no, at, Note::default()).unwrap_err();
    /// assert!(matches!(err, MoveError::Refused { ref unmet, .. } if unmet[0].id == "is_qualified"));
    /// let err = journey.move_to(&playbook, "won", &no, at, Note::default()).unwrap_err();
    /// assert!(matches!(err, MoveError::Blocked { .. }));
    /// let err = journey.move_to(&playbook, "proposl", &no, at, Note::default()).unwrap_err();
    /// assert_eq!(err, MoveError::UnknownStage { id: "proposl".into(), suggestion: Some("proposal".into()) });
    ///
    /// let moved = journey.move_to(&playbook, "lost", &no, at, Note::by("li.wei").because("budget cut")).unwrap();
    /// assert_eq!(moved.kind, MoveKind::Anywhere);
    /// ```
    pub fn move_to(
        &mut self,
        playbook: &Playbook,
        to: &str,
        facts: &Facts,
        at: DateTime<Utc>,
        note: Note,
    ) -> Result<Move, MoveError> {
        self.ensure_pinned(playbook)?;
        let target = find_stage(playbook, to)?;
        let current = self.current(playbook)?;
        if let Some(c) = current
            && c.index == target.index
        {
            return Err(MoveError::AlreadyInStage {
                stage: c.id.clone(),
            });
        }
        self.ensure_after(at)?;
        let plan = plan(playbook, current, target, facts, at);
        let mut warnings = Vec::new();
        if let Some((kind, policy)) = plan.policy {
            match policy {
                Policy::Allow => {}
                Policy::Warn => warnings.push(policy_warning(kind, current, target)),
                Policy::Block => {
                    return Err(MoveError::Blocked {
                        policy: kind,
                        from: current.map(|c| c.id.clone()),
                        to: target.id.clone(),
                    });
                }
            }
        }
        self.commit_checked(target, plan.kind, plan.criteria, warnings, at, note)
    }

    /// Moves to stage `to` at `at` whatever the criteria and policies say: an explicit
    /// override, recorded as [`MoveKind::Forced`]. The note must give a reason. The move's
    /// criteria are those a normal move would need, with their status, and its warnings name
    /// the policy and the unmet criteria it overrode.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use salesplay::journey::{CheckStatus, Journey, MoveKind, Note};
    /// let playbook = salesplay::Playbook::from_yaml_str(r#"
    /// id: demo
    /// facts: { signed: bool }
    /// stages:
    ///   - id: lead
    ///   - id: proposal
    ///   - id: won
    ///     entry: [{ id: is_signed, when: signed }]
    /// "#).unwrap();
    /// let at = Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap();
    /// let facts = playbook.facts_from_json(&serde_json::json!({})).unwrap();
    /// let mut journey = Journey::start(&playbook, &facts, at, Note::default()).unwrap();
    /// let moved = journey
    ///     .force(&playbook, "won", &facts, at, Note::by("cfo").because("signed on paper"))
    ///     .unwrap();
    /// assert_eq!(moved.kind, MoveKind::Forced);
    /// assert_eq!(moved.criteria[0].status, CheckStatus::Unknown);
    /// assert_eq!(journey.stage(), Some("won"));
    /// ```
    pub fn force(
        &mut self,
        playbook: &Playbook,
        to: &str,
        facts: &Facts,
        at: DateTime<Utc>,
        note: Note,
    ) -> Result<Move, MoveError> {
        self.ensure_pinned(playbook)?;
        let target = find_stage(playbook, to)?;
        if note.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(MoveError::NoReason {
                to: target.id.clone(),
            });
        }
        let current = self.current(playbook)?;
        if let Some(c) = current
            && c.index == target.index
        {
            return Err(MoveError::AlreadyInStage {
                stage: c.id.clone(),
            });
        }
        self.ensure_after(at)?;
        let plan = plan(playbook, current, target, facts, at);
        let mut warnings = Vec::new();
        if let Some((kind, policy)) = plan.policy
            && policy != Policy::Allow
        {
            let setting = if policy == Policy::Block {
                "block"
            } else {
                "warn"
            };
            warnings.push(format!("overrides the policy `{kind}: {setting}`"));
        }
        let unmet: Vec<String> = plan
            .criteria
            .iter()
            .filter(|c| !c.is_met())
            .map(|c| c.id.clone())
            .collect();
        if !unmet.is_empty() {
            warnings.push(format!("overrides unmet criteria {}", ids_list(&unmet)));
        }
        let m = self.make_move(target, MoveKind::Forced, plan.criteria, warnings, at, note);
        Ok(self.commit(m))
    }

    /// Checks the journey against `playbook`: the same playbook and version, and every stage
    /// it names (current and in the history) a stage of it. The history itself was checked
    /// when the journey was built or deserialized.
    pub fn check(&self, playbook: &Playbook) -> Result<(), JourneyError> {
        self.ensure_pinned(playbook)?;
        let unknown = |id: &str, place: String| -> Result<(), JourneyError> {
            if playbook.stage_index.contains_key(id) {
                return Ok(());
            }
            Err(JourneyError::UnknownStage {
                id: id.to_string(),
                place,
                version: playbook.version,
                suggestion: suggest(playbook, id),
            })
        };
        if let Some(s) = &self.stage {
            unknown(s, "current stage".into())?;
        }
        for (i, m) in self.history.iter().enumerate() {
            if let Some(from) = &m.from {
                unknown(from, format!("move {}", i + 1))?;
            }
            unknown(&m.to, format!("move {}", i + 1))?;
        }
        Ok(())
    }

    /// The journey, ready to move on `playbook`: checked as is when it is on the playbook's
    /// version; migrated when the playbook is newer, every stage id mapped to the stage of
    /// that id or the stage `renamed_from` it, and the migration recorded (dated `at`).
    ///
    /// Fails when the journey follows another playbook, is newer than the playbook, names a
    /// stage the playbook does not have, or, migrating, has a stage that is neither kept nor
    /// renamed — never dropping it. `self` is left as it was.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use salesplay::Playbook;
    /// use salesplay::journey::{Journey, Note};
    /// let v1 = Playbook::from_yaml_str("id: p\nversion: 1\nstages: [{ id: talk }, { id: won }]").unwrap();
    /// let v2 = Playbook::from_yaml_str(
    ///     "id: p\nversion: 2\nstages: [{ id: discovery, renamed_from: [talk] }, { id: won }]",
    /// ).unwrap();
    /// let at = Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap();
    /// let facts = v1.facts_from_json(&serde_json::json!({})).unwrap();
    /// let journey = Journey::start(&v1, &facts, at, Note::default()).unwrap();
    ///
    /// let migrated = journey.resume(&v2, at).unwrap();
    /// assert_eq!((migrated.version(), migrated.stage()), (2, Some("discovery")));
    /// assert_eq!(migrated.migrations()[0].renamed["talk"], "discovery");
    /// assert!(migrated.resume(&v1, at).is_err()); // never back to an older version
    /// ```
    pub fn resume(&self, playbook: &Playbook, at: DateTime<Utc>) -> Result<Journey, JourneyError> {
        if self.playbook != playbook.id {
            return Err(self.wrong_playbook(playbook));
        }
        if self.version == playbook.version {
            self.check(playbook)?;
            return Ok(self.clone());
        }
        if self.version > playbook.version {
            return Err(JourneyError::NewerThanPlaybook {
                playbook: playbook.id.clone(),
                journey: self.version,
                current: playbook.version,
            });
        }
        // Map every stage id the journey names; collect every one that cannot be mapped.
        let mut renamed = BTreeMap::new();
        let mut unmapped = BTreeSet::new();
        let mut map = |id: &str| -> String {
            if playbook.stage_index.contains_key(id) {
                return id.to_string();
            }
            match playbook
                .renamed
                .get(id)
                .and_then(|&i| playbook.stages.get(i))
            {
                Some(stage) => {
                    renamed.insert(id.to_string(), stage.id.clone());
                    stage.id.clone()
                }
                None => {
                    unmapped.insert(id.to_string());
                    id.to_string()
                }
            }
        };
        let mut journey = self.clone();
        journey.stage = journey.stage.as_deref().map(&mut map);
        for m in &mut journey.history {
            m.from = m.from.as_deref().map(&mut map);
            m.to = map(&m.to);
        }
        if !unmapped.is_empty() {
            return Err(JourneyError::Unmapped {
                playbook: playbook.id.clone(),
                from_version: self.version,
                to_version: playbook.version,
                stages: unmapped.into_iter().collect(),
            });
        }
        // Two old stages renamed into one would turn a move into no move: refuse to lose it.
        for (index, (old, new)) in self.history.iter().zip(&journey.history).enumerate() {
            if let Some(from) = &new.from
                && *from == new.to
            {
                return Err(JourneyError::Merged {
                    playbook: playbook.id.clone(),
                    to_version: playbook.version,
                    index,
                    from: old.from.clone().unwrap_or_default(),
                    to: old.to.clone(),
                    into: new.to.clone(),
                });
            }
        }
        journey.migrations.push(Migration {
            from_version: self.version,
            to_version: playbook.version,
            at,
            renamed,
        });
        journey.version = playbook.version;
        journey.check_history()?;
        journey.check(playbook)?;
        Ok(journey)
    }

    // ----- internals -----

    /// The structural invariants, which need no playbook.
    fn check_history(&self) -> Result<(), JourneyError> {
        let mut previous: Option<&Move> = None;
        for (index, m) in self.history.iter().enumerate() {
            let expected = previous.map(|p| p.to.clone());
            if m.from != expected {
                return Err(JourneyError::BrokenChain {
                    index,
                    expected,
                    found: m.from.clone(),
                });
            }
            if m.from.as_deref() == Some(m.to.as_str()) {
                return Err(JourneyError::SameStage {
                    index,
                    stage: m.to.clone(),
                });
            }
            if previous.is_some_and(|p| m.at < p.at) {
                return Err(JourneyError::OutOfOrder { index });
            }
            if m.kind == MoveKind::Forced && m.reason.as_deref().is_none_or(|r| r.trim().is_empty())
            {
                return Err(JourneyError::ForcedWithoutReason { index });
            }
            previous = Some(m);
        }
        let last = self.history.last();
        if self.stage.as_deref() != last.map(|m| m.to.as_str()) {
            return Err(JourneyError::StageMismatch {
                recorded: self.stage.clone(),
                history: last.map(|m| m.to.clone()),
            });
        }
        if self.entered_at != last.map(|m| m.at) {
            return Err(JourneyError::EnteredAtMismatch {
                recorded: self.entered_at,
                history: last.map(|m| m.at),
            });
        }
        let mut version: Option<u32> = None;
        for (index, m) in self.migrations.iter().enumerate() {
            let follows = version.is_none_or(|v| v == m.from_version);
            if !follows || m.from_version >= m.to_version {
                return Err(JourneyError::MigrationChain { index });
            }
            version = Some(m.to_version);
        }
        if version.is_some_and(|v| v != self.version) {
            return Err(JourneyError::MigrationChain {
                index: self.migrations.len().saturating_sub(1),
            });
        }
        Ok(())
    }

    fn wrong_playbook(&self, playbook: &Playbook) -> JourneyError {
        JourneyError::WrongPlaybook {
            journey: self.playbook.clone(),
            playbook: playbook.id.clone(),
        }
    }

    fn ensure_pinned(&self, playbook: &Playbook) -> Result<(), JourneyError> {
        if self.playbook != playbook.id {
            return Err(self.wrong_playbook(playbook));
        }
        if self.version < playbook.version {
            return Err(JourneyError::VersionMismatch {
                playbook: playbook.id.clone(),
                journey: self.version,
                current: playbook.version,
            });
        }
        if self.version > playbook.version {
            return Err(JourneyError::NewerThanPlaybook {
                playbook: playbook.id.clone(),
                journey: self.version,
                current: playbook.version,
            });
        }
        Ok(())
    }

    fn ensure_after(&self, at: DateTime<Utc>) -> Result<(), MoveError> {
        match self.history.last() {
            Some(last) if at < last.at => Err(MoveError::OutOfOrder { at, last: last.at }),
            _ => Ok(()),
        }
    }

    /// The current stage in `playbook` (same version: current ids only).
    fn current<'p>(&self, playbook: &'p Playbook) -> Result<Option<&'p Stage>, JourneyError> {
        let Some(id) = &self.stage else {
            return Ok(None);
        };
        match playbook
            .stage_index
            .get(id)
            .and_then(|&i| playbook.stages.get(i))
        {
            Some(stage) => Ok(Some(stage)),
            None => Err(JourneyError::UnknownStage {
                id: id.clone(),
                place: "current stage".into(),
                version: playbook.version,
                suggestion: suggest(playbook, id),
            }),
        }
    }

    fn make_move(
        &self,
        target: &Stage,
        kind: MoveKind,
        criteria: Vec<CriterionCheck>,
        warnings: Vec<String>,
        at: DateTime<Utc>,
        note: Note,
    ) -> Move {
        Move {
            from: self.stage.clone(),
            to: target.id.clone(),
            at,
            kind,
            by: note.by,
            reason: note.reason,
            warnings,
            criteria,
        }
    }

    /// Records the move if every criterion is met; refuses it naming the unmet ones.
    fn commit_checked(
        &mut self,
        target: &Stage,
        kind: MoveKind,
        criteria: Vec<CriterionCheck>,
        warnings: Vec<String>,
        at: DateTime<Utc>,
        note: Note,
    ) -> Result<Move, MoveError> {
        let unmet: Vec<CriterionCheck> = criteria.iter().filter(|c| !c.is_met()).cloned().collect();
        if !unmet.is_empty() {
            return Err(MoveError::Refused {
                from: self.stage.clone(),
                to: vec![target.id.clone()],
                unmet,
            });
        }
        let m = self.make_move(target, kind, criteria, warnings, at, note);
        Ok(self.commit(m))
    }

    fn commit(&mut self, m: Move) -> Move {
        self.stage = Some(m.to.clone());
        self.entered_at = Some(m.at);
        self.history.push(m.clone());
        m
    }
}

/// The stage with id `id` (or a former id), or an error with "did you mean".
fn find_stage<'p>(playbook: &'p Playbook, id: &str) -> Result<&'p Stage, MoveError> {
    playbook.stage(id).ok_or_else(|| MoveError::UnknownStage {
        id: id.to_string(),
        suggestion: suggest(playbook, id),
    })
}

fn suggest(playbook: &Playbook, id: &str) -> Option<String> {
    did_you_mean(id, playbook.stages.iter().map(|s| s.id.as_str())).map(String::from)
}

/// Classifies a move from `current` to `target` (not the same stage) and checks the criteria
/// it needs.
fn plan(
    playbook: &Playbook,
    current: Option<&Stage>,
    target: &Stage,
    facts: &Facts,
    now: DateTime<Utc>,
) -> Plan {
    let policies = playbook.policies;
    if target.from_anywhere {
        return Plan {
            kind: MoveKind::Anywhere,
            policy: None,
            criteria: entry_checks(target, facts, now),
        };
    }
    let Some(current) = current else {
        return if target.index == 0 {
            Plan {
                kind: MoveKind::Start,
                policy: None,
                criteria: entry_checks(target, facts, now),
            }
        } else {
            Plan {
                kind: MoveKind::Skip,
                policy: Some((PolicyKind::Skip, policies.skip)),
                criteria: entry_checks(target, facts, now),
            }
        };
    };
    let edges: Vec<_> = current
        .next
        .iter()
        .filter(|t| t.to == target.index)
        .collect();
    if !edges.is_empty() {
        // A declared edge back does not wait for the current stage to be finished.
        let mut criteria = if target.index > current.index {
            exit_checks(current, facts, now)
        } else {
            Vec::new()
        };
        // Any edge whose guard holds (or that has none) will do; else report every guard.
        let guards: Vec<CriterionCheck> = edges
            .iter()
            .filter_map(|t| t.guard.as_ref())
            .map(|g| guard_check(g, current, target, facts, now))
            .collect();
        let open = edges.iter().any(|t| t.guard.is_none());
        if !open {
            match guards.iter().find(|g| g.is_met()) {
                Some(met) => criteria.push(met.clone()),
                None => criteria.extend(guards),
            }
        }
        criteria.extend(entry_checks(target, facts, now));
        return Plan {
            kind: MoveKind::Advance,
            policy: None,
            criteria,
        };
    }
    if target.index < current.index {
        Plan {
            kind: MoveKind::Backward,
            policy: Some((PolicyKind::Backward, policies.backward)),
            criteria: entry_checks(target, facts, now),
        }
    } else {
        let mut criteria = exit_checks(current, facts, now);
        criteria.extend(entry_checks(target, facts, now));
        Plan {
            kind: MoveKind::Skip,
            policy: Some((PolicyKind::Skip, policies.skip)),
            criteria,
        }
    }
}

fn policy_warning(kind: PolicyKind, current: Option<&Stage>, target: &Stage) -> String {
    let from = stage_or_none(current.map(|c| c.id.as_str()));
    match kind {
        PolicyKind::Backward => format!(
            "moved back from {from} to `{}`, which no successor edge leads to (policy `backward: warn`)",
            target.id
        ),
        PolicyKind::Skip => format!(
            "skipped from {from} to `{}`, which no successor edge leads to (policy `skip: warn`)",
            target.id
        ),
    }
}

fn entry_checks(stage: &Stage, facts: &Facts, now: DateTime<Utc>) -> Vec<CriterionCheck> {
    criteria_checks(&stage.entry, CriterionRole::Entry, stage, facts, now)
}

fn exit_checks(stage: &Stage, facts: &Facts, now: DateTime<Utc>) -> Vec<CriterionCheck> {
    criteria_checks(&stage.exit, CriterionRole::Exit, stage, facts, now)
}

fn criteria_checks(
    criteria: &[Criterion],
    role: CriterionRole,
    stage: &Stage,
    facts: &Facts,
    now: DateTime<Utc>,
) -> Vec<CriterionCheck> {
    criteria
        .iter()
        .map(|c| evaluate(&c.program, c.id.clone(), role, &stage.id, facts, now))
        .collect()
}

fn guard_check(
    guard: &Program,
    from: &Stage,
    to: &Stage,
    facts: &Facts,
    now: DateTime<Utc>,
) -> CriterionCheck {
    let id = format!("{} -> {}", from.id, to.id);
    evaluate(guard, id, CriterionRole::Guard, &from.id, facts, now)
}

fn evaluate(
    program: &Program,
    id: String,
    role: CriterionRole,
    stage: &str,
    facts: &Facts,
    now: DateTime<Utc>,
) -> CriterionCheck {
    let status = program.check(facts, now);
    if status == Status::Met {
        return CriterionCheck {
            id,
            role,
            stage: stage.to_string(),
            status: CheckStatus::Met,
            reasons: Vec::new(),
            missing_facts: Vec::new(),
        };
    }
    let explanation = program.explain(facts, now);
    CriterionCheck {
        id,
        role,
        stage: stage.to_string(),
        status: CheckStatus::from(&status),
        reasons: explanation
            .reasons
            .iter()
            .map(ToString::to_string)
            .collect(),
        missing_facts: explanation.missing_facts,
    }
}
