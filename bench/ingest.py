"""P1 Event ingest: events/s through the bulk events API against the raw INSERT rate of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/ingest.py

The script sets up its own PostgreSQL database (created when missing, then migrated), makes fresh rows for
the run (every code carries a run id, so reruns never collide): a railway with an API key (`events:write`)
and one service of it with a pool of departures. It serves the app with gunicorn on a free port and posts
`POST /api/v1/events/` lists of 1,000 TRANSPORT DEPA EST events (a new estimated departure, every one of them
legal) from client threads, in one or two rounds:

- per item: the 1,000 events of a request name 1,000 different departures;
- per batch: the 1,000 events of a request all name one departure (one departure per request).

Then it inserts the same number of rows (the Event rows and their OutboxMessage rows, with the field values
the API wrote) with plain SQL: psycopg2 `execute_values`, a multi-row INSERT of 1,000 events and one of
their 1,000 outbox rows in one transaction per 1,000, from one connection. It prints events/s for each and
the ratio against the goal (API >= 0.33 x raw).

Exit status 1 when an item was refused, on any 5xx (or dropped connection), or when the rows in the database
are not the ones the answers promised. The throughput goal prints PASS/FAIL but does not change the exit
status: it is a measurement, and machines differ.
"""

import argparse
import json
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

EVENTS_PATH = "/api/v1/events/"
RATIO_GOAL = 0.33
MAX_BULK = 1000  # tracking.api.MAX_BULK
REASONS = ("Congestion at the yard", "Late feeder train", "Locomotive change", "Customs inspection of wagons")
ITEM_STRIDE = 337  # per-item round: where each request starts in the pool, so concurrent requests lock apart
NOT_POSTGRES = (
    "This benchmark measures PostgreSQL's write path (row locks, commits, index upkeep) under concurrent "
    "writers; SQLite serialises every writer, so it would measure nothing of the kind."
)


# --- Rows for the run ------------------------------------------------------------------------------------


@dataclass
class Network:
    run_id: str
    api_key: str
    railway_id: int
    railway_code: str
    station: dict  # what the events record of the station: facility kind and code, UN/LOCODE
    mode: str  # the service's mode of transport
    warmup: tuple[str, datetime]  # (reference, planned departure)
    pool: list[tuple[str, datetime]]


def network_create(run_id: str, *, departures: int) -> Network:
    """A railway with an `events:write` key, a station and a terminal, and two services of the railway: W with
    the warm-up departure, R with `departures` departures on consecutive days from tomorrow."""
    from django.db import transaction
    from django.utils import timezone

    from intermodal.codes import FacilityKind
    from intermodal.models import Scope
    from tests import factories

    first_day = timezone.localdate() + timedelta(days=1)
    with transaction.atomic():
        parties = common.parties_create(run_id)
        raw_key = common.api_key_create(parties.railway, name=f"bench ingest {run_id}", scopes=[Scope.EVENTS_WRITE])
        station, terminal = common.station_and_terminal(parties)
        warm_service = factories.service(station, terminal, parties.railway, code=f"b{run_id}-w")
        service = factories.service(station, terminal, parties.railway, code=f"b{run_id}-r")
        (warm,) = common.departures_create(warm_service, first_day, 1)
        pool = common.departures_create(service, first_day, departures)
    return Network(
        run_id=run_id,
        api_key=raw_key,
        railway_id=parties.railway.pk,
        railway_code=parties.railway.code,
        station={
            "facility_kind": FacilityKind.STATION,
            "facility_code": station.code,
            "location_unlocode": station.unlocode,
        },
        mode=service.mode,
        warmup=(warm.reference, warm.planned_departure),
        pool=[(d.reference, d.planned_departure) for d in pool],
    )


def estimate(departure: tuple[str, datetime], n: int) -> dict:
    """The n-th new estimated departure of a train: 15 minutes to 8 hours late, in the station's time."""
    from django.utils import timezone

    reference, planned = departure
    return {
        "event_type": "TRANSPORT",
        "event_code": "DEPA",
        "classifier": "EST",
        "transport_reference": reference,
        "event_datetime": timezone.localtime(planned + timedelta(minutes=15 + (n * 7) % 465)).isoformat(),
        "reason": REASONS[n % len(REASONS)],
    }


