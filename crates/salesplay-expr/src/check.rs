//! The type checker, which is also the compiler: it resolves names against a [`Schema`],
//! checks every operator and call, reports every problem it finds, and produces the
//! executable [`Node`] tree.

use std::sync::Arc;

use crate::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::program::{Arith, Cmp, Func, Macro, Node, NodeKind, Ty};
use crate::span::Span;
use crate::types::{EnumType, Schema, Type};
use crate::value::{Value, parse_date, parse_duration, parse_timestamp};

const FUNCTIONS: &[&str] = &[
    "size",
    "has",
    "contains",
    "startsWith",
    "endsWith",
    "timestamp",
    "duration",
    "date",
    "days_since",
    "int",
    "double",
    "string",
    "all",
    "exists",
    "exists_one",
    "filter",
    "map",
];

/// Deepest nesting of macros (`contacts.all(c, c.tags.exists(t, ...))`).
const MAX_MACRO_NESTING: usize = 16;

pub(crate) struct Checker<'s> {
    schema: &'s Schema,
    /// Macro variables in scope, innermost last.
    scopes: Vec<(String, Ty)>,
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) facts_read: Vec<u32>,
    /// Whether the expression reads `now` (directly or through `days_since`).
    pub(crate) reads_now: bool,
}

fn known(ty: Type) -> Ty {
    Ty::Known(ty)
}

fn node(kind: NodeKind, ty: Ty, span: Span) -> Node {
    Node { kind, ty, span }
}

fn error_node(span: Span) -> Node {
    node(NodeKind::Const(Value::Null), Ty::Error, span)
}

fn string_literal(expr: &Expr) -> Option<&str> {
    match &expr.kind {
        ExprKind::String(s) => Some(s),
        _ => None,
    }
}

fn is_literal_list_of_strings(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::List(items) if !items.is_empty() && items.iter().all(|i| string_literal(i).is_some()))
}

fn is_int_literal(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::Int(_))
}

/// The name to show for an expression in a message: its source text when short.
fn shown(expr: &Expr) -> String {
    let text = expr.to_string();
    if text.chars().count() > 40 {
        "this expression".into()
    } else {
        format!("`{text}`")
    }
}

