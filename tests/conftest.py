"""Suite-wide set-up: the suite runs against real PostgreSQL and Redis, and says so at once if they are down.

It runs in parallel (pytest-xdist, `make test`): each worker has its own test database (pytest-django names them
test_<name>_gw0, _gw1, ...) and its own Redis database (the number in REDIS_URL plus the worker's index), so
cache counts, broker queues and in-process Celery workers of one never meet another's. Test databases are kept
between runs (`--reuse-db`) and made again when the migrations differ from those they were made with."""

import contextlib
import functools
import hashlib
import os
import socket
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.utils import translation
from rest_framework.test import APIClient

from intermodal.access import Actor
from intermodal.models import PartyKind
from stations.models import Departure
from tests import factories

START_HINT = (
    "Start it with `{local}`, or `docker compose up -d db redis` and point {var} at it (see README.md)."
)


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def pytest_sessionstart(session):
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.exit("The suite runs against PostgreSQL: run `make test`, or set DATABASE_URL=postgres://...", 2)
    if not _answers(database_url, 5432):
        pytest.exit(
            f"PostgreSQL does not answer at {database_url}. "
            + START_HINT.format(
                local="pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", var="DATABASE_URL"
            ),
            2,
        )
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        pytest.exit("The suite needs Redis: run `make test`, or set REDIS_URL=redis://...", 2)
    if not _answers(redis_url, 6379):
        pytest.exit(
            f"Redis does not answer at {redis_url}. "
            + START_HINT.format(
                local='redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
                var="REDIS_URL",
            ),
            2,
        )


# --- Parallel workers: a Redis database each --------------------------------------------------------------

REDIS_DATABASES = 16  # redis-server's default `databases`


def worker_index() -> int:
    """0 for gw0 or a run without xdist, 1 for gw1, ..."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else 0


def redis_url_of_worker(url: str, index: int) -> str:
    parsed = urlparse(url)
    base = int(parsed.path.strip("/") or 0)
    return urlunparse(parsed._replace(path=f"/{(base + index) % REDIS_DATABASES}"))


def pytest_configure(config):
    """Point this worker's cache and broker (and the processes its tests start) at its own Redis database. Django
    settings are loaded by now but no cache or broker connection is made yet."""
    _local_receivers_and_lookups()
    _offline_names()
    _transactional_teardown_by_delete()
    index = worker_index()
    shared = os.environ.get("REDIS_URL", "")
    if not index or not shared.startswith(("redis://", "rediss://")):
        return
    own = redis_url_of_worker(shared, index)
    os.environ["REDIS_URL"] = own
    for cache in settings.CACHES.values():
        if cache.get("LOCATION") == shared:
            cache["LOCATION"] = own
    from intermodal.celery import app as celery_app

    for name, setting in (("broker_url", "CELERY_BROKER_URL"), ("result_backend", "CELERY_RESULT_BACKEND")):
        if getattr(settings, setting, None) == shared:
            setattr(settings, setting, own)
            celery_app.conf[name] = own


def _local_receivers_and_lookups() -> None:
    """Webhook tests post to real HTTP receivers on 127.0.0.1, which the egress guard refuses unless it is named
    (WEBHOOK_ALLOWED_NETWORKS; the worker processes the tests start read it from the environment). Tests that
    look up the public tracking page many times from the test client's one address are not the guessing the page's
    per-address limit is for; tests/tracking/test_public_throttle.py sets a low rate of its own."""
    os.environ.setdefault("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
    settings.WEBHOOK_ALLOWED_NETWORKS = os.environ["WEBHOOK_ALLOWED_NETWORKS"].split(",")
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["public_tracking"] = "100000/min"


def _offline_names() -> None:
    """The egress guard resolves every webhook host name when it is subscribed and sent to. This machine has no
    internet, so a name the tests use (hooks.example, erp.example, a fuzzed host) never resolves; asking the
    machine's resolver only adds its stalls (up to seconds for one look-up, at random). In this process names
    are answered as that resolver would answer them, without asking it: an address literal is itself, localhost
    is the loopback, any other name does not resolve. tests/notifications/test_egress.py scripts answers of its
    own; the worker processes the tests start keep the real resolver."""
    from notifications import egress

    def resolve(host: str, port: int) -> list[str]:
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                socket.inet_pton(family, host.split("%", 1)[0])
                return [host]
            except OSError:
                continue
        if host.lower().rstrip(".") == "localhost":
            return ["127.0.0.1", "::1"]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    egress.resolve = resolve


def _distinct_node_ids(items) -> None:
    """Schemathesis names its tests `test_x[GET /path]`, but under pytest 9 their node ids lose the operation
    (pytest builds a Function's id from its callspec, and Schemathesis' items have none): 65 tests with one id,
    which pytest-xdist would run as one. The operation goes back into the id, as pytest 8 had it."""
    seen: dict[str, int] = {}
    for item in items:
        seen[item.nodeid] = seen.get(item.nodeid, 0) + 1
    for item in items:
        node_id = getattr(item, "_id", None)
        if seen[item.nodeid] > 1 and node_id is not None and node_id.params is None and item.name.endswith("]"):
            item._id = node_id.with_params(item.name.partition("[")[2][:-1])


def _group_by_shared_fixtures(items) -> None:
    """Tests that share a fixture built once per module or class (a world of parties, the demo network, an
    embedded PostgreSQL) go to one worker, so that it is built once."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        for name in info.names_closure:
            definitions = info.name2fixturedefs.get(name)
            # The suite's own fixtures (a plugin's have no baseid, e.g. pytest-django's class-scoped no-op).
            if definitions and definitions[-1].baseid and definitions[-1].scope in ("module", "class", "package"):
                item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
                break


