//! `salesplay report`: the funnel of many accounts, streamed one record at a time.
//!
//! Records are read one at a time into a reused buffer and folded into a
//! [`salesplay::Funnel`], so memory stays bounded whatever the number of accounts. A bad
//! record (malformed JSON, a truncated line, facts of the wrong type, an unreadable CSV row)
//! is reported on stderr as `FILE:LINE: error: ...`, counted as invalid, and the run goes on:
//! `accounts` is always `valid + invalid`.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::sync::{Mutex, mpsc};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use salesplay::FactsError;
use salesplay::expr::{Bound, Captured, JsonBinder, JsonFactsError, JsonKind, Type};
use salesplay::portfolio::FunnelReport;
use salesplay::{Funnel, Playbook};
use serde_json::{Map, Value};

use crate::eval::{load_or_report, write_json_as_of};
use crate::input::{MAX_FACTS_BYTES, kind_words};
use crate::style::{Paint, plural};
use crate::{ColorWhen, Console, Exit, InputFormat, OutputFormat, ReportArgs, wants_colour};

/// Stalled accounts listed in the human output (the JSON output has up to 100).
const STALLED_SHOWN: usize = 10;

/// Inputs at least this large get a progress bar on a terminal.
const PROGRESS_FROM_BYTES: u64 = 1024 * 1024;

/// What a record says besides its facts.
#[derive(Debug, Default)]
struct Extras {
    id: Option<String>,
    entered_at: Option<DateTime<Utc>>,
    amount: Option<f64>,
}

/// Where the extras are read from.
struct ExtraFields<'a> {
    /// Candidates for the id, in order.
    id: Vec<&'a str>,
    entered_at: &'a str,
    amount: &'a str,
    /// Which fields were named on the command line. A default name that holds an object or a
    /// list (a group of facts, such as `account` for `account.target_locked`) is not an extra;
    /// a field named on the command line must hold the right kind of value.
    explicit: [bool; 3],
}

impl<'a> ExtraFields<'a> {
    fn new(args: &'a ReportArgs) -> ExtraFields<'a> {
        ExtraFields {
            id: match &args.id_field {
                Some(field) => vec![field.as_str()],
                None => vec!["id", "account"],
            },
            entered_at: args.entered_at_field.as_deref().unwrap_or("entered_at"),
            amount: args.amount_field.as_deref().unwrap_or("amount"),
            explicit: [
                args.id_field.is_some(),
                args.entered_at_field.is_some(),
                args.amount_field.is_some(),
            ],
        }
    }
}

/// The stream of records, the funnel they go into and where problems are reported.
struct Run<'c, 'p, 'w> {
    funnel: Funnel<'p>,
    now: DateTime<Utc>,
    file: String,
    stderr: &'w mut dyn Write,
    paint: Paint,
    progress: &'c ProgressBar,
}

impl<'p> Run<'_, 'p, '_> {
    fn invalid(&mut self, line: u64, message: &str) -> io::Result<()> {
        self.funnel.add_invalid(&format!("line {line}"));
        self.report_invalid(line, message)
    }

    /// Writes a bad record's message (it is counted elsewhere).
    fn report_invalid(&mut self, line: u64, message: &str) -> io::Result<()> {
        let text = format!(
            "{}:{line}: {}: {message}\n",
            self.file,
            self.paint.error("error")
        );
        let stderr = &mut *self.stderr;
        self.progress.suspend(|| stderr.write_all(text.as_bytes()))
    }

    /// Adds a placed batch to the funnel and reports its bad records; returns the batch for
    /// its buffers to be reused.
    fn apply(&mut self, placed: Placed<'p>) -> io::Result<Batch> {
        let Placed {
            funnel,
            problems,
            batch,
        } = placed;
        self.funnel =
            std::mem::replace(&mut self.funnel, Funnel::new(funnel.playbook())).merge(funnel);
        for (line, message) in &problems {
            self.report_invalid(*line, message)?;
        }
        if !self.progress.is_hidden() {
            self.progress.inc(batch.consumed);
        }
        Ok(batch)
    }

    fn warn(&mut self, message: &str) -> io::Result<()> {
        let text = format!(
            "{}: {}: {message}\n",
            self.file,
            self.paint.warning("warning")
        );
        let stderr = &mut *self.stderr;
        self.progress.suspend(|| stderr.write_all(text.as_bytes()))
    }

