"""P8 DCSA poll: latency of DCSA Track & Trace `GET /v2/events` with filters, a year of events against 10,000.

    make bench-dcsa BENCH_SCALE=1       # bench/dcsa_poll.py --scale 1 --keys 1000

A partner system following its shipments polls `GET /api/dcsa/tnt/v2/events` with a filter: the events of a
booking (`carrierBookingReference`) or of a container (`equipmentReference`). The poll must not slow down as the
events table grows. As P3 (bench/track_lookup.py) does, on the same two tables of bench/generate.py (the year at
`--scale`, and the few days that make about 10,000 events), it draws `--keys` keys at random from each table
(half bookings, half containers, exports and imports in the year's proportion, each with an `events:read` key of
its shipper) and polls each once, so every
poll is cold as far as PostgreSQL's buffers go; one gunicorn per table as deployed (DEBUG=0, gunicorn.conf.py's
timeout), one client alternating between them. **Goal: p50 at the year <= 1.5 x p50 at 10,000 events**, for
both filters: the median of `--rounds` (3) rounds' ratios, each round an equal share of the keys.

Exit status 1 on an answer other than 200 with a JSON array of the key's events (each naming the booking, or
the container), or on a container's answer that is not every equipment event of the container its shipper may
read by the visibility rule as a whole (`--complete` keys a size, polled again after the timing: a poll decides
visibility for what the key's events name, and must miss nothing by it); the goal prints PASS/FAIL without
changing the exit status.

`--feed platform` polls the platform's own feed the same way, `GET /api/v1/events/?booking=` or `?container=` (a
page of up to 1,000 events), its answers checked as DCSA's are (a container's held equal to every event of the
container its shipper may read): not a goal of the issue, the same cold keys and sizes measuring what a partner
polling the platform's JSON meets (`make bench-dcsa BENCH_ARGS="--feed platform"`).
"""

import argparse
import json
import os
import sys
import time
import uuid
from urllib.parse import urlencode

try:
    from bench import common
    from bench.track_lookup import rounds_checked
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common
    from track_lookup import rounds_checked

RATIO_GOAL = 1.5
EVENTS_PATH = "/api/dcsa/tnt/v2/events"
PLATFORM_PATH = "/api/v1/events/"
NOT_POSTGRES = "This benchmark polls the DCSA feed of the year of traffic that bench/generate.py writes."


def poll(port: int, key) -> tuple[int, float, bytes]:
    """One poll for the key's events: by carrierBookingReference, or by equipmentReference."""
    from bench.track_lookup import get

    query = ({"carrierBookingReference": key.key} if key.kind == "booking"
             else {"equipmentReference": key.key, "eventType": "EQUIPMENT"})
    return get(port, f"{EVENTS_PATH}?{urlencode(query)}", key.api_key)


def platform_poll(port: int, key) -> tuple[int, float, bytes]:
    """One poll of the platform's feed for the key's events (`--feed platform`), a page of up to 1,000."""
    from bench.track_lookup import get

    query = {"booking": key.key} if key.kind == "booking" else {"container": key.key}
    return get(port, f"{PLATFORM_PATH}?{urlencode({**query, 'page_size': 1000})}", key.api_key)


def platform_problem(status: int, payload: bytes, key) -> str | None:
    if status != 200:
        return f"{key.key}: HTTP {status} {payload[:100].decode(errors='replace')}"
    events = json.loads(payload).get("results")
    if not isinstance(events, list) or not events:
        return f"{key.key}: no events"
    field = "booking_reference" if key.kind == "booking" else "equipment_reference"
    wrong = next((event[field] for event in events if event[field] != key.key), None)
    return None if wrong is None else f"{key.key}: an event of {wrong}"


