"""gunicorn's settings wherever it is started from the repository root (it reads ./gunicorn.conf.py by default):
the image's entrypoint, bench/fuzz.sh, by hand. Command-line options still override these."""

# gunicorn's own errors (URL too long, header fields too large, a worker past its timeout) in the API's error
# shape, not gunicorn's HTML (guard/gunicorn_worker.py).
worker_class = "guard.gunicorn_worker.JsonErrorWorker"
# The most gunicorn allows; the schema documents 414 past it.
limit_request_line = 8190
# A worker busy past this is killed, and its request's transaction rolls back; a list of reported events gives up
# well before it (EVENTS_BULK_SECONDS, 20) with an answer. gunicorn's own default, said here.
timeout = 30
