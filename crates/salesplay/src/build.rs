//! Validation: turns the raw model into a [`Playbook`], reporting every problem at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use salesplay_expr::{Schema, SchemaError, Type, did_you_mean};
use serde_saphyr::Spanned;

use crate::diagnostic::Sink;
use crate::limits::Limits;
use crate::model::{FactType, Label, RawCriterion, RawPlaybook};
use crate::playbook::{Activity, Criterion, Play, Playbook, Stage, Transition};
use crate::{gap, graph};

/// Byte range of a spanned node in the file.
pub(crate) fn at<T>(spanned: &Spanned<T>) -> (usize, usize) {
    at_location(&spanned.referenced)
}

/// Byte range of a location in the file.
pub(crate) fn at_location(location: &serde_saphyr::Location) -> (usize, usize) {
    let span = location.span();
    let start = span
        .byte_offset()
        .and_then(|o| usize::try_from(o).ok())
        .unwrap_or(0);
    let len = span
        .byte_len()
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(0);
    (start, start + len)
}

/// Maps a byte offset inside an expression to a byte offset in the file, for an expression
/// written as a YAML scalar starting at `scalar_start`. Quotes, escapes and folded line breaks
/// make the two differ, so the expression's characters are aligned with the file's.
pub(crate) fn map_offset(source: &str, scalar_start: usize, expr: &str, offset: usize) -> usize {
    let Some(tail) = source.get(scalar_start..) else {
        return scalar_start;
    };
    let mut file = tail.char_indices().peekable();
    let mut last = scalar_start;
    for (i, c) in expr.char_indices() {
        // Skip file characters (quotes, escapes, indentation) until this one.
        let mut skipped = 0;
        let found = loop {
            match file.next() {
                Some((j, fc)) if fc == c => break Some(j),
                Some(_) if skipped < 256 => skipped += 1,
                _ => break None,
            }
        };
        let Some(j) = found else {
            return last;
        };
        if i >= offset {
            return scalar_start + j;
        }
        last = scalar_start + j + c.len_utf8();
    }
    last
}

const BUILTIN_TYPES: &[&str] = &[
    "bool",
    "int",
    "number",
    "string",
    "date",
    "timestamp",
    "duration",
];

struct TypeResolver<'r> {
    named: HashMap<&'r str, &'r FactType>,
}

impl TypeResolver<'_> {
    fn resolve(&self, ty: &FactType, depth: usize) -> Result<Type, (String, Option<String>)> {
        if depth > 32 {
            return Err((
                "type definitions refer to each other in a loop or nest too deeply".into(),
                None,
            ));
        }
        Ok(match ty {
            FactType::Named(name) => match name.as_str() {
                "bool" => Type::Bool,
                "int" => Type::Int,
                "number" => Type::Number,
                "string" => Type::String,
                "date" => Type::Date,
                "timestamp" => Type::Timestamp,
                "duration" => Type::Duration,
                other => match self.named.get(other) {
                    Some(def) => self.resolve(def, depth + 1)?,
                    None => {
                        let candidates = BUILTIN_TYPES
                            .iter()
                            .copied()
                            .chain(self.named.keys().copied());
                        let help = match did_you_mean(other, candidates) {
                            Some(m) => format!("did you mean `{m}`?"),
                            None => format!(
                                "the types are {}{}",
                                BUILTIN_TYPES.join(", "),
                                if self.named.is_empty() {
                                    String::new()
                                } else {
                                    ", and the names under `types`".into()
                                }
                            ),
                        };
                        return Err((format!("unknown type `{other}`"), Some(help)));
                    }
                },
            },
            FactType::Enum { values, ordered } => {
                if values.is_empty() {
                    return Err(("an enum needs at least one value".into(), None));
                }
                let mut seen = BTreeSet::new();
                for v in values {
                    if !seen.insert(v.as_str()) {
                        return Err((format!("enum value `{v}` is listed twice"), None));
                    }
                }
                Type::enumeration(values.iter().cloned(), *ordered)
            }
            FactType::List(elem) => Type::List(Arc::new(self.resolve(elem, depth + 1)?)),
            FactType::Record(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                for (name, ty) in fields {
                    out.push((name.clone(), self.resolve(ty, depth + 1)?));
                }
                Type::Record(Arc::new(salesplay_expr::RecordType::new(out)))
            }
            FactType::Labelled { ty, .. } => self.resolve(ty, depth + 1)?,
        })
    }
}