impl<'s> Checker<'s> {
    pub(crate) fn new(schema: &'s Schema) -> Checker<'s> {
        Checker {
            schema,
            scopes: Vec::new(),
            errors: Vec::new(),
            facts_read: Vec::new(),
            reads_now: false,
        }
    }

    fn error(&mut self, diagnostic: Diagnostic) -> Node {
        let span = diagnostic.span;
        self.errors.push(diagnostic);
        error_node(span)
    }

    pub(crate) fn check(&mut self, expr: &Expr) -> Node {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Bool(b) => node(NodeKind::Const(Value::Bool(*b)), known(Type::Bool), span),
            ExprKind::Int(i) => node(NodeKind::Const(Value::Int(*i)), known(Type::Int), span),
            ExprKind::Double(d) => node(
                NodeKind::Const(Value::Number(*d)),
                known(Type::Number),
                span,
            ),
            ExprKind::String(s) => node(
                NodeKind::Const(Value::String(Arc::from(s.as_str()))),
                known(Type::String),
                span,
            ),
            ExprKind::Ident(_) | ExprKind::Select { .. } => self.check_name(expr),
            ExprKind::Index { operand, index } => self.check_index(operand, index, span),
            ExprKind::Call {
                target,
                function,
                function_span,
                args,
            } => self.check_call(target.as_deref(), function, function_span.0, args, span),
            ExprKind::List(items) => self.check_list(items, span),
            ExprKind::Unary { op, operand } => self.check_unary(*op, operand, span),
            ExprKind::Binary { op, lhs, rhs } => self.check_binary(*op, lhs, rhs, span),
            ExprKind::And(items) | ExprKind::Or(items) => {
                let is_and = matches!(expr.kind, ExprKind::And(_));
                let op = if is_and { "&&" } else { "||" };
                let nodes: Vec<Node> = items.iter().map(|i| self.check_bool(i, op)).collect();
                let kind = if is_and {
                    NodeKind::And(nodes)
                } else {
                    NodeKind::Or(nodes)
                };
                node(kind, known(Type::Bool), span)
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                let c = self.check_bool(cond, "the condition of `? :`");
                let (t, o) = self.check_pair(then, otherwise);
                let ty = match self.unify(&t.ty, &o.ty) {
                    Some(ty) => ty,
                    None => {
                        let message = format!(
                            "the branches of `? :` have different types: `{}` and `{}`",
                            t.ty.describe(),
                            o.ty.describe()
                        );
                        self.errors.push(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                then.span.to(otherwise.span),
                                message,
                            )
                            .help("both branches must give the same type"),
                        );
                        Ty::Error
                    }
                };
                node(
                    NodeKind::Cond(Box::new(c), Box::new(t), Box::new(o)),
                    ty,
                    span,
                )
            }
        }
    }

    /// Checks `expr` and requires a `bool` result; `context` names what needs it.
    pub(crate) fn check_bool(&mut self, expr: &Expr, context: &str) -> Node {
        let n = self.check(expr);
        match &n.ty {
            Ty::Known(Type::Bool) | Ty::Error => n,
            other => {
                let message = format!(
                    "{} must be a `bool`, but {} is `{}`",
                    context_subject(context),
                    shown(expr),
                    other.describe()
                );
                let help = bool_help(expr, other);
                self.error(Diagnostic::new(Code::NotBool, expr.span, message).help_opt(help))
            }
        }
    }

    fn unify(&self, a: &Ty, b: &Ty) -> Option<Ty> {
        match (a, b) {
            (Ty::Error, _) | (_, Ty::Error) => Some(Ty::Error),
            (Ty::EmptyList, Ty::EmptyList) => Some(Ty::EmptyList),
            (Ty::EmptyList, Ty::Known(t @ Type::List(_)))
            | (Ty::Known(t @ Type::List(_)), Ty::EmptyList) => Some(known(t.clone())),
            (Ty::Known(x), Ty::Known(y)) if x == y => Some(known(x.clone())),
            _ => None,
        }
    }

    // ----- names -----

    fn lookup_local(&self, name: &str) -> Option<(u32, Ty)> {
        self.scopes
            .iter()
            .rev()
            .position(|(n, _)| n == name)
            .and_then(|depth| {
                let (_, ty) = self.scopes.get(self.scopes.len() - 1 - depth)?;
                Some((u32::try_from(depth).ok()?, ty.clone()))
            })
    }

    fn fact_node(&mut self, path: &str, span: Span) -> Option<Node> {
        let (slot, ty) = self.schema.lookup(path)?;
        self.facts_read.push(slot.0);
        Some(node(NodeKind::Fact(slot.0), known(ty.clone()), span))
    }

    fn check_name(&mut self, expr: &Expr) -> Node {
        let span = expr.span;
        if let ExprKind::Ident(name) = &expr.kind {
            if let Some((depth, ty)) = self.lookup_local(name) {
                return node(NodeKind::Local(depth), ty, span);
            }
            if name == "now" {
                self.reads_now = true;
                return node(NodeKind::Now, known(Type::Timestamp), span);
            }
        }
        let dotted = expr.dotted_name();
        let first_is_local = dotted
            .as_deref()
            .and_then(|d| d.split('.').next())
            .is_some_and(|first| self.lookup_local(first).is_some() || first == "now");
        if let (Some(path), false) = (&dotted, first_is_local) {
            if let Some(n) = self.fact_node(path, span) {
                return n;
            }
            // Is a proper prefix of the path a fact? Then the rest is field access on it.
            let has_fact_prefix = path
                .match_indices('.')
                .any(|(i, _)| self.schema.lookup(path.get(..i).unwrap_or("")).is_some());
            if !has_fact_prefix {
                return self.unknown_fact(path, span);
            }
        }
        match &expr.kind {
            ExprKind::Select { operand, field } => {
                let base = self.check(operand);
                self.check_field(&base, operand, field, span)
            }
            _ => self.error(Diagnostic::new(Code::UnknownFact, span, "unknown name")),
        }
    }

    fn unknown_fact(&mut self, path: &str, span: Span) -> Node {
        let under = format!("{path}.");
        let inside: Vec<&str> = self
            .schema
            .facts()
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| p.starts_with(&under))
            .collect();
        if !inside.is_empty() {
            let listed: Vec<String> = inside.iter().take(5).map(|p| format!("`{p}`")).collect();
            return self.error(
                Diagnostic::new(
                    Code::UnknownFact,
                    span,
                    format!("`{path}` is a group of facts, not a fact"),
                )
                .label("not a declared fact")
                .help(format!(
                    "name one of the facts inside it: {}",
                    listed.join(", ")
                )),
            );
        }
        let locals: Vec<&str> = self.scopes.iter().map(|(n, _)| n.as_str()).collect();
        let candidates = self
            .schema
            .facts()
            .iter()
            .map(|f| f.path.as_str())
            .chain(locals)
            .chain(["now"]);
        let help = match did_you_mean(path, candidates) {
            Some(m) => format!("did you mean `{m}`?"),
            None if self.schema.is_empty() => "no facts are declared".to_string(),
            None => "declare the fact under `facts:` first".to_string(),
        };
        self.error(
            Diagnostic::new(Code::UnknownFact, span, format!("unknown fact `{path}`"))
                .label("not a declared fact")
                .help(help),
        )
    }

    fn check_field(&mut self, base: &Node, operand: &Expr, field: &str, span: Span) -> Node {
        match &base.ty {
            Ty::Error => error_node(span),
            Ty::Known(Type::Record(record)) => match record.field(field) {
                Some((index, ty)) => node(
                    NodeKind::Field(Box::new(base.clone()), index),
                    known(ty.clone()),
                    span,
                ),
                None => {
                    let names = record.fields().iter().map(|(n, _)| n.as_str());
                    let help = match did_you_mean(field, names) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => format!(
                            "the fields are: {}",
                            record
                                .fields()
                                .iter()
                                .map(|(n, _)| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    self.error(
                        Diagnostic::new(
                            Code::UnknownField,
                            span,
                            format!("{} has no field `{field}`", shown(operand)),
                        )
                        .help(help),
                    )
                }
            },
            Ty::Known(Type::List(_)) | Ty::EmptyList => {
                let list = shown(operand);
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        span,
                        format!("{list} is a list, so it has no field `{field}`"),
                    )
                    .help(format!(
                        "test its elements with a macro, such as `{}.exists(x, x.{field} == ...)`",
                        operand
                    )),
                )
            }
            Ty::Known(other) => self.error(Diagnostic::new(
                Code::TypeMismatch,
                span,
                format!(
                    "{} is a `{other}`, so it has no field `{field}`",
                    shown(operand)
                ),
            )),
        }
    }

    fn check_index(&mut self, operand: &Expr, index: &Expr, span: Span) -> Node {
        let list = self.check(operand);
        let idx = self.check(index);
        let elem = match &list.ty {
            Ty::Known(Type::List(elem)) => known((**elem).clone()),
            Ty::Error => Ty::Error,
            other => {
                let message = format!(
                    "cannot index {} of type `{}`",
                    shown(operand),
                    other.describe()
                );
                return self.error(
                    Diagnostic::new(Code::TypeMismatch, span, message)
                        .help("only lists can be indexed, with an `int`"),
                );
            }
        };
        if !matches!(idx.ty, Ty::Known(Type::Int) | Ty::Error) {
            let message = format!("a list index must be an `int`, not `{}`", idx.ty.describe());
            return self.error(Diagnostic::new(Code::TypeMismatch, index.span, message));
        }
        node(NodeKind::Index(Box::new(list), Box::new(idx)), elem, span)
    }

    fn check_list(&mut self, items: &[Expr], span: Span) -> Node {
        let nodes: Vec<Node> = items.iter().map(|i| self.check(i)).collect();
        let mut elem: Option<Ty> = None;
        for (item, n) in items.iter().zip(&nodes) {
            elem = match elem {
                None => Some(n.ty.clone()),
                Some(prev) => match self.unify(&prev, &n.ty) {
                    Some(t) => Some(t),
                    None => {
                        let message = format!(
                            "list elements must all have one type, but {} is `{}` and earlier ones are `{}`",
                            shown(item),
                            n.ty.describe(),
                            prev.describe()
                        );
                        self.errors
                            .push(Diagnostic::new(Code::TypeMismatch, item.span, message));
                        Some(Ty::Error)
                    }
                },
            };
        }
        let ty = match elem {
            None => Ty::EmptyList,
            Some(Ty::Known(t)) => known(Type::List(Arc::new(t))),
            Some(Ty::EmptyList) => {
                self.errors.push(Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    "the element type of a list of empty lists cannot be known",
                ));
                Ty::Error
            }
            Some(Ty::Error) => Ty::Error,
        };
        node(NodeKind::List(nodes), ty, span)
    }

    // ----- enums -----

    /// `expr` as a value of enum `e`, when it is a string literal (or a list of them).
    fn coerce_to_enum(&mut self, expr: &Expr, e: &Arc<EnumType>, as_list: bool) -> Node {
        let enum_ty = Type::Enum(e.clone());
        if as_list && let ExprKind::List(items) = &expr.kind {
            let nodes: Vec<Node> = items
                .iter()
                .map(|i| self.coerce_to_enum(i, e, false))
                .collect();
            return node(
                NodeKind::List(nodes),
                known(Type::List(Arc::new(enum_ty))),
                expr.span,
            );
        }
        let Some(name) = string_literal(expr) else {
            return self.check(expr);
        };
        match e.index_of(name) {
            Some(i) => node(NodeKind::Const(Value::Enum(i)), known(enum_ty), expr.span),
            None => {
                let help = match did_you_mean(name, e.values().iter().map(String::as_str)) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!("the values are: {}", e.values().join(", ")),
                };
                self.error(
                    Diagnostic::new(
                        Code::UnknownEnumValue,
                        expr.span,
                        format!("`{name}` is not a value of the enum"),
                    )
                    .label("not one of the enum's values")
                    .help(help),
                )
            }
        }
    }

    /// Checks two operands that must agree in type, turning a string literal on one side into
    /// an enum value when the other side is an enum.
    fn check_pair(&mut self, lhs: &Expr, rhs: &Expr) -> (Node, Node) {
        if string_literal(lhs).is_some() && string_literal(rhs).is_none() {
            let r = self.check(rhs);
            let l = match &r.ty {
                Ty::Known(Type::Enum(e)) => {
                    let e = e.clone();
                    self.coerce_to_enum(lhs, &e, false)
                }
                _ => self.check(lhs),
            };
            return (l, r);
        }
        let l = self.check(lhs);
        let r = match &l.ty {
            Ty::Known(Type::Enum(e)) if string_literal(rhs).is_some() => {
                let e = e.clone();
                self.coerce_to_enum(rhs, &e, false)
            }
            _ => self.check(rhs),
        };
        (l, r)
    }

    // ----- operators -----

    fn check_unary(&mut self, op: UnaryOp, operand: &Expr, span: Span) -> Node {
        match op {
            UnaryOp::Not => {
                let n = self.check_bool(operand, "the operand of `!`");
                node(NodeKind::Not(Box::new(n)), known(Type::Bool), span)
            }
            UnaryOp::Neg => {
                let n = self.check(operand);
                match &n.ty {
                    Ty::Known(t @ (Type::Int | Type::Number | Type::Duration)) => {
                        let t = t.clone();
                        node(NodeKind::Neg(Box::new(n)), known(t), span)
                    }
                    Ty::Error => error_node(span),
                    other => {
                        let message = format!(
                            "cannot negate {} of type `{}`",
                            shown(operand),
                            other.describe()
                        );
                        self.error(
                            Diagnostic::new(Code::TypeMismatch, span, message)
                                .help("`-` applies to `int`, `number` and `duration`"),
                        )
                    }
                }
            }
        }
    }

    fn check_binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, span: Span) -> Node {
        match op {
            BinaryOp::In => self.check_in(lhs, rhs, span),
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => self.check_comparison(op, lhs, rhs, span),
            _ => self.check_arithmetic(op, lhs, rhs, span),
        }
    }

    fn check_arithmetic(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, span: Span) -> Node {
        let l = self.check(lhs);
        let r = self.check(rhs);
        let (Ty::Known(lt), Ty::Known(rt)) = (&l.ty, &r.ty) else {
            let ty = match (op, &l.ty, &r.ty) {
                (BinaryOp::Add, Ty::EmptyList, Ty::Known(t @ Type::List(_)))
                | (BinaryOp::Add, Ty::Known(t @ Type::List(_)), Ty::EmptyList) => known(t.clone()),
                (BinaryOp::Add, Ty::EmptyList, Ty::EmptyList) => Ty::EmptyList,
                (_, Ty::Error, _) | (_, _, Ty::Error) => return error_node(span),
                _ => return self.mismatch(op, lhs, rhs, &l.ty, &r.ty, span),
            };
            return node(
                NodeKind::Arith(Arith::ListConcat, Box::new(l), Box::new(r)),
                ty,
                span,
            );
        };
        use Type as T;
        let resolved = match (op, lt, rt) {
            (BinaryOp::Add, T::Int, T::Int) => Some((Arith::AddInt, T::Int)),
            (BinaryOp::Add, T::Number, T::Number) => Some((Arith::AddNum, T::Number)),
            (BinaryOp::Add, T::String, T::String) => Some((Arith::Concat, T::String)),
            (BinaryOp::Add, T::List(a), T::List(b)) if a == b => {
                Some((Arith::ListConcat, lt.clone()))
            }
            (BinaryOp::Add, T::Duration, T::Duration) => Some((Arith::AddDur, T::Duration)),
            (BinaryOp::Add, T::Timestamp, T::Duration) => Some((Arith::AddTsDur, T::Timestamp)),
            (BinaryOp::Add, T::Duration, T::Timestamp) => Some((Arith::AddDurTs, T::Timestamp)),
            (BinaryOp::Sub, T::Int, T::Int) => Some((Arith::SubInt, T::Int)),
            (BinaryOp::Sub, T::Number, T::Number) => Some((Arith::SubNum, T::Number)),
            (BinaryOp::Sub, T::Duration, T::Duration) => Some((Arith::SubDur, T::Duration)),
            (BinaryOp::Sub, T::Timestamp, T::Timestamp) => Some((Arith::SubTsTs, T::Duration)),
            (BinaryOp::Sub, T::Timestamp, T::Duration) => Some((Arith::SubTsDur, T::Timestamp)),
            (BinaryOp::Mul, T::Int, T::Int) => Some((Arith::MulInt, T::Int)),
            (BinaryOp::Mul, T::Number, T::Number) => Some((Arith::MulNum, T::Number)),
            (BinaryOp::Div, T::Int, T::Int) => Some((Arith::DivInt, T::Int)),
            (BinaryOp::Div, T::Number, T::Number) => Some((Arith::DivNum, T::Number)),
            (BinaryOp::Rem, T::Int, T::Int) => Some((Arith::RemInt, T::Int)),
            _ => None,
        };
        match resolved {
            Some((arith, ty)) => node(
                NodeKind::Arith(arith, Box::new(l), Box::new(r)),
                known(ty),
                span,
            ),
            None => self.mismatch(op, lhs, rhs, &l.ty, &r.ty, span),
        }
    }

    fn mismatch(
        &mut self,
        op: BinaryOp,
        lhs: &Expr,
        rhs: &Expr,
        lt: &Ty,
        rt: &Ty,
        span: Span,
    ) -> Node {
        let message = format!(
            "cannot apply `{}` to `{}` and `{}`",
            op.symbol(),
            lt.describe(),
            rt.describe()
        );
        let help = mismatch_help(op, lhs, rhs, lt, rt);
        self.error(Diagnostic::new(Code::TypeMismatch, span, message).help_opt(help))
    }

    fn check_comparison(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, span: Span) -> Node {
        let (l, r) = self.check_pair(lhs, rhs);
        let cmp = match op {
            BinaryOp::Eq => Cmp::Eq,
            BinaryOp::Ne => Cmp::Ne,
            BinaryOp::Lt => Cmp::Lt,
            BinaryOp::Le => Cmp::Le,
            BinaryOp::Gt => Cmp::Gt,
            _ => Cmp::Ge,
        };
        let ordering = !matches!(cmp, Cmp::Eq | Cmp::Ne);
        let ok = match (&l.ty, &r.ty) {
            (Ty::Error, _) | (_, Ty::Error) => return error_node(span),
            (Ty::Known(a), Ty::Known(b)) if a.is_numeric() && b.is_numeric() => true,
            (Ty::Known(Type::Enum(a)), Ty::Known(Type::Enum(b))) if a == b => {
                if ordering && !a.is_ordered() {
                    let message = format!(
                        "cannot compare values of an unordered enum with `{}`",
                        op.symbol()
                    );
                    return self.error(
                        Diagnostic::new(Code::UnorderedEnum, span, message)
                            .help("declare the enum with `ordered: true` to compare by rank, or use `==`, `!=` or `in`"),
                    );
                }
                true
            }
            (Ty::Known(a), Ty::Known(b)) if a == b => {
                !ordering
                    || matches!(
                        a,
                        Type::Bool | Type::String | Type::Date | Type::Timestamp | Type::Duration
                    )
            }
            (Ty::EmptyList, Ty::EmptyList)
            | (Ty::EmptyList, Ty::Known(Type::List(_)))
            | (Ty::Known(Type::List(_)), Ty::EmptyList) => !ordering,
            _ => false,
        };
        if !ok {
            return self.mismatch(op, lhs, rhs, &l.ty, &r.ty, span);
        }
        // An exact int constant compared with a number compares as a number: same result,
        // and evaluation skips the mixed-type path.
        let (l_ty, r_ty) = (l.ty.clone(), r.ty.clone());
        let (l, r) = (as_number_if_exact(l, &r_ty), as_number_if_exact(r, &l_ty));
        node(
            NodeKind::Cmp(cmp, Box::new(l), Box::new(r)),
            known(Type::Bool),
            span,
        )
    }

    fn check_in(&mut self, lhs: &Expr, rhs: &Expr, span: Span) -> Node {
        let (l, r) = if string_literal(lhs).is_some() {
            let r = self.check(rhs);
            let l = match &r.ty {
                Ty::Known(Type::List(elem)) => match &**elem {
                    Type::Enum(e) => {
                        let e = e.clone();
                        self.coerce_to_enum(lhs, &e, false)
                    }
                    _ => self.check(lhs),
                },
                _ => self.check(lhs),
            };
            (l, r)
        } else {
            let l = self.check(lhs);
            let r = match &l.ty {
                Ty::Known(Type::Enum(e)) if is_literal_list_of_strings(rhs) => {
                    let e = e.clone();
                    self.coerce_to_enum(rhs, &e, true)
                }
                _ => self.check(rhs),
            };
            (l, r)
        };
        let ok = match (&l.ty, &r.ty) {
            (Ty::Error, _) | (_, Ty::Error) => return error_node(span),
            (_, Ty::EmptyList) => true,
            (Ty::Known(a), Ty::Known(Type::List(elem))) => {
                a == &**elem || (a.is_numeric() && elem.is_numeric())
            }
            _ => false,
        };
        if !ok {
            let help = match &r.ty {
                Ty::Known(Type::List(_)) => {
                    Some("the value must have the list's element type".to_string())
                }
                Ty::Known(Type::String) => Some(format!(
                    "to search a string, write `{}.contains({})`",
                    rhs, lhs
                )),
                _ => Some(
                    "`in` tests membership in a list, such as `x in [\"a\", \"b\"]`".to_string(),
                ),
            };
            let message = format!(
                "cannot apply `in` to `{}` and `{}`",
                l.ty.describe(),
                r.ty.describe()
            );
            return self.error(Diagnostic::new(Code::TypeMismatch, span, message).help_opt(help));
        }
        node(
            NodeKind::In(Box::new(l), Box::new(r)),
            known(Type::Bool),
            span,
        )
    }

    // ----- calls and macros -----

    fn check_call(
        &mut self,
        target: Option<&Expr>,
        function: &str,
        function_span: Span,
        args: &[Expr],
        span: Span,
    ) -> Node {
        let is_macro = matches!(function, "all" | "exists" | "exists_one" | "filter" | "map");
        match (target, function) {
            (Some(range), _) if is_macro => self.check_macro(range, function, args, span),
            (None, "has") => self.check_has(args, span),
            (None, _) if is_macro => self.error(
                Diagnostic::new(
                    Code::MacroMisuse,
                    function_span,
                    format!("`{function}` is a macro and needs a list before it"),
                )
                .help(format!("write it as `list.{function}(x, predicate)`")),
            ),
            _ => self.check_function(target, function, function_span, args, span),
        }
    }

    fn check_has(&mut self, args: &[Expr], span: Span) -> Node {
        let [arg] = args else {
            return self.error(
                Diagnostic::new(
                    Code::MacroMisuse,
                    span,
                    format!("`has` takes one argument, found {}", args.len()),
                )
                .help("write `has(fact.path)` or `has(x.field)`"),
            );
        };
        if let ExprKind::Ident(name) = &arg.kind
            && self.lookup_local(name).is_none()
            && let Some((slot, _)) = self.schema.lookup(name)
        {
            // An extension of CEL: a top-level fact may be tested by its bare name.
            self.facts_read.push(slot.0);
            return node(NodeKind::HasFact(slot.0), known(Type::Bool), span);
        }
        let ExprKind::Select { operand, field } = &arg.kind else {
            return self.error(
                Diagnostic::new(Code::MacroMisuse, arg.span, "the argument of `has` must be a field selection")
                    .help("write `has(fact.path)` or `has(x.field)`; to test a top-level fact, name it with its full path"),
            );
        };
        let dotted = arg.dotted_name();
        let first_is_local = dotted
            .as_deref()
            .and_then(|d| d.split('.').next())
            .is_some_and(|f| self.lookup_local(f).is_some());
        if let (Some(path), false) = (&dotted, first_is_local)
            && let Some((slot, _)) = self.schema.lookup(path)
        {
            self.facts_read.push(slot.0);
            return node(NodeKind::HasFact(slot.0), known(Type::Bool), span);
        }
        let base = self.check(operand);
        match &base.ty {
            Ty::Known(Type::Record(record)) => match record.field(field) {
                Some((index, _)) => node(
                    NodeKind::HasField(Box::new(base.clone()), index),
                    known(Type::Bool),
                    span,
                ),
                None => {
                    let checked = self.check_field(&base, operand, field, arg.span);
                    let _ = checked;
                    error_node(span)
                }
            },
            Ty::Error => error_node(span),
            _ => match dotted {
                Some(path) if !first_is_local => self.unknown_fact(&path, arg.span),
                _ => {
                    let _ = self.check_field(&base, operand, field, arg.span);
                    error_node(span)
                }
            },
        }
    }

    fn check_macro(&mut self, range: &Expr, function: &str, args: &[Expr], span: Span) -> Node {
        let kind = match function {
            "all" => Macro::All,
            "exists" => Macro::Exists,
            "exists_one" => Macro::ExistsOne,
            "filter" => Macro::Filter,
            _ => Macro::Map,
        };
        let arity_ok = match kind {
            Macro::Map => args.len() == 2 || args.len() == 3,
            _ => args.len() == 2,
        };
        if !arity_ok {
            let expected = if kind == Macro::Map { "2 or 3" } else { "2" };
            return self.error(
                Diagnostic::new(
                    Code::MacroMisuse,
                    span,
                    format!(
                        "`{function}` takes {expected} arguments, found {}",
                        args.len()
                    ),
                )
                .help(format!("write `list.{function}(x, predicate)`")),
            );
        }
        let Some(ExprKind::Ident(var)) = args.first().map(|a| &a.kind) else {
            let at = args.first().map_or(span, |a| a.span);
            return self.error(
                Diagnostic::new(
                    Code::MacroMisuse,
                    at,
                    format!("the first argument of `{function}` must be a variable name"),
                )
                .help(format!(
                    "write `list.{function}(x, predicate)`, naming each element `x`"
                )),
            );
        };
        if self.scopes.len() >= MAX_MACRO_NESTING {
            return self.error(Diagnostic::new(
                Code::TooDeep,
                span,
                format!("macros nest deeper than the limit of {MAX_MACRO_NESTING}"),
            ));
        }
        let range_node = self.check(range);
        // Over `[]` the body never runs: its variable absorbs any use, and `map` or `filter`
        // give an empty list.
        let over_empty = range_node.ty == Ty::EmptyList;
        let elem = match &range_node.ty {
            Ty::Known(Type::List(elem)) => known((**elem).clone()),
            Ty::EmptyList | Ty::Error => Ty::Error,
            other => {
                let message = format!(
                    "`{function}` needs a list, but {} is `{}`",
                    shown(range),
                    other.describe()
                );
                return self.error(Diagnostic::new(Code::MacroMisuse, range.span, message));
            }
        };
        self.scopes.push((var.clone(), elem));
        let (body, transform, ty) = match (kind, args) {
            (Macro::Map, [_, transform]) => {
                let t = self.check(transform);
                let ty = match &t.ty {
                    Ty::Known(t) => known(Type::List(Arc::new(t.clone()))),
                    _ => Ty::Error,
                };
                (t, None, ty)
            }
            (Macro::Map, [_, filter, transform]) => {
                let f = self.check_bool(filter, "the filter of `map`");
                let t = self.check(transform);
                let ty = match &t.ty {
                    Ty::Known(t) => known(Type::List(Arc::new(t.clone()))),
                    _ => Ty::Error,
                };
                (f, Some(Box::new(t)), ty)
            }
            (_, [_, predicate]) => {
                let context = format!("the predicate of `{function}`");
                let p = self.check_bool(predicate, &context);
                let ty = if kind == Macro::Filter {
                    range_node.ty.clone()
                } else {
                    known(Type::Bool)
                };
                (p, None, ty)
            }
            _ => (error_node(span), None, Ty::Error),
        };
        self.scopes.pop();
        let ty = match (over_empty, kind) {
            (true, Macro::Map | Macro::Filter) => Ty::EmptyList,
            _ => ty,
        };
        node(
            NodeKind::Comprehension {
                kind,
                range: Box::new(range_node),
                body: Box::new(body),
                transform,
            },
            ty,
            span,
        )
    }

    fn check_function(
        &mut self,
        target: Option<&Expr>,
        function: &str,
        function_span: Span,
        args: &[Expr],
        span: Span,
    ) -> Node {
        // Receiver-style calls take the receiver as the first argument.
        let all_args: Vec<&Expr> = target.into_iter().chain(args).collect();
        let nodes: Vec<Node> = all_args.iter().map(|a| self.check(a)).collect();
        if nodes.iter().any(|n| n.ty == Ty::Error) {
            return error_node(span);
        }
        let types: Vec<Option<&Type>> = nodes.iter().map(|n| n.ty.known()).collect();
        let method = target.is_some();
        use Type as T;
        let resolved: Option<(Option<Func>, Type)> = match (function, method, types.as_slice()) {
            ("size", _, [Some(T::String | T::List(_))]) => Some((None, T::Int)),
            ("size", _, [None]) => Some((None, T::Int)),
            ("contains", true, [Some(T::String), Some(T::String)]) => {
                Some((Some(Func::Contains), T::Bool))
            }
            ("startsWith", true, [Some(T::String), Some(T::String)]) => {
                Some((Some(Func::StartsWith), T::Bool))
            }
            ("endsWith", true, [Some(T::String), Some(T::String)]) => {
                Some((Some(Func::EndsWith), T::Bool))
            }
            ("timestamp", false, [Some(T::String | T::Int | T::Timestamp)]) => {
                Some((Some(Func::ToTimestamp), T::Timestamp))
            }
            ("duration", false, [Some(T::String | T::Duration)]) => {
                Some((Some(Func::ToDuration), T::Duration))
            }
            ("date", false, [Some(T::String | T::Timestamp | T::Date)]) => {
                Some((Some(Func::ToDate), T::Date))
            }
            ("days_since", false, [Some(T::Date | T::Timestamp)]) => {
                Some((Some(Func::DaysSince), T::Int))
            }
            ("int", false, [Some(T::Int | T::Number | T::String | T::Timestamp)]) => {
                Some((Some(Func::ToInt), T::Int))
            }
            ("double", false, [Some(T::Int | T::Number | T::String)]) => {
                Some((Some(Func::ToDouble), T::Number))
            }
            (
                "string",
                false,
                [
                    Some(
                        T::Int
                        | T::Number
                        | T::String
                        | T::Bool
                        | T::Date
                        | T::Timestamp
                        | T::Duration
                        | T::Enum(_),
                    ),
                ],
            ) => Some((Some(Func::ToString), T::String)),
            _ => None,
        };
        if function == "days_since" {
            self.reads_now = true;
        }
        let Some((func, ty)) = resolved else {
            return self.bad_call(function, function_span, method, &nodes, span);
        };
        let mut nodes = nodes;
        let Some(func) = func else {
            let arg = nodes.pop().map(Box::new);
            return match arg {
                Some(arg) => node(NodeKind::Size(arg), known(ty), span),
                None => error_node(span),
            };
        };
        // Fold conversions of constants now, so a bad literal is a load-time error.
        if let [
            Node {
                kind: NodeKind::Const(Value::String(text)),
                span: arg_span,
                ..
            },
        ] = nodes.as_slice()
        {
            let folded = match func {
                Func::ToTimestamp => Some(parse_timestamp(text).map(Value::Timestamp).ok_or(
                    "a valid RFC 3339 timestamp with a zone, such as `2026-11-22T09:30:00Z`",
                )),
                Func::ToDuration => Some(
                    parse_duration(text)
                        .map(Value::Duration)
                        .ok_or("a valid duration, such as `36h`, `90m` or `1h30m`"),
                ),
                Func::ToDate => Some(
                    parse_date(text)
                        .map(Value::Date)
                        .ok_or("a valid date, such as `2026-11-22`"),
                ),
                _ => None,
            };
            match folded {
                Some(Ok(value)) => return node(NodeKind::Const(value), known(ty), span),
                Some(Err(expected)) => {
                    let message = format!("`{text}` is not valid for `{function}`");
                    return self.error(
                        Diagnostic::new(Code::InvalidLiteral, *arg_span, message)
                            .help(format!("expected {expected}")),
                    );
                }
                None => {}
            }
        }
        node(NodeKind::Call(func, nodes), known(ty), span)
    }

    fn bad_call(
        &mut self,
        function: &str,
        function_span: Span,
        method: bool,
        nodes: &[Node],
        span: Span,
    ) -> Node {
        let known_function = FUNCTIONS.contains(&function);
        if !known_function {
            let help = match did_you_mean(function, FUNCTIONS.iter().copied()) {
                Some(m) => format!("did you mean `{m}`?"),
                None => format!("the functions are: {}", FUNCTIONS.join(", ")),
            };
            return self.error(
                Diagnostic::new(
                    Code::UnknownFunction,
                    function_span,
                    format!("unknown function `{function}`"),
                )
                .label("not a function of the language")
                .help(help),
            );
        }
        let arg_types: Vec<String> = nodes
            .iter()
            .map(|n| format!("`{}`", n.ty.describe()))
            .collect();
        let (shape, help) = match function {
            "size" => ("`size(x)` or `x.size()` with a string or list", None),
            "contains" | "startsWith" | "endsWith" => (
                "a string receiver and a string argument",
                Some(format!("write `text.{function}(\"part\")`")),
            ),
            "timestamp" => (
                "one string or int",
                Some("write `timestamp(\"2026-11-22T09:30:00Z\")`".into()),
            ),
            "duration" => ("one string", Some("write `duration(\"36h\")`".into())),
            "date" => (
                "one string or timestamp",
                Some("write `date(\"2026-11-22\")`".into()),
            ),
            "days_since" => (
                "one date or timestamp",
                Some("write `days_since(agreement.signed_on)`".into()),
            ),
            "int" | "double" => ("one number, int or string", None),
            _ => ("one scalar value", None),
        };
        let style_note = match (method, function) {
            (
                true,
                "timestamp" | "duration" | "date" | "days_since" | "int" | "double" | "string",
            ) => Some(format!(
                "`{function}` is a function: write `{function}(x)`, not `x.{function}()`"
            )),
            (false, "contains" | "startsWith" | "endsWith") => Some(format!(
                "`{function}` is a method: write `text.{function}(\"part\")`"
            )),
            _ => None,
        };
        let message = format!(
            "`{function}` does not take ({}): it takes {shape}",
            arg_types.join(", ")
        );
        self.error(Diagnostic::new(Code::TypeMismatch, span, message).help_opt(style_note.or(help)))
    }
}

