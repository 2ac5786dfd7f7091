"""P1 Event ingest: the whole journey of containers reported through the bulk events API - every kind of event,
as the parties' systems send it - into the events table of the year of traffic, against a 4-connection COPY of
the same rows into the same table.

    make bench-ingest BENCH_SCALE=0.1 BENCH_ARGS="--containers 1000 --rounds 3"

The events table is the year of traffic's (bench/generate.py at `--scale`, made when missing, else reused), so
the API's rows go into the table the platform will have, with its indexes and monthly partitions. In that schema
each round makes fresh rows (every code carries the run id and the round): a station, a terminal, a railway
service each way with departures, a vessel call to load, bookings of `--containers` containers with their empty
requests ready - of them `--import-share` (the generated year's: BENCH_IMPORT_SHARE, else a third) imports,
announced by the port on a vessel call arriving within the hour and booked inland by the consignee on the import
trains (inbound.services, as the product does it). Then the parties report the journey of those containers as
their systems would, in lists of up to 1,000 sent from `--threads` client threads (a request is one party's), one
phase after the other, each needing the one before:

1. the station hands the export empties out (GTOT with their empty request, applied one by one);
2. the port reports the import vessel alongside (TRANSPORT ARRI);
3. the station gates the exports in laden (GTIN with seal and VGM), then loads them on their trains (LOAD);
4. the port discharges the imports from the vessel (DISC, vessel) and loads them on their trains (LOAD, rail);
5. the railway reports each train's (both ways) new estimated departure, its departure and its arrival;
6. the port discharges the exports (DISC), gates them in at the terminal (GTIN), gives the vessel a new ETA and
   loads them on it (LOAD); their goods, and the imports', were cleared by customs before phase 3 (not timed);
7. the station discharges the imports (DISC, rail; AVPU follows), hands them to the consignee (GTOT, laden) and
   takes them back empty (GTIN, empty);
8. the port reports the vessel sailed (DEPA).

gunicorn runs as deployed: gunicorn.conf.py's timeout (30 s, the one production has), DEBUG=0, `--workers` sync
workers; only the API rate limits are lifted (one client posting lists back to back is what this measures, not
what a limit is for). A Celery worker (queue `relay`) relays the outbox while the events arrive, as deployed,
for the subscriptions the round's parties hold (`subscriptions_create`: each party a Standard Webhooks and a DCSA
subscription, the shipper one more a booking): it plans their deliveries, builds their bodies and queues their
send tasks; nothing sends them (P6 measures that), and the queue is purged at the end. The API's time runs until
the relay has relayed every event (it is waited for, timed and its CPU counted, after the last phase and before
customs' untimed release): an event counts once it is applied and relayed.

The baseline: the rows the API wrote in the round (every event and its outbox row, with their values; new event
ids), written again into the same table with COPY from 4 connections at once (a quarter each, events then outbox
rows, one transaction per connection; ids taken from the sequence before the clock starts). The ratio is the
API's events/s against COPY's. Rounds are reported one by one and by their median.

Exit status 1 when an item was refused, on any 5xx or dropped connection, when the rows in the database are not
the ones the answers promised (an export not sailed, an import not returned empty or not in the station's stock of
empties, an event without its outbox row, an outbox row not relayed, a subscription with no delivery planned, an
event planned twice for a subscription, a COPY short of rows). The ratio prints
PASS/FAIL against its goal without changing the exit status: it is a measurement, and machines differ. The run's
rows (the API's and COPY's) are deleted at the end unless `--keep`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

EVENTS_PATH = "/api/v1/events/"
RATIO_GOAL = 0.5
MAX_BULK = 1000  # journey.api.MAX_BULK
PER_BOOKING = 25  # containers of a booking (42G1: 50 TEU), one booking per departure
COPY_CONNECTIONS = 4
# Where the round's subscriptions point: nothing listens, and no worker sends (the relay's work is what P1 counts).
UNSENT_URL = "http://127.0.0.1:9/bench-ingest"
# The tables a round fills and updates, vacuumed and analysed before the measured rounds and after the run's rows
# are deleted, as autovacuum would have (bench/common.py tables_vacuumed).
VACUUMED = ("intermodal_event", "intermodal_outboxmessage", "bookings_container", "bookings_booking",
            "bookings_emptyrequest", "bookings_bookingchange", "inbound_arrivingcontainer", "inbound_returnedempty",
            "stations_departure", "notifications_notification", "notifications_delivery")
# What an event costs, read from /proc over the API phases and the waits for the relay (`relayed`): gunicorn's
# master and workers, the relay worker's processes, PostgreSQL's, Redis's. The clients are not counted.
CPU_GROUPS = ("web", "relay", "postgres", "redis")
NOT_POSTGRES = "This benchmark measures PostgreSQL's write path under concurrent writers against COPY."


# --- Rows for a round ------------------------------------------------------------------------------------


@dataclass
class Journey:
    """A round's network and bookings, and the API keys of the three reporting parties."""

    run_id: str
    keys: dict  # party -> raw API key
    reporters: list  # the ids of the reporting organisations: station operator, railway, port
    departures: list  # references
    call: str  # the vessel call's reference
    bookings: list  # Booking ids
    requests: dict  # container number -> its empty request's id
    numbers: list
    import_departures: list = field(default_factory=list)  # references of the import trains (terminal -> station)
    import_call: str = ""  # the arriving vessel call's reference
    import_bookings: list = field(default_factory=list)  # Booking ids
    import_numbers: list = field(default_factory=list)
    subscriptions: list = field(default_factory=list)  # ids of the round's parties' webhook subscriptions


