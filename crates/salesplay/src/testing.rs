//! Scenario tests for playbooks, for authors and for teams that embed the library.
//!
//! A scenario file (`<playbook>.scenarios.yaml`, beside the playbook) lists accounts with the
//! assessment each should get:
//!
//! ```yaml
//! playbook: key_account_six_steps.yaml   # optional: defaults to the file's stem + .yaml
//! now: 2026-11-22T09:00:00Z              # default evaluation time of every scenario
//! scenarios:
//!   - name: trust built, needs not yet written down
//!     facts: { relationship: { level: dating }, requirements: { written: false } }
//!     entered_at: 2026-09-01T00:00:00Z   # optional: when the account entered its stage
//!     expect:
//!       stage: discover_needs            # a stage id, or null for "in no stage"
//!       blocked_by: [requirements_written]
//!       missing_facts: [buying_phase]
//!       plays: [find_decision_maker]     # play ids, in priority order
//! ```
//!
//! Only the expectations written are checked; each list is compared exactly, in order.
//! [`check_folder`] validates every playbook in a folder (errors *and* warnings fail) and runs
//! every scenario file; [`assert_folder`] does the same and panics with a readable report, so
//! one line in a test is enough:
//!
//! ```
//! // In your crate's tests/playbooks.rs:
//! # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../playbooks");
//! salesplay::testing::assert_folder(dir);
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::load::{LoadOptions, is_playbook_file};
use crate::playbook::Playbook;

/// A scenario file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// The playbook, relative to the scenario file.
    pub playbook: Option<String>,
    /// Default evaluation time (RFC 3339).
    pub now: Option<String>,
    /// The scenarios.
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
}

/// One account and the assessment it should get.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What the scenario shows, in a few words.
    pub name: String,
    /// Where it comes from or why it matters.
    pub description: Option<String>,
    /// Evaluation time (RFC 3339); overrides the file's `now`.
    pub now: Option<String>,
    /// When the account entered its current stage (RFC 3339), for stall checks.
    pub entered_at: Option<String>,
    /// The account's facts.
    #[serde(default)]
    pub facts: serde_json::Value,
    /// The expected assessment.
    pub expect: Expect,
}

/// Expectations: each one written is checked exactly.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The derived stage; `null` for none. Absent: not checked.
    #[serde(default, deserialize_with = "present")]
    pub stage: Option<Option<String>>,
    /// The stages the walk passes through.
    pub path: Option<Vec<String>>,
    /// Criterion ids blocking the account.
    pub blocked_by: Option<Vec<String>>,
    /// Missing fact paths.
    pub missing_facts: Option<Vec<String>>,
    /// Play ids, in priority order.
    pub plays: Option<Vec<String>>,
    /// The stage's activities.
    pub activities: Option<Vec<String>>,
    /// Whether the account is stalled.
    pub stalled: Option<bool>,
}

/// Distinguishes `stage: null` (expect no stage) from an absent key (do not check).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Which field: `stage`, `blocked_by`, ...
    pub field: &'static str,
    /// What the scenario expects, as written.
    pub expected: String,
    /// What the engine gave.
    pub actual: String,
}

/// The result of one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// Mismatches; empty when it passed.
    pub mismatches: Vec<Mismatch>,
    /// A problem that kept the scenario from running (bad facts, bad time).
    pub error: Option<String>,
}

impl ScenarioResult {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.error.is_none()
    }
}

/// Everything checked in a folder: playbook diagnostics and scenario results, per file.
#[derive(Debug, Default)]
pub struct FolderReport {
    /// Playbook files whose load failed or warned, with the rendered diagnostics.
    pub playbook_problems: Vec<(PathBuf, String)>,
    /// Scenario files that could not be read, with why.
    pub file_errors: Vec<(PathBuf, String)>,
    /// Each scenario file's results.
    pub scenarios: Vec<(PathBuf, Vec<ScenarioResult>)>,
    /// Number of playbooks checked.
    pub playbooks: usize,
}

