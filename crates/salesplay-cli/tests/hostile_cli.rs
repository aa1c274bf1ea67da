//! The hostile-input corpus through the `salesplay` binary: `check`, `eval` and `report` on
//! generated playbooks, facts and account files. Every run must end within its timeout with
//! exit code 1 (or 0 for a valid input) and a message — never 101 (a panic) or a signal.
//!
//! Inputs are generated in memory and written to unique files under the system's temporary
//! folder. Run with `--nocapture` to see each case's time and message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

const NOW: &str = "--now=2026-03-01T00:00:00Z";
const TIMEOUT: Duration = Duration::from_secs(10);
/// Over this (debug build), a run is reported as slow.
const SOFT_LIMIT: Duration = Duration::from_secs(2);
const MB40: usize = 40 * 1024 * 1024;

/// The playbook the facts and account cases run against.
const BASE: &str = r#"id: hostile
facts:
  ok: bool
  n: int
  amount: number
  name: string
  signed_on: date
  seen_at: timestamp
  level: { enum: [a, b, c], ordered: true }
  contacts:
    list:
      role: { enum: [gatekeeper, decision_maker] }
      score: int
stages:
  - id: first
    entry: [{ id: is_ok, when: ok }]
    exit: [{ id: big, when: 'amount > 10.0' }]
  - id: second
    entry: [{ id: big_again, when: 'amount > 10.0' }]
"#;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Writes `bytes` to a new file in the temporary folder, named to end in `suffix`.
fn temp(suffix: &str, bytes: &[u8]) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!(
        "salesplay-hostile-cli-{}-{n}-{suffix}",
        std::process::id()
    ));
    std::fs::write(&path, bytes).expect("the temporary file is written");
    path
}

/// The base playbook, written once per test process (and left for the next run's cleanup).
fn base_playbook() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| temp("base.yaml", BASE.as_bytes()))
        .clone()
}

struct Out {
    /// The exit code; `None` when killed (by the timeout or a signal).
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Out {
    fn all(&self) -> String {
        format!(
            "exit: {:?} after {} ms\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.elapsed.as_millis(),
            excerpt(&self.stdout, 2000),
            excerpt(&self.stderr, 2000)
        )
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.all()))
    }
}

fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

