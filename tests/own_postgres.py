"""A PostgreSQL of the test's own that it may stop and start mid-request: the embedded server of `make run`
(databases/embedded_db.py) in a temporary folder, migrated once per module (a few seconds).

`default_connection_to(server)` points this thread's default connection (the test's queries and the test
client's requests run on it) at the server, then back at the test database; processes a test starts reach it at
`server.url`. Rows written there are not rolled back: tests tell theirs apart by values of their own."""

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from django.db import close_old_connections, connections

from databases import embedded_db

ROOT = Path(__file__).resolve().parents[1]


def _names_a_live_process(lock: Path) -> bool:
    try:
        pid = int(lock.read_text().split()[0])
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (FileNotFoundError, ValueError, IndexError, psutil.NoSuchProcess):
        return False


def query(url: str, sql: str):
    """One statement at the URL, on a connection of its own, in autocommit; its first row (None without rows)."""
    import psycopg2

    connection = psycopg2.connect(url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone() if cursor.description else None
    finally:
        connection.close()


class OwnPostgres:
    def __init__(self, var: Path):
        self.var = var
        self.url = ""

    def start(self) -> str:
        """Start it; tried again when the last server's socket lock still names a process at its end (seen once
        on a loaded machine: the new postmaster refuses to start beside it)."""
        for attempt in range(3):
            try:
                self.url = embedded_db.start(self.var)
                return self.url
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise
                self._wait_for_the_socket_lock_to_go()
        return self.url

    def stop(self) -> None:
        assert embedded_db.stop(self.var), "the test's own PostgreSQL was not running"
        self._wait_for_the_socket_lock_to_go()

    def _wait_for_the_socket_lock_to_go(self, timeout: float = 60) -> None:
        """The postmaster removes its socket's lock file as it exits; a start beside it fails."""
        lock = embedded_db.data_dir(self.var) / f".s.PGSQL.{embedded_db.DEFAULT_PORT}.lock"
        deadline = time.monotonic() + timeout
        while lock.exists() and time.monotonic() < deadline:
            if not _names_a_live_process(lock):
                lock.unlink(missing_ok=True)  # left by a server that is gone for good
                break
            time.sleep(0.05)

    def running(self) -> bool:
        return embedded_db.is_running(self.var)

    def migrate(self) -> None:
        environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, capture_output=True,
            text=True, env={**environment, "DATABASE_URL": self.url}, timeout=600)
        assert migrated.returncode == 0, migrated.stderr[-3000:]

    def settings_for(self, saved: dict) -> dict:
        socket_dir, port = embedded_db.socket(self.var)
        return {**saved, "NAME": embedded_db.DATABASE, "USER": embedded_db.USER, "PASSWORD": "",
                "HOST": str(socket_dir), "PORT": str(port), "OPTIONS": {}}


@contextlib.contextmanager
def default_connection_to(server: OwnPostgres):
    connection = connections["default"]
    saved = connection.settings_dict
    connection.close()
    connection.settings_dict = server.settings_for(saved)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = saved


def served(call, *args, **kwargs):
    """A request as a web server makes it: Django's handler checks the kept connection before (and closes a
    failed one after) each request; the test client leaves that out, for the test transactions' sake."""
    close_old_connections()
    try:
        return call(*args, **kwargs)
    finally:
        close_old_connections()


def migrated_cluster(shared: Path) -> Path:
    """A stopped cluster of the embedded server, migrated: made once in `shared` by the first module that asks (a
    lock beside it makes the others wait) and copied by each module, which then starts its copy. Migrating a new
    cluster is 8 s of CPU, 25-35 s of a loaded run, for each of the four modules that run their own server."""
    import fasteners

    from tests.conftest import migrations_fingerprint

    template = shared / f"own-postgres-{hashlib.sha256(migrations_fingerprint().encode()).hexdigest()[:12]}"
    with fasteners.InterProcessLock(str(shared / "own-postgres-template.lock")):
        if not (template / "migrated").exists():
            shutil.rmtree(template, ignore_errors=True)
            maker = OwnPostgres(template)
            maker.start()
            try:
                maker.migrate()
            finally:
                maker.stop()
            (template / "migrated").touch()
    return embedded_db.data_dir(template)


@pytest.fixture(scope="module")
def own_postgres_server(tmp_path_factory):
    server = OwnPostgres(tmp_path_factory.mktemp("own-postgres"))
    # A session's workers share the folder above their own (pytest-xdist's basetemp is <session>/popen-gwN).
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    # As it is, owner included (as root the server's files are the `pgserver` user's).
    subprocess.run(["cp", "-a", str(migrated_cluster(shared)), str(embedded_db.data_dir(server.var))], check=True)
    server.start()
    try:
        yield server
    finally:
        embedded_db.stop(server.var)


@pytest.fixture
def on_own_postgres_server(own_postgres_server, django_db_blocker, outbox_committed_ids):
    """The test's queries and requests go to its own PostgreSQL (running at the start and at the end); nothing
    is relayed on commit (a worker of another test must never see these outbox rows)."""
    if not own_postgres_server.running():
        own_postgres_server.start()
    with django_db_blocker.unblock(), default_connection_to(own_postgres_server):
        yield own_postgres_server
    if not own_postgres_server.running():
        own_postgres_server.start()
