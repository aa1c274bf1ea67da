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

/// A playbook that did not load: every error and warning found, with the source to render
/// them against.
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
                max_aliases: limits.max_yaml_aliases,
                max_anchors: limits.max_yaml_aliases,
                max_documents: 1,
                max_total_scalar_bytes: limits.max_document_bytes,
            },
        };
        let raw: RawPlaybook = match serde_saphyr::from_str_with_options(text, yaml_options) {
            Ok(raw) => raw,
            Err(e) => return Err(fail(vec![yaml_error(&e, source, bom)])),
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

/// Rewrites the YAML layer's Rust-flavoured wording into an author's terms.
fn plain_words(message: &str) -> String {
    let mut out = match message.find("; use Option<") {
        Some(i) => message.get(..i).unwrap_or(message).to_string(),
        None => message.to_string(),
    };
    for (from, to) in [
        (
            "cannot deserialize null into string",
            "expected text here, found nothing",
        ),
        ("invalid type: ", "wrong kind of value: "),
        ("missing field", "missing key"),
        ("a span-aware newtype wrapper", "a value"),
        ("invalid u32", "expected a whole number of 0 or more"),
        ("invalid f64", "expected a number"),
    ] {
        out = out.replace(from, to);
    }
    out
}

fn shift(mut d: Diagnostic, by: usize, source: &str) -> Diagnostic {
    d.start += by;
    d.end += by;
    let (line, column) = salesplay_expr::line_col(source, d.start);
    d.line = line;
    d.column = column;
    d
}

/// Turns a YAML or shape error into a diagnostic, with "did you mean" for unknown keys.
fn yaml_error(error: &serde_saphyr::Error, source: &str, bom: usize) -> Diagnostic {
    let full = error.without_snippet().to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full.get(..i).unwrap_or(&full).to_string(),
        None => full.clone(),
    };
    let message = message
        .strip_prefix("error: ")
        .map(str::to_string)
        .unwrap_or(message);
    let message = plain_words(&message);
    let start = error
        .location()
        .and_then(|l| l.span().byte_offset())
        .and_then(|o| usize::try_from(o).ok())
        .map_or(0, |o| o + bom);
    let sink = Sink::new(source);
    let (code, message, help) = if let Some(rest) = message.strip_prefix("unknown field `") {
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
            None => format!("the keys allowed here are: {}", options.join(", ")),
        };
        ("E1002", format!("unknown key `{key}`"), Some(help))
    } else if message.contains("budget") {
        (
            "E1003",
            format!("the YAML is over a size limit: {message}"),
            Some("the file nests too deeply, has too many nodes, or expands too many aliases; raise the limits in `Limits` if this is intended".to_string()),
        )
    } else {
        ("E1001", message, None)
    };
    let key_len = if code == "E1002" {
        source.get(start..).map_or(0, |s| s.find(':').unwrap_or(0))
    } else {
        0
    };
    let mut diagnostic = sink.make(Severity::Error, code, (start, start + key_len), message);
    diagnostic.help = help;
    diagnostic
}
