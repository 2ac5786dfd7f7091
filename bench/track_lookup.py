"""P3 Tracking look-up: latency of GET /api/v1/track/{key}/ with a year of events and with about 10,000.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/track_lookup.py

The look-up must not slow down as the events table grows. The tables come from bench/generate.py, each in its
own schema of the bench database (generated when missing, else reused):

- the year of traffic at `--scale` (`bench_year_0_1`: about 1,030,000 events at 0.1; 10 million at 1);
- the same traffic for the few days that make about `--small` (10,000) events (`bench_4d_0_1` at 0.1).

In each, it makes a real booking for the run through the services (a shipper with an `events:read` API key,
a confirmed booking of 2 x 22G1 with both containers handed out, gated in and loaded, the train estimated and
departed: 12 events), and copies beside it (COPY) the rows a look-up of it reads besides its own: 20 other
bookings on its train and `--neighbours` other containers loaded on its vessel, the same at both sizes
(reported by the organisation `bench-synthetic-feed`; a rerun deletes the earlier runs' neighbours first).
`--fresh` generates both tables again.

It then serves each schema with its own gunicorn and sends the look-ups from one client, one at a time,
alternating between the two servers (so both sizes are measured under the same machine load), for the
booking reference and for a container number. It prints p50/p95/max of both sizes, the ratio big/small of
the p50 against the goal (<= 1.5), and EXPLAIN (ANALYZE, BUFFERS) of the timeline query at the big size.

Exit status 1 on any answer other than 200 or a timeline that is not the booking's. The latency goal prints
PASS/FAIL but does not change the exit status: it is a measurement, and machines differ.
"""

import argparse
import io
import json
import os
import queue
import random
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

SMALL = 10_000
RATIO_GOAL = 1.5
TRACK_PATH = "/api/v1/track/{key}/"
SYNTHETIC_ORGANISATION = "bench-synthetic-feed"
CHUNK = 50_000  # synthetic rows per COPY (and per commit)
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


# --- The run's booking, made through the services --------------------------------------------------------


@dataclass
class Subject:
    """What is looked up: a real booking and its containers, and the shipper's key."""

    run_id: str
    api_key: str
    shipper_id: int
    booking: str
    containers: list[str]
    departure: str
    vessel_call: str
    planned_departure: datetime
    events: int  # the events its journey recorded


def container_number(rng: random.Random, owner: str, *, valid: bool) -> str:
    """An ISO 6346 number of `owner`; with a wrong check digit unless `valid` (synthetic numbers are not, so they
    never meet a real one)."""
    from stdnum import iso6346

    body = f"{owner}{rng.randrange(10**6):06d}"
    digit = int(iso6346.calc_check_digit(body))
    return f"{body}{digit if valid else (digit + 1) % 10}"


def subject_create(run_id: str) -> Subject:
    """A confirmed booking of 2 x 22G1 on tomorrow's train of a new service, its empties handed out, gated in
    and loaded, the train's delay estimated and the train departed, all through the journey's services."""
    from django.db import transaction
    from django.utils import timezone

    from bookings import services
    from intermodal.access import Actor
    from intermodal.models import Event, Scope
    from journey import services as journey
    from stations.models import Location
    from tests import factories

    first_day = timezone.localdate() + timedelta(days=1)
    rng = random.Random()  # noqa: S311 - container numbers, not secrets
    with transaction.atomic():
        parties = common.parties_create(run_id)
        raw_key = common.api_key_create(
            parties.shipper, name=f"bench track {run_id}", scopes=[Scope.EVENTS_READ], created_by=parties.user
        )
        station, terminal = common.station_and_terminal(parties)
        service = factories.service(station, terminal, parties.railway, code=f"b{run_id}-t")
        (departure,) = common.departures_create(service, first_day, 1)
        call = factories.vessel_call(
            terminal,
            etd=factories.shanghai(first_day + timedelta(days=3), 18),
            voyage=f"B{run_id}",
            vessel_name=f"Bench Express {run_id}",
            destinations=("NLRTM",),
        )
    shipper = Actor(organisation=parties.shipper, user=parties.user)
    staff = Actor(organisation=parties.operator)
    railway = Actor(organisation=parties.railway)
    booking = services.booking_create(
        actor=shipper,
        departure=departure,
        vessel_call=call,
        destination=Location.objects.get(unlocode="NLRTM"),
        lines={"22G1": 2},
        commodity="Christmas decorations",
        cargo_weight_kg=Decimal("18000"),
        confirm=True,
    )
    request = services.empty_request_create(actor=shipper, booking=booking, size_type="22G1", quantity=2)
    journey.empty_request_ready(actor=staff, request=request)
    numbers = [container_number(rng, "BNCU", valid=True) for _ in range(2)]
    for number in numbers:
        journey.empty_hand_out(actor=staff, request=request, number=number)
    for n, number in enumerate(numbers):
        journey.laden_gate_in(confirmed=True,
            actor=staff,
            number=number,
            seal_number=f"SL{run_id}{n}",
            vgm_kg=Decimal("24000"),
            vgm_method=1,
            vgm_signatory="Zhang Wei",
        )
    for number in numbers:
        journey.train_load(confirmed=True, actor=staff, number=number)
    journey.departure_estimate(
        actor=railway,
        departure=departure,
        estimated_departure=departure.planned_departure + timedelta(minutes=40),
        reason="Late feeder train",
    )
    journey.train_depart(confirmed=True, actor=railway, departure=departure)
    recorded = Event.objects.filter(booking_reference=booking.reference).count() + (
        Event.objects.filter(transport_reference=departure.reference, booking_reference="").count()
    )
    return Subject(
        run_id=run_id,
        api_key=raw_key,
        shipper_id=parties.shipper.pk,
        booking=booking.reference,
        containers=numbers,
        departure=departure.reference,
        vessel_call=call.reference,
        planned_departure=departure.planned_departure,
        events=recorded,
    )