    fn add(
        &mut self,
        playbook: &Playbook,
        line: u64,
        document: &Value,
        extras: Extras,
    ) -> io::Result<()> {
        match playbook.facts_from_json(document) {
            Ok(facts) => {
                self.funnel.add_with(
                    &facts,
                    self.now,
                    extras.entered_at,
                    extras.id.as_deref(),
                    extras.amount,
                );
                Ok(())
            }
            Err(e) => self.invalid(line, &e.to_string()),
        }
    }
}

pub(crate) fn run(
    args: &ReportArgs,
    color: ColorWhen,
    console: &mut Console<'_>,
) -> io::Result<Exit> {
    let Some(playbook) = load_or_report(&args.playbook, color, console)? else {
        return Ok(Exit::Failure);
    };
    let paint = Paint {
        on: wants_colour(color, console, true),
    };
    let stdin = args.facts.as_os_str() == "-";
    let format = args.input_format.unwrap_or_else(|| {
        let csv = args
            .facts
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if csv {
            InputFormat::Csv
        } else {
            InputFormat::Jsonl
        }
    });
    let file_name = if stdin {
        "<stdin>".to_string()
    } else {
        args.facts.display().to_string()
    };
    let now = args.now.unwrap_or_else(|| console.now());
    let mut file_reader;
    let (reader, size): (&mut dyn BufRead, Option<u64>) = if stdin {
        (&mut *console.stdin, None)
    } else {
        match std::fs::File::open(&args.facts) {
            Ok(file) => {
                let size = file.metadata().ok().map(|m| m.len());
                file_reader = io::BufReader::with_capacity(64 * 1024, file);
                (&mut file_reader, size)
            }
            Err(e) => {
                writeln!(
                    console.stderr,
                    "{file_name}: {}: cannot read the accounts: {e}",
                    paint.error("error")
                )?;
                return Ok(Exit::Failure);
            }
        }
    };
    let progress = progress_bar(console.stderr_is_terminal, size);
    let mut run = Run {
        funnel: Funnel::new(&playbook),
        now,
        file: file_name,
        stderr: &mut *console.stderr,
        paint,
        progress: &progress,
    };
    let fields = ExtraFields::new(args);
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let outcome = match format {
        InputFormat::Jsonl => read_jsonl(&playbook, reader, &fields, jobs, &mut run),
        InputFormat::Csv => read_csv(&playbook, reader, &fields, &mut run),
    };
    progress.finish_and_clear();
    if let Err(e) = outcome {
        writeln!(
            run.stderr,
            "{}: {}: cannot read the accounts: {e}",
            run.file,
            paint.error("error")
        )?;
        return Ok(Exit::Failure);
    }
    let report = run.funnel.report();
    if report.invalid > 0 {
        writeln!(
            console.stderr,
            "{}: {} of {} invalid",
            args.facts.display(),
            plural(report.invalid, "record", "records"),
            report.accounts
        )?;
    }
    match args.format {
        OutputFormat::Json => write_json_as_of(console.stdout, &report, now)?,
        OutputFormat::Human => write_report(console.stdout, &playbook, &report, now, &args.lang)?,
    }
    Ok(if args.deny_invalid && report.invalid > 0 {
        Exit::Failure
    } else {
        Exit::Success
    })
}

fn progress_bar(terminal: bool, size: Option<u64>) -> ProgressBar {
    if !terminal {
        return ProgressBar::hidden();
    }
    match size {
        Some(size) if size < PROGRESS_FROM_BYTES => ProgressBar::hidden(),
        Some(size) => {
            let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} ({eta} left) {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        }
        None => {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} {bytes} read {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar
        }
    }
}

/// Reads one line onto the end of `data` (without its line break), keeping at most `max`
/// bytes of it. Returns the bytes consumed and whether the line was longer than `max` (then
/// nothing of it is kept), or `None` at the end of the input.
fn next_line(
    reader: &mut dyn BufRead,
    data: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<(usize, bool)>> {
    let start = data.len();
    let mut consumed = 0usize;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed > 0).then_some((consumed, too_long)));
        }
        let (chunk, done) = match find_newline(available) {
            Some(i) => (available.split_at(i + 1).0, true),
            None => (available, false),
        };
        if !too_long {
            if data.len() - start + chunk.len() > max.saturating_add(2) {
                too_long = true;
                data.truncate(start);
            } else {
                data.extend_from_slice(chunk);
            }
        }
        let n = chunk.len();
        reader.consume(n);
        consumed += n;
        if done {
            while data.len() > start && data.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
                data.pop();
            }
            return Ok(Some((consumed, too_long)));
        }
    }
}

