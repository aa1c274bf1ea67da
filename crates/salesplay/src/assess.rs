//! Assessment: where an account stands in a playbook, what blocks it, which facts are
//! missing and what to do next. Stateless: the facts and `now` are all it reads.

use chrono::{DateTime, Utc};
use salesplay_expr::{AllOf, Facts, Sequence, Status};
use serde::Serialize;

use crate::playbook::{Criterion, Playbook, Stage};

/// The assessment of one account against a playbook.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
    /// The playbook's id.
    pub playbook: String,
    /// The playbook's version.
    pub version: u32,
    /// The derived stage's id, or `None` when the account has not met the first stage's
    /// entry criteria.
    pub stage: Option<String>,
    /// The stages the walk passed through, ending with the derived stage.
    pub path: Vec<String>,
    /// Ids of the criteria that keep the account where it is: the derived stage's exit
    /// criteria that are not met, or, when all are met, the unmet entry criteria of its first
    /// successor (of the first stage, when the account is in no stage).
    pub blocked_by: Vec<String>,
    /// Fact paths whose absence made a criterion on the walk unknown; sorted, unique.
    pub missing_facts: Vec<String>,
    /// Every stage's criteria, in order, whether on the walk or not.
    pub stages: Vec<StageStatus>,
    /// Plays whose condition holds and whose scope matches, highest priority first.
    pub plays: Vec<PlayMatch>,
    /// The derived stage's activities (ids).
    pub activities: Vec<String>,
    /// Whole days the account has been in its stage, when known (from a journey).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_in_stage: Option<i64>,
    /// Whether the account has been in its stage longer than the stage's `max_days`.
    pub stalled: bool,
}

/// The status of each criterion of one stage.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StageStatus {
    /// The stage's id.
    pub id: String,
    /// Entry criteria.
    pub entry: Vec<CriterionStatus>,
    /// Exit criteria.
    pub exit: Vec<CriterionStatus>,
}

/// One criterion's status, with why when it is not met.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CriterionStatus {
    /// The criterion's id.
    pub id: String,
    /// `met`, `unmet`, `unknown` or `error`.
    pub status: &'static str,
    /// Why it is not met: one sentence per failing clause.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Absent facts that make it unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_facts: Vec<String>,
}

/// A play that applies.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlayMatch {
    /// The play's id.
    pub id: String,
    /// Its priority.
    pub priority: i32,
}

/// Where the walk through the stages ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Walk {
    pub(crate) stage: Option<usize>,
}

/// The walk compiled once, when the playbook is built: every stage's entry and exit criteria
/// as one [`AllOf`] each, and per successor edge only the entry tests the walk does not
/// already know to hold when it takes the edge (those of the stage it leaves, whose entry and
/// exit criteria all held, and of the edge's guard). The walk only asks "met or not", so it
/// never needs a criterion's [`Status`].
#[derive(Debug, Default)]
pub(crate) struct WalkPlan {
    stages: Vec<StagePlan>,
    /// Stages enterable from anywhere with at least one entry criterion, in order.
    anywhere: Vec<(usize, AllOf)>,
    /// The walk's start, for walks that record nothing.
    run: Run,
}

#[derive(Debug)]
struct StagePlan {
    entry: AllOf,
    exit: AllOf,
    next: Vec<Step>,
}

#[derive(Debug)]
struct Step {
    to: usize,
    guard: Option<AllOf>,
    /// The successor's entry tests left once the stage's own entry and exit criteria and the
    /// guard hold.
    entry: AllOf,
}

/// The start of the walk up to its first stage with several successors, as one [`Sequence`].
///
/// From the first stage, while a stage has a single successor not yet on the run, the walk
/// has no choice to make: it moves on exactly when the stage's exit criteria, the edge's guard
/// and the successor's entry criteria all hold. So that stretch is a sequence of checkpoints
/// (the first stage's entry, then each move), and the number passed says where the walk is.
#[derive(Debug, Default)]
struct Run {
    checkpoints: Sequence,
    /// `stages[k]`: where the walk is after passing `k + 1` checkpoints.
    stages: Vec<usize>,
    /// Whether the last stage of the run has several successors, so the walk goes on from
    /// there when every checkpoint holds.
    forks: bool,
}