def batches_per_item(network: Network, events: int, size: int) -> list[list[dict]]:
    """Request b's item i is about departure (b x stride + i) mod pool: a request names `size` departures."""
    pool = network.pool
    out = []
    for b, start in enumerate(range(0, events, size)):
        count = min(size, events - start)
        out.append([estimate(pool[(b * ITEM_STRIDE + i) % len(pool)], start + i) for i in range(count)])
    return out


def batches_per_batch(network: Network, events: int, size: int) -> list[list[dict]]:
    """Request b is about departure b (from the end of the pool): one departure per request."""
    pool = network.pool
    out = []
    for b, start in enumerate(range(0, events, size)):
        departure = pool[len(pool) - 1 - b % len(pool)]
        out.append([estimate(departure, start + i) for i in range(min(size, events - start))])
    return out


# --- Through the API -------------------------------------------------------------------------------------


@dataclass
class Round:
    name: str
    departures: int
    requests: int = 0
    events: int = 0
    elapsed: float = 0.0
    statuses: Counter = field(default_factory=Counter)  # of the requests
    applied: int = 0
    refused: int = 0
    refusals: Counter = field(default_factory=Counter)  # code of every refused item, or of a failed request
    latencies: list[float] = field(default_factory=list)  # of the requests

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)

    @property
    def events_per_second(self) -> float:
        return self.applied / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        return common.percentile(self.latencies, q) * 1000


def post(name: str, *, port: int, api_key: str, batches: list[list[dict]], threads: int) -> Round:
    """POST every batch from `threads` client threads, each with its own connection; all start together."""
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    results, elapsed = common.fire(
        name,
        port=port,
        requests=[("POST", EVENTS_PATH, json.dumps(batch).encode()) for batch in batches],
        headers=headers,
        threads=threads,
    )
    outcome = Round(
        name=name,
        departures=len({item["transport_reference"] for batch in batches for item in batch}),
        requests=len(batches),
        events=sum(len(batch) for batch in batches),
        elapsed=elapsed,
    )
    for status, latency, _finished, payload in results:
        outcome.statuses[status] += 1
        outcome.latencies.append(latency)
        try:
            body = json.loads(payload) if status else {}
        except ValueError:
            body = {}
        if status != 200 or "results" not in body:
            outcome.refusals[f"request {status}: {body.get('code') or payload[:80].decode(errors='replace')}"] += 1
            continue
        outcome.applied += body["applied"]
        outcome.refused += body["refused"]
        for item in body["results"]:
            if item["status"] != 201:
                outcome.refusals[f"{item['status']} {item.get('code')}: {item.get('detail', '')[:80]}"] += 1
    return outcome


# --- The raw INSERTs -------------------------------------------------------------------------------------

OUTBOX_COLUMNS = ("event_id", "topic", "created_at", "processed_at")


def raw_rows(network: Network, items: list[dict]) -> list[tuple[tuple, tuple]]:
    """For each reported item, the Event row and the OutboxMessage row the API writes for it, built with the
    product's own Event model (the outbox row's event id is known only after its INSERT). Built before the
    clock starts: the baseline times the database, not Python."""
    from django.utils import timezone

    from intermodal.models import Event, Organisation

    railway = Organisation(pk=network.railway_id, code=network.railway_code)
    rows = []
    for item in items:
        now = datetime.now(UTC)
        event = Event(
            event_type=item["event_type"],
            event_code=item["event_code"],
            classifier=item["classifier"],
            # As the API's serializer reads it: in the current time zone.
            event_datetime=timezone.localtime(datetime.fromisoformat(item["event_datetime"])),
            created_at=now,
            mode_of_transport=network.mode,
            transport_reference=item["transport_reference"],
            reason=item["reason"],
            details={},
            reported_by_organisation=railway,
            **network.station,
        )
        values = (
            str(event.event_id),
            event.event_type,
            event.event_code,
            event.classifier,
            event.event_datetime,
            event.created_at,
            event.location_unlocode,
            event.facility_kind,
            event.facility_code,
            event.mode_of_transport,
            event.transport_reference,
            event.equipment_reference,
            event.empty_indicator,
            event.booking_reference,
            event.document_type,
            event.document_reference,
            event.reason,
            json.dumps(event.details),
            network.railway_id,
            None,
        )
        topic = f"{event.event_type.lower()}.{event.event_code.lower()}"
        rows.append((values, (topic, now)))
    return rows


@dataclass
class Raw:
    events: int = 0
    transactions: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of the transactions

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        return common.percentile(self.latencies, q) * 1000


