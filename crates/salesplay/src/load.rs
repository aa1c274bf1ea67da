//! Loading playbooks: from a string, a reader, a path or a folder. The only code in the
//! library that touches the filesystem.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Severity, Sink};
use crate::limits::Limits;
use crate::model::RawPlaybook;
use crate::playbook::Playbook;

/// How to load playbooks.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Budgets on the file, its YAML and its criteria.
    pub limits: Limits,
}

/// A playbook that loaded, with the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    /// The validated playbook.
    pub playbook: Playbook,
    /// Lints: the playbook works, but something is likely wrong.
    pub warnings: Vec<Diagnostic>,
}

/// A playbook that did not load: every error found (and the warnings found on the way; lints
/// that need a valid playbook do not run), with the source to render them against.
#[derive(Debug, thiserror::Error)]
pub struct LoadError {
    /// Where the playbook came from (a path, or a name given by the caller).
    pub origin: String,
    /// The text the diagnostics point into (empty when the file could not be read).
    pub source_text: String,
    /// Every diagnostic, errors first by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    /// The errors, without the warnings.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    fn single(
        origin: &str,
        code: &'static str,
        message: String,
        help: Option<String>,
    ) -> LoadError {
        let mut sink = Sink::new("");
        sink.error(code, (0, 0), message, help);
        LoadError {
            origin: origin.to_string(),
            source_text: String::new(),
            diagnostics: sink.diagnostics,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            f.write_str(&d.render(&self.origin, &self.source_text))?;
        }
        Ok(())
    }
}

impl Playbook {
    /// Loads a playbook from YAML text with the default options, ignoring warnings.
    ///
    /// ```
    /// let playbook = salesplay::Playbook::from_yaml_str(r#"
    /// id: tiny
    /// facts: { deal.signed: bool }
    /// stages:
    ///   - id: negotiate
    ///     exit: [{ id: signed, when: deal.signed }]
    ///   - id: won
    ///     entry: [{ id: signed_again, when: deal.signed }]
    /// "#).unwrap();
    /// assert_eq!(playbook.stages().len(), 2);
    /// ```
    pub fn from_yaml_str(source: &str) -> Result<Playbook, LoadError> {
        Playbook::load_str(source, "<playbook>", &LoadOptions::default()).map(|l| l.playbook)
    }

    /// Loads a playbook from YAML text; `origin` names it in diagnostics.
    pub fn load_str(
        source: &str,
        origin: &str,
        options: &LoadOptions,
    ) -> Result<Loaded, LoadError> {
        let limits = &options.limits;
        let fail = |diagnostics| LoadError {
            origin: origin.to_string(),
            source_text: source.to_string(),
            diagnostics,
        };
        if source.len() > limits.max_document_bytes {
            let mut sink = Sink::new(source);
            sink.error(
                "E1003",
                (0, 0),
                format!(
                    "the file is {} bytes, over the limit of {} bytes",
                    source.len(),
                    limits.max_document_bytes
                ),
                Some("raise `Limits::max_document_bytes` if this is intended".into()),
            );
            return Err(fail(sink.diagnostics));
        }
        let text = source.strip_prefix('\u{feff}').unwrap_or(source);
        let bom = source.len() - text.len();
        let yaml_options = serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                max_depth: limits.max_yaml_depth,
                max_nodes: limits.max_yaml_nodes,
                max_events: limits.max_yaml_nodes,
                // What anchors keep for replay: a playbook reusing a few anchors needs little;
                // an alias bomb needs it all.
                max_recorded_anchor_events: limits.max_yaml_nodes / 10,
                max_aliases: limits.max_yaml_aliases,
                max_anchors: limits.max_yaml_aliases,
                max_documents: 1,
                max_total_scalar_bytes: limits.max_document_bytes,
            },
        };
        let raw: RawPlaybook = match serde_saphyr::from_str_with_options(text, yaml_options) {
            Ok(raw) => raw,
            Err(e) => return Err(fail(vec![yaml_error(&e, source, bom, limits)])),
        };
        // Spans from the YAML parser are relative to `text`; re-base them past a BOM.
        let (playbook, mut diagnostics) = if bom == 0 {
            crate::build::build(&raw, source, limits)
        } else {
            let (p, ds) = crate::build::build(&raw, text, limits);
            (p, ds.into_iter().map(|d| shift(d, bom, source)).collect())
        };
        match playbook {
            Some(playbook) => {
                diagnostics.retain(|d| d.severity == Severity::Warning);
                Ok(Loaded {
                    playbook,
                    warnings: diagnostics,
                })
            }
            None => Err(fail(diagnostics)),
        }
    }

    /// Loads a playbook from a reader, reading at most `max_document_bytes`.
    pub fn load_reader(
        reader: impl Read,
        origin: &str,
        options: &LoadOptions,
    ) -> Result<Loaded, LoadError> {
        let limit = options.limits.max_document_bytes;
        let mut bytes = Vec::new();
        let read = reader
            .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut bytes);
        if let Err(e) = read {
            return Err(LoadError::single(
                origin,
                "E1001",
                format!("cannot read the playbook: {e}"),
                None,
            ));
        }
        if bytes.len() > limit {
            return Err(LoadError::single(
                origin,
                "E1003",
                format!("the file is over the limit of {limit} bytes"),
                Some("raise `Limits::max_document_bytes` if this is intended".into()),
            ));
        }
        match String::from_utf8(bytes) {
            Ok(text) => Playbook::load_str(&text, origin, options),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let mut sink = Sink::new(&text);
                sink.error(
                    "E1001",
                    (valid, valid + 1),
                    format!("the file is not valid UTF-8 (byte {valid})"),
                    Some("save the playbook as UTF-8".into()),
                );
                Err(LoadError {
                    origin: origin.to_string(),
                    diagnostics: sink.diagnostics,
                    source_text: text,
                })
            }
        }
    }

    /// Loads a playbook from a file.
    pub fn load_path(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Loaded, LoadError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        match std::fs::File::open(path) {
            Ok(file) => Playbook::load_reader(std::io::BufReader::new(file), &origin, options),
            Err(e) => Err(LoadError::single(
                &origin,
                "E1001",
                format!("cannot open the playbook: {e}"),
                None,
            )),
        }
    }
}

