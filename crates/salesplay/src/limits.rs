//! Budgets on what a playbook and its inputs may cost.

/// Limits on playbook files, criteria and facts. Exceeding one is an error naming the limit
/// and where it was hit. Embedders raise or lower them with [`crate::LoadOptions`].
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Largest accepted playbook file, in bytes.
    pub max_document_bytes: usize,
    /// Deepest YAML nesting.
    pub max_yaml_depth: usize,
    /// Most YAML nodes and parse events, counting those that aliases expand to (a
    /// 20,000-stage playbook needs about 500,000).
    pub max_yaml_nodes: usize,
    /// Most alias references (`*name`) in one file.
    pub max_yaml_aliases: usize,
    /// Most stages in one playbook.
    pub max_stages: usize,
    /// Most criteria (entry, exit, guards) and plays in one playbook.
    pub max_criteria: usize,
    /// Longest list accepted in a fact.
    pub max_fact_list_len: usize,
    /// Limits on each criterion-language expression.
    pub expr: salesplay_expr::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 16 * 1024 * 1024,
            max_yaml_depth: 64,
            max_yaml_nodes: 600_000,
            max_yaml_aliases: 1_000,
            max_stages: 20_000,
            max_criteria: 200_000,
            max_fact_list_len: 10_000,
            expr: salesplay_expr::Limits::default(),
        }
    }
}