def raw_insert(url: str, rows: list[tuple[tuple, tuple]], size: int) -> Raw:
    """INSERT the rows `size` events at a time: one multi-row INSERT of the events (RETURNING their ids) and one
    of their outbox rows, in one transaction; one connection, `synchronous_commit` as the server has it."""
    from psycopg2.extras import execute_values

    insert_events = f"INSERT INTO intermodal_event ({', '.join(common.EVENT_COLUMNS)}) VALUES %s RETURNING id"  # noqa: S608
    insert_outbox = f"INSERT INTO intermodal_outboxmessage ({', '.join(OUTBOX_COLUMNS)}) VALUES %s"  # noqa: S608
    outcome = Raw()
    connection = common.connect(url)
    try:
        began = time.perf_counter()
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            t0 = time.perf_counter()
            with connection, connection.cursor() as cursor:  # one transaction
                ids = execute_values(cursor, insert_events, [event for event, _ in chunk], page_size=size, fetch=True)
                outbox = [
                    (event_id, topic, at, None)
                    for (event_id,), (_, (topic, at)) in zip(ids, chunk, strict=True)
                ]
                execute_values(cursor, insert_outbox, outbox, page_size=size)
            outcome.latencies.append(time.perf_counter() - t0)
            outcome.transactions += 1
            outcome.events += len(chunk)
        outcome.elapsed = time.perf_counter() - began
    finally:
        connection.close()
    return outcome


# --- Checks and clean-up ---------------------------------------------------------------------------------


@dataclass
class Stored:
    events: int
    outbox: int
    api_row: dict | None
    raw_row: dict | None


def stored(url: str, network: Network, *, probe: dict, raw_event_id: str) -> Stored:
    """What the run left in the database: its events and outbox rows; the raw row of `raw_event_id` and the API's
    row of the same item `probe`."""
    connection = common.connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(o.id) FROM intermodal_event e "
                "LEFT JOIN intermodal_outboxmessage o ON o.event_id = e.id WHERE e.reported_by_organisation_id = %s",
                [network.railway_id],
            )
            events, outbox = cursor.fetchone()
            rows = {}
            names = [*common.EVENT_COLUMNS, "topic"]
            for kind, condition in (("api", "e.event_id <> %s"), ("raw", "e.event_id = %s")):
                cursor.execute(
                    f"SELECT {', '.join('e.' + c for c in common.EVENT_COLUMNS)}, o.topic "  # noqa: S608
                    "FROM intermodal_event e JOIN intermodal_outboxmessage o ON o.event_id = e.id "
                    "WHERE e.reported_by_organisation_id = %s AND e.transport_reference = %s "
                    f"AND e.event_datetime = %s AND e.reason = %s AND {condition} ORDER BY e.id LIMIT 1",
                    [
                        network.railway_id,
                        probe["transport_reference"],
                        probe["event_datetime"],
                        probe["reason"],
                        raw_event_id,
                    ],
                )
                row = cursor.fetchone()
                rows[kind] = dict(zip(names, row, strict=True)) if row else None
    finally:
        connection.close()
    return Stored(events=events, outbox=outbox, api_row=rows["api"], raw_row=rows["raw"])


def same_values(api_row: dict | None, raw_row: dict | None) -> list[str]:
    """The columns in which the raw row differs from the API's row of the same item (but the event's id and the
    time it was written)."""
    if api_row is None or raw_row is None:
        return ["row missing"]
    skip = {"event_id", "created_at"}
    return [c for c in api_row if c not in skip and api_row[c] != raw_row[c]]


def remove(url: str, railway_id: int) -> int:
    """Delete the run's events and their outbox rows (all reported by the run's railway)."""
    connection = common.connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM intermodal_outboxmessage o USING intermodal_event e "
                "WHERE o.event_id = e.id AND e.reported_by_organisation_id = %s",
                [railway_id],
            )
            cursor.execute("DELETE FROM intermodal_event WHERE reported_by_organisation_id = %s", [railway_id])
            return cursor.rowcount
    finally:
        connection.close()


# --- The report ------------------------------------------------------------------------------------------


