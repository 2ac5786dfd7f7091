"""P2 Booking under contention: many clients booking the last slots of one departure, over real HTTP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/booking_contention.py

The script sets up its own PostgreSQL database (created when missing, then migrated), makes fresh rows for
the run (every code carries a run id, so reruns never collide), serves the app with gunicorn on a free port
and fires `POST /api/v1/bookings/` with `confirm: true` from client threads, in two rounds:

- contended: A attempts of 1 x 22G1 (1 TEU) at ONE departure of C TEU, so A - C of them must be refused;
- uncontended: A attempts of the same booking, each at its own departure with room to spare.

Then it reads the ledger back from the database (booked_teu never above capacity, and equal to the TEU of
the confirmed bookings), and prints both throughputs and the latencies. The figure compares confirmations with
confirmations (issue 21): the rate at which the one departure sold out (its C confirmations over the time to the
last of them) against the uncontended round's confirmed bookings a second; the refusals that follow a sell-out
are counted apart, being cheaper than confirmations. gunicorn runs as deployed (DEBUG=0, its own timeout); each
of `--rounds` rounds has departures of its own, and the figure is their median. **Goal: >= 0.9, 0 overbooked.**

Exit status 1 on overbooking, any 5xx (or dropped connection), a ledger mismatch, or an answer this benchmark
does not expect (anything but 201/409 when contended, anything but 201 when not). The throughput goal is
reported as PASS/FAIL but does not change the exit status: it is a measurement, and machines differ.
"""

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

BOOKINGS_PATH = "/api/v1/bookings/"
RATIO_GOAL = 0.9
SIZE_TYPE = "22G1"  # 20' general purpose: 1 TEU
DESTINATION = "NLRTM"
UNCONTENDED_CAPACITY = 100
MAX_CAPACITY = 32767  # capacity_teu is a PositiveSmallIntegerField
NOT_POSTGRES = (
    "This benchmark measures PostgreSQL's row locks and CHECK constraint under concurrent writers (SQLite "
    "serialises every writer, so it would measure nothing of the kind)."
)


# --- Rows for the run ------------------------------------------------------------------------------------


@dataclass
class Network:
    run_id: str
    api_key: str
    vessel_call: str
    warmup: str
    contended: str
    uncontended: list[str]
    figure: float = 0.0  # this round's confirmations against confirmations (set by report)
    overbooked: int = 0


def network_create(run_id: str, *, attempts: int, capacity: int, warmup: int) -> Network:
    """An enterprise with a user and an API key; one station, terminal and railway; three services.

    Service W carries the warm-up departure, service C the contended one (capacity C), service U one
    departure per uncontended attempt on consecutive days; one vessel call sails after the last of them.
    """
    from django.db import transaction
    from django.utils import timezone

    from intermodal.models import Scope
    from stations.models import Departure
    from tests import factories

    first_day = timezone.localdate() + timedelta(days=1)
    with transaction.atomic():
        parties = common.parties_create(run_id)
        raw_key = common.api_key_create(
            parties.shipper,
            name=f"bench {run_id}",
            scopes=[Scope.BOOKINGS_WRITE, Scope.BOOKINGS_READ],
            created_by=parties.user,
        )
        station, terminal = common.station_and_terminal(parties)
        services = {
            kind: factories.service(station, terminal, parties.railway, code=f"b{run_id}-{kind}")
            for kind in ("w", "c", "u")
        }

        def departure(kind: str, day: int, capacity_teu: int) -> Departure:
            return common.departure_build(services[kind], first_day + timedelta(days=day), capacity_teu)

        warm = departure("w", 0, max(UNCONTENDED_CAPACITY, warmup))
        contended = departure("c", 0, capacity)
        uncontended = [departure("u", day, UNCONTENDED_CAPACITY) for day in range(attempts)]
        Departure.objects.bulk_create([warm, contended, *uncontended])
        call = factories.vessel_call(
            terminal,
            etd=factories.shanghai(first_day + timedelta(days=attempts + 3), 18),
            voyage=f"B{run_id}",
            vessel_name=f"Bench Express {run_id}",
            destinations=(DESTINATION,),
        )
    return Network(
        run_id=run_id,
        api_key=raw_key,
        vessel_call=call.reference,
        warmup=warm.reference,
        contended=contended.reference,
        uncontended=[d.reference for d in uncontended],
    )