/// Whether `path` names a playbook file: `*.yaml` or `*.yml`, but not a scenario file
/// (`*.scenarios.yaml`).
pub fn is_playbook_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !name.ends_with(".scenarios.yaml")
        && !name.ends_with(".scenarios.yml")
}

/// Loads every playbook file in `dir` (not recursing), sorted by path.
pub fn load_dir(
    dir: impl AsRef<Path>,
    options: &LoadOptions,
) -> std::io::Result<Vec<(PathBuf, Result<Loaded, LoadError>)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_playbook_file(p))
        .collect();
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|p| {
            let result = Playbook::load_path(&p, options);
            (p, result)
        })
        .collect())
}

fn shift(mut d: Diagnostic, by: usize, source: &str) -> Diagnostic {
    d.start += by;
    d.end += by;
    let (line, column) = salesplay_expr::line_col(source, d.start);
    d.line = line;
    d.column = column;
    d
}

/// Turns a YAML or shape error into a diagnostic, with "did you mean" for unknown keys and
/// the YAML layer's wording translated into an author's terms.
fn yaml_error(
    error: &serde_saphyr::Error,
    source: &str,
    bom: usize,
    limits: &Limits,
) -> Diagnostic {
    let full = error.without_snippet().to_string();
    let message = match full.find(" at line ") {
        Some(i) => full.get(..i).unwrap_or(&full).to_string(),
        None => full.clone(),
    };
    let message = message
        .strip_prefix("error: ")
        .unwrap_or(&message)
        .to_string();
    let text = source.get(bom..).unwrap_or(source);
    let start = error_offset(error, text).map_or(0, |o| o + bom);
    let sink = Sink::new(source);
    let (code, message, help, len) = if let Some(rest) = message.strip_prefix("unknown field `") {
        let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let options: Vec<&str> = expected
            .trim_start_matches(", expected one of ")
            .trim_start_matches(", expected ")
            .split(", ")
            .map(|s| s.trim_matches('`'))
            .filter(|s| !s.is_empty())
            .collect();
        let help = match salesplay_expr::did_you_mean(key, options.iter().copied()) {
            Some(m) => format!("did you mean `{m}`?"),
            None if key.contains(' ') || key.contains('(') => {
                "this looks like part of a criterion: quote the criterion inside `{ ... }`, such as `when: 'a, b'`".to_string()
            }
            None => format!("the keys allowed here are: {}", options.join(", ")),
        };
        (
            "E1002",
            format!("unknown key `{key}`"),
            Some(help),
            key.len(),
        )
    } else if let Some(rest) = message.strip_prefix("budget breached: ") {
        let (message, help) = budget_message(rest, limits);
        ("E1003", message, Some(help), 0)
    } else {
        let (message, help) = plain_words(&message);
        let help = help.or_else(|| when_hint(line_at(source, start), &message));
        ("E1001", message, help, 0)
    };
    let mut diagnostic = sink.make(Severity::Error, code, (start, start + len), message);
    diagnostic.help = help;
    diagnostic
}