def report(
    *, network: Network, rounds: list[Round], raw: Raw, checks: list[tuple[bool, str]], setup: dict[str, str]
) -> list[str]:
    """Print the figures; return the problems that make the run fail (empty when it passes)."""
    problems: list[str] = []
    print()
    print(f"P1 Event ingest - run {network.run_id}")
    for label, value in setup.items():
        print(f"  {label:<12} {value}")
    print()
    heads = [f"API, {r.name}" for r in rounds] + ["raw INSERT"]
    width = max(16, *(len(h) + 2 for h in heads))
    rows = [
        ("departures", *(r.departures for r in rounds), "-"),
        ("events", *(r.events for r in rounds), raw.events),
        ("requests", *(r.requests for r in rounds), "-"),
        ("transactions", *(r.requests for r in rounds), raw.transactions),
        ("applied (201)", *(r.applied for r in rounds), raw.events),
        ("refused items", *(r.refused for r in rounds), "-"),
        ("5xx / dropped", *(r.server_errors for r in rounds), "-"),
        ("elapsed s", *(f"{r.elapsed:.2f}" for r in rounds), f"{raw.elapsed:.2f}"),
        ("events/s", *(f"{r.events_per_second:.0f}" for r in rounds), f"{raw.events_per_second:.0f}"),
        ("1,000 p50 ms", *(f"{r.percentile(50):.0f}" for r in rounds), f"{raw.percentile(50):.0f}"),
        ("1,000 p95 ms", *(f"{r.percentile(95):.0f}" for r in rounds), f"{raw.percentile(95):.0f}"),
    ]
    print(f"  {'':<18}" + "".join(f"{h:>{width}}" for h in heads))
    for label, *values in rows:
        print(f"  {label:<18}" + "".join(f"{v!s:>{width}}" for v in values))
    print("  (1,000 p50/p95: the latency of one request of 1,000 events through the API, of one transaction of")
    print("   1,000 events and their outbox rows for the raw INSERT; the API applies a request's estimates as one")
    print("   batch: one transaction per request)")
    for r in rounds:
        if r.refusals:
            print(f"  refusals, {r.name}: " + ", ".join(f"{text} x{n}" for text, n in r.refusals.most_common(5)))
    print()
    for ok, text in checks:
        print(f"  [{'ok' if ok else 'FAIL'}] {text}")
        if not ok:
            problems.append(text)
    print()
    for r in rounds:
        ratio = r.events_per_second / raw.events_per_second if raw.events_per_second else 0.0
        verdict = "PASS" if ratio >= RATIO_GOAL else "FAIL"
        print(
            f"  ingest {r.name} / raw INSERT = {r.events_per_second:.0f} / {raw.events_per_second:.0f} events/s "
            f"= {ratio:.3f}  (goal >= {RATIO_GOAL}): {verdict}"
        )
        common.result_line(
            f"P1 {r.name}",
            figure=ratio,
            goal=f">= {RATIO_GOAL}",
            passed=verdict == "PASS",
            detail=f"{r.events_per_second:.0f} vs {raw.events_per_second:.0f} events/s",
        )
    print()
    print("RESULT:", "FAIL - " + "; ".join(problems) if problems else "ok (every event applied, no 5xx)")
    return problems