impl WalkPlan {
    pub(crate) fn new(stages: &[Stage]) -> WalkPlan {
        let all = |criteria: &[Criterion]| AllOf::new(criteria.iter().map(|c| &c.program));
        let entries: Vec<AllOf> = stages.iter().map(|s| all(&s.entry)).collect();
        let plans: Vec<StagePlan> = stages
            .iter()
            .zip(&entries)
            .map(|(stage, entry)| {
                let exit = all(&stage.exit);
                // INVARIANT: the walk takes an edge only from a stage it entered (its entry
                // criteria held) whose exit criteria hold, and after the edge's guard held.
                let known = entry.and(&exit);
                let next = stage
                    .next
                    .iter()
                    .filter_map(|t| {
                        let guard = t.guard.as_ref().map(|g| AllOf::new([g]));
                        let known = guard
                            .as_ref()
                            .map_or_else(|| known.clone(), |g| known.and(g));
                        let entry = entries.get(t.to)?.given(&known);
                        Some(Step {
                            to: t.to,
                            guard,
                            entry,
                        })
                    })
                    .collect();
                StagePlan {
                    entry: entry.clone(),
                    exit,
                    next,
                }
            })
            .collect();
        let anywhere = stages
            .iter()
            .zip(&entries)
            .filter(|(s, _)| s.from_anywhere && !s.entry.is_empty())
            .map(|(s, entry)| (s.index, entry.clone()))
            .collect();
        let run = Run::new(&plans);
        WalkPlan {
            stages: plans,
            anywhere,
            run,
        }
    }
}

impl Run {
    fn new(plans: &[StagePlan]) -> Run {
        let Some(first) = plans.first() else {
            return Run::default();
        };
        let mut checkpoints = vec![first.entry.clone()];
        let mut stages = vec![0];
        let mut forks = false;
        let mut at = first;
        let mut on_run = vec![false; plans.len()];
        if let Some(first) = on_run.first_mut() {
            *first = true;
        }
        // Ends: each turn adds a stage not yet on the run.
        loop {
            match at.next.as_slice() {
                [step] if !on_run.get(step.to).copied().unwrap_or(true) => {
                    let Some(next) = plans.get(step.to) else {
                        break;
                    };
                    let mut moving = at.exit.clone();
                    if let Some(guard) = &step.guard {
                        moving = moving.and(guard);
                    }
                    checkpoints.push(moving.and(&step.entry));
                    stages.push(step.to);
                    if let Some(seen) = on_run.get_mut(step.to) {
                        *seen = true;
                    }
                    at = next;
                }
                // No successor, or the only one already visited: the walk stops here.
                [] | [_] => break,
                _ => {
                    forks = true;
                    break;
                }
            }
        }
        Run {
            checkpoints: Sequence::new(&checkpoints),
            stages,
            forks,
        }
    }
}

/// What the walk tells its caller about each stage it tries.
pub(crate) trait Visit {
    /// Whether `visit` records anything: when it does not, the walk starts with the plan's
    /// [`Run`], which cannot tell which stage was tried.
    const RECORDS: bool;
    /// The walk tried `stage`, and entered it or not.
    fn visit(&mut self, stage: usize, entered: bool);
}

/// A walk that records nothing ([`Playbook::locate`]).
struct Unrecorded;

impl Visit for Unrecorded {
    const RECORDS: bool = false;
    #[inline(always)]
    fn visit(&mut self, _: usize, _: bool) {}
}

/// A walk that calls `F` with each stage tried.
pub(crate) struct Recorder<F>(pub(crate) F);

impl<F: FnMut(usize, bool)> Visit for Recorder<F> {
    const RECORDS: bool = true;
    fn visit(&mut self, stage: usize, entered: bool) {
        (self.0)(stage, entered);
    }
}

/// The stages a walk has entered.
struct Seen {
    // INVARIANT: stages below 128 are bits of `small`; `large` is allocated only for more.
    small: u128,
    large: Vec<bool>,
}

impl Seen {
    fn new() -> Seen {
        Seen {
            small: 0,
            large: Vec::new(),
        }
    }

    fn contains(&self, stage: usize) -> bool {
        if stage < 128 {
            self.small & (1u128 << stage) != 0
        } else {
            // Not allocated yet: no stage beyond 127 was entered.
            self.large.get(stage).copied().unwrap_or(false)
        }
    }

    fn insert(&mut self, stage: usize, stages: usize) {
        if stage < 128 {
            self.small |= 1u128 << stage;
        } else {
            if self.large.is_empty() {
                self.large = vec![false; stages];
            }
            if let Some(s) = self.large.get_mut(stage) {
                *s = true;
            }
        }
    }
}

impl Playbook {
    /// The derived stage of an account: the walk of the assessment without its report.
    /// Allocates nothing for playbooks of up to 128 stages (one bitset allocation beyond);
    /// use it to place many accounts.
    ///
    /// Returns the stage's index, or `None` when the first stage's entry criteria are not met.
    pub fn locate(&self, facts: &Facts, now: DateTime<Utc>) -> Option<usize> {
        self.walk(facts, now, &mut Unrecorded).stage
    }

