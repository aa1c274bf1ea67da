//! `salesplay graph`: a playbook's state machine as a Mermaid flowchart or a Graphviz digraph.
//!
//! Both formats draw the same things:
//!
//! - a start marker pointing at the first stage;
//! - one box per stage, labelled with its name in the chosen language;
//! - a solid arrow per successor edge going forward, labelled with the edge's label, or else
//!   its guard;
//! - a dashed arrow per edge going back to an earlier stage (or to the stage itself): the
//!   declared cycles;
//! - a "from any stage" node with a dotted arrow to each stage enterable from anywhere;
//! - terminal stages (no successors) with a thick double border (Mermaid: a stadium shape).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use clap::ValueEnum;
use salesplay::{Playbook, Stage, Transition};

use crate::{ColorWhen, Console, Exit, GraphArgs, eval::load_or_report};

/// A diagram language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart (renders on GitHub and in most Markdown viewers).
    Mermaid,
    /// A Graphviz digraph (`dot -Tsvg`).
    Dot,
}

/// Words of the diagram itself, in the chosen language.
fn words(lang: &str) -> (&'static str, &'static str) {
    if lang == "zh" || lang.starts_with("zh-") {
        ("开始", "任意阶段")
    } else {
        ("start", "from any stage")
    }
}

/// Node ids: a stage's own id when it is a plain word a diagram language accepts, else
/// `stage<N>`; every id unique, helper nodes included.
struct Ids {
    stages: Vec<String>,
    start: String,
    anywhere: String,
}

const MERMAID_RESERVED: &[&str] = &[
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "style",
    "class",
    "classdef",
    "click",
    "linkstyle",
    "direction",
    "call",
    "href",
    "default",
];

impl Ids {
    fn new(playbook: &Playbook) -> Ids {
        let mut used = HashSet::new();
        let mut unique = |candidate: String| {
            let mut id = candidate;
            while used.contains(&id) {
                id.push('_');
            }
            used.insert(id.clone());
            id
        };
        let stages = playbook
            .stages()
            .iter()
            .map(|s| {
                let id = s.id();
                let plain = id
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !MERMAID_RESERVED.contains(&id.to_ascii_lowercase().as_str());
                unique(if plain {
                    id.to_string()
                } else {
                    format!("stage{}", s.index())
                })
            })
            .collect();
        let start = unique("start".to_string());
        let anywhere = unique("anywhere".to_string());
        Ids {
            stages,
            start,
            anywhere,
        }
    }

    fn stage(&self, index: usize) -> &str {
        self.stages.get(index).map_or("", String::as_str)
    }
}

