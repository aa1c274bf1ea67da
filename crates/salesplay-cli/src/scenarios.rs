//! `salesplay test`: run scenario files.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use salesplay::LoadOptions;
use salesplay::testing::{ScenarioResult, is_scenario_file, run_file};
use serde::Serialize;

use crate::style::{Paint, plural};
use crate::{ColorWhen, Console, Exit, OutputFormat, TestArgs, wants_colour};

/// The scenario files `paths` name, and the paths that name none (with why).
fn scenario_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(entries) => entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && is_scenario_file(p))
                    .collect(),
                Err(e) => {
                    problems.push((path.clone(), format!("cannot read the folder: {e}")));
                    continue;
                }
            };
            found.sort();
            if found.is_empty() {
                problems.push((
                    path.clone(),
                    "no scenario files (*.scenarios.yaml) in this folder".to_string(),
                ));
            }
            files.extend(found);
        } else if is_scenario_file(path) || !salesplay::is_playbook_file(path) {
            files.push(path.clone());
        } else {
            // A playbook: its scenarios are beside it, in `<stem>.scenarios.yaml`.
            let scenarios = scenarios_of(path);
            if scenarios.is_file() {
                files.push(scenarios);
            } else {
                problems.push((
                    path.clone(),
                    format!(
                        "no scenario file for this playbook (looked for `{}`)",
                        scenarios.display()
                    ),
                ));
            }
        }
    }
    (files, problems)
}

/// `x.yaml` → `x.scenarios.yaml`, beside it.
fn scenarios_of(playbook: &Path) -> PathBuf {
    let name = playbook.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "yaml"));
    playbook.with_file_name(format!("{stem}.scenarios.{ext}"))
}

/// The outcome of one scenario file.
struct FileOutcome {
    path: PathBuf,
    result: Result<Vec<ScenarioResult>, String>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    passed: usize,
    failed: usize,
    files: Vec<JsonFile<'a>>,
    /// Paths that named no scenario file.
    errors: Vec<JsonPathError<'a>>,
}

#[derive(Serialize)]
struct JsonPathError<'a> {
    path: String,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    file: String,
    error: Option<&'a str>,
    scenarios: Vec<JsonScenario<'a>>,
}

#[derive(Serialize)]
struct JsonScenario<'a> {
    name: &'a str,
    passed: bool,
    error: Option<&'a str>,
    mismatches: Vec<JsonMismatch<'a>>,
}

#[derive(Serialize)]
struct JsonMismatch<'a> {
    field: &'a str,
    expected: &'a str,
    actual: &'a str,
}

pub(crate) fn run(
    args: &TestArgs,
    color: ColorWhen,
    console: &mut Console<'_>,
) -> io::Result<Exit> {
    let (files, problems) = scenario_files(&args.paths);
    let paint_err = Paint {
        on: wants_colour(color, console, true),
    };
    let options = LoadOptions::default();
    let outcomes: Vec<FileOutcome> = files
        .into_iter()
        .map(|path| {
            let result = run_file(&path, &options);
            FileOutcome { path, result }
        })
        .collect();
    let passed: usize = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .map(|rs| rs.iter().filter(|r| r.passed()).count())
        .sum();
    let failed_scenarios: usize = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .map(|rs| rs.iter().filter(|r| !r.passed()).count())
        .sum();
    let broken_files = outcomes.iter().filter(|o| o.result.is_err()).count();
    // A file that cannot run counts as one failure, and so does a path naming no scenarios.
    let failed = failed_scenarios + broken_files + problems.len();

    for (path, problem) in &problems {
        writeln!(
            console.stderr,
            "{}: {}: {problem}",
            path.display(),
            paint_err.error("error")
        )?;
    }
    match args.format {
        OutputFormat::Json => {
            let report = JsonReport {
                passed,
                failed,
                files: outcomes.iter().map(json_file).collect(),
                errors: problems
                    .iter()
                    .map(|(path, message)| JsonPathError {
                        path: path.display().to_string(),
                        message,
                    })
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *console.stdout, &report)?;
            writeln!(console.stdout)?;
        }
        OutputFormat::Human => {
            let paint = Paint {
                on: wants_colour(color, console, false),
            };
            for outcome in &outcomes {
                write_file(console.stdout, outcome, paint)?;
            }
            let scenario_count = passed + failed_scenarios;
            let mut summary = format!(
                "{} in {}",
                plural(scenario_count, "scenario", "scenarios"),
                plural(outcomes.len(), "file", "files"),
            );
            if broken_files > 0 {
                summary.push_str(&format!(
                    "; {} could not run",
                    plural(broken_files, "file", "files")
                ));
            }
            if !problems.is_empty() {
                summary.push_str(&format!(
                    "; {} named no scenarios",
                    plural(problems.len(), "path", "paths")
                ));
            }
            writeln!(console.stdout, "{summary}")?;
            writeln!(console.stdout, "{passed} passed, {failed} failed")?;
        }
    }
    Ok(if failed > 0 {
        Exit::Failure
    } else {
        Exit::Success
    })
}

fn write_file(out: &mut dyn Write, outcome: &FileOutcome, paint: Paint) -> io::Result<()> {
    writeln!(out, "{}", outcome.path.display())?;
    match &outcome.result {
        Err(e) => {
            writeln!(
                out,
                "  {}: the scenario file could not run:",
                paint.error("error")
            )?;
            for line in e.lines() {
                writeln!(out, "    {line}")?;
            }
        }
        Ok(results) => {
            for r in results {
                if r.passed() {
                    writeln!(out, "  {}    {}", paint.ok("ok"), r.name)?;
                    continue;
                }
                writeln!(out, "  {}  {}", paint.error("FAIL"), r.name)?;
                if let Some(e) = &r.error {
                    writeln!(out, "        {e}")?;
                }
                for m in &r.mismatches {
                    writeln!(
                        out,
                        "        {:<15} expected {}",
                        format!("{}:", m.field),
                        m.expected
                    )?;
                    writeln!(out, "        {:<15}      got {}", "", m.actual)?;
                }
            }
        }
    }
    Ok(())
}

fn json_file(outcome: &FileOutcome) -> JsonFile<'_> {
    match &outcome.result {
        Err(e) => JsonFile {
            file: outcome.path.display().to_string(),
            error: Some(e),
            scenarios: Vec::new(),
        },
        Ok(results) => JsonFile {
            file: outcome.path.display().to_string(),
            error: None,
            scenarios: results
                .iter()
                .map(|r| JsonScenario {
                    name: &r.name,
                    passed: r.passed(),
                    error: r.error.as_deref(),
                    mismatches: r
                        .mismatches
                        .iter()
                        .map(|m| JsonMismatch {
                            field: m.field,
                            expected: &m.expected,
                            actual: &m.actual,
                        })
                        .collect(),
                })
                .collect(),
        },
    }
}
