//! Evaluation of compiled programs: three-valued, allocation-free for scalar facts.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::program::{Arith, Cmp, Func, Macro, Node, NodeKind};
use crate::span::Span;
use crate::value::{
    Facts, Value, format_duration, format_timestamp, in_duration_range, in_timestamp_range,
    parse_date, parse_duration, parse_timestamp,
};

/// Why evaluation produced no value.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// A fact the result depends on is absent, so the result is not known.
    Unknown,
    /// Evaluation failed, such as on integer overflow or division by zero.
    Error(EvalError),
}

/// A runtime error and the expression that raised it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct EvalError {
    /// What went wrong.
    pub kind: EvalErrorKind,
    /// The expression that failed, in bytes of the source.
    pub span: Span,
}

/// The kinds of runtime error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvalErrorKind {
    /// An integer, timestamp or duration result out of range.
    Overflow,
    /// Integer division or remainder by zero.
    DivisionByZero,
    /// A list index outside the list.
    IndexOutOfRange {
        /// The index used.
        index: i64,
        /// The list's length.
        len: usize,
    },
    /// A conversion whose argument is not valid, such as `int("abc")`.
    InvalidArgument(String),
    /// A fact value that does not have its declared type (facts built by hand).
    WrongFactType,
}

impl fmt::Display for EvalErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalErrorKind::Overflow => f.write_str("result out of range"),
            EvalErrorKind::DivisionByZero => f.write_str("division by zero"),
            EvalErrorKind::IndexOutOfRange { index, len } => {
                write!(f, "index {index} is out of range for a list of {len}")
            }
            EvalErrorKind::InvalidArgument(message) => f.write_str(message),
            EvalErrorKind::WrongFactType => f.write_str("a fact does not have its declared type"),
        }
    }
}

/// A macro variable's value, chained to the enclosing scopes.
pub(crate) struct Scope<'a> {
    pub(crate) value: &'a Value,
    /// Position of `value` in the list being iterated.
    pub(crate) index: usize,
    /// The slot of that list, when it is a fact read directly.
    pub(crate) list_fact: Option<u32>,
    pub(crate) parent: Option<&'a Scope<'a>>,
}

pub(crate) struct Env<'a> {
    pub(crate) facts: &'a Facts,
    pub(crate) now: DateTime<Utc>,
    pub(crate) scope: Option<&'a Scope<'a>>,
}

impl<'a> Env<'a> {
    /// The environment inside a macro, with `scope` as the innermost variable.
    #[inline]
    pub(crate) fn within<'b>(&self, scope: &'b Scope<'b>) -> Env<'b>
    where
        'a: 'b,
    {
        Env {
            facts: self.facts,
            now: self.now,
            scope: Some(scope),
        }
    }

    /// The scope of a macro's variable bound to `value`, element `index` of the list being
    /// iterated (read from fact `list_fact` when it is one), inside this environment's scope.
    #[inline]
    pub(crate) fn element<'b>(
        &self,
        value: &'b Value,
        index: usize,
        list_fact: Option<u32>,
    ) -> Scope<'b>
    where
        'a: 'b,
    {
        Scope {
            value,
            index,
            list_fact,
            parent: self.scope,
        }
    }
}