impl FolderReport {
    /// Whether everything passed: no playbook errors or warnings, no failing scenario.
    pub fn passed(&self) -> bool {
        self.playbook_problems.is_empty()
            && self.file_errors.is_empty()
            && self
                .scenarios
                .iter()
                .all(|(_, rs)| rs.iter().all(ScenarioResult::passed))
    }

    /// Number of scenarios run and number that passed.
    pub fn counts(&self) -> (usize, usize) {
        let all = self.scenarios.iter().map(|(_, rs)| rs.len()).sum();
        let ok = self
            .scenarios
            .iter()
            .map(|(_, rs)| rs.iter().filter(|r| r.passed()).count())
            .sum();
        (all, ok)
    }
}

impl fmt::Display for FolderReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (_, rendered) in &self.playbook_problems {
            f.write_str(rendered)?;
        }
        for (path, error) in &self.file_errors {
            writeln!(f, "{}: {error}", path.display())?;
        }
        for (path, results) in &self.scenarios {
            for r in results.iter().filter(|r| !r.passed()) {
                writeln!(f, "{}: scenario `{}` failed", path.display(), r.name)?;
                if let Some(e) = &r.error {
                    writeln!(f, "    {e}")?;
                }
                for m in &r.mismatches {
                    writeln!(
                        f,
                        "    {:<14} expected {}",
                        format!("{}:", m.field),
                        m.expected
                    )?;
                    writeln!(f, "    {:<14}      got {}", "", m.actual)?;
                }
            }
        }
        let (all, ok) = self.counts();
        write!(
            f,
            "{} playbooks, {} with problems; {all} scenarios, {ok} passed, {} failed",
            self.playbooks,
            self.playbook_problems.len(),
            all - ok
        )
    }
}

fn parse_time(text: &str, what: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{what} `{text}` is not an RFC 3339 timestamp with a zone: {e}"))
}

fn show_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn show_stage(stage: Option<&str>) -> String {
    stage.map_or_else(|| "no stage (null)".to_string(), |s| format!("`{s}`"))
}

/// A list-valued expectation: its field name, what the scenario expects, what the engine gave.
type ListCheck<'e> = (&'static str, &'e Option<Vec<String>>, Vec<String>);

/// Runs one scenario against a playbook.
pub fn run_scenario(
    playbook: &Playbook,
    scenario: &Scenario,
    default_now: Option<&str>,
) -> ScenarioResult {
    let mut result = ScenarioResult {
        name: scenario.name.clone(),
        mismatches: Vec::new(),
        error: None,
    };
    let now = match scenario.now.as_deref().or(default_now) {
        Some(text) => parse_time(text, "now"),
        None => Err("the scenario has no `now` (set it on the scenario or the file)".to_string()),
    };
    let entered_at = scenario
        .entered_at
        .as_deref()
        .map(|t| parse_time(t, "entered_at"))
        .transpose();
    let facts = if scenario.facts.is_null() {
        playbook.facts_from_json(&serde_json::json!({}))
    } else {
        playbook.facts_from_json(&scenario.facts)
    };
    let (now, entered_at, facts) = match (now, entered_at, facts) {
        (Ok(n), Ok(e), Ok(f)) => (n, e, f),
        (Err(e), _, _) | (_, Err(e), _) => {
            result.error = Some(e);
            return result;
        }
        (_, _, Err(e)) => {
            result.error = Some(format!("bad facts: {e}"));
            return result;
        }
    };
    let a = playbook.assess_since(&facts, now, entered_at);
    let expect = &scenario.expect;
    let mut check = |field: &'static str, expected: String, actual: String| {
        if expected != actual {
            result.mismatches.push(Mismatch {
                field,
                expected,
                actual,
            });
        }
    };
    if let Some(stage) = &expect.stage {
        check(
            "stage",
            show_stage(stage.as_deref()),
            show_stage(a.stage.as_deref()),
        );
    }
    let lists: [ListCheck<'_>; 5] = [
        ("path", &expect.path, a.path.clone()),
        ("blocked_by", &expect.blocked_by, a.blocked_by.clone()),
        (
            "missing_facts",
            &expect.missing_facts,
            a.missing_facts.clone(),
        ),
        (
            "plays",
            &expect.plays,
            a.plays.iter().map(|p| p.id.clone()).collect(),
        ),
        ("activities", &expect.activities, a.activities.clone()),
    ];
    for (field, expected, actual) in lists {
        if let Some(expected) = expected {
            check(field, show_list(expected), show_list(&actual));
        }
    }
    if let Some(stalled) = expect.stalled {
        check("stalled", stalled.to_string(), a.stalled.to_string());
    }
    result
}

