//! The fast path for criteria: a boolean node tree compiled once into nested closures, each
//! specialised for its operand shapes (a fact against a constant, a macro over a fact list),
//! so checking a criterion is a few direct reads and indirect calls, with no allocation.
//!
//! It must agree with the tree-walking evaluator in `eval.rs` on every input; the language
//! tests compare the two on every case, and nodes it does not specialise fall back to it.

use std::sync::Arc;

use crate::eval::{Env, NoTrace, Scope, Stop, Truth, as_bool, compare, eval, member};
use crate::program::{Cmp, Macro, Node, NodeKind};
use crate::value::Value;

/// A compiled boolean node.
pub(crate) type BoolFn = Arc<dyn for<'a> Fn(&Env<'a>) -> Truth + Send + Sync>;

/// A compiled place: a fact, a macro variable or a field of one, read without copying.
type ReadFn = Arc<dyn for<'a> Fn(&Env<'a>) -> Result<&'a Value, Truth> + Send + Sync>;

fn of(b: bool) -> Truth {
    if b { Truth::True } else { Truth::False }
}

/// A comparison that absent list elements may leave open.
fn open(b: Option<bool>) -> Truth {
    b.map_or(Truth::Unknown, of)
}

/// Compiles a boolean node.
pub(crate) fn compile(node: &Node) -> BoolFn {
    match &node.kind {
        NodeKind::And(items) | NodeKind::Or(items) => {
            let decisive = matches!(node.kind, NodeKind::Or(_));
            let parts: Vec<BoolFn> = items.iter().map(compile).collect();
            if let [a, b] = parts.as_slice() {
                let (a, b) = (a.clone(), b.clone());
                return Arc::new(move |env| combine2(a(env), || b(env), decisive));
            }
            Arc::new(move |env| {
                let mut pending = Truth::True;
                for part in &parts {
                    match part(env) {
                        Truth::True if decisive => return Truth::True,
                        Truth::False if !decisive => return Truth::False,
                        Truth::True | Truth::False => {}
                        Truth::Unknown => pending = Truth::Unknown,
                        Truth::Error => {
                            if pending == Truth::True {
                                pending = Truth::Error;
                            }
                        }
                    }
                }
                match pending {
                    Truth::True => of(!decisive),
                    other => other,
                }
            })
        }
        NodeKind::Not(inner) => {
            let inner = compile(inner);
            Arc::new(move |env| match inner(env) {
                Truth::True => Truth::False,
                Truth::False => Truth::True,
                other => other,
            })
        }
        NodeKind::Cmp(op, l, r) => compile_cmp(*op, l, r).unwrap_or_else(|| slow(node)),
        NodeKind::In(l, r) => match (reader(l), constant_list(r)) {
            (Some(read), Some(items)) => Arc::new(move |env| match read(env) {
                Ok(v) => open(member(v, &items)),
                Err(t) => t,
            }),
            _ => slow(node),
        },
        NodeKind::HasFact(slot) => {
            let slot = *slot;
            Arc::new(move |env| of(!matches!(env.facts.slot_value(slot), Value::Null)))
        }
        NodeKind::Fact(_) | NodeKind::Local(_) | NodeKind::Field(..) => match reader(node) {
            Some(read) => Arc::new(move |env| match read(env) {
                Ok(Value::Bool(b)) => of(*b),
                Ok(_) => Truth::Error,
                Err(t) => t,
            }),
            None => slow(node),
        },
        NodeKind::Const(Value::Bool(b)) => {
            let t = of(*b);
            Arc::new(move |_| t)
        }
        NodeKind::Comprehension {
            kind: kind @ (Macro::All | Macro::Exists | Macro::ExistsOne),
            range,
            body,
            ..
        } => match reader(range) {
            Some(read) => {
                let list_fact = match range.kind {
                    NodeKind::Fact(slot) => Some(slot),
                    _ => None,
                };
                compile_macro(*kind, read, list_fact, compile(body))
            }
            None => slow(node),
        },
        _ => slow(node),
    }
}