# --- Synthetic events, by COPY ---------------------------------------------------------------------------

OWNERS = (
    "CSQU", "TCNU", "MSKU", "OOLU", "CMAU", "EGHU", "TGHU", "FCIU", "SEGU", "TRHU",
    "BMOU", "GESU", "HLXU", "CAIU", "DFSU", "TEMU", "BSIU", "FSCU", "ZCSU", "YMLU",
)  # fmt: skip
SIZE_TYPES = ("22G1", "42G1", "45G1", "L5G1")
NEIGHBOUR_PLACES = ("NEIGHBOUR", "NEIGHBOUR-T")  # the facility codes of the rows next to the run's booking
CONTAINER_POOL = 40_000  # boxes in circulation: each makes several journeys a year
NULL = "\\N"


class Synthetic:
    """Rows of the events table for journeys that did not happen, as the services would have written them.

    Rows are COPY text lines (tab-separated, `\\N` for NULL), built with plain string formatting: the fill must
    keep up with PostgreSQL."""

    def __init__(self, organisation_id: int, seed: int):
        self.organisation_id = organisation_id
        self.rng = random.Random(seed)  # noqa: S311 - test data
        pool_rng = random.Random(6346)  # noqa: S311 - the same boxes on every run
        self.containers = [
            container_number(pool_rng, pool_rng.choice(OWNERS), valid=False) for _ in range(CONTAINER_POOL)
        ]
        self.details = {size: json.dumps({"size_type": size}) for size in SIZE_TYPES}
        self.booking_base = self.rng.randrange(10**6)

    def _event_id(self) -> str:
        """A random (version 4) UUID as 32 hex digits, which PostgreSQL takes as they are."""
        bits = self.rng.getrandbits(128) & ~(0xF << 76) & ~(0x3 << 62) | (0x4 << 76) | (0x2 << 62)
        return f"{bits:032x}"

    def _row(
        self,
        at: datetime,
        kind: str,
        code: str,
        place: tuple[str, str, str],
        *,
        classifier: str = "ACT",
        mode: str = "",
        transport: str = "",
        equipment: str = "",
        empty: str = "",
        booking: str = "",
        document: str = "",
        reason: str = "",
        details: str = "{}",
    ) -> str:
        """One line of COPY text in common.EVENT_COLUMNS order; `place` is (UN/LOCODE, facility kind, facility code)."""
        created = at + timedelta(seconds=60 + int(self.rng.random() * 1800))
        document_type = "BKG" if document else ""
        return (
            f"{self._event_id()}\t{kind}\t{code}\t{classifier}\t{at.isoformat()}\t{created.isoformat()}\t"
            f"{place[0]}\t{place[1]}\t{place[2]}\t{mode}\t{transport}\t{equipment}\t{empty}\t{booking}\t"
            f"{document_type}\t{document}\t{reason}\t{details}\t{self.organisation_id}\t{NULL}\n"
        )

    def _minutes(self, low: int, high: int) -> timedelta:
        return timedelta(minutes=low + int(self.rng.random() * (high - low)))

    def journey(self, n: int, leaves: datetime, departure: str, vessel: str, station, terminal) -> list[str]:
        """The events of one booking of 1-3 containers on train `departure` and vessel `vessel`."""
        rng, row, minutes = self.rng, self._row, self._minutes
        booking = f"BK-{leaves.year}-S{(self.booking_base + n) % 10**6:06d}"
        at_station = (station[1], "station", station[0])
        at_terminal = (terminal[1], "terminal", terminal[0])
        drafted = leaves - minutes(3 * 1440, 20 * 1440)
        rows = [
            row(drafted, "SHIPMENT", "DRFT", at_station, transport=departure, booking=booking, document=booking),
            row(drafted + timedelta(minutes=5), "SHIPMENT", "CONF", at_station, transport=departure, booking=booking,
                document=booking),
        ]  # fmt: skip
        for _ in range(rng.choice((1, 1, 2, 2, 2, 3))):
            box = rng.choice(self.containers)
            own = {"equipment": box, "booking": booking, "details": self.details[rng.choice(SIZE_TYPES)]}
            rail = {"mode": "RAIL", "transport": departure}
            rows += [
                row(leaves - minutes(2880, 4320), "EQUIPMENT", "GTOT", at_station, empty="EMPTY", **own),
                row(leaves - minutes(300, 1440), "EQUIPMENT", "GTIN", at_station, empty="LADEN", **own),
                row(leaves - minutes(30, 240), "EQUIPMENT", "LOAD", at_station, empty="LADEN", **rail, **own),
                row(leaves + minutes(500, 600), "EQUIPMENT", "DISC", at_terminal, empty="LADEN", **rail, **own),
                row(leaves + minutes(600, 720), "EQUIPMENT", "GTIN", at_terminal, empty="LADEN", **own),
                row(leaves + minutes(1500, 2500), "EQUIPMENT", "LOAD", at_terminal, empty="LADEN", mode="VESSEL",
                    transport=vessel, **own),
            ]  # fmt: skip
        return rows

    def neighbours(self, subject: Subject, containers: int, bookings: int) -> list[str]:
        """Other bookings on the run's train, and other containers loaded on its vessel: the rows a look-up of the
        run's booking reads besides its own, the same at every table size."""
        station, terminal = (NEIGHBOUR_PLACES[0], "CNYIU"), (NEIGHBOUR_PLACES[1], "CNBLG")
        leaves = subject.planned_departure
        rows: list[str] = []
        for n in range(bookings):
            rows += self.journey(10**5 + n, leaves, subject.departure, f"9899000-{n:04d}E", station, terminal)
        at_terminal = (terminal[1], "terminal", terminal[0])
        for _ in range(containers):
            at = leaves + self._minutes(1500, 2500)
            box = self.rng.choice(self.containers)
            rows.append(
                self._row(at, "EQUIPMENT", "LOAD", at_terminal, empty="LADEN", equipment=box, mode="VESSEL",
                          transport=subject.vessel_call, details=self.details["42G1"])
            )  # fmt: skip
        return rows


