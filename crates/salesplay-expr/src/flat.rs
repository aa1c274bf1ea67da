//! The flat path for the walk: a criterion compiled into a list of direct tests that must all
//! hold, read in a tight loop with no indirect call.
//!
//! The walk only asks whether a criterion is *met*: it holds exactly when it evaluates to
//! `true`; unmet, unknown and error all count as "not met" there, so nothing needs to tell
//! them apart. Under that question `a && b` holds exactly when `a` and `b` both hold (an `&&`
//! is `true` only when every operand is `true`), so conjunctions flatten into one list, and
//! the criteria of a stage (which must all be met) join into one [`AllOf`](crate::AllOf).
//!
//! The common leaves become [`Test`]s read straight from the fact's slot: a bool fact,
//! `has(x)`, their negations, a fact compared with a constant, `x in [constants]`. Anything
//! else keeps the fast path's closure (`fast.rs`) and holds when it yields `true`.
//!
//! A test agrees with the tree-walking evaluator in `eval.rs`: the shape the checker gives a
//! well-typed fact is compared directly, any other value goes through the evaluator's own
//! `compare` and `member`. The language tests compare the two on every case of
//! `tests/data/cases.txt` and on generated criteria and facts.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::eval::{Env, Truth, compare, member};
use crate::fast::{self, BoolFn};
use crate::program::{Cmp, Node, NodeKind};
use crate::value::{Facts, Value};

const _: () = assert!(std::mem::size_of::<Test>() == 16);

/// One direct test. Slots are fact slots; constants are on the right of the comparison.
///
/// The common tests fit in 16 bytes and are read inline; the others live behind a box
/// ([`Rare`]) and run out of line, so the loop over a stage's tests stays small.
#[derive(Clone, Debug)]
pub(crate) enum Test {
    /// Never holds: a constant `false`, or a program whose result is not a `bool`.
    Never,
    /// A bool fact is `true` (`flag`).
    True(u32),
    /// A bool fact is `false` (`!flag`).
    False(u32),
    /// A fact is present (`has(x)`).
    Present(u32),
    /// A fact is absent (`!has(x)`).
    Absent(u32),
    /// An int fact against an int constant.
    Int(u32, Cmp, i64),
    /// A number fact against a number constant.
    Number(u32, Cmp, f64),
    /// An enum fact against one of its values (by index, so ordered enums compare by rank).
    Enum(u32, Cmp, u32),
    /// An enum fact in a set of values: bit `i` of the mask for `Enum(i)` below 64, the
    /// first flag for every index from 64 on, the second for a present value that is not an
    /// enum (as the evaluator compares it: unequal to every enum value, unordered). Both
    /// `x in [values]` and a comparison with a value below 64 are such sets.
    EnumSet(u32, u64, bool, bool),
    /// A date fact against a date constant.
    Date(u32, Cmp, NaiveDate),
    /// Anything else.
    Rare(Box<Rare>),
}

/// The tests that do not fit in a [`Test`].
#[derive(Clone)]
pub(crate) enum Rare {
    /// A string fact `==` or `!=` a string constant.
    Str(u32, Cmp, Arc<str>),
    /// A timestamp fact against a timestamp constant.
    Timestamp(u32, Cmp, DateTime<Utc>),
    /// A fact against any other constant.
    Other(u32, Cmp, Value),
    /// `x in [constants]`.
    In(u32, Arc<[Value]>),
    /// Anything else: the fast path's closure, holding when it yields `true`.
    Closure(BoolFn),
}

impl fmt::Debug for Rare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rare::Str(s, op, k) => write!(f, "Str(#{s} {op:?} {k:?})"),
            Rare::Timestamp(s, op, k) => write!(f, "Timestamp(#{s} {op:?} {k})"),
            Rare::Other(s, op, k) => write!(f, "Other(#{s} {op:?} {k:?})"),
            Rare::In(s, items) => write!(f, "In(#{s} in {items:?})"),
            Rare::Closure(_) => f.write_str("Closure"),
        }
    }
}

/// A present fact of another shape than the test expects, compared as the evaluator does.
#[cold]
#[inline(never)]
fn compared(op: Cmp, value: &Value, constant: &Value) -> bool {
    !matches!(value, Value::Null) && compare(op, value, constant) == Some(true)
}

impl Test {
    /// Whether the test holds: its criterion (or clause) evaluates to `true`.
    #[inline(always)]
    pub(crate) fn holds(&self, facts: &Facts, now: DateTime<Utc>) -> bool {
        match self {
            Test::True(s) => matches!(facts.slot_value(*s), Value::Bool(true)),
            Test::Present(s) => !matches!(facts.slot_value(*s), Value::Null),
            Test::Enum(s, op, k) => match facts.slot_value(*s) {
                Value::Enum(x) => op.apply(x, k),
                v => compared(*op, v, &Value::Enum(*k)),
            },
            Test::Number(s, op, k) => match facts.slot_value(*s) {
                Value::Number(x) => op.apply(x, k),
                v => compared(*op, v, &Value::Number(*k)),
            },
            Test::Int(s, op, k) => match facts.slot_value(*s) {
                Value::Int(x) => op.apply(x, k),
                v => compared(*op, v, &Value::Int(*k)),
            },
            Test::False(s) => matches!(facts.slot_value(*s), Value::Bool(false)),
            Test::Absent(s) => matches!(facts.slot_value(*s), Value::Null),
            Test::EnumSet(s, mask, high, other) => match facts.slot_value(*s) {
                Value::Enum(x) if *x < 64 => (mask >> x) & 1 == 1,
                Value::Enum(_) => *high,
                Value::Null => false,
                _ => *other,
            },
            Test::Date(s, op, k) => match facts.slot_value(*s) {
                Value::Date(x) => op.apply(x, k),
                v => compared(*op, v, &Value::Date(*k)),
            },
            Test::Never => false,
            Test::Rare(rare) => rare.holds(facts, now),
        }
    }

