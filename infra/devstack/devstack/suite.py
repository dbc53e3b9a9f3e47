"""Run one test suite, print its duration beside its budget, and fail when it is over budget.

``python -m devstack.suite NAME BUDGET_SECONDS -- command ...``; durations are appended to
``test-artifacts/durations.tsv`` and ``python -m devstack.suite --summary`` prints them as a table.
"""

from __future__ import annotations

import subprocess
import sys
import time

from devstack.template import ROOT

DURATIONS = ROOT / "test-artifacts" / "durations.tsv"


def run(name: str, budget: float, command: list[str]) -> int:
    print(f"\n=== {name} (budget {budget / 60:.0f} min) ===", flush=True)
    started = time.monotonic()
    status = subprocess.call(command)
    elapsed = time.monotonic() - started
    over = elapsed > budget
    verdict = "OVER BUDGET" if over else ("failed" if status else "ok")
    DURATIONS.parent.mkdir(exist_ok=True)
    with DURATIONS.open("a") as handle:
        handle.write(f"{name}\t{elapsed:.1f}\t{budget:.0f}\t{verdict}\n")
    print(f"=== {name}: {elapsed:.1f} s of {budget:.0f} s — {verdict} ===", flush=True)
    return status or (3 if over else 0)


def summary() -> int:
    if not DURATIONS.exists():
        return 0
    rows = [line.split("\t") for line in DURATIONS.read_text().splitlines() if line]
    total = sum(float(r[1]) for r in rows)
    print("\nsuite          seconds  budget  result")
    for name, seconds, budget, verdict in rows:
        print(f"{name:<14}{float(seconds):>8.1f}{float(budget):>8.0f}  {verdict}")
    print(f"{'total':<14}{total:>8.1f}{2700:>8}  {'ok' if total <= 2700 else 'OVER BUDGET'}")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--summary"]:
        return summary()
    if argv[:1] == ["--reset"]:
        DURATIONS.unlink(missing_ok=True)
        return 0
    name, budget, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: python -m devstack.suite NAME BUDGET_SECONDS -- command ...")
    return run(name, float(budget), command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
