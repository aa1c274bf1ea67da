#!/usr/bin/env python3
"""Generate a JSONL file of accounts for `playbooks/key_account_six_steps.yaml`.

For the end-to-end benchmark of `salesplay report` (see BENCHMARKS.md). Deterministic: the
same count and seed give byte-identical output. Standard library only.

Each line is one account: an `id`, an `amount`, an `entered_at` date (so some accounts are
stalled) and the playbook's facts, nested by group (`{"account": {"target_locked": true},
...}`). Accounts are spread over "not entered", the six stages of the chain and `lost`; the
fact that stops an account is sometimes absent rather than false, so the walk meets unknown
criteria too. About one line in 1,000 is bad on purpose, in rotation: malformed JSON, a
truncated record, a fact of the wrong type, an enum value the playbook does not declare, and a
record that is not an object. `salesplay report` reports each on stderr, counts it as
invalid and goes on.

Generated files are not committed: write them under /tmp or target/.

    python3 scripts/gen_accounts.py 1000000 /tmp/accounts_1m.jsonl
    python3 scripts/gen_accounts.py 100000 /tmp/accounts_100k.jsonl --seed 7
"""

import argparse
import json
import random
import sys

LEVELS = ["acquainted", "dating", "trusted", "allied"]
PHASES = ["unaware", "evaluating", "selecting", "buying"]
ROLES = ["gatekeeper", "decision_maker", "purchaser", "user", "influencer"]

# One bad line in BAD_EVERY, cycling through these kinds.
BAD_EVERY = 1000
BAD_KINDS = ["malformed", "truncated", "wrong_type", "bad_enum", "not_object"]


def date(rng):
    """A date in 2024 or 2025, YYYY-MM-DD."""
    return "%d-%02d-%02d" % (2024 + rng.randrange(2), 1 + rng.randrange(12), 1 + rng.randrange(28))


def account(rng, n):
    """The record of account number `n`, as a dict (insertion order is the output order)."""
    target = rng.randrange(7)  # 0: not entered; s + 1: the chain stage of index s
    absent = rng.random() < 0.25  # the stopping fact is absent rather than false
    record = {
        "id": "acct-%07d" % n,
        "amount": float(rng.randrange(5, 500)) * 1000.0,
        "entered_at": "2026-%02d-%02d" % (1 + rng.randrange(11), 1 + rng.randrange(28)),
    }

    def put(group, key, value):
        if key is None:
            record[group] = value
        else:
            record.setdefault(group, {})[key] = value

    if target >= 1 or not absent:
        put("account", "target_locked", target >= 1)
    if target >= 2 or (target == 1 and not absent):
        put("opportunity", "identified", target >= 2)
    if target >= 3:
        put("relationship", "level", rng.choice(LEVELS[1:]))
    elif target == 2 and not absent:
        put("relationship", "level", "acquainted")
    if target >= 4:
        put("requirements", "written", True)
        put("buying_phase", None, rng.choice(PHASES))
    elif target == 3:
        if absent:
            put("requirements", "written", True)  # written, buying phase not known yet
        else:
            put("requirements", "written", False)
            put("buying_phase", None, rng.choice(PHASES))
    if target >= 5 or (target == 4 and not absent):
        put("negotiation", "started", target >= 5)
    if target >= 6:
        put("agreement", "signed_on", date(rng))
        if not absent:
            owed = 0.0 if rng.random() < 0.5 else float(rng.randrange(50000))
            put("payment", "outstanding", owed)
    if rng.random() < 0.05:
        put("deal", "lost", True)
    elif rng.random() < 0.5:
        put("deal", "lost", False)
    if rng.random() >= 0.2:
        record["contacts"] = [
            {"role": rng.choice(ROLES), "level": rng.choice(LEVELS), "updated_on": date(rng)}
            for _ in range(1 + rng.randrange(4))
        ]
    return record


def bad_line(kind, record):
    """A deliberately bad line made from a good record."""
    text = json.dumps(record, separators=(",", ":"))
    if kind == "malformed":
        return text.replace(":", " ", 1)
    if kind == "truncated":
        return text[: len(text) // 2]
    if kind == "wrong_type":
        record.setdefault("account", {})["target_locked"] = "yes"
        return json.dumps(record, separators=(",", ":"))
    if kind == "bad_enum":
        record.setdefault("relationship", {})["level"] = "best_friends"
        return json.dumps(record, separators=(",", ":"))
    return json.dumps([record], separators=(",", ":"))  # not_object


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("count", type=int, help="number of lines")
    parser.add_argument("output", help="the JSONL file to write ('-' for stdout)")
    parser.add_argument("--seed", type=int, default=20261122, help="random seed")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    bad = 0
    with out:
        lines = []
        for n in range(1, args.count + 1):
            record = account(rng, n)
            if n % BAD_EVERY == 0:
                lines.append(bad_line(BAD_KINDS[bad % len(BAD_KINDS)], record))
                bad += 1
            else:
                lines.append(json.dumps(record, separators=(",", ":")))
            if len(lines) == 10000:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")
    print("%d lines (%d bad) written to %s" % (args.count, bad, args.output), file=sys.stderr)


if __name__ == "__main__":
    main()
