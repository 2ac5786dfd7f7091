"""What the benchmarks share: the PostgreSQL database, gunicorn, HTTP clients, percentiles and rows for a run.

Every benchmark under bench/ runs the platform as it is deployed: it creates its database when missing and
migrates it, makes fresh rows whose codes carry a run id (so reruns never collide), serves the app with
gunicorn on a free port of 127.0.0.1 (stopped however the script ends) and talks to it with stdlib
`http.client` from client threads.
"""

import contextlib
import http.client
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/intermodal_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql", "postgis"}


# --- Database --------------------------------------------------------------------------------------------


def database_url(why: str) -> str:
    """DATABASE_URL (or the bench default); exits when it is not PostgreSQL, saying `why` it must be."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0].lower()
    if scheme not in POSTGRES_SCHEMES:
        sys.exit(
            f"bench: DATABASE_URL must be a PostgreSQL URL, not {scheme or url!r}. {why} "
            f"Default: {DEFAULT_DATABASE_URL}"
        )
    if not parts.path.strip("/"):
        sys.exit(f"bench: DATABASE_URL names no database: {url}")
    return url


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.strip("/"))


def connect(url: str, *, dbname: str | None = None, options: str | None = None):
    """A plain psycopg2 connection to the database of `url` (or `dbname`), outside Django."""
    import psycopg2

    parts = urlsplit(url)
    params = {
        "dbname": dbname or database_name(url),
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "host": parts.hostname or None,
        "port": parts.port or None,
    }
    if options:
        params["options"] = options
    return psycopg2.connect(**params)


def ensure_database(url: str) -> bool:
    """Create the database named in `url` when it does not exist yet; True when it was created."""
    from psycopg2 import sql

    name = database_name(url)
    connection = connect(url, dbname="postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is not None:
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        connection.close()


def django_setup(url: str, redis: str, *, migrate: bool = True) -> None:
    """Django in this process, on the bench database; migrated unless `migrate` is False."""
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = redis
    os.environ["DEBUG"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intermodal.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    if migrate:
        call_command("migrate", verbosity=0, interactive=False)


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def exit_on_sigterm() -> None:
    """A plain `kill` must still stop the server: turn SIGTERM into SystemExit so the `finally` blocks run."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


# --- Rows for a run --------------------------------------------------------------------------------------


@dataclass
class Parties:
    """One of each party a journey needs, every code carrying the run id."""

    run_id: str
    railway: object
    port: object
    operator: object  # the station operator
    shipper: object
    user: object  # a person of the shipper


def parties_create(run_id: str) -> Parties:
    from intermodal.models import PartyKind
    from tests import factories

    railway = factories.organisation(PartyKind.RAILWAY, code=f"bench-{run_id}-railway")
    port = factories.organisation(PartyKind.PORT, code=f"bench-{run_id}-port")
    operator = factories.organisation(PartyKind.STATION_OPERATOR, code=f"bench-{run_id}-station")
    shipper = factories.organisation(PartyKind.ENTERPRISE, code=f"bench-{run_id}-shipper")
    user = factories.user(shipper, username=f"bench-{run_id}")
    return Parties(run_id=run_id, railway=railway, port=port, operator=operator, shipper=shipper, user=user)


def api_key_create(organisation, *, name: str, scopes: list[str], created_by=None) -> str:
    """A new API key of `organisation` with `scopes`; returns the raw key to send as a Bearer token."""
    from intermodal.access import api_key_create as create

    _key, raw_key = create(organisation=organisation, name=name, scopes=scopes, created_by=created_by)
    return raw_key


def station_and_terminal(parties: Parties):
    """A station run by the parties' station operator and a terminal of their port company."""
    from tests import factories

    run_id = parties.run_id
    station = factories.station(f"b{run_id}-st", operator=parties.operator, name=f"Bench station {run_id}")
    terminal = factories.terminal(f"b{run_id}-tm", operator=parties.port, name=f"Bench terminal {run_id}")
    return station, terminal