def booking_body(network: Network, departure: str) -> bytes:
    return json.dumps(
        {
            "departure": departure,
            "vessel_call": network.vessel_call,
            "destination": DESTINATION,
            "containers": [{"size_type": SIZE_TYPE, "quantity": 1}],
            "commodity": "Benchmark cargo",
            "cargo_weight_kg": "12000.0",
            "confirm": True,
        }
    ).encode()


# --- The clients -----------------------------------------------------------------------------------------


@dataclass
class Round:
    name: str
    threads: int
    elapsed: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)  # the `code` of every answer other than 201
    latencies: list[float] = field(default_factory=list)
    created_at: list[float] = field(default_factory=list)  # seconds from the start to each 201

    @property
    def attempts(self) -> int:
        return sum(self.statuses.values())

    @property
    def confirmed(self) -> int:
        return self.statuses[201]

    @property
    def refused(self) -> int:
        return self.statuses[409]

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)

    @property
    def other(self) -> int:
        return self.attempts - self.confirmed - self.refused - self.server_errors

    @property
    def attempts_per_second(self) -> float:
        return self.attempts / self.elapsed if self.elapsed else 0.0

    @property
    def confirmed_per_second(self) -> float:
        return self.confirmed / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        return common.percentile(self.latencies, q) * 1000


def _answer_code(status: int, payload: bytes) -> str:
    if status == 0:
        return payload.decode(errors="replace")[:80]
    try:
        return str(json.loads(payload).get("code") or f"http_{status}")
    except (ValueError, AttributeError):
        return f"http_{status}"


def fire(name: str, *, port: int, api_key: str, bodies: list[bytes], threads: int) -> Round:
    """POST every body from `threads` client threads, each with its own connection; all start together."""
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    results, elapsed = common.fire(
        name,
        port=port,
        requests=[("POST", BOOKINGS_PATH, body) for body in bodies],
        headers=headers,
        threads=threads,
    )
    outcome = Round(name=name, threads=threads, elapsed=elapsed)
    for status, latency, finished, payload in results:
        outcome.statuses[status] += 1
        outcome.latencies.append(latency)
        if status == 201:
            outcome.created_at.append(finished)
        else:
            outcome.codes[_answer_code(status, payload)] += 1
    return outcome


# --- The ledger ------------------------------------------------------------------------------------------


@dataclass
class Ledger:
    departures: int
    capacity_teu: int
    booked_teu: int
    overbooked_teu: int
    confirmed_bookings: int
    confirmed_teu: int
    other_bookings: int  # drafts or cancellations left on these departures: a refusal must leave nothing


def ledger(references: list[str]) -> Ledger:
    from django.db.models import Count, Sum

    from bookings.models import HOLDS_CAPACITY, Booking
    from stations.models import Departure

    departures = list(Departure.objects.filter(reference__in=references))
    holding = Booking.objects.filter(departure__in=departures, status__in=HOLDS_CAPACITY).aggregate(
        n=Count("id"), teu=Sum("teu")
    )
    return Ledger(
        departures=len(departures),
        capacity_teu=sum(d.capacity_teu for d in departures),
        booked_teu=sum(d.booked_teu for d in departures),
        overbooked_teu=sum(max(0, d.booked_teu - d.capacity_teu) for d in departures),
        confirmed_bookings=holding["n"],
        confirmed_teu=holding["teu"] or 0,
        other_bookings=Booking.objects.filter(departure__in=departures).exclude(status__in=HOLDS_CAPACITY).count(),
    )


# --- The report ------------------------------------------------------------------------------------------


def _codes(outcome: Round) -> str:
    return ", ".join(f"{code} x{n}" for code, n in outcome.codes.most_common()) or "-"