    /// Whether two tests are the same test, so one holding means the other holds. Closures
    /// are never the same as anything; numbers compare by their bits.
    pub(crate) fn same(&self, other: &Test) -> bool {
        match (self, other) {
            (Test::Never, Test::Never) => true,
            (Test::True(a), Test::True(b))
            | (Test::False(a), Test::False(b))
            | (Test::Present(a), Test::Present(b))
            | (Test::Absent(a), Test::Absent(b)) => a == b,
            (Test::Int(a, x, k), Test::Int(b, y, l)) => (a, x, k) == (b, y, l),
            (Test::Number(a, x, k), Test::Number(b, y, l)) => {
                (a, x, k.to_bits()) == (b, y, l.to_bits())
            }
            (Test::Enum(a, x, k), Test::Enum(b, y, l)) => (a, x, k) == (b, y, l),
            (Test::EnumSet(a, m, x, o), Test::EnumSet(b, n, y, p)) => (a, m, x, o) == (b, n, y, p),
            (Test::Date(a, x, k), Test::Date(b, y, l)) => (a, x, k) == (b, y, l),
            (Test::Rare(a), Test::Rare(b)) => a.same(b),
            _ => false,
        }
    }

    /// The slot the test reads, if it reads one directly.
    fn slot(&self) -> Option<u32> {
        match self {
            Test::True(s)
            | Test::False(s)
            | Test::Present(s)
            | Test::Absent(s)
            | Test::Int(s, ..)
            | Test::Number(s, ..)
            | Test::Enum(s, ..)
            | Test::EnumSet(s, ..)
            | Test::Date(s, ..) => Some(*s),
            Test::Rare(rare) => match &**rare {
                Rare::Str(s, ..) | Rare::Timestamp(s, ..) | Rare::Other(s, ..) | Rare::In(s, _) => {
                    Some(*s)
                }
                Rare::Closure(_) => None,
            },
            Test::Never => None,
        }
    }

    /// Whether the test runs the fast path's closure.
    pub(crate) fn is_closure(&self) -> bool {
        matches!(self, Test::Rare(rare) if matches!(**rare, Rare::Closure(_)))
    }
}

impl Rare {
    #[cold]
    #[inline(never)]
    fn holds(&self, facts: &Facts, now: DateTime<Utc>) -> bool {
        match self {
            Rare::Str(s, op, k) => match facts.slot_value(*s) {
                Value::String(x) => (x.as_bytes() == k.as_bytes()) == (*op == Cmp::Eq),
                v => compared(*op, v, &Value::String(k.clone())),
            },
            Rare::Timestamp(s, op, k) => match facts.slot_value(*s) {
                Value::Timestamp(x) => op.apply(x, k),
                v => compared(*op, v, &Value::Timestamp(*k)),
            },
            Rare::Other(s, op, k) => compared(*op, facts.slot_value(*s), k),
            Rare::In(s, items) => {
                let v = facts.slot_value(*s);
                !matches!(v, Value::Null) && member(v, items) == Some(true)
            }
            Rare::Closure(f) => {
                f(&Env {
                    facts,
                    now,
                    scope: None,
                }) == Truth::True
            }
        }
    }

    fn same(&self, other: &Rare) -> bool {
        match (self, other) {
            (Rare::Str(a, x, k), Rare::Str(b, y, l)) => (a, x, k) == (b, y, l),
            (Rare::Timestamp(a, x, k), Rare::Timestamp(b, y, l)) => (a, x, k) == (b, y, l),
            (Rare::Other(a, x, k), Rare::Other(b, y, l)) => (a, x) == (b, y) && same_value(k, l),
            (Rare::In(a, k), Rare::In(b, l)) => {
                a == b
                    && k.len() == l.len()
                    && k.iter().zip(l.iter()).all(|(k, l)| same_value(k, l))
            }
            _ => false,
        }
    }
}

/// Structural identity of constants: numbers by their bits, so `NaN` is itself and `-0.0` is
/// not `0.0`.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.to_bits() == y.to_bits(),
        (Value::List(x), Value::List(y)) | (Value::Record(x), Value::Record(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(x, y)| same_value(x, y))
        }
        _ => a == b,
    }
}

