"""gunicorn's own answers in the API's error shape (gunicorn.conf.py names this worker class).

gunicorn answers some requests before Django sees them - a request line over --limit-request-line (414), too many
or too large header fields (431), a malformed request (400) - with an HTML page of its own; and a worker that
outlives --timeout is killed with nothing said to its client. Here each is the JSON every other error is
(`{"status", "code", "detail", "errors"}`, intermodal.api.error_body): the first by writing gunicorn's errors
as JSON, the second by answering 503 with Retry-After on the aborted request's socket before the worker exits,
when the application had not started its answer yet.
"""

import contextlib
import json

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

TIMEOUT_RETRY_AFTER = 5
CODES = {400: "invalid", 403: "permission_denied", 414: "uri_too_long", 417: "expectation_failed",
         431: "headers_too_large", 500: "error", 501: "not_implemented", 503: "timeout"}
DETAILS = {
    414: "The URL with its query string is longer than the web server accepts (8,190 bytes).",
    431: "The request's header fields are too many or too large.",
    503: "The request took longer than the server allows: try again, or ask for less at once.",
}


def error_response(status: int, reason: str, detail: str, headers: dict | None = None) -> bytes:
    """A whole HTTP/1.1 response carrying the error shape; the connection is closed after it."""
    body = json.dumps({"status": status, "code": CODES.get(status, "error"),
                       "detail": DETAILS.get(status) or detail or reason, "errors": {}}).encode()
    lines = [f"HTTP/1.1 {status} {reason}", "Connection: close", "Content-Type: application/json",
             f"Content-Length: {len(body)}", "Cache-Control: no-store",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def write_json_error(sock, status_int, reason, mesg):
    """gunicorn.util.write_error's signature, answering JSON instead of an HTML page."""
    util.write_nonblock(sock, error_response(int(status_int), reason, str(mesg or "")))


class JsonErrorWorker(SyncWorker):
    def init_process(self):
        # The worker's process only: every error gunicorn writes from here on is JSON.
        util.write_error = write_json_error
        self._client = None
        self._response = None
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        application = self.wsgi

        def tracked(environ, start_response):
            # start_response is the bound method of gunicorn's Response: it knows whether headers went out.
            self._response = getattr(start_response, "__self__", None)
            return application(environ, start_response)

        self.wsgi = tracked

    def handle(self, listener, client, addr):
        self._client, self._response = client, None
        try:
            super().handle(listener, client, addr)
        finally:
            self._client, self._response = None, None

    def handle_abort(self, sig, frame):
        """The arbiter's timeout (SIGABRT): a 503 for the request in hand, unless its answer had begun."""
        client, response = getattr(self, "_client", None), getattr(self, "_response", None)
        if client is not None and not getattr(response, "headers_sent", False):
            with contextlib.suppress(OSError):  # the client has gone: nothing to tell
                client.sendall(error_response(503, "Service Unavailable", "", {"Retry-After": TIMEOUT_RETRY_AFTER}))
        super().handle_abort(sig, frame)