def _group_suffixes(items) -> None:
    """pytest-xdist's `--dist loadgroup` finds a test's group in its node id (`...@group`), which it writes to
    `item._nodeid`; pytest 9 keeps the id in `item._id`, so the groups were ignored. Written where pytest 9 reads
    it (nothing to do where xdist's own suffix shows)."""
    try:
        from _pytest.nodeid import NodeId  # pytest 9
    except ImportError:  # pytest 8: xdist's own suffix works
        return
    for item in items:
        names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                        for mark in item.iter_markers("xdist_group")})
        suffix = f"@{'_'.join(names)}"
        if names and getattr(item, "_id", None) is not None and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """In `make test`'s workers (`-n N --dist loadgroup`): distinct ids, the groups, and the browser tests (the
    longest ones, put last by pytest-django with the other transactional tests) scheduled early instead of
    keeping one worker busy after the others are done. xdist hands out the biggest groups first."""
    _distinct_node_ids(items)
    if not getattr(config.option, "loadgroup", False):  # set in xdist's workers only
        return
    _group_by_shared_fixtures(items)
    _group_suffixes(items)
    items.sort(key=lambda item: item.get_closest_marker("browser") is None)


# --- Transactional tests end with their tables emptied by DELETE, not by flush ------------------------------

# Written by migrate (post_migrate: content types, permissions) and left as they are: flush empties them and makes
# them again at every transactional test.
_KEPT_TABLES = frozenset({"django_content_type", "auth_permission"})


@functools.cache
def _emptied_tables(alias: str) -> tuple[str, ...]:
    from django.db import connections

    tables = connections[alias].introspection.django_table_names(only_existing=True, include_views=False)
    return tuple(sorted(set(tables) - _KEPT_TABLES))


def _fixture_teardown_by_delete(self):
    """A transactional test's end (pytest-django's `transactional_db`, `live_server`): the rows of every model's
    table deleted, in one transaction with triggers and foreign-key checks off (`session_replication_role`), where
    Django's flush truncated every table and then ran post_migrate - content types, permissions and the audit
    triggers made again (audit/apps.py) - 1.3-2.9 s a test, for 119 tests of the suite. The same tables end up as
    empty as flush leaves them, those post_migrate writes excepted, which stay as migrate made them."""
    from django.db import connections, transaction

    for alias in self._databases_names(include_mirrors=False):
        connection = connections[alias]
        tables = _emptied_tables(alias)
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("; ".join(f"DELETE FROM {connection.ops.quote_name(table)}"  # noqa: S608 - the models' tables
                                     for table in tables))


def _transactional_teardown_by_delete() -> None:
    from django.test import TransactionTestCase

    TransactionTestCase._fixture_teardown = _fixture_teardown_by_delete


# --- Test databases kept between runs, made again when the migrations change -----------------------------

FINGERPRINT = "intermodal-test-migrations:"


@functools.cache
def migrations_fingerprint() -> str:
    """A hash of every migration Django would apply (app, name and the file's bytes): another migration, an edited
    one or one gone (another branch) changes it. `migrate` on a kept database applies new migrations only."""
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        digest.update(f"{app}.{name}\n".encode())
        module = sys.modules.get(type(migration).__module__)
        if module is not None and getattr(module, "__file__", None):
            digest.update(Path(module.__file__).read_bytes())
    return FINGERPRINT + digest.hexdigest()


