//! Colours: ANSI codes on the severity word and the underline of a diagnostic, and on test
//! verdicts. Nothing else is coloured, so piped output and snapshots stay plain.

use salesplay::Severity;

const RESET: &str = "\x1b[0m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const GREEN: &str = "\x1b[32m";

/// Whether to write ANSI colour codes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Paint {
    pub(crate) on: bool,
}

impl Paint {
    fn wrap(self, colour: &str, text: &str) -> String {
        if self.on {
            format!("{colour}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    /// `error` in bold red.
    pub(crate) fn error(self, text: &str) -> String {
        self.wrap(RED, text)
    }

    /// `warning` in bold yellow.
    pub(crate) fn warning(self, text: &str) -> String {
        self.wrap(YELLOW, text)
    }

    /// A passing verdict in green.
    pub(crate) fn ok(self, text: &str) -> String {
        self.wrap(GREEN, text)
    }

    fn severity_colour(severity: Severity) -> &'static str {
        match severity {
            Severity::Error => RED,
            Severity::Warning => YELLOW,
        }
    }

    /// Colours a diagnostic rendered by [`salesplay::Diagnostic::render`] for `origin`: the
    /// severity word in the header line, and the underline with its label.
    pub(crate) fn diagnostic(self, rendered: &str, origin: &str, severity: Severity) -> String {
        if !self.on {
            return rendered.to_string();
        }
        let colour = Paint::severity_colour(severity);
        let word = severity.as_str();
        let mut out = String::with_capacity(rendered.len() + 32);
        for (index, line) in rendered.split_inclusive('\n').enumerate() {
            match index {
                // `origin:line:col: severity[code]: message`
                0 => {
                    let skip = origin.len().min(line.len());
                    let (head, rest) = line.split_at(skip);
                    let needle = format!(": {word}[");
                    match rest.find(&needle) {
                        Some(at) => {
                            let (before, after) = rest.split_at(at + 2);
                            let after = after.strip_prefix(word).unwrap_or(after);
                            out.push_str(head);
                            out.push_str(before);
                            out.push_str(colour);
                            out.push_str(word);
                            out.push_str(RESET);
                            out.push_str(after);
                        }
                        None => out.push_str(line),
                    }
                }
                // `  | ^^^^ label`
                3 => match line.find('^') {
                    Some(at) => {
                        let (before, after) = line.split_at(at);
                        let (text, newline) = match after.strip_suffix('\n') {
                            Some(text) => (text, "\n"),
                            None => (after, ""),
                        };
                        out.push_str(before);
                        out.push_str(colour);
                        out.push_str(text);
                        out.push_str(RESET);
                        out.push_str(newline);
                    }
                    None => out.push_str(line),
                },
                _ => out.push_str(line),
            }
        }
        out
    }
}

/// `1 error`, `2 errors`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_the_word_and_the_underline() {
        let rendered = "a.yaml:2:3: error[E1]: bad `error[`\n  |\n2 | xx\n  |   ^^ here\n";
        let painted = Paint { on: true }.diagnostic(rendered, "a.yaml", Severity::Error);
        assert_eq!(
            painted,
            "a.yaml:2:3: \x1b[1;31merror\x1b[0m[E1]: bad `error[`\n  |\n2 | xx\n  |   \x1b[1;31m^^ here\x1b[0m\n"
        );
        let plain = Paint { on: false }.diagnostic(rendered, "a.yaml", Severity::Error);
        assert_eq!(plain, rendered);
    }
}