# --- Main ------------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000, help="events per round (default 20,000)")
    parser.add_argument(
        "--batch", type=int, default=MAX_BULK, help=f"events per request and per raw transaction (default {MAX_BULK})"
    )
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers, 1 thread each (default 4)")
    parser.add_argument(
        "--rounds",
        choices=("both", "item", "batch"),
        default="both",
        help="per item (each event names another departure), per batch (one departure per request), or both",
    )
    parser.add_argument(
        "--departures", type=int, default=MAX_BULK, help="departures the events are spread over (default 1,000)"
    )
    parser.add_argument("--warmup", type=int, default=400, help="events before measuring, 50 a request (default 400)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the run's events and outbox rows (by default they are deleted)"
    )
    args = parser.parse_args(argv)
    for name in ("events", "batch", "threads", "workers", "departures"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.batch > MAX_BULK:
        parser.error(f"--batch is at most {MAX_BULK} (the API's limit)")
    if args.warmup < 0:
        parser.error("--warmup cannot be negative")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    common.exit_on_sigterm()
    url = common.database_url(NOT_POSTGRES)
    redis_url = common.redis_url()
    began = time.monotonic()
    database = common.database_name(url)
    created = common.ensure_database(url)
    print(f"bench: database {database} {'created' if created else 'exists'}; migrating", flush=True)
    common.django_setup(url, redis_url)

    run_id = uuid.uuid4().hex[:8]
    batches = -(-args.events // args.batch)
    network = network_create(run_id, departures=max(args.departures, batches))
    from django.db import connection

    postgres = common.postgres_version()
    connection.close()  # the server's workers are the only clients while measuring
    plans = {
        "item": batches_per_item(network, args.events, args.batch),
        "batch": batches_per_batch(network, args.events, args.batch),
    }
    names = {"item": "per item", "batch": "per batch"}
    wanted = ["item", "batch"] if args.rounds == "both" else [args.rounds]
    print(
        f"bench: run {run_id}: {len(network.pool)} departures of service b{run_id}-r, "
        f"{args.events} events per round in {batches} requests",
        flush=True,
    )

    port = common.free_port()
    log_path = common.log_file(run_id, "ingest")
    env = common.server_env(url, redis_url)
    rounds: list[Round] = []
    warm = Round(name="warm-up", departures=1)
    try:
        with common.gunicorn_server(port=port, workers=args.workers, env=env, log_path=log_path):
            print(f"bench: gunicorn on 127.0.0.1:{port}, {args.workers} sync workers x 1 thread", flush=True)
            if args.warmup:
                items = [estimate(network.warmup, n) for n in range(args.warmup)]
                warm = post(
                    "warm-up",
                    port=port,
                    api_key=network.api_key,
                    batches=[items[n : n + 50] for n in range(0, len(items), 50)],
                    threads=args.threads,
                )
                print(f"bench: warm-up {warm.applied} events applied in {warm.elapsed:.2f} s", flush=True)
            for kind in wanted:
                outcome = post(
                    names[kind], port=port, api_key=network.api_key, batches=plans[kind], threads=args.threads
                )
                print(
                    f"bench: {outcome.name}: {outcome.applied} applied, {outcome.refused} refused, "
                    f"requests {dict(outcome.statuses)} in {outcome.elapsed:.2f} s",
                    flush=True,
                )
                rounds.append(outcome)
    except BaseException:
        print(f"bench: server log kept at {log_path}")
        raise

    # The baseline: the same rows as the first round's, with the same values (but the event ids).
    items = [item for batch in plans[wanted[0]] for item in batch]
    rows = raw_rows(network, items)
    raw = raw_insert(url, rows, args.batch)
    print(f"bench: raw INSERT of {raw.events} events + {raw.events} outbox rows in {raw.elapsed:.2f} s", flush=True)

    expected = sum(r.applied for r in rounds) + warm.applied + raw.events
    found = stored(url, network, probe=items[0], raw_event_id=rows[0][0][0])
    differ = same_values(found.api_row, found.raw_row)
    checks = []
    for r in rounds:
        checks += [
            (r.applied == r.events and r.refused == 0, f"{r.name}: every event applied ({r.applied}/{r.events})"),
            (r.server_errors == 0, f"{r.name}: no 5xx or dropped connection ({r.server_errors})"),
            (r.statuses[200] == r.requests, f"{r.name}: every request answered 200 ({r.statuses[200]}/{r.requests})"),
        ]
    checks += [
        (warm.applied == args.warmup, f"warm-up: every event applied ({warm.applied}/{args.warmup})"),
        (
            found.events == expected and found.outbox == expected,
            f"events in the database == outbox rows == applied + raw ({found.events} == {found.outbox} == {expected})",
        ),
        (
            not differ,
            "a raw row has the values of the API's row for the same item (but the event id and time of writing)"
            + (f": differ in {', '.join(differ)}" if differ else ""),
        ),
    ]

    setup = {
        "server": f"gunicorn {common.gunicorn_version()}, {args.workers} sync workers x 1 thread, DEBUG=1",
        "clients": (
            f"{args.threads} threads, http.client, POST {EVENTS_PATH} of {args.batch} TRANSPORT DEPA EST events "
            "(railway key, events:write)"
        ),
        "raw INSERT": (
            f"psycopg2 execute_values, 1 connection: INSERT of {args.batch} events + INSERT of their outbox rows, "
            "one transaction per batch"
        ),
        "machine": f"{os.cpu_count()} CPUs; PostgreSQL {postgres} ({database})",
        "warm-up": f"{args.warmup} events before measuring",
    }
    problems = report(network=network, rounds=rounds, raw=raw, checks=checks, setup=setup)
    if args.keep:
        print(f"bench: kept the run's {found.events} events (reported by bench-{run_id}-railway)")
    else:
        deleted = remove(url, network.railway_id)
        print(f"bench: deleted the run's {deleted} events and their outbox rows (--keep keeps them)")
    print(f"bench: {time.monotonic() - began:.0f} s in all")
    if problems:
        print(f"bench: server log kept at {log_path}")
        return 1
    log_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
