//! `salesplay check`: load and validate playbooks, report every diagnostic.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use salesplay::{Diagnostic, LoadOptions, Playbook, Severity, is_playbook_file};
use serde::Serialize;

use crate::style::{Paint, plural};
use crate::{CheckArgs, ColorWhen, Console, Exit, OutputFormat, wants_colour};

/// The diagnostics of one playbook file, with the text they point into.
pub(crate) struct Checked {
    pub(crate) origin: String,
    pub(crate) source: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// One diagnostic as `--format json` prints it.
#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: &'static str,
    code: &'static str,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    label: Option<&'a str>,
    help: Option<&'a str>,
}

/// The playbook files `paths` name: files as given, folders' playbooks (not recursing),
/// sorted within each folder. Folders without playbooks are returned apart.
pub(crate) fn playbook_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut files = Vec::new();
    let mut empty = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_file() && is_playbook_file(p))
                        .collect()
                })
                .unwrap_or_default();
            found.sort();
            if found.is_empty() {
                empty.push(path.clone());
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    (files, empty)
}

/// Loads one playbook file, keeping its text for rendering.
pub(crate) fn load(path: &Path) -> (Checked, Option<Playbook>) {
    let origin = path.display().to_string();
    let options = LoadOptions::default();
    let too_big = std::fs::metadata(path)
        .map(|m| m.len() > u64::try_from(options.limits.max_document_bytes).unwrap_or(u64::MAX))
        .unwrap_or(true);
    let bytes = if too_big {
        None
    } else {
        std::fs::read(path).ok()
    };
    let result = match &bytes {
        Some(bytes) => Playbook::load_reader(bytes.as_slice(), &origin, &options),
        // Unreadable or over the limit: the loader words the error.
        None => Playbook::load_path(path, &options),
    };
    match result {
        Ok(loaded) => {
            let source = bytes
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            (
                Checked {
                    origin,
                    source,
                    diagnostics: loaded.warnings,
                },
                Some(loaded.playbook),
            )
        }
        Err(e) => (
            Checked {
                origin,
                source: e.source_text,
                diagnostics: e.diagnostics,
            },
            None,
        ),
    }
}

/// Writes the diagnostics of `checked` rustc-style.
pub(crate) fn write_human(out: &mut dyn Write, checked: &Checked, paint: Paint) -> io::Result<()> {
    for d in &checked.diagnostics {
        let mut rendered = d.render(&checked.origin, &checked.source);
        if checked.source.is_empty() {
            // Nothing to point into (the file could not be read): the header and the help.
            rendered = rendered
                .split_inclusive('\n')
                .enumerate()
                .filter(|(i, line)| *i == 0 || line.trim_start().starts_with("= "))
                .map(|(_, line)| line)
                .collect();
        }
        out.write_all(
            paint
                .diagnostic(&rendered, &checked.origin, d.severity)
                .as_bytes(),
        )?;
        writeln!(out)?;
    }
    Ok(())
}

pub(crate) fn run(
    args: &CheckArgs,
    color: ColorWhen,
    console: &mut Console<'_>,
) -> io::Result<Exit> {
    let (files, empty) = playbook_files(&args.paths);
    let paint_err = Paint {
        on: wants_colour(color, console, true),
    };
    for dir in &empty {
        writeln!(
            console.stderr,
            "{}: {}: no playbook files (*.yaml, *.yml) in this folder",
            dir.display(),
            paint_err.warning("warning")
        )?;
    }
    if files.is_empty() {
        writeln!(
            console.stderr,
            "{}: no playbooks to check",
            paint_err.error("error")
        )?;
        if args.format == OutputFormat::Json {
            writeln!(console.stdout, "[]")?;
        }
        return Ok(Exit::Failure);
    }
    let checked: Vec<Checked> = files.iter().map(|f| load(f).0).collect();
    let count = |severity| {
        checked
            .iter()
            .flat_map(|c| &c.diagnostics)
            .filter(|d| d.severity == severity)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    match args.format {
        OutputFormat::Json => {
            let all: Vec<JsonDiagnostic<'_>> = checked
                .iter()
                .flat_map(|c| c.diagnostics.iter().map(move |d| json(c, d)))
                .collect();
            serde_json::to_writer_pretty(&mut *console.stdout, &all)?;
            writeln!(console.stdout)?;
        }
        OutputFormat::Human => {
            let paint = Paint {
                on: wants_colour(color, console, false),
            };
            for c in &checked {
                write_human(console.stdout, c, paint)?;
            }
            writeln!(
                console.stderr,
                "checked {}: {}, {}",
                plural(checked.len(), "playbook", "playbooks"),
                plural(errors, "error", "errors"),
                plural(warnings, "warning", "warnings"),
            )?;
        }
    }
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(if failed { Exit::Failure } else { Exit::Success })
}

fn json<'a>(checked: &'a Checked, d: &'a Diagnostic) -> JsonDiagnostic<'a> {
    let (end_line, end_column) = if checked.source.is_empty() {
        (d.line, d.column)
    } else {
        salesplay::expr::line_col(&checked.source, d.end)
    };
    JsonDiagnostic {
        severity: d.severity.as_str(),
        code: d.code,
        message: &d.message,
        file: &checked.origin,
        line: d.line,
        column: d.column,
        end_line,
        end_column,
        label: d.label.as_deref(),
        help: d.help.as_deref(),
    }
}