fn salesplay(args: &[&str]) -> Out {
    let start = Instant::now();
    let output = cargo_bin_cmd!("salesplay")
        .env("NO_COLOR", "1")
        .args(args)
        .timeout(TIMEOUT)
        .output()
        .expect("the binary runs");
    Out {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// Checks one run against the contract; returns a failure description, if any.
fn verdict(name: &str, out: &Out, expected: i32, needles: &[&str]) -> Option<String> {
    let text = format!("{}{}", out.stdout, out.stderr).to_lowercase();
    let first = out
        .stderr
        .lines()
        .chain(out.stdout.lines())
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    println!(
        "{name:<44} exit {:>4} {:>7} ms  {}",
        out.code.map_or("KILL".to_string(), |c| c.to_string()),
        out.elapsed.as_millis(),
        excerpt(first, 150)
    );
    if out.elapsed > SOFT_LIMIT {
        println!("    ^ slow: over {} ms", SOFT_LIMIT.as_millis());
    }
    let problem = match out.code {
        None => Some("killed (timeout or signal)".to_string()),
        Some(101) => Some("exit 101: a panic".to_string()),
        Some(code) if code != expected => Some(format!("exit {code}, expected {expected}")),
        Some(_) if expected != 0 && text.trim().is_empty() => Some("no message".to_string()),
        Some(_)
            if !needles.is_empty() && !needles.iter().any(|n| text.contains(&n.to_lowercase())) =>
        {
            Some(format!("message mentions none of {needles:?}"))
        }
        Some(_) => None,
    };
    problem.map(|p| format!("{name}: {p}\n{}", out.all()))
}

fn assert_no_failures(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------- generators

fn nested_list(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

fn nested_map(depth: usize) -> String {
    format!("{}1{}", "{\"a\": ".repeat(depth), "}".repeat(depth))
}

fn alias_bomb_fact_types() -> String {
    let mut s = String::from("id: p\nfacts:\n  bomb:\n    list:\n");
    s.push_str("      l0: &l0 { list: { x: bool, y: int } }\n");
    for level in 1..=9 {
        let fields: Vec<String> = (0..10).map(|i| format!("f{i}: *l{}", level - 1)).collect();
        s.push_str(&format!(
            "      l{level}: &l{level} {{ list: {{ {} }} }}\n",
            fields.join(", ")
        ));
    }
    s.push_str("stages: [{ id: s }]\n");
    s
}

fn alias_bomb_facts() -> String {
    let mut s = String::from("l0: &l0 [{ role: gatekeeper, score: 1 }]\n");
    for level in 1..=9 {
        let items: Vec<String> = (0..10).map(|_| format!("*l{}", level - 1)).collect();
        s.push_str(&format!("l{level}: &l{level} [{}]\n", items.join(", ")));
    }
    s.push_str("contacts: *l9\n");
    s
}

fn terms(term: &str, op: &str, n: usize) -> String {
    vec![term; n].join(op)
}

fn with_when(when: &str) -> String {
    format!(
        "id: p\nfacts: {{ ok: bool, n: int }}\nstages:\n  - id: s\n    entry:\n      - id: c\n        when: '{when}'\n"
    )
}

// --------------------------------------------------------------------------------- check

#[test]
fn check_rejects_hostile_playbooks() {
    let mut invalid_utf8 = b"id: p\nstages: [{ id: s }]\ndescription: caf".to_vec();
    invalid_utf8.extend_from_slice(&[0xC3, 0x28, 0xFF, b'\n']);
    let cases: Vec<(&str, Vec<u8>, i32, &[&str])> = vec![
        (
            "alias_bomb_list_of_record_facts",
            alias_bomb_fact_types().into_bytes(),
            1,
            &["E1003"],
        ),
        (
            "5000_aliases",
            {
                let mut s = String::from("id: p\ntypes:\n  t: &t bool\nfacts:\n");
                for i in 0..5000 {
                    s.push_str(&format!("  f{i}: *t\n"));
                }
                s.push_str("stages: [{ id: s }]\n");
                s.into_bytes()
            },
            1,
            &["alias"],
        ),
        (
            "100k_deep_flow_lists",
            format!(
                "id: p\ndescription: {}\nstages: [{{ id: s }}]\n",
                nested_list(100_000)
            )
            .into_bytes(),
            1,
            &["error"],
        ),
        (
            "100k_deep_flow_maps_in_facts",
            format!(
                "id: p\nfacts: {}\nstages: [{{ id: s }}]\n",
                nested_map(100_000)
            )
            .into_bytes(),
            1,
            &["error"],
        ),
        (
            "100k_deep_list_of_record_type",
            format!(
                "id: p\nfacts:\n  deep: {}bool{}\nstages: [{{ id: s }}]\n",
                "{list: {x: ".repeat(100_000),
                "}}".repeat(100_000)
            )
            .into_bytes(),
            1,
            &["E1003", "limit"],
        ),
        (
            "100k_deep_block_sequence",
            format!("id: p\nstages:\n{}x\n", "- ".repeat(100_000)).into_bytes(),
            1,
            &["error"],
        ),
        (
            "when_100k_terms",
            with_when(&terms("ok", " || ", 100_000)).into_bytes(),
            1,
            &["limit"],
        ),
        (
            "when_50k_parens",
            with_when(&format!("{}ok{}", "(".repeat(50_000), ")".repeat(50_000))).into_bytes(),
            1,
            &["limit"],
        ),
        (
            "when_30k_member_chain",
            with_when(&format!("ok{}", ".x".repeat(30_000))).into_bytes(),
            1,
            &["limit"],
        ),
        (
            "when_int_beyond_i64",
            with_when("n > 99999999999999999999999").into_bytes(),
            1,
            &["out of range"],
        ),
        (
            "when_date_2026_02_30",
            with_when("date(\"2026-02-30\") == date(\"2026-03-02\")").into_bytes(),
            1,
            &["2026-02-30"],
        ),
        (
            "when_timestamp_without_zone",
            with_when("timestamp(\"2026-03-01T09:00:00\") > timestamp(\"2026-03-01T08:00:00Z\")")
                .into_bytes(),
            1,
            &["timestamp"],
        ),
        (
            "40mb_description",
            format!(
                "id: p\ndescription: \"{}\"\nstages: [{{ id: s }}]\n",
                "x".repeat(MB40)
            )
            .into_bytes(),
            1,
            &["limit"],
        ),
        ("invalid_utf8", invalid_utf8, 1, &["UTF-8"]),
        (
            "duplicate_keys",
            b"id: a\nid: b\nstages: [{ id: s }]\n".to_vec(),
            1,
            &["twice", "duplicate"],
        ),
        (
            "nan_probability",
            b"id: p\nstages: [{ id: s, probability: .nan }]\n".to_vec(),
            1,
            &["probability"],
        ),
        (
            "version_beyond_u32",
            b"id: p\nversion: 99999999999999999999999\nstages: [{ id: s }]\n".to_vec(),
            1,
            &["version", "whole number"],
        ),
        (
            "bom_crlf_valid",
            format!("\u{feff}{}", BASE.replace('\n', "\r\n")).into_bytes(),
            0,
            &[],
        ),
        ("empty_file", Vec::new(), 1, &["error"]),
        ("only_bom", "\u{feff}".as_bytes().to_vec(), 1, &["error"]),
    ];
    let mut failures = Vec::new();
    for (name, bytes, expected, needles) in cases {
        let path = temp(&format!("{name}.yaml"), &bytes);
        let out = salesplay(&["check", path.to_str().unwrap()]);
        failures.extend(verdict(&format!("check/{name}"), &out, expected, needles));
        let _ = std::fs::remove_file(path);
    }
    assert_no_failures(failures);
}

// ---------------------------------------------------------------------------------- eval

/// A facts case: name, file extension, contents, expected exit code, words the message names.
type FactsCase = (
    &'static str,
    &'static str,
    Vec<u8>,
    i32,
    &'static [&'static str],
);

#[test]
fn eval_rejects_hostile_facts() {
    let playbook = base_playbook();
    let playbook = playbook.to_str().unwrap().to_string();
    let cases: Vec<FactsCase> = vec![
        (
            "json_100k_deep_lists",
            "json",
            format!("{{\"contacts\": {}}}", nested_list(100_000)).into_bytes(),
            1,
            &["recursion", "limit", "deep"],
        ),
        (
            "json_100k_deep_maps",
            "json",
            nested_map(100_000).into_bytes(),
            1,
            &["recursion", "limit", "deep"],
        ),
        (
            "yaml_100k_deep_maps",
            "yaml",
            nested_map(100_000).into_bytes(),
            1,
            &["limit", "budget", "depth", "recursion"],
        ),
        (
            "yaml_alias_bomb",
            "yaml",
            alias_bomb_facts().into_bytes(),
            1,
            &["limit", "budget", "alias"],
        ),
        (
            "json_40mb_string",
            "json",
            format!("{{\"name\": \"{}\", \"ok\": true}}", "x".repeat(MB40)).into_bytes(),
            1,
            &["limit", "bytes"],
        ),
        (
            "json_invalid_utf8",
            "json",
            b"{\"name\": \"caf\xC3\x28\xFF\", \"ok\": true}".to_vec(),
            1,
            &["UTF-8", "unicode", "utf"],
        ),
        (
            "yaml_invalid_utf8",
            "yaml",
            b"name: caf\xC3\x28\xFF\nok: true\n".to_vec(),
            1,
            &["UTF-8", "unicode", "utf"],
        ),
        (
            "json_bom_crlf_valid",
            "json",
            "\u{feff}{\r\n\"ok\": true,\r\n\"amount\": 12.5\r\n}\r\n"
                .as_bytes()
                .to_vec(),
            0,
            &[],
        ),
        (
            "yaml_bom_crlf_valid",
            "yaml",
            "\u{feff}ok: true\r\namount: 12.5\r\n".as_bytes().to_vec(),
            0,
            &[],
        ),
        (
            "json_nan_literal",
            "json",
            b"{\"amount\": NaN}".to_vec(),
            1,
            &[":1:12:"],
        ),
        (
            "json_infinity_literal",
            "json",
            b"{\"amount\": Infinity}".to_vec(),
            1,
            &[":1:12:"],
        ),
        (
            "json_number_beyond_f64",
            "json",
            b"{\"amount\": 1e999}".to_vec(),
            1,
            &["amount", "range", ":1:"],
        ),
        (
            "yaml_nan",
            "yaml",
            b"amount: .nan\n".to_vec(),
            1,
            &["amount", ":1:9:"],
        ),
        (
            "yaml_inf",
            "yaml",
            b"amount: -.inf\n".to_vec(),
            1,
            &["amount", ":1:9:"],
        ),
        (
            "json_int_beyond_i64",
            "json",
            b"{\"n\": 99999999999999999999}".to_vec(),
            1,
            &["`n`"],
        ),
        (
            "json_int_u64_max",
            "json",
            b"{\"n\": 18446744073709551615}".to_vec(),
            1,
            &["`n`"],
        ),
        (
            "json_duplicate_keys",
            "json",
            b"{\"ok\": true, \"ok\": false}".to_vec(),
            1,
            &["duplicate", "twice"],
        ),
        (
            "yaml_duplicate_keys",
            "yaml",
            b"ok: true\nok: false\n".to_vec(),
            1,
            &["duplicate", "twice"],
        ),
        (
            "json_date_2026_02_30",
            "json",
            b"{\"signed_on\": \"2026-02-30\"}".to_vec(),
            1,
            &["signed_on"],
        ),
        (
            "yaml_date_2026_02_30",
            "yaml",
            b"signed_on: 2026-02-30\n".to_vec(),
            1,
            &["signed_on"],
        ),
        (
            "json_timestamp_without_zone",
            "json",
            b"{\"seen_at\": \"2026-03-01T09:00:00\"}".to_vec(),
            1,
            &["seen_at"],
        ),
        (
            "json_truncated",
            "json",
            b"{\"ok\": true, \"amo".to_vec(),
            1,
            &[":1:", "eof", "end"],
        ),
        (
            "json_not_an_object",
            "json",
            b"[1, 2, 3]".to_vec(),
            1,
            &["object", "map"],
        ),
        (
            "json_wrong_type_in_record",
            "json",
            b"{\"contacts\": [{\"role\": \"ceo\", \"score\": \"x\"}]}".to_vec(),
            1,
            &["contacts[0]"],
        ),
        (
            "json_200k_list",
            "json",
            format!(
                "{{\"contacts\": [{}]}}",
                terms("{\"role\": \"gatekeeper\", \"score\": 1}", ",", 200_000)
            )
            .into_bytes(),
            1,
            &["contacts", "limit"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, ext, bytes, expected, needles) in cases {
        let facts = temp(&format!("{name}.{ext}"), &bytes);
        let out = salesplay(&["eval", &playbook, "--facts", facts.to_str().unwrap(), NOW]);
        failures.extend(verdict(&format!("eval/{name}"), &out, expected, needles));
        let _ = std::fs::remove_file(facts);
    }
    // A bad `--now` is a usage error (2), not a panic.
    let facts = temp("ok.json", b"{\"ok\": true}");
    for now in [
        "--now=2026-02-30T00:00:00Z",
        "--now=2026-03-01T09:00:00",
        "--now=99999-01-01T00:00:00Z",
    ] {
        let out = salesplay(&["eval", &playbook, "--facts", facts.to_str().unwrap(), now]);
        failures.extend(verdict(&format!("eval/{now}"), &out, 2, &["RFC 3339"]));
    }
    let _ = std::fs::remove_file(facts);
    assert_no_failures(failures);
}

// -------------------------------------------------------------------------------- report

/// The funnel's counts: (accounts, invalid, valid = not entered + in stages).
fn counts(report: &Value) -> (u64, u64, u64) {
    let accounts = report["accounts"].as_u64().expect("accounts");
    let invalid = report["invalid"].as_u64().expect("invalid");
    let not_entered = report["not_entered"].as_u64().expect("not_entered");
    let in_stages: u64 = report["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["count"].as_u64().expect("count"))
        .sum();
    (accounts, invalid, not_entered + in_stages)
}

/// One record of a generated accounts file: its bytes and what it must count as.
enum Rec {
    Valid(Vec<u8>),
    Bad(Vec<u8>),
    /// Valid or invalid, but counted and never lost.
    Either(Vec<u8>),
    /// Not a record: skipped.
    Blank(Vec<u8>),
}

/// Joins the records with `\n` and returns the text with the line numbers of the bad ones,
/// the number of records and the number that must be valid.
fn assemble(recs: Vec<Rec>, last_newline: bool) -> (Vec<u8>, Vec<usize>, usize, usize) {
    let mut bytes = Vec::new();
    let mut bad = Vec::new();
    let (mut records, mut valid) = (0, 0);
    let mut line = 1;
    let n = recs.len();
    for (i, rec) in recs.into_iter().enumerate() {
        let (body, kind) = match rec {
            Rec::Valid(b) => (b, 'v'),
            Rec::Bad(b) => (b, 'b'),
            Rec::Either(b) => (b, 'e'),
            Rec::Blank(b) => (b, ' '),
        };
        match kind {
            'v' => {
                records += 1;
                valid += 1;
            }
            'b' => {
                records += 1;
                bad.push(line);
            }
            'e' => records += 1,
            _ => {}
        }
        line += body.iter().filter(|&&b| b == b'\n').count() + 1;
        bytes.extend_from_slice(&body);
        if i + 1 < n || last_newline {
            bytes.push(b'\n');
        }
    }
    (bytes, bad, records, valid)
}

fn check_report(
    name: &str,
    playbook: &str,
    file: &Path,
    bad: &[usize],
    records: usize,
    valid: usize,
) {
    let out = salesplay(&[
        "report",
        playbook,
        "--facts",
        file.to_str().unwrap(),
        NOW,
        "--format",
        "json",
    ]);
    println!(
        "report/{name}: exit {:?} in {} ms\n{}",
        out.code,
        out.elapsed.as_millis(),
        excerpt(&out.stderr, 6000)
    );
    assert_eq!(out.code, Some(0), "{}", out.all());
    let report = out.json();
    let (accounts, invalid, assessed) = counts(&report);
    assert_eq!(accounts, invalid + assessed, "the counts add up: {report}");
    assert_eq!(
        accounts as usize, records,
        "every record is counted: {report}"
    );
    assert!(
        assessed as usize >= valid,
        "the valid records are assessed: {report}"
    );
    assert!(
        invalid as usize >= bad.len(),
        "the bad records are invalid: {report}"
    );
    let file_name = file.to_str().unwrap();
    let reported: Vec<usize> = out
        .stderr
        .lines()
        .filter_map(|l| {
            l.strip_prefix(file_name)?
                .strip_prefix(':')?
                .split(':')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(
        reported.len() as u64,
        invalid,
        "one error line per invalid record:\n{}",
        out.stderr
    );
    let missing: Vec<&usize> = bad.iter().filter(|l| !reported.contains(l)).collect();
    assert!(
        missing.is_empty(),
        "bad lines {missing:?} are not reported (reported: {reported:?}):\n{}",
        excerpt(&out.stderr, 4000)
    );
    assert!(
        out.elapsed < SOFT_LIMIT * 3,
        "slow: {} ms",
        out.elapsed.as_millis()
    );
}

#[test]
fn report_jsonl_counts_every_record_and_names_every_bad_line() {
    let playbook = base_playbook();
    let v = |s: &str| Rec::Valid(s.as_bytes().to_vec());
    let b = |s: &str| Rec::Bad(s.as_bytes().to_vec());
    let recs = vec![
        v(r#"{"id": "a1", "ok": true, "amount": 12.5}"#),
        b(r#"{"id": "a2", "ok": tru}"#),
        v(
            r#"{"id": "a3", "ok": false, "level": "b", "contacts": [{"role": "gatekeeper", "score": 3}]}"#,
        ),
        b(r#"{"id": "a4", "ok": true, "amo"#),
        b(r#"{"id": "a5", "ok": 3}"#),
        b(r#"{"id": "a6", "level": "z"}"#),
        b("[1, 2, 3]"),
        b(r#"{"id": "a8", "signed_on": "2026-02-30"}"#),
        b(r#"{"id": "a9", "n": 99999999999999999999}"#),
        b(&format!(
            r#"{{"id": "a10", "junk": {}}}"#,
            nested_list(100_000)
        )),
        b(r#"{"id": "a11", "amount": NaN}"#),
        b(r#"{"id": "a12", "seen_at": "2026-03-01T09:00:00"}"#),
        Rec::Bad(b"{\"id\": \"a13\", \"name\": \"caf\xC3\x28\xFF\"}".to_vec()),
        v("{\"id\": \"a14\", \"ok\": true}\r"),
        Rec::Blank(Vec::new()),
        Rec::Blank(b"   \t ".to_vec()),
        Rec::Either(br#"{"id": "a17", "ok": 1, "ok": true}"#.to_vec()),
        b(r#"{"id": "a18", "contacts": [{"role": "ceo", "score": 1.5}]}"#),
        b(r#"{"id": "a19", "entered_at": "2026-02-30"}"#),
        b(r#"{"id": "a20", "amount": "12"}"#),
        b(&format!(
            r#"{{"id": "a21", "name": "{}"}}"#,
            "x".repeat(MB40)
        )),
        v(r#"{"id": "a22", "amount": 1e308, "ok": true}"#),
        b(r#"{"id": "a23", "amount": 1e999}"#),
        b("\u{feff}{\"id\": \"a24\"}"),
        b(r#"{"id": "a25", "contacts": {"role": "gatekeeper"}}"#),
        b(r#"{"id": "last", "ok": tr"#),
    ];
    let (bytes, bad, records, valid) = assemble(recs, false);
    let file = temp("accounts.jsonl", &bytes);
    check_report(
        "jsonl",
        playbook.to_str().unwrap(),
        &file,
        &bad,
        records,
        valid,
    );
    let _ = std::fs::remove_file(file);
}

#[test]
fn report_csv_counts_every_record_and_names_every_bad_line() {
    let playbook = base_playbook();
    let v = |s: &str| Rec::Valid(s.as_bytes().to_vec());
    let b = |s: &str| Rec::Bad(s.as_bytes().to_vec());
    let recs = vec![
        Rec::Blank(b"id,ok,amount,level,signed_on,seen_at,n,contacts".to_vec()),
        v("c1,true,12.5,a,2026-01-31,2026-03-01T09:00:00Z,3,"),
        b("c2,maybe,,,,,,"),
        b("c3,true,12.5"),
        b("c4,true,12.5,a,,,,,,extra"),
        b("c5,true,,,2026-02-30,,,"),
        b("c6,true,,,,2026-03-01T09:00:00,,"),
        b("c7,true,,,,,99999999999999999999,"),
        b("c8,true,,,,,,\"[{\"\"role\"\": \"\"gatekeeper\"\"\""),
        Rec::Bad(b"c9,true,,,,,,\"[{\"\"role\"\": \"\"caf\xC3\x28\xFF\"\"}]\"".to_vec()),
        b("c10,true,NaN,,,,,"),
        b("c11,true,inf,,,,,"),
        b("c12,true,,z,,,,"),
        v("c13,true,,,,,,\"[{\"\"role\"\": \"\"gatekeeper\"\",\n\"\"score\"\": 2}]\""),
        b("c14,true,,,,,1.5,"),
        v("c15,yes,1e308,,,,,"),
        b(&format!("c16,true,,,,,,\"{}\"", nested_list(100_000))),
        b("c17,true,1e999,,,,,"),
        b("c18,true,,,,,,\"[{\"\"role\"\": \"\"ceo\"\"}]\""),
        b("c19,true,,,,,,\"unterminated"),
    ];
    // The header (the first `Blank`) is not a record.
    let (bytes, bad, records, valid) = assemble(recs, false);
    let file = temp("accounts.csv", &bytes);
    check_report(
        "csv",
        playbook.to_str().unwrap(),
        &file,
        &bad,
        records,
        valid,
    );
    let _ = std::fs::remove_file(file);
}

#[test]
fn report_survives_hostile_files_as_a_whole() {
    let playbook = base_playbook();
    let playbook = playbook.to_str().unwrap().to_string();
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "one_100k_deep_line",
            "jsonl",
            nested_map(100_000).into_bytes(),
        ),
        (
            "invalid_utf8_header",
            "csv",
            b"id,o\xFFk\nc1,true\n".to_vec(),
        ),
        ("duplicate_column", "csv", b"ok,ok\ntrue,false\n".to_vec()),
        ("only_bom", "jsonl", "\u{feff}".as_bytes().to_vec()),
        ("only_bom_csv", "csv", "\u{feff}".as_bytes().to_vec()),
        (
            "bom_crlf_csv",
            "csv",
            "\u{feff}id,ok\r\nc1,true\r\nc2,false\r\n"
                .as_bytes()
                .to_vec(),
        ),
        (
            "40mb_single_line_csv",
            "csv",
            format!("id,name\nc1,{}\n", "x".repeat(MB40)).into_bytes(),
        ),
        (
            "100k_short_records",
            "jsonl",
            "{\"ok\": true}\n".repeat(100_000).into_bytes(),
        ),
    ];
    let mut failures = Vec::new();
    for (name, ext, bytes) in cases {
        let file = temp(&format!("{name}.{ext}"), &bytes);
        let out = salesplay(&[
            "report",
            &playbook,
            "--facts",
            file.to_str().unwrap(),
            NOW,
            "--format",
            "json",
        ]);
        let label = format!("report/{name}");
        match out.code {
            Some(0) => {
                let report = out.json();
                let (accounts, invalid, assessed) = counts(&report);
                println!(
                    "{label:<44} exit    0 {:>7} ms  accounts {accounts}, invalid {invalid}",
                    out.elapsed.as_millis()
                );
                if accounts != invalid + assessed {
                    failures.push(format!("{label}: counts do not add up: {report}"));
                }
            }
            _ => failures.extend(verdict(&label, &out, 1, &["error"])),
        }
        if out.elapsed > SOFT_LIMIT * 3 {
            failures.push(format!("{label}: slow, {} ms", out.elapsed.as_millis()));
        }
        let _ = std::fs::remove_file(file);
    }
    assert_no_failures(failures);
}

#[test]
fn report_csv_with_crlf_line_breaks_names_the_right_lines() {
    let playbook = base_playbook();
    // Every row is bad, so every line from 2 to 5 must be named.
    let csv = "id,ok,n\r\nc1,maybe,1\r\nc2,true,1.5\r\nc3,maybe,1\r\nc4,true,x\r\n";
    let file = temp("crlf.csv", csv.as_bytes());
    let out = salesplay(&[
        "report",
        playbook.to_str().unwrap(),
        "--facts",
        file.to_str().unwrap(),
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let name = file.to_str().unwrap();
    for line in 2..=5 {
        assert!(
            out.stderr.contains(&format!("{name}:{line}: error: ")),
            "line {line} is not named:\n{}",
            out.stderr
        );
    }
    let _ = std::fs::remove_file(file);
}

#[test]
fn report_jsonl_with_crlf_line_breaks_names_the_right_lines() {
    let playbook = base_playbook();
    let jsonl = "{\"ok\": 1}\r\n{\"ok\": 2}\r\n{\"ok\": tru}\r\n{\"n\": 1.5}\r\n";
    let file = temp("crlf.jsonl", jsonl.as_bytes());
    let out = salesplay(&[
        "report",
        playbook.to_str().unwrap(),
        "--facts",
        file.to_str().unwrap(),
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let name = file.to_str().unwrap();
    for line in 1..=4 {
        assert!(
            out.stderr.contains(&format!("{name}:{line}: error: ")),
            "line {line} is not named:\n{}",
            out.stderr
        );
    }
    let (accounts, invalid, assessed) = counts(&out.json());
    assert_eq!((accounts, invalid, assessed), (4, 4, 0));
    let _ = std::fs::remove_file(file);
}
