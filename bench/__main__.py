"""``python -m bench [--smoke] [--parts a,b] [--strict] [--document-only]``: run the parts, merge, judge, write.

Each part runs in its own interpreter (moto's state is process-wide) and writes its figures as JSON. Full runs write
``bench/results.json`` and ``docs/benchmarks.md``; ``--smoke`` (or ``BENCH_SMOKE=1``) runs every part once with tiny
sizes and writes into ``test-artifacts/bench`` — the numbers of a smoke run mean nothing, its purpose is that the
code still runs. The exit status is 1 when a part failed to run; ``--strict`` makes a figure over budget fail too.
``--document-only`` writes ``docs/benchmarks.md`` again from the last full run's figures (after editing
``bench/notes.md``, the gaps and plans it prints).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import ROOT, progress

PARTS = {
    "cold": "bench.cold_start",
    "inprocess": "bench.inprocess",
    "renewal": "bench.renewal",
    "stack": "bench.stack_runs",
}
# The run's plan: stages one after the other; within a stage, lanes side by side (on two cores each lane has about
# one), within a lane, parts in order. Each timed figure has a single-threaded neighbour: the cold starts and then
# the in-process figures beside the renewal run and then the devstack's payments. The devstack part ends with its
# load phase (the stack and the load generator, two busy processes), when the other lane has finished.
STAGES = [[["cold", "inprocess"], ["renewal", "stack"]]]
NOTES = Path(__file__).with_name("notes.md")


def run_part(name: str, module: str, environment: dict[str, str], log_dir: Path) -> tuple[dict[str, Any], str | None]:
    """Run one part; its stdout (the functions' JSON logs) goes to a log file, its progress lines to the terminal."""
    with tempfile.TemporaryDirectory(prefix="balcao-bench-") as scratch:
        result = Path(scratch) / "result.json"
        log = log_dir / f"{name}.log"
        started = time.monotonic()
        with log.open("w") as output:
            status = subprocess.call(  # noqa: S603 - our own interpreter running one of our modules
                [sys.executable, "-m", module, str(result)], cwd=ROOT, env=environment, stdout=output
            )
        progress(f"part {name} finished in {time.monotonic() - started:.0f} s")
        if status != 0 or not result.exists():
            return {}, f"part {name} exited with status {status}; see {log.relative_to(ROOT)}"
        loaded: dict[str, Any] = json.loads(result.read_text())
        return loaded, None


def lanes_of(chosen: list[str]) -> list[list[list[str]]]:
    """The stages and lanes of ``STAGES`` holding the chosen parts (empty lanes and stages dropped)."""
    stages = [[[p for p in lane if p in chosen] for lane in stage] for stage in STAGES]
    return [[lane for lane in stage if lane] for stage in stages if any(stage)]


def _caveat(smoke: bool, load_average: str) -> str:
    """What the figures are worth: a smoke run's nothing; a run started on a busy machine, an indication."""
    if smoke:
        return "Smoke run: one iteration and tiny sizes; the figures mean nothing."
    if float(load_average.split(maxsplit=1)[0]) > (os.cpu_count() or 1) / 2:
        return (
            "Started on a machine busy with other work (see the load average): treat the timed figures as "
            "indicative and rerun `make bench` on a quiet machine before relying on them."
        )
    return "Started on a quiet machine; timed figures still vary from run to run by a few per cent."


def rewrite_document() -> int:
    """``docs/benchmarks.md`` written again from ``bench/results.json`` and ``bench/notes.md``, measuring nothing."""
    from bench import report

    saved: dict[str, Any] = json.loads((ROOT / "bench" / "results.json").read_text())
    meta = saved.pop("meta")
    sections = report.evaluate(saved)
    notes = NOTES.read_text() if NOTES.exists() else ""
    (ROOT / "docs" / "benchmarks.md").write_text(report.markdown(saved, sections, meta, notes))
    print("wrote docs/benchmarks.md from bench/results.json")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--smoke", action="store_true", help="every part once, tiny sizes, into test-artifacts/bench")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a figure is over budget")
    parser.add_argument(
        "--document-only", action="store_true", help="rewrite docs/benchmarks.md from bench/results.json, no run"
    )
    arguments = parser.parse_args(argv)
    if arguments.document_only:
        return rewrite_document()
    smoke = arguments.smoke or os.environ.get("BENCH_SMOKE") == "1"
    chosen = [p.strip() for p in arguments.parts.split(",") if p.strip()]
    unknown = set(chosen) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}")
    out_dir = ROOT / "test-artifacts" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "BENCH_SMOKE": "1" if smoke else "0", "PYTHONDONTWRITEBYTECODE": "1"}
    started, began = time.strftime("%Y-%m-%d %H:%M %Z"), time.monotonic()
    load_average = " ".join(f"{v:.2f}" for v in os.getloadavg())
    progress(f"{'smoke run' if smoke else 'full run'}: parts {', '.join(chosen)}")
    results: dict[str, Any] = {}
    problems = []

    def lane(parts: list[str]) -> list[tuple[dict[str, Any], str | None]]:
        outcomes = []
        for name in parts:
            progress(f"part {name} starting")
            outcomes.append(run_part(name, PARTS[name], environment, out_dir))
        return outcomes

    for stage in lanes_of(chosen):
        if len(stage) > 1:
            progress(f"side by side: {' | '.join(', '.join(parts) for parts in stage)}")
        with ThreadPoolExecutor(max_workers=len(stage)) as pool:
            for outcomes in pool.map(lane, stage):
                for figures, problem in outcomes:
                    results.update(figures)
                    if problem:
                        problems.append(problem)
                        progress(problem)

    from bench import report

    sections = report.evaluate(results)
    meta = {
        "started": started,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": load_average,
        "seconds": time.monotonic() - began,
        "smoke": smoke,
        "parts": chosen,
        "lanes": lanes_of(chosen),
        "caveat": _caveat(smoke, load_average),
        "problems": problems,
    }
    notes = NOTES.read_text() if NOTES.exists() and not smoke else ""
    document = report.markdown(results, sections, meta, notes)
    payload = json.dumps({"meta": meta, **results}, indent=2, sort_keys=True, default=str) + "\n"
    if smoke:
        (out_dir / "results.json").write_text(payload)
        (out_dir / "benchmarks.md").write_text(document)
        written = [out_dir / "results.json", out_dir / "benchmarks.md"]
    else:
        (ROOT / "bench" / "results.json").write_text(payload)
        (ROOT / "docs" / "benchmarks.md").write_text(document)
        written = [ROOT / "bench" / "results.json", ROOT / "docs" / "benchmarks.md"]
    report.print_summary(sections)
    print(f"\nwrote {', '.join(str(p.relative_to(ROOT)) for p in written)} in {meta['seconds']:.0f} s")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if problems:
        return 1
    if arguments.strict and report.failures(sections):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
