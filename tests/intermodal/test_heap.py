"""A long-running process settles its heap once the app is loaded (intermodal/heap.py): what it loaded goes to the
collector's permanent generation and young collections come every 20,000 allocations. A gunicorn worker does it as
it loads the WSGI app (tests/intermodal/test_query_parameters.py starts one), a Celery worker process as it
starts."""

import gc

from intermodal import heap


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
