//! The compiled, executable form of a checked expression.

use crate::span::Span;
use crate::types::Type;
use crate::value::Value;

/// The static type of a compiled node. `EmptyList` is the type of `[]`, whose element type is
/// not known; `Error` marks a subtree that already failed to check.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ty {
    Known(Type),
    EmptyList,
    Error,
}

impl Ty {
    pub(crate) fn known(&self) -> Option<&Type> {
        match self {
            Ty::Known(t) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Ty::Known(t) => t.to_string(),
            Ty::EmptyList => "empty list".into(),
            Ty::Error => "unknown".into(),
        }
    }
}

/// One node of a compiled program: fact paths are slots, operators are resolved to typed
/// operations, constant calls such as `date("2026-01-01")` are folded.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    pub(crate) ty: Ty,
    pub(crate) span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arith {
    AddInt,
    AddNum,
    Concat,
    ListConcat,
    AddDur,
    AddTsDur,
    AddDurTs,
    SubInt,
    SubNum,
    SubDur,
    SubTsTs,
    SubTsDur,
    MulInt,
    MulNum,
    DivInt,
    DivNum,
    RemInt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// `a op b` for values of one ordered type (a `NaN` compares false, as in CEL).
    #[inline(always)]
    pub(crate) fn apply<T: PartialOrd + ?Sized>(self, a: &T, b: &T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    Contains,
    StartsWith,
    EndsWith,
    ToTimestamp,
    ToDuration,
    ToDate,
    DaysSince,
    ToInt,
    ToDouble,
    ToString,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Macro {
    All,
    Exists,
    ExistsOne,
    Filter,
    Map,
}

#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    Const(Value),
    Fact(u32),
    /// A macro variable, by distance from the innermost scope.
    Local(u32),
    Now,
    Field(Box<Node>, u32),
    Index(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Neg(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
    Arith(Arith, Box<Node>, Box<Node>),
    Cmp(Cmp, Box<Node>, Box<Node>),
    In(Box<Node>, Box<Node>),
    Size(Box<Node>),
    HasFact(u32),
    HasField(Box<Node>, u32),
    Call(Func, Vec<Node>),
    Comprehension {
        kind: Macro,
        range: Box<Node>,
        /// The predicate (`all`, `exists`, `exists_one`, `filter`, the filter of a 3-argument
        /// `map`) or the transform of a 2-argument `map`.
        body: Box<Node>,
        /// The transform of a 3-argument `map`.
        transform: Option<Box<Node>>,
    },
    List(Vec<Node>),
}
