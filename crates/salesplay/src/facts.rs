//! Binding an account's facts to a playbook: from JSON, YAML or any `Serialize` value.

use std::fmt;

use salesplay_expr::{BindError, Facts, JsonBinder};
use serde::Serialize;

use crate::playbook::Playbook;

/// Facts that do not fit the playbook's declarations: every bad value, each naming its path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FactsError {
    /// One entry per bad value.
    pub errors: Vec<BindError>,
}

impl fmt::Display for FactsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            // A problem with the whole document has no fact path to name.
            if e.path.is_empty() {
                f.write_str(&e.message)?;
            } else {
                write!(f, "{e}")?;
            }
            if let Some(help) = &e.help {
                write!(f, " ({help})")?;
            }
        }
        Ok(())
    }
}

impl FactsError {
    fn single(path: &str, message: String) -> FactsError {
        FactsError {
            errors: vec![BindError {
                path: path.to_string(),
                message,
                help: None,
            }],
        }
    }
}

/// YAML events one account's facts may take (a list of 10,000 records of a few fields fits).
const FACTS_YAML_NODES: usize = 200_000;

impl Playbook {
    /// Binds a JSON document of facts to this playbook's declared facts. Undeclared keys are
    /// ignored; absent and `null` facts are unknown; a value of the wrong type is an error
    /// naming its path.
    pub fn facts_from_json(&self, json: &serde_json::Value) -> Result<Facts, FactsError> {
        Facts::from_json_with(&self.schema, json, self.fact_list_limit)
            .map_err(|errors| FactsError { errors })
    }

    /// A binder that reads facts straight from JSON text, for many records: it skips the
    /// `serde_json::Value` tree [`Playbook::facts_from_json`] needs, binds the same facts, and
    /// applies this playbook's limit on list lengths.
    ///
    /// ```
    /// let playbook = salesplay::Playbook::from_yaml_str(r#"
    /// id: p
    /// facts: { interested: bool }
    /// stages: [{ id: only, entry: [{ id: interested, when: interested }] }]
    /// "#).unwrap();
    /// let binder = playbook.json_binder();
    /// let mut bound = salesplay::expr::Bound::new();
    /// for line in [r#"{"interested": true}"#, r#"{"interested": false}"#] {
    ///     binder.bind_into(line.as_bytes(), &mut bound).unwrap();
    ///     let stage = playbook.locate(bound.facts(), chrono::DateTime::UNIX_EPOCH);
    ///     assert_eq!(stage.is_some(), line.contains("true"));
    /// }
    /// ```
    pub fn json_binder(&self) -> JsonBinder<'_> {
        JsonBinder::new(&self.schema).max_list_len(self.fact_list_limit)
    }

    /// Binds facts given as YAML text.
    pub fn facts_from_yaml(&self, yaml: &str) -> Result<Facts, FactsError> {
        // One account's facts are small: a tighter budget than a playbook's.
        let limits = crate::Limits {
            max_yaml_nodes: FACTS_YAML_NODES,
            ..crate::Limits::default()
        };
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                max_depth: limits.max_yaml_depth,
                max_nodes: limits.max_yaml_nodes,
                max_events: limits.max_yaml_nodes,
                max_aliases: limits.max_yaml_aliases,
                max_anchors: limits.max_yaml_aliases,
                max_recorded_anchor_events: limits.max_yaml_nodes / 10,
            },
        };
        let json: serde_json::Value =
            serde_saphyr::from_str_with_options(yaml, options).map_err(|e| {
                FactsError::single("", crate::load::facts_yaml_message(&e, yaml, &limits))
            })?;
        self.facts_from_json(&json)
    }

    /// Binds facts from any serializable value, such as a CRM's own account struct, without
    /// going through JSON text.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Account { relationship: Relationship }
    /// #[derive(serde::Serialize)]
    /// struct Relationship { level: &'static str }
    ///
    /// let playbook = salesplay::Playbook::from_yaml_str(r#"
    /// id: p
    /// facts: { relationship.level: { enum: [acquainted, dating], ordered: true } }
    /// stages: [{ id: only, entry: [{ id: dating, when: 'relationship.level >= "dating"' }] }]
    /// "#).unwrap();
    /// let facts = playbook.facts_from(&Account { relationship: Relationship { level: "dating" } }).unwrap();
    /// let now = chrono::DateTime::UNIX_EPOCH;
    /// assert_eq!(playbook.assess(&facts, now).stage.as_deref(), Some("only"));
    /// ```
    pub fn facts_from<T: Serialize + ?Sized>(&self, value: &T) -> Result<Facts, FactsError> {
        let json = serde_json::to_value(value)
            .map_err(|e| FactsError::single("", format!("the facts cannot be represented: {e}")))?;
        self.facts_from_json(&json)
    }
}