def journey_create(run_id: str, containers: int, import_share: float = 0.0) -> Journey:
    """The round's network and its bookings: `containers` containers on departures of PER_BOOKING each, the
    export empties asked for and ready at the station, all bound for one vessel call that they make; of them
    `import_share` (at least one export stays) announced on a vessel call arriving within the hour and booked
    inland by the consignee on the station's import trains, as the generated year has both."""
    from django.db import transaction
    from django.utils import timezone
    from stdnum import iso6346

    from bookings import services as bookings_services
    from intermodal.access import Actor
    from intermodal.models import Scope
    from journey import services as journey
    from stations.models import Direction, Location
    from tests import factories

    imports = min(containers - 1, round(containers * import_share))
    containers -= imports
    bookings_count = -(-containers // PER_BOOKING)
    with transaction.atomic():
        parties = common.parties_create(run_id)
        keys = {
            party: common.api_key_create(organisation, name=f"bench ingest {run_id}", scopes=[Scope.EVENTS_WRITE])
            for party, organisation in (("station", parties.operator), ("railway", parties.railway),
                                        ("port", parties.port))}
        station, terminal = common.station_and_terminal(parties)
        service = factories.service(station, terminal, parties.railway, code=f"b{run_id}-r")
        import_service = factories.service(station, terminal, parties.railway, code=f"b{run_id}-i",
                                           direction=Direction.IMPORT)
        first_day = timezone.localdate() + timedelta(days=1)
        departures = common.departures_create(service, first_day, bookings_count, capacity_teu=2 * PER_BOOKING)
        etd = departures[-1].planned_arrival + timedelta(days=3)
        call = factories.vessel_call(terminal, etd=etd, imo="9811000", voyage=f"{run_id[:6]}E",
                                     cy_cutoff=etd - timedelta(hours=24))
        destination = Location.objects.get(unlocode="NLRTM")
    shipper = Actor(organisation=parties.shipper, user=parties.user)
    staff = Actor(organisation=parties.operator)
    bookings, requests, numbers = [], {}, []
    owner = "".join(chr(ord("A") + int(c, 16) + 5 * i) for i, c in enumerate(run_id[:3]))  # 3 letters of the run
    for n, departure in enumerate(departures):
        quantity = min(PER_BOOKING, containers - n * PER_BOOKING)
        booking = bookings_services.booking_create(
            actor=shipper, departure=departure, vessel_call=call, destination=destination, lines={"42G1": quantity},
            commodity="Household goods", cargo_weight_kg=Decimal(15000 * quantity), confirm=True)
        request = bookings_services.empty_request_create(actor=shipper, booking=booking, size_type="42G1",
                                                         quantity=quantity)
        journey.empty_request_ready(actor=staff, request=request)
        bookings.append(booking.pk)
        for m in range(quantity):
            prefix = f"{owner}U{(n * PER_BOOKING + m) % 1_000_000:06d}"
            number = prefix + iso6346.calc_check_digit(prefix)
            requests[number] = request.pk
            numbers.append(number)
    journey = Journey(run_id=run_id, keys=keys, reporters=[parties.operator.pk, parties.railway.pk, parties.port.pk],
                      departures=[d.reference for d in departures], call=call.reference, bookings=bookings,
                      requests=requests, numbers=numbers)
    if imports:
        imports_create(journey, parties, import_service, imports, owner=owner, first_day=first_day,
                       destination=destination)
    journey.subscriptions = subscriptions_create(parties, [*journey.bookings, *journey.import_bookings])
    return journey


def subscriptions_create(parties, booking_ids: list[int]) -> list[int]:
    """The webhook subscriptions the round's parties hold, as a port's partners would: each of the shipper, the
    station operator, the railway and the port a Standard Webhooks subscription to every kind of event and a DCSA
    one without filters, and the shipper one more for each of its bookings. The relay plans and queues their
    deliveries while the events arrive; nothing sends them (P6 measures the sending), and their queue is purged
    at the end of the run."""
    from django.db import transaction

    from bookings.models import Booking
    from notifications.models import Subscription, SubscriptionFormat, match_terms, standard_secret
    from notifications.services import dcsa_secret

    rows = []
    for organisation in (parties.shipper, parties.operator, parties.railway, parties.port):
        rows.append(Subscription(organisation=organisation, event_kinds=["*"], secret=standard_secret()))
        rows.append(Subscription(organisation=organisation, format=SubscriptionFormat.DCSA, event_kinds=[],
                                 secret=dcsa_secret(), dcsa_filters={}))
    for reference in Booking.objects.filter(pk__in=booking_ids).values_list("reference", flat=True):
        rows.append(Subscription(organisation=parties.shipper, event_kinds=["*"], secret=standard_secret(),
                                 booking_reference=reference))
    for n, subscription in enumerate(rows):
        subscription.url, subscription.name = f"{UNSENT_URL}/{parties.run_id}/{n}", f"bench ingest {n}"
        subscription.subscription_id = uuid.uuid4()
        subscription.match_kinds, subscription.match_keys = match_terms(subscription)
    with transaction.atomic():
        return [subscription.pk for subscription in Subscription.objects.bulk_create(rows)]


def imports_create(journey: Journey, parties, service, imports: int, *, owner: str, first_day, destination) -> None:
    """The round's import corridor: `imports` containers the port announces on a vessel call arriving within the
    hour, which the consignee (the round's shipper) books on the import trains of the day after the exports' first,
    PER_BOOKING a train, as the services do it."""
    from django.utils import timezone
    from stdnum import iso6346

    from inbound.services import Announced, arrivals_announce, import_booking_create
    from intermodal.access import Actor
    from tests import factories

    count = -(-imports // PER_BOOKING)
    departures = common.departures_create(service, first_day + timedelta(days=1), count, capacity_teu=2 * PER_BOOKING)
    eta = timezone.now() + timedelta(hours=1)
    call = factories.vessel_call(service.terminal, etd=eta + timedelta(hours=30), eta=eta, imo="9811000",
                                 voyage=f"{journey.run_id[:6]}I")
    numbers = []
    for n in range(imports):
        prefix = f"{owner}U{900_000 + n:06d}"  # the exports' numbers count from 0: never the same box
        numbers.append(prefix + iso6346.calc_check_digit(prefix))
    port, consignee = Actor(organisation=parties.port), Actor(organisation=parties.shipper, user=parties.user)
    for start in range(0, imports, 1000):
        arrivals_announce(actor=port, vessel_call=call, items=[
            Announced(number=number, size_type="42G1", bl_number=f"BL{journey.run_id}{(start + n) // PER_BOOKING:04d}",
                      consignee=parties.shipper, port_of_loading=destination, gross_weight_kg=Decimal(15000))
            for n, number in enumerate(numbers[start:start + 1000])])
    for n, departure in enumerate(departures):
        booking = import_booking_create(actor=consignee, departure=departure, vessel_call=call,
                                        numbers=numbers[n * PER_BOOKING:(n + 1) * PER_BOOKING],
                                        commodity="Machinery parts")
        journey.import_bookings.append(booking.pk)
    journey.import_departures = [d.reference for d in departures]
    journey.import_call = call.reference
    journey.import_numbers = numbers


def release(journey: Journey) -> None:
    """Customs and border inspection clear each booking's goods for its containers (pre-release); not timed."""
    from bookings.models import Booking
    from tests import factories

    for booking in (Booking.objects.filter(pk__in=[*journey.bookings, *journey.import_bookings])
                    .select_related("departure__service__station")):
        factories.declaration_released(booking)


def equipment(code: str, number: str, **extra) -> dict:
    return {"event_type": "EQUIPMENT", "event_code": code, "equipment_reference": number, "confirm": True, **extra}


def transport(code: str, classifier: str, reference: str, **extra) -> dict:
    return {"event_type": "TRANSPORT", "event_code": code, "classifier": classifier, "transport_reference": reference,
            **({"confirm": True} if classifier == "ACT" else {}), **extra}


def phases(journey: Journey) -> list[tuple[str, str, list[dict]]]:
    """(name, reporting party, items) in the order they must be applied."""
    from django.utils import timezone

    soon = timezone.localtime() + timedelta(hours=6)
    numbers, imported = journey.numbers, journey.import_numbers
    trains = [*journey.departures, *journey.import_departures]
    return [
        ("1 empties out", "station", [equipment("GTOT", n, empty_request=journey.requests[n]) for n in numbers]),
        ("2 import vessel arrives", "port", [transport("ARRI", "ACT", journey.import_call)] if imported else []),
        ("3 gate-in and train load", "station",
         [equipment("GTIN", n, seal_number=f"SL{i:07d}", vgm_kg="24500", vgm_method=1, vgm_signatory="Chen Jie")
          for i, n in enumerate(numbers)] + [equipment("LOAD", n) for n in numbers]),
        ("4 import discharge and train load at the terminal", "port",
         [equipment("DISC", n) for n in imported] + [equipment("LOAD", n) for n in imported]),
        ("5 trains", "railway",
         [transport("DEPA", "EST", ref, event_datetime=soon.isoformat(), reason="Late feeder train") for ref in trains]
         + [transport("DEPA", "ACT", ref) for ref in trains]
         + [transport("ARRI", "ACT", ref) for ref in trains]),
        ("6 terminal and vessel load", "port",
         [equipment("DISC", n) for n in numbers] + [equipment("GTIN", n) for n in numbers]
         + [transport("ARRI", "EST", journey.call, event_datetime=soon.isoformat(), reason="Berth window moved")]
         + [equipment("LOAD", n) for n in numbers]),
        ("7 import discharge, gate-out and empty return at the station", "station",
         [equipment("DISC", n) for n in imported] + [equipment("GTOT", n) for n in imported]
         + [equipment("GTIN", n) for n in imported]),
        ("8 vessel sails", "port", [transport("DEPA", "ACT", journey.call)]),
    ]


# --- Through the API -------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    items: int = 0
    requests: int = 0
    elapsed: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    applied: int = 0
    refusals: Counter = field(default_factory=Counter)
    latencies: list = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)


def post(name: str, *, port: int, api_key: str, batches: list[list[dict]], threads: int) -> Phase:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json", "Accept": "application/json"}
    results, elapsed = common.fire(name, port=port, headers=headers, threads=min(threads, len(batches)),
                                   requests=[("POST", EVENTS_PATH, json.dumps(b).encode()) for b in batches])
    outcome = Phase(name=name, items=sum(len(b) for b in batches), requests=len(batches), elapsed=elapsed)
    for status, latency, _finished, payload in results:
        outcome.statuses[status] += 1
        outcome.latencies.append(latency)
        try:
            body = json.loads(payload) if status else {}
        except ValueError:
            body = {}
        if status != 200 or "results" not in body:
            outcome.refusals[f"request {status}: {body.get('code') or payload[:100].decode(errors='replace')}"] += 1
            continue
        outcome.applied += body["applied"]
        for item in body["results"]:
            if item["status"] != 201:
                outcome.refusals[f"{item['status']} {item.get('code')}: {item.get('detail', '')[:90]}"] += 1
    return outcome


def by_container(items: list[dict], shares: int) -> list[list[dict]]:
    """The phase's items cut into `shares` lists by container (transport items with the first), each list in the
    phase's order and at most 1,000 long: lists side by side never touch the same container."""
    numbers = sorted({item["equipment_reference"] for item in items if "equipment_reference" in item})
    share_of = {number: n * shares // max(1, len(numbers)) for n, number in enumerate(numbers)}
    lists: list[list[dict]] = [[] for _ in range(shares)]
    for item in items:
        lists[share_of.get(item.get("equipment_reference"), 0)].append(item)
    return [chunk for one in lists for chunk in (one[s:s + MAX_BULK] for s in range(0, len(one), MAX_BULK)) if chunk]


# --- The baseline: COPY of the same rows -----------------------------------------------------------------

OUTBOX_COLUMNS = ("id", "event_id", "topic", "created_at", "processed_at")


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else (value.isoformat() if hasattr(value, "isoformat") else str(value))
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_rows(url: str, schema_options: str, first_id: int, last_id: int,
              reporters: list[int]) -> tuple[int, float, float]:
    """COPY the round's API rows again (new event ids, the same values) with COPY_CONNECTIONS connections at once;
    returns the rows written, the seconds from the start to the last commit and PostgreSQL's CPU seconds in
    them."""
    source = common.connect(url, options=schema_options)
    columns = ("id", *common.EVENT_COLUMNS)
    try:
        with source, source.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(c for c in common.EVENT_COLUMNS if c != 'event_id')} FROM intermodal_event "  # noqa: S608
                "WHERE id > %s AND id <= %s AND reported_by_organisation_id = ANY(%s) ORDER BY id",
                [first_id, last_id, reporters])
            rows = cursor.fetchall()
            cursor.execute("SELECT pg_get_serial_sequence('intermodal_event', 'id'), "
                           "pg_get_serial_sequence('intermodal_outboxmessage', 'id')")
            event_sequence, outbox_sequence = cursor.fetchone()
            ids = []
            for sequence in (event_sequence, outbox_sequence):
                cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, len(rows)])
                ids.append([row[0] for row in cursor.fetchall()])
    finally:
        source.close()
    names = [c for c in common.EVENT_COLUMNS if c != "event_id"]
    event_lines, outbox_lines = [], []
    for row, event_id, outbox_id in zip(rows, ids[0], ids[1], strict=True):
        values = dict(zip(names, row, strict=True))
        values["event_id"] = str(uuid.uuid4())
        values["details"] = json.dumps(values["details"])
        event_lines.append("\t".join(_copy_text(v) for v in (event_id, *(values[c] for c in common.EVENT_COLUMNS)))
                           + "\n")
        topic = f"{values['event_type'].lower()}.{values['event_code'].lower()}"
        outbox_lines.append("\t".join(_copy_text(v) for v in (outbox_id, event_id, topic, values["created_at"], None))
                            + "\n")
    quarter = -(-len(rows) // COPY_CONNECTIONS)
    # The raw rows only: the tracking read model the API's writes keep (tracking/facts.py) is not made for the
    # copies, which repeat events its facts hold already.
    connections = [common.connect(url, options=f"{schema_options} -c tracking.facts=off")
                   for _ in range(COPY_CONNECTIONS)]
    gate = threading.Barrier(COPY_CONNECTIONS + 1)
    copied = [0] * COPY_CONNECTIONS
    errors: list[BaseException] = []

    def one(n: int) -> None:
        import io

        connection = connections[n]
        part = slice(n * quarter, (n + 1) * quarter)
        gate.wait()
        try:
            with connection, connection.cursor() as cursor:
                cursor.copy_expert(f"COPY intermodal_event ({', '.join(columns)}) FROM STDIN",  # noqa: S608
                                   io.StringIO("".join(event_lines[part])))
                copied[n] = cursor.rowcount
                cursor.copy_expert(f"COPY intermodal_outboxmessage ({', '.join(OUTBOX_COLUMNS)}) FROM STDIN",  # noqa: S608
                                   io.StringIO("".join(outbox_lines[part])))
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            errors.append(error)

    workers = [threading.Thread(target=one, args=(n,)) for n in range(COPY_CONNECTIONS)]
    for worker in workers:
        worker.start()
    cpu_before = common.cpu_seconds({})
    began = time.perf_counter()
    gate.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    cpu = common.cpu_spent(cpu_before, common.cpu_seconds({}), CPU_GROUPS)["postgres"]
    for connection in connections:
        connection.close()
    if errors:
        raise errors[0]
    return sum(copied), elapsed, cpu


# --- A round ---------------------------------------------------------------------------------------------


@dataclass
class Round:
    number: int
    containers: int  # exports
    imports: int = 0
    phases: list = field(default_factory=list)
    events: int = 0  # rows the API wrote
    outbox: int = 0
    relayed: int = 0
    sailed: int = 0
    returned: int = 0  # import containers back empty at the station
    empties: int = 0  # of them, the station's stock (ReturnedEmpty rows)
    copied: int = 0
    copy_seconds: float = 0.0
    cpu: dict = field(default_factory=dict)  # CPU seconds of each group (CPU_GROUPS) over the API phases and waits
    relay_wait: float = 0.0  # seconds the relay took, after the phases, to relay what they wrote (timed, see relayed)
    first_outbox_id: int = 0
    copy_cpu: float = 0.0  # PostgreSQL's CPU seconds over the COPY
    first_id: int = 0
    last_id: int = 0
    subscriptions: int = 0  # the round's
    served: int = 0  # of them, those with deliveries planned
    deliveries: int = 0
    duplicated: int = 0  # deliveries of an event to a subscription beyond the first

    @property
    def api_seconds(self) -> float:
        """The phases' time and the relay's after them: an event counts once it is applied and relayed."""
        return sum(phase.elapsed for phase in self.phases) + self.relay_wait

    @property
    def api_rate(self) -> float:
        return self.events / self.api_seconds if self.api_seconds else 0.0

    @property
    def copy_rate(self) -> float:
        return self.copied / self.copy_seconds if self.copy_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.api_rate / self.copy_rate if self.copy_rate else 0.0

    def cpu_per_event(self) -> dict[str, float]:
        """Microseconds of CPU an event cost each group through the API; "COPY": PostgreSQL's, an event copied."""
        per = {group: 1e6 * seconds / self.events for group, seconds in self.cpu.items()} if self.events else {}
        return {**per, "all": sum(per.values()), "COPY": 1e6 * self.copy_cpu / self.copied if self.copied else 0.0}

    @property
    def items(self) -> int:
        return sum(phase.items for phase in self.phases)


def last_event_id(cursor) -> int:
    cursor.execute("SELECT coalesce(max(id), 0) FROM intermodal_event")
    return cursor.fetchone()[0]


def last_outbox_id(cursor) -> int:
    cursor.execute("SELECT coalesce(max(id), 0) FROM intermodal_outboxmessage")
    return cursor.fetchone()[0]


# How often the wait for the relay asks whether it is done (by the partial index of the rows still waiting).
RELAY_POLL_SECONDS = 0.05


def relayed(outcome: Round, trees: dict[str, int], wait: float) -> None:
    """Wait until the relay has relayed every outbox row the round wrote so far, timed and with its CPU counted
    (outcome.relay_wait, outcome.cpu): before an untimed step (customs' release) and after the last phase. The
    relay works while the events arrive, and what it has not done when they stop is part of what they cost: left
    out, the rate counted events applied, not relayed, and the relay's catch-up (seconds a round) ran free."""
    from django.db import connection

    before, started = common.cpu_seconds(trees), time.monotonic()
    deadline = started + wait
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM intermodal_outboxmessage WHERE processed_at IS NULL AND id > %s",
                           [outcome.first_outbox_id])
            if not cursor.fetchone()[0]:
                break
        time.sleep(RELAY_POLL_SECONDS)
    outcome.relay_wait += time.monotonic() - started
    for group, seconds in common.cpu_spent(before, common.cpu_seconds(trees), CPU_GROUPS).items():
        outcome.cpu[group] = outcome.cpu.get(group, 0.0) + seconds