/// A label and where it was written, for the language lint.
struct LabelAt<'r> {
    label: &'r Label,
    at: (usize, usize),
}

struct Builder<'r, 's> {
    raw: &'r RawPlaybook,
    sink: Sink<'s>,
    limits: &'r Limits,
    schema: Schema,
    labels: Vec<LabelAt<'r>>,
    /// Criterion ids → where first declared.
    criterion_ids: HashMap<&'r str, (usize, usize)>,
    facts_read: BTreeSet<String>,
    /// Facts whose type failed to resolve: criteria naming them are not blamed again.
    failed_facts: Vec<String>,
}

pub(crate) fn build(
    raw: &RawPlaybook,
    source: &str,
    limits: &Limits,
) -> (Option<Playbook>, Vec<crate::Diagnostic>) {
    let mut builder = Builder {
        raw,
        sink: Sink::new(source),
        limits,
        schema: Schema::new(),
        labels: Vec::new(),
        criterion_ids: HashMap::new(),
        facts_read: BTreeSet::new(),
        failed_facts: Vec::new(),
    };
    let playbook = builder.run();
    let mut diagnostics = builder.sink.diagnostics;
    diagnostics.sort_by_key(|d| (d.start, d.severity));
    (playbook, diagnostics)
}

impl<'r, 's> Builder<'r, 's> {
    fn run(&mut self) -> Option<Playbook> {
        let raw = self.raw;
        if raw.id.value.trim().is_empty() {
            self.sink.error(
                "E1006",
                at(&raw.id),
                "the playbook id is empty",
                Some("give the playbook a stable id such as `key_account_six_steps`".into()),
            );
        }
        self.check_limits();
        if let Some(name) = &raw.name {
            self.labels.push(LabelAt {
                label: &name.value,
                at: at(name),
            });
        }
        if let Some(d) = &raw.description {
            self.labels.push(LabelAt {
                label: &d.value,
                at: at(d),
            });
        }
        let fact_labels = self.declare_facts();
        let stage_index = self.stage_index();
        let renamed = self.renamed(&stage_index);
        let mut stages = Vec::with_capacity(raw.stages.len());
        for index in 0..raw.stages.len() {
            if let Some(stage) = self.stage(index, &stage_index) {
                stages.push(stage);
            }
        }
        let plays = self.plays(&stage_index);
        if raw.stages.is_empty() {
            self.sink.error(
                "E1021",
                at(&raw.id),
                "the playbook has no stages",
                Some("add a `stages:` list with at least one stage".into()),
            );
        }
        if self.sink.has_errors() {
            return None;
        }
        let plan = crate::assess::WalkPlan::new(&stages);
        let playbook = Playbook {
            id: raw.id.value.clone(),
            version: raw.version,
            name: raw
                .name
                .as_ref()
                .map_or_else(|| Label::plain(&raw.id.value), |n| n.value.clone()),
            description: raw.description.as_ref().map(|d| d.value.clone()),
            schema: std::mem::take(&mut self.schema),
            fact_labels,
            stages,
            plays,
            policies: raw.policies,
            stage_index,
            renamed,
            fact_list_limit: self.limits.max_fact_list_len,
            plan,
        };
        self.lint(&playbook);
        Some(playbook)
    }

