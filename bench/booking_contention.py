"""P2 Booking under contention: many clients booking the last slots of a departure, over real HTTP, exports and
imports in the year's mix.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/booking_contention.py

The script sets up its own PostgreSQL database (created when missing, then migrated), makes fresh rows for
the run (every code carries a run id, so reruns never collide), serves the app with gunicorn on a free port
and fires bookings from client threads. The attempts meet the traffic they will meet (issue 19): `--import-share`
of them (BENCH_IMPORT_SHARE, else a third, as in bench/generate.py's year) are imports - the consignee books one
1 x 22G1 container the port announced on an arrived vessel (`POST /api/v1/bookings/import/`, confirmed at once or
refused) - and the rest exports of 1 x 22G1 (`POST /api/v1/bookings/` with `confirm: true`), every attempt 1 TEU.
The two directions are interleaved evenly and fired together from the same client threads, in two rounds:

- contended: A attempts for the last C TEU: the exports at ONE export departure, the imports at ONE import
  departure (terminal -> station) whose capacity is C scaled by the share, the exports' the rest, so both are
  oversubscribed alike and A - C attempts must be refused (409 capacity_short);
- uncontended: A attempts of the same mix, each at its own departure (export or import) with room to spare.

Then it reads the ledger back from the database for each direction (booked_teu never above capacity, and equal to
the TEU of the confirmed bookings of that direction), checks that every confirmed import's announced container is
linked to its booking and every refused one left unbooked, and prints both throughputs, and the counts and
latencies of each direction. The figure compares confirmations with confirmations (issue 21), over the whole mix:
the rate at which the two departures sold out (their C confirmations over the time to the last of them) against
the uncontended round's confirmed bookings a second; the refusals that follow a sell-out are counted apart, being
cheaper than confirmations. gunicorn runs as deployed (DEBUG=0, its own timeout); each of `--rounds` rounds has
departures of its own, and the figure is their median. **Goal: >= 0.9, 0 overbooked.**

Exit status 1 on overbooking, any 5xx (or dropped connection), a ledger mismatch (either direction, an import's
container not linked to its booking or a refused one booked), or an answer this benchmark does not expect
(anything but 201 or a 409 capacity_short when contended, anything but 201 when not). The throughput goal is
reported as PASS/FAIL but does not change the exit status: it is a measurement, and machines differ.
"""

import argparse
import json
import os
import random
import statistics
import string
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

EXPORT, IMPORT = "export", "import"  # stations.models.Direction's values
DIRECTIONS = (EXPORT, IMPORT)
PATHS = {EXPORT: "/api/v1/bookings/", IMPORT: "/api/v1/bookings/import/"}
KINDS = ("warmup", "contended", "uncontended")  # the sets of attempts a round's network is made for
REFUSAL = "capacity_short"  # the code of a 409 for a departure that is full, either direction
RATIO_GOAL = 0.9
SIZE_TYPE = "22G1"  # 20' general purpose: 1 TEU
DESTINATION = "NLRTM"
UNCONTENDED_CAPACITY = 100
MAX_CAPACITY = 32767  # capacity_teu is a PositiveSmallIntegerField
NOT_POSTGRES = (
    "This benchmark measures PostgreSQL's row locks and CHECK constraint under concurrent writers (SQLite "
    "serialises every writer, so it would measure nothing of the kind)."
)


# --- The mix ---------------------------------------------------------------------------------------------


def split(attempts: int, share: float) -> dict[str, int]:
    """`attempts` by direction: round(attempts x share) imports, the rest exports."""
    imports = round(attempts * share)
    return {EXPORT: attempts - imports, IMPORT: imports}


def capacity_split(capacity: int, attempts: dict[str, int], share: float) -> dict[str, int]:
    """The contended TEU by direction: the import departure takes `capacity` scaled by the share, the export one the
    rest, so both are oversubscribed alike; a direction with attempts keeps at least 1 TEU when it can."""
    if not attempts[IMPORT]:
        imports = 0
    elif not attempts[EXPORT]:
        imports = capacity
    else:
        imports = min(max(round(capacity * share), 1), capacity - 1)
    return {EXPORT: capacity - imports, IMPORT: imports}