/// The position of the first `\n` in `bytes`, eight bytes at a time.
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const NEWLINES: u64 = ONES * b'\n' as u64;
    let mut words = bytes.chunks_exact(8);
    let mut offset = 0usize;
    for word in &mut words {
        let eight: [u8; 8] = word.try_into().unwrap_or_default();
        let x = u64::from_le_bytes(eight) ^ NEWLINES;
        // A zero byte in `x` is a newline in the word (the classic has-zero-byte test).
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            return word.iter().position(|&b| b == b'\n').map(|i| offset + i);
        }
        offset += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| offset + i)
}

/// Lines of a batch, at most.
const BATCH_LINES: usize = 1024;
/// Bytes of a batch: a batch closes at the first line that reaches it.
const BATCH_BYTES: usize = 1024 * 1024;

/// JSON Lines read ahead and handed to a worker as one unit. Batches close after
/// [`BATCH_LINES`] lines or [`BATCH_BYTES`] bytes, so where they split depends on the input
/// alone, and so does the report (sums are added batch by batch in input order).
#[derive(Default)]
struct Batch {
    seq: u64,
    data: Vec<u8>,
    lines: Vec<BatchLine>,
    /// Bytes consumed from the input, line breaks included.
    consumed: u64,
}

struct BatchLine {
    number: u64,
    start: usize,
    end: usize,
    too_long: bool,
}

/// A batch placed: its own funnel, the messages of its bad records in line order, and the
/// batch itself for its buffers to be reused.
struct Placed<'p> {
    funnel: Funnel<'p>,
    problems: Vec<(u64, String)>,
    batch: Batch,
}

/// Reads the next batch into `batch` (cleared first); `false` at the end of the input.
fn read_batch(
    reader: &mut dyn BufRead,
    batch: &mut Batch,
    first_line: u64,
    max: usize,
) -> io::Result<bool> {
    batch.data.clear();
    batch.lines.clear();
    batch.consumed = 0;
    let mut number = first_line;
    while batch.lines.len() < BATCH_LINES && batch.data.len() < BATCH_BYTES {
        let start = batch.data.len();
        let Some((consumed, too_long)) = next_line(reader, &mut batch.data, max)? else {
            break;
        };
        batch.consumed += u64::try_from(consumed).unwrap_or(0);
        batch.lines.push(BatchLine {
            number,
            start,
            end: batch.data.len(),
            too_long,
        });
        number += 1;
    }
    Ok(!batch.lines.is_empty())
}

/// What every worker shares.
struct Placer<'a, 'p> {
    playbook: &'p Playbook,
    binder: &'a JsonBinder<'p>,
    captures: &'a Captures,
    fields: &'a ExtraFields<'a>,
    now: DateTime<Utc>,
}