@dataclass
class Fill:
    schema: str
    before: int = 0  # rows in the events table before the run
    old_neighbours: int = 0  # the earlier runs' neighbours, deleted
    neighbours: int = 0
    copy_seconds: float = 0.0
    vacuum_seconds: float = 0.0
    after: int = 0
    table_bytes: int = 0


def _copy(cursor, lines) -> int:
    """COPY the lines into the events table, CHUNK rows per statement; a producer thread builds the next chunk
    while PostgreSQL takes the current one."""
    chunks: queue.Queue = queue.Queue(maxsize=2)

    def produce() -> None:
        buffer, n = [], 0
        for line in lines:
            buffer.append(line)
            n += 1
            if n == CHUNK:
                chunks.put(io.StringIO("".join(buffer)))
                buffer, n = [], 0
        if buffer:
            chunks.put(io.StringIO("".join(buffer)))
        chunks.put(None)

    producer = threading.Thread(target=produce, name="copy-producer", daemon=True)
    producer.start()
    statement = f"COPY intermodal_event ({', '.join(common.EVENT_COLUMNS)}) FROM STDIN"
    copied = 0
    while (chunk := chunks.get()) is not None:
        cursor.copy_expert(statement, chunk, size=1 << 20)
        copied += cursor.rowcount
        cursor.connection.commit()
    producer.join()
    return copied


