//! The `salesplay` command for playbook authors, RevOps and sales leaders.
//!
//! All the logic lives here so that tests run it in-process: [`run`] takes the arguments and
//! two writers and returns an [`Exit`] code; `main.rs` only calls [`main_entry`], which wires
//! the real terminal in ([`Console::detect`]).
//!
//! | command | what it does |
//! |---|---|
//! | `salesplay check PATH...` | load and validate playbooks (files, or every playbook in a folder) |
//! | `salesplay eval PLAYBOOK --facts FILE` | assess one account: stage, blockers, missing facts, plays |
//! | `salesplay test PATH...` | run scenario files (`*.scenarios.yaml`) |
//! | `salesplay graph PLAYBOOK --format mermaid\|dot` | draw the state machine |
//! | `salesplay schema` | print the JSON Schema of the playbook format |
//! | `salesplay report PLAYBOOK --facts FILE.jsonl\|FILE.csv` | the funnel of many accounts |
//!
//! Exit codes: 0 success, 1 failure (invalid playbook or facts, errors found, failing
//! scenarios), 2 usage error.
//!
//! ```
//! let mut out = Vec::new();
//! let mut err = Vec::new();
//! let exit = salesplay_cli::run(["salesplay", "schema"], &mut out, &mut err);
//! assert_eq!(exit, salesplay_cli::Exit::Success);
//! assert!(String::from_utf8(out).unwrap().contains("\"$defs\""));
//! ```
//!
//! Architecture invariant: this crate is the only one that knows about terminals, colours,
//! progress bars, the process's clock and environment variables; the library never does.
#![warn(missing_docs)]

mod check;
mod eval;
mod graph;
mod input;
mod report;
mod scenarios;
mod schema;
mod style;

use std::ffi::OsString;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

pub use graph::{GraphFormat, diagrams_markdown, render_graph};
pub use schema::playbook_schema;

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything went well (exit code 0).
    Success,
    /// The input was invalid, errors were found or scenarios failed (exit code 1).
    Failure,
    /// The command line was wrong (exit code 2).
    Usage,
}

impl Exit {
    /// The process exit code: 0, 1 or 2.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

/// The process's standard streams, and what the CLI knows about them.
pub struct Console<'a> {
    /// Standard input (read by `--facts -`).
    pub stdin: &'a mut dyn BufRead,
    /// Standard output: the command's result.
    pub stdout: &'a mut dyn Write,
    /// Standard error: problems, summaries and the progress bar.
    pub stderr: &'a mut dyn Write,
    /// Whether standard output is a terminal (colours diagnostics under `--color auto`).
    pub stdout_is_terminal: bool,
    /// Whether standard error is a terminal (shows the progress bar, colours errors).
    pub stderr_is_terminal: bool,
    /// Whether the `NO_COLOR` environment variable is set to a non-empty value.
    pub no_color: bool,
    /// The current time, used when `--now` is not given. `None`: read the system clock.
    pub clock: Option<DateTime<Utc>>,
}

impl<'a> Console<'a> {
    /// A console over the given streams that is never a terminal: no colour, no progress bar.
    pub fn plain(
        stdin: &'a mut dyn BufRead,
        stdout: &'a mut dyn Write,
        stderr: &'a mut dyn Write,
    ) -> Console<'a> {
        Console {
            stdin,
            stdout,
            stderr,
            stdout_is_terminal: false,
            stderr_is_terminal: false,
            no_color: false,
            clock: None,
        }
    }

    /// The process's real streams, with terminal detection (`IsTerminal`) and `NO_COLOR`.
    pub fn detect(
        stdin: &'a mut dyn BufRead,
        stdout: &'a mut dyn Write,
        stderr: &'a mut dyn Write,
    ) -> Console<'a> {
        Console {
            stdin,
            stdout,
            stderr,
            stdout_is_terminal: io::stdout().is_terminal(),
            stderr_is_terminal: io::stderr().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            clock: None,
        }
    }

    /// The current time: the console's clock, or else the system clock (UTC).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock
            .unwrap_or_else(|| DateTime::<Utc>::from(std::time::SystemTime::now()))
    }
}