/// Receives the absent facts evaluation runs into; the plain evaluator uses [`NoTrace`].
pub(crate) trait Tracer {
    fn missing_fact(&mut self, slot: u32);
    fn missing_field(&mut self, scope: Option<(&Scope<'_>, u32)>, field: u32, node: &Node);
    /// A list element bound to a macro variable is absent.
    fn missing_element(&mut self, scope: &Scope<'_>);
    /// Element `index` of the list fact in `slot` is absent.
    fn missing_index(&mut self, slot: u32, index: usize);
    /// `value`, computed by `node`, holds absent elements or fields that left a comparison
    /// open.
    fn missing_within(&mut self, node: &Node, value: &Value, scope: Option<&Scope<'_>>);
}

pub(crate) struct NoTrace;

impl Tracer for NoTrace {
    #[inline(always)]
    fn missing_fact(&mut self, _: u32) {}
    #[inline(always)]
    fn missing_field(&mut self, _: Option<(&Scope<'_>, u32)>, _: u32, _: &Node) {}
    #[inline(always)]
    fn missing_element(&mut self, _: &Scope<'_>) {}
    #[inline(always)]
    fn missing_index(&mut self, _: u32, _: usize) {}
    #[inline(always)]
    fn missing_within(&mut self, _: &Node, _: &Value, _: Option<&Scope<'_>>) {}
}

pub(crate) type Eval<'a> = Result<Cow<'a, Value>, Stop>;

fn err(kind: EvalErrorKind, span: Span) -> Stop {
    Stop::Error(EvalError { kind, span })
}

fn wrong_type(span: Span) -> Stop {
    err(EvalErrorKind::WrongFactType, span)
}

/// Combines the outcomes of two strict operands: unknown wins over an error.
#[inline]
fn both<'a, 'b>(
    l: Eval<'a>,
    r: impl FnOnce() -> Eval<'b>,
) -> Result<(Cow<'a, Value>, Cow<'b, Value>), Stop> {
    match l {
        Ok(l) => Ok((l, r()?)),
        Err(Stop::Unknown) => Err(Stop::Unknown),
        Err(e) => match r() {
            Err(Stop::Unknown) => Err(Stop::Unknown),
            _ => Err(e),
        },
    }
}

fn scope_at<'a>(mut scope: Option<&'a Scope<'a>>, depth: u32) -> Option<&'a Scope<'a>> {
    for _ in 0..depth {
        scope = scope?.parent;
    }
    scope
}

#[inline]
fn owned<'a>(v: Value) -> Eval<'a> {
    Ok(Cow::Owned(v))
}

/// Reads a bool out of an evaluation result.
#[inline]
pub(crate) fn as_bool(result: &Eval<'_>, span: Span) -> Result<bool, Stop> {
    match result {
        Ok(v) => match **v {
            Value::Bool(b) => Ok(b),
            _ => Err(wrong_type(span)),
        },
        Err(e) => Err(e.clone()),
    }
}

pub(crate) fn eval<'a, T: Tracer>(n: &'a Node, env: &Env<'a>, t: &mut T) -> Eval<'a> {
    match &n.kind {
        NodeKind::Const(v) => Ok(Cow::Borrowed(v)),
        NodeKind::Fact(slot) => {
            let v = env.facts.slot_value(*slot);
            if matches!(v, Value::Null) {
                t.missing_fact(*slot);
                Err(Stop::Unknown)
            } else {
                Ok(Cow::Borrowed(v))
            }
        }
        NodeKind::Local(depth) => match scope_at(env.scope, *depth) {
            // An absent list element is unknown, like an absent fact.
            Some(
                scope @ Scope {
                    value: Value::Null, ..
                },
            ) => {
                t.missing_element(scope);
                Err(Stop::Unknown)
            }
            Some(scope) => Ok(Cow::Borrowed(scope.value)),
            None => Err(wrong_type(n.span)),
        },
        NodeKind::Now => owned(Value::Timestamp(env.now)),
        NodeKind::Field(operand, index) => {
            let record = eval(operand, env, t)?;
            let field = match record {
                Cow::Borrowed(Value::Record(fields)) => {
                    fields.get(*index as usize).map(Cow::Borrowed)
                }
                Cow::Owned(Value::Record(fields)) => {
                    fields.get(*index as usize).cloned().map(Cow::Owned)
                }
                Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null) => return Err(Stop::Unknown),
                _ => None,
            };
            match field {
                Some(v) if matches!(*v, Value::Null) => {
                    let origin = match operand.kind {
                        NodeKind::Local(depth) => scope_at(env.scope, depth).map(|s| (s, depth)),
                        _ => None,
                    };
                    t.missing_field(origin, *index, operand);
                    Err(Stop::Unknown)
                }
                Some(v) => Ok(v),
                None => Err(wrong_type(n.span)),
            }
        }
        NodeKind::Index(list_node, index) => {
            let (list, index) = both(eval(list_node, env, t), || eval(index, env, t))?;
            let Value::Int(i) = *index else {
                return Err(wrong_type(n.span));
            };
            let len = match &*list {
                Value::List(items) => items.len(),
                _ => return Err(wrong_type(n.span)),
            };
            let position = usize::try_from(i).ok().filter(|p| *p < len);
            let Some(position) = position else {
                return Err(err(
                    EvalErrorKind::IndexOutOfRange { index: i, len },
                    n.span,
                ));
            };
            let item = match list {
                Cow::Borrowed(Value::List(items)) => items.get(position).map(Cow::Borrowed),
                Cow::Owned(Value::List(items)) => items.get(position).cloned().map(Cow::Owned),
                _ => None,
            };
            match item {
                Some(v) if matches!(*v, Value::Null) => {
                    if let NodeKind::Fact(slot) = list_node.kind {
                        t.missing_index(slot, position);
                    }
                    Err(Stop::Unknown)
                }
                Some(v) => Ok(v),
                None => Err(wrong_type(n.span)),
            }
        }
        NodeKind::Not(operand) => {
            let b = as_bool(&eval(operand, env, t), operand.span)?;
            owned(Value::Bool(!b))
        }
        NodeKind::Neg(operand) => {
            let v = eval(operand, env, t)?;
            match *v {
                Value::Int(i) => match i.checked_neg() {
                    Some(r) => owned(Value::Int(r)),
                    None => Err(err(EvalErrorKind::Overflow, n.span)),
                },
                Value::Number(x) => owned(Value::Number(-x)),
                Value::Duration(d) => owned(Value::Duration(-d)),
                _ => Err(wrong_type(n.span)),
            }
        }
        NodeKind::And(items) => logic(items, env, t, false),
        NodeKind::Or(items) => logic(items, env, t, true),
        NodeKind::Cond(cond, then, otherwise) => {
            if as_bool(&eval(cond, env, t), cond.span)? {
                eval(then, env, t)
            } else {
                eval(otherwise, env, t)
            }
        }
        NodeKind::Arith(op, l, r) => {
            let (l, r) = both(eval(l, env, t), || eval(r, env, t))?;
            arith(*op, &l, &r, n.span).map(Cow::Owned)
        }
        NodeKind::Cmp(op, l_node, r_node) => {
            let (l, r) = both(eval(l_node, env, t), || eval(r_node, env, t))?;
            match compare(*op, &l, &r) {
                Some(b) => owned(Value::Bool(b)),
                None => {
                    t.missing_within(l_node, &l, env.scope);
                    t.missing_within(r_node, &r, env.scope);
                    Err(Stop::Unknown)
                }
            }
        }
        NodeKind::In(l_node, r_node) => {
            let (l, r) = both(eval(l_node, env, t), || eval(r_node, env, t))?;
            let Value::List(items) = &*r else {
                return Err(wrong_type(n.span));
            };
            match member(&l, items) {
                Some(b) => owned(Value::Bool(b)),
                None => {
                    t.missing_within(l_node, &l, env.scope);
                    t.missing_within(r_node, &r, env.scope);
                    Err(Stop::Unknown)
                }
            }
        }
        NodeKind::Size(operand) => {
            let v = eval(operand, env, t)?;
            let size = match &*v {
                Value::String(s) => s.chars().count(),
                Value::List(items) => items.len(),
                _ => return Err(wrong_type(n.span)),
            };
            owned(Value::Int(i64::try_from(size).unwrap_or(i64::MAX)))
        }
        NodeKind::HasFact(slot) => owned(Value::Bool(!matches!(
            env.facts.slot_value(*slot),
            Value::Null
        ))),
        NodeKind::HasField(operand, index) => {
            let record = eval(operand, env, t)?;
            match &*record {
                Value::Record(fields) => owned(Value::Bool(!matches!(
                    fields.get(*index as usize),
                    Some(Value::Null) | None
                ))),
                _ => Err(wrong_type(n.span)),
            }
        }
        NodeKind::Call(func, args) => call(*func, args, env, t, n.span),
        NodeKind::Comprehension {
            kind,
            range,
            body,
            transform,
            ..
        } => {
            let list_fact = match range.kind {
                NodeKind::Fact(slot) => Some(slot),
                _ => None,
            };
            let list = eval(range, env, t)?;
            let Value::List(items) = &*list else {
                return Err(wrong_type(n.span));
            };
            comprehension(*kind, items, list_fact, body, transform.as_deref(), env, t)
                .map(Cow::Owned)
        }
        NodeKind::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut stop = None;
            for item in items {
                match eval(item, env, t) {
                    Ok(v) => out.push(v.into_owned()),
                    Err(Stop::Unknown) => stop = Some(Stop::Unknown),
                    Err(e) => {
                        if stop.is_none() {
                            stop = Some(e);
                        }
                    }
                }
            }
            match stop {
                Some(s) => Err(s),
                None => owned(Value::List(out.into())),
            }
        }
    }
}

/// `&&` (`short = false`) and `||` (`short = true`) with CEL's commutative rules: a deciding
/// operand decides, even after an unknown or an error; otherwise unknown beats error.
fn logic<'a, T: Tracer>(items: &'a [Node], env: &Env<'a>, t: &mut T, short: bool) -> Eval<'a> {
    let mut pending: Option<Stop> = None;
    for item in items {
        match as_bool(&eval(item, env, t), item.span) {
            Ok(b) if b == short => return owned(Value::Bool(short)),
            Ok(_) => {}
            Err(Stop::Unknown) => pending = Some(Stop::Unknown),
            Err(e) => {
                if pending.is_none() {
                    pending = Some(e);
                }
            }
        }
    }
    match pending {
        Some(stop) => Err(stop),
        None => owned(Value::Bool(!short)),
    }
}

fn comprehension<'a, T: Tracer>(
    kind: Macro,
    items: &'a [Value],
    list_fact: Option<u32>,
    body: &'a Node,
    transform: Option<&'a Node>,
    env: &Env<'a>,
    t: &mut T,
) -> Result<Value, Stop> {
    let mut pending: Option<Stop> = None;
    let mut count = 0usize;
    let mut out: Vec<Value> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let scope = env.element(item, index, list_fact);
        let inner = env.within(&scope);
        let result = eval(body, &inner, t);
        match kind {
            Macro::All | Macro::Exists => {
                let decisive = kind == Macro::Exists;
                match as_bool(&result, body.span) {
                    Ok(b) if b == decisive => return Ok(Value::Bool(decisive)),
                    Ok(_) => {}
                    Err(Stop::Unknown) => pending = Some(Stop::Unknown),
                    Err(e) => {
                        if pending.is_none() {
                            pending = Some(e);
                        }
                    }
                }
            }
            Macro::ExistsOne => {
                if as_bool(&result, body.span)? {
                    count += 1;
                }
            }
            Macro::Filter => {
                if as_bool(&result, body.span)? {
                    out.push(item.clone());
                }
            }
            Macro::Map => match transform {
                None => out.push(result?.into_owned()),
                Some(transform) => {
                    if as_bool(&result, body.span)? {
                        out.push(eval(transform, &inner, t)?.into_owned());
                    }
                }
            },
        }
    }
    match kind {
        Macro::All | Macro::Exists => match pending {
            Some(stop) => Err(stop),
            None => Ok(Value::Bool(kind == Macro::All)),
        },
        Macro::ExistsOne => Ok(Value::Bool(count == 1)),
        Macro::Filter | Macro::Map => Ok(Value::List(out.into())),
    }
}

fn arith(op: Arith, l: &Value, r: &Value, span: Span) -> Result<Value, Stop> {
    let overflow = || err(EvalErrorKind::Overflow, span);
    Ok(match (op, l, r) {
        (Arith::AddInt, Value::Int(a), Value::Int(b)) => {
            Value::Int(a.checked_add(*b).ok_or_else(overflow)?)
        }
        (Arith::SubInt, Value::Int(a), Value::Int(b)) => {
            Value::Int(a.checked_sub(*b).ok_or_else(overflow)?)
        }
        (Arith::MulInt, Value::Int(a), Value::Int(b)) => {
            Value::Int(a.checked_mul(*b).ok_or_else(overflow)?)
        }
        (Arith::DivInt | Arith::RemInt, Value::Int(_), Value::Int(0)) => {
            return Err(err(EvalErrorKind::DivisionByZero, span));
        }
        (Arith::DivInt, Value::Int(a), Value::Int(b)) => {
            Value::Int(a.checked_div(*b).ok_or_else(overflow)?)
        }
        (Arith::RemInt, Value::Int(a), Value::Int(b)) => {
            Value::Int(a.checked_rem(*b).ok_or_else(overflow)?)
        }
        (Arith::AddNum, Value::Number(a), Value::Number(b)) => Value::Number(a + b),
        (Arith::SubNum, Value::Number(a), Value::Number(b)) => Value::Number(a - b),
        (Arith::MulNum, Value::Number(a), Value::Number(b)) => Value::Number(a * b),
        (Arith::DivNum, Value::Number(a), Value::Number(b)) => Value::Number(a / b),
        (Arith::Concat, Value::String(a), Value::String(b)) => {
            let mut s = String::with_capacity(a.len() + b.len());
            s.push_str(a);
            s.push_str(b);
            Value::String(Arc::from(s))
        }
        (Arith::ListConcat, Value::List(a), Value::List(b)) => {
            Value::List(a.iter().chain(b.iter()).cloned().collect::<Vec<_>>().into())
        }
        (Arith::AddDur, Value::Duration(a), Value::Duration(b)) => {
            duration(a.checked_add(b), span)?
        }
        (Arith::SubDur, Value::Duration(a), Value::Duration(b)) => {
            duration(a.checked_sub(b), span)?
        }
        (Arith::AddTsDur, Value::Timestamp(a), Value::Duration(b))
        | (Arith::AddDurTs, Value::Duration(b), Value::Timestamp(a)) => {
            timestamp(a.checked_add_signed(*b), span)?
        }
        (Arith::SubTsDur, Value::Timestamp(a), Value::Duration(b)) => {
            timestamp(a.checked_sub_signed(*b), span)?
        }
        (Arith::SubTsTs, Value::Timestamp(a), Value::Timestamp(b)) => {
            duration(Some(a.signed_duration_since(*b)), span)?
        }
        _ => return Err(wrong_type(span)),
    })
}

fn duration(d: Option<TimeDelta>, span: Span) -> Result<Value, Stop> {
    match d {
        Some(d) if in_duration_range(d) => Ok(Value::Duration(d)),
        _ => Err(err(EvalErrorKind::Overflow, span)),
    }
}

fn timestamp(t: Option<DateTime<Utc>>, span: Span) -> Result<Value, Stop> {
    match t {
        Some(t) if in_timestamp_range(t) => Ok(Value::Timestamp(t)),
        _ => Err(err(EvalErrorKind::Overflow, span)),
    }
}

/// Compares an int with a double exactly (no rounding of large ints).
fn compare_int_double(i: i64, d: f64) -> Option<Ordering> {
    if d.is_nan() {
        return None;
    }
    if d >= 9_223_372_036_854_775_808.0 {
        return Some(Ordering::Less);
    }
    if d < -9_223_372_036_854_775_808.0 {
        return Some(Ordering::Greater);
    }
    let whole = d.trunc();
    let whole_int = whole as i64;
    match i.cmp(&whole_int) {
        Ordering::Equal => 0.0f64.partial_cmp(&(d - whole)),
        other => Some(other),
    }
}

/// The order of two values of comparable types; `None` when unordered (NaN, or types that
/// have no order).
pub(crate) fn order(l: &Value, r: &Value) -> Option<Ordering> {
    match (l, r) {
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
        (Value::Int(a), Value::Number(b)) => compare_int_double(*a, *b),
        (Value::Number(a), Value::Int(b)) => compare_int_double(*b, *a).map(Ordering::reverse),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
        (Value::Timestamp(a), Value::Timestamp(b)) => Some(a.cmp(b)),
        (Value::Duration(a), Value::Duration(b)) => Some(a.cmp(b)),
        (Value::Enum(a), Value::Enum(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// CEL equality: numbers compare across int and double; lists and records element-wise.
/// `None` when absent elements leave it open (`[1, absent] == [1, 2]`).
pub(crate) fn equal(l: &Value, r: &Value) -> Option<bool> {
    match (l, r) {
        (Value::List(a), Value::List(b)) | (Value::Record(a), Value::Record(b)) => {
            if a.len() != b.len() {
                return Some(false);
            }
            let mut open = false;
            for (x, y) in a.iter().zip(b.iter()) {
                match equal(x, y) {
                    Some(false) => return Some(false),
                    None => open = true,
                    Some(true) => {}
                }
            }
            if open { None } else { Some(true) }
        }
        (Value::Null, _) | (_, Value::Null) => None,
        _ => Some(order(l, r) == Some(Ordering::Equal)),
    }
}

/// `value in items`: true if an element equals it; otherwise unknown if an element is
/// absent; otherwise false.
pub(crate) fn member(value: &Value, items: &[Value]) -> Option<bool> {
    let mut open = false;
    for item in items {
        match equal(value, item) {
            Some(true) => return Some(true),
            None => open = true,
            Some(false) => {}
        }
    }
    if open { None } else { Some(false) }
}

#[inline(always)]
fn ordered(op: Cmp, ordering: Option<Ordering>) -> bool {
    match op {
        Cmp::Eq => ordering == Some(Ordering::Equal),
        Cmp::Ne => ordering != Some(Ordering::Equal),
        Cmp::Lt => ordering == Some(Ordering::Less),
        Cmp::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
        Cmp::Gt => ordering == Some(Ordering::Greater),
        Cmp::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
    }
}

/// Compares two values; `None` when absent list elements leave an equality open.
#[inline]
pub(crate) fn compare(op: Cmp, l: &Value, r: &Value) -> Option<bool> {
    // The common cases first, without the generic ordering.
    match (l, r) {
        (Value::Number(a), Value::Number(b)) => return Some(ordered(op, a.partial_cmp(b))),
        (Value::Int(a), Value::Int(b)) => return Some(ordered(op, Some(a.cmp(b)))),
        (Value::Enum(a), Value::Enum(b)) => return Some(ordered(op, Some(a.cmp(b)))),
        (Value::String(a), Value::String(b)) if matches!(op, Cmp::Eq | Cmp::Ne) => {
            return Some((a == b) == (op == Cmp::Eq));
        }
        _ => {}
    }
    match op {
        Cmp::Eq => equal(l, r),
        Cmp::Ne => equal(l, r).map(|e| !e),
        _ => Some(ordered(op, order(l, r))),
    }
}

fn call<'a, T: Tracer>(
    func: Func,
    args: &'a [Node],
    env: &Env<'a>,
    t: &mut T,
    span: Span,
) -> Eval<'a> {
    let invalid = |message: String| err(EvalErrorKind::InvalidArgument(message), span);
    match (func, args) {
        (Func::Contains | Func::StartsWith | Func::EndsWith, [a, b]) => {
            let (a, b) = both(eval(a, env, t), || eval(b, env, t))?;
            let (Value::String(a), Value::String(b)) = (&*a, &*b) else {
                return Err(wrong_type(span));
            };
            let result = match func {
                Func::Contains => a.contains(&**b),
                Func::StartsWith => a.starts_with(&**b),
                _ => a.ends_with(&**b),
            };
            owned(Value::Bool(result))
        }
        (_, [arg]) => {
            let v = eval(arg, env, t)?;
            let result = match (func, &*v) {
                (Func::ToTimestamp, Value::String(s)) => Value::Timestamp(
                    parse_timestamp(s)
                        .ok_or_else(|| invalid(format!("`{s}` is not a valid timestamp")))?,
                ),
                (Func::ToTimestamp, Value::Int(secs)) => {
                    timestamp(DateTime::from_timestamp(*secs, 0), span)?
                }
                (Func::ToTimestamp, Value::Timestamp(ts)) => Value::Timestamp(*ts),
                (Func::ToDuration, Value::String(s)) => Value::Duration(
                    parse_duration(s)
                        .ok_or_else(|| invalid(format!("`{s}` is not a valid duration")))?,
                ),
                (Func::ToDuration, Value::Duration(d)) => Value::Duration(*d),
                (Func::ToDate, Value::String(s)) => Value::Date(
                    parse_date(s).ok_or_else(|| invalid(format!("`{s}` is not a valid date")))?,
                ),
                (Func::ToDate, Value::Timestamp(ts)) => Value::Date(ts.date_naive()),
                (Func::ToDate, Value::Date(d)) => Value::Date(*d),
                (Func::DaysSince, Value::Date(d)) => {
                    Value::Int(env.now.date_naive().signed_duration_since(*d).num_days())
                }
                (Func::DaysSince, Value::Timestamp(ts)) => {
                    let seconds = env.now.signed_duration_since(*ts).num_seconds();
                    Value::Int(seconds.div_euclid(86_400))
                }
                (Func::ToInt, Value::Int(i)) => Value::Int(*i),
                (Func::ToInt, Value::Number(x)) => {
                    if x.is_finite()
                        && *x > -9_223_372_036_854_775_809.0
                        && *x < 9_223_372_036_854_775_808.0
                    {
                        Value::Int(*x as i64)
                    } else {
                        return Err(err(EvalErrorKind::Overflow, span));
                    }
                }
                (Func::ToInt, Value::String(s)) => Value::Int(
                    s.parse::<i64>()
                        .map_err(|_| invalid(format!("`{s}` is not an integer")))?,
                ),
                (Func::ToInt, Value::Timestamp(ts)) => Value::Int(ts.timestamp()),
                (Func::ToDouble, Value::Int(i)) => Value::Number(*i as f64),
                (Func::ToDouble, Value::Number(x)) => Value::Number(*x),
                (Func::ToDouble, Value::String(s)) => Value::Number(
                    s.parse::<f64>()
                        .map_err(|_| invalid(format!("`{s}` is not a number")))?,
                ),
                (Func::ToString, value) => Value::String(Arc::from(to_string(value, &arg.ty))),
                _ => return Err(wrong_type(span)),
            };
            owned(result)
        }
        _ => Err(wrong_type(span)),
    }
}

fn to_string(value: &Value, ty: &crate::program::Ty) -> String {
    match value {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Number(x) => format_double_plain(*x),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::Timestamp(ts) => format_timestamp(ts),
        Value::Duration(d) => format_duration(*d),
        Value::Enum(i) => match ty.known() {
            Some(crate::types::Type::Enum(e)) => e.name(*i).unwrap_or_default().to_string(),
            _ => i.to_string(),
        },
        _ => String::new(),
    }
}

/// Formats a double the way CEL's `string()` does: shortest form, no trailing `.0`.
fn format_double_plain(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{x}")
    }
}

/// The outcome of a boolean evaluation, in one byte. The fast path of [`crate::Program::check`]
/// computes it without building values; an `Error` is re-run on the full evaluator to learn
/// which error it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Truth {
    False,
    True,
    Unknown,
    Error,
}