def _discharged_for(event: dict, key) -> bool:
    """An import booking's container discharged from the vessel: the booking's step, though the event names no
    booking when the port discharged the box before its consignee booked it."""
    return (event.get("equipmentEventTypeCode") == "DISC" and event.get("equipmentReference") in key.boxes
            and (event.get("transportCall") or {}).get("modeOfTransport") == "VESSEL")


def answer_problem(status: int, payload: bytes, key) -> str | None:
    if status != 200:
        return f"{key.key}: HTTP {status} {payload[:100].decode(errors='replace')}"
    events = json.loads(payload)
    if not isinstance(events, list) or not events:
        return f"{key.key}: no events"
    for event in events:
        if key.kind == "container" and event.get("equipmentReference") != key.key:
            return f"{key.key}: an event of {event.get('equipmentReference')}"
        if key.kind == "booking" and key.key not in json.dumps(event) and not _discharged_for(event, key):
            return f"{key.key}: an event that does not name the booking"
    return None


# What each feed polls, how its answer is checked, and what the container's answer must equal (`completeness_checked`).
FEEDS = {
    "dcsa": {"poll": poll, "check": answer_problem, "events": lambda answer: answer, "id": "eventID",
             "name": "P8", "title": "DCSA poll", "equipment_only": True},
    "platform": {"poll": platform_poll, "check": platform_problem, "events": lambda answer: answer["results"],
                 "id": "event_id", "name": "P8 platform feed", "title": "the platform's feed polled",
                 "equipment_only": False},
}


