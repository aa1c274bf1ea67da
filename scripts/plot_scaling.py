#!/usr/bin/env python3
"""Plot the scaling benches: stages in a generated playbook vs the median time to load and
validate it, log-log, with a linear reference line. Writes docs/scaling.png.

Reads criterion's output, so run the benches first (from the workspace root):

    cargo bench -p salesplay-benches --bench engine -- scaling
    python3 scripts/plot_scaling.py

Input: target/criterion/scaling/stages/<N>/new/estimates.json (one folder per stage count;
the median's point estimate, in nanoseconds, and its 95% confidence interval).

Needs matplotlib, which is not a dependency of the project: `pip install matplotlib`.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read_medians(folder):
    """[(stages, median_ns, low_ns, high_ns)] sorted by stages, from criterion's folders."""
    points = []
    for estimates in folder.glob("*/new/estimates.json"):
        name = estimates.parent.parent.name
        if not name.isdigit():
            continue
        median = json.loads(estimates.read_text())["median"]
        interval = median["confidence_interval"]
        points.append(
            (int(name), median["point_estimate"], interval["lower_bound"], interval["upper_bound"])
        )
    return sorted(points)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--criterion",
        type=Path,
        default=ROOT / "target" / "criterion",
        help="criterion's output folder (default: target/criterion)",
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "docs" / "scaling.png", help="the PNG to write"
    )
    args = parser.parse_args()

    points = read_medians(args.criterion / "scaling" / "stages")
    if len(points) < 2:
        sys.exit(
            "fewer than two scaling runs under %s/scaling/stages: run "
            "`cargo bench -p salesplay-benches --bench engine -- scaling` first" % args.criterion
        )

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("matplotlib is missing: pip install matplotlib")

    stages = [p[0] for p in points]
    ms = [p[1] / 1e6 for p in points]
    low = [(p[1] - p[2]) / 1e6 for p in points]
    high = [(p[3] - p[1]) / 1e6 for p in points]

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    ax.errorbar(
        stages, ms, yerr=[low, high], marker="o", capsize=3, label="load + validate (median, 95% CI)"
    )
    # Linear reference through the largest run: time proportional to stages.
    n_ref, t_ref = stages[-1], ms[-1]
    ax.plot(
        [stages[0], n_ref],
        [t_ref * stages[0] / n_ref, t_ref],
        linestyle="--",
        color="grey",
        label="linear (through %d stages)" % n_ref,
    )
    for n, t in zip(stages, ms):
        ax.annotate(
            "%.3g ms\n%.0f µs/stage" % (t, t * 1000 / n),
            (n, t),
            textcoords="offset points",
            xytext=(6, -22),
            fontsize=8,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("stages in the playbook")
    ax.set_ylabel("median time (ms)")
    ax.set_title("Loading a generated chain playbook: scaling/stages/N")
    ax.grid(True, which="both", linewidth=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output)
    print("%s: %s" % (args.output, ", ".join("%d stages %.3g ms" % (n, t) for n, t in zip(stages, ms))))


if __name__ == "__main__":
    main()
