//! Explanations: why a criterion is unmet or unknown, in terms an author reads.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::eval::{Env, Scope, Stop, Tracer, as_bool, eval};
use crate::program::{Cmp, Macro, Node, NodeKind, Ty};
use crate::span::Span;
use crate::types::Type;
use crate::value::{Facts, Value};
use crate::{Program, Status};

/// Why a criterion has its status: the clauses that decided it and the facts it lacked.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The criterion's status.
    pub status: Status,
    /// The clauses that made it unmet, unknown or failed; empty when met.
    pub reasons: Vec<Reason>,
    /// Fact paths whose absence made it unknown, sorted and unique; empty unless unknown.
    pub missing_facts: Vec<String>,
}

/// One clause that made a criterion unmet, unknown or failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    /// The clause as written.
    pub clause: String,
    /// Where it was written, in bytes of the criterion source.
    pub span: Span,
    /// The clause's own status (`Unmet`, `Unknown` or `Error`).
    pub status: Status,
    /// What exactly went wrong.
    pub detail: Detail,
}

/// What exactly made a clause fail.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Detail {
    /// A comparison that does not hold: `subject` has value `actual`, and needs
    /// `op` `expected` (`op` is one of `=`, `≠`, `<`, `≤`, `>`, `≥`, `in`).
    Comparison {
        /// What was compared, usually a fact path.
        subject: String,
        /// Its actual value.
        actual: String,
        /// The relation it needs.
        op: String,
        /// The value it needs to relate to.
        expected: String,
    },
    /// A condition that is `false` (or `true` where false was needed).
    Value {
        /// The condition, usually a fact path.
        subject: String,
        /// Its actual value.
        actual: String,
    },
    /// No element of a list satisfies a predicate.
    NoElement {
        /// The list.
        list: String,
        /// How many elements it has.
        len: usize,
    },
    /// Not exactly one element satisfies the predicate of `exists_one`.
    NotExactlyOne {
        /// The list.
        list: String,
        /// How many elements satisfy it.
        count: usize,
    },
    /// An element fails the predicate of `all`; `reasons` say why.
    ElementFails {
        /// The element, such as `contacts[2]`.
        element: String,
        /// Why it fails.
        reasons: Vec<Reason>,
    },
    /// Facts the clause reads are absent.
    Missing {
        /// Their paths.
        facts: Vec<String>,
    },
    /// Evaluation failed.
    Error {
        /// The error message.
        message: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Detail::Comparison {
                subject,
                actual,
                op,
                expected,
            } => match op.as_str() {
                "=" => write!(f, "`{subject}` is `{actual}`, needs `{expected}`"),
                "≠" => write!(f, "`{subject}` is `{actual}`, must not be `{expected}`"),
                "in" => write!(f, "`{subject}` is `{actual}`, needs one of {expected}"),
                op => write!(f, "`{subject}` is `{actual}`, needs {op} `{expected}`"),
            },
            Detail::Value { subject, actual } => write!(f, "`{subject}` is {actual}"),
            Detail::NoElement { list, len } => {
                write!(
                    f,
                    "no element of `{list}` ({len} in all) satisfies `{}`",
                    self.clause_predicate()
                )
            }
            Detail::NotExactlyOne { list, count } => write!(
                f,
                "{count} elements of `{list}` satisfy `{}`, needs exactly one",
                self.clause_predicate()
            ),
            Detail::ElementFails { element, reasons } => {
                write!(f, "`{element}` fails")?;
                for (i, reason) in reasons.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { "; " })?;
                    write!(f, "{reason}")?;
                }
                Ok(())
            }
            Detail::Missing { facts } => {
                let names: Vec<String> = facts.iter().map(|p| format!("`{p}`")).collect();
                if names.is_empty() {
                    write!(f, "`{}` is unknown", self.clause)
                } else if names.len() == 1 {
                    write!(f, "{} is missing", names.join(""))
                } else {
                    write!(f, "{} are missing", names.join(", "))
                }
            }
            Detail::Error { message } => write!(f, "`{}` failed: {message}", self.clause),
        }
    }
}

impl Reason {
    /// The predicate part of a macro clause (`c.role == "x"` in `l.exists(c, c.role == "x")`).
    fn clause_predicate(&self) -> &str {
        self.clause
            .split_once(", ")
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .unwrap_or(&self.clause)
    }
}

/// Records the paths of absent facts met during evaluation.
struct Recorder<'p> {
    program: &'p Program,
    missing: Vec<String>,
}

