"""P6 Webhook fan-out: 10,000 subscriptions, 100 slow receivers, events committed one by one; deliveries a second
against what the receivers can take, commit-to-receipt latency, and every delivery received once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/fanout.py
    # options: --shippers 1000 --receivers 100 --slots 1 --seconds 20 --rounds 3 --webhook-workers 8

The network: 1,000 shippers, each with a booking (one container) on one of 100 departures from the run's station
(10 bookings a train), and ten subscriptions, standard and DCSA, of every shape shippers make: everything, a kind
of event ("equipment.*", "equipment.gtin", "transport.*", load and discharge, one that nothing here matches), its
booking, DCSA unfiltered, DCSA EQUIPMENT, DCSA TRANSPORT: 10,000 active subscriptions, each sending to one of
the 100 receivers (a shipper's ten to ten different ones, and every receiver as many of each shape: each is
offered the same share of the events; the round line prints the busiest receiver's deliveries against the mean).
The station operator has none: a subscription to everything at a station takes every event, more than one
receiver of a slot can answer (it would time out and be disabled, which is the receiver's limit, not the
platform's).

The receivers (one asyncio process, a port each) answer after 50-300 ms (uniform, seeded), 1 % of requests with
503, and serve `--slots` requests at a time each (a small partner's endpoint; the others wait for a slot). Each
logs every request it receives: the moment, its webhook-id and its answer.

A round:
1. the receivers' combined capacity, measured: a plain client keeps every slot of every receiver busy for 10 s
   (the strongest fair baseline: nothing but the posts);
2. the platform: events committed one per transaction (gate-ins and loads of the bookings' containers, and each
   train's departure, in the journey's order: a gate-in or a load makes 6 deliveries, a departure 50) at the rate
   that offers the receivers 85 % of their capacity (at all of it a receiver's queue grows without end, whatever
   the sender does), for `--seconds`; the product's relay and sending workers run as deployed (docker-compose.yml:
   the relay on a worker of 2 processes, webhooks on one of the threads pool, `-P threads -c 64`, its database
   connections closed after each task; beat for the retries; DEBUG off) - except that retries come after 2, 4,
   8 ... s and the sweeps run every 2 s, not after minutes, so that a round ends;
3. the receivers' logs: every delivery the events should make (the benchmark's own model of the subscriptions,
   not the relay's) received with a 2xx exactly once, nothing else received, no delivery left undelivered.

Figures: deliveries a second (the round's deliveries over the time from its first commit to the last first
receipt) against the capacity (goal >= 0.8), and commit-to-receipt p99 of the first receipt (goal <= 1 s; the
second receipt of a delivery its receiver answered 503 comes after the retry delay, printed apart). Median of
`--rounds` rounds. Exit 1 when a delivery is lost, doubled or unexpected; the speed goals print PASS/FAIL only.
"""

import argparse
import asyncio
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

try:
    from bench import common
except ImportError:  # run as a script
    import common

RATE_GOAL = 0.8
# The share of the receivers' capacity the events offer: at all of it, a receiver's queue grows without end
# (service times vary), whatever the sender does.
OFFERED_SHARE = 0.85
P99_GOAL_MS = 1000
NOT_POSTGRES = "The fan-out runs the product's relay and delivery path, which needs PostgreSQL (SKIP LOCKED)."
BENCH_QUEUES = "relay,webhooks"  # what fan-out runs on (settings.CELERY_TASK_ROUTES)
BOOKINGS_PER_DEPARTURE = 10
LATENCY_MS = (50, 300)
ERROR_SHARE = 0.01
BASELINE_SECONDS = 10.0
RETRY_DELAYS = "2,4,8,16,32"

# The shipper's ten subscriptions: (standard kinds or DCSA eventType, filtered by its booking), and the events
# each takes (GTIN, LOAD, DEPA).
SHIPPER_SUBSCRIPTIONS = (
    ("std", ["*"], False, {"GTIN", "LOAD", "DEPA"}),
    ("std", ["equipment.*"], False, {"GTIN", "LOAD"}),
    ("std", ["equipment.gtin"], False, {"GTIN"}),
    ("std", ["transport.*"], False, {"DEPA"}),
    ("std", ["*"], True, {"GTIN", "LOAD", "DEPA"}),
    ("std", ["shipment.canc"], False, set()),
    ("std", ["equipment.load", "equipment.disc"], False, {"LOAD"}),
    ("dcsa", None, False, {"GTIN", "LOAD", "DEPA"}),
    ("dcsa", "EQUIPMENT", False, {"GTIN", "LOAD"}),
    ("dcsa", "TRANSPORT", False, {"DEPA"}),
)


