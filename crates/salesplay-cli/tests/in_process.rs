//! The CLI run in-process through `run_with`, where a test controls what the binary cannot:
//! terminals, `NO_COLOR`, the clock, and a standard input far larger than memory would hold
//! if it were collected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufReader, Read};

use chrono::{TimeZone, Utc};
use salesplay_cli::{Console, Exit, run, run_with};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

struct Terminal {
    stdout: bool,
    no_color: bool,
}

fn check_broken(terminal: &Terminal, extra: &[&str]) -> String {
    let mut stdin = std::io::empty();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut console = Console::plain(&mut stdin, &mut out, &mut err);
    console.stdout_is_terminal = terminal.stdout;
    console.no_color = terminal.no_color;
    let mut args = vec!["salesplay".to_string(), "check".to_string()];
    args.extend(extra.iter().map(|a| a.to_string()));
    args.push(format!("{DATA}/broken/errors.yaml"));
    assert_eq!(run_with(args, &mut console), Exit::Failure);
    String::from_utf8(out).unwrap()
}

#[test]
fn diagnostics_are_coloured_on_a_terminal_only() {
    let coloured = check_broken(
        &Terminal {
            stdout: true,
            no_color: false,
        },
        &[],
    );
    assert!(
        coloured.contains(": \x1b[1;31merror\x1b[0m[E0203]:"),
        "{coloured}"
    );
    assert!(
        coloured.contains("\x1b[1;31m^^^^^^^ not one of the enum's values\x1b[0m"),
        "{coloured}"
    );

    let piped = check_broken(
        &Terminal {
            stdout: false,
            no_color: false,
        },
        &[],
    );
    assert!(!piped.contains('\x1b'));
    // Only colour codes differ.
    assert_eq!(
        coloured.replace("\x1b[1;31m", "").replace("\x1b[0m", ""),
        piped
    );
}

#[test]
fn no_color_and_color_never_turn_colours_off() {
    let no_color = check_broken(
        &Terminal {
            stdout: true,
            no_color: true,
        },
        &[],
    );
    assert!(!no_color.contains('\x1b'));
    let never = check_broken(
        &Terminal {
            stdout: true,
            no_color: false,
        },
        &["--color", "never"],
    );
    assert!(!never.contains('\x1b'));
    let always = check_broken(
        &Terminal {
            stdout: false,
            no_color: true,
        },
        &["--color", "always"],
    );
    assert!(always.contains('\x1b'));
}

#[test]
fn run_returns_the_exit_code_without_a_process() {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        run(["salesplay", "schema"], &mut out, &mut err),
        Exit::Success
    );
    assert_eq!(
        run(["salesplay", "nonsense"], &mut out, &mut err),
        Exit::Usage
    );
    assert_eq!(Exit::Usage.code(), 2);
    let help = run(["salesplay", "--help"], &mut out, &mut err);
    assert_eq!(help, Exit::Success);
}

#[test]
fn the_clock_is_read_only_when_now_is_not_given() {
    let clock = Utc.with_ymd_and_hms(2031, 1, 2, 3, 4, 5).unwrap();
    let eval = |extra: &[&str]| {
        let mut stdin = std::io::empty();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut console = Console::plain(&mut stdin, &mut out, &mut err);
        console.clock = Some(clock);
        let mut args = vec![
            "salesplay".to_string(),
            "eval".to_string(),
            format!("{DATA}/deal.yaml"),
            "--facts".to_string(),
            format!("{DATA}/facts/ok.json"),
            "--format".to_string(),
            "json".to_string(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        assert_eq!(run_with(args, &mut console), Exit::Success);
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        json["now"].as_str().unwrap().to_string()
    };
    assert_eq!(eval(&[]), "2031-01-02T03:04:05Z");
    assert_eq!(
        eval(&["--now", "2026-03-01T08:00:00+08:00"]),
        "2026-03-01T00:00:00Z"
    );
}

/// JSON Lines made on the fly, one account at a time: nothing holds the whole input.
struct Accounts {
    next: u64,
    total: u64,
    line: Vec<u8>,
    offset: usize,
}

impl Read for Accounts {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.offset == self.line.len() {
            if self.next == self.total {
                return Ok(0);
            }
            let i = self.next;
            self.next += 1;
            self.line = match i % 10 {
                // A malformed record, a wrong-typed one and a truncated one in every ten.
                3 => b"{\"account\": {\"target_locked\": tru}}\n".to_vec(),
                5 => b"{\"relationship\": {\"level\": 7}}\n".to_vec(),
                7 => b"{\"id\": \"cut\", \"account\": {\n".to_vec(),
                n => format!(
                    "{{\"id\": \"a{i}\", \"amount\": 100, \"account\": {{\"target_locked\": {}}}, \"relationship\": {{\"level\": \"{}\"}}}}\n",
                    n != 0,
                    if n % 2 == 0 { "trusted" } else { "acquainted" }
                )
                .into_bytes(),
            };
            self.offset = 0;
        }
        let rest = &self.line[self.offset..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.offset += n;
        Ok(n)
    }
}

/// `salesplay report` over `total` generated accounts on standard input, with `extra`
/// arguments: its exit, stdout and stderr.
fn report_generated(total: u64, extra: &[&str]) -> (Exit, Vec<u8>, String) {
    let mut stdin = BufReader::new(Accounts {
        next: 0,
        total,
        line: Vec::new(),
        offset: 0,
    });
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut console = Console::plain(&mut stdin, &mut out, &mut err);
    let mut args = vec![
        "salesplay".to_string(),
        "report".to_string(),
        format!("{DATA}/deal.yaml"),
        "--facts".to_string(),
        "-".to_string(),
        "--now".to_string(),
        "2026-03-01T00:00:00Z".to_string(),
        "--format".to_string(),
        "json".to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let exit = run_with(args, &mut console);
    (exit, out, String::from_utf8(err).unwrap())
}

#[test]
fn report_is_the_same_whatever_the_number_of_threads() {
    // Several batches of lines, so workers finish out of order.
    let one = report_generated(12_345, &["--jobs", "1"]);
    assert_eq!(one.0, Exit::Success);
    for jobs in ["2", "3", "8"] {
        let many = report_generated(12_345, &["--jobs", jobs]);
        assert_eq!(many.0, one.0);
        assert_eq!(
            String::from_utf8_lossy(&many.1),
            String::from_utf8_lossy(&one.1),
            "stdout with {jobs} threads"
        );
        assert!(many.2 == one.2, "stderr with {jobs} threads");
    }
}

#[test]
fn report_streams_and_counts_every_record() {
    let total = 50_000;
    let (exit, out, err) = report_generated(total, &[]);
    assert_eq!(exit, Exit::Success);
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["accounts"], total);
    assert_eq!(report["invalid"], total / 10 * 3);
    assert_eq!(report["not_entered"], total / 10);
    let in_stages: u64 = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_u64().unwrap())
        .sum();
    assert_eq!(in_stages + total / 10 + total / 10 * 3, total);
    // Each bad record is reported with its line.
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("<stdin>:") && l.contains(": error: "))
            .count() as u64,
        total / 10 * 3
    );
    assert!(
        err.contains("<stdin>:4: error: malformed JSON"),
        "{}",
        &err[..300]
    );
    assert!(
        err.contains("<stdin>:6: error: fact `relationship.level`"),
        "{}",
        &err[..300]
    );
    assert!(
        err.contains("<stdin>:8: error: the record ends early"),
        "{}",
        &err[..300]
    );
}
