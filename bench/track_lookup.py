"""P3 Tracking look-up: latency of GET /api/v1/track/{key}/ for keys drawn at random from a year of events, and
from about 10,000 events of the same traffic.

    make bench-track BENCH_SCALE=1      # bench/track_lookup.py --scale 1 --keys 1000

The look-up must not slow down as the events table grows, for the keys people ask about: any booking or container
of the year, not one key asked again and again. The tables come from bench/generate.py, each in its own schema
of the bench database (generated when missing, else reused):

- the year of traffic at `--scale` (`bench_year_0_1`: about 1,030,000 events at 0.1; 10 million at 1; larger
  than PostgreSQL's shared_buffers in both);
- the same traffic for the few days that make about `--small` (10,000) events (`bench_4d_0_1` at 0.1).

In each, it draws `--keys` keys at random from the whole table: half booking references, half container numbers
(a container's key answers the latest of its bookings its shipper may see), each of another booking, exports and
imports in the proportion the table holds them (at least one of each direction it has), and makes
an `events:read` API key for each shipper they belong to. Every key is looked up once, so no answer comes from
the tracking cache and the rows it reads were not read by the look-up before: cold, as far as PostgreSQL's buffers
go (the operating system may still hold the table's pages; on this machine it holds all of them).

It serves each schema with its own gunicorn as deployed (DEBUG=0, gunicorn.conf.py's timeout) and sends the
look-ups from one client, one at a time, alternating between the two servers (so both sizes are measured under
the same machine load), after `--warmup` look-ups of other keys per server. It prints p50/p95/p99/max per size
and kind, and EXPLAIN (ANALYZE, BUFFERS) of the timeline query of a key at the big size. Goals: **p99 at the year
<= 50 ms** (over the whole run), and **p50 at the year <= 1.5 x p50 at 10,000 events**, for both kinds: the
median of `--rounds` (3) rounds' ratios, each round an equal share of the keys, one after the other.

Exit status 1 on any answer other than 200 or a timeline that is not the key's booking. The latency goals print
PASS/FAIL but do not change the exit status: they are measurements, and machines differ.
"""

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

SMALL = 10_000
RATIO_GOAL = 1.5
P99_GOAL_MS = 50.0
TRACK_PATH = "/api/v1/track/{key}/"
NOT_POSTGRES = (
    "This benchmark measures PostgreSQL's plans and indexes on a large events table; SQLite would measure "
    "nothing of the kind."
)


# --- Schemas ---------------------------------------------------------------------------------------------


