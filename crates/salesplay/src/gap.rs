//! The exit → entry gap lint: on a forward edge A → B, each entry criterion of B should follow
//! from A's exit criteria (plus the edge's guard), or accounts can leave A and still fail to
//! enter B. Implication is decided exactly for conjunctions of comparisons between a fact and
//! a constant; a conjunct written identically on both sides is implied too; anything else
//! "cannot be proved".

use std::collections::BTreeSet;

use salesplay_expr::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use salesplay_expr::{Schema, Type};

use crate::playbook::Playbook;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The premises are analyzable and allow values the entry criterion rejects.
    NotImplied,
    /// The criterion is not in the analyzable form.
    CannotProve,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Gap {
    pub(crate) from: usize,
    pub(crate) to: usize,
    /// Index among the entry criteria of `to`.
    pub(crate) criterion: usize,
    pub(crate) verdict: Verdict,
}

/// A comparable constant: numbers, enum ranks, dates and durations map to `f64`.
#[derive(Clone, Debug, PartialEq)]
enum Lit {
    Num(f64),
    Str(String),
    Bool(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug)]
enum Atom {
    Cmp {
        fact: String,
        op: Op,
        value: Lit,
    },
    In {
        fact: String,
        values: Vec<Lit>,
    },
    Has(String),
    /// Not analyzable; kept for syntactic comparison, with the facts it mentions.
    Opaque(Expr, BTreeSet<String>),
}

impl Atom {
    fn fact(&self) -> Option<&str> {
        match self {
            Atom::Cmp { fact, .. } | Atom::In { fact, .. } | Atom::Has(fact) => Some(fact),
            Atom::Opaque(..) => None,
        }
    }
}

pub(crate) fn check(playbook: &Playbook) -> Vec<Gap> {
    let schema = &playbook.schema;
    let mut gaps = Vec::new();
    for a in &playbook.stages {
        if a.from_anywhere {
            continue;
        }
        let exit: Vec<Atom> = a
            .exit
            .iter()
            .flat_map(|c| conjuncts(c.program.source(), schema))
            .collect();
        for t in &a.next {
            let Some(b) = playbook.stages.get(t.to) else {
                continue;
            };
            if t.to <= a.index || b.from_anywhere {
                continue;
            }
            let mut premises = exit.clone();
            if let Some(guard) = &t.guard {
                premises.extend(conjuncts(guard.source(), schema));
            }
            for (k, entry) in b.entry.iter().enumerate() {
                let goals = conjuncts(entry.program.source(), schema);
                if let Some(verdict) = judge(&premises, &goals) {
                    gaps.push(Gap {
                        from: a.index,
                        to: b.index,
                        criterion: k,
                        verdict,
                    });
                }
            }
        }
    }
    gaps
}

/// `None` when every goal follows from the premises.
fn judge(premises: &[Atom], goals: &[Atom]) -> Option<Verdict> {
    let mut verdict = None;
    for goal in goals {
        if follows(premises, goal) {
            continue;
        }
        let analyzable = match goal.fact() {
            Some(fact) => !premises
                .iter()
                .any(|p| matches!(p, Atom::Opaque(_, facts) if facts.contains(fact))),
            None => false,
        };
        if analyzable {
            return Some(Verdict::NotImplied);
        }
        verdict = Some(Verdict::CannotProve);
    }
    verdict
}

fn follows(premises: &[Atom], goal: &Atom) -> bool {
    match goal {
        Atom::Opaque(expr, _) => premises
            .iter()
            .any(|p| matches!(p, Atom::Opaque(e, _) if e == expr)),
        Atom::Has(fact) => premises.iter().any(|p| p.fact() == Some(fact)),
        Atom::Cmp { fact, .. } | Atom::In { fact, .. } => {
            let on_fact: Vec<&Atom> = premises.iter().filter(|p| p.fact() == Some(fact)).collect();
            if on_fact.is_empty() {
                return false;
            }
            entails(&on_fact, goal)
        }
    }
}