impl Tracer for Recorder<'_> {
    fn missing_fact(&mut self, slot: u32) {
        if let Some(path) = self.program.fact_path(slot) {
            self.missing.push(path.to_string());
        }
    }

    fn missing_field(&mut self, scope: Option<(&Scope<'_>, u32)>, field: u32, record: &Node) {
        let name = match record.ty.known() {
            Some(Type::Record(r)) => r
                .fields()
                .get(field as usize)
                .map_or_else(|| format!("#{field}"), |(n, _)| n.clone()),
            _ => format!("#{field}"),
        };
        let element = match scope {
            Some((s, _)) => match s.list_fact.and_then(|slot| self.program.fact_path(slot)) {
                Some(list) => format!("{list}[{}]", s.index),
                None => format!("element {}", s.index),
            },
            None => "record".to_string(),
        };
        self.missing.push(format!("{element}.{name}"));
    }

    fn missing_index(&mut self, slot: u32, index: usize) {
        if let Some(path) = self.program.fact_path(slot) {
            self.missing.push(format!("{path}[{index}]"));
        }
    }

    fn missing_within(&mut self, node: &Node, value: &Value, scope: Option<&Scope<'_>>) {
        let base = self
            .path_of(node, scope)
            .unwrap_or_else(|| "value".to_string());
        let ty = node.ty.known().cloned();
        self.absent_parts(&base, value, ty.as_ref(), 0);
    }

    fn missing_element(&mut self, scope: &Scope<'_>) {
        let element = match scope
            .list_fact
            .and_then(|slot| self.program.fact_path(slot))
        {
            Some(list) => format!("{list}[{}]", scope.index),
            None => format!("element {}", scope.index),
        };
        self.missing.push(element);
    }
}

fn status_of(result: &Result<bool, Stop>) -> Status {
    match result {
        Ok(true) => Status::Met,
        Ok(false) => Status::Unmet,
        Err(Stop::Unknown) => Status::Unknown,
        Err(Stop::Error(e)) => Status::Error(e.clone()),
    }
}