def departure_build(service, day: date, capacity_teu: int | None = None):
    """An unsaved departure of `service` on `day` (the product's own builder), optionally resized."""
    from stations.services import departure_build as build

    built = build(service=service, service_date=day)
    if capacity_teu is not None:
        built.capacity_teu = capacity_teu
    return built


def departures_create(service, first_day: date, count: int, capacity_teu: int | None = None) -> list:
    """`count` departures of `service` on consecutive days from `first_day`, in one INSERT."""
    from stations.models import Departure

    built = [departure_build(service, first_day + timedelta(days=n), capacity_teu) for n in range(count)]
    return Departure.objects.bulk_create(built)


# --- The server ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_version() -> str:
    import gunicorn

    return gunicorn.__version__


def log_file(run_id: str, name: str = "bench") -> Path:
    """An empty temporary file for the server's log."""
    fd, log_name = tempfile.mkstemp(prefix=f"intermodal-{name}-{run_id}-", suffix=".log")
    os.close(fd)
    return Path(log_name)


def server_env(url: str, redis: str, **extra: str) -> dict[str, str]:
    """The environment gunicorn runs with: this one, pointed at the bench database and Redis. The rate limits
    are lifted (as bench/fuzz.sh does): one client sending a thousand requests a second is what a benchmark is,
    and a 429 is answered faster than the work it measures (P5 on a quiet machine: 60 % 429s at 12,000/min)."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis,
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "intermodal.settings",
        "PYTHONUNBUFFERED": "1",
        "THROTTLE_RATE_KEY": "100000000/min",
        "THROTTLE_RATE_USER": "100000000/min",
        "THROTTLE_RATE_ANON": "100000000/min",
        **extra,
    }


def as_deployed() -> dict[str, str]:
    """What server_env adds for a process that runs as deployed: DEBUG off (no query log: Django's debug cursor
    keeps every statement's text, a relay's INSERT of 400 deliveries is 250 KB), a secret key of its own, plain
    HTTP on loopback (no TLS redirect, no HSTS)."""
    return {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64), "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0"}


def tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def http_get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


# The web server's workers as deployed: docker/entrypoint.sh's `${WEB_CONCURRENCY:-3}` (tests/test_deployment.py holds
# them equal), every benchmark's gunicorn by default. On this two-core machine, with PostgreSQL beside gunicorn, 2
# workers gave P5 a tenth more cold look-ups a second than 3 (docs/PERFORMANCE.md): a benchmark does not pick what
# flatters it.
DEPLOYED_WORKERS = 3


@contextlib.contextmanager
def gunicorn_server(*, port: int, workers: int, env: dict[str, str], log_path: Path, timeout: int | None = 120):
    """gunicorn serving intermodal.wsgi on 127.0.0.1:port until the block ends, however it ends. `timeout`: a
    worker's, in seconds; None keeps gunicorn.conf.py's, the one deployed (30 s)."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "intermodal.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--threads",
        "1",
        *(("--timeout", str(timeout)) if timeout is not None else ()),
        "--graceful-timeout",
        "10",
        "--chdir",
        str(ROOT),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{tail(log_path)}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_get(port, "/healthz") == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{tail(log_path)}")
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def server_errors(log_path: Path) -> Counter:
    """The exceptions the server logged (last line of each traceback), for when there were 5xx."""
    found: Counter = Counter()
    with contextlib.suppress(OSError):
        for line in log_path.read_text(errors="replace").splitlines():
            match = re.match(r"^([A-Za-z_][\w.]*(?:Error|Exception|Detected|Failure)\w*): (.*)$", line)
            if match:
                found[f"{match.group(1)}: {match.group(2)[:100]}"] += 1
    return found


# --- The clients -----------------------------------------------------------------------------------------

# One answer: HTTP status (0 for a dropped connection), latency in s, s from the start to its end, body.
Result = tuple[int, float, float, bytes]