#[inline(always)]
fn combine2(a: Truth, b: impl FnOnce() -> Truth, decisive: bool) -> Truth {
    let decided = of(decisive);
    if a == decided {
        return decided;
    }
    let b = b();
    if b == decided {
        return decided;
    }
    match (a, b) {
        (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
        (Truth::Error, _) | (_, Truth::Error) => Truth::Error,
        _ => of(!decisive),
    }
}

fn compile_macro(kind: Macro, read: ReadFn, list_fact: Option<u32>, body: BoolFn) -> BoolFn {
    Arc::new(move |env| {
        let items = match read(env) {
            Ok(Value::List(items)) => items,
            Ok(_) => return Truth::Error,
            Err(t) => return t,
        };
        let mut pending = Truth::True;
        let mut count = 0usize;
        for (index, item) in items.iter().enumerate() {
            let scope = env.element(item, index, list_fact);
            let inner = env.within(&scope);
            let t = body(&inner);
            match (kind, t) {
                (Macro::Exists, Truth::True) => return Truth::True,
                (Macro::All, Truth::False) => return Truth::False,
                (Macro::ExistsOne, Truth::True) => count += 1,
                (Macro::ExistsOne, Truth::Unknown | Truth::Error) => return t,
                (_, Truth::Unknown) => pending = Truth::Unknown,
                (_, Truth::Error) if pending == Truth::True => pending = Truth::Error,
                _ => {}
            }
        }
        match (kind, pending) {
            (Macro::ExistsOne, _) => of(count == 1),
            (_, Truth::True) => of(kind == Macro::All),
            (_, other) => other,
        }
    })
}

/// The elements of a list whose value is known when compiling: a constant list, or a list
/// literal of constants (`["a", "b"]`, which the checker leaves as a list of constant nodes).
pub(crate) fn constant_list(node: &Node) -> Option<Arc<[Value]>> {
    match &node.kind {
        NodeKind::Const(Value::List(items)) => Some(items.clone()),
        NodeKind::List(nodes) => nodes
            .iter()
            .map(|n| match &n.kind {
                NodeKind::Const(v) => Some(v.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The comparison with its operands swapped: `k < x` is `x > k`.
pub(crate) fn flip(op: Cmp) -> Cmp {
    match op {
        Cmp::Lt => Cmp::Gt,
        Cmp::Le => Cmp::Ge,
        Cmp::Gt => Cmp::Lt,
        Cmp::Ge => Cmp::Le,
        other => other,
    }
}

/// A comparison of a place with a constant (either side) or of two places.
fn compile_cmp(op: Cmp, l: &Node, r: &Node) -> Option<BoolFn> {
    let (op, place, constant) = match (&l.kind, &r.kind) {
        (_, NodeKind::Const(c)) if reader(l).is_some() => (op, l, c.clone()),
        (NodeKind::Const(c), _) if reader(r).is_some() => (flip(op), r, c.clone()),
        _ => {
            let (a, b) = (reader(l)?, reader(r)?);
            return Some(Arc::new(move |env| match (a(env), b(env)) {
                (Ok(x), Ok(y)) => open(compare(op, x, y)),
                (Err(Truth::Unknown), _) | (_, Err(Truth::Unknown)) => Truth::Unknown,
                (Err(t), _) | (_, Err(t)) => t,
            }));
        }
    };
    // A fact read straight from its slot, against a constant of a common type.
    if let NodeKind::Fact(slot) = place.kind {
        return Some(match constant {
            Value::Number(k) => Arc::new(move |env| match env.facts.slot_value(slot) {
                Value::Number(x) => of(op.apply(x, &k)),
                Value::Null => Truth::Unknown,
                other => open(compare(op, other, &Value::Number(k))),
            }),
            Value::Int(k) => Arc::new(move |env| match env.facts.slot_value(slot) {
                Value::Int(x) => of(op.apply(x, &k)),
                Value::Null => Truth::Unknown,
                other => open(compare(op, other, &Value::Int(k))),
            }),
            Value::Enum(k) => Arc::new(move |env| match env.facts.slot_value(slot) {
                Value::Enum(x) => of(op.apply(x, &k)),
                Value::Null => Truth::Unknown,
                _ => Truth::Error,
            }),
            Value::String(k) if matches!(op, Cmp::Eq | Cmp::Ne) => {
                let want = op == Cmp::Eq;
                Arc::new(move |env| match env.facts.slot_value(slot) {
                    Value::String(x) => of((x.as_bytes() == k.as_bytes()) == want),
                    Value::Null => Truth::Unknown,
                    _ => Truth::Error,
                })
            }
            constant => Arc::new(move |env| match env.facts.slot_value(slot) {
                Value::Null => Truth::Unknown,
                v => open(compare(op, v, &constant)),
            }),
        });
    }
    let read = reader(place)?;
    Some(match constant {
        Value::String(k) if matches!(op, Cmp::Eq | Cmp::Ne) => {
            let want = op == Cmp::Eq;
            Arc::new(move |env| match read(env) {
                Ok(Value::String(x)) => of((x.as_bytes() == k.as_bytes()) == want),
                Ok(_) => Truth::Error,
                Err(t) => t,
            })
        }
        constant => Arc::new(move |env| match read(env) {
            Ok(v) => open(compare(op, v, &constant)),
            Err(t) => t,
        }),
    })
}

/// A reader for a place node, or `None` when the node is not a place.
fn reader(node: &Node) -> Option<ReadFn> {
    Some(match &node.kind {
        NodeKind::Fact(slot) => {
            let slot = *slot;
            Arc::new(move |env| match env.facts.slot_value(slot) {
                Value::Null => Err(Truth::Unknown),
                v => Ok(v),
            })
        }
        NodeKind::Local(0) => Arc::new(|env| match env.scope {
            Some(Scope {
                value: Value::Null, ..
            }) => Err(Truth::Unknown),
            Some(scope) => Ok(scope.value),
            None => Err(Truth::Error),
        }),
        NodeKind::Local(depth) => {
            let depth = *depth;
            Arc::new(move |env| {
                let mut scope = env.scope;
                for _ in 0..depth {
                    scope = scope.and_then(|s| s.parent);
                }
                match scope {
                    Some(Scope {
                        value: Value::Null, ..
                    }) => Err(Truth::Unknown),
                    Some(scope) => Ok(scope.value),
                    None => Err(Truth::Error),
                }
            })
        }
        NodeKind::Field(operand, index) => {
            let index = *index as usize;
            if let NodeKind::Local(0) = operand.kind {
                // The common `c.role` inside a macro: one call, no nested reader.
                return Some(Arc::new(move |env| match env.scope.map(|s| s.value) {
                    Some(Value::Record(fields)) => match fields.get(index) {
                        Some(Value::Null) => Err(Truth::Unknown),
                        Some(v) => Ok(v),
                        None => Err(Truth::Error),
                    },
                    Some(Value::Null) => Err(Truth::Unknown),
                    _ => Err(Truth::Error),
                }));
            }
            let inner = reader(operand)?;
            Arc::new(move |env| match inner(env)? {
                Value::Record(fields) => match fields.get(index) {
                    Some(Value::Null) => Err(Truth::Unknown),
                    Some(v) => Ok(v),
                    None => Err(Truth::Error),
                },
                Value::Null => Err(Truth::Unknown),
                _ => Err(Truth::Error),
            })
        }
        _ => return None,
    })
}

/// Falls back to the tree-walking evaluator for a node the fast path does not specialise.
fn slow(node: &Node) -> BoolFn {
    let node = node.clone();
    Arc::new(move |env| {
        // `eval` borrows the node and the facts only for this call.
        match as_bool(&eval(&node, env, &mut NoTrace), node.span) {
            Ok(b) => of(b),
            Err(Stop::Unknown) => Truth::Unknown,
            Err(Stop::Error(_)) => Truth::Error,
        }
    })
}