/// Runs the CLI with `args` (the first one is the program name) on the real process streams.
pub fn main_entry() -> std::process::ExitCode {
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let stdout = io::stdout();
    let mut stdout = io::BufWriter::new(stdout.lock());
    let stderr = io::stderr();
    let mut stderr = stderr.lock();
    let exit = {
        let mut console = Console::detect(&mut stdin, &mut stdout, &mut stderr);
        run_with(std::env::args_os(), &mut console)
    };
    if let Err(e) = stdout.flush()
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        let _ = writeln!(io::stderr(), "error: cannot write the output: {e}");
        return Exit::Failure.into();
    }
    exit.into()
}

/// Runs the CLI with `args` (the first one is the program name), writing to `stdout` and
/// `stderr` as if neither were a terminal, with an empty standard input.
pub fn run<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut stdin = io::empty();
    let mut console = Console::plain(&mut stdin, stdout, stderr);
    run_with(args, &mut console)
}

/// Runs the CLI with `args` (the first one is the program name) on `console`.
pub fn run_with<I, T>(args: I, console: &mut Console<'_>) -> Exit
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with success; usage errors to stderr with 2.
            let text = if e.use_stderr() && wants_colour(ColorWhen::Auto, console, true) {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            let (to, exit) = if e.use_stderr() {
                (&mut *console.stderr, Exit::Usage)
            } else {
                (&mut *console.stdout, Exit::Success)
            };
            return match to.write_all(text.as_bytes()) {
                Ok(()) => exit,
                Err(_) => Exit::Failure,
            };
        }
    };
    let result = match &cli.command {
        Command::Check(args) => check::run(args, cli.color, console),
        Command::Eval(args) => eval::run(args, cli.color, console),
        Command::Test(args) => scenarios::run(args, cli.color, console),
        Command::Graph(args) => graph::run(args, cli.color, console),
        Command::Schema => schema::run(console),
        Command::Report(args) => report::run(args, cli.color, console),
    };
    match result {
        Ok(exit) => exit,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Exit::Success,
        Err(e) => {
            let _ = writeln!(console.stderr, "error: cannot write the output: {e}");
            Exit::Failure
        }
    }
}

/// Whether to colour a stream: `--color`, then `NO_COLOR`, then whether it is a terminal.
pub(crate) fn wants_colour(when: ColorWhen, console: &Console<'_>, stderr: bool) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            !console.no_color
                && if stderr {
                    console.stderr_is_terminal
                } else {
                    console.stdout_is_terminal
                }
        }
    }
}

/// Parses an RFC 3339 timestamp for `--now` and `--entered-at`.
pub(crate) fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("`{text}` is not an RFC 3339 timestamp such as 2026-11-22T09:00:00Z ({e})")
        })
}

#[derive(Debug, Parser)]
#[command(
    name = "salesplay",
    version,
    about = "Check, assess, test, draw and report on sales playbooks",
    long_about = "Sales playbooks as typed state machines in YAML.\n\n\
        Exit codes: 0 success, 1 failure (invalid playbook or facts, errors found, failing \
        scenarios), 2 usage error.",
    arg_required_else_help = true
)]
struct Cli {
    /// When to colour the output: `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true, value_name = "WHEN")]
    color: ColorWhen,
    #[command(subcommand)]
    command: Command,
}

/// When to use colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load and validate playbooks, reporting every error and warning.
    ///
    /// Each PATH is a playbook file, or a folder: every playbook directly inside it (`*.yaml`,
    /// `*.yml`, but not `*.scenarios.yaml`; sub-folders are not searched). Exit 0 when there
    /// are no errors (warnings allowed unless `--deny-warnings`), 1 otherwise.
    Check(CheckArgs),
    /// Assess one account: its stage, what blocks it, missing facts, activities and plays.
    ///
    /// Exit 0 on success, 1 when the playbook or the facts are invalid.
    Eval(EvalArgs),
    /// Run scenario files; exit 1 when any scenario fails.
    ///
    /// Each PATH is a scenario file, a folder (every `*.scenarios.yaml` directly inside), or
    /// a playbook (its `<name>.scenarios.yaml` beside it). The last line says
    /// `N passed, M failed`; a file that cannot run counts as one failure.
    Test(TestArgs),
    /// Draw a playbook's state machine as a Mermaid or Graphviz (DOT) diagram.
    ///
    /// Solid arrows are successor edges (labelled with the edge's label or guard), dashed
    /// arrows go back to an earlier stage (declared cycles), a "from any stage" node points
    /// (dotted) at the stages enterable from anywhere, and terminal stages have a thick border.
    Graph(GraphArgs),
    /// Print the JSON Schema of the playbook format, for YAML editors.
    Schema,
    /// The funnel of many accounts, streamed: counts, conversion, stalled, weighted pipeline.
    ///
    /// JSON Lines: one facts object per line. CSV: a header of fact paths (such as
    /// `relationship.level`), then one account per row; each cell is read by the fact's
    /// declared type (an empty cell is absent; a list is a JSON array). Records may also carry
    /// the account's id, the time it entered its stage and the deal's amount (see the
    /// `--*-field` options). Each bad record is reported on stderr as `FILE:LINE: error: ...`
    /// and counted as invalid; the run goes on.
    Report(ReportArgs),
}