def fire(
    name: str,
    *,
    port: int,
    requests: list[tuple[str, str, bytes | None]],
    headers: dict[str, str],
    threads: int,
    timeout: float = 120,
) -> tuple[list[Result], float]:
    """Send every (method, path, body) from `threads` client threads, each with its own connection; all start
    together. Returns the answers in the order of `requests`, and the seconds from the start to the last one."""
    results: list[Result | None] = [None] * len(requests)
    pending = iter(range(len(requests)))
    take = threading.Lock()
    gate = threading.Barrier(threads + 1)
    clock = {"start": 0.0}

    def client() -> None:
        # http.client keeps the connection open when the server allows it and reconnects when it does not
        # (gunicorn's sync workers answer `Connection: close`).
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        gate.wait()
        try:
            while True:
                with take:
                    index = next(pending, None)
                if index is None:
                    return
                method, path, body = requests[index]
                began = time.perf_counter()
                try:
                    connection.request(method, path, body=body, headers=headers)
                    response = connection.getresponse()
                    payload, status = response.read(), response.status
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()
                    payload, status = f"{type(exc).__name__}: {exc}".encode(), 0
                ended = time.perf_counter()
                results[index] = (status, ended - began, ended - clock["start"], payload)
        finally:
            connection.close()

    pool = [threading.Thread(target=client, name=f"{name}-{n}", daemon=True) for n in range(threads)]
    for thread in pool:
        thread.start()
    clock["start"] = time.perf_counter()
    gate.wait()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - clock["start"]
    return [result for result in results if result is not None], elapsed


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0-100); NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def machine() -> str:
    from django.db import connection

    return f"{os.cpu_count()} CPUs; PostgreSQL {postgres_version()} ({connection.settings_dict['NAME']})"


# The events table's size on disk, indexes included: the sum of its partitions' (intermodal migration 0011; the
# partitioned table itself holds nothing).
EVENTS_SIZE_SQL = ("SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)::bigint FROM pg_inherits "
                   "WHERE inhparent = 'intermodal_event'::regclass")

# The columns of intermodal_event a benchmark writes itself (raw INSERT, COPY), in one order for all of them.
EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "event_code",
    "classifier",
    "event_datetime",
    "created_at",
    "location_unlocode",
    "facility_kind",
    "facility_code",
    "mode_of_transport",
    "transport_reference",
    "equipment_reference",
    "empty_indicator",
    "booking_reference",
    "document_type",
    "document_reference",
    "reason",
    "details",
    "reported_by_organisation_id",
    "reported_by_user_id",
)


def result_line(bench_id: str, *, figure: float, goal: str, passed: bool, detail: str = "") -> None:
    """The machine-readable line `make bench` (bench/run_all.py) reads a benchmark's figure from."""
    import json

    record = {"id": bench_id, "figure": round(figure, 3), "goal": goal, "pass": passed, "detail": detail}
    print("BENCH-RESULT " + json.dumps(record), flush=True)


def cpu_seconds(trees: dict[str, int]) -> dict[tuple[int, str], float]:
    """CPU time (user + system, seconds) of each process of the groups a request costs, read from /proc (Linux):
    each of `trees` (a group's name, the process whose children are counted with it: gunicorn's master, Celery's),
    PostgreSQL's processes ("postgres") and Redis's ("redis")."""
    tick = os.sysconf("SC_CLK_TCK")
    roots = {pid: group for group, pid in trees.items()}
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        pid, parent = int(entry.name), int(fields[1])
        group = (roots.get(pid) or roots.get(parent) or ("postgres" if name == "postgres" else None)
                 or ("redis" if name.startswith("redis-server") else None))
        if group is not None:
            found[(pid, group)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def cpu_spent(before: dict, after: dict, groups) -> dict[str, float]:
    """Seconds of CPU each group spent between two readings (a process that ended in between is not counted)."""
    spent = dict.fromkeys(groups, 0.0)
    for (pid, group), seconds in after.items():
        spent[group] += seconds - before.get((pid, group), 0.0)
    return spent


def tables_vacuumed(tables) -> None:
    """VACUUM (ANALYZE) the tables, as autovacuum would have done by now: the PostgreSQL of these machines runs
    without it (autovacuum = off), and a run's deleted rows and stale statistics would otherwise weigh on the next
    (P6: a few runs' dead deliveries took its rate from 0.8 to 0.67; P1: the outbox's index of unprocessed rows
    held 20 MB of dead entries that every relay claim walked)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