def report(
    *,
    network: Network,
    contended: Round,
    uncontended: Round,
    hot: Ledger,
    spread: Ledger,
    log_path: Path,
    setup: dict[str, str],
) -> list[str]:
    """Print the figures; return the problems that make the run fail (empty when it passes)."""
    problems: list[str] = []
    print()
    print(f"P2 Booking under contention - run {network.run_id}")
    for label, value in setup.items():
        print(f"  {label:<12} {value}")
    print()
    rows = [
        ("departures", f"1 x {hot.capacity_teu} TEU", f"{spread.departures} x {UNCONTENDED_CAPACITY} TEU"),
        ("attempts", contended.attempts, uncontended.attempts),
        ("client threads", contended.threads, uncontended.threads),
        ("confirmed (201)", contended.confirmed, uncontended.confirmed),
        ("refused (409)", contended.refused, uncontended.refused),
        ("other 4xx", contended.other, uncontended.other),
        ("5xx / dropped", contended.server_errors, uncontended.server_errors),
        ("elapsed s", f"{contended.elapsed:.2f}", f"{uncontended.elapsed:.2f}"),
        ("attempts/s", f"{contended.attempts_per_second:.1f}", f"{uncontended.attempts_per_second:.1f}"),
        ("confirmed/s", f"{contended.confirmed_per_second:.1f}", f"{uncontended.confirmed_per_second:.1f}"),
        ("latency p50 ms", f"{contended.percentile(50):.0f}", f"{uncontended.percentile(50):.0f}"),
        ("latency p95 ms", f"{contended.percentile(95):.0f}", f"{uncontended.percentile(95):.0f}"),
        ("latency max ms", f"{contended.percentile(100):.0f}", f"{uncontended.percentile(100):.0f}"),
    ]
    print(f"  {'':<18}{'contended':>16}{'uncontended':>16}")
    for label, left, right in rows:
        print(f"  {label:<18}{left!s:>16}{right!s:>16}")
    print(f"  answers other than 201, contended:   {_codes(contended)}")
    print(f"  answers other than 201, uncontended: {_codes(uncontended)}")

    def check(ok: bool, text: str) -> None:
        print(f"  [{'ok' if ok else 'FAIL'}] {text}")
        if not ok:
            problems.append(text)

    print()
    print(f"  Ledger of the contended departure {network.contended} (read back from PostgreSQL)")
    print(f"    capacity {hot.capacity_teu} TEU, booked_teu {hot.booked_teu}, confirmed TEU {hot.confirmed_teu}")
    check(hot.overbooked_teu == 0, f"overbooked TEU = max(0, booked_teu - capacity) = {hot.overbooked_teu}")
    check(
        hot.confirmed_teu == hot.booked_teu,
        f"sum of the confirmed bookings' TEU ({hot.confirmed_teu}) == booked_teu ({hot.booked_teu})",
    )
    check(
        hot.confirmed_bookings == contended.confirmed,
        f"confirmed bookings in the database ({hot.confirmed_bookings}) == 201 answers ({contended.confirmed})",
    )
    expected = min(contended.attempts, hot.capacity_teu)
    check(
        contended.confirmed == expected,
        f"201 answers ({contended.confirmed}) == min(attempts, capacity) ({expected}): no slot lost, none sold twice",
    )
    check(hot.other_bookings == 0, f"refusals left no bookings behind ({hot.other_bookings} drafts/others)")
    check(contended.server_errors == 0, f"no 5xx or dropped connection ({contended.server_errors})")
    check(contended.other == 0, f"no answer other than 201/409 ({contended.other})")
    print(f"  Ledger of the {spread.departures} uncontended departures")
    check(
        spread.overbooked_teu == 0 and spread.confirmed_teu == spread.booked_teu == uncontended.confirmed,
        f"booked_teu {spread.booked_teu} == confirmed TEU {spread.confirmed_teu} == 201 answers "
        f"{uncontended.confirmed}, overbooked {spread.overbooked_teu}",
    )
    check(uncontended.server_errors == 0, f"no 5xx or dropped connection ({uncontended.server_errors})")
    check(
        uncontended.confirmed == uncontended.attempts,
        f"every uncontended attempt confirmed ({uncontended.confirmed}/{uncontended.attempts})",
    )

    print()
    # Confirmations against confirmations: the rate at which the one departure sold out (its confirmations over the
    # time to the last of them) against the uncontended confirmations' rate. The refusals after the sell-out are
    # counted apart (attempts/s above): they are cheaper than confirmations and would flatter the figure.
    fill = max(contended.created_at) if contended.created_at else 0.0
    fill_rate = len(contended.created_at) / fill if fill else 0.0
    ratio = fill_rate / uncontended.confirmed_per_second if uncontended.confirmed_per_second else 0.0
    verdict = "PASS" if ratio >= RATIO_GOAL else "FAIL"
    print(f"  confirmations: the {len(contended.created_at)} on the one departure in {fill:.2f} s = {fill_rate:.1f}/s "
          f"against {uncontended.confirmed_per_second:.1f}/s uncontended = {ratio:.2f}  (goal >= {RATIO_GOAL}): "
          f"{verdict}")
    overbooked = hot.overbooked_teu + spread.overbooked_teu
    network.figure, network.overbooked = ratio, overbooked
    if contended.server_errors or uncontended.server_errors:
        print("  server exceptions (from the gunicorn log):")
        for text, n in common.server_errors(log_path).most_common(8):
            print(f"    {n:>4} x {text}")
    print()
    print("RESULT:", "FAIL - " + "; ".join(problems) if problems else "ok (no overbooking, no 5xx)")
    return problems


