"""Celery beat starts on any deployment: from a fresh checkout without var/, its schedule file goes to a folder
it can write (it used to be None there, a TypeError at start: no sweeps, no retries, no nightly jobs)."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.notifications.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


def fresh_checkout(target: Path) -> Path:
    """The files of this work tree that a commit would take (tracked, and new ones not ignored), as a clone would
    have them: no var/, no virtualenv, nothing built."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout
    for name in filter(None, names.decode().split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is not in the checkout either
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_beat_starts_from_a_fresh_checkout_without_var(tmp_path):
    # given: a checkout without var/, and a deployment's environment (no schedule file named; an in-memory broker
    # and result store, so nothing of the suite's Redis is touched and nothing writes under the checkout)
    checkout = fresh_checkout(tmp_path / "checkout")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("CELERY_", "PYTEST_", "REDIS_URL", "DJANGO_SETTINGS_MODULE"))}
    env.update({"CELERY_BROKER_URL": "memory://", "CELERY_RESULT_BACKEND": "cache+memory://",
                "NOTIFICATIONS_SWEEP_SECONDS": "0.5", "TMPDIR": str(temporary), "PYTHONDONTWRITEBYTECODE": "1"})
    log = tmp_path / "beat.log"
    assert not (checkout / "var").exists()

    # when: beat runs until it has sent a periodic task (a sweep: logged at DEBUG, intermodal/celery.py)
    with log.open("w") as output:
        beat = subprocess.Popen([sys.executable, "-m", "celery", "-A", "intermodal", "beat", "-l", "debug"],
                                cwd=checkout, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "Sending due task outbox-sweep" in log.read_text() or beat.poll() is not None,
                 timeout=120, what="beat to send its first periodic task")
        running = beat.poll() is None
    finally:
        if beat.poll() is None:
            os.killpg(beat.pid, signal.SIGTERM)
            beat.wait(30)

    # then: it ran, kept its schedule in the temporary folder, and made no var/ in the checkout
    assert running, log.read_text()[-3000:]
    assert list(temporary.glob("intermodal-celerybeat-schedule*")), log.read_text()[-3000:]
    assert not (checkout / "var").exists()