def run_round(number: int, *, url: str, schema_options: str, port: int, args, wait_relayed: float,
              trees: dict[str, int]) -> Round:
    from django.db import connection

    from bookings.models import Container, ContainerStatus
    from inbound.models import ReturnedEmpty

    run_id = f"{uuid.uuid4().hex[:6]}{number}"
    journey = journey_create(run_id, args.containers, args.import_share)
    with connection.cursor() as cursor:
        first_id, first_outbox_id = last_event_id(cursor), last_outbox_id(cursor)
    connection.close()
    outcome = Round(number=number, containers=len(journey.numbers), imports=len(journey.import_numbers),
                    first_id=first_id, first_outbox_id=first_outbox_id)
    for name, party, items in phases(journey):
        if not items:  # no imports in the round
            continue
        if name.startswith("3"):
            relayed(outcome, trees, wait_relayed)  # the relay's work is timed; customs' release is not
            release(journey)  # customs' pre-release, between the phases: not timed
            connection.close()
        before = common.cpu_seconds(trees)
        phase = post(name, port=port, api_key=journey.keys[party], batches=by_container(items, args.threads),
                     threads=args.threads)
        for group, seconds in common.cpu_spent(before, common.cpu_seconds(trees), CPU_GROUPS).items():
            outcome.cpu[group] = outcome.cpu.get(group, 0.0) + seconds
        outcome.phases.append(phase)
        print(f"bench: round {number}: phase {name}: {phase.applied}/{phase.items} applied in {phase.requests} "
              f"requests, {phase.elapsed:.2f} s", flush=True)
    relayed(outcome, trees, wait_relayed)
    print(f"bench: round {number}: the relay done {outcome.relay_wait:.2f} s after the phases", flush=True)
    with connection.cursor() as cursor:
        outcome.last_id = last_event_id(cursor)
        cursor.execute("SELECT count(*), count(o.id) FROM intermodal_event e LEFT JOIN intermodal_outboxmessage o "
                       "ON o.event_id = e.id WHERE e.id > %s AND e.id <= %s "
                       "AND e.reported_by_organisation_id = ANY(%s)", [first_id, outcome.last_id, journey.reporters])
        outcome.events, outcome.outbox = cursor.fetchone()
    # The round's own boxes: a number may come again in a later run (its owner code is 3 letters of the run's id),
    # and the boxes of earlier runs stay.
    outcome.sailed = Container.objects.filter(number__in=journey.numbers, booking__in=journey.bookings,
                                              status=ContainerStatus.SAILED).count()
    outcome.returned = Container.objects.filter(number__in=journey.import_numbers, booking__in=journey.import_bookings,
                                                status=ContainerStatus.RETURNED).count()
    outcome.empties = ReturnedEmpty.objects.filter(number__in=journey.import_numbers, used_at__isnull=True,
                                                   import_container__booking__in=journey.import_bookings).count()
    with connection.cursor() as cursor:  # the relay was waited for above (relayed): what it did, checked
        cursor.execute("SELECT count(*) FROM intermodal_outboxmessage o "
                       "JOIN intermodal_event e ON e.id = o.event_id WHERE e.id > %s AND e.id <= %s "
                       "AND e.reported_by_organisation_id = ANY(%s) "
                       "AND o.processed_at IS NOT NULL", [first_id, outcome.last_id, journey.reporters])
        outcome.relayed = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT subscription_id), count(*) - count(DISTINCT (subscription_id, "
                       "event_id)) FROM notifications_delivery WHERE subscription_id = ANY(%s)",
                       [journey.subscriptions])
        outcome.deliveries, outcome.served, outcome.duplicated = cursor.fetchone()
    outcome.subscriptions = len(journey.subscriptions)
    connection.close()
    outcome.copied, outcome.copy_seconds, outcome.copy_cpu = copy_rows(url, schema_options, first_id, outcome.last_id,
                                                     journey.reporters)
    print(f"bench: round {number}: API {outcome.events:,} events in {outcome.api_seconds:.2f} s; COPY "
          f"{outcome.copied:,} in {outcome.copy_seconds:.2f} s; ratio {outcome.ratio:.3f}; {outcome.deliveries:,} "
          f"deliveries planned for {outcome.served}/{outcome.subscriptions} subscriptions; CPU an event (us) "
          + ", ".join(f"{group} {us:.0f}" for group, us in outcome.cpu_per_event().items()), flush=True)
    return outcome


def unsent_purged() -> None:
    """The send tasks the relay queued for the rounds' subscriptions, taken off the webhooks queue of this
    benchmark's broker (REDIS_URL's database, never the platform's own): nothing was to send them."""
    from intermodal.celery import app

    with app.connection_for_write() as connection:
        app.amqp.queues["webhooks"].bind(connection.default_channel).purge()


def remove(url: str, schema_options: str, rounds: list[Round]) -> int:
    """The rounds' events (the API's and COPY's, and those of the set-up between) and their outbox rows, and what
    the tracking read model kept of them."""
    connection = common.connect(url, options=schema_options)
    deleted = 0
    try:
        with connection, connection.cursor() as cursor:
            # Every event after the first round's start is the run's (the schema is the benchmarks' own).
            first = min(outcome.first_id for outcome in rounds)
            # What the tracking read model kept of them is made again from the events left (tracking migration 0001).
            cursor.execute("CREATE TEMPORARY TABLE removed ON COMMIT DROP AS SELECT DISTINCT booking_reference, "
                           "equipment_reference, transport_reference, event_type, event_code FROM intermodal_event "
                           "WHERE id > %s", [first])
            cursor.execute("DELETE FROM intermodal_outboxmessage WHERE event_id > %s", [first])
            # The rounds' subscriptions (and those of runs cut short) with the deliveries planned for them.
            unsent = "SELECT id FROM notifications_subscription WHERE url LIKE %s"
            cursor.execute(f"DELETE FROM notifications_deliveryattempt WHERE delivery_id IN (SELECT id FROM "  # noqa: S608
                           f"notifications_delivery WHERE subscription_id IN ({unsent}))", [f"{UNSENT_URL}/%"])
            cursor.execute(f"DELETE FROM notifications_delivery WHERE subscription_id IN ({unsent})",  # noqa: S608
                           [f"{UNSENT_URL}/%"])
            cursor.execute("DELETE FROM notifications_subscription WHERE url LIKE %s", [f"{UNSENT_URL}/%"])
            cursor.execute("DELETE FROM intermodal_event WHERE id > %s", [first])
            deleted += cursor.rowcount
            cursor.execute("SELECT tracking_facts_rebuild_told(array_agg(booking_reference), "
                           "array_agg(equipment_reference), array_agg(transport_reference), array_agg(event_type), "
                           "array_agg(event_code)) FROM removed")
    finally:
        connection.close()
    return deleted


# --- The report ------------------------------------------------------------------------------------------


def report(rounds: list[Round], setup: dict[str, str]) -> list[str]:
    problems = []
    print()
    print("P1 Event ingest: a journey's every kind of event through the API, against COPY of the same rows")
    for label, value in setup.items():
        print(f"  {label:<12} {value}")
    print()
    print(f"  {'round':<6}{'items':>8}{'events':>9}{'API s':>8}{'relay s':>9}{'API ev/s':>10}{'COPY s':>8}"
          f"{'COPY ev/s':>11}"
          f"{'ratio':>8}{'list p50 ms':>13}{'list max ms':>13}")
    for r in rounds:
        latencies = [x for phase in r.phases for x in phase.latencies]
        print(f"  {r.number:<6}{r.items:>8,}{r.events:>9,}{r.api_seconds:>8.2f}{r.relay_wait:>9.2f}"
              f"{r.api_rate:>10.0f}"
              f"{r.copy_seconds:>8.2f}{r.copy_rate:>11.0f}{r.ratio:>8.3f}"
              f"{common.percentile(latencies, 50) * 1000:>13.0f}{max(latencies) * 1000:>13.0f}")
    print()
    cpu = {group: statistics.median(r.cpu_per_event()[group] for r in rounds)
           for group in (*CPU_GROUPS, "all", "COPY")}
    print("  CPU an event, median (us): through the API " + ", ".join(
        f"{group} {cpu[group]:.0f}" for group in (*CPU_GROUPS, "all")) + f"; by COPY, PostgreSQL {cpu['COPY']:.0f}")
    print("  by phase (round 1): " + "; ".join(
        f"{p.name}: {p.items} items {p.elapsed:.2f} s" for p in rounds[0].phases))
    for r in rounds:
        refused = sum(p.items - p.applied for p in r.phases)
        errors = sum(p.server_errors for p in r.phases)
        checks = [
            (refused == 0, f"round {r.number}: every item applied ({r.items - refused}/{r.items})"),
            (errors == 0, f"round {r.number}: no 5xx or dropped connection ({errors})"),
            (r.sailed == r.containers, f"round {r.number}: every export sailed ({r.sailed}/{r.containers})"),
            (r.returned == r.imports, f"round {r.number}: every import delivered and back empty "
                                      f"({r.returned}/{r.imports})"),
            (r.empties == r.imports, f"round {r.number}: every import empty in the station's stock "
                                     f"({r.empties}/{r.imports})"),
            (r.outbox == r.events, f"round {r.number}: an outbox row per event ({r.outbox}/{r.events})"),
            (r.relayed == r.outbox, f"round {r.number}: every outbox row relayed ({r.relayed}/{r.outbox})"),
            (r.copied == r.events, f"round {r.number}: COPY wrote the same number of rows ({r.copied}/{r.events})"),
            (r.served == r.subscriptions, f"round {r.number}: every subscription had deliveries planned "
                                          f"({r.served}/{r.subscriptions}; {r.deliveries:,} deliveries)"),
            (r.duplicated == 0, f"round {r.number}: no event planned twice for a subscription ({r.duplicated})"),
        ]
        for phase in r.phases:
            if phase.refusals:
                print(f"  refusals, round {r.number}, {phase.name}: "
                      + ", ".join(f"{text} x{n}" for text, n in phase.refusals.most_common(4)))
        for ok, text in checks:
            if not ok:
                problems.append(text)
            print(f"  [{'ok' if ok else 'FAIL'}] {text}")
    ratio = statistics.median(r.ratio for r in rounds)
    api = statistics.median(r.api_rate for r in rounds)
    copy = statistics.median(r.copy_rate for r in rounds)
    verdict = "PASS" if ratio >= RATIO_GOAL else "FAIL"
    print()
    print(f"  ingest / {COPY_CONNECTIONS}-connection COPY, median of {len(rounds)} rounds = {api:.0f} / {copy:.0f} "
          f"events/s = {ratio:.3f}  (goal >= {RATIO_GOAL}): {verdict}")
    common.result_line("P1", figure=ratio, goal=f">= {RATIO_GOAL}", passed=verdict == "PASS",
                       detail=f"{api:.0f} vs {copy:.0f} events/s, median of {len(rounds)}")
    print()
    print("RESULT:", "FAIL - " + "; ".join(problems) if problems else "ok (every event applied, relayed, no 5xx)")
    return problems


# --- Main ------------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1, help="the year of traffic's scale (default 0.1)")
    parser.add_argument("--containers", type=int, default=1000, help="containers a round (default 1,000)")
    parser.add_argument("--import-share", type=float, default=None,
                        help="of them, imports (default: the generated year's, BENCH_IMPORT_SHARE or a third)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, reported by their median (default 3)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--relay-processes", type=int, default=os.cpu_count() or 1,
                        help="the relay worker's processes (default: the CPUs, Celery's default, as docker-compose.yml "
                             "runs the worker)")
    parser.add_argument("--workers", type=int, default=common.DEPLOYED_WORKERS,
                        help=f"gunicorn sync workers (default {common.DEPLOYED_WORKERS}, as deployed)")
    parser.add_argument("--keep", action="store_true", help="keep the rounds' events (by default they are deleted)")
    args = parser.parse_args(argv)
    for name in ("containers", "rounds", "threads", "workers", "relay_processes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    try:
        from bench.generate import import_share_checked
    except ImportError:  # run as a script
        from generate import import_share_checked
    args.import_share = import_share_checked(parser, args.import_share)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    common.exit_on_sigterm()
    url = common.database_url(NOT_POSTGRES)
    redis_url = common.redis_url()
    began = time.monotonic()
    created = common.ensure_database(url)
    print(f"bench: database {common.database_name(url)} {'created' if created else 'exists'}", flush=True)
    common.django_setup(url, redis_url, migrate=False)
    from bench import generate as traffic
    from bench.track_lookup import django_use_schema, search_path

    generated = traffic.generate(url, args.scale, import_share=args.import_share)
    print(f"bench: {generated.summary()}", flush=True)
    schema = generated.schema
    django_use_schema(schema)
    run_id = uuid.uuid4().hex[:8]
    env = common.server_env(url, redis_url, PGOPTIONS=search_path(schema), **common.as_deployed())
    port = common.free_port()
    log_path, worker_log = common.log_file(run_id, "ingest"), common.log_file(run_id, "ingest-worker")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "intermodal", "worker", "-P", "prefork", "-c", str(args.relay_processes),
         "-l", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", "relay", "-n", f"ingest-{run_id}@%h"],
        cwd=common.ROOT, env=env, stdout=worker_log.open("w"), stderr=subprocess.STDOUT)
    rounds: list[Round] = []
    load = os.getloadavg()
    try:
        with common.gunicorn_server(port=port, workers=args.workers, env=env, log_path=log_path,
                                    timeout=None) as server:
            trees = {"web": server.pid, "relay": worker.pid}
            print(f"bench: gunicorn on 127.0.0.1:{port}, {args.workers} sync workers, deployed timeout; relay worker "
                  f"on queue relay; schema {schema}", flush=True)
            warm = run_round(0, url=url, schema_options=search_path(schema), port=port,
                             args=argparse.Namespace(**{**vars(args), "containers": min(100, args.containers)}),
                             wait_relayed=120, trees=trees)
            print(f"bench: warm-up round: {warm.events} events", flush=True)
            rounds.append(warm)
            common.tables_vacuumed(VACUUMED)
            for number in range(1, args.rounds + 1):
                rounds.append(run_round(number, url=url, schema_options=search_path(schema), port=port, args=args,
                                        wait_relayed=300, trees=trees))
    except BaseException:
        print(f"bench: server log kept at {log_path}, worker log at {worker_log}")
        raise
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        unsent_purged()
    setup = {
        "server": f"gunicorn {common.gunicorn_version()}, {args.workers} sync workers, timeout of gunicorn.conf.py, "
                  "DEBUG=0, rate limits lifted",
        "clients": f"{args.threads} threads, lists of up to {MAX_BULK} (a share of the phase's containers each)",
        "mix": f"{rounds[-1].containers} exports and {rounds[-1].imports} imports a round (import share "
               f"{args.import_share:.2f}, as the year's)",
        "relay": f"{args.relay_processes} Celery worker processes on queue relay, relaying while the events arrive for "
                 f"{rounds[-1].subscriptions} subscriptions of the round's parties (deliveries planned and queued, "
                 "not sent)",
        "baseline": f"COPY of the same rows (events, then outbox rows) from {COPY_CONNECTIONS} connections at once",
        "table": f"{schema}: {generated.events:,} events of the year before the rounds",
        "machine": f"{common.machine()}; load average before "
                   f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    }
    measured = [r for r in rounds if r.number > 0]
    problems = report(measured, setup)
    problems += report_warm(rounds[0])
    if args.keep:
        print("bench: kept the rounds' events")
    else:
        print(f"bench: deleted the rounds' {remove(url, search_path(schema), rounds):,} events (--keep keeps them)")
        common.tables_vacuumed(VACUUMED)
    print(f"bench: {time.monotonic() - began:.0f} s in all")
    if problems:
        print(f"bench: server log kept at {log_path}, worker log at {worker_log}")
        return 1
    log_path.unlink(missing_ok=True)
    worker_log.unlink(missing_ok=True)
    return 0


def report_warm(warm: Round) -> list[str]:
    """The warm-up round is checked like the others, not measured."""
    refused = sum(p.items - p.applied for p in warm.phases)
    return [f"warm-up: {refused} items refused"] if refused else []


if __name__ == "__main__":
    sys.exit(main())
