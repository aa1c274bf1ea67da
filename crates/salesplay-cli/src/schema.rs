//! `salesplay schema`: the JSON Schema of the playbook format, for YAML editors.

use std::io;

use crate::{Console, Exit};

/// The JSON Schema of the playbook format (generated with `schemars` from the same serde
/// model the loader reads), as pretty JSON ending with a newline.
///
/// `schema/playbook.schema.json` is this text; a test keeps it current, and every shipped
/// playbook points editors at it with
/// `# yaml-language-server: $schema=../schema/playbook.schema.json`.
pub fn playbook_schema() -> String {
    let schema = schemars::schema_for!(salesplay::model::RawPlaybook);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

pub(crate) fn run(console: &mut Console<'_>) -> io::Result<Exit> {
    console.stdout.write_all(playbook_schema().as_bytes())?;
    Ok(Exit::Success)
}
