//! Recursive-descent parser from tokens to [`Expr`], with a depth limit instead of a stack
//! overflow and a size limit instead of unbounded work.

use crate::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::diagnostic::{Code, Diagnostic};
use crate::lexer::{Tok, Token, lex};
use crate::span::Span;

/// Budgets that bound the work one expression can cause. Exceeding one is a
/// [`Code::TooLong`] or [`Code::TooDeep`] error naming the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted source text, in bytes.
    pub max_source_len: usize,
    /// Deepest accepted nesting of the syntax tree; values above [`MAX_DEPTH_CEILING`] are
    /// clamped to it.
    pub max_depth: usize,
    /// Most syntax-tree nodes in one expression.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_source_len: 64 * 1024,
            max_depth: 100,
            max_nodes: 10_000,
        }
    }
}

/// The deepest tree any configuration accepts: the parser, checker and evaluators recurse
/// over the tree, and this keeps them inside a 2 MiB thread stack even in debug builds.
/// `Limits::max_depth` can lower it, not raise it.
pub const MAX_DEPTH_CEILING: usize = 100;

const RESERVED: &[&str] = &[
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// Parses `source` with the default [`Limits`].
///
/// ```
/// let expr = salesplay_expr::parse("relationship.level >= 'dating' && amount > 5").unwrap();
/// assert_eq!(expr.to_string(), r#"relationship.level >= "dating" && amount > 5"#);
/// ```
pub fn parse(source: &str) -> Result<Expr, Vec<Diagnostic>> {
    parse_with(source, &Limits::default())
}

/// Parses `source` within `limits`. Returns every lexical error and the first syntax error.
pub fn parse_with(source: &str, limits: &Limits) -> Result<Expr, Vec<Diagnostic>> {
    if source.len() > limits.max_source_len {
        return Err(vec![
            Diagnostic::new(
                Code::TooLong,
                Span::new(0, 0),
                format!(
                    "expression is {} bytes long, over the limit of {} bytes",
                    source.len(),
                    limits.max_source_len
                ),
            )
            .help("split the criterion into several criteria, or raise `max_source_len`"),
        ]);
    }
    let mut errors = Vec::new();
    let tokens = lex(source, &mut errors);
    let mut parser = Parser {
        src: source,
        tokens,
        pos: 0,
        depth: 0,
        nodes: 0,
        limits,
    };
    let result = parser.expr().and_then(|e| {
        let next = parser.peek();
        if next.tok == Tok::Eof {
            Ok(e)
        } else {
            Err(unexpected(next, "an operator or the end of the expression"))
        }
    });
    match result {
        Ok(expr) if errors.is_empty() => {
            check_height(&expr, limits)?;
            Ok(expr)
        }
        Ok(_) => Err(errors),
        Err(e) => {
            // After a lexical error, a syntax error is most likely its echo: report the
            // lexical errors alone.
            if errors.is_empty() {
                errors.push(e);
            }
            Err(errors)
        }
    }
}

/// Rejects trees taller than the depth limit. Chains like `a + b + c` grow the tree without
/// growing the parser's recursion, so the height is measured here, without recursion.
fn check_height(expr: &Expr, limits: &Limits) -> Result<(), Vec<Diagnostic>> {
    let mut stack = vec![(expr, 1usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > limits.max_depth.min(MAX_DEPTH_CEILING) {
            return Err(vec![too_deep(node.span, limits)]);
        }
        let next = depth + 1;
        match &node.kind {
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Double(_)
            | ExprKind::String(_)
            | ExprKind::Ident(_) => {}
            ExprKind::Select { operand, .. } | ExprKind::Unary { operand, .. } => {
                stack.push((operand, next));
            }
            ExprKind::Index { operand, index } => {
                stack.push((operand, next));
                stack.push((index, next));
            }
            ExprKind::Call { target, args, .. } => {
                stack.extend(target.iter().map(|t| (&**t, next)));
                stack.extend(args.iter().map(|a| (a, next)));
            }
            ExprKind::List(items) | ExprKind::And(items) | ExprKind::Or(items) => {
                stack.extend(items.iter().map(|i| (i, next)));
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                stack.push((lhs, next));
                stack.push((rhs, next));
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                stack.push((cond, next));
                stack.push((then, next));
                stack.push((otherwise, next));
            }
        }
    }
    Ok(())
}

fn too_deep(span: Span, limits: &Limits) -> Diagnostic {
    Diagnostic::new(
        Code::TooDeep,
        span,
        format!(
            "expression nests deeper than the limit of {} levels",
            limits.max_depth.min(MAX_DEPTH_CEILING)
        ),
    )
    .help("split the criterion into several criteria, or raise `max_depth`")
}

fn unexpected(token: &Token, expected: &str) -> Diagnostic {
    let (code, found) = if token.tok == Tok::Eof {
        (Code::UnexpectedEnd, "the expression ends".to_string())
    } else {
        (
            Code::UnexpectedToken,
            format!("found {}", token.tok.describe()),
        )
    };
    Diagnostic::new(code, token.span, format!("expected {expected}, {found}"))
        .label(format!("expected {expected}"))
}

struct Parser<'l> {
    src: &'l str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    nodes: usize,
    limits: &'l Limits,
}

type PResult = Result<Expr, Diagnostic>;

static EOF: Token = Token {
    tok: Tok::Eof,
    span: Span { start: 0, end: 0 },
};

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.tokens
            .get(self.pos)
            .or(self.tokens.last())
            .unwrap_or(&EOF)
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        self.tokens
            .get(self.pos + ahead)
            .map_or(&Tok::Eof, |t| &t.tok)
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<Span, Diagnostic> {
        if &self.peek().tok == tok {
            Ok(self.bump().span)
        } else {
            Err(unexpected(self.peek(), what))
        }
    }

    fn node(&mut self, kind: ExprKind, span: Span) -> PResult {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(Diagnostic::new(
                Code::TooLong,
                span,
                format!(
                    "expression has more than {} parts, over the limit",
                    self.limits.max_nodes
                ),
            )
            .help("split the criterion into several criteria, or raise `max_nodes`"));
        }
        Ok(Expr { kind, span })
    }

    /// The depth limit in force: the configured one, never above [`MAX_DEPTH_CEILING`].
    fn max_depth(&self) -> usize {
        self.limits.max_depth.min(MAX_DEPTH_CEILING)
    }

    /// Runs `f` one level deeper, failing cleanly past the depth limit.
    fn nested(&mut self, f: impl FnOnce(&mut Self) -> PResult) -> PResult {
        self.depth += 1;
        if self.depth > self.max_depth() {
            return Err(too_deep(self.peek().span, self.limits));
        }
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn expr(&mut self) -> PResult {
        self.nested(|p| {
            let cond = p.or()?;
            if !p.eat(&Tok::Question) {
                return Ok(cond);
            }
            let then = p.or()?;
            p.expect(&Tok::Colon, "`:` of the conditional")?;
            let otherwise = p.expr()?;
            let span = cond.span.to(otherwise.span);
            p.node(
                ExprKind::Conditional {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                },
                span,
            )
        })
    }

    fn or(&mut self) -> PResult {
        let first = self.and()?;
        if self.peek().tok != Tok::OrOr {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(&Tok::OrOr) {
            items.push(self.and()?);
        }
        let span = span_of(&items);
        self.node(ExprKind::Or(items), span)
    }

    fn and(&mut self) -> PResult {
        let first = self.binary(0)?;
        if self.peek().tok != Tok::AndAnd {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(&Tok::AndAnd) {
            items.push(self.binary(0)?);
        }
        let span = span_of(&items);
        self.node(ExprKind::And(items), span)
    }

    /// Binary operators by precedence climbing: one frame per operand instead of one per
    /// precedence level, which keeps the stack shallow for nested parentheses.
    fn binary(&mut self, min_prec: u8) -> PResult {
        let mut lhs = self.unary()?;
        let mut chain = 0usize;
        while let Some(op) = binary_op(&self.peek().tok).filter(|op| op.precedence() >= min_prec) {
            // Each operator of a chain deepens the tree by one: stop before building more.
            chain += 1;
            if self.depth + chain > self.max_depth() {
                return Err(too_deep(self.peek().span, self.limits));
            }
            self.bump();
            let rhs = self.binary(op.precedence() + 1)?;
            let span = lhs.span.to(rhs.span);
            lhs = self.node(
                ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            )?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult {
        let op = match self.peek().tok {
            Tok::Bang => UnaryOp::Not,
            Tok::Minus => UnaryOp::Neg,
            _ => return self.member(),
        };
        let start = self.bump().span;
        if op == UnaryOp::Neg && !matches!(self.peek_at(1), Tok::Dot | Tok::LBracket) {
            // `-5` is the literal minus five, and the only way to write i64::MIN.
            let literal = match self.peek().tok {
                Tok::Int(v) => Some(negate_int(v).map(ExprKind::Int)),
                Tok::IntOverflow => Some(None),
                Tok::Double(v) => Some(Some(ExprKind::Double(-v))),
                _ => None,
            };
            if let Some(literal) = literal {
                let token = self.bump();
                let span = start.to(token.span);
                return match literal {
                    Some(kind) => self.node(kind, span),
                    None => Err(int_out_of_range(span)),
                };
            }
        }
        self.nested(|p| {
            let operand = p.unary()?;
            let span = start.to(operand.span);
            p.node(
                ExprKind::Unary {
                    op,
                    operand: Box::new(operand),
                },
                span,
            )
        })
    }

    fn member(&mut self) -> PResult {
        let mut expr = self.primary()?;
        let mut chain = 0usize;
        loop {
            // Each `.field`, call or index deepens the tree by one: stop before building more.
            if matches!(self.peek().tok, Tok::Dot | Tok::LBracket) {
                chain += 1;
                if self.depth + chain > self.max_depth() {
                    return Err(too_deep(self.peek().span, self.limits));
                }
            }
            if self.eat(&Tok::Dot) {
                let token = self.bump();
                if token.tok != Tok::Ident {
                    self.pos -= 1;
                    return Err(unexpected(self.peek(), "a field or method name after `.`"));
                }
                let name = token.span.slice(self.src).to_string();
                check_reserved(&name, token.span)?;
                if self.peek().tok == Tok::LParen {
                    let (args, end) = self.arguments()?;
                    let span = expr.span.to(end);
                    expr = self.node(
                        ExprKind::Call {
                            target: Some(Box::new(expr)),
                            function: name,
                            function_span: crate::ast::NameSpan(token.span),
                            args,
                        },
                        span,
                    )?;
                } else {
                    let span = expr.span.to(token.span);
                    expr = self.node(
                        ExprKind::Select {
                            operand: Box::new(expr),
                            field: name,
                        },
                        span,
                    )?;
                }
            } else if self.peek().tok == Tok::LBracket {
                self.bump();
                let index = self.expr()?;
                let end = self.expect(&Tok::RBracket, "`]`")?;
                let span = expr.span.to(end);
                expr = self.node(
                    ExprKind::Index {
                        operand: Box::new(expr),
                        index: Box::new(index),
                    },
                    span,
                )?;
            } else {
                return Ok(expr);
            }
        }
    }

    fn arguments(&mut self) -> Result<(Vec<Expr>, Span), Diagnostic> {
        self.expect(&Tok::LParen, "`(`")?;
        let mut args = Vec::new();
        if self.peek().tok != Tok::RParen {
            loop {
                args.push(self.expr()?);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        let end = self.expect(&Tok::RParen, "`,` or `)`")?;
        Ok((args, end))
    }

    fn primary(&mut self) -> PResult {
        let token = self.bump();
        let span = token.span;
        match token.tok {
            Tok::Int(v) => match i64::try_from(v) {
                Ok(v) => self.node(ExprKind::Int(v), span),
                Err(_) => Err(int_out_of_range(span)),
            },
            Tok::IntOverflow => Err(int_out_of_range(span)),
            Tok::Double(v) => self.node(ExprKind::Double(v), span),
            Tok::Str(s) => self.node(ExprKind::String(s), span),
            Tok::True => self.node(ExprKind::Bool(true), span),
            Tok::False => self.node(ExprKind::Bool(false), span),
            Tok::Uint => Err(unsupported(span, "unsigned integers are not supported")
                .help("drop the `u` suffix: integers are signed 64-bit")),
            Tok::Bytes => {
                Err(unsupported(span, "bytes literals are not supported")
                    .help("use a string literal"))
            }
            Tok::Null => Err(unsupported(span, "`null` is not supported")
                .help("an absent fact is unknown; test for presence with `has(fact.path)`")),
            Tok::Ident => {
                let name = span.slice(self.src).to_string();
                check_reserved(&name, span)?;
                if self.peek().tok == Tok::LParen {
                    let (args, end) = self.arguments()?;
                    self.node(
                        ExprKind::Call {
                            target: None,
                            function: name,
                            function_span: crate::ast::NameSpan(span),
                            args,
                        },
                        span.to(end),
                    )
                } else {
                    self.node(ExprKind::Ident(name), span)
                }
            }
            Tok::Dot => Err(unsupported(span, "leading-dot names are not supported")
                .help("write the fact path without the leading `.`")),
            Tok::LParen => {
                let inner = self.expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(inner)
            }
            Tok::LBracket => self.nested(|p| {
                let mut items = Vec::new();
                if p.peek().tok != Tok::RBracket {
                    loop {
                        items.push(p.expr()?);
                        if !p.eat(&Tok::Comma) || p.peek().tok == Tok::RBracket {
                            break;
                        }
                    }
                }
                let end = p.expect(&Tok::RBracket, "`,` or `]`")?;
                p.node(ExprKind::List(items), span.to(end))
            }),
            Tok::LBrace => Err(
                unsupported(span, "map and message literals are not supported")
                    .help("criteria read facts; build lists with `[...]`"),
            ),
            _ => {
                self.pos -= 1;
                Err(unexpected(&token, "an expression"))
            }
        }
    }
}

fn binary_op(tok: &Tok) -> Option<BinaryOp> {
    Some(match tok {
        Tok::EqEq => BinaryOp::Eq,
        Tok::Ne => BinaryOp::Ne,
        Tok::Lt => BinaryOp::Lt,
        Tok::Le => BinaryOp::Le,
        Tok::Gt => BinaryOp::Gt,
        Tok::Ge => BinaryOp::Ge,
        Tok::In => BinaryOp::In,
        Tok::Plus => BinaryOp::Add,
        Tok::Minus => BinaryOp::Sub,
        Tok::Star => BinaryOp::Mul,
        Tok::Slash => BinaryOp::Div,
        Tok::Percent => BinaryOp::Rem,
        _ => return None,
    })
}

fn negate_int(magnitude: u64) -> Option<i64> {
    if magnitude == 1 << 63 {
        Some(i64::MIN)
    } else {
        i64::try_from(magnitude).ok().map(|v| -v)
    }
}

fn int_out_of_range(span: Span) -> Diagnostic {
    Diagnostic::new(Code::InvalidNumber, span, "integer literal is out of range")
        .help("integers are signed 64-bit; write a double such as `1e20` for larger numbers")
}

fn unsupported(span: Span, message: &str) -> Diagnostic {
    Diagnostic::new(Code::Unsupported, span, message)
}

fn check_reserved(name: &str, span: Span) -> Result<(), Diagnostic> {
    if RESERVED.contains(&name) {
        Err(Diagnostic::new(
            Code::ReservedWord,
            span,
            format!("`{name}` is a reserved word"),
        )
        .help("facts cannot be named with CEL's reserved words"))
    } else {
        Ok(())
    }
}

fn span_of(items: &[Expr]) -> Span {
    match (items.first(), items.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => Span::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(src: &str) -> String {
        let expr = parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
        let printed = expr.to_string();
        let again = parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e:?}"));
        assert_eq!(expr, again, "{src} printed as {printed}");
        printed
    }

    #[test]
    fn precedence_and_printing() {
        assert_eq!(round_trip("a || b && c"), "a || b && c");
        assert_eq!(round_trip("(a || b) && c"), "(a || b) && c");
        assert_eq!(round_trip("a && (b && c)"), "a && (b && c)");
        assert_eq!(round_trip("1 + 2 * 3 - 4"), "1 + 2 * 3 - 4");
        assert_eq!(round_trip("1 - (2 - 3)"), "1 - (2 - 3)");
        assert_eq!(round_trip("-x.y"), "-x.y");
        assert_eq!(round_trip("-(5)"), "-(5)");
        assert_eq!(round_trip("-5"), "-5");
        assert_eq!(round_trip("(-5).size()"), "(-5).size()");
        assert_eq!(round_trip("!!a"), "!!a");
        assert_eq!(round_trip("a ? b : c ? d : e"), "a ? b : c ? d : e");
        assert_eq!(round_trip("(a ? b : c) ? d : e"), "(a ? b : c) ? d : e");
        assert_eq!(round_trip("x in [1, 2, 3,]"), "x in [1, 2, 3]");
        assert_eq!(
            round_trip("l.exists(c, c.role == 'x')"),
            r#"l.exists(c, c.role == "x")"#
        );
        assert_eq!(round_trip("-9223372036854775808"), "-9223372036854775808");
        assert_eq!(round_trip("1.0 + 2.5e10"), "1.0 + 25000000000.0");
        assert_eq!(round_trip("a[0][1]"), "a[0][1]");
    }

    #[test]
    fn chains_are_flat() {
        let expr = parse("a && b && c").unwrap();
        assert!(matches!(&expr.kind, ExprKind::And(items) if items.len() == 3));
    }

    #[test]
    fn spans_point_at_the_source() {
        let expr = parse("  amount > 5").unwrap();
        assert_eq!(expr.span, Span::new(2, 12));
        let ExprKind::Binary { lhs, .. } = &expr.kind else {
            panic!("not binary")
        };
        assert_eq!(lhs.span, Span::new(2, 8));
    }

    #[test]
    fn syntax_errors() {
        let e = parse("a &&").unwrap_err();
        assert_eq!(e[0].code, Code::UnexpectedEnd);
        let e = parse("a b").unwrap_err();
        assert_eq!(e[0].code, Code::UnexpectedToken);
        let e = parse("{1: 2}").unwrap_err();
        assert_eq!(e[0].code, Code::Unsupported);
        let e = parse("null").unwrap_err();
        assert_eq!(e[0].code, Code::Unsupported);
        let e = parse("1u").unwrap_err();
        assert_eq!(e[0].code, Code::Unsupported);
        let e = parse("9223372036854775808").unwrap_err();
        assert_eq!(e[0].code, Code::InvalidNumber);
        let e = parse("if").unwrap_err();
        assert_eq!(e[0].code, Code::ReservedWord);
        let e = parse("a.1").unwrap_err();
        assert_eq!(e[0].code, Code::UnexpectedToken);
    }

    #[test]
    fn several_lexical_errors_at_once() {
        let e = parse("a # b $ c").unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(e.iter().all(|d| d.code == Code::InvalidCharacter));
    }

    #[test]
    fn long_chains_stop_before_they_are_built() {
        let raised = Limits {
            max_source_len: 64 * 1024 * 1024,
            max_nodes: 10_000_000,
            ..Limits::default()
        };
        let sum = format!("{} > 0", vec!["n"; 100_000].join(" + "));
        assert_eq!(
            parse_with(&sum, &raised).unwrap_err()[0].code,
            Code::TooDeep
        );
        let fields = format!("ok{}", ".x".repeat(100_000));
        assert_eq!(
            parse_with(&fields, &raised).unwrap_err()[0].code,
            Code::TooDeep
        );
        let ceiling = Limits {
            max_depth: 1_000_000,
            ..raised
        };
        let deep = format!("{}1{}", "(".repeat(20_000), ")".repeat(20_000));
        assert_eq!(
            parse_with(&deep, &ceiling).unwrap_err()[0].code,
            Code::TooDeep
        );
    }

    #[test]
    fn limits() {
        let deep = format!("{}1{}", "(".repeat(30_000), ")".repeat(30_000));
        assert_eq!(parse(&deep).unwrap_err()[0].code, Code::TooDeep);
        let chain = vec!["1"; 500].join(" + ");
        assert_eq!(parse(&chain).unwrap_err()[0].code, Code::TooDeep);
        let long = vec!["a"; 40_000].join(" || ");
        assert_eq!(parse(&long).unwrap_err()[0].code, Code::TooLong);
        let many = vec!["a"; 12_000].join("||");
        assert_eq!(parse(&many).unwrap_err()[0].code, Code::TooLong);
        let wide = vec!["a"; 5_000].join(" || ");
        assert!(parse(&wide).is_ok());
        let nots = format!("{}a", "!".repeat(60_000));
        assert_eq!(parse(&nots).unwrap_err()[0].code, Code::TooDeep);
        let huge = "!".repeat(100_000);
        assert_eq!(parse(&huge).unwrap_err()[0].code, Code::TooLong);
    }
}
