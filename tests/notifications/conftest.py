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
    200), optionally holding the first answers for `delay` seconds."""

    def __init__(self):
        self.requests: list[SimpleNamespace] = []
        self.script: list[int] = []
        self.delays: list[float] = []
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with receiver.lock:
                    code = receiver.script.pop(0) if receiver.script else 200
                    delay = receiver.delays.pop(0) if receiver.delays else 0
                    receiver.requests.append(SimpleNamespace(
                        path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                        at=time.time(), status=code, client=self.client_address))
                receiver.arrived.set()
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

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
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


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

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, timeout=10, what="redis-server")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = server.url
    celery_app.close()  # drop pooled connections to the old broker
    yield server
    server.stop()
    celery_app.conf.broker_url = previous
    celery_app.close()


class Worker:
    """`celery -A intermodal worker` in a process of its own, against the test database and a given broker."""

    def __init__(self, broker_url: str, tmp_path: Path, beat: bool = True, concurrency: int = 2, **env):
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
            "WEBHOOK_READ_TIMEOUT": "3",
            **env,
        }
        self.tmp_path = tmp_path
        self.beat = beat
        self.concurrency = concurrency
        self.process = None
        self.log = tmp_path / f"worker-{time.monotonic_ns()}.log"

    def start(self):
        command = [sys.executable, "-m", "celery", "-A", "intermodal", "worker", "-P", "prefork",
                   "-c", str(self.concurrency), "-l", "info", "--without-gossip", "--without-mingle",
                   "--without-heartbeat"]
        if self.beat:
            command += ["-B", "-s", str(self.tmp_path / "beat-schedule")]
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
