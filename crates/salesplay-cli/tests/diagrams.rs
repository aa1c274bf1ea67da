//! `docs/diagrams.md` holds the Mermaid diagram of every shipped playbook, as
//! `salesplay graph` draws it. This test fails when the page is out of date; regenerate it
//! with `UPDATE_DIAGRAMS=1 cargo test -p salesplay-cli --test diagrams`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn docs_diagrams_md_is_current() {
    let generated = salesplay_cli::diagrams_markdown(&root().join("playbooks"), "../playbooks")
        .unwrap_or_else(|errors| panic!("a shipped playbook does not load:\n{errors}"));
    let path = root().join("docs/diagrams.md");
    if std::env::var_os("UPDATE_DIAGRAMS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/diagrams.md is out of date: run `UPDATE_DIAGRAMS=1 cargo test -p salesplay-cli --test diagrams`"
    );
}

#[test]
fn every_shipped_playbook_has_a_diagram() {
    let page = salesplay_cli::diagrams_markdown(&root().join("playbooks"), "../playbooks").unwrap();
    for entry in std::fs::read_dir(root().join("playbooks")).unwrap() {
        let path = entry.unwrap().path();
        if salesplay::is_playbook_file(&path) {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            assert!(
                page.contains(&format!("(../playbooks/{name})")),
                "{name} has no diagram"
            );
        }
    }
}
