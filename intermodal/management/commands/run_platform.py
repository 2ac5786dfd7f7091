"""Serve the whole platform on one machine: web server, Celery worker and Celery beat. Ctrl-C stops all.

Used by `make run`. Without REDIS_URL the broker is the filesystem transport under var/, so the worker and
beat are real processes, not eager calls.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="Address for the web server.")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes.")

    def handle(self, *args, addr, concurrency, **options):
        python = sys.executable
        var = settings.VAR_DIR
        var.mkdir(exist_ok=True)
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [python, "-m", "celery", "-A", "intermodal", "worker", "-l", "info",
                       "--concurrency", str(concurrency), "-n", "worker@%h"],
            "beat": [python, "-m", "celery", "-A", "intermodal", "beat", "-l", "info",
                     "--schedule", str(var / "celerybeat-schedule")],
        }
        processes: dict[str, subprocess.Popen] = {}
        # Our own handler: stop the children in order rather than dying with a traceback.
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        self.stdout.write(f"Broker: {broker}. Starting web on http://{addr}/, a worker and beat. Ctrl-C stops all.")
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, cwd=settings.BASE_DIR, env=os.environ.copy())  # noqa: S603
        exit_code = 0
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} stopped (exit {process.returncode}); stopping the rest.")
                        exit_code = process.returncode or 1
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
            self.stdout.write("Stopped web, worker and beat.")
        if exit_code:
            sys.exit(exit_code)
