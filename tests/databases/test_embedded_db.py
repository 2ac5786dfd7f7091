"""`make run`'s embedded PostgreSQL (databases/embedded_db.py): a real server from the wheel that stops
completely and starts again on its data, even after a kill -9.

No Django database: these tests start their own server in a temporary folder (a few seconds in all)."""

import os
import signal
import time

import psutil
import pytest

from databases import embedded_db
from tests.own_postgres import query


def postmaster_pid(var) -> int:
    return int((embedded_db.data_dir(var) / "postmaster.pid").read_text().split()[0])


def gone(pid: int, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def var(tmp_path_factory):
    """One data folder for the module: initdb is most of a start (1.5 s on an idle 2-core machine)."""
    folder = tmp_path_factory.mktemp("var")
    yield folder
    embedded_db.stop(folder)


def test_starts_a_postgresql_on_a_socket_in_var_and_stops_it(var):
    url = embedded_db.start(var)

    assert url == embedded_db.url(var)
    assert "@/intermodal?host=" in url  # a unix socket, no TCP port to clash with another PostgreSQL
    (version,) = query(url, "select version()")
    assert version.startswith("PostgreSQL ")
    pid = postmaster_pid(var)
    assert embedded_db.is_running(var)
    assert embedded_db.start(var) == url  # a second start uses the running server
    assert postmaster_pid(var) == pid

    assert embedded_db.stop(var) is True

    assert gone(pid)
    assert not embedded_db.is_running(var)
    assert embedded_db.stop(var) is False


def test_starts_again_on_its_data_after_a_kill_9_and_a_reused_pid(var):
    url = embedded_db.start(var)
    query(url, "create table kept (n int); insert into kept values (42)")
    pid = postmaster_pid(var)
    os.kill(pid, signal.SIGKILL)
    assert gone(pid)
    # The stale postmaster.pid now names a live process that is no postgres (as a reused pid would).
    pid_file = embedded_db.data_dir(var) / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    pid_file.write_text("\n".join([str(os.getpid()), *lines[1:]]) + "\n")
    assert not embedded_db.is_running(var)

    assert embedded_db.start(var) == url

    assert query(url, "select n from kept") == (42,)
    assert postmaster_pid(var) != os.getpid()