def _test_database_comment() -> tuple[str, str | None] | None:
    """The test database's name and its comment, or None when it does not exist."""
    from django.db import connection

    name = connection.creation._get_test_db_name()
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name])
        row = cursor.fetchone()
    return (name, row[0]) if row else None


@pytest.fixture(scope="session")
def django_db_createdb(request, django_db_modify_db_settings, django_db_blocker):
    """`--create-db`, or a kept test database (`--reuse-db`) made from other migrations than today's."""
    if request.config.getvalue("create_db"):
        return True
    if not request.config.getvalue("reuse_db"):
        return False
    with django_db_blocker.unblock():
        found = _test_database_comment()
    stale = found is not None and found[1] != migrations_fingerprint()
    if stale:
        sys.stderr.write(f"\n{found[0]}: made from other migrations than these, made again\n")
    return stale


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, django_db_keepdb, django_db_createdb):
    """After pytest-django's set-up: a kept database is emptied (a run stopped in the middle of a transactional
    test leaves its rows behind) and marked with the fingerprint of the migrations it now has."""
    from django.core.management import call_command
    from django.db import connection

    with django_db_blocker.unblock():
        if django_db_keepdb and not django_db_createdb:
            call_command("flush", interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(f"COMMENT ON DATABASE {connection.ops.quote_name(connection.settings_dict['NAME'])} "
                           f"IS %s", [migrations_fingerprint()])
    yield


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """The suite creates and signs in many users: PBKDF2's deliberate slowness is for attackers, not for tests
    (it made each user cost about a second on a busy machine). For the whole session, so that the users a module's
    or a class's fixture makes, before any test's own fixtures, are quick too (the permission matrix's world spent
    5.5 of its 7 s hashing its 17 users' passwords). The live server of the browser tests runs in this process, so
    it checks passwords with the same hasher; processes a test starts (a worker, gunicorn) use the deployed one."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def language_reset():
    """Each test ends in no language of its own: a request asked in Chinese through the test client (the
    LocaleMiddleware activates its language for the thread) otherwise left the next test's text in Chinese."""
    yield
    translation.deactivate()


@contextlib.contextmanager
def rolled_back(django_db_blocker):
    """A module's (or a class's) fixture writes what its tests share inside this, once: a transaction rolled back
    at the fixture's end. The tests run inside it (each test's own transaction is a savepoint in it), so what a
    test writes goes with the test and what the fixture wrote with the module."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def demo_seeded(django_db_setup, django_db_blocker):
    """`seed_demo --quiet` written once for a module's tests (it is seconds of work), rolled back at its end."""
    import io

    from django.core.management import call_command

    with rolled_back(django_db_blocker):
        call_command("seed_demo", "--quiet", stdout=io.StringIO())
        yield


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def network(db):
    """A small network: two stations, a terminal, a daily rail service, departures and a vessel call."""
    return factories.small_network()


def party(code: str, username: str) -> SimpleNamespace:
    """An enterprise with one person: its org, user and actor."""
    org = factories.organisation(PartyKind.ENTERPRISE, code=code)
    person = factories.user(org, username=username)
    return SimpleNamespace(org=org, user=person, actor=Actor(organisation=org, user=person))


def connecting_of(network) -> SimpleNamespace:
    """The first Yiwu departure that still makes the network's vessel call, and the call."""
    departure = (
        Departure.objects.filter(
            service=network.yiwu_rail, planned_arrival__lte=network.vessel_call.latest_arrival_for()
        )
        .select_related("service__station", "service__terminal")
        .order_by("-planned_departure")
        .first()
    )
    return SimpleNamespace(departure=departure, vessel_call=network.vessel_call, network=network)


@pytest.fixture
def shipper(db):
    return party("shipper-a", "alice")


@pytest.fixture
def other_shipper(db):
    return party("shipper-b", "bob")


@pytest.fixture
def connecting(network):
    return connecting_of(network)


@pytest.fixture
def outbox_committed_ids():
    """What the event core announces after each commit that wrote outbox rows (its `outbox_committed` signal), in
    place of the notifications relay, which is disconnected for the test and connected again after it."""
    from intermodal.events import outbox_committed
    from intermodal.models import OutboxMessage
    from notifications.relay import relay_trigger

    seen: list[list[int]] = []

    def hear(sender, *, outbox_ids, **signal):
        seen.append(outbox_ids)

    outbox_committed.disconnect(sender=OutboxMessage, dispatch_uid="notifications.relay")
    outbox_committed.connect(hear, sender=OutboxMessage, weak=False)
    yield seen
    outbox_committed.disconnect(hear, sender=OutboxMessage)
    outbox_committed.connect(relay_trigger, sender=OutboxMessage, dispatch_uid="notifications.relay")
