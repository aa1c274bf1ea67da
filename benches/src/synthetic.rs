//! Synthetic inputs for the engine benches: a deterministic random source and generated
//! playbook texts whose size is a parameter.
//!
//! Everything here is deterministic, so two runs of a bench time the same work.

use std::fmt::Write as _;

/// A 64-bit linear congruential generator (Knuth's MMIX constants): deterministic, tiny and
/// good enough to spread benchmark accounts over stages. Not for anything else.
#[derive(Debug, Clone)]
pub struct Lcg {
    state: u64,
}

impl Lcg {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 32 random bits (the high half of the state, the better-mixed one).
    pub fn next_u32(&mut self) -> u32 {
        self.state = self
            .state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // The high half of the state; the shift leaves exactly 32 bits.
        u32::try_from(self.state >> 32).unwrap_or(u32::MAX)
    }

    /// A number in `0..bound` (`bound` must be above 0; 0 gives 0). The slight modulo bias is
    /// harmless here.
    pub fn below(&mut self, bound: u32) -> u32 {
        self.next_u32().checked_rem(bound).unwrap_or(0)
    }

    /// `true` with probability `numerator / denominator`.
    pub fn chance(&mut self, numerator: u32, denominator: u32) -> bool {
        self.below(denominator) < numerator
    }
}

/// The text of a playbook with `stages` stages in a chain and `plays` plays.
///
/// Stage `s{i}` reads two facts of its own, `s{i}.done: bool` and `s{i}.score: int`:
///
/// - entry: `s{i-1}.done` (the first stage: `has(s0.score)`);
/// - exit: `s{i}.done && s{i}.score >= 3`, so each entry follows from the previous exit and
///   the gap lint has a real implication to prove at every step;
/// - a name in two languages, `max_days` and a probability, as the shipped playbooks have.
///
/// Play `p{j}` is scoped to stage `s{j mod stages}` and recommends when that stage's score is
/// low. The playbook loads without errors or warnings (the benches check it).
pub fn chain_playbook(stages: usize, plays: usize) -> String {
    // About 330 bytes of YAML per stage and 120 per play.
    let mut yaml = String::with_capacity(400 * stages + 150 * plays + 200);
    let _ = writeln!(yaml, "id: synthetic_{stages}_{plays}");
    let _ = writeln!(yaml, "version: 1");
    let _ = writeln!(
        yaml,
        "name: {{ en: Synthetic chain of {stages} stages, zh: 合成的 {stages} 阶段流程 }}"
    );
    yaml.push_str("facts:\n");
    for i in 0..stages {
        let _ = writeln!(yaml, "  s{i}.done: bool");
        let _ = writeln!(yaml, "  s{i}.score: int");
    }
    yaml.push_str("stages:\n");
    for i in 0..stages {
        let _ = writeln!(yaml, "  - id: s{i}");
        let _ = writeln!(yaml, "    name: {{ en: Stage {i}, zh: 第 {i} 阶段 }}");
        let _ = writeln!(yaml, "    max_days: {}", 10 + i % 50);
        // A probability rising along the chain, in 0..1.
        let _ = writeln!(yaml, "    probability: {:.4}", probability(i, stages));
        yaml.push_str("    entry:\n");
        if i == 0 {
            yaml.push_str("      - { id: s0_in, when: has(s0.score) }\n");
        } else {
            let _ = writeln!(
                yaml,
                "      - {{ id: s{i}_in, when: s{prev}.done }}",
                prev = i - 1
            );
        }
        yaml.push_str("    exit:\n");
        let _ = writeln!(
            yaml,
            "      - {{ id: s{i}_out, when: 's{i}.done && s{i}.score >= 3' }}"
        );
    }
    if plays > 0 {
        yaml.push_str("plays:\n");
    }
    for j in 0..plays {
        let stage = j.checked_rem(stages).unwrap_or(0);
        let _ = writeln!(yaml, "  - id: p{j}");
        let _ = writeln!(yaml, "    priority: {}", j % 100);
        let _ = writeln!(yaml, "    stages: [s{stage}]");
        let _ = writeln!(yaml, "    when: 's{stage}.score < {}'", j % 7);
    }
    yaml
}

/// `i / stages`, as a float in `0..1`, with no lossy cast on the way.
fn probability(i: usize, stages: usize) -> f64 {
    let i = u32::try_from(i).unwrap_or(u32::MAX);
    let stages = u32::try_from(stages.max(1)).unwrap_or(u32::MAX);
    f64::from(i) / f64::from(stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcg_is_deterministic_and_spreads() {
        let mut a = Lcg::new(7);
        let mut b = Lcg::new(7);
        let mut seen = [0u32; 8];
        for _ in 0..8_000 {
            let x = a.below(8);
            assert_eq!(x, b.below(8));
            if let Some(count) = seen.get_mut(usize::try_from(x).unwrap_or(0)) {
                *count += 1;
            }
        }
        assert!(seen.iter().all(|&n| n > 800), "{seen:?}");
    }

    #[test]
    fn chain_playbook_has_every_stage_and_play() {
        let yaml = chain_playbook(12, 5);
        assert!(yaml.contains("  - id: s11\n"));
        assert!(yaml.contains("when: s10.done }"));
        assert!(yaml.contains("  - id: p4\n"));
        assert!(!yaml.contains("s12"));
    }
}
