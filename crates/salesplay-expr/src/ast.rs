//! The syntax tree of an expression, as written. Every node carries its span; equality ignores
//! spans, so two parses of differently spaced text compare equal.
//!
//! `Display` prints an expression back as source text that parses to an equal tree.

use std::fmt;

use crate::span::Span;

/// An expression node and where it was written.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it was written, in bytes of the source.
    pub span: Span,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

/// The kinds of expression node.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ExprKind {
    /// `true` or `false`.
    Bool(bool),
    /// An integer literal (the sign of a negative literal is folded in).
    Int(i64),
    /// A double literal.
    Double(f64),
    /// A string literal, escapes resolved.
    String(String),
    /// A name: a fact, the first part of a dotted fact path, a macro variable or `now`.
    Ident(String),
    /// `operand.field`.
    Select {
        /// The expression before the dot.
        operand: Box<Expr>,
        /// The name after the dot.
        field: String,
    },
    /// `operand[index]`.
    Index {
        /// The indexed expression.
        operand: Box<Expr>,
        /// The index.
        index: Box<Expr>,
    },
    /// A function call `f(args)` or a method call `target.f(args)`; macros are calls too.
    Call {
        /// The receiver of a method call.
        target: Option<Box<Expr>>,
        /// The function or method name.
        function: String,
        /// Where the function name was written.
        function_span: NameSpan,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `[a, b, c]`.
    List(Vec<Expr>),
    /// `!x` or `-x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// A binary operator other than `&&` and `||`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `a && b && ...`: a chain of two or more operands.
    And(Vec<Expr>),
    /// `a || b || ...`: a chain of two or more operands.
    Or(Vec<Expr>),
    /// `cond ? then : otherwise`.
    Conditional {
        /// The condition.
        cond: Box<Expr>,
        /// Value when the condition holds.
        then: Box<Expr>,
        /// Value when it does not.
        otherwise: Box<Expr>,
    },
}

/// The position of a name inside a node. Every `NameSpan` equals every other, so equality of
/// trees ignores positions, as it does for [`Expr::span`].
#[derive(Clone, Copy, Debug, Default)]
pub struct NameSpan(pub Span);

impl PartialEq for NameSpan {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `!`
    Not,
    /// `-`
    Neg,
}

/// Binary operators (`&&` and `||` are [`ExprKind::And`] and [`ExprKind::Or`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
        }
    }

    /// Binding strength: higher binds tighter.
    pub(crate) fn precedence(self) -> u8 {
        match self {
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => PREC_MUL,
            BinaryOp::Add | BinaryOp::Sub => PREC_ADD,
            _ => PREC_REL,
        }
    }
}

const PREC_COND: u8 = 1;
const PREC_OR: u8 = 2;
const PREC_AND: u8 = 3;
const PREC_REL: u8 = 4;
const PREC_ADD: u8 = 5;
const PREC_MUL: u8 = 6;
const PREC_UNARY: u8 = 7;
const PREC_MEMBER: u8 = 8;

impl Expr {
    fn precedence(&self) -> u8 {
        match &self.kind {
            ExprKind::Conditional { .. } => PREC_COND,
            ExprKind::Or(_) => PREC_OR,
            ExprKind::And(_) => PREC_AND,
            ExprKind::Binary { op, .. } => op.precedence(),
            ExprKind::Unary { .. } => PREC_UNARY,
            ExprKind::Int(v) if *v < 0 => PREC_UNARY,
            ExprKind::Double(v) if v.is_sign_negative() => PREC_UNARY,
            _ => PREC_MEMBER,
        }
    }

    /// The dotted name this expression spells, if it is only identifiers and field selections
    /// (`relationship.level`).
    pub fn dotted_name(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Ident(name) => Some(name.clone()),
            ExprKind::Select { operand, field } => {
                let mut name = operand.dotted_name()?;
                name.push('.');
                name.push_str(field);
                Some(name)
            }
            _ => None,
        }
    }
}

/// Writes `expr`, in parentheses when it binds more loosely than `min`.
fn write_operand(f: &mut fmt::Formatter<'_>, expr: &Expr, min: u8) -> fmt::Result {
    if expr.precedence() < min {
        write!(f, "({expr})")
    } else {
        write!(f, "{expr}")
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// Writes `s` as a double-quoted CEL string literal.
pub(crate) fn write_string_literal(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

pub(crate) fn format_double(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v:?}")
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Int(v) => write!(f, "{v}"),
            ExprKind::Double(v) => f.write_str(&format_double(*v)),
            ExprKind::String(s) => write_string_literal(f, s),
            ExprKind::Ident(name) => f.write_str(name),
            ExprKind::Select { operand, field } => {
                write_operand(f, operand, PREC_MEMBER)?;
                write!(f, ".{field}")
            }
            ExprKind::Index { operand, index } => {
                write_operand(f, operand, PREC_MEMBER)?;
                write!(f, "[{index}]")
            }
            ExprKind::Call {
                target,
                function,
                args,
                ..
            } => {
                if let Some(target) = target {
                    write_operand(f, target, PREC_MEMBER)?;
                    f.write_str(".")?;
                }
                write!(f, "{function}(")?;
                write_list(f, args)?;
                f.write_str(")")
            }
            ExprKind::List(items) => {
                f.write_str("[")?;
                write_list(f, items)?;
                f.write_str("]")
            }
            ExprKind::Unary { op, operand } => {
                f.write_str(match op {
                    UnaryOp::Not => "!",
                    UnaryOp::Neg => "-",
                })?;
                // `-(5)` keeps a negated literal distinct from the literal `-5`.
                let literal = matches!(operand.kind, ExprKind::Int(_) | ExprKind::Double(_));
                if literal && *op == UnaryOp::Neg {
                    write!(f, "({operand})")
                } else {
                    write_operand(f, operand, PREC_UNARY)
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let prec = op.precedence();
                write_operand(f, lhs, prec)?;
                write!(f, " {} ", op.symbol())?;
                write_operand(f, rhs, prec + 1)
            }
            ExprKind::And(items) | ExprKind::Or(items) => {
                let (prec, sym) = if matches!(self.kind, ExprKind::And(_)) {
                    (PREC_AND, " && ")
                } else {
                    (PREC_OR, " || ")
                };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sym)?;
                    }
                    write_operand(f, item, prec + 1)?;
                }
                Ok(())
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                write_operand(f, cond, PREC_OR)?;
                f.write_str(" ? ")?;
                write_operand(f, then, PREC_OR)?;
                f.write_str(" : ")?;
                write_operand(f, otherwise, PREC_COND)
            }
        }
    }
}