fn satisfies(value: &Lit, op: Op, bound: &Lit) -> Option<bool> {
    let ordering = match (value, bound) {
        (Lit::Num(a), Lit::Num(b)) => a.partial_cmp(b)?,
        (Lit::Str(a), Lit::Str(b)) => a.cmp(b),
        (Lit::Bool(a), Lit::Bool(b)) => a.cmp(b),
        _ => return None,
    };
    use std::cmp::Ordering::*;
    Some(match op {
        Op::Eq => ordering == Equal,
        Op::Ne => ordering != Equal,
        Op::Lt => ordering == Less,
        Op::Le => ordering != Greater,
        Op::Gt => ordering == Greater,
        Op::Ge => ordering != Less,
    })
}

fn allows(premise: &Atom, value: &Lit) -> bool {
    match premise {
        Atom::Cmp {
            op, value: bound, ..
        } => satisfies(value, *op, bound).unwrap_or(true),
        Atom::In { values, .. } => values.contains(value),
        _ => true,
    }
}

/// Whether every value the premises allow satisfies the goal. Candidates: the finite sets the
/// premises name, or else the interval they bound, probed at its ends.
fn entails(premises: &[&Atom], goal: &Atom) -> bool {
    // A finite candidate set: an equality or a membership list.
    let finite: Option<Vec<Lit>> = premises.iter().find_map(|p| match p {
        Atom::Cmp {
            op: Op::Eq, value, ..
        } => Some(vec![value.clone()]),
        Atom::In { values, .. } => Some(values.clone()),
        _ => None,
    });
    let goal_holds = |v: &Lit| match goal {
        Atom::Cmp { op, value, .. } => satisfies(v, *op, value).unwrap_or(false),
        Atom::In { values, .. } => values.contains(v),
        _ => false,
    };
    if let Some(candidates) = finite {
        return candidates
            .iter()
            .filter(|v| premises.iter().all(|p| allows(p, v)))
            .all(goal_holds);
    }
    // An interval: the tightest lower and upper bounds of the premises.
    let mut lower: Option<(f64, bool)> = None;
    let mut upper: Option<(f64, bool)> = None;
    for p in premises {
        if let Atom::Cmp {
            op,
            value: Lit::Num(v),
            ..
        } = p
        {
            match op {
                Op::Gt | Op::Ge => {
                    let strict = *op == Op::Gt;
                    if lower.is_none_or(|(l, s)| *v > l || (*v == l && strict && !s)) {
                        lower = Some((*v, strict));
                    }
                }
                Op::Lt | Op::Le => {
                    let strict = *op == Op::Lt;
                    if upper.is_none_or(|(u, s)| *v < u || (*v == u && strict && !s)) {
                        upper = Some((*v, strict));
                    }
                }
                _ => {}
            }
        }
    }
    let Atom::Cmp {
        op,
        value: Lit::Num(g),
        ..
    } = goal
    else {
        return false;
    };
    match op {
        Op::Ge => lower.is_some_and(|(l, _)| l >= *g),
        Op::Gt => lower.is_some_and(|(l, strict)| l > *g || (l == *g && strict)),
        Op::Le => upper.is_some_and(|(u, _)| u <= *g),
        Op::Lt => upper.is_some_and(|(u, strict)| u < *g || (u == *g && strict)),
        Op::Ne => {
            lower.is_some_and(|(l, strict)| l > *g || (l == *g && strict))
                || upper.is_some_and(|(u, strict)| u < *g || (u == *g && strict))
                || premises.iter().any(
                    |p| matches!(p, Atom::Cmp { op: Op::Ne, value: Lit::Num(v), .. } if v == g),
                )
        }
        Op::Eq => false,
    }
}

/// The conjuncts of a criterion, each an analyzable atom or opaque.
fn conjuncts(source: &str, schema: &Schema) -> Vec<Atom> {
    let Ok(expr) = salesplay_expr::parse(source) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    flatten(&expr, schema, &mut out);
    out
}

fn flatten(expr: &Expr, schema: &Schema, out: &mut Vec<Atom>) {
    if let ExprKind::And(items) = &expr.kind {
        for item in items {
            flatten(item, schema, out);
        }
        return;
    }
    out.push(atom(expr, schema).unwrap_or_else(|| Atom::Opaque(expr.clone(), mentioned(expr))));
}