    /// Walks the stages as the design defines: start at the first stage, move on while the
    /// current stage's exit criteria hold to the first successor whose guard and entry
    /// criteria hold, never revisiting a stage. `visit` sees each stage tried.
    #[inline]
    pub(crate) fn walk<V: Visit>(&self, facts: &Facts, now: DateTime<Utc>, visit: &mut V) -> Walk {
        let end = if V::RECORDS {
            self.chain(facts, now, visit)
        } else {
            self.run(facts, now)
        };
        // A stage enterable from anywhere (lost, disqualified) takes the account as soon as
        // its own entry criteria hold, wherever the chain ended.
        if let Some(&(anywhere, _)) = self
            .plan
            .anywhere
            .iter()
            .find(|(_, entry)| entry.holds(facts, now))
        {
            visit.visit(anywhere, true);
            return Walk {
                stage: Some(anywhere),
            };
        }
        Walk { stage: end }
    }

    /// The chain of successors from the first stage, stage by stage: where it ends, or `None`
    /// when the first stage's entry criteria do not hold.
    fn chain<V: Visit>(&self, facts: &Facts, now: DateTime<Utc>, visit: &mut V) -> Option<usize> {
        let first = self.plan.stages.first()?;
        let entered = first.entry.holds(facts, now);
        visit.visit(0, entered);
        if !entered {
            return None;
        }
        let mut seen = Seen::new();
        seen.insert(0, self.plan.stages.len());
        Some(self.chain_from(0, &mut seen, facts, now, visit))
    }

    /// The same chain for a walk that records nothing: the plan's [`Run`] in one sequence of
    /// tests, then stage by stage from where it forks.
    #[inline]
    fn run(&self, facts: &Facts, now: DateTime<Utc>) -> Option<usize> {
        let run = &self.plan.run;
        let passed = run.checkpoints.passed(facts, now);
        let at = *run.stages.get(passed.checked_sub(1)?)?;
        if passed < run.stages.len() || !run.forks {
            return Some(at);
        }
        let mut seen = Seen::new();
        for &stage in &run.stages {
            seen.insert(stage, self.plan.stages.len());
        }
        Some(self.chain_from(at, &mut seen, facts, now, &mut Unrecorded))
    }

    /// The chain from `current`, an entered stage: where it ends. Out of line, so a walk that
    /// ends within the plan's [`Run`] does not pay for its registers.
    #[inline(never)]
    fn chain_from<V: Visit>(
        &self,
        mut current: usize,
        seen: &mut Seen,
        facts: &Facts,
        now: DateTime<Utc>,
        visit: &mut V,
    ) -> usize {
        while let Some(stage) = self.plan.stages.get(current) {
            // A stage with no successor ends the chain; its exit criteria decide nothing.
            if stage.next.is_empty() || !stage.exit.holds(facts, now) {
                break;
            }
            let mut moved = false;
            for step in &stage.next {
                if seen.contains(step.to) {
                    continue;
                }
                if let Some(guard) = &step.guard
                    && !guard.holds(facts, now)
                {
                    continue;
                }
                let ok = step.entry.holds(facts, now);
                visit.visit(step.to, ok);
                if ok {
                    seen.insert(step.to, self.plan.stages.len());
                    current = step.to;
                    moved = true;
                    break;
                }
            }
            if !moved {
                break;
            }
        }
        current
    }

    /// Assesses one account: per-stage criteria with explanations, the derived stage, what
    /// blocks it, the missing facts, the matching plays and the stage's activities.
    pub fn assess(&self, facts: &Facts, now: DateTime<Utc>) -> Assessment {
        self.assess_since(facts, now, None)
    }

