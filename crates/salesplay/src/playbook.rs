//! The validated playbook: stages with compiled criteria, plays and policies. Only the loader
//! builds one, so every `Playbook` has passed validation.

use std::collections::HashMap;

use salesplay_expr::{Program, Schema};

pub use crate::model::{Label, Policies, Policy};

impl Label {
    /// The text in language `lang` (a BCP-47 tag such as `zh` or `en`), falling back to the
    /// primary language of `lang` (`zh` for `zh-Hant`), then `en`, then any text.
    ///
    /// ```
    /// use salesplay::Label;
    /// let label = Label::ByLanguage([("en".into(), "Build trust".into()), ("zh".into(), "建立信任".into())].into());
    /// assert_eq!(label.get("zh-CN"), "建立信任");
    /// assert_eq!(label.get("fr"), "Build trust");
    /// ```
    pub fn get(&self, lang: &str) -> &str {
        match self {
            Label::Plain(text) => text,
            Label::ByLanguage(texts) => {
                let primary = lang.split('-').next().unwrap_or(lang);
                texts
                    .get(lang)
                    .or_else(|| texts.get(primary))
                    .or_else(|| texts.get("en"))
                    .or_else(|| texts.values().next())
                    .map_or("", String::as_str)
            }
        }
    }

    pub(crate) fn plain(text: &str) -> Label {
        Label::Plain(text.to_string())
    }
}

/// A validated playbook. Immutable, `Send + Sync`; share it behind an `Arc`.
#[derive(Debug)]
pub struct Playbook {
    pub(crate) id: String,
    pub(crate) version: u32,
    pub(crate) name: Label,
    pub(crate) description: Option<Label>,
    pub(crate) schema: Schema,
    pub(crate) fact_labels: HashMap<String, Label>,
    pub(crate) stages: Vec<Stage>,
    pub(crate) plays: Vec<Play>,
    pub(crate) policies: Policies,
    pub(crate) stage_index: HashMap<String, usize>,
    /// Former stage ids → current stage index.
    pub(crate) renamed: HashMap<String, usize>,
    /// Longest list accepted in a fact.
    pub(crate) fact_list_limit: usize,
    /// The walk, compiled from `stages`.
    pub(crate) plan: crate::assess::WalkPlan,
}

/// A stage of a playbook.
#[derive(Debug)]
pub struct Stage {
    pub(crate) index: usize,
    pub(crate) id: String,
    pub(crate) name: Label,
    pub(crate) description: Option<Label>,
    pub(crate) entry: Vec<Criterion>,
    pub(crate) exit: Vec<Criterion>,
    pub(crate) activities: Vec<Activity>,
    pub(crate) next: Vec<Transition>,
    pub(crate) max_days: Option<u32>,
    pub(crate) probability: Option<f64>,
    pub(crate) from_anywhere: bool,
    pub(crate) renamed_from: Vec<String>,
}

/// An entry or exit criterion: an id, a label and a compiled condition.
#[derive(Debug)]
pub struct Criterion {
    pub(crate) id: String,
    pub(crate) label: Label,
    pub(crate) program: Program,
}

/// A successor edge of a stage.
#[derive(Debug)]
pub struct Transition {
    pub(crate) to: usize,
    pub(crate) guard: Option<Program>,
    pub(crate) label: Option<Label>,
}

/// Work to do in a stage.
#[derive(Debug)]
pub struct Activity {
    pub(crate) id: String,
    pub(crate) label: Label,
    pub(crate) description: Option<Label>,
}

/// A rule that recommends an action when its condition holds.
#[derive(Debug)]
pub struct Play {
    pub(crate) id: String,
    pub(crate) label: Label,
    pub(crate) description: Option<Label>,
    pub(crate) when: Option<Program>,
    pub(crate) priority: i32,
    /// Indexes of the stages the play is scoped to; `None` for every stage.
    pub(crate) stages: Option<Vec<usize>>,
    pub(crate) stalled: bool,
}

