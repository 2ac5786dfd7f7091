"""P6 Webhook fan-out: deliveries per second through the relay and Celery workers, against a plain loop.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/fanout.py

N events (GTIN, laden, at a station of the run's station operator) are recorded in one transaction; the
operator has M Standard Webhooks subscriptions to one local receiver, so the platform must make N x M signed
deliveries. Round "celery": the on-commit trigger queues the relay on Redis; Celery worker processes (prefork,
`--workers` processes) relay the outbox into deliveries and send each one (claim, signed POST, attempt log,
outcome) - the product's own path, end to end, with DEBUG off as deployed. The clock runs from the commit to
the moment the last delivery was recorded delivered (its delivered_at in the database; the bench polls for it
every 50 ms, and the poll's lag is not counted).

A warm-up round of the same size comes first (the workers' first tasks connect to PostgreSQL and Redis and
import the serializers, as a deployed worker did long before), and is not counted.

Round "loop": one plain Python loop posts the same N x M bodies, signed the same way, to the same receiver over
one keep-alive connection, and nothing else (no database, no queue); three times, the median counts.

It prints both rates and their ratio against the goal (celery / loop >= 0.5). The receiver is its own process
(a threaded HTTP/1.1 server answering 200), so neither round pays for it. Exit status 1 when a delivery is
missing, doubled or not delivered; the speed goal prints PASS/FAIL only.
"""

import argparse
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, urlunsplit

try:
    from bench import common
except ImportError:  # run as a script
    import common

GOAL = 0.5
NOT_POSTGRES = "The fan-out runs the product's relay and delivery path, which needs PostgreSQL (SKIP LOCKED)."


# --- The receiver (its own process) ---------------------------------------------------------------------


def serve(port: int) -> None:
    count = {"n": 0}
    lock = threading.Lock()
    # A receiver's listen backlog as a web server has it (nginx: 511), not socketserver's 5: the workers open up
    # to workers x WEBHOOK_POST_THREADS connections at once, and a full backlog resets them.
    ThreadingHTTPServer.request_queue_size = 128

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                count["n"] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):  # noqa: N802
            body = str(count["n"]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


# --- Rounds ---------------------------------------------------------------------------------------------


def record_events(parties, station, count: int, first: int = 0) -> float:
    """Record the events in one transaction; returns the clock's start (time.time()): the moment of the commit
    (whose on-commit trigger queues the relay), not the time spent recording them."""
    from django.db import transaction

    from intermodal.codes import EmptyIndicator, EventType, FacilityKind
    from intermodal.events import event_record

    with transaction.atomic():
        for n in range(first, first + count):
            event_record(
                event_type=EventType.EQUIPMENT, event_code="GTIN", organisation=parties.operator,
                empty_indicator=EmptyIndicator.LADEN, facility_kind=FacilityKind.STATION,
                facility_code=station.code, location_unlocode=station.unlocode,
                equipment_reference=f"BNCH{n:07d}", details={"bench": parties.run_id})
        started = time.time()
    return started


def wait_delivered(subscription_ids: list[int], expected: int, timeout: float, after_id: int = 0
                   ) -> tuple[int, float]:
    """Wait until `expected` deliveries (those with an id over `after_id`) are delivered, or the timeout; returns
    how many were and when the last of them was recorded delivered (time.time(); now, after a timeout)."""
    from django.db.models import Count, Max

    from notifications.models import Delivery, DeliveryStatus

    deadline = time.monotonic() + timeout
    while True:
        done = Delivery.objects.filter(subscription_id__in=subscription_ids, status=DeliveryStatus.DELIVERED,
                                       pk__gt=after_id).aggregate(count=Count("id"), last=Max("delivered_at"))
        if done["count"] >= expected:
            return done["count"], done["last"].timestamp()
        if time.monotonic() > deadline:
            return done["count"], time.time()
        time.sleep(0.05)


def loop_round(deliveries: list, port: int) -> float:
    """The baseline: post every body, signed, one after the other."""
    import urllib3
    from django.utils import timezone

    from notifications.delivery import request_headers

    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1, retries=False)
    started = time.perf_counter()
    for delivery in deliveries:
        headers = request_headers(delivery.subscription, delivery, timezone.now())
        response = pool.request("POST", "/loop", body=delivery.body.encode(), headers=headers)
        if response.status != 200:
            raise SystemExit(f"loop: receiver answered {response.status}")
    return time.perf_counter() - started


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500, help="events (default 500)")
    parser.add_argument("--subscriptions", type=int, default=4, help="subscriptions (default 4)")
    parser.add_argument("--workers", type=int, default=4, help="Celery worker processes (default 4)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the deliveries")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


BENCH_QUEUES = "relay,webhooks"  # what fan-out runs on (settings.CELERY_TASK_ROUTES)