def fill(url: str, schema: str, subject: Subject, *, organisation_id: int, neighbours: tuple[int, int]) -> Fill:
    """The earlier runs' neighbours out, this run's in (COPY), then VACUUM ANALYZE."""
    outcome = Fill(schema=schema)
    connection = common.connect(url, options=search_path(schema))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")  # a fill, not a measurement
            cursor.execute("SELECT count(*) FROM intermodal_event")
            (outcome.before,) = cursor.fetchone()
            # The earlier runs' neighbours are no one's neighbours now.
            cursor.execute(
                "DELETE FROM intermodal_event WHERE reported_by_organisation_id = %s AND facility_code = ANY(%s)",
                [organisation_id, list(NEIGHBOUR_PLACES)],
            )
            outcome.old_neighbours = cursor.rowcount
            connection.commit()
            synthetic = Synthetic(organisation_id, seed=uuid.uuid4().int)
            began = time.perf_counter()
            outcome.neighbours = _copy(cursor, synthetic.neighbours(subject, *neighbours))
            outcome.copy_seconds = time.perf_counter() - began
        connection.autocommit = True
        with connection.cursor() as cursor:
            began = time.perf_counter()
            cursor.execute("VACUUM (ANALYZE) intermodal_event")
            outcome.vacuum_seconds = time.perf_counter() - began
            cursor.execute(f"SELECT count(*), ({common.EVENTS_SIZE_SQL}) FROM intermodal_event")  # noqa: S608
            outcome.after, outcome.table_bytes = cursor.fetchone()
    finally:
        connection.close()
    return outcome


def synthetic_organisation() -> int:
    from intermodal.models import Organisation, PartyKind

    organisation, _ = Organisation.objects.get_or_create(
        code=SYNTHETIC_ORGANISATION, defaults={"name": "Bench synthetic event feed", "kind": PartyKind.RAILWAY}
    )
    return organisation.pk


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


def explain(subject: Subject, key: str) -> Plan:
    """Run the look-up in this process, catch the timeline query (tracking/timeline.py `_events_for`) as Django
    sent it, and EXPLAIN (ANALYZE, BUFFERS) it (twice: the second, warm, is the one kept)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from intermodal.access import Actor
    from intermodal.models import Organisation
    from tracking import timeline as tracking

    actor = Actor(organisation=Organisation.objects.get(pk=subject.shipper_id))
    with CaptureQueriesContext(connection) as captured:
        timeline = tracking.track_lookup(actor=actor, key=key)
    queries = [q["sql"] for q in captured.captured_queries if 'FROM "intermodal_event"' in q["sql"]]
    if not queries:
        return Plan(key=key, statements=len(captured.captured_queries), rows=0, text="(no events query caught)")
    with connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + queries[-1])
            text = "\n".join(row[0] for row in cursor.fetchall())
    return Plan(key=key, statements=len(captured.captured_queries), rows=len(timeline.events), text=text)


# --- The look-ups ----------------------------------------------------------------------------------------


@dataclass
class Series:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        return common.percentile(self.latencies, q) * 1000


def look_up(port: int, key: str, headers: dict[str, str]) -> tuple[int, float, bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    began = time.perf_counter()
    try:
        connection.request("GET", TRACK_PATH.format(key=key), headers=headers)
        response = connection.getresponse()
        payload, status = response.read(), response.status
    except (OSError, http.client.HTTPException) as exc:
        payload, status = f"{type(exc).__name__}: {exc}".encode(), 0
    finally:
        connection.close()
    return status, time.perf_counter() - began, payload


def timeline_problem(status: int, payload: bytes, subject: Subject, key: str) -> str | None:
    """Why the answer is not the run's timeline, or None."""
    if status != 200:
        return f"{key}: HTTP {status} {payload[:100].decode(errors='replace')}"
    body = json.loads(payload)
    steps = {step["key"]: step for step in body.get("steps", [])}
    if body.get("booking") != subject.booking:
        return f"{key}: booking {body.get('booking')} instead of {subject.booking}"
    if not all(steps.get(name, {}).get("actual") for name in ("empty_out", "station_gate_in", "train_departs")):
        return f"{key}: the steps done are missing from the timeline"
    return None


