//! The typed stage enums of the built-in playbooks match their YAML, and every shipped
//! playbook is built in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

#[test]
fn stage_enums_match_the_yaml() {
    for (file, playbook, ids) in salesplay::builtin::catalogue() {
        let playbook = playbook.unwrap_or_else(|e| panic!("{file} does not load:\n{e}"));
        let yaml: Vec<&str> = playbook.stages().iter().map(|s| s.id()).collect();
        assert_eq!(ids, yaml, "the stage enum of {file} differs from its YAML");
    }
}

#[test]
fn every_shipped_playbook_is_built_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks");
    let built_in: Vec<&str> = salesplay::builtin::catalogue()
        .iter()
        .map(|(f, _, _)| *f)
        .collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if salesplay::is_playbook_file(&path) {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !built_in.contains(&name.as_str()) {
                missing.push(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "shipped playbooks without a builtin:: function: {missing:?}"
    );
}

#[test]
fn a_fact_of_a_labelled_named_type_takes_its_label() {
    let playbook = salesplay::Playbook::from_yaml_str(
        r#"
id: p
types:
  level: { type: { enum: [low, high], ordered: true }, label: { en: Relationship level, zh: 关系等级 } }
facts:
  relationship.level: level
stages: [{ id: only, entry: [{ id: high, when: 'relationship.level >= "high"' }] }]
"#,
    )
    .unwrap();
    let label = playbook.fact_label("relationship.level").unwrap();
    assert_eq!(label.get("zh"), "关系等级");
}
