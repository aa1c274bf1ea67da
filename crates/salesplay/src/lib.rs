//! Sales playbooks as typed state machines.
//!
//! A playbook (YAML) declares typed facts, stages with entry and exit criteria in the
//! criterion language ([`salesplay_expr`]), successor edges, activities and plays. Loading
//! validates everything at once and reports each problem with its `file:line:col`; the result
//! is an immutable [`Playbook`] that assesses accounts.
//!
//! ```
//! use salesplay::Playbook;
//! let playbook = Playbook::from_yaml_str(r#"
//! id: demo
//! facts:
//!   relationship.level: { enum: [acquainted, dating, trusted], ordered: true }
//!   requirements.written: bool
//! stages:
//!   - id: build_trust
//!     exit: [{ id: dating, when: 'relationship.level >= "dating"' }]
//!   - id: discover_needs
//!     entry: [{ id: dating_again, when: 'relationship.level >= "dating"' }]
//!     exit: [{ id: written, when: requirements.written }]
//!   - id: present_value
//!     entry: [{ id: written_again, when: requirements.written }]
//! "#).unwrap();
//! assert_eq!(playbook.stages()[1].id(), "discover_needs");
//! ```
#![warn(missing_docs)]

mod assess;
mod build;
pub mod builtin;
mod diagnostic;
mod facts;
mod gap;
mod graph;
pub mod journey;
mod limits;
mod load;
pub mod model;
mod playbook;
pub mod portfolio;
pub mod testing;

pub use assess::{Assessment, CriterionStatus, PlayMatch, StageStatus};
pub use diagnostic::{CODES, Diagnostic, Severity};
pub use facts::FactsError;
pub use journey::{Journey, JourneyError, Move, MoveError, MoveKind, Note};
pub use limits::Limits;
pub use load::{LoadError, LoadOptions, Loaded, is_playbook_file, load_dir};
pub use playbook::{
    Activity, Criterion, Label, Play, Playbook, Policies, Policy, Stage, Transition,
};
pub use portfolio::{Funnel, FunnelReport, Portfolio};
pub use salesplay_expr as expr;

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn shared_types_are_send_and_sync() {
        assert_send_sync::<crate::Playbook>();
        assert_send_sync::<crate::Assessment>();
        assert_send_sync::<crate::journey::Journey>();
        assert_send_sync::<crate::LoadError>();
        assert_send_sync::<crate::portfolio::FunnelReport>();
    }

    #[test]
    fn a_playbook_is_shared_across_threads() {
        let playbook = std::sync::Arc::new(
            crate::Playbook::from_yaml_str(
                "id: p\nfacts: { ok: bool }\nstages: [{ id: only, entry: [{ id: is_ok, when: ok }] }]\n",
            )
            .unwrap(),
        );
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let playbook = std::sync::Arc::clone(&playbook);
                std::thread::spawn(move || {
                    let facts = playbook
                        .facts_from_json(&serde_json::json!({ "ok": i % 2 == 0 }))
                        .unwrap();
                    playbook.locate(&facts, chrono::DateTime::UNIX_EPOCH)
                })
            })
            .collect();
        let stages: Vec<Option<usize>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(stages, [Some(0), None, Some(0), None]);
    }
}