def measure(servers: dict[str, int], subjects: dict[str, Subject], *, requests: int, warmup: int):
    """Warm each server up, then send `requests` look-ups of each key to each server, one at a time,
    alternating between the servers. Before each, the key's stamp in the tracking cache is renewed
    (intermodal/versions.py), so every look-up is built from the database: this measures the tables,
    P5 measures the cache."""
    from intermodal.versions import forget

    series = {(size, kind): Series() for size in servers for kind in ("booking", "container")}
    plan = []
    for n in range(warmup + requests):
        for kind in ("booking", "container"):
            for size in servers:
                plan.append((n < warmup, size, kind))
    for warming, size, kind in plan:
        subject = subjects[size]
        key = subject.booking if kind == "booking" else subject.containers[0]
        headers = {"Authorization": f"Bearer {subject.api_key}", "Accept": "application/json"}
        forget([key])
        status, latency, payload = look_up(servers[size], key, headers)
        problem = timeline_problem(status, payload, subject, key)
        if warming:
            if problem:
                series[size, kind].failures.append(f"warm-up {problem}")
            continue
        series[size, kind].latencies.append(latency)
        if problem:
            series[size, kind].failures.append(problem)
    return series


# --- The report ------------------------------------------------------------------------------------------


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 2**10:.0f} kB"