impl Recorder<'_> {
    /// The path a place node reads, such as `contacts[2].role`.
    fn path_of(&self, node: &Node, scope: Option<&Scope<'_>>) -> Option<String> {
        match &node.kind {
            NodeKind::Fact(slot) => self.program.fact_path(*slot).map(str::to_string),
            NodeKind::Index(list, index) => match &index.kind {
                NodeKind::Const(Value::Int(i)) => {
                    Some(format!("{}[{i}]", self.path_of(list, scope)?))
                }
                _ => None,
            },
            NodeKind::Field(record, field) => {
                let name = match record.ty.known() {
                    Some(Type::Record(r)) => {
                        r.fields().get(*field as usize).map(|(n, _)| n.clone())?
                    }
                    _ => return None,
                };
                Some(format!("{}.{name}", self.path_of(record, scope)?))
            }
            NodeKind::Local(depth) => {
                let mut s = scope;
                for _ in 0..*depth {
                    s = s.and_then(|s| s.parent);
                }
                let s = s?;
                let list = s.list_fact.and_then(|slot| self.program.fact_path(slot))?;
                Some(format!("{list}[{}]", s.index))
            }
            _ => None,
        }
    }

    /// Records the path of every absent element or field inside `value`.
    fn absent_parts(&mut self, base: &str, value: &Value, ty: Option<&Type>, depth: usize) {
        if depth > 16 {
            return;
        }
        match (value, ty) {
            (Value::Null, _) => self.missing.push(base.to_string()),
            (Value::List(items), _) => {
                let elem = match ty {
                    Some(Type::List(elem)) => Some(&**elem),
                    _ => None,
                };
                for (i, item) in items.iter().enumerate() {
                    self.absent_parts(&format!("{base}[{i}]"), item, elem, depth + 1);
                }
            }
            (Value::Record(fields), Some(Type::Record(r))) => {
                for (field, (name, field_ty)) in fields.iter().zip(r.fields()) {
                    self.absent_parts(&format!("{base}.{name}"), field, Some(field_ty), depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// Shows a value the way a reason quotes it: strings and enum names bare.
fn plain(value: &Value, ty: &Ty) -> String {
    match (value, ty.known()) {
        (Value::String(s), _) => s.to_string(),
        (Value::Enum(i), Some(Type::Enum(e))) => e.name(*i).unwrap_or("?").to_string(),
        (v, Some(t)) => v.display(t).to_string(),
        (v, None) => v.display(&Type::Bool).to_string(),
    }
}

struct Explainer<'p> {
    program: &'p Program,
    recorder: Recorder<'p>,
}

impl<'p> Explainer<'p> {
    fn text(&self, span: Span) -> String {
        span.slice(self.program.source()).to_string()
    }

    fn eval_bool<'a>(&mut self, node: &'a Node, env: &Env<'a>) -> Result<bool, Stop> {
        as_bool(&eval(node, env, &mut crate::eval::NoTrace), node.span)
    }

    /// The absent facts `node` reads, by evaluating it again with the recorder on.
    fn missing<'a>(&mut self, node: &'a Node, env: &Env<'a>) -> Vec<String> {
        let before = self.recorder.missing.len();
        let _ = eval(node, env, &mut self.recorder);
        let mut found: Vec<String> = self
            .recorder
            .missing
            .get(before..)
            .unwrap_or_default()
            .to_vec();
        found.sort();
        found.dedup();
        found
    }

    /// Why `node` does not evaluate to `want`.
    fn explain<'a>(&mut self, node: &'a Node, env: &Env<'a>, want: bool) -> Vec<Reason> {
        let result = self.eval_bool(node, env);
        if result == Ok(want) {
            return Vec::new();
        }
        match &node.kind {
            NodeKind::And(items) | NodeKind::Or(items) => {
                let is_and = matches!(node.kind, NodeKind::And(_));
                // An `&&` that should hold (or an `||` that should fail) is spoiled by each
                // operand that does not; otherwise every operand is to blame.
                let mut reasons = Vec::new();
                for item in items {
                    let item_result = self.eval_bool(item, env);
                    let culprit = match &result {
                        Err(Stop::Unknown) => item_result == Err(Stop::Unknown),
                        Err(Stop::Error(_)) => matches!(item_result, Err(Stop::Error(_))),
                        Ok(_) if want == is_and => item_result == Ok(!want),
                        Ok(_) => true,
                    };
                    if culprit {
                        reasons.extend(self.explain(item, env, want));
                    }
                }
                reasons
            }
            NodeKind::Not(inner) if result.is_ok() => self.explain(inner, env, !want),
            NodeKind::Comprehension {
                kind, range, body, ..
            } if result.is_ok()
                && matches!(kind, Macro::All | Macro::Exists | Macro::ExistsOne) =>
            {
                self.explain_macro(node, *kind, range, body, env, want)
            }
            _ => vec![self.leaf(node, env, result)],
        }
    }

    fn explain_macro<'a>(
        &mut self,
        node: &'a Node,
        kind: Macro,
        range: &'a Node,
        body: &'a Node,
        env: &Env<'a>,
        want: bool,
    ) -> Vec<Reason> {
        let list_text = self.text(range.span);
        let Ok(list) = eval(range, env, &mut crate::eval::NoTrace) else {
            return vec![self.leaf(node, env, Err(Stop::Unknown))];
        };
        let Value::List(items) = &*list else {
            return Vec::new();
        };
        let list_fact = match range.kind {
            NodeKind::Fact(slot) => Some(slot),
            _ => None,
        };
        let clause = self.text(node.span);
        let status = if want { Status::Unmet } else { Status::Met };
        let detail = match (kind, want) {
            (Macro::ExistsOne, _) => {
                let mut count = 0;
                for (index, item) in items.iter().enumerate() {
                    let scope = env.element(item, index, list_fact);
                    let inner = env.within(&scope);
                    if self.eval_bool(body, &inner) == Ok(true) {
                        count += 1;
                    }
                }
                Detail::NotExactlyOne {
                    list: list_text,
                    count,
                }
            }
            // `all` fails (or `exists` holds where it should not) because of one element.
            (Macro::All, true) | (Macro::Exists, false) => {
                let mut found = None;
                for (index, item) in items.iter().enumerate() {
                    let scope = env.element(item, index, list_fact);
                    let inner = env.within(&scope);
                    if self.eval_bool(body, &inner) == Ok(!want) {
                        found = Some((index, self.explain(body, &inner, want)));
                        break;
                    }
                }
                match found {
                    Some((index, reasons)) => Detail::ElementFails {
                        element: format!("{list_text}[{index}]"),
                        reasons,
                    },
                    None => Detail::NoElement {
                        list: list_text,
                        len: items.len(),
                    },
                }
            }
            _ => Detail::NoElement {
                list: list_text,
                len: items.len(),
            },
        };
        vec![Reason {
            clause,
            span: node.span,
            status,
            detail,
        }]
    }

    /// A reason for a clause that is not `&&`, `||` or `!`.
    fn leaf<'a>(&mut self, node: &'a Node, env: &Env<'a>, result: Result<bool, Stop>) -> Reason {
        let clause = self.text(node.span);
        let status = status_of(&result);
        let detail = match &result {
            Err(Stop::Unknown) => Detail::Missing {
                facts: self.missing(node, env),
            },
            Err(Stop::Error(e)) => Detail::Error {
                message: e.kind.to_string(),
            },
            Ok(actual) => match &node.kind {
                // `has(x)` that fails: say the fact is absent, not that `has(x)` is false.
                NodeKind::HasFact(_) | NodeKind::HasField(..) if !*actual => Detail::Value {
                    subject: clause
                        .strip_prefix("has(")
                        .and_then(|c| c.strip_suffix(')'))
                        .unwrap_or(&clause)
                        .trim()
                        .to_string(),
                    actual: "absent".to_string(),
                },
                _ => self.comparison(node, env).unwrap_or(Detail::Value {
                    subject: clause.clone(),
                    actual: actual.to_string(),
                }),
            },
        };
        Reason {
            clause,
            span: node.span,
            status,
            detail,
        }
    }

    fn comparison<'a>(&mut self, node: &'a Node, env: &Env<'a>) -> Option<Detail> {
        let (op, lhs, rhs) = match &node.kind {
            NodeKind::Cmp(op, l, r) => (*op, l, r),
            NodeKind::In(l, r) => {
                let actual = eval(l, env, &mut crate::eval::NoTrace).ok()?;
                let options = eval(r, env, &mut crate::eval::NoTrace).ok()?;
                let elem_ty = match r.ty.known() {
                    Some(Type::List(elem)) => Ty::Known((**elem).clone()),
                    _ => Ty::Error,
                };
                let listed: Vec<String> = match &*options {
                    Value::List(items) => items
                        .iter()
                        .map(|v| format!("`{}`", plain(v, &elem_ty)))
                        .collect(),
                    _ => Vec::new(),
                };
                return Some(Detail::Comparison {
                    subject: self.text(l.span),
                    actual: plain(&actual, &l.ty),
                    op: "in".into(),
                    expected: listed.join(", "),
                });
            }
            _ => return None,
        };
        let l = eval(lhs, env, &mut crate::eval::NoTrace).ok()?;
        let r = eval(rhs, env, &mut crate::eval::NoTrace).ok()?;
        // Put the side that is not a constant first: `5 < amount` reads as `amount > 5`.
        let flipped =
            matches!(lhs.kind, NodeKind::Const(_)) && !matches!(rhs.kind, NodeKind::Const(_));
        let (op, subject, actual, expected) = if flipped {
            let op = match op {
                Cmp::Lt => Cmp::Gt,
                Cmp::Le => Cmp::Ge,
                Cmp::Gt => Cmp::Lt,
                Cmp::Ge => Cmp::Le,
                other => other,
            };
            (op, rhs, plain(&r, &rhs.ty), plain(&l, &lhs.ty))
        } else {
            (op, lhs, plain(&l, &lhs.ty), plain(&r, &rhs.ty))
        };
        let other = if flipped { lhs } else { rhs };
        let other_text = self.text(other.span);
        let expected = if matches!(other.kind, NodeKind::Const(_)) || other_text == expected {
            expected
        } else {
            format!("{other_text} ({expected})")
        };
        let op = match op {
            Cmp::Eq => "=",
            Cmp::Ne => "≠",
            Cmp::Lt => "<",
            Cmp::Le => "≤",
            Cmp::Gt => ">",
            Cmp::Ge => "≥",
        };
        Some(Detail::Comparison {
            subject: self.text(subject.span),
            actual,
            op: op.into(),
            expected,
        })
    }
}

pub(crate) fn explain(program: &Program, facts: &Facts, now: DateTime<Utc>) -> Explanation {
    let env = Env {
        facts,
        now,
        scope: None,
    };
    let mut explainer = Explainer {
        program,
        recorder: Recorder {
            program,
            missing: Vec::new(),
        },
    };
    let result = explainer.eval_bool(&program.root, &env);
    let status = status_of(&result);
    let reasons = if result == Ok(true) {
        Vec::new()
    } else {
        explainer.explain(&program.root, &env, true)
    };
    let mut missing_facts = Vec::new();
    if status == Status::Unknown {
        collect_missing(&reasons, &mut missing_facts);
        missing_facts.sort();
        missing_facts.dedup();
    }
    Explanation {
        status,
        reasons,
        missing_facts,
    }
}

fn collect_missing(reasons: &[Reason], out: &mut Vec<String>) {
    for reason in reasons {
        match &reason.detail {
            Detail::Missing { facts } => out.extend(facts.iter().cloned()),
            Detail::ElementFails { reasons, .. } => collect_missing(reasons, out),
            _ => {}
        }
    }
}
