//! `salesplay eval`: assess one account.

use std::io::{self, Write};
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use salesplay::{Assessment, CriterionStatus, Playbook};
use serde::Serialize;

use crate::check::{self, write_human};
use crate::input::{FactsProblem, read_facts};
use crate::style::Paint;
use crate::{ColorWhen, Console, EvalArgs, Exit, OutputFormat, wants_colour};

/// A JSON output (an assessment, a funnel report) with the time it was made at.
#[derive(Serialize)]
struct AsOf<'a, T> {
    #[serde(flatten)]
    output: &'a T,
    now: String,
}

/// Writes `output` as pretty JSON with a `"now"` member, and a line break.
pub(crate) fn write_json_as_of<T: Serialize>(
    out: &mut dyn Write,
    output: &T,
    now: DateTime<Utc>,
) -> io::Result<()> {
    let as_of = AsOf {
        output,
        now: now.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    };
    serde_json::to_writer_pretty(&mut *out, &as_of)?;
    writeln!(out)
}

/// Loads a playbook for a command that uses it; on errors, prints them to stderr.
pub(crate) fn load_or_report(
    path: &Path,
    color: ColorWhen,
    console: &mut Console<'_>,
) -> io::Result<Option<Playbook>> {
    let (checked, playbook) = check::load(path);
    if playbook.is_none() {
        let paint = Paint {
            on: wants_colour(color, console, true),
        };
        write_human(console.stderr, &checked, paint)?;
    }
    Ok(playbook)
}

/// Prints facts problems to stderr as `FILE[:LINE:COL]: error: MESSAGE`.
pub(crate) fn report_facts_problems(
    out: &mut dyn Write,
    file: &Path,
    problems: &[FactsProblem],
    paint: Paint,
) -> io::Result<()> {
    for p in problems {
        let at = match p.location {
            Some((line, column)) => format!("{}:{line}:{column}", file.display()),
            None => file.display().to_string(),
        };
        writeln!(out, "{at}: {}: {}", paint.error("error"), p.message)?;
        if let Some(help) = &p.help {
            writeln!(out, "  = help: {help}")?;
        }
    }
    Ok(())
}

pub(crate) fn run(
    args: &EvalArgs,
    color: ColorWhen,
    console: &mut Console<'_>,
) -> io::Result<Exit> {
    let Some(playbook) = load_or_report(&args.playbook, color, console)? else {
        return Ok(Exit::Failure);
    };
    let facts = match read_facts(&playbook, &args.facts, console.stdin) {
        Ok(facts) => facts,
        Err(problems) => {
            let paint = Paint {
                on: wants_colour(color, console, true),
            };
            report_facts_problems(console.stderr, &args.facts, &problems, paint)?;
            return Ok(Exit::Failure);
        }
    };
    let now = args.now.unwrap_or_else(|| console.now());
    let assessment = playbook.assess_since(&facts, now, args.entered_at);
    match args.format {
        OutputFormat::Json => write_json_as_of(console.stdout, &assessment, now)?,
        OutputFormat::Human => {
            write_assessment(console.stdout, &playbook, &assessment, now, &args.lang)?;
        }
    }
    Ok(Exit::Success)
}

/// The status of criterion `id` anywhere in the assessment.
fn status_of<'a>(assessment: &'a Assessment, id: &str) -> Option<&'a CriterionStatus> {
    assessment
        .stages
        .iter()
        .flat_map(|s| s.entry.iter().chain(&s.exit))
        .find(|c| c.id == id)
}

fn stage_name(playbook: &Playbook, id: &str, lang: &str) -> String {
    match playbook.stage(id) {
        Some(stage) => format!("{} ({id})", stage.name().get(lang)),
        None => id.to_string(),
    }
}

/// Writes the assessment for people.
fn write_assessment(
    out: &mut dyn Write,
    playbook: &Playbook,
    a: &Assessment,
    now: DateTime<Utc>,
    lang: &str,
) -> io::Result<()> {
    writeln!(
        out,
        "playbook:  {} ({} v{})",
        playbook.name().get(lang),
        a.playbook,
        a.version
    )?;
    writeln!(
        out,
        "as of:     {}",
        now.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    )?;
    match &a.stage {
        Some(id) => writeln!(out, "stage:     {}", stage_name(playbook, id, lang))?,
        None => writeln!(
            out,
            "stage:     none (the entry criteria of the first stage are not all met)"
        )?,
    }
    if !a.path.is_empty() {
        let names: Vec<&str> = a
            .path
            .iter()
            .map(|id| {
                playbook
                    .stage(id)
                    .map_or(id.as_str(), |s| s.name().get(lang))
            })
            .collect();
        writeln!(out, "path:      {}", names.join(" → "))?;
    }
    if let Some(days) = a.days_in_stage {
        let max = a
            .stage
            .as_deref()
            .and_then(|id| playbook.stage(id))
            .and_then(|s| s.max_days());
        let limit = max.map_or(String::new(), |m| format!(" (max {m})"));
        let stalled = if a.stalled { ": stalled" } else { "" };
        writeln!(out, "in stage:  {days} days{limit}{stalled}")?;
    }

    writeln!(out)?;
    if a.blocked_by.is_empty() {
        writeln!(out, "blocked by: nothing")?;
    } else {
        writeln!(out, "blocked by:")?;
        for id in &a.blocked_by {
            let criterion = playbook
                .stages()
                .iter()
                .flat_map(|s| s.entry().iter().chain(s.exit()))
                .find(|c| c.id() == id);
            let label = criterion.map_or(id.as_str(), |c| c.label().get(lang));
            let status = status_of(a, id);
            let word = status.map_or("unmet", |s| s.status);
            writeln!(out, "  ✗ {label} ({id}): {word}")?;
            if let Some(c) = criterion {
                writeln!(out, "      when: {}", one_line(c.source()))?;
            }
            for reason in status.map(|s| s.reasons.as_slice()).unwrap_or_default() {
                writeln!(out, "      - {reason}")?;
            }
        }
    }
    if a.missing_facts.is_empty() {
        writeln!(out, "missing facts: none")?;
    } else {
        writeln!(out, "missing facts:")?;
        for path in &a.missing_facts {
            match playbook.fact_label(path) {
                Some(label) => writeln!(out, "  ? {} ({path})", label.get(lang))?,
                None => writeln!(out, "  ? {path}")?,
            }
        }
    }
    let stage = a.stage.as_deref().and_then(|id| playbook.stage(id));
    let activities = stage.map(|s| s.activities()).unwrap_or_default();
    if activities.is_empty() {
        writeln!(out, "activities: none")?;
    } else {
        writeln!(out, "activities:")?;
        for activity in activities {
            writeln!(
                out,
                "  - {} ({})",
                activity.label().get(lang),
                activity.id()
            )?;
        }
    }
    if a.plays.is_empty() {
        writeln!(out, "plays: none")?;
    } else {
        writeln!(out, "plays:")?;
        for m in &a.plays {
            let label = playbook
                .plays()
                .iter()
                .find(|p| p.id() == m.id)
                .map_or(m.id.as_str(), |p| p.label().get(lang));
            writeln!(out, "  [{}] {label} ({})", m.priority, m.id)?;
        }
    }
    Ok(())
}

/// A criterion on one line: folded blocks keep their line breaks in the source.
fn one_line(source: &str) -> String {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