def report(*, run_id, fills, subjects, series, plans, setup) -> list[str]:
    problems: list[str] = []
    small, big = list(fills)
    print()
    print(f"P3 Tracking look-up - run {run_id}")
    for label, value in setup.items():
        print(f"  {label:<12} {value}")
    for done in fills.values():
        how = f"{done.neighbours:,} rows next to the run's booking copied in {done.copy_seconds:.1f} s"
        if done.old_neighbours:
            how += f", {done.old_neighbours:,} of earlier runs deleted"
        how += f"; VACUUM ANALYZE {done.vacuum_seconds:.1f} s"
        print(f"  {done.schema:<12} {done.after:,} events ({_mb(done.table_bytes)} with indexes): {how}")
    print()
    width = 18
    print(f"  {'':<28}{f'{small:,} events':>{width}}{f'{big:,} events':>{width}}{'big/small':>{width}}")
    verdicts = []
    for kind in ("booking", "container"):
        key = subjects[small].booking if kind == "booking" else subjects[small].containers[0]
        print(f"  {kind} ({key} / {subjects[big].booking if kind == 'booking' else subjects[big].containers[0]})")
        for label, q in (("p50 ms", 50), ("p95 ms", 95), ("max ms", 100)):
            a, b = series[small, kind].percentile(q), series[big, kind].percentile(q)
            print(f"    {label:<26}{a:>{width}.1f}{b:>{width}.1f}{b / a if a else float('nan'):>{width}.2f}")
        a, b = series[small, kind].percentile(50), series[big, kind].percentile(50)
        verdicts.append((kind, a, b))
    print(f"    {'look-ups measured':<26}" + "".join(f"{len(series[s, 'booking'].latencies):>{width}}" for s in fills))
    print()
    for size in fills:
        for kind in ("booking", "container"):
            failures = series[size, kind].failures
            text = f"{size:,} events, {kind}: every answer 200 with the run's timeline ({len(failures)} not)"
            print(f"  [{'ok' if not failures else 'FAIL'}] {text}")
            for failure in failures[:3]:
                print(f"         {failure}")
            if failures:
                problems.append(text)
    print()
    for kind, a, b in verdicts:
        ratio = b / a if a else float("nan")
        verdict = "PASS" if ratio <= RATIO_GOAL else "FAIL"
        print(
            f"  look-up by {kind}: p50 at {big:,} / at {small:,} events = {b:.1f} / {a:.1f} ms = {ratio:.2f}  "
            f"(goal <= {RATIO_GOAL}): {verdict}"
        )
        common.result_line(
            f"P3 {kind}",
            figure=ratio,
            goal=f"<= {RATIO_GOAL}",
            passed=verdict == "PASS",
            detail=f"p50 {b:.1f} ms at {big:,} vs {a:.1f} ms at {small:,} events",
        )
    for plan in plans:
        print()
        print(
            f"  EXPLAIN (ANALYZE, BUFFERS) of the timeline query (tracking/timeline.py _events_for) at {big:,} "
            f"events, look-up of {plan.key}: {plan.rows} events returned, {plan.statements} SQL statements per "
            f"look-up, indexes: {', '.join(plan.indexes) or 'none'}"
        )
        for line in plan.text.splitlines():
            print(f"    {line}")
    print()
    print("RESULT:", "FAIL - " + "; ".join(problems) if problems else "ok (every look-up answered the run's timeline)")
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
    parser.add_argument("--requests", type=int, default=200, help="look-ups per key and size (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="look-ups per key and size before measuring (20)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers per server (default 4)")
    parser.add_argument(
        "--neighbours",
        type=int,
        default=400,
        help="other containers on the run's vessel, 1 event each (default 400); 20 other bookings ride its train",
    )
    parser.add_argument("--fresh", action="store_true", help="drop both schemas first: fill from empty again")
    args = parser.parse_args(argv)
    for name in ("small", "requests", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if not 0 < args.scale <= 10 or args.days < 2:
        parser.error("--scale must be above 0 and at most 10, --days at least 2")
    if args.warmup < 0 or args.neighbours < 0:
        parser.error("--warmup and --neighbours cannot be negative")
    return args


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

    fills: dict[int, Fill] = {}
    subjects: dict[int, Subject] = {}
    schemas: dict[int, str] = {}
    for days in (traffic.days_for_events(args.scale, args.small), args.days):
        generated = traffic.generate(url, args.scale, days=days, fresh=args.fresh)
        print(f"bench: {generated.summary()}", flush=True)
        schema = generated.schema
        django_use_schema(schema)
        subject = subject_create(run_id)
        organisation_id = synthetic_organisation()
        connection.close()
        print(
            f"bench: run {run_id}: booking {subject.booking} with {', '.join(subject.containers)}, {subject.events} "
            f"journey events in {schema}",
            flush=True,
        )
        done = fill(url, schema, subject, organisation_id=organisation_id, neighbours=(args.neighbours, 20))
        print(
            f"bench: {schema}: {done.old_neighbours:,} earlier neighbours deleted, {done.neighbours:,} copied in "
            f"{done.copy_seconds:.1f} s, VACUUM ANALYZE {done.vacuum_seconds:.1f} s: {done.after:,} events",
            flush=True,
        )
        fills[done.after], subjects[done.after], schemas[done.after] = done, subject, schema
    small, big = list(fills)
    postgres = common.postgres_version()
    connection.close()

    log_paths = {size: common.log_file(run_id, f"track-{size}") for size in fills}
    ports: dict[int, int] = {}
    for size in fills:
        while (port := common.free_port()) in ports.values():
            pass
        ports[size] = port
    servers = {}
    try:
        with (
            common.gunicorn_server(
                port=ports[small],
                workers=args.workers,
                env=common.server_env(url, redis_url, PGOPTIONS=search_path(schemas[small])),
                log_path=log_paths[small],
            ),
            common.gunicorn_server(
                port=ports[big],
                workers=args.workers,
                env=common.server_env(url, redis_url, PGOPTIONS=search_path(schemas[big])),
                log_path=log_paths[big],
            ),
        ):
            servers = {size: ports[size] for size in fills}
            print(
                f"bench: gunicorn on 127.0.0.1:{ports[small]} ({small:,}) and "
                f"127.0.0.1:{ports[big]} ({big:,}), {args.workers} sync workers x 1 thread each",
                flush=True,
            )
            series = measure(servers, subjects, requests=args.requests, warmup=args.warmup)
    except BaseException:
        for path in log_paths.values():
            print(f"bench: server log kept at {path}")
        raise

    django_use_schema(schemas[big])
    plans = [
        explain(subjects[big], subjects[big].booking),
        explain(subjects[big], subjects[big].containers[0]),
    ]
    connection.close()

    setup = {
        "server": (
            f"gunicorn {common.gunicorn_version()}, {args.workers} sync workers x 1 thread, DEBUG=1, one per size"
        ),
        "client": (
            "1 thread, http.client, one look-up at a time, alternating between the sizes; the shipper's API key "
            "(events:read)"
        ),
        "machine": f"{os.cpu_count()} CPUs; PostgreSQL {postgres} ({database})",
        "look-ups": f"{args.requests} per key and size, after {args.warmup} per key and size to warm up",
    }
    problems = report(run_id=run_id, fills=fills, subjects=subjects, series=series, plans=plans, setup=setup)
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
