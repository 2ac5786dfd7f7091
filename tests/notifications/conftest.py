"""Notifications test helpers: a real local HTTP receiver, a private Redis server, a real Celery worker process."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection

from intermodal.celery import app as celery_app
from notifications.services import subscription_create

ROOT = Path(__file__).resolve().parents[2]


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers from a script of status codes (then
    200), optionally holding the first answers for `delay` seconds. With `pair_after(n)`, every answer after the
    n-th is held until another request is being answered beside it: posts sent one after the other never meet,
    and their request is marked `paired=False` (after `PAIR_WAIT` seconds, so a slow machine is no reason)."""

    PAIR_WAIT = 60

    def __init__(self):
        self.requests: list[SimpleNamespace] = []
        self.script: list[int] = []
        self.delays: list[float] = []
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        self.released = threading.Event()  # set at close: held answers stop waiting
        self.in_flight = 0
        self.pairs_after: int | None = None
        self.pairs = threading.Barrier(2)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with receiver.lock:
                    code = receiver.script.pop(0) if receiver.script else 200
                    delay = receiver.delays.pop(0) if receiver.delays else 0
                    receiver.in_flight += 1
                    request = SimpleNamespace(
                        path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                        at=time.time(), status=code, client=self.client_address,
                        in_flight=receiver.in_flight,  # answers being made at its arrival, itself included
                        paired=None)
                    receiver.requests.append(request)
                    pair = receiver.pairs_after is not None and len(receiver.requests) > receiver.pairs_after
                receiver.arrived.set()
                try:
                    if pair:
                        try:
                            receiver.pairs.wait(receiver.PAIR_WAIT)
                            request.paired = True
                        except threading.BrokenBarrierError:
                            request.paired = False
                    if delay:
                        receiver.released.wait(delay)
                    self.send_response(code)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with receiver.lock:
                        receiver.in_flight -= 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def pair_after(self, count: int) -> None:
        self.pairs_after = count

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers.get("webhook-id") for r in self.requests]

    def bodies(self) -> list:
        with self.lock:
            return [json.loads(r.body) for r in self.requests]

    def close(self):
        self.released.set()
        self.pairs.abort()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def answer_times(monkeypatch):
    """The time each answer took as the sender measures it, set by the test (milliseconds by the body's "n";
    0 for those not given) in place of the wall clock's, which a busy machine stretches: whether a batch goes
    one post after the other or side by side follows from these alone. The posts themselves are real."""
    from notifications import delivery as sender

    given: dict[int, int] = {}
    real_post = sender._post

    async def post(delivery, start_by):
        started, code, _measured, error = await real_post(delivery, start_by)
        return started, code, given.get(json.loads(delivery.body)["n"], 0), error

    monkeypatch.setattr(sender, "_post", post)
    return given


class Clock:
    """The time notifications.delivery reads, standing still from `freeze()` until the test moves it."""

    def __init__(self):
        from django.utils import timezone

        self.moment = timezone.now()

    def now(self):
        return self.moment

    def advance(self, **delta):
        self.moment += timedelta(**delta)
        return self.moment


@pytest.fixture
def delivery_clock(monkeypatch):
    """Call it to stop the delivery code's clock at the current time; returns the Clock to move it with."""
    from notifications import delivery as sender

    def freeze() -> Clock:
        clock = Clock()
        monkeypatch.setattr(sender, "timezone", SimpleNamespace(now=clock.now))
        return clock

    return freeze


def subscribe(org, url, kinds=("*",), **fields):
    from intermodal.access import Actor

    return subscription_create(actor=Actor(organisation=org), url=url, event_kinds=list(kinds), **fields)


def wait_for(check, timeout: float = 60, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own, so the test can stop and start it without touching the shared one."""

    def __init__(self):
        self.port = _free_port()
        self.process = None
        self.started = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        """Start it on its port; the first start takes another free port if another process (a parallel test
        worker) took this one between looking and binding."""
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        for _attempt in range(5):
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(lambda: self._answers() or self.process.poll() is not None, timeout=30, what="redis-server")
            if self.process.poll() is None:
                self.started = True
                return
            if self.started:
                break
            self.port = _free_port()
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def _answers(self) -> bool:
        """True when the server on the port is this one's process (not another test worker's)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(b"INFO server\r\n")
                answer = b""
                while b"process_id:" not in answer or not answer.endswith(b"\r\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
                return f"process_id:{self.process.pid}\r\n".encode() in answer
        except OSError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


def use_broker(url: str) -> None:
    """Publish this process's tasks to `url` from now on. The app's producer pool stays bound to the broker it
    first published to (`close()` drops only the connection pool): without a new one, a test that stops its
    private broker would go on publishing to whichever broker an earlier test used."""
    celery_app.conf.broker_url = url
    celery_app.close()
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    previous = celery_app.conf.broker_url
    use_broker(server.url)
    yield server
    server.stop()
    use_broker(previous)


class Worker:
    """`celery -A intermodal worker` in a process of its own, against the test database and a given broker."""

    def __init__(self, broker_url: str, tmp_path: Path, beat: bool = True, concurrency: int = 2, queues: str = "",
                 **env):
        database = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
                            f"{database['PORT'] or 5432}/{database['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            "CELERY_RESULT_BACKEND": broker_url,
            "NOTIFICATIONS_SWEEP_SECONDS": "0.5",
            "WEBHOOK_RETRY_DELAYS": "2,2,2",
            "WEBHOOK_LEASE_SECONDS": "6",
            # Local receivers answer at once, unless a test holds an answer on purpose; a busy machine must not
            # turn a slow answer into a failed attempt and a retry.
            "WEBHOOK_READ_TIMEOUT": "60",
            **env,
        }
        self.tmp_path = tmp_path
        self.beat = beat
        self.queues = queues  # -Q: the queues it works (settings.CELERY_QUEUE_NAMES), all when empty
        self.concurrency = concurrency
        self.process = None
        self.log = tmp_path / f"worker-{time.monotonic_ns()}.log"

    def start(self):
        command = [sys.executable, "-m", "celery", "-A", "intermodal", "worker", "-P", "prefork",
                   "-c", str(self.concurrency), "-l", "info", "--without-gossip", "--without-mingle",
                   "--without-heartbeat"]
        if self.beat:
            command += ["-B", "-s", str(self.tmp_path / "beat-schedule")]
        if self.queues:
            command += ["-Q", self.queues, "-n", f"{self.queues.replace(',', '-')}-{time.monotonic_ns()}@%h"]
        self.handle = self.log.open("w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.handle,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: "ready." in self.log.read_text() or self.process.poll() is not None, timeout=60,
                 what="the Celery worker to start")
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        return self

    def kill(self):
        """SIGKILL the whole worker (main process, pool children, embedded beat)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "handle", None):
            self.handle.close()


@pytest.fixture
def worker_factory(tmp_path):
    workers: list[Worker] = []

    def make(broker_url: str, **options) -> Worker:
        worker = Worker(broker_url, tmp_path, **options)
        workers.append(worker)
        return worker.start()

    yield make
    for worker in workers:
        worker.stop()