/// Human text or JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Text for people.
    Human,
    /// JSON for tools.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Playbook files or folders.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The playbook file.
    #[arg(value_name = "PLAYBOOK")]
    playbook: PathBuf,
    /// The account's facts: a JSON or YAML file (by extension; otherwise JSON, then YAML), or
    /// `-` for standard input.
    #[arg(long, value_name = "FILE")]
    facts: PathBuf,
    /// The evaluation time (RFC 3339). Default: the current time (UTC).
    #[arg(long, value_name = "RFC3339", value_parser = parse_timestamp)]
    now: Option<DateTime<Utc>>,
    /// When the account entered its current stage (RFC 3339), for time in stage, stalling and
    /// `stalled` plays.
    #[arg(long, value_name = "RFC3339", value_parser = parse_timestamp)]
    entered_at: Option<DateTime<Utc>>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Language of labels (a BCP-47 tag such as `en`, `zh`, `zh-Hant`).
    #[arg(long, default_value = "en", value_name = "LANG")]
    lang: String,
}

#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// Scenario files, folders, or playbook files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
}

#[derive(Debug, Args)]
pub(crate) struct GraphArgs {
    /// The playbook file.
    #[arg(value_name = "PLAYBOOK")]
    playbook: PathBuf,
    /// Diagram language.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
    /// Language of labels (a BCP-47 tag such as `en`, `zh`).
    #[arg(long, default_value = "en", value_name = "LANG")]
    lang: String,
}

/// How the accounts of `report` are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum InputFormat {
    /// One JSON object per line.
    Jsonl,
    /// A header of fact paths, then one account per row.
    Csv,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The playbook file.
    #[arg(value_name = "PLAYBOOK")]
    playbook: PathBuf,
    /// The accounts: JSON Lines (one facts object per line) or CSV; `-` for standard input.
    #[arg(long, value_name = "FILE")]
    facts: PathBuf,
    /// How the accounts are written. Default: `csv` for a `.csv` file, else `jsonl`.
    #[arg(long, value_enum)]
    input_format: Option<InputFormat>,
    /// The evaluation time (RFC 3339). Default: the current time (UTC).
    #[arg(long, value_name = "RFC3339", value_parser = parse_timestamp)]
    now: Option<DateTime<Utc>>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Language of stage labels in the human output.
    #[arg(long, default_value = "en", value_name = "LANG")]
    lang: String,
    /// The key (JSON) or column (CSV) holding the account's id; a dotted path reads inside
    /// objects. Default: `id`, or else `account` when it holds a string or a number.
    #[arg(long, value_name = "PATH")]
    id_field: Option<String>,
    /// The key or column holding when the account entered its current stage (RFC 3339, or a
    /// YYYY-MM-DD date at midnight UTC), for stalled accounts. Default: `entered_at`.
    #[arg(long, value_name = "PATH")]
    entered_at_field: Option<String>,
    /// The key or column holding the deal's amount (a number), for the weighted pipeline;
    /// it may also be a declared fact. Default: `amount`.
    #[arg(long, value_name = "PATH")]
    amount_field: Option<String>,
    /// Fail (exit 1) when any record is invalid.
    #[arg(long)]
    deny_invalid: bool,
    /// Threads that parse and place JSON Lines records. Default: one per core. The report
    /// and the order of the messages do not depend on it.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
}