    fn check_limits(&mut self) {
        let raw = self.raw;
        if raw.stages.len() > self.limits.max_stages {
            self.sink.error(
                "E1003",
                at(&raw.id),
                format!(
                    "the playbook has {} stages, over the limit of {}",
                    raw.stages.len(),
                    self.limits.max_stages
                ),
                Some("raise `Limits::max_stages` if this is intended".into()),
            );
        }
        let criteria: usize = raw
            .stages
            .iter()
            .map(|s| {
                let guards = s
                    .next
                    .iter()
                    .flatten()
                    .filter(|e| e.value.when.is_some())
                    .count();
                s.entry.len() + s.exit.len() + guards
            })
            .sum::<usize>()
            + raw.plays.len();
        if criteria > self.limits.max_criteria {
            self.sink.error(
                "E1003",
                at(&raw.id),
                format!(
                    "the playbook has {criteria} criteria and plays, over the limit of {}",
                    self.limits.max_criteria
                ),
                Some("raise `Limits::max_criteria` if this is intended".into()),
            );
        }
    }

    fn declare_facts(&mut self) -> HashMap<String, Label> {
        let raw = self.raw;
        let mut named = HashMap::new();
        for (name, ty) in &raw.types {
            if BUILTIN_TYPES.contains(&name.value.as_str()) {
                self.sink.error(
                    "E1004",
                    at(name),
                    format!(
                        "`{}` is a built-in type and cannot be redefined",
                        name.value
                    ),
                    Some("choose another name".into()),
                );
                continue;
            }
            named.insert(name.value.as_str(), &ty.value);
        }
        let resolver = TypeResolver { named };
        for (name, ty) in &raw.types {
            if let Err((message, help)) = resolver.resolve(&ty.value, 0) {
                self.sink.error(
                    "E1004",
                    at(ty),
                    format!("type `{}`: {message}", name.value),
                    help,
                );
            }
        }
        let mut labels = HashMap::new();
        for (path, ty) in &raw.facts {
            let resolved = match resolver.resolve(&ty.value, 0) {
                Ok(t) => t,
                Err((message, help)) => {
                    self.sink.error("E1004", at(ty), message, help);
                    self.failed_facts.push(path.value.clone());
                    continue;
                }
            };
            // The fact's own label, or else the label of the named type it uses.
            let label = match &ty.value {
                FactType::Labelled { label, .. } => Some(label),
                FactType::Named(name) => match resolver.named.get(name.as_str()) {
                    Some(FactType::Labelled { label, .. }) => Some(label),
                    _ => None,
                },
                _ => None,
            };
            if let Some(label) = label {
                labels.insert(path.value.clone(), label.clone());
                self.labels.push(LabelAt {
                    label,
                    at: at(path),
                });
            }
            if let Err(e) = self.schema.declare(&path.value, resolved) {
                self.failed_facts.push(path.value.clone());
                let help = match &e {
                    SchemaError::Nested { .. } => {
                        Some("a fact is either a value or a group of facts, not both".to_string())
                    }
                    SchemaError::InvalidPath(_) => Some(
                        "use dot-separated snake_case names, such as `relationship.level`"
                            .to_string(),
                    ),
                    SchemaError::Reserved(_) => Some("rename the fact".to_string()),
                    _ => None,
                };
                self.sink.error("E1005", at(path), e.to_string(), help);
            }
        }
        labels
    }