/// An edge's text: its label, or else its guard on one line.
fn edge_text(t: &Transition, lang: &str) -> Option<String> {
    match (t.label(), t.guard()) {
        (Some(label), _) => Some(label.get(lang).to_string()),
        (None, Some(guard)) => Some(
            guard
                .source()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        (None, None) => None,
    }
}

fn is_backward(from: &Stage, t: &Transition) -> bool {
    t.to() <= from.index()
}

/// Text inside a quoted Mermaid label: quotes, angle brackets, `#` and `|` as entities.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text inside a quoted DOT string.
fn dot_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Draws `playbook` in `format`, with labels in language `lang`.
///
/// ```
/// use salesplay_cli::{GraphFormat, render_graph};
/// let playbook = salesplay::Playbook::from_yaml_str(r#"
/// id: p
/// facts: { qualified: bool }
/// stages:
///   - { id: talk, name: { en: Talk, zh: 交流 }, exit: [{ id: q, when: qualified }] }
///   - { id: lost, from_anywhere: true }
///   - { id: won, entry: [{ id: q2, when: qualified }] }
/// "#).unwrap();
/// let mermaid = render_graph(&playbook, GraphFormat::Mermaid, "zh");
/// assert!(mermaid.contains(r#"talk["交流"]"#));
/// assert!(mermaid.contains("anywhere -.-> lost"));
/// ```
pub fn render_graph(playbook: &Playbook, format: GraphFormat, lang: &str) -> String {
    match format {
        GraphFormat::Mermaid => mermaid(playbook, lang),
        GraphFormat::Dot => dot(playbook, lang),
    }
}

fn mermaid(playbook: &Playbook, lang: &str) -> String {
    let ids = Ids::new(playbook);
    let (start_word, anywhere_word) = words(lang);
    let mut out = String::new();
    let _ = writeln!(out, "flowchart TD");
    let _ = writeln!(out, "    {}((\"{}\"))", ids.start, mermaid_text(start_word));
    for stage in playbook.stages() {
        let id = ids.stage(stage.index());
        let name = mermaid_text(stage.name().get(lang));
        if stage.is_terminal() {
            let _ = writeln!(out, "    {id}([\"{name}\"])");
        } else {
            let _ = writeln!(out, "    {id}[\"{name}\"]");
        }
    }
    let anywhere: Vec<&Stage> = playbook
        .stages()
        .iter()
        .filter(|s| s.is_from_anywhere())
        .collect();
    if !anywhere.is_empty() {
        let _ = writeln!(
            out,
            "    {}{{{{\"{}\"}}}}",
            ids.anywhere,
            mermaid_text(anywhere_word)
        );
    }
    if !playbook.stages().is_empty() {
        let _ = writeln!(out, "    {} --> {}", ids.start, ids.stage(0));
    }
    for stage in playbook.stages() {
        let from = ids.stage(stage.index());
        for t in stage.next() {
            let to = ids.stage(t.to());
            let arrow = if is_backward(stage, t) { "-.->" } else { "-->" };
            match edge_text(t, lang) {
                Some(text) => {
                    let _ = writeln!(out, "    {from} {arrow}|\"{}\"| {to}", mermaid_text(&text));
                }
                None => {
                    let _ = writeln!(out, "    {from} {arrow} {to}");
                }
            }
        }
    }
    for stage in &anywhere {
        let _ = writeln!(
            out,
            "    {} -.-> {}",
            ids.anywhere,
            ids.stage(stage.index())
        );
    }
    let terminal: Vec<&str> = playbook
        .stages()
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| ids.stage(s.index()))
        .collect();
    let _ = writeln!(out, "    classDef terminal stroke-width:4px");
    let _ = writeln!(out, "    classDef marker fill:#eee,stroke:#999,color:#555");
    if !terminal.is_empty() {
        let _ = writeln!(out, "    class {} terminal", terminal.join(","));
    }
    let mut markers = vec![ids.start.as_str()];
    if !anywhere.is_empty() {
        markers.push(ids.anywhere.as_str());
    }
    let _ = writeln!(out, "    class {} marker", markers.join(","));
    out
}

fn dot(playbook: &Playbook, lang: &str) -> String {
    let ids = Ids::new(playbook);
    let (start_word, anywhere_word) = words(lang);
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", dot_text(playbook.id()));
    let _ = writeln!(
        out,
        "    label=\"{}\";",
        dot_text(playbook.name().get(lang))
    );
    let _ = writeln!(out, "    labelloc=t;");
    let _ = writeln!(out, "    rankdir=TB;");
    let _ = writeln!(out, "    node [shape=box, style=rounded];");
    let _ = writeln!(
        out,
        "    \"{}\" [shape=circle, style=filled, fillcolor=\"#eeeeee\", label=\"{}\"];",
        dot_text(&ids.start),
        dot_text(start_word)
    );
    for stage in playbook.stages() {
        let id = dot_text(ids.stage(stage.index()));
        let name = dot_text(stage.name().get(lang));
        if stage.is_terminal() {
            let _ = writeln!(
                out,
                "    \"{id}\" [label=\"{name}\", peripheries=2, penwidth=2];"
            );
        } else {
            let _ = writeln!(out, "    \"{id}\" [label=\"{name}\"];");
        }
    }
    let anywhere: Vec<&Stage> = playbook
        .stages()
        .iter()
        .filter(|s| s.is_from_anywhere())
        .collect();
    if !anywhere.is_empty() {
        let _ = writeln!(
            out,
            "    \"{}\" [shape=note, style=filled, fillcolor=\"#eeeeee\", label=\"{}\"];",
            dot_text(&ids.anywhere),
            dot_text(anywhere_word)
        );
    }
    if !playbook.stages().is_empty() {
        let _ = writeln!(
            out,
            "    \"{}\" -> \"{}\";",
            dot_text(&ids.start),
            dot_text(ids.stage(0))
        );
    }
    for stage in playbook.stages() {
        let from = dot_text(ids.stage(stage.index()));
        for t in stage.next() {
            let to = dot_text(ids.stage(t.to()));
            let mut attributes = Vec::new();
            if let Some(text) = edge_text(t, lang) {
                attributes.push(format!("label=\"{}\"", dot_text(&text)));
            }
            if is_backward(stage, t) {
                // Back edges do not rank stages: the flow reads top to bottom.
                attributes.push("style=dashed".to_string());
                attributes.push("constraint=false".to_string());
            }
            if attributes.is_empty() {
                let _ = writeln!(out, "    \"{from}\" -> \"{to}\";");
            } else {
                let _ = writeln!(
                    out,
                    "    \"{from}\" -> \"{to}\" [{}];",
                    attributes.join(", ")
                );
            }
        }
    }
    for stage in &anywhere {
        let _ = writeln!(
            out,
            "    \"{}\" -> \"{}\" [style=dotted];",
            dot_text(&ids.anywhere),
            dot_text(ids.stage(stage.index()))
        );
    }
    let _ = writeln!(out, "}}");
    out
}

