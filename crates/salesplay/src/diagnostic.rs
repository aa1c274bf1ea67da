//! Diagnostics about a playbook file: errors and warnings with a stable code, the position in
//! the file, and help.

use std::fmt;

/// Whether a diagnostic stops the playbook from loading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The playbook is not loaded.
    Error,
    /// The playbook loads, but something is likely wrong.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem in a playbook file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, such as `E1020` or `W1003` (criterion-language problems keep their
    /// `E0xxx` codes). `docs/playbook-format.md` lists them all.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Byte range in the file.
    pub start: usize,
    /// End of the byte range in the file.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column (in characters) of `start`.
    pub column: usize,
    /// Text shown under the underline.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// Renders the diagnostic like rustc against the file's `source`, named `origin`.
    pub fn render(&self, origin: &str, source: &str) -> String {
        salesplay_expr::render(
            &salesplay_expr::Snippet {
                severity: self.severity.as_str(),
                code: self.code,
                message: &self.message,
                span: salesplay_expr::Span::new(self.start, self.end),
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

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            self.label.clone(),
            self.start,
            self.end.saturating_sub(self.start),
        ))))
    }
}

/// Collects diagnostics against one source text, computing line and column.
pub(crate) struct Sink<'s> {
    source: &'s str,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'s> Sink<'s> {
    pub(crate) fn new(source: &'s str) -> Sink<'s> {
        Sink {
            source,
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn source(&self) -> &'s str {
        self.source
    }

    /// A diagnostic at byte range `at` of the source.
    pub(crate) fn make(
        &self,
        severity: Severity,
        code: &'static str,
        at: (usize, usize),
        message: impl Into<String>,
    ) -> Diagnostic {
        let (start, end) = at;
        let (line, column) = salesplay_expr::line_col(self.source, start);
        Diagnostic {
            severity,
            code,
            message: message.into(),
            start,
            end: end.max(start),
            line,
            column,
            label: None,
            help: None,
        }
    }

    pub(crate) fn emit(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub(crate) fn error(
        &mut self,
        code: &'static str,
        at: (usize, usize),
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let mut d = self.make(Severity::Error, code, at, message);
        d.help = help;
        self.emit(d);
    }

    pub(crate) fn warning(
        &mut self,
        code: &'static str,
        at: (usize, usize),
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let mut d = self.make(Severity::Warning, code, at, message);
        d.help = help;
        self.emit(d);
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// The stable codes of playbook diagnostics, with what they mean; for documentation and
/// exhaustive tests.
pub const CODES: &[(&str, &str)] = &[
    (
        "E1001",
        "the file is not valid YAML, or a value has the wrong shape",
    ),
    ("E1002", "unknown key"),
    ("E1003", "a size limit was exceeded"),
    ("E1004", "invalid fact type"),
    ("E1005", "invalid fact path"),
    (
        "E1006",
        "invalid value (empty id, probability outside 0..1, ...)",
    ),
    ("E1010", "duplicate stage id"),
    ("E1011", "duplicate criterion id"),
    ("E1012", "duplicate play id"),
    ("E1013", "duplicate activity id within a stage"),
    ("E1014", "duplicate or conflicting `renamed_from`"),
    ("E1020", "unknown stage"),
    ("E1021", "the playbook has no stages"),
    ("W1001", "a stage no path reaches"),
    (
        "W1002",
        "a stage from which no terminal stage can be reached",
    ),
    (
        "W1003",
        "an entry criterion the previous stage's exit criteria do not imply",
    ),
    ("W1004", "a criterion that is constant"),
    ("W1005", "a declared fact no criterion reads"),
    ("W1006", "a label missing a language other labels use"),
];
