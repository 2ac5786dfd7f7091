"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine runs here)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_five_services_exist_and_the_app_ones_share_one_image():
    assert set(SERVICES) == {"web", "worker", "beat", "db", "redis"}
    app_images = {SERVICES[name]["image"] for name in ("web", "worker", "beat")}
    assert len(app_images) == 1
    assert all(SERVICES[name]["build"] == "." for name in ("web", "worker", "beat"))
    assert "version" not in COMPOSE


def test_app_services_wait_for_healthy_db_and_redis_and_point_at_them():
    for name in ("web", "worker", "beat"):
        service = SERVICES[name]
        assert service["depends_on"] == {"db": {"condition": "service_healthy"},
                                         "redis": {"condition": "service_healthy"}}
        env = service["environment"]
        assert "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"


def test_every_long_running_server_has_a_health_check():
    for name in ("web", "worker", "db", "redis"):
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
