"""`make bench`: a year of traffic, then P1-P8, each against its baseline in the same run, and a summary table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/run_all.py --scale 0.1

Runs, one after the other, each as its own process (its output shown as it goes):

- generate.py: a year of Ningbo's sea-rail traffic at `--scale` (0.1: ~100,000 containers, ~1,030,000 events;
  1: ~1,000,000 and ~10 million), reused when already there;
- P1 ingest.py (a journey's every kind of event into the year's table), P2 booking_contention.py,
  P3 track_lookup.py (the year against ~10,000 events of the same traffic), P4 query_counts.py, P5 track_load.py
  (wrk; installed with apt-get when missing and possible);
- P6 fanout.py (10,000 subscriptions, 100 slow receivers), P7 dashboard.py (through gunicorn) and P8
  dcsa_poll.py (DCSA polls with filters, cold keys, the year against ~10,000 events).

Each benchmark prints `BENCH-RESULT {json}` lines with its figure, goal and verdict; the summary table at the
end lists them with the load average, the elapsed time of each step and its exit status. Exit status 1 when a
step failed (a wrong result, not a missed goal: goals are measurements, and machines differ).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass
class Step:
    name: str
    script: str
    args: list[str] = field(default_factory=list)
    goal: str = ""  # shown when the script prints no BENCH-RESULT of its own
    status: int | None = None  # None: not run
    note: str = ""
    seconds: float = 0.0
    results: list[dict] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)  # PASS/FAIL lines of scripts without BENCH-RESULT


def steps_for(args) -> list[Step]:
    scale = ["--scale", f"{args.scale:g}"]
    # The dashboard's big table as many events as the year of traffic: 10 million at scale 1.
    dashboard_events = args.dashboard_events or round(10_000_000 * args.scale)
    return [
        Step("year of traffic", "generate.py", scale),
        Step("P1 mixed event ingest", "ingest.py", scale, ">= 0.5 x 4-connection COPY"),
        Step("P2 booking under contention", "booking_contention.py", [], ">= 0.9, overbooked 0"),
        Step("P3 tracking look-up", "track_lookup.py", scale, "<= 1.5 x p50 at 10k, p99 <= 50 ms, cold"),
        Step("P4 queries per list request", "query_counts.py", [], "equal at 10/100, <= 10"),
        Step("P5 tracking under load", "track_load.py", scale, ">= 0.3 x /healthz, cold keys"),
        Step("P6 webhook fan-out", "fanout.py", [], ">= 0.8 x receivers' capacity, p99 <= 1 s"),
        Step("P7 KPI dashboard", "dashboard.py", ["--events", str(dashboard_events)], "<= 3 x at 10k, gunicorn"),
        Step("P8 DCSA poll", "dcsa_poll.py", scale, "<= 1.5 x p50 at 10k"),
    ]


def ensure_wrk() -> str:
    """wrk from Debian's package, installed when missing and apt-get may run; a note of what happened."""
    if shutil.which("wrk"):
        return ""
    if shutil.which("apt-get") and os.geteuid() == 0:
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        done = subprocess.run(install, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
            done = subprocess.run(install, capture_output=True, text=True, check=False)
        if shutil.which("wrk"):
            return "wrk installed with apt-get"
        return f"apt-get install wrk failed: {done.stderr[-200:]}"
    return "wrk missing (apt-get install -y wrk, as root)"


def run(step: Step) -> None:
    path = HERE / step.script
    if not path.exists():
        step.note = "not run: script missing"
        return
    print(f"\n===== {step.name}: bench/{step.script} {' '.join(step.args)}", flush=True)
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(path), *step.args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    for line in process.stdout:
        print(line, end="", flush=True)
        if line.startswith("BENCH-RESULT "):
            step.results.append(json.loads(line[len("BENCH-RESULT ") :]))
        elif re.search(r"\b(PASS|FAIL)\b", line) and "goal" in line:
            step.verdicts.append(line.strip())
    step.status = process.wait()
    step.seconds = time.monotonic() - began


def summary(steps: list[Step], *, began: float, load_start: tuple, scale: float) -> None:
    load_end = os.getloadavg()
    print()
    print("=" * 118)
    print(
        f"make bench summary: scale {scale:g}, {os.cpu_count()} CPUs, {time.monotonic() - began:.0f} s in all, "
        f"load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end "
        f"(1/5/15 min: {load_end[0]:.1f} / {load_end[1]:.1f} / {load_end[2]:.1f})"
    )
    print(f"  {'benchmark':<30}{'figure':>9}  {'goal':<32}{'verdict':<9}{'s':>5}  detail")
    for step in steps:
        seconds = f"{step.seconds:.0f}" if step.status is not None else "-"
        if step.status is None:
            print(f"  {step.name:<30}{'-':>9}  {step.goal:<32}{'-':<9}{seconds:>5}  {step.note}")
            continue
        broke = "" if step.status == 0 else f"exit status {step.status}: a result was wrong (see above); "
        if not step.results:
            # A script of another issue, without BENCH-RESULT lines: its last line with a goal and a verdict.
            last = step.verdicts[-1] if step.verdicts else ""
            verdict = re.search(r"\b(PASS|FAIL)\b", last).group(1) if last else "?"
            number = re.search(r"ratio\D{0,12}?([0-9]+(?:\.[0-9]+)?)", last)
            figure = number.group(1) if number else ""
            detail = broke + (last[:70] if last else "see its output above")
            if step.script == "generate.py":
                verdict, detail = ("done" if step.status == 0 else "FAIL"), broke or "see its output above"
            print(f"  {step.name:<30}{figure:>9}  {step.goal:<32}{verdict:<9}{seconds:>5}  {detail}")
            continue
        for result in step.results:
            verdict = "PASS" if result["pass"] else "FAIL"
            print(
                f"  {result['id']:<30}{result['figure']:>9}  {result['goal']:<32}{verdict:<9}{seconds:>5}  "
                f"{broke}{result['detail']}"
            )
    print("=" * 118)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1, help="traffic: 1 = Ningbo's year (default 0.1)")
    parser.add_argument(
        "--dashboard-events", type=int, default=0, help="P7's big table (default: 10M x scale, 1M at 0.1)"
    )
    parser.add_argument("--only", default="", help="comma-separated step files to run, e.g. ingest.py,query_counts.py")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    began, load_start = time.monotonic(), os.getloadavg()
    steps = steps_for(args)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    wrk_note = ensure_wrk()
    if wrk_note:
        print(f"bench: {wrk_note}", flush=True)
    try:
        for step in steps:
            if only and step.script not in only:
                step.note = "not run: --only"
                continue
            run(step)
    finally:
        summary(steps, began=began, load_start=load_start, scale=args.scale)
    return 1 if any(step.status not in (None, 0) for step in steps) else 0


if __name__ == "__main__":
    sys.exit(main())