/// `node` as a number constant when it is an int constant exactly representable as a double
/// and the other side is a number.
fn as_number_if_exact(node: Node, other: &Ty) -> Node {
    match (&node.kind, other) {
        (NodeKind::Const(Value::Int(i)), Ty::Known(Type::Number))
            if i.unsigned_abs() <= 1 << 53 =>
        {
            Node {
                kind: NodeKind::Const(Value::Number(*i as f64)),
                ty: known(Type::Number),
                span: node.span,
            }
        }
        _ => node,
    }
}

fn context_subject(context: &str) -> String {
    match context {
        "&&" | "||" => format!("each operand of `{context}`"),
        other => other.to_string(),
    }
}

fn bool_help(expr: &Expr, ty: &Ty) -> Option<String> {
    match ty {
        Ty::Known(Type::Enum(e)) => e
            .values()
            .first()
            .map(|v| format!("compare it with a value, such as `{expr} == \"{v}\"`")),
        Ty::Known(Type::Int | Type::Number) => {
            Some(format!("compare it with a number, such as `{expr} > 0`"))
        }
        Ty::Known(Type::String) => Some(format!(
            "compare it with a string, such as `{expr} == \"...\"`"
        )),
        Ty::Known(Type::List(_)) => Some(format!(
            "test its size or its elements, such as `size({expr}) > 0`"
        )),
        Ty::Known(Type::Date | Type::Timestamp) => {
            Some(format!("test presence with `has({expr})`, or compare it"))
        }
        _ => None,
    }
}