impl Playbook {
    /// The playbook's stable id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its version; journeys pin it.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Its name.
    pub fn name(&self) -> &Label {
        &self.name
    }

    /// Its description.
    pub fn description(&self) -> Option<&Label> {
        self.description.as_ref()
    }

    /// The declared facts and their types.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The label of fact `path`, if declared with one.
    pub fn fact_label(&self, path: &str) -> Option<&Label> {
        self.fact_labels.get(path)
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The stage with id `id` (a current id, or one it was `renamed_from`).
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stage_index
            .get(id)
            .or_else(|| self.renamed.get(id))
            .and_then(|&i| self.stages.get(i))
    }

    /// The plays, in declaration order.
    pub fn plays(&self) -> &[Play] {
        &self.plays
    }

    /// The journey policies.
    pub fn policies(&self) -> Policies {
        self.policies
    }

    /// The stage at `index` in the list of stages.
    pub fn stage_at(&self, index: usize) -> Option<&Stage> {
        self.stages.get(index)
    }
}

impl Stage {
    /// The stage's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Position in the playbook's list of stages.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Its name (the id when none was given).
    pub fn name(&self) -> &Label {
        &self.name
    }

    /// Its description.
    pub fn description(&self) -> Option<&Label> {
        self.description.as_ref()
    }

    /// Criteria to enter the stage.
    pub fn entry(&self) -> &[Criterion] {
        &self.entry
    }

    /// Criteria to leave the stage.
    pub fn exit(&self) -> &[Criterion] {
        &self.exit
    }

    /// The work to do in the stage.
    pub fn activities(&self) -> &[Activity] {
        &self.activities
    }

    /// Successor edges, in order; empty for a terminal stage.
    pub fn next(&self) -> &[Transition] {
        &self.next
    }

    /// Whether the stage has no successors.
    pub fn is_terminal(&self) -> bool {
        self.next.is_empty()
    }

    /// Days an account may stay before it counts as stalled.
    pub fn max_days(&self) -> Option<u32> {
        self.max_days
    }

    /// Win probability for the weighted pipeline.
    pub fn probability(&self) -> Option<f64> {
        self.probability
    }

    /// Whether the stage can be entered from any stage.
    pub fn is_from_anywhere(&self) -> bool {
        self.from_anywhere
    }

    /// Former ids of the stage.
    pub fn renamed_from(&self) -> &[String] {
        &self.renamed_from
    }
}

impl Criterion {
    /// The criterion's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What it means (the id when no label was given).
    pub fn label(&self) -> &Label {
        &self.label
    }

    /// The compiled condition.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The condition as written.
    pub fn source(&self) -> &str {
        self.program.source()
    }
}

impl Transition {
    /// Index of the successor stage.
    pub fn to(&self) -> usize {
        self.to
    }

    /// The guard, if any.
    pub fn guard(&self) -> Option<&Program> {
        self.guard.as_ref()
    }

    /// What the edge means.
    pub fn label(&self) -> Option<&Label> {
        self.label.as_ref()
    }
}

impl Activity {
    /// The activity's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What to do.
    pub fn label(&self) -> &Label {
        &self.label
    }

    /// More detail.
    pub fn description(&self) -> Option<&Label> {
        self.description.as_ref()
    }
}

impl Play {
    /// The play's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The recommended action.
    pub fn label(&self) -> &Label {
        &self.label
    }

    /// Why and how.
    pub fn description(&self) -> Option<&Label> {
        self.description.as_ref()
    }

    /// The condition, if any.
    pub fn condition(&self) -> Option<&Program> {
        self.when.as_ref()
    }

    /// Higher runs first.
    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// The stages it is scoped to (indexes), or `None` for all.
    pub fn stage_scope(&self) -> Option<&[usize]> {
        self.stages.as_deref()
    }

    /// Whether it applies only to stalled accounts.
    pub fn needs_stalled(&self) -> bool {
        self.stalled
    }
}