impl<'p> Placer<'_, 'p> {
    /// Binds and places every record of `batch`.
    fn place(&self, batch: Batch, bound: &mut Bound) -> Placed<'p> {
        let mut funnel = Funnel::new(self.playbook);
        let mut problems = Vec::new();
        for line in &batch.lines {
            let mut record = batch.data.get(line.start..line.end).unwrap_or_default();
            if line.too_long {
                problems.push((
                    line.number,
                    format!("the record is over the limit of {MAX_FACTS_BYTES} bytes"),
                ));
            } else {
                if line.number == 1 {
                    // A byte-order mark some editors write; not part of the record.
                    record = record.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(record);
                }
                if record.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match self.place_record(record, bound) {
                    Ok(extras) => {
                        funnel.add_with(
                            bound.facts(),
                            self.now,
                            extras.entered_at,
                            extras.id.as_deref(),
                            extras.amount,
                        );
                    }
                    Err(message) => problems.push((line.number, message)),
                }
            }
        }
        for (number, _) in &problems {
            funnel.add_invalid(&format!("line {number}"));
        }
        Placed {
            funnel,
            problems,
            batch,
        }
    }

    /// Binds one record into `bound` and reads its extras, or says what is wrong with it.
    fn place_record(&self, record: &[u8], bound: &mut Bound) -> Result<Extras, String> {
        let facts_error = match self.binder.bind_into(record, bound) {
            Ok(()) => None,
            Err(JsonFactsError::Syntax(e)) => return Err(json_error(&e)),
            Err(JsonFactsError::NotAnObject(kind)) => {
                return Err(format!(
                    "a record must be a JSON object of facts, found {}",
                    kind_words(kind)
                ));
            }
            Err(JsonFactsError::Facts(errors)) => Some(FactsError { errors }.to_string()),
            Err(other) => Some(other.to_string()),
        };
        // A bad extra is reported before bad facts, as it names the record itself.
        let extras = captured_extras(bound, self.captures, self.fields)?;
        match facts_error {
            Some(e) => Err(e),
            None => Ok(extras),
        }
    }
}

fn read_jsonl<'p>(
    playbook: &'p Playbook,
    reader: &mut dyn BufRead,
    fields: &ExtraFields<'_>,
    jobs: usize,
    run: &mut Run<'_, 'p, '_>,
) -> io::Result<()> {
    let max = usize::try_from(MAX_FACTS_BYTES).unwrap_or(usize::MAX);
    // Each line is bound straight from its text: no `serde_json::Value` tree.
    let mut binder = playbook.json_binder();
    let captures = Captures {
        id: fields.id.iter().map(|f| binder.capture(f)).collect(),
        entered_at: binder.capture(fields.entered_at),
        amount: binder.capture(fields.amount),
    };
    let placer = Placer {
        playbook,
        binder: &binder,
        captures: &captures,
        fields,
        now: run.now,
    };
    let mut next_line_number = 1u64;
    if jobs <= 1 {
        let mut bound = Bound::new();
        let mut batch = Batch::default();
        while read_batch(reader, &mut batch, next_line_number, max)? {
            next_line_number += batch.lines.len() as u64;
            let placed = placer.place(std::mem::take(&mut batch), &mut bound);
            batch = run.apply(placed)?;
        }
        return Ok(());
    }
    let (work_tx, work_rx) = mpsc::sync_channel::<Batch>(jobs * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<(u64, Placed<'p>)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let done_tx = done_tx.clone();
            let (work_rx, placer) = (&work_rx, &placer);
            scope.spawn(move || {
                let mut bound = Bound::new();
                loop {
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(batch) = next else { return };
                    let seq = batch.seq;
                    if done_tx
                        .send((seq, placer.place(batch, &mut bound)))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        // Batches come back in any order; they are applied in input order.
        let mut pending = BTreeMap::new();
        let mut next_seq = 0u64;
        let mut spare: Vec<Batch> = Vec::new();
        let mut read = Ok(());
        for seq in 0u64.. {
            let mut batch = spare.pop().unwrap_or_default();
            batch.seq = seq;
            match read_batch(reader, &mut batch, next_line_number, max) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    read = Err(e);
                    break;
                }
            }
            next_line_number += batch.lines.len() as u64;
            if work_tx.send(batch).is_err() {
                break;
            }
            while let Ok((seq, placed)) = done_rx.try_recv() {
                pending.insert(seq, placed);
            }
            apply_ready(&mut pending, &mut next_seq, &mut spare, run)?;
        }
        drop(work_tx);
        for (seq, placed) in done_rx {
            pending.insert(seq, placed);
            apply_ready(&mut pending, &mut next_seq, &mut spare, run)?;
        }
        read
    })
}

/// Applies the placed batches that are next in input order.
fn apply_ready<'p>(
    pending: &mut BTreeMap<u64, Placed<'p>>,
    next_seq: &mut u64,
    spare: &mut Vec<Batch>,
    run: &mut Run<'_, 'p, '_>,
) -> io::Result<()> {
    while let Some(placed) = pending.remove(next_seq) {
        spare.push(run.apply(placed)?);
        *next_seq += 1;
    }
    Ok(())
}

/// Where the binder keeps the extras of a JSON record.
struct Captures {
    /// One per id candidate, in order.
    id: Vec<usize>,
    entered_at: usize,
    amount: usize,
}