pub(crate) fn run(
    args: &GraphArgs,
    color: ColorWhen,
    console: &mut Console<'_>,
) -> io::Result<Exit> {
    let Some(playbook) = load_or_report(&args.playbook, color, console)? else {
        return Ok(Exit::Failure);
    };
    console
        .stdout
        .write_all(render_graph(&playbook, args.format, &args.lang).as_bytes())?;
    Ok(Exit::Success)
}

/// The Markdown page of the Mermaid diagram of every playbook in folder `dir` (files as
/// `check` finds them, sorted by name), labels in English. `link_base` is the folder as seen
/// from the page, for links to the playbook files (such as `../playbooks`).
///
/// `docs/diagrams.md` is this page for `playbooks/`; a test keeps it current.
pub fn diagrams_markdown(dir: &Path, link_base: &str) -> Result<String, String> {
    let (files, _) = crate::check::playbook_files(&[dir.to_path_buf()]);
    let mut out = String::new();
    out.push_str("# Playbook diagrams\n\n");
    out.push_str(
        "<!-- Generated by `salesplay graph --format mermaid` for every playbook in playbooks/.\n     \
         Do not edit: run `UPDATE_DIAGRAMS=1 cargo test -p salesplay-cli --test diagrams`. -->\n\n",
    );
    out.push_str(
        "The state machine of each shipped playbook, as `salesplay graph PLAYBOOK --format mermaid` \
         draws it (`--format dot` gives Graphviz, `--lang zh` Chinese labels).\n\n\
         - **Solid arrows** are successor edges, labelled with the edge's label or its guard.\n\
         - **Dashed arrows** go back to an earlier stage: the playbook's declared cycles.\n\
         - **From any stage** points (dotted) at the stages enterable from anywhere, such as lost.\n\
         - **Rounded, thick-bordered stages** are terminal: they have no successors.\n",
    );
    for file in &files {
        let (checked, playbook) = crate::check::load(file);
        let Some(playbook) = playbook else {
            let rendered: String = checked
                .diagnostics
                .iter()
                .map(|d| d.render(&checked.origin, &checked.source))
                .collect();
            return Err(rendered);
        };
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let _ = write!(
            out,
            "\n## {} (`{}`)\n\nSource: [`{name}`]({link_base}/{name})\n\n```mermaid\n{}```\n",
            playbook.name().get("en"),
            playbook.id(),
            render_graph(&playbook, GraphFormat::Mermaid, "en"),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_avoid_keywords_odd_characters_and_helper_names() -> Result<(), String> {
        let playbook = Playbook::from_yaml_str(
            "id: odd\nstages:\n  - { id: start }\n  - { id: end }\n  - { id: 'two words' }\n  - { id: anywhere, from_anywhere: true }\n",
        )
        .map_err(|e| e.to_string())?;
        let ids = Ids::new(&playbook);
        assert_eq!(ids.stages, ["start", "stage1", "stage2", "anywhere"]);
        assert_eq!(
            (ids.start.as_str(), ids.anywhere.as_str()),
            ("start_", "anywhere_")
        );
        let mermaid = render_graph(&playbook, GraphFormat::Mermaid, "en");
        assert!(mermaid.contains("stage1[\"end\"]"), "{mermaid}");
        assert!(mermaid.contains("stage2([\"two words\"])"), "{mermaid}");
        assert!(mermaid.contains("start_ --> start\n"), "{mermaid}");
        assert!(mermaid.contains("anywhere_ -.-> anywhere\n"), "{mermaid}");
        Ok(())
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(
            mermaid_text(r#"a "b" <c> #1 | d"#),
            "a #quot;b#quot; #lt;c#gt; #35;1 #124; d"
        );
        assert_eq!(dot_text("a \"b\" \\ c\nd"), "a \\\"b\\\" \\\\ c\\nd");
    }
}