# --- The receivers (their own process) -------------------------------------------------------------------


def serve(first_port: int, count: int, slots: int, log_path: str, seed: int) -> None:
    """`count` receivers on consecutive ports; the log is written when the process is told to stop (SIGTERM)."""
    log: list[str] = []
    rng = random.Random(seed)  # noqa: S311 - a benchmark's latencies

    async def handle(reader, writer, receiver: int, semaphore: asyncio.Semaphore):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                await reader.readexactly(int(headers.get("content-length", 0)))
                received = time.time()
                status = 503 if rng.random() < ERROR_SHARE else 200
                async with semaphore:
                    await asyncio.sleep(rng.uniform(*LATENCY_MS) / 1000)
                log.append(f"{received:.6f} {receiver} {status} {headers.get('webhook-id', '-')}\n")
                reason = b"OK" if status == 200 else b"Service Unavailable"
                writer.write(b"HTTP/1.1 %d %s\r\nContent-Length: 0\r\n\r\n" % (status, reason))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        servers = []
        for n in range(count):
            semaphore = asyncio.Semaphore(slots)
            servers.append(await asyncio.start_server(
                lambda r, w, n=n, s=semaphore: handle(r, w, n, s), "127.0.0.1", first_port + n, backlog=512))
        Path(log_path + ".ready").write_text("ready")
        await stop.wait()
        for server in servers:
            server.close()
        Path(log_path).write_text("".join(log))

    asyncio.run(main())


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports, below Linux's ephemeral range (32768-60999): a client's
    connections (wrk's in P5, thousands, some still in TIME_WAIT) take ports there."""
    import socket

    rng = random.Random()  # noqa: S311 - a port, not a secret
    for _ in range(200):
        first = rng.randrange(20000, 32000 - count)
        sockets = []
        try:
            for n in range(count):
                probe = socket.socket()
                sockets.append(probe)
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's servers bind
                probe.bind(("127.0.0.1", first + n))
            return first
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()
    raise SystemExit("no run of free ports")


@dataclass
class Receivers:
    first_port: int
    count: int
    slots: int
    log_path: str
    process: subprocess.Popen | None = None

    def start(self, seed: int) -> None:
        Path(self.log_path + ".ready").unlink(missing_ok=True)
        self.process = subprocess.Popen([sys.executable, __file__, "--serve", str(self.first_port),
                                         "--receivers", str(self.count), "--slots", str(self.slots),
                                         "--log", self.log_path, "--seed", str(seed)])
        deadline = time.monotonic() + 30
        while not Path(self.log_path + ".ready").exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit("the receivers did not start")
            time.sleep(0.1)

    def stop(self) -> list[tuple[float, int, int, str]]:
        """Stop them; their log: (received, receiver, status, webhook-id) per request."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        rows = []
        for line in Path(self.log_path).read_text().splitlines():
            received, receiver, status, webhook_id = line.split(" ")
            rows.append((float(received), int(receiver), int(status), webhook_id))
        return rows

    def url(self, n: int, path: str) -> str:
        return f"http://127.0.0.1:{self.first_port + n % self.count}/{path}"


# --- The baseline: the receivers' capacity ----------------------------------------------------------------


def capacity(receivers: Receivers, seconds: float) -> float:
    """Requests a second the receivers answer when a plain client keeps every slot busy: one thread per slot
    (and one more per receiver, so a slot never waits for the client), each on its own keep-alive connection."""
    body = b'{"type":"equipment.gtin","data":{}}'
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def post(port: int):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        count = 0
        while time.monotonic() < stop:
            connection.request("POST", "/baseline", body=body, headers={"Content-Type": "application/json",
                                                                         "webhook-id": "baseline"})
            connection.getresponse().read()
            count += 1
        connection.close()
        with lock:
            done[0] += count

    started = time.monotonic()
    threads = [threading.Thread(target=post, args=(receivers.first_port + n,))
               for n in range(receivers.count) for _ in range(receivers.slots + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.monotonic() - started)


# --- The network and its subscriptions --------------------------------------------------------------------


@dataclass
class Network:
    station: object
    departures: list  # [(departure reference, [booking references])]
    shipper_of: dict  # booking reference -> shipper organisation id
    expected: dict  # subscription id -> (organisation id, booking reference or "", codes taken)
    subscription_ids: list
    receiver_of: dict  # subscription id -> receiver number


def network_create(parties, shippers: int, receivers: Receivers) -> Network:
    from django.db import transaction
    from django.utils import timezone

    from bookings import services as bookings_services
    from intermodal.access import Actor
    from intermodal.models import Organisation, PartyKind
    from notifications.models import Subscription, SubscriptionFormat, match_terms, standard_secret
    from notifications.services import dcsa_secret
    from stations.models import Location
    from tests import factories

    run_id = parties.run_id
    station, terminal = common.station_and_terminal(parties)
    service = factories.service(station, terminal, parties.railway, code=f"b{run_id}-r")
    trains = -(-shippers // BOOKINGS_PER_DEPARTURE)
    departures = common.departures_create(service, timezone.localdate() + timedelta(days=2), trains,
                                          capacity_teu=4 * BOOKINGS_PER_DEPARTURE)
    etd = departures[-1].planned_arrival + timedelta(days=3)
    call = factories.vessel_call(terminal, etd=etd, imo="9811000", voyage=f"{run_id[:6]}E",
                                 cy_cutoff=etd - timedelta(hours=24))
    destination = Location.objects.get(unlocode="NLRTM")
    organisations = Organisation.objects.bulk_create(
        Organisation(code=f"bench-{run_id}-s{n}", name=f"Bench shipper {run_id} {n}", kind=PartyKind.ENTERPRISE)
        for n in range(shippers))
    by_departure, shipper_of = [], {}
    for t, departure in enumerate(departures):
        refs = []
        for organisation in organisations[t * BOOKINGS_PER_DEPARTURE:(t + 1) * BOOKINGS_PER_DEPARTURE]:
            booking = bookings_services.booking_create(
                actor=Actor(organisation=organisation), departure=departure, vessel_call=call,
                destination=destination, lines={"42G1": 1}, commodity="Household goods",
                cargo_weight_kg=Decimal(15000), confirm=True)
            refs.append(booking.reference)
            shipper_of[booking.reference] = organisation.pk
        by_departure.append((departure.reference, refs))

    rows, shapes, receiver_numbers = [], [], []
    booking_of = {pk: ref for ref, pk in shipper_of.items()}
    # Shape k of shipper i goes to receiver (i + k * step) mod the receivers: a shipper's ten to ten receivers, and
    # every receiver as many subscriptions of each shape, so that each is offered the same share of the events.
    step = max(receivers.count // len(SHIPPER_SUBSCRIPTIONS), 1)
    for i, organisation in enumerate(organisations):
        booking_ref = booking_of[organisation.pk]
        for k, (kind, kinds, by_booking, codes) in enumerate(SHIPPER_SUBSCRIPTIONS):
            n, receiver = len(rows), (i + k * step) % receivers.count
            receiver_numbers.append(receiver)
            fields = {"organisation": organisation, "url": receivers.url(receiver, f"s{n}"), "name": f"bench {n}",
                      "subscription_id": uuid.uuid4()}
            if kind == "dcsa":
                fields.update(format=SubscriptionFormat.DCSA, event_kinds=[], secret=dcsa_secret(),
                              dcsa_filters={"eventType": kinds} if kinds else {})
            else:
                fields.update(event_kinds=kinds, secret=standard_secret(),
                              booking_reference=booking_ref if by_booking else "")
            subscription = Subscription(**fields)
            subscription.match_kinds, subscription.match_keys = match_terms(subscription)
            rows.append(subscription)
            shapes.append((organisation.pk, booking_ref if by_booking else "", codes))
    with transaction.atomic():
        made = Subscription.objects.bulk_create(rows, batch_size=2000)
    expected = {s.pk: shape for s, shape in zip(made, shapes, strict=True)}
    return Network(station=station, departures=by_departure, shipper_of=shipper_of,
                   expected=expected, subscription_ids=[s.pk for s in made],
                   receiver_of={s.pk: r for s, r in zip(made, receiver_numbers, strict=True)})


def expected_pairs(network: Network, events: list[tuple[int, str, str, str]]) -> set[tuple[int, int]]:
    """(subscription, event) for every delivery the events must make, from the benchmark's own model: a shipper's
    subscriptions take the events of its booking and its train's departure, each by its kinds and booking
    filter."""
    by_org: dict[int, list[tuple[int, str, set]]] = {}
    for pk, (organisation, booking_ref, codes) in network.expected.items():
        by_org.setdefault(organisation, []).append((pk, booking_ref, codes))
    on_train = dict(network.departures)
    pairs = set()
    for event_id, code, booking_ref, departure_ref in events:
        concerned = on_train[departure_ref] if code == "DEPA" else [booking_ref]
        for ref in concerned:
            for pk, filtered, codes in by_org[network.shipper_of[ref]]:
                if code in codes and filtered in ("", ref):
                    pairs.add((pk, event_id))
    return pairs


def event_plan(network: Network, round_no: int) -> list[tuple[str, str, str, str]]:
    """The journey's order, train after train: each booking's container gated in, then loaded, then the train
    departs: (code, booking, departure, container number)."""
    plan = []
    for t, (departure, refs) in enumerate(network.departures):
        numbers = {ref: f"BN{round_no:01d}U{t:04d}{n:03d}" for n, ref in enumerate(refs)}
        plan += [("GTIN", ref, departure, numbers[ref]) for ref in refs]
        plan += [("LOAD", ref, departure, numbers[ref]) for ref in refs]
        plan.append(("DEPA", "", departure, ""))
    return plan


def deliveries_per_event(network: Network, plan) -> float:
    per_code = {}
    for code in ("GTIN", "LOAD", "DEPA"):
        item = next(p for p in plan if p[0] == code)
        per_code[code] = len(expected_pairs(network, [(0, code, item[1], item[2])]))
    return sum(per_code[p[0]] for p in plan) / len(plan)


def record(network: Network, operator, item) -> int:
    """One event in its own transaction (its commit queues the relay); returns its id."""
    from django.db import transaction

    from intermodal.codes import Classifier, EmptyIndicator, EventType, FacilityKind, ModeOfTransport
    from intermodal.events import event_record

    code, booking_ref, departure, number = item
    station = network.station
    common_fields = {"organisation": operator, "facility_kind": FacilityKind.STATION, "facility_code": station.code,
                     "location_unlocode": station.unlocode, "details": {"bench": "fanout"}}
    with transaction.atomic():
        if code == "DEPA":
            event = event_record(event_type=EventType.TRANSPORT, event_code="DEPA", classifier=Classifier.ACTUAL,
                                 mode_of_transport=ModeOfTransport.RAIL, transport_reference=departure,
                                 **common_fields)
        else:
            extra = {"mode_of_transport": ModeOfTransport.RAIL, "transport_reference": departure} \
                if code == "LOAD" else {}
            event = event_record(event_type=EventType.EQUIPMENT, event_code=code, empty_indicator=EmptyIndicator.LADEN,
                                 equipment_reference=number, booking_reference=booking_ref, **common_fields, **extra)
    return event.pk


# --- A round ------------------------------------------------------------------------------------------


@dataclass
class Round:
    capacity: float
    offered: float
    rate: float
    p50_ms: float
    p99_ms: float
    p99_delivered_ms: float
    deliveries: int
    retried: int
    busiest: float  # the busiest receiver's deliveries over the mean receiver's
    problems: list


def last_delivery() -> int:
    from django.db.models import Max

    from notifications.models import Delivery

    return Delivery.objects.aggregate(last=Max("id"))["last"] or 0


def wait_delivered(after_id: int, expected: int, timeout: float) -> int:
    """How many of the deliveries made after `after_id` were delivered, once all `expected` were or the timeout
    passed. By their ids (the primary key's index) once a second: a count by event read the whole table, and took
    a share of the cores the platform was measured on."""
    from notifications.models import Delivery, DeliveryStatus

    deadline = time.monotonic() + timeout
    while True:
        done = Delivery.objects.filter(pk__gt=after_id, status=DeliveryStatus.DELIVERED).count()
        if done >= expected or time.monotonic() > deadline:
            return done
        time.sleep(1)


def events_commit(network: Network, operator, plan, rate: float, seconds: float) -> tuple[dict, list, float]:
    """Commit the plan's first `rate * seconds` events at `rate` a second, one per transaction. Returns (commit
    time by event id, the events as (id, code, booking, departure), the clock's start)."""
    count = min(len(plan), max(1, round(rate * seconds)))
    committed, events = {}, []
    started = time.time()
    for n, item in enumerate(plan[:count]):
        due = started + n / rate
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        pk = record(network, operator, item)
        committed[pk] = time.time()
        events.append((pk, item[0], item[1], item[2]))
    return committed, events, started


# The tables the rounds fill and update, vacuumed and analysed before each round as autovacuum would have: the
# servers of these machines run without it. Unvacuumed, the deliveries of a few runs left 370,000 dead rows beside
# 180,000 live ones, and the round's rate fell from 0.8 to 0.67; unanalysed, a month's events partition turned the
# relay's estimates of 100 rows into 8,500.
VACUUMED = ("intermodal_event", "intermodal_outboxmessage", "intermodal_organisation", "bookings_booking",
            "notifications_subscription", "notifications_delivery", "notifications_deliveryattempt")


def statistics_fresh() -> None:
    common.tables_vacuumed(VACUUMED)


def round_run(network: Network, operator, receivers: Receivers, plan, per_event: float, seconds: float,
              timeout: float, seed: int) -> Round:
    from notifications.models import Delivery

    statistics_fresh()
    receivers.start(seed)
    try:
        measured = capacity(receivers, BASELINE_SECONDS)
        rate = OFFERED_SHARE * measured / per_event
        after_id = last_delivery()
        committed, events, started = events_commit(network, operator, plan, rate, seconds)
        pairs = expected_pairs(network, events)
        event_ids = list(committed)
        done = wait_delivered(after_id, len(pairs), timeout)
    finally:
        log = receivers.stop()
    problems = []
    deliveries = {d[0]: d[1:] for d in Delivery.objects.filter(event_id__in=event_ids)
                  .values_list("webhook_id", "subscription_id", "event_id", "status")}
    made = {(s, e) for s, e, _status in deliveries.values()}
    if made != pairs:
        problems.append(f"{len(pairs - made)} deliveries missing, {len(made - pairs)} not expected")
    if done != len(pairs):
        problems.append(f"{done} of {len(pairs)} delivered")
    ok_receipts: dict[str, int] = {}
    first_receipt: dict[str, float] = {}
    delivered_receipt: dict[str, float] = {}
    strangers = 0
    for received, _receiver, status, webhook_id in log:
        if webhook_id == "baseline":
            continue
        if webhook_id not in deliveries:
            strangers += 1
            continue
        first_receipt[webhook_id] = min(received, first_receipt.get(webhook_id, received))
        if status < 300:
            ok_receipts[webhook_id] = ok_receipts.get(webhook_id, 0) + 1
            delivered_receipt[webhook_id] = received
    doubled = sum(1 for n in ok_receipts.values() if n > 1)
    missing = sum(1 for webhook_id in deliveries if webhook_id not in ok_receipts)
    if doubled or missing or strangers:
        problems.append(f"receivers' logs: {missing} never received with a 2xx, {doubled} received twice with a "
                        f"2xx, {strangers} requests of no delivery of this round")
    latencies = [(first_receipt[w] - committed[deliveries[w][1]]) * 1000 for w in first_receipt]
    delivered = [(delivered_receipt[w] - committed[deliveries[w][1]]) * 1000 for w in delivered_receipt]
    last = max(first_receipt.values()) if first_receipt else time.time()
    rate_done = len(first_receipt) / (last - started)
    return Round(capacity=measured, offered=rate * per_event, rate=rate_done,
                 p50_ms=common.percentile(latencies, 50), p99_ms=common.percentile(latencies, 99),
                 p99_delivered_ms=common.percentile(delivered, 99), deliveries=len(deliveries),
                 retried=sum(1 for w in first_receipt if w not in delivered_receipt or delivered_receipt[w] !=
                             first_receipt[w]), busiest=busiest_share(network, pairs, receivers.count),
                 problems=problems)


def busiest_share(network: Network, pairs: set[tuple[int, int]], receivers: int) -> float:
    """The deliveries of the busiest receiver over the mean receiver's. At 1.0 every receiver is offered the
    round's share of its capacity; above, the busiest is offered more, and the round cannot go faster than it."""
    per_receiver: dict[int, int] = {}
    for subscription, _event in pairs:
        receiver = network.receiver_of[subscription]
        per_receiver[receiver] = per_receiver.get(receiver, 0) + 1
    return max(per_receiver.values()) / (len(pairs) / receivers) if pairs else 0.0


# --- Main ---------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shippers", type=int, default=1000, help="shippers, ten subscriptions each (1000)")
    parser.add_argument("--receivers", type=int, default=100, help="receivers (100)")
    parser.add_argument("--slots", type=int, default=1, help="requests each receiver serves at a time (1)")
    parser.add_argument("--seconds", type=float, default=20, help="seconds of events a round (20)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the median counts (3)")
    parser.add_argument("--webhook-workers", type=int, default=64, help="webhook worker concurrency (64, as deployed)")
    parser.add_argument("--webhook-pool", default="threads", help="webhook workers' pool (threads, as deployed)")
    parser.add_argument("--webhook-processes", type=int, default=1, help="webhook workers (1, as deployed)")
    parser.add_argument("--webhook-conn-max-age", type=int, default=0,
                        help="CONN_MAX_AGE of the threads pool's connections (0, as deployed)")
    parser.add_argument("--relay-workers", type=int, default=2, help="relay worker processes (2: the cores)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for a round's deliveries")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=6, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def bench_broker() -> str:
    """BENCH_BROKER_URL, else database 14 of the Redis server that REDIS_URL names: the benchmark purges its
    queues there at the start, so never in the database the platform's own tasks use."""
    if os.environ.get("BENCH_BROKER_URL"):
        return os.environ["BENCH_BROKER_URL"]
    return urlunsplit(urlsplit(common.redis_url())._replace(path="/14"))


def workers_start(args, url: str, broker: str, run_id: str) -> list[subprocess.Popen]:
    """The relay's and the webhooks' workers and beat, as docker-compose.yml runs them."""
    env = common.server_env(url, common.redis_url(), CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker,
                            **common.as_deployed(), WEBHOOK_REQUIRE_HTTPS="0", WEBHOOK_RETRY_DELAYS=RETRY_DELAYS,
                            NOTIFICATIONS_SWEEP_SECONDS="2", CELERY_BEAT_SCHEDULE_FILENAME=str(
                                common.log_file(run_id, "beat-schedule")))
    level = os.environ.get("BENCH_WORKER_LOG_LEVEL", "warning")
    processes = []
    workers = [("relay", "relay", "prefork", args.relay_workers)]
    workers += [(f"webhooks{n}", "webhooks", args.webhook_pool, args.webhook_workers)
                for n in range(args.webhook_processes)]
    for name, queues, pool, concurrency in workers:
        log = common.log_file(run_id, f"fanout-{name}")
        # As docker-compose.yml: the threads pool's tasks close their database connections.
        own = {**env, "CONN_MAX_AGE": str(args.webhook_conn_max_age)} if pool == "threads" else env
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "intermodal", "worker", "-l", level, "-Q", queues, "-P", pool,
             "-c", str(concurrency), "--without-gossip", "--without-mingle", "-n", f"{name}-{run_id}@%h"],
            cwd=common.ROOT, env=own, stdout=log.open("w"), stderr=subprocess.STDOUT))
    beat_log = common.log_file(run_id, "fanout-beat")
    processes.append(subprocess.Popen([sys.executable, "-m", "celery", "-A", "intermodal", "beat", "-l", level],
                                      cwd=common.ROOT, env=env, stdout=beat_log.open("w"), stderr=subprocess.STDOUT))
    return processes


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve(args.serve, args.receivers, args.slots, args.log, args.seed)
        return 0
    common.exit_on_sigterm()
    url = common.database_url(NOT_POSTGRES)
    broker = bench_broker()
    common.ensure_database(url)
    # The receivers are on loopback and plain HTTP: named for the egress guard (notifications/egress.py), here and
    # in the workers; one encryption key for the subscription secrets this process writes and the workers read.
    from cryptography.fernet import Fernet

    os.environ["WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    os.environ["SECRETS_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    common.django_setup(url, common.redis_url())
    os.environ["CELERY_BROKER_URL"] = broker

    from django.utils import timezone

    from intermodal.celery import app
    from intermodal.models import OutboxMessage
    from notifications.models import Delivery, DeliveryStatus, Subscription

    app.conf.broker_url = broker
    app.close()
    # Earlier runs' receivers are gone: their subscriptions and queued tasks must not take this run's workers.
    stale = Subscription.objects.filter(name__startswith="bench ", is_active=True)
    Delivery.objects.filter(subscription__in=stale, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
                            ).update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    stale.update(is_active=False, disabled_reason="bench run over")

    def purge():
        with app.connection_for_write() as connection:  # this benchmark's queues only, on its own broker database
            for name in BENCH_QUEUES.split(","):
                app.amqp.queues[name].bind(connection.default_channel).purge()

    purge()
    run_id = uuid.uuid4().hex[:8]
    parties = common.parties_create(run_id)
    log_path = str(common.log_file(run_id, "receivers"))
    receivers = Receivers(first_port=free_ports(args.receivers), count=args.receivers, slots=args.slots,
                          log_path=log_path)
    clock = time.monotonic()
    network = network_create(parties, args.shippers, receivers)
    # The bookings' own events (created, confirmed) are the setting, not the benchmark: relayed as nothing, and
    # their relay tasks dropped, before the workers start.
    OutboxMessage.objects.filter(processed_at__isnull=True).update(processed_at=timezone.now())
    purge()
    print(f"P6 webhook fan-out: {len(network.subscription_ids):,} active subscriptions of {args.shippers:,} "
          f"shippers, {args.receivers} receivers ({LATENCY_MS[0]}-{LATENCY_MS[1]} ms, {ERROR_SHARE:.0%} 503, "
          f"{args.slots} at a time each); relay -c {args.relay_workers}, webhooks -c {args.webhook_workers}; set up "
          f"in {time.monotonic() - clock:.0f} s; {common.machine()}")
    processes = workers_start(args, url, broker, run_id)
    try:
        time.sleep(5)  # the workers start before the clock does
        # A warm-up round first (the workers' first tasks connect and import), not counted.
        warm_plan = event_plan(network, 9)[: 4 * (2 * BOOKINGS_PER_DEPARTURE + 1)]
        receivers.start(args.seed)
        try:
            after_id = last_delivery()
            committed, events, _started = events_commit(network, parties.operator, warm_plan, 20.0,
                                                        len(warm_plan) / 20.0)
            wait_delivered(after_id, len(expected_pairs(network, events)), args.timeout)
        finally:
            receivers.stop()
        rounds = []
        for n in range(args.rounds):
            plan = event_plan(network, n)
            per_event = deliveries_per_event(network, plan)
            result = round_run(network, parties.operator, receivers, plan, per_event, args.seconds, args.timeout,
                               seed=args.seed + n + 1)
            rounds.append(result)
            print(f"  round {n + 1}: capacity {result.capacity:6.0f}/s, offered {result.offered:6.0f}/s, delivered "
                  f"{result.rate:6.0f}/s ({result.rate / result.capacity:.2f}); commit to first receipt p50 "
                  f"{result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms; to the 2xx p99 {result.p99_delivered_ms:.0f}"
                  f" ms ({result.retried} retried); {result.deliveries:,} deliveries of {per_event:.1f} an event, the "
                  f"busiest receiver's {result.busiest:.2f} x the mean; "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
            for problem in result.problems:
                print(f"    WRONG: {problem}")
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        Subscription.objects.filter(pk__in=network.subscription_ids).update(is_active=False,
                                                                            disabled_reason="bench run over")

    ratio = statistics.median(r.rate / r.capacity for r in rounds)
    p99 = statistics.median(r.p99_ms for r in rounds)
    passed = ratio >= RATE_GOAL and p99 <= P99_GOAL_MS
    problems = [p for r in rounds for p in r.problems]
    print(f"  load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"  median of {len(rounds)}: delivered / capacity {ratio:.2f} (goal >= {RATE_GOAL}), commit to receipt p99 "
          f"{p99:.0f} ms (goal <= {P99_GOAL_MS}) {'PASS' if passed else 'FAIL'}")
    common.result_line("P6", figure=ratio, goal=f">= {RATE_GOAL} x capacity, p99 <= 1 s", passed=passed,
                       detail=f"{statistics.median(r.rate for r in rounds):.0f} vs "
                              f"{statistics.median(r.capacity for r in rounds):.0f} deliveries/s, p99 {p99:.0f} ms, "
                              f"{len(network.subscription_ids):,} subscriptions")
    print("RESULT:", "FAIL - " + "; ".join(problems) if problems else "ok (every delivery received once)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