def interleave(count: int, imports: int) -> list[str]:
    """The directions of `count` attempts of which `imports` are imports, spread evenly through them."""
    return [IMPORT if (n + 1) * imports // count > n * imports // count else EXPORT for n in range(count)]


# --- Rows for the run ------------------------------------------------------------------------------------


@dataclass
class Network:
    run_id: str
    api_key: str
    vessel_call: str  # the exports' vessel, sailing after the last departure
    arrived_call: str  # the imports' vessel, arrived at the terminal: its containers are announced
    counts: dict[str, dict[str, int]]  # kind of attempts -> direction -> attempts
    capacity: dict[str, int]  # direction -> TEU of its contended departure
    departures: dict[str, dict[str, list[str]]]  # kind -> direction -> references (uncontended: one an attempt)
    numbers: dict[str, list[str]]  # kind -> the announced containers its import attempts book, one each
    figure: float = 0.0  # this round's confirmations against confirmations (set by report)
    overbooked: int = 0

    def directions(self, kind: str = "contended") -> list[str]:
        return [direction for direction in DIRECTIONS if self.counts[kind][direction]]


@dataclass(frozen=True)
class Attempt:
    """One booking to try: its direction, its departure and, for an import, the announced container it books."""

    direction: str
    departure: str
    number: str = ""


def attempts_of(network: Network, kind: str) -> list[Attempt]:
    """The network's attempts of `kind`, exports and imports interleaved; uncontended, each at its own departure."""
    counts = network.counts[kind]
    numbers = iter(network.numbers[kind])
    used: Counter = Counter()
    attempts = []
    for direction in interleave(sum(counts.values()), counts[IMPORT]):
        references = network.departures[kind][direction]
        departure = references[used[direction]] if kind == "uncontended" else references[0]
        used[direction] += 1
        attempts.append(Attempt(direction, departure, next(numbers) if direction == IMPORT else ""))
    return attempts


def container_numbers(run_id: str, count: int) -> list[str]:
    """`count` ISO 6346 numbers for the run's imports: an owner code and a serial drawn from the run id until none
    of the numbers is on an active booking or announced already (a box booked twice would be refused 409)."""
    from stdnum import iso6346

    from bookings.models import Container
    from inbound.models import ArrivingContainer

    draw = random.Random(run_id)
    while True:
        owner = "".join(draw.choice(string.ascii_uppercase) for _ in range(3))
        first = draw.randrange(1_000_000)
        prefixes = [f"{owner}U{(first + n) % 1_000_000:06d}" for n in range(count)]
        numbers = [prefix + iso6346.calc_check_digit(prefix) for prefix in prefixes]
        if not (Container.objects.filter(number__in=numbers, is_active=True).exists()
                or ArrivingContainer.objects.filter(number__in=numbers).exists()):
            return numbers


def network_create(run_id: str, *, counts: dict[str, dict[str, int]], capacity: dict[str, int]) -> Network:
    """An enterprise (shipper and consignee) with a user and an API key; one station, terminal and railway; for
    each direction with attempts three services: W carries the warm-up departure, C the contended one (its
    direction's share of the contended TEU), U one departure per uncontended attempt on consecutive days. One
    vessel call sails after the last export departure; another arrived at the terminal 12 hours ago, and the port
    announced on it one 22G1 for every import attempt, consigned to the enterprise."""
    from django.db import transaction
    from django.utils import timezone

    from inbound.services import Announced, arrivals_announce
    from intermodal.access import Actor
    from intermodal.models import Scope
    from stations.models import Departure, Direction, Location
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
        built: dict[str, dict[str, list[Departure]]] = {kind: {EXPORT: [], IMPORT: []} for kind in KINDS}
        for direction in DIRECTIONS:
            if not any(counts[kind][direction] for kind in KINDS):
                continue
            for kind in KINDS:
                attempts = counts[kind][direction]
                if not attempts:
                    continue
                service = factories.service(
                    station, terminal, parties.railway, direction=Direction(direction),
                    code=f"b{run_id}-{'i' if direction == IMPORT else ''}{kind[0]}")
                if kind == "uncontended":
                    days = [(day, UNCONTENDED_CAPACITY) for day in range(attempts)]
                elif kind == "contended":
                    days = [(0, capacity[direction])]
                else:
                    days = [(0, max(UNCONTENDED_CAPACITY, attempts))]
                built[kind][direction] = [
                    common.departure_build(service, first_day + timedelta(days=day), teu) for day, teu in days]
        Departure.objects.bulk_create([d for kind in KINDS for direction in DIRECTIONS for d in built[kind][direction]])
        call = factories.vessel_call(
            terminal,
            etd=factories.shanghai(first_day + timedelta(days=counts["uncontended"][EXPORT] + 3), 18),
            voyage=f"B{run_id}",
            vessel_name=f"Bench Express {run_id}",
            destinations=(DESTINATION,),
        )
        # Arrived 12 hours ago (factories' ETA is 30 hours before the ETD): its containers are on the stack before
        # the first import departure closes.
        arrived = factories.vessel_call(
            terminal,
            etd=timezone.now() + timedelta(hours=18),
            voyage=f"I{run_id}",
            vessel_name=f"Bench Arrival {run_id}",
            destinations=(DESTINATION,),
        )
        imports = [counts[kind][IMPORT] for kind in KINDS]
        every = container_numbers(run_id, sum(imports))
        loading = Location.objects.get(unlocode=DESTINATION)
        port = Actor(organisation=parties.port)
        for start in range(0, len(every), 1000):  # inbound.services.MAX_ANNOUNCED at once
            arrivals_announce(actor=port, vessel_call=arrived, items=[
                Announced(number=number, size_type=SIZE_TYPE, bl_number=f"BL{run_id}", consignee=parties.shipper,
                          port_of_loading=loading, gross_weight_kg=Decimal(12000))
                for number in every[start:start + 1000]])
    numbers, start = {}, 0
    for kind, n in zip(KINDS, imports, strict=True):
        numbers[kind], start = every[start:start + n], start + n
    return Network(
        run_id=run_id,
        api_key=raw_key,
        vessel_call=call.reference,
        arrived_call=arrived.reference,
        counts=counts,
        capacity=capacity,
        departures={kind: {direction: [d.reference for d in built[kind][direction]] for direction in DIRECTIONS}
                    for kind in KINDS},
        numbers=numbers,
    )


def booking_body(network: Network, attempt: Attempt) -> bytes:
    if attempt.direction == IMPORT:
        return json.dumps(
            {
                "departure": attempt.departure,
                "vessel_call": network.arrived_call,
                "containers": [attempt.number],
                "commodity": "Benchmark cargo",
            }
        ).encode()
    return json.dumps(
        {
            "departure": attempt.departure,
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
class Tally:
    """Answers to a set of attempts (a round's, or one direction's of it)."""

    elapsed: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)  # the `code` of every answer other than 201
    refusal_codes: Counter = field(default_factory=Counter)  # the `code` of every 409
    latencies: list[float] = field(default_factory=list)
    created_at: list[float] = field(default_factory=list)  # seconds from the start to each 201

    def add(self, status: int, latency: float, finished: float, code: str) -> None:
        self.statuses[status] += 1
        self.latencies.append(latency)
        if status == 201:
            self.created_at.append(finished)
        else:
            self.codes[code] += 1
            if status == 409:
                self.refusal_codes[code] += 1

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
    def refused_otherwise(self) -> int:
        """409s for another reason than a full departure: the benchmark's rows are wrong, or the product."""
        return self.refused - self.refusal_codes[REFUSAL]

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

    @property
    def last_confirmed(self) -> float:
        """Seconds from the start to the last 201 (a contended departure sold out then)."""
        return max(self.created_at, default=0.0)

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        return common.percentile(self.latencies, q) * 1000


@dataclass
class Round(Tally):
    name: str = ""
    threads: int = 0
    tried: list[Attempt] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)  # per attempt: status, reference (201) or code
    parts: dict[str, Tally] = field(default_factory=dict)  # direction -> its answers

    def part(self, direction: str) -> Tally:
        return self.parts.setdefault(direction, Tally(elapsed=self.elapsed))


def _answer_code(status: int, payload: bytes) -> str:
    if status == 0:
        return payload.decode(errors="replace")[:80]
    try:
        return str(json.loads(payload).get("code") or f"http_{status}")
    except (ValueError, AttributeError):
        return f"http_{status}"


def _reference(payload: bytes) -> str:
    try:
        return str(json.loads(payload).get("reference") or "")
    except (ValueError, AttributeError):
        return ""


def fire(name: str, *, port: int, network: Network, attempts: list[Attempt], threads: int) -> Round:
    """POST every attempt from `threads` client threads, each with its own connection; all start together."""
    headers = {
        "Authorization": f"Bearer {network.api_key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    results, elapsed = common.fire(
        name,
        port=port,
        requests=[("POST", PATHS[attempt.direction], booking_body(network, attempt)) for attempt in attempts],
        headers=headers,
        threads=threads,
    )
    if len(results) != len(attempts):  # a client thread died: which attempt each answer is for is lost
        sys.exit(f"bench: {name}: {len(attempts) - len(results)} of {len(attempts)} answers lost")
    return tally(name, threads=threads, elapsed=elapsed, attempts=attempts, results=results)


def tally(name: str, *, threads: int, elapsed: float, attempts: list[Attempt], results: list[common.Result]) -> Round:
    """The round's answers, whole and by direction; `results` in the order of `attempts`."""
    outcome = Round(name=name, threads=threads, elapsed=elapsed, tried=attempts)
    for attempt, (status, latency, finished, payload) in zip(attempts, results, strict=True):
        code = _reference(payload) if status == 201 else _answer_code(status, payload)
        outcome.add(status, latency, finished, code)
        outcome.part(attempt.direction).add(status, latency, finished, code)
        outcome.answers.append((status, code))
    return outcome


def _statuses(outcome: Round) -> str:
    return ", ".join(f"{direction} {dict(part.statuses)}" for direction, part in outcome.parts.items())


# --- The ledger ------------------------------------------------------------------------------------------


@dataclass
class Ledger:
    departures: int
    capacity_teu: int
    booked_teu: int
    overbooked_teu: int
    confirmed_bookings: int  # of the departures' direction
    confirmed_teu: int
    other_bookings: int  # drafts or cancellations left on these departures: a refusal must leave nothing
    other_direction: int  # bookings of the other direction on these departures: there can be none


def ledger(references: list[str], direction: str) -> Ledger:
    from django.db.models import Count, Sum

    from bookings.models import HOLDS_CAPACITY, Booking
    from stations.models import Departure

    departures = list(Departure.objects.filter(reference__in=references))
    bookings = Booking.objects.filter(departure__in=departures)
    holding = bookings.filter(status__in=HOLDS_CAPACITY, direction=direction).aggregate(n=Count("id"), teu=Sum("teu"))
    return Ledger(
        departures=len(departures),
        capacity_teu=sum(d.capacity_teu for d in departures),
        booked_teu=sum(d.booked_teu for d in departures),
        overbooked_teu=sum(max(0, d.booked_teu - d.capacity_teu) for d in departures),
        confirmed_bookings=holding["n"],
        confirmed_teu=holding["teu"] or 0,
        other_bookings=bookings.exclude(status__in=HOLDS_CAPACITY).count(),
        other_direction=bookings.exclude(direction=direction).count(),
    )


@dataclass
class Arrivals:
    """What became of the announced containers a round's import attempts named."""

    confirmed: int = 0  # import attempts answered 201
    linked: int = 0  # of them, the container's announcement linked to the booking answered, which carries it
    unconfirmed: int = 0  # import attempts answered otherwise
    unbooked: int = 0  # of them, the container's announcement left without a booking


def arrivals(network: Network, outcome: Round) -> Arrivals:
    from bookings.models import HOLDS_CAPACITY, Container
    from inbound.models import ArrivingContainer

    answered = [(attempt.number, status, code) for attempt, (status, code) in zip(outcome.tried, outcome.answers,
                                                                                   strict=True)
                if attempt.direction == IMPORT]
    rows = {row.number: row for row in ArrivingContainer.objects.select_related("booking").filter(
        vessel_call__reference=network.arrived_call, number__in=[number for number, _s, _c in answered])}
    carried = set(Container.objects.filter(booking_id__in={row.booking_id for row in rows.values()},
                                           number__in=list(rows), is_active=True).values_list("booking_id", "number"))
    found = Arrivals()
    for number, status, reference in answered:
        row = rows.get(number)
        if status == 201:
            found.confirmed += 1
            found.linked += bool(row is not None and row.booking is not None and row.booking.reference == reference
                                 and row.booking.direction == IMPORT and row.booking.status in HOLDS_CAPACITY
                                 and (row.booking_id, number) in carried)
        else:
            found.unconfirmed += 1
            found.unbooked += bool(row is not None and row.booking_id is None)
    return found


# --- The report ------------------------------------------------------------------------------------------


def _codes(outcome: Round) -> str:
    return ", ".join(f"{code} x{n}" for code, n in outcome.codes.most_common()) or "-"


def _departures(entry: Ledger) -> str:
    return f"{entry.departures} x {entry.capacity_teu // entry.departures}" if entry.departures else "-"


def report(
    *,
    network: Network,
    contended: Round,
    uncontended: Round,
    ledgers: dict[tuple[str, str], Ledger],
    found: dict[str, Arrivals],
    log_path: Path,
    setup: dict[str, str],
) -> list[str]:
    """Print the figures; return the problems that make the run fail (empty when it passes). `ledgers`: by (kind,
    direction); `found`: the import attempts' containers, by kind."""
    problems: list[str] = []
    directions = network.directions()
    print()
    print(f"P2 Booking under contention - run {network.run_id}")
    for label, value in setup.items():
        print(f"  {label:<12} {value}")
    print()
    hot = " + ".join(f"{ledgers['contended', d].capacity_teu}" for d in directions)
    rows = [
        ("departures", f"{len(directions)}: {hot} TEU",
         f"{sum(ledgers['uncontended', d].departures for d in directions)} x {UNCONTENDED_CAPACITY} TEU"),
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
    print(f"  {'whole mix':<18}{'contended':>20}{'uncontended':>20}")
    for label, left, right in rows:
        print(f"  {label:<18}{left!s:>20}{right!s:>20}")

    # The same by direction: each contended departure's sale and each direction's latencies.
    columns = [(outcome, kind, d) for outcome, kind in ((contended, "contended"), (uncontended, "uncontended"))
               for d in directions]
    by_direction = [
        ("departures x TEU", lambda o, k, d: _departures(ledgers[k, d])),
        ("attempts", lambda o, k, d: o.part(d).attempts),
        ("confirmed (201)", lambda o, k, d: o.part(d).confirmed),
        ("refused (409)", lambda o, k, d: o.part(d).refused),
        ("other 4xx", lambda o, k, d: o.part(d).other),
        ("5xx / dropped", lambda o, k, d: o.part(d).server_errors),
        ("last 201 at s", lambda o, k, d: f"{o.part(d).last_confirmed:.2f}"),
        ("latency p50 ms", lambda o, k, d: f"{o.part(d).percentile(50):.0f}"),
        ("latency p95 ms", lambda o, k, d: f"{o.part(d).percentile(95):.0f}"),
        ("latency max ms", lambda o, k, d: f"{o.part(d).percentile(100):.0f}"),
    ]
    print(f"  {'by direction':<18}" + "".join(f"{kind:>{14 * len(directions)}}"
                                                 for kind in ("contended", "uncontended")))
    print(f"  {'':<18}" + "".join(f"{d:>14}" for _o, _k, d in columns))
    for label, value in by_direction:
        print(f"  {label:<18}" + "".join(f"{value(o, k, d)!s:>14}" for o, k, d in columns))
    print(f"  answers other than 201, contended:   {_codes(contended)}")
    print(f"  answers other than 201, uncontended: {_codes(uncontended)}")

    def check(ok: bool, text: str) -> None:
        print(f"  [{'ok' if ok else 'FAIL'}] {text}")
        if not ok:
            problems.append(text)

    for d in directions:
        hot, part = ledgers["contended", d], contended.part(d)
        print()
        print(f"  Ledger of the contended {d} departure {network.departures['contended'][d][0]} (read back from "
              f"PostgreSQL)")
        print(f"    capacity {hot.capacity_teu} TEU, booked_teu {hot.booked_teu}, confirmed {d} TEU "
              f"{hot.confirmed_teu}")
        check(hot.overbooked_teu == 0, f"{d}: overbooked TEU = max(0, booked_teu - capacity) = {hot.overbooked_teu}")
        check(
            hot.confirmed_teu == hot.booked_teu,
            f"{d}: sum of the confirmed {d} bookings' TEU ({hot.confirmed_teu}) == booked_teu ({hot.booked_teu})",
        )
        check(
            hot.confirmed_bookings == part.confirmed,
            f"{d}: confirmed bookings in the database ({hot.confirmed_bookings}) == 201 answers ({part.confirmed})",
        )
        expected = min(part.attempts, hot.capacity_teu)
        check(
            part.confirmed == expected,
            f"{d}: 201 answers ({part.confirmed}) == min(attempts, capacity) ({expected}): no slot lost, none sold "
            f"twice",
        )
        check(hot.other_bookings == 0 and hot.other_direction == 0,
              f"{d}: refusals left no bookings behind ({hot.other_bookings} drafts/others), none of the other "
              f"direction ({hot.other_direction})")
    check(contended.server_errors == 0, f"contended: no 5xx or dropped connection ({contended.server_errors})")
    check(contended.other == 0 and contended.refused_otherwise == 0,
          f"contended: no answer other than 201 or 409 {REFUSAL} ({contended.other} others, "
          f"{contended.refused_otherwise} 409s of another code)")
    for d in directions:
        spread, part = ledgers["uncontended", d], uncontended.part(d)
        print(f"  Ledger of the {spread.departures} uncontended {d} departures")
        check(
            spread.overbooked_teu == 0 and spread.confirmed_teu == spread.booked_teu == part.confirmed
            and spread.other_direction == 0,
            f"{d}: booked_teu {spread.booked_teu} == confirmed {d} TEU {spread.confirmed_teu} == 201 answers "
            f"{part.confirmed}, overbooked {spread.overbooked_teu}, other direction {spread.other_direction}",
        )
    check(uncontended.server_errors == 0, f"uncontended: no 5xx or dropped connection ({uncontended.server_errors})")
    check(
        uncontended.confirmed == uncontended.attempts,
        f"every uncontended attempt confirmed ({uncontended.confirmed}/{uncontended.attempts})",
    )
    if IMPORT in directions:
        print(f"  The announced containers of {network.arrived_call}, one for each import attempt")
        for kind, imports in found.items():
            check(imports.linked == imports.confirmed,
                  f"{kind}: every confirmed import's container linked to its booking, which carries it "
                  f"({imports.linked}/{imports.confirmed})")
            check(imports.unbooked == imports.unconfirmed,
                  f"{kind}: every refused import's container left unbooked ({imports.unbooked}/{imports.unconfirmed})")

    print()
    # Confirmations against confirmations, over the whole mix: the rate at which the two departures sold out (their
    # confirmations over the time to the last of them) against the uncontended confirmations' rate. The refusals
    # after the sell-out are counted apart (attempts/s above): they are cheaper than confirmations and would flatter
    # the figure.
    fill = contended.last_confirmed
    fill_rate = len(contended.created_at) / fill if fill else 0.0
    ratio = fill_rate / uncontended.confirmed_per_second if uncontended.confirmed_per_second else 0.0
    verdict = "PASS" if ratio >= RATIO_GOAL else "FAIL"
    sold = " + ".join(f"{contended.part(d).confirmed} {d}" for d in directions)
    where = "the 2 contended departures" if len(directions) > 1 else "the contended departure"
    print(f"  confirmations: the {len(contended.created_at)} ({sold}) on {where} in {fill:.2f} s = {fill_rate:.1f}/s "
          f"against {uncontended.confirmed_per_second:.1f}/s uncontended = {ratio:.2f}  (goal >= {RATIO_GOAL}): "
          f"{verdict}")
    overbooked = sum(entry.overbooked_teu for entry in ledgers.values())
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
    parser.add_argument("--attempts", type=int, default=200,
                        help="booking attempts per round, exports and imports together (default 200)")
    parser.add_argument("--import-share", type=float, default=None,
                        help="of the attempts, imports; the contended TEU split alike (default: the generated "
                             "year's, BENCH_IMPORT_SHARE or a third)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, reported by their median (default 3)")
    parser.add_argument("--threads", type=int, default=50, help="client threads (default 50)")
    parser.add_argument("--capacity", type=int, default=50,
                        help="TEU of the contended departures together, the import one taking the import share "
                             "(default 50)")
    parser.add_argument("--workers", type=int, default=common.DEPLOYED_WORKERS,
                        help=f"gunicorn sync workers, 1 thread each (default {common.DEPLOYED_WORKERS}, as deployed)")
    parser.add_argument(
        "--warmup", type=int, default=50,
        help="bookings (of the same mix) on spare departures before measuring (default 50)"
    )
    args = parser.parse_args(argv)
    for name in ("attempts", "threads", "capacity", "workers", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup cannot be negative")
    if args.capacity > MAX_CAPACITY or args.warmup > MAX_CAPACITY:
        parser.error(f"--capacity and --warmup are at most {MAX_CAPACITY} TEU")
    try:
        from bench.generate import import_share_checked
    except ImportError:  # run as a script
        from generate import import_share_checked
    args.import_share = import_share_checked(parser, args.import_share)
    attempts = split(args.attempts, args.import_share)
    if attempts[EXPORT] and attempts[IMPORT] and args.capacity < 2:
        parser.error("--capacity must be at least 2 TEU: one departure of each direction is contended")
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

    share = args.import_share
    counts = {"warmup": split(args.warmup, share), "contended": split(args.attempts, share),
              "uncontended": split(args.attempts, share)}
    capacity = capacity_split(args.capacity, counts["contended"], share)
    run_id = uuid.uuid4().hex[:8]
    networks = [network_create(f"{run_id}{n}", counts=counts, capacity=capacity) for n in range(args.rounds)]
    from django.db import connection

    connection.close()  # the server's workers are the only clients while measuring
    departures = sum(len(refs) for kind in networks[0].departures.values() for refs in kind.values())
    print(f"bench: run {run_id}: {args.rounds} rounds of {departures} departures, "
          f"{counts['contended'][IMPORT]} of {args.attempts} attempts imports", flush=True)

    port = common.free_port()
    log_path = common.log_file(run_id)
    env = common.server_env(url, redis_url, **common.as_deployed())
    load = os.getloadavg()
    rounds = []
    with common.gunicorn_server(port=port, workers=args.workers, env=env, log_path=log_path, timeout=None):
        print(f"bench: gunicorn on 127.0.0.1:{port}, {args.workers} sync workers, as deployed", flush=True)
        if args.warmup:
            warm = fire("warmup", port=port, network=networks[0], attempts=attempts_of(networks[0], "warmup"),
                        threads=min(args.threads, args.warmup))
            print(f"bench: warm-up {_statuses(warm)} in {warm.elapsed:.2f} s", flush=True)
        for network in networks:
            contended = fire("contended", port=port, network=network, attempts=attempts_of(network, "contended"),
                             threads=args.threads)
            uncontended = fire("uncontended", port=port, network=network,
                               attempts=attempts_of(network, "uncontended"), threads=args.threads)
            print(f"bench: {network.run_id}: contended {_statuses(contended)} in {contended.elapsed:.2f} s, "
                  f"uncontended {_statuses(uncontended)} in {uncontended.elapsed:.2f} s", flush=True)
            rounds.append((network, contended, uncontended))

    hot = " + ".join(f"{capacity[d]} {d}" for d in DIRECTIONS if counts["contended"][d])
    setup = {
        "server": f"gunicorn {common.gunicorn_version()}, {args.workers} sync workers, DEBUG=0, its own timeout",
        "clients": f"{args.threads} threads, http.client, 1 x {SIZE_TYPE} (1 TEU) per attempt: exports confirm=true, "
                   f"imports one announced container each",
        "mix": f"{counts['contended'][IMPORT]} of {args.attempts} attempts imports (share {share:.2f}), interleaved "
               f"with the exports; contended TEU {hot}",
        "machine": f"{os.cpu_count()} CPUs; PostgreSQL {common.postgres_version()} ({database}); load average "
                   f"before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}",
        "warm-up": f"{args.warmup} bookings of the same mix before measuring",
    }
    problems = []
    for network, contended, uncontended in rounds:
        ledgers = {(kind, d): ledger(network.departures[kind][d], d)
                   for kind in ("contended", "uncontended") for d in network.directions()}
        found = {"contended": arrivals(network, contended), "uncontended": arrivals(network, uncontended)}
        problems += report(network=network, contended=contended, uncontended=uncontended, ledgers=ledgers,
                           found=found, log_path=log_path, setup=setup)
    figure = statistics.median(network.figure for network, _c, _u in rounds)
    overbooked = sum(network.overbooked for network, _c, _u in rounds)
    verdict = "PASS" if figure >= RATIO_GOAL and overbooked == 0 else "FAIL"
    print()
    print(f"  P2, median of {len(rounds)} rounds: confirmations under contention / uncontended = {figure:.2f}, "
          f"overbooked {overbooked} TEU, import share {share:.2f}  (goal >= {RATIO_GOAL}, 0 overbooked): {verdict}")
    common.result_line("P2", figure=figure, goal=f">= {RATIO_GOAL}, overbooked 0", passed=verdict == "PASS",
                       detail=f"overbooked TEU {overbooked}; import share {share:.2f}; rounds "
                              + ", ".join(f"{network.figure:.2f}" for network, _c, _u in rounds))
    print(f"bench: {time.monotonic() - began:.0f} s in all")
    if problems:
        print(f"bench: server log kept at {log_path}")
        return 1
    log_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
