//! Every shipped playbook loads with zero errors and zero warnings, and every scenario file
//! in `playbooks/` passes. Failures print the rustc-style diagnostics and, per scenario,
//! expected against actual for each field.

use std::path::Path;

#[test]
fn shipped_playbooks_and_their_scenarios() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../playbooks");
    let report = salesplay::testing::check_folder(&dir);
    println!("{report}");
    assert!(
        report.playbooks > 0,
        "no playbooks found in {}",
        dir.display()
    );
    let (scenarios, _) = report.counts();
    assert!(scenarios > 0, "no scenarios found in {}", dir.display());
    assert!(report.passed(), "playbook checks failed:\n{report}");
}

#[test]
fn every_playbook_has_at_least_five_scenarios() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../playbooks");
    let report = salesplay::testing::check_folder(&dir);
    let mut short = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !salesplay::is_playbook_file(&path) {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let count = report
            .scenarios
            .iter()
            .filter(|(p, _)| {
                salesplay::testing::playbook_for(p, None)
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    == Some(name.clone())
            })
            .map(|(_, rs)| rs.len())
            .sum::<usize>();
        if count < 5 {
            short.push(format!("{name}: {count} scenarios"));
        }
    }
    assert!(
        short.is_empty(),
        "playbooks with fewer than five scenarios:\n{}",
        short.join("\n")
    );
}
