#!/usr/bin/env python3
"""Time `salesplay report` end to end on generated JSONL files (see BENCHMARKS.md).

Generates the input files with gen_accounts.py when they are missing (under /tmp unless
--dir says otherwise), builds the release binary, then runs the report `--runs` times for
each file size and thread count, and prints a Markdown table of medians: wall time, CPU time
(user + system, the child's own, from `wait4`), accounts per second of wall and
of CPU time, and peak resident memory (the largest of the runs, measured by GNU time when
/usr/bin/time exists). Every run's JSON report must be byte-identical to the
first one's, whatever the thread count. Standard library only; Unix.

    python3 scripts/bench_report.py                    # 100k and 1M lines, -j 1 and all cores
    python3 scripts/bench_report.py --runs 7 --jobs 1 2
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYBOOK = os.path.join(ROOT, "playbooks", "key_account_six_steps.yaml")
BINARY = os.path.join(ROOT, "target", "release", "salesplay")
NOW = "2026-11-22T09:00:00Z"
SIZES = {"100k": 100_000, "1m": 1_000_000}


def ensure_input(directory, name, lines):
    path = os.path.join(directory, f"accounts_{name}.jsonl")
    if not os.path.exists(path):
        print(f"generating {path}", file=sys.stderr)
        subprocess.run(
            [sys.executable, os.path.join(ROOT, "scripts", "gen_accounts.py"), str(lines), path],
            check=True,
        )
    return path


TIME = "/usr/bin/time"


def run_once(path, jobs):
    """One run: (wall seconds, cpu seconds, max rss KiB or None, stdout bytes).

    Peak memory comes from GNU time when it is installed: a process forked from this Python
    inherits Python's own high-water mark, so `wait4` here would report Python's size.
    """
    command = [BINARY, "report", PLAYBOOK, "--facts", path, "--now", NOW, "--format", "json",
               "--jobs", str(jobs)]
    measured = os.path.exists(TIME)
    stats = os.path.join(ROOT, "target", "bench_report.time")
    if measured:
        command = [TIME, "-f", "%M", "-o", stats] + command
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"salesplay report exited with {child.returncode} on {path}")
    rss = None
    if measured:
        with open(stats, encoding="utf-8") as f:
            rss = int(f.read().split()[-1])
    # The child's CPU time includes its own children's (GNU time's is negligible).
    return wall, usage.ru_utime + usage.ru_stime, rss, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default="/tmp")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    args = parser.parse_args()

    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "salesplay-cli"], cwd=ROOT, check=True
    )
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    sys.stderr.flush()
    print("| lines | threads | wall | CPU | accounts/s (wall) | accounts/s (CPU) | max RSS |")
    print("|---|---|---|---|---|---|---|")
    for name in args.sizes:
        lines = SIZES[name]
        path = ensure_input(args.dir, name, lines)
        reference = None
        for jobs in sorted(set(args.jobs)):
            walls, cpus, rss = [], [], 0
            for _ in range(args.runs):
                wall, cpu, maxrss, out = run_once(path, jobs)
                rss = None if maxrss is None or rss is None else max(rss, maxrss)
                if reference is None:
                    reference = out
                elif out != reference:
                    sys.exit(f"the report with {jobs} threads differs from the first one")
                walls.append(wall)
                cpus.append(cpu)
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            print(
                f"| {name} | {jobs} | {wall:.2f} s | {cpu:.2f} s | {lines / wall / 1000:.0f}k "
                f"| {lines / cpu / 1000:.0f}k | "
                + ("n/a" if rss is None else f"{rss / 1024:.1f} MiB")
                + " |"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
