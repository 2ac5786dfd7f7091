"""gunicorn's own answers in the API's error shape (gunicorn.conf.py, guard/gunicorn_worker.py): a real
gunicorn started as the image starts it, a request line and header fields past its limits; and a worker killed for
its timeout answers 503 with Retry-After on the request in hand."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from guard.gunicorn_worker import JsonErrorWorker, error_response

ROOT = Path(__file__).resolve().parents[2]
SHAPE = {"status", "code", "detail", "errors"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _exchange(port: int, raw: bytes) -> tuple[int, dict, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.fixture(scope="module")
def gunicorn():
    port = _free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "intermodal.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1"],
        cwd=ROOT, env={**os.environ, "DEBUG": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):  # a generous wait for the process to listen, not a measurement
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_request_line_over_the_limit_is_a_414_in_the_error_shape(gunicorn):
    status, headers, body = _exchange(gunicorn, b"GET /api/v1/departures/?station=" + b"x" * 9000 +
                                      b" HTTP/1.1\r\nHost: localhost\r\n\r\n")

    assert status == 414
    assert headers["Content-Type"] == "application/json"
    assert set(body) == SHAPE and body["status"] == 414 and body["code"] == "uri_too_long"


def test_too_many_header_fields_are_a_431_in_the_error_shape(gunicorn):
    fields = b"".join(b"X-Field-%d: 1\r\n" % n for n in range(120))

    status, headers, body = _exchange(gunicorn, b"GET /api/v1/stations/ HTTP/1.1\r\nHost: localhost\r\n" + fields +
                                      b"\r\n")

    assert status == 431
    assert set(body) == SHAPE and body["status"] == 431


def test_a_malformed_request_line_is_a_400_in_the_error_shape(gunicorn):
    status, _headers, body = _exchange(gunicorn, b"GET\x00 / HTTP/1.1\r\nHost: localhost\r\n\r\n")

    assert status == 400
    assert set(body) == SHAPE and body["status"] == 400


def _aborted(response) -> bytes:
    """What the client of a request in hand reads when the arbiter kills its worker for the timeout."""
    ours, theirs = socket.socketpair()
    worker = JsonErrorWorker.__new__(JsonErrorWorker)
    worker._client, worker._response = ours, response
    worker.cfg = SimpleNamespace(worker_abort=lambda worker: None)
    with pytest.raises(SystemExit):
        worker.handle_abort(None, None)
    ours.close()
    with theirs:
        return theirs.recv(65536)


def test_a_worker_timeout_answers_503_with_retry_after():
    data = _aborted(response=None)

    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ")
    assert b"Retry-After: 5" in head
    assert set(json.loads(body)) == SHAPE and json.loads(body)["code"] == "timeout"


def test_a_worker_timeout_after_the_answer_began_adds_nothing():
    assert _aborted(response=SimpleNamespace(headers_sent=True)) == b""


def test_the_error_response_is_well_formed_http():
    raw = error_response(414, "URI Too Long", "")

    head, _, body = raw.partition(b"\r\n\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body)["detail"]
