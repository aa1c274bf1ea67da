//! Diagnostics: what is wrong with an expression, where, and how to fix it.

use std::fmt;

use crate::span::Span;

/// A stable code for each kind of problem. The codes never change meaning; new kinds get new
/// codes. `docs/expression-language.md` lists them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Code {
    /// A character that cannot start any token.
    InvalidCharacter,
    /// A string literal without its closing quote.
    UnterminatedString,
    /// A backslash escape that is not valid in a string literal.
    InvalidEscape,
    /// A number literal that is malformed or out of range.
    InvalidNumber,
    /// A token where another was expected.
    UnexpectedToken,
    /// The expression ended where more was expected.
    UnexpectedEnd,
    /// The expression nests deeper than the depth limit.
    TooDeep,
    /// The expression is longer (in bytes or nodes) than the size limit.
    TooLong,
    /// Valid CEL syntax that the criterion language does not support.
    Unsupported,
    /// A reserved word used as a name.
    ReservedWord,
    /// A name that is neither a declared fact nor a variable in scope.
    UnknownFact,
    /// An operator or function applied to operands of the wrong types.
    TypeMismatch,
    /// A string literal compared with an enum fact that is not one of its values.
    UnknownEnumValue,
    /// A macro (`all`, `exists`, `exists_one`, `filter`, `map`, `has`) used wrongly.
    MacroMisuse,
    /// An expression whose result must be `bool` but is not.
    NotBool,
    /// A function or method that does not exist.
    UnknownFunction,
    /// A field that records of this list do not have.
    UnknownField,
    /// An ordering comparison (`<`, `>=`, ...) on an enum that is not ordered.
    UnorderedEnum,
    /// A constant argument that cannot be valid, such as `date("2026-02-30")`.
    InvalidLiteral,
}

impl Code {
    /// The stable code, such as `E0201`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidCharacter => "E0101",
            Code::UnterminatedString => "E0102",
            Code::InvalidEscape => "E0103",
            Code::InvalidNumber => "E0104",
            Code::UnexpectedToken => "E0105",
            Code::UnexpectedEnd => "E0106",
            Code::TooDeep => "E0107",
            Code::TooLong => "E0108",
            Code::Unsupported => "E0109",
            Code::ReservedWord => "E0110",
            Code::UnknownFact => "E0201",
            Code::TypeMismatch => "E0202",
            Code::UnknownEnumValue => "E0203",
            Code::MacroMisuse => "E0204",
            Code::NotBool => "E0205",
            Code::UnknownFunction => "E0206",
            Code::UnknownField => "E0207",
            Code::UnorderedEnum => "E0208",
            Code::InvalidLiteral => "E0209",
        }
    }

    /// Every code, in order; for documentation and exhaustive tests.
    pub const ALL: [Code; 19] = [
        Code::InvalidCharacter,
        Code::UnterminatedString,
        Code::InvalidEscape,
        Code::InvalidNumber,
        Code::UnexpectedToken,
        Code::UnexpectedEnd,
        Code::TooDeep,
        Code::TooLong,
        Code::Unsupported,
        Code::ReservedWord,
        Code::UnknownFact,
        Code::TypeMismatch,
        Code::UnknownEnumValue,
        Code::MacroMisuse,
        Code::NotBool,
        Code::UnknownFunction,
        Code::UnknownField,
        Code::UnorderedEnum,
        Code::InvalidLiteral,
    ];
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in an expression: a code, a message, the span it points at, an optional
/// label for the underline and an optional help text.
///
/// Messages are lowercase without a final period and quote user input in backticks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    /// Stable code of the problem.
    pub code: Code,
    /// What is wrong.
    pub message: String,
    /// Where, in bytes of the expression source.
    pub span: Span,
    /// A short text shown under the underlined snippet.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: None,
            help: None,
        }
    }

    pub(crate) fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn help_opt(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    /// The diagnostic moved right by `by` bytes, for an expression embedded in a larger text.
    pub fn offset(mut self, by: usize) -> Diagnostic {
        self.span = self.span.offset(by);
        self
    }

    /// Renders the diagnostic the way rustc does, against `source` (the text the span points
    /// into) named `origin`:
    ///
    /// ```text
    /// origin:1:1: error[E0201]: unknown fact `amout`
    ///   |
    /// 1 | amout > 5
    ///   | ^^^^^ not a declared fact
    ///   |
    ///   = help: did you mean `amount`?
    /// ```
    pub fn render(&self, origin: &str, source: &str) -> String {
        crate::render::render(
            &crate::render::Snippet {
                severity: "error",
                code: self.code.as_str(),
                message: &self.message,
                span: self.span,
                label: self.label.as_deref(),
                help: self.help.as_deref(),
            },
            origin,
            source,
        )
    }
}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(self.label.clone(), self.span),
        )))
    }
}

/// The closest candidate to `name` by edit distance, if close enough to be a likely typo.
///
/// ```
/// let facts = ["amount", "stage", "relationship.level"];
/// assert_eq!(salesplay_expr::did_you_mean("amout", facts), Some("amount"));
/// assert_eq!(salesplay_expr::did_you_mean("zzz", facts), None);
/// ```
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&name.to_lowercase(), &candidate.to_lowercase());
        let is_better = best.is_none_or(|(d, _)| distance < d);
        if distance <= limit && is_better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        if let Some(cell) = rows.get_mut(at(i, 0)) {
            *cell = i;
        }
    }
    for j in 0..=b.len() {
        if let Some(cell) = rows.get_mut(at(0, j)) {
            *cell = j;
        }
    }
    let get =
        |rows: &[usize], i: usize, j: usize| rows.get(at(i, j)).copied().unwrap_or(usize::MAX / 2);
    for (i, ca) in a.iter().enumerate() {
        for (j, cb) in b.iter().enumerate() {
            let (i1, j1) = (i + 1, j + 1);
            let cost = usize::from(ca != cb);
            let mut best = (get(&rows, i, j1) + 1)
                .min(get(&rows, i1, j) + 1)
                .min(get(&rows, i, j) + cost);
            if i > 0 && j > 0 && a.get(i) == b.get(j - 1) && a.get(i - 1) == b.get(j) {
                best = best.min(get(&rows, i - 1, j - 1) + 1);
            }
            if let Some(cell) = rows.get_mut(at(i1, j1)) {
                *cell = best;
            }
        }
    }
    get(&rows, a.len(), b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn suggestions_prefer_the_closest() {
        let names = ["dating", "trusted", "allied", "acquainted"];
        assert_eq!(did_you_mean("datng", names), Some("dating"));
        assert_eq!(did_you_mean("Trusted", names), Some("trusted"));
        assert_eq!(did_you_mean("friend", names), None);
    }

    #[test]
    fn codes_are_unique() {
        let mut seen: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), Code::ALL.len());
    }
}