fn captured_kind(value: &Captured) -> &'static str {
    kind_words(match value {
        Captured::Null => JsonKind::Null,
        Captured::Bool(_) => JsonKind::Bool,
        Captured::Number(_) => JsonKind::Number,
        Captured::String(_) => JsonKind::String,
        Captured::List => JsonKind::List,
        _ => JsonKind::Object,
    })
}

fn captured_extras(
    bound: &Bound,
    captures: &Captures,
    fields: &ExtraFields<'_>,
) -> Result<Extras, String> {
    let mut extras = Extras::default();
    let present = |capture: usize, explicit: bool| {
        bound.captured(capture).filter(|v| {
            !matches!(v, Captured::Null)
                && (explicit || !matches!(v, Captured::List | Captured::Object))
        })
    };
    let [id_explicit, entered_at_explicit, amount_explicit] = fields.explicit;
    if let Some((field, value)) = fields
        .id
        .iter()
        .zip(&captures.id)
        .find_map(|(f, &c)| present(c, id_explicit).map(|v| (f, v)))
    {
        extras.id = Some(match value {
            Captured::String(s) => s.clone(),
            Captured::Number(n) => n.to_string(),
            other => {
                return Err(format!(
                    "`{field}` (the account's id) must be a string or a number, found {}",
                    captured_kind(other)
                ));
            }
        });
    }
    if let Some(value) = present(captures.entered_at, entered_at_explicit) {
        let Captured::String(text) = value else {
            return Err(format!(
                "`{}` must be an RFC 3339 timestamp or a YYYY-MM-DD date, found {}",
                fields.entered_at,
                captured_kind(value)
            ));
        };
        extras.entered_at = Some(parse_entered_at(fields.entered_at, text)?);
    }
    if let Some(value) = present(captures.amount, amount_explicit) {
        let amount = match value {
            Captured::Number(n) => n.as_f64(),
            _ => None,
        };
        extras.amount = Some(amount.ok_or_else(|| {
            format!(
                "`{}` (the deal's amount) must be a number, found {}",
                fields.amount,
                captured_kind(value)
            )
        })?);
    }
    Ok(extras)
}

/// A JSON error in one line, in an author's words.
fn json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let message = full
        .rfind(" at line ")
        .and_then(|i| full.get(..i))
        .unwrap_or(&full);
    if e.is_eof() {
        format!("the record ends early (a truncated line?): {message}")
    } else {
        format!("malformed JSON at column {}: {message}", e.column())
    }
}

fn parse_entered_at(field: &str, text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    // The common case first, without chrono's format parser: one per record of a big file.
    if let Some(date) = salesplay::expr::parse_date(text) {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            format!("`{field}` is `{text}`, not an RFC 3339 timestamp or a YYYY-MM-DD date")
        })
}

/// What a CSV column holds.
#[derive(Debug)]
struct Column {
    name: String,
    /// The declared type, when the column is a fact.
    fact: Option<Type>,
}

/// A reader that notes where its lines end, so a byte offset can be turned into a line
/// number whatever the line endings. Offsets behind the reader's position are folded into a
/// count, so memory stays bounded by the read-ahead.
struct LineCounter<R> {
    inner: R,
    offset: u64,
    newlines: std::cell::RefCell<(u64, std::collections::VecDeque<u64>)>,
}

impl<R> LineCounter<R> {
    fn new(inner: R) -> Self {
        LineCounter {
            inner,
            offset: 0,
            newlines: std::cell::RefCell::new((0, std::collections::VecDeque::new())),
        }
    }

    /// The 1-based line of the byte at `offset` (offsets must not decrease between calls).
    fn line_of(&self, offset: u64) -> u64 {
        let mut state = self.newlines.borrow_mut();
        let (passed, ahead) = &mut *state;
        // `<=`: with CRLF endings the csv crate starts a record at the `\n` of the line before.
        while ahead.front().is_some_and(|&nl| nl <= offset) {
            ahead.pop_front();
            *passed += 1;
        }
        *passed + 1
    }
}