    fn stage_index(&mut self) -> HashMap<String, usize> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut first_at: HashMap<&str, (usize, usize)> = HashMap::new();
        for (i, stage) in self.raw.stages.iter().enumerate() {
            let id = stage.id.value.as_str();
            if id.trim().is_empty() {
                self.sink
                    .error("E1006", at(&stage.id), "a stage id is empty", None);
                continue;
            }
            if let Some(first) = first_at.get(id) {
                let (line, _) = salesplay_expr::line_col(self.sink.source(), first.0);
                self.sink.error(
                    "E1010",
                    at(&stage.id),
                    format!("stage id `{id}` is used twice"),
                    Some(format!(
                        "the first `{id}` is on line {line}; stage ids must be unique"
                    )),
                );
                continue;
            }
            first_at.insert(id, at(&stage.id));
            index.insert(id.to_string(), i);
        }
        index
    }

    fn renamed(&mut self, stage_index: &HashMap<String, usize>) -> HashMap<String, usize> {
        let mut renamed: HashMap<String, usize> = HashMap::new();
        for (i, stage) in self.raw.stages.iter().enumerate() {
            for old in &stage.renamed_from {
                if stage_index.contains_key(&old.value) {
                    self.sink.error(
                        "E1014",
                        at(old),
                        format!(
                            "`{}` is still the id of a stage, so no stage can be renamed from it",
                            old.value
                        ),
                        None,
                    );
                } else if renamed.insert(old.value.clone(), i).is_some() {
                    self.sink.error(
                        "E1014",
                        at(old),
                        format!("two stages claim to be renamed from `{}`", old.value),
                        Some("a former id can lead to one stage only".into()),
                    );
                }
            }
        }
        renamed
    }

    fn unknown_stage(
        &mut self,
        id: &str,
        span: (usize, usize),
        stage_index: &HashMap<String, usize>,
    ) {
        let help = match did_you_mean(id, stage_index.keys().map(String::as_str)) {
            Some(m) => format!("did you mean `{m}`?"),
            None => {
                let mut ids: Vec<&str> = self
                    .raw
                    .stages
                    .iter()
                    .map(|s| s.id.value.as_str())
                    .collect();
                ids.truncate(12);
                format!("the stages are: {}", ids.join(", "))
            }
        };
        self.sink
            .error("E1020", span, format!("unknown stage `{id}`"), Some(help));
    }

    /// Compiles a criterion-language expression written at `when`, reporting its errors at
    /// their positions in the file.
    fn compile(
        &mut self,
        when: &Spanned<String>,
        criterion: bool,
    ) -> Option<salesplay_expr::Program> {
        let result = if criterion {
            salesplay_expr::compile_criterion_with(&when.value, &self.schema, &self.limits.expr)
        } else {
            salesplay_expr::compile_with(&when.value, &self.schema, &self.limits.expr)
        };
        match result {
            Ok(program) => {
                self.facts_read
                    .extend(program.facts_read().map(String::from));
                Some(program)
            }
            Err(errors) => {
                let (scalar_start, _) = at(when);
                for e in errors {
                    // A fact whose declaration already failed is not reported again here.
                    let echo = self
                        .failed_facts
                        .iter()
                        .any(|f| e.message.contains(&format!("`{f}")));
                    if echo {
                        continue;
                    }
                    let source = self.sink.source();
                    let start =
                        map_offset(source, scalar_start, &when.value, e.span.start as usize);
                    let end = if e.span.is_empty() {
                        start
                    } else {
                        // Map the last character, then step past it.
                        let last_char = when
                            .value
                            .get(..e.span.end as usize)
                            .and_then(|t| t.char_indices().last())
                            .map_or(0, |(i, _)| i);
                        let last = map_offset(source, scalar_start, &when.value, last_char);
                        last + source
                            .get(last..)
                            .and_then(|s| s.chars().next())
                            .map_or(0, char::len_utf8)
                    };
                    let mut d = self.sink.make(
                        crate::Severity::Error,
                        e.code.as_str(),
                        (start, end),
                        e.message,
                    );
                    d.label = e.label;
                    d.help = e.help;
                    self.sink.emit(d);
                }
                None
            }
        }
    }

    fn criteria(&mut self, raw: &'r [RawCriterion]) -> Vec<Criterion> {
        let mut out = Vec::with_capacity(raw.len());
        for c in raw {
            let id = c.id.value.as_str();
            if id.trim().is_empty() {
                self.sink
                    .error("E1006", at(&c.id), "a criterion id is empty", None);
            } else if let Some(first) = self.criterion_ids.get(id) {
                let (line, _) = salesplay_expr::line_col(self.sink.source(), first.0);
                self.sink.error(
                    "E1011",
                    at(&c.id),
                    format!("criterion id `{id}` is used twice"),
                    Some(format!(
                        "the first `{id}` is on line {line}; criterion ids are unique in a playbook"
                    )),
                );
            } else {
                self.criterion_ids.insert(id, at(&c.id));
            }
            if let Some(label) = &c.label {
                self.labels.push(LabelAt {
                    label: &label.value,
                    at: at(label),
                });
            }
            if let Some(program) = self.compile(&c.when, true) {
                out.push(Criterion {
                    id: id.to_string(),
                    label: c
                        .label
                        .as_ref()
                        .map_or_else(|| Label::plain(id), |l| l.value.clone()),
                    program,
                });
            }
        }
        out
    }

    fn stage(&mut self, index: usize, stage_index: &HashMap<String, usize>) -> Option<Stage> {
        let raw = self.raw;
        let rs = raw.stages.get(index)?;
        for label in [&rs.name, &rs.description].into_iter().flatten() {
            self.labels.push(LabelAt {
                label: &label.value,
                at: at(label),
            });
        }
        let entry = self.criteria(&rs.entry);
        let exit = self.criteria(&rs.exit);
        let mut activities = Vec::with_capacity(rs.activities.len());
        let mut activity_ids = HashMap::new();
        for a in &rs.activities {
            if a.id.value.trim().is_empty() {
                self.sink
                    .error("E1006", at(&a.id), "an activity id is empty", None);
            } else if activity_ids.insert(a.id.value.as_str(), ()).is_some() {
                self.sink.error(
                    "E1013",
                    at(&a.id),
                    format!(
                        "activity id `{}` is used twice in stage `{}`",
                        a.id.value, rs.id.value
                    ),
                    None,
                );
            }
            for label in [&a.label, &a.description].into_iter().flatten() {
                self.labels.push(LabelAt {
                    label: &label.value,
                    at: at(label),
                });
            }
            activities.push(Activity {
                id: a.id.value.clone(),
                label: a
                    .label
                    .as_ref()
                    .map_or_else(|| Label::plain(&a.id.value), |l| l.value.clone()),
                description: a.description.as_ref().map(|d| d.value.clone()),
            });
        }
        if let Some(p) = &rs.probability
            && !(0.0..=1.0).contains(&p.value)
        {
            self.sink.error(
                "E1006",
                at(p),
                format!("probability {} is outside 0 to 1", p.value),
                Some("write the win probability as a fraction, such as 0.25".into()),
            );
        }
        let next = match &rs.next {
            None if rs.from_anywhere => Vec::new(),
            None => raw
                .stages
                .iter()
                .enumerate()
                .skip(index + 1)
                .find(|(_, s)| !s.from_anywhere)
                .map(|(to, _)| {
                    vec![Transition {
                        to,
                        guard: None,
                        label: None,
                    }]
                })
                .unwrap_or_default(),
            Some(edges) => {
                let mut out = Vec::with_capacity(edges.len());
                for edge in edges {
                    if let Some(label) = &edge.value.label {
                        self.labels.push(LabelAt {
                            label,
                            at: at(edge),
                        });
                    }
                    // Check the guard and the target both, so both problems are reported.
                    let guard = edge.value.when.as_ref().map(|w| self.compile(w, true));
                    let target_at = edge
                        .value
                        .to_location
                        .as_ref()
                        .map_or_else(|| at(edge), at_location);
                    let target = stage_index.get(&edge.value.to).copied();
                    if target.is_none() {
                        self.unknown_stage(&edge.value.to, target_at, stage_index);
                    }
                    match (target, guard) {
                        (Some(to), None) => out.push(Transition {
                            to,
                            guard: None,
                            label: edge.value.label.clone(),
                        }),
                        (Some(to), Some(Some(guard))) => out.push(Transition {
                            to,
                            guard: Some(guard),
                            label: edge.value.label.clone(),
                        }),
                        _ => {}
                    }
                }
                out
            }
        };
        Some(Stage {
            index,
            id: rs.id.value.clone(),
            name: rs
                .name
                .as_ref()
                .map_or_else(|| Label::plain(&rs.id.value), |n| n.value.clone()),
            description: rs.description.as_ref().map(|d| d.value.clone()),
            entry,
            exit,
            activities,
            next,
            max_days: rs.max_days.as_ref().map(|d| d.value),
            probability: rs.probability.as_ref().map(|p| p.value),
            from_anywhere: rs.from_anywhere,
            renamed_from: rs.renamed_from.iter().map(|r| r.value.clone()).collect(),
        })
    }

    fn plays(&mut self, stage_index: &HashMap<String, usize>) -> Vec<Play> {
        let raw = self.raw;
        let mut plays = Vec::with_capacity(raw.plays.len());
        let mut first_at: HashMap<&str, (usize, usize)> = HashMap::new();
        for rp in &raw.plays {
            let id = rp.id.value.as_str();
            if id.trim().is_empty() {
                self.sink
                    .error("E1006", at(&rp.id), "a play id is empty", None);
            } else if let Some(first) = first_at.get(id) {
                let (line, _) = salesplay_expr::line_col(self.sink.source(), first.0);
                self.sink.error(
                    "E1012",
                    at(&rp.id),
                    format!("play id `{id}` is used twice"),
                    Some(format!(
                        "the first `{id}` is on line {line}; play ids must be unique"
                    )),
                );
            } else {
                first_at.insert(id, at(&rp.id));
            }
            for label in [&rp.label, &rp.description].into_iter().flatten() {
                self.labels.push(LabelAt {
                    label: &label.value,
                    at: at(label),
                });
            }
            // The condition and the scope are both checked, so both problems are reported.
            let when = rp.when.as_ref().map(|w| self.compile(w, true));
            let stages = rp.stages.as_ref().map(|ids| {
                let mut out = Vec::with_capacity(ids.len());
                for sid in ids {
                    match stage_index.get(&sid.value) {
                        Some(&i) => out.push(i),
                        None => self.unknown_stage(&sid.value, at(sid), stage_index),
                    }
                }
                out
            });
            let when = match when {
                Some(Some(p)) => Some(p),
                Some(None) => continue,
                None => None,
            };
            plays.push(Play {
                id: id.to_string(),
                label: rp
                    .label
                    .as_ref()
                    .map_or_else(|| Label::plain(id), |l| l.value.clone()),
                description: rp.description.as_ref().map(|d| d.value.clone()),
                when,
                priority: rp.priority,
                stages,
                stalled: rp.stalled,
            });
        }
        plays
    }

    // ----- lints: warnings on a playbook that loads -----

    fn lint(&mut self, playbook: &Playbook) {
        let raw = self.raw;
        let stage_at = |i: usize| raw.stages.get(i).map_or((0, 0), |s| at(&s.id));
        for finding in graph::check(playbook) {
            let (code, message, help) = match finding {
                graph::Finding::Unreachable(i) => (
                    "W1001",
                    format!("no path reaches stage `{}`", playbook.stages.get(i).map_or("", |s| s.id.as_str())),
                    Some("add it as a successor (`next:`) of an earlier stage, or mark it `from_anywhere: true`".to_string()),
                ),
                graph::Finding::NoWayOut(i) => (
                    "W1002",
                    format!("no terminal stage can be reached from stage `{}`", playbook.stages.get(i).map_or("", |s| s.id.as_str())),
                    Some("accounts that get here can never finish; add a successor that leads to a terminal stage".to_string()),
                ),
            };
            self.sink.warning(
                code,
                stage_at(match finding {
                    graph::Finding::Unreachable(i) | graph::Finding::NoWayOut(i) => i,
                }),
                message,
                help,
            );
        }
        for gap in gap::check(playbook) {
            let Some(rs) = raw.stages.get(gap.to) else {
                continue;
            };
            let Some(rc) = rs.entry.get(gap.criterion) else {
                continue;
            };
            let from = playbook.stages.get(gap.from).map_or("", |s| s.id.as_str());
            let (message, help) = match gap.verdict {
                gap::Verdict::NotImplied => (
                    format!("entry criterion `{}` of stage `{}` does not follow from the exit criteria of `{from}`: accounts can leave `{from}` and still not enter `{}`", rc.id.value, rs.id.value, rs.id.value),
                    "make the end marker of the previous stage the start marker of this one, such as by repeating the criterion in its exit".to_string(),
                ),
                gap::Verdict::CannotProve => (
                    format!("cannot prove that entry criterion `{}` of stage `{}` follows from the exit criteria of `{from}`", rc.id.value, rs.id.value),
                    "implication is checked for conjunctions of comparisons of facts with constants; repeat the criterion in the exit criteria of the previous stage to make the link explicit".to_string(),
                ),
            };
            self.sink.warning("W1003", at(&rc.id), message, Some(help));
        }
        self.lint_constants(playbook);
        self.lint_unused_facts();
        self.lint_labels();
    }

    fn lint_constants(&mut self, playbook: &Playbook) {
        let raw = self.raw;
        let empty = salesplay_expr::Facts::new(&playbook.schema);
        let epoch = chrono::DateTime::UNIX_EPOCH;
        for (stage, rs) in playbook.stages.iter().zip(&raw.stages) {
            let pairs = stage
                .entry
                .iter()
                .zip(&rs.entry)
                .chain(stage.exit.iter().zip(&rs.exit));
            for (criterion, rc) in pairs {
                if !criterion.program.is_constant() {
                    continue;
                }
                let value = match criterion.program.check(&empty, epoch) {
                    salesplay_expr::Status::Met => "always met",
                    salesplay_expr::Status::Unmet => "never met",
                    _ => "constant",
                };
                self.sink.warning(
                    "W1004",
                    at(&rc.when),
                    format!(
                        "criterion `{}` reads no facts, so it is {value}",
                        criterion.id
                    ),
                    Some(
                        "a criterion should test the account's facts; remove it or refer to a fact"
                            .into(),
                    ),
                );
            }
        }
    }

    fn lint_unused_facts(&mut self) {
        let raw = self.raw;
        for (path, _) in &raw.facts {
            if !self.facts_read.contains(&path.value) {
                self.sink.warning(
                    "W1005",
                    at(path),
                    format!(
                        "fact `{}` is declared but no criterion, guard or play reads it",
                        path.value
                    ),
                    Some("remove it, or use it in a criterion".into()),
                );
            }
        }
    }

    fn lint_labels(&mut self) {
        let mut languages = BTreeSet::new();
        for l in &self.labels {
            if let Label::ByLanguage(texts) = l.label {
                languages.extend(texts.keys().cloned());
            }
        }
        let mut findings = Vec::new();
        for l in &self.labels {
            if let Label::ByLanguage(texts) = l.label {
                let missing: Vec<&str> = languages
                    .iter()
                    .filter(|lang| !texts.contains_key(*lang))
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    findings.push((
                        l.at,
                        missing.join("`, `"),
                        languages.iter().cloned().collect::<Vec<_>>().join(", "),
                    ));
                }
            }
        }
        for (span, missing, all) in findings {
            self.sink.warning(
                "W1006",
                span,
                format!("label has no `{missing}` text"),
                Some(format!(
                    "other labels in this playbook are written in {all}"
                )),
            );
        }
    }
}
