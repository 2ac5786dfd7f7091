"""The garbage collector of a long-running process (a gunicorn worker, a Celery worker process), set once the app
is loaded.

Python's cyclic collector runs a young collection every 700 allocations, and from time to time a full one that
walks every object alive: the modules, Django's and the app's, a few hundred thousand objects that live as long as
the process. A list of a thousand events allocates a few hundred thousand objects (the request, the rows read,
the events built), so its collections walked the app again and again: reading a run's 500 containers spent a
tenth to a half of its CPU in the collector, the more the more was alive. In P1 (docs/PERFORMANCE.md) the web
workers' CPU an event fell by 5-10 % with this, the relay's by about as much. `settle` moves what is alive once the
app is loaded to the collector's permanent generation, which it never walks, and collects the young generation
every 20,000 allocations rather than 700 (the objects of a request are freed by their reference counts, not by the
collector; cycles wait a little longer).
"""

import gc

THRESHOLD = (20_000, 20, 20)


def settle() -> None:
    """Call once the process has loaded what it keeps (settings, models, URLs, the schema's parameters)."""
    gc.collect()  # what loading left behind is freed, not kept forever
    gc.freeze()
    gc.set_threshold(*THRESHOLD)