def schema_ensure(url: str, schema: str, *, fresh: bool) -> bool:
    """Create the schema when missing (drop it first when `fresh`); True when it was created."""
    from psycopg2 import sql

    connection = common.connect(url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            if fresh:
                cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
            if cursor.fetchone() is not None:
                return False
            cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            return True
    finally:
        connection.close()


def search_path(schema: str) -> str:
    return f"-c search_path={schema}"


def django_use_schema(schema: str) -> None:
    """Point this process's Django connection at `schema` (and only it), and migrate it."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection

    connection.close()
    connection.settings_dict.setdefault("OPTIONS", {})["options"] = search_path(schema)
    ContentType.objects.clear_cache()
    call_command("migrate", verbosity=0, interactive=False)


# --- Keys drawn from the whole table ---------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    key: str  # a booking reference or a container number
    kind: str  # "booking" or "container"
    booking: str  # the booking the answer must show
    shipper_id: int
    api_key: str  # an events:read key of the shipper
    direction: str = "export"  # of the booking: "export" or "import"
    # An import booking's containers: DCSA's booking poll also has their discharge from the vessel, which names no
    # booking when the port discharged them before the consignee booked (tracking/dcsa.py _discharged_for).
    boxes: tuple[str, ...] = ()


# A container number answers the latest booking of it its shipper may see (tracking/timeline.py track_lookup):
# only numbers whose latest booking for the shipper is one (the generator assigns a box to several of a shipper's
# bookings at the same minute, and then either is the right answer).
_CONTAINERS_SQL = """
    SELECT number, shipper_id, reference FROM (
        SELECT c.number, b.shipper_id, b.reference, b.direction,
               rank() OVER (PARTITION BY c.number, b.shipper_id ORDER BY c.is_active DESC, c.assigned_at DESC) AS place,
               count(*) OVER (PARTITION BY c.number, b.shipper_id, c.is_active, c.assigned_at) AS alike
          FROM bookings_container c JOIN bookings_booking b ON b.id = c.booking_id
         WHERE b.shipper_id IN (SELECT id FROM intermodal_organisation WHERE code NOT LIKE 'bench-%%')
    ) AS ranked
    WHERE place = 1 AND alike = 1 AND direction = %s
    ORDER BY random() LIMIT %s
"""
# The year's bookings, not those other benchmarks made (P1 deletes its rounds' events, not its bookings).
_YEAR = "shipper_id IN (SELECT id FROM intermodal_organisation WHERE code NOT LIKE 'bench-%%')"


def direction_shares(count: int) -> dict[str, int]:
    """How many of `count` keys to draw from each direction: in proportion to the year's bookings, at least one
    of a direction the year has."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT direction, count(*) FROM bookings_booking WHERE {_YEAR} GROUP BY direction "  # noqa: S608
                       "ORDER BY direction")
        found = dict(cursor.fetchall())
    total = sum(found.values()) or 1
    shares = {direction: max(1, round(count * n / total)) for direction, n in found.items() if n}
    if "export" in shares and len(shares) > 1:
        shares["export"] = max(1, count - sum(n for d, n in shares.items() if d != "export"))
    return shares