impl<R: io::Read> io::Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut newlines = self.newlines.borrow_mut();
        for (i, byte) in buf.iter().take(n).enumerate() {
            if *byte == b'\n' {
                newlines.1.push_back(self.offset + i as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

fn read_csv(
    playbook: &Playbook,
    reader: &mut dyn BufRead,
    fields: &ExtraFields<'_>,
    run: &mut Run<'_, '_, '_>,
) -> io::Result<()> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(LineCounter::new(reader));
    let headers = match csv.byte_headers() {
        Ok(headers) => headers.clone(),
        Err(e) => return Err(io::Error::other(format!("cannot read the CSV header: {e}"))),
    };
    let mut columns = Vec::with_capacity(headers.len());
    for (i, raw) in headers.iter().enumerate() {
        let name = std::str::from_utf8(raw)
            .map_err(|_| {
                io::Error::other(format!("column {} of the header is not valid UTF-8", i + 1))
            })?
            .trim()
            .to_string();
        if columns.iter().any(|c: &Column| c.name == name) {
            return Err(io::Error::other(format!(
                "the header names column `{name}` twice"
            )));
        }
        let fact = playbook.schema().lookup(&name).map(|(_, ty)| ty.clone());
        let extra = fields.id.contains(&name.as_str())
            || name == fields.entered_at
            || name == fields.amount;
        if fact.is_none() && !extra {
            run.warn(&format!(
                "column `{name}` is not a declared fact of `{}`; it is ignored",
                playbook.id()
            ))?;
        }
        columns.push(Column { name, fact });
    }
    let mut record = csv::ByteRecord::new();
    let mut last_byte = 0u64;
    loop {
        let read = csv.read_byte_record(&mut record);
        let position = match &read {
            Ok(_) => record.position().cloned(),
            Err(e) => e.position().cloned(),
        };
        if let Some(p) = &position {
            run.progress.inc(p.byte().saturating_sub(last_byte));
            last_byte = p.byte();
        }
        // The csv crate miscounts lines ended by CRLF; count them from the bytes instead.
        let line = position
            .as_ref()
            .map_or(0, |p| csv.get_ref().line_of(p.byte()));
        match read {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(_) => return Err(io::Error::other(e.to_string())),
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => {
                    run.invalid(
                        line,
                        &format!("the row has {len} fields, but the header has {expected_len}"),
                    )?;
                    continue;
                }
                _ => {
                    run.invalid(line, &format!("unreadable row: {e}"))?;
                    continue;
                }
            },
        }
        match csv_row(&record, &columns, fields) {
            Ok((document, extras)) => run.add(playbook, line, &document, extras)?,
            Err(problems) => run.invalid(line, &problems.join("; "))?,
        }
    }
}

/// One CSV row as a facts document (flat dotted keys) and its extras; or every bad cell.
fn csv_row(
    record: &csv::ByteRecord,
    columns: &[Column],
    fields: &ExtraFields<'_>,
) -> Result<(Value, Extras), Vec<String>> {
    let mut document = Map::new();
    let mut extras = Extras::default();
    let mut problems = Vec::new();
    for (column, raw) in columns.iter().zip(record.iter()) {
        let Ok(cell) = std::str::from_utf8(raw) else {
            problems.push(format!("column `{}` is not valid UTF-8", column.name));
            continue;
        };
        if cell.trim().is_empty() {
            continue;
        }
        let name = column.name.as_str();
        let mut bad_fact = false;
        if let Some(ty) = &column.fact {
            match cell_value(cell, ty) {
                Ok(value) => {
                    document.insert(column.name.clone(), value);
                }
                Err(e) => {
                    problems.push(format!("column `{name}`: {e}"));
                    bad_fact = true;
                }
            }
        }
        if fields.id.contains(&name) && extras.id.is_none() {
            extras.id = Some(cell.trim().to_string());
        }
        if name == fields.entered_at {
            match parse_entered_at(name, cell) {
                Ok(t) => extras.entered_at = Some(t),
                Err(e) => problems.push(e),
            }
        }
        if name == fields.amount && !bad_fact {
            match cell.trim().parse::<f64>() {
                Ok(a) if a.is_finite() => extras.amount = Some(a),
                _ => problems.push(format!(
                    "`{name}` (the deal's amount) is `{cell}`, not a number"
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok((Value::Object(document), extras))
    } else {
        Err(problems)
    }
}

/// A CSV cell as the JSON value of a fact of type `ty`.
fn cell_value(cell: &str, ty: &Type) -> Result<Value, String> {
    let text = cell.trim();
    match ty {
        Type::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not true or false")),
        },
        Type::Int => text
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{text}` is not a whole number")),
        Type::Number => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{text}` is not a number")),
        Type::List(_) | Type::Record(_) => {
            serde_json::from_str(text).map_err(|e| format!("`{text}` is not a JSON list ({e})"))
        }
        Type::String => Ok(Value::String(cell.to_string())),
        _ => Ok(Value::String(text.to_string())),
    }
}

/// Writes the funnel for people.
fn write_report(
    out: &mut dyn Write,
    playbook: &Playbook,
    report: &FunnelReport,
    now: DateTime<Utc>,
    lang: &str,
) -> io::Result<()> {
    writeln!(
        out,
        "funnel:    {} ({} v{})",
        playbook.name().get(lang),
        report.playbook,
        report.version
    )?;
    writeln!(
        out,
        "as of:     {}",
        now.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    )?;
    writeln!(
        out,
        "accounts:  {} read: {} valid, {} invalid; {} in no stage",
        report.accounts,
        report.accounts.saturating_sub(report.invalid),
        report.invalid,
        report.not_entered
    )?;
    writeln!(out)?;
    let header = [
        "count",
        "reached",
        "advanced",
        "conversion",
        "stalled",
        "probability",
        "weighted",
    ];
    let rows: Vec<([String; 7], String)> = report
        .stages
        .iter()
        .map(|stage| {
            let name = playbook
                .stage(&stage.id)
                .map_or(stage.id.as_str(), |s| s.name().get(lang));
            let conversion = stage
                .conversion
                .map_or_else(|| "-".to_string(), |c| format!("{:.1}%", c * 100.0));
            let probability = stage
                .probability
                .map_or_else(|| "-".to_string(), |p| format!("{}%", round2(p * 100.0)));
            (
                [
                    stage.count.to_string(),
                    stage.reached.to_string(),
                    stage.advanced.to_string(),
                    conversion,
                    stage.stalled.to_string(),
                    probability,
                    format!("{:.2}", stage.weighted),
                ],
                format!("{name} ({})", stage.id),
            )
        })
        .collect();
    let widths: Vec<usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .filter_map(|(cells, _)| cells.get(i).map(String::len))
                .chain([h.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str], last: &str| {
        let mut text = String::new();
        for (cell, width) in cells.iter().zip(&widths) {
            text.push_str(&format!("{cell:>width$}  "));
        }
        text.push_str(last);
        text
    };
    writeln!(out, "{}", line(&header, "stage"))?;
    for (cells, name) in &rows {
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells, name))?;
    }
    writeln!(out)?;
    let by = match report.weighted_by {
        salesplay::portfolio::WeightedBy::Amount => "amount × probability",
        salesplay::portfolio::WeightedBy::Count => "accounts × probability",
    };
    writeln!(
        out,
        "weighted pipeline: {:.2} ({by})",
        report.weighted_pipeline
    )?;
    if report.stalled_total == 0 {
        writeln!(out, "stalled: none")?;
    } else {
        writeln!(
            out,
            "stalled: {}, longest first:",
            plural(report.stalled_total, "account", "accounts")
        )?;
        for s in report.stalled.iter().take(STALLED_SHOWN) {
            let name = playbook
                .stage(&s.stage)
                .map_or(s.stage.as_str(), |st| st.name().get(lang));
            writeln!(
                out,
                "  {:>5} days  {}  in {name} ({})",
                s.days,
                s.account.as_deref().unwrap_or("(no id)"),
                s.stage
            )?;
        }
        let shown = report.stalled.len().min(STALLED_SHOWN);
        if shown < report.stalled_total {
            writeln!(out, "  ... and {} more", report.stalled_total - shown)?;
        }
    }
    if report.invalid > 0 {
        let mut records = report.invalid_records.join(", ");
        if report.invalid_records.len() < report.invalid {
            records.push_str(", ...");
        }
        writeln!(out, "invalid: {records}")?;
    }
    Ok(())
}

/// `x` rounded to two decimals, without trailing zeros.
fn round2(x: f64) -> String {
    let text = format!("{x:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}