def completeness_checked(ports: dict[int, int], samples: dict, generated: dict, count: int,
                         feed: str = "dcsa") -> list[tuple]:
    """Each size's first `count` container keys polled again (outside the timing) and their answers held equal to
    the container's events (DCSA's: its equipment events) that the visibility rule as a whole
    (tracking.visibility.events_visible, not the bound a poll decides it by) lets the key's shipper read: a poll
    must miss none of them. A (line, its failures) a size."""
    from bench.track_lookup import django_use_schema
    from intermodal.access import Actor
    from intermodal.codes import EventType
    from intermodal.models import Organisation
    from tracking.dcsa import EMITTABLE
    from tracking.visibility import events_visible

    spec, checked = FEEDS[feed], []
    for size, port in ports.items():
        django_use_schema(generated[size].schema)
        keys = [key for key in samples[size] if key.kind == "container"][:count]
        wrong = []
        for key in keys:
            status, _seconds, payload = spec["poll"](port, key)
            got = {event[spec["id"]] for event in spec["events"](json.loads(payload))} if status == 200 else set()
            actor = Actor(organisation=Organisation.objects.get(pk=key.shipper_id))
            visible = events_visible(actor=actor).filter(equipment_reference=key.key)
            if spec["equipment_only"]:
                visible = visible.filter(EMITTABLE).filter(event_type=EventType.EQUIPMENT)
            expected = {str(event_id) for event_id in visible.values_list("event_id", flat=True)}
            if got != expected:
                wrong.append(f"{key.key}: {len(expected - got)} of the rule's events missing, "
                             f"{len(got - expected)} not the rule's")
        checked.append((f"{size:,} events, container: {len(keys)} answers equal to the whole visibility rule's "
                        f"({len(wrong)} not)", wrong))
    return checked


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1, help="traffic of bench/generate.py (default 0.1)")
    parser.add_argument("--small", type=int, default=10_000, help="about this many events in the small table")
    parser.add_argument("--keys", type=int, default=1000, help="keys per size, each polled once (default 1,000)")
    parser.add_argument("--warmup", type=int, default=20, help="of them, polls per size before measuring (20)")
    parser.add_argument("--rounds", type=int, default=3, help="the measured polls in rounds: the ratio is the "
                        "median of theirs (default 3)")
    parser.add_argument("--workers", type=int, default=common.DEPLOYED_WORKERS,
                        help=f"gunicorn sync workers per server (default {common.DEPLOYED_WORKERS}, as deployed)")
    parser.add_argument("--complete", type=int, default=25,
                        help="container keys a size whose answers are held equal to the whole visibility rule's, "
                             "after the timing (default 25)")
    parser.add_argument("--feed", choices=sorted(FEEDS), default="dcsa",
                        help="dcsa (the goal's) or platform: GET /api/v1/events/ by booking and container")
    args = parser.parse_args(argv)
    feed = FEEDS[args.feed]
    rounds_checked(parser, args)
    common.exit_on_sigterm()
    url = common.database_url(NOT_POSTGRES)
    redis_url = common.redis_url()
    began = time.monotonic()
    common.ensure_database(url)
    common.django_setup(url, redis_url, migrate=False)
    from django.db import connection

    from bench import generate as traffic
    from bench.track_lookup import (
        answers_checked,
        django_use_schema,
        keys_mix,
        keys_sample,
        load_average,
        measure,
        measured,
        ratio_reported,
        search_path,
        sizes_table,
    )

    run_id = uuid.uuid4().hex[:8]
    generated, samples = {}, {}
    for days in (traffic.days_for_events(args.scale, args.small), 365):
        done = traffic.generate(url, args.scale, days=days)
        print(f"bench: {done.summary()}", flush=True)
        django_use_schema(done.schema)
        generated[done.events] = done
        samples[done.events] = keys_sample(run_id, args.keys, seed=0.375)
        connection.close()
    small, big = list(generated)
    ports = {small: common.free_port()}
    while (port := common.free_port()) == ports[small]:
        pass
    ports[big] = port
    logs = {size: common.log_file(run_id, f"dcsa-{size}") for size in generated}
    envs = {size: common.server_env(url, redis_url, PGOPTIONS=search_path(generated[size].schema),
                                    **common.as_deployed()) for size in generated}
    try:
        with (
            common.gunicorn_server(port=ports[small], workers=args.workers, env=envs[small], log_path=logs[small],
                                   timeout=None),
            common.gunicorn_server(port=ports[big], workers=args.workers, env=envs[big], log_path=logs[big],
                                   timeout=None),
        ):
            print(f"bench: gunicorn on {ports[small]} ({small:,}) and {ports[big]} ({big:,}); {args.keys} keys a size",
                  flush=True)
            load_before = os.getloadavg()
            series = measure(ports, samples, warmup=args.warmup, rounds=args.rounds, ask=feed["poll"],
                             check=feed["check"])
            load = os.getloadavg()
            complete = completeness_checked(ports, samples, generated, args.complete, args.feed)
    except BaseException:
        for path in logs.values():
            print(f"bench: server log kept at {path}")
        raise
    print()
    print(f"{feed['name']}: {feed['title']}, cold keys - run {run_id}")
    print(f"  server       gunicorn {common.gunicorn_version()}, {args.workers} sync workers, DEBUG=0, one per size")
    print(f"  machine      {common.machine()}; {load_average(load_before, load)}")
    print(f"  polls        {measured(samples, args.warmup)} per size measured in {args.rounds} rounds, after "
          f"{args.warmup} to warm each server up")
    print(f"  keys         year: {keys_mix(samples[big])} (both directions, as the year holds them)")
    print()
    sizes_table(series, generated, "polls measured")
    print()
    problems = answers_checked(series, generated, "the key's events", args.rounds)
    for text, wrong in complete:
        print(f"  [{'ok' if not wrong else 'FAIL'}] {text}")
        for failure in wrong[:3]:
            print(f"         {failure}")
        if wrong:
            problems.append(text)
    print()
    for kind in ("booking", "container"):
        ratio_reported(f"{feed['name']} {kind}", "poll", series, generated, kind, args.rounds, RATIO_GOAL)
    print()
    print("RESULT:", "FAIL - " + "; ".join(problems) if problems else "ok (every poll answered its key's events)")
    print(f"bench: {time.monotonic() - began:.0f} s in all")
    if problems:
        return 1
    for path in logs.values():
        path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
