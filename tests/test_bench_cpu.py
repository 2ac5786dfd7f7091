"""P5 (bench/track_load.py) prints what a request costs each process group on the machine - the server, PostgreSQL,
Redis - from /proc, beside the rates: CPU a group spends shows in its group and nowhere else."""

import os
import subprocess
import sys
import time

import pytest

from bench import track_load


def _busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


@pytest.mark.django_db
def test_cpu_a_server_and_postgresql_spend_is_counted_in_their_groups():
    from django.db import connection

    # A child stands in for a gunicorn worker: it is counted with its parent, the "server" (this process).
    before = track_load.cpu_seconds(os.getpid())
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nend = time.process_time() + 0.3\n"
         "while time.process_time() < end: pass\nprint('spent', flush=True)\nsys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        _busy(0.2)
        with connection.cursor() as cursor:  # PostgreSQL works for a while
            cursor.execute("SELECT count(*) FROM generate_series(1, 3000000)")
        assert child.stdout.readline().strip() == "spent"  # the child has spent its 0.3 s and waits
        spent = track_load.cpu_spent(before, track_load.cpu_seconds(os.getpid()))
    finally:
        child.kill()
        child.wait()

    assert spent["gunicorn"] >= 0.45  # this process's 0.2 s and the child's 0.3 s, at the clock tick's precision
    assert spent["postgres"] >= 0.1
    assert set(spent) == {"gunicorn", "postgres", "redis"}


def test_p1_gives_each_groups_cpu_per_event_and_copys():
    from bench.ingest import Round

    done = Round(number=1, containers=10, events=2000, copied=2000, copy_cpu=0.08,
                 cpu={"web": 0.7, "relay": 0.3, "postgres": 0.6, "redis": 0.02})

    per = done.cpu_per_event()

    assert per == pytest.approx({"web": 350, "relay": 150, "postgres": 300, "redis": 10, "all": 810, "COPY": 40})
    assert Round(number=2, containers=0).cpu_per_event() == {"all": 0, "COPY": 0.0}