def keys_sample(run_id: str, count: int, seed: float = 0.5) -> list[Key]:
    """`count` keys at random from the schema Django is on: half bookings, half containers, each of another
    booking, from both directions in the year's proportion (direction_shares), and an events:read API key made
    for each of their shippers."""
    from django.db import connection

    from intermodal.models import Organisation, Scope

    chosen = []
    for direction, share in direction_shares(count).items():
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [seed])
            cursor.execute(f"SELECT reference, shipper_id, reference FROM bookings_booking WHERE {_YEAR} "  # noqa: S608
                           "AND direction = %s ORDER BY random() LIMIT %s", [direction, share])
            bookings = cursor.fetchall()
            cursor.execute(_CONTAINERS_SQL, [direction, 2 * share])
            containers = cursor.fetchall()
        # At most half the bookings drawn are asked by reference, so that a small table with fewer bookings than
        # keys wanted still leaves bookings whose containers are asked.
        mine = [("booking", *row, direction) for row in bookings[: min(share - share // 2, len(bookings) // 2 or 1)]]
        asked = {row[1] for row in mine}  # a container of another booking
        mine += [("container", *row, direction) for row in containers if row[2] not in asked][: share // 2]
        chosen += mine
    shippers = {shipper_id for _kind, _key, shipper_id, _booking, _direction in chosen}
    api_keys = {
        organisation.pk: common.api_key_create(organisation, name=f"bench track {run_id}", scopes=[Scope.EVENTS_READ])
        for organisation in Organisation.objects.filter(pk__in=shippers)}
    imports = sorted(key for kind, key, _s, _b, direction in chosen if kind == "booking" and direction == "import")
    boxes: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT b.reference, c.number FROM bookings_booking b JOIN bookings_container c "
                       "ON c.booking_id = b.id WHERE b.reference = ANY(%s)", [imports])
        for reference, number in cursor.fetchall():
            boxes.setdefault(reference, []).append(number)
    keys = [Key(key=key, kind=kind, booking=booking, shipper_id=shipper_id, api_key=api_keys[shipper_id],
                direction=direction, boxes=tuple(sorted(boxes.get(key, ()))) if kind == "booking" else ())
            for kind, key, shipper_id, booking, direction in chosen]
    random.Random(seed).shuffle(keys)
    return keys


def keys_mix(keys: list[Key]) -> str:
    """The keys by direction and kind, for the report: "export 340 bookings, 330 containers; import ..."."""
    counts = Counter((key.direction, key.kind) for key in keys)
    return "; ".join(f"{direction} {counts[direction, 'booking']} bookings, {counts[direction, 'container']} "
                     f"containers" for direction in sorted({d for d, _k in counts}))


def get(port: int, path: str, api_key: str) -> tuple[int, float, bytes]:
    """One GET with the key, on a connection of its own: (status, seconds, body); status 0 on a socket error."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
    began = time.perf_counter()
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        payload, status = response.read(), response.status
    except (OSError, http.client.HTTPException) as exc:
        payload, status = f"{type(exc).__name__}: {exc}".encode(), 0
    finally:
        connection.close()
    return status, time.perf_counter() - began, payload


def look_up(port: int, key: Key) -> tuple[int, float, bytes]:
    return get(port, TRACK_PATH.format(key=key.key), key.api_key)


def answer_problem(status: int, payload: bytes, key: Key) -> str | None:
    """Why the answer is not the key's timeline, or None."""
    if status != 200:
        return f"{key.key}: HTTP {status} {payload[:100].decode(errors='replace')}"
    body = json.loads(payload)
    if body.get("booking") != key.booking:
        return f"{key.key}: booking {body.get('booking')} instead of {key.booking}"
    if not body.get("steps"):
        return f"{key.key}: a timeline without steps"
    # Every journey of the generated traffic got this far: an export's vessel sailed with it, an import was off its
    # vessel (the discharge of a box booked only afterwards names no booking: found by the box).
    reached = "vessel_discharge" if key.direction == "import" else "vessel_departs"
    if not any(step.get("key") == reached and step.get("done") for step in body["steps"]):
        return f"{key.key}: its {key.direction} timeline has no {reached} done"
    return None


# --- The plan of the timeline query ----------------------------------------------------------------------


@dataclass
class Plan:
    key: str
    statements: int  # SQL statements of one look-up (in this process, not through the API)
    rows: int  # events the timeline query returned
    text: str  # EXPLAIN (ANALYZE, BUFFERS)

    @property
    def indexes(self) -> list[str]:
        found = []
        for line in self.text.splitlines():
            for marker in (" Index Scan using ", " Index Only Scan using ", " Bitmap Index Scan on "):
                if marker in line:
                    name = line.split(marker, 1)[1].split()[0]
                    if name not in found:
                        found.append(name)
        return found

    @property
    def execution_ms(self) -> str:
        for line in self.text.splitlines():
            if line.strip().startswith("Execution Time:"):
                return line.split(":", 1)[1].strip()
        return "?"


def explain(key: Key) -> Plan:
    """Run the look-up in this process, catch its last statement (the container or the booking's containers
    with their route and facts, tracking/timeline.py) as it was sent, and EXPLAIN (ANALYZE, BUFFERS) it once
    more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from intermodal.access import Actor
    from intermodal.models import Organisation
    from tracking import timeline as tracking

    actor = Actor(organisation=Organisation.objects.get(pk=key.shipper_id))
    with CaptureQueriesContext(connection) as captured:
        timeline = tracking.track_lookup(actor=actor, key=key.key)
    queries = [q["sql"] for q in captured.captured_queries
               if 'FROM "bookings_container"' in q["sql"] or q["sql"].startswith("EXECUTE track_")]
    if not queries:
        return Plan(key=key.key, statements=len(captured.captured_queries), rows=0, text="(no look-up caught)")
    # A prepared statement (databases/prepared.py) is explained as it runs: its EXECUTE, with its generic plan.
    statement = queries[-1][queries[-1].rindex("EXECUTE "):] if "EXECUTE " in queries[-1] else queries[-1]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
        text = "\n".join(row[0] for row in cursor.fetchall())
    return Plan(key=key.key, statements=len(captured.captured_queries), rows=len(timeline.events), text=text)


# --- The look-ups ----------------------------------------------------------------------------------------


@dataclass
class Series:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)  # the round of each latency

    def percentile(self, q: float, round_no: int | None = None) -> float:
        """In ms, of the whole run or of one round."""
        chosen = self.latencies if round_no is None else [
            latency for latency, n in zip(self.latencies, self.rounds, strict=True) if n == round_no]
        return common.percentile(chosen, q) * 1000


def rounds_ratio(small: Series, big: Series, rounds: int) -> tuple[float, list[float]]:
    """The median over the rounds of p50 at the big size / p50 at the small size, and each round's."""
    ratios = []
    for n in range(rounds):
        a, b = small.percentile(50, n), big.percentile(50, n)
        ratios.append(b / a)  # NaN when a round had no look-up of the kind at a size: answers_checked fails it
    if any(math.isnan(ratio) for ratio in ratios):
        return float("nan"), ratios
    return statistics.median(ratios), ratios


def ratio_reported(result_id: str, asked: str, series: dict, generated: dict, kind: str, rounds: int,
                   goal: float) -> None:
    """Print the kind's p50 ratio, year / small table, as the median of the rounds against `goal`, and its
    BENCH-RESULT line."""
    small, big = list(generated)
    a, b = series[small, kind].percentile(50), series[big, kind].percentile(50)
    ratio, each = rounds_ratio(series[small, kind], series[big, kind], rounds)
    verdict = "PASS" if ratio <= goal else "FAIL"
    rounds_text = ", ".join(f"{r:.2f}" for r in each)
    print(f"  {asked} by {kind}: p50 at {big:,} / at {small:,} events, median of {rounds} rounds ({rounds_text}) = "
          f"{ratio:.2f}  (goal <= {goal}): {verdict}")
    common.result_line(result_id, figure=ratio, goal=f"<= {goal}", passed=verdict == "PASS",
                       detail=f"median of rounds {rounds_text}; cold p50 {b:.1f} ms at {big:,} vs {a:.1f} ms at "
                              f"{small:,} events")


def measure(servers: dict[int, int], samples: dict[int, list[Key]], *, warmup: int, rounds: int = 1,
            ask=look_up, check=answer_problem) -> dict:
    """Each server's first `warmup` keys to warm it up (its workers' first requests), then every other key once,
    alternating between the servers: `ask(port, key)`, its answer checked by `check(status, body, key)`. As many
    keys of each size as the smaller sample has, so that every look-up at one size has its pair at the other
    under the same load; the measured look-ups are `rounds` rounds one after the other, each of an equal share of
    the keys."""
    series = {(size, kind): Series() for size in servers for kind in ("booking", "container")}
    steps = min(len(keys) for keys in samples.values())
    for n in range(steps):
        for size, port in servers.items():
            key = samples[size][n]
            status, latency, payload = ask(port, key)
            problem = check(status, payload, key)
            target = series[size, key.kind]
            if problem:
                target.failures.append(problem)
            if n >= warmup:
                target.latencies.append(latency)
                target.rounds.append((n - warmup) * rounds // (steps - warmup))
    return series


# --- The report ------------------------------------------------------------------------------------------


def measured(samples: dict[int, list[Key]], warmup: int) -> int:
    """How many look-ups `measure` measures at each size: the smaller sample, less the warm-up."""
    return max(0, min(len(keys) for keys in samples.values()) - warmup)


def load_average(before: tuple[float, ...], after: tuple[float, ...]) -> str:
    return "load average before " + " / ".join(f"{x:.2f}" for x in before) + ", after " + " / ".join(
        f"{x:.2f}" for x in after)


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 2**10:.0f} kB"


def sizes_table(series: dict, generated: dict, counted: str) -> None:
    """p50/p95/p99/max of each kind at both sizes, and their ratio."""
    small, big = list(generated)
    width = 18
    print(f"  {'':<28}{f'{small:,} events':>{width}}{f'{big:,} events':>{width}}{'big/small':>{width}}")
    for kind in ("booking", "container"):
        print(f"  by {kind}")
        for label, q in (("p50 ms", 50), ("p95 ms", 95), ("p99 ms", 99), ("max ms", 100)):
            a, b = series[small, kind].percentile(q), series[big, kind].percentile(q)
            print(f"    {label:<26}{a:>{width}.1f}{b:>{width}.1f}{b / a if a else float('nan'):>{width}.2f}")
        counts = [len(series[size, kind].latencies) for size in (small, big)]
        print(f"    {counted:<26}{counts[0]:>{width}}{counts[1]:>{width}}")


def answers_checked(series: dict, generated: dict, answer: str, rounds: int = 1) -> list[str]:
    """[ok]/[FAIL] of every answer at each size and kind; the failures, as problems."""
    problems = []
    for size in generated:
        for kind in ("booking", "container"):
            failures = series[size, kind].failures
            empty = sorted(set(range(rounds)) - set(series[size, kind].rounds))
            if empty and not failures:
                # A ratio of nothing is no figure.
                failures = [f"no key of this kind was asked in round {', '.join(str(n + 1) for n in empty)}"]
            text = f"{size:,} events, {kind}: every answer 200 with {answer} ({len(failures)} not)"
            print(f"  [{'ok' if not failures else 'FAIL'}] {text}")
            for failure in failures[:3]:
                print(f"         {failure}")
            if failures:
                problems.append(text)
    return problems


def report(*, run_id, generated, series, plans, setup, rounds: int) -> list[str]:
    problems: list[str] = []
    small, big = list(generated)
    print()
    print(f"P3 Tracking look-up, cold keys from the whole table - run {run_id}")
    for label, value in setup.items():
        print(f"  {label:<12} {value}")
    for size, done in generated.items():
        print(f"  {done.schema:<16} {size:,} events ({_mb(done.table_bytes)} with indexes)")
    print()
    sizes_table(series, generated, "look-ups measured")
    print()
    problems += answers_checked(series, generated, "the key's timeline", rounds)
    print()
    for kind in ("booking", "container"):
        ratio_reported(f"P3 {kind}", "look-up", series, generated, kind, rounds, RATIO_GOAL)
        p99 = series[big, kind].percentile(99)
        p99_verdict = "PASS" if p99 <= P99_GOAL_MS else "FAIL"
        print(f"  look-up by {kind}: p99 at {big:,} events = {p99:.1f} ms  (goal <= {P99_GOAL_MS:.0f} ms): "
              f"{p99_verdict}")
        common.result_line(f"P3 {kind} p99", figure=round(p99, 1), goal=f"<= {P99_GOAL_MS:.0f} ms",
                           passed=p99_verdict == "PASS", detail=f"cold, {big:,} events")
    for plan in plans:
        print()
        print(f"  EXPLAIN (ANALYZE, BUFFERS) of the look-up's read (tracking/timeline.py) at {big:,} events, "
              f"look-up of {plan.key}: {plan.rows} facts read, {plan.statements} SQL statements per look-up, "
              f"{len(plan.indexes)} index scans")
        for line in plan.text.splitlines():
            print(f"    {line}")
    print()
    print("RESULT:", "FAIL - " + "; ".join(problems) if problems else "ok (every look-up answered its key's timeline)")
    return problems


# --- Main ------------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=0.1, help="traffic of bench/generate.py: 1 = Ningbo's year (default 0.1)"
    )
    parser.add_argument("--days", type=int, default=365, help="days of traffic in the big table (default 365)")
    parser.add_argument(
        "--small", type=int, default=SMALL, help=f"about this many events in the small table (default {SMALL:,})"
    )
    parser.add_argument("--keys", type=int, default=1000, help="keys per size, each looked up once (default 1,000)")
    parser.add_argument("--warmup", type=int, default=20, help="of them, look-ups per size before measuring (20)")
    parser.add_argument("--rounds", type=int, default=3, help="the measured look-ups in rounds: the ratio is the "
                        "median of theirs (default 3)")
    parser.add_argument("--workers", type=int, default=common.DEPLOYED_WORKERS,
                        help=f"gunicorn sync workers per server (default {common.DEPLOYED_WORKERS}, as deployed)")
    parser.add_argument("--fresh", action="store_true", help="drop both schemas first: fill from empty again")
    args = parser.parse_args(argv)
    for name in ("small", "keys", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if not 0 < args.scale <= 10 or args.days < 2:
        parser.error("--scale must be above 0 and at most 10, --days at least 2")
    rounds_checked(parser, args)
    return args


def rounds_checked(parser, args) -> None:
    """--rounds at least 1, --warmup below --keys, and enough keys left for each round to ask both kinds."""
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not 0 <= args.warmup < args.keys:
        parser.error("--warmup must be below --keys")
    if args.keys - args.warmup < 10 * args.rounds:
        parser.error("--keys less --warmup must be at least 10 a round")


def main(argv=None) -> int:
    args = parse_args(argv)
    common.exit_on_sigterm()
    url = common.database_url(NOT_POSTGRES)
    redis_url = common.redis_url()
    began = time.monotonic()
    database = common.database_name(url)
    created = common.ensure_database(url)
    print(f"bench: database {database} {'created' if created else 'exists'}", flush=True)
    common.django_setup(url, redis_url, migrate=False)
    from django.db import connection

    run_id = uuid.uuid4().hex[:8]
    from bench import generate as traffic

    generated, samples, schemas = {}, {}, {}
    for days in (traffic.days_for_events(args.scale, args.small), args.days):
        done = traffic.generate(url, args.scale, days=days, fresh=args.fresh)
        print(f"bench: {done.summary()}", flush=True)
        django_use_schema(done.schema)
        generated[done.events] = done
        samples[done.events] = keys_sample(run_id, args.keys)
        schemas[done.events] = done.schema
        connection.close()
    small, big = list(generated)
    postgres = common.postgres_version()
    connection.close()

    log_paths = {size: common.log_file(run_id, f"track-{size}") for size in generated}
    ports: dict[int, int] = {}
    for size in generated:
        while (port := common.free_port()) in ports.values():
            pass
        ports[size] = port
    environments = {size: common.server_env(url, redis_url, PGOPTIONS=search_path(schemas[size]),
                                            **common.as_deployed()) for size in generated}
    try:
        with (
            common.gunicorn_server(port=ports[small], workers=args.workers, env=environments[small],
                                   log_path=log_paths[small], timeout=None),
            common.gunicorn_server(port=ports[big], workers=args.workers, env=environments[big],
                                   log_path=log_paths[big], timeout=None),
        ):
            print(f"bench: gunicorn on 127.0.0.1:{ports[small]} ({small:,}) and 127.0.0.1:{ports[big]} ({big:,}), "
                  f"{args.workers} sync workers each; {args.keys} keys per size", flush=True)
            load_before = os.getloadavg()
            series = measure(ports, samples, warmup=args.warmup, rounds=args.rounds)
    except BaseException:
        for path in log_paths.values():
            print(f"bench: server log kept at {path}")
        raise

    django_use_schema(schemas[big])
    # Keys drawn again, not looked up before: cold as well.
    fresh = keys_sample(run_id, 4, seed=0.25)
    plans = [explain(next(k for k in fresh if k.kind == kind)) for kind in ("booking", "container")]
    connection.close()
    load = os.getloadavg()
    setup = {
        "server": f"gunicorn {common.gunicorn_version()}, {args.workers} sync workers, DEBUG=0, one per size",
        "client": "1 thread, http.client, one look-up at a time, alternating between the sizes; each key once, "
                  "with its shipper's API key (events:read)",
        "machine": f"{os.cpu_count()} CPUs; PostgreSQL {postgres} ({database}); {load_average(load_before, load)}",
        "look-ups": f"{measured(samples, args.warmup)} per size measured in {args.rounds} rounds, after "
                    f"{args.warmup} to warm each server up",
        "keys": f"year: {keys_mix(samples[big])} (both directions, as the year holds them)",
    }
    problems = report(run_id=run_id, generated=generated, series=series, plans=plans, setup=setup,
                      rounds=args.rounds)
    print(f"bench: {time.monotonic() - began:.0f} s in all")
    if problems:
        for path in log_paths.values():
            print(f"bench: server log kept at {path}")
        return 1
    for path in log_paths.values():
        path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