/// The byte offset of a YAML error in `text`: the parser's own, or else its line and column.
fn error_offset(error: &serde_saphyr::Error, text: &str) -> Option<usize> {
    let location = error.location()?;
    if let Some(offset) = location
        .span()
        .byte_offset()
        .and_then(|o| usize::try_from(o).ok())
    {
        return Some(clamp_to_text(text, offset));
    }
    let line = usize::try_from(location.line()).ok()?;
    let column = usize::try_from(location.column()).ok()?;
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)?
    };
    let within = text
        .get(line_start..)?
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    Some(clamp_to_text(text, line_start + within))
}

/// An offset inside the text: past the end moves back to the start of the last line.
fn clamp_to_text(text: &str, offset: usize) -> usize {
    if offset < text.len() {
        return offset;
    }
    let trimmed = text.trim_end_matches(['\n', '\r']);
    trimmed.rfind('\n').map_or(0, |i| i + 1)
}

/// Help for a criterion that YAML misread: written after `when:` without quotes, it may start
/// with a YAML indicator (`!` is a tag, `*` an alias) or hold `: ` or ` #`.
fn when_hint(line: &str, message: &str) -> Option<String> {
    if let Some(key) = message.strip_prefix("missing key `") {
        let key = key.trim_end_matches('`');
        return Some(format!("add `{key}:` to this entry"));
    }
    let (_, after) = line.split_once("when:")?;
    let criterion = after.trim();
    if criterion.is_empty() {
        return Some("write the criterion after `when:`".to_string());
    }
    let misread = criterion.starts_with(['!', '&', '*', '?', '|', '>', '%', '@', '`', '{', '['])
        || criterion.contains(": ")
        || criterion.contains(" #");
    misread.then(|| {
        "quote the criterion so YAML reads it as text, such as `when: '!deal.lost'`".to_string()
    })
}

fn line_at(source: &str, offset: usize) -> &str {
    let start = source
        .get(..offset)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    let end = source
        .get(offset..)
        .and_then(|s| s.find('\n'))
        .map_or(source.len(), |i| offset + i);
    source.get(start..end).unwrap_or("")
}

