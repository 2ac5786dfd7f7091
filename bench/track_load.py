"""P5 Tracking under load: requests/s of GET /api/v1/track/{key}/ for cold keys under gunicorn, against /healthz.

    make bench-load BENCH_SCALE=0.1     # bench/track_load.py --scale 0.1 --seconds 10 --rounds 3

The tracking look-up is the platform's most-called read. This serves the year of traffic of bench/generate.py
(`--scale`, default 0.1: about a million events; generated when missing, else reused) with gunicorn as deployed
(DEBUG=0, gunicorn.conf.py's timeout, `--workers` sync workers: by default the deployed image's 3) and loads it
with wrk (Debian's `wrk`; `make bench` installs it when missing) from `--connections` connections, in alternating
rounds of `--seconds` each:

- **tracking, cold**: look-ups of keys drawn at random from the whole year (bench/track_lookup.py
  `keys_sample`: half bookings, half containers, exports and imports as the year holds them, each with its
  shipper's `events:read` key), every key asked once in the run, so no answer comes from the tracking cache; the
  round stops before its keys run out;
- **healthz**: `GET /healthz` on the same server: what a request costs that does next to nothing;
- **tracking, hot** (shown, not the goal): two keys asked again and again, answered from the cache.

It prints requests/s and p50/p95 latency of each, the CPU a request of each kind cost the server, PostgreSQL and
Redis (from /proc, over the rounds), and the ratio of the medians of the rounds, tracking cold / healthz, against
the goal (>= 0.3). Exit status 1 when a look-up does not answer its key's timeline, a cold round
ran out of keys, or on any non-2xx answer or socket error under load; the ratio prints PASS/FAIL without changing
the exit status.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

RATIO_GOAL = 0.3
BARE_PATH = "/healthz"
NOT_POSTGRES = "This benchmark serves the year of traffic that bench/generate.py writes into PostgreSQL."
WRK_SCRIPT = """
local index = 0
local requests = {}
for line in io.lines(os.getenv("BENCH_PATHS_FILE")) do
  local path, key = line:match("([^\t]+)\t?(.*)")
  local headers = {["Accept"] = "application/json"}
  if key ~= "" then headers["Authorization"] = "Bearer " .. key end
  requests[#requests + 1] = wrk.format("GET", path, headers)
end
request = function()
  index = index % #requests + 1
  return requests[index]
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
    cpu: dict = field(default_factory=dict)  # seconds of CPU per group (cpu_spent) over the round

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(port: int, targets: list[tuple[str, str]], *, seconds: int, connections: int, script: Path, name: str
        ) -> Round:
    """One wrk round; sync gunicorn workers close each connection, so wrk reconnects: a socket error under load is
    a failure, a reconnect is not."""
    command = [
        "wrk", "--threads", "1", "--connections", str(connections), "--duration", f"{seconds}s", "--timeout", "10s",
        "--script", str(script), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as listing:
        listing.write("".join(f"{path}\t{key}\n" for path, key in targets))
    env = {**os.environ, "BENCH_PATHS_FILE": listing.name}
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


def wrk_available() -> str | None:
    return shutil.which("wrk")


GROUPS = ("gunicorn", "postgres", "redis")


def cpu_seconds(server_pid: int) -> dict[tuple[int, str], float]:
    """CPU time of the gunicorn server (its master and workers), PostgreSQL's processes and Redis's."""
    return common.cpu_seconds({"gunicorn": server_pid})


def cpu_spent(before: dict, after: dict) -> dict[str, float]:
    return common.cpu_spent(before, after, GROUPS)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1, help="traffic of bench/generate.py (default 0.1)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per round (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each kind, alternating (default 3)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    parser.add_argument("--workers", type=int, default=common.DEPLOYED_WORKERS,
                        help=f"gunicorn sync workers (default {common.DEPLOYED_WORKERS}, the deployed image's)")
    parser.add_argument("--cold", type=int, default=10000, help="different keys of each cold round (default 10000)")
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
    keys = track_lookup.keys_sample(run_id, args.cold * args.rounds + 2, seed=(int(run_id, 16) % 1000) / 1000)
    connection.close()
    hot, keys = keys[:2], keys[2:]
    per_round = [keys[n * args.cold:(n + 1) * args.cold] for n in range(args.rounds)]

    def targets(chosen) -> list[tuple[str, str]]:
        return [(track_lookup.TRACK_PATH.format(key=k.key), k.api_key) for k in chosen]

    port = common.free_port()
    log_path = common.log_file(run_id, "track-load")
    env = common.server_env(url, redis_url, PGOPTIONS=track_lookup.search_path(generated.schema),
                            **common.as_deployed())
    problems: list[str] = []
    rounds: dict[str, list[Round]] = {"healthz": [], "tracking, cold": [], "tracking, hot": []}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script_file:
        script_file.write(WRK_SCRIPT)
    script = Path(script_file.name)
    try:
        with common.gunicorn_server(port=port, workers=args.workers, env=env, log_path=log_path,
                                    timeout=None) as server:
            for key in (*hot, *(chosen[-1] for chosen in per_round)):  # the answers are the keys' timelines
                status, _latency, payload = track_lookup.look_up(port, key)
                if problem := track_lookup.answer_problem(status, payload, key):
                    problems.append(problem)
            if common.http_get(port, BARE_PATH) != 200:
                problems.append(f"{BARE_PATH} did not answer 200")
            print(f"bench: gunicorn on 127.0.0.1:{port}, {args.workers} sync workers; wrk, {args.connections} "
                  f"connections, {args.rounds} x {args.seconds} s per kind, alternating; {args.cold} cold keys a "
                  "round", flush=True)
            load_before = os.getloadavg()
            for n in range(args.rounds):
                for name, chosen in (("healthz", [(BARE_PATH, "")]), ("tracking, cold", targets(per_round[n])),
                                     ("tracking, hot", targets(hot))):
                    before = cpu_seconds(server.pid)
                    done = wrk(port, chosen, seconds=args.seconds, connections=args.connections, script=script,
                               name=name)
                    done.cpu = cpu_spent(before, cpu_seconds(server.pid))
                    rounds[name].append(done)
                    print(f"bench: {name}: {done.per_second:.0f} requests/s, p50 {done.p50_ms:.1f} ms", flush=True)
                    if name == "tracking, cold" and done.requests > len(chosen):
                        problems.append(f"a cold round asked {done.requests} look-ups of {len(chosen)} keys: "
                                        "some came from the cache (raise --cold)")
    finally:
        script.unlink(missing_ok=True)
    load = os.getloadavg()
    medians = {}
    print()
    print(f"P5 Tracking under load, cold keys - run {run_id}")
    deployed = "as deployed" if args.workers == common.DEPLOYED_WORKERS else f"deployed: {common.DEPLOYED_WORKERS}"
    print(f"  server       gunicorn {common.gunicorn_version()}, {args.workers} sync workers x 1 thread ({deployed}), "
          "DEBUG=0, timeout of gunicorn.conf.py")
    print(f"  data         {generated.summary()}")
    print(f"  client       wrk {args.connections} connections; each cold key once, with its shipper's key")
    print(f"  keys         {track_lookup.keys_mix(keys)} (both directions, as the year holds them)")
    print(f"  machine      {track_lookup.load_average(load_before, load)}")
    print()
    print(f"  {'':<16}{'requests':>10}{'median req/s':>14}{'p50 ms':>9}{'p95 ms':>9}  errors")
    for name, done in rounds.items():
        medians[name] = statistics.median(r.per_second for r in done)
        p50 = statistics.median(r.p50_ms for r in done)
        p95 = max(r.p95_ms for r in done)
        errors: dict = {}
        for r in done:
            for k, v in r.errors.items():
                errors[k] = errors.get(k, 0) + v
        print(f"  {name:<16}{sum(r.requests for r in done):>10}{medians[name]:>14.0f}{p50:>9.1f}{p95:>9.1f}  "
              f"{errors or 'none'}")
        if errors:
            problems.append(f"{name}: {errors}")
    print()
    print("  CPU per request, ms (the rounds' total over their requests; /proc)")
    print(f"  {'':<16}" + "".join(f"{group:>10}" for group in GROUPS) + f"{'all':>10}")
    for name, done in rounds.items():
        requests = sum(r.requests for r in done) or 1
        per = {group: 1000 * sum(r.cpu.get(group, 0.0) for r in done) / requests for group in GROUPS}
        print(f"  {name:<16}" + "".join(f"{per[group]:>10.2f}" for group in GROUPS) + f"{sum(per.values()):>10.2f}")
    ratio = medians["tracking, cold"] / medians["healthz"] if medians["healthz"] else float("nan")
    hot_ratio = medians["tracking, hot"] / medians["healthz"] if medians["healthz"] else float("nan")
    verdict = "PASS" if ratio >= RATIO_GOAL else "FAIL"
    print()
    print(f"  tracking, cold / healthz = {medians['tracking, cold']:.0f} / {medians['healthz']:.0f} requests/s = "
          f"{ratio:.2f}  (goal >= {RATIO_GOAL}): {verdict}")
    print(f"  tracking, hot / healthz = {hot_ratio:.2f}  (two keys from the cache; not the goal)")
    print("RESULT:", "FAIL - " + "; ".join(problems) if problems else "ok (every look-up its key's timeline)")
    common.result_line("P5", figure=ratio, goal=f">= {RATIO_GOAL}", passed=verdict == "PASS",
                       detail=f"cold {medians['tracking, cold']:.0f} vs healthz {medians['healthz']:.0f} requests/s; "
                              f"hot {hot_ratio:.2f}")
    print(f"bench: {time.monotonic() - began:.0f} s in all")
    if problems:
        print(f"bench: server log kept at {log_path}")
        return 1
    log_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
