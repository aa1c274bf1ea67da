//! rustc-style rendering of a diagnostic against its source text.

use std::fmt::Write as _;

use crate::span::Span;

/// Everything needed to render one diagnostic.
#[derive(Clone, Copy, Debug)]
pub struct Snippet<'a> {
    /// `error` or `warning`.
    pub severity: &'a str,
    /// Stable code, such as `E0201`.
    pub code: &'a str,
    /// What is wrong.
    pub message: &'a str,
    /// Byte span in the source.
    pub span: Span,
    /// Text under the underline.
    pub label: Option<&'a str>,
    /// How to fix it.
    pub help: Option<&'a str>,
}

/// Line and column (both 1-based, column counted in characters) of byte `offset` in `source`.
///
/// ```
/// assert_eq!(salesplay_expr::line_col("ab\ncd", 4), (2, 2));
/// ```
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset);
    let before = source.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or("").chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while offset > 0 && !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Renders `snippet` as rustc does: a `origin:line:col: severity[code]: message` header, the
/// source line with the span underlined, and the help.
pub fn render(snippet: &Snippet<'_>, origin: &str, source: &str) -> String {
    let start = floor_char_boundary(source, snippet.span.start as usize);
    let end = floor_char_boundary(source, snippet.span.end as usize).max(start);
    let (line, column) = line_col(source, start);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{origin}:{line}:{column}: {}[{}]: {}",
        snippet.severity, snippet.code, snippet.message
    );
    let line_start = source
        .get(..start)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line_end = source
        .get(start..)
        .and_then(|s| s.find('\n'))
        .map_or(source.len(), |i| start + i);
    let text = source
        .get(line_start..line_end)
        .unwrap_or("")
        .trim_end_matches('\r');
    let gutter = line.to_string().len();
    let pad = " ".repeat(gutter);
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{line} | {}", text.replace('\t', " "));
    let underline_start = column - 1;
    let underline_len = source
        .get(start..end.min(line_end))
        .map_or(0, |s| s.chars().count())
        .max(1);
    let _ = write!(
        out,
        "{pad} | {}{}",
        " ".repeat(underline_start),
        "^".repeat(underline_len)
    );
    if let Some(label) = snippet.label {
        let _ = write!(out, " {label}");
    }
    out.push('\n');
    if let Some(help) = snippet.help {
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{pad} = help: {help}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("", 0), (1, 1));
        assert_eq!(line_col("a\nb", 2), (2, 1));
        assert_eq!(line_col("客户 x", 7), (1, 4));
        assert_eq!(line_col("abc", 99), (1, 4));
    }

    #[test]
    fn renders_like_rustc() {
        let out = render(
            &Snippet {
                severity: "error",
                code: "E0201",
                message: "unknown fact `amout`",
                span: Span::new(0, 5),
                label: Some("not a declared fact"),
                help: Some("did you mean `amount`?"),
            },
            "rule",
            "amout > 5",
        );
        assert_eq!(
            out,
            "rule:1:1: error[E0201]: unknown fact `amout`\n  |\n1 | amout > 5\n  | ^^^^^ not a declared fact\n  |\n  = help: did you mean `amount`?\n"
        );
    }
}