def bench_broker() -> str:
    """BENCH_BROKER_URL, else database 14 of the Redis server that REDIS_URL names: the benchmark purges its
    queues there at the start, so never in the database the platform's own tasks use."""
    if os.environ.get("BENCH_BROKER_URL"):
        return os.environ["BENCH_BROKER_URL"]
    return urlunsplit(urlsplit(common.redis_url())._replace(path="/14"))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    common.exit_on_sigterm()
    url = common.database_url(NOT_POSTGRES)
    broker = bench_broker()
    common.ensure_database(url)
    # The receiver is on loopback and plain HTTP: named for the egress guard (notifications/egress.py), here and in
    # the workers; one encryption key for the subscription secrets this process writes and the workers read (their
    # SECRET_KEY is their own).
    from cryptography.fernet import Fernet

    os.environ["WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    os.environ["SECRETS_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    common.django_setup(url, common.redis_url())
    os.environ["CELERY_BROKER_URL"] = broker

    from django.conf import settings
    from django.db.models import Max

    from intermodal.celery import app
    from notifications.models import Delivery
    from notifications.services import subscription_create

    app.conf.broker_url = broker
    app.close()
    # Earlier runs' receivers are gone: their subscriptions and queued tasks must not take this run's workers.
    from notifications.models import DeliveryStatus, Subscription

    stale = Subscription.objects.filter(name__startswith="bench ", is_active=True)
    Delivery.objects.filter(subscription__in=stale, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
                            ).update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    stale.update(is_active=False, disabled_reason="bench run over")
    with app.connection_for_write() as connection:  # this benchmark's queues only, on its own broker database
        for name in BENCH_QUEUES.split(","):
            app.amqp.queues[name].bind(connection.default_channel).purge()
    run_id = uuid.uuid4().hex[:8]
    parties = common.parties_create(run_id)
    station, _terminal = common.station_and_terminal(parties)
    receiver_port = common.free_port()
    processes = []
    try:
        processes.append(subprocess.Popen([sys.executable, __file__, "--serve", str(receiver_port)]))
        from intermodal.access import Actor

        subscriptions = [
            subscription_create(actor=Actor(organisation=parties.operator), event_kinds=["equipment.gtin"],
                                url=f"http://127.0.0.1:{receiver_port}/celery/{n}", name=f"bench {n}").subscription
            for n in range(args.subscriptions)]
        expected = args.events * args.subscriptions
        worker_log = common.log_file(run_id, "fanout-worker")
        env = common.server_env(url, common.redis_url(), CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker,
                                **common.as_deployed(), WEBHOOK_REQUIRE_HTTPS="0")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "intermodal", "worker", "-P", "prefork", "-c", str(args.workers),
             "-l", os.environ.get("BENCH_WORKER_LOG_LEVEL", "warning"), "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-Q", BENCH_QUEUES,
             "-n", f"fanout-{run_id}@%h"],
            cwd=common.ROOT, env=env, stdout=worker_log.open("w"), stderr=subprocess.STDOUT))
        time.sleep(4)  # the worker starts before the clock does
        print(f"P6 webhook fan-out: {args.events} events x {args.subscriptions} subscriptions = {expected} "
              f"deliveries; {args.workers} worker processes; {common.machine()}")

        subscription_ids = [s.pk for s in subscriptions]
        # A warm-up round first: a worker process's first tasks connect to PostgreSQL and Redis and import the
        # serializers, which a deployed worker did long before (the loop's first round warms it up the same way).
        record_events(parties, station, args.events, first=args.events)
        warm, _finished = wait_delivered(subscription_ids, expected, args.timeout)
        after_id = Delivery.objects.aggregate(last=Max("id"))["last"] or 0

        started = record_events(parties, station, args.events)  # commits: the on-commit trigger queues the relay
        done, finished = wait_delivered(subscription_ids, expected, args.timeout, after_id=after_id)
        celery_seconds = finished - started
        deliveries = list(Delivery.objects.filter(subscription__in=subscriptions, pk__gt=after_id)
                          .select_related("subscription"))
        problems = []
        if warm != expected:
            problems.append(f"warm-up: {warm} of {expected} delivered")
        if done != expected:
            problems.append(f"{done} of {expected} delivered")
        if len({d.webhook_id for d in deliveries}) != len(deliveries) or len(deliveries) != expected:
            problems.append(f"{len(deliveries)} deliveries for {expected} expected, or a webhook-id twice")

        # The loop is short and the machine's load moves: three rounds, the median counts.
        loop_seconds = sorted(loop_round(deliveries, receiver_port) for _ in range(3))[1]
        celery_rate, loop_rate = done / celery_seconds, len(deliveries) / loop_seconds
        ratio = celery_rate / loop_rate
        print(f"  celery (relay + signed POST + log): {celery_rate:8.1f} deliveries/s ({celery_seconds:.2f} s)")
        print(f"  plain loop (signed POST only):      {loop_rate:8.1f} deliveries/s ({loop_seconds:.2f} s, median "
              "of 3)")
        print(f"  load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"  ratio celery/loop: {ratio:.2f} (goal >= {GOAL}) {'PASS' if ratio >= GOAL else 'FAIL'}")
        common.result_line("P6", figure=ratio, goal=f">= {GOAL} x plain loop", passed=ratio >= GOAL,
                           detail=f"{celery_rate:.0f} vs {loop_rate:.0f} deliveries/s, {done}/{expected} delivered")
        print(f"  retry delays: {settings.WEBHOOK_RETRY_DELAYS}")
        print("RESULT:", "FAIL - " + "; ".join(problems) if problems else "ok (every delivery delivered once)")
        return 1 if problems else 0
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