/// The number after `name: ` in a budget report such as `Depth { depth: 65 }`.
fn budget_number(report: &str, name: &str) -> Option<u64> {
    let rest = report.split(&format!("{name}: ")).nth(1)?;
    rest.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// The message for facts given as YAML that do not parse or are over a budget.
pub(crate) fn facts_yaml_message(
    error: &serde_saphyr::Error,
    yaml: &str,
    limits: &Limits,
) -> String {
    let full = error.without_snippet().to_string();
    let message = full.split(" at line ").next().unwrap_or(&full);
    let location = error.location();
    let at = location
        .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
        .unwrap_or_default();
    // The key written at the start of the error's line names the fact, as near as YAML says.
    let key = location
        .and_then(|l| {
            yaml.lines()
                .nth(usize::try_from(l.line()).ok()?.checked_sub(1)?)
        })
        .and_then(|line| line.split_once(':'))
        .map(|(key, _)| {
            key.trim()
                .trim_matches(|c| c == '"' || c == '\'' || c == '{')
        })
        .filter(|key| !key.is_empty() && !key.contains(' '));
    let named = key.map(|k| format!("fact `{k}`: ")).unwrap_or_default();
    if let Some(report) = message.strip_prefix("budget breached: ") {
        let (what, _) = budget_message(report, limits);
        return format!("the facts are over a size limit: {what}{at}");
    }
    if let Some(rest) = message.strip_prefix("non-finite float `") {
        let value = rest.split('`').next().unwrap_or(rest);
        return format!("{named}`{value}` is not a finite number{at}");
    }
    format!(
        "the facts are not valid YAML: {named}{}{at}",
        plain_words(message).0
    )
}

fn budget_message(report: &str, limits: &Limits) -> (String, String) {
    let kind = report.split([' ', '{']).next().unwrap_or("");
    let raise = |field: &str| format!("raise `Limits::{field}` if this is intended");
    match kind {
        "Depth" => (
            format!(
                "the YAML nests {} levels deep, over the limit of {}",
                budget_number(report, "depth").unwrap_or(0),
                limits.max_yaml_depth
            ),
            raise("max_yaml_depth"),
        ),
        "Nodes" => (
            format!(
                "the YAML has more than {} nodes (counting what aliases expand to)",
                limits.max_yaml_nodes
            ),
            raise("max_yaml_nodes"),
        ),
        "Events" => (
            format!(
                "the YAML has more than {} parse events (nodes, counting what aliases expand to)",
                limits.max_yaml_nodes
            ),
            raise("max_yaml_nodes"),
        ),
        "Aliases" => (
            format!(
                "the YAML uses more than {} aliases",
                limits.max_yaml_aliases
            ),
            raise("max_yaml_aliases"),
        ),
        "Anchors" => (
            format!(
                "the YAML defines more than {} anchors",
                limits.max_yaml_aliases
            ),
            raise("max_yaml_aliases"),
        ),
        "RecordedAnchorEvents" | "RecordedAnchorBytes" => (
            format!(
                "the YAML's anchors expand to more than {} nodes, which looks like an alias bomb",
                limits.max_yaml_nodes / 10
            ),
            raise("max_yaml_nodes"),
        ),
        "AliasAnchorRatio" => (
            format!(
                "the YAML expands {} aliases from {} anchors, which looks like an alias bomb",
                budget_number(report, "aliases").unwrap_or(0),
                budget_number(report, "anchors").unwrap_or(0)
            ),
            "refer to each anchor fewer than 10 times, or write the values out".to_string(),
        ),
        "Documents" => (
            "the file holds more than one YAML document".to_string(),
            "put each playbook in its own file".to_string(),
        ),
        "ScalarBytes" | "TotalScalarBytes" => (
            format!(
                "the YAML's text is over the limit of {} bytes",
                limits.max_document_bytes
            ),
            raise("max_document_bytes"),
        ),
        _ => (
            "the YAML is over a size limit".to_string(),
            "the file nests too deeply, has too many nodes, or expands too many aliases"
                .to_string(),
        ),
    }
}

/// Rewrites the YAML layer's Rust-flavoured wording into an author's terms, with help where
/// the rewrite knows a fix.
fn plain_words(message: &str) -> (String, Option<String>) {
    let message = match message.find("; use Option<") {
        Some(i) => message.get(..i).unwrap_or(message),
        None => message,
    };
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return (
            format!("`{key}` appears twice in the same map"),
            Some("each key may appear once; remove or rename one of them".to_string()),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let options = expected
            .trim_start_matches(", expected one of ")
            .trim_start_matches(", expected ");
        return (
            format!("unknown value `{value}`"),
            Some(format!("use one of: {options}")),
        );
    }
    let table: [(&str, &str, Option<&str>); 9] = [
        (
            "cannot deserialize null into string",
            "expected text here, found nothing",
            None,
        ),
        (
            "invalid floating point",
            "expected a number here",
            Some("write a number such as 0.25"),
        ),
        (
            "invalid f64",
            "expected a number here",
            Some("write a number such as 0.25"),
        ),
        (
            "invalid i32",
            "expected a whole number here",
            Some("write a whole number such as 10"),
        ),
        (
            "invalid u32",
            "expected a whole number of 0 or more here, up to 4294967295",
            None,
        ),
        (
            "expected mapping start",
            "expected a map of `key: value` entries here",
            None,
        ),
        (
            "expected sequence start",
            "expected a list here",
            Some("write a list as `- item` lines or `[a, b]`"),
        ),
        ("a span-aware newtype wrapper", "a value", None),
        ("invalid type: ", "wrong kind of value: ", None),
    ];
    let mut out = message.to_string();
    let mut help = None;
    for (from, to, hint) in table {
        if out.contains(from) {
            out = out.replace(from, to);
            help = help.or(hint.map(str::to_string));
        }
    }
    (out.replace("missing field", "missing key"), help)
}
