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
    /// AARRR growth funnel: acquisition, activation, retention, revenue, referral (AARRR 增长漏斗：拉新、活跃、留存、变现、推荐).
    aarrr, "aarrr.yaml", AarrrStage {
        Acquisition = "acquisition",
        Activation = "activation",
        Retention = "retention",
        Revenue = "revenue",
        Referral = "referral",
        Churned = "churned",
    };
    /// B2B marketing: influence the buying committee (B2B 营销要成功影响人).
    b2b_buying_committee, "b2b_buying_committee.yaml", B2bBuyingCommitteeStage {
        IdentifyCommittee = "identify_committee",
        CoverEveryRole = "cover_every_role",
        InfluenceRoles = "influence_roles",
        GroupDecision = "group_decision",
        Customer = "customer",
        Lost = "lost",
    };
    /// Bank customer outreach in six stages (商业银行客户营销六阶段).
    bank_outreach_six_stages, "bank_outreach_six_stages.yaml", BankOutreachSixStagesStage {
        KnowTheBank = "know_the_bank",
        LearnProducts = "learn_products",
        Goodwill = "goodwill",
        ResourceMining = "resource_mining",
        WinWin = "win_win",
        ExpansionIntermediary = "expansion_intermediary",
        Lost = "lost",
    };
    /// Customer sources for building-materials wholesale (建材批发的客户群体).
    building_materials_lead_sources, "building_materials_lead_sources.yaml", BuildingMaterialsLeadSourcesStage {
        Lead = "lead",
        Visit = "visit",
        Quote = "quote",
        Order = "order",
        Lost = "lost",
    };
    /// Five stages of the customer journey (顾客旅程的五个阶段).
    customer_journey_five_stages, "customer_journey_five_stages.yaml", CustomerJourneyFiveStagesStage {
        Awareness = "awareness",
        Consideration = "consideration",
        Purchase = "purchase",
        Usage = "usage",
        Loyalty = "loyalty",
        Churned = "churned",
    };
    /// Five levels of customer need (客户需求的五个层次).
    customer_need_levels, "customer_need_levels.yaml", CustomerNeedLevelsStage {
        Product = "product",
        Service = "service",
        Experience = "experience",
        Relationship = "relationship",
        Success = "success",
        Churned = "churned",
    };
    /// Seven customer tiers (客户七级分层).
    customer_tiers, "customer_tiers.yaml", CustomerTiersStage {
        Profiled = "profiled",
        Reached = "reached",
        Interested = "interested",
        HasNeed = "has_need",
        Converted = "converted",
        RepeatBuyer = "repeat_buyer",
        SuperCustomer = "super_customer",
    };
    /// Key-account marketing in five moves (大客户市场营销五步曲).
    key_account_five_moves, "key_account_five_moves.yaml", KeyAccountFiveMovesStage {
        FindRight = "find_right",
        Attack = "attack",
        Hold = "hold",
        Defend = "defend",
        SelfCultivation = "self_cultivation",
        Lost = "lost",
    };
    /// Key-account project flow in six phases (大客户销售流程管理六阶段).
    key_account_project_six_phases, "key_account_project_six_phases.yaml", KeyAccountProjectSixPhasesStage {
        AccountDevelopment = "account_development",
        ProjectInitiation = "project_initiation",
        Proposal = "proposal",
        Tender = "tender",
        Negotiation = "negotiation",
        Implementation = "implementation",
        Lost = "lost",
    };
    /// Key-account relationship in three phases (大客户营销的3个阶段).
    key_account_relationship_cycle, "key_account_relationship_cycle.yaml", KeyAccountRelationshipCycleStage {
        Establish = "establish",
        Stabilise = "stabilise",
        Strengthen = "strengthen",
        Churned = "churned",
        NotKeyAccount = "not_key_account",
    };
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
    /// Key-account marketing strategy in six steps (大客户营销策略六步曲).
    key_account_strategy_six_steps, "key_account_strategy_six_steps.yaml", KeyAccountStrategySixStepsStage {
        DefineTargetGroup = "define_target_group",
        UnderstandNeeds = "understand_needs",
        DifferentiatedStrategy = "differentiated_strategy",
        FindDecisionMakers = "find_decision_makers",
        ValueAddedServices = "value_added_services",
        TrackAndEvaluate = "track_and_evaluate",
        Lost = "lost",
    };
    /// Marketing push in five steps (营销推广5步法).
    marketing_push_five_steps, "marketing_push_five_steps.yaml", MarketingPushFiveStepsStage {
        Blank = "blank",
        Watching = "watching",
        Preparing = "preparing",
        Action = "action",
        Maintenance = "maintenance",
    };
    /// Campaign review: OGSM (活动复盘：OGSM).
    ogsm_campaign_review, "ogsm_campaign_review.yaml", OgsmCampaignReviewStage {
        Objective = "objective",
        Goals = "goals",
        Strategies = "strategies",
        Measurement = "measurement",
        Review = "review",
    };
    /// Six main stages of selling (销售的六个主要阶段).
    selling_six_stages, "selling_six_stages.yaml", SellingSixStagesStage {
        Preparation = "preparation",
        Prospecting = "prospecting",
        Proposal = "proposal",
        Negotiation = "negotiation",
        Close = "close",
        AfterSales = "after_sales",
        Lost = "lost",
    };
    /// Super key-account selling in six steps (超级大客户销售六步曲).
    super_key_account_six_steps, "super_key_account_six_steps.yaml", SuperKeyAccountSixStepsStage {
        AccountPlanning = "account_planning",
        SparkInterest = "spark_interest",
        CustomerVisit = "customer_visit",
        ProveAndPropose = "prove_and_propose",
        CommercialNegotiation = "commercial_negotiation",
        CloseAndImplement = "close_and_implement",
        Lost = "lost",
    };
    /// To-B key-account sales in five stages (to B 大客户销售整体流程).
    to_b_five_stages, "to_b_five_stages.yaml", ToBFiveStagesStage {
        Acquire = "acquire",
        MakeContact = "make_contact",
        NeedsAnalysis = "needs_analysis",
        DemoAndProposal = "demo_and_proposal",
        NegotiateAndClose = "negotiate_and_close",
        Lost = "lost",
    };
}