    /// [`Playbook::assess`] for an account known to have entered its current stage at
    /// `entered_at`, so time in stage and stalling (`max_days`) are known and plays marked
    /// `stalled: true` can match.
    pub fn assess_since(
        &self,
        facts: &Facts,
        now: DateTime<Utc>,
        entered_at: Option<DateTime<Utc>>,
    ) -> Assessment {
        // Which stages the walk entered or tried.
        let mut tried = vec![false; self.stages.len()];
        let mut path = Vec::new();
        let walk = self.walk(
            facts,
            now,
            &mut Recorder(|i: usize, entered: bool| {
                if let Some(t) = tried.get_mut(i) {
                    *t = true;
                }
                if entered {
                    path.push(i);
                }
            }),
        );
        let mut missing: Vec<String> = Vec::new();
        let mut stages = Vec::with_capacity(self.stages.len());
        for stage in &self.stages {
            let on_path = path.contains(&stage.index);
            let was_tried = tried.get(stage.index).copied().unwrap_or(false);
            let entry = self.statuses(&stage.entry, facts, now, was_tried.then_some(&mut missing));
            let exit = self.statuses(&stage.exit, facts, now, on_path.then_some(&mut missing));
            stages.push(StageStatus {
                id: stage.id.clone(),
                entry,
                exit,
            });
        }
        // Guards out of the derived stage that are unknown also keep the account from moving.
        if let Some(i) = walk.stage
            && let (Some(stage), Some(plan)) = (self.stages.get(i), self.plan.stages.get(i))
            && plan.exit.holds(facts, now)
        {
            for guard in stage.next.iter().filter_map(|t| t.guard.as_ref()) {
                if guard.check(facts, now) == Status::Unknown {
                    missing.extend(guard.explain(facts, now).missing_facts);
                }
            }
        }
        missing.sort();
        missing.dedup();
        let blocked_by = match walk.stage {
            None => unmet_ids(stages.first().map(|s| &s.entry)),
            Some(i) => {
                let exit = stages.get(i).map(|s| &s.exit);
                let blocking = unmet_ids(exit);
                if blocking.is_empty() {
                    let successor = self
                        .stages
                        .get(i)
                        .and_then(|s| s.next.first())
                        .map(|t| t.to);
                    unmet_ids(successor.and_then(|j| stages.get(j)).map(|s| &s.entry))
                } else {
                    blocking
                }
            }
        };
        let current = walk.stage.and_then(|i| self.stages.get(i));
        let days_in_stage = entered_at.map(|t| now.signed_duration_since(t).num_days());
        let stalled = match (current.and_then(|s| s.max_days), days_in_stage) {
            (Some(max), Some(days)) => days > i64::from(max),
            _ => false,
        };
        let mut plays: Vec<(usize, PlayMatch)> = Vec::new();
        for (order, play) in self.plays.iter().enumerate() {
            let in_scope = match (&play.stages, walk.stage) {
                (None, _) => true,
                (Some(scope), Some(i)) => scope.contains(&i),
                (Some(_), None) => false,
            };
            if !in_scope || (play.stalled && !stalled) {
                continue;
            }
            let holds = play.when.as_ref().is_none_or(|w| w.holds(facts, now));
            if holds {
                plays.push((
                    order,
                    PlayMatch {
                        id: play.id.clone(),
                        priority: play.priority,
                    },
                ));
            }
        }
        plays.sort_by(|(oa, a), (ob, b)| b.priority.cmp(&a.priority).then(oa.cmp(ob)));
        Assessment {
            playbook: self.id.clone(),
            version: self.version,
            stage: current.map(|s| s.id.clone()),
            path: path
                .iter()
                .filter_map(|&i| self.stages.get(i))
                .map(|s| s.id.clone())
                .collect(),
            blocked_by,
            missing_facts: missing,
            stages,
            plays: plays.into_iter().map(|(_, p)| p).collect(),
            activities: current
                .map(|s| s.activities.iter().map(|a| a.id.clone()).collect())
                .unwrap_or_default(),
            days_in_stage,
            stalled,
        }
    }

    fn statuses(
        &self,
        criteria: &[Criterion],
        facts: &Facts,
        now: DateTime<Utc>,
        mut missing: Option<&mut Vec<String>>,
    ) -> Vec<CriterionStatus> {
        criteria
            .iter()
            .map(|c| {
                let status = c.program.check(facts, now);
                if status == Status::Met {
                    return CriterionStatus {
                        id: c.id.clone(),
                        status: "met",
                        reasons: Vec::new(),
                        missing_facts: Vec::new(),
                    };
                }
                let explanation = c.program.explain(facts, now);
                if let Some(m) = missing.as_deref_mut() {
                    m.extend(explanation.missing_facts.iter().cloned());
                }
                CriterionStatus {
                    id: c.id.clone(),
                    status: explanation.status.as_str(),
                    reasons: explanation
                        .reasons
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                    missing_facts: explanation.missing_facts,
                }
            })
            .collect()
    }
}

fn unmet_ids(criteria: Option<&Vec<CriterionStatus>>) -> Vec<String> {
    criteria
        .map(|cs| {
            cs.iter()
                .filter(|c| c.status != "met")
                .map(|c| c.id.clone())
                .collect()
        })
        .unwrap_or_default()
}
