//! The shipped playbooks, compiled into the library, with a typed stage enum each.
//!
//! Each function loads its playbook once (on first use) and returns it; each enum names the
//! playbook's stages in order. A test compares every enum with its YAML, so they cannot drift.
//!
//! ```
//! use salesplay::builtin::{self, KeyAccountSixStepsStage as Step};
//! let playbook = builtin::key_account_six_steps().unwrap();
//! let facts = playbook.facts_from_json(&serde_json::json!({
//!     "account": {"target_locked": true}, "opportunity": {"identified": true},
//!     "relationship": {"level": "acquainted"}
//! })).unwrap();
//! let assessment = playbook.assess(&facts, chrono::DateTime::UNIX_EPOCH);
//! let step = assessment.stage.as_deref().and_then(Step::from_id);
//! assert_eq!(step, Some(Step::BuildTrust));
//! assert_eq!(Step::BuildTrust.id(), "build_trust");
//! ```

use std::sync::OnceLock;

use crate::load::{LoadError, LoadOptions};
use crate::playbook::Playbook;

fn load(text: &str, origin: &str) -> Result<Playbook, LoadError> {
    Playbook::load_str(text, origin, &LoadOptions::default()).map(|l| l.playbook)
}

macro_rules! builtins {
    ($(
        $(#[$doc:meta])*
        $function:ident, $file:literal, $stage:ident { $($variant:ident = $id:literal),+ $(,)? }
    );+ $(;)?) => {
        $(
            $(#[$doc])*
            ///
            /// Loaded once, on first use. Fails only if the shipped YAML is broken, which the
            /// test suite rules out.
            pub fn $function() -> Result<&'static Playbook, &'static LoadError> {
                static CELL: OnceLock<Result<Playbook, LoadError>> = OnceLock::new();
                CELL.get_or_init(|| load(include_str!(concat!("../../../playbooks/", $file)), $file))
                    .as_ref()
            }

            #[doc = concat!("The stages of `", $file, "`, in order.")]
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub enum $stage {
                $(
                    #[doc = concat!("`", $id, "`")]
                    $variant,
                )+
            }

            impl $stage {
                /// Every stage, in playbook order.
                pub const ALL: &'static [$stage] = &[$($stage::$variant),+];

                /// The stage's id in the playbook.
                pub fn id(self) -> &'static str {
                    match self {
                        $($stage::$variant => $id,)+
                    }
                }

                /// The stage with id `id`.
                pub fn from_id(id: &str) -> Option<$stage> {
                    match id {
                        $($id => Some($stage::$variant),)+
                        _ => None,
                    }
                }
            }
        )+

        /// Every shipped playbook with the file it came from and the ids its stage enum lists,
        /// for tests that keep the enums in step with the YAML.
        pub fn catalogue() -> Vec<(&'static str, Result<&'static Playbook, &'static LoadError>, Vec<&'static str>)> {
            vec![$(($file, $function(), $stage::ALL.iter().map(|s| s.id()).collect())),+]
        }
    };
}

builtins! {
    /// Key-account sales in six steps (大客户销售六部曲).
    key_account_six_steps, "key_account_six_steps.yaml", KeyAccountSixStepsStage {
        CustomerAnalysis = "customer_analysis",
        BuildTrust = "build_trust",
        DiscoverNeeds = "discover_needs",
        PresentValue = "present_value",
        WinCommitment = "win_commitment",
        FollowUpService = "follow_up_service",
        Lost = "lost",
    };
}