fn mentioned(expr: &Expr) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        if let Some(name) = e.dotted_name() {
            // Every prefix, so `contacts` is found under `contacts.size()` or `c.role`.
            let mut prefix = String::new();
            for part in name.split('.') {
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(part);
                names.insert(prefix.clone());
            }
            continue;
        }
        match &e.kind {
            ExprKind::Select { operand, .. } | ExprKind::Unary { operand, .. } => {
                stack.push(operand)
            }
            ExprKind::Index { operand, index } => {
                stack.push(operand);
                stack.push(index);
            }
            ExprKind::Call { target, args, .. } => {
                stack.extend(target.as_deref());
                stack.extend(args);
            }
            ExprKind::List(items) | ExprKind::And(items) | ExprKind::Or(items) => {
                stack.extend(items)
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                stack.push(lhs);
                stack.push(rhs);
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                stack.push(cond);
                stack.push(then);
                stack.push(otherwise);
            }
            _ => {}
        }
    }
    names
}

fn fact_of<'s>(expr: &Expr, schema: &'s Schema) -> Option<(String, &'s Type)> {
    let name = expr.dotted_name()?;
    let (_, ty) = schema.lookup(&name)?;
    Some((name, ty))
}

/// A constant of type `ty`, as the comparable [`Lit`].
fn literal(expr: &Expr, ty: &Type) -> Option<Lit> {
    match (&expr.kind, ty) {
        (ExprKind::Int(i), Type::Int | Type::Number) => Some(Lit::Num(*i as f64)),
        (ExprKind::Double(d), Type::Int | Type::Number) => Some(Lit::Num(*d)),
        (ExprKind::Bool(b), Type::Bool) => Some(Lit::Bool(*b)),
        (ExprKind::String(s), Type::String) => Some(Lit::Str(s.clone())),
        (ExprKind::String(s), Type::Enum(e)) => {
            let index = e.index_of(s)?;
            Some(if e.is_ordered() {
                Lit::Num(f64::from(index))
            } else {
                Lit::Str(s.clone())
            })
        }
        (
            ExprKind::Call {
                target: None,
                function,
                args,
                ..
            },
            _,
        ) => {
            let text = match args.first().map(|a| &a.kind) {
                Some(ExprKind::String(t)) => t,
                _ => return None,
            };
            let probe = format!("{function}({})", expr_string(text));
            let program = salesplay_expr::compile(&probe, &Schema::new()).ok()?;
            let value = program
                .evaluate(
                    &salesplay_expr::Facts::default(),
                    chrono::DateTime::UNIX_EPOCH,
                )
                .ok()?;
            match (value, ty) {
                (salesplay_expr::Value::Date(d), Type::Date) => {
                    Some(Lit::Num(f64::from(chrono::Datelike::num_days_from_ce(&d))))
                }
                (salesplay_expr::Value::Timestamp(t), Type::Timestamp) => {
                    Some(Lit::Num(t.timestamp() as f64))
                }
                (salesplay_expr::Value::Duration(d), Type::Duration) => {
                    Some(Lit::Num(d.num_milliseconds() as f64))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn expr_string(text: &str) -> String {
    Expr {
        kind: ExprKind::String(text.to_string()),
        span: salesplay_expr::Span::default(),
    }
    .to_string()
}

fn atom(expr: &Expr, schema: &Schema) -> Option<Atom> {
    match &expr.kind {
        ExprKind::Ident(_) | ExprKind::Select { .. } => {
            let (fact, ty) = fact_of(expr, schema)?;
            (ty == &Type::Bool).then_some(Atom::Cmp {
                fact,
                op: Op::Eq,
                value: Lit::Bool(true),
            })
        }
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => {
            let (fact, ty) = fact_of(operand, schema)?;
            (ty == &Type::Bool).then_some(Atom::Cmp {
                fact,
                op: Op::Eq,
                value: Lit::Bool(false),
            })
        }
        ExprKind::Call {
            target: None,
            function,
            args,
            ..
        } if function == "has" => {
            let (fact, _) = fact_of(args.first()?, schema)?;
            Some(Atom::Has(fact))
        }
        ExprKind::Binary {
            op: BinaryOp::In,
            lhs,
            rhs,
        } => {
            let (fact, ty) = fact_of(lhs, schema)?;
            let ExprKind::List(items) = &rhs.kind else {
                return None;
            };
            let values = items
                .iter()
                .map(|i| literal(i, ty))
                .collect::<Option<Vec<_>>>()?;
            Some(Atom::In { fact, values })
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let op = match op {
                BinaryOp::Eq => Op::Eq,
                BinaryOp::Ne => Op::Ne,
                BinaryOp::Lt => Op::Lt,
                BinaryOp::Le => Op::Le,
                BinaryOp::Gt => Op::Gt,
                BinaryOp::Ge => Op::Ge,
                _ => return None,
            };
            if let Some((fact, ty)) = fact_of(lhs, schema) {
                let value = literal(rhs, ty)?;
                return Some(Atom::Cmp { fact, op, value });
            }
            let (fact, ty) = fact_of(rhs, schema)?;
            let value = literal(lhs, ty)?;
            let flipped = match op {
                Op::Lt => Op::Gt,
                Op::Le => Op::Ge,
                Op::Gt => Op::Lt,
                Op::Ge => Op::Le,
                other => other,
            };
            Some(Atom::Cmp {
                fact,
                op: flipped,
                value,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        let mut s = Schema::new();
        s.declare("level", Type::enumeration(["a", "b", "c", "d"], true))
            .unwrap();
        s.declare("amount", Type::Number).unwrap();
        s.declare("flag", Type::Bool).unwrap();
        s.declare("stage", Type::String).unwrap();
        s.declare("signed", Type::Date).unwrap();
        s.declare("contacts", Type::list_of_records([("role", Type::String)]))
            .unwrap();
        s
    }

    fn verdict(premises: &str, goal: &str) -> Option<Verdict> {
        let s = schema();
        let p: Vec<Atom> = if premises.is_empty() {
            Vec::new()
        } else {
            conjuncts(premises, &s)
        };
        judge(&p, &conjuncts(goal, &s))
    }

    #[test]
    fn exact_implication_of_comparisons() {
        assert_eq!(verdict("level >= 'c'", "level >= 'b'"), None);
        assert_eq!(
            verdict("level >= 'b'", "level >= 'c'"),
            Some(Verdict::NotImplied)
        );
        assert_eq!(verdict("level == 'c'", "level in ['c', 'd']"), None);
        assert_eq!(verdict("level in ['c', 'd']", "level >= 'c'"), None);
        assert_eq!(
            verdict("level in ['a', 'd']", "level >= 'c'"),
            Some(Verdict::NotImplied)
        );
        assert_eq!(verdict("amount > 100.0", "amount >= 100.0"), None);
        assert_eq!(
            verdict("amount >= 100.0", "amount > 100.0"),
            Some(Verdict::NotImplied)
        );
        assert_eq!(
            verdict("amount > 100.0 && amount < 200.0", "amount != 50.0"),
            None
        );
        assert_eq!(verdict("100.0 < amount", "amount > 50.0"), None);
        assert_eq!(verdict("flag", "flag"), None);
        assert_eq!(verdict("flag && amount > 1.0", "has(amount)"), None);
        assert_eq!(verdict("!flag", "flag"), Some(Verdict::NotImplied));
        assert_eq!(verdict("stage == 'won'", "stage in ['won', 'lost']"), None);
        assert_eq!(
            verdict(
                "signed > date('2026-01-01')",
                "signed >= date('2026-01-01')"
            ),
            None
        );
        assert_eq!(verdict("", "flag"), Some(Verdict::NotImplied));
    }

    #[test]
    fn identical_opaque_conjuncts_are_implied_and_others_cannot_be_proved() {
        let exists = "contacts.exists(c, c.role == 'x')";
        assert_eq!(verdict(exists, exists), None);
        assert_eq!(verdict(&format!("flag && {exists}"), exists), None);
        assert_eq!(verdict("flag", exists), Some(Verdict::CannotProve));
        assert_eq!(
            verdict("amount > 1.0 || flag", "flag"),
            Some(Verdict::CannotProve)
        );
    }
}
