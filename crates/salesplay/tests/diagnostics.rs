//! Every playbook diagnostic as the author sees it.
//!
//! `tests/broken/` holds one small playbook per problem, named after the codes it must
//! produce and what it shows: `E1020-unknown-next-stage.yaml`, or
//! `E1010-E0201-E1020-reported-together.yaml` for several codes at once. Each file is loaded,
//! every code in its name must be reported, and the rendered diagnostics (`file:line:col`, the
//! underlined line, the help) are snapshotted under the file's name. Adding a file adds a case.
//!
//! The last two tests keep `docs/playbook-format.md` in step: it has a row for every code,
//! and its example playbook loads without warnings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use salesplay::{CODES, Diagnostic, Playbook, Severity};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken")
}

/// One corpus file: its name, the codes its name promises, and its text.
struct Case {
    file: String,
    codes: Vec<String>,
    text: String,
}

fn is_code(segment: &str) -> bool {
    let mut chars = segment.chars();
    matches!(chars.next(), Some('E' | 'W'))
        && segment.len() == 5
        && chars.all(|c| c.is_ascii_digit())
}

fn corpus() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/broken exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let file = path.file_name().unwrap().to_str().unwrap().to_string();
            let stem = file.trim_end_matches(".yaml");
            let codes: Vec<String> = stem
                .split('-')
                .take_while(|s| is_code(s))
                .map(String::from)
                .collect();
            assert!(
                !codes.is_empty(),
                "{file}: the name must start with the code(s) it shows, such as `E1020-...`"
            );
            let text = std::fs::read_to_string(&path).expect("corpus files are UTF-8");
            Case { file, codes, text }
        })
        .collect()
}

/// Loads a case: `Err` diagnostics when it fails, the warnings when it loads.
fn diagnostics(case: &Case, origin: &str) -> (bool, Vec<Diagnostic>) {
    match Playbook::load_str(&case.text, origin, &Default::default()) {
        Ok(loaded) => (true, loaded.warnings),
        Err(error) => {
            assert_eq!(error.origin, origin);
            assert_eq!(error.source_text, case.text);
            (false, error.diagnostics)
        }
    }
}

#[test]
fn each_broken_playbook_reports_its_codes_as_the_author_sees_them() {
    let cases = corpus();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let origin = format!("tests/broken/{}", case.file);
        let (loaded, found) = diagnostics(case, &origin);
        failures.extend(problems(case, loaded, &found));
        let rendered: String = found
            .iter()
            .map(|d| d.render(&origin, &case.text))
            .collect::<Vec<_>>()
            .join("\n");
        let name = case.file.trim_end_matches(".yaml");
        insta::with_settings!({ description => origin.as_str(), omit_expression => true }, {
            insta::assert_snapshot!(name, rendered);
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What is wrong with the diagnostics of one case; every case is checked before failing.
fn problems(case: &Case, loaded: bool, found: &[Diagnostic]) -> Vec<String> {
    let file = &case.file;
    let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
    let mut out = Vec::new();
    for code in &case.codes {
        if !codes.contains(&code.as_str()) {
            out.push(format!("{file}: expected {code}, got {codes:?}: {found:?}"));
        }
    }
    // A playbook with an error does not load; one with only warnings does.
    let expects_error = case.codes.iter().any(|c| c.starts_with('E'));
    if loaded == expects_error {
        out.push(format!("{file}: loaded = {loaded}, got {codes:?}"));
    }
    for d in found {
        // Warnings come with a playbook that loads, errors with one that does not.
        if (d.severity == Severity::Warning) != loaded {
            out.push(format!("{file}: {d:?} with loaded = {loaded}"));
        }
        // The position reported in JSON is the one the rendering shows.
        if (d.line, d.column) != salesplay::expr::line_col(&case.text, d.start) {
            out.push(format!(
                "{file}: line and column disagree with the offset: {d:?}"
            ));
        }
        if d.start > d.end || d.end > case.text.len() {
            out.push(format!("{file}: span outside the file: {d:?}"));
        }
    }
    out
}

#[test]
fn every_code_has_a_broken_playbook() {
    let cases = corpus();
    for (code, meaning) in CODES {
        assert!(
            cases.iter().any(|c| c.codes.iter().any(|k| k == code)),
            "no file in tests/broken/ shows {code} ({meaning}); add `{code}-<what-it-shows>.yaml`"
        );
    }
}

#[test]
fn corpus_names_only_known_codes() {
    let language: Vec<&str> = salesplay::expr::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    for case in corpus() {
        for code in &case.codes {
            assert!(
                CODES.iter().any(|(c, _)| c == code) || language.contains(&code.as_str()),
                "{}: `{code}` is not a diagnostic code",
                case.file
            );
        }
    }
}

fn format_reference() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/playbook-format.md");
    std::fs::read_to_string(path).expect("docs/playbook-format.md exists")
}

#[test]
fn the_format_reference_lists_every_code() {
    let doc = format_reference();
    for (code, _) in CODES {
        assert!(
            doc.contains(&format!("| {code} |")),
            "docs/playbook-format.md has no table row for {code}"
        );
    }
}

#[test]
fn the_format_reference_example_loads_without_warnings() {
    let doc = format_reference();
    let example = doc
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the reference opens with a yaml example");
    let loaded = Playbook::load_str(example, "docs/playbook-format.md", &Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    assert_eq!(loaded.playbook.stages().len(), 5);
}
