"""P5 Tracking under load: requests/s of GET /api/v1/track/{key}/ under gunicorn against a bare DRF endpoint.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/track_load.py

The tracking look-up is the platform's most-called read. This serves the year of traffic of bench/generate.py
(`--scale`, default 0.1: about a million events; generated when missing, else reused) with gunicorn, 2 sync
workers, and loads it with wrk (Debian's `wrk`; `make bench` installs it when missing) from `--connections`
connections, in alternating rounds of `--seconds` each:

- **tracking**: `GET /api/v1/track/<booking reference>/` and `.../<container number>/` of a booking made for
  the run through the services (its journey up to the train's departure), with the shipper's API key;
- **bare**: `GET /api/v1/me/` with the same key on the same server: DRF with the same authentication,
  permission and JSON rendering, and no domain query - what any API request costs here.

It prints requests/s and p50/p95 latency of each and the ratio tracking/bare against the goal (>= 0.5).
Exit status 1 when a look-up does not answer the run's timeline, or on any non-2xx answer or socket error under
load; the ratio prints PASS/FAIL without changing the exit status.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

RATIO_GOAL = 0.5
BARE_PATH = "/api/v1/me/"
NOT_POSTGRES = "This benchmark serves the year of traffic that bench/generate.py writes into PostgreSQL."
WRK_SCRIPT = """
local path_index = 0
local paths = {}
for p in io.lines(os.getenv("BENCH_PATHS_FILE")) do paths[#paths + 1] = p end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
wrk.headers["Accept"] = "application/json"
request = function()
  path_index = path_index % #paths + 1
  return wrk.format("GET", paths[path_index])
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "non2xx": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
"""


@dataclass
class Round:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    errors: dict

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(port: int, paths: list[str], *, key: str, seconds: int, connections: int, script: Path, name: str) -> Round:
    """One wrk round; sync gunicorn workers close each connection, so wrk reconnects: a socket error under load is
    a failure, a reconnect is not."""
    command = [
        "wrk", "--threads", "1", "--connections", str(connections), "--duration", f"{seconds}s", "--timeout", "10s",
        "--script", str(script), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    env = {**os.environ, "BENCH_PATHS_FILE": listing.name, "BENCH_KEY": key}
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    finally:
        Path(listing.name).unlink(missing_ok=True)
    line = next((row for row in done.stdout.splitlines() if row.startswith("WRK ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    figures = json.loads(line[4:])
    errors = {k: figures[k] for k in ("non2xx", "connect", "read", "write", "timeout") if figures[k]}
    # Closing the connection after each answer shows up as read errors in wrk; only the others count.
    errors.pop("read", None)
    return Round(
        name=name,
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        errors=errors,
    )


def cold_look_ups(run_id: str, count: int) -> tuple[str, list[str]]:
    """A key of the year's busiest shipper and look-ups of `count` of its bookings and containers, all different:
    at wrk's pace each comes back after its cached answer has expired, so every one is built."""
    from django.db.models import Count

    from bookings.models import Booking, Container
    from intermodal.models import Organisation, Scope

    busiest = Booking.objects.values("shipper").annotate(n=Count("id")).order_by("-n").first()
    shipper = Organisation.objects.get(pk=busiest["shipper"])
    key = common.api_key_create(shipper, name=f"bench load {run_id}", scopes=[Scope.EVENTS_READ])
    references = list(Booking.objects.filter(shipper=shipper).order_by("-id").values_list("reference", flat=True))
    numbers = list(Container.objects.filter(booking__shipper=shipper).order_by("-id").values_list("number", flat=True))
    keys = [k for pair in zip(references, numbers, strict=False) for k in pair][:count]
    return key, ["/api/v1/track/" + k + "/" for k in keys]


def wrk_available() -> str | None:
    return shutil.which("wrk")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1, help="traffic of bench/generate.py (default 0.1)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per round (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each endpoint, alternating (default 2)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--cold", type=int, default=2000, help="different keys of the cold round (default 2000)")
    args = parser.parse_args(argv)
    if min(args.seconds, args.rounds, args.connections, args.workers) < 1:
        parser.error("--seconds, --rounds, --connections and --workers must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if wrk_available() is None:
        sys.exit("bench: wrk is not installed: apt-get install -y wrk (make bench does it)")
    common.exit_on_sigterm()
    url = common.database_url(NOT_POSTGRES)
    redis_url = common.redis_url()
    began = time.monotonic()
    common.ensure_database(url)
    common.django_setup(url, redis_url, migrate=False)
    from django.db import connection

    from bench import generate as traffic
    from bench import track_lookup

    generated = traffic.generate(url, args.scale)
    print(f"bench: {generated.summary()}", flush=True)
    track_lookup.django_use_schema(generated.schema)
    run_id = uuid.uuid4().hex[:8]
    subject = track_lookup.subject_create(run_id)
    cold_key, cold_paths = cold_look_ups(run_id, args.cold)
    connection.close()
    paths = [
        track_lookup.TRACK_PATH.format(key=subject.booking),
        track_lookup.TRACK_PATH.format(key=subject.containers[0]),
    ]
    port = common.free_port()
    log_path = common.log_file(run_id, "track-load")
    # As deployed: DEBUG off (no query log, no static file finders on every request), plain HTTP on loopback.
    env = common.server_env(
        url,
        redis_url,
        PGOPTIONS=track_lookup.search_path(generated.schema),
        **common.as_deployed(),
    )
    problems: list[str] = []
    rounds: dict[str, list[Round]] = {"tracking": [], "bare": [], "tracking, cold": []}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script_file:
        script_file.write(WRK_SCRIPT)
    script = Path(script_file.name)
    try:
        with common.gunicorn_server(port=port, workers=args.workers, env=env, log_path=log_path):
            headers = {"Authorization": f"Bearer {subject.api_key}", "Accept": "application/json"}
            for key in (subject.booking, subject.containers[0]):
                status, _latency, payload = track_lookup.look_up(port, key, headers)
                problem = track_lookup.timeline_problem(status, payload, subject, key)
                if problem:
                    problems.append(problem)
            if common.http_get(port, BARE_PATH, headers) != 200:
                problems.append(f"{BARE_PATH} did not answer 200")
            print(
                f"bench: gunicorn on 127.0.0.1:{port}, {args.workers} sync workers; wrk, {args.connections} "
                f"connections, {args.rounds} x {args.seconds} s per endpoint, alternating",
                flush=True,
            )
            for _n in range(args.rounds):
                for name, targets, key in (
                    ("bare", [BARE_PATH], subject.api_key),
                    ("tracking", paths, subject.api_key),
                    ("tracking, cold", cold_paths, cold_key),
                ):
                    done = wrk(port, targets, key=key, seconds=args.seconds, connections=args.connections,
                               script=script, name=name)  # fmt: skip
                    rounds[name].append(done)
                    print(f"bench: {name}: {done.per_second:.0f} requests/s, p50 {done.p50_ms:.1f} ms", flush=True)
    finally:
        script.unlink(missing_ok=True)
    load = os.getloadavg()
    totals = {}
    print()
    print(f"P5 Tracking under load - run {run_id}")
    print(f"  server       gunicorn {common.gunicorn_version()}, {args.workers} sync workers x 1 thread, DEBUG=0")
    print(f"  data         {generated.summary()}")
    print(f"  client       wrk {args.connections} connections, API key of the run's shipper (events:read)")
    print(f"  load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end")
    print()
    print(f"  {'':<16}{'requests':>10}{'requests/s':>12}{'p50 ms':>9}{'p95 ms':>9}  errors")
    for name, done in rounds.items():
        requests = sum(r.requests for r in done)
        seconds = sum(r.seconds for r in done)
        totals[name] = requests / seconds if seconds else 0.0
        p50 = sorted(r.p50_ms for r in done)[len(done) // 2]
        p95 = max(r.p95_ms for r in done)
        errors: dict = {}
        for r in done:
            for k, v in r.errors.items():
                errors[k] = errors.get(k, 0) + v
        print(f"  {name:<16}{requests:>10}{totals[name]:>12.0f}{p50:>9.1f}{p95:>9.1f}  {errors or 'none'}")
        if errors:
            problems.append(f"{name}: {errors}")
    ratio = totals["tracking"] / totals["bare"] if totals["bare"] else float("nan")
    cold = totals["tracking, cold"] / totals["bare"] if totals["bare"] else float("nan")
    verdict = "PASS" if ratio >= RATIO_GOAL else "FAIL"
    print()
    print(
        f"  tracking / bare = {totals['tracking']:.0f} / {totals['bare']:.0f} requests/s = {ratio:.2f}  "
        f"(goal >= {RATIO_GOAL}): {verdict}"
    )
    print(
        f"  tracking, cold / bare = {totals['tracking, cold']:.0f} / {totals['bare']:.0f} requests/s = {cold:.2f}  "
        f"({len(cold_paths)} different keys, none answered from the cache)"
    )
    print("RESULT:", "FAIL - " + "; ".join(problems) if problems else "ok (every look-up the run's timeline)")
    common.result_line(
        "P5",
        figure=ratio,
        goal=f">= {RATIO_GOAL}",
        passed=verdict == "PASS",
        detail=f"{totals['tracking']:.0f} vs {totals['bare']:.0f} requests/s; cold keys {cold:.2f}",
    )
    print(f"bench: {time.monotonic() - began:.0f} s in all")
    if problems:
        print(f"bench: server log kept at {log_path}")
        return 1
    log_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