/// Flattens a boolean node into the tests that must all hold for it to be `true`.
pub(crate) fn flatten(node: &Node, out: &mut Vec<Test>) {
    match &node.kind {
        NodeKind::And(items) => {
            for item in items {
                flatten(item, out);
            }
        }
        NodeKind::Const(Value::Bool(true)) => {}
        NodeKind::Const(Value::Bool(false)) => out.push(Test::Never),
        _ => out.push(
            direct(node)
                .unwrap_or_else(|| Test::Rare(Box::new(Rare::Closure(fast::compile(node))))),
        ),
    }
}

/// The direct test for a node, when it has one.
fn direct(node: &Node) -> Option<Test> {
    Some(match &node.kind {
        NodeKind::Fact(slot) => Test::True(*slot),
        NodeKind::HasFact(slot) => Test::Present(*slot),
        NodeKind::Not(inner) => match inner.kind {
            NodeKind::Fact(slot) => Test::False(slot),
            NodeKind::HasFact(slot) => Test::Absent(slot),
            _ => return None,
        },
        NodeKind::Cmp(op, l, r) => match (&l.kind, &r.kind) {
            (NodeKind::Fact(slot), NodeKind::Const(k)) => against(*slot, *op, k),
            (NodeKind::Const(k), NodeKind::Fact(slot)) => against(*slot, fast::flip(*op), k),
            _ => return None,
        },
        NodeKind::In(l, r) => {
            let NodeKind::Fact(slot) = l.kind else {
                return None;
            };
            let items = fast::constant_list(r)?;
            let mut mask = 0u64;
            let small_enums = items.iter().all(|v| match v {
                Value::Enum(i) if *i < 64 => {
                    mask |= 1 << i;
                    true
                }
                _ => false,
            });
            if small_enums && !items.is_empty() {
                // Only an enum value equals an enum value.
                Test::EnumSet(slot, mask, false, false)
            } else {
                Test::Rare(Box::new(Rare::In(slot, items)))
            }
        }
        _ => return None,
    })
}

/// A fact in `slot` compared with `op` against the constant `k`.
fn against(slot: u32, op: Cmp, k: &Value) -> Test {
    match k {
        Value::Int(k) => Test::Int(slot, op, *k),
        Value::Number(k) => Test::Number(slot, op, *k),
        Value::Enum(k) if *k < 64 => {
            // Bit `i` for `Enum(i) op k`; from 64 on every index compares alike with `k`.
            let mask = (0u32..64)
                .filter(|i| op.apply(i, k))
                .fold(0u64, |mask, i| mask | 1 << i);
            // A value that is not an enum is unequal to `k` and unordered with it.
            Test::EnumSet(slot, mask, op.apply(&64, k), op == Cmp::Ne)
        }
        Value::Enum(k) => Test::Enum(slot, op, *k),
        Value::String(k) if matches!(op, Cmp::Eq | Cmp::Ne) => {
            Test::Rare(Box::new(Rare::Str(slot, op, k.clone())))
        }
        Value::Date(k) => Test::Date(slot, op, *k),
        Value::Timestamp(k) => Test::Rare(Box::new(Rare::Timestamp(slot, op, *k))),
        k => Test::Rare(Box::new(Rare::Other(slot, op, k.clone()))),
    }
}

/// Whether all of `tests` hold.
#[inline(always)]
pub(crate) fn all_hold(tests: &[Test], facts: &Facts, now: DateTime<Utc>) -> bool {
    for test in tests {
        if !test.holds(facts, now) {
            return false;
        }
    }
    true
}

/// The position of the first of `tests` that does not hold, if any.
#[inline(always)]
pub(crate) fn first_failing(tests: &[Test], facts: &Facts, now: DateTime<Utc>) -> Option<usize> {
    for (i, test) in tests.iter().enumerate() {
        if !test.holds(facts, now) {
            return Some(i);
        }
    }
    None
}

/// `tests` joined into one list: duplicates dropped, and a single [`Test::Never`] when any
/// test never holds.
pub(crate) fn join<'a>(tests: impl IntoIterator<Item = &'a Test>) -> Vec<Test> {
    let mut out = Distinct::default();
    for test in tests {
        if matches!(test, Test::Never) {
            return vec![Test::Never];
        }
        out.push(test);
    }
    out.tests
}

/// A list of tests without repeats. Tests are indexed by the slot they read, so looking for
/// a repeat costs the tests on the same fact, not every test so far (a plan over 10,000
/// stages joins tens of thousands).
#[derive(Default)]
pub(crate) struct Distinct {
    pub(crate) tests: Vec<Test>,
    by_slot: HashMap<Option<u32>, Vec<usize>>,
}

impl Distinct {
    /// Adds `test` unless the list has the same test; whether it was added.
    pub(crate) fn push(&mut self, test: &Test) -> bool {
        // A closure is the same as nothing: no need to look.
        if !test.is_closure() {
            let bucket = self.by_slot.entry(test.slot()).or_default();
            if bucket
                .iter()
                .any(|&i| self.tests.get(i).is_some_and(|t| t.same(test)))
            {
                return false;
            }
            bucket.push(self.tests.len());
        }
        self.tests.push(test.clone());
        true
    }
}
