//! The `salesplay` binary as a user runs it: every subcommand, exit code and output format,
//! good and bad inputs. Commands run from the workspace root with relative paths, so the
//! snapshots (in `tests/snapshots/`) show what an author sees.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use assert_cmd::cargo::cargo_bin_cmd;
use insta::assert_snapshot;
use serde_json::Value;

const DATA: &str = "crates/salesplay-cli/tests/data";
const NOW: &str = "--now=2026-03-01T00:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    /// Exit code, stdout and stderr in one text, for a snapshot.
    fn all(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

fn salesplay_with_stdin(args: &[&str], stdin: &str) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.replace("$DATA", DATA)).collect();
    let output = cargo_bin_cmd!("salesplay")
        .current_dir(root())
        .env_remove("NO_COLOR")
        .args(&args)
        .write_stdin(stdin)
        .output()
        .expect("the binary runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

fn salesplay(args: &[&str]) -> Output {
    salesplay_with_stdin(args, "")
}

// ---------------------------------------------------------------------------------- check

#[test]
fn check_a_valid_playbook() {
    let out = salesplay(&["check", "playbooks/key_account_six_steps.yaml"]);
    assert_snapshot!(out.all());
}

#[test]
fn check_the_shipped_playbooks_folder() {
    let out = salesplay(&["check", "playbooks"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains(" 0 errors"), "{}", out.stderr);
}

#[test]
fn check_reports_every_error_like_rustc() {
    let out = salesplay(&["check", "$DATA/broken/errors.yaml"]);
    assert_eq!(out.code, 1);
    assert_snapshot!(out.all());
}

#[test]
fn check_json_is_one_array_of_diagnostics() {
    let out = salesplay(&[
        "check",
        "--format",
        "json",
        "$DATA/broken/errors.yaml",
        "$DATA/warn",
    ]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "", "JSON mode prints no summary");
    let json = out.json();
    let all = json.as_array().expect("an array");
    assert_eq!(all.len(), 4);
    for d in all {
        for key in ["severity", "code", "message", "file", "line", "column"] {
            assert!(d.get(key).is_some(), "`{key}` missing in {d}");
        }
        assert!(matches!(d["severity"].as_str(), Some("error" | "warning")));
        assert!(d["line"].as_u64().is_some_and(|l| l >= 1));
        assert!(d["column"].as_u64().is_some_and(|c| c >= 1));
    }
    assert_snapshot!(out.stdout);
}

#[test]
fn check_folders_do_not_recurse_and_warnings_pass() {
    let out = salesplay(&["check", "$DATA/warn", "$DATA"]);
    // `$DATA` holds only deal.yaml directly; broken/ and warn/ are not searched from it.
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn check_deny_warnings_fails_on_warnings() {
    let out = salesplay(&["check", "--deny-warnings", "$DATA/warn"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("0 errors, 1 warning"), "{}", out.stderr);
}

#[test]
fn check_a_missing_file() {
    let out = salesplay(&["check", "$DATA/nowhere.yaml"]);
    assert_eq!(out.code, 1);
    assert_snapshot!(out.all());
}

#[test]
fn check_a_folder_without_playbooks() {
    let out = salesplay(&["check", "$DATA/accounts"]);
    assert_eq!(out.code, 1);
    assert_snapshot!(out.all());
}

#[test]
fn check_colours_the_severity_and_the_underline_when_asked() {
    let out = salesplay(&["check", "--color", "always", "$DATA/warn"]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all().replace('\x1b', "␛"));
}

#[test]
fn check_is_plain_when_piped() {
    let out = salesplay(&["check", "$DATA/broken"]);
    assert!(!out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'));
}

// ----------------------------------------------------------------------------------- eval

#[test]
fn eval_human() {
    let out = salesplay(&[
        "eval",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/facts/ok.json",
        NOW,
    ]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn eval_human_in_chinese() {
    let out = salesplay(&[
        "eval",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/facts/ok.json",
        NOW,
        "--lang",
        "zh",
    ]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn eval_json() {
    let out = salesplay(&[
        "eval",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/facts/ok.json",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn eval_json_follows_the_contract_on_the_shipped_playbook() {
    let out = salesplay(&[
        "eval",
        "playbooks/key_account_six_steps.yaml",
        "--facts",
        "examples/facts.json",
        "--now",
        "2026-11-22T09:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    let a = out.json();
    assert_eq!(a["playbook"], "key_account_six_steps");
    assert!(a["stage"].is_string() || a["stage"].is_null());
    for list in ["blocked_by", "missing_facts", "plays"] {
        assert!(a[list].is_array(), "`{list}` is a list");
    }
    for id in a["blocked_by"].as_array().into_iter().flatten() {
        assert!(id.is_string());
    }
    let stages = a["stages"].as_array().expect("stages");
    assert!(!stages.is_empty());
    for stage in stages {
        assert!(stage["id"].is_string());
        for side in ["entry", "exit"] {
            for c in stage[side].as_array().expect("criteria") {
                assert!(c["id"].is_string());
                assert!(matches!(
                    c["status"].as_str(),
                    Some("met" | "unmet" | "unknown" | "error")
                ));
            }
        }
    }
    for play in a["plays"].as_array().expect("plays") {
        assert!(play["id"].is_string());
    }
}

#[test]
fn eval_reads_yaml_and_unknown_extensions_like_json() {
    let json = salesplay(&[
        "eval",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/facts/ok.json",
        NOW,
    ]);
    let yaml = salesplay(&[
        "eval",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/facts/ok.yaml",
        NOW,
    ]);
    let other = salesplay(&[
        "eval",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/facts/ok.facts",
        NOW,
    ]);
    assert_eq!((yaml.code, other.code), (0, 0));
    assert_eq!(json.stdout, yaml.stdout);
    assert_eq!(json.stdout, other.stdout);
}

#[test]
fn eval_reads_facts_from_stdin() {
    let out = salesplay_with_stdin(
        &[
            "eval",
            "$DATA/deal.yaml",
            "--facts",
            "-",
            NOW,
            "--format",
            "json",
        ],
        r#"{"account": {"target_locked": true}, "deal": {"lost": true}}"#,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["stage"], "lost");
}

#[test]
fn eval_knows_time_in_stage_and_stalled_plays() {
    let out = salesplay(&[
        "eval",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/facts/ok.json",
        NOW,
        "--entered-at",
        "2025-12-01T00:00:00Z",
    ]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn eval_without_now_uses_the_current_time() {
    let out = salesplay(&[
        "eval",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/facts/ok.json",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0);
    let now = out.json()["now"].as_str().map(str::to_string).expect("now");
    let now = chrono::DateTime::parse_from_rfc3339(&now).expect("RFC 3339");
    let age = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
        .signed_duration_since(now);
    assert!(age.num_seconds().abs() < 600, "{now}");
}

#[test]
fn eval_facts_of_the_wrong_type() {
    let out = salesplay(&[
        "eval",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/facts/wrong_types.json",
        NOW,
    ]);
    assert_eq!(out.code, 1);
    assert_snapshot!(out.all());
}

#[test]
fn eval_malformed_facts() {
    let mut all = String::new();
    for file in [
        "malformed.json",
        "malformed.yaml",
        "list.json",
        "missing.json",
    ] {
        let out = salesplay(&[
            "eval",
            "$DATA/deal.yaml",
            "--facts",
            &format!("$DATA/facts/{file}"),
            NOW,
        ]);
        assert_eq!(out.code, 1, "{file}");
        all.push_str(&format!("=== {file}\n{}", out.all()));
    }
    assert_snapshot!(all);
}

#[test]
fn eval_an_invalid_playbook() {
    let out = salesplay(&[
        "eval",
        "$DATA/broken/errors.yaml",
        "--facts",
        "$DATA/facts/ok.json",
        NOW,
    ]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("error[E1020]: unknown stage `propsal`"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------- usage

#[test]
fn usage_errors_exit_2() {
    let mut all = String::new();
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["check"],
        vec!["eval", "$DATA/deal.yaml"],
        vec![
            "eval",
            "$DATA/deal.yaml",
            "--facts",
            "$DATA/facts/ok.json",
            "--now",
            "yesterday",
        ],
        vec!["graph", "$DATA/deal.yaml", "--format", "svg"],
        vec![
            "report",
            "$DATA/deal.yaml",
            "--facts",
            "x",
            "--input-format",
            "xml",
        ],
        vec!["check", "--format", "yaml", "playbooks"],
    ] {
        let out = salesplay(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert_eq!(out.stdout, "", "{args:?}");
        all.push_str(&format!("=== {}\n{}", args.join(" "), out.stderr));
    }
    assert_snapshot!(all);
}

#[test]
fn help_and_version_exit_0() {
    for args in [["--help"], ["--version"]] {
        let out = salesplay(&args);
        assert_eq!(out.code, 0);
        assert!(!out.stdout.is_empty());
    }
}

// ----------------------------------------------------------------------------------- test

#[test]
fn scenarios_a_folder_of_passing_scenarios() {
    let out = salesplay(&["test", "$DATA"]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn scenarios_a_playbook_runs_its_scenarios() {
    let out = salesplay(&["test", "$DATA/deal.yaml"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.ends_with("\n4 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn scenarios_failures_show_expected_and_actual() {
    let out = salesplay(&["test", "$DATA/failing/deal.scenarios.yaml"]);
    assert_eq!(out.code, 1);
    assert_snapshot!(out.all());
}

#[test]
fn scenarios_json() {
    let out = salesplay(&["test", "--format", "json", "$DATA/failing"]);
    assert_eq!(out.code, 1);
    assert_snapshot!(out.all());
}

#[test]
fn scenarios_paths_without_scenarios_fail() {
    let out = salesplay(&[
        "test",
        "$DATA/broken",
        "$DATA/warn/unused_fact.yaml",
        "$DATA/nowhere.scenarios.yaml",
    ]);
    assert_eq!(out.code, 1);
    assert_snapshot!(out.all());
}

#[test]
fn scenarios_the_shipped_playbooks_ends_with_the_counts() {
    let out = salesplay(&["test", "playbooks"]);
    let last = out.stdout.lines().last().unwrap_or("");
    let (passed, failed) = last.split_once(" passed, ").expect("`N passed, M failed`");
    assert!(passed.parse::<usize>().is_ok(), "{last}");
    let failed = failed.strip_suffix(" failed").expect("`M failed`");
    assert!(failed.parse::<usize>().is_ok(), "{last}");
}

// ---------------------------------------------------------------------------------- graph

#[test]
fn graph_mermaid() {
    let out = salesplay(&["graph", "$DATA/deal.yaml", "--format", "mermaid"]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn graph_mermaid_in_chinese() {
    let out = salesplay(&["graph", "$DATA/deal.yaml", "--lang", "zh"]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn graph_dot() {
    let out = salesplay(&["graph", "$DATA/deal.yaml", "--format", "dot"]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn graph_an_invalid_playbook() {
    let out = salesplay(&["graph", "$DATA/broken/errors.yaml"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("error[E0203]"), "{}", out.stderr);
}

// --------------------------------------------------------------------------------- schema

#[test]
fn schema_prints_the_committed_schema() {
    let out = salesplay(&["schema"]);
    assert_eq!(out.code, 0);
    let committed = std::fs::read_to_string(root().join("schema/playbook.schema.json"))
        .expect("committed schema");
    assert_eq!(out.stdout, committed);
}

// --------------------------------------------------------------------------------- report

/// The contract: counts add up, every stage is listed with a count.
fn assert_funnel_adds_up(report: &Value) {
    let accounts = report["accounts"].as_u64().expect("accounts");
    let invalid = report["invalid"].as_u64().expect("invalid");
    let not_entered = report["not_entered"].as_u64().expect("not_entered");
    let in_stages: u64 = report["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            assert!(s["id"].is_string());
            s["count"].as_u64().expect("count")
        })
        .sum();
    assert_eq!(accounts, invalid + not_entered + in_stages, "{report}");
}

#[test]
fn report_jsonl_human() {
    let out = salesplay(&[
        "report",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/accounts/accounts.jsonl",
        NOW,
    ]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn report_jsonl_json() {
    let out = salesplay(&[
        "report",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/accounts/accounts.jsonl",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0);
    let report = out.json();
    assert_funnel_adds_up(&report);
    assert_eq!(report["accounts"], 11);
    assert_eq!(report["invalid"], 5);
    assert_snapshot!(out.all());
}

#[test]
fn report_csv_human() {
    let out = salesplay(&[
        "report",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/accounts/accounts.csv",
        NOW,
        "--amount-field",
        "deal.amount",
    ]);
    assert_eq!(out.code, 0);
    assert_snapshot!(out.all());
}

#[test]
fn report_csv_json() {
    let out = salesplay(&[
        "report",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/accounts/accounts.csv",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0);
    let report = out.json();
    assert_funnel_adds_up(&report);
    assert_eq!(
        (report["accounts"].as_u64(), report["invalid"].as_u64()),
        (Some(8), Some(3))
    );
    assert_snapshot!(out.stdout);
}

#[test]
fn report_reads_stdin_with_the_format_given() {
    let csv = "account.target_locked,relationship.level\ntrue,trusted\ntrue,acquainted\nfalse,\n";
    let out = salesplay_with_stdin(
        &[
            "report",
            "$DATA/deal.yaml",
            "--facts",
            "-",
            "--input-format",
            "csv",
            NOW,
            "--format",
            "json",
        ],
        csv,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    assert_funnel_adds_up(&report);
    let counts: Vec<u64> = report["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .filter_map(|s| s["count"].as_u64())
        .collect();
    assert_eq!(counts, [1, 1, 0, 0, 0]);
    assert_eq!(report["not_entered"], 1);
}

#[test]
fn report_deny_invalid_fails_when_a_record_is_bad() {
    let out = salesplay(&[
        "report",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/accounts/accounts.jsonl",
        NOW,
        "--deny-invalid",
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("5 invalid"), "{}", out.stdout);
}

#[test]
fn report_a_missing_file_or_an_invalid_playbook() {
    let missing = salesplay(&[
        "report",
        "$DATA/deal.yaml",
        "--facts",
        "$DATA/accounts/none.jsonl",
        NOW,
    ]);
    assert_eq!(missing.code, 1);
    assert_snapshot!(missing.all());
    let broken = salesplay(&[
        "report",
        "$DATA/broken/errors.yaml",
        "--facts",
        "$DATA/accounts/accounts.jsonl",
        NOW,
    ]);
    assert_eq!(broken.code, 1);
    assert!(broken.stderr.contains("error[E0201]"), "{}", broken.stderr);
}

#[test]
fn report_a_csv_with_a_duplicate_column_stops() {
    let out = salesplay_with_stdin(
        &[
            "report",
            "$DATA/deal.yaml",
            "--facts",
            "-",
            "--input-format",
            "csv",
            NOW,
        ],
        "deal.lost,deal.lost\ntrue,false\n",
    );
    assert_eq!(out.code, 1);
    assert_snapshot!(out.all());
}

#[test]
fn report_jsonl_tolerates_a_bom_and_fact_groups_named_like_extras() {
    // `account` is the group of `account.target_locked` here, not the account's id.
    let jsonl = "\u{feff}{\"account\": {\"target_locked\": true}}\r\n{\"account\": \"acme\", \"id\": null}\r\n";
    let out = salesplay_with_stdin(
        &[
            "report",
            "$DATA/deal.yaml",
            "--facts",
            "-",
            NOW,
            "--format",
            "json",
        ],
        jsonl,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    assert_eq!(
        (report["accounts"].as_u64(), report["invalid"].as_u64()),
        (Some(2), Some(0))
    );
    // Named on the command line, the field must hold an id.
    let out = salesplay_with_stdin(
        &[
            "report",
            "$DATA/deal.yaml",
            "--facts",
            "-",
            NOW,
            "--id-field",
            "account",
        ],
        jsonl,
    );
    assert!(out.stderr.starts_with("<stdin>:1: error: `account` (the account's id) must be a string or a number, found a map\n"), "{}", out.stderr);
}
