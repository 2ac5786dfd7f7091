"""A long-running process settles its heap once the app is loaded (intermodal/heap.py): what it loaded goes to the
collector's permanent generation and young collections come every 20,000 allocations. A gunicorn worker does it as
it loads the WSGI app, a Celery worker process as it starts."""

import gc
import os
import subprocess
import sys
from pathlib import Path

from intermodal import heap

ROOT = Path(__file__).resolve().parents[2]


def test_a_server_process_settles_its_heap_once_the_app_is_loaded():
    code = ("import gc; import intermodal.wsgi; from django.apps import apps; "
            "print(gc.get_threshold(), gc.get_freeze_count() > 100000, apps.ready)")
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "intermodal.settings"}

    started = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                             timeout=120)

    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == f"{heap.THRESHOLD} True True"


def test_settle_freezes_what_is_alive_and_raises_the_threshold():
    threshold = gc.get_threshold()
    kept = [[n] for n in range(1000)]  # lists: tracked by the collector
    try:
        heap.settle()
        assert gc.get_threshold() == heap.THRESHOLD
        assert gc.get_freeze_count() >= len(kept)
        walked = {id(o) for generation in range(3) for o in gc.get_objects(generation=generation)}
        assert all(gc.is_tracked(k) for k in kept) and not any(id(k) in walked for k in kept)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_a_celery_worker_process_settles_its_heap_as_it_starts():
    from celery.signals import worker_process_init

    threshold = gc.get_threshold()
    try:
        worker_process_init.send(sender=None)
        assert gc.get_threshold() == heap.THRESHOLD and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