/// Reads a scenario file and runs it against its playbook (loaded from beside it).
pub fn run_file(path: &Path, options: &LoadOptions) -> Result<Vec<ScenarioResult>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let file: ScenarioFile = serde_saphyr::from_str(&text).map_err(|e| {
        let location = e
            .location()
            .map(|l| format!("{}:{}: ", l.line(), l.column()))
            .unwrap_or_default();
        let message = e.without_snippet().to_string();
        let message = message
            .rfind(" at line ")
            .map_or(message.as_str(), |i| message.get(..i).unwrap_or(""))
            .to_string();
        format!("{location}{message}")
    })?;
    let playbook_path = playbook_for(path, file.playbook.as_deref());
    let loaded = Playbook::load_path(&playbook_path, options).map_err(|e| e.to_string())?;
    Ok(file
        .scenarios
        .iter()
        .map(|s| run_scenario(&loaded.playbook, s, file.now.as_deref()))
        .collect())
}

/// The playbook a scenario file tests: its `playbook:` key, or `<stem>.yaml` beside it.
pub fn playbook_for(scenario_path: &Path, declared: Option<&str>) -> PathBuf {
    let dir = scenario_path.parent().unwrap_or(Path::new("."));
    match declared {
        Some(p) => dir.join(p),
        None => {
            let name = scenario_path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("");
            let stem = name
                .strip_suffix(".scenarios.yaml")
                .or_else(|| name.strip_suffix(".scenarios.yml"))
                .unwrap_or(name);
            dir.join(format!("{stem}.yaml"))
        }
    }
}

/// Whether `path` names a scenario file (`*.scenarios.yaml`).
pub fn is_scenario_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".scenarios.yaml") || name.ends_with(".scenarios.yml")
}

/// Validates every playbook in `dir` and runs every scenario file there.
pub fn check_folder(dir: impl AsRef<Path>) -> FolderReport {
    let dir = dir.as_ref();
    let options = LoadOptions::default();
    let mut report = FolderReport::default();
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            report
                .file_errors
                .push((dir.to_path_buf(), format!("cannot read the folder: {e}")));
            return report;
        }
    };
    paths.sort();
    for path in &paths {
        if is_playbook_file(path) {
            report.playbooks += 1;
            let source = std::fs::read_to_string(path).unwrap_or_default();
            let origin = path.display().to_string();
            match Playbook::load_path(path, &options) {
                Ok(loaded) if loaded.warnings.is_empty() => {}
                Ok(loaded) => {
                    let rendered = loaded
                        .warnings
                        .iter()
                        .map(|w| w.render(&origin, &source))
                        .collect();
                    report.playbook_problems.push((path.clone(), rendered));
                }
                Err(e) => report.playbook_problems.push((path.clone(), e.to_string())),
            }
        } else if is_scenario_file(path) {
            match run_file(path, &options) {
                Ok(results) => report.scenarios.push((path.clone(), results)),
                Err(e) => report.file_errors.push((path.clone(), e)),
            }
        }
    }
    report
}

/// [`check_folder`], panicking with the readable report when anything fails: the one line an
/// embedding team puts in its own `cargo test`.
#[expect(
    clippy::panic,
    reason = "a test assertion reports failure by panicking"
)]
pub fn assert_folder(dir: impl AsRef<Path>) {
    let report = check_folder(dir);
    if !report.passed() {
        panic!("playbook checks failed:\n{report}");
    }
}
