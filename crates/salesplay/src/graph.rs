//! Graph checks on the stage graph, all in one place: reachability from the start and whether
//! a terminal stage can be reached. Cycles are allowed: they are always declared explicitly,
//! because implicit successors only go forward.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, Reversed};

use crate::playbook::Playbook;

/// A problem the graph shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    /// No path from the first stage reaches this stage.
    Unreachable(usize),
    /// No terminal stage can be reached from this stage, and it is not on a cycle.
    NoWayOut(usize),
}

/// The stage graph: one node per stage (node index = stage index), one edge per declared or
/// implicit successor, plus an edge from every stage to each stage enterable from anywhere.
pub(crate) fn stage_graph(playbook: &Playbook) -> DiGraph<usize, ()> {
    let mut graph = DiGraph::with_capacity(playbook.stages.len(), playbook.stages.len() * 2);
    let nodes: Vec<NodeIndex> = (0..playbook.stages.len())
        .map(|i| graph.add_node(i))
        .collect();
    let node = |i: usize| nodes.get(i).copied();
    let anywhere: Vec<usize> = playbook
        .stages
        .iter()
        .filter(|s| s.from_anywhere)
        .map(|s| s.index)
        .collect();
    for stage in &playbook.stages {
        let Some(from) = node(stage.index) else {
            continue;
        };
        for t in &stage.next {
            if let Some(to) = node(t.to) {
                graph.add_edge(from, to, ());
            }
        }
        for &target in &anywhere {
            if target != stage.index
                && let Some(to) = node(target)
            {
                graph.add_edge(from, to, ());
            }
        }
    }
    graph
}

pub(crate) fn check(playbook: &Playbook) -> Vec<Finding> {
    let graph = stage_graph(playbook);
    let count = graph.node_count();
    let mut findings = Vec::new();
    if count == 0 {
        return findings;
    }
    let mut reached = vec![false; count];
    let mut dfs = Dfs::new(&graph, NodeIndex::new(0));
    while let Some(n) = dfs.next(&graph) {
        if let Some(r) = reached.get_mut(n.index()) {
            *r = true;
        }
    }
    // Stages enterable from anywhere are reached as soon as any stage is.
    for stage in playbook.stages.iter().filter(|s| s.from_anywhere) {
        if let Some(r) = reached.get_mut(stage.index) {
            *r = true;
        }
    }
    let reversed = Reversed(&graph);
    let mut finishes = vec![false; count];
    for stage in playbook.stages.iter().filter(|s| s.next.is_empty()) {
        let mut back = Dfs::new(reversed, NodeIndex::new(stage.index));
        while let Some(n) = back.next(reversed) {
            if let Some(f) = finishes.get_mut(n.index()) {
                *f = true;
            }
        }
    }
    let mut on_cycle = vec![false; count];
    for component in tarjan_scc(&graph) {
        let cyclic = component.len() > 1
            || component
                .first()
                .is_some_and(|&n| graph.contains_edge(n, n));
        if cyclic {
            for n in component {
                if let Some(c) = on_cycle.get_mut(n.index()) {
                    *c = true;
                }
            }
        }
    }
    for i in 0..count {
        let (r, f, c) = (
            reached.get(i).copied().unwrap_or(true),
            finishes.get(i).copied().unwrap_or(true),
            on_cycle.get(i).copied().unwrap_or(false),
        );
        if !r {
            findings.push(Finding::Unreachable(i));
        } else if !f && !c {
            findings.push(Finding::NoWayOut(i));
        }
    }
    findings
}