# --- Main ------------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=200, help="booking attempts per round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, reported by their median (default 3)")
    parser.add_argument("--threads", type=int, default=50, help="client threads (default 50)")
    parser.add_argument("--capacity", type=int, default=50, help="TEU of the contended departure (default 50)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers, 1 thread each (default 4)")
    parser.add_argument(
        "--warmup", type=int, default=50, help="bookings on a spare departure before measuring (default 50)"
    )
    args = parser.parse_args(argv)
    for name in ("attempts", "threads", "capacity", "workers", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup cannot be negative")
    if args.capacity > MAX_CAPACITY or args.warmup > MAX_CAPACITY:
        parser.error(f"--capacity and --warmup are at most {MAX_CAPACITY} TEU")
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
    networks = [network_create(f"{run_id}{n}", attempts=args.attempts, capacity=args.capacity, warmup=args.warmup)
                for n in range(args.rounds)]
    from django.db import connection

    connection.close()  # the server's workers are the only clients while measuring
    print(f"bench: run {run_id}: {args.rounds} rounds of {args.attempts + 2} departures", flush=True)

    port = common.free_port()
    log_path = common.log_file(run_id)
    env = common.server_env(url, redis_url, **common.as_deployed())
    load = os.getloadavg()
    rounds = []
    with common.gunicorn_server(port=port, workers=args.workers, env=env, log_path=log_path, timeout=None):
        print(f"bench: gunicorn on 127.0.0.1:{port}, {args.workers} sync workers, as deployed", flush=True)
        if args.warmup:
            warm = fire("warmup", port=port, api_key=networks[0].api_key,
                        bodies=[booking_body(networks[0], networks[0].warmup)] * args.warmup,
                        threads=min(args.threads, args.warmup))
            print(f"bench: warm-up {dict(warm.statuses)} in {warm.elapsed:.2f} s", flush=True)
        for network in networks:
            contended = fire("contended", port=port, api_key=network.api_key,
                             bodies=[booking_body(network, network.contended)] * args.attempts, threads=args.threads)
            uncontended = fire("uncontended", port=port, api_key=network.api_key,
                               bodies=[booking_body(network, reference) for reference in network.uncontended],
                               threads=args.threads)
            print(f"bench: {network.run_id}: contended {dict(contended.statuses)} in {contended.elapsed:.2f} s, "
                  f"uncontended {dict(uncontended.statuses)} in {uncontended.elapsed:.2f} s", flush=True)
            rounds.append((network, contended, uncontended))

    setup = {
        "server": f"gunicorn {common.gunicorn_version()}, {args.workers} sync workers, DEBUG=0, its own timeout",
        "clients": f"{args.threads} threads, http.client, 1 x {SIZE_TYPE} (1 TEU) per attempt, confirm=true",
        "machine": f"{os.cpu_count()} CPUs; PostgreSQL {common.postgres_version()} ({database}); load average "
                   f"before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}",
        "warm-up": f"{args.warmup} bookings before measuring",
    }
    problems = []
    for network, contended, uncontended in rounds:
        problems += report(network=network, contended=contended, uncontended=uncontended,
                           hot=ledger([network.contended]), spread=ledger(network.uncontended), log_path=log_path,
                           setup=setup)
    figure = statistics.median(network.figure for network, _c, _u in rounds)
    overbooked = sum(network.overbooked for network, _c, _u in rounds)
    verdict = "PASS" if figure >= RATIO_GOAL and overbooked == 0 else "FAIL"
    print()
    print(f"  P2, median of {len(rounds)} rounds: confirmations under contention / uncontended = {figure:.2f}, "
          f"overbooked {overbooked} TEU  (goal >= {RATIO_GOAL}, 0 overbooked): {verdict}")
    common.result_line("P2", figure=figure, goal=f">= {RATIO_GOAL}, overbooked 0", passed=verdict == "PASS",
                       detail=f"overbooked TEU {overbooked}; rounds "
                              + ", ".join(f"{network.figure:.2f}" for network, _c, _u in rounds))
    print(f"bench: {time.monotonic() - began:.0f} s in all")
    if problems:
        print(f"bench: server log kept at {log_path}")
        return 1
    log_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