fn mismatch_help(op: BinaryOp, lhs: &Expr, rhs: &Expr, lt: &Ty, rt: &Ty) -> Option<String> {
    use Type as T;
    match (lt.known(), rt.known()) {
        (Some(T::Number), Some(T::Int)) if is_int_literal(rhs) => {
            Some(format!("`{}` is a number: write the literal as `{rhs}.0`", lhs))
        }
        (Some(T::Int), Some(T::Number)) if is_int_literal(lhs) => {
            Some(format!("`{}` is a number: write the literal as `{lhs}.0`", rhs))
        }
        (Some(T::Number), Some(T::Int)) | (Some(T::Int), Some(T::Number)) => {
            Some("arithmetic does not mix `int` and `number`: convert one side with `double(...)` or `int(...)`".into())
        }
        (Some(T::Enum(e)), Some(T::String)) | (Some(T::String), Some(T::Enum(e))) => Some(format!(
            "compare the enum with a string literal naming one of its values: {}",
            e.values().join(", ")
        )),
        (Some(T::Enum(_)), Some(T::Enum(_))) => Some("the two sides are different enums".into()),
        (Some(T::Date), Some(T::String)) | (Some(T::String), Some(T::Date)) => {
            Some("turn the text into a date with `date(\"2026-11-22\")`".into())
        }
        (Some(T::Timestamp), Some(T::String)) | (Some(T::String), Some(T::Timestamp)) => {
            Some("turn the text into a timestamp with `timestamp(\"2026-11-22T09:30:00Z\")`".into())
        }
        (Some(T::Duration), Some(T::String)) | (Some(T::String), Some(T::Duration)) => {
            Some("turn the text into a duration with `duration(\"36h\")`".into())
        }
        (Some(T::Date), Some(T::Date)) if op == BinaryOp::Sub => {
            Some("to count days, use `days_since(...)`".into())
        }
        (Some(T::Bool), _) | (_, Some(T::Bool)) if matches!(op, BinaryOp::Eq | BinaryOp::Ne) => {
            Some("a bool fact can be used directly as a condition".into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_name_is_listed() {
        assert!(FUNCTIONS.contains(&"days_since"));
        assert!(FUNCTIONS.contains(&"exists_one"));
    }
}
